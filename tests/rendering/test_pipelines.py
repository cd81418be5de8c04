"""Generated CI pipelines: owned and kept in sync like the tree, and judged by the tools
that read them. GitHub Actions: actionlint (with shellcheck on the run: scripts) and
the GitHub workflow JSON schema vendored by check-jsonschema. Atlantis: its own
repo-config parser and validator (tests/atlantis-judge, built from the Go module proxy
by scripts/build-ci-judges.sh); the files each project's when_modified lists are
compared with what Terragrunt itself says each unit reads (`find --reading`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.output.state import JOURNAL, TEMP_SUFFIX, digest, journal_bytes
from generator.rendering.pipelines import ATLANTIS_PATH, WORKFLOW_PATH

from ..conftest import CASES, REPO, need_tool
from ..features.test_affected import ALARMS, rename_alerts
from ..features.test_affected_oracle import git
from ..realclient import find_tool, tools_dir

CI = """
ci:
  github_actions: { plan_role: ci-plan, apply_role: ci-apply }
  atlantis: {}
"""


def _cached(name: str, pattern: str) -> str | None:
    found = sorted(tools_dir().glob(pattern))
    return str(found[-1]) if found else shutil.which(name)


def _tool(variable: str, name: str, pattern: str) -> str:
    candidates = [os.environ.get(variable), _cached(name, pattern)]
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    return need_tool(f"{name} (bash scripts/build-ci-judges.sh)", found)


@pytest.fixture(scope="module")
def actionlint() -> str:
    return _tool("ACTIONLINT", "actionlint", "actionlint-*/actionlint")


@pytest.fixture(scope="module")
def atlantis_judge() -> str:
    return _tool("ATLANTIS_JUDGE", "atlantis-judge", "atlantis-judge-*/atlantis-judge")


@pytest.fixture(scope="module")
def check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which(
        "check-jsonschema")
    return need_tool("check-jsonschema (pip install -e '.[test]')", found)


@pytest.fixture(scope="module")
def shellcheck() -> str:
    found = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    return need_tool("shellcheck (pip install -e '.[test]')", found)


@pytest.fixture
def opted_in(reference_project: Path) -> Path:
    """The reference project with both pipelines switched on, rendered."""
    with reference_project.open("a", encoding="utf-8") as handle:
        handle.write(CI)
    api.render(reference_project)
    return reference_project


def test_pipelines_are_opt_in(tmp_path: Path) -> None:
    api.render(REPO / "environments.yaml", output=tmp_path / "out")
    assert not (tmp_path / "out" / ATLANTIS_PATH).exists()
    assert not (tmp_path / "out" / ".github").exists()


def test_pipelines_are_owned_and_kept_in_sync(opted_in: Path) -> None:
    out = opted_in.parent / "output"
    manifest = json.loads((out / ".tfgen-manifest.json").read_text(encoding="utf-8"))
    assert {WORKFLOW_PATH, ATLANTIS_PATH} <= set(manifest["files"])
    assert api.check(opted_in).in_sync
    # a change to the model changes the pipelines, and --check says so
    qa = ('  qa:\n    account_id: "555555555555"\n    sizing: micro\n'
          "    regions:\n      us-east-1: { vpc_cidr: 10.60.0.0/16, azs: [a, b] }\n")
    text = opted_in.read_text(encoding="utf-8").replace("  uat:\n", qa + "  uat:\n", 1)
    opted_in.write_text(text, encoding="utf-8")
    drift = api.check(opted_in)
    changed = {c.path for c in drift.changes if c.status == "changed"}
    assert {WORKFLOW_PATH, ATLANTIS_PATH} <= changed
    api.render(opted_in)
    workflow = yaml.safe_load((out / WORKFLOW_PATH).read_text(encoding="utf-8"))
    assert "plan-qa" in workflow["jobs"] and "apply-qa" in workflow["jobs"]
    # a hand edit is reported, not overwritten
    (out / ATLANTIS_PATH).write_text("version: 3\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["render", "--check", "-c", str(opted_in)])
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if ATLANTIS_PATH in line and "hand-edited" in line]
    # switching the pipelines off prunes them
    opted_in.write_text(opted_in.read_text(encoding="utf-8").split("\nci:\n")[0] + "\n", encoding="utf-8")
    (out / ATLANTIS_PATH).unlink()
    api.render(opted_in)
    assert not (out / WORKFLOW_PATH).exists() and not (out / ".github").exists()


def test_bad_ci_keys_are_one_line_errors(reference_project: Path) -> None:
    with reference_project.open("a", encoding="utf-8") as handle:
        handle.write("ci:\n  project_path: ../elsewhere\n  github_actions: { plan_role: 'has space' }\n")
    result = CliRunner().invoke(main, ["validate", "-c", str(reference_project)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if "ci." in line]
    assert len(lines) == 2, result.output
    assert any("ci.project_path" in line and "without '..'" in line for line in lines)
    assert any("ci.github_actions.plan_role" in line and "IAM role" in line for line in lines)


def _workflow(opted_in: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((opted_in.parent / "output" / WORKFLOW_PATH).read_text("utf-8"),
                                       Loader=yaml.BaseLoader)
    return loaded


def test_the_workflow_follows_the_model(opted_in: Path) -> None:
    workflow = _workflow(opted_in)
    jobs = workflow["jobs"]
    project = api.load(opted_in).project
    names = [e.name for e in project.environments]
    assert list(jobs) == ["affected", *(f"plan-{n}" for n in names), *(f"apply-{n}" for n in names)]
    for env in project.environments:
        plan, apply = jobs[f"plan-{env.name}"], jobs[f"apply-{env.name}"]
        roles = [s["with"]["role-to-assume"] for job in (plan, apply) for s in job["steps"] if "with" in s
                 and "role-to-assume" in s["with"]]
        assert roles == [f"arn:aws:iam::{env.account_id}:role/ci-plan", f"arn:aws:iam::{env.account_id}:role/ci-apply"]
        assert plan["permissions"]["id-token"] == "write" and "environment" not in plan
        assert apply["environment"] == env.name
        guard = [s for s in apply["steps"] if "required reviewers" in s.get("name", "")]
        assert bool(guard) == env.deletion_protection, env.name
        assert "gh pr comment" in plan["steps"][-1]["run"]
    assert jobs["apply-staging"]["needs"] == ["affected", "apply-dev"]
    used = [s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s]
    assert used and all(u.split("@")[1].startswith("v") and u.split("@")[1].count(".") == 2 for u in used), used


def test_actionlint_accepts_the_workflow(opted_in: Path, actionlint: str, shellcheck: str, tmp_path: Path) -> None:
    path = opted_in.parent / "output" / WORKFLOW_PATH
    env = {**os.environ, "PATH": f"{Path(shellcheck).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run([actionlint, "-verbose", str(path)], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Rule "shellcheck" was disabled' not in result.stderr  # the run: scripts were checked
    # the judge is live: a broken copy fails
    broken = tmp_path / "broken.yml"
    broken.write_text(path.read_text("utf-8").replace("needs.affected.outputs.apply-dev", "needs.affected.outputs.nope",
                                                      1), encoding="utf-8")
    failed = subprocess.run([actionlint, str(broken)], capture_output=True, text=True, env=env, check=False)
    assert failed.returncode == 1 and "nope" in failed.stdout


def test_the_github_workflow_schema_accepts_the_workflow(opted_in: Path, check_jsonschema: str, tmp_path: Path) -> None:
    path = opted_in.parent / "output" / WORKFLOW_PATH
    command = [check_jsonschema, "--builtin-schema", "vendor.github-workflows"]
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(path.read_text("utf-8").replace("runs-on:", "runs_on:", 1), encoding="utf-8")
    assert subprocess.run([*command, str(broken)], capture_output=True, check=False).returncode == 1


def test_atlantis_parses_one_project_per_unit(opted_in: Path, atlantis_judge: str, tmp_path: Path) -> None:
    path = opted_in.parent / "output" / ATLANTIS_PATH
    result = subprocess.run([atlantis_judge, str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    parsed = json.loads(result.stdout)
    project = api.load(opted_in).project
    assert parsed["workflows"] == ["terragrunt"]
    by_dir = {p["dir"]: p for p in parsed["projects"]}
    assert len(by_dir) == len(parsed["projects"]) == len(project.units)
    names = {p["name"]: p for p in parsed["projects"]}
    for unit in project.units:
        entry = by_dir[f"output/{unit.directory}"]
        assert entry["workflow"] == "terragrunt" and entry["autoplan_enabled"] is True
        expected = ["approved", "mergeable"] if unit.environment.deletion_protection else None
        assert entry["apply_requirements"] == expected, unit.address
        targets = [names[n] for n in entry["depends_on"] or []]
        assert sorted(t["dir"] for t in targets) == sorted(
            f"output/{w.target.directory}" for w in project.wiring[unit.key])
        assert all(t["execution_order_group"] < entry["execution_order_group"] for t in targets)
    broken = tmp_path / "atlantis.yaml"
    broken.write_text(path.read_text("utf-8").replace("apply_requirements: [approved,", "apply_requirements: [bogus,"),
                      encoding="utf-8")
    assert subprocess.run([atlantis_judge, str(broken)], capture_output=True, check=False).returncode == 1


def _terragrunt() -> str:
    return need_tool("terragrunt", find_tool("terragrunt"))


@pytest.mark.parametrize("style", ["classic", "single-include"])
def test_when_modified_is_exactly_what_terragrunt_says_each_unit_reads(
    reference_project: Path, tmp_path: Path, style: str
) -> None:
    """Style single-include: no root.hcl, and the values files read with read_tfvars_file,
    which Terragrunt counts as read as it does read_terragrunt_config."""
    with reference_project.open("a", encoding="utf-8") as handle:
        handle.write(CI + f"style: {style}\n")
    api.render(reference_project)
    terragrunt = _terragrunt()
    tree = tmp_path / "tree"
    shutil.copytree(reference_project.parent / "output", tree)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"TG_NON_INTERACTIVE": "true", "HOME": str(tmp_path), "TG_LOG_LEVEL": "error"})
    found = subprocess.run([terragrunt, "find", "--json", "--reading"], cwd=tree, capture_output=True, text=True,
                           env=env, check=True, timeout=300)
    reading = {u["path"]: {*u["reading"], f"{u['path']}/terragrunt.hcl"} for u in json.loads(found.stdout)
               if u["type"] == "unit"}
    atlantis = yaml.safe_load((tree / ATLANTIS_PATH).read_text("utf-8"))
    listed = {}
    for entry in atlantis["projects"]:
        directory = entry["dir"].removeprefix("output/")
        resolved = {os.path.normpath(PurePosixPath(directory, p).as_posix())
                    for p in entry["autoplan"]["when_modified"]}
        assert all((tree / p).is_file() for p in resolved), entry["name"]
        listed[directory] = resolved
    assert listed == reading


GOLDEN = CASES / "ci-pipelines" / "expected"


def test_the_golden_pipelines_pass_their_judges(actionlint: str, shellcheck: str, check_jsonschema: str,
                                                atlantis_judge: str) -> None:
    """The committed pipelines of tests/cases/ci-pipelines (project in infra/live,
    branch trunk, own role names) pass the same judges."""
    workflow = GOLDEN / WORKFLOW_PATH
    env = {**os.environ, "PATH": f"{Path(shellcheck).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    linted = subprocess.run([actionlint, str(workflow)], capture_output=True, text=True, env=env, check=False)
    assert linted.returncode == 0, linted.stdout
    schema = subprocess.run([check_jsonschema, "--builtin-schema", "vendor.github-workflows", str(workflow)],
                            capture_output=True, text=True, check=False)
    assert schema.returncode == 0, schema.stdout
    parsed = subprocess.run([atlantis_judge, str(GOLDEN / ATLANTIS_PATH), "trunk"], capture_output=True, text=True,
                            check=False)
    assert parsed.returncode == 0, parsed.stderr
    projects = json.loads(parsed.stdout)["projects"]
    assert len(projects) == 8 and all(p["dir"].startswith("infra/live/output/environments/") for p in projects)
    loaded = yaml.load(workflow.read_text("utf-8"), Loader=yaml.BaseLoader)
    assert loaded["on"]["push"]["branches"] == ["trunk"]
    assert loaded["env"]["TREE"] == "infra/live/output"
    roles = {s["with"]["role-to-assume"] for job in loaded["jobs"].values() for s in job["steps"]
             if "role-to-assume" in s.get("with", {})}
    assert roles == {"arn:aws:iam::210987654321:role/gha-plan", "arn:aws:iam::210987654321:role/gha-apply",
                     "arn:aws:iam::123456789012:role/gha-plan", "arn:aws:iam::123456789012:role/gha-apply"}


FAKE_TERRAGRUNT = r"""#!/usr/bin/env bash
# Records each call; with --json-out-dir, writes a plan of one create, one update and one
# replacement for every filtered unit, where Terragrunt would write it.
echo "$PWD|$*" >> "$TG_LOG"
out="" dirs=() args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --json-out-dir) out="${args[$((i + 1))]}" ;;
    --filter=*) dirs+=("${args[$i]#--filter=./}") ;;
  esac
done
if [ -n "$out" ]; then
  for dir in "${dirs[@]}"; do
    mkdir -p "$out/$dir"
    echo '{"resource_changes": [{"change": {"actions": ["create"]}}, {"change": {"actions": ["update"]}},
           {"change": {"actions": ["delete", "create"]}}]}' > "$out/$dir/tfplan.json"
  done
fi
"""
FAKE_GH = """#!/usr/bin/env bash
echo "$*" >> "$GH_LOG"
"""


def _run_step(workflow: dict[str, Any], job: str, step_name: str, root: Path, env: dict[str, str]) -> None:
    """Run one step's script as GitHub does with `shell: bash`, with the workflow's,
    the job's and the step's env."""
    (step,) = [s for s in workflow["jobs"][job]["steps"] if s.get("name", "").startswith(step_name)]
    script = root / ".step.sh"
    script.write_text(step["run"], encoding="utf-8")
    full = {**os.environ, **workflow["env"], **workflow["jobs"][job].get("env", {}), **step.get("env", {}), **env}
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=root, env=full,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _change(tmp_path: Path, old: str, new: str, edit: Callable[[Path], None] | None = None) -> tuple[
        Path, str, dict[str, Any], dict[str, str]]:
    """The reference project with pipelines, committed, then *old* replaced by *new* in
    environments.yaml (and *edit* run on environments.yaml), rendered and committed:
    (repository, base commit, the workflow, the runner's environment with recording
    terragrunt and gh first on PATH)."""
    need_tool("jq", shutil.which("jq"))
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(REPO / "environments.yaml", root / "environments.yaml")
    shutil.copytree(REPO / "catalog", root / "catalog")
    with (root / "environments.yaml").open("a", encoding="utf-8") as handle:
        handle.write(CI)
    git(root, "init", "-q", "-b", "main")
    api.render(root / "environments.yaml")
    assert (root / WORKFLOW_PATH).is_file()  # at the repository root, where GitHub reads it
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD")
    config = root / "environments.yaml"
    text = config.read_text("utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), "utf-8")
    if edit is not None:
        edit(config)
    api.render(config, allow_orphan=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the change")
    head = git(root, "rev-parse", "HEAD")
    workflow = yaml.load((root / WORKFLOW_PATH).read_text("utf-8"), Loader=yaml.BaseLoader)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("terragrunt", FAKE_TERRAGRUNT), ("gh", FAKE_GH)):
        (bin_dir / name).write_text(script, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    temp = tmp_path / "runner"
    temp.mkdir()
    common = {"PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
              "RUNNER_TEMP": str(temp), "GITHUB_OUTPUT": str(tmp_path / "outputs"),
              "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_SHA": head,
              "TG_LOG": str(tmp_path / "terragrunt.log"), "GH_LOG": str(tmp_path / "gh.log")}
    _run_step(workflow, "affected", "Affected units", root, {**common, "BASE": base})
    return root, base, workflow, common


def _outputs(common: dict[str, str]) -> dict[str, str]:
    return dict(line.split("=", 1) for line in Path(common["GITHUB_OUTPUT"]).read_text("utf-8").splitlines())


def test_the_workflow_scripts_do_what_they_say(tmp_path: Path) -> None:
    """The affected, plan and apply scripts, run by bash on a real change of the
    reference project, with Terragrunt and gh replaced by recorders."""
    root, base, workflow, common = _change(tmp_path, "db_instance_class: db.r6g.large",
                                           "db_instance_class: db.r6g.xlarge")
    temp, summary = Path(common["RUNNER_TEMP"]), Path(common["GITHUB_STEP_SUMMARY"])
    found = _outputs(common)
    prefix = "environments/prod/{}/{}"
    # The primary first; its service, alarms and events with the DR replica that follows
    # it; then what reads the replica.
    dependents = ("04-apps/orders-api", "05-monitoring/cpu-alarm-database", "05-monitoring/storage-alarm-database",
                  "05-monitoring/cpu-alarm-cluster", "05-monitoring/events")
    waves = [
        [prefix.format("us-east-1", "02-data/rds")],
        [*(prefix.format("us-east-1", d) for d in dependents), prefix.format("eu-west-1", "02-data/rds")],
        [prefix.format("eu-west-1", d) for d in dependents],
    ]
    assert json.loads(found["apply-prod"]) == waves
    assert all(found[f"{a}-{e}"] == "[]" for a in ("apply", "destroy") for e in ("dev", "staging", "uat"))
    assert "local.env.sizing.db_instance_class changed" in summary.read_text("utf-8")

    job_env = {"APPLY_WAVES": found["apply-prod"], "DESTROY_WAVES": found["destroy-prod"]}
    _run_step(workflow, "plan-prod", "Plan prod", root, {**common, **job_env, "PR_NUMBER": "7", "BASE_SHA": base})
    (plan_call,) = (tmp_path / "terragrunt.log").read_text("utf-8").splitlines()
    assert plan_call.startswith(f"{root / 'output'}|run --all --filter=./{prefix.format('us-east-1', '02-data/rds')} ")
    assert plan_call.count("--filter=") == 12 and plan_call.endswith("-- plan -input=false -lock-timeout=5m")
    table = (temp / "summary.md").read_text("utf-8")
    assert f"| {prefix.format('eu-west-1', '04-apps/orders-api')} | 2 | 1 | 1 |" in table
    assert (tmp_path / "gh.log").read_text("utf-8").startswith(f"pr comment 7 --body-file {temp / 'summary.md'}")

    # the real Terragrunt selects exactly the units of a wave with those filters
    terragrunt = _terragrunt()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"TG_NON_INTERACTIVE": "true", "HOME": str(tmp_path), "TG_LOG_LEVEL": "error"})
    for wave in json.loads(found["apply-prod"]):
        selected = subprocess.run([terragrunt, "find", *(f"--filter=./{d}" for d in wave)], cwd=root / "output",
                                  capture_output=True, text=True, env=env, check=True, timeout=120)
        assert sorted(selected.stdout.split()) == sorted(wave)

    (tmp_path / "terragrunt.log").unlink()
    _run_step(workflow, "apply-prod", "Apply prod", root, {**common, **job_env})
    calls = (tmp_path / "terragrunt.log").read_text("utf-8").splitlines()
    assert [c.split("|", 1)[1] for c in calls] == [
        "run --all " + " ".join(f"--filter=./{d}" for d in wave) + " -- apply -input=false -lock-timeout=5m"
        for wave in waves
    ]


def test_the_workflow_destroys_removed_units_from_the_base_revision(tmp_path: Path) -> None:
    root, base, workflow, common = _change(tmp_path, "orders HTTP API\n    environments: [staging, uat, prod]",
                                           "orders HTTP API\n    environments: [uat, prod]")
    found = _outputs(common)
    assert json.loads(found["destroy-staging"]) == [["environments/staging/us-east-1/04-apps/orders-api"]]
    assert found["apply-staging"] == "[]"
    job_env = {"APPLY_WAVES": found["apply-staging"], "DESTROY_WAVES": found["destroy-staging"]}
    _run_step(workflow, "apply-staging", "Destroy removed units of staging", root, {**common, **job_env,
                                                                                     "BEFORE": base})
    (call,) = Path(common["TG_LOG"]).read_text("utf-8").splitlines()
    where = Path(common["RUNNER_TEMP"]) / "base" / "output"
    assert call == (f"{where}|run --all --filter=./environments/staging/us-east-1/04-apps/orders-api "
                    "-- destroy -input=false -lock-timeout=5m")
    assert (where / "environments/staging/us-east-1/04-apps/orders-api/terragrunt.hcl").is_file()  # the base tree


def test_the_workflow_never_destroys_a_renamed_unit(tmp_path: Path) -> None:
    """alerts renamed alerts-topic with previous: alerts. The workflow's own scripts,
    run on what `tfgen affected` says: no destroy anywhere; each moved unit is applied
    in its new directory (its state key is the old one), with the alarms that read it."""
    root, base, workflow, common = _change(tmp_path, "\n", "\n", rename_alerts)
    found = _outputs(common)
    assert {k: v for k, v in found.items() if k.startswith("destroy-")} == {
        f"destroy-{e}": "[]" for e in ("dev", "staging", "uat", "prod")}
    moved = "environments/dev/us-east-1/05-monitoring/alerts-topic"
    alarms = [f"environments/dev/us-east-1/05-monitoring/{u}" for u in ALARMS]
    assert json.loads(found["apply-dev"]) == [[moved], alarms]
    for env in ("dev", "staging"):  # unprotected: the destroy step exists and is skipped
        steps = workflow["jobs"][f"apply-{env}"]["steps"]
        (step,) = [s for s in steps if s.get("name", "").startswith("Destroy removed")]
        assert step["if"] == "env.DESTROY_WAVES != '[]'"
    job_env = {"APPLY_WAVES": found["apply-dev"], "DESTROY_WAVES": found["destroy-dev"]}
    # Even run regardless of its condition, the destroy step destroys nothing.
    _run_step(workflow, "apply-dev", "Destroy removed units of dev", root, {**common, **job_env, "BEFORE": base})
    assert not Path(common["TG_LOG"]).exists()
    _run_step(workflow, "apply-dev", "Apply dev", root, {**common, **job_env})
    calls = [c.split("|", 1)[1] for c in Path(common["TG_LOG"]).read_text("utf-8").splitlines()]
    assert calls == [f"run --all --filter=./{moved} -- apply -input=false -lock-timeout=5m",
                     "run --all " + " ".join(f"--filter=./{d}" for d in alarms) + " -- apply -input=false "
                     "-lock-timeout=5m"]
    assert "destroy" not in Path(common["GITHUB_STEP_SUMMARY"]).read_text("utf-8").split("\n", 1)[1]


# --- where the workflow lives (ci.github_actions.path) ------------------------------------


def _repository(tmp_path: Path, ci: str | None = None) -> tuple[Path, Path]:
    """The ci-pipelines case at infra/live of a new git repository (its ci.project_path),
    with a hand-written file at the root; (repository, environments.yaml)."""
    root = tmp_path / "repo"
    project = root / "infra" / "live"
    shutil.copytree(CASES / "ci-pipelines", project, ignore=shutil.ignore_patterns("expected*"))
    if ci is not None:
        config = project / "environments.yaml"
        config.write_text(config.read_text("utf-8").replace("    apply_role: gha-apply\n",
                                                            f"    apply_role: gha-apply\n{ci}"), "utf-8")
    (root / "README.md").write_text("hand-written\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    return root, project / "environments.yaml"


def test_the_workflow_is_rendered_where_github_reads_it_and_owned_there(tmp_path: Path) -> None:
    root, config = _repository(tmp_path)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "lint.yml").write_text("name: lint\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["render", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert "ci.github_actions" not in result.output  # no warning
    workflow = root / WORKFLOW_PATH
    out = config.parent / "output"
    assert workflow.is_file() and not (out / ".github").exists()
    manifest = json.loads((out / ".tfgen-manifest.json").read_text("utf-8"))["files"]
    assert "../../../.github/workflows/terragrunt.yml" in manifest and ATLANTIS_PATH in manifest
    loaded = yaml.load(workflow.read_text("utf-8"), Loader=yaml.BaseLoader)
    assert loaded["env"]["TREE"] == "infra/live/output"
    assert api.check(config).in_sync
    # A hand edit there is drift, reported and never overwritten without --force.
    workflow.write_text(workflow.read_text("utf-8") + "# mine\n", encoding="utf-8")
    check = CliRunner().invoke(main, ["render", "--check", "-c", str(config)])
    assert check.exit_code == 1
    assert "hand-edited  ../../../.github/workflows/terragrunt.yml  (edited by hand;" in check.output
    refused = CliRunner().invoke(main, ["render", "-c", str(config)])
    assert refused.exit_code == 1 and workflow.read_text("utf-8").endswith("# mine\n")
    assert CliRunner().invoke(main, ["render", "-c", str(config), "--force"]).exit_code == 0
    assert not workflow.read_text("utf-8").endswith("# mine\n")
    # Switched off, it goes; the repository's own files and directories stay.
    config.write_text(config.read_text("utf-8").split("\nci:\n")[0] + "\n", encoding="utf-8")
    assert CliRunner().invoke(main, ["render", "-c", str(config)]).exit_code == 0
    assert not workflow.exists()
    assert (root / ".github" / "workflows" / "lint.yml").read_text("utf-8") == "name: lint\n"
    assert (root / "README.md").is_file()


def test_a_workflow_tfgen_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    root, config = _repository(tmp_path)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / WORKFLOW_PATH).write_text("name: mine\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["render", "-c", str(config)])
    assert result.exit_code == 1
    assert ".github/workflows/terragrunt.yml: exists but tfgen did not write it" in result.output
    assert (root / WORKFLOW_PATH).read_text("utf-8") == "name: mine\n"
    assert not [p for p in (config.parent / "output").rglob("*") if p.is_file()]  # nothing written


def test_the_workflow_path_and_in_output(tmp_path: Path) -> None:
    root, config = _repository(tmp_path / "a", "    path: .github/workflows/infra.yml\n")
    assert CliRunner().invoke(main, ["render", "-c", str(config)]).exit_code == 0
    assert (root / ".github/workflows/infra.yml").is_file() and not (root / WORKFLOW_PATH).exists()
    # in_output: the old way, a copy to keep in sync by hand (the first job compares them)
    root, config = _repository(tmp_path / "b", "    in_output: true\n")
    result = CliRunner().invoke(main, ["render", "-c", str(config)])
    assert result.exit_code == 0 and "ci.github_actions" not in result.output
    assert (config.parent / "output" / WORKFLOW_PATH).is_file() and not (root / ".github").exists()
    workflow = yaml.load((config.parent / "output" / WORKFLOW_PATH).read_text("utf-8"), Loader=yaml.BaseLoader)
    (check,) = [s for s in workflow["jobs"]["affected"]["steps"] if s.get("name", "").startswith("The tree")]
    assert 'cmp -- "$TREE/.github/workflows/terragrunt.yml" ".github/workflows/terragrunt.yml"' in check["run"]
    # A path GitHub would not read is refused, located.
    root, config = _repository(tmp_path / "c", "    path: ../workflows/x.yml\n")
    result = CliRunner().invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "ci.github_actions.path: " in result.output and "in .github/workflows/" in result.output


def test_without_a_repository_the_workflow_stays_in_the_tree_and_a_warning_says_so(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(CASES / "ci-pipelines", project, ignore=shutil.ignore_patterns("expected*"))
    result = CliRunner().invoke(main, ["render", "-c", str(project / "environments.yaml")])
    assert result.exit_code == 0, result.output
    assert (project / "output" / WORKFLOW_PATH).is_file()
    (line,) = [line for line in result.output.splitlines() if "ci.github_actions: warning" in line]
    assert line.startswith(f"{project / 'environments.yaml'}:")
    assert f"no git repository holds {project}" in line
    assert "copy it to .github/workflows/terragrunt.yml at the repository root" in line


def test_a_killed_write_of_the_workflow_leaves_no_temporary_file_at_the_repository_root(tmp_path: Path) -> None:
    root, config = _repository(tmp_path)
    assert CliRunner().invoke(main, ["render", "-c", str(config)]).exit_code == 0
    out, workflow = config.parent / "output", root / WORKFLOW_PATH
    outside = "../../../" + WORKFLOW_PATH
    # As a render killed between its journal and its renames leaves them:
    (out / JOURNAL).write_bytes(journal_bytes({outside: [digest(workflow.read_bytes())]}))
    leftover = workflow.parent / f".terragrunt.yml.x1y2{TEMP_SUFFIX}"
    leftover.write_text("half", encoding="utf-8")
    other = workflow.parent / f".lint.yml.x1y2{TEMP_SUFFIX}"  # not tfgen's: another file's name
    other.write_text("keep", encoding="utf-8")
    assert CliRunner().invoke(main, ["render", "-c", str(config)]).exit_code == 0
    assert not leftover.exists() and other.exists() and not (out / JOURNAL).exists()
