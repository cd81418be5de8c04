from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main

from ..conftest import REPO, ProjectFactory, tree


def test_help_explains_itself_with_examples(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "tfgen render --env uat" in result.output
    for command in ("validate", "render", "schema"):
        sub = runner.invoke(main, [command, "--help"])
        assert sub.exit_code == 0
        assert "Example" in sub.output, command


def test_validate_reference_project(runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "-c", str(REPO / "environments.yaml")])
    assert result.exit_code == 0, result.output
    assert "valid: 4 environments, 5 regions" in result.output


def test_validate_reports_every_error_with_position_and_exit_2(runner: CliRunner, make_project: ProjectFactory) -> None:
    config = make_project({"environments.yaml": """
        version: 1
        project: {name: demo}
        state: {bucket: "{project}-state", region: us-east-1}
        environments:
          dev:
            account_id: 123456789012
            deletion_protecton: false
            regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}
        units: {}
    """})
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert any(":6:17: environments.dev.account_id: expected a string, got a number" in line for line in lines)
    assert any(":7:5: environments.dev.deletion_protecton: unknown key" in line and "did you mean 'deletion_protection'"
               in line for line in lines)
    assert "Traceback" not in result.output


def test_validate_json_format(runner: CliRunner, make_project: ProjectFactory) -> None:
    config = make_project({"environments.yaml": "version: 2\n"})
    result = runner.invoke(main, ["validate", "-c", str(config), "--format", "json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    first = report["errors"][0]
    assert set(first) >= {"file", "line", "column", "path", "message", "severity"}


def test_render_to_another_directory_and_summary(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "tree"
    result = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "rendered 104 files: 104 created, 0 changed, 0 deleted, 0 unchanged in" in result.output
    again = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(out)])
    assert "0 created, 0 changed, 0 deleted, 104 unchanged" in again.output


def test_render_env_limits_the_tree(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "tree"
    result = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(out), "--env", "uat"])
    assert result.exit_code == 0, result.output
    paths = set(tree(out))
    assert "environments/uat/env.hcl" in paths and "root.hcl" in paths
    assert not any(p.startswith(("environments/prod", "environments/dev")) for p in paths)
    # only the modules uat uses are rendered into _envcommon (not prod's DR replica or its key)
    assert {p for p in paths if p.startswith("_envcommon/")} == {
        "_envcommon/networking/vpc.hcl", "_envcommon/data/rds.hcl", "_envcommon/services/ecs-cluster.hcl",
        "_envcommon/services/ecs-capacity.hcl", "_envcommon/services/ecs-service.hcl",
        "_envcommon/security/sg-alb.hcl", "_envcommon/security/sg-service.hcl",
        "_envcommon/security/sg-database.hcl", "_envcommon/security/sg-ecs-instances.hcl",
        "_envcommon/edge/alb.hcl", "_envcommon/edge/certificate.hcl", "_envcommon/monitoring/alerts.hcl",
        "_envcommon/monitoring/metric-alarm.hcl",
        "_envcommon/monitoring/events.hcl"}


def test_render_unknown_env_is_a_user_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(tmp_path), "--env", "qa"])
    assert result.exit_code == 2
    assert "--env qa: no such environment (environments: dev, staging, uat, prod)" in result.stderr


def test_invalid_input_leaves_the_output_untouched(runner: CliRunner, reference_project: Path) -> None:
    output = reference_project.parent / "output"
    before = tree(output)
    text = reference_project.read_text().replace("vpc_cidr: 10.30.0.0/16", "vpc_cidr: 10.30.0.0/33")
    reference_project.write_text(text)
    result = runner.invoke(main, ["render", "-c", str(reference_project)])
    assert result.exit_code == 2
    assert "environments.prod" not in result.stderr
    assert "environments.uat.regions.us-east-1.vpc_cidr" in result.stderr
    assert tree(output) == before


def test_missing_config_file(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "nope.yaml: file not found" in result.stderr


def test_schema_prints_json_schema(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    catalog = json.loads(runner.invoke(main, ["schema", "--catalog"]).output)
    assert "dependencies" in catalog["properties"]
    written = runner.invoke(main, ["schema", "-o", str(tmp_path / "s.json")])
    assert written.exit_code == 0 and json.loads((tmp_path / "s.json").read_text()) == schema


def test_python_dash_m_generator() -> None:
    result = subprocess.run([sys.executable, "-m", "generator", "validate", "-c", str(REPO / "environments.yaml")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    usage = subprocess.run([sys.executable, "-m", "generator", "--help"], capture_output=True, text=True, check=False)
    assert usage.stdout.startswith("Usage: tfgen")


def test_render_region_skips_environments_without_that_region(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "tree"
    result = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(out),
                                  "--region", "eu-west-1"])
    assert result.exit_code == 0, result.output
    envs = {p.split("/")[1] for p in tree(out) if p.startswith("environments/")}
    assert envs == {"prod"}


def test_errors_stay_on_one_line_whatever_the_names(runner: CliRunner, make_project: ProjectFactory) -> None:
    config = make_project({"environments.yaml": """
        version: 1
        project: {name: demo}
        state: {bucket: "{project}-state", region: us-east-1}
        environments:
          dev: {account_id: "123456789012", regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}}
        units:
          "vpc\\n": {module: "networking/vpc\\n"}
          "a\\u2028b": {module: networking/vpc}
    """})
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line]
    assert all(line.startswith(str(config.parent)) or line.endswith("errors") for line in lines), lines
    assert any('units["vpc\\n"]' in line for line in lines)


def test_a_scoped_render_says_which_files_every_environment_reads(runner: CliRunner, reference_project: Path) -> None:
    """render --env uat rewrites root.hcl and _envcommon/*, which dev, staging and prod
    read too: the listing, the --dry-run JSON, the diff header and the render say so."""
    config = reference_project
    config.write_text(config.read_text("utf-8").replace('required_version: ">= 1.11.0"',
                                                        'required_version: ">= 1.11.1"', 1), "utf-8")
    rds = config.parent / "catalog" / "data" / "rds.yaml"
    rds.write_text(rds.read_text("utf-8").replace("version: 6.10.0", "version: 6.11.0", 1), "utf-8")
    shared = ["_envcommon/data/rds.hcl", "root.hcl"]
    scoped = ["render", "-c", str(config), "--env", "uat"]

    listing = runner.invoke(main, [*scoped, "--dry-run"])
    assert listing.exit_code == 0, listing.output
    for path in shared:
        assert f"changed      {path}  (read by every environment)" in listing.output
    assert "environments/uat/env.hcl" not in listing.output  # uat's own files did not change

    document = json.loads(runner.invoke(main, [*scoped, "--dry-run", "--format", "json"]).output)["result"]
    assert document["shared_changed"] == shared
    entries = {f["path"]: f for f in document["files"]}
    assert all(entries[p]["read_by_every_environment"] and entries[p]["environment"] is None for p in shared)

    diff = runner.invoke(main, [*scoped, "--diff"]).output
    assert "+++ b/root.hcl\t(read by every environment)\n" in diff
    assert "+++ b/_envcommon/data/rds.hcl\t(read by every environment)\n" in diff

    written = runner.invoke(main, scoped)
    assert written.exit_code == 0, written.output
    assert "root.hcl: changed, read by every environment, not only the ones rendered" in written.output
    assert "_envcommon/data/rds.hcl: changed, read by every environment, not only the ones rendered" in written.output
    again = runner.invoke(main, scoped)
    assert "read by every environment" not in again.output  # nothing written the second time
