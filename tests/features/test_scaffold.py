"""tfgen init: a new project that validates and renders as it is, never overwrites a
file, and points editors at the JSON Schemas it writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.errors import display_path
from generator.features.scaffold import project_name_for
from generator.project import schema

from ..conftest import tree

MODELINE = "# yaml-language-server: $schema="


def init(runner: CliRunner, target: Path, *args: str) -> str:
    result = runner.invoke(main, ["init", str(target), *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def test_the_scaffold_validates_renders_and_graphs(runner: CliRunner, tmp_path: Path, hclfmt: str) -> None:
    target = tmp_path / "my-infra"
    output = init(runner, target)
    assert sorted(tree(target)) == [
        ".gitignore",
        ".tfgen/catalog.schema.json",
        ".tfgen/environments.schema.json",
        "README.md",
        "catalog/.tfgen-modules.lock.json",
        "catalog/data/postgres.yaml",
        "catalog/networking/vpc.yaml",
        "environments.yaml",
    ]
    created = [line.removeprefix("created ") for line in output.splitlines() if line.startswith("created ")]
    assert sorted(created) == sorted(display_path(target / p) for p in tree(target))
    assert "tfgen validate" in output and "tfgen render" in output
    config = target / "environments.yaml"
    valid = runner.invoke(main, ["validate", "-c", str(config)])
    assert valid.exit_code == 0, valid.output
    assert "valid: 1 environments, 1 regions, 2 units from 2 modules" in valid.output
    assert not api.validate(config, strict=True).warnings
    rendered = runner.invoke(main, ["render", "-c", str(config)])
    assert rendered.exit_code == 0, rendered.output
    files = sorted(p for p in tree(target / "output") if p.endswith(".hcl"))
    assert files == [
        "_envcommon/data/postgres.hcl",
        "_envcommon/networking/vpc.hcl",
        "environments/dev/env.hcl",
        "environments/dev/us-east-1/01-network/vpc/terragrunt.hcl",
        "environments/dev/us-east-1/02-data/database/terragrunt.hcl",
        "environments/dev/us-east-1/region.hcl",
        "root.hcl",
    ]
    for path in files:  # canonical HCL, as for every rendered tree
        check = subprocess.run([hclfmt, "-check", "-require-no-change", str(target / "output" / path)], check=False)
        assert check.returncode == 0, path
    again = runner.invoke(main, ["render", "-c", str(config)])
    assert "0 created, 0 changed" in again.output
    graph = runner.invoke(main, ["graph", "-c", str(config)])
    assert graph.exit_code == 0
    assert "dev/us-east-1/database  needs vpc" in graph.output
    # the README's next step works as written
    explained = runner.invoke(main, ["explain", "-c", str(config), "dev/us-east-1/database", "instance_class"])
    assert explained.exit_code == 0, explained.output
    assert "tfgen explain dev/us-east-1/database" in (target / "README.md").read_text(encoding="utf-8")
    assert 'local.env.sizing.db_instance_class = "db.t3.micro"' in explained.output


def test_options_give_several_environments_and_regions(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "estate"
    init(runner, target, "--environments", "dev,staging,prod", "--region", "us-east-1,eu-west-1", "--project", "acme")
    project = api.validate(target / "environments.yaml", strict=True).project
    assert project.name == "acme"
    assert [e.name for e in project.environments] == ["dev", "staging", "prod"]
    for env in project.environments:
        assert [(r.name, r.role) for r in env.regions] == [("us-east-1", "primary"), ("eu-west-1", "dr")]
    cidrs = [r.vpc_cidr for e in project.environments for r in e.regions]
    assert len(set(cidrs)) == 6
    assert len({e.account_id for e in project.environments}) == 3
    prod = project.environment("prod")
    dev = project.environment("dev")
    assert prod is not None and dev is not None
    assert (prod.deletion_protection, prod.multi_az, prod.sizing_tier) == (True, True, "large")
    assert (dev.deletion_protection, dev.multi_az, dev.sizing_tier) == (False, False, "small")
    assert project.state["region"] == "us-east-1"
    result = api.render(target / "environments.yaml")
    assert result.count("created") == 1 + 2 + 3 + 6 + 12  # root, envcommon, env.hcl, region.hcl, units


def test_repeated_region_options_are_accepted(runner: CliRunner, tmp_path: Path) -> None:
    init(runner, tmp_path / "p", "--region", "eu-central-1", "--region", "eu-west-1")
    project = api.validate(tmp_path / "p" / "environments.yaml").project
    assert [r.name for r in project.environments[0].regions] == ["eu-central-1", "eu-west-1"]


def test_init_never_overwrites_a_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "existing"
    (target / "catalog" / "data").mkdir(parents=True)
    (target / "environments.yaml").write_text("mine\n", encoding="utf-8")
    (target / "catalog" / "data" / "postgres.yaml").write_text("mine too\n", encoding="utf-8")
    before = tree(target)
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 2
    assert f"{target / 'environments.yaml'}: already exists" in result.stderr
    assert f"{target / 'catalog' / 'data' / 'postgres.yaml'}: already exists" in result.stderr
    assert "Traceback" not in result.output
    assert tree(target) == before  # nothing written, not even the files that were free


def test_init_twice_refuses_and_names_every_file(runner: CliRunner, tmp_path: Path) -> None:
    init(runner, tmp_path / "p")
    before = tree(tmp_path / "p")
    second = runner.invoke(main, ["init", str(tmp_path / "p")])
    assert second.exit_code == 2
    assert second.stderr.count("already exists") == 8  # the module lock and .gitignore among them
    assert tree(tmp_path / "p") == before


def test_init_in_the_current_directory_uses_its_name(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "Platform_Infra"
    target.mkdir()
    (target / "notes.txt").write_text("unrelated files may stay\n", encoding="utf-8")
    monkeypatch.chdir(target)
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    assert "Next: put your AWS account ids" in result.output
    assert api.validate(target / "environments.yaml").project.name == "platform-infra"
    assert (target / "notes.txt").read_text(encoding="utf-8") == "unrelated files may stay\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--region", "us-est-1"], "--region 'us-est-1': not an AWS region (did you mean us-east-1, us-west-1"),
        (["--project", "My_Project"], "--project 'My_Project': lowercase letters, digits and '-'"),
        (["--environments", "dev,dev"], "--environments: a name is repeated"),
        (["--environments", "Dev"], "--environments: 'Dev' is not a name"),
        (["--environments", ","], "--environments: name at least one environment"),
    ],
)
def test_bad_options_are_exit_2_and_write_nothing(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(main, ["init", str(tmp_path / "p"), *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "p").exists()


def test_init_refuses_a_file_as_directory(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = runner.invoke(main, ["init", str(tmp_path / "file")])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_yaml_files_point_editors_at_the_schemas_tfgen_writes(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "p"
    init(runner, target)
    expected = {
        "environments.yaml": schema.schema_text(schema.ENVIRONMENTS),
        "catalog/networking/vpc.yaml": schema.schema_text(schema.CATALOG),
        "catalog/data/postgres.yaml": schema.schema_text(schema.CATALOG),
    }
    for name, text in expected.items():
        first = (target / name).read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(MODELINE), name
        schema_path = (target / name).parent / first.removeprefix(MODELINE)  # relative to the YAML file
        assert schema_path.read_text(encoding="utf-8") == text, name
        json.loads(text)
    # the same files `tfgen schema -o` writes
    out = tmp_path / "schema.json"
    assert runner.invoke(main, ["schema", "--catalog", "-o", str(out)]).exit_code == 0
    assert out.read_text(encoding="utf-8") == (target / ".tfgen" / "catalog.schema.json").read_text(encoding="utf-8")


def test_project_names_from_directory_names() -> None:
    assert project_name_for(Path("/x/My_Infra")) == "my-infra"
    assert project_name_for(Path("/x/2024--Platform..Stack-")) == "platform-stack"
    assert project_name_for(Path("/x/123")) == "infra"
