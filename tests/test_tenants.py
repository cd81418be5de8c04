"""Tenants (issue 24): per_tenant units render once per tenant, below tenants/<tenant>/,
with their state in the tenant's account; dependencies resolve inside a tenant and
every wiring across tenants is refused at its line, naming both tenants."""

from __future__ import annotations

import json
import posixpath
import shutil
from collections.abc import Callable
from pathlib import Path

import hcl2
import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.errors import InputError
from generator.features.affected import compare
from generator.features.affected import document as affected_document
from generator.features.explain import document as explain_document
from generator.features.graph import document as graph_document
from generator.project import backend, layout
from generator.project.layout import Scope

from .conftest import CASES, REPO, need_tool
from .features.test_affected_oracle import git
from .features.test_explain import hcl_value
from .realclient import Client, find_tool, write_tree


def edit(config: Path, old: str, new: str, file: str = "") -> None:
    target = config.parent / file if file else config
    text = target.read_text(encoding="utf-8")
    assert old in text, old
    target.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def errors_of(config: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        api.validate(config, strict=True)
    return [str(d) for d in caught.value.diagnostics if d.severity == "error"]


@pytest.fixture
def project(copy_case: Callable[[str], Path]) -> Path:
    return copy_case("tenants")


# --- isolation: refused, located, naming both tenants ---------------------------------


def test_shared_catalog_module_wiring_one_tenant_to_another_is_refused_at_its_line(project: Path) -> None:
    """The issue's failure: a shared catalog module wires ezra's parameters to mtn-ghana's
    database, and validate --strict passed. Now the line of the wiring is refused."""
    catalog = project.parent / "catalog/config/parameters.yaml"
    edit(project, "    unit: client-db\n", "    unit: mtn-ghana/client-db\n", "catalog/config/parameters.yaml")
    found = errors_of(project)
    line = line_of(catalog, "unit: mtn-ghana/client-db")
    assert any(
        e.startswith(f"{catalog.relative_to(Path.cwd()) if catalog.is_relative_to(Path.cwd()) else catalog}:{line}:")
        and "tenant 'ezra'" in e
        and "tenant 'mtn-ghana'" in e
        for e in found
    ), found


def test_tenant_override_retargeting_to_another_tenant_is_refused_at_its_line(project: Path) -> None:
    edit(
        project,
        "    tags: { Client: ezra }\n",
        "    tags: { Client: ezra }\n    units:\n      client-params:\n        dependencies:\n"
        "          db: { unit: mtn-ghana/client-db }\n",
    )
    found = errors_of(project)
    line = line_of(project, "db: { unit: mtn-ghana/client-db }")
    assert any(f":{line}:" in e and "tenant 'ezra'" in e and "tenant 'mtn-ghana'" in e for e in found), found


def test_shared_unit_depending_on_a_per_tenant_unit_is_refused(project: Path) -> None:
    edit(
        project,
        "  cluster:\n    module: platform/cluster\n",
        "  cluster:\n    module: platform/cluster\n    dependencies:\n      db: { unit: client-db }\n",
    )
    found = errors_of(project)
    line = line_of(project, "db: { unit: client-db }")
    assert any(
        f":{line}:" in e and "shared unit 'cluster'" in e and "per_tenant unit 'client-db'" in e for e in found
    ), found


def test_an_expression_reading_another_tenants_directory_is_refused_at_its_line(project: Path) -> None:
    edit(
        project,
        "      client-db: { inputs: { allocated_storage: 200 } }\n",
        "      client-db: { inputs: { allocated_storage: 200 } }\n"
        "    settings:\n      db_size: db.r6g.large\n"
        "      peer: !hcl 'read_terragrunt_config(\"../ezra/tenant.hcl\").locals.name'\n",
    )
    # the tenant had `settings: { db_size: db.r6g.large }` above: keep one settings key
    edit(project, "    settings: { db_size: db.r6g.large }\n", "")
    found = errors_of(project)
    line = line_of(project, "../ezra/tenant.hcl")
    assert any(f":{line}:" in e and "tenant 'mtn-ghana'" in e and "tenant 'ezra'" in e for e in found), found


def test_a_shared_unit_reading_local_tenant_is_refused(project: Path) -> None:
    edit(
        project,
        "  cluster:\n    module: platform/cluster\n",
        "  cluster:\n    module: platform/cluster\n    inputs: { description: !hcl local.tenant.name }\n",
    )
    found = errors_of(project)
    assert any("local.tenant is not defined" in e and "shared unit cluster" in e for e in found), found


# --- the tree ------------------------------------------------------------------------


def test_tenant_units_render_below_their_tenant_with_their_account(project: Path) -> None:
    loaded = api.load(project, strict=True)
    planned = api.plan(loaded)
    files = planned.desired
    base = "environments/prod/us-east-1/tenants"
    for tenant in ("mtn-ghana", "ezra"):
        assert f"{base}/{tenant}/tenant.hcl" in files
        assert f"{base}/{tenant}/03-data/client-db/terragrunt.hcl" in files
    assert "environments/dev/us-east-1/tenants/ezra/tenant.hcl" not in files  # ezra: prod only
    assert "environments/prod/eu-west-1/tenants/mtn-ghana/tenant.hcl" not in files  # mtn-ghana: us-east-1 only
    params = files[f"{base}/ezra/04-config/client-params/terragrunt.hcl"].decode()
    assert 'config_path = "../../03-data/client-db"' in params  # its own tenant's database
    tenant_hcl = files[f"{base}/ezra/tenant.hcl"].decode()
    assert 'account_id = "000000000077"' in tenant_hcl
    project_ = loaded.project
    keys: dict[object, str] = {}
    for unit in project_.units:
        config = backend.config(project_, unit)
        assert config["key"] not in keys, (unit.address, keys.get(config["key"]))
        keys[config["key"]] = unit.address
        if unit.tenant is not None and unit.tenant.name == "ezra":
            assert config["bucket"] == f"tenants-000000000077-{unit.region.name}-tfstate"
            assert config["assume_role"]["role_arn"] == "arn:aws:iam::000000000077:role/terraform"
        else:
            assert config["bucket"].startswith(f"tenants-{unit.environment.account_id}-")
    db = next(u for u in project_.units if u.address == "prod/us-east-1/mtn-ghana/client-db")
    assert db.effective_inputs()["allocated_storage"] == 200  # the tenant's override
    other = next(u for u in project_.units if u.address == "prod/us-east-1/ezra/client-db")
    assert other.effective_inputs()["allocated_storage"] == 20


def test_render_with_tenant_scope_writes_that_tenant_alone(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    api.render(project, output=out)
    shutil.rmtree(out / "environments/prod/us-east-1/tenants/ezra")
    result = CliRunner().invoke(main, ["render", "-c", str(project), "-o", str(out), "--tenant", "ezra", "--check"])
    assert result.exit_code == 1, result.output
    assert "ezra" in result.output and "mtn-ghana" not in result.output
    result = CliRunner().invoke(main, ["render", "-c", str(project), "-o", str(out), "--tenant", "nobody"])
    assert result.exit_code == 2 and "no such tenant" in result.output, result.output


def test_graph_and_explain_know_the_tenant(project: Path) -> None:
    graph = CliRunner().invoke(main, ["graph", "-c", str(project), "--tenant", "ezra", "--format", "json"])
    assert graph.exit_code == 0, graph.output
    assert "prod/us-east-1/ezra/client-params" in graph.output and "mtn-ghana" not in graph.output
    explained = CliRunner().invoke(main, ["explain", "-c", str(project), "prod/us-east-1/mtn-ghana/client-db"])
    assert explained.exit_code == 0, explained.output
    assert (
        "allocated_storage = 200\n      set by tenant override (mtn-ghana): tenants.mtn-ghana.units.client-db"
        in explained.output
    ), explained.output
    assert (
        'reads local.tenant.settings.db_size = "db.r6g.large" '
        "in environments/prod/us-east-1/tenants/mtn-ghana/tenant.hcl" in explained.output
    )
    scoped = CliRunner().invoke(main, ["explain", "-c", str(project), "prod/us-east-1/client-db", "--tenant", "ezra"])
    assert scoped.exit_code == 0 and "prod/us-east-1/ezra/client-db" in scoped.output, scoped.output


def test_json_names_the_tenant_of_every_unit_null_for_a_shared_one(project: Path) -> None:
    """graph, explain and affected: "tenant" is always there, as moved_from and workspace
    are: the tenant's name, or null for a shared unit."""
    graph = api.graph(project)
    units = {u["address"]: u for u in graph_document(graph)["units"]}
    assert units["prod/us-east-1/ezra/client-db"]["tenant"] == "ezra"
    assert "tenant" in units["prod/us-east-1/vpc"] and units["prod/us-east-1/vpc"]["tenant"] is None
    assert all(u["tenant"] == (a.split("/")[2] if a.count("/") == 3 else None) for a, u in units.items())
    assert explain_document(api.explain(project, "prod/us-east-1/ezra/client-db"))["tenant"] == "ezra"
    shared = explain_document(api.explain(project, "prod/us-east-1/vpc"))
    assert "tenant" in shared and shared["tenant"] is None
    assert explain_document(api.explain(project, "prod/us-east-1"))["tenant"] is None
    before = api._rendered(project, "base")
    edit(project, "  ezra:\n", "  kofi: { environments: [prod] }\n  ezra:\n")
    vpc = "  vpc:\n    module: networking/vpc\n"
    edit(project, vpc, vpc + "    tags: { New: tag }\n")
    entries = [
        entry
        for side in ("apply", "destroy")
        for group in affected_document(compare(before, api._rendered(project, "head")))[side]
        for wave in group["waves"]
        for entry in wave
    ]
    tenants = {e["address"]: e["tenant"] for e in entries}
    assert tenants["prod/us-east-1/kofi/client-db"] == "kofi"
    assert "prod/us-east-1/vpc" in tenants and tenants["prod/us-east-1/vpc"] is None


def test_explain_a_tenant_shows_its_tenant_hcl_and_where_each_value_came_from(project: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["explain", "-c", str(project), "prod/us-east-1/ezra"])
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert lines[0] == "prod/us-east-1/ezra: tenant ezra in prod/us-east-1, account 000000000077 (its own)"
    assert "  prod/us-east-1/ezra/client-db" in text.output and "mtn-ghana" not in text.output
    assert "/vpc" not in text.output  # a shared unit is not the tenant's
    account = next(line for line in lines if line.lstrip().startswith("account_id = "))
    at = line_of(project, 'account_id: "000000000077"')
    assert f"<- tenant ezra: tenants.ezra.account_id ({project}:{at}:" in account, account
    tags = next(line for line in lines if line.lstrip().startswith("tags.Client = "))
    at = line_of(project, "tags: { Client: ezra }")
    assert f"<- tenant ezra: tenants.ezra.tags.Client ({project}:{at}:" in tags, tags
    # The values are tenant.hcl's as rendered; a setting says which layer set it.
    data = json.loads(
        runner.invoke(main, ["explain", "-c", str(project), "prod/us-east-1/ezra", "--format", "json"]).output
    )["result"]
    assert (data["kind"], data["address"], data["tenant"], data["region"]) == (
        "tenant",
        "prod/us-east-1/ezra",
        "ezra",
        "us-east-1",
    )
    assert data["file"] == "environments/prod/us-east-1/tenants/ezra/tenant.hcl"
    out = tmp_path / "out"
    api.render(project, output=out)
    rendered = hcl2.loads((out / data["file"]).read_text(encoding="utf-8"))["locals"][0]
    explained = {tuple(x["path"]): x["value"] for x in data["locals"]}
    assert {p[0] for p in explained} == {"name", "account_id", "role_arn", "settings", "tags"}
    for path, value in explained.items():
        here = rendered
        for part in path:
            here = here[part]
        assert here == hcl_value(value), path
    sources = {x["local"]: x["source"] for x in data["locals"]}
    assert sources["settings.db_size"]["kind"] == "defaults"
    mtn = json.loads(
        runner.invoke(
            main,
            [
                "explain",
                "-c",
                str(project),
                "dev/us-east-1",
                "--tenant",
                "mtn-ghana",
                "settings.db_size",
                "--format",
                "json",
            ],
        ).output
    )["result"]
    assert mtn["address"] == "dev/us-east-1/mtn-ghana"
    assert [(x["value"], x["source"]["kind"]) for x in mtn["locals"]] == [("db.r6g.large", "tenant")]


def test_explain_env_region_name_is_the_unit_else_the_tenant_and_says_what_is_not_there(project: Path) -> None:
    assert api.explain(project, "prod/us-east-1/vpc").__class__.__name__ == "UnitExplanation"
    assert api.explain(project, "prod/us-east-1/ezra/").__class__.__name__ == "ScopeExplanation"
    with pytest.raises(InputError) as caught:  # mtn-ghana lives in us-east-1 only
        api.explain(project, "prod/eu-west-1/mtn-ghana")
    (problem,) = caught.value.diagnostics
    assert "no unit or tenant 'prod/eu-west-1/mtn-ghana'" in problem.message
    with pytest.raises(InputError) as caught:  # a unit's name with the slash of a directory
        api.explain(project, "prod/us-east-1/vpc/")
    assert "prod/us-east-1/ezra" in str(caught.value.diagnostics[0].hint)


# --- onboarding and offboarding ---------------------------------------------------------


def test_onboarding_a_tenant_is_one_block_and_affected_lists_its_units_alone(project: Path) -> None:
    before = api._rendered(project, "base")
    edit(project, "\nunits:\n", "  kofi: { environments: [prod] }\n\nunits:\n")
    after = api._rendered(project, "head")
    result = compare(before, after)
    listed = sorted(e.unit.address for e in result.units)
    assert listed == [f"prod/{r}/kofi/{u}" for r in ("eu-west-1", "us-east-1") for u in ("client-db", "client-params")]


def test_offboarding_a_tenant_from_a_protected_environment_is_refused(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    api.render(project, output=out)
    edit(project, "  ezra:\n    environments: [prod]\n", "  ezra:\n    environments: [dev]\n")
    with pytest.raises(Exception) as caught:
        api.render(project, output=out)
    text = str(caught.value) + " ".join(str(d) for d in getattr(caught.value, "diagnostics", []))
    assert "deletion_protection: true" in text and "tenants.ezra.units.<unit>: {deletion_protection: false}" in text, (
        text
    )
    assert (out / "environments/prod/us-east-1/tenants/ezra/tenant.hcl").exists()


def test_git_affected_on_a_new_tenant(project: Path) -> None:
    root = project.parent
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    edit(project, "\nunits:\n", "  kofi: { regions: [eu-west-1] }\n\nunits:\n")
    result = api.affected(project, base="HEAD")
    assert sorted(e.unit.address for e in result.units) == [
        "prod/eu-west-1/kofi/client-db",
        "prod/eu-west-1/kofi/client-params",
    ]


def test_case_exists() -> None:
    assert (CASES / "tenants/environments.yaml").is_file()
    assert Scope(tenants=("a",)).includes_tenant("a") and not Scope(tenants=("a",)).includes_tenant(None)


def test_offboarding_the_narrow_way_lifts_each_units_protection_first(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    edit(
        project,
        "    tags: { Client: ezra }\n",
        "    tags: { Client: ezra }\n    units:\n"
        "      client-db: { deletion_protection: false }\n      client-params: { deletion_protection: false }\n",
    )
    api.render(project, output=out)
    edit(project, "  ezra:\n    environments: [prod]\n", "  ezra:\n    environments: [dev]\n")
    api.render(project, output=out)
    assert not (out / "environments/prod/us-east-1/tenants/ezra").exists()
    assert (out / "environments/prod/us-east-1/tenants/mtn-ghana/tenant.hcl").exists()


# --- Terragrunt's own evaluation of the example ------------------------------------------


@pytest.mark.external
def test_terragrunt_keeps_every_tenant_unit_in_its_tenant(tmp_path: Path) -> None:
    """Terragrunt evaluates the seed-002 example (render --all, mock outputs, no state):
    every state key is unique, each tenant unit's state is in its tenant's account's
    bucket with that account's role and allowed account, and every dependency of a
    tenant unit resolves inside its own tenant's directory or to a shared unit."""
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    client = Client(terragrunt, find_tool("tofu") or "tofu")
    loaded = api.load(REPO / "examples/002-client-platform/environments.yaml", strict=True)
    root = write_tree(api.plan(loaded).desired, tmp_path / "output")
    rendered = client.render_all(root)
    project_ = loaded.project
    assert project_ is not None
    by_directory = {u.directory: u for u in project_.units}
    assert set(rendered) == set(by_directory)
    keys: dict[str, str] = {}
    tenant_units = 0
    for directory, config in rendered.items():
        unit = by_directory[directory]
        state = config["remote_state"]["config"]
        assert state["key"] not in keys, (directory, keys.get(state["key"]))
        keys[state["key"]] = directory
        account = unit.tenant.account(unit.environment) if unit.tenant else unit.environment.account_id
        assert state["bucket"] == f"client-platform-{account}-tfstate", directory
        assert state["assume_role"]["role_arn"] == f"arn:aws:iam::{account}:role/terraform", directory
        assert f'allowed_account_ids = ["{account}"]' in config["generate"]["provider"]["contents"], directory
        for dependency in (config.get("dependency") or {}).values():
            target = posixpath.normpath(posixpath.join(directory, dependency["config_path"]))
            assert target in by_directory, (directory, target)
            owner = by_directory[target].tenant
            if unit.tenant is None:
                assert owner is None, (directory, target)  # a shared unit reaches no tenant
            else:
                assert owner is None or owner.name == unit.tenant.name, (directory, target)
                assert (
                    target.startswith(
                        f"{layout.tenant_directory(unit.environment.name, unit.region.name, unit.tenant.name)}/"
                    )
                    or owner is None
                )
        if unit.tenant is not None:
            tenant_units += 1
            assert directory.startswith(
                f"environments/{unit.environment.name}/{unit.region.name}/tenants/{unit.tenant.name}/"
            )
    assert tenant_units == 25  # mtn-ghana in 3 environments, ezra in 2, five units each


# --- the rehearsal proves isolation ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.external
def test_the_example_rehearses_and_one_tenants_destroy_leaves_the_other_intact(tmp_path: Path) -> None:
    """Two tenants applied with stand-ins against a local S3: each unit's state object is
    its own, in its tenant's account's bucket (ezra has its own account); destroying
    mtn-ghana alone leaves ezra's units and the shared ones with their resources."""
    from generator.rehearse import tools as tools_module
    from generator.rehearse.errors import CannotRehearse
    from generator.rehearse.run import Options, rehearse
    from generator.rehearse.server import available

    try:
        found = tools_module.find()
    except CannotRehearse as error:
        need_tool(str(error.diagnostics[0].message), None)
    if not available():
        need_tool("moto[server] (pip install -e '.[rehearse]')", None)
    config = REPO / "examples/002-client-platform/environments.yaml"
    report = rehearse(Options(config, found.terragrunt, found.tofu, found.provider, keep=tmp_path / "scratch"))
    failures = "\n".join(f"{f.step} {f.unit}: {f.message}" for f in report.failures)
    assert report.ok, failures
    assert "tenant isolation" in [s.name for s in report.steps]
    project_ = api.load(config).project
    assert project_ is not None
    expected = set()
    for unit in project_.units:
        account = unit.tenant.account(unit.environment) if unit.tenant else unit.environment.account_id
        expected.add(f"s3://client-platform-{account}-tfstate/{unit.directory}/terraform.tfstate")
    assert set(report.state_objects) == expected
    assert any(
        o.startswith("s3://client-platform-444444444444-tfstate/") and "/tenants/ezra/" in o
        for o in report.state_objects
    )
    isolation = next(s for s in report.steps if s.name == "tenant isolation")
    assert "tenant mtn-ghana: 10 units destroyed" in isolation.detail, isolation.detail


def test_a_tenant_account_needs_the_account_in_the_bucket_name(project: Path) -> None:
    edit(project, '  bucket: "{project}-{account_id}-{region}-tfstate"', '  bucket: "{project}-{env}-{region}-tfstate"')
    found = errors_of(project)
    line = line_of(project, 'account_id: "000000000077"')
    assert any(f":{line}:" in e and "tenant 'ezra' has its own account" in e for e in found), found


REMOTE_STATE = (
    '  bucket: "{project}-{account_id}-{region}-tfstate"\n  region: "{region}"\n',
    '  backend: remote\n  organization: acme\n  workspace: "{project}-{env}-{region}-{tenant}-{unit}"\n',
)


def test_a_workspace_without_tenant_is_refused_suggesting_it(project: Path) -> None:
    """Two tenants' copies of a unit would share a workspace: refused, naming {tenant}."""
    edit(project, REMOTE_STATE[0], REMOTE_STATE[1].replace("-{tenant}", ""))
    found = errors_of(project)
    assert any(
        "units prod/us-east-1/" in e
        and "would share the workspace 'tenants-prod-us-east-1-client-" in e
        and "add {tenant}" in e
        for e in found
    ), found


def test_tenant_in_the_workspace_names_each_tenants_units_and_drops_for_shared_ones(project: Path) -> None:
    edit(project, *REMOTE_STATE)
    api.validate(project, strict=True)
    loaded = api.load(project).project
    names = {u.address: backend.workspace(loaded, u) for u in loaded.units}
    assert len(set(names.values())) == len(names)
    assert names["prod/us-east-1/vpc"] == "tenants-prod-us-east-1-vpc"  # no tenant, no "--"
    assert names["prod/us-east-1/ezra/client-db"] == "tenants-prod-us-east-1-ezra-client-db"
    assert names["dev/us-east-1/mtn-ghana/client-db"] == "tenants-dev-us-east-1-mtn-ghana-client-db"


@pytest.mark.parametrize(
    ("template", "shared", "tenant"),
    [
        ("{tenant}-{unit}", "vpc", "ezra-vpc"),
        ("{unit}_{tenant}", "vpc", "vpc_ezra"),
        ("{unit}{tenant}", "vpc", "vpcezra"),
        ("{env}-{tenant}-{tenant}", "dev", "dev-ezra-ezra"),
    ],
)
def test_an_empty_tenant_takes_one_separator_along(template: str, shared: str, tenant: str) -> None:
    values = {"unit": "vpc", "env": "dev"}
    assert backend.fill(backend.fill_tenant(template, ""), values) == shared
    assert backend.fill(backend.fill_tenant(template, "ezra"), values) == tenant


def test_tenant_is_no_bucket_placeholder_and_says_why(project: Path) -> None:
    edit(project, "{project}-{account_id}-{region}-tfstate", "{project}-{account_id}-{tenant}-tfstate")
    found = errors_of(project)
    assert any("unknown placeholder {tenant}" in e and "per account and region" in e for e in found), found


def test_affected_reads_the_tenants_name_alone_from_a_remote_root_hcl(project: Path) -> None:
    """root.hcl reads tenant.hcl's name for {tenant} in the workspace: affected knows it
    reads that local alone (a tenant's settings changing does not touch root.hcl's units)."""
    from generator.features.affected import _reads

    edit(project, *REMOTE_STATE)
    root = api.plan(api.load(project)).desired[layout.ROOT].decode()
    assert "local.tenant_name" in root
    assert _reads(root)["tenant"] == {("env_overrides",), ("name",)}
