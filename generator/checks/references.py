"""Rules on references: units, overrides, dependencies and local.* in !hcl expressions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import Diagnostic, KeyPath
from ..project.loader import Document
from ..project.model import (
    Project,
    Unit,
    find_cycle,
    project_locals,
    tenant_locals,
    value_at,
)
from ..project.values import HclExpr, local_references
from .base import (
    Context,
    InputSource,
    catalog_rule,
    did_you_mean,
    distinct_sources,
    rule,
    source_expressions,
    units_with,
)


def renamed_units(project: Project) -> dict[str, str]:
    """A unit's first name (``previous:``, without its layer) -> its name now: what a
    reference to the old name means."""
    return {s.previous.rpartition("/")[2]: s.name for s in project.unit_specs if s.previous}


@rule
def unit_references_exist(ctx: Context) -> Iterator[Diagnostic]:
    project = ctx.project
    env_names = [e.name for e in project.environments]
    region_names = sorted({r.name for e in project.environments for r in e.regions})
    unit_names = [s.name for s in project.unit_specs]
    for spec in project.unit_specs:
        for i, name in enumerate(spec.environments or ()):
            if name not in env_names:
                yield ctx.error(
                    (*spec.path, "environments", i),
                    f"unknown environment '{name}'",
                    "unknown-reference",
                    did_you_mean(name, env_names, "environments"),
                )
        for i, name in enumerate(spec.regions or ()):
            if name not in region_names:
                yield ctx.error(
                    (*spec.path, "regions", i),
                    f"no environment has region '{name}'",
                    "unknown-reference",
                    did_you_mean(name, region_names, "regions"),
                )
    owners: list[KeyPath] = [("defaults",)]
    for env in project.environments:
        owners.append(env.path)
        owners += [r.path for r in env.regions]
    for owner in owners:
        overrides = value_at(ctx.doc.data, (*owner, "units"))
        for name in overrides or {}:
            if name not in unit_names:
                yield ctx.error(
                    (*owner, "units", name),
                    f"override of unknown unit '{name}'",
                    "unknown-reference",
                    did_you_mean(name, unit_names, "units", renamed_units(project)),
                    key=True,
                )


@catalog_rule
def dependency_cycles(ctx: Context) -> Iterator[Diagnostic]:
    cycle = find_cycle(ctx.project)
    if not cycle:
        return
    steps = []
    for unit, target in itertools.pairwise(cycle):
        wire = next(w for w in ctx.project.wiring[unit.key] if w.target.key == target.key)
        where = wire.dependency.locate(key=True)
        steps.append(f"{unit.name} -> {target.name} by dependency '{wire.dependency.name}' at {where}")
    first = cycle[0]
    yield ctx.error(
        first.spec.path,
        "dependency cycle: " + " -> ".join(u.address for u in cycle),
        "dependency-cycle",
        "; ".join(steps),
        key=True,
    )


def _unknown_unit(ctx: Context, name: str, names: list[str], what: str) -> tuple[str, str]:
    """The message and hint for a dependency on an undeclared unit (a renamed unit's new
    name first: its dependents are the places to edit)."""
    return (
        f"{what} needs unit '{name}', which environments.yaml does not declare",
        did_you_mean(name, names, "units", renamed_units(ctx.project)),
    )


@rule
def dependency_units_exist(ctx: Context) -> Iterator[Diagnostic]:
    """Every dependency names a declared unit: the catalog's, and those units (and their
    overrides) add or retarget, each reported where it is written (a renamed unit is
    named by its dependents: validate lists each place to edit)."""
    names = [s.name for s in ctx.project.unit_specs]
    for module in ctx.project.modules.values():
        for dep in module.dependencies:
            if dep.unit not in names:
                path = (*dep.path, "unit")
                message, hint = _unknown_unit(ctx, dep.unit, names, f"dependency '{dep.name}'")
                yield Diagnostic(message, module.document.locate(path), path, rule="dependency-missing", hint=hint)
    for owner, name, dependencies in _own_dependencies(ctx):
        for dep_name, raw in dependencies.items():
            target = raw.get("unit") if isinstance(raw, Mapping) else None
            if isinstance(target, str) and target not in names:
                path = (*owner, "units", name, "dependencies", dep_name, "unit")
                message, hint = _unknown_unit(ctx, target, names, f"dependency '{dep_name}' of unit '{name}'")
                yield ctx.error(path, message, "dependency-missing", hint)


def _own_dependencies(ctx: Context) -> Iterator[tuple[KeyPath, str, Mapping[str, Any]]]:
    """(owner, unit, dependencies) of every unit and unit override that writes some;
    the owner of a unit's own is () (units.<name>.dependencies)."""
    data = ctx.doc.data
    for spec in ctx.project.unit_specs:
        if spec.dependencies:
            yield (), spec.name, spec.dependencies
    owners: list[KeyPath] = [("defaults",)]
    for env in ctx.project.environments:
        owners.append(env.path)
        owners += [r.path for r in env.regions]
    for owner in owners:
        overrides = value_at(data, (*owner, "units"))
        for name, override in (overrides or {}).items():
            own = override.get("dependencies") if isinstance(override, Mapping) else None
            if isinstance(own, Mapping) and own:
                yield owner, name, own


@catalog_rule
def layer_order(ctx: Context) -> Iterator[Diagnostic]:
    """With ``layer_order: strict``, a unit depends only on units of its own layer or an
    earlier one (layers are ordered by name: 01-network before 02-data)."""
    if ctx.project.layer_order != "strict":
        return
    reported: set[tuple[str, KeyPath, str, str]] = set()
    for unit in ctx.project.units:
        for wire in ctx.project.wiring.get(unit.key, ()):
            if wire.target.layer <= unit.layer:
                continue
            dep = wire.dependency
            marker = (dep.file, dep.path, unit.name, wire.target.name)
            if marker in reported:
                continue
            reported.add(marker)
            path = (*dep.path, "unit")
            yield Diagnostic(
                f"unit '{unit.name}' (layer {unit.layer}) depends on '{wire.target.name}' of a later layer "
                f"({wire.target.layer}) by dependency '{dep.name}'; layer_order is strict",
                dep.locate("unit"),
                path,
                rule="layer-order",
                hint=f"move '{wire.target.name}' to layer {unit.layer} or earlier (layer:), or '{unit.name}' "
                f"to {wire.target.layer} or later",
            )


@catalog_rule
def layers_named_exist(ctx: Context) -> Iterator[Diagnostic]:
    """A layer turned off (``layers: {L: false}``) is one some unit is placed in: a typo
    would leave the layer on."""
    known = {m.layer for m in ctx.project.modules.values()} | {
        s.layer for s in ctx.project.unit_specs if s.layer is not None
    }
    data = ctx.doc.data
    owners = [e.path for e in ctx.project.environments]
    owners += [r.path for e in ctx.project.environments for r in e.regions]
    for owner in owners:
        for layer in value_at(data, (*owner, "layers")) or {}:
            if layer not in known:
                yield ctx.error(
                    (*owner, "layers", layer),
                    f"no unit is in layer '{layer}'",
                    "unknown-reference",
                    did_you_mean(layer, known, "layers"),
                    key=True,
                )


def _scopes(ctx: Context, unit: Unit) -> dict[str, Any]:
    found = {
        "env": ctx.env_locals(unit.environment),
        "region": ctx.region_locals(unit.environment, unit.region),
        "project": project_locals(ctx.project),
    }
    if unit.tenant is not None:  # a shared unit has no local.tenant
        found["tenant"] = tenant_locals(ctx.project, unit.tenant, unit.environment, unit.region)
    return found


def undefined_reference(ref: tuple[str, ...], scopes: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the first undefined part as local.a.b, a hint) when *ref* names nothing; None if fine
    or unknowable (an !hcl value or a list on the way)."""
    if ref[0] not in scopes:
        if ref[0] == "tenant":
            return "local.tenant", "only a per_tenant unit's instances have local.tenant (their tenant.hcl)"
        return f"local.{ref[0]}", "the generated files define local.env, local.region and local.project"
    value: Any = scopes[ref[0]]
    walked = f"local.{ref[0]}"
    for part in ref[1:]:
        if isinstance(value, dict):
            if part not in value:
                return f"{walked}.{part}", did_you_mean(part, value, f"{walked} has") or f"{walked} is empty there"
            value = value[part]
            walked = f"{walked}.{part}"
        elif isinstance(value, (HclExpr, list)):
            return None
        else:
            return f"{walked}.{part}", f"{walked} is a single value, not a map"
    return None


@catalog_rule
def local_references_defined(ctx: Context) -> Iterator[Diagnostic]:
    """``local.env.sizing.<key>``, ``local.region.settings.<key>`` ... must exist wherever the
    expression is rendered, or Terragrunt fails with "Unsupported attribute"."""
    tiers = ctx.project.sizing
    # Where each source is rendered: one unit per environment and per region stands for
    # all (local.env depends on the environment only, local.region on the region).
    # local.tenant depends on the tenant and the region, and a shared unit has none.
    placements: dict[
        tuple[str, ...],
        tuple[InputSource, dict[str, Unit], dict[tuple[str, str], Unit], dict[tuple[str, str, str], Unit]],
    ] = {}
    every_place: dict[tuple[str, str, str], Unit] = {}  # each place's first unit
    current: tuple[Any, ...] = ()
    for unit in ctx.project.units:
        if not current or (unit.environment, unit.region, unit.tenant) != current:
            current = (unit.environment, unit.region, unit.tenant)
            tenant = unit.tenant.name if unit.tenant is not None else ""
            every_place.setdefault((unit.environment.name, unit.region.name, tenant), unit)
    found: dict[tuple[str, KeyPath, str], tuple[Document, KeyPath, str, list[str]]] = {}
    scopes: dict[tuple[str, str, str], dict[str, Any]] = {}
    verdicts: dict[tuple[tuple[str, ...], tuple[str, str, str]], Any] = {}

    def verdict(ref: tuple[str, ...], placement: tuple[str, str, str], unit: Unit) -> Any:
        # many sources read the same local in the same places: each looked up once
        missing = verdicts.get((ref, placement), verdicts)
        if missing is verdicts:
            if placement not in scopes:
                scopes[placement] = _scopes(ctx, unit)
            missing = verdicts[(ref, placement)] = undefined_reference(ref, scopes[placement])
        return missing

    # A local defined in every place is defined wherever any source reads it: most
    # are, and only the sources reading another one are placed, unit by unit.
    everywhere: dict[tuple[str, ...], bool] = {}
    sources = distinct_sources(ctx)
    undefined: dict[int, InputSource] = {}
    for source in sources:
        for _path, expr in source_expressions(ctx, source):
            for ref in local_references(expr.text):
                defined = everywhere.get(ref)
                if defined is None:
                    defined = everywhere[ref] = all(verdict(ref, p, u) is None for p, u in every_place.items())
                if not defined:
                    undefined[id(source)] = source
    if not undefined:
        return
    for source in sources:
        if id(source) in undefined:
            placements[source.key] = (source, {}, {}, {})
    for unit, found_sources in units_with(ctx, undefined):
        env_name, region_name = unit.environment.name, unit.region.name
        tenant = unit.tenant.name if unit.tenant is not None else ""
        for source in found_sources:
            placed = placements[source.key]
            placed[1].setdefault(env_name, unit)
            placed[2].setdefault((env_name, region_name), unit)
            placed[3].setdefault((env_name, region_name, tenant), unit)
    for source, by_env, by_region, by_tenant in placements.values():
        for path, expr in source_expressions(ctx, source):
            for ref in local_references(expr.text):
                if everywhere[ref]:
                    continue
                units = (
                    by_region.values() if ref[0] == "region"
                    else by_tenant.values() if ref[0] == "tenant"
                    else by_env.values() if ref[0] == "env"
                    else list(by_env.values())[:1]
                )
                for unit in units:
                    env, region = unit.environment, unit.region
                    if ref[:2] == ("env", "sizing") and env.sizing_tier is not None and env.sizing_tier not in tiers:
                        continue  # the unknown tier is reported already
                    placement = (env.name, region.name, unit.tenant.name if unit.tenant is not None else "")
                    missing = verdict(ref, placement, unit)
                    if missing is None:
                        continue
                    place = (
                        env.name if ref[0] not in ("region", "tenant")
                        else f"{env.name}/{region.name}/{unit.tenant.name}" if unit.tenant is not None
                        else f"{env.name}/{region.name}" if ref[0] == "region"
                        else f"shared unit {unit.name} in {env.name}/{region.name}"
                    )
                    entry = found.setdefault(
                        (source.doc.file, path, missing[0]), (source.doc, path, missing[1], [])
                    )
                    if place not in entry[3]:
                        entry[3].append(place)
    for (_, _, name), (doc, path, hint, places) in found.items():
        shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
        kind = "region" if name.startswith("local.region.") else "tenant" if name.startswith("local.tenant.") \
            else "environment"
        where = f" in {kind} {shown}" if name.startswith(("local.env.", "local.region.", "local.tenant.")) else ""
        if name == "local.tenant":
            where = f" for {shown}"
        yield Diagnostic(
            f"{name} is not defined{where}",
            doc.locate(path),
            path,
            rule="undefined-local",
            hint=hint,
        )
