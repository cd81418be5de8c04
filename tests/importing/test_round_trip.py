"""tfgen import on the test trees, with Terragrunt: the round trip (import, render,
evaluate both trees) is identical for every unit but the ones with hooks, whose one
difference is the hook; the imported project validates strictly and renders clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.importing.evaluate import find_tool
from tests.conftest import need_tool, tree
from tests.module_registry import ModuleRegistry, tar_gz

TREES = Path(__file__).parent / "trees"
#: Units that differ after the round trip, and why: hooks have no place in environments.yaml
#: (import warns at their line).
EXPECTED = {
    "accounts": {"nonprod/us-east-1/qa/app": {"terraform.after_hook.smoke"}},
    "envs": {"dev/us-east-1/service": {"terraform.before_hook.lint"}},
    # env/region/layer/unit, a _global directory, one unit name in two layers, a
    # dependency on another region, a local with logic: identical but the replica, whose
    # own generate block has no place in environments.yaml (import warns at its line).
    "layers": {"prod/eu-west-1/app/replica": {"generate.replica"}},
}


@pytest.fixture(scope="module", autouse=True)
def terragrunt() -> str:
    return need_tool("terragrunt", find_tool("terragrunt"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_round_trip_is_identical_but_for_hooks(name: str) -> None:
    before = tree(TREES / name)
    result = api.import_check(TREES / name)
    assert tree(TREES / name) == before  # nothing written into the source
    differing = {u.source: {d.attribute for d in u.differences} for u in result.comparisons if not u.identical}
    assert differing == EXPECTED[name]
    assert len(result.comparisons) == len(result.recovered.placements) > 5
    # Every state key is the source's: the layouts differ, so each unit keeps its key.
    assert sorted(result.recovered.kept_keys) == sorted(u.source for u in result.comparisons)
    unmodelled = [w for w in result.recovered.warnings if "hook" in w.message or "generate" in w.message]
    assert [(w.path.rsplit("/", 1)[0], w.line > 1) for w in unmodelled] == [(unit, True) for unit in EXPECTED[name]]


def _module(variables: list[str], outputs: list[str]) -> bytes:
    files = {"variables.tf": "".join(f'variable "{v}" {{\n  type    = any\n  default = null\n}}\n' for v in variables)}
    files["outputs.tf"] = "".join(f'output "{o}" {{\n  value = "x"\n}}\n' for o in outputs)
    return tar_gz(files)


COMMON = ["name", "account_name", "aws_account_id", "aws_region", "environment"]


def test_the_imported_project_validates_strictly_and_renders_clean_twice(tmp_path: Path) -> None:
    runner = CliRunner()
    project = tmp_path / "imported"
    result = runner.invoke(main, ["import", str(TREES / "accounts"), "-o", str(project)])
    assert result.exit_code == 0, result.output
    assert f"created {project}/environments.yaml" in result.output.replace(str(tmp_path) + "/", str(tmp_path) + "/")
    text = (project / "environments.yaml").read_text()
    # The module pinned to another version in prod is the catalog's 1.0.0 with prod's override.
    assert "version: 1.0.0" in (project / "catalog" / "live" / "vpc.yaml").read_text()
    assert "        version: 1.1.0\n" in text
    net = _module([*COMMON, "enable_nat_gateway", "tags", "cidr"], ["vpc_id", "subnet_ids"])
    packages = {
        ("acme", "net", "aws", "1.0.0"): net,
        ("acme", "net", "aws", "1.1.0"): net,
        ("acme", "app", "aws", "2.0.0"): _module([*COMMON, "instance_type", "vpc_id", "subnet_ids"], []),
    }
    config = str(project / "environments.yaml")
    with ModuleRegistry(packages) as registry:
        locked = runner.invoke(
            main, ["modules", "lock", "-c", config, "--registry", f"registry.terraform.io={registry.url}"]
        )
        assert locked.exit_code == 0, locked.output
    strict = runner.invoke(main, ["validate", "--strict", "-c", config])
    assert strict.exit_code == 0 and "warning" not in strict.output, strict.output
    assert runner.invoke(main, ["render", "-c", config]).exit_code == 0
    again = runner.invoke(main, ["render", "--check", "-c", config])
    assert again.exit_code == 0, again.output


def test_import_never_overwrites_nor_writes_into_the_source(tmp_path: Path) -> None:
    runner = CliRunner()
    source = TREES / "envs"
    before = tree(source)
    inside = runner.invoke(main, ["import", str(source), "-o", str(source / "x")])
    assert inside.exit_code == 2 and "never writes there" in inside.output
    target = tmp_path / "p"
    target.mkdir()
    (target / "environments.yaml").write_text("# mine\n")
    taken = runner.invoke(main, ["import", str(source), "-o", str(target)])
    assert taken.exit_code == 2 and "already there" in taken.output
    assert (target / "environments.yaml").read_text() == "# mine\n"
    assert tree(source) == before


def test_check_prints_each_unit_and_fails_on_a_difference() -> None:
    result = CliRunner().invoke(main, ["import", "--check", str(TREES / "envs")])
    assert result.exit_code == 1, result.output
    assert "dev/us-east-1/network: identical (environments/dev/us-east-1/units/network)" in result.output
    assert "  terraform.before_hook.lint\n    source:   {" in result.output
    assert "Round trip: 6 of 7 units identical." in result.output
    assert "service/terragrunt.hcl:20: run_cmd" in result.output


def test_a_local_module_is_found_from_the_rendered_units(tmp_path: Path) -> None:
    project = tmp_path / "deep" / "er" / "imported"
    result = CliRunner().invoke(main, ["import", str(TREES / "envs"), "-o", str(project), "--round-trip"])
    assert result.exit_code == 1, result.output  # the hook, as in the check
    assert "Round trip: 6 of 7 units identical." in result.output
    catalog = (project / "catalog" / "live" / "service.yaml").read_text()
    source = next(line.split(": ", 1)[1] for line in catalog.splitlines() if line.startswith("source:"))
    unit = project / "output" / "environments" / "dev" / "us-east-1" / "units" / "service"
    assert (unit / source).resolve() == (TREES / "envs" / "modules" / "service").resolve()
    # The module's own variables check the inputs (no lock needed for a local module).
    strict = CliRunner().invoke(main, ["validate", "--strict", "-c", str(project / "environments.yaml")])
    assert "live/service" not in strict.output, strict.output


def test_a_tree_terragrunt_cannot_read_is_one_located_error(tmp_path: Path) -> None:
    unit = tmp_path / "live" / "dev" / "us-east-1" / "app"
    unit.mkdir(parents=True)
    (unit / "terragrunt.hcl").write_text('terraform {\n  source = "tfr:///a/b/aws?version=1.0.0"\n\ninputs = {\n')
    result = CliRunner().invoke(main, ["import", "--check", str(tmp_path / "live")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{tmp_path}/live/dev/us-east-1/app/terragrunt.hcl:5:1: Missing expression; "
        "Expected the start of an expression, but found the end of the file."
    ]


def test_the_report_as_json() -> None:
    result = CliRunner().invoke(main, ["import", "--check", "--format", "json", str(TREES / "envs")])
    assert result.exit_code == 1, result.output
    document = json.loads(result.output)
    assert (document["command"], document["ok"], document["exit_code"]) == ("import", False, 1)
    trip = {u["source"]: u for u in document["result"]["round_trip"]}
    assert trip["dev/us-east-1/network"]["identical"] is True
    (difference,) = trip["dev/us-east-1/service"]["differences"]
    assert difference["attribute"] == "terraform.before_hook.lint" and difference["imported"] == "(absent)"
    assert all(u["kept_state_key"] for u in document["result"]["units"])
