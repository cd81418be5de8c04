"""Provenance: every value tfgen renders, traced back to the YAML line that set it.

``tfgen explain prod/us-east-1/rds`` answers "why does prod have this value?". The
merges here mirror model.py step for step (maps deep-merge, lists and scalars
replace), but every leaf remembers its source: the catalog file, the unit, the
environment (with ``defaults`` under it), the region, a sizing tier or a sizing
override. Tests check that the traced values equal the model's and what ``render``
writes. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic, InputError, KeyPath, Location, format_key_path
from ..hcl import literal as hcl
from ..project import backend, layout
from ..project.model import (
    Environment,
    Project,
    Region,
    Tenant,
    Unit,
    leaf_inputs,
    unit_layer,
    value_at,
    why_not_placed,
)
from ..project.provenance import (
    Source,
    Traced,
    traced_env_locals,
    traced_inputs,
    traced_project_locals,
    traced_region_locals,
    traced_tenant_locals,
)
from ..project.suggest import closest
from ..project.values import (
    LOCAL_SCOPES,
    HclExpr,
    dependency_expression,
    dependency_reads,
    expressions,
    local_references,
)
from ..rendering.plan import read_dependencies

__all__ = [
    "DependencyExplanation",
    "Explanation",
    "InputExplanation",
    "LocalExplanation",
    "ProviderExplanation",
    "Read",
    "ScopeExplanation",
    "Source",
    "UnitExplanation",
    "addresses",
    "document",
    "explain",
    "explain_scope",
    "explain_unit",
    "to_json",
    "to_text",
    "traced_env_locals",
    "traced_inputs",
    "traced_region_locals",
]

#: Version of the JSON document ``tfgen explain --format json`` prints (docs/explain.md).
JSON_VERSION = 1


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
class ProviderExplanation:
    """A provider (or alias) the unit's catalog module configures (``providers:``), each
    setting with the line that sets it; an alias of aws adds its settings to the
    generated aws's."""

    key: str  # kubernetes, aws.us_east_1
    source: str  # the provider's source address
    version: str | None
    declared: Location
    settings: tuple[InputExplanation, ...]  # path: (argument, nested block argument, ...)
    file: str  # the rendered file that carries it (the module's _envcommon file)

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.key,
            "source": self.source,
            "version": self.version,
            "declared": str(self.declared),
            "file": self.file,
            "settings": [
                {"setting": s.name, "value": jsonable(s.value), "source": s.source.as_json(),
                 "reads": [r.as_json() for r in s.reads]}
                for s in self.settings
            ],
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
    source: str = ""  # terraform.source, version pinned (the unit's promoted one, if any)
    remote_state: Mapping[str, Any] = field(default_factory=dict)  # backend config as resolved
    prevent_destroy: bool = False
    promoted_at: str = ""  # file:line:col of the unit's promoted version, if it has one
    directory: str | None = None  # where Terragrunt runs the unit, when not unit.directory (style: stacks)
    protection: Source | None = None  # where its deletion policy is set
    providers: tuple[ProviderExplanation, ...] = ()  # those the catalog configures beside the generated aws

    def __repr__(self) -> str:
        counts = f"{len(self.inputs)} inputs, {len(self.dependencies)} dependencies"
        return f"<UnitExplanation {self.unit.address}: {counts}>"


@dataclass(frozen=True)
class ScopeExplanation:
    """An environment (region None), one region of it, or a tenant in a region (its
    tenant.hcl)."""

    environment: Environment
    region: Region | None
    output: str
    file: str
    locals: tuple[LocalExplanation, ...]
    units: tuple[Unit, ...]
    tenant: Tenant | None = None

    @property
    def address(self) -> str:
        parts = [self.environment.name, *(p.name for p in (self.region, self.tenant) if p is not None)]
        return "/".join(parts)

    @property
    def kind(self) -> str:
        return "tenant" if self.tenant is not None else "region" if self.region is not None else "environment"

    def __repr__(self) -> str:
        return f"<ScopeExplanation {self.address}: {len(self.locals)} locals, {len(self.units)} units>"


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
    unit: Unit | None = None  # whose own deletion policy local.env shows, if it has one

    def tree(self, scope: str) -> Traced:
        if scope not in self.cache:
            if scope == "env":
                tree = traced_env_locals(self.env, self.project)
                if self.unit is not None and self.unit.own_protection and tree.children is not None:
                    tree = Traced(tree.source, children={
                        **tree.children, "deletion_protection": Traced(protection_source(self.unit, self.project),
                                                                       value=self.unit.deletion_protection)})
                self.cache[scope] = tree
            elif scope == "region":
                self.cache[scope] = traced_region_locals(self.env, self.region, self.project)
            elif scope == "tenant":
                tenant = self.unit.tenant if self.unit is not None else None
                self.cache[scope] = (
                    traced_tenant_locals(tenant, self.env, self.region, self.project) if tenant is not None
                    else Traced(Source("tfgen", "a shared unit has no local.tenant"), children={})
                )
            else:
                self.cache[scope] = traced_project_locals(self.project)
        return self.cache[scope]

    def file(self, scope: str, unit: Unit) -> str:
        if scope == "env":
            return layout.env_file(self.env.name)
        if scope == "region":
            return layout.region_file(self.env.name, self.region.name)
        if scope == "tenant" and unit.tenant is not None:
            return layout.tenant_file(self.env.name, self.region.name, unit.tenant.name)
        return unit.module.envcommon_path  # local.project is written into the file that uses it


def protection_source(unit: Unit, project: Project) -> Source:
    """Where the unit's deletion policy is set: its own deletion_protection, or the environment's."""
    if unit.protection_path:
        path = unit.protection_path
        kind = "unit" if path[0] == "units" else "region" if "regions" in path else "environment"
        return Source(kind, f"unit {unit.name}'s own deletion_protection", project.document.locate(path), path)
    env = ("environments", unit.environment.name, "deletion_protection")
    path = env if value_at(project.document.data, env) is not None else ("defaults", "deletion_protection")
    return Source("environment", f"environment {unit.environment.name}", project.document.locate(path), path)


def _reads(value: Any, unit: Unit, project: Project, locals_: _Locals, file: str) -> tuple[Read, ...]:
    found: list[Read] = []
    seen: set[str] = set()
    for _path, expr in expressions(value):
        for ref in local_references(expr.text):
            if ref[0] not in LOCAL_SCOPES:
                continue
            reference = "local." + ".".join(ref)
            if reference in seen:
                continue
            seen.add(reference)
            scope = ref[0]
            path: KeyPath = ref[1:]
            node = locals_.tree(scope).find(path)
            where = file if scope == "project" else locals_.file(scope, unit)
            if node is None:
                found.append(Read(reference, where, defined=False, note=f"not defined in {where}"))
                continue
            sources = tuple((leaf_path, leaf.plain(), leaf.source) for leaf_path, leaf in node.leaves())
            found.append(Read(reference, where, node.plain(), sources=sources))
        for name, output in dependency_reads(expr.text):
            reference = f"dependency.{name}.outputs.{output}"
            if reference in seen:
                continue
            seen.add(reference)
            wire = next((w for w in project.wiring.get(unit.key, ()) if w.dependency.name == name), None)
            if wire is None:
                found.append(Read(reference, None, defined=False, note=f"no dependency '{name}'"))
                continue
            declared = wire.dependency.locate(key=True)
            found.append(
                Read(
                    reference,
                    layout.unit_file(unit.directory),
                    note=f"output {output} of {wire.target.address} (dependency {wire.dependency.name}, "
                    f"declared at {declared}), known once that unit is applied",
                    unit=wire.target.address,
                )
            )
    return tuple(found)


def explain_unit(unit: Unit, project: Project, output: str = "output") -> UnitExplanation:
    leaf = layout.unit_file(unit.directory)
    envcommon = unit.module.envcommon_path
    catalog_names = set(unit.module.inputs)
    locals_ = _Locals(project, unit.environment, unit.region, unit=unit)
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
                dep.document.locate(where),
                where,
            )
            wired[name] = Traced(source, value=dependency_expression(dep.name, output_name))
            names = output_name if isinstance(output_name, tuple) else (output_name,)
            outputs.append((name, names, isinstance(output_name, tuple)))
        dependencies.append(
            DependencyExplanation(
                dep.name,
                wire.target.address,
                wire.config_path,
                wire.target.region.name != unit.region.name,
                tuple(outputs),
                dep.locate(key=True),
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
    holds = "the unit: includes, dependencies, overridden and wired inputs"
    common = f"inputs common to every {unit.module.id} unit"
    single = project.style == layout.SINGLE_INCLUDE
    if single:
        common += "; the remote state, provider and version pins"
    if unit.state_directory != unit.directory:  # renamed or moved: the leaf keeps the old key
        kept = "workspace" if backend.is_remote(project) else "state key"
        if single:  # the module file maps it
            common += f"; the {kept} it keeps (previous: {unit.spec.previous})"
        else:
            holds += f"; the {kept} it keeps (previous: {unit.spec.previous})"
    files = [(leaf, holds)]
    files.append((envcommon, common))
    files.append((locals_.file("env", unit), "local.env: environment-wide values"))
    files.append((locals_.file("region", unit), "local.region: region-wide values"))
    if unit.tenant is not None:
        files.append(
            (locals_.file("tenant", unit), f"local.tenant: the values of tenant {unit.tenant.name}, its account")
        )
    promoted_at = str(project.document.locate(unit.version_path)) if unit.version is not None else ""
    providers = _providers(unit, project, locals_)
    return UnitExplanation(
        unit,
        output,
        tuple(files),
        tuple(dependencies),
        tuple(explained),
        unit.source_url,
        {"backend": backend.kind(project.state), "config": backend.config(project, unit)},
        unit.deletion_protection,
        promoted_at,
        protection=protection_source(unit, project),
        providers=providers,
    )


def _settings(value: Any, path: KeyPath) -> list[tuple[KeyPath, Any]]:
    """The leaves of a provider configuration: a nested block's arguments each."""
    if isinstance(value, Mapping) and not isinstance(value, HclExpr):
        return [leaf for key, item in value.items() for leaf in _settings(item, (*path, str(key)))]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Mapping) for v in value):
        return [leaf for i, item in enumerate(value) for leaf in _settings(item, (*path, i))]
    return [(path, value)]


def _providers(unit: Unit, project: Project, locals_: _Locals) -> tuple[ProviderExplanation, ...]:
    module = unit.module
    found = []
    for entry in module.providers:
        settings = []
        for path, value in _settings(entry.config, ()):
            where = (*entry.path, *path)
            source = Source("catalog", f"catalog providers ({entry.key})", module.document.locate(where), where)
            reads = _reads(value, unit, project, locals_, module.envcommon_path)
            settings.append(InputExplanation(path, value, source, module.envcommon_path, reads))
        address = entry.source or ("hashicorp/aws" if entry.name == "aws" else "")
        if entry.alias and entry.name != "aws":
            address = next((p.source or "" for p in module.providers if p.key == entry.name), "")
        found.append(ProviderExplanation(entry.key, address, entry.version, module.document.locate(
            ("providers", entry.key), key=True), tuple(settings), module.envcommon_path))
    return tuple(found)


def explain_scope(
    env: Environment, region: Region | None, project: Project, output: str = "output", tenant: Tenant | None = None
) -> ScopeExplanation:
    """env.hcl's locals, region.hcl's (*region*) or a tenant's tenant.hcl's in *region*
    (*tenant*: name, account_id, role_arn, settings, tags)."""
    if region is None:
        tree = traced_env_locals(env, project)
        file = layout.env_file(env.name)
    elif tenant is None:
        tree = traced_region_locals(env, region, project)
        file = layout.region_file(env.name, region.name)
    else:
        tree = traced_tenant_locals(tenant, env, region, project)
        file = layout.tenant_file(env.name, region.name, tenant.name)
    locals_ = tuple(LocalExplanation(path, node.plain(), node.source) for path, node in tree.leaves())
    units = tuple(
        u
        for u in project.units
        if u.environment.name == env.name
        and (region is None or u.region.name == region.name)
        and (tenant is None or u.tenant_name == tenant.name)
    )
    return ScopeExplanation(env, region, output, file, locals_, units, tenant)


def _tenant(project: Project, env: Environment, region: Region, name: str) -> Tenant | None:
    """Tenant *name* where it exists in *env*/*region* (it has a tenant.hcl there)."""
    return next(
        (t for t in project.tenants if t.name == name and t.exists_in(env.name, region.name)),
        None,
    )


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
            here = f"{env.name}/{region.name}"
            found += [f"{here}/{t.name}" for t in project.tenants if t.exists_in(env.name, region.name)]
            found += by_region.get((env.name, region.name), [])
    return found


def _not_found(project: Project, address: str, parts: list[str]) -> InputError:
    known = addresses(project)
    kinds = {1: "environment", 2: "region", 3: "unit or tenant" if project.tenants else "unit"}
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
    close = closest(address, same_depth, n=3) or closest(address, known, n=3)
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
    reason = why_not_placed(spec, env, region, unit_layer(spec, env, region, project.modules))
    if reason:
        return reason
    if spec.module not in project.modules:
        return f"module {spec.module} is missing"
    return ""


def explain(project: Project, address: str, output: str = "output") -> Explanation:
    """Explain ENV, ENV/REGION, ENV/REGION/UNIT, ENV/REGION/TENANT (its tenant.hcl) or
    ENV/REGION/TENANT/UNIT (a tenant's instance of a per_tenant unit); InputError (exit 2)
    when unknown. ENV/REGION/NAME is the unit NAME if there is one there, else the tenant;
    ENV/REGION/NAME/ (a trailing slash: a directory) is the tenant only."""
    directory = address.strip().endswith("/")
    parts = [p for p in address.strip().strip("/").split("/")]
    if len(parts) == 4 and all(parts):  # a tenant's instance: its key is (env, region, tenant/unit)
        parts = [parts[0], parts[1], f"{parts[2]}/{parts[3]}"]
    if not 1 <= len(parts) <= 3 or not all(parts):
        raise InputError(
            [
                Diagnostic(
                    f"explain: '{address}' is not an address",
                    Location("tfgen"),
                    rule="explain-address",
                    hint="write ENV, ENV/REGION, ENV/REGION/UNIT, ENV/REGION/TENANT or ENV/REGION/TENANT/UNIT, "
                    "e.g. prod/us-east-1/rds",
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
    unit = None if directory else project.unit((parts[0], parts[1], parts[2]))
    if unit is None:
        tenant = _tenant(project, env, region, parts[2]) if "/" not in parts[2] else None
        if tenant is not None:
            return explain_scope(env, region, project, output, tenant)
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
        f"{unit.address}: unit {unit.name}, module {unit.module.id} ({unit.module.file}), layer {unit.layer}"
        + (f" (the unit's own; {unit.module.id}'s is {unit.module.layer})" if unit.layer != unit.module.layer else ""),
        f"Source: {unit.source_url}" + (
            f" (version {unit.version} promoted at {explanation.promoted_at}; the catalog pins "
            f"{unit.module.version or 'nothing'})" if unit.version is not None else ""
        ),
        "",
        f"Rendered files (in {out}/):",
    ]
    state = explanation.remote_state
    if state.get("backend") == "remote":  # the S3 key is the unit's directory, shown above
        config = state["config"]
        lines[2:2] = [
            f"State: HCP Terraform workspace {config['workspaces']['name']} "
            f"(organization {config['organization']} on {config['hostname']})"
        ]
    lines += _columns(list(explanation.files))
    lines += ["", f"Deletion protection: {str(unit.deletion_protection).lower()} (prevent_destroy), set by "
              f"{explanation.protection}"]
    lines += ["", "Dependencies:" if explanation.dependencies else "Dependencies: none"]
    for dep in explanation.dependencies:
        cross = ", another region" if dep.cross_region else ""
        lines.append(f"  {dep.name} -> {dep.target} (config_path {dep.config_path}{cross}; declared at {dep.declared})")
        for name, outputs, is_list in dep.outputs:
            shown = "[" + ", ".join(outputs) + "]" if is_list else outputs[0]
            lines.append(f"    input {name} <- output {shown}")
    for provider in explanation.providers:
        version = f" {provider.version}" if provider.version else ""
        lines += ["", f"Provider {provider.key} ({provider.source}{version}; declared at {provider.declared}), "
                      f"in {provider.file}'s providers.tf:"]
        aws_alias = provider.key.startswith("aws.")
        if aws_alias:
            lines.append("  the generated aws (account, role, default tags), with:")
        for item in provider.settings:
            lines.append(f"  {item.name} = {inline(item.value)}")
            lines.append(f"      set by {item.source}")
            for read in item.reads:
                lines += _read_lines(read, "      reads ")
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
    tenant = explanation.tenant
    if region is None:
        regions = ", ".join(f"{r.name} ({r.role})" if r.role else r.name for r in env.regions)
        lines = [
            f"{env.name}: environment, account {env.account_id}, sizing tier {env.sizing_tier or '(none)'}, "
            f"deletion_protection {str(env.deletion_protection).lower()}",
            f"Regions: {regions}",
        ]
        scope = "local.env"
    elif tenant is not None:
        whose = "its own" if tenant.account_id is not None else f"{env.name}'s"
        lines = [
            f"{explanation.address}: tenant {tenant.name} in {env.name}/{region.name}, "
            f"account {tenant.account(env)} ({whose})"
        ]
        scope = "local.tenant"
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


def document(explanation: Explanation, selector: str | None = None) -> dict[str, Any]:
    """The explanation as a stable JSON-ready document (format described in docs/explain.md)."""
    document: dict[str, Any]
    if isinstance(explanation, UnitExplanation):
        unit = explanation.unit
        document = {
            "version": JSON_VERSION,
            "kind": "unit",
            "address": unit.address,
            "environment": unit.environment.name,
            "region": unit.region.name,
            "tenant": unit.tenant_name,  # None: a shared unit
            "unit": unit.name,
            "module": unit.module.id,
            "catalog_file": unit.module.file,
            "module_version": unit.pin,
            "promoted_at": explanation.promoted_at if unit.version is not None else None,
            "output": explanation.output,
            "directory": explanation.directory or unit.directory,
            "files": [{"path": p, "holds": what} for p, what in explanation.files],
            "source": explanation.source,
            "remote_state": jsonable(explanation.remote_state),
            "prevent_destroy": explanation.prevent_destroy,
            "deletion_protection": explanation.protection.as_json() if explanation.protection else None,
            "layer": unit.layer,
            "dependencies": [d.as_json() for d in explanation.dependencies],
            "providers": [p.as_json() for p in explanation.providers],
            "inputs": [i.as_json() for i in explanation.inputs if _matches(i.path, selector)],
        }
    else:
        env, region = explanation.environment, explanation.region
        document = {
            "version": JSON_VERSION,
            "kind": explanation.kind,
            "address": explanation.address,
            "environment": env.name,
            "region": region.name if region else None,
            "tenant": explanation.tenant.name if explanation.tenant is not None else None,
            "output": explanation.output,
            "file": explanation.file,
            "units": [u.address for u in explanation.units],
            "locals": [x.as_json() for x in explanation.locals if _matches(x.path, selector)],
        }
    return document


def to_json(explanation: Explanation, selector: str | None = None) -> str:
    """:func:`document` as JSON text."""
    return json.dumps(document(explanation, selector), indent=2, ensure_ascii=False) + "\n"


def check_selector(explanation: Explanation, selector: str | None) -> None:
    """InputError (exit 2) when *selector* names no input (no local, for ENV or
    ENV/REGION) of *explanation*, with the closest names as a did-you-mean."""
    if not selector:
        return
    items = explanation.inputs if isinstance(explanation, UnitExplanation) else explanation.locals
    if any(_matches(item.path, selector) for item in items):
        return
    names = [format_key_path(item.path) for item in items]
    kind = "input" if isinstance(explanation, UnitExplanation) else "local"
    close = closest(selector, names, n=3)
    hint = ("did you mean " + ", ".join(close) + "?") if close else f"{kind}s: " + (", ".join(names) or "(none)")
    address = explanation.unit.address if isinstance(explanation, UnitExplanation) else explanation.address
    raise InputError(
        [Diagnostic(f"explain: {address} has no {kind} '{selector}'", Location("tfgen"), rule="explain-input",
                    hint=hint)]
    )
