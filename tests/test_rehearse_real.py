"""`tfgen rehearse --provider real`: the units' own modules planned, applied and
destroyed with the real hashicorp/aws provider against the local server (moto).

CI cannot download the pinned registry modules, so these tests write their own modules
with real ``aws_*`` resources and serve them from 127.0.0.1 as a module registry
(``--modules``), which is how scripts/plan-real.sh serves the pinned ones. The
end-to-end tests need Terragrunt, OpenTofu, tfgen's stand-ins of hashicorp/random,
external, local and null (``eval "$(bash scripts/build-tools.sh --env)"``), moto and the real provider in a
filesystem mirror (/opt/tf-plugins, or $TFGEN_PROVIDER_MIRROR): under CI=true a missing
one fails, never skips."""

from __future__ import annotations

import hashlib
import io
import json
import re
import ssl
import tarfile
import textwrap
import urllib.request
from pathlib import Path

import pytest

from generator.cli import main
from generator.rehearse import real
from generator.rehearse import tools as tools_module
from generator.rehearse.errors import CannotRehearse
from generator.rehearse.run import Options, Report, rehearse, tofu_errors
from generator.rehearse.server import available, write_certificate

from .conftest import IN_CI

HINT = 'eval "$(bash scripts/build-tools.sh --env)"; pip install -e ".[rehearse]"'

NET = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}
variable "name" { type = string }
variable "cidr" { type = string }
variable "rule_description" { type = string }
resource "aws_vpc" "this" {
  cidr_block = var.cidr
  tags       = { Name = var.name }
}
resource "aws_security_group" "this" {
  name_prefix = "${var.name}-"
  vpc_id      = aws_vpc.this.id
}
resource "aws_security_group_rule" "https" {
  security_group_id = aws_security_group.this.id
  type              = "ingress"
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = [var.cidr]
  description       = var.rule_description
}
resource "aws_sns_topic" "alerts" {
  name = "${var.name}-alerts"
}
output "vpc_id" { value = aws_vpc.this.id }
output "topic_arn" { value = aws_sns_topic.alerts.arn }
"""

OPS = """
terraform {
  required_providers {
    aws    = { source = "hashicorp/aws", version = ">= 5.0" }
    random   = { source = "hashicorp/random", version = ">= 3.1" }
    external = { source = "hashicorp/external", version = ">= 1.0" }
    local    = { source = "hashicorp/local", version = ">= 1.0" }
    null     = { source = "hashicorp/null", version = ">= 2.0" }
  }
}
variable "role_prefix" { type = string }
# As terraform-aws-modules/lambda packages code: a program computes a build plan at plan
# time (data "external"), local_file writes it, null_resource is replaced when it changes.
data "external" "prepare" {
  program     = ["python3", "${path.module}/prepare.py"]
  working_dir = path.module
  query       = { name = var.role_prefix }
}
resource "local_file" "build_plan" {
  content              = data.external.prepare.result.plan
  filename             = "${path.module}/builds/${data.external.prepare.result.filename}"
  directory_permission = "0755"
  file_permission      = "0644"
}
data "local_file" "build_plan" { filename = local_file.build_plan.filename }
resource "null_resource" "build" {
  triggers = { plan = local_file.build_plan.content_sha256 }
}
variable "vpc_id" {
  type    = string
  default = ""
}
data "aws_caller_identity" "current" {}
data "aws_availability_zones" "available" { state = "available" }
data "aws_ssm_parameter" "ecs_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}
data "aws_cloudwatch_event_bus" "default" { name = "default" }
resource "random_id" "suffix" { byte_length = 4 }
resource "aws_iam_role" "instances" {
  name_prefix = var.role_prefix
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
  tags = {
    Suffix = random_id.suffix.hex
    Ami    = nonsensitive(data.aws_ssm_parameter.ecs_ami.value)
    Vpc    = var.vpc_id
  }
}
output "account_id" { value = data.aws_caller_identity.current.account_id }
output "azs" { value = data.aws_availability_zones.available.names }
output "event_bus_arn" { value = data.aws_cloudwatch_event_bus.default.arn }
output "ami" { value = nonsensitive(data.aws_ssm_parameter.ecs_ami.value) }
output "role_name" { value = aws_iam_role.instances.name }
output "prepared" { value = data.external.prepare.result.filename }
output "build_plan_sha1" { value = local_file.build_plan.content_sha1 }
output "build_plan_read_back" { value = data.local_file.build_plan.content }
output "build_id" { value = null_resource.build.id }
"""

# The program of OPS's data "external": the query arrives as JSON on stdin, it runs in
# working_dir, and its JSON object of strings becomes `result`.
PREPARE = """\
import json, os, sys
query = json.load(sys.stdin)
here = "here" if os.path.isfile("prepare.py") else "elsewhere"
plan = json.dumps({"name": query["name"], "cwd": here}, sort_keys=True)
json.dump({"filename": "plan-" + query["name"].strip("-") + ".json", "plan": plan}, sys.stdout)
"""


def write_project(root: Path, *, description: str = "HTTPS from the VPC", prefix: str = "-ops-",
                  wired: bool = True) -> Path:
    """A project of two units whose modules (written here, served as acme/net/aws and
    acme/ops/aws 1.0.0) hold real aws_* resources. *prefix* follows "realp-dev" in the
    IAM role's name_prefix; *wired*: ops reads the network's vpc_id."""
    dependency = textwrap.dedent("""\
        dependencies:
          net:
            unit: network
            outputs:
              vpc_id: vpc_id
            mock_outputs:
              vpc_id: vpc-00000000
        """) if wired else ""
    files = {
        "environments.yaml": f"""\
            version: 1
            project:
              name: realp
              tags: {{ Project: realp }}
            terraform:
              required_version: ">= 1.10.0"
              aws_provider_version: "~> 5.62"
            state:
              bucket: "{{project}}-{{env}}-{{account_id}}-tfstate"
              region: us-east-1
              encrypt: true
            defaults:
              deletion_protection: false
            environments:
              dev:
                account_id: "000000000011"
                regions:
                  us-east-1:
                    vpc_cidr: 10.11.0.0/16
                    azs: [a, b]
                    settings: {{ rule_description: {json.dumps(description)} }}
            units:
              network: {{ module: networking/net }}
              ops: {{ module: security/ops }}
            """,
        "catalog/networking/net.yaml": """\
            description: A VPC, a security group with a rule, an SNS topic
            source: tfr:///acme/net/aws
            version: 1.0.0
            layer: 01-network
            inputs:
              name: !hcl '"${local.project.name}-${local.env.environment}"'
              cidr: !hcl local.region.vpc_cidr
              rule_description: !hcl local.region.settings.rule_description
            """,
        "catalog/security/ops.yaml": (
            "description: An IAM role for instances, and what plan-time data sources answer\n"
            "source: tfr:///acme/ops/aws\n"
            "version: 1.0.0\n"
            "layer: 02-security\n"
            + dependency
            + "inputs:\n"
            + f"  role_prefix: !hcl '\"${{local.project.name}}-${{local.env.environment}}{prefix}\"'\n"
        ),
        "modules/acme/net/aws/1.0.0/main.tf": NET,
        "modules/acme/ops/aws/1.0.0/main.tf": OPS,
        "modules/acme/ops/aws/1.0.0/prepare.py": PREPARE,
    }
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root / "environments.yaml"


# --- pieces, no tools needed ---------------------------------------------------------


def test_without_the_mirror_it_names_the_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(real.MIRROR_ENV, raising=False)
    with pytest.raises(CannotRehearse) as caught:
        real.find_mirror(tmp_path / "no-mirror")
    message = caught.value.diagnostics[0].message
    assert f"the provider mirror {tmp_path / 'no-mirror'} holds no hashicorp/aws" in message
    assert "registry.opentofu.org/hashicorp/aws/VERSION/PLATFORM/" in message


def test_the_mirror_serves_aws_under_both_registry_hosts_and_the_stand_ins(tmp_path: Path) -> None:
    package = tmp_path / "mirror" / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "linux_amd64"
    package.mkdir(parents=True)
    (package / "terraform-provider-aws_v5.100.0_x5").write_text("binary")
    (tmp_path / "random").write_text("stand-in")
    assert real.find_mirror(tmp_path / "mirror") == tmp_path / "mirror"
    notes = real.build_mirror(tmp_path / "out", tmp_path / "mirror", {"random": str(tmp_path / "random")},
                              {"random": "3.99.0"}, "linux_amd64")
    for host in real.HOSTS:
        aws = tmp_path / "out" / host / "hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5.100.0_x5"
        assert aws.resolve() == (package / "terraform-provider-aws_v5.100.0_x5").resolve()
        random = tmp_path / "out" / host / "hashicorp/random/3.99.0/linux_amd64/terraform-provider-random_v3.99.0"
        assert random.read_text() == "stand-in"
    assert any("hashicorp/random is tfgen's stand-in" in n for n in notes)
    mirrored = real.cli_config(tmp_path / "out", from_registry=False)
    assert '"registry.opentofu.org/hashicorp/aws"' in mirrored and "direct" not in mirrored
    direct = real.cli_config(tmp_path / "out", from_registry=True)
    assert 'direct {\n    include = ["registry.opentofu.org/hashicorp/aws"' in direct


def test_every_stand_in_provider_is_required_and_filed_under_a_version_modules_accept(tmp_path: Path) -> None:
    # terraform-aws-modules/lambda requires external and local >= 1.0 and null >= 2.0.
    # cloudposse/ses (through iam-system-user) requires cloudposse/awsutils >= 0.11.
    # A catalog's providers: configures helm and kubernetes (2.x) for EKS add-ons.
    assert real.STANDIN_VERSIONS == {"awsutils": "0.99.0", "external": "2.99.0", "local": "2.99.0",
                                     "null": "3.99.0", "random": "3.99.0", "helm": "2.99.0", "kubernetes": "2.99.0"}
    found = tools_module.Tools("tg", "tofu", "aws", "r", {"random": "r", "external": "e"})
    with pytest.raises(CannotRehearse) as caught:
        tools_module.need_standins(found)
    message = caught.value.diagnostics[0].message
    assert ("$TFGEN_REHEARSAL_AWSUTILS, $TFGEN_REHEARSAL_HELM, $TFGEN_REHEARSAL_KUBERNETES, "
            "$TFGEN_REHEARSAL_LOCAL") in message
    assert "RANDOM" not in message
    every = {name: str(tmp_path / name) for name in ("awsutils", "external", "helm", "kubernetes", "local", "null",
                                                     "random")}
    assert tools_module.need_standins(tools_module.Tools("tg", "tofu", "aws", "", every)) == every
    config = real.cli_config(tmp_path, from_registry=False)
    for address in ("cloudposse/awsutils", "hashicorp/external", "hashicorp/local", "hashicorp/null",
                    "hashicorp/helm", "hashicorp/kubernetes"):
        assert f'"registry.opentofu.org/{address}"' in config
    for name in every:
        (tmp_path / name).write_text(name)
    notes = real.build_mirror(tmp_path / "out", None, every, real.STANDIN_VERSIONS, "linux_amd64")
    awsutils = "registry.opentofu.org/cloudposse/awsutils/0.99.0/linux_amd64/terraform-provider-awsutils_v0.99.0"
    assert (tmp_path / "out" / awsutils).read_text() == "awsutils"
    assert ("provider: hashicorp/null is tfgen's stand-in (rehearsal/null) as version 3.99.0: "
            "no mirror holds it") in notes


def test_the_override_points_every_service_at_the_local_server() -> None:
    text = real.provider_override("https://127.0.0.1:4566", "AKIAEXAMPLE", "secret")
    for service in ("sts", "ssm", "ec2", "events", "iam", "rds", "ecs", "elbv2", "autoscaling", "kms", "sns"):
        assert f'    {service:<16} = "https://127.0.0.1:4566"' in text
    for setting in ("skip_credentials_validation = true", "skip_metadata_api_check     = true",
                    "s3_use_path_style           = true", 'access_key                  = "AKIAEXAMPLE"',
                    "max_retries                 = 2"):
        assert setting in text
    block = real.generate_block(text)
    assert 'path      = "tfgen_rehearsal_provider_override.tf"' in block
    with pytest.raises(ValueError, match="template"):
        real.generate_block('x = "${var.y}"')


def test_registry_sources_point_at_the_local_registry(tmp_path: Path) -> None:
    (tmp_path / "a.hcl").write_text('source = "tfr:///terraform-aws-modules/vpc/aws?version=5.17.0"\n')
    (tmp_path / "b.hcl").write_text('source = "tfr://registry.terraform.io/acme/x/aws//sub?version=1.0.0"\n')
    (tmp_path / "c.hcl").write_text('source = "git::https://example.com/x.git?ref=v1"\n')
    assert real.rewrite_registry_sources(tmp_path, "127.0.0.1:9") == 2
    assert "tfr://127.0.0.1:9/terraform-aws-modules/vpc/aws?version=5.17.0" in (tmp_path / "a.hcl").read_text()
    assert "tfr://127.0.0.1:9/acme/x/aws//sub?version=1.0.0" in (tmp_path / "b.hcl").read_text()
    assert "git::https" in (tmp_path / "c.hcl").read_text()


def test_the_module_registry_serves_packages_over_tls(tmp_path: Path) -> None:
    (tmp_path / "m/acme/net/aws/1.0.0").mkdir(parents=True)
    # The package calls a registry module (as cloudposse/ses calls cloudposse/label/null):
    # served, its source points at this registry, not the public one.
    (tmp_path / "m/acme/net/aws/1.0.0/main.tf").write_text(
        'module "label" {\n  source  = "cloudposse/label/null"\n  version = "0.25.0"\n}\n'
        'module "sub" { source = "registry.terraform.io/acme/x/aws//modules/y" }\n'
        'module "local" { source = "./modules/z" }\n'
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n')
    certificate, key = write_certificate(tmp_path)
    context = ssl.create_default_context(cafile=str(certificate))
    with real.ModuleRegistry(tmp_path / "m", certificate, key) as registry:
        base = f"https://{registry.host}"
        with urllib.request.urlopen(f"{base}/.well-known/terraform.json", context=context) as reply:
            assert json.load(reply) == {"modules.v1": "/v1/modules/"}
        with urllib.request.urlopen(f"{base}/v1/modules/acme/net/aws/1.0.0/download", context=context) as reply:
            assert reply.status == 204
            location = reply.headers["X-Terraform-Get"]
        assert location == "/archives/acme/net/aws/1.0.0.tar.gz"
        with urllib.request.urlopen(base + location, context=context) as reply:
            data = reply.read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            names = archive.getnames()
            served = archive.extractfile("main.tf")
            assert served is not None
            text = served.read().decode()
        assert names == ["main.tf"]
        assert f'source  = "{registry.host}/cloudposse/label/null"' in text
        assert f'source = "{registry.host}/acme/x/aws//modules/y"' in text
        assert 'source = "./modules/z"' in text and 'source = "hashicorp/aws"' in text
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/v1/modules/acme/net/aws/9.9.9/download", context=context)
        assert registry.missing == ["acme/net/aws/9.9.9"]


def test_real_only_options_need_provider_real(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["rehearse", "-c", str(tmp_path / "e.yaml"), "--plan-only"])
    assert result.exit_code == 2 and "--plan-only only apply with --provider real" in result.output


def test_the_cli_without_the_mirror_exits_2_naming_it(runner, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tools_module, "find",
                        lambda build=True, say=None: tools_module.Tools("tg", "tofu", "aws", "random"))
    config = write_project(tmp_path / "project")
    result = runner.invoke(main, ["rehearse", "-c", str(config), "--provider", "real",
                                  "--provider-mirror", str(tmp_path / "absent")])
    assert result.exit_code == 2, result.output
    assert f"the provider mirror {tmp_path / 'absent'} holds no hashicorp/aws" in result.output
    assert "Traceback" not in result.output


# --- end to end ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_tools() -> tuple[tools_module.Tools, Path]:
    """The tools and the provider mirror; a missing one fails under CI=true."""
    problems = [] if available() else ["moto[server] is not installed"]
    found = None
    try:
        found = tools_module.find()
        tools_module.need_standins(found)
    except CannotRehearse as error:
        problems.append(str(error.diagnostics[0].message))
    mirror = None
    try:
        mirror = real.find_mirror(None)
    except CannotRehearse as error:
        problems.append(str(error.diagnostics[0].message))
    if problems or found is None or mirror is None:
        message = f"{'; '.join(problems)}: {HINT}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    return found, mirror


def _rehearse_real(config: Path, found: tuple[tools_module.Tools, Path], *, plan_only: bool,
                   keep: Path | None = None) -> Report:
    tools, mirror = found
    provider = real.RealProvider(mirror, tools_module.need_standins(tools), config.parent / "modules", plan_only)
    return rehearse(Options(config, tools.terragrunt, tools.tofu, tools.provider, keep=keep, parallelism=2,
                            real=provider))


def _failures(report: Report) -> dict[str, str]:
    return {f.unit: f.message for f in report.failures}


def test_plan_refuses_what_the_real_provider_refuses_and_names_the_unit(
    real_tools: tuple[tools_module.Tools, Path], tmp_path: Path
) -> None:
    # A rule description with an apostrophe (issue 23, defect 1) and an IAM name_prefix of
    # 40 characters, over the provider's 38 (defect 3). Not wired: both units plan.
    config = write_project(tmp_path / "project", description="To the services' tasks in the VPC",
                           prefix="-staging-ecs-instance-role-prefix-", wired=False)
    report = _rehearse_real(config, real_tools, plan_only=True, keep=tmp_path / "scratch")
    assert not report.ok
    assert [s.name for s in report.steps] == ["render", "check endpoints", "real provider", "plan"]
    failures = _failures(report)
    assert set(failures) == {"dev/us-east-1/network", "dev/us-east-1/ops"}, failures
    assert ("\"description\" doesn't comply with restrictions" in failures["dev/us-east-1/network"]
            and "To the services' tasks in the VPC" in failures["dev/us-east-1/network"]), failures
    assert ("expected length of name_prefix to be in the range (1 - 38), "
            "got realp-dev-staging-ecs-instance-role-prefix-" in failures["dev/us-east-1/ops"]), failures
    assert all(f.step == "plan" for f in report.failures)


def test_plan_apply_destroy_real_resources_against_the_local_server(
    real_tools: tuple[tools_module.Tools, Path], tmp_path: Path
) -> None:
    config = write_project(tmp_path / "project")
    keep = tmp_path / "scratch"
    report = _rehearse_real(config, real_tools, plan_only=False, keep=keep)
    assert report.ok, _failures(report)
    assert [s.name for s in report.steps] == ["render", "check endpoints", "real provider", "plan", "apply", "destroy"]
    assert all("2 succeeded" in s.detail for s in report.steps[3:]), report.steps
    notes = "\n".join(report.notes)
    assert "the real hashicorp/aws 5.100.0" in notes or "the real hashicorp/aws" in notes
    assert "hashicorp/random is tfgen's stand-in" in notes
    applied = (keep / "apply.log").read_text()
    # Plan-time data sources answered by the local server, in the environment's account.
    assert 'account_id = "000000000011"' in applied
    assert 'event_bus_arn = "arn:aws:events:us-east-1:000000000011:event-bus/default"' in applied
    assert '"us-east-1a"' in applied and 'ami = "ami-' in applied
    assert 'role_name = "realp-dev-ops-' in applied
    # The stand-ins of hashicorp/external, local and null (the lambda module's providers):
    # the program ran in working_dir with the query on stdin, the file was written and
    # read back from disk, the null_resource was created.
    plan = json.dumps({"name": "realp-dev-ops-", "cwd": "here"}, sort_keys=True)
    assert 'prepared = "plan-realp-dev-ops.json"' in applied
    assert f'build_plan_sha1 = "{hashlib.sha1(plan.encode()).hexdigest()}"' in applied
    assert f"build_plan_read_back = {json.dumps(plan)}" in applied
    assert re.search(r'build_id = "[0-9]+"', applied)
    for name in ("external", "local", "null"):
        assert f"hashicorp/{name} is tfgen's stand-in" in notes
    # The dependency's real output (not its mock) reached the dependent.
    assert "vpc-00000000" not in applied
    destroyed = (keep / "destroy.log").read_text()
    # network: vpc, group, rule, topic; ops: random_id, role, local_file, null_resource.
    assert destroyed.count("Destroy complete! Resources: 4 destroyed.") == 2, destroyed
    # The user's tree is untouched: the override lives in the scratch copy only.
    unit = "environments/dev/us-east-1/02-security/ops/terragrunt.hcl"
    assert real.GENERATE_NAME in (keep / "tree" / unit).read_text()
    assert not (config.parent / "output").exists()


def test_a_units_failure_is_the_providers_own_message() -> None:
    log = "\n".join([
        '22:06:37.083 STDOUT [env/dev/net] tofu:   + resource "aws_vpc" "this" {',
        "22:06:37.082 STDERR [env/dev/net] tofu: Error: \"description\" doesn't comply with restrictions "
        '("^[0-9A-Za-z_ .:/()#,@\\\\[\\\\]+=&;{}!$*-]*$"): "To the services\' tasks"',
        "22:06:37.084 STDERR [env/dev/net] tofu:   with module.sg.aws_security_group_rule.egress[0],",
        '22:06:37.085 STDERR [env/dev/net] tofu:   on main.tf line 667, in resource "aws_security_group_rule" "x":',
        "22:06:37.085 STDERR [env/dev/net] tofu:  667:   description = var.d",
        "22:06:41.621 STDERR [env/dev/ops] tofu: Error: expected length of name_prefix to be in the range (1 - 38)",
        "22:06:42.669 ERROR  Run failed: 2 errors occurred:",
        "22:06:43.000 STDERR [env/dev/net] tofu: Error: Duplicate object key",
        "22:06:43.000 STDERR [env/dev/net] tofu:   on main.tf line 104, in resource \"aws_cloudwatch_event_target\":",
        '22:06:43.000 STDERR [env/dev/net] tofu: Two different items produced the key "alerts" in this \'for\'',
        "22:06:43.000 STDERR [env/dev/net] tofu: expression.",
    ])
    assert tofu_errors(log, "[env/dev/net]") == [
        "Error: \"description\" doesn't comply with restrictions (\"^[0-9A-Za-z_ .:/()#,@\\\\[\\\\]+=&;{}!$*-]*$\"): "
        "\"To the services' tasks\" (with module.sg.aws_security_group_rule.egress[0], on main.tf line 667, in "
        "resource \"aws_security_group_rule\" \"x\")",
        "Error: Duplicate object key Two different items produced the key \"alerts\" in this 'for' expression. "
        "(on main.tf line 104, in resource \"aws_cloudwatch_event_target\")",
    ]
    assert tofu_errors(log, "[env/dev/ops]") == [
        "Error: expected length of name_prefix to be in the range (1 - 38)"
    ]
