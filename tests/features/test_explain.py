"""tfgen explain: every value traced to the YAML line that set it, in agreement with the
model and with what render writes (checked both ways with python-hcl2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.features.explain import (
    UnitExplanation,
    explain_unit,
    traced_env_locals,
    traced_inputs,
    traced_region_locals,
)
from generator.hcl import literal as hcl
from generator.project.model import env_locals, leaf_inputs, region_locals
from generator.project.values import HclExpr

from ..conftest import CASES, REPO, ProjectFactory
from .test_affected import rename_alerts

REFERENCE = REPO / "environments.yaml"
EVERY_KEY = CASES / "every-key" / "environments.yaml"
PROJECTS = [REFERENCE, EVERY_KEY, CASES / "minimal" / "environments.yaml"]


def explain_json(runner: CliRunner, config: Path, address: str, *extra: str) -> dict[str, Any]:
    result = runner.invoke(main, ["explain", "-c", str(config), address, "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.output)
    assert envelope["command"] == "explain" and envelope["ok"] is True
    data: dict[str, Any] = envelope["result"]
    return data


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the only line of *path* that contains *text*."""
    found = [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if text in line]
    assert len(found) == 1, (text, found)
    return found[0]


# --- provenance agrees with the model -----------------------------------------------


@pytest.mark.parametrize("config", PROJECTS, ids=lambda p: p.parent.name)
def test_traced_values_are_the_models_values(config: Path) -> None:
    project = api.load(config).project
    for unit in project.units:
        assert traced_inputs(unit, project).plain() == unit.effective_inputs(), unit.address
    for env in project.environments:
        assert traced_env_locals(env, project).plain() == env_locals(env, project), env.name
        for region in env.regions:
            assert traced_region_locals(env, region, project).plain() == region_locals(region)


MERGE_ORDER = {
    "environments.yaml": """
        version: 1
        project: {name: demo}
        state: {bucket: "{project}-state", region: us-east-1}
        defaults:
          units:
            app: {inputs: {limits: 5, tags: {team: core, tier: web}}}
            net: {}
        environments:
          dev:
            account_id: "123456789012"
            regions:
              us-east-1:
                vpc_cidr: 10.0.0.0/16
                azs: [a]
                units: {app: {inputs: {tags: {tier: edge}, size: {max: 9}}}}
            units:
              app: {inputs: {limits: {cpu: 2}, size: 3}}
        units:
          net: {module: net/vpc}
          app:
            module: apps/app
            inputs: {limits: {memory: 512}, tags: {owner: me}, size: {min: 1}, vpc_id: vpc-fixed}
    """,
    "catalog/net/vpc.yaml": "source: ./vpc\nlayer: net\n",
    "catalog/apps/app.yaml": """
        source: ./app
        layer: apps
        dependencies:
          net: {unit: net, outputs: {vpc_id: id, subnet_id: subnet}}
        inputs: {limits: {cpu: 1, disk: 10}, tags: {team: base}, subnet_id: subnet-fixed}
    """,
}


def test_provenance_follows_the_models_merge_order_exactly(make_project: ProjectFactory) -> None:
    """defaults.units merges under the environment's units before the result goes over the
    unit's inputs; a scalar in defaults and a map in the environment is not the same as
    merging the three one after another, and explain must follow the model."""
    config = make_project(MERGE_ORDER)
    project = api.load(config).project
    unit = project.units[1]
    explained = explain_unit(unit, project)
    by_name = {i.name: i for i in explained.inputs}
    assert {name: i.value for name, i in by_name.items()} == {
        "subnet_id": HclExpr("dependency.net.outputs.subnet"),  # the wiring replaces the catalog value
        "size.max": 9,  # the environment's scalar replaced the unit's map; the region's map replaced it
        "vpc_id": "vpc-fixed",  # an override replaces the wiring
        "limits.memory": 512,
        "limits.cpu": 2,
        "limits.disk": 10,
        "tags.owner": "me",
        "tags.team": "core",
        "tags.tier": "edge",
    }
    assert traced_inputs(unit, project).plain() == unit.effective_inputs()
    assert by_name["limits.memory"].source.kind == "unit"
    assert by_name["limits.cpu"].source.kind == "environment"
    assert by_name["limits.disk"].source.kind == "catalog"
    assert by_name["tags.team"].source.kind == "defaults"
    assert by_name["tags.tier"].source.kind == "region"
    assert by_name["tags.owner"].source.key == ("units", "app", "inputs", "tags", "owner")
    assert by_name["subnet_id"].source.kind == "dependency"
    assert by_name["subnet_id"].replaces == "_envcommon/apps/app.hcl"
    assert by_name["vpc_id"].source.kind == "unit"


def test_provenance_of_the_merge_order_case_agrees_with_render(
    runner: CliRunner, make_project: ProjectFactory, tmp_path: Path
) -> None:
    assert_explain_agrees_with_render(runner, make_project(MERGE_ORDER), tmp_path / "out")


# --- provenance agrees with the rendered tree ---------------------------------------


def parsed(path: Path, cache: dict[Path, dict[str, Any]]) -> dict[str, Any]:
    if path not in cache:
        cache[path] = hcl2.loads(path.read_text(encoding="utf-8"))
    return cache[path]


def hcl_value(value: Any) -> Any:
    """*value* as python-hcl2 reads it back from a rendered file."""
    if isinstance(value, dict) and set(value) == {"hcl"}:
        value = HclExpr(value["hcl"])
    return hcl2.loads(f"x = {hcl.literal(from_json(value))}\n")["x"]


def from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"hcl"}:
            return HclExpr(value["hcl"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


def dig(body: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(body, list) and len(body) == 1:  # locals { } is a list of blocks
            body = body[0]
        assert isinstance(body, dict), (path, body)
        body = body[part] if part in body else body[f'"{part}"']
    return body


def leaves(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in leaves(v, (*path, k.strip('"')))]
    return [path]


def assert_explain_agrees_with_render(runner: CliRunner, config: Path, output: Path) -> None:
    """Every explained input is in the file explain names, with the value explain gives
    (and the locals it reads are in env.hcl / region.hcl with the values it gives);
    and every input those files carry for the unit is explained."""
    api.render(config, output=output)
    project = api.load(config).project
    cache: dict[Path, dict[str, Any]] = {}
    for unit in project.units:
        data = explain_json(runner, config, unit.address)
        explained: dict[tuple[str, ...], str] = {}
        for item in data["inputs"]:
            file = output / item["file"]
            rendered = dig(parsed(file, cache)["inputs"], item["path"])
            assert rendered == hcl_value(item["value"]), (unit.address, item["input"], item["file"])
            explained[tuple(item["path"])] = item["file"]
            for read in item["reads"]:
                if read["reference"].startswith(("local.env.", "local.region.")) and read["defined"]:
                    scope = read["reference"].split(".")[2:]
                    local = dig(parsed(output / read["file"], cache)["locals"], scope)
                    assert local == hcl_value(read["value"]), (unit.address, read["reference"])
        leaf = parsed(output / unit.directory / "terragrunt.hcl", cache).get("inputs", {})
        envcommon = parsed(output / unit.module.envcommon_path, cache).get("inputs", {})
        expected = {p: f"{unit.directory}/terragrunt.hcl" for p in (leaves(leaf) if leaf else [])}
        for path in leaves(envcommon) if envcommon else []:
            if path[0] not in leaf:  # Terragrunt: the unit's inputs replace included ones by name
                expected[path] = unit.module.envcommon_path
        assert explained == expected, unit.address


@pytest.mark.parametrize("config", [REFERENCE, EVERY_KEY], ids=["reference", "every-key"])
def test_explain_agrees_with_the_rendered_files_both_ways(runner: CliRunner, config: Path, tmp_path: Path) -> None:
    assert_explain_agrees_with_render(runner, config, tmp_path / "out")


@pytest.mark.parametrize(
    ("config", "address"),
    [(REFERENCE, "uat"), (REFERENCE, "prod/eu-west-1"), (EVERY_KEY, "test"), (EVERY_KEY, "live/us-east-1"),
     (CASES / "rehearsal" / "environments.yaml", "live")],
)
def test_environment_and_region_locals_agree_with_env_hcl_and_region_hcl(
    runner: CliRunner, config: Path, address: str, tmp_path: Path
) -> None:
    api.render(config, output=tmp_path / "out")
    data = explain_json(runner, config, address)
    body = hcl2.loads((tmp_path / "out" / data["file"]).read_text(encoding="utf-8"))["locals"]
    block = {k: v for k, v in body[0].items() if k != "__is_block__"}
    assert {tuple(x["path"]) for x in data["locals"]} == set(leaves(block))
    for local in data["locals"]:
        assert dig(body, local["path"]) == hcl_value(local["value"]), local["local"]


# --- what the user reads --------------------------------------------------------------


def by_input(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["input"]: i for i in data["inputs"]}


def test_an_hcl_expression_shows_the_local_it_reads_and_the_sizing_tier(runner: CliRunner) -> None:
    data = explain_json(runner, REFERENCE, "prod/us-east-1/rds")
    item = by_input(data)["instance_class"]
    assert item["value"] == {"hcl": "local.env.sizing.db_instance_class"}
    assert item["source"]["kind"] == "catalog"
    assert item["source"]["file"] == "catalog/data/rds.yaml" or item["source"]["file"].endswith("catalog/data/rds.yaml")
    assert item["source"]["line"] == line_of(REPO / "catalog/data/rds.yaml", "instance_class:")
    assert item["file"] == "_envcommon/data/rds.hcl"
    (read,) = item["reads"]
    assert read["reference"] == "local.env.sizing.db_instance_class"
    assert read["file"] == "environments/prod/env.hcl"
    assert read["value"] == "db.r6g.large"
    (origin,) = read["sources"]
    assert origin["source"]["kind"] == "sizing-tier"
    assert origin["source"]["key"] == "sizing.large.db_instance_class"
    assert origin["source"]["line"] == line_of(REFERENCE, "db_instance_class: db.r6g.large")


def test_a_sizing_override_is_named_as_such(runner: CliRunner) -> None:
    item = by_input(explain_json(runner, REFERENCE, "uat/us-east-1/rds"))["instance_class"]
    (origin,) = item["reads"][0]["sources"]
    assert item["reads"][0]["value"] == "db.t3.small"
    assert origin["source"]["kind"] == "sizing-override"
    assert origin["source"]["key"] == "environments.uat.sizing_overrides.db_instance_class"
    assert origin["source"]["line"] == line_of(REFERENCE, "sizing_overrides: { db_instance_class")


def test_each_tag_names_the_layer_that_set_it(runner: CliRunner) -> None:
    inputs = by_input(explain_json(runner, REFERENCE, "prod/eu-west-1/vpc", "tags"))
    sources = {name: (i["value"], i["source"]["kind"], i["source"].get("key")) for name, i in inputs.items()}
    assert sources == {
        "tags.Criticality": ("high", "unit", "units.vpc.tags.Criticality"),
        "tags.BackupRequired": ("false", "unit", "units.vpc.tags.BackupRequired"),
        # prod's override (the &dr anchor) replaces the unit's "disabled"
        "tags.DisasterRecovery": ("enabled", "environment", "environments.prod.units.vpc.tags.DisasterRecovery"),
        "tags.ManagedByModule": ("networking/vpc", "tfgen", None),
    }
    # vpc's override is the alias *dr: the line is where its value is written, the anchor
    assert inputs["tags.DisasterRecovery"]["source"]["line"] == line_of(REFERENCE, "tags: &dr { DisasterRecovery")


def test_overrides_of_one_map_come_from_each_layer_and_the_leaf_carries_the_merge(runner: CliRunner) -> None:
    data = explain_json(runner, REFERENCE, "prod/us-east-1/orders-api")
    items = by_input(data)
    leaf = "environments/prod/us-east-1/04-apps/orders-api/terragrunt.hcl"
    image = items["container_definitions.app.image"]
    assert (image["value"], image["source"]["kind"], image["file"]) == ("public.ecr.aws/nginx/nginx:1.27", "unit", leaf)
    assert image["replaces"] == "_envcommon/services/ecs-service.hcl"
    essential = items["container_definitions.app.essential"]
    assert (essential["source"]["kind"], essential["file"]) == ("catalog", leaf)
    assert items["runtime_platform.cpu_architecture"]["file"] == "_envcommon/services/ecs-service.hcl"
    env_var = items["container_definitions.app.environment"]
    (read,) = env_var["reads"]
    assert read["reference"] == "dependency.database.outputs.db_instance_address"
    assert "prod/us-east-1/rds" in read["note"]
    # an environment's override of one input, in the leaf
    managed = by_input(explain_json(runner, REFERENCE, "prod/us-east-1/rds"))["manage_master_user_password"]
    assert (managed["value"], managed["source"]["kind"]) == (False, "environment")
    assert managed["source"]["line"] == line_of(REFERENCE, "inputs: { manage_master_user_password: false }")


def test_wired_inputs_name_the_dependency_and_its_output(runner: CliRunner) -> None:
    data = explain_json(runner, EVERY_KEY, "live/us-east-1/replica-watcher")
    (primary, local_net) = data["dependencies"]
    assert primary == {
        "name": "primary_db",
        "unit": "live/us-west-2/db",
        "config_path": "../../../us-west-2/02-data/db",
        "cross_region": True,
        "block": "dependency",
        "mock_outputs": {"endpoint": "mock.example.internal"},
        "declared": primary["declared"],
        "outputs": [{"input": "primary_endpoint", "outputs": ["endpoint"], "list": False}],
    }
    assert primary["declared"].endswith("catalog/apps/watcher.yaml:6:3")
    assert (local_net["name"], local_net["cross_region"], local_net["outputs"]) == ("local_net", False, [])
    # No input reads local_net's outputs: it only orders the units (a `dependencies` path).
    assert (local_net["block"], local_net["mock_outputs"]) == ("dependencies", None)
    item = by_input(data)["primary_endpoint"]
    assert item["value"] == {"hcl": "dependency.primary_db.outputs.endpoint"}
    assert item["source"]["kind"] == "dependency"
    assert item["file"] == "environments/live/us-east-1/03-apps/replica-watcher/terragrunt.hcl"


def test_explain_says_what_terragrunt_resolves_source_state_and_protection(runner: CliRunner) -> None:
    data = explain_json(runner, REFERENCE, "prod/eu-west-1/rds")
    assert data["source"] == "tfr:///terraform-aws-modules/rds/aws?version=6.10.0"
    assert data["remote_state"] == {
        "backend": "s3",
        "config": {
            "bucket": "terragrunt-starter-444444444444-eu-west-1-tfstate",
            "key": "environments/prod/eu-west-1/02-data/rds/terraform.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
            "skip_bucket_versioning": False,
            "accesslogging_bucket_name": "terragrunt-starter-444444444444-eu-west-1-tfstate-logs",
            "accesslogging_target_prefix": "tfstate/",
        },
    }
    assert data["prevent_destroy"] is True
    dev = explain_json(runner, REFERENCE, "dev/us-east-1/vpc")
    assert dev["prevent_destroy"] is False


def test_region_override_and_environment_override_of_the_same_map(runner: CliRunner) -> None:
    live = by_input(explain_json(runner, EVERY_KEY, "live/us-east-1/db"))
    assert live["parameters.max_connections"]["source"]["kind"] == "region"
    assert live["parameters.shared_buffers"]["source"]["kind"] == "unit"  # over the catalog's 128MB
    assert live["parameters.shared_buffers"]["value"] == "256MB"
    test = by_input(explain_json(runner, EVERY_KEY, "test/us-west-2/db"))
    assert test["parameters.work_mem"]["source"]["kind"] == "environment"
    assert test["parameters.work_mem"]["value"] == "4MB"
    assert "parameters.max_connections" not in test


def test_text_output_names_value_source_and_file(runner: CliRunner) -> None:
    result = runner.invoke(main, ["explain", "-c", str(REFERENCE), "prod/us-east-1/rds", "instance_class"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("prod/us-east-1/rds: unit rds, module data/rds")
    large = line_of(REFERENCE, "db_instance_class: db.r6g.large")
    assert "  instance_class = local.env.sizing.db_instance_class\n" in result.output
    assert "      in _envcommon/data/rds.hcl\n" in result.output
    assert 'reads local.env.sizing.db_instance_class = "db.r6g.large" in environments/prod/env.hcl' in result.output
    assert f"set by sizing tier large: sizing.large.db_instance_class (environments.yaml:{large}:" in result.output
    assert "allocated_storage" not in result.output  # INPUT limits the list


def test_text_for_an_environment_lists_its_locals(runner: CliRunner) -> None:
    result = runner.invoke(main, ["explain", "-c", str(REFERENCE), "uat"])
    assert result.exit_code == 0, result.output
    assert "uat/us-east-1/orders-api" in result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith("sizing.db_instance_class"))
    assert '= "db.t3.small"' in line and "sizing override (uat)" in line


def test_unknown_addresses_are_exit_2_with_close_matches(runner: CliRunner) -> None:
    typo = runner.invoke(main, ["explain", "-c", str(REFERENCE), "prod/us-east-1/rdss"])
    assert typo.exit_code == 2
    assert "no unit 'prod/us-east-1/rdss'" in typo.stderr and "did you mean prod/us-east-1/rds" in typo.stderr
    limited = runner.invoke(main, ["explain", "-c", str(REFERENCE), "dev/us-east-1/orders-api"])
    assert limited.exit_code == 2
    assert "not deployed in dev/us-east-1: units.orders-api.environments is [staging, uat, prod]" in limited.stderr
    env = runner.invoke(main, ["explain", "-c", str(REFERENCE), "prd"])
    assert env.exit_code == 2 and "did you mean prod" in env.stderr
    bad = runner.invoke(main, ["explain", "-c", str(REFERENCE), "a/b/c/d", "--format", "json"])
    assert bad.exit_code == 2
    assert json.loads(bad.output)["ok"] is False
    for result in (typo, limited, env, bad):
        assert "Traceback" not in result.output


def test_an_invalid_project_is_exit_2(runner: CliRunner, make_project: ProjectFactory) -> None:
    config = make_project({"environments.yaml": "version: 1\nproject: {name: x}\n"})
    result = runner.invoke(main, ["explain", "-c", str(config), "dev"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_explain_unit_lists_the_files_of_the_unit() -> None:
    project = api.load(REFERENCE).project
    unit = project.unit(("prod", "eu-west-1", "rds"))
    assert unit is not None
    explained = explain_unit(unit, project)
    assert isinstance(explained, UnitExplanation)
    assert [path for path, _ in explained.files] == [
        "environments/prod/eu-west-1/02-data/rds/terragrunt.hcl",
        "_envcommon/data/rds-replica.hcl",  # the DR region's rds unit is the replica module
        "environments/prod/env.hcl",
        "environments/prod/eu-west-1/region.hcl",
    ]
    rendered = list(leaf_inputs(unit, project))
    assert list(dict.fromkeys(i.name.split(".")[0] for i in explained.inputs))[: len(rendered)] == rendered


# --- shell completion of addresses ----------------------------------------------------


def complete(runner: CliRunner, words: str) -> list[str]:
    cword = len(words.split()) - (0 if words.endswith(" ") else 1)
    env = {"_TFGEN_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    result = runner.invoke(main, [], env=env, prog_name="tfgen")
    assert result.exit_code == 0, result.output
    return [line.split(",", 1)[1] for line in result.output.splitlines() if "," in line]


def test_addresses_complete_one_level_at_a_time(runner: CliRunner) -> None:
    assert complete(runner, f"tfgen explain -c {REFERENCE} ") == ["dev", "staging", "uat", "prod"]
    assert complete(runner, f"tfgen explain -c {REFERENCE} prod/") == ["prod/us-east-1", "prod/eu-west-1"]
    assert complete(runner, f"tfgen explain -c {REFERENCE} prod/eu-west-1/") == [
        f"prod/eu-west-1/{name}"
        for name in (
            "vpc", "sg-alb", "sg-service", "sg-database", "sg-ecs-instances", "rds", "kms-rds", "ecs-cluster",
            "ecs-capacity", "certificate", "alb", "orders-api", "alerts", "cpu-alarm-database",
            "storage-alarm-database", "cpu-alarm-cluster", "events",
        )
    ]
    assert complete(runner, f"tfgen explain -c {EVERY_KEY} live/us-east-1/r") == ["live/us-east-1/replica-watcher"]


def test_address_completion_survives_an_invalid_project(runner: CliRunner, make_project: ProjectFactory) -> None:
    # valid YAML that fails validation (a missing catalog module): names still come from the YAML
    config = make_project({"environments.yaml": """
        version: 1
        project: {name: demo}
        state: {bucket: "{project}-state", region: us-east-1}
        environments:
          dev: {account_id: "123456789012", regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}}
        units:
          web: {module: apps/missing}
    """})
    assert complete(runner, f"tfgen explain -c {config} dev/us-east-1/") == ["dev/us-east-1/web"]
    config.write_text("environments: [\n", encoding="utf-8")
    assert complete(runner, f"tfgen explain -c {config} d") == []


def test_explain_of_a_renamed_unit_names_the_state_key_it_keeps(runner: CliRunner, reference_project: Path) -> None:
    rename_alerts(reference_project)
    data = explain_json(runner, reference_project, "prod/eu-west-1/alerts-topic")
    assert data["remote_state"]["config"]["key"] == "environments/prod/eu-west-1/05-monitoring/alerts/terraform.tfstate"
    leaf, holds = data["files"][0]["path"], data["files"][0]["holds"]
    assert leaf == "environments/prod/eu-west-1/05-monitoring/alerts-topic/terragrunt.hcl"
    assert holds.endswith("; the state key it keeps (previous: alerts)")
