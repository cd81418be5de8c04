"""Units as instances of catalog modules (issue 22 items 1-6, issue 21 item 3): a unit's
own dependencies, layer and deletion policy; layers off; a strict layer order; tags only
where the module takes them; a catalog read of dependency.X wires X.

Most tests edit the golden case tests/cases/units (see its environments.yaml) and look
at what validate says (located) and what render writes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from generator.errors import InputError
from generator.features.explain import explain, to_json, to_text
from generator.features.graph import select
from generator.features.graph import to_json as graph_json
from generator.project.schema import CATALOG, schema_text

from ..conftest import ProjectFactory

UNITS = "units"


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")


def relative(config: Path, text: str) -> str:
    """A diagnostic as the user sees it from the project directory."""
    return text.replace(f"{config.parent}/", "")


def errors(config: Path, *, strict: bool = False) -> list[str]:
    with pytest.raises(InputError) as caught:
        api.validate(config, strict=strict)
    return [relative(config, str(d)) for d in caught.value.diagnostics if d.severity == "error"]


def warnings(config: Path, rule: str) -> list[str]:
    return [relative(config, str(w)) for w in api.validate(config).warnings if w.rule == rule]


def rendered(config: Path) -> dict[str, str]:
    loaded = api.load(config)
    return {path: data.decode() for path, data in api.plan(loaded).desired.items()}


def leaf(files: dict[str, str], env: str, layer: str, unit: str) -> str:
    return files[f"environments/{env}/us-east-1/{layer}/{unit}/terragrunt.hcl"]


@pytest.fixture
def units(copy_case: Callable[[str], Path]) -> Path:
    return copy_case(UNITS)


# --- 1. a catalog read of dependency.X wires X ------------------------------------------

CATALOG_READ = {
    "environments.yaml": """
        version: 1
        project: {name: demo}
        state: {bucket: "{project}-{env}-state", region: us-east-1}
        environments:
          dev:
            account_id: "111111111111"
            regions:
              us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a, b]}
        units:
          aurora: {module: data/aurora}
          lambda: {module: compute/lambda}
    """,
    "catalog/data/aurora.yaml": """
        source: tfr:///terraform-aws-modules/rds-aurora/aws
        version: 9.0.0
        layer: 02-data
        inputs: {name: demo}
    """,
    "catalog/compute/lambda.yaml": """
        source: tfr:///terraform-aws-modules/lambda/aws
        version: 7.0.0
        layer: 03-compute
        dependencies:
          database:
            unit: aurora
            mock_outputs: {cluster_endpoint: mock.cluster.internal}
        inputs:
          environment_variables:
            DB_HOST: !hcl dependency.database.outputs.cluster_endpoint
    """,
}


def test_a_catalog_read_of_a_dependency_output_renders_a_dependency_block(make_project: ProjectFactory) -> None:
    """Without `outputs:`, a read in the catalog's inputs (rendered in _envcommon) needs the
    leaf's dependency block: an order-only `dependencies { paths }` fails in Terragrunt."""
    files = rendered(make_project(CATALOG_READ))
    text = files["environments/dev/us-east-1/03-compute/lambda/terragrunt.hcl"]
    assert 'dependency "database" {' in text
    assert 'cluster_endpoint = "mock.cluster.internal"' in text
    assert "dependencies {" not in text
    assert "dependency.database.outputs.cluster_endpoint" in files["_envcommon/compute/lambda.hcl"]


def test_a_read_output_without_a_mock_is_warned_where_it_is_read(make_project: ProjectFactory) -> None:
    files = dict(CATALOG_READ)
    files["catalog/compute/lambda.yaml"] = files["catalog/compute/lambda.yaml"].replace(
        "            mock_outputs: {cluster_endpoint: mock.cluster.internal}\n", ""
    )
    config = make_project(files)
    assert warnings(config, "missing-mock-output") == [
        "catalog/compute/lambda.yaml:9:14: inputs.environment_variables.DB_HOST: warning: output "
        "'cluster_endpoint' of dependency 'database' is read without a mock: planning unit 'lambda' before "
        "that unit is applied fails (add mock_outputs: {cluster_endpoint: ...} to dependency 'database' "
        "(in the catalog, or on the unit))"
    ]


def test_a_read_of_an_undeclared_dependency_in_the_catalog_is_refused_at_its_line(
    make_project: ProjectFactory,
) -> None:
    files = dict(CATALOG_READ)
    files["catalog/compute/lambda.yaml"] = files["catalog/compute/lambda.yaml"].replace(
        "dependency.database.outputs", "dependency.db.outputs"
    )
    found = errors(make_project(files))
    assert any(
        e.startswith("catalog/compute/lambda.yaml:10:14: inputs.environment_variables.DB_HOST: dependency.db is not "
                     "a dependency of compute/lambda (unit 'lambda')")
        for e in found
    ), found


def test_a_unit_read_of_its_own_dependency_wires_it(units: Path) -> None:
    """A dependency the unit adds is declared for its reads (and only for its own)."""
    edit(units, "      watched: { unit: svc-billing }        # the catalog's 'watched', retargeted\n",
         "      watched: { unit: svc-billing }\n"
         "      db: { unit: db, mock_outputs: { db_instance_address: x } }\n"
         "    inputs: { alarm_description: !hcl dependency.db.outputs.db_instance_address }\n")
    files = rendered(units)
    assert 'dependency "db" {' in leaf(files, "dev", "04-monitoring", "alarm-billing")
    edit(units, "  alarm-orders: { module: monitoring/alarm }",
         "  alarm-orders: { module: monitoring/alarm, inputs: { x: !hcl dependency.db.outputs.a } }")
    assert any("units.alarm-orders.inputs.x: dependency.db is not a dependency of monitoring/alarm" in e
               for e in errors(units))


# --- 2. a unit's own dependencies --------------------------------------------------------


def test_two_units_of_one_module_depend_on_different_units(units: Path) -> None:
    files = rendered(units)
    assert 'config_path = "../../03-services/svc-orders"' in leaf(files, "dev", "04-monitoring", "alarm-orders")
    billing = leaf(files, "dev", "04-monitoring", "alarm-billing")
    assert 'config_path = "../../03-services/svc-billing"' in billing
    assert "svc-orders" not in billing
    # The retargeted dependency keeps the catalog's outputs and mocks.
    assert "dimensions_service = dependency.watched.outputs.service_name" in billing
    assert 'service_name = "mock-service"' in billing
    loaded = api.load(units)
    edges = {(e["unit"], e["depends_on"]) for e in json.loads(graph_json(select(loaded.project)))["dependencies"]}
    assert ("dev/us-east-1/alarm-billing", "dev/us-east-1/svc-billing") in edges
    assert ("dev/us-east-1/alarm-billing", "dev/us-east-1/svc-orders") not in edges


def test_a_unit_depends_on_another_unit_of_its_own_module_without_a_false_cycle(units: Path) -> None:
    api.validate(units, strict=True)
    files = rendered(units)
    orders = leaf(files, "dev", "03-services", "svc-orders")
    assert 'dependency "billing" {\n  config_path = "../svc-billing"' in orders
    assert "billing_url = dependency.billing.outputs.url" in orders
    assert 'dependency "billing"' not in leaf(files, "dev", "03-services", "svc-billing")


def test_a_real_cycle_between_units_of_one_module_names_the_units(units: Path) -> None:
    edit(units, "  svc-billing: { module: services/api }",
         "  svc-billing:\n    module: services/api\n    dependencies: { back: { unit: svc-orders } }")
    found = errors(units)
    assert any("dependency cycle: dev/us-east-1/svc-billing -> dev/us-east-1/svc-orders -> "
               "dev/us-east-1/svc-billing" in e and "environments.yaml:" in e for e in found), found


def test_a_region_override_extends_a_dependency_for_that_region_only(units: Path) -> None:
    files = rendered(units)
    assert 'db_instance_address = "prod-db.mock.internal"' in leaf(files, "prod", "03-services", "svc-billing")
    assert 'db_instance_address = "db.mock.internal"' in leaf(files, "dev", "03-services", "svc-billing")
    assert 'db_instance_address = "db.mock.internal"' in leaf(files, "prod", "03-services", "svc-orders")


def test_a_new_dependency_must_name_its_unit(units: Path) -> None:
    edit(units, "      watched: { unit: svc-billing }", "      watched: { unit: svc-billing }\n      extra: {}")
    assert any(e.startswith("environments.yaml:64:7: units.alarm-billing.dependencies.extra: dependency 'extra' "
                            "is not one of monitoring/alarm's") for e in errors(units)), errors(units)


def test_false_drops_a_catalog_dependency_for_that_unit(units: Path) -> None:
    edit(units, "  alarm-orders: { module: monitoring/alarm }",
         "  alarm-orders: { module: monitoring/alarm, dependencies: { watched: false } }")
    files = rendered(units)
    assert "dependency" not in leaf(files, "dev", "04-monitoring", "alarm-orders").split("inputs")[0]
    assert 'dependency "watched"' in leaf(files, "dev", "04-monitoring", "alarm-billing")


def test_renaming_a_unit_names_each_unit_to_edit(units: Path) -> None:
    edit(units, "  svc-billing: { module: services/api }",
         "  svc-payments: { module: services/api, previous: svc-billing }")
    edit(units, "          svc-billing:\n", "          svc-payments:\n")
    found = errors(units)
    assert "environments.yaml:56:15: units.svc-orders.dependencies.billing.unit: dependency 'billing' of unit " \
        "'svc-orders' needs unit 'svc-billing', which environments.yaml does not declare (did you mean " \
        "'svc-payments', renamed from 'svc-billing'?)" in found
    assert any(e.startswith("environments.yaml:63:24: units.alarm-billing.dependencies.watched.unit: dependency "
                            "'watched' of unit 'alarm-billing' needs unit 'svc-billing'") for e in found), found


# --- 3. a unit's layer -------------------------------------------------------------------


def test_a_unit_is_placed_in_its_own_layer(units: Path) -> None:
    files = rendered(units)
    assert "environments/dev/us-east-1/02-data/reports/terragrunt.hcl" in files
    assert "environments/dev/us-east-1/01-foundation/assets/terragrunt.hcl" in files  # the module's layer
    project = api.load(units).project
    text = to_text(explain(project, "dev/us-east-1/reports"))
    assert "layer 02-data (the unit's own; storage/bucket's is 01-foundation)" in text
    assert json.loads(to_json(explain(project, "dev/us-east-1/reports")))["layer"] == "02-data"


# --- 4. layers off -----------------------------------------------------------------------


def test_a_layer_off_in_an_environment_places_none_of_its_units_there(units: Path) -> None:
    files = rendered(units)
    assert not [p for p in files if p.startswith("environments/prod/us-east-1/04-monitoring/")]
    assert [p for p in files if p.startswith("environments/dev/us-east-1/04-monitoring/")]
    with pytest.raises(InputError) as caught:
        explain(api.load(units).project, "prod/us-east-1/alarm-orders")
    assert "environments.prod.layers.04-monitoring is false (layer 04-monitoring is off there)" in str(
        caught.value.diagnostics[0]
    )


def test_settings_and_overrides_kept_for_a_layer_that_is_off_are_not_unread(units: Path) -> None:
    """prod's alarm_threshold is read only by monitoring, off in prod: kept for later."""
    api.validate(units, strict=True)
    edit(units, "    layers: { 04-monitoring: false }", "    layers: { 04-monitoring: false, 03-services: false }")
    api.validate(units, strict=True)  # the override of svc-billing in prod waits for its layer too
    edit(units, "    settings: { alarm_threshold: 5 }", "    settings: { alarm_treshold: 5 }")
    assert any("environments.prod.settings.alarm_treshold: setting 'alarm_treshold' is read by no module placed "
               "in environment prod" in e for e in errors(units, strict=True))


def test_a_dependency_on_a_unit_of_a_layer_that_is_off_is_refused_where_it_is_declared(units: Path) -> None:
    edit(units, "    layers: { 04-monitoring: false }", "    layers: { 02-data: false }")
    assert "environments.yaml:50:3: units.svc-billing: unit 'svc-billing' depends on 'db' (dependency 'db' in " \
        "catalog/services/api.yaml:8:11), which is not deployed in prod/us-east-1: environments.prod.layers.02-data " \
        "is false (layer 02-data is off there) (deploy 'db' there, or limit 'svc-billing' with " \
        "environments:/regions: or turn its layer off there too)" in errors(units)


def test_a_region_turns_a_layer_of_its_environment_back_on(units: Path) -> None:
    edit(units, "        vpc_cidr: 10.22.0.0/16\n",
         "        vpc_cidr: 10.22.0.0/16\n        layers: { 04-monitoring: true }\n")
    files = rendered(units)
    assert "environments/prod/us-east-1/04-monitoring/alarm-orders/terragrunt.hcl" in files


def test_an_unknown_layer_is_refused_with_did_you_mean(units: Path) -> None:
    edit(units, "    layers: { 04-monitoring: false }", "    layers: { 04-monitorin: false }")
    assert "environments.yaml:29:15: environments.prod.layers.04-monitorin: no unit is in layer '04-monitorin' " \
        "(did you mean '04-monitoring'?)" in errors(units)


# --- 5. layer_order: strict ------------------------------------------------------------------


def test_a_strict_layer_order_refuses_a_dependency_on_a_later_layer_where_it_is_declared(units: Path) -> None:
    edit(units, "  assets: { module: storage/bucket, tags: { Team: web } }",
         "  assets: { module: storage/bucket, dependencies: { data: { unit: reports } } }")
    assert "environments.yaml:44:67: units.assets.dependencies.data.unit: unit 'assets' (layer 01-foundation) " \
        "depends on 'reports' of a later layer (02-data) by dependency 'data'; layer_order is strict (move " \
        "'reports' to layer 01-foundation or earlier (layer:), or 'assets' to 02-data or later)" in errors(units)
    edit(units, "layer_order: strict", "layer_order: free")
    api.validate(units)


# --- 6. tags only where the module takes them ---------------------------------------------------


def test_unit_tags_go_only_to_modules_that_take_them(units: Path) -> None:
    files = rendered(units)
    assert 'Team            = "orders"' in leaf(files, "dev", "03-services", "svc-orders")
    assert "tags" not in leaf(files, "dev", "01-foundation", "assets")  # tags_input: null


APP = 'variable "name" {\n  type = string\n}\n'
TAGS = 'variable "tags" {\n  type = map(string)\n}\n'


@pytest.mark.parametrize(("variables", "tagged"), [(APP, False), (APP + TAGS, True)])
def test_with_a_known_interface_tags_go_only_where_the_module_declares_the_variable(
    make_project: ProjectFactory, variables: str, tagged: bool
) -> None:
    config = make_project({
        "environments.yaml": """
            version: 1
            project: {name: demo}
            state: {bucket: "{project}-{env}-state", region: us-east-1}
            environments:
              dev:
                account_id: "111111111111"
                regions:
                  us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a, b]}
            units:
              app: {module: apps/app, tags: {Team: web}}
        """,
        "catalog/apps/app.yaml": """
            source: ../../../../../../modules/app
            layer: apps
            inputs: {name: app}
        """,
        "modules/app/main.tf": variables,
    })
    loaded = api.validate(config, strict=True)
    assert not [w for w in loaded.warnings if w.rule == "unchecked-tags"]
    text = rendered(config)["environments/dev/us-east-1/apps/app/terragrunt.hcl"]
    assert ('Team            = "web"' in text) is tagged
    unit = loaded.project.unit(("dev", "us-east-1", "app"))
    assert unit is not None and (unit.tags != {}) is tagged


def test_without_a_lock_unit_tags_are_warned_where_they_are_written(units: Path) -> None:
    edit(units.parent / "catalog/services/api.yaml", "tags_input: tags\n", "")
    assert warnings(units, "unchecked-tags") == [
        "environments.yaml:53:5: units.svc-orders.tags: warning: unit tags are rendered as input 'tags' of "
        "services/api, whose variables tfgen does not know: a module without that variable ignores them "
        "(run `tfgen modules lock` (then only modules with a 'tags' variable get tags), or set tags_input: in "
        "catalog/services/api.yaml (null: the module takes no tags))"
    ]


# --- issue 21 item 3: a deletion policy per unit -------------------------------------------------


def test_a_unit_override_lifts_protection_for_that_unit_alone(units: Path) -> None:
    files = rendered(units)
    db = leaf(files, "prod", "02-data", "db")
    assert "prevent_destroy" not in db.split("#")[0] and "prevent_destroy = true" not in db
    assert "env = merge(read_terragrunt_config(find_in_parent_folders(\"env.hcl\")).locals, " \
        "{ deletion_protection = false })" in db
    assert "deletion_protection = local.env.deletion_protection" in db  # carried in the leaf
    assert "skip_final_snapshot = !local.env.deletion_protection" in db
    for other in ("svc-orders", "svc-billing"):
        assert "prevent_destroy = true" in leaf(files, "prod", "03-services", other)
    assert "prevent_destroy = true" in leaf(files, "prod", "01-foundation", "network")
    # dev's db follows dev's policy: nothing of its own
    assert "deletion_protection = false }" not in leaf(files, "dev", "02-data", "db")


def test_a_unit_protects_itself_in_an_unprotected_environment(units: Path) -> None:
    files = rendered(units)
    reports = leaf(files, "dev", "02-data", "reports")
    assert "prevent_destroy = true" in reports
    assert "{ deletion_protection = true })" in reports
    assert "force_destroy = !local.env.deletion_protection" in reports
    assert "prevent_destroy" not in leaf(files, "dev", "01-foundation", "assets")


def test_explain_says_where_a_units_deletion_policy_is_set(units: Path) -> None:
    project = api.load(units).project
    text = to_text(explain(project, "prod/us-east-1/db"))
    assert "Deletion protection: false (prevent_destroy), set by unit db's own deletion_protection: " \
        "environments.prod.units.db.deletion_protection (environments.yaml:32:34)" in relative(units, text)
    document = json.loads(to_json(explain(project, "prod/us-east-1/db")))
    assert document["prevent_destroy"] is False
    assert document["deletion_protection"]["key"] == "environments.prod.units.db.deletion_protection"
    read = next(i for i in document["inputs"] if i["input"] == "deletion_protection")
    assert read["file"].endswith("02-data/db/terragrunt.hcl")
    assert read["reads"][0]["value"] is False
    protected = json.loads(to_json(explain(project, "prod/us-east-1/svc-orders")))
    assert protected["prevent_destroy"] is True
    assert protected["deletion_protection"]["key"] == "environments.prod.deletion_protection"


# --- the schemas: editors complete the new keys ---------------------------------------------


def test_editors_complete_the_new_keys_with_their_descriptions() -> None:
    environments = json.loads(schema_text())
    catalog = json.loads(schema_text(CATALOG))
    defs = environments["$defs"]
    override = next(b for b in defs["unitOverride"]["oneOf"] if b.get("type") == "object")
    places = [
        (environments, "layer_order"),
        (defs["unit"], "layer"), (defs["unit"], "dependencies"), (defs["unit"], "deletion_protection"),
        (override, "dependencies"), (override, "deletion_protection"),
        (defs["environment"], "layers"), (defs["region"], "layers"),
        (catalog, "tags_input"),
    ]
    for owner, key in places:
        assert owner["properties"][key].get("description"), key
    dependency = next(b for b in defs["unitDependency"]["oneOf"] if b.get("type") == "object")
    assert all(p.get("description") for p in dependency["properties"].values())


def test_a_misspelt_new_key_gets_the_closest_one(units: Path) -> None:
    edit(units, "    layer: 02-data", "    layr: 02-data")
    assert any("units.reports.layr: unknown key 'layr'" in e and "'layer'" in e for e in errors(units)), errors(units)
