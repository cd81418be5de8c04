"""Issue 15: what a new user broke in an afternoon, each with the exact repro.

(Item 1, PyYAML 6.0.4's own nesting limit, is tests/project/test_loader.py; the
validation errors of items 4 and 12 are tests/cases/invalid-*.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.features.scaffold import GITIGNORE
from generator.output import disk
from generator.output.state import JOURNAL, MANIFEST

from .conftest import CASES, REPO, tree

PROD = """\
version: 1
project: {name: demo}
state: {bucket: "{project}-{env}-state", region: us-east-1}
environments:
  dev:
    account_id: "111111111111"
    regions:
      eu-west-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}
  uat:
    account_id: "222222222222"
    deletion_protection: true
    regions:
      us-east-1: {vpc_cidr: 10.20.0.0/16, azs: [a, b]}
units:
  vpc: {module: networking/vpc}
  vpc2: {module: networking/vpc}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "p"
    shutil.copytree(CASES / "minimal", root, ignore=shutil.ignore_patterns("expected"))
    (root / "environments.yaml").write_text(PROD)
    monkeypatch.chdir(root)
    return root


def rendered(runner: CliRunner, *args: str) -> None:
    result = runner.invoke(main, ["render", *args])
    assert result.exit_code == 0, result.output


# 2 -----------------------------------------------------------------------------


def test_a_template_rendering_invalid_hcl_is_refused_before_anything_is_written(
    project: Path, runner: CliRunner
) -> None:
    rendered(runner)
    before = tree(project)
    (project / "templates").mkdir()
    (project / "templates" / "root.hcl.j2").write_text("# root\n\nlocals {\n  x = = 1\n}\n")
    for args in (["render"], ["render", "--check"], ["render", "--dry-run"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert (
            "templates/root.hcl.j2: the rendered root.hcl is not valid HCL (line 4 of the rendered file"
            in result.stderr
        )
    (project / "templates" / "root.hcl.j2").unlink()
    (project / "templates").rmdir()
    assert tree(project) == before


# 3 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "# root\n{% include 'missing.j2' %}\n",
            "templates/root.hcl.j2:2:1: template error while rendering root.hcl: 'missing.j2' not found",
        ),
        (
            "# root\n\nx = {{ undefined_name }}\n",
            "templates/root.hcl.j2:3:1: template error while rendering root.hcl: 'undefined_name' is undefined",
        ),
        ("# root\nx = {% if %}\n", "templates/root.hcl.j2:2:1: template syntax error"),
    ],
)
@pytest.mark.parametrize("check", [False, True])
def test_template_errors_are_user_errors_at_the_template_line(
    project: Path, runner: CliRunner, template: str, expected: str, check: bool
) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "root.hcl.j2").write_text(template)
    result = runner.invoke(main, ["render", *(["--check"] if check else [])])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith(expected), result.stderr


def test_an_include_missing_in_an_included_template_names_the_included_file(project: Path, runner: CliRunner) -> None:
    (project / "templates").mkdir()
    (project / "templates" / "root.hcl.j2").write_text("# root\n{% include 'part.j2' %}\n")
    (project / "templates" / "part.j2").write_text("\n\n{% include 'gone.j2' %}\n")
    result = runner.invoke(main, ["render", "--check"])
    assert result.exit_code == 2
    assert result.stderr.startswith("templates/part.j2:3:1: "), result.stderr


# 4 -----------------------------------------------------------------------------


def test_validate_refuses_a_float_render_cannot_write(project: Path, runner: CliRunner) -> None:
    (project / "environments.yaml").write_text(
        PROD.replace("vpc2: {module: networking/vpc}", "vpc2: {module: networking/vpc, inputs: {x: 1e400}}")
    )
    for command in ("validate", "render"):
        result = runner.invoke(main, [command])
        assert result.exit_code == 2, result.output
        assert "units.vpc2.inputs.x: '1e400' is too large for a number" in result.stderr
        assert "internal error" not in result.output


# 5 -----------------------------------------------------------------------------


def test_check_reports_a_hand_added_terragrunt_file(project: Path, runner: CliRunner) -> None:
    rendered(runner)
    (project / "output" / "environments" / "dev" / "terragrunt.hcl").write_text('terraform { source = "x" }\n')
    (project / "output" / "environments" / "dev" / "eu-west-1" / "extra.tf").write_text("")
    (project / "output" / "README.md").write_text("# our tree\n")
    (project / "output" / "notes.txt").write_text("not read by terragrunt\n")
    result = runner.invoke(main, ["render", "--check"])
    assert result.exit_code == 1, result.output
    assert "foreign      environments/dev/terragrunt.hcl" in result.stdout
    assert "foreign      environments/dev/eu-west-1/extra.tf" in result.stdout
    assert "README.md" not in result.stdout and "notes.txt" not in result.stdout
    machine = json.loads(runner.invoke(main, ["render", "--check", "--format", "json"]).stdout)
    assert machine["result"]["foreign_files"] == [
        "environments/dev/eu-west-1/extra.tf",
        "environments/dev/terragrunt.hcl",
    ]
    # --env uat does not look at dev's files
    assert runner.invoke(main, ["render", "--check", "--env", "uat"]).exit_code == 0
    # a declared allow-list
    text = (project / "environments.yaml").read_text()
    (project / "environments.yaml").write_text(
        text + 'output_extra_files: ["environments/*/terragrunt.hcl", "**/*.tf"]\n'
    )
    result = runner.invoke(main, ["render", "--check"])
    assert result.exit_code == 0, result.output


# 6 -----------------------------------------------------------------------------


def test_a_tfgen_upgrade_is_not_drift(project: Path, runner: CliRunner) -> None:
    rendered(runner)
    manifest = project / "output" / MANIFEST
    body = json.loads(manifest.read_text())
    body["tfgen_version"] = "0.0.1"
    manifest.write_text(json.dumps(body, indent=1) + "\n")
    result = runner.invoke(main, ["render", "--check"])
    assert result.exit_code == 0, result.output


def test_a_manifest_of_a_newer_format_is_refused(project: Path, runner: CliRunner) -> None:
    rendered(runner)
    manifest = project / "output" / MANIFEST
    body = json.loads(manifest.read_text())
    body["format"] = 99
    manifest.write_text(json.dumps(body, indent=1) + "\n")
    before = tree(project)
    for args in (["render"], ["render", "--force"], ["render", "--check"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, result.output
        assert "newer than this tfgen" in result.stderr and "upgrade tfgen" in result.stderr
    assert tree(project) == before


# 7 -----------------------------------------------------------------------------


def test_no_write_through_a_symlink_inside_output(project: Path, runner: CliRunner, tmp_path: Path) -> None:
    rendered(runner)
    outside = tmp_path / "outside"
    outside.mkdir()
    region = project / "output" / "environments" / "dev" / "eu-west-1"
    shutil.rmtree(region)
    os.symlink(outside, region)
    result = runner.invoke(main, ["render"])
    assert result.exit_code == 1, result.output
    assert "output/environments/dev/eu-west-1: is a symbolic link inside the output tree" in result.stderr
    assert list(outside.iterdir()) == []


def test_no_prune_through_a_symlink(project: Path, runner: CliRunner, tmp_path: Path) -> None:
    rendered(runner)
    region = project / "output" / "environments" / "dev" / "eu-west-1"
    moved = tmp_path / "moved"
    shutil.move(region, moved)
    os.symlink(moved, region)
    (project / "environments.yaml").write_text(PROD.replace("  vpc2: {module: networking/vpc}\n", ""))
    result = runner.invoke(main, ["render"])
    assert result.exit_code == 1, result.output
    assert "symbolic link" in result.stderr
    assert (moved / "network" / "vpc2" / "terragrunt.hcl").is_file()


# 8, 9 --------------------------------------------------------------------------


def test_following_the_protected_removal_advice_removes_the_one_unit(project: Path, runner: CliRunner) -> None:
    """Issue 21 item 3: the override the advice names lifts prevent_destroy of that unit
    alone; once rendered (and applied, destroyed), removing the unit prunes its files."""
    rendered(runner)
    leaf = project / "output/environments/uat/us-east-1/network/vpc2/terragrunt.hcl"
    other = project / "output/environments/uat/us-east-1/network/vpc/terragrunt.hcl"
    assert "prevent_destroy = true" in leaf.read_text()
    lifted = PROD.replace(
        "      us-east-1: {vpc_cidr: 10.20.0.0/16, azs: [a, b]}\n",
        "      us-east-1:\n        vpc_cidr: 10.20.0.0/16\n        azs: [a, b]\n"
        "        units: {vpc2: {deletion_protection: false}}\n",
    )
    (project / "environments.yaml").write_text(lifted)
    assert runner.invoke(main, ["render"]).exit_code == 0
    assert "prevent_destroy = true" not in leaf.read_text()
    assert "prevent_destroy = true" in other.read_text()  # the other units keep the environment's
    (project / "environments.yaml").write_text(lifted.replace("  vpc2: {module: networking/vpc}\n", "").replace(
        "        units: {vpc2: {deletion_protection: false}}\n", ""))
    result = runner.invoke(main, ["render"])
    assert result.exit_code == 0, result.output
    assert not leaf.exists() and other.is_file()
    # A unit still protected stays refused.
    (project / "environments.yaml").write_text(PROD.replace("  vpc: {module: networking/vpc}\n", ""))
    assert runner.invoke(main, ["render"]).exit_code == 1
    assert other.is_file()


def test_protected_removal_advice_is_the_narrow_step_and_dry_run_reports_it(project: Path, runner: CliRunner) -> None:
    rendered(runner)
    (project / "environments.yaml").write_text(PROD.replace("  vpc2: {module: networking/vpc}\n", ""))
    result = runner.invoke(main, ["render"])
    assert result.exit_code == 1
    assert "environments.uat.regions.us-east-1.units.vpc2: {deletion_protection: false}" in result.stderr
    assert "not the environment's deletion_protection" in result.stderr
    assert "AWS refuses to delete a protected database until an apply has lifted its flag" in result.stderr
    assert "then `terragrunt destroy` in environments/uat/us-east-1/network/vpc2" in result.stderr
    assert "put it back with deletion_protection: false" not in result.stderr

    dry = runner.invoke(main, ["render", "--dry-run", "--format", "json"])
    report = json.loads(dry.stdout)
    assert report["ok"] is False and dry.exit_code == 1
    assert report["errors"][0]["rule"] == "orphan"
    allowed = runner.invoke(main, ["render", "--dry-run", "--allow-orphan"])
    assert allowed.exit_code == 0, allowed.output
    assert "--allow-orphan deletes its files" in allowed.stdout
    assert "refuses" not in allowed.stdout


def test_annotations_honour_force(project: Path, runner: CliRunner) -> None:
    rendered(runner)
    (project / "output" / "root.hcl").write_text("# edited\n")
    plain = runner.invoke(main, ["render", "--dry-run"])
    assert plain.exit_code == 1 and "render refuses to overwrite it without --force" in plain.stdout
    forced = runner.invoke(main, ["render", "--dry-run", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "--force overwrites it" in forced.stdout and "refuses" not in forced.stdout


# 10 ----------------------------------------------------------------------------


def test_a_scope_that_selects_nothing_is_an_error(project: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", "--env", "uat", "--region", "eu-west-1"])
    assert result.exit_code == 2, result.output
    assert "--region eu-west-1: environment uat has no such region (its regions: us-east-1)" in result.stderr


def test_explain_with_no_matching_input_suggests(project: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["explain", "dev/eu-west-1/vpc", "cdir"])
    assert result.exit_code == 2, result.output
    assert "has no input 'cdir'" in result.stderr and "did you mean cidr?" in result.stderr


def test_config_is_found_upward(project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "catalog" / "networking")
    assert runner.invoke(main, ["validate"]).exit_code == 0
    rendered(runner)
    assert (project / "output" / "root.hcl").is_file()
    assert not (project / "catalog" / "networking" / "output").exists()


def test_read_only_output_names_the_directory(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only directory, as the OS reports it (root ignores modes, so it is simulated):
    the error names the directory, not tfgen's temporary file in it."""
    rendered(runner)
    (project / "environments.yaml").write_text(PROD.replace("azs: [a, b]}\n  uat", "azs: [a, b, c]}\n  uat"))

    def refuse(target: str, data: bytes) -> str:
        directory, name = os.path.split(target)
        raise PermissionError(13, "Permission denied", os.path.join(directory, f".{name}.k2j4.tfgen-tmp"))

    monkeypatch.setattr(disk, "_write_temporary", refuse)
    result = runner.invoke(main, ["render"])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(
        "output/environments/dev/eu-west-1/: cannot write into this directory: permission denied"
    )
    assert "tfgen-tmp" not in result.stderr


# 11 ----------------------------------------------------------------------------


def test_init_writes_a_gitignore_and_a_lockfile_constraint(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    ignore = (tmp_path / "new" / ".gitignore").read_text()
    assert ignore == GITIGNORE
    for entry in (".terragrunt-cache/", ".terraform/", ".*.tfgen-tmp"):
        assert entry in ignore.splitlines()
    text = (tmp_path / "new" / "environments.yaml").read_text()
    assert "lock: lockfile" in text and 'required_version: ">= 1.11.0"' in text


def test_the_reference_gitignore_ignores_what_init_ignores() -> None:
    """The repository is a tfgen project too: an interrupted render leaves its journal and
    temporary files in output/, which `git add -A` must not commit."""
    wanted = [line for line in GITIGNORE.splitlines() if line and not line.startswith("#")]
    assert JOURNAL in wanted
    ours = (REPO / ".gitignore").read_text().splitlines()
    assert [line for line in wanted if line not in ours] == []
    paths = [f"output/{JOURNAL}", "output/environments/dev/.env.hcl.k2j4.tfgen-tmp", "output/x/.terragrunt-cache/y"]
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=REPO, capture_output=True, text=True,
                             check=False)
    assert ignored.stdout.splitlines() == paths, ignored.stderr


# 12 ----------------------------------------------------------------------------


@pytest.mark.parametrize("target", [".", "catalog", "catalog/networking", "templates", ".."])
def test_output_into_the_project_is_refused(project: Path, runner: CliRunner, target: str) -> None:
    before = tree(project)
    result = runner.invoke(main, ["render", "-o", target])
    assert result.exit_code == 2, result.output
    assert f"-o {target}: is the" in result.stderr
    assert tree(project) == before


def test_env_takes_a_comma_separated_list(project: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", "--env", "dev,uat", "--dry-run"])
    assert result.exit_code == 0, result.output
    graph = runner.invoke(main, ["graph", "--env", "dev,uat"])
    assert graph.exit_code == 0, graph.output
