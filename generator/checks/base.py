"""The rule machinery: the Context rules read, the registry, and run().

Each rule takes a :class:`Context` and yields diagnostics; ``run`` collects them all.
No rule does I/O. Rules registered with ``@catalog_rule`` need every unit placed and
run only when every catalog file loaded; the others need only environments.yaml.
The rules live by topic in network.py, references.py, state.py, policy.py and
expressions.py; importing the ``checks`` package registers them all.

Pairwise rules (CIDR overlaps) sort and sweep, and per-unit rules remember what they
already checked, so that validating 10,000 units stays linear.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic, KeyPath
from ..project.loader import Document
from ..project.model import (
    UNIT_INPUTS,
    Environment,
    Layer,
    Module,
    Project,
    Region,
    Unit,
    env_locals,
    mapping_at,
    region_locals,
    value_at,
)
from ..project.suggest import closest
from ..project.values import HclExpr, expressions


@dataclass
class Context:
    project: Project
    _env_locals: dict[str, dict[str, Any]] = field(default_factory=dict)
    _region_locals: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _expressions: dict[tuple[str, ...], tuple[tuple[KeyPath, HclExpr], ...]] = field(default_factory=dict)
    _subnet_plans: dict[tuple[str, ...], Any] = field(default_factory=dict)  # network.SubnetPlan tuples
    _sources: dict[tuple[str, ...], InputSource | None] = field(default_factory=dict)
    _unit_sources: dict[tuple[str, str, str], tuple[InputSource, ...]] = field(default_factory=dict)
    _same_sources: dict[tuple[Any, ...], tuple[InputSource, ...]] = field(default_factory=dict)
    _alike: tuple[list[Unit], list[int]] | None = None
    _placed_sources: list[tuple[InputSource, ...]] | None = None
    _distinct_sources: list[InputSource] | None = None
    _present: dict[int, tuple[bool, ...]] = field(default_factory=dict)

    @property
    def doc(self) -> Document:
        return self.project.document

    def error(self, path: KeyPath, message: str, rule: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        return Diagnostic(message, self.doc.locate(path, key=key), path, rule=rule, hint=hint)

    def warning(self, path: KeyPath, message: str, rule: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        return Diagnostic(message, self.doc.locate(path, key=key), path, severity="warning", rule=rule, hint=hint)

    def env_locals(self, env: Environment) -> dict[str, Any]:
        """What env.hcl defines as locals, as the renderer writes it."""
        if env.name not in self._env_locals:
            self._env_locals[env.name] = env_locals(env, self.project)
        return self._env_locals[env.name]

    def region_locals(self, env: Environment, region: Region) -> dict[str, Any]:
        key = (env.name, region.name)
        if key not in self._region_locals:
            self._region_locals[key] = region_locals(region)
        return self._region_locals[key]


Rule = Callable[[Context], Iterable[Diagnostic]]


RULES: list[Rule] = []


CATALOG_RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    """A rule over environments.yaml alone: runs whenever the document is schema-valid."""
    RULES.append(function)
    return function


def catalog_rule(function: Rule) -> Rule:
    """A rule that needs every unit placed: runs only when every catalog file loaded."""
    CATALOG_RULES.append(function)
    return function


def did_you_mean(word: str, choices: Iterable[str], listing: str = "", renamed: Mapping[str, str] | None = None) -> str:
    """"did you mean 'x'?" for the closest choice (a unit's new name for its old one, see
    :func:`closest`), else *listing* and every choice, else nothing."""
    options = sorted(set(choices))
    close = closest(word, options, renamed=renamed)
    if close:
        if renamed and renamed.get(word) == close[0]:
            return f"did you mean '{close[0]}', renamed from '{word}'?"
        return f"did you mean '{close[0]}'?"
    return f"{listing}: {', '.join(options)}" if listing and options else ""


def documents(ctx: Context) -> list[Document]:
    return [ctx.doc] + [m.document for m in ctx.project.modules.values()]


@dataclass(frozen=True)
class InputSource:
    """Inputs written in one place (a catalog file, a unit, an override) that a unit uses."""

    key: tuple[str, ...]  # the same key for the same place, whichever unit asks
    doc: Document
    path: KeyPath
    inputs: Any


def unit_sources(ctx: Context, unit: Unit) -> tuple[InputSource, ...]:
    """Every place whose inputs reach *unit*'s rendered files, in merge order (UNIT_INPUTS);
    worked out once per unit, each place read once whichever unit asks."""
    found = ctx._unit_sources.get(unit.key)
    if found is None:
        # Units of one name and module whose environment and region write nothing for
        # them have the same sources everywhere: one tuple, shared (rules that remember
        # what they checked by its identity then check it once).
        layers = unit.layers
        if len(layers) == len(_OVERRIDE_LAYERS):
            present = ctx._present.get(id(layers))  # units share their layers: see _place
            if present is None:
                present = ctx._present[id(layers)] = tuple(bool(m) for m in layers)
            env, region = unit.environment.name, unit.region.name
            signature = (
                unit.module.id, unit.spec.name, unit.tenant.name if unit.tenant is not None and present[4] else "",
                env if present[2] or present[3] else "", region if present[3] else "", present,
            )
            found = ctx._same_sources.get(signature)
            if found is None:
                found = ctx._same_sources[signature] = tuple(_unit_sources(ctx, unit, present))
        else:
            found = tuple(_unit_sources(ctx, unit))
        ctx._unit_sources[unit.key] = found
    return found


def placed_sources(ctx: Context) -> list[tuple[InputSource, ...]]:
    """unit_sources of every placed unit, aligned with Project.units."""
    if ctx._placed_sources is None:
        ctx._placed_sources = [unit_sources(ctx, unit) for unit in ctx.project.units]
    return ctx._placed_sources


def distinct_sources(ctx: Context) -> list[InputSource]:
    """The input sources of the placed units, each once, in the order they first appear
    (unit by unit, each unit's in merge order)."""
    if ctx._distinct_sources is not None:
        return ctx._distinct_sources
    found: dict[int, InputSource] = {}
    seen: set[int] = set()  # units share their sources' tuples: each is read once
    for sources in placed_sources(ctx):
        if id(sources) in seen:
            continue
        seen.add(id(sources))
        for source in sources:
            if id(source) not in found:
                found[id(source)] = source
    ctx._distinct_sources = list(found.values())
    return ctx._distinct_sources


def units_with(
    ctx: Context, chosen: Mapping[int, InputSource]
) -> Iterator[tuple[Unit, list[InputSource]]]:
    """Each placed unit with its sources among *chosen* (by identity), in merge order;
    units with none of them are left out."""
    among: dict[int, list[InputSource]] = {}
    for unit, sources in zip(ctx.project.units, placed_sources(ctx), strict=True):
        found = among.get(id(sources))
        if found is None:
            found = among[id(sources)] = [s for s in sources if id(s) in chosen]
        if found:
            yield unit, found


def alike(ctx: Context) -> tuple[list[Unit], list[int]]:
    """The placed units in groups that a rule reading no environment or region sees
    alike: the same spec, module and version, overrides, tags, dependencies, tenant,
    input sources, and dependency targets (spec, module, version). Returns the first
    unit of each group, in the order of Project.units, and each unit's group (its index
    in that list), aligned with Project.units.

    A rule whose findings for a unit depend on its group alone, and which reports each
    finding once (by a marker made of the group's attributes), finds the same, in the
    same order, over the first units of the groups as over every unit: most units of a
    large project differ only by environment and region (the bench's 64 environments x
    16 regions of 50 units: 4,288 groups for 51,200 units)."""
    if ctx._alike is None:
        first: list[Unit] = []
        group_of: list[int] = []
        groups: dict[tuple[Any, ...], int] = {}
        wiring = ctx.project.wiring
        for unit, sources in zip(ctx.project.units, placed_sources(ctx), strict=True):
            key: tuple[Any, ...] = (
                id(unit.spec), id(unit.module), unit.version, id(unit.overrides), id(unit.layers), id(unit.tags),
                id(unit.dependencies), unit.tenant.name if unit.tenant is not None else None, id(sources),
            )
            wires = wiring.get(unit.key)
            if wires:
                key += tuple([(id(w.dependency), id(w.target.spec), id(w.target.module), w.target.version)
                              for w in wires])
            index = groups.get(key)
            if index is None:
                index = groups[key] = len(first)
                first.append(unit)
            group_of.append(index)
        ctx._alike = (first, group_of)
    return ctx._alike


def provider_sources(unit: Unit) -> tuple[InputSource, ...]:
    """The catalog's provider configurations that reach *unit*'s generated files: their
    expressions read locals and dependency outputs as inputs do."""
    module = unit.module
    return tuple(
        InputSource(("providers", module.id, p.key), module.document, p.path, p.config)
        for p in module.providers
        if p.config
    )


#: (index, layer, uses the unit name, the environment, the region) per UNIT_INPUTS layer.
_LAYERS = tuple((str(i), layer, *layer.uses) for i, layer in enumerate(UNIT_INPUTS.layers))


#: UNIT_INPUTS's layers after the catalog's: those of Unit.layers.
_OVERRIDE_LAYERS = UNIT_INPUTS.layers[1:]


def _unit_sources(ctx: Context, unit: Unit, present: tuple[bool, ...] | None = None) -> Iterator[InputSource]:
    """*present*: which of Unit.layers hold something (a layer that holds nothing gives no inputs)."""
    name, env, region = unit.spec.name, unit.environment.name, unit.region.name
    tenant = unit.tenant.name if unit.tenant is not None else ""
    for index, layer, uses_unit, uses_env, uses_region in _LAYERS:
        if layer.catalog:
            source = _source(ctx, index, layer, unit.module, "", "", "")
        elif present is not None and not present[int(index) - 1]:
            continue
        elif layer.uses_tenant:
            if not tenant:
                continue  # a shared unit has no tenant layer
            source = _source(ctx, index, layer, None, name, "", "", tenant)
        else:
            source = _source(ctx, index, layer, None, name if uses_unit else "", env if uses_env else "",
                             region if uses_region else "")
        if source is not None:
            yield source


def _source(
    ctx: Context, index: str, layer: Layer, module: Module | None, name: str, env: str, region: str, tenant: str = ""
) -> InputSource | None:
    """The inputs one place gives (a catalog file, or a layer for these names), read once."""
    place = (index, module.id) if module is not None else (index, name, env, region, tenant)
    source = ctx._sources.get(place, ctx)
    if source is ctx:
        path = layer.key_path(unit=name, env=env, region=region, tenant=tenant)
        key = ("catalog", module.id, *path) if module is not None else path
        doc = module.document if module is not None else ctx.doc
        inputs = value_at(doc.data, path)
        source = InputSource(key, doc, path, inputs) if isinstance(inputs, Mapping) and inputs else None
        ctx._sources[place] = source
    return source if isinstance(source, InputSource) else None


def input_sources(ctx: Context) -> Iterator[InputSource]:
    """Every place that gives inputs: each placed module's catalog file, and each place in
    environments.yaml a unit's inputs can be written (deployed there or not)."""
    modules = {u.module.id: u.module for u in ctx.project.units}
    envs = ctx.project.environments
    for index, layer, uses_unit, uses_env, uses_region in _LAYERS:
        places: list[tuple[Module | None, str, str, str]]
        if layer.catalog:
            places = [(m, "", "", "") for m in modules.values()]
        elif layer.uses_tenant:
            for tenant in ctx.project.tenants:
                for name in tenant.unit_overrides:
                    source = _source(ctx, index, layer, None, name, "", "", tenant.name)
                    if source is not None:
                        yield source
            continue
        else:
            names = [s.name for s in ctx.project.unit_specs] if uses_unit else [""]
            if uses_region:
                regions = [(e.name, r.name) for e in envs for r in e.regions]
            else:
                regions = [(e.name, "") for e in envs] if uses_env else [("", "")]
            if uses_unit:
                # Only a name its place's mapping of units holds can give inputs there:
                # the others (most, in a large project) are not looked up one by one.
                cut = layer.path.index("{unit}")
                held = [
                    (e, r, mapping_at(ctx.doc.data, layer.key_path(env=e, region=r)[:cut])) for e, r in regions
                ]
                places = [(None, n, e, r) for n in names for e, r, units in held if n in units]
            else:
                places = [(None, n, e, r) for n in names for e, r in regions]
        for module, name, env, region in places:
            source = _source(ctx, index, layer, module, name, env, region)
            if source is not None:
                yield source


def source_expressions(ctx: Context, source: InputSource) -> tuple[tuple[KeyPath, HclExpr], ...]:
    found = ctx._expressions.get(source.key)
    if found is None:
        found = ctx._expressions[source.key] = tuple(expressions(source.inputs, source.path))
    return found


def run(project: Project, *, catalog_complete: bool = True) -> list[Diagnostic]:
    """Every rule's findings; rules that need the whole catalog only when it loaded."""
    ctx = Context(project)
    rules = RULES + (CATALOG_RULES if catalog_complete else [])
    return [d for check in rules for d in check(ctx)]
