"""Seed 004's tables, as Terragrunt itself evaluates the reference project's inputs.

``terragrunt render --all --json`` (mock dependency outputs, no state read) gives every
unit's inputs; the security-group rules, listener protocols per environment, the DR
database's replica source, alarm thresholds, log retention and tags must be the seed's.
Under CI=true Terragrunt is required (scripts/build-tools.sh); elsewhere the tests skip.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
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
    "sg-ecs-instances": "01-network", "rds": "02-data", "kms-rds": "02-data", "ecs-cluster": "03-services",
    "ecs-capacity": "03-services", "certificate": "03-services", "alb": "03-services", "orders-api": "04-apps",
    "alerts": "05-monitoring", "cpu-alarm-database": "05-monitoring",
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
                # dev runs no service, so no load balancer (nor its certificate) in front of one;
                # the DR database's key is in the DR region only
                expected = env != "dev" or unit not in ("alb", "orders-api", "certificate")
                if unit == "kms-rds":
                    expected = (env, region) == ("prod", "eu-west-1")
                assert present == expected, (env, region, unit)


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
            # the certificate unit's (its mock output here), never a literal ARN
            alb = evaluated[f"{env}/{region}/alb"]
            assert alb["dependency"]["certificate"]["config_path"] == "../certificate"
            assert https["certificate_arn"] == "arn:aws:acm:us-east-1:000000000000:certificate/mock"


def test_the_certificate_unit_issues_the_https_certificates(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defect 7 of issue 23: no placeholder ARN; ACM issues each region's certificate for the
    environment's domain, validated by DNS in its hosted zone (HTTP-only staging: none)."""
    domains = {"staging": "", "uat": "orders.uat.example.com", "prod": "orders.example.com"}
    for env in ("staging", "uat", "prod"):
        for region in REGIONS[env]:
            certificate = inputs(evaluated, f"{env}/{region}/certificate")
            assert certificate["create_certificate"] is (env != "staging")
            assert certificate["domain_name"] == domains[env]
            assert (certificate["validation_method"], certificate["wait_for_validation"]) == ("DNS", True)
            assert re.fullmatch(r"Z[A-Z0-9]{1,31}", certificate["zone_id"]) or env == "staging"
            assert evaluated[f"{env}/{region}/certificate"]["terraform"]["source"] == (
                "tfr:///terraform-aws-modules/acm/aws?version=5.2.0")


def test_the_dr_database_is_a_replica_of_the_primary(evaluated: dict[str, dict[str, Any]]) -> None:
    replica = evaluated["prod/eu-west-1/rds"]
    assert replica["dependency"]["primary"]["config_path"] == "../../../us-east-1/02-data/rds"
    assert replica["inputs"]["replicate_source_db"] == "arn:aws:rds:us-east-1:000000000000:db:mock-postgres"
    # a key ARN from the region's own KMS unit: RDS stores the key ARN, so an alias would be
    # a change (and kms_key_id a replacement) at every plan
    assert replica["dependency"]["kms"]["config_path"] == "../kms-rds"
    assert replica["inputs"]["kms_key_id"] == (
        "arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-0000-0000-000000000000")
    assert ":alias/" not in json.dumps(replica["inputs"])
    # RDS requires it of a replica; and the primary of a replica cannot have its password
    # managed by Secrets Manager
    assert replica["inputs"]["skip_final_snapshot"] is True
    assert replica["inputs"]["manage_master_user_password"] is False
    assert inputs(evaluated, "prod/us-east-1/rds")["manage_master_user_password"] is False
    assert inputs(evaluated, "uat/us-east-1/rds")["manage_master_user_password"] is True
    assert "username" not in replica["inputs"] and "db_name" not in replica["inputs"]
    assert "replicate_source_db" not in inputs(evaluated, "prod/us-east-1/rds")
    # standby-sized: one instance and one task until a failover scales it up
    assert inputs(evaluated, "prod/eu-west-1/ecs-capacity")["min_size"] == 1
    dr = inputs(evaluated, "prod/eu-west-1/orders-api")
    assert (dr["desired_count"], dr["autoscaling_min_capacity"]) == (1, 1)
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


def test_event_rules_match_the_database_by_arn_and_name_targets_once(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defects 2 and 11 of issue 23: eventbridge 3.11.0 keys every target by its name across
    all rules (a repeated name is a duplicate object key); an RDS event names the instance
    by ARN in resources."""
    for env in ENVS:
        for region in REGIONS[env]:
            events = inputs(evaluated, f"{env}/{region}/events")
            names = [target["name"] for targets in events["targets"].values() for target in targets]
            assert len(names) == len(set(names)), names
            failover = json.loads(events["rules"]["rds-failover"]["event_pattern"])
            assert failover["resources"] == ["arn:aws:rds:us-east-1:000000000000:db:mock-postgres"]
            assert "SourceIdentifier" not in failover["detail"]


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
            'tags = merge({ Project = "terragrunt-starter", ManagedBy = "OpenTofu", Environment = "'
            + env + '" }, {"CostAllocation":"' + env + '","Owner":"' + owners[env] + '"})'
        ) in provider
        assert "timestamp()" not in provider
    assert inputs(evaluated, "prod/eu-west-1/rds")["tags"]["ManagedByModule"] == "data/rds-replica"


def test_state_bucket_is_hardened_and_per_region(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defect 13 of issue 23: the DR region's state lives in that region's bucket, so that
    it plans and applies while us-east-1 is down."""
    for region in REGIONS["prod"]:
        config = evaluated[f"prod/{region}/rds"]["remote_state"]["config"]
        assert (config["skip_bucket_versioning"], config["encrypt"], config["use_lockfile"]) == (False, True, True)
        assert (config["bucket"], config["region"]) == (f"terragrunt-starter-444444444444-{region}-tfstate", region)
        assert config["accesslogging_bucket_name"] == f"terragrunt-starter-444444444444-{region}-tfstate-logs"


#: The characters terraform-provider-aws 5.100.0 accepts in a security group's and a rule's
#: description (validSecurityGroupRuleDescription; read from the provider binary).
SG_DESCRIPTION = re.compile(r"^[0-9A-Za-z_ .:/()#,@\[\]+=&;{}!$*-]*$")


def test_security_group_descriptions_are_ones_aws_accepts(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defect 1 of issue 23: an apostrophe in a rule description fails every sg-alb plan."""
    seen = 0
    for address, data in evaluated.items():
        if not data["terraform"]["source"].startswith("tfr:///terraform-aws-modules/security-group/aws"):
            continue
        unit = data["inputs"]
        descriptions = [unit.get("description", "")] + [
            rule.get("description", "")
            for key, rules in unit.items() if key.endswith(("_with_cidr_blocks", "_with_source_security_group_id"))
            for rule in rules
        ]
        for text in descriptions:
            seen += 1
            assert SG_DESCRIPTION.fullmatch(text) and len(text) <= 255, (address, text)
    assert seen > 40


def test_iam_name_prefixes_fit(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defect 3 of issue 23: AWS allows 38 characters in a role's name_prefix; autoscaling
    7.6.0 makes iam_role_name + "-" the prefix (staging's was 40)."""
    for env in ENVS:
        for region in REGIONS[env]:
            capacity = inputs(evaluated, f"{env}/{region}/ecs-capacity")
            assert capacity["iam_role_use_name_prefix"] is True
            assert len(capacity["iam_role_name"] + "-") <= 38, (env, capacity["iam_role_name"])


def test_tasks_run_on_the_instances_architecture(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defect 8 of issue 23: Graviton instances run ARM64 task definitions."""
    for env, arch in (("staging", "X86_64"), ("uat", "X86_64"), ("prod", "ARM64")):
        for region in REGIONS[env]:
            platform = inputs(evaluated, f"{env}/{region}/orders-api")["runtime_platform"]
            assert platform == {"operating_system_family": "LINUX", "cpu_architecture": arch}


def test_service_minimum_and_execution_role(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defects 9 and 12 of issue 23: the module ignores desired_count after creation and
    scales from min(autoscaling_min_capacity, desired_count); the execution role reads no
    parameter or secret."""
    minimum = {"staging": 1, "uat": 1, "prod": 3}
    for env in ("staging", "uat", "prod"):
        service = inputs(evaluated, f"{env}/us-east-1/orders-api")
        assert (service["desired_count"], service["autoscaling_min_capacity"]) == (minimum[env], minimum[env])
        assert service["autoscaling_max_capacity"] >= minimum[env]
        assert (service["task_exec_ssm_param_arns"], service["task_exec_secret_arns"]) == ([], [])


def test_the_instance_group_is_the_clusters_capacity_provider(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defects 10, 14 and 16 of issue 23: ECS scales the group (a capacity provider with
    managed scaling, which Terraform does not undo), the instances join the cluster by its
    name and carry the environment's tags; the service runs there and after the instances."""
    for env in ENVS:
        for region in REGIONS[env]:
            at = f"{env}/{region}"
            cluster = inputs(evaluated, f"{at}/ecs-cluster")
            provider = cluster["autoscaling_capacity_providers"]["ec2"]
            assert evaluated[f"{at}/ecs-cluster"]["dependency"]["capacity"]["config_path"] == "../ecs-capacity"
            assert provider["auto_scaling_group_arn"].startswith("arn:aws:autoscaling:")
            assert provider["managed_scaling"]["status"] == "ENABLED"
            assert provider["default_capacity_provider_strategy"] == {"weight": 1, "base": 0}
            capacity = inputs(evaluated, f"{at}/ecs-capacity")
            assert capacity["ignore_desired_capacity_changes"] is True
            user_data = base64.b64decode(capacity["user_data"]).decode()
            assert f"ECS_CLUSTER={cluster['cluster_name']} " in user_data
            tags = capacity["autoscaling_group_tags"]
            assert {k: tags[k] for k in ("Project", "ManagedBy", "Environment", "CostAllocation", "Owner")} == {
                "Project": "terragrunt-starter", "ManagedBy": "OpenTofu", "Environment": env,
                "CostAllocation": env, "Owner": "qa-team" if env == "uat" else "platform-team"}
            assert tags["AmazonECSManaged"] == "true"
            if env == "dev":
                continue
            service = evaluated[f"{at}/orders-api"]
            assert service["inputs"]["capacity_provider_strategy"]["ec2"]["capacity_provider"] == provider["name"]
            assert "launch_type" not in service["inputs"]
            assert "../../03-services/ecs-capacity" in service["dependencies"]["paths"]


def test_target_group_alerts_and_managed_by(evaluated: dict[str, dict[str, Any]]) -> None:
    """Defect 16 of issue 23: a target group replaced create-before-destroy needs a name
    prefix (at most 6 characters); the alerts topic mails the environment's address."""
    for env in ("staging", "uat", "prod"):
        for region in REGIONS[env]:
            group = inputs(evaluated, f"{env}/{region}/alb")["target_groups"]["app"]
            assert "name" not in group and 0 < len(group["name_prefix"]) <= 6
    emails = {"dev": "platform-alerts@example.com", "uat": "qa-alerts@example.com"}
    for env in ENVS:
        subscriptions = inputs(evaluated, f"{env}/us-east-1/alerts")["subscriptions"]
        assert subscriptions == {"email": {"protocol": "email",
                                           "endpoint": emails.get(env, "platform-alerts@example.com")}}


def test_the_promoted_switch_drops_the_source_and_the_dependency(tmp_path: Path) -> None:
    """Defect 13 of issue 23: promoting the DR database is one unit override (README's
    "Promotion"): the unit then neither names a source nor reads us-east-1's state, keeps
    its key (kms_key_id would replace it) and takes a final snapshot again."""
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    text = (REPO / "environments.yaml").read_text(encoding="utf-8")
    replica = "rds: { module: data/rds-replica }"
    assert text.count(replica) == 1
    promoted = ("rds: { module: data/rds-replica, dependencies: { primary: false }, "
                "inputs: { skip_final_snapshot: false } }")
    (tmp_path / "environments.yaml").write_text(text.replace(replica, promoted), encoding="utf-8")
    before = api.plan(api.load(REPO / "environments.yaml", strict=True)).desired
    files = api.plan(api.load(tmp_path / "environments.yaml", strict=True)).desired
    path = "environments/prod/eu-west-1/02-data/rds/terragrunt.hcl"
    assert "replicate_source_db" in before[path].decode() and "us-east-1" in before[path].decode()
    leaf = files[path].decode()
    assert "replicate_source_db" not in leaf and "us-east-1" not in leaf
    assert 'dependency "kms" {' in leaf and "skip_final_snapshot         = false" in leaf
    # Only the promoted unit changes: every other file of the tree is the same.
    assert {p for p in files if files[p] != before.get(p)} == {path}
