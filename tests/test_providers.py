"""Providers beyond the generated aws (issue 25): the module lock records each module
version's required_providers, validate refuses a required provider nothing configures
and constraints that cannot hold together, a catalog's providers: is rendered into each
unit's generated files (dependency outputs included, with their mocks), Terragrunt's
evaluation of every example configures every provider its modules require, and OpenTofu
installs and plans a unit of EKS add-ons with the helm and kubernetes stand-ins from a
filesystem mirror."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import shutil
from pathlib import Path
from typing import Any

import pygohcl
import pytest
from click.testing import CliRunner

from generator import api
from generator.checks.providers import NO_CONFIGURATION
from generator.cli import main
from generator.errors import InputError
from generator.project.modules.constraints import ConstraintError, satisfiable
from generator.project.modules.interface import Interface, read_module_files
from generator.rehearse import real as real_provider

from .conftest import REPO, ProjectFactory, need_tool
from .realclient import Client, find_tool, write_tree

EXAMPLES = sorted(p.name for p in (REPO / "examples").iterdir() if (p / "environments.yaml").is_file())
PROJECTS = [REPO / "environments.yaml", *(REPO / "examples" / name / "environments.yaml" for name in EXAMPLES)]

# --- a small project: an EKS-like unit and add-ons that configure helm and kubernetes ---

ENVIRONMENTS = """
version: 1
project: { name: eks-demo }
terraform:
  aws_provider_version: "~> 5.96"
state: { bucket: "{project}-{account_id}-tfstate", region: us-east-1 }
environments:
  dev:
    account_id: "111111111111"
    regions:
      us-east-1: { vpc_cidr: 10.10.0.0/16, azs: [a, b] }
units:
  eks: { module: platform/eks }
  addons: { module: platform/addons }
"""

EKS_CATALOG = """
description: An EKS-like cluster (its outputs only)
source: ../../../../../../modules/eks
layer: 01-platform
inputs:
  name: !hcl '"${local.env.environment}-cluster"'
"""

ADDONS_CATALOG = """
description: Add-ons of the cluster, through helm and kubernetes
source: ../../../../../../modules/addons
layer: 02-addons
dependencies:
  eks:
    unit: eks
    mock_outputs:
      cluster_endpoint: https://MOCK.gr7.us-east-1.eks.amazonaws.com
      cluster_certificate_authority_data: bW9jaw==
      cluster_name: mock-cluster
providers:
  kubernetes:
    source: hashicorp/kubernetes
    version: "~> 2.35"
    config:
      host: !hcl dependency.eks.outputs.cluster_endpoint
      cluster_ca_certificate: !hcl base64decode(dependency.eks.outputs.cluster_certificate_authority_data)
      exec:
        api_version: client.authentication.k8s.io/v1beta1
        command: aws
        args: !hcl '["eks", "get-token", "--cluster-name", dependency.eks.outputs.cluster_name]'
  helm:
    source: hashicorp/helm
    version: "~> 2.17"
    config:
      kubernetes:
        host: !hcl dependency.eks.outputs.cluster_endpoint
        cluster_ca_certificate: !hcl base64decode(dependency.eks.outputs.cluster_certificate_authority_data)
        exec:
          api_version: client.authentication.k8s.io/v1beta1
          command: aws
          args: [eks, get-token, --cluster-name, !hcl dependency.eks.outputs.cluster_name]
inputs:
  namespaces: [client-a, client-b]
"""

EKS_MODULE = """
variable "name" {
  type = string
}

output "cluster_endpoint" {
  value = "https://${var.name}.example"
}

output "cluster_certificate_authority_data" {
  value = base64encode("ca")
}

output "cluster_name" {
  value = var.name
}
"""

ADDONS_MODULE = """
terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.20"
    }
    helm = {
      source  = "hashicorp/helm"
      version = ">= 2.9"
    }
  }
}

variable "namespaces" {
  type = list(string)
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "kubernetes_namespace" "client" {
  for_each = toset(var.namespaces)
  metadata {
    name = each.key
  }
}

resource "helm_release" "metrics_server" {
  name       = "metrics-server"
  repository = "https://kubernetes-sigs.github.io/metrics-server/"
  chart      = "metrics-server"
  version    = "3.12.2"
  namespace  = "kube-system"
}
"""


def eks_project(make_project: ProjectFactory, addons: str = ADDONS_CATALOG, environments: str = ENVIRONMENTS) -> Path:
    return make_project(
        {
            "environments.yaml": environments,
            "catalog/platform/eks.yaml": EKS_CATALOG,
            "catalog/platform/addons.yaml": addons,
            "modules/eks/main.tf": EKS_MODULE,
            "modules/addons/main.tf": ADDONS_MODULE,
        }
    )


def errors_of(config: Path) -> list[str]:
    """validate's errors, their paths shown from the project's directory."""
    with contextlib.chdir(config.parent):
        try:
            api.validate(config.name)
        except InputError as exc:
            return [str(d) for d in exc.diagnostics if d.severity == "error"]
    return []


def warnings_of(config: Path, rule: str) -> list[str]:
    with contextlib.chdir(config.parent):
        return [str(d) for d in api.validate(config.name).warnings if d.rule == rule]


# --- the lock and the interface ---------------------------------------------------------


def test_the_interface_records_required_providers_with_those_of_local_modules() -> None:
    files = {
        "versions.tf": b'terraform {\n  required_providers {\n    aws = {\n      source = "hashicorp/aws"\n'
        b'      version = ">= 5.0"\n      configuration_aliases = [aws.us_east_1]\n    }\n  }\n}\n',
        "main.tf": b'module "inner" {\n  source = "./modules/inner"\n}\n',
        "modules/inner/versions.tf": b'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", '
        b'version = "< 6.0" }\n    random = { source = "hashicorp/random" }\n  }\n}\n',
        "examples/x/main.tf": b'terraform {\n  required_providers {\n    kubernetes = { source = "x/y" }\n  }\n}\n',
    }
    interface = read_module_files(files, "test")
    assert interface.as_json()["required_providers"] == {
        "aws": {"source": "hashicorp/aws", "version": ">= 5.0, < 6.0", "configuration_aliases": ["aws.us_east_1"]},
        "random": {"source": "hashicorp/random"},
    }
    assert Interface.from_json(interface.as_json(), "again").as_json() == interface.as_json()


@pytest.mark.parametrize("config", PROJECTS, ids=lambda p: p.parent.name)
def test_every_committed_lock_records_the_required_providers(config: Path, runner: CliRunner) -> None:
    lock = json.loads((config.parent / "catalog" / ".tfgen-modules.lock.json").read_text(encoding="utf-8"))
    assert lock["modules"]
    for entry in lock["modules"]:
        assert "aws" in entry["required_providers"], entry["module"]
    assert runner.invoke(main, ["modules", "lock", "--check", "-c", str(config)]).exit_code == 0


def test_ses_requires_awsutils_in_001s_lock() -> None:
    lock = REPO / "examples" / "001-order-analytics" / "catalog" / ".tfgen-modules.lock.json"
    ses = next(m for m in json.loads(lock.read_text())["modules"] if m["module"] == "notification/ses-domain")
    assert ses["required_providers"]["awsutils"] == {"source": "cloudposse/awsutils", "version": ">= 0.11.0"}


# --- version constraints ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("constraints", "holds"),
    [
        (["~> 5.62", ">= 5.96"], True),
        (["~> 5.62", ">= 6.0"], False),
        (["~> 5.62.1", ">= 5.63"], False),
        (["~> 5.62.1", ">= 5.62.4"], True),
        (["~> 2", "< 2.0.1", "!= 2.0.0"], False),
        ([">= 1.0, < 1.0"], False),
        (["= 1.2.3", "1.2.3"], True),
        ([">= 0.11.0", ">= 0.11.0, < 1.0.0"], True),
        ([">= 3.0", "<= 3.0"], True),
        ([">= 3.0", "> 3.0", "< 3.0.1"], False),
    ],
)
def test_constraints_hold_together_as_go_version_reads_them(constraints: list[str], holds: bool) -> None:
    assert satisfiable(constraints) is holds


def test_a_constraint_that_is_not_go_version_syntax_is_an_error() -> None:
    with pytest.raises(ConstraintError, match=re.escape("'^1.0' is not a version condition")):
        satisfiable(["^1.0"])


# --- validate -------------------------------------------------------------------------------


def test_the_eks_project_is_valid(make_project: ProjectFactory) -> None:
    config = eks_project(make_project)
    assert errors_of(config) == []
    assert not [d for d in api.validate(config).warnings if d.rule and d.rule.startswith("provider")]


def test_a_module_needing_an_unconfigured_provider_is_refused_at_its_line(make_project: ProjectFactory) -> None:
    without_helm = ADDONS_CATALOG.split("  helm:\n")[0] + "inputs:\n  namespaces: [client-a, client-b]\n"
    config = eks_project(make_project, without_helm)
    assert errors_of(config) == [
        "catalog/platform/addons.yaml:2:9: source: platform/addons requires provider 'helm' (hashicorp/helm), "
        "which nothing configures: its units could not plan (add providers: {helm: {source: hashicorp/helm, "
        'version: ">= 2.9", config: {...}}} to catalog/platform/addons.yaml)'
    ]


def test_001s_ses_module_without_awsutils_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "001"
    shutil.copytree(REPO / "examples" / "001-order-analytics", project)
    ses = project / "catalog" / "notification" / "ses-domain.yaml"
    ses.write_text(ses.read_text().split("providers:")[0])
    errors = errors_of(project / "environments.yaml")
    assert len(errors) == 1
    assert errors[0].startswith(
        "catalog/notification/ses-domain.yaml:3:10: version: notification/ses-domain 0.25.1 "
        "requires provider 'awsutils' (cloudposse/awsutils), which nothing configures"
    )


def test_a_declared_alias_nothing_configures_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "000"
    shutil.copytree(REPO / "examples" / "000-phased-tiers", project)
    certificate = project / "catalog" / "frontend" / "cdn-certificate.yaml"
    certificate.write_text(certificate.read_text().split("providers:")[0])
    assert errors_of(project / "environments.yaml") == [
        "catalog/frontend/cdn-certificate.yaml:3:9: source: frontend/cdn-certificate requires the provider "
        "configuration aws.us_east_1 (configuration_aliases), which nothing configures (add providers: "
        "{aws.us_east_1: {...arguments, e.g. region...}} to catalog/frontend/cdn-certificate.yaml)"
    ]


def test_a_catalog_constraint_the_module_excludes_is_refused(make_project: ProjectFactory) -> None:
    config = eks_project(make_project, ADDONS_CATALOG.replace('version: "~> 2.35"', 'version: "~> 1.13"'))
    assert errors_of(config) == [
        "catalog/platform/addons.yaml:14:14: providers.kubernetes.version: provider 'kubernetes' version ~> 1.13 "
        "excludes every version platform/addons accepts (>= 2.20) (a constraint within >= 2.20)"
    ]


def test_the_projects_aws_provider_version_against_a_modules_is_refused(make_project: ProjectFactory) -> None:
    config = eks_project(make_project, environments=ENVIRONMENTS.replace("~> 5.96", "~> 4.67"))
    (config.parent / "modules" / "eks" / "versions.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", version = ">= 5.0" }\n  }\n}\n'
    )
    assert errors_of(config) == [
        "catalog/platform/eks.yaml:2:9: source: platform/eks requires provider aws >= 5.0, which the project's "
        "aws_provider_version ~> 4.67 (environments.yaml:4:25) excludes: no version satisfies both (raise "
        "terraform.aws_provider_version, or pin a version of the module that accepts it)"
    ]


def test_constraints_of_a_module_and_its_local_modules_that_cannot_hold_are_refused(
    make_project: ProjectFactory,
) -> None:
    config = eks_project(make_project)
    addons = config.parent / "modules" / "addons"
    (addons / "main.tf").write_text(ADDONS_MODULE + '\nmodule "legacy" {\n  source = "./legacy"\n}\n')
    (addons / "legacy").mkdir()
    (addons / "legacy" / "main.tf").write_text(
        'terraform {\n  required_providers {\n    helm = { source = "hashicorp/helm", version = "< 2.0" }\n  }\n}\n'
    )
    errors = errors_of(config)
    assert errors[:1] == [
        "catalog/platform/addons.yaml:2:9: source: platform/addons and the modules it calls require provider 'helm' "
        ">= 2.9 and < 2.0: no version satisfies them all (pin another version of the module)"
    ]


def test_a_provider_config_reading_a_dependency_without_its_mock_is_warned(make_project: ProjectFactory) -> None:
    config = eks_project(make_project, ADDONS_CATALOG.replace("      cluster_name: mock-cluster\n", ""))
    warnings = warnings_of(config, "missing-mock-output")
    assert warnings and all("output 'cluster_name' of dependency 'eks'" in w for w in warnings)
    assert warnings[0].startswith("catalog/platform/addons.yaml:")


# --- rendering --------------------------------------------------------------------------------


def _providers_tf(contents: str) -> dict[str, list[dict[str, Any]]]:
    """provider blocks of a generated file: name -> [configuration, ...]."""
    found: dict[str, list[dict[str, Any]]] = {}
    body = pygohcl.loads(contents)
    for name, configs in (body.get("provider") or {}).items():
        found.setdefault(name, []).extend(configs if isinstance(configs, list) else [configs])
    return found


def test_a_dependency_read_in_a_provider_config_wires_the_dependency(make_project: ProjectFactory) -> None:
    config = eks_project(make_project)
    desired = api.plan(api.load(config)).desired
    leaf = desired["environments/dev/us-east-1/02-addons/addons/terragrunt.hcl"].decode()
    assert 'dependency "eks" {' in leaf and '"mock-cluster"' in leaf and "mock_outputs_allowed" in leaf
    common = desired["_envcommon/platform/addons.hcl"].decode()
    assert 'generate "providers" {' in common and 'path      = "providers_override.tf"' in common
    assert "    args        = ${jsonencode(" in common or "args = ${jsonencode(" in common


@pytest.fixture(scope="module")
def terragrunt_client() -> Client:
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    return Client(terragrunt, tofu)


def _requirements(config: Path) -> dict[str, Interface]:
    """Each unit directory's module interface, as validate knows it."""
    loaded = api.load(config)
    project = loaded.project
    assert project is not None
    from generator.project.model import interface_key

    return {u.directory: project.interfaces[interface_key(u)] for u in project.units}


def _configured(generate: dict[str, Any]) -> set[str]:
    """provider configurations (name, name.alias) the generated files of a unit hold."""
    found = set()
    for block in generate.values():
        if not block["path"].endswith(".tf") or block["path"].endswith("_override.tf"):
            continue
        for name, configs in _providers_tf(block["contents"]).items():
            for body in configs:
                found.add(f"{name}.{body['alias']}" if "alias" in body else name)
    return found


@pytest.mark.parametrize("config", PROJECTS, ids=lambda p: p.parent.name)
def test_terragrunt_configures_every_provider_a_module_requires(
    config: Path, terragrunt_client: Client, tmp_path: Path
) -> None:
    root = write_tree(api.plan(api.load(config)).desired, tmp_path / "output")
    rendered = terragrunt_client.render_all(root)
    requirements = _requirements(config)
    assert set(requirements) == set(rendered)
    checked = 0
    for directory, data in rendered.items():
        configured = _configured(data["generate"])
        providers = requirements[directory].providers
        assert providers is not None, f"{directory}: the lock records no providers"
        for name, required in providers.items():
            checked += 1
            if name in NO_CONFIGURATION:
                continue
            assert name in configured, f"{directory}: {name} ({required.source}) is not configured"
            for alias in required.aliases:
                assert f"{name}.{alias}" in configured, f"{directory}: {name}.{alias} is not configured"
    assert checked


@pytest.mark.parametrize("style", ["classic", "stacks"])
def test_terragrunt_evaluates_helm_and_kubernetes_from_the_clusters_mocks(
    style: str, make_project: ProjectFactory, terragrunt_client: Client, tmp_path: Path
) -> None:
    config = eks_project(make_project, environments=ENVIRONMENTS.replace("version: 1", f"version: 1\nstyle: {style}"))
    root = write_tree(api.plan(api.load(config)).desired, tmp_path / "output")
    if style == "stacks":  # the units catalog's file carries them; the autoinclude, the dependency
        terragrunt_client.run(["stack", "generate"], root)
    unit = terragrunt_client.render_all(root / "environments")["dev/us-east-1/02-addons/addons"]
    providers = _providers_tf(unit["generate"]["providers"]["contents"])
    kubernetes, helm = providers["kubernetes"][0], providers["helm"][0]
    assert kubernetes["host"] == "https://MOCK.gr7.us-east-1.eks.amazonaws.com"
    assert kubernetes["cluster_ca_certificate"] == "mock"
    assert kubernetes["exec"]["args"] == ["eks", "get-token", "--cluster-name", "mock-cluster"]
    assert helm["kubernetes"]["exec"]["args"] == ["eks", "get-token", "--cluster-name", "mock-cluster"]
    override = pygohcl.loads(unit["generate"]["providers_versions"]["contents"])
    assert override["terraform"]["required_providers"] == {
        "kubernetes": {"source": "hashicorp/kubernetes", "version": "~> 2.35"},
        "helm": {"source": "hashicorp/helm", "version": "~> 2.17"},
    }


def _standin(name: str) -> str:
    variable = f"TFGEN_REHEARSAL_{name.upper()}"
    path = os.environ.get(variable)
    if not path:
        from generator.rehearse.tools import tools_dir

        # The build of this checkout's source: scripts/build-rehearsal-provider.sh names
        # the directory by the hash of go.mod, go.sum and the *.go files in name order.
        source = REPO / "rehearsal" / name
        files = [source / "go.mod", source / "go.sum", *sorted(source.glob("*.go"), key=lambda p: p.name)]
        digest = hashlib.sha256(b"".join(f.read_bytes() for f in files if f.is_file())).hexdigest()[:16]
        built = tools_dir() / f"rehearsal-{name}-{digest}" / f"terraform-provider-{name}"
        path = str(built) if built.is_file() else None
    return need_tool(f"the {name} stand-in (run: bash scripts/build-rehearsal-provider.sh)", path)


def test_opentofu_installs_and_plans_the_addons_with_the_helm_and_kubernetes_stand_ins(
    make_project: ProjectFactory, terragrunt_client: Client, tmp_path: Path
) -> None:
    """The add-ons unit as OpenTofu gets it from Terragrunt (the module, the generated
    files evaluated with the cluster's mocks, the inputs), without its S3 backend: init
    installs helm and kubernetes (and aws) from a filesystem mirror, plan plans them."""
    standins = {name: _standin(name) for name in ("helm", "kubernetes")}
    aws = real_provider.find_mirror(None) if real_provider.aws_packages(real_provider.DEFAULT_MIRROR) else None
    if aws is None:
        need_tool("the real hashicorp/aws in /opt/tf-plugins", None)
    config = eks_project(make_project)
    root = write_tree(api.plan(api.load(config)).desired, tmp_path / "output")
    unit = terragrunt_client.render_all(root)["environments/dev/us-east-1/02-addons/addons"]
    work = tmp_path / "unit"
    shutil.copytree(config.parent / "modules" / "addons", work)
    for name, block in unit["generate"].items():
        if name != "remote_state" and block["path"] != "backend.tf":
            (work / block["path"]).write_text(block["contents"], encoding="utf-8")
    (work / "terraform.tfvars.json").write_text(json.dumps(unit["inputs"]), encoding="utf-8")
    mirror = tmp_path / "mirror"
    platform = "linux_amd64"
    versions = {name: real_provider.STANDIN_VERSIONS[name] for name in standins}
    real_provider.build_mirror(mirror, aws, standins, versions, platform)
    cli_config = tmp_path / "tofu.tfrc"
    cli_config.write_text(
        f"provider_installation {{\n  filesystem_mirror {{\n    path = {json.dumps(str(mirror))}\n  }}\n}}\n"
    )
    env = {"TF_CLI_CONFIG_FILE": str(cli_config)}
    init = _tofu(terragrunt_client, ["init", "-input=false", "-no-color"], work, env)
    assert init.returncode == 0, init.stderr[-4000:]
    assert "hashicorp/helm v2.99.0" in init.stdout and "hashicorp/kubernetes v2.99.0" in init.stdout
    plan = _tofu(terragrunt_client, ["plan", "-input=false", "-no-color", "-refresh=false"], work, env)
    assert plan.returncode == 0, plan.stderr[-4000:]
    assert 'kubernetes_namespace.client["client-a"] will be created' in plan.stdout
    assert "helm_release.metrics_server will be created" in plan.stdout


def test_opentofu_installs_and_validates_002s_client_namespace_with_the_kubernetes_stand_in(
    terragrunt_client: Client, tmp_path: Path
) -> None:
    """Seed 002's per-client namespace unit (a local module: namespace, IRSA role, service
    account) as Terragrunt hands it to OpenTofu: init installs aws and the kubernetes
    stand-in from a filesystem mirror, validate accepts the generated providers.tf (the
    kubernetes block evaluated from the eks unit's mocks) with the module. The add-ons
    unit is not run here: aws-ia/eks-blueprints-addons also requires hashicorp/time,
    which has no stand-in."""
    standins = {"kubernetes": _standin("kubernetes")}
    aws = real_provider.find_mirror(None) if real_provider.aws_packages(real_provider.DEFAULT_MIRROR) else None
    if aws is None:
        need_tool("the real hashicorp/aws in /opt/tf-plugins", None)
    example = REPO / "examples" / "002-client-platform"
    root = write_tree(api.plan(api.load(example / "environments.yaml")).desired, tmp_path / "output")
    directory = "environments/staging/us-east-1/tenants/ezra/03-clients/client-namespace"
    unit = terragrunt_client.render_all(root)[directory]
    kubernetes = _providers_tf(unit["generate"]["providers"]["contents"])["kubernetes"][0]
    assert kubernetes["host"] == "https://MOCK.gr7.us-east-1.eks.amazonaws.com"
    assert kubernetes["exec"]["args"] == ["eks", "get-token", "--cluster-name", "mock-cluster"]
    source = posixpath.normpath(posixpath.join(directory, unit["terraform"]["source"]))
    assert source == "../modules/client-namespace"  # from output/: the example's own module
    work = tmp_path / "unit"
    shutil.copytree(example / "modules" / "client-namespace", work)
    for name, block in unit["generate"].items():
        if name != "remote_state" and block["path"] != "backend.tf":
            (work / block["path"]).write_text(block["contents"], encoding="utf-8")
    mirror = tmp_path / "mirror"
    versions = {name: real_provider.STANDIN_VERSIONS[name] for name in standins}
    real_provider.build_mirror(mirror, aws, standins, versions, "linux_amd64")
    cli_config = tmp_path / "tofu.tfrc"
    cli_config.write_text(
        f"provider_installation {{\n  filesystem_mirror {{\n    path = {json.dumps(str(mirror))}\n  }}\n}}\n"
    )
    env = {"TF_CLI_CONFIG_FILE": str(cli_config)}
    init = _tofu(terragrunt_client, ["init", "-input=false", "-no-color", "-backend=false"], work, env)
    assert init.returncode == 0, init.stderr[-4000:]
    assert "hashicorp/kubernetes v2.99.0" in init.stdout
    validate = _tofu(terragrunt_client, ["validate", "-no-color"], work, env)
    assert validate.returncode == 0, validate.stderr[-4000:] + validate.stdout[-2000:]


def _tofu(client: Client, args: list[str], cwd: Path, env: dict[str, str]) -> Any:
    import subprocess

    return subprocess.run(
        [client.tofu, *args], cwd=cwd, env=client.env(env), capture_output=True, text=True, check=False, timeout=600
    )


def test_explain_shows_where_each_provider_setting_came_from(make_project: ProjectFactory) -> None:
    config = eks_project(make_project)
    with contextlib.chdir(config.parent):
        loaded = api.validate("environments.yaml")
        from generator.features.explain import explain, to_json, to_text

        explanation = explain(loaded.project, "dev/us-east-1/addons")
        text = to_text(explanation)
        document = json.loads(to_json(explanation))
    assert (
        "Provider kubernetes (hashicorp/kubernetes ~> 2.35; declared at catalog/platform/addons.yaml:12:3), "
        "in _envcommon/platform/addons.hcl's providers.tf:"
    ) in text
    assert '  exec.args = ["eks", "get-token", "--cluster-name", dependency.eks.outputs.cluster_name]' in text
    assert (
        "set by catalog providers (kubernetes): providers.kubernetes.config.host (catalog/platform/addons.yaml:16:13)"
        in text
    )
    assert "reads dependency.eks.outputs.cluster_endpoint: output cluster_endpoint of dev/us-east-1/eks" in text
    helm = next(p for p in document["providers"] if p["provider"] == "helm")
    assert [s["setting"] for s in helm["settings"]][:2] == ["kubernetes.host", "kubernetes.cluster_ca_certificate"]
    assert helm["settings"][0]["reads"][0]["unit"] == "dev/us-east-1/eks"
