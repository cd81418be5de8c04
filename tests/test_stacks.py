"""style: stacks renders the same infrastructure as style: classic, and Terragrunt says so.

The judge is the real client: the classic tree of every golden project (and of the
reference project) and its stacks tree go through ``terragrunt stack generate`` and
``terragrunt render --all --json``; every unit must evaluate to the same inputs, source,
remote state (state key included), dependencies, generated provider and prevent_destroy.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import ArgumentError, api
from generator.cli import main
from generator.output.state import MANIFEST
from generator.output.sync import RenderResult
from generator.rendering import stacks

from .conftest import CASES, REPO, need_tool, tree, without_fingerprint
from .judges import hcl_files, hclfmt_check
from .realclient import Client, find_tool
from .stacks_judge import evaluate

GOLDEN = sorted(p.parent.name for p in CASES.glob("*/expected"))
PROJECTS = [*GOLDEN, "reference"]


@pytest.fixture(scope="module")
def terragrunt() -> Client:
    """The shared Terragrunt client (tests/realclient.py): scripts/build-tools.sh's binaries."""
    found = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    return Client(found, tofu)


def config_of(name: str) -> Path:
    return REPO / "environments.yaml" if name == "reference" else CASES / name / "environments.yaml"


def classic_tree(name: str) -> Path:
    return REPO / "output" if name == "reference" else CASES / name / "expected"


def render_style(name: str, style: str, out: Path, **options: Any) -> RenderResult:
    return api.render(config_of(name), output=out, style=style, **options)


def project_of(name: str, style: str = "classic") -> Any:
    return replace(api.load(config_of(name)).project, style=style)


@pytest.mark.parametrize("name", PROJECTS)
def test_both_styles_evaluate_to_the_same_units(name: str, tmp_path: Path, terragrunt: Client) -> None:
    stacks_out = tmp_path / "stacks"
    render_style(name, "stacks", stacks_out)
    classic = evaluate(classic_tree(name), tmp_path / "classic-eval", terragrunt)
    stacked = evaluate(stacks_out, tmp_path / "stacks-eval", terragrunt)
    project = project_of(name, "stacks")
    assert sorted(classic) == sorted(u.directory for u in project.units), "classic: one rendered unit per unit"
    assert sorted(stacked) == sorted(stacks.generated_directory(u, project) for u in project.units)
    for unit in project.units:
        assert stacked[stacks.generated_directory(unit, project)] == classic[unit.directory], unit.address
    # the check is not vacuous: the projects have inputs, dependencies and state keys to compare
    assert all(f["remote_state"]["config"]["key"].endswith("/terraform.tfstate") for f in stacked.values())
    assert any(f["dependencies"] for f in stacked.values()) or name == "minimal"


def test_dot_terragrunt_stack_moves_only_the_state_keys(tmp_path: Path, terragrunt: Client) -> None:
    """no_dot_terragrunt_stack: false generates under .terragrunt-stack/: the same units,
    dependencies pointing at the moved directories, and the new state keys tfgen predicts."""
    source = tmp_path / "project"
    shutil.copytree(CASES / "every-key", source, ignore=shutil.ignore_patterns("expected"))
    config = source / "environments.yaml"
    config.write_text(config.read_text() + "\nstacks: { no_dot_terragrunt_stack: false }\n")
    api.render(config, output=tmp_path / "stacks", style="stacks")
    stacked = evaluate(tmp_path / "stacks", tmp_path / "eval-stacks", terragrunt)
    classic = evaluate(CASES / "every-key" / "expected", tmp_path / "eval-classic", terragrunt)
    project = replace(api.load(config).project, style="stacks")
    moved = {u.directory: stacks.generated_directory(u, project) for u in project.units}
    assert all("/.terragrunt-stack/" in d for d in moved.values())
    for unit in project.units:
        got = stacked[moved[unit.directory]]
        want = json.loads(json.dumps(classic[unit.directory]))
        want["dependencies"] = {k: moved[v] for k, v in want["dependencies"].items()}
        want["ordering"] = sorted(moved[v] for v in want["ordering"])
        want["remote_state"]["config"]["key"] = stacks.state_key(unit, project)
        assert got == want, unit.address


# --- switching an existing classic tree to stacks -----------------------------------


def test_switch_refuses_until_confirmed_and_keeps_state_keys(reference_project: Path, runner: CliRunner) -> None:
    out = reference_project.parent / "output"
    before = tree(out)
    result = runner.invoke(main, ["render", "-c", str(reference_project), "--style", "stacks"])
    assert result.exit_code == 1, result.output
    assert "render refused to drop the classic tree" in result.output
    assert "State keys stay the same for all 78 units: no state moves." in result.output
    assert "--switch-style" in result.output
    assert tree(out) == before  # nothing written
    result = runner.invoke(main, ["render", "-c", str(reference_project), "--style", "stacks", "--switch-style"])
    assert result.exit_code == 0, result.output
    assert "no state moves" in result.output and "terragrunt stack generate" in result.output
    after = tree(out)
    assert not any(p.startswith("_envcommon/") for p in after)
    assert not any(p.endswith("/terragrunt.hcl") and p.startswith("environments/") for p in after)
    assert after["root.hcl"] == before["root.hcl"]  # shared files are the classic ones
    assert after["environments/prod/env.hcl"] == before["environments/prod/env.hcl"]
    # prod and uat are protected, yet their classic files went: the units are still there
    assert "environments/prod/us-east-1/terragrunt.stack.hcl" in after
    manifest = json.loads(after[MANIFEST])
    assert set(manifest["files"]) == set(after) - {MANIFEST}
    assert manifest["protected"] == ["prod", "uat"]
    # and back: the classic tree again needs the same confirmation
    back = runner.invoke(main, ["render", "-c", str(reference_project)])
    assert back.exit_code == 1 and "render refused to drop the stacks tree" in back.output
    back = runner.invoke(main, ["render", "-c", str(reference_project), "--switch-style"])
    assert back.exit_code == 0, back.output
    assert without_fingerprint(tree(out)) == without_fingerprint(before)


def test_a_dry_run_refuses_the_switch_as_the_render_does(reference_project: Path, runner: CliRunner) -> None:
    """--dry-run previews the render: a switch the render would refuse fails it too (exit 1,
    the same refusal), and passes with --switch-style; nothing is written either way."""
    out = reference_project.parent / "output"
    before = tree(out)
    args = ["render", "-c", str(reference_project), "--style", "stacks", "--dry-run"]
    refused = runner.invoke(main, args)
    assert refused.exit_code == 1, refused.output
    assert ("render refused to drop the classic tree (94 files of 78 units): style: stacks replaces it "
            "(pass --switch-style to confirm)") in refused.stderr
    assert "render would refuse: nothing would be written to" in refused.stderr
    as_json = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    assert (as_json["exit_code"], [e["rule"] for e in as_json["errors"]]) == (1, ["style-switch"])
    confirmed = runner.invoke(main, [*args, "--switch-style"])
    assert confirmed.exit_code == 0, confirmed.output
    assert "render refused" not in confirmed.output
    assert tree(out) == before


def test_switch_prints_the_exact_state_moves(reference_project: Path, runner: CliRunner) -> None:
    text = reference_project.read_text() + "\nstacks: { no_dot_terragrunt_stack: false }\n"
    reference_project.write_text(text)
    result = runner.invoke(main, ["render", "-c", str(reference_project), "--style", "stacks", "--format", "json"])
    assert result.exit_code == 1
    envelope = json.loads(result.output)
    assert envelope["command"] == "render" and not envelope["ok"]
    assert [e["rule"] for e in envelope["errors"]] == ["style-switch"]
    assert "(pass --switch-style to confirm)" in envelope["errors"][0]["message"]
    moves = envelope["result"]["style_switch"]["state_moves"]
    assert len(moves) == 78
    assert {
        "unit": "prod/eu-west-1/rds",
        "bucket": "terragrunt-starter-444444444444-eu-west-1-tfstate",
        "from": "environments/prod/eu-west-1/02-data/rds/terraform.tfstate",
        "to": "environments/prod/eu-west-1/.terragrunt-stack/02-data/rds/terraform.tfstate",
    } in moves
    text_result = runner.invoke(main, ["render", "-c", str(reference_project), "--style", "stacks"])
    assert (
        "  aws s3 mv s3://terragrunt-starter-111111111111-us-east-1-tfstate/environments/dev/us-east-1/01-network/vpc/"
        "terraform.tfstate s3://terragrunt-starter-111111111111-us-east-1-tfstate/environments/dev/us-east-1/"
        ".terragrunt-stack/01-network/vpc/terraform.tfstate"
    ) in text_result.output


def test_a_new_project_in_stacks_style_needs_no_confirmation(tmp_path: Path) -> None:
    result = render_style("minimal", "stacks", tmp_path / "out")
    assert result.switch is None and result.written
    assert sorted(tree(tmp_path / "out")) == [
        MANIFEST,
        "_units/networking/vpc/terragrunt.hcl",
        "environments/dev/env.hcl",
        "environments/dev/eu-central-1/region.hcl",
        "environments/dev/eu-central-1/terragrunt.stack.hcl",
        "root.hcl",
    ]


# --- check, diff, manifest, explain and graph on both styles ---------------------------


@pytest.mark.parametrize("style", ["classic", "stacks"])
def test_check_and_diff_work_on_both_styles(style: str, tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "project"
    shutil.copytree(CASES / "every-key", source, ignore=shutil.ignore_patterns("expected"))
    config = source / "environments.yaml"
    config.write_text(config.read_text() + f"\nstyle: {style}\n")
    assert runner.invoke(main, ["render", "-c", str(config)]).exit_code == 0
    check = runner.invoke(main, ["render", "-c", str(config), "--check"])
    assert check.exit_code == 0, check.output
    config.write_text(config.read_text().replace("replicas: 2", "replicas: 4"))
    check = runner.invoke(main, ["render", "-c", str(config), "--check"])
    assert check.exit_code == 1 and "changed      environments/test/env.hcl" in check.output
    diff = runner.invoke(main, ["render", "-c", str(config), "--diff"])
    assert diff.exit_code == 0 and "-    replicas          = 2\n+    replicas          = 4" in diff.output
    manifest = json.loads((source / "output" / MANIFEST).read_text())
    rendered = set(tree(source / "output")) - {MANIFEST}
    assert set(manifest["files"]) == rendered
    marker = "terragrunt.stack.hcl" if style == "stacks" else "_envcommon/"
    assert any(marker in p for p in rendered)


def test_explain_names_the_stacks_files(reference_project: Path, runner: CliRunner) -> None:
    text = reference_project.read_text() + "\nstyle: stacks\n"
    reference_project.write_text(text)
    result = runner.invoke(main, ["explain", "-c", str(reference_project), "prod/us-east-1/orders-api"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "environments/prod/us-east-1/terragrunt.stack.hcl" in out
    assert "_units/services/ecs-service/terragrunt.hcl" in out
    assert "_envcommon" not in out and "04-apps/orders-api/terragrunt.hcl" not in out
    assert "desired_count = local.region.settings.service_min_tasks" in out
    classic = runner.invoke(
        main, ["explain", "-c", str(reference_project), "--style", "classic", "prod/us-east-1/orders-api"]
    )
    assert "environments/prod/us-east-1/04-apps/orders-api/terragrunt.hcl" in classic.output


def test_graph_is_the_same_on_both_styles_except_directories(reference_project: Path, runner: CliRunner) -> None:
    classic = runner.invoke(main, ["graph", "-c", str(reference_project), "--format", "json"])
    stacked = runner.invoke(main, ["graph", "-c", str(reference_project), "--format", "json", "--style", "stacks"])
    assert classic.exit_code == 0 and stacked.exit_code == 0
    assert json.loads(classic.output) == json.loads(stacked.output)  # no_dot: the same directories
    text = runner.invoke(main, ["graph", "-c", str(reference_project), "--style", "stacks"])
    assert ("prod/eu-west-1/orders-api                 needs ecs-cluster, ecs-capacity, vpc, sg-service, alb, rds"
            in text.output)
    reference_project.write_text(reference_project.read_text() + "\nstacks: { no_dot_terragrunt_stack: false }\n")
    hidden = runner.invoke(main, ["graph", "-c", str(reference_project), "--format", "json", "--style", "stacks"])
    assert "environments/prod/eu-west-1/.terragrunt-stack/04-apps/orders-api" in hidden.output
    explained = runner.invoke(
        main, ["explain", "-c", str(reference_project), "--style", "stacks", "--format", "json", "prod/us-east-1/rds"]
    )
    document = json.loads(explained.output)["result"]
    assert document["directory"] == "environments/prod/us-east-1/.terragrunt-stack/02-data/rds"
    assert document["dependencies"][0]["config_path"] == "../../01-network/vpc"  # both under .terragrunt-stack


def test_unit_bound_override_is_refused_in_stacks_style(tmp_path: Path, runner: CliRunner) -> None:
    source = tmp_path / "project"
    shutil.copytree(CASES / "minimal", source, ignore=shutil.ignore_patterns("expected"))
    config = source / "environments.yaml"
    text = config.read_text().replace(
        "  vpc: { module: networking/vpc }",
        "  vpc:\n    module: networking/vpc\n    inputs:\n      here: !hcl basename(get_terragrunt_dir())",
    )
    config.write_text(text)
    result = runner.invoke(main, ["render", "-c", str(config), "--style", "stacks"])
    assert result.exit_code == 2
    assert "environments.yaml:" in result.output and "units.vpc.inputs.here" in result.output
    assert "get_terragrunt_dir()" in result.output and "Traceback" not in result.output
    assert not (source / "output").exists()
    assert runner.invoke(main, ["render", "-c", str(config)]).exit_code == 0  # classic evaluates it in the unit
    config.write_text(text + "style: stacks\n")
    validated = runner.invoke(main, ["validate", "-c", str(config)])
    assert validated.exit_code == 2 and "units.vpc.inputs.here" in validated.output


def test_stacks_files_are_canonical(tmp_path: Path, hclfmt: str) -> None:
    for name in PROJECTS:
        render_style(name, "stacks", tmp_path / name)
        assert hclfmt_check(hclfmt, hcl_files(tmp_path / name)) == [], name


def test_classic_bytes_do_not_change(tmp_path: Path) -> None:
    for name in PROJECTS:
        render_style(name, "classic", tmp_path / name)
        rendered = tree(tmp_path / name)
        expected = tree(classic_tree(name))
        rendered.pop(MANIFEST)
        expected.pop(MANIFEST, None)
        assert rendered == expected, name


def test_back_to_classic_refuses_while_generated_units_are_there(reference_project: Path, runner: CliRunner) -> None:
    """A terragrunt.autoinclude.hcl left by stack generate would be merged into the classic
    unit: no flag makes tfgen render classic over it."""
    config = str(reference_project)
    assert runner.invoke(main, ["render", "-c", config, "--style", "stacks", "--switch-style"]).exit_code == 0
    unit = reference_project.parent / "output/environments/prod/us-east-1/02-data/rds"
    unit.mkdir(parents=True)
    (unit / "terragrunt.autoinclude.hcl").write_text('inputs = { x = "y" }\n')
    before = tree(reference_project.parent / "output")
    result = runner.invoke(main, ["render", "-c", config, "--switch-style", "--force"])
    assert result.exit_code == 1
    assert "02-data/rds/terragrunt.autoinclude.hcl: written by `terragrunt stack generate`" in result.output
    assert tree(reference_project.parent / "output") == before
    (unit / "terragrunt.autoinclude.hcl").unlink()
    assert runner.invoke(main, ["render", "-c", config, "--switch-style"]).exit_code == 0


@pytest.mark.parametrize(
    ("caption", "path"),
    [
        ("(`_units/services/ecs-service/terragrunt.hcl`, shortened):", "_units/services/ecs-service/terragrunt.hcl"),
        ("(`environments/prod/eu-west-1/terragrunt.stack.hcl`, shortened):",
         "environments/prod/eu-west-1/terragrunt.stack.hcl"),
    ],
)
def test_the_stacks_guide_shows_real_stacks_output(caption: str, path: str, tmp_path: Path) -> None:
    """Every line the Stacks guide quotes is in the rendered file, in the same order ("..." elides)."""
    readme = (REPO / "docs" / "guides" / "stacks.md").read_text(encoding="utf-8")
    block = readme.split(caption, 1)[1].split("```hcl\n", 1)[1].split("```", 1)[0]
    render_style("reference", "stacks", tmp_path / "out")
    lines = iter((tmp_path / "out" / path).read_text(encoding="utf-8").splitlines())
    for quoted in block.splitlines():
        if quoted.strip() == "...":
            continue
        assert any(line == quoted for line in lines), f"{path}: {quoted!r} not found (in order)"


def test_dropping_a_protected_unit_block_is_refused(reference_project: Path, runner: CliRunner) -> None:
    """In the stacks style a unit's rendered form is its block in the stack file: removing
    the unit from a protected environment rewrites that file, and render refuses it like the
    classic tree refuses deleting the unit's directory."""
    text = reference_project.read_text().replace("style: stacks\n", "") + "\nstyle: stacks\n"
    reference_project.write_text(text)
    config = str(reference_project)
    assert runner.invoke(main, ["render", "-c", config, "--switch-style"]).exit_code == 0
    reference_project.write_text(text.replace("environments: [staging, uat, prod]", "environments: [staging]"))
    out = reference_project.parent / "output"
    before = tree(out)
    result = runner.invoke(main, ["render", "-c", config])
    assert result.exit_code == 1
    assert "unit uat/us-east-1/orders-api was removed from the YAML" in result.output
    assert "unit prod/eu-west-1/orders-api was removed from the YAML" in result.output
    assert tree(out) == before
    assert runner.invoke(main, ["render", "-c", config, "--allow-orphan"]).exit_code == 0
    assert 'unit "orders-api"' not in (out / "environments/prod/us-east-1/terragrunt.stack.hcl").read_text()
    assert 'unit "orders-api"' in (out / "environments/staging/us-east-1/terragrunt.stack.hcl").read_text()


@pytest.mark.parametrize("name", GOLDEN)
def test_stacks_golden_trees(name: str, tmp_path: Path, update_golden: bool) -> None:
    """tests/cases/<name>/expected-stacks: the stacks tree, byte for byte (--update-golden rewrites it)."""
    render_style(name, "stacks", tmp_path / "out")
    rendered = tree(tmp_path / "out")
    rendered.pop(MANIFEST)
    expected_dir = CASES / name / "expected-stacks"
    if update_golden:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for path, data in rendered.items():
            (expected_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / path).write_bytes(data)
    expected = tree(expected_dir)
    assert sorted(rendered) == sorted(expected)
    for path, data in expected.items():
        assert rendered[path] == data, f"{name}: {path} differs (rerun with --update-golden if intended)"


def test_order_only_dependencies_are_paths_in_the_autoinclude(tmp_path: Path) -> None:
    """As in the classic leaf: a dependency whose outputs nothing reads is a `dependencies`
    path (Terragrunt never reads its state), one whose outputs are read a dependency block."""
    render_style("reference", "stacks", tmp_path / "out")
    stack = (tmp_path / "out" / "environments/prod/eu-west-1/terragrunt.stack.hcl").read_text()
    cluster = stack[stack.index('unit "ecs-cluster" {') : stack.index('unit "ecs-capacity" {')]
    # the cluster reads the instance group's ARN (its capacity provider), not the VPC's outputs
    assert "dependencies {\n      paths = [unit.vpc.path]\n    }" in cluster
    assert 'dependency "vpc"' not in cluster and 'dependency "capacity" {' in cluster
    classic = (REPO / "output/environments/prod/eu-west-1/03-services/ecs-cluster/terragrunt.hcl").read_text()
    assert 'paths = ["../../01-network/vpc"]' in classic and 'dependency "vpc"' not in classic
    assert 'dependency "capacity" {' in classic


def test_an_unknown_style_is_an_argument_error() -> None:
    with pytest.raises(ArgumentError) as raised:
        api.graph(REPO / "environments.yaml", style="nested")
    assert raised.value.diagnostics[0].message == "style nested: expected one of classic, single-include, stacks"
