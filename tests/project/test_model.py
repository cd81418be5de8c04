from __future__ import annotations

from pathlib import Path

import pytest

from generator import api
from generator.errors import InputError
from generator.project.model import deep_merge
from generator.project.values import HclExpr

from ..conftest import CASES, REPO, ProjectFactory


def test_deep_merge_maps_merge_lists_and_scalars_replace() -> None:
    base = {"a": {"x": 1, "y": [1, 2]}, "b": 1, "c": {"k": 1}}
    over = {"a": {"y": [3], "z": 2}, "c": HclExpr("local.c")}
    assert deep_merge(base, over) == {"a": {"x": 1, "y": [3], "z": 2}, "b": 1, "c": HclExpr("local.c")}
    assert base == {"a": {"x": 1, "y": [1, 2]}, "b": 1, "c": {"k": 1}}, "inputs are not mutated"


def test_reference_environment_merging() -> None:
    project = api.load(REPO / "environments.yaml").project
    uat = project.environment("uat")
    assert uat is not None
    assert uat.sizing == {
        "db_instance_class": "db.t3.small", "ecs_instance_type": "t3.medium", "ecs_arch": "x86_64", "db_storage_gb": 50
    }
    assert uat.settings["nat_gateway"] == "single"  # from defaults
    assert uat.settings["encryption_at_rest"] is True  # the environment's own
    assert uat.deletion_protection and not uat.multi_az
    prod = project.environment("prod")
    assert prod is not None and [r.name for r in prod.regions] == ["us-east-1", "eu-west-1"]
    assert prod.region("eu-west-1").role == "dr"  # type: ignore[union-attr]


def test_unit_placement_and_override_order() -> None:
    project = api.load(CASES / "every-key" / "environments.yaml").project
    placed = {u.address for u in project.units}
    assert "test/us-west-2/cache" not in placed  # region-level false
    assert "live/us-west-2/cache" not in placed  # environment-level false
    assert "live/us-east-1/cache" not in placed  # regions: [us-west-2]
    assert "live/us-east-1/replica-watcher" in placed and "test/us-west-2/replica-watcher" not in placed
    db = project.unit(("live", "us-east-1", "db"))
    assert db is not None
    # catalog < unit < environment < region, maps merged deeply
    assert db.effective_inputs()["parameters"] == {"shared_buffers": "256MB", "work_mem": "8MB",
                                                   "max_connections": 500}
    test_db = project.unit(("test", "us-west-2", "db"))
    assert test_db is not None
    assert test_db.effective_inputs()["parameters"] == {"shared_buffers": "256MB", "work_mem": "4MB"}
    assert test_db.effective_inputs()["performance_insights_enabled"] is False
    test_env = project.environment("test")
    assert test_env is not None and test_env.sizing["replicas"] == 2 and test_env.sizing_tier == "small"
    assert test_env.settings["retention"] == {"days": 3, "archive": False}
    assert test_env.regions[0].settings["flow_logs"] is True


def test_cross_region_dependency_resolves_relative_path() -> None:
    project = api.load(CASES / "every-key" / "environments.yaml").project
    wires = {w.dependency.name: w for w in project.wiring[("live", "us-east-1", "replica-watcher")]}
    assert wires["primary_db"].target.address == "live/us-west-2/db"
    assert wires["primary_db"].config_path == "../../../us-west-2/02-data/db"
    assert wires["local_net"].config_path == "../../01-network/network"


def test_module_source_pinning() -> None:
    project = api.load(CASES / "every-key" / "environments.yaml").project
    assert project.modules["networking/vpc"].source_url == "git::https://example.com/modules/vpc.git?ref=v1.2.3"
    assert project.modules["apps/watcher"].source_url == "tfr:///example/watcher/aws?foo=bar&version=0.1.0"
    assert project.modules["data/postgres"].source_url == "../../modules/postgres"


def test_unknown_tier_module_and_dependency_are_reported(make_project: ProjectFactory) -> None:
    config = make_project({
        "environments.yaml": """
            version: 1
            project: {name: demo}
            state: {bucket: "{project}-state", region: us-east-1}
            sizing: {small: {x: 1}}
            environments:
              dev:
                account_id: "123456789012"
                sizing: smal
                regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}
            units:
              app: {module: apps/app}
              ghost: {module: apps/ghost}
        """,
        "catalog/apps/app.yaml": """
            source: ./modules/app
            layer: apps
            dependencies:
              db: {unit: database}
        """,
    })
    with pytest.raises(InputError) as caught:
        api.load(config)
    text = str(caught.value)
    assert "environments.yaml:8:13: environments.dev.sizing: unknown sizing tier 'smal'" in text
    assert "environments.yaml:12:19: units.ghost.module: module 'apps/ghost' not found" in text
    assert "catalog/apps/app.yaml:4:14: dependencies.db.unit: dependency 'db' needs unit 'database'" in text


def test_catalog_schema_errors_point_into_the_catalog_file(make_project: ProjectFactory, tmp_path: Path) -> None:
    config = make_project({
        "environments.yaml": """
            version: 1
            project: {name: demo}
            state: {bucket: "{project}-state", region: us-east-1}
            environments:
              dev: {account_id: "123456789012", regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}}
            units: {app: {module: apps/app}}
        """,
        "catalog/apps/app.yaml": """
            source: ./modules/app
            layer: apps
            dependancies: {}
        """,
    })
    with pytest.raises(InputError, match=r"catalog/apps/app.yaml:3:1: dependancies: unknown key 'dependancies' "
                                         r"\(did you mean 'dependencies'\?\)"):
        api.load(config)
