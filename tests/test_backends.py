"""state.backend (issue 25 item 3): s3, the default, or remote (HCP Terraform / Terraform
Enterprise, one workspace per unit). Seed 003's example renders with either
(examples/003-layered-monorepo/environments.remote.yaml, into output.remote/); the
settings of the other backend, workspace names HCP Terraform refuses and a workspace two
units would share are refused at their line; Terragrunt's own evaluation gives every unit
its own workspace, a renamed unit its old one; affected, the CI pipelines, the style switch
and the rehearsal know the backend. Guide: docs/guides/backends.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.features.explain import document as explain_document
from generator.project import backend
from generator.project.layout import Scope
from generator.rehearse.run import REMOTE_STAND_IN_BUCKET, Options, local_project, rehearse
from generator.rendering import stacks

from .conftest import REPO, need_tool
from .features.test_affected_oracle import git
from .realclient import Client, find_tool, write_tree
from .test_rehearse import _failures, tools  # noqa: F401 (a fixture)

EXAMPLE = REPO / "examples" / "003-layered-monorepo"
REMOTE = EXAMPLE / "environments.remote.yaml"
#: service-c renamed service-d: its state stays where service-c's was (previous:).
RENAME = (
    "  service-c:\n    module: applications/ecs-service\n",
    "  service-d:\n    module: applications/ecs-service\n    previous: service-c\n",
)


def remote_copy(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The remote example as a project of its own (environments.yaml and catalog/)."""
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE / "catalog", root / "catalog")
    text = REMOTE.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    (root / "environments.yaml").write_text(text, encoding="utf-8")
    return root / "environments.yaml"


def line_of(config: Path, needle: str) -> int:
    lines = config.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.strip().startswith(needle))


def validate(config: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["validate", "-c", str(config)])
    return result.exit_code, [line for line in result.output.splitlines() if line.strip()]


# --- the example -----------------------------------------------------------------------


def _without_state(text: str) -> str:
    text = re.sub(r"\nstate:\n(?:(?:  .*)?\n)+", "\nstate: ...\n", text)
    return "\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n"


def test_the_remote_example_is_the_example_but_for_its_state() -> None:
    s3, remote = (p.read_text(encoding="utf-8") for p in (EXAMPLE / "environments.yaml", REMOTE))
    assert _without_state(s3) == _without_state(remote)
    assert api.load(REMOTE).project.state == {
        "backend": "remote",
        "organization": "your-org",
        "workspace": "aws-{unit}-{env}",
    }


def test_the_remote_examples_output_is_a_render() -> None:
    result = CliRunner().invoke(main, ["render", "--check", "-c", str(REMOTE), "-o", str(EXAMPLE / "output.remote")])
    assert result.exit_code == 0, result.output


def test_the_seeds_workspace_names() -> None:
    project = api.load(REMOTE).project
    names = {unit.address: name for name, unit in backend.workspaces(project)}
    assert names["dev/us-east-1/service-a"] == "aws-service-a-dev"
    assert names["production/us-east-1/vpc"] == "aws-vpc-production"
    assert len(set(names.values())) == len(project.units) == 33


# --- what is rendered ------------------------------------------------------------------


def test_root_hcl_generates_the_remote_backend_and_no_remote_state() -> None:
    root = api.plan(api.load(REMOTE)).desired["root.hcl"].decode()
    assert "\nremote_state {" not in root
    assert 'generate "backend" {' in root
    assert 'backend "remote" {' in root and 'hostname     = "app.terraform.io"' in root
    assert 'organization = "your-org"' in root
    assert 'name = "aws-${basename(path_relative_to_include())}-${local.env.environment}"' in root
    # The S3 default is what it was.
    s3 = api.plan(api.load(EXAMPLE / "environments.yaml")).desired["root.hcl"].decode()
    assert 'remote_state {\n  backend = "s3"' in s3 and 'backend "remote"' not in s3


def test_a_renamed_unit_keeps_its_workspace_in_its_own_leaf(tmp_path: Path) -> None:
    config = remote_copy(tmp_path, RENAME)
    desired = api.plan(api.load(config)).desired
    leaf = desired["environments/dev/us-east-1/04-applications/service-d/terragrunt.hcl"].decode()
    assert 'merge_strategy = "deep"' in leaf
    assert 'generate "backend" {' in leaf and 'name = "aws-service-c-dev"' in leaf
    other = desired["environments/dev/us-east-1/04-applications/service-a/terragrunt.hcl"].decode()
    assert "merge_strategy" not in other and 'generate "backend"' not in other
    project = api.load(config).project
    unit = project.unit(("dev", "us-east-1", "service-d"))
    assert unit is not None and backend.workspace(project, unit) == "aws-service-c-dev"
    result = CliRunner().invoke(main, ["explain", "dev/us-east-1/service-d", "-c", str(config)])
    assert (
        "State: HCP Terraform workspace aws-service-c-dev (organization your-org on app.terraform.io)"
        in result.output.splitlines()[2]
    ), result.output
    explained = explain_document(api.explain(config, "dev/us-east-1/service-d"))
    assert explained["remote_state"] == {
        "backend": "remote",
        "config": {
            "hostname": "app.terraform.io",
            "organization": "your-org",
            "workspaces": {"name": "aws-service-c-dev"},
        },
    }


def test_the_stacks_style_maps_a_renamed_units_workspace_in_root_hcl(tmp_path: Path) -> None:
    config = remote_copy(tmp_path, RENAME, ("layer_order: strict\n", "layer_order: strict\nstyle: stacks\n"))
    loaded = api.load(config)
    root = api.plan(loaded).desired["root.hcl"].decode()
    assert re.search(
        r'"environments/dev/us-east-1/04-applications/service-d" +='
        r' "environments/dev/us-east-1/04-applications/service-c"',
        root,
    )
    assert "${basename(lookup(local.moved, path_relative_to_include(), path_relative_to_include()))}" in root
    # Workspaces are named from the unit's layer and name: switching styles moves no state.
    switch = stacks.style_switch(
        loaded.project,
        Scope(),
        {
            f"environments/{u.environment.name}/{u.region.name}/{u.layer}/{u.name}/terragrunt.hcl"
            for u in loaded.project.units
        },
    )
    assert switch is not None and switch.moves == ()


# --- refusals, each at its line --------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "needle", "message"),
    [
        # one workspace per layer and environment, as the seed draws it: three units in one
        (
            ('workspace: "aws-{unit}-{env}"', 'workspace: "aws-{layer}-{env}"'),
            "workspace:",
            "state.workspace: units dev/us-east-1/vpc and dev/us-east-1/sg-services would share the workspace "
            "'aws-01-foundation-dev' (11 more workspaces are shared) (every unit needs its own workspace: add {unit})",
        ),
        (
            ('workspace: "aws-{unit}-{env}"', 'workspace: "aws.{unit}-{env}"'),
            "workspace:",
            "state.workspace: the workspace of dev/us-east-1/vpc, 'aws.vpc-dev', may hold only letters, digits, "
            "'-' and '_' (and 32 more)",
        ),
        (
            ('workspace: "aws-{unit}-{env}"', 'workspace: "{project}-{layer}-{unit}-{env}-' + "x" * 60 + '"'),
            "workspace:",
            "workspace names are at most 90",
        ),
        (
            ('workspace: "aws-{unit}-{env}"', 'workspace: "aws-{unit}-{stage}"'),
            "workspace:",
            "state.workspace: unknown placeholder {stage}",
        ),
        (
            ("  organization: your-org\n", "  organization: your-org\n  bucket: my-tfstate\n"),
            "bucket:",
            "state.bucket: bucket is a setting of the S3 backend; state.backend is remote",
        ),
        (
            ("  organization: your-org\n", "  organization: your-org\n  versioning: true\n"),
            "versioning:",
            "state.versioning: versioning is a setting of the S3 backend",
        ),
        (("  organization: your-org\n", ""), "state:", "state: missing required key 'organization'"),
        (
            ("  organization: your-org\n", "  organization: your org\n"),
            "organization:",
            "an HCP Terraform organization name",
        ),
        (
            ("  backend: remote\n", "  backend: remote\n  hostname: https://tfe.example.com\n"),
            "hostname:",
            "a host name such as app.terraform.io",
        ),
    ],
)
def test_a_bad_remote_backend_is_refused_at_its_line(
    tmp_path: Path, edit: tuple[str, str], needle: str, message: str
) -> None:
    config = remote_copy(tmp_path, edit)
    code, lines = validate(config)
    assert code == 2
    hits = [line for line in lines if message in line]
    assert hits, lines
    assert hits[0].startswith(f"{config}:{line_of(config, needle)}:"), hits[0]


def test_remote_settings_with_the_s3_backend_are_refused_at_their_line(tmp_path: Path) -> None:
    config = remote_copy(
        tmp_path, ("  backend: remote\n", '  bucket: "{project}-{account_id}-tfstate"\n  region: us-east-1\n')
    )
    code, lines = validate(config)
    assert code == 2
    for key in ("organization", "workspace"):
        hit = next(line for line in lines if f"state.{key}: {key} is a setting of backend: remote" in line)
        assert hit.startswith(f"{config}:{line_of(config, key + ':')}:3:"), hit


def test_removing_state_is_refused_with_both_choices(tmp_path: Path) -> None:
    """Without state: tfgen would have to invent where existing infrastructure's state is."""
    config = remote_copy(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"\nstate:\n(?:(?:  .*)?\n)+", "\n", text), encoding="utf-8")
    code, lines = validate(config)
    assert code == 2
    assert len(lines) == 1 and "missing required key 'state'" in lines[0], lines
    assert "backend: remote, organization, workspace" in lines[0] and "bucket, region" in lines[0]


# --- affected, CI, the rehearsal -------------------------------------------------------


def test_affected_names_each_units_workspace_and_a_renamed_units_old_one(tmp_path: Path) -> None:
    config = remote_copy(tmp_path)
    root = config.parent
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(*RENAME, 1).replace("desired_count: 3", "desired_count: 4", 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["affected", "--base", "main", "--format", "json", "-c", str(config)])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)["result"]
    entries = {e["address"]: e for g in document["apply"] for wave in g["waves"] for e in wave}
    assert entries["dev/us-east-1/service-d"]["workspace"] == "aws-service-c-dev"
    assert entries["dev/us-east-1/service-d"]["moved_from"].endswith("/service-c")
    assert entries["production/us-east-1/service-a"]["workspace"] == "aws-service-a-production"
    assert document["counts"]["destroy"] == 0


@pytest.mark.parametrize(
    ("hostname", "variable"),
    [(None, "TF_TOKEN_app_terraform_io"), ("tfe.example-corp.com", "TF_TOKEN_tfe_example__corp_com")],
)
def test_the_ci_pipelines_name_the_hosts_token(tmp_path: Path, hostname: str | None, variable: str) -> None:
    edits = [("  backend: remote\n", f"  backend: remote\n  hostname: {hostname}\n")] if hostname else []
    config = remote_copy(tmp_path, *edits)
    with config.open("a", encoding="utf-8") as handle:
        handle.write("\nci:\n  github_actions: { in_output: true }\n  atlantis: {}\n")
    desired = api.plan(api.load(config)).desired
    workflow = yaml.safe_load(desired[".github/workflows/terragrunt.yml"])
    assert workflow["env"][variable] == "${{ secrets." + variable + " }}"
    # The AWS credentials step still names a region (the state has none).
    steps = [s for job in workflow["jobs"].values() for s in job["steps"] if "aws-region" in (s.get("with") or {})]
    assert steps and all(s["with"]["aws-region"] == "us-east-1" for s in steps)
    assert f"({variable})" in desired["atlantis.yaml"].decode()
    s3 = remote_copy(
        tmp_path / "s3",
        (
            "  backend: remote\n  organization: your-org\n",
            '  bucket: "{project}-{account_id}-tfstate"\n  region: us-east-1\n',
        ),
        ('  workspace: "aws-{unit}-{env}"\n', ""),
    )
    with s3.open("a", encoding="utf-8") as handle:
        handle.write("\nci:\n  github_actions: { in_output: true }\n")
    assert "TF_TOKEN" not in api.plan(api.load(s3)).desired[".github/workflows/terragrunt.yml"].decode()


def test_actionlint_accepts_the_remote_workflow(tmp_path: Path) -> None:
    from .rendering.test_pipelines import _tool

    actionlint = _tool("ACTIONLINT", "actionlint", "actionlint-*/actionlint")
    config = remote_copy(tmp_path)
    with config.open("a", encoding="utf-8") as handle:
        handle.write("\nci:\n  github_actions: { in_output: true }\n")
    path = tmp_path / "terragrunt.yml"
    path.write_bytes(api.plan(api.load(config)).desired[".github/workflows/terragrunt.yml"])
    result = subprocess.run([actionlint, "-shellcheck=", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rehearsal_stands_in_for_hcp_terraform_with_its_local_s3() -> None:
    project = api.load(REMOTE).project
    local = local_project(project, "https://127.0.0.1:1")
    assert local.state == {
        "bucket": REMOTE_STAND_IN_BUCKET,
        "region": "us-east-1",
        "lock": "lockfile",
        "endpoint": "https://127.0.0.1:1",
    }
    assert not backend.is_remote(local)
    config = backend.config(local, local.units[0])
    assert config["bucket"] == "tfgen-rehearsal-111111111111-tfstate"
    assert config["key"] == "environments/dev/us-east-1/01-foundation/vpc/terraform.tfstate"


# --- Terragrunt's own evaluation ---------------------------------------------------------


def _backend_of(rendered: dict[str, Any]) -> str:
    blocks = rendered.get("generate") or {}
    assert "backend" in blocks, sorted(blocks)
    return str(blocks["backend"]["contents"])


@pytest.mark.external
@pytest.mark.slow
def test_terragrunt_evaluates_one_workspace_per_unit_and_the_renamed_units_old_one(tmp_path: Path) -> None:
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    config = remote_copy(tmp_path, RENAME)
    project = api.load(config).project
    root = write_tree(api.plan(api.load(config)).desired, tmp_path / "output")
    rendered = Client(terragrunt, tofu).render_all(root)
    assert len(rendered) == len(project.units) == 33
    names: dict[str, str] = {}
    for directory, data in rendered.items():
        assert not data.get("remote_state"), directory
        contents = _backend_of(data)
        assert 'backend "remote"' in contents and 'hostname     = "app.terraform.io"' in contents
        assert 'organization = "your-org"' in contents
        found = re.findall(r'^\s*name\s*=\s*"([^"]*)"\s*$', contents, re.MULTILINE)
        assert len(found) == 1, contents
        names[directory] = found[0]
    assert len(set(names.values())) == len(names), "two units share a workspace"
    expected = {unit.directory: backend.workspace(project, unit) for unit in project.units}
    assert names == expected
    assert names["environments/dev/us-east-1/04-applications/service-d"] == "aws-service-c-dev"
    assert names["environments/production/us-east-1/04-applications/service-a"] == "aws-service-a-production"
    # The renamed unit includes root.hcl with merge_strategy = "deep" (so that its generate
    # block replaces root.hcl's): everything else evaluates as in the S3 project's render.
    s3 = tmp_path / "s3"
    shutil.copytree(EXAMPLE / "catalog", s3 / "catalog")
    text = (EXAMPLE / "environments.yaml").read_text(encoding="utf-8").replace(*RENAME, 1)
    (s3 / "environments.yaml").write_text(text, encoding="utf-8")
    tree = write_tree(api.plan(api.load(s3 / "environments.yaml")).desired, s3 / "output")
    theirs = Client(terragrunt, tofu).render_all(tree)
    for directory in (
        "environments/dev/us-east-1/04-applications/service-d",
        "environments/production/us-east-1/04-applications/service-d",
    ):
        mine = {k: v for k, v in rendered[directory].items() if k not in ("generate", "remote_state")}
        other = {k: v for k, v in theirs[directory].items() if k not in ("generate", "remote_state")}
        assert mine == other, directory
        assert sorted(rendered[directory]["generate"]) == sorted([*theirs[directory]["generate"], "backend"])


@pytest.mark.slow
def test_the_remote_example_rehearses_on_the_local_s3(tmp_path: Path, tools: tuple[str, str, str]) -> None:  # noqa: F811
    config = remote_copy(tmp_path, RENAME)
    report = rehearse(Options(config, *tools, scope=Scope(environments=("dev",))))
    assert report.ok, _failures(report)
    assert any("state.backend is remote" in note for note in report.notes)
    keys = {o.split("/", 3)[3] for o in report.state_objects}
    assert "environments/dev/us-east-1/04-applications/service-c/terraform.tfstate" in keys
    assert all(o.split("/", 3)[2] == "tfgen-rehearsal-111111111111-tfstate" for o in report.state_objects)


@pytest.mark.external
@pytest.mark.slow
def test_the_stacks_style_evaluates_to_the_same_workspaces_as_the_classic_tree(tmp_path: Path) -> None:
    """Both styles of the remote project, a unit renamed: Terragrunt evaluates the same
    facts for every unit (the stacks style's root.hcl maps the renamed unit's path)."""
    from .stacks_judge import evaluate

    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    client = Client(terragrunt, tofu)
    facts = {}
    for style in ("classic", "stacks"):
        edit = ("layer_order: strict\n", f"layer_order: strict\nstyle: {style}\n")
        config = remote_copy(tmp_path / style, RENAME, edit)
        tree = write_tree(api.plan(api.load(config)).desired, tmp_path / style / "output")
        facts[style] = evaluate(tree, tmp_path / style / "work", client)
    assert len(facts["stacks"]) == len(facts["classic"]) > 0
    assert facts["classic"] == facts["stacks"]
    contents = facts["stacks"]["environments/dev/us-east-1/04-applications/service-d"]["generate"]["backend"]
    assert 'name = "aws-service-c-dev"' in contents["contents"]


def test_a_kept_s3_state_object_is_refused_with_the_remote_backend(tmp_path: Path) -> None:
    """An override's state: (bucket and key, as tfgen import writes it) names an S3 object:
    under backend: remote it would be dropped silently, so validate refuses it at its line."""
    config = remote_copy(
        tmp_path,
        (
            "      us-east-1: { vpc_cidr: 10.10.0.0/16, azs: [a, b, c] }\n",
            "      us-east-1:\n        vpc_cidr: 10.10.0.0/16\n        azs: [a, b, c]\n"
            "        units:\n          vpc:\n            state: { bucket: old-bucket, key: old/vpc.tfstate }\n",
        ),
    )
    code, lines = validate(config)
    assert code == 2
    hit = next(line for line in lines if "keeps an S3 state object" in line)
    assert hit.startswith(f"{config}:{line_of(config, 'state: {')}:"), hit
    assert "dev/us-east-1/vpc" in hit


@pytest.mark.external
@pytest.mark.slow
def test_terragrunt_evaluates_a_workspace_per_tenant_unit(tmp_path: Path) -> None:
    """Tenants under the remote backend: {tenant} in the workspace name; Terragrunt's own
    evaluation gives each tenant's instance its own workspace, a shared unit one without
    "--", and the stacks style the same workspaces as the classic tree."""
    from .stacks_judge import evaluate
    from .test_tenants import REMOTE_STATE

    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    client = Client(terragrunt, tofu)
    case = REPO / "tests" / "cases" / "tenants"
    text = (case / "environments.yaml").read_text(encoding="utf-8")
    assert REMOTE_STATE[0] in text
    facts = {}
    for style in ("classic", "stacks"):
        root = tmp_path / style / "project"
        shutil.copytree(case / "catalog", root / "catalog")
        config = root / "environments.yaml"
        config.write_text(text.replace(*REMOTE_STATE, 1) + f"\nstyle: {style}\n", encoding="utf-8")
        project = api.load(config).project
        tree = write_tree(api.plan(api.load(config)).desired, tmp_path / style / "output")
        facts[style] = evaluate(tree, tmp_path / style / "work", client)
        if style == "classic":
            rendered = client.render_all(tree)
            assert len(rendered) == len(project.units)
            names = {}
            for directory, data in rendered.items():
                found = re.findall(r'^\s*name\s*=\s*"([^"]*)"\s*$', _backend_of(data), re.MULTILINE)
                assert len(found) == 1, directory
                names[directory] = found[0]
            assert len(set(names.values())) == len(names), "two units share a workspace"
            assert names == {unit.directory: backend.workspace(project, unit) for unit in project.units}
            ezra = "environments/prod/us-east-1/tenants/ezra/03-data/client-db"
            assert names[ezra] == "tenants-prod-us-east-1-ezra-client-db"
            assert names["environments/prod/us-east-1/01-foundation/vpc"] == "tenants-prod-us-east-1-vpc"
    assert len(facts["stacks"]) == len(facts["classic"]) > 0
    assert facts["classic"] == facts["stacks"]
