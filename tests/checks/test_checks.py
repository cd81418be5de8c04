"""The semantic rules of checks.py, each with cases that pass and cases that fail."""

from __future__ import annotations

import ipaddress
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from generator import api, checks
from generator.checks import network as networking
from generator.checks import state
from generator.checks.policy import _is_placeholder_arn
from generator.cli import main
from generator.errors import InputError
from generator.project.loader import loads
from generator.project.modules.lockfile import LOCAL_MISSING_RULE, NO_LOCK_RULE
from generator.project.names import case_collisions, looks_like_production, module_id_problem, name_problem
from generator.project.values import HclExpr

from ..conftest import ProjectFactory, tree

Report = Callable[..., list[str]]
#: Notes these projects get by construction (registry pins without a lock, local
#: sources not on disk, the vpc module every project's catalog has); each is tested in
#: tests/project/test_modules.py or test_catalog.py.
QUIET = {NO_LOCK_RULE, LOCAL_MISSING_RULE, "unused-module"}

HEAD = """\
version: 1
project: {name: demo}
state: {bucket: "{project}-{account_id}-tfstate", region: us-east-1}
"""
DEV = """\
environments:
  dev:
    account_id: "111111111111"
    regions:
      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}
"""
UNITS = """\
units:
  vpc: {module: networking/vpc}
"""
VPC = """\
source: tfr:///terraform-aws-modules/vpc/aws
version: 5.17.0
layer: 01-network
inputs:
  cidr: !hcl local.region.vpc_cidr
"""


@pytest.fixture
def report(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> Report:
    """Validate a project and return every diagnostic as printed (errors and warnings)."""

    def run(environments: str, **catalog: str) -> list[str]:
        files = {"environments.yaml": environments, "catalog/networking/vpc.yaml": VPC}
        files.update({f"catalog/{name.replace('__', '/')}.yaml": text for name, text in catalog.items()})
        config = make_project({k: textwrap.dedent(v) for k, v in files.items()})
        monkeypatch.chdir(config.parent)
        try:
            result = api.load("environments.yaml")
        except InputError as error:
            return [str(d) for d in error.diagnostics if d.rule not in QUIET]
        # These projects pin registry modules without a lock, or name local modules that
        # are not on disk: those notes are tested in test_modules.py, not in every case here.
        return [str(d) for d in result.warnings if d.rule not in QUIET]

    return run


def only(found: list[str], fragment: str) -> str:
    matching = [line for line in found if fragment in line]
    assert len(matching) == 1, "\n".join(found)
    return matching[0]


def test_the_base_project_is_clean(report: Report) -> None:
    assert report(HEAD + DEV + UNITS) == []


def test_the_rules_are_registered_once() -> None:
    names = [r.__name__ for r in checks.RULES + checks.CATALOG_RULES]
    assert len(names) == len(set(names)) >= 25


# --- CIDRs ----------------------------------------------------------------------------


@pytest.mark.parametrize("text, problem", [
    ("10.0.0.0/16", None),
    ("10.0.0.1/16", "it has host bits set: the network is 10.0.0.0/16"),
    ("10.0.0.0/33", "'33' is not a valid netmask"),
    ("10.0.0.0", "write it as a.b.c.d/prefix"),
    ("10.0.0.0/255.255.0.0", "write it as a.b.c.d/prefix"),
    ("010.0.0.0/16", "Leading zeros are not permitted"),
    ("300.0.0.0/16", "Octet 300 (> 255) not permitted"),
    ("fd00::/64", "write it as a.b.c.d/prefix"),
    (" 10.0.0.0/16", "write it as a.b.c.d/prefix"),
])
def test_parse_cidr(text: str, problem: str | None) -> None:
    parsed = networking.parse_cidr(text)
    if problem is None:
        assert parsed == ipaddress.IPv4Network(text)
    else:
        assert isinstance(parsed, str) and problem in parsed


def test_cidr_rules_point_at_the_value(report: Report) -> None:
    found = report(HEAD + DEV.replace("10.10.0.0/16", "10.10.0.1/16") + UNITS)
    assert found == ["environments.yaml:8:29: environments.dev.regions.us-east-1.vpc_cidr: '10.10.0.1/16' is not a "
                     "valid IPv4 CIDR: it has host bits set: the network is 10.10.0.0/16"]


@pytest.mark.parametrize("cidr, ok", [("10.0.0.0/8", False), ("10.0.0.0/15", False), ("10.0.0.0/16", True),
                                      ("10.0.0.0/28", True), ("10.0.0.0/29", False)])
def test_vpc_sizes_are_those_aws_accepts(report: Report, cidr: str, ok: bool) -> None:
    found = report(HEAD + DEV.replace("10.10.0.0/16", cidr) + "units: {}\n")
    errors = [f for f in found if "an AWS VPC is /16 to /28" in f]
    assert (errors == []) is ok


def test_public_vpc_ranges_are_a_warning(report: Report) -> None:
    found = report(HEAD + DEV.replace("10.10.0.0/16", "11.10.0.0/16") + UNITS)
    assert found == ["environments.yaml:8:29: environments.dev.regions.us-east-1.vpc_cidr: warning: 11.10.0.0/16 is "
                     "not a private range (VPCs normally use 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or "
                     "100.64.0.0/10)"]
    assert report(HEAD + DEV.replace("10.10.0.0/16", "100.64.0.0/16") + UNITS) == []


TWO_REGIONS = DEV.replace(
    "      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}\n",
    "      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}\n      eu-west-1: {vpc_cidr: OTHER, azs: [a, b]}\n",
)
STAGING = '  staging:\n    account_id: "222222222222"\n    regions:\n      us-east-1: {vpc_cidr: OTHER, azs: [a]}\n'


def test_regions_of_one_environment_must_not_overlap(report: Report) -> None:
    found = report(HEAD + TWO_REGIONS.replace("OTHER", "10.10.128.0/17") + UNITS)
    assert found == ["environments.yaml:9:29: environments.dev.regions.eu-west-1.vpc_cidr: 10.10.128.0/17 overlaps "
                     "environments.dev.regions.us-east-1.vpc_cidr (10.10.0.0/16) (regions of one environment are "
                     "peered: give each a disjoint range)"]
    assert report(HEAD + TWO_REGIONS.replace("OTHER", "10.11.0.0/16") + UNITS) == []


def test_the_overlap_is_reported_at_the_later_line_whatever_the_addresses(report: Report) -> None:
    found = report(HEAD + TWO_REGIONS.replace("10.10.0.0/16", "10.10.128.0/17").replace("OTHER", "10.10.0.0/16")
                   + UNITS)
    assert found[0].startswith("environments.yaml:9:29: environments.dev.regions.eu-west-1.vpc_cidr: 10.10.0.0/16 "
                               "overlaps environments.dev.regions.us-east-1.vpc_cidr (10.10.128.0/17)")


def test_overlaps_across_environments_are_warnings_and_errors_under_strict(report: Report) -> None:
    text = HEAD + DEV + STAGING.replace("OTHER", "10.10.0.0/16") + UNITS
    found = report(text)
    assert found == ["environments.yaml:12:29: environments.staging.regions.us-east-1.vpc_cidr: warning: 10.10.0.0/16 "
                     "overlaps environments.dev.regions.us-east-1.vpc_cidr (10.10.0.0/16) (environments with "
                     "overlapping ranges can never be peered or share a transit gateway)"]
    with pytest.raises(InputError) as caught:
        api.load("environments.yaml", strict=True)
    escalated = [d for d in caught.value.diagnostics if d.rule not in QUIET]
    assert escalated[0].severity == "error"
    assert "an error under strict=True" in str(caught.value)


def _nets(specs: list[tuple[int, int, int]]) -> list[networking._Net]:
    """(environment number, first address, prefix) -> networks, in file order."""
    nets = []
    for order, (env, start, prefix) in enumerate(specs):
        network = ipaddress.IPv4Network((start >> (32 - prefix) << (32 - prefix), prefix))
        environment = type("E", (), {"name": f"e{env}"})()
        nets.append(networking._Net(network, environment, None, order))  # type: ignore[arg-type]
    return nets


def _overlaps(a: networking._Net, b: networking._Net) -> bool:
    return a.network.overlaps(b.network)


network_specs = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 2**32 - 1), st.integers(8, 28)), min_size=0, max_size=40
)


@settings(max_examples=300, deadline=None)
@given(network_specs)
def test_sweep_finds_every_network_that_overlaps_an_earlier_one(specs: list[tuple[int, int, int]]) -> None:
    nets = _nets(specs)
    ordered = sorted(nets, key=lambda n: (n.start, n.order))
    pairs = list(networking.overlapping_pairs(nets))
    assert all(_overlaps(a, b) for a, b in pairs)
    reported = [b.order for _, b in pairs]
    assert len(reported) == len(set(reported)), "each network is reported at most once"
    expected = {n.order for i, n in enumerate(ordered) if any(_overlaps(m, n) for m in ordered[:i])}
    assert set(reported) == expected


@settings(max_examples=300, deadline=None)
@given(network_specs)
def test_sweep_across_environments_matches_the_quadratic_answer(specs: list[tuple[int, int, int]]) -> None:
    nets = _nets(specs)
    ordered = sorted(nets, key=lambda n: (n.start, n.order))
    pairs = list(networking.overlapping_pairs_across_environments(nets))
    assert all(_overlaps(a, b) and a.env.name != b.env.name for a, b in pairs)
    expected = {
        n.order for i, n in enumerate(ordered)
        if any(_overlaps(m, n) and m.env.name != n.env.name for m in ordered[:i])
    }
    assert {b.order for _, b in pairs} == expected


def test_many_identical_networks_give_one_finding_each_not_one_per_pair() -> None:
    nets = _nets([(i % 7, 10 << 24, 16) for i in range(5_000)])
    assert len(list(networking.overlapping_pairs(nets))) == 4_999
    assert len(list(networking.overlapping_pairs_across_environments(nets))) == 4_999


# --- zones and regions ----------------------------------------------------------------


def test_zone_suffixes_are_unique(report: Report) -> None:
    found = report(HEAD + DEV.replace("azs: [a, b]", "azs: [a, b, b]") + UNITS)
    assert found == ["environments.yaml:8:55: environments.dev.regions.us-east-1.azs[2]: zone 'b' (us-east-1b) is "
                     "listed twice (each zone suffix appears once)"]


def test_multi_az_needs_two_zones(report: Report) -> None:
    text = HEAD + DEV.replace('"111111111111"', '"111111111111"\n    multi_az: true')
    assert "is multi_az but region us-east-1 lists one zone" in only(report(text.replace("[a, b]", "[a]") + UNITS),
                                                                      "multi_az")
    assert report(text + UNITS) == []


def test_one_primary_region_per_environment(report: Report) -> None:
    text = HEAD + TWO_REGIONS.replace("OTHER", "10.11.0.0/16").replace("azs: [a, b]}", "azs: [a, b], role: primary}")
    assert "warning: environment 'dev' has more than one primary region (us-east-1, eu-west-1)" in only(
        report(text + UNITS), "primary")


def test_region_names_are_real_and_the_list_can_be_extended(report: Report) -> None:
    text = HEAD + DEV.replace("us-east-1: {vpc", "us-north-1: {vpc") + UNITS
    assert "unknown AWS region 'us-north-1'" in only(report(text), "us-north-1")
    assert report(text.replace("environments:", "aws_regions: [us-north-1]\nenvironments:")) == []
    state = report(HEAD.replace("region: us-east-1}", "region: eu-east-1}") + DEV + UNITS)
    assert only(state, "state.region").startswith("environments.yaml:3:59: state.region: unknown AWS region")


def test_the_shipped_region_list_holds_the_commercial_regions() -> None:
    assert {"us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1"} <= networking.AWS_REGIONS
    assert all(r == r.lower() and r.count("-") >= 2 for r in networking.AWS_REGIONS)


# --- sizing ---------------------------------------------------------------------------

SIZING = "sizing:\n  small: {db_instance_class: db.t3.small, db_storage_gb: 20}\n  large: LARGE\n"


def test_every_tier_defines_the_same_keys(report: Report) -> None:
    found = report(HEAD + SIZING.replace("LARGE", "{db_instance_class: db.r6g.large}") + DEV + UNITS)
    assert found == ["environments.yaml:6:3: sizing.large: tier 'large' does not define db_storage_gb (every tier "
                     "defines the same keys, so that local.env.sizing.<key> exists everywhere)"]


def test_sizing_overrides_use_the_tiers_keys(report: Report) -> None:
    sizing = SIZING.replace("LARGE", "{db_instance_class: db.r6g.large, db_storage_gb: 100}")
    env = DEV.replace('"111111111111"', '"111111111111"\n    sizing: small\n    sizing_overrides: {db_storage: 5}')
    found = report(HEAD + sizing + env + UNITS)
    assert found == ["environments.yaml:11:24: environments.dev.sizing_overrides.db_storage: 'db_storage' is not a key "
                     "of the sizing tiers (did you mean 'db_storage_gb'?)"]


def test_an_unknown_tier_is_reported_once_and_hides_sizing_references(report: Report) -> None:
    sizing = SIZING.replace("LARGE", "{db_instance_class: db.r6g.large, db_storage_gb: 100}")
    env = DEV.replace('"111111111111"', '"111111111111"\n    sizing: medium')
    vpc = VPC + "  size: !hcl local.env.sizing.db_storage_gb\n"
    found = report(HEAD + sizing + env + UNITS, networking__vpc=vpc)
    assert found == ["environments.yaml:10:13: environments.dev.sizing: unknown sizing tier 'medium' (tiers: small, "
                     "large)"]


# --- references to locals in !hcl expressions ------------------------------------------


@pytest.mark.parametrize("expression, fragment", [
    ("local.env.sizing.cpu", "local.env.sizing.cpu is not defined in environment dev (did you mean 'cpus'?)"),
    ("local.env.enviroment", "local.env.enviroment is not defined in environment dev (did you mean 'environment'?)"),
    ("local.region.vpc_cdir", "local.region.vpc_cdir is not defined in region dev/us-east-1 (did you mean "
                              "'vpc_cidr'?)"),
    ("local.region.settings.flow_logs", "local.region.settings.flow_logs is not defined in region dev/us-east-1 "
                                        "(local.region.settings is empty there)"),
    ("local.project.nmae", "local.project.nmae is not defined (did you mean 'name'?)"),
    ("local.env.account_id.x", "local.env.account_id.x is not defined in environment dev (local.env.account_id is "
                               "a single value, not a map)"),
    ("local.vars.x", "local.vars is not defined (the generated files define local.env, local.region and "
                     "local.project)"),
    ("'\"${local.env.nope}-x\"'", "local.env.nope is not defined in environment dev (local.env has: account_id, "
                                  "deletion_protection, environment, multi_az, settings, sizing, sizing_tier)"),
])
def test_undefined_locals_are_reported_at_the_expression(report: Report, expression: str, fragment: str) -> None:
    text = HEAD + "sizing: {one: {cpus: 1}}\n" + DEV.replace('"111111111111"', '"111111111111"\n    sizing: one')
    found = report(text + UNITS, networking__vpc=VPC + f"  probe: !hcl {expression}\n")
    assert found == [f"catalog/networking/vpc.yaml:6:10: inputs.probe: {fragment}"]


@pytest.mark.parametrize("expression", [
    "local.env.sizing.cpus",
    "local.env.settings.retention.days",
    "local.region.azs[0]",
    "'\"local.env.not_a_reference\"'",
    "'\"$${local.env.escaped}\"'",
    "'{ for k, v in local.env.settings : k => v }'",
    "local.project.tags.Team",
    "try(local.env.sizing.cpus, 1)",
])
def test_defined_or_unknowable_locals_are_fine(report: Report, expression: str) -> None:
    text = HEAD.replace("{name: demo}", "{name: demo, tags: {Team: x}}") + "sizing: {one: {cpus: 1}}\n"
    text += DEV.replace('"111111111111"', '"111111111111"\n    sizing: one\n    settings: {retention: {days: 3}}')
    found = report(text + UNITS, networking__vpc=VPC + f"  probe: !hcl {expression}\n")
    # Most probes do not read settings.retention: that warning is not what is tested here.
    assert [line for line in found if "is read by no module" not in line] == []


def test_a_reference_missing_in_some_environments_names_them(report: Report) -> None:
    envs = DEV.replace('"111111111111"', '"111111111111"\n    settings: {flow_logs: true}') + STAGING.replace(
        "OTHER", "10.20.0.0/16") + STAGING.replace("staging", "qa").replace("OTHER", "10.30.0.0/16")
    found = report(HEAD + envs + UNITS, networking__vpc=VPC + "  logs: !hcl local.env.settings.flow_logs\n")
    assert found == ["catalog/networking/vpc.yaml:6:9: inputs.logs: local.env.settings.flow_logs is not defined in "
                     "environment staging, qa (local.env.settings is empty there)"]


def test_unit_and_override_inputs_are_checked_where_they_apply(report: Report) -> None:
    env = DEV.replace('"111111111111"', '"111111111111"\n    units:\n      vpc: {inputs: {x: !hcl local.env.nope}}')
    found = report(HEAD + env + "units:\n  vpc: {module: networking/vpc, inputs: {y: !hcl local.region.nope}}\n")
    assert [f.split(": ")[1] for f in found] == ["environments.dev.units.vpc.inputs.x", "units.vpc.inputs.y"]


# --- subnet plans ---------------------------------------------------------------------


def _plans(text: str) -> list[networking.SubnetPlan]:
    doc = loads(f"x: !hcl '{text}'\n", "c.yaml")
    return networking.subnet_plans(("x",), HclExpr(text), doc)


def test_subnet_plans_are_read_from_the_usual_expressions() -> None:
    per_zone = _plans("[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 8, i + 21)]")
    assert [(p.newbits, p.offset, p.per_zone) for p in per_zone] == [(8, 21, True)]
    ranged = _plans("[for n in range(length(local.region.azs)) : cidrsubnet(local.region.vpc_cidr, 4, 3 + n)]")
    assert [(p.newbits, p.offset, p.per_zone) for p in ranged] == [(4, 3, True)]
    single = _plans("cidrsubnet(local.region.vpc_cidr, 8, 200)")
    assert [(p.newbits, p.offset, p.per_zone) for p in single] == [(8, 200, False)]
    assert _plans("cidrsubnet(local.region.vpc_cidr, 8, var.offset)") == []
    assert _plans("[for i, az in var.zones : cidrsubnet(local.region.vpc_cidr, 8, i)]") == []
    assert _plans("cidrsubnet(var.cidr, 8, 1)") == []


def _problems(cidr: str, zones: int, *texts: str) -> list[str]:
    plans = [p for t in texts for p in _plans(t)]
    return [f"{field}: {message}" for field, message, _ in
            networking.subnet_plan_problems(ipaddress.IPv4Network(cidr), zones, plans)]


REFERENCE = [f"[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 8, i + {k})]" for k in (1, 11, 21)]


def test_the_reference_subnet_plan_fits_a_16_with_up_to_ten_zones() -> None:
    assert _problems("10.40.0.0/16", 3, *REFERENCE) == []
    assert _problems("10.40.0.0/20", 6, *REFERENCE) == []  # /28 subnets: AWS's smallest
    assert _problems("10.40.0.0/16", 10, *REFERENCE) == []
    eleven = _problems("10.40.0.0/16", 11, *REFERENCE)
    assert [p.split(" overlaps ")[0] for p in eleven] == [
        "azs: with 11 zones, x (subnets 11-21 of 8 new bits at c.yaml:1:4)",
        "azs: with 11 zones, x (subnets 21-31 of 8 new bits at c.yaml:1:4)",
    ]
    assert eleven[0].endswith("overlaps x (subnets 1-11 of 8 new bits at c.yaml:1:4)")


def test_subnets_smaller_than_aws_allows() -> None:
    found = _problems("10.40.0.0/21", 3, REFERENCE[0])
    assert found == ["vpc_cidr: 10.40.0.0/21 is too small for x (subnets 1-3 of 8 new bits at c.yaml:1:4): that makes "
                     "/29 subnets"]


def test_subnet_numbers_beyond_the_new_bits() -> None:
    text = "[for i, az in local.region.azs : cidrsubnet(local.region.vpc_cidr, 2, i + 1)]"
    assert _problems("10.40.0.0/16", 3, text) == []
    assert _problems("10.40.0.0/16", 4, text) == ["azs: 4 zones need x (subnets 1-4 of 2 new bits at c.yaml:1:4), "
                                                  "but 2 new bits number subnets 0-3"]
    assert _problems("10.40.0.0/16", 4, "cidrsubnet(local.region.vpc_cidr, 2, 4)")[0].startswith("vpc_cidr: 4 zones")


def test_identical_subnet_plans_are_not_an_overlap() -> None:
    assert _problems("10.40.0.0/16", 3, REFERENCE[0], REFERENCE[0]) == []


def test_subnet_plans_are_checked_per_region(report: Report) -> None:
    vpc = VPC + "".join(f"  s{k}: !hcl '{t}'\n" for k, t in enumerate(REFERENCE))
    text = HEAD + TWO_REGIONS.replace("OTHER", "10.11.0.0/24") + UNITS
    found = report(text, networking__vpc=vpc)
    assert len(found) == 3
    assert all(f.startswith("environments.yaml:9:29: environments.dev.regions.eu-west-1.vpc_cidr: unit 'vpc': "
                            "10.11.0.0/24 is too small") for f in found)


# --- references between environments, units and the catalog ----------------------------


def test_unit_references(report: Report) -> None:
    units = "units:\n  vpc: {module: networking/vpc, environments: [dve], regions: [us-east-2]}\n"
    found = report(HEAD + DEV + units)
    assert "units.vpc.environments[0]: unknown environment 'dve' (did you mean 'dev'?)" in only(found, "dve")
    assert "units.vpc.regions[0]: no environment has region 'us-east-2' (did you mean 'us-east-1'?)" in only(
        found, "us-east-2")


def test_overrides_of_unknown_units_at_every_level(report: Report) -> None:
    text = HEAD + "defaults:\n  units: {vcp: false}\n" + DEV.replace(
        "azs: [a, b]}", "azs: [a, b], units: {vpx: false}}") + UNITS
    found = report(text)
    assert only(found, "vcp").startswith("environments.yaml:5:11: defaults.units.vcp: override of unknown unit 'vcp' "
                                         "(did you mean 'vpc'?)")
    assert "environments.dev.regions.us-east-1.units.vpx: override of unknown unit" in only(found, "vpx")


def test_dependencies_name_declared_units(report: Report) -> None:
    rds = "source: ./rds\nlayer: 02-data\ndependencies:\n  network: {unit: vcp}\n"
    found = report(HEAD + DEV + UNITS + "  rds: {module: data/rds}\n", data__rds=rds)
    assert found == ["catalog/data/rds.yaml:4:19: dependencies.network.unit: dependency 'network' needs unit 'vcp', "
                     "which environments.yaml does not declare (did you mean 'vpc'?)"]


def test_dependencies_on_units_not_deployed_there(report: Report) -> None:
    rds = "source: ./rds\nlayer: 02-data\ndependencies:\n  network: {unit: vpc, region: eu-west-1}\n"
    found = report(HEAD + TWO_REGIONS.replace("OTHER", "10.11.0.0/16")
                   + "units:\n  vpc: {module: networking/vpc, regions: [us-east-1]}\n  rds: {module: data/rds}\n",
                   data__rds=rds)
    # rds in us-east-1 and in eu-west-1 both need vpc in eu-west-1: one message says it
    assert found == ["environments.yaml:12:3: units.rds: unit 'rds' depends on 'vpc' (dependency 'network' in "
                     "catalog/data/rds.yaml:4:19), which is not deployed in dev/eu-west-1 (deploy 'vpc' there, or "
                     "limit 'rds' with environments:/regions:)"]


def test_a_dependency_cycle_is_reported_with_its_whole_path(report: Report) -> None:
    catalog = {
        "apps__a": "source: ./a\nlayer: apps\ndependencies:\n  to_b: {unit: b}\n",
        "apps__b": "source: ./b\nlayer: apps\ndependencies:\n  to_c: {unit: c}\n",
        "apps__c": "source: ./c\nlayer: apps\ndependencies:\n  back: {unit: a}\n",
    }
    units = "units:\n  a: {module: apps/a}\n  b: {module: apps/b}\n  c: {module: apps/c}\n"
    found = report(HEAD + DEV + units, **catalog)
    assert found == [
        "environments.yaml:10:3: units.a: dependency cycle: dev/us-east-1/a -> dev/us-east-1/b -> dev/us-east-1/c -> "
        "dev/us-east-1/a (a -> b by dependency 'to_b' at catalog/apps/a.yaml:4:3; b -> c by dependency 'to_c' at "
        "catalog/apps/b.yaml:4:3; c -> a by dependency 'back' at catalog/apps/c.yaml:4:3)"
    ]


def test_a_broken_catalog_file_does_not_cause_noise_about_its_units(report: Report) -> None:
    rds = "source: ./rds\nlayer: 02-data\ndependencies:\n  network: {unit: vpc}\n"
    found = report(HEAD + DEV + UNITS + "  rds: {module: data/rds}\n", data__rds=rds,
                   networking__vpc="source: [not, a, string]\nlayer: 01-network\n")
    assert found == ["catalog/networking/vpc.yaml:1:9: source: expected a string, got a list"]


def test_schema_errors_of_environments_yaml_and_the_catalog_come_together(report: Report) -> None:
    found = report(HEAD.replace("version: 1", "version: 3") + DEV + UNITS, networking__vpc=VPC.replace("layer", "layr"))
    assert [f.split(": ")[1] for f in found] == ["missing required key 'layer'", "layr", "version"]


def test_unknown_keys_do_not_hide_semantic_errors(report: Report) -> None:
    text = HEAD + DEV.replace('"111111111111"', '"111111111111"\n    deletion_protecton: true').replace(
        "10.10.0.0/16", "10.10.0.0/12") + UNITS
    assert [f.split(": ")[1] for f in report(text)] == ["environments.dev.deletion_protecton",
                                                        "environments.dev.regions.us-east-1.vpc_cidr"]


# --- module files and names -----------------------------------------------------------


def test_module_files_must_exist_with_the_exact_name(report: Report, make_project: ProjectFactory) -> None:
    found = report(HEAD + DEV + "units:\n  vpc: {module: networking/vcp}\n")
    assert found == ["environments.yaml:10:17: units.vpc.module: module 'networking/vcp' not found: no file "
                     "catalog/networking/vcp.yaml (did you mean 'networking/vpc'?)"]


def test_catalog_files_that_differ_only_by_case(report: Report) -> None:
    found = report(HEAD + DEV + UNITS, networking__VPC=VPC)
    assert found == ["environments.yaml:10:17: units.vpc.module: catalog/networking/vpc.yaml and "
                     "catalog/networking/VPC.yaml differ only by case (a checkout on macOS or Windows keeps only one "
                     "of them: rename or remove one)"]


@pytest.mark.parametrize("name, problem", [
    ("api", None), ("01-network", None), ("a_b", None),
    ("", "is empty"), (".", "refers to a directory"), ("..", "refers to a directory"),
    ("a/b", "path separator"), ("a\\b", "path separator"), ("/etc", "path separator"),
    ("a\x00b", "NUL or control character"), ("a\nb", "NUL or control character"),
    ("CON", "reserved on Windows"), ("con", "reserved on Windows"), ("nul.txt", "reserved on Windows"),
    ("com1", "reserved on Windows"), ("LPT9", "reserved on Windows"), ("console", None),
    ("name.", "ends with a dot or a space"), ("name ", "ends with a dot or a space"),
    ("a?b", "Windows does not allow"), ("Api", "uppercase"),
])
def test_name_problem(name: str, problem: str | None) -> None:
    found = name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_module_ids_and_case_collisions() -> None:
    assert module_id_problem("data/rds") is None
    assert "reserved on Windows" in (module_id_problem("data/aux") or "")
    assert module_id_problem("data/rds/extra") is not None
    assert case_collisions(["api", "web", "API", "Web", "db"]) == [("api", "API"), ("web", "Web")]


def test_reserved_names_are_refused_before_paths_are_built(report: Report) -> None:
    found = report(HEAD + DEV.replace("  dev:", "  prn:") + UNITS + "  aux: {module: networking/vpc}\n",
                   networking__vpc=VPC.replace("01-network", "com3"))
    assert [f.split(": ")[1] for f in found] == ["layer", "environments.prn", "units.aux"]
    assert all("reserved on Windows" in f for f in found)


# --- state bucket ---------------------------------------------------------------------


@pytest.mark.parametrize("name, problem", [
    ("demo-111111111111-tfstate", None),
    ("ab", "is 2 characters long"),
    ("a" * 64, "is 64 characters long"),
    ("demo_state", "only lowercase letters"),
    ("Demo-state", "only lowercase letters"),
    ("-demo", "begin and end with a letter or a digit"),
    ("demo..state", "two adjacent dots"),
    ("192.168.1.1", "IP address"),
    ("xn--demo", "must not begin with 'xn--'"),
    ("demo-s3alias", "must not end with '-s3alias'"),
])
def test_bucket_name_problem(name: str, problem: str | None) -> None:
    found = state.bucket_name_problem(name)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_the_state_bucket_is_checked_with_placeholders_filled(report: Report) -> None:
    head = HEAD.replace("{project}-{account_id}-tfstate", "{project}-{account_id}-{env}-{region}-" + "x" * 32)
    found = report(head + DEV + UNITS)
    assert found == ["environments.yaml:3:17: state.bucket: the state bucket of dev/us-east-1, 'demo-111111111111-dev-"
                     "us-east-1-" + "x" * 32 + "', is 64 characters long; S3 bucket names are 3 to 63"]


def test_one_bucket_for_several_accounts_is_a_warning(report: Report) -> None:
    head = HEAD.replace("{project}-{account_id}-tfstate", "{project}-tfstate")
    found = report(head + DEV + STAGING.replace("OTHER", "10.20.0.0/16") + UNITS)
    assert found == ["environments.yaml:3:17: state.bucket: warning: accounts 111111111111, 222222222222 all keep "
                     "their state in one bucket, 'demo-tfstate' (S3 bucket names are global: include {account_id} or "
                     "{env} unless one account holds all state)"]


# --- policy and lint warnings ---------------------------------------------------------


@pytest.mark.parametrize("name, production", [
    ("prod", True), ("production", True), ("prd", True), ("live", True), ("eu-prod", True), ("prod2", True),
    ("prod_eu", True), ("preprod", False), ("product", False), ("dev", False), ("staging", False),
    ("delivery", False),
])
def test_production_like_names(name: str, production: bool) -> None:
    assert looks_like_production(name) is production


def test_unprotected_production_is_a_warning(report: Report) -> None:
    text = HEAD + DEV.replace("  dev:", "  prod:") + UNITS
    assert report(text) == ["environments.yaml:5:3: environments.prod: warning: environment 'prod' looks like "
                            "production but deletion_protection is false (set deletion_protection: true "
                            "(prevent_destroy on every unit, no pruning of removed units))"]
    explicit = report(text.replace('"111111111111"', '"111111111111"\n    deletion_protection: false'))
    assert only(explicit, "production").startswith("environments.yaml:7:26: environments.prod.deletion_protection")
    protected = text.replace('"111111111111"', '"111111111111"\n    deletion_protection: true')
    assert report(protected) == []
    assert report(HEAD + "defaults: {deletion_protection: true}\n" + DEV.replace("  dev:", "  prod:") + UNITS) == []


def test_environments_regions_and_units_that_deploy_nothing(report: Report) -> None:
    envs = TWO_REGIONS.replace("OTHER", "10.11.0.0/16") + STAGING.replace("OTHER", "10.20.0.0/16")
    units = ("units:\n  vpc: {module: networking/vpc, environments: [dev], regions: [us-east-1]}\n"
             "  idle: {module: networking/vpc, environments: [staging], regions: [eu-west-1]}\n")
    found = report(HEAD + envs + units)
    assert [f.split(": warning: ")[1].split(" (")[0] for f in found] == [
        "region eu-west-1 of 'dev' deploys no unit",
        "environment 'staging' deploys no unit",
        "unit 'idle' is deployed in no environment and region",
    ]


def test_overrides_without_effect_are_warnings(report: Report) -> None:
    env = DEV.replace('"111111111111"', '"111111111111"\n    units: {api: {inputs: {x: 1}}, vpc: {inputs: {y: 1}}}')
    units = UNITS + "  api: {module: networking/vpc, environments: [staging]}\n"
    found = report(HEAD + env + STAGING.replace("OTHER", "10.20.0.0/16") + units)
    assert found == ["environments.yaml:7:13: environments.dev.units.api: warning: override of 'api' has no effect: it "
                     "is not deployed in dev"]


@pytest.mark.parametrize("expression, function", [
    ("timestamp()", "timestamp"), ("uuid()", "uuid"), ('bcrypt("x")', "bcrypt"), ("formatdate(\"YYYY\", timestamp())",
                                                                                 "timestamp"),
])
def test_nondeterministic_functions_are_warnings(report: Report, expression: str, function: str) -> None:
    found = report(HEAD + DEV + UNITS, networking__vpc=VPC + f"  t: !hcl '{expression}'\n")
    assert found == [f"catalog/networking/vpc.yaml:6:6: inputs.t: warning: {function}() changes on every run and makes "
                     "every plan dirty (pass a fixed value, or compute it in the module with a lifecycle "
                     "ignore_changes)"]


@pytest.mark.parametrize("expression", ["plantimestamp()", '"timestamp()"', "local.env.timestamp_format"])
def test_lookalikes_of_nondeterministic_functions_are_fine(report: Report, expression: str) -> None:
    found = report(HEAD + DEV + UNITS, networking__vpc=VPC + f"  t: !hcl '{expression}'\n")
    assert not any("changes on every run" in f for f in found)


def test_hcl_expressions_must_parse(report: Report) -> None:
    found = report(HEAD + DEV + UNITS, networking__vpc=VPC + "  t: !hcl 'concat([1], [2]'\n")
    assert len(found) == 1 and found[0].startswith("catalog/networking/vpc.yaml:6:6: inputs.t: !hcl expression does "
                                                   "not parse")


# --- command line ---------------------------------------------------------------------


def test_strict_turns_warnings_into_errors_in_validate_and_render(make_project: ProjectFactory, tmp_path: Path) -> None:
    config = make_project({"environments.yaml": HEAD + DEV.replace("  dev:", "  prod:") + UNITS,
                           "catalog/networking/vpc.yaml": VPC})
    runner = CliRunner()
    lenient = runner.invoke(main, ["validate", "-c", str(config)])
    assert lenient.exit_code == 0
    assert "warning: environment 'prod' looks like production" in lenient.stderr
    assert "(2 warnings)" in lenient.stdout  # and the note that no module interface is known
    strict = runner.invoke(main, ["validate", "-c", str(config), "--strict"])
    assert strict.exit_code == 2
    assert "environments.prod: environment 'prod' looks like production" in strict.stderr
    assert "an error under --strict" in strict.stderr
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine\n")
    before = tree(out)
    refused = runner.invoke(main, ["render", "-c", str(config), "-o", str(out), "--strict"])
    assert refused.exit_code == 2 and tree(out) == before
    rendered = runner.invoke(main, ["render", "-c", str(config), "-o", str(out)])
    assert rendered.exit_code == 0 and "warning: environment 'prod'" in rendered.stderr


def test_json_report_lists_errors_and_warnings_as_objects(make_project: ProjectFactory) -> None:
    import json

    config = make_project({"environments.yaml": HEAD + DEV.replace("  dev:", "  prod:").replace(
        "10.10.0.0/16", "10.10.0.0/8") + UNITS, "catalog/networking/vpc.yaml": VPC})
    result = CliRunner().invoke(main, ["validate", "-c", str(config), "--format", "json"])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(e["line"], e["column"], e["path"], e["rule"]) for e in report["errors"]] == [
        (8, 29, "environments.prod.regions.us-east-1.vpc_cidr", "cidr")]
    assert [(w["path"], w["severity"]) for w in report["warnings"] if w["rule"] not in QUIET] == [
        ("environments.prod", "warning")]


def test_an_input_too_large_for_one_environment_variable_is_refused(report: Report) -> None:
    """Terragrunt passes each input as one TF_VAR_ variable; Linux caps one at 128 KiB."""
    big = "x" * (128 * 1024)
    with_blob = f'{{module: networking/vpc, inputs: {{blob: "{big}"}}}}'
    found = report(HEAD + DEV + UNITS.replace("{module: networking/vpc}", with_blob))
    line = only(found, "input 'blob' is 131074 bytes as JSON")
    assert line.startswith("environments.yaml:10:42: units.vpc.inputs.blob: "), line
    assert "which Linux limits to 131072 bytes" in line
    small = report(HEAD + DEV + UNITS.replace("{module: networking/vpc}", "{module: networking/vpc, inputs: {b: x}}"))
    assert not [x for x in small if "bytes as JSON" in x]


@pytest.mark.parametrize("arn, placeholder", [
    # the stand-ins the reference project shipped for its ACM certificates (issue 21 item 7)
    ("arn:aws:acm:us-east-1:333333333333:certificate/00000000-0000-0000-0000-000000000000", True),
    ("arn:aws:iam::000000000000:role/deploy", True),
    ("arn:aws:kms:eu-west-1:444444444444:key/00000000-0000-0000-0000-000000000000", True),
    ("arn:aws:acm:us-east-1:333333333333:certificate/1234abcd-0000-0000-0000-000000000000", False),
    ("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", False),
    ("arn:aws:s3:::bucket-000", False),
    ("arn:aws:sns:us-east-1:444444444444:alerts", False),
])
def test_placeholder_arns(arn: str, placeholder: bool) -> None:
    assert _is_placeholder_arn(arn) is placeholder


def test_placeholder_arns_are_found_in_inputs_but_not_in_mock_outputs(report: Report) -> None:
    """A mock output stands in for an output on purpose (plan only, never applied): an
    all-zero ARN there is what it should be, where the same ARN as an input is a stand-in
    someone forgot to replace (issue 21 item 7; the seed examples mock ARNs so)."""
    units = """\
units:
  vpc: {module: networking/vpc, inputs: {flow_log_role: "arn:aws:iam::000000000000:role/x"}}
  mirror:
    module: networking/vpc
    dependencies:
      net: {unit: vpc, mock_outputs: {role_arn: "arn:aws:iam::000000000000:role/mock"}}
"""
    found = [line for line in report(HEAD + DEV + units) if "placeholder ARN" in line]
    assert len(found) == 1, found
    assert "units.vpc.inputs.flow_log_role: " in found[0]
