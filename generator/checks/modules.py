"""Rules that need module sources and interfaces, and the settings rules.

Registered with the checks registry on import (the ``checks`` package imports this module).
Each finding points at the YAML line that wrote the input, with did-you-mean.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import Diagnostic, KeyPath
from ..hcl.references import for_bindings, traversals
from ..project.loader import Document
from ..project.model import Unit, value_at
from ..project.modules.interface import Interface
from ..project.modules.sources import parse_source, pin_of, pin_problems, without_pin
from ..project.modules.types import conversion_problem, parse_type
from ..project.values import HclExpr, local_references
from .base import (
    Context,
    InputSource,
    alike,
    catalog_rule,
    did_you_mean,
    placed_sources,
    provider_sources,
    rule,
    source_expressions,
    unit_sources,
)


def interface_of(ctx: Context, unit: Unit) -> Interface | None:
    cache: dict[tuple[str, str | None], Interface | None] = ctx.__dict__.setdefault("_module_interfaces", {})
    memo = (unit.module.id, unit.pin)
    if memo not in cache:
        key = (unit.module.source, pin_of(parse_source(unit.module.source), unit.pin))
        found = ctx.project.interfaces.get(key)
        cache[memo] = found if isinstance(found, Interface) else None
    return cache[memo]


def _what(unit: Unit) -> str:
    version = pin_of(parse_source(unit.module.source), unit.pin)
    return f"{unit.module.id}{f' {version}' if version else ''}"


# --- sources and versions -----------------------------------------------------------


@rule
def module_sources_pinned(ctx: Context) -> Iterator[Diagnostic]:
    """A source parsed properly: no two pins, no pin on a local path, a pin on a remote."""
    for module in ctx.project.modules.values():
        source = parse_source(module.source)
        for problem in pin_problems(source, module.version):
            path: KeyPath = ("version",) if problem.on == "version" and module.version is not None else ("source",)
            yield Diagnostic(
                problem.message,
                module.document.locate(path),
                path,
                severity=problem.severity,
                rule="module-source" if problem.severity == "error" else "module-unpinned",
                hint=problem.hint,
            )
    seen: set[KeyPath] = set()
    for unit in ctx.project.units:
        if unit.version is None or unit.version_path in seen:
            continue
        seen.add(unit.version_path)
        # A promoted version replaces the source's own ?ref= / ?version=, if it has one.
        source = parse_source(without_pin(unit.module.source))
        version_problems = [p for p in pin_problems(source, unit.version) if p.on == "version"]
        for problem in version_problems:
            yield Diagnostic(
                problem.message,
                ctx.doc.locate(unit.version_path),
                unit.version_path,
                severity=problem.severity,
                rule="module-source" if problem.severity == "error" else "module-unpinned",
                hint=problem.hint,
            )


# --- inputs against variables --------------------------------------------------------


@catalog_rule
def inputs_declared(ctx: Context) -> Iterator[Diagnostic]:
    """Every input (catalog, unit, environment, region, dependency wiring) names a
    variable of the module version deployed there: Terraform drops the others silently."""
    reported: set[tuple[str, KeyPath, str]] = set()
    for unit in alike(ctx)[0]:  # what it finds is the same for each unit of a group
        interface = interface_of(ctx, unit)
        if interface is None:
            continue
        variables = interface.variables
        for source in unit_sources(ctx, unit):
            for name in source.inputs:
                if name in variables:
                    continue
                path = (*source.path, name)
                marker = (source.doc.file, path, interface.origin)
                if marker in reported:
                    continue
                reported.add(marker)
                yield Diagnostic(
                    f"{_what(unit)} has no variable '{name}': Terraform would ignore this input",
                    source.doc.locate(path, key=True),
                    path,
                    rule="unknown-input",
                    hint=did_you_mean(name, variables) or f"the variables are listed in {interface.origin}",
                )
        for dep in unit.dependencies:
            for name in dep.outputs:
                if name in variables:
                    continue
                path = (*dep.path, "outputs", name)
                marker = (dep.file, path, interface.origin)
                if marker in reported:
                    continue
                reported.add(marker)
                yield Diagnostic(
                    f"{_what(unit)} has no variable '{name}': the wired dependency output would be ignored",
                    dep.document.locate(path, key=True),
                    path,
                    rule="unknown-input",
                    hint=did_you_mean(name, variables),
                )


def _places(places: list[str]) -> str:
    return ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")


@catalog_rule
def required_variables_set(ctx: Context) -> Iterator[Diagnostic]:
    """A variable without a default is set by some layer wherever the unit is placed."""
    missing: dict[tuple[str, str], tuple[Unit, list[str]]] = {}
    first, group_of = alike(ctx)
    # the variables a group leaves unset, worked out for its first unit
    unset: list[list[str] | None] = [None] * len(first)
    for unit, group in zip(ctx.project.units, group_of, strict=True):
        names = unset[group]
        if names is None:
            names = unset[group] = _unset(ctx, unit)
        for name in names:
            entry = missing.setdefault((unit.name, name), (unit, []))
            entry[1].append(f"{unit.environment.name}/{unit.region.name}")
    for (unit_name, name), (unit, places) in missing.items():
        path = unit.spec.path
        yield Diagnostic(
            f"{_what(unit)} requires variable '{name}', which no layer sets for unit '{unit_name}' "
            f"in {_places(places)}",
            ctx.doc.locate(path, key=True),
            path,
            rule="required-input",
            hint=f"set it under inputs: in {unit.module.file} or in the unit",
        )


def _unset(ctx: Context, unit: Unit) -> list[str]:
    """The required variables of *unit*'s module that no layer or wired output sets."""
    interface = interface_of(ctx, unit)
    if interface is None:
        return []
    given = set(unit.module.inputs) | set(unit.overrides)
    for wire in ctx.project.wiring.get(unit.key, ()):
        given |= set(wire.dependency.outputs)
    return [name for name, variable in interface.variables.items() if variable.required and name not in given]


def _setter(ctx: Context, unit: Unit, name: str) -> tuple[Document, KeyPath] | None:
    """The last place (highest precedence) that writes input *name* for *unit*."""
    found = None
    for source in unit_sources(ctx, unit):
        if name in source.inputs:
            found = (source.doc, (*source.path, name))
    return found


@catalog_rule
def input_types_convert(ctx: Context) -> Iterator[Diagnostic]:
    """A literal input converts to the variable's type (a string for a number, a map
    for a list are refused by Terraform at plan time, after the review)."""
    reported: set[tuple[str, KeyPath, str]] = set()
    checked: set[tuple[int, str]] = set()
    kept: list[dict[str, Any]] = []  # the values *checked* names by id() stay alive meanwhile
    for unit in alike(ctx)[0]:  # what it finds is the same for each unit of a group
        interface = interface_of(ctx, unit)
        if interface is None:
            continue
        effective = unit.effective_inputs()
        kept.append(effective)
        for name, value in effective.items():
            variable = interface.variables.get(name)
            if variable is None or isinstance(value, HclExpr):
                continue
            marker_value = (id(value), variable.type + interface.origin)
            if marker_value in checked:
                continue
            checked.add(marker_value)
            if value is None:
                problem = None if variable.nullable else "null is not allowed (the variable is nullable = false)"
            else:
                problem = conversion_problem(value, parse_type(variable.type))
            if problem is None:
                continue
            where = _setter(ctx, unit, name)
            if where is None:
                continue
            doc, path = where
            marker = (doc.file, path, problem)
            if marker in reported:
                continue
            reported.add(marker)
            yield Diagnostic(
                f"input '{name}' of {_what(unit)} is {variable.type}: {problem}",
                doc.locate(path),
                path,
                rule="input-type",
            )


@catalog_rule
def dependency_outputs_declared(ctx: Context) -> Iterator[Diagnostic]:
    """A wired dependency output is one the target module declares."""
    reported: set[tuple[str, KeyPath, str]] = set()
    for unit in alike(ctx)[0]:  # what it finds is the same for each unit of a group
        for wire in ctx.project.wiring.get(unit.key, ()):
            target = interface_of(ctx, wire.target)
            if target is None:
                continue
            dep = wire.dependency
            for input_name, wanted in dep.outputs.items():
                names = [wanted] if isinstance(wanted, str) else list(wanted)
                for i, output in enumerate(names):
                    if output in target.outputs:
                        continue
                    path: KeyPath = (*dep.path, "outputs", input_name)
                    if not isinstance(wanted, str):
                        path = (*path, i)
                    if (dep.file, path, wire.target.module.id) in reported:
                        continue
                    reported.add((dep.file, path, wire.target.module.id))
                    yield Diagnostic(
                        f"{_what(wire.target)} (unit '{wire.target.name}') has no output '{output}'",
                        dep.document.locate(path),
                        path,
                        rule="unknown-output",
                        hint=did_you_mean(output, target.outputs, "outputs"),
                    )
            for output in dep.mock_outputs:
                if output in target.outputs:
                    continue
                mock_path: KeyPath = (*dep.path, "mock_outputs", output)
                if (dep.file, mock_path, wire.target.module.id) in reported:
                    continue
                reported.add((dep.file, mock_path, wire.target.module.id))
                yield Diagnostic(
                    f"{_what(wire.target)} (unit '{wire.target.name}') has no output '{output}' to mock",
                    dep.document.locate(mock_path, key=True),
                    mock_path,
                    severity="warning",
                    rule="unknown-mock-output",
                    hint=did_you_mean(output, target.outputs, "outputs")
                    or "a plan with mocks would pass where the real output is missing",
                )


# --- !hcl references Terragrunt can resolve ----------------------------------------------

#: Terraform namespaces that a Terragrunt file cannot read.
_FOREIGN = frozenset({"var", "module", "data", "each", "count", "self", "terraform", "resource"})
_FOREIGN_HINT = {
    "var": "Terragrunt evaluates inputs itself and has no var.*: use local.env.*, local.region.* or a literal",
    "module": "module outputs reach a unit through dependency.<name>.outputs.<output>",
    "data": "data sources are Terraform's: read them in the module, or wire a dependency output",
}


#: Per expression: (path, Terraform-only traversals as "var.x", (dependency, output or None)).
_Refs = tuple[tuple[KeyPath, tuple[tuple[str, str], ...], tuple[tuple[str, str | None], ...]], ...]


def _references(ctx: Context, source: InputSource) -> _Refs:
    """Per expression of *source*: Terraform-only traversals and dependency references;
    computed once per place, whichever unit asks."""
    cache: dict[tuple[str, ...], _Refs] = ctx.__dict__.setdefault("_hcl_references", {})
    found = cache.get(source.key)
    if found is None:
        entries = []
        for path, expr in source_expressions(ctx, source):
            refs = traversals(expr.text)
            bound = for_bindings(expr.text) if any(ref[0] in _FOREIGN for ref in refs) else frozenset()
            foreign = tuple(
                (ref[0], f"{ref[0]}.{ref[1]}") for ref in refs if ref[0] in _FOREIGN and ref[0] not in bound
            )
            dependencies = tuple(
                (ref[1], ref[3] if len(ref) >= 4 and ref[2] == "outputs" else None)
                for ref in refs
                if ref[0] == "dependency"
            )
            if foreign or dependencies:
                entries.append((path, foreign, dependencies))
        found = cache[source.key] = tuple(entries)
    return found


@catalog_rule
def hcl_references_resolve(ctx: Context) -> Iterator[Diagnostic]:
    """``dependency.<name>`` names a dependency of the unit's module, with an output its
    target declares; ``var.``, ``module.``, ``data.`` ... do not exist in Terragrunt."""
    reported: set[tuple[str, KeyPath, str]] = set()
    # A unit whose sources, dependencies and targets' interfaces are those of a unit
    # checked already finds only what that unit reported (every marker is made of them).
    checked: set[tuple[Any, ...]] = set()
    for unit in alike(ctx)[0]:
        wires = ctx.project.wiring.get(unit.key, ())
        sources = unit_sources(ctx, unit)
        signature = (
            unit.module.id, id(sources), id(unit.dependencies),
            tuple((w.dependency.name, w.target.module.id, w.target.pin) for w in wires),
        )
        if signature in checked:
            continue
        checked.add(signature)
        declared = {d.name: d for d in unit.dependencies}
        targets = {w.dependency.name: w.target for w in wires}
        for source in (*sources, *provider_sources(unit)):
            for path, foreign, dependencies in _references(ctx, source):
                for namespace, traversal in foreign:
                    marker = (source.doc.file, path, namespace)
                    if marker not in reported:
                        reported.add(marker)
                        yield Diagnostic(
                            f"{namespace}.* does not exist in a Terragrunt file: "
                            f"Terragrunt fails on {traversal}",
                            source.doc.locate(path),
                            path,
                            rule="hcl-namespace",
                            hint=_FOREIGN_HINT.get(namespace, "Terragrunt has local, dependency, include and feature"),
                        )
                for name, output in dependencies:
                    if name not in declared:
                        marker = (source.doc.file, path, f"dep:{name}:{unit.module.id}")
                        if marker in reported:
                            continue
                        reported.add(marker)
                        owner = f"unit '{unit.name}' has" if unit.dependencies is not unit.module.dependencies \
                            else f"{unit.module.id} declares"
                        choices = did_you_mean(name, declared, owner)
                        yield Diagnostic(
                            f"dependency.{name} is not a dependency of {unit.module.id} (unit '{unit.name}')",
                            source.doc.locate(path),
                            path,
                            rule="unknown-dependency",
                            hint=choices or f"unit '{unit.name}' has no dependencies: add one under dependencies: "
                            f"(in {unit.module.file}, or on the unit)",
                        )
                        continue
                    target = targets.get(name)
                    interface = interface_of(ctx, target) if target is not None and output else None
                    if interface is not None and output not in interface.outputs:
                        marker = (source.doc.file, path, f"out:{name}:{output}")
                        if marker in reported:
                            continue
                        reported.add(marker)
                        yield Diagnostic(
                            f"{_what(target)} (dependency.{name}) has no output '{output}'",  # type: ignore[arg-type]
                            source.doc.locate(path),
                            path,
                            rule="unknown-output",
                            hint=did_you_mean(str(output), interface.outputs, "outputs"),
                        )


# --- settings -----------------------------------------------------------------------------

_SETTING_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "bool": (bool,),
    "list": (list,),
    "map": (dict,),
}


def _settings_owners(ctx: Context) -> Iterator[tuple[KeyPath, Mapping[str, Any], str, str | None]]:
    """(path of a settings mapping, its own keys, environment or "", region or None)."""
    data = ctx.doc.data
    defaults = value_at(data, ("defaults", "settings"))
    if isinstance(defaults, dict):
        yield ("defaults", "settings"), defaults, "", None
    for env in ctx.project.environments:
        own = value_at(data, (*env.path, "settings"))
        if isinstance(own, dict):
            yield (*env.path, "settings"), own, env.name, None
        for region in env.regions:
            own = value_at(data, (*region.path, "settings"))
            if isinstance(own, dict):
                yield (*region.path, "settings"), own, env.name, region.name


def _value_problem(value: Any, declaration: Mapping[str, Any]) -> str | None:
    kind = declaration.get("type", "any")
    if isinstance(value, HclExpr):
        return None
    allowed_types = _SETTING_TYPES.get(kind)
    if allowed_types is not None:
        wrong = not isinstance(value, allowed_types) or (kind == "number" and isinstance(value, bool))
        if wrong:
            return f"is a {kind}, not {_plain(value)}"
    allowed = declaration.get("allowed")
    if allowed is not None and value not in allowed:
        return f"is {_plain(value)}, not one of {', '.join(map(_plain, allowed))}"
    if declaration.get("non_empty") is True and isinstance(value, (str, list, dict)) and not value:
        return "is empty"
    pattern = _pattern(declaration)
    if pattern is not None and isinstance(value, str) and not pattern.search(value):
        return f"is {_plain(value)}, which does not match the pattern {declaration['pattern']}"
    return None


def _pattern(declaration: Mapping[str, Any]) -> re.Pattern[str] | None:
    """The declaration's pattern (JSON Schema semantics: a search, so anchor it), or None
    when absent or not a valid regular expression (settings_match_schema reports that)."""
    text = declaration.get("pattern")
    if not isinstance(text, str):
        return None
    try:
        return _compiled(text)
    except re.error:
        return None


@functools.lru_cache(maxsize=256)
def _compiled(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a map"
    return str(value)


@rule
def settings_match_schema(ctx: Context) -> Iterator[Diagnostic]:
    """With ``settings_schema:`` declared, every setting is declared and of its type and
    allowed values, at every level (defaults, environment, region)."""
    declared = value_at(ctx.doc.data, ("settings_schema",))
    if not isinstance(declared, dict):
        return
    for name, declaration in declared.items():
        if isinstance(declaration, dict) and isinstance(declaration.get("pattern"), str):
            try:
                _compiled(declaration["pattern"])
            except re.error as invalid:
                pattern_path: KeyPath = ("settings_schema", name, "pattern")
                yield ctx.error(pattern_path, f"the pattern of setting '{name}' is not a regular expression: {invalid}",
                                "setting-value")
        if isinstance(declaration, dict) and "default" in declaration:
            problem = _value_problem(declaration["default"], declaration)
            if problem:
                default_path: KeyPath = ("settings_schema", name, "default")
                yield ctx.error(default_path, f"the default of setting '{name}' {problem}", "setting-value")
    for owner, settings, _env, _region in _settings_owners(ctx):
        for name, value in settings.items():
            path: KeyPath = (*owner, name)
            declaration = declared.get(name)
            if not isinstance(declaration, dict):
                yield ctx.error(
                    path,
                    f"setting '{name}' is not declared in settings_schema",
                    "unknown-setting",
                    did_you_mean(name, declared, "declared settings"),
                    key=True,
                )
                continue
            problem = _value_problem(value, declaration)
            if problem:
                allowed = declaration.get("allowed")
                hint = ""
                if allowed and isinstance(value, str):
                    hint = did_you_mean(value, [a for a in allowed if isinstance(a, str)])
                yield ctx.error(path, f"setting '{name}' {problem}", "setting-value", hint)
    yield from _required_settings(ctx, declared)


def _required_settings(ctx: Context, declared: Mapping[str, Any]) -> Iterator[Diagnostic]:
    """A setting declared ``required: true`` has a value in every region, from
    defaults.settings, its environment's or the region's own. One error per environment
    when none of its regions has one, else one per region without it."""
    required = [n for n, d in declared.items() if isinstance(d, dict) and d.get("required") is True]
    if not required:
        return
    data = ctx.doc.data
    defaults = value_at(data, ("defaults", "settings"))
    base = set(defaults) if isinstance(defaults, dict) else set()
    for env in ctx.project.environments:
        own = value_at(data, (*env.path, "settings"))
        env_keys = base | (set(own) if isinstance(own, dict) else set())
        for name in required:
            if name in env_keys:
                continue
            missing = []
            for region in env.regions:
                region_own = value_at(data, (*region.path, "settings"))
                if not (isinstance(region_own, dict) and name in region_own):
                    missing.append(region)
            hint = f"set it under defaults.settings, environments.{env.name}.settings or a region's settings"
            if len(missing) == len(env.regions):
                yield ctx.error(env.path, f"setting '{name}' is required and environment {env.name} has no value",
                                "setting-required", hint, key=True)
                continue
            for region in missing:
                yield ctx.error(region.path, f"setting '{name}' is required and {env.name}/{region.name} has no value",
                                "setting-required", hint, key=True)


def _reads(ctx: Context) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]], set[str]]:
    """Settings read by the units placed in each environment (local.env.settings.X, or
    local.region.settings.X, which inherits the environment's), in each region (only
    local.region.settings.X sees a region's own settings), and anywhere. "*" stands for
    an expression that reads the whole settings map."""
    by_env: dict[str, set[str]] = {}
    by_region: dict[tuple[str, str], set[str]] = {}
    per_source: dict[tuple[str, ...], tuple[set[str], set[str]]] = {}
    # A unit of a layer that is off there still reads its settings: they are kept for
    # when the layer is turned on (a phased rollout), not unread.
    dormant = ctx.project.dormant
    units = (*ctx.project.units, *dormant)
    sources_of = [*placed_sources(ctx), *(unit_sources(ctx, unit) for unit in dormant)]
    # Units share their sources' tuples: what a tuple reads is worked out once, and each
    # region (a run of units) adds what its distinct tuples read.
    per_tuple: dict[int, tuple[set[str], set[str]]] = {}
    here: dict[int, tuple[InputSource, ...]] = {}
    current: tuple[Any, ...] = ()

    def add() -> None:
        env, region = current
        env_reads = by_env.setdefault(env.name, set())
        region_reads = by_region.setdefault((env.name, region.name), set())
        for sources in here.values():
            reads = per_tuple.get(id(sources))
            if reads is None:
                reads = per_tuple[id(sources)] = (set(), set())
                for source in sources:
                    env_side, region_side = _source_reads(ctx, source, per_source)
                    reads[0].update(env_side, region_side)
                    reads[1].update(region_side)
            env_reads |= reads[0]
            region_reads |= reads[1]

    for unit, sources in zip(units, sources_of, strict=True):
        if not current or (unit.environment, unit.region) != current:
            if here:
                add()
            current, here = (unit.environment, unit.region), {}
        here[id(sources)] = sources
    if here:
        add()
    anywhere = set().union(*by_env.values()) if by_env else set()
    return by_env, by_region, anywhere


def _source_reads(
    ctx: Context, source: InputSource, per_source: dict[tuple[str, ...], tuple[set[str], set[str]]]
) -> tuple[set[str], set[str]]:
    """The settings *source*'s expressions read through local.env, and through
    local.region or local.tenant (which merge the region's settings); "*": all of them."""
    found = per_source.get(source.key)
    if found is None:
        env_side: set[str] = set()
        region_side: set[str] = set()
        for _path, expr in source_expressions(ctx, source):
            for ref in local_references(expr.text):
                # local.tenant.settings merges the tenant's over the region's
                if ref[0] in ("env", "region", "tenant") and len(ref) >= 2 and ref[1] == "settings":
                    key = ref[2] if len(ref) >= 3 else "*"
                    (env_side if ref[0] == "env" else region_side).add(key)
        found = per_source[source.key] = (env_side, region_side)
    return found


@catalog_rule
def settings_are_read(ctx: Context) -> Iterator[Diagnostic]:
    """A setting that no module placed there reads has no effect: a typo, or a region
    override of a setting the modules read from the environment."""
    by_env, by_region, anywhere = _reads(ctx)
    named = sorted(anywhere - {"*"})
    for owner, settings, env, region in _settings_owners(ctx):
        if not env:
            reads, where = anywhere, "any environment"
        elif region is None:
            reads, where = by_env.get(env, set()), f"environment {env}"
        else:
            reads, where = by_region.get((env, region), set()), f"{env}/{region}"
        if "*" in reads:
            continue
        for name in settings:
            if name in reads:
                continue
            path = (*owner, name)
            hint = did_you_mean(name, [n for n in named if n != name])
            if region is not None and name in by_env.get(env, set()):
                hint = (
                    f"the modules there read local.env.settings.{name}, which a region's settings do not change: "
                    f"set it on environment {env}, or read local.region.settings.{name}"
                )
            elif not hint:
                hint = f"settings read there: {', '.join(sorted(reads - {'*'})) or 'none'}"
            yield ctx.warning(path, f"setting '{name}' is read by no module placed in {where}", "unused-setting",
                              hint, key=True)


# --- dependency outputs read without a mock ---------------------------------------------


@catalog_rule
def read_outputs_have_mocks(ctx: Context) -> Iterator[Diagnostic]:
    """Every dependency output a unit reads (wired by ``outputs:`` or read by an
    expression) has a ``mock_outputs`` entry: until the dependency is applied, Terragrunt
    plans the unit with the mocks, and a read output without one fails that plan."""
    reported: set[tuple[str, KeyPath, str]] = set()
    # A unit with the sources and wired dependencies of a unit checked already finds
    # only what that unit reported (every marker is made of them).
    checked: set[tuple[Any, ...]] = set()
    for unit in alike(ctx)[0]:
        wires = ctx.project.wiring.get(unit.key, ())
        if not wires:
            continue
        signature = (unit.module.id, id(unit_sources(ctx, unit)), tuple(id(w.dependency) for w in wires))
        if signature in checked:
            continue
        checked.add(signature)
        by_name = {w.dependency.name: w.dependency for w in wires}
        for dep in by_name.values():
            for input_name, wanted in dep.outputs.items():
                for output in (wanted,) if isinstance(wanted, str) else wanted:
                    if output in dep.mock_outputs:
                        continue
                    path: KeyPath = (*dep.path, "outputs", input_name)
                    marker = (dep.file, path, output)
                    if marker in reported:
                        continue
                    reported.add(marker)
                    yield _no_mock(dep.document, path, dep.name, output, unit)
        for source in (*unit_sources(ctx, unit), *provider_sources(unit)):
            for path, _foreign, dependencies in _references(ctx, source):
                for name, read in dependencies:
                    declared = by_name.get(name)
                    if declared is None or read is None or read in declared.mock_outputs:
                        continue
                    marker = (source.doc.file, path, f"{name}.{read}")
                    if marker in reported:
                        continue
                    reported.add(marker)
                    yield _no_mock(source.doc, path, name, read, unit)


def _no_mock(doc: Document, path: KeyPath, dependency: str, output: str, unit: Unit) -> Diagnostic:
    return Diagnostic(
        f"output '{output}' of dependency '{dependency}' is read without a mock: planning unit "
        f"'{unit.name}' before that unit is applied fails",
        doc.locate(path),
        path,
        severity="warning",
        rule="missing-mock-output",
        hint=f"add mock_outputs: {{{output}: ...}} to dependency '{dependency}' (in the catalog, or on the unit)",
    )


# --- unit tags against the module's variables ---------------------------------------------


@catalog_rule
def unit_tags_reach_a_variable(ctx: Context) -> Iterator[Diagnostic]:
    """Unit tags go into the module's ``tags_input`` variable (``tags`` by default). With
    the module's interface known, a module without that variable gets none (the model drops
    them) and a tags_input the catalog names wrongly is an error; without it, tfgen cannot
    tell, and says so where the tags are written."""
    seen: set[tuple[str, str | None]] = set()
    unknown: set[str] = set()
    for unit in alike(ctx)[0]:  # what it finds is the same for each unit of a group
        module = unit.module
        if module.tags_input is None:
            continue
        interface = interface_of(ctx, unit)
        if interface is not None:
            if (module.id, unit.pin) in seen:
                continue
            seen.add((module.id, unit.pin))
            if module.tags_input_declared and module.tags_input not in interface.variables:
                yield Diagnostic(
                    f"{_what(unit)} has no variable '{module.tags_input}' to receive unit tags",
                    module.document.locate(("tags_input",)),
                    ("tags_input",),
                    rule="unknown-input",
                    hint=did_you_mean(module.tags_input, interface.variables)
                    or "tags_input: null if the module takes no tags",
                )
        elif unit.tags and not module.tags_input_declared and module.id not in unknown:
            unknown.add(module.id)
            path = _tags_path(ctx, unit)
            yield ctx.warning(
                path,
                f"unit tags are rendered as input '{module.tags_input}' of {module.id}, whose variables tfgen "
                "does not know: a module without that variable ignores them",
                "unchecked-tags",
                f"run `tfgen modules lock` (then only modules with a '{module.tags_input}' variable get tags), "
                f"or set tags_input: in {module.file} (null: the module takes no tags)",
                key=True,
            )


def _tags_path(ctx: Context, unit: Unit) -> KeyPath:
    """Where *unit*'s tags are written: the unit's own, else its overrides'."""
    if value_at(ctx.doc.data, (*unit.spec.path, "tags")) is not None:
        return (*unit.spec.path, "tags")
    for owner in (unit.environment.path, unit.region.path, ("defaults",)):
        path = (*owner, "units", unit.name, "tags")
        if value_at(ctx.doc.data, path) is not None:
            return path
    return unit.spec.path
