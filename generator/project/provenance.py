"""Provenance: every value tfgen renders, traced back to the YAML line that set it.

The model merges the merge orders it declares (model.UNIT_INPUTS, ENV_SETTINGS, ...);
:func:`traced_merge` merges the same layers of the same documents in the same order,
but every leaf remembers its source: the catalog file, the unit, the environment
(with ``defaults`` under it), the region, a sizing tier or a sizing override. Tests
check that the traced values equal the model's and what ``render`` writes. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import KeyPath, Location, format_key_path
from .loader import Document
from .model import (
    ENV_SETTINGS,
    REGION_SETTINGS,
    SIZING_OVERRIDES,
    TENANT_SETTINGS,
    UNIT_INPUTS,
    UNIT_TAGS,
    Environment,
    Layer,
    Merge,
    Project,
    Region,
    Tenant,
    Unit,
    env_locals,
    project_locals,
    region_locals,
    tenant_locals,
    value_at,
)


@dataclass(frozen=True)
class Source:
    """Where a value was set: a kind, a short description and a YAML position."""

    # catalog | unit | defaults | environment | region | sizing-tier | sizing-override | dependency | project | tfgen
    kind: str
    description: str
    location: Location | None = None
    key: KeyPath = ()

    def __str__(self) -> str:
        text = self.description
        if self.key:
            text += f": {format_key_path(self.key)}"
        if self.location:
            text += f" ({self.location})"
        return text

    def as_json(self) -> dict[str, Any]:
        where = self.location
        return {
            "kind": self.kind,
            "description": self.description,
            "file": where.file if where else None,
            "line": where.line if where and where.line else None,
            "column": where.column if where and where.column else None,
            "key": format_key_path(self.key) if self.key else None,
        }


SourceOf = Callable[[KeyPath], Source]


@dataclass
class Traced:
    """A merged value whose every leaf knows its source. A mapping has *children*."""

    source: Source
    value: Any = None
    children: dict[str, Traced] | None = None

    def plain(self) -> Any:
        if self.children is None:
            return self.value
        return {name: child.plain() for name, child in self.children.items()}

    def leaves(self, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Traced]]:
        """Every leaf below this node; an empty mapping is a leaf of its own."""
        if not self.children:
            yield path, self
            return
        for name, child in self.children.items():
            yield from child.leaves((*path, name))

    def find(self, path: KeyPath) -> Traced | None:
        node: Traced | None = self
        for part in path:
            if node is None or node.children is None:
                return None
            node = node.children.get(str(part))
        return node


def trace(value: Any, source_of: SourceOf, path: KeyPath = ()) -> Traced:
    """A value read from one place: *source_of(path)* names the source of each node."""
    if isinstance(value, Mapping):
        children = {str(k): trace(v, source_of, (*path, str(k))) for k, v in value.items()}
        return Traced(source_of(path), children=children)
    return Traced(source_of(path), value=value)


def merge(base: Traced | None, override: Traced | None) -> Traced | None:
    """model.deep_merge with sources: maps merge deeply, anything else replaces."""
    if base is None:
        return override
    if override is None:
        return base
    if base.children is not None and override.children is not None:
        children = dict(base.children)
        for name, child in override.children.items():
            merged = merge(children.get(name), child)
            assert merged is not None
            children[name] = merged
        return Traced(override.source, children=children)
    return override


def _in_document(doc: Document, base: KeyPath, kind: str, description: str) -> SourceOf:
    def source_of(path: KeyPath) -> Source:
        where = (*base, *path)
        return Source(kind, description, doc.locate(where, key=not path), where)

    return source_of


def _layer(doc: Document, base: KeyPath, kind: str, description: str) -> Traced | None:
    """The mapping at *base* in *doc*, traced, or None when it is absent or not a mapping."""
    value = value_at(doc.data, base)
    if not isinstance(value, Mapping):
        return None
    return trace(value, _in_document(doc, base, kind, description))


# --- where every input of a unit comes from ----------------------------------------


def _described(layer: Layer, order: str, env: str, region: str, tenant: str = "") -> str:
    """How explain names a layer of a merge order."""
    if order == "inputs":
        return {
            "catalog": "catalog",
            "unit": "unit override",
            "defaults": "defaults",
            "environment": f"environment override ({env})",
            "region": f"region override ({env}/{region})",
            "tenant": f"tenant override ({tenant})",
        }[layer.kind]
    if order == "tags":
        return {
            "unit": "unit tags",
            "defaults": "defaults",
            "environment": f"environment tags ({env})",
            "region": f"region tags ({env}/{region})",
            "tenant": f"tenant tags ({tenant})",
        }[layer.kind]
    if order == "sizing":
        return f"sizing override ({'defaults' if layer.kind == 'defaults' else env})"
    return {
        "defaults": "defaults",
        "environment": f"environment {env}",
        "region": f"region {env}/{region}",
        "tenant": f"tenant {tenant}",
    }[layer.kind]


def traced_merge(
    order: Merge,
    project: Project,
    kind: str,
    *,
    unit: Unit | None = None,
    env: str = "",
    region: str = "",
    tenant: str = "",
) -> Traced | None:
    """A merge order of the model (model.UNIT_INPUTS, ENV_SETTINGS, ...) merged exactly as
    the model merges it, every leaf remembering the layer that set it."""
    if unit is not None and unit.tenant is not None:
        tenant = unit.tenant.name
    names = {"unit": unit.name if unit else "", "env": env, "region": region, "tenant": tenant}

    def read(layer: Layer) -> Traced | None:
        if layer.uses_tenant and not tenant:
            return None  # a shared unit has no tenant layer
        doc = unit.module.document if layer.catalog and unit is not None else project.document
        source = "sizing-override" if kind == "sizing" else layer.kind
        return _layer(doc, layer.key_path(**names), source, _described(layer, kind, env, region, tenant))

    return order.combine(read, merge)


def traced_inputs(unit: Unit, project: Project) -> Traced:
    """Every input as Terraform finally sees it (Unit.effective_inputs), traced."""
    env, region = unit.environment.name, unit.region.name
    merged = merge(
        traced_merge(UNIT_INPUTS, project, "inputs", unit=unit, env=env, region=region), traced_tags(unit, project)
    )
    return merged or Traced(Source("tfgen", "no inputs"), children={})


def traced_tags(unit: Unit, project: Project) -> Traced | None:
    """The unit's ``tags`` (model.UNIT_TAGS) as the model merges them over the tags input
    (Unit.tags), ManagedByModule included; None without tags."""
    if not unit.tags or unit.module.tags_input is None:
        return None
    tags = traced_merge(UNIT_TAGS, project, "tags", unit=unit, env=unit.environment.name, region=unit.region.name)
    if tags is None or not tags.children:
        return None
    children = dict(tags.children)
    children["ManagedByModule"] = Traced(Source("tfgen", "the unit's catalog module"), value=unit.module.id)
    return Traced(tags.source, children={unit.module.tags_input: Traced(tags.source, children=children)})


# --- where every local of env.hcl and region.hcl comes from ------------------------


def _scalar_source(doc: Document, candidates: list[tuple[KeyPath, str, str]], fallback: str) -> Source:
    """The first candidate key path that exists in *doc*, else a built-in default."""
    for path, kind, description in candidates:
        parent = value_at(doc.data, path[:-1])
        if isinstance(parent, Mapping) and path[-1] in parent:
            return Source(kind, description, doc.locate(path), path)
    return Source("tfgen", fallback)


def traced_env_locals(env: Environment, project: Project) -> Traced:
    """The locals of environments/<env>/env.hcl (model.env_locals), traced."""
    doc = project.document
    base: KeyPath = ("environments", env.name)
    own = f"environment {env.name}"

    def either(name: str, fallback: str) -> Source:
        return _scalar_source(
            doc, [((*base, name), "environment", own), (("defaults", name), "defaults", "defaults")], fallback
        )

    sizing: dict[str, Traced] = {}
    tier = env.sizing_tier
    if tier is not None:
        for name, value in (project.sizing.get(tier) or {}).items():
            where = ("sizing", tier, name)
            sizing[name] = Traced(Source("sizing-tier", f"sizing tier {tier}", doc.locate(where), where), value=value)
    overrides = traced_merge(SIZING_OVERRIDES, project, "sizing", env=env.name)
    if overrides is not None and overrides.children:
        sizing.update(overrides.children)
    settings = traced_merge(ENV_SETTINGS, project, "settings", env=env.name)
    values = env_locals(env, project)
    children = {
        "environment": Traced(Source("environment", own, doc.locate(base, key=True), base), value=env.name),
        "account_id": Traced(either("account_id", "required"), value=values["account_id"]),
        "sizing_tier": Traced(either("sizing", "no sizing tier"), value=values["sizing_tier"]),
        "sizing": Traced(either("sizing", "no sizing tier"), children=sizing),
        "deletion_protection": Traced(
            either("deletion_protection", "tfgen default (false)"), value=values["deletion_protection"]
        ),
        "multi_az": Traced(either("multi_az", "tfgen default (false)"), value=values["multi_az"]),
        **(
            {"role_arn": Traced(either("role_arn", "no role"), value=values["role_arn"])}
            if "role_arn" in values
            else {}
        ),
        "settings": settings or Traced(Source("tfgen", "no settings"), children={}),
    }
    if "tags" in values:  # some environment has tags: root.hcl merges local.env.tags
        children["tags"] = merge(
            _layer(doc, ("defaults", "tags"), "defaults", "defaults"), _layer(doc, (*base, "tags"), "environment", own)
        ) or Traced(Source("tfgen", "no tags"), children={})
    return Traced(Source("environment", own, doc.locate(base, key=True), base), children=children)


def traced_region_locals(env: Environment, region: Region, project: Project) -> Traced:
    """The locals of environments/<env>/<region>/region.hcl (model.region_locals), traced."""
    doc = project.document
    base: KeyPath = ("environments", env.name, "regions", region.name)
    own = f"region {env.name}/{region.name}"
    values = region_locals(region)

    def at(name: str, fallback: str) -> Source:
        return _scalar_source(doc, [((*base, name), "region", own)], fallback)

    settings = traced_merge(REGION_SETTINGS, project, "settings", env=env.name, region=region.name)
    children = {
        "aws_region": Traced(Source("region", own, doc.locate(base, key=True), base), value=values["aws_region"]),
        "azs": Traced(at("azs", "required"), value=values["azs"]),
        "vpc_cidr": Traced(at("vpc_cidr", "required"), value=values["vpc_cidr"]),
        "role": Traced(at("role", "tfgen default (null)"), value=values["role"]),
        "settings": settings or Traced(Source("tfgen", "no settings"), children={}),
    }
    return Traced(Source("region", own, doc.locate(base, key=True), base), children=children)


def traced_tenant_locals(tenant: Tenant, env: Environment, region: Region, project: Project) -> Traced:
    """The locals of a tenant's tenant.hcl (model.tenant_locals), traced."""
    doc = project.document
    base: KeyPath = tenant.path
    own = f"tenant {tenant.name}"
    values = tenant_locals(project, tenant, env, region)

    def at(name: str, fallback: str) -> Source:
        return _scalar_source(doc, [((*base, name), "tenant", own)], fallback)

    settings = traced_merge(TENANT_SETTINGS, project, "settings", env=env.name, region=region.name, tenant=tenant.name)
    children = {
        "name": Traced(Source("tenant", own, doc.locate(base, key=True), base), value=tenant.name),
        "account_id": Traced(at("account_id", f"environment {env.name}'s account"), value=values["account_id"]),
        **(
            {
                "role_arn": Traced(
                    at("role_arn", f"environment {env.name}'s role_arn, the tenant's account"), value=values["role_arn"]
                )
            }
            if "role_arn" in values
            else {}
        ),
        "settings": settings or Traced(Source("tfgen", "no settings"), children={}),
        "tags": _layer(doc, (*base, "tags"), "tenant", own) or Traced(Source("tfgen", "no tags"), children={}),
    }
    return Traced(Source("tenant", own, doc.locate(base, key=True), base), children=children)


def traced_project_locals(project: Project) -> Traced:
    doc = project.document
    tags = _layer(doc, ("project", "tags"), "project", "project")
    name = ("project", "name")
    children = {
        "name": Traced(Source("project", "project", doc.locate(name), name), value=project_locals(project)["name"]),
        "tags": tags or Traced(Source("tfgen", "no tags"), children={}),
    }
    return Traced(Source("project", "project", doc.locate(("project",), key=True), ("project",)), children=children)
