"""tfgen import's pure parts: placement from the layout, values read from the
environment's and region's locals, pins, and located warnings (no Terragrunt needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generator.importing import recover as r
from generator.importing.compare import compare
from generator.importing.evaluate import tree_files

TREES = Path(__file__).parent / "trees"


def test_account_region_env_unit_layout_reads_the_hierarchy_files() -> None:
    files = tree_files(TREES / "accounts")
    placed = r.place("prod/eu-west-1/prod/vpc", {}, files)
    assert (placed.account, placed.env, placed.region, placed.layer, placed.name) == (
        "prod",
        "prod",
        "eu-west-1",
        "",
        "vpc",
    )
    assert placed.account_id == "222222222222"


def test_env_region_unit_layout_without_hierarchy_files() -> None:
    files = tree_files(TREES / "envs")
    placed = r.place("prod/eu-central-1/database", {}, files)
    assert (placed.env, placed.region, placed.layer, placed.name) == ("prod", "eu-central-1", "", "database")


def test_a_layer_directory_between_region_and_unit() -> None:
    placed = r.place("dev/us-east-1/data/rds", {}, {})
    assert (placed.env, placed.region, placed.layer, placed.name) == ("dev", "us-east-1", "data", "rds")


def test_names_of_the_environment_and_region_become_reads_of_the_locals() -> None:
    names = {"qa": "local.env.environment", "us-east-1": "local.region.aws_region"}
    assert r.generalised("qa", names) == "local.env.environment"
    assert r.generalised("app-qa-us-east-1", names) == '"app-${local.env.environment}-${local.region.aws_region}"'
    assert r.generalised("quality", names) == "quality"  # not a delimited name
    assert r.generalised("mysql_qa", names) == '"mysql_${local.env.environment}"'
    assert r.generalised("${not} qa", names) == '"$${not} ${local.env.environment}"'


def test_pins_are_split_from_sources() -> None:
    assert r.split_pin("tfr:///acme/net/aws?version=1.1.0") == ("tfr:///acme/net/aws", "1.1.0")
    assert r.split_pin("git::https://git.example.com/m.git//network?ref=v1.4.0") == (
        "git::https://git.example.com/m.git//network",
        "v1.4.0",
    )
    assert r.module_name("git::https://git.example.com/m.git//network", []) == "network"
    assert r.module_name("tfr:///acme/net/aws", []) == "net"
    assert r.module_name("tfr:///acme/net/aws", ["_envcommon/vpc.hcl"]) == "vpc"


def test_dependency_reads_are_kept_as_expressions_only_when_they_read_nothing_else() -> None:
    assert r.dependency_reads("dependency.vpc.outputs.vpc_id")
    assert r.dependency_reads("[dependency.a.outputs.x, dependency.b.outputs.y]")
    assert not r.dependency_reads("dependency.vpc.outputs.ids[local.index]")
    text = (TREES / "accounts" / "_envcommon" / "app.hcl").read_text()
    found = r.input_expressions(text)
    assert found["vpc_id"][0] == "dependency.vpc.outputs.vpc_id"
    assert text.splitlines()[found["vpc_id"][1] - 1].strip().startswith("vpc_id")


def test_what_cannot_be_modelled_is_located() -> None:
    path = "dev/us-east-1/service/terragrunt.hcl"
    text = (TREES / "envs" / path).read_text()
    found = {(w.line, w.message.split(" ")[0]) for w in r.unmodelled(path, text)}
    lines = text.splitlines()
    hook = next(i for i, line in enumerate(lines, 1) if "before_hook" in line)
    command = next(i for i, line in enumerate(lines, 1) if "run_cmd" in line)
    assert (hook, "a") in found and (command, "run_cmd") in found


def test_hierarchy_locals_are_read_literally() -> None:
    text = (TREES / "accounts" / "nonprod" / "account.hcl").read_text()
    assert r.hcl_locals(text) == {"account_name": "nonprod", "aws_account_id": "111111111111"}


def _unit(key: str, dependency: str, source: str = "tfr:///a/b/aws?version=1.0.0") -> dict[str, object]:
    return {
        "terraform": {"source": source},
        "inputs": {"name": "x"},
        "dependency": {"vpc": {"config_path": dependency, "mock_outputs": {"id": "vpc-1"}}},
        "remote_state": {
            "backend": "s3",
            "config": {"bucket": "b", "key": key, "enable_lock_table_ssencryption": False},
        },
    }


def test_the_comparison_names_each_attribute_that_moved() -> None:
    source = {"dev/us-east-1/app": _unit("dev/us-east-1/app/tf.tfstate", "../vpc"), "dev/us-east-1/vpc": {}}
    directories = {
        "dev/us-east-1/app": "environments/dev/us-east-1/u/app",
        "dev/us-east-1/vpc": "environments/dev/us-east-1/u/vpc",
    }
    same = {
        "environments/dev/us-east-1/u/app": _unit("dev/us-east-1/app/tf.tfstate", "../vpc"),
        "environments/dev/us-east-1/u/vpc": {},
    }
    (app, vpc) = compare(source, same, directories)
    assert app.identical and vpc.identical  # the explicit false is Terragrunt's default
    moved = {
        "environments/dev/us-east-1/u/app": _unit("environments/dev/us-east-1/u/app/terraform.tfstate", "../../x/vpc"),
        "environments/dev/us-east-1/u/vpc": {},
    }
    (app, _vpc) = compare(source, moved, directories)
    found = {d.attribute: (d.source, d.imported) for d in app.differences}
    assert found["remote_state.config.key"] == (
        "dev/us-east-1/app/tf.tfstate",
        "environments/dev/us-east-1/u/app/terraform.tfstate",
    )
    assert found["dependencies"] == (["dev/us-east-1/vpc"], ["environments/dev/us-east-1/x/vpc"])
    assert not compare(source, {}, directories)[0].imported  # missing from the rendered tree


def test_locals_with_logic_are_located_and_hierarchy_reads_are_not() -> None:
    path = "prod/us-east-1/app/primary/terragrunt.hcl"
    text = (TREES / "layers" / path).read_text()
    found = [(w.line, w.message) for w in r.unmodelled(path, text)]
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.strip().startswith("retention"))
    assert found == [(line, "local.retention has logic: the value it gave each unit was imported")]
    root = (TREES / "accounts" / "root.hcl").read_text()
    assert not [w for w in r.unmodelled("root.hcl", root) if "logic" in w.message]


def test_a_dependency_on_another_environment_is_located() -> None:
    app = (
        'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\ndependency "db" {\n  config_path = "x"\n}\n'
    )
    files = {"dev/us-east-1/app/terragrunt.hcl": app.encode(), "prod/us-east-1/db/terragrunt.hcl": b""}
    units: dict[str, dict[str, Any]] = {
        "dev/us-east-1/app": {
            "terraform": {"source": "tfr:///a/app/aws?version=1.0.0"},
            "dependency": {"db": {"config_path": "../../../prod/us-east-1/db"}},
        },
        "prod/us-east-1/db": {"terraform": {"source": "tfr:///a/db/aws?version=1.0.0"}},
    }
    found = r.recover(units, files, "p", Path("/src"), Path("/out"))
    (warning,) = [w for w in found.warnings if "another environment" in w.message]
    assert (warning.path, warning.line) == ("dev/us-east-1/app/terragrunt.hcl", 4)
    assert "dependencies" not in found.environments["units"]["app"]
