"""The unit dependency graph: apply and destroy order (waves), cycles, and the text,
Graphviz, Mermaid and JSON views that ``tfgen graph`` prints. Pure: no I/O."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..project.layout import Scope
from ..project.model import Key, Project, Unit, _group, _levels, find_cycle, waves

__all__ = ["Edge", "Graph", "document", "find_cycle", "select", "to_dot", "to_json", "to_mermaid", "to_text", "waves"]


#: Version of the JSON document ``tfgen graph --format json`` prints (docs/graph.md).
JSON_VERSION = 1


@dataclass(frozen=True)
class Edge:
    """*unit* depends on *target* through the dependency block *dependency*."""

    unit: Unit
    target: Unit
    dependency: str

    @property
    def cross_region(self) -> bool:
        return self.unit.region.name != self.target.region.name


@dataclass(frozen=True)
class Graph:
    """The units of a selection, every dependency that touches one of them, and the
    units at the other end of such a dependency that lie outside the selection."""

    nodes: tuple[Unit, ...]  # selected and outside units, in project order
    edges: tuple[Edge, ...]  # in project order of the depending unit, then declaration order
    selection: frozenset[Key] = frozenset()
    #: where Terragrunt runs a unit when that is not Unit.directory (style: stacks, .terragrunt-stack)
    directories: Mapping[Key, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Graph {len(self.selection)} units selected, {len(self.nodes)} in all, {len(self.edges)} dependencies>"

    @property
    def units(self) -> tuple[Unit, ...]:
        """The selected units, in project order (environments, regions, units)."""
        return tuple(u for u in self.nodes if u.key in self.selection)

    @property
    def outside(self) -> tuple[Unit, ...]:
        """Units outside the selection that a dependency of a selected unit touches."""
        return tuple(u for u in self.nodes if u.key not in self.selection)

    def selected(self, unit: Unit) -> bool:
        return unit.key in self.selection

    @cached_property
    def _by_unit(self) -> dict[Key, list[Edge]]:
        found: dict[Key, list[Edge]] = {}
        for edge in self.edges:
            found.setdefault(edge.unit.key, []).append(edge)
        return found

    @cached_property
    def _by_target(self) -> dict[Key, list[Edge]]:
        found: dict[Key, list[Edge]] = {}
        for edge in self.edges:
            found.setdefault(edge.target.key, []).append(edge)
        return found

    def dependencies(self, unit: Unit) -> list[Edge]:
        """The edges from *unit* to the units it depends on, in declaration order."""
        return self._by_unit.get(unit.key, [])

    def dependents(self, unit: Unit) -> list[Edge]:
        """The edges from the units that depend on *unit*, in project order."""
        return self._by_target.get(unit.key, [])

    def waves(self, *, destroy: bool = False) -> list[list[Unit]]:
        """Apply waves (dependencies first) or, with *destroy*, destroy waves (a unit
        after every unit that depends on it). Units in one wave can run in parallel;
        dependencies on units outside the selection are taken as already in place."""
        before: dict[Key, list[Key]] = {}
        for edge in self.edges:
            first, then = (edge.unit, edge.target) if destroy else (edge.target, edge.unit)
            before.setdefault(then.key, []).append(first.key)
        units = self.units
        return _group(units, _levels([u.key for u in units], before))

    def grouped(self) -> list[tuple[str, list[tuple[str, list[Unit]]]]]:
        """Every node grouped by environment, then region, in project order."""
        grouped: dict[str, dict[str, list[Unit]]] = {}
        for unit in self.nodes:
            grouped.setdefault(unit.environment.name, {}).setdefault(unit.region.name, []).append(unit)
        return [(env, list(regions.items())) for env, regions in grouped.items()]


def select(project: Project, scope: Scope | None = None) -> Graph:
    """The graph of the units within *scope* (all units when the scope is empty)."""
    scope = scope or Scope()
    chosen = frozenset(
        u.key
        for u in project.units
        if scope.includes(u.environment.name, u.region.name) and scope.includes_tenant(u.tenant_name)
    )
    found = tuple(
        Edge(unit, wire.target, wire.dependency.name)
        for unit in project.units
        for wire in project.wiring.get(unit.key, ())
        if unit.key in chosen or wire.target.key in chosen
    )
    touched = chosen | {e.unit.key for e in found} | {e.target.key for e in found}
    return Graph(tuple(u for u in project.units if u.key in touched), found, chosen)


# --- views ------------------------------------------------------------------------


def _short(unit: Unit, relative_to: Unit) -> str:
    """A unit's name when it is in the same environment and region, else its address."""
    if unit.environment.name == relative_to.environment.name and unit.region.name == relative_to.region.name:
        return unit.instance  # <tenant>/<unit> for a tenant's instance
    return unit.address


def to_text(graph: Graph, *, destroy: bool = False) -> str:
    """The apply (or destroy) order as numbered waves, one unit per line."""
    if not graph.units:
        return "No units selected.\n"
    groups = graph.waves(destroy=destroy)
    verb = "Destroy" if destroy else "Apply"
    plural = "s" if len(groups) != 1 else ""
    count = f"{len(graph.units)} units in {len(groups)} wave{plural}"
    lines = [f"{verb} order of {count}; units in one wave can run in parallel."]
    if destroy:
        lines.append("A unit is destroyed after every unit that needs it; protected units refuse (prevent_destroy).")
    width = max(len(u.address) for u in graph.units)
    for number, group in enumerate(groups, start=1):
        lines += ["", f"Wave {number}"]
        for unit in group:
            related = graph.dependents(unit) if destroy else graph.dependencies(unit)
            others = [e.unit if destroy else e.target for e in related]
            names = [_short(o, unit) + ("" if graph.selected(o) else " (not selected)") for o in others]
            note = ""
            if names:
                note = ("needed by " if destroy else "needs ") + ", ".join(names)
            if destroy and unit.deletion_protection:
                note = "protected" + (f"; {note}" if note else "")
            lines.append(f"  {unit.address:<{width}}  {note}".rstrip())
    return "\n".join(lines) + "\n"


def _node_ids(graph: Graph) -> dict[str, str]:
    """Short opaque identifiers (a letter and hex digits) for the environment, region
    and unit nodes: stable when other units come and go, and never a Mermaid or DOT
    keyword (``end``, ``graph``, ``subgraph`` ...), whatever the names."""
    names: list[str] = []
    for env, regions in graph.grouped():
        names.append(f"e:{env}")
        for region, units in regions:
            names.append(f"r:{env}/{region}")
            names += [f"u:{u.address}" for u in units]
    for length in range(10, 41):
        ids = {n: n[0] + hashlib.sha1(n.encode()).hexdigest()[:length] for n in names}
        if len(set(ids.values())) == len(ids):
            return ids
    raise AssertionError("sha1 collision")  # pragma: no cover - 160 bits


def _arrows(graph: Graph, destroy: bool) -> list[tuple[Unit, Unit, Edge]]:
    """(from, to, edge): from is applied (or, with *destroy*, destroyed) before to."""
    return [(e.unit, e.target, e) if destroy else (e.target, e.unit, e) for e in graph.edges]


def _caption(destroy: bool, arrow: str) -> str:
    verb = "destroyed" if destroy else "applied"
    relation = "A depends on B" if destroy else "B depends on A"
    return f"tfgen graph: an arrow A {arrow} B means A is {verb} before B ({relation})"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph, *, destroy: bool = False) -> str:
    """Graphviz DOT: one cluster per environment holding one cluster per region.
    Dashed arrows cross regions; dotted boxes are units outside the selection."""
    lines = [
        f"// {_caption(destroy, '->')}.",
        "// Dashed arrows cross regions; dotted boxes are units outside the selection.",
        "digraph tfgen {",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  graph [fontname="Helvetica"];',
    ]
    for env, regions in graph.grouped():
        lines += [f"  subgraph {_dot_id('cluster_' + env)} {{", f"    label={_dot_id(env)};"]
        for region, units in regions:
            lines += [f"    subgraph {_dot_id(f'cluster_{env}/{region}')} {{", f"      label={_dot_id(region)};"]
            # a tenant's units in a cluster of their own inside the region's
            tenants: dict[str, list[Unit]] = {}
            for unit in units:
                tenants.setdefault(unit.tenant.name if unit.tenant is not None else "", []).append(unit)
            for tenant, members in tenants.items():
                pad = "      "
                if tenant:
                    lines += [
                        f"      subgraph {_dot_id(f'cluster_{env}/{region}/{tenant}')} {{",
                        f"        label={_dot_id('tenant ' + tenant)};",
                    ]
                    pad = "        "
                for unit in members:
                    if graph.selected(unit):
                        lines.append(f"{pad}{_dot_id(unit.address)} [label={_dot_id(unit.name)}];")
                    else:
                        label = _dot_id(f"{unit.name} (not selected)")
                        lines.append(f'{pad}{_dot_id(unit.address)} [label={label}, style="rounded,dotted"];')
                if tenant:
                    lines.append("      }")
            lines.append("    }")
        lines.append("  }")
    for first, then, edge in _arrows(graph, destroy):
        style = " [style=dashed]" if edge.cross_region else ""
        lines.append(f"  {_dot_id(first.address)} -> {_dot_id(then.address)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(graph: Graph, *, destroy: bool = False) -> str:
    """A Mermaid flowchart (GitHub renders it in a ```mermaid block): one subgraph per
    environment holding one per region. Dotted arrows cross regions; units outside
    the selection have a dashed border."""
    ids = _node_ids(graph)
    lines = [
        "flowchart LR",
        f"  %% {_caption(destroy, '-->')}.",
        "  %% Dotted arrows cross regions; dashed boxes are units outside the selection.",
    ]
    for env, regions in graph.grouped():
        lines.append(f"  subgraph {ids['e:' + env]}[{_mermaid_label(env)}]")
        for region, units in regions:
            lines.append(f"    subgraph {ids[f'r:{env}/{region}']}[{_mermaid_label(region)}]")
            for unit in units:
                label = unit.name if graph.selected(unit) else f"{unit.name} (not selected)"
                lines.append(f"      {ids['u:' + unit.address]}[{_mermaid_label(label)}]")
            lines.append("    end")
        lines.append("  end")
    for first, then, edge in _arrows(graph, destroy):
        arrow = "-.->" if edge.cross_region else "-->"
        lines.append(f"  {ids['u:' + first.address]} {arrow} {ids['u:' + then.address]}")
    if graph.outside:
        lines.append("  classDef outside stroke-dasharray: 5 5")
        lines.append("  class " + ",".join(ids["u:" + u.address] for u in graph.outside) + " outside")
    return "\n".join(lines) + "\n"


def document(graph: Graph, *, destroy: bool = False) -> dict[str, Any]:
    """The graph as a stable JSON-ready document (format described in docs/graph.md)."""
    groups = graph.waves(destroy=destroy)
    wave = {u.key: number for number, group in enumerate(groups, start=1) for u in group}
    return {
        "version": JSON_VERSION,
        "order": "destroy" if destroy else "apply",
        "environments": [
            {
                "name": env,
                "regions": [{"name": region, "units": [u.address for u in units]} for region, units in regions],
            }
            for env, regions in graph.grouped()
        ],
        "units": [
            {
                "address": u.address,
                "environment": u.environment.name,
                "region": u.region.name,
                "tenant": u.tenant_name,  # None: a shared unit
                "unit": u.name,
                "module": u.module.id,
                "layer": u.layer,
                "directory": graph.directories.get(u.key, u.directory),
                "protected": u.deletion_protection,
                "selected": graph.selected(u),
                "wave": wave.get(u.key),
            }
            for u in graph.nodes
        ],
        "dependencies": [
            {
                "unit": e.unit.address,
                "depends_on": e.target.address,
                "dependency": e.dependency,
                "cross_region": e.cross_region,
            }
            for e in graph.edges
        ],
        "waves": [[u.address for u in group] for group in groups],
    }


def to_json(graph: Graph, *, destroy: bool = False) -> str:
    """:func:`document` as JSON text."""
    return json.dumps(document(graph, destroy=destroy), indent=2, ensure_ascii=False) + "\n"


FORMATS = {"text": to_text, "dot": to_dot, "mermaid": to_mermaid, "json": to_json}
