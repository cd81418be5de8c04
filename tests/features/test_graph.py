"""tfgen graph: apply and destroy waves, the four views, cross-region dependencies,
scopes, and the reference project's graph committed in docs/graph.md."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.features.graph import Graph, select, to_mermaid, waves
from generator.project.layout import Scope
from generator.project.model import _levels

from ..conftest import CASES, IN_CI, REPO

REFERENCE = REPO / "environments.yaml"
EVERY_KEY = CASES / "every-key" / "environments.yaml"
DOCS_GRAPH = REPO / "docs" / "graph.md"
MERMAID_BLOCK = re.compile(r"```mermaid\n(.*?)```", re.S)


def graph_of(config: Path, scope: Scope | None = None) -> Graph:
    return api.graph(config, scope=scope)


def run(runner: CliRunner, *args: str) -> Any:
    result = runner.invoke(main, ["graph", *args])
    assert "Traceback" not in result.output
    return result


# --- order -------------------------------------------------------------------------


@pytest.mark.parametrize("config", [REFERENCE, EVERY_KEY], ids=["reference", "every-key"])
def test_every_dependency_is_applied_in_an_earlier_wave(config: Path) -> None:
    graph = graph_of(config)
    wave = {u.key: i for i, group in enumerate(graph.waves()) for u in group}
    assert sorted(wave) == sorted(u.key for u in graph.units)
    for edge in graph.edges:
        assert wave[edge.target.key] < wave[edge.unit.key], f"{edge.unit.address} before {edge.target.address}"
    # a unit is in the earliest wave its dependencies allow: wave 0 or just after one of them
    for unit in graph.units:
        needs = [wave[e.target.key] for e in graph.dependencies(unit)]
        assert wave[unit.key] == (max(needs) + 1 if needs else 0)


@pytest.mark.parametrize("config", [REFERENCE, EVERY_KEY], ids=["reference", "every-key"])
def test_destroy_waves_destroy_every_dependent_first(config: Path) -> None:
    graph = graph_of(config)
    wave = {u.key: i for i, group in enumerate(graph.waves(destroy=True)) for u in group}
    for edge in graph.edges:
        assert wave[edge.unit.key] < wave[edge.target.key], f"{edge.unit.address} outlives {edge.target.address}"
    for unit in graph.units:
        dependents = [wave[e.unit.key] for e in graph.dependents(unit)]
        assert wave[unit.key] == (max(dependents) + 1 if dependents else 0)


def test_project_waves_match_the_graph_of_everything() -> None:
    project = api.load(REFERENCE).project
    assert [[u.address for u in g] for g in waves(project)] == [
        [u.address for u in g] for g in select(project).waves()
    ]


def test_long_chains_do_not_hit_the_recursion_limit() -> None:
    nodes = [("e", "r", str(i)) for i in range(50_000)]
    before = {nodes[i]: [nodes[i - 1]] for i in range(1, len(nodes))}
    level = _levels(list(reversed(nodes)), before)
    assert level[nodes[-1]] == len(nodes) - 1
    assert level[nodes[0]] == 0


# --- text --------------------------------------------------------------------------


def test_text_numbers_the_apply_waves_of_the_reference_project(runner: CliRunner) -> None:
    result = run(runner, "-c", str(REFERENCE))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Apply order of 78 units in 7 waves; units in one wave can run in parallel."
    waves_text = result.output.split("\n\nWave ")[1:]
    assert [w.splitlines()[0] for w in waves_text] == ["1", "2", "3", "4", "5", "6", "7"]
    first = [line.split()[0] for line in waves_text[0].splitlines()[1:]]
    wave1 = {"dev/us-east-1": ("vpc", "alerts"), "prod/eu-west-1": ("vpc", "kms-rds", "certificate", "alerts")}
    assert first == [  # the alerts topic, the certificates and the DR database's key need nothing
        f"{env}/{unit}" for env in ("dev/us-east-1", "staging/us-east-1", "uat/us-east-1", "prod/us-east-1",
                                   "prod/eu-west-1")
        for unit in wave1.get(env, ("vpc", "certificate", "alerts"))
    ]
    # The DR database waits for its us-east-1 primary, the DR service for the replica.
    assert re.search(r"^  prod/eu-west-1/rds +needs vpc, sg-database, kms-rds, prod/us-east-1/rds$", waves_text[5],
                     re.M)
    dr_service = r"^  prod/eu-west-1/orders-api +needs ecs-cluster, ecs-capacity, vpc, sg-service, alb, rds$"
    assert re.search(dr_service, waves_text[6], re.M)
    # The cluster's capacity provider is the instance group: the group comes first.
    assert re.search(r"^  dev/us-east-1/ecs-capacity +needs vpc, sg-ecs-instances$", waves_text[2], re.M)
    assert re.search(r"^  dev/us-east-1/ecs-cluster +needs vpc, ecs-capacity$", waves_text[3], re.M)
    # Monitoring comes after what it watches.
    assert re.search(r"^  dev/us-east-1/events +needs alerts, rds, ecs-cluster, ecs-capacity$", waves_text[5], re.M)
    assert "dev/us-east-1/orders-api" not in result.output  # orders-api is limited to staging, uat, prod


def test_text_destroy_reverses_the_order_and_marks_protected_units(runner: CliRunner) -> None:
    result = run(runner, "-c", str(REFERENCE), "--destroy", "--env", "prod", "--env", "dev")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Destroy order of 46 units in 7 waves")
    waves_text = result.output.split("\n\nWave ")[1:]
    # dev's database goes once the monitoring that watches it is gone
    assert re.search(
        r"^  dev/us-east-1/rds +needed by cpu-alarm-database, storage-alarm-database, cpu-alarm-cluster, events$",
        waves_text[1], re.M,
    )
    assert re.search(r"^  prod/us-east-1/orders-api +protected$", waves_text[0], re.M)
    assert re.search(
        r"^  dev/us-east-1/vpc +needed by sg-alb, sg-service, sg-database, sg-ecs-instances, rds, ecs-cluster,"
        r" ecs-capacity$",
        waves_text[5], re.M,
    )
    assert "staging" not in result.output


def test_text_shows_a_cross_region_dependency(runner: CliRunner) -> None:
    result = run(runner, "-c", str(EVERY_KEY))
    assert result.exit_code == 0, result.output
    assert re.search(r"^  live/us-east-1/replica-watcher +needs live/us-west-2/db, network$", result.output, re.M)
    waves_text = result.output.split("\n\nWave ")[1:]
    assert "live/us-west-2/db" in waves_text[1] and "replica-watcher" in waves_text[2]


def test_a_region_scope_names_dependencies_outside_it(runner: CliRunner) -> None:
    result = run(runner, "-c", str(EVERY_KEY), "--region", "us-east-1")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Apply order of 3 units in 2 waves")  # the db in us-west-2 is not waited for
    assert "needs live/us-west-2/db (not selected), network" in result.output
    destroy = run(runner, "-c", str(EVERY_KEY), "--env", "live", "--region", "us-west-2", "--destroy")
    assert re.search(
        r"^  live/us-west-2/db +protected; needed by live/us-east-1/replica-watcher \(not selected\)$",
        destroy.output,
        re.M,
    )


def test_unknown_scope_is_exit_2_with_the_known_names(runner: CliRunner) -> None:
    result = run(runner, "-c", str(REFERENCE), "--env", "qa")
    assert result.exit_code == 2
    assert "--env qa: no such environment (environments: dev, staging, uat, prod)" in result.stderr
    invalid = run(runner, "-c", str(REPO / "nope.yaml"))
    assert invalid.exit_code == 2 and "file not found" in invalid.stderr


# --- json --------------------------------------------------------------------------


def graph_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run(runner, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.output)
    assert envelope["command"] == "graph" and envelope["ok"] is True and envelope["errors"] == []
    data: dict[str, Any] = envelope["result"]
    return data


def test_json_lists_units_dependencies_and_waves(runner: CliRunner) -> None:
    data = graph_json(runner, "-c", str(EVERY_KEY))
    assert data["version"] == 1 and data["order"] == "apply"
    units = {u["address"]: u for u in data["units"]}
    assert units["live/us-east-1/replica-watcher"] == {
        "address": "live/us-east-1/replica-watcher",
        "environment": "live",
        "region": "us-east-1",
        "tenant": None,
        "unit": "replica-watcher",
        "module": "apps/watcher",
        "layer": "03-apps",
        "directory": "environments/live/us-east-1/03-apps/replica-watcher",
        "protected": True,
        "selected": True,
        "wave": 3,
    }
    assert {
        "unit": "live/us-east-1/replica-watcher",
        "depends_on": "live/us-west-2/db",
        "dependency": "primary_db",
        "cross_region": True,
    } in data["dependencies"]
    assert [e["cross_region"] for e in data["dependencies"]].count(True) == 1
    assert data["waves"][0] == ["test/us-west-2/network", "live/us-west-2/network", "live/us-east-1/network"]
    assert [[u["address"] for u in data["units"] if u["wave"] == i + 1] for i in range(3)] == data["waves"]
    assert data["environments"][1] == {
        "name": "live",
        "regions": [
            {"name": "us-west-2", "units": ["live/us-west-2/network", "live/us-west-2/db"]},
            {"name": "us-east-1", "units": [
                "live/us-east-1/network", "live/us-east-1/db", "live/us-east-1/replica-watcher"]},
        ],
    }


def test_json_marks_units_outside_the_selection(runner: CliRunner) -> None:
    data = graph_json(runner, "-c", str(EVERY_KEY), "--region", "us-east-1")
    outside = [u for u in data["units"] if not u["selected"]]
    assert [(u["address"], u["wave"]) for u in outside] == [("live/us-west-2/db", None)]
    assert data["waves"] == [["live/us-east-1/network"], ["live/us-east-1/db", "live/us-east-1/replica-watcher"]]


def test_json_is_stable_and_in_project_order(runner: CliRunner, copy_case: Any) -> None:
    first = run(runner, "--format", "json", "-c", str(REFERENCE)).output
    assert run(runner, "--format", "json", "-c", str(REFERENCE)).output == first
    addresses = [u["address"] for u in json.loads(first)["result"]["units"]]
    project = api.load(REFERENCE).project
    assert addresses == [u.address for u in project.units]


def test_json_format_is_documented() -> None:
    data = json.loads(run(CliRunner(), "--format", "json", "-c", str(EVERY_KEY)).output)["result"]
    documented = DOCS_GRAPH.read_text(encoding="utf-8")
    keys = set(data) | set(data["units"][0]) | set(data["dependencies"][0]) | set(data["environments"][0])
    keys |= set(data["environments"][0]["regions"][0])
    missing = sorted(k for k in keys if f"`{k}`" not in documented)
    assert not missing, f"docs/graph.md does not describe {missing}"


# --- dot ---------------------------------------------------------------------------


def dot_binary() -> str:
    found = shutil.which("dot")
    if found:
        return found
    message = "Graphviz `dot` is not installed (apt-get install graphviz)"
    if IN_CI:
        pytest.fail(f"{message}: it is required under CI=true")
    pytest.skip(message)


@pytest.mark.external
@pytest.mark.parametrize(
    "args",
    [["-c", str(REFERENCE)], ["-c", str(EVERY_KEY)], ["-c", str(EVERY_KEY), "--region", "us-east-1", "--destroy"]],
    ids=["reference", "every-key", "every-key-scoped-destroy"],
)
def test_dot_is_valid_graphviz_with_a_cluster_per_environment_and_region(runner: CliRunner, args: list[str]) -> None:
    dot = dot_binary()
    result = run(runner, "--format", "dot", *args)
    assert result.exit_code == 0, result.output
    done = subprocess.run([dot, "-Tjson"], input=result.output, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert not done.stderr.strip(), done.stderr  # no syntax warnings either
    layout = json.loads(done.stdout)
    config = Path(args[1])
    scope = Scope(("live",), ("us-east-1",)) if "--region" in args else Scope()
    graph = graph_of(config, scope)
    objects = layout["objects"]
    clusters = {o["label"] for o in objects if o["name"].startswith("cluster_")}
    nodes = {o["name"] for o in objects if not o["name"].startswith("cluster_")}
    assert nodes == {u.address for u in graph.nodes}
    assert {u.environment.name for u in graph.nodes} <= clusters
    assert {u.region.name for u in graph.nodes} <= clusters
    names = {o["_gvid"]: o["name"] for o in objects}
    drawn = {(names[e["tail"]], names[e["head"]]) for e in layout.get("edges", [])}
    destroy = "--destroy" in args
    expected = {
        (e.unit.address, e.target.address) if destroy else (e.target.address, e.unit.address) for e in graph.edges
    }
    assert drawn == expected


# --- mermaid -----------------------------------------------------------------------


def test_mermaid_declares_every_node_once_and_links_only_declared_nodes() -> None:
    graph = graph_of(EVERY_KEY, Scope((), ("us-east-1",)))
    text = to_mermaid(graph)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    declared = re.findall(r"^\s+(?:subgraph )?([a-z][0-9a-f]+)\[\"", text, re.M)
    assert len(declared) == len(set(declared)) == len(graph.nodes) + 3  # + live, us-west-2, us-east-1 subgraphs
    links = re.findall(r"^\s+(u[0-9a-f]+) (-->|-\.->) (u[0-9a-f]+)$", text, re.M)
    assert len(links) == len(graph.edges)
    assert {a for a, _, _ in links} | {b for _, _, b in links} <= set(declared)
    assert [arrow for _, arrow, _ in links].count("-.->") == 1  # the cross-region dependency
    assert sum(1 for x in lines if x.strip().startswith("subgraph ")) == sum(1 for x in lines if x.strip() == "end")
    assert '["db (not selected)"]' in text and "class " in text


def test_mermaid_ids_survive_names_that_are_mermaid_keywords(make_project: Any) -> None:
    config = make_project({
        "environments.yaml": """
            version: 1
            project: {name: demo}
            state: {bucket: "{project}-state", region: us-east-1}
            environments:
              end:
                account_id: "123456789012"
                regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}
            units:
              graph: {module: net/vpc}
              subgraph: {module: net/vpc}
        """,
        "catalog/net/vpc.yaml": "source: ./vpc\nlayer: net\n",
    })
    text = to_mermaid(graph_of(config))
    assert '["end"]' in text and '["graph"]' in text and '["subgraph"]' in text
    assert not re.search(r"^\s+(end|graph|subgraph)\[", text, re.M)


def test_docs_graph_md_holds_the_reference_graph(runner: CliRunner, update_golden: bool) -> None:
    """docs/graph.md shows the reference project's graph; rerun with --update-golden after a change."""
    fresh = run(runner, "--format", "mermaid", "-c", str(REFERENCE)).output
    text = DOCS_GRAPH.read_text(encoding="utf-8")
    blocks = MERMAID_BLOCK.findall(text)
    assert blocks, "docs/graph.md has no ```mermaid block"
    if update_golden and blocks[0] != fresh:
        DOCS_GRAPH.write_text(text.replace(blocks[0], fresh, 1), encoding="utf-8")
        blocks[0] = fresh
    assert blocks[0] == fresh, "docs/graph.md is stale: run pytest tests/test_graph.py --update-golden"


# --- shell completion ----------------------------------------------------------------


def complete(runner: CliRunner, words: str) -> list[str]:
    """What bash completion offers for the last word of *words*."""
    env = {"_TFGEN_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    if words.endswith(" "):
        env["COMP_CWORD"] = str(len(words.split()))
    result = runner.invoke(main, [], env=env, prog_name="tfgen")
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.output.splitlines() if "," in line]


def test_completion_offers_environments_and_regions(runner: CliRunner) -> None:
    assert complete(runner, f"tfgen graph -c {REFERENCE} --env ") == ["dev", "staging", "uat", "prod"]
    assert complete(runner, f"tfgen graph -c {REFERENCE} --env p") == ["prod"]
    assert complete(runner, f"tfgen graph -c {REFERENCE} --env prod --region ") == ["us-east-1", "eu-west-1"]
    assert complete(runner, f"tfgen graph -c {EVERY_KEY} --region us-") == ["us-west-2", "us-east-1"]


def test_completion_never_crashes_on_a_broken_project(runner: CliRunner, make_project: Any) -> None:
    broken = make_project({"environments.yaml": "version: [1\n"})
    assert complete(runner, f"tfgen graph -c {broken} --env ") == []
    missing = broken.parent / "missing.yaml"
    assert complete(runner, f"tfgen graph -c {missing} --region ") == []


def test_completion_script_is_documented(runner: CliRunner) -> None:
    result = runner.invoke(main, [], env={"_TFGEN_COMPLETE": "bash_source"}, prog_name="tfgen")
    assert result.exit_code == 0
    assert "_TFGEN_COMPLETE=bash_complete" in result.output
    assert "_TFGEN_COMPLETE=bash_source tfgen" in (REPO / "docs" / "guides" / "editors.md").read_text(encoding="utf-8")


def test_help_has_examples(runner: CliRunner) -> None:
    for command in ("graph", "explain", "init"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Examples:" in result.output, command
    assert "tfgen graph" in runner.invoke(main, ["--help"]).output
