"""Rules that look at one unit per group of alike units (checks/base.py ``alike``), or
at each distinct input source once (``distinct_sources``, ``units_with``), find what they
found unit by unit: the same diagnostics, in the same order, at the same locations.

Each project is checked twice: as tfgen does, and with those helpers replaced by
unit-by-unit equivalents (every unit its own group; every unit's sources read anew).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bench import synth
from generator import api, checks
from generator.checks import base, modules, network, references
from generator.errors import Diagnostic, InputError
from generator.project.model import Unit
from generator.project.modules.lockfile import LOCK_NAME

from ..conftest import CASES, REPO

#: Projects whose rules find something: unknown inputs and outputs, missing mocks,
#: required variables, undefined locals, tenants, many errors at once.
CASE_NAMES = (
    "invalid-many-errors",
    "invalid-input-type",
    "invalid-input-required-missing",
    "invalid-input-undeclared-catalog",
    "invalid-input-undeclared-override",
    "invalid-dependency-output-unknown",
    "invalid-hcl-undeclared-dependency",
    "invalid-local-reference-typo",
    "tenants",
    "invalid-subnets-overlap",
    "invalid-subnets-too-small",
)


def _one_per_unit(ctx: base.Context) -> tuple[list[Unit], list[int]]:
    units = list(ctx.project.units)
    return units, list(range(len(units)))


def _distinct_unit_by_unit(ctx: base.Context) -> list[base.InputSource]:
    found: dict[int, base.InputSource] = {}
    for unit in ctx.project.units:
        for source in base.unit_sources(ctx, unit):
            found.setdefault(id(source), source)
    return list(found.values())


def _with_unit_by_unit(
    ctx: base.Context, chosen: Mapping[int, base.InputSource]
) -> Iterator[tuple[Unit, list[base.InputSource]]]:
    for unit in ctx.project.units:
        found = [source for source in base.unit_sources(ctx, unit) if id(source) in chosen]
        if found:
            yield unit, found


def _unit_by_unit_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (base, modules):
        monkeypatch.setattr(module, "alike", _one_per_unit)
    for module in (base, network, references):
        monkeypatch.setattr(module, "distinct_sources", _distinct_unit_by_unit)
        monkeypatch.setattr(module, "units_with", _with_unit_by_unit)


def _findings(config: Path) -> list[Diagnostic]:
    try:
        return api.load(config).warnings
    except InputError as error:
        return error.diagnostics


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth.write_project(synth.SHAPES[80], tmp_path_factory.mktemp("synthetic") / "project")


#: The reference project with findings that differ by environment and region: an
#: override in staging's us-east-1 writes an unknown input and a wrong type, and uat's
#: units get an input its module lacks.
STAGING = "      us-east-1: { vpc_cidr: 10.20.0.0/16, azs: [a, b, c], role: primary }\n"
STAGING_OVERRIDES = """\
      us-east-1:
        vpc_cidr: 10.20.0.0/16
        azs: [a, b, c]
        role: primary
        units:
          orders-api: { inputs: { desired_cnt: 2, desired_count: [1, 2] } }
"""
UAT = "  uat:\n"
UAT_OVERRIDES = """\
  uat:
    units:
      rds: { inputs: { not_a_variable: true } }
"""


@pytest.fixture
def overridden(reference_project: Path) -> Path:
    text = reference_project.read_text(encoding="utf-8")
    assert STAGING in text and UAT in text
    reference_project.write_text(text.replace(STAGING, STAGING_OVERRIDES).replace(UAT, UAT_OVERRIDES),
                                 encoding="utf-8")
    return reference_project


def test_groups_find_what_units_find_where_places_differ(overridden: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grouped = _findings(overridden)
    found = "\n".join(str(d) for d in grouped)
    assert "desired_cnt" in found and "not_a_variable" in found and "desired_count" in found
    _unit_by_unit_rules(monkeypatch)
    assert _findings(overridden) == grouped


@pytest.mark.parametrize("name", CASE_NAMES)
def test_groups_find_what_units_find(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / name / "environments.yaml"
    shutil.copytree(CASES / name, config.parent, ignore=shutil.ignore_patterns("expected*"))
    if (config.parent / "catalog").is_dir():  # the interfaces, for the rules that read them
        shutil.copyfile(REPO / "catalog" / LOCK_NAME, config.parent / "catalog" / LOCK_NAME)
    grouped = _findings(config)
    assert grouped  # the case finds something
    _unit_by_unit_rules(monkeypatch)
    assert _findings(config) == grouped


@pytest.mark.parametrize("project", ["reference", "synthetic"])
def test_groups_find_what_units_find_in_order(
    project: str, synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = api.load(REPO / "environments.yaml" if project == "reference" else synthetic)
    grouped = checks.run(loaded.project)
    ctx = base.Context(loaded.project)
    first, group_of = base.alike(ctx)
    # far fewer groups than units: units that differ by region alone are alike
    assert len(first) < len(loaded.project.units) == len(group_of)
    assert [first[g] for g in sorted(set(group_of))] == first
    _unit_by_unit_rules(monkeypatch)
    assert checks.run(loaded.project) == grouped
