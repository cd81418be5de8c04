"""`tfgen rehearse`: the tree applied, re-applied and destroyed by Terragrunt and OpenTofu
against a local S3 (moto), stand-in modules and tfgen's stand-in AWS provider.

The end-to-end tests need Terragrunt, OpenTofu and the stand-in provider
(``eval "$(bash scripts/build-tools.sh --env)"``) and moto (the rehearse extra): they
fail under CI=true when one is missing and skip with that hint elsewhere."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.rehearse import server, standins
from generator.rehearse import tools as tools_module
from generator.rehearse._local_s3 import _patch_update_table, applicable
from generator.rehearse.errors import CannotRehearse
from generator.rehearse.run import (
    Options,
    Report,
    _find_output,
    local_project,
    non_local_urls,
    rehearse,
    remote_endpoints,
)
from generator.rehearse.server import available
from generator.rehearse.versions import satisfying

from .conftest import CASES, IN_CI, REPO

GOLDEN = CASES / "rehearsal"
HINT = 'eval "$(bash scripts/build-tools.sh --env)"; pip install -e ".[rehearse]"'


# --- pieces, no tools needed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("constraint", "version"),
    [("~> 5.0", "5.999.0"), ("~> 5.62.1", "5.62.999"), ("= 5.1.0", "5.1.0"), (">= 5.0, < 5.5", "5.4.999"),
     ("< 4.0", "3.999.0"), (None, "5.999.0")],
)
def test_the_stand_in_provider_takes_a_version_the_constraint_accepts(constraint: str | None, version: str) -> None:
    assert satisfying(constraint) == version


def test_an_impossible_constraint_is_an_error() -> None:
    with pytest.raises(ValueError, match="no version"):
        satisfying(">= 6.0, < 5.0")


def test_outputs_carry_the_address_of_the_unit_that_produced_them() -> None:
    mock = {"ids": ["sg-1", 2], "name": "x", "ok": True}
    assert standins.tagged(mock, "qa/us-west-2/net") == {
        "ids": ["sg-1@qa/us-west-2/net", 2], "name": "x@qa/us-west-2/net", "ok": True,
    }


def test_a_stand_in_escapes_template_sequences_and_declares_every_input() -> None:
    module = standins.standin("e/r/u", {"name": "a", "count_of": 3, "gone": None}, {"out": "${not} %{this}"})
    assert module["output"]["out"]["value"] == "$${not} %%{this}"
    assert module["variable"] == {
        "count_of": {"type": "any"}, "gone": {"type": "any", "default": None}, "name": {"type": "string"},
    }
    resource = module["resource"]["terraform_data"]["inputs"]
    assert resource["input"] == {"count_of": "${var.count_of}", "gone": "${var.gone}", "name": "${var.name}"}
    assert [p["local-exec"].get("when") for p in resource["provisioner"]] == [None, "destroy"]


def test_an_output_is_found_whole_or_by_the_attribute_an_input_read() -> None:
    inputs = {"load_balancer": {"service": {"target_group_arn": "arn:tg-app"}}, "subnets": ["s-1", "s-2"]}
    assert _find_output(inputs, ["s-1", "s-2"]) == ("", "subnets")
    assert _find_output(inputs, {"app": {"arn": "arn:tg-app", "id": "tg-1"}}) == (
        '["app"].arn', "load_balancer.service.target_group_arn")
    assert _find_output(inputs, {"app": {"arn": "arn:elsewhere"}}) == ("", None)
    assert _find_output(inputs, "s-2") == ("", "subnets[1]")


@pytest.mark.parametrize(("name", "bad"), [("odd key", True), ("count", True), ("9lives", True), ("db_name", False)])
def test_inputs_no_module_can_declare_are_named(name: str, bad: bool) -> None:
    assert bool(standins.name_problem(name)) is bad


def test_the_source_is_redirected_only_when_the_unit_has_no_terraform_block(tmp_path: Path) -> None:
    unit = tmp_path / "terragrunt.hcl"
    unit.write_text('include "root" {\n  path = "x"\n}\n')
    standins.redirect(unit, tmp_path / "standin")
    assert f'source = "{tmp_path / "standin"}"' in unit.read_text()
    with pytest.raises(ValueError, match="own terraform block"):
        standins.redirect(unit, tmp_path / "standin")


def test_endpoints_that_leave_the_machine_are_found() -> None:
    config = {"bucket": "b", "endpoints": {"s3": "https://127.0.0.1:9000", "sts": "https://sts.amazonaws.com"},
              "dynamodb_endpoint": "http://localhost:8000", "iam_endpoint": "https://iam.example.com"}
    assert remote_endpoints(config) == ["endpoints.sts = https://sts.amazonaws.com",
                                        "iam_endpoint = https://iam.example.com"]
    assert non_local_urls('s3 = "https://127.0.0.1:1" sts = "https://evil.example:443/x"') == ["https://evil.example:443/x"]


def test_endpoints_of_a_generated_provider_are_found_and_tag_values_are_not() -> None:
    from generator.rehearse.run import _provider_endpoints

    contents = (
        'provider "aws" {\n  default_tags {\n    tags = {\n      Repo = "https://git.example/infra"\n    }\n  }\n'
        '  endpoints {\n    s3  = "https://127.0.0.1:9000"\n    sts = "https://sts.amazonaws.com"\n  }\n'
        '  # endpoint = "https://commented.example"\n  sts_endpoint = "https://sts.example"\n}\n'
    )
    assert _provider_endpoints(contents) == ["https://sts.amazonaws.com", "https://sts.example"]


def test_bucket_policies_apply_a_statement_only_when_its_conditions_hold() -> None:
    tls = {"Sid": "EnforcedTLS", "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    root = {"Sid": "RootAccess", "Effect": "Allow"}
    assert applicable({"Statement": [tls, root]})["Statement"] == [root]
    secure = {"Sid": "X", "Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": ["true"]}}}
    assert applicable({"Statement": [secure]})["Statement"] == [{"Sid": "X", "Effect": "Deny"}]


def test_the_local_server_encrypts_a_lock_table_as_update_table_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Terragrunt's bootstrap encrypts the lock table with UpdateTable, then waits until
    DescribeTable reports it: moto alone never does, so every unit would time out."""
    import boto3
    from moto import mock_aws
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(DynamoHandler, "update_table", DynamoHandler.update_table)  # restored after the test
    _patch_update_table()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-west-2")
        client.create_table(
            TableName="locks", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        )
        assert "SSEDescription" not in client.describe_table(TableName="locks")["Table"]
        client.update_table(TableName="locks", SSESpecification={"Enabled": True, "SSEType": "KMS"})
        described = client.describe_table(TableName="locks")["Table"]["SSEDescription"]
        assert described["Status"] == "ENABLED" and described["SSEType"] == "KMS"
        assert described["KMSMasterKeyArn"].startswith("arn:aws:kms:us-west-2:")


def test_state_endpoint_renders_an_s3_compatible_backend(copy_case) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    text = config.read_text().replace("  encrypt: true\n", "  encrypt: true\n  endpoint: https://minio.example:9000\n"
                                      "  dynamodb_endpoint: https://dynamo.example:8000\n")
    config.write_text(text)
    api.render(config)
    root = (config.parent / "output" / "root.hcl").read_text()
    endpoints = '    endpoints = {\n      s3       = "https://minio.example:9000"\n'
    assert endpoints + '      dynamodb = "https://dynamo.example:8000"\n    }\n' in root
    for line in ("use_path_style              = true", "skip_credentials_validation = true",
                 "skip_requesting_account_id  = true", 'dynamodb_table                 = "rehearsal-locks"'):
        assert line in root


def test_a_malformed_state_endpoint_is_a_one_line_error(copy_case, runner) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    config.write_text(config.read_text().replace("  encrypt: true\n", "  encrypt: true\n  endpoint: minio:9000\n"))
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "state.endpoint" in result.output and ":" in result.output.splitlines()[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("  role_arn: \"arn:aws:iam::{account_id}:role/{project}-terragrunt\"\n", ""), None),
        (("{account_id}:role/{project}", "000000000022:role/{project}"),
         "qa would assume a role in account 000000000022, not its own (000000000011)"),
        (("role/{project}-terragrunt", "role/{team}-terragrunt"), "unknown placeholder {team}"),
        (("    account_id: \"000000000011\"\n", "    account_id: \"000000000011\"\n    role_arn: nope\n"),
         "environments.qa.role_arn"),
    ],
    ids=["none", "wrong-account", "unknown-placeholder", "not-an-arn"],
)
def test_role_arn_is_validated(copy_case, runner, edit: tuple[str, str], message: str | None) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    text = config.read_text()
    assert edit[0] in text
    config.write_text(text.replace(edit[0], edit[1]))
    result = runner.invoke(main, ["validate", "-c", str(config)])
    if message is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_state_in_each_region_needs_a_bucket_per_region(copy_case, runner) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    config.write_text(config.read_text().replace("-{region}-tfstate", "-tfstate"))
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "state.bucket: state.region is {region}, so every region needs its own bucket" in result.output


@pytest.mark.parametrize(
    ("logs", "message"),
    [
        ("{project}-logs-{team}", "state.access_logging_bucket: unknown placeholder {team}"),
        ("{project}-{env}-{account_id}-logs", "state.access_logging_bucket: state.region is {region}, so each "
         "region's state bucket needs an access-logging bucket in that region: the name must hold {region}"),
        ("{project}-{env}-{account_id}-{region}-tfstate", "the access-logging bucket of qa/us-west-2 is its state "
         "bucket: it would log its own log writes"),
        ("{project}-{env}-{account_id}-{region}-Logs", "the access-logging bucket of qa/us-west-2, "
         "'rehearsal-qa-000000000011-us-west-2-Logs', may hold only lowercase letters"),
        ("{project}-{env}-{account_id}-{region}-logs", None),
    ],
)
def test_the_access_logging_bucket_is_checked_like_the_state_bucket(  # type: ignore[no-untyped-def]
    copy_case, runner, logs: str, message: str | None
) -> None:
    config = copy_case("rehearsal")
    text = config.read_text().replace("  encrypt: true\n", f'  encrypt: true\n  access_logging_bucket: "{logs}"\n')
    config.write_text(text)
    result = runner.invoke(main, ["render", "-c", str(config)])
    assert "Traceback" not in result.output
    if message is None:
        assert result.exit_code == 0, result.output
        root = (config.parent / "output" / "root.hcl").read_text()
        assert ('accesslogging_bucket_name      = "rehearsal-${local.env.environment}-${local.env.account_id}-'
                '${local.region.aws_region}-logs"') in root
    else:
        assert result.exit_code == 2 and message in result.output, result.output
        assert not (config.parent / "output").exists()


def test_state_in_each_region_renders_the_units_region(copy_case) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    api.render(config)
    root = (config.parent / "output" / "root.hcl").read_text()
    assert "    region                         = local.region.aws_region\n" in root
    assert '"rehearsal-${local.env.environment}-${local.env.account_id}-${local.region.aws_region}-tfstate"' in root


def test_every_environment_assumes_a_role_or_none_does(copy_case, runner) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    text = config.read_text().replace("  role_arn: \"arn:aws:iam::{account_id}:role/{project}-terragrunt\"\n", "")
    text = text.replace("    sizing: large\n", "    sizing: large\n    role_arn: arn:aws:iam::000000000022:role/x\n")
    config.write_text(text)
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "qa assumes no role while live does (role_arn)" in result.output


def test_the_rehearsal_replaces_any_endpoint_of_the_user_with_the_local_one() -> None:
    project = api.load(GOLDEN / "environments.yaml").project
    local = local_project(project, "https://127.0.0.1:1")
    assert local.state["endpoint"] == local.state["dynamodb_endpoint"] == "https://127.0.0.1:1"
    assert local.state["bucket"] == project.state["bucket"] and local.state["lock"] == "dynamodb"


# --- the rehearsal itself --------------------------------------------------------------


@pytest.fixture(scope="module")
def tools() -> tuple[str, str, str]:
    """Terragrunt, OpenTofu and the stand-in provider ($TERRAGRUNT, $TOFU,
    $TFGEN_REHEARSAL_PROVIDER, else built or found cached by scripts/build-tools.sh)."""
    problems = [] if available() else ["moto[server] is not installed"]
    try:
        found = tools_module.find()
    except CannotRehearse as error:
        problems.append(str(error.diagnostics[0].message))
    if problems:
        message = f"{'; '.join(problems)}: {HINT}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)
    return found.terragrunt, found.tofu, found.provider


def _rehearse(config: Path, tools: tuple[str, str, str], keep: Path | None = None) -> Report:
    started = time.perf_counter()
    report = rehearse(Options(config, *tools, keep=keep))
    print(f"rehearsal of {config}: {time.perf_counter() - started:.1f} s wall")
    return report


def _failures(report: Report) -> str:
    return "\n".join(f"{f.step} {f.unit}: {f.message}" for f in report.failures)


@pytest.mark.slow
def test_the_reference_project_rehearses(tools: tuple[str, str, str], tmp_path: Path) -> None:
    report = _rehearse(REPO / "environments.yaml", tools, keep=tmp_path / "scratch")
    assert report.ok, _failures(report)
    project = api.load(REPO / "environments.yaml").project
    assert [s.name for s in report.steps] == [
        "render", "check endpoints", "check state objects", "stand-ins", "apply", "provider", "state", "flows",
        "apply again", "destroy", "protection", "order",
    ]
    # One state object per unit, at the unit's own key, and nothing else (no lock left).
    expected = {f"{u.directory}/terraform.tfstate" for u in project.units}
    assert {o.split("/", 3)[3] for o in report.state_objects} == expected
    assert len(report.state_objects) == len(project.units) == 78
    # Every wired input received its dependency's output from state, tagged by its producer.
    flows = {(f.source, f.output, f.target, f.input) for f in report.flows}
    assert ("prod/eu-west-1/rds", "db_instance_address", "prod/eu-west-1/orders-api",
            "container_definitions.app.environment[0].value") in flows
    # dev overrides the wired vpc_zone_identifier with the public subnets: that output flows.
    assert ("dev/us-east-1/vpc", "public_subnets", "dev/us-east-1/ecs-capacity", "vpc_zone_identifier") in flows
    assert ("prod/us-east-1/vpc", "private_subnets", "prod/us-east-1/ecs-capacity", "vpc_zone_identifier") in flows
    # The DR replica names its us-east-1 source by the ARN in the primary's state.
    assert ("prod/us-east-1/rds", "db_instance_arn", "prod/eu-west-1/rds", "replicate_source_db") in flows
    # One attribute of a map output: the target group the service registers with.
    assert ("prod/eu-west-1/alb", 'target_groups["app"].arn', "prod/eu-west-1/orders-api",
            "load_balancer.service.target_group_arn") in flows
    assert all(f.ok for f in report.flows)
    assert len(report.flows) == 137
    assert not [n for n in report.notes if "target_groups" in n]
    # prevent_destroy kept every unit of uat and prod; dev and staging are gone.
    kept = {u.address.split("/")[0] for u in report.units if u.kept}
    destroyed = {u.address.split("/")[0] for u in report.units if u.destroyed_at}
    assert kept == {"uat", "prod"} and destroyed == {"dev", "staging"}
    # Resources were created dependencies first and destroyed dependents first.
    by_address = {u.address: u for u in report.units}
    for unit in project.units:
        for wire in project.wiring.get(unit.key, ()):
            mine, theirs = by_address[unit.address], by_address[wire.target.address]
            assert theirs.applied_at is not None and mine.applied_at is not None
            assert theirs.applied_at < mine.applied_at
            if mine.destroyed_at or theirs.destroyed_at:
                assert mine.destroyed_at and theirs.destroyed_at and mine.destroyed_at < theirs.destroyed_at
    # The scratch copy carries the stand-ins; the user's output/ is untouched.
    unit_file = "environments/dev/us-east-1/01-network/vpc/terragrunt.hcl"
    assert "tfgen rehearse: the stand-in module" in (tmp_path / "scratch" / "tree" / unit_file).read_text()
    assert "tfgen rehearse" not in (REPO / "output" / unit_file).read_text()


@pytest.mark.slow
def test_the_golden_project_rehearses_across_regions_with_a_lock_table(  # type: ignore[no-untyped-def]
    tools: tuple[str, str, str], runner
) -> None:
    env = dict(zip(("TERRAGRUNT", "TOFU", "TFGEN_REHEARSAL_PROVIDER"), tools, strict=True))
    result = runner.invoke(main, ["rehearse", "-c", str(GOLDEN / "environments.yaml"), "--format", "json"], env=env)
    document = json.loads(result.output)
    assert document["command"] == "rehearse" and document["exit_code"] == result.exit_code
    report = document["result"]
    assert result.exit_code == 0, report["failures"]
    assert report["ok"] and report["scratch"] is None
    flows = {(f["source"], f["output"], f["target"], f["input"]) for f in report["flows"]}
    # The DR region's watcher read the primary region's database from its state.
    assert ("live/us-west-2/db", "db_instance_address", "live/us-east-1/watcher", "primary_endpoint") in flows
    assert ("live/us-east-1/network", "extra_security_group_id", "live/us-east-1/db", "vpc_security_group_ids[1]") \
        in flows
    assert {u["address"] for u in report["units"] if u["kept"]} == {
        "live/us-west-2/network", "live/us-west-2/db", "live/us-east-1/network", "live/us-east-1/db",
        "live/us-east-1/watcher",
    }
    assert "locking: DynamoDB table rehearsal-locks in each of 3 account/region pairs (bootstrapped by " \
        "Terragrunt), 7 state digests" in report["notes"]
    # state.region "{region}": each region's buckets were created in that region.
    assert "state placement: rehearsal-live-000000000022-us-east-1-tfstate in us-east-1, " \
        "rehearsal-live-000000000022-us-west-2-tfstate in us-west-2, " \
        "rehearsal-qa-000000000011-us-west-2-tfstate in us-west-2" in report["notes"]
    # One run spanned both accounts: each environment's state is in its own account.
    for name, account in (("qa", "000000000011"), ("live", "000000000022")):
        role = f"arn:aws:iam::{account}:role/rehearsal-terragrunt"
        assert f"credentials: {name} assumed {role}; its state is in {account}" in report["notes"]
    assert len(report["state_objects"]) == 7


@pytest.mark.slow
def test_a_second_apply_that_changes_something_fails(tools: tuple[str, str, str], copy_case) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    watcher = config.parent / "catalog" / "apps" / "watcher.yaml"
    watcher.write_text(watcher.read_text() + "  started: !hcl timestamp()\n")
    report = _rehearse(config, tools)
    assert not report.ok
    assert [(f.step, f.unit) for f in report.failures] == [("apply again", "live/us-east-1/watcher")]
    assert "planned changes" in report.failures[0].message


@pytest.mark.slow
def test_it_refuses_a_tree_that_reaches_a_real_endpoint(tools: tuple[str, str, str], copy_case) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    templates = config.parent / "templates"
    templates.mkdir()
    root = (REPO / "templates" / "root.hcl.j2").read_text()
    root = root.replace("  config = {\n", '  config = {\n    sts_endpoint = "https://sts.us-west-2.amazonaws.com"\n')
    (templates / "root.hcl.j2").write_text(root)
    report = _rehearse(config, tools)
    assert not report.ok
    assert [s.name for s in report.steps] == ["render", "check endpoints"]
    assert {f.message for f in report.failures} == {"remote state sts_endpoint = https://sts.us-west-2.amazonaws.com"}
    assert "refused to run: the tree would reach a non-local endpoint" in report.notes


@pytest.mark.slow
def test_a_provider_block_for_the_wrong_region_and_account_fails(tools: tuple[str, str, str], copy_case) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    (config.parent / "templates").mkdir()
    root = (REPO / "templates" / "root.hcl.j2").read_text()
    assert "{{ provider }}" in root
    (config.parent / "templates" / "root.hcl.j2").write_text(
        root.replace("{{ provider }}", 'provider "aws" {\n  region = "us-west-2"\n}\n')
    )
    report = _rehearse(config, tools)
    assert [s.name for s in report.steps][-1] == "provider" and not report.ok
    failures = {(f.unit, f.message) for f in report.failures}
    assert ("live/us-east-1/db", "provider region is 'us-west-2', expected 'us-east-1'") in failures
    assert ("qa/us-west-2/db", "provider allowed_account_ids is None, expected ['000000000011']") in failures
    assert not any(f.unit.startswith("qa/") and "region" in f.message for f in report.failures)


@pytest.mark.slow
def test_the_provider_pin_in_versions_override_works_with_modules_that_declare_their_own(
    tools: tuple[str, str, str],
) -> None:
    """The pin is versions_override.tf: the stand-ins declare their own requirement on
    hashicorp/aws, as registry modules do, and OpenTofu takes the override's."""
    report = _rehearse(GOLDEN / "environments.yaml", tools)
    assert report.ok, _failures(report)
    assert report.steps[3].detail == "7 stand-in modules, each requiring hashicorp/aws"
    assert not any("Duplicate required providers" in n for n in report.notes)


@pytest.mark.slow
def test_a_pin_in_a_plain_file_is_noted_as_clashing_with_registry_modules(  # type: ignore[no-untyped-def]
    tools: tuple[str, str, str], copy_case
) -> None:
    config = copy_case("rehearsal")
    (config.parent / "templates").mkdir()
    root = (REPO / "templates" / "root.hcl.j2").read_text()
    assert 'path      = "versions_override.tf"' in root
    root = root.replace('path      = "versions_override.tf"', 'path      = "versions.tf"')
    (config.parent / "templates" / "root.hcl.j2").write_text(root)
    report = _rehearse(config, tools)
    assert report.ok, _failures(report)
    assert report.steps[3].detail == "7 stand-in modules"
    assert any("fails with 'Duplicate required providers configuration'" in n for n in report.notes)


@pytest.mark.slow
def test_it_refuses_units_that_share_one_state_object_before_applying(  # type: ignore[no-untyped-def]
    tools: tuple[str, str, str], copy_case
) -> None:
    """A custom root.hcl.j2 whose key forgets the unit's directory: every unit of an
    environment and region evaluates to one state object. validate cannot see it; the
    rehearsal says which units and which object, before OpenTofu's lock errors."""
    config = copy_case("rehearsal")
    (config.parent / "templates").mkdir()
    root = (REPO / "templates" / "root.hcl.j2").read_text()
    assert "{{ name | hcl_key }} = {{ value | hcl }}" in root
    shared = root.replace(
        "    {{ name | hcl_key }} = {{ value | hcl }}",
        '{% if name == "key" %}\n    key = "${local.env.environment}/${local.region.aws_region}/terraform.tfstate"\n'
        "{% else %}\n    {{ name | hcl_key }} = {{ value | hcl }}\n{% endif %}",
    )
    (config.parent / "templates" / "root.hcl.j2").write_text(shared)
    assert runner_validates(config)
    report = _rehearse(config, tools)
    assert not report.ok
    assert [s.name for s in report.steps] == ["render", "check endpoints", "check state objects"]
    first = report.failures[0]
    assert first.step == "check state objects"
    assert first.message.startswith(f"{first.unit} and ")
    assert re.search(r" share one state object, s3://[a-z0-9-]+/[a-z]+/[a-z0-9-]+/terraform\.tfstate: ", first.message)
    assert "refused to run: two units would share one state object" in report.notes
    assert not any("multiple users" in f.message for f in report.failures)


def runner_validates(config: Path) -> bool:
    return CliRunner().invoke(main, ["validate", "-c", str(config)]).exit_code == 0


@pytest.mark.slow
def test_the_stand_in_provider_refuses_a_role_outside_the_allowed_accounts(  # type: ignore[no-untyped-def]
    tools: tuple[str, str, str], copy_case
) -> None:
    config = copy_case("rehearsal")
    (config.parent / "templates").mkdir()
    root = (REPO / "templates" / "root.hcl.j2").read_text()
    assert "{{ provider }}EOF" in root
    stray = (
        'provider "aws" {\n  region = "${local.region.aws_region}"\n'
        '  allowed_account_ids = ["${local.env.account_id}"]\n'
        '  assume_role {\n    role_arn = "arn:aws:iam::999999999999:role/stray"\n  }\n}\n'
    )
    (config.parent / "templates" / "root.hcl.j2").write_text(root.replace("{{ provider }}EOF", stray + "EOF"))
    report = _rehearse(config, tools)
    assert not report.ok and report.steps[-1].name == "apply"
    messages = " ".join(f.message for f in report.failures)
    assert "assume_role.role_arn is in account 999999999999, not in allowed_account_ids" in messages


@pytest.mark.slow
def test_an_input_no_module_can_declare_fails_with_its_unit(tools: tuple[str, str, str]) -> None:
    report = _rehearse(CASES / "every-key" / "environments.yaml", tools)
    assert not report.ok
    assert {(f.step, f.unit) for f in report.failures} == {
        ("stand-ins", "test/us-west-2/network"), ("stand-ins", "live/us-west-2/network"),
        ("stand-ins", "live/us-east-1/network"),
    }
    assert "'odd key' is not a valid variable name" in report.failures[0].message


def test_without_the_tools_it_says_what_to_run(runner, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(tools_module, "BUILD_SCRIPT", tmp_path / "missing.sh")
    env = {"TERRAGRUNT": "", "TOFU": "", "TFGEN_REHEARSAL_PROVIDER": "", "PATH": str(tmp_path)}
    result = runner.invoke(main, ["rehearse", "-c", str(GOLDEN / "environments.yaml")], env=env)
    assert result.exit_code == 2
    assert "$TFGEN_REHEARSAL_PROVIDER" in result.output and "build-tools.sh --env" in result.output
    assert shutil.which("terragrunt", path=str(tmp_path)) is None


# --- renames and moves keep their state ------------------------------------------------


def _renamed(config: Path, *, previous: str | None) -> Path:
    """The project with unit db renamed to database (and what reads it)."""
    text = config.read_text()
    extra = f", previous: {previous}" if previous else ""
    assert "  db: { module: data/postgres }\n" in text
    renamed = f"  database: {{ module: data/postgres{extra} }}\n"
    config.write_text(text.replace("  db: { module: data/postgres }\n", renamed))
    watcher = config.parent / "catalog" / "apps" / "watcher.yaml"
    watcher.write_text(watcher.read_text().replace("unit: db\n", "unit: database\n"))
    return config


def test_a_rename_with_previous_keeps_the_state_key_and_deletes_the_old_files(copy_case, runner) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    assert runner.invoke(main, ["render", "-c", str(config)]).exit_code == 0
    _renamed(config, previous="db")
    result = runner.invoke(main, ["render", "-c", str(config)])
    assert result.exit_code == 0, result.output
    # live is protected, yet its old files go: the state stays at the old key.
    assert "moved live/us-east-1/database: environments/live/us-east-1/02-data/db -> " \
        "environments/live/us-east-1/02-data/database (its state key stays)" in result.output
    out = config.parent / "output"
    assert not (out / "environments/live/us-east-1/02-data/db").exists()
    # The kept key is in the moved unit's own leaf: root.hcl, which every unit reads, is
    # the same bytes as before the rename.
    assert "moved" not in (out / "root.hcl").read_text() and "previous" not in (out / "root.hcl").read_text()
    leaf = (out / "environments/live/us-east-1/02-data/database/terragrunt.hcl").read_text()
    assert ('key = replace(include.root.remote_state.config.key, "environments/live/us-east-1/02-data/database", '
            '"environments/live/us-east-1/02-data/db")') in leaf
    assert 'path   = find_in_parent_folders("root.hcl")\n  expose = true\n' in leaf
    result = runner.invoke(main, ["render", "-c", str(config), "--check", "--format", "json"])
    assert json.loads(result.output)["result"]["moved"] == []  # nothing left to move


def test_a_rename_without_previous_is_refused_in_a_protected_environment(copy_case, runner) -> None:  # type: ignore[no-untyped-def]
    config = copy_case("rehearsal")
    assert runner.invoke(main, ["render", "-c", str(config)]).exit_code == 0
    _renamed(config, previous=None)
    result = runner.invoke(main, ["render", "-c", str(config)])
    assert result.exit_code == 1 and "deletion_protection: true" in result.output
    assert "renamed or moved? give the unit previous: OLD-NAME (or LAYER/NAME)" in result.output


def test_previous_may_not_name_a_unit_that_still_exists(copy_case, runner) -> None:  # type: ignore[no-untyped-def]
    config = _renamed(copy_case("rehearsal"), previous="01-network/network")
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert result.exit_code == 2
    assert "units.database.previous: database would keep the state of network, which still exists" in result.output


@pytest.mark.slow
def test_apply_rename_apply_replaces_no_terraform_data(tools: tuple[str, str, str], copy_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = copy_case("rehearsal")
    after = tmp_path / "after"
    shutil.copytree(before.parent, after)
    _renamed(after / "environments.yaml", previous="db")
    report = rehearse(Options(before, *tools, then=after / "environments.yaml"))
    assert report.ok, _failures(report)
    names = [s.name for s in report.steps]
    assert names[names.index("flows") + 1 :] == [
        "then: render", "then: stand-ins", "then: apply", "then: state", "apply again", "destroy", "protection",
        "order",
    ]
    assert {u.address for u in report.units} >= {"live/us-east-1/database", "qa/us-west-2/database"}
    assert len(report.state_objects) == 7 and all("/02-data/db/" in o for o in report.state_objects if "02-data" in o)
    # ... and without previous, the renamed units start from an empty state.
    plain = tmp_path / "plain"
    shutil.copytree(after, plain)
    (plain / "environments.yaml").write_text((plain / "environments.yaml").read_text().replace(", previous: db", ""))
    report = rehearse(Options(before, *tools, then=plain / "environments.yaml"))
    assert not report.ok
    assert [f.step for f in report.failures] == ["then: apply"]
    assert report.failures[0].message.startswith("3 terraform_data replaced or created: ")


def _edited(config: Path, old: str, new: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


_DR = "      us-east-1: { vpc_cidr: 10.23.0.0/16, azs: [a, b], role: dr }\n"


def _dr_units(units: str) -> str:
    return ("      us-east-1:\n        vpc_cidr: 10.23.0.0/16\n        azs: [a, b]\n        role: dr\n"
            f"        units: {units}\n")


@pytest.mark.slow
def test_one_unit_of_a_protected_environment_goes_the_way_the_refusal_says(  # type: ignore[no-untyped-def]
    tools: tuple[str, str, str], runner, tmp_path: Path
) -> None:
    """Issue 21 item 3, each step: removing live/us-east-1/db (protected live) is refused
    with the advice; apply, lift the protection of that unit alone with the override the
    advice names, apply (the database's deletion_protection input goes false in place),
    destroy (only that unit of live goes), remove it from the YAML (its files are pruned)."""
    base = tmp_path / "base"
    shutil.copytree(GOLDEN, base, ignore=shutil.ignore_patterns("expected", "expected-*"))
    lifted = tmp_path / "lifted"
    shutil.copytree(base, lifted)
    _edited(lifted / "environments.yaml", _DR, _dr_units("{ db: { deletion_protection: false } }"))

    # The refusal names exactly that override.
    assert runner.invoke(main, ["render", "-c", str(base / "environments.yaml")]).exit_code == 0
    _edited(base / "environments.yaml", _DR, _dr_units("{ db: false }"))
    refused = runner.invoke(main, ["render", "-c", str(base / "environments.yaml")])
    assert refused.exit_code == 1
    assert "give unit db the override `environments.live.regions.us-east-1.units.db: {deletion_protection: false}`" \
        in refused.stderr
    _edited(base / "environments.yaml", _dr_units("{ db: false }"), _DR)

    # apply, lift, apply, destroy.
    report = rehearse(Options(base / "environments.yaml", *tools, then=lifted / "environments.yaml"))
    assert report.ok, _failures(report)
    steps = [s.name for s in report.steps]
    assert steps.index("apply") < steps.index("then: render") < steps.index("then: apply") < steps.index("destroy")
    assert "then: apply: updated in place (inputs changed): live/us-east-1/db" in report.notes
    kept = {u.address for u in report.units if u.kept}
    assert kept == {"live/us-west-2/network", "live/us-west-2/db", "live/us-east-1/network", "live/us-east-1/watcher"}
    assert "live/us-east-1/db" in {u.address for u in report.units if u.destroyed_at}

    # remove it: the lifted render is pruned when the unit goes.
    config = lifted / "environments.yaml"
    assert runner.invoke(main, ["render", "-c", str(config)]).exit_code == 0
    directory = lifted / "output/environments/live/us-east-1/02-data/db"
    assert "prevent_destroy = true" not in (directory / "terragrunt.hcl").read_text()
    _edited(config, "units: { db: { deletion_protection: false } }", "units: { db: false }")
    removed = runner.invoke(main, ["render", "-c", str(config)])
    assert removed.exit_code == 0, removed.output
    assert not directory.exists()
    assert (lifted / "output/environments/live/us-east-1/01-network/network/terragrunt.hcl").is_file()


def _fake_checkout(tmp_path: Path, body: str) -> Path:
    """A checkout's scripts/build-tools.sh that runs *body* (and the directory it needs)."""
    (tmp_path / "rehearsal" / "provider").mkdir(parents=True)
    script = tmp_path / "scripts" / "build-tools.sh"
    script.parent.mkdir()
    script.write_text("set -e\n" + body)
    return script


def test_building_the_tools_says_what_and_how_long(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With $TERRAGRUNT/$TOFU unset, the build of a pip-installed checkout ran silently for
    minutes: now each line of the build's progress is relayed, framed by what is built
    and how long it took."""
    binaries = {}
    for name in ("terragrunt", "tofu", "provider"):
        binaries[name] = tmp_path / "bin" / name
        binaries[name].parent.mkdir(exist_ok=True)
        binaries[name].write_text("#!/bin/sh\n")
        binaries[name].chmod(0o755)
    script = _fake_checkout(tmp_path, (
        'echo "terragrunt v1.1.3: building from github.com/gruntwork-io/terragrunt@v1.1.3" >&2\n'
        'echo "terragrunt v1.1.3: built in 301 s" >&2\n'
        f'echo "export TERRAGRUNT={binaries["terragrunt"]}"\n'
        f'echo "export TOFU={binaries["tofu"]}"\n'
        f'echo "export TFGEN_REHEARSAL_PROVIDER={binaries["provider"]}"\n'
    ))
    monkeypatch.setattr(tools_module, "BUILD_SCRIPT", script)
    for name in ("TERRAGRUNT", "TOFU", "TFGEN_REHEARSAL_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TFGEN_TOOLS_DIR", str(tmp_path / "cache"))
    heard: list[str] = []
    found = tools_module.find(say=heard.append)
    assert (found.terragrunt, found.tofu, found.provider) == tuple(str(b) for b in binaries.values())
    assert heard[0] == (f"tfgen rehearse: $TERRAGRUNT, $TOFU, $TFGEN_REHEARSAL_PROVIDER not set: {script} provides "
                        f"Terragrunt, OpenTofu, tfgen's stand-in AWS provider, building what {tmp_path / 'cache'} "
                        "does not hold yet (a first build compiles Go for about 10-15 minutes on 2 cores; from the "
                        "cache it takes a second)")
    assert heard[1:3] == ["  terragrunt v1.1.3: building from github.com/gruntwork-io/terragrunt@v1.1.3",
                          "  terragrunt v1.1.3: built in 301 s"]
    assert re.fullmatch(r"tfgen rehearse: tools ready in \d+\.\d s", heard[3]), heard


def test_a_failed_build_says_so_on_the_command_line(runner, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = _fake_checkout(tmp_path, 'echo "build-tools: go is not on PATH; install Go 1.24+" >&2\nexit 2\n')
    monkeypatch.setattr(tools_module, "BUILD_SCRIPT", script)
    env = {"TERRAGRUNT": "", "TOFU": "", "TFGEN_REHEARSAL_PROVIDER": "", "PATH": f"{tmp_path}:/usr/bin:/bin"}
    result = runner.invoke(main, ["rehearse", "-c", str(GOLDEN / "environments.yaml")], env=env)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("tfgen rehearse: $TERRAGRUNT, $TOFU, $TFGEN_REHEARSAL_PROVIDER not set: ")
    assert lines[1] == "  build-tools: go is not on PATH; install Go 1.24+"
    assert re.fullmatch(r"tfgen rehearse: building the tools failed after \d+ s \(exit 2\)", lines[2])
    assert "(build-tools.sh failed: build-tools: go is not on PATH; install Go 1.24+)" in lines[3]


def test_without_moto_the_hint_installs_it_into_tfgens_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`pip install 'terragrunt-tfgen[rehearse]'` works as written where tfgen is installed,
    a checkout's editable install too (pip adds the extra to the installed distribution);
    the hint names this interpreter's pip and the checkout's own command."""
    monkeypatch.setattr(server, "available", lambda: False)
    with pytest.raises(CannotRehearse) as raised:
        server.LocalS3(tmp_path).start()
    hint = raised.value.diagnostics[0].hint
    assert f"{sys.executable} -m pip install 'terragrunt-tfgen[rehearse]'" in hint
    assert f"{sys.executable} -m pip install -e '.[rehearse]'" in hint
