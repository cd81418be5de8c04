"""The seeds as examples (issue 22): ``examples/<seed>/`` is a tfgen project of seed 000,
001 or 003, each with its own catalog of pinned public registry modules and the lock of
their interfaces.

For every example: ``validate --strict`` is clean (every input checked against the locked
variables of its module), the committed ``output/`` is byte-for-byte a render
(``render --check``), the lock holds every pinned version, and no catalog file is a copy
of another that differs only in its wiring. Terragrunt's evaluation of every unit
(inputs against ``tfgen explain``, dependency paths, unique state keys, the DAG) runs in
tests/test_real_client.py, which lists the examples among its projects; here Terragrunt's
evaluation is held against each seed's own terms, and one environment of each example is
rehearsed (applied, re-applied and destroyed against a local S3 with stand-in modules).

Under CI=true Terragrunt, OpenTofu, the stand-in provider and moto are required
(scripts/build-tools.sh; pip install -e '.[rehearse]'); elsewhere those tests skip.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.project.layout import Scope
from generator.rehearse.run import Options, Report, rehearse

from .conftest import REPO, need_tool
from .realclient import Client, find_tool, write_tree
from .test_rehearse import _failures, tools  # noqa: F401 (a fixture)

EXAMPLES_DIR = REPO / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / "environments.yaml").is_file())
#: The environment each example rehearses: the one that deploys every layer.
REHEARSED = {
    "000-phased-tiers": "dev",
    "001-order-analytics": "production",
    "002-client-platform": "staging",
    "003-layered-monorepo": "dev",
}


#: Second project files beside an example, environments.VARIANT.yaml, each rendered into
#: output.VARIANT/ (.ci/run checks them the same way): seed 003's HCP Terraform variant.
VARIANTS = sorted(p.relative_to(EXAMPLES_DIR).as_posix() for p in EXAMPLES_DIR.glob("*/environments.*.yaml"))


def config(name: str) -> Path:
    return EXAMPLES_DIR / name / "environments.yaml"


def test_seed_003_has_its_hcp_terraform_variant() -> None:
    assert VARIANTS == ["003-layered-monorepo/environments.remote.yaml"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_variant_is_valid_and_its_output_is_a_render(variant: str, runner: CliRunner) -> None:
    path = EXAMPLES_DIR / variant
    result = runner.invoke(main, ["validate", "--strict", "-c", str(path)])
    assert result.exit_code == 0, result.output
    output = path.parent / ("output." + path.name.removeprefix("environments.").removesuffix(".yaml"))
    result = runner.invoke(main, ["render", "--check", "-c", str(path), "-o", str(output)])
    assert result.exit_code == 0, result.output


def test_the_four_seeds_are_examples() -> None:
    assert sorted(REHEARSED) == EXAMPLES


# --- the project itself, no external tools ----------------------------------------------


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_is_valid_under_strict(name: str, runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate", "--strict", "--format", "json", "-c", str(config(name))])
    document = json.loads(result.output)
    assert result.exit_code == 0, document["errors"]
    assert document["errors"] == [] and document["warnings"] == []


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_committed_output_is_a_render(name: str, runner: CliRunner) -> None:
    result = runner.invoke(main, ["render", "--check", "-c", str(config(name))])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_lock_holds_every_pinned_registry_module(name: str, runner: CliRunner) -> None:
    result = runner.invoke(main, ["modules", "lock", "--check", "-c", str(config(name))])
    assert result.exit_code == 0, result.output
    project = api.load(config(name)).project
    assert project is not None
    lock = json.loads((EXAMPLES_DIR / name / "catalog" / ".tfgen-modules.lock.json").read_text(encoding="utf-8"))
    locked = {(m["module"], m["source"], m["version"]) for m in lock["modules"]}
    for module in {u.module.id: u.module for u in project.units}.values():
        if module.source.startswith("../") and module.version is None:
            # a module of the example itself (examples/NAME/modules/), read where it is
            assert (EXAMPLES_DIR / name / "modules" / module.source.rsplit("/modules/", 1)[1]).is_dir(), module.id
            continue
        # public registry modules at a pinned release, as the reference catalog's
        assert module.source.startswith("tfr:///"), module.id
        assert re.fullmatch(r"\d+\.\d+\.\d+", module.version or ""), module.id
        assert (module.id, module.source, module.version) in locked, module.id


def _catalog(name: str) -> dict[str, dict[str, Any]]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!hcl", lambda loader, node: ("!hcl", loader.construct_scalar(node)))  # type: ignore[arg-type]
    root = EXAMPLES_DIR / name / "catalog"
    return {
        p.relative_to(root).with_suffix("").as_posix(): yaml.load(p.read_text(encoding="utf-8"), Loader=Loader)
        for p in sorted(root.rglob("*.yaml"))
    }


@pytest.mark.parametrize("name", EXAMPLES)
def test_no_catalog_file_is_a_copy_for_another_wiring(name: str) -> None:
    """A second unit of a module is wired by the unit (its dependencies, layer and
    inputs), not by a copy of the catalog file with other dependencies or another layer."""
    seen: dict[str, str] = {}
    for module, data in _catalog(name).items():
        body = {k: v for k, v in data.items() if k not in ("dependencies", "layer", "description")}
        key = json.dumps(body, sort_keys=True, default=str)
        assert key not in seen, f"catalog/{module} copies catalog/{seen.get(key)} but for its wiring"
        seen[key] = module


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_readme_says_which_seed_what_each_environment_gets_and_what_is_left_out(name: str) -> None:
    readme = (EXAMPLES_DIR / name / "README.md").read_text(encoding="utf-8")
    assert f"seed {name[:3]}" in readme.lower()
    project = api.load(config(name)).project
    assert project is not None
    header = "| | " + " | ".join(e.name for e in project.environments) + " |"
    assert header in readme, f"the README's table of what each environment gets: {header}"
    assert "## Left out" in readme


# --- Terragrunt's own evaluation, in each seed's terms ----------------------------------


def _evaluate(name: str, base: Path) -> dict[str, dict[str, Any]]:
    """{"<env>/<region>/<layer>/<unit>": terragrunt.rendered.json} of an example's tree."""
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    root = write_tree(api.plan(api.load(config(name))).desired, base / "output")
    rendered = Client(terragrunt, tofu).render_all(root)
    return {directory.removeprefix("environments/"): data for directory, data in rendered.items()}


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, Any]]]:
    return {name: _evaluate(name, tmp_path_factory.mktemp(name)) for name in EXAMPLES}


def _units(evaluated: dict[str, dict[str, Any]], env: str) -> dict[str, str]:
    """{unit: layer} of one environment's us-east-1 as Terragrunt found them."""
    found = {}
    for address in evaluated:
        e, _region, layer, unit = address.split("/")
        if e == env:
            found[unit] = layer
    return found


def _depends_on(unit: dict[str, Any]) -> set[str]:
    """The unit directories (<layer>/<unit>) a unit's dependency blocks point at."""
    paths = [b["config_path"] for b in (unit.get("dependency") or {}).values()]
    paths += (unit.get("dependencies") or {}).get("paths") or []
    return {"/".join(Path(p).parts[-2:]) for p in paths}



@pytest.mark.external
@pytest.mark.slow
def test_000_prod_runs_the_frontend_only_and_dev_every_tier(evaluated: dict[str, dict[str, dict[str, Any]]]) -> None:
    tiers = evaluated["000-phased-tiers"]
    assert _units(tiers, "prod") == {
        "pwa-bucket": "02-frontend",
        "pwa-certificate": "02-frontend",
        "pwa-cdn": "02-frontend",
    }
    dev = _units(tiers, "dev")
    assert sorted(set(dev.values())) == ["01-foundation", "02-frontend", "03-data", "04-compute", "05-api"]
    # one s3-bucket module, placed by each unit in its own tier
    assert (dev["logs-bucket"], dev["pwa-bucket"], dev["data-bucket"]) == ("01-foundation", "02-frontend", "03-data")
    assert len(dev) == 17


@pytest.mark.external
@pytest.mark.slow
def test_000_each_tier_depends_only_on_the_tiers_below(evaluated: dict[str, dict[str, dict[str, Any]]]) -> None:
    for address, unit in evaluated["000-phased-tiers"].items():
        layer = address.split("/")[2]
        for target in _depends_on(unit):
            assert target.split("/")[0] <= layer, f"{address} depends on {target}, a later tier"


@pytest.mark.external
@pytest.mark.slow
def test_000_the_compute_tier_reads_the_data_tier(evaluated: dict[str, dict[str, dict[str, Any]]]) -> None:
    tiers = evaluated["000-phased-tiers"]
    handler = tiers["dev/us-east-1/04-compute/api-handler"]["inputs"]
    assert handler["environment_variables"] == {
        "DATABASE_HOST": "mock-aurora.cluster-000000000000.us-east-1.rds.amazonaws.com",
        "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:rds!cluster-mock",
        "REDIS_HOST": "mock-redis.cache.amazonaws.com",
        "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/mock-jobs",
    }
    assert handler["lambda_role"] == "arn:aws:iam::000000000000:role/mock-lambda"
    assert handler["s3_existing_package"] == {"bucket": "mock-artifacts", "key": "lambda/api-handler.zip"}
    # a dependency read in a catalog input reaches the unit: CloudFront's origin is the PWA bucket
    cdn = tiers["prod/us-east-1/02-frontend/pwa-cdn"]
    assert cdn["inputs"]["origin"]["pwa"]["domain_name"] == "mock-pwa.s3.us-east-1.amazonaws.com"
    assert cdn["dependency"]["site"]["config_path"] == "../pwa-bucket"
    aurora = tiers["dev/us-east-1/03-data/aurora"]["inputs"]
    assert aurora["security_group_rules"]["lambda_ingress"]["source_security_group_id"] == "sg-000000000000001a0"


@pytest.mark.external
@pytest.mark.slow
def test_001_the_chain_of_seven_layers(evaluated: dict[str, dict[str, dict[str, Any]]]) -> None:
    pipeline = evaluated["001-order-analytics"]
    assert _units(pipeline, "production") == {
        "vpc": "00-foundation", "sg-lambda": "00-foundation",
        "order-processor-role": "01-iam", "report-generator-role": "01-iam",
        "raw-orders": "02-storage", "reports": "02-storage", "orders": "02-storage",
        "order-processor": "03-api-ingestion", "orders-api": "03-api-ingestion",
        "report-generator": "04-event-processing", "daily-report": "04-event-processing",
        "alerts": "05-notification", "mail": "05-notification",
        "order-processor-errors": "06-monitoring", "report-generator-errors": "06-monitoring",
    }
    for address, unit in pipeline.items():
        for target in _depends_on(unit):
            assert target.split("/")[0] <= address.split("/")[2], f"{address} depends on {target}"
    # one state object per unit (the seed: {module-name}/terraform.tfstate), a DynamoDB lock
    config = pipeline["production/us-east-1/05-notification/alerts"]["remote_state"]["config"]
    assert config["key"] == "environments/production/us-east-1/05-notification/alerts/terraform.tfstate"
    assert config["dynamodb_table"] == "terraform-state-lock"


@pytest.mark.external
@pytest.mark.slow
def test_001_each_lambda_alarm_waits_for_its_own_function(evaluated: dict[str, dict[str, dict[str, Any]]]) -> None:
    pipeline = evaluated["001-order-analytics"]
    at = "production/us-east-1"
    for function, layer in (("order-processor", "03-api-ingestion"), ("report-generator", "04-event-processing")):
        alarm = pipeline[f"{at}/06-monitoring/{function}-errors"]
        assert _depends_on(alarm) == {"05-notification/alerts", f"{layer}/{function}"}
        assert alarm["dependency"]["function"]["config_path"] == f"../../{layer}/{function}"
        assert alarm["inputs"]["alarm_actions"] == ["arn:aws:sns:us-east-1:000000000000:mock-alerts"]
    # the report generator runs as its own role, and only that role writes reports
    generator = pipeline[f"{at}/04-event-processing/report-generator"]
    assert generator["dependency"]["role"]["config_path"] == "../../01-iam/report-generator-role"
    policy = json.loads(pipeline[f"{at}/02-storage/reports"]["inputs"]["policy"])
    condition = policy["Statement"][0]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert condition == "arn:aws:iam::000000000000:role/mock-report-generator"


@pytest.mark.external
@pytest.mark.slow
def test_003_service_a_reads_service_b(evaluated: dict[str, dict[str, dict[str, Any]]]) -> None:
    monorepo = evaluated["003-layered-monorepo"]
    for env in ("dev", "staging", "production"):
        a = monorepo[f"{env}/us-east-1/04-applications/service-a"]
        assert a["dependency"]["service_b"]["config_path"] == "../service-b"
        environment = {v["name"]: v["value"] for v in a["inputs"]["container_definitions"]["app"]["environment"]}
        assert environment == {
            "DATABASE_HOST": "mock-postgres.internal",
            "JOBS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/000000000000/mock-jobs",
            "SERVICE_B_NAME": "service-b",
            "SERVICE_B_ARN": "arn:aws:ecs:us-east-1:000000000000:service/mock/service-b",
        }
        b = monorepo[f"{env}/us-east-1/04-applications/service-b"]
        assert "service_b" not in (b.get("dependency") or {})


@pytest.mark.external
@pytest.mark.slow
def test_003_platform_and_shared_services_stand_on_the_foundation_only(
    evaluated: dict[str, dict[str, dict[str, Any]]],
) -> None:
    monorepo = evaluated["003-layered-monorepo"]
    for address, unit in monorepo.items():
        layer = address.split("/")[2]
        if layer in ("02-platform", "03-shared-services"):
            assert {t.split("/")[0] for t in _depends_on(unit)} <= {"01-foundation"}, address
    # dev has no NAT: its tasks pull images through public addresses, elsewhere private
    for env, public in (("dev", True), ("staging", False), ("production", False)):
        service = monorepo[f"{env}/us-east-1/04-applications/service-c"]["inputs"]
        assert service["assign_public_ip"] is public, env
        assert service["subnet_ids"][0] == ("subnet-00000000000000001" if public else "subnet-00000000000000011")
    sizes = {env: monorepo[f"{env}/us-east-1/03-shared-services/postgres"]["inputs"]["instance_class"]
             for env in ("dev", "staging", "production")}
    assert sizes == {"dev": "db.t3.micro", "staging": "db.t3.small", "production": "db.r6g.large"}
    assert monorepo["production/us-east-1/03-shared-services/postgres"]["prevent_destroy"] is True


# --- a rehearsal of one environment per example -----------------------------------------


def _rehearse(name: str, found: tuple[str, str, str]) -> tuple[Report, Any]:
    project = api.load(config(name)).project
    report = rehearse(Options(config(name), *found, scope=Scope(environments=(REHEARSED[name],))))
    return report, project


def _flows(report: Report) -> set[tuple[str, str, str, str]]:
    return {(f.source, f.output, f.target, f.input) for f in report.flows}


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_one_environment_rehearses(name: str, tools: tuple[str, str, str]) -> None:  # noqa: F811
    report, project = _rehearse(name, tools)
    assert report.ok, _failures(report)
    env = REHEARSED[name]
    units = [u for u in project.units if u.environment.name == env]
    # one state object per unit of the environment, at its own key
    assert {o.split("/", 3)[3] for o in report.state_objects} == {f"{u.directory}/terraform.tfstate" for u in units}
    assert all(f.ok for f in report.flows) and report.flows
    flows = _flows(report)
    at = f"{env}/us-east-1"
    expected = {
        "000-phased-tiers": [
            (f"{at}/aurora", "cluster_endpoint", f"{at}/api-handler", "environment_variables.DATABASE_HOST"),
            (f"{at}/pwa-bucket", "s3_bucket_bucket_regional_domain_name", f"{at}/pwa-cdn", "origin.pwa.domain_name"),
            (f"{at}/lambda-role", "iam_role_arn", f"{at}/ai-model-router", "lambda_role"),
        ],
        "001-order-analytics": [
            # each alarm reads its own function (the rehearsal names the first input it is found in)
            (f"{at}/report-generator", "lambda_function_name", f"{at}/report-generator-errors", "alarm_description"),
            (f"{at}/order-processor", "lambda_function_name", f"{at}/order-processor-errors", "alarm_description"),
            (f"{at}/report-generator-role", "iam_role_arn", f"{at}/report-generator", "lambda_role"),
        ],
        "002-client-platform": [
            # each client's parameters read its own database; its node group the shared cluster
            (f"{at}/ezra/client-db", "db_instance_endpoint", f"{at}/ezra/client-params", "value"),
            (f"{at}/mtn-ghana/client-db", "db_instance_endpoint", f"{at}/mtn-ghana/client-params", "value"),
            (f"{at}/eks", "cluster_name", f"{at}/ezra/client-nodes", "cluster_name"),
        ],
        "003-layered-monorepo": [
            (f"{at}/service-b", "name", f"{at}/service-a", "container_definitions.app.environment[2].value"),
            (f"{at}/postgres", "db_instance_address", f"{at}/service-c",
             "container_definitions.app.environment[0].value"),
        ],
    }[name]
    for flow in expected:
        assert flow in flows, (flow, sorted(f for f in flows if f[2] == flow[2]))
    if name == "002-client-platform":  # no output crosses tenants; mtn-ghana was destroyed alone first
        tenants = {f[0].split("/")[2] for f in flows if f[0].count("/") == 3} | {
            f[2].split("/")[2] for f in flows if f[2].count("/") == 3}
        assert tenants == {"ezra", "mtn-ghana"}
        assert not [f for f in flows if f[0].count("/") == 3 and f[0].split("/")[2] != f[2].split("/")[2]]
        assert any(s.name == "tenant isolation" and s.ok for s in report.steps)
    if name == "001-order-analytics":  # an alarm waits for, and reads, its own function only
        crossed = {(f[0], f[2]) for f in flows} & {(f"{at}/report-generator", f"{at}/order-processor-errors"),
                                                  (f"{at}/order-processor", f"{at}/report-generator-errors")}
        assert not crossed
    # created dependencies first, destroyed dependents first (nothing is protected here
    # but 001's production, whose units stay)
    by_address = {u.address: u for u in report.units}
    for unit in units:
        for wire in project.wiring.get(unit.key, ()):
            mine, theirs = by_address[unit.address], by_address[wire.target.address]
            assert theirs.applied_at is not None and mine.applied_at is not None
            assert theirs.applied_at < mine.applied_at


# --- what each seed wishes and tfgen refuses, at the line that asks -------------------


def _variant(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of an example (without output/) with one edit to its environments.yaml."""
    target = tmp_path / name
    shutil.copytree(EXAMPLES_DIR / name, target, ignore=shutil.ignore_patterns("output"))
    text = (target / "environments.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    (target / "environments.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return target / "environments.yaml"


REFUSALS = {
    # seed 000: "Tier 2: Frontend Layer (Depends on Foundation)", while prod runs the frontend only
    "frontend-on-foundation-in-prod": (
        "000-phased-tiers",
        "  pwa-cdn:\n    module: frontend/cloudfront\n",
        "  pwa-cdn:\n    module: frontend/cloudfront\n    dependencies:\n      logs:\n"
        "        unit: logs-bucket\n        mock_outputs: { s3_bucket_bucket_domain_name: mock.s3.amazonaws.com }\n",
        ["units.pwa-cdn.dependencies.logs.unit", "not deployed in prod/us-east-1",
         "environments.prod.layers.01-foundation is false"],
    ),
    # seed 000: the compute tier reading the API tier's id (a later tier)
    "compute-reads-the-api-tier": (
        "000-phased-tiers",
        "      queue:\n        unit: jobs-queue\n        mock_outputs:\n"
        "          queue_url: https://sqs.us-east-1.amazonaws.com/000000000000/mock-jobs\n    inputs:\n"
        "      environment_variables:\n        DATABASE_HOST",
        "      queue:\n        unit: jobs-queue\n        mock_outputs:\n"
        "          queue_url: https://sqs.us-east-1.amazonaws.com/000000000000/mock-jobs\n"
        "      api:\n        unit: graphql-api\n        mock_outputs: { appsync_graphql_api_arn: arn }\n    inputs:\n"
        "      environment_variables:\n        DATABASE_HOST",
        ["units.api-handler.dependencies.api.unit", "of a later layer (05-api)", "layer_order is strict"],
    ),
    # seed 001: the report generator (04) notifying through the topic of 05-notification
    "event-processing-reads-notification": (
        "001-order-analytics",
        "      bucket:\n        unit: reports\n",
        "      topic:\n        unit: alerts\n        mock_outputs: { topic_arn: arn }\n"
        "      bucket:\n        unit: reports\n",
        ["units.report-generator.dependencies.topic.unit", "of a later layer (05-notification)",
         "layer_order is strict"],
    ),
    # seed 002: ezra's parameters pointed at mtn-ghana's database (the failure)
    "client-reads-another-clients-database": (
        "002-client-platform",
        "    tags: { Client: ezra }\n",
        "    tags: { Client: ezra }\n    units:\n      client-params:\n        dependencies:\n"
        "          db: { unit: mtn-ghana/client-db }\n",
        ["tenants.ezra.units.client-params.dependencies.db.unit", "tenant 'ezra'", "tenant 'mtn-ghana'",
         "tenants are isolated"],
    ),
    # seed 002: the shared cluster reading one client's node group
    "shared-cluster-reads-a-client": (
        "002-client-platform",
        "  eks:\n    module: platform/eks\n",
        "  eks:\n    module: platform/eks\n    dependencies:\n      nodes: { unit: client-nodes }\n",
        ["units.eks.dependencies.nodes.unit", "shared unit 'eks' depends on per_tenant unit 'client-nodes'"],
    ),
    # seed 003: service B also reading service A
    "services-read-each-other": (
        "003-layered-monorepo",
        "    description: Service B, which service A calls\n",
        "    description: Service B, which service A calls\n    dependencies:\n"
        "      service_a: { unit: service-a, mock_outputs: { name: service-a } }\n",
        ["dependency cycle", "service-b -> dev/us-east-1/service-a -> dev/us-east-1/service-b"],
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_seed_wish_tfgen_cannot_honour_is_refused_at_its_line(case: str, tmp_path: Path, runner: CliRunner) -> None:
    name, old, new, fragments = REFUSALS[case]
    result = runner.invoke(main, ["validate", "-c", str(_variant(tmp_path, name, old, new))])
    assert result.exit_code == 2, result.output
    assert re.search(r"environments\.yaml:\d+:\d+: ", result.output), result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert "Traceback" not in result.output
