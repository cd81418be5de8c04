"""`tfgen affected`: precision on the reference project, destroy order, the views and
the errors. The brute-force comparison with Terragrunt is tests/features/test_affected_oracle.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from generator import api
from generator.api import affected
from generator.cli import main
from generator.features.affected import _reads

from ..conftest import REPO
from .test_affected_oracle import git


def repository(tmp_path: Path) -> Path:
    """The reference project committed to a new repository; returns environments.yaml."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(REPO / "environments.yaml", root / "environments.yaml")
    shutil.copytree(REPO / "catalog", root / "catalog")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return root / "environments.yaml"


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert old in text
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def addresses(result: object, action: str = "apply") -> dict[str, list[str]]:
    groups = getattr(result, action)
    return {e.unit.address: list(e.reasons) for g in groups for e in g.entries}


def test_a_prod_sizing_change_lists_the_units_that_read_it_and_their_dependents(tmp_path: Path) -> None:
    config = repository(tmp_path)
    edit(config, "db_instance_class: db.r6g.large,", "db_instance_class: db.r6g.xlarge,")
    result = affected(config, base="main")
    listed = addresses(result)
    # The databases read the class; what depends on a database follows it.
    dependents = ("orders-api", "cpu-alarm-database", "storage-alarm-database", "cpu-alarm-cluster", "events")
    assert set(listed) == {f"prod/{region}/{unit}" for region in ("us-east-1", "eu-west-1")
                           for unit in ("rds", *dependents)}
    reason = 'environments/prod/env.hcl: local.env.sizing.db_instance_class changed: "db.r6g.large" -> "db.r6g.xlarge"'
    assert listed["prod/us-east-1/rds"] == [reason]
    # The DR replica reads the class itself and follows its us-east-1 source.
    assert listed["prod/eu-west-1/rds"] == [reason, "depends on prod/us-east-1/rds"]
    assert listed["prod/us-east-1/orders-api"] == ["depends on prod/us-east-1/rds"]
    assert listed["prod/eu-west-1/events"] == ["depends on prod/eu-west-1/rds"]
    assert result.changed_files == ("environments/prod/env.hcl",)
    assert [g.environment for g in result.apply] == ["prod"]
    waves = [[e.unit.address for e in wave] for wave in result.apply[0].waves]
    assert waves == [["prod/us-east-1/rds"],
                     [*(f"prod/us-east-1/{u}" for u in dependents), "prod/eu-west-1/rds"],
                     [f"prod/eu-west-1/{u}" for u in dependents]]


def test_a_shared_template_change_lists_every_unit(tmp_path: Path) -> None:
    config = repository(tmp_path)
    templates = config.parent / "templates"
    templates.mkdir()
    text = (REPO / "templates" / "root.hcl.j2").read_text(encoding="utf-8")
    changed = text.replace("\nremote_state {", '\nterraform_binary = "tofu"\n\nremote_state {')
    (templates / "root.hcl.j2").write_text(changed, encoding="utf-8")
    result = affected(config, base="main")
    project = api.load(config).project
    listed = addresses(result)
    assert len(listed) == len(project.units) == 78
    assert all(r[0] == 'root.hcl changed: terraform_binary: (none) -> "tofu"' for r in listed.values())
    assert [g.environment for g in result.apply] == ["dev", "staging", "uat", "prod"]


def test_a_removed_region_is_destroyed_dependents_first(tmp_path: Path) -> None:
    config = repository(tmp_path)
    text = config.read_text(encoding="utf-8")
    start, end = text.index("      eu-west-1:\n"), text.index("    # Every prod unit")
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    result = affected(config, base="main")
    assert not result.apply
    (group,) = result.destroy
    waves = [[e.unit.name for e in wave] for wave in group.waves]
    assert waves == [["orders-api", "cpu-alarm-database", "storage-alarm-database", "cpu-alarm-cluster", "events"],
                     ["rds", "ecs-cluster", "alb", "alerts"],
                     ["sg-database", "kms-rds", "ecs-capacity", "certificate"], ["sg-service", "sg-ecs-instances"],
                     ["sg-alb"], ["vpc"]]
    assert all(e.protected and e.unit.region.name == "eu-west-1" for e in group.entries)
    text = CliRunner().invoke(main, ["affected", "-c", str(config), "--base", "main"]).output
    assert "Destroy prod: 17 units in 6 waves" in text
    assert "prod/eu-west-1/vpc                     no longer rendered: destroy (protected)" in text


def test_a_new_region_lists_its_units_as_new(tmp_path: Path) -> None:
    config = repository(tmp_path)
    edit(config, "      us-east-1: { vpc_cidr: 10.10.0.0/16, azs: [a, b, c], role: primary }\n",
         "      us-east-1: { vpc_cidr: 10.10.0.0/16, azs: [a, b, c], role: primary }\n"
         "      us-west-2: { vpc_cidr: 10.11.0.0/16, azs: [a, b] }\n")
    listed = addresses(affected(config, base="main"))
    dev = [u.name for u in api.load(config).project.units if u.address.startswith("dev/us-east-1/")]
    assert len(dev) == 13
    assert set(listed) == {f"dev/us-west-2/{u}" for u in dev}
    assert listed["dev/us-west-2/vpc"] == ["new unit"]
    assert listed["dev/us-west-2/rds"] == ["new unit", "depends on dev/us-west-2/vpc",
                                           "depends on dev/us-west-2/sg-database"]


def test_between_two_commits_and_as_json(tmp_path: Path) -> None:
    config = repository(tmp_path)
    root = config.parent
    edit(root / "catalog" / "data" / "rds.yaml", "version: 6.10.0", "version: 6.11.0")
    git(root, "commit", "-q", "-am", "bump rds")
    config.write_text("not: [valid", encoding="utf-8")  # the working tree is not read
    result = CliRunner().invoke(main, ["affected", "-c", str(config), "--base", "HEAD~1", "--head", "HEAD",
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    envelope = json.loads(result.output)
    assert (envelope["command"], envelope["ok"], envelope["exit_code"], envelope["errors"]) == ("affected", True, 0, [])
    document = envelope["result"]
    assert document["version"] == 1 and document["changed_files"] == ["_envcommon/data/rds.hcl"]
    assert document["environments"] == ["dev", "staging", "uat", "prod"]
    # The four primaries changed; what depends on them (services, alarms, the replica) follows.
    assert document["counts"] == {"apply": 29, "destroy": 0, "moved": 0}
    dev = document["apply"][0]
    assert dev["environment"] == "dev" and dev["regions"] == ["us-east-1"]
    (rds,) = dev["waves"][0]
    assert rds["directory"] == "environments/dev/us-east-1/02-data/rds" and rds["changed"] is True
    assert rds["reasons"] == ['_envcommon/data/rds.hcl changed: terraform.source: '
                              '"tfr:///terraform-aws-modules/rds/aws?version=6.10.0" -> '
                              '"tfr:///terraform-aws-modules/rds/aws?version=6.11.0"']


def rename_alerts(config: Path) -> None:
    """alerts renamed alerts-topic, keeping its state (previous:), and what reads it."""
    edit(config, "      alerts: { tags: *dr }\n", "      alerts-topic: { tags: *dr }\n")
    edit(config, "  alerts:\n    module: monitoring/alerts\n",
         "  alerts-topic:\n    module: monitoring/alerts\n    previous: alerts\n")
    for module in ("metric-alarm", "events"):
        edit(config.parent / "catalog" / "monitoring" / f"{module}.yaml", "unit: alerts\n", "unit: alerts-topic\n")


MOVED = [("dev", "us-east-1"), ("staging", "us-east-1"), ("uat", "us-east-1"), ("prod", "us-east-1"),
         ("prod", "eu-west-1")]
ALARMS = ("cpu-alarm-database", "storage-alarm-database", "cpu-alarm-cluster", "events")


def test_a_rename_is_listed_as_moved_never_destroyed_and_touches_only_the_moved_units(tmp_path: Path) -> None:
    config = repository(tmp_path)
    rename_alerts(config)
    result = affected(config, base="main")
    assert not result.destroy
    listed = addresses(result)
    # The moved units and the alarms that read their outputs (their dependency path
    # changed); no other unit: root.hcl, which every unit reads, is untouched.
    assert set(listed) == {f"{e}/{r}/{u}" for e, r in MOVED for u in ("alerts-topic", *ALARMS)}
    old = "environments/prod/eu-west-1/05-monitoring/alerts"
    assert listed["prod/eu-west-1/alerts-topic"] == [f"moved: {old} -> {old}-topic (state key kept)"]
    assert "root.hcl" not in result.changed_files
    moved = {e.unit.address: e.moved_from.directory for e in result.moved if e.moved_from is not None}
    assert moved == {f"{e}/{r}/alerts-topic": f"environments/{e}/{r}/05-monitoring/alerts" for e, r in MOVED}
    text = CliRunner().invoke(main, ["affected", "-c", str(config), "--base", "main"]).output
    assert text.startswith("Affected units from main to working tree: 25 to apply (5 moved, state kept), "
                           "0 to destroy")
    assert "destroy" not in text.split("\n", 1)[1]
    assert f"prod/eu-west-1/alerts-topic            moved: {old} -> {old}-topic (state key kept)" in text
    output = CliRunner().invoke(main, ["affected", "-c", str(config), "--base", "main", "--format", "json"]).output
    document = json.loads(output)["result"]
    assert document["counts"] == {"apply": 25, "destroy": 0, "moved": 5}
    assert document["destroy"] == []
    entries = {e["address"]: e for g in document["apply"] for w in g["waves"] for e in w}
    assert entries["prod/eu-west-1/alerts-topic"]["moved_from"] == old
    assert entries["prod/eu-west-1/alerts-topic"]["state_key"] == f"{old}/terraform.tfstate"
    assert entries["prod/eu-west-1/events"]["moved_from"] is None


def test_a_unit_removed_beside_a_rename_is_still_destroyed(tmp_path: Path) -> None:
    config = repository(tmp_path)
    rename_alerts(config)
    edit(config, "    units:\n", "    units:\n      events: false\n")  # dev's units
    result = affected(config, base="main")
    destroyed = addresses(result, "destroy")
    assert destroyed == {"dev/us-east-1/events": ["no longer rendered: destroy"]}


def test_nothing_changed(tmp_path: Path) -> None:
    config = repository(tmp_path)
    edit(config, "# tfgen reference project", "# the tfgen reference project")  # a comment only
    result = CliRunner().invoke(main, ["affected", "-c", str(config), "--base", "main"])
    assert result.exit_code == 0
    assert result.output == ("Affected units from main to working tree: 0 to apply, 0 to destroy "
                             "(0 rendered files changed).\n")


def test_a_project_that_did_not_exist_at_base_is_all_new(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README").write_text("x\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "empty")
    project = root / "infra"
    project.mkdir()
    shutil.copy2(REPO / "environments.yaml", project / "environments.yaml")
    shutil.copytree(REPO / "catalog", project / "catalog")
    result = affected(project / "environments.yaml", base="main")
    assert len(addresses(result)) == 78 and result.destroy == ()


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    config = repository(tmp_path)
    runner = CliRunner()
    unknown = runner.invoke(main, ["affected", "-c", str(config), "--base", "no-such-branch"])
    assert unknown.exit_code == 2
    assert unknown.output.strip().endswith("unknown git revision 'no-such-branch'")
    assert len(unknown.output.strip().splitlines()) == 1
    config.write_text("version: 1\nproject: [\n", encoding="utf-8")
    git(config.parent, "commit", "-q", "-am", "broken")
    broken = runner.invoke(main, ["affected", "-c", str(config), "--base", "HEAD", "--head", "HEAD"])
    assert broken.exit_code == 2
    assert broken.output.startswith("HEAD:environments.yaml:"), broken.output
    outside = tmp_path / "plain"
    outside.mkdir()
    shutil.copy2(REPO / "environments.yaml", outside / "environments.yaml")
    nogit = runner.invoke(main, ["affected", "-c", str(outside / "environments.yaml"), "--base", "main"])
    assert nogit.exit_code == 2 and "not inside a git repository" in nogit.output
    assert "Traceback" not in unknown.output + broken.output + nogit.output


def test_locals_read_another_way_count_as_reading_everything() -> None:
    standard = 'locals {\n  env = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals\n}\n' \
               "inputs = { size = local.env.sizing.db_storage_gb }\n# a comment naming region.hcl\n"
    assert _reads(standard) == {"env": {("sizing", "db_storage_gb")}, "region": set(), "tenant": set()}
    other = 'inputs = { all = read_terragrunt_config(find_in_parent_folders("env.hcl")).locals.sizing }\n'
    assert _reads(other)["env"] == {()}
    exposed = "inputs = { x = include.envcommon.locals.region.settings[\"a\"] }\n"
    assert _reads(exposed)["region"] == {("settings",)}


def test_an_error_with_format_json_is_the_one_envelope(tmp_path: Path) -> None:
    config = repository(tmp_path)
    result = CliRunner().invoke(main, ["affected", "-c", str(config), "--base", "no-such-branch", "--format", "json"])
    assert result.exit_code == 2
    envelope = json.loads(result.output)
    shape = (envelope["command"], envelope["ok"], envelope["exit_code"], envelope["result"])
    assert shape == ("affected", False, 2, None)
    assert [e["message"] for e in envelope["errors"]] == ["unknown git revision 'no-such-branch'"]
