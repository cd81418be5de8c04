"""Provenance: every value tfgen renders, traced back to the YAML line that set it.

``tfgen explain prod/us-east-1/rds`` answers "why does prod have this value?". The
merges here mirror model.py step for step (maps deep-merge, lists and scalars
replace), but every leaf remembers its source: the catalog file, the unit, the
environment (with ``defaults`` under it), the region, a sizing tier or a sizing
override. Tests check that the traced values equal the model's and what ``render``
writes. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import hcl
from .errors import Diagnostic, InputError, KeyPath, Location, format_key_path
from .loader import Document, HclExpr, expressions
from .model import Environment, Project, Region, Unit
from .plan import env_locals, leaf_inputs, project_locals, read_dependencies, region_locals, state_config

#: Version of the JSON document ``tfgen explain --format json`` prints (docs/explain.md).
JSON_VERSION = 1

_LOCAL_READ = re.compile(r"\blocal\.(env|region|project)((?:\.[A-Za-z_][A-Za-z0-9_-]*)*)")
_DEPENDENCY_READ = re.compile(r"\bdependency\.([A-Za-z_][A-Za-z0-9_-]*)\.outputs\.([A-Za-z_][A-Za-z0-9_-]*)")


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


def _mapping_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


def _layer(doc: Document, base: KeyPath, kind: str, description: str) -> Traced | None:
    """The mapping at *base* in *doc*, traced, or None when it is absent or not a mapping."""
    value = _mapping_at(doc.data, base)
    if not isinstance(value, Mapping):
        return None
    return trace(value, _in_document(doc, base, kind, description))


# --- where every input of a unit comes from ----------------------------------------


def traced_overrides(unit: Unit, project: Project) -> Traced | None:
    """unit < (defaults < environment) < region inputs, merged as model.build_project does."""
    doc = project.document
    env, region, name = unit.environment.name, unit.region.name, unit.name
    spec = _layer(doc, ("units", name, "inputs"), "unit", "unit override")
    env_inputs = merge(
        _layer(doc, ("defaults", "units", name, "inputs"), "defaults", "defaults"),
        _layer(doc, ("environments", env, "units", name, "inputs"), "environment", f"environment override ({env})"),
    )
    region_inputs = _layer(
        doc,
        ("environments", env, "regions", region, "units", name, "inputs"),
        "region",
        f"region override ({env}/{region})",
    )
    merged = merge(merge(spec, env_inputs), region_inputs)
    tags = merge(
        merge(
            _layer(doc, ("units", name, "tags"), "unit", "unit tags"),
            _layer(doc, ("defaults", "units", name, "tags"), "defaults", "defaults"),
        ),
        merge(
            _layer(doc, ("environments", env, "units", name, "tags"), "environment", f"environment tags ({env})"),
            _layer(
                doc,
                ("environments", env, "regions", region, "units", name, "tags"),
                "region",
                f"region tags ({env}/{region})",
            ),
        ),
    )
    if tags is None or not tags.children:
        return merged
    # model._unit_tags: the unit's tags and its module, merged over any tags input.
    children = dict(tags.children)
    children["ManagedByModule"] = Traced(Source("tfgen", "the unit's catalog module"), value=unit.module.id)
    return merge(merged, Traced(tags.source, children={"tags": Traced(tags.source, children=children)}))


def traced_inputs(unit: Unit, project: Project) -> Traced:
    """Every input as Terraform finally sees it (Unit.effective_inputs), traced."""
    catalog = _layer(unit.module.document, ("inputs",), "catalog", "catalog")
    merged = merge(catalog, traced_overrides(unit, project))
    return merged or Traced(Source("tfgen", "no inputs"), children={})


# --- where every local of env.hcl and region.hcl comes from ------------------------


def _scalar_source(doc: Document, candidates: list[tuple[KeyPath, str, str]], fallback: str) -> Source:
    """The first candidate key path that exists in *doc*, else a built-in default."""
    for path, kind, description in candidates:
        parent = _mapping_at(doc.data, path[:-1])
        if isinstance(parent, Mapping) and path[-1] in parent:
            return Source(kind, description, doc.locate(path), path)
    return Source("tfgen", fallback)


def traced_env_locals(env: Environment, project: Project) -> Traced:
    """The locals of environments/<env>/env.hcl (plan.env_locals), traced."""
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
    overrides = merge(
        _layer(doc, ("defaults", "sizing_overrides"), "sizing-override", "sizing override (defaults)"),
        _layer(doc, (*base, "sizing_overrides"), "sizing-override", f"sizing override ({env.name})"),
    )
    if overrides is not None and overrides.children:
        sizing.update(overrides.children)
    settings = merge(
        _layer(doc, ("defaults", "settings"), "defaults", "defaults"),
        _layer(doc, (*base, "settings"), "environment", f"environment {env.name}"),
    )
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
        "settings": settings or Traced(Source("tfgen", "no settings"), children={}),
    }
    if "tags" in values:  # some environment has tags: root.hcl merges local.env.tags
        children["tags"] = _layer(doc, (*base, "tags"), "environment", own) or Traced(
            Source("tfgen", "no tags"), children={}
        )
    return Traced(Source("environment", own, doc.locate(base, key=True), base), children=children)


def traced_region_locals(env: Environment, region: Region, project: Project) -> Traced:
    """The locals of environments/<env>/<region>/region.hcl (plan.region_locals), traced."""
    doc = project.document
    base: KeyPath = ("environments", env.name, "regions", region.name)
    own = f"region {env.name}/{region.name}"
    values = region_locals(region)

    def at(name: str, fallback: str) -> Source:
        return _scalar_source(doc, [((*base, name), "region", own)], fallback)

    settings = merge(
        merge(
            _layer(doc, ("defaults", "settings"), "defaults", "defaults"),
            _layer(doc, ("environments", env.name, "settings"), "environment", f"environment {env.name}"),
        ),
        _layer(doc, (*base, "settings"), "region", f"region {env.name}/{region.name}"),
    )
    children = {
        "aws_region": Traced(Source("region", own, doc.locate(base, key=True), base), value=values["aws_region"]),
        "azs": Traced(at("azs", "required"), value=values["azs"]),
        "vpc_cidr": Traced(at("vpc_cidr", "required"), value=values["vpc_cidr"]),
        "role": Traced(at("role", "tfgen default (null)"), value=values["role"]),
        "settings": settings or Traced(Source("tfgen", "no settings"), children={}),
    }
    return Traced(Source("region", own, doc.locate(base, key=True), base), children=children)


def traced_project_locals(project: Project) -> Traced:
    doc = project.document
    tags = _layer(doc, ("project", "tags"), "project", "project")
    name = ("project", "name")
    children = {
        "name": Traced(Source("project", "project", doc.locate(name), name), value=project_locals(project)["name"]),
        "tags": tags or Traced(Source("tfgen", "no tags"), children={}),
    }
    return Traced(Source("project", "project", doc.locate(("project",), key=True), ("project",)), children=children)


# --- explanations -----------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    """A reference inside an ``!hcl`` expression, resolved to the value it reads."""

    reference: str  # as written: local.env.sizing.db_instance_class, dependency.vpc.outputs.id
    file: str | None  # the rendered file that defines it (relative to the output directory)
    value: Any = None
    defined: bool = True
    sources: tuple[tuple[KeyPath, Any, Source], ...] = ()  # leaf path below the reference, value, source
    note: str = ""
    unit: str | None = None  # for dependency.<name>.outputs.<output>: the address of that unit

    def as_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "file": self.file,
            "defined": self.defined,
            "value": jsonable(self.value),
            "note": self.note or None,
            "unit": self.unit,
            "sources": [
                {"path": list(path), "value": jsonable(value), "source": source.as_json()}
                for path, value, source in self.sources
            ],
        }


@dataclass(frozen=True)
class InputExplanation:
    path: KeyPath  # (top-level input, nested key, ...)
    value: Any  # a literal, or an HclExpr
    source: Source
    file: str  # the rendered file that carries it
    reads: tuple[Read, ...] = ()
    replaces: str | None = None  # the file whose value of the same input this one replaces

    @property
    def name(self) -> str:
        return format_key_path(self.path)

    def as_json(self) -> dict[str, Any]:
        return {
            "input": self.name,
            "path": list(self.path),
            "value": jsonable(self.value),
            "source": self.source.as_json(),
            "file": self.file,
            "replaces": self.replaces,
            "reads": [r.as_json() for r in self.reads],
        }


@dataclass(frozen=True)
class DependencyExplanation:
    name: str
    target: str  # address
    config_path: str
    cross_region: bool
    outputs: tuple[tuple[str, tuple[str, ...], bool], ...]  # input, output(s), whether a list
    declared: Location
    #: Whether the unit reads its outputs (a ``dependency`` block with its mock outputs),
    #: or it only orders the units (a path of the ``dependencies`` block).
    read: bool = True
    mock_outputs: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.target,
            "config_path": self.config_path,
            "cross_region": self.cross_region,
            "block": "dependency" if self.read else "dependencies",
            "mock_outputs": jsonable(self.mock_outputs) if self.read else None,
            "declared": str(self.declared),
            "outputs": [
                {"input": name, "outputs": list(outs), "list": is_list} for name, outs, is_list in self.outputs
            ],
        }


@dataclass(frozen=True)
class LocalExplanation:
    path: KeyPath
    value: Any
    source: Source

    @property
    def name(self) -> str:
        return format_key_path(self.path)

    def as_json(self) -> dict[str, Any]:
        return {
            "local": self.name,
            "path": list(self.path),
            "value": jsonable(self.value),
            "source": self.source.as_json(),
        }


@dataclass(frozen=True)
class UnitExplanation:
    unit: Unit
    output: str  # the output directory as the user sees it
    files: tuple[tuple[str, str], ...]  # (path relative to output, what it holds)
    dependencies: tuple[DependencyExplanation, ...]
    inputs: tuple[InputExplanation, ...]
    promoted_at: str = ""  # file:line:col of the unit's promoted version, if it has one
    source: str = ""  # terraform.source, version pinned (the promoted one if promoted)
    remote_state: Mapping[str, Any] = field(default_factory=dict)  # backend config as resolved
    prevent_destroy: bool = False


@dataclass(frozen=True)
class ScopeExplanation:
    """An environment (region None) or one region of it."""

    environment: Environment
    region: Region | None
    output: str
    file: str
    locals: tuple[LocalExplanation, ...]
    units: tuple[Unit, ...]


Explanation = UnitExplanation | ScopeExplanation


def jsonable(value: Any) -> Any:
    """A JSON-ready copy: an !hcl expression becomes {"hcl": text}."""
    if isinstance(value, HclExpr):
        return {"hcl": value.text}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclass
class _Locals:
    """The traced locals a unit's expressions can read, built once per explanation."""

    project: Project
    env: Environment
    region: Region
    cache: dict[str, Traced] = field(default_factory=dict)

    def tree(self, scope: str) -> Traced:
        if scope not in self.cache:
            if scope == "env":
                self.cache[scope] = traced_env_locals(self.env, self.project)
            elif scope == "region":
                self.cache[scope] = traced_region_locals(self.env, self.region, self.project)
            else:
                self.cache[scope] = traced_project_locals(self.project)
        return self.cache[scope]

    def file(self, scope: str, unit: Unit) -> str:
        if scope == "env":
            return f"environments/{self.env.name}/env.hcl"
        if scope == "region":
            return f"environments/{self.env.name}/{self.region.name}/region.hcl"
        return unit.module.envcommon_path  # local.project is written into the file that uses it


def _reads(value: Any, unit: Unit, project: Project, locals_: _Locals, file: str) -> tuple[Read, ...]:
    found: list[Read] = []
    seen: set[str] = set()
    for _path, expr in expressions(value):
        for match in _LOCAL_READ.finditer(expr.text):
            reference = match.group(0)
            if reference in seen:
                continue
            seen.add(reference)
            scope = match.group(1)
            path: KeyPath = tuple(p for p in match.group(2).split(".") if p)
            node = locals_.tree(scope).find(path)
            where = file if scope == "project" else locals_.file(scope, unit)
            if node is None:
                found.append(Read(reference, where, defined=False, note=f"not defined in {where}"))
                continue
            sources = tuple((leaf_path, leaf.plain(), leaf.source) for leaf_path, leaf in node.leaves())
            found.append(Read(reference, where, node.plain(), sources=sources))
        for match in _DEPENDENCY_READ.finditer(expr.text):
            reference = match.group(0)
            if reference in seen:
                continue
            seen.add(reference)
            wire = next((w for w in project.wiring.get(unit.key, ()) if w.dependency.name == match.group(1)), None)
            if wire is None:
                found.append(Read(reference, None, defined=False, note=f"no dependency '{match.group(1)}'"))
                continue
            declared = unit.module.document.locate(wire.dependency.path, key=True)
            found.append(
                Read(
                    reference,
                    f"{unit.directory}/terragrunt.hcl",
                    note=f"output {match.group(2)} of {wire.target.address} (dependency {wire.dependency.name}, "
                    f"declared at {declared}), known once that unit is applied",
                    unit=wire.target.address,
                )
            )
    return tuple(found)


def _dependency_expr(name: str, output: str | tuple[str, ...]) -> HclExpr:
    if isinstance(output, tuple):
        return HclExpr("[" + ", ".join(f"dependency.{name}.outputs.{o}" for o in output) + "]")
    return HclExpr(f"dependency.{name}.outputs.{output}")


def explain_unit(unit: Unit, project: Project, output: str = "output") -> UnitExplanation:
    leaf = f"{unit.directory}/terragrunt.hcl"
    envcommon = unit.module.envcommon_path
    catalog_names = set(unit.module.inputs)
    locals_ = _Locals(project, unit.environment, unit.region)
    inputs = traced_inputs(unit, project)
    overridden = set(unit.overrides)
    wired: dict[str, Traced] = {}
    dependencies: list[DependencyExplanation] = []
    read = read_dependencies(unit, project)
    for wire in project.wiring.get(unit.key, ()):
        dep = wire.dependency
        outputs = []
        for name, output_name in dep.outputs.items():
            where = (*dep.path, "outputs", name)
            source = Source(
                "dependency",
                f"dependency {dep.name} -> {wire.target.address}",
                unit.module.document.locate(where),
                where,
            )
            wired[name] = Traced(source, value=_dependency_expr(dep.name, output_name))
            names = output_name if isinstance(output_name, tuple) else (output_name,)
            outputs.append((name, names, isinstance(output_name, tuple)))
        dependencies.append(
            DependencyExplanation(
                dep.name,
                wire.target.address,
                wire.config_path,
                wire.target.region.name != unit.region.name,
                tuple(outputs),
                unit.module.document.locate(dep.path, key=True),
                dep.name in read,
                dep.mock_outputs,
            )
        )
    top = dict(inputs.children or {})
    for name, node in wired.items():
        if name not in overridden:  # an override replaces the wiring (plan.leaf_inputs)
            top[name] = node
    # The leaf lists wired inputs first, then overrides; _envcommon inputs come from the catalog.
    rendered = list(leaf_inputs(unit, project))
    order = rendered + [n for n in top if n not in rendered]
    explained: list[InputExplanation] = []
    for name in order:
        file = leaf if name in rendered else envcommon
        replaces = envcommon if name in rendered and name in catalog_names else None
        for path, node in top[name].leaves((name,)):
            value = node.plain()
            # A wired input's dependency is its source already; other expressions are resolved.
            reads = () if node.source.kind == "dependency" else _reads(value, unit, project, locals_, file)
            explained.append(InputExplanation(path, value, node.source, file, reads, replaces))
    files = [(leaf, "the unit: includes, dependencies, overridden and wired inputs")]
    files.append((envcommon, f"inputs common to every {unit.module.id} unit"))
    files.append((locals_.file("env", unit), "local.env: environment-wide values"))
    files.append((locals_.file("region", unit), "local.region: region-wide values"))
    promoted_at = str(project.document.locate(unit.version_path)) if unit.version is not None else ""
    return UnitExplanation(
        unit,
        output,
        tuple(files),
        tuple(dependencies),
        tuple(explained),
        promoted_at,
        unit.source_url,
        {"backend": "s3", "config": state_config(project, unit)},
        unit.environment.deletion_protection,
    )


def explain_scope(
    env: Environment, region: Region | None, project: Project, output: str = "output"
) -> ScopeExplanation:
    if region is None:
        tree = traced_env_locals(env, project)
        file = f"environments/{env.name}/env.hcl"
    else:
        tree = traced_region_locals(env, region, project)
        file = f"environments/{env.name}/{region.name}/region.hcl"
    locals_ = tuple(LocalExplanation(path, node.plain(), node.source) for path, node in tree.leaves())
    units = tuple(
        u for u in project.units if u.environment.name == env.name and (region is None or u.region.name == region.name)
    )
    return ScopeExplanation(env, region, output, file, locals_, units)


def addresses(project: Project) -> list[str]:
    """Every address ``tfgen explain`` accepts, in project order."""
    by_region: dict[tuple[str, str], list[str]] = {}
    for unit in project.units:
        by_region.setdefault((unit.environment.name, unit.region.name), []).append(unit.address)
    found: list[str] = []
    for env in project.environments:
        found.append(env.name)
        for region in env.regions:
            found.append(f"{env.name}/{region.name}")
            found += by_region.get((env.name, region.name), [])
    return found


def _not_found(project: Project, address: str, parts: list[str]) -> InputError:
    known = addresses(project)
    kinds = {1: "environment", 2: "region", 3: "unit"}
    kind = kinds.get(len(parts), "address")
    message = f"explain: no {kind} '{address}'"
    if len(parts) == 3:
        env, region, name = parts
        spec = next((s for s in project.unit_specs if s.name == name), None)
        if spec is not None and project.environment(env) is not None:
            reason = _why_not_placed(project, spec.name, env, region)
            if reason:
                message = f"explain: unit '{name}' is not deployed in {env}/{region}: {reason}"
    same_depth = [a for a in known if a.count("/") == len(parts) - 1]
    close = difflib.get_close_matches(address, same_depth, n=3, cutoff=0.6) or difflib.get_close_matches(
        address, known, n=3, cutoff=0.6
    )
    if close:
        hint = "did you mean " + ", ".join(close) + "?"
    else:
        hint = "environments: " + ", ".join(e.name for e in project.environments)
    return InputError([Diagnostic(message, Location("tfgen"), rule="explain-address", hint=hint)])


def _why_not_placed(project: Project, name: str, env_name: str, region_name: str) -> str:
    spec = next(s for s in project.unit_specs if s.name == name)
    env = project.environment(env_name)
    if env is None:
        return ""
    region = env.region(region_name)
    if region is None:
        return f"{env_name} has no region {region_name}"
    if spec.environments is not None and env_name not in spec.environments:
        return f"units.{name}.environments is [{', '.join(spec.environments)}]"
    if spec.regions is not None and region_name not in spec.regions:
        return f"units.{name}.regions is [{', '.join(spec.regions)}]"
    if env.unit_overrides.get(name) is False:
        return f"environments.{env_name}.units.{name} is false"
    if region.unit_overrides.get(name) is False:
        return f"environments.{env_name}.regions.{region_name}.units.{name} is false"
    if spec.module not in project.modules:
        return f"module {spec.module} is missing"
    return ""


def explain(project: Project, address: str, output: str = "output") -> Explanation:
    """Explain ENV, ENV/REGION or ENV/REGION/UNIT; InputError (exit 2) when unknown."""
    parts = [p for p in address.strip().strip("/").split("/")]
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise InputError(
            [
                Diagnostic(
                    f"explain: '{address}' is not an address",
                    Location("tfgen"),
                    rule="explain-address",
                    hint="write ENV, ENV/REGION or ENV/REGION/UNIT, e.g. prod/us-east-1/rds",
                )
            ]
        )
    env = project.environment(parts[0])
    if env is None:
        raise _not_found(project, address, parts)
    if len(parts) == 1:
        return explain_scope(env, None, project, output)
    region = env.region(parts[1])
    if region is None:
        raise _not_found(project, address, parts)
    if len(parts) == 2:
        return explain_scope(env, region, project, output)
    unit = project.unit((parts[0], parts[1], parts[2]))
    if unit is None:
        raise _not_found(project, address, parts)
    return explain_unit(unit, project, output)


# --- views ------------------------------------------------------------------------


def inline(value: Any) -> str:
    """A value as one line of HCL."""
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{hcl.key(str(k))} = {inline(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return hcl.literal(value)


def _matches(path: KeyPath, selector: str | None) -> bool:
    if not selector:
        return True
    name = format_key_path(path)
    return name == selector or name.startswith(selector + ".") or name.startswith(selector + "[")


def _read_lines(read: Read, indent: str) -> list[str]:
    """A read: the reference, its value and file, then where each value below it was set."""
    pad = " " * len(indent)
    if not read.defined or not read.sources:
        return [f"{indent}{read.reference}: {read.note}"]
    where = f" in {read.file}" if read.file else ""
    if len(read.sources) == 1 and not read.sources[0][0]:
        _, value, source = read.sources[0]
        return [f"{indent}{read.reference} = {inline(value)}{where}", f"{pad}  set by {source}"]
    lines = [f"{indent}{read.reference}{where}:"]
    for path, value, source in read.sources:
        lines.append(f"{pad}  {format_key_path(path)} = {inline(value)}, set by {source}")
    return lines


def _columns(rows: list[tuple[str, str]], indent: str = "  ") -> list[str]:
    width = max((len(left) for left, _ in rows), default=0)
    return [f"{indent}{left:<{width}}  {right}".rstrip() for left, right in rows]


def unit_text(explanation: UnitExplanation, selector: str | None = None) -> str:
    unit = explanation.unit
    out = explanation.output.rstrip("/")
    lines = [
        f"{unit.address}: unit {unit.name}, module {unit.module.id} ({unit.module.file}), layer {unit.module.layer}",
        f"Source: {unit.source_url}" + (
            f" (version {unit.version} promoted at {explanation.promoted_at}; the catalog pins "
            f"{unit.module.version or 'nothing'})" if unit.version is not None else ""
        ),
        "",
        f"Rendered files (in {out}/):",
    ]
    lines += _columns(list(explanation.files))
    lines += ["", "Dependencies:" if explanation.dependencies else "Dependencies: none"]
    for dep in explanation.dependencies:
        cross = ", another region" if dep.cross_region else ""
        lines.append(f"  {dep.name} -> {dep.target} (config_path {dep.config_path}{cross}; declared at {dep.declared})")
        for name, outputs, is_list in dep.outputs:
            shown = "[" + ", ".join(outputs) + "]" if is_list else outputs[0]
            lines.append(f"    input {name} <- output {shown}")
    chosen = [i for i in explanation.inputs if _matches(i.path, selector)]
    heading = "Inputs (final value, where it was set, the file that carries it):"
    if selector:
        heading = f"Inputs matching '{selector}':" if chosen else f"No input matches '{selector}'."
    lines += ["", heading]
    for item in chosen:
        lines.append(f"  {item.name} = {inline(item.value)}")
        lines.append(f"      set by {item.source}")
        carried = f"      in {item.file}"
        if item.replaces:
            carried += f" (replaces the value in {item.replaces})"
        lines.append(carried)
        for read in item.reads:
            lines += _read_lines(read, "      reads ")
    return "\n".join(lines) + "\n"


def scope_text(explanation: ScopeExplanation, selector: str | None = None) -> str:
    env, region = explanation.environment, explanation.region
    out = explanation.output.rstrip("/")
    if region is None:
        regions = ", ".join(f"{r.name} ({r.role})" if r.role else r.name for r in env.regions)
        lines = [
            f"{env.name}: environment, account {env.account_id}, sizing tier {env.sizing_tier or '(none)'}, "
            f"deletion_protection {str(env.deletion_protection).lower()}",
            f"Regions: {regions}",
        ]
        scope = "local.env"
    else:
        lines = [f"{env.name}/{region.name}: region of {env.name}" + (f", role {region.role}" if region.role else "")]
        scope = "local.region"
    lines += ["", f"Units ({len(explanation.units)}):"]
    lines += _columns([(u.address, u.module.id) for u in explanation.units])
    chosen = [x for x in explanation.locals if _matches(x.path, selector)]
    lines += ["", f"{scope} in {out}/{explanation.file} (value <- where it was set):"]
    lines += _columns([(f"{x.name} = {inline(x.value)}", f"<- {x.source}") for x in chosen])
    return "\n".join(lines) + "\n"


def to_text(explanation: Explanation, selector: str | None = None) -> str:
    if isinstance(explanation, UnitExplanation):
        return unit_text(explanation, selector)
    return scope_text(explanation, selector)


def to_json(explanation: Explanation, selector: str | None = None) -> str:
    document: dict[str, Any]
    if isinstance(explanation, UnitExplanation):
        unit = explanation.unit
        document = {
            "version": JSON_VERSION,
            "kind": "unit",
            "address": unit.address,
            "environment": unit.environment.name,
            "region": unit.region.name,
            "unit": unit.name,
            "module": unit.module.id,
            "catalog_file": unit.module.file,
            "source": unit.source_url,
            "module_version": unit.pin,
            "promoted_at": explanation.promoted_at if unit.version is not None else None,
            "output": explanation.output,
            "directory": unit.directory,
            "files": [{"path": p, "holds": what} for p, what in explanation.files],
            "remote_state": jsonable(explanation.remote_state),
            "prevent_destroy": explanation.prevent_destroy,
            "dependencies": [d.as_json() for d in explanation.dependencies],
            "inputs": [i.as_json() for i in explanation.inputs if _matches(i.path, selector)],
        }
    else:
        env, region = explanation.environment, explanation.region
        document = {
            "version": JSON_VERSION,
            "kind": "environment" if region is None else "region",
            "address": env.name if region is None else f"{env.name}/{region.name}",
            "environment": env.name,
            "region": region.name if region else None,
            "output": explanation.output,
            "file": explanation.file,
            "units": [u.address for u in explanation.units],
            "locals": [x.as_json() for x in explanation.locals if _matches(x.path, selector)],
        }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
