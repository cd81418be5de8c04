"""Rules on names, sizing, protection and where units are deployed."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Diagnostic, KeyPath
from ..project.model import (
    value_at,
)
from ..project.names import case_collisions, looks_like_production, name_problem
from .base import Context, catalog_rule, did_you_mean, rule


@rule
def sizing_tiers_define_same_keys(ctx: Context) -> Iterator[Diagnostic]:
    tiers = ctx.project.sizing
    if not tiers:
        return
    every = set().union(*(set(values) for values in tiers.values()))
    for name, values in tiers.items():
        missing = sorted(every - set(values))
        if missing:
            yield ctx.error(
                ("sizing", name),
                f"tier '{name}' does not define {', '.join(missing)}",
                "sizing-keys",
                "every tier defines the same keys, so that local.env.sizing.<key> exists everywhere",
                key=True,
            )


@rule
def sizing_overrides_use_tier_keys(ctx: Context) -> Iterator[Diagnostic]:
    tiers = ctx.project.sizing
    if not tiers:
        return
    keys = set().union(*(set(values) for values in tiers.values()))
    data = ctx.doc.data
    owners: list[KeyPath] = [("defaults",)] + [("environments", e.name) for e in ctx.project.environments]
    for owner in owners:
        raw = value_at(data, owner)
        overrides = raw.get("sizing_overrides") if isinstance(raw, dict) else None
        for key in overrides or {}:
            if key not in keys:
                yield ctx.error(
                    (*owner, "sizing_overrides", key),
                    f"'{key}' is not a key of the sizing tiers",
                    "sizing-keys",
                    did_you_mean(key, keys, "tier keys"),
                    key=True,
                )


@rule
def safe_names(ctx: Context) -> Iterator[Diagnostic]:
    project = ctx.project
    named: list[tuple[str, KeyPath, str]] = [(e.name, e.path, "environment") for e in project.environments]
    named += [(s.name, s.path, "unit") for s in project.unit_specs]
    for what, path, kind in named:
        problem = name_problem(what)
        if problem:
            yield ctx.error(path, f"{kind} name '{what}': {problem}", "safe-name", key=True)
    for kind, section in (("environment", "environments"), ("unit", "units")):
        for first, later in case_collisions(n for n, _, k in named if k == kind):
            yield ctx.error(
                (section, later),
                f"{kind} names '{first}' and '{later}' differ only by case",
                "safe-name",
                key=True,
            )
    for spec in project.unit_specs:
        problem = name_problem(spec.layer) if spec.layer is not None else None
        if problem:
            yield ctx.error((*spec.path, "layer"), f"layer name '{spec.layer}': {problem}", "safe-name")
    for module in project.modules.values():
        problem = name_problem(module.layer)
        if problem:
            yield Diagnostic(
                f"layer name '{module.layer}': {problem}",
                module.document.locate(("layer",)),
                ("layer",),
                rule="safe-name",
            )


@rule
def protected_environment_policy(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        if looks_like_production(env.name) and not env.deletion_protection:
            raw = value_at(ctx.doc.data, env.path)
            path = (*env.path, "deletion_protection") if "deletion_protection" in raw else env.path
            yield ctx.warning(
                path,
                f"environment '{env.name}' looks like production but deletion_protection is false",
                "protected-environment",
                "set deletion_protection: true (prevent_destroy on every unit, no pruning of removed units)",
                key=path == env.path,
            )


@catalog_rule
def environments_deploy_units(ctx: Context) -> Iterator[Diagnostic]:
    placed: dict[str, set[str]] = {}
    for unit in ctx.project.units:
        placed.setdefault(unit.environment.name, set()).add(unit.region.name)
    for env in ctx.project.environments:
        regions = placed.get(env.name)
        if not regions:
            yield ctx.warning(
                env.path,
                f"environment '{env.name}' deploys no unit",
                "empty-environment",
                "check the units' environments:/regions: limits and `false` overrides",
                key=True,
            )
            continue
        for region in env.regions:
            if region.name not in regions:
                yield ctx.warning(
                    region.path, f"region {region.name} of '{env.name}' deploys no unit", "empty-region", key=True
                )


@catalog_rule
def units_are_deployed(ctx: Context) -> Iterator[Diagnostic]:
    # A unit of a layer that is off is kept for when the layer is on: not unused.
    placed = {u.spec.name for u in (*ctx.project.units, *ctx.project.dormant)}
    for spec in ctx.project.unit_specs:
        if spec.name not in placed and spec.module in ctx.project.modules:
            yield ctx.warning(
                spec.path,
                f"unit '{spec.name}' is deployed in no environment and region",
                "unused-unit",
                "its environments:/regions: limits or `false` overrides exclude every region",
                key=True,
            )


@catalog_rule
def overrides_take_effect(ctx: Context) -> Iterator[Diagnostic]:
    # An override of a unit whose layer is off there takes effect when the layer is on.
    units = (*ctx.project.units, *ctx.project.dormant)
    placed = {u.key for u in units}
    in_env = {(u.environment.name, u.spec.name) for u in units}
    known = {s.name for s in ctx.project.unit_specs}
    for env in ctx.project.environments:
        own = value_at(ctx.doc.data, (*env.path, "units")) or {}
        for name, value in own.items():
            if value is not False and name in known and (env.name, name) not in in_env:
                yield ctx.warning(
                    (*env.path, "units", name),
                    f"override of '{name}' has no effect: it is not deployed in {env.name}",
                    "unused-override",
                    key=True,
                )
        for region in env.regions:
            for name, value in region.unit_overrides.items():
                if value is not False and name in known and (env.name, region.name, name) not in placed:
                    yield ctx.warning(
                        (*region.path, "units", name),
                        f"override of '{name}' has no effect: it is not deployed in {env.name}/{region.name}",
                        "unused-override",
                        key=True,
                    )


def _is_placeholder_arn(text: str) -> bool:
    """An ARN whose account is twelve zeros, or whose resource id is zeros and dashes
    (certificate/00000000-0000-...): a stand-in that AWS would refuse at apply time."""
    parts = text.split(":", 5)
    if len(parts) < 6:
        return False
    account, resource = parts[4], parts[5]
    last = resource.replace(":", "/").rsplit("/", 1)[-1]
    return account == "000000000000" or (len(last) >= 8 and not last.strip("0-") and "0" in last)


def _strings(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, str]]:
    """Every literal string under *value*, with its path; not those under ``mock_outputs``,
    which stand in for outputs on purpose (plan and validate only, never applied)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "mock_outputs":
                yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


@rule
def no_placeholder_arns(ctx: Context) -> Iterator[Diagnostic]:
    """A literal ARN of all zeros in environments.yaml (settings, inputs, role_arn) is a
    placeholder someone meant to replace: a warning, so that --strict refuses it before an
    apply would. !hcl expressions and mock_outputs (a unit's dependencies, as the catalog's)
    are not literals here."""
    for path, text in _strings(ctx.doc.data, ()):
        if text.startswith("arn:") and _is_placeholder_arn(text):
            yield ctx.warning(
                path,
                f"{text!r} is a placeholder ARN (all zeros)",
                "placeholder-arn",
                "put the real resource's ARN here, or read it from the unit that creates it",
            )
