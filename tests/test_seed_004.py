"""Seed 004's tables, as Terragrunt itself evaluates the reference project's inputs.

``terragrunt render --all --json`` (mock dependency outputs, no state read) gives every
unit's inputs; the security-group rules, listener protocols per environment, the DR
database's replica source, alarm thresholds, log retention and tags must be the seed's.
Under CI=true Terragrunt is required (scripts/build-tools.sh); elsewhere the tests skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator import api

from .conftest import REPO, need_tool
from .realclient import Client, find_tool, write_tree

pytestmark = [pytest.mark.external, pytest.mark.slow]

ENVS = ("dev", "staging", "uat", "prod")
REGIONS = {"dev": ("us-east-1",), "staging": ("us-east-1",), "uat": ("us-east-1",), "prod": ("us-east-1", "eu-west-1")}
LAYERS = {
    "vpc": "01-network", "sg-alb": "01-network", "sg-service": "01-network", "sg-database": "01-network",
    "sg-ecs-instances": "01-network", "rds": "02-data", "ecs-cluster": "03-services", "ecs-capacity": "03-services",
    "alb": "03-services", "orders-api": "04-apps", "alerts": "05-monitoring", "cpu-alarm-database": "05-monitoring",
    "storage-alarm-database": "05-monitoring", "cpu-alarm-cluster": "05-monitoring", "events": "05-monitoring",
}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """{"<env>/<region>/<unit>": Terragrunt's terragrunt.rendered.json} of the reference project."""
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    result = api.load(REPO / "environments.yaml")
    root = write_tree(api.plan(result).desired, tmp_path_factory.mktemp("seed004") / "output")
    rendered = Client(terragrunt, tofu).render_all(root)
    found: dict[str, dict[str, Any]] = {}
    for directory, data in rendered.items():
        parts = Path(directory).parts  # environments/<env>/<region>/<layer>/<unit>
        found[f"{parts[1]}/{parts[2]}/{parts[4]}"] = data
    return found


def inputs(evaluated: dict[str, dict[str, Any]], address: str) -> dict[str, Any]:
    result: dict[str, Any] = evaluated[address]["inputs"]
    return result


def test_every_seed_unit_is_evaluated(evaluated: dict[str, dict[str, Any]]) -> None:
    for env in ENVS:
        for region in REGIONS[env]:
            for unit in LAYERS:
                present = f"{env}/{region}/{unit}" in evaluated
                # dev runs no service, so no load balancer in front of one
                assert present == (env != "dev" or unit not in ("alb", "orders-api")), (env, region, unit)


def test_security_groups_follow_the_seed_network_rules(evaluated: dict[str, dict[str, Any]]) -> None:
    for env in ENVS:
        for region in REGIONS[env]:
            at = f"{env}/{region}"
            alb = inputs(evaluated, f"{at}/sg-alb")
            assert {(r["from_port"], r["to_port"], r["protocol"], r["cidr_blocks"]) for r in
                    alb["ingress_with_cidr_blocks"]} == {(80, 80, "tcp", "0.0.0.0/0"), (443, 443, "tcp", "0.0.0.0/0")}
            service = inputs(evaluated, f"{at}/sg-service")
            # from the load balancer's group only (the mock id of sg-alb's output)
            assert [(r["from_port"], r["source_security_group_id"]) for r in
                    service["ingress_with_source_security_group_id"]] == [(80, "sg-0000000000000a1b0")]
            assert "ingress_with_cidr_blocks" not in service
            database = inputs(evaluated, f"{at}/sg-database")
            assert [(r["from_port"], r["to_port"], r["source_security_group_id"]) for r in
                    database["ingress_with_source_security_group_id"]] == [(5432, 5432, "sg-00000000000005e50")]
            assert "egress_rules" not in database and "egress_with_cidr_blocks" not in database
            instances = inputs(evaluated, f"{at}/sg-ecs-instances")
            assert "ingress_with_cidr_blocks" not in instances
            assert [(r["from_port"], r["cidr_blocks"]) for r in instances["egress_with_cidr_blocks"]] == [
                (443, "0.0.0.0/0")
            ]
            # the database and the instances use these groups, not the VPC's rule-less default
            rds = inputs(evaluated, f"{at}/rds")
            assert rds["vpc_security_group_ids"] == ["sg-000000000000000db"]
            assert inputs(evaluated, f"{at}/ecs-capacity")["security_groups"] == ["sg-0000000000000ec20"]


def test_dev_instances_reach_the_control_plane_through_public_subnets(evaluated: dict[str, dict[str, Any]]) -> None:
    vpc = inputs(evaluated, "dev/us-east-1/vpc")
    assert (vpc["enable_nat_gateway"], vpc["map_public_ip_on_launch"]) == (False, True)
    assert inputs(evaluated, "dev/us-east-1/ecs-capacity")["vpc_zone_identifier"][0] == "subnet-0000000000000000a"
    for env in ("staging", "uat", "prod"):
        assert inputs(evaluated, f"{env}/us-east-1/vpc")["map_public_ip_on_launch"] is False
        subnets = inputs(evaluated, f"{env}/us-east-1/ecs-capacity")["vpc_zone_identifier"]
        assert subnets[0] == "subnet-00000000000000001"


def test_the_ecs_image_matches_the_tier_architecture(evaluated: dict[str, dict[str, Any]]) -> None:
    base = "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/"
    for env, suffix in (("dev", ""), ("staging", ""), ("uat", ""), ("prod", "arm64/")):
        capacity = inputs(evaluated, f"{env}/us-east-1/ecs-capacity")
        assert capacity["image_id"] == f"{base}{suffix}recommended/image_id", env
    assert inputs(evaluated, "prod/us-east-1/ecs-capacity")["instance_type"] == "m6g.large"


def test_listeners_are_https_only_in_uat_and_prod(evaluated: dict[str, dict[str, Any]]) -> None:
    for env in ("staging", "uat", "prod"):
        for region in REGIONS[env]:
            listeners = inputs(evaluated, f"{env}/{region}/alb")["listeners"]
            if env == "staging":
                assert listeners == {"http": {"port": 80, "protocol": "HTTP", "forward": {"target_group_key": "app"}}}
                continue
            assert listeners["http"]["redirect"] == {"port": "443", "protocol": "HTTPS", "status_code": "HTTP_301"}
            assert "forward" not in listeners["http"]
            https = listeners["https"]
            assert (https["port"], https["protocol"]) == (443, "HTTPS")
            assert https["certificate_arn"].startswith(f"arn:aws:acm:{region}:")


def test_the_dr_database_is_a_replica_of_the_primary(evaluated: dict[str, dict[str, Any]]) -> None:
    replica = evaluated["prod/eu-west-1/rds"]
    assert replica["dependency"]["primary"]["config_path"] == "../../../us-east-1/02-data/rds"
    assert replica["inputs"]["replicate_source_db"] == "arn:aws:rds:us-east-1:000000000000:db:mock-postgres"
    assert replica["inputs"]["kms_key_id"] == "arn:aws:kms:eu-west-1:444444444444:alias/aws/rds"
    assert "username" not in replica["inputs"] and "db_name" not in replica["inputs"]
    assert "replicate_source_db" not in inputs(evaluated, "prod/us-east-1/rds")
    # standby-sized: one instance and one task until a failover scales it up
    assert inputs(evaluated, "prod/eu-west-1/ecs-capacity")["min_size"] == 1
    assert inputs(evaluated, "prod/eu-west-1/orders-api")["desired_count"] == 1
    assert inputs(evaluated, "prod/us-east-1/ecs-capacity")["min_size"] == 3
    # IAM names are global: each region's monitoring role has its own
    roles = {inputs(evaluated, f"prod/{r}/rds")["monitoring_role_name"] for r in REGIONS["prod"]}
    assert len(roles) == 2


def test_alarms_have_the_seed_thresholds(evaluated: dict[str, dict[str, Any]]) -> None:
    storage = {"dev": 20, "staging": 30, "uat": 50, "prod": 100}
    for env in ENVS:
        for region in REGIONS[env]:
            at = f"{env}/{region}"
            cpu = inputs(evaluated, f"{at}/cpu-alarm-database")
            assert (cpu["metric_name"], cpu["comparison_operator"], cpu["threshold"]) == (
                "CPUUtilization", "GreaterThanThreshold", 80)
            cluster = inputs(evaluated, f"{at}/cpu-alarm-cluster")
            assert (cluster["namespace"], cluster["threshold"]) == ("AWS/ECS", 80)
            low = inputs(evaluated, f"{at}/storage-alarm-database")
            assert (low["metric_name"], low["comparison_operator"]) == ("FreeStorageSpace", "LessThanThreshold")
            assert low["threshold"] == storage[env] * 1024**3 / 10
            rules = inputs(evaluated, f"{at}/events")["rules"]
            failover = json.loads(rules["rds-failover"]["event_pattern"])
            assert failover["detail"]["EventCategories"] == ["failover"]
            tasks = json.loads(rules["ecs-task-failure"]["event_pattern"])
            assert tasks["detail"]["lastStatus"] == ["STOPPED"]
            assert inputs(evaluated, f"{at}/events")["create_role"] is False
            # the monitoring layer is applied after what it watches
            assert set(evaluated[f"{at}/cpu-alarm-database"]["dependencies"]["paths"]) >= {
                "../../03-services/ecs-cluster", "../../03-services/ecs-capacity"}


def test_log_retention_days(evaluated: dict[str, dict[str, Any]]) -> None:
    days = {"dev": 7, "staging": 14, "uat": 14, "prod": 30}
    for env in ENVS:
        assert inputs(evaluated, f"{env}/us-east-1/ecs-cluster")["cloudwatch_log_group_retention_in_days"] == days[env]
        rds = inputs(evaluated, f"{env}/us-east-1/rds")
        assert (rds["cloudwatch_log_group_retention_in_days"], rds["enabled_cloudwatch_logs_exports"]) == (
            7, ["postgresql", "upgrade"])
        if env != "dev":
            app = inputs(evaluated, f"{env}/us-east-1/orders-api")["container_definitions"]["app"]
            assert app["cloudwatch_log_group_retention_in_days"] == days[env]


def test_tags_per_environment_and_unit(evaluated: dict[str, dict[str, Any]]) -> None:
    owners = {"dev": "platform-team", "staging": "platform-team", "uat": "qa-team", "prod": "platform-team"}
    for env in ENVS:
        rds = evaluated[f"{env}/us-east-1/rds"]
        assert rds["inputs"]["tags"] == {
            "Criticality": "high", "BackupRequired": "true",
            "DisasterRecovery": "enabled" if env == "prod" else "disabled", "ManagedByModule": "data/rds",
        }
        provider = rds["generate"]["provider"]["contents"]
        # the provider's default tags: the project's, Environment, and the environment's own
        # (Terragrunt wrote local.env.tags in as a JSON object)
        assert (
            'tags = merge({ Project = "terragrunt-starter", ManagedBy = "Terraform", Environment = "'
            + env + '" }, {"CostAllocation":"' + env + '","Owner":"' + owners[env] + '"})'
        ) in provider
        assert "timestamp()" not in provider
    assert inputs(evaluated, "prod/eu-west-1/rds")["tags"]["ManagedByModule"] == "data/rds-replica"


def test_state_bucket_is_hardened(evaluated: dict[str, dict[str, Any]]) -> None:
    config = evaluated["prod/eu-west-1/rds"]["remote_state"]["config"]
    assert (config["skip_bucket_versioning"], config["encrypt"], config["use_lockfile"]) == (False, True, True)
    assert config["accesslogging_bucket_name"] == "terragrunt-starter-444444444444-tfstate-logs"
