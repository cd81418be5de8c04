"""The project model: frozen dataclasses built from schema-valid documents.

All merging lives here: ``defaults`` under environments, sizing tier plus
``sizing_overrides``, settings (defaults < environment < region), unit placement, and
the input override order catalog < unit < environment < region.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import Diagnostic, KeyPath
from .loader import Document

Inputs = dict[str, Any]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merge deeply; lists, scalars and expressions in *override* replace."""
    merged = dict(base)
    for name, value in override.items():
        current = merged.get(name)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[name] = deep_merge(current, value)
        else:
            merged[name] = value
    return merged


@dataclass(frozen=True)
class Dependency:
    name: str  # the dependency block label
    unit: str
    region: str | None  # None: the depending unit's own region
    outputs: Mapping[str, str | tuple[str, ...]]  # module input <- output(s)
    mock_outputs: Mapping[str, Any]
    path: KeyPath  # where it is declared in the catalog file


@dataclass(frozen=True)
class Module:
    id: str  # <category>/<module>
    category: str
    name: str
    description: str
    source: str
    version: str | None
    layer: str
    dependencies: tuple[Dependency, ...]
    inputs: Mapping[str, Any]
    document: Document = field(repr=False, compare=False)

    @property
    def file(self) -> str:
        return self.document.file

    @property
    def source_url(self) -> str:
        """The Terraform source with its version pinned (?version= or ?ref=)."""
        from .modules.sources import pinned

        return pinned(self.source, self.version)

    @property
    def envcommon_path(self) -> str:
        return f"_envcommon/{self.category}/{self.name}.hcl"


@dataclass(frozen=True)
class Region:
    name: str
    vpc_cidr: str
    azs: tuple[str, ...]
    role: str | None
    settings: Mapping[str, Any]  # environment settings deep-merged with the region's
    unit_overrides: Mapping[str, Any]
    path: KeyPath

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(f"{self.name}{suffix}" for suffix in self.azs)


@dataclass(frozen=True)
class Environment:
    name: str
    account_id: str
    sizing_tier: str | None
    sizing: Mapping[str, Any]
    deletion_protection: bool
    multi_az: bool
    settings: Mapping[str, Any]
    regions: tuple[Region, ...]
    unit_overrides: Mapping[str, Any]
    path: KeyPath
    tags: Mapping[str, str] = field(default_factory=dict)  # defaults < environment

    def region(self, name: str) -> Region | None:
        return next((r for r in self.regions if r.name == name), None)


@dataclass(frozen=True)
class UnitSpec:
    """A unit as declared under ``units:``; placed once per environment and region."""

    name: str
    module: str
    description: str
    environments: tuple[str, ...] | None
    regions: tuple[str, ...] | None
    inputs: Mapping[str, Any]
    path: KeyPath
    version: str | None = None  # a promoted module version for every placement of the unit
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Unit:
    """A unit placed in one environment and region: one leaf terragrunt.hcl."""

    spec: UnitSpec
    module: Module
    environment: Environment
    region: Region
    overrides: Mapping[str, Any]  # unit < environment < region inputs, merged
    #: A version promoted for this unit (unit < environment < region), None: the catalog's.
    version: str | None = None
    version_path: KeyPath = ()  # where that version is set in environments.yaml

    @property
    def pin(self) -> str | None:
        """The version this unit deploys: its own override, else the catalog's."""
        return self.version if self.version is not None else self.module.version

    @property
    def source_url(self) -> str:
        """The pinned source of this unit (the catalog's unless a version is promoted)."""
        from .modules.sources import promoted

        return promoted(self.module.source, self.version) if self.version is not None else self.module.source_url

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.environment.name, self.region.name, self.spec.name)

    @property
    def address(self) -> str:
        return "/".join(self.key)

    @property
    def directory(self) -> str:
        return f"environments/{self.environment.name}/{self.region.name}/{self.module.layer}/{self.spec.name}"

    def effective_inputs(self) -> Inputs:
        """Every input as Terraform finally sees it (catalog < unit < env < region)."""
        return deep_merge(self.module.inputs, self.overrides)

    def leaf_inputs(self) -> Inputs:
        """Overridden top-level inputs, fully merged: Terragrunt merges the included
        envcommon inputs shallowly, so the leaf must carry the whole merged value."""
        effective = self.effective_inputs()
        return {name: effective[name] for name in self.overrides}


@dataclass(frozen=True)
class Wiring:
    """A resolved dependency of a placed unit."""

    dependency: Dependency
    target: Unit
    config_path: str  # relative from the unit's directory


@dataclass(frozen=True)
class Project:
    root: Path
    document: Document = field(repr=False)
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    terraform: Mapping[str, str] = field(default_factory=dict)
    state: Mapping[str, Any] = field(default_factory=dict)
    sizing: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    environments: tuple[Environment, ...] = ()
    unit_specs: tuple[UnitSpec, ...] = ()
    modules: Mapping[str, Module] = field(default_factory=dict)
    units: tuple[Unit, ...] = ()
    wiring: Mapping[tuple[str, str, str], tuple[Wiring, ...]] = field(default_factory=dict)
    #: Module interfaces by (source, version), from the lock file or local .tf files.
    interfaces: Mapping[tuple[str, str | None], Any] = field(default_factory=dict)

    def environment(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def unit(self, key: tuple[str, str, str]) -> Unit | None:
        return self._units_by_key().get(key)

    def _units_by_key(self) -> dict[tuple[str, str, str], Unit]:
        cache: dict[tuple[str, str, str], Unit] | None = self.__dict__.get("_by_key")
        if cache is None:
            cache = {u.key: u for u in self.units}
            object.__setattr__(self, "_by_key", cache)
        return cache


# --- building ---------------------------------------------------------------------


def build_module(module_id: str, doc: Document) -> Module:
    data = doc.data
    category, name = module_id.split("/", 1)
    dependencies = tuple(
        Dependency(
            name=dep_name,
            unit=dep["unit"],
            region=dep.get("region"),
            outputs={k: tuple(v) if isinstance(v, list) else v for k, v in (dep.get("outputs") or {}).items()},
            mock_outputs=dep.get("mock_outputs") or {},
            path=("dependencies", dep_name),
        )
        for dep_name, dep in (data.get("dependencies") or {}).items()
    )
    return Module(
        id=module_id,
        category=category,
        name=name,
        description=data.get("description", ""),
        source=data["source"],
        version=str(data["version"]) if data.get("version") is not None else None,
        layer=data["layer"],
        dependencies=dependencies,
        inputs=data.get("inputs") or {},
        document=doc,
    )


def _environment(
    name: str,
    raw: Mapping[str, Any],
    defaults: Mapping[str, Any],
    sizing: Mapping[str, Mapping[str, Any]],
    errors: list[Diagnostic],
    doc: Document,
) -> Environment:
    merged = deep_merge(defaults, raw)
    path: KeyPath = ("environments", name)
    tier = merged.get("sizing")
    values: dict[str, Any] = {}
    if tier is not None:
        if tier in sizing:
            values = dict(sizing[tier])
        else:
            where = (*path, "sizing") if "sizing" in raw else ("defaults", "sizing")
            known = ", ".join(sizing) or "none defined"
            errors.append(
                Diagnostic(
                    f"unknown sizing tier '{tier}' (tiers: {known})", doc.locate(where), where, rule="sizing-tier"
                )
            )
    values.update(merged.get("sizing_overrides") or {})
    settings = merged.get("settings") or {}
    regions = tuple(
        Region(
            name=region_name,
            vpc_cidr=region["vpc_cidr"],
            azs=tuple(region["azs"]),
            role=region.get("role"),
            settings=deep_merge(settings, region.get("settings") or {}),
            unit_overrides=region.get("units") or {},
            path=(*path, "regions", region_name),
        )
        for region_name, region in raw["regions"].items()
    )
    return Environment(
        name=name,
        account_id=raw["account_id"],
        sizing_tier=tier,
        sizing=values,
        deletion_protection=bool(merged.get("deletion_protection", False)),
        multi_az=bool(merged.get("multi_az", False)),
        settings=settings,
        regions=regions,
        unit_overrides=merged.get("units") or {},
        path=path,
        tags=merged.get("tags") or {},
    )


def _override_inputs(override: Any) -> Mapping[str, Any]:
    if isinstance(override, Mapping):
        return override.get("inputs") or {}
    return {}


def _promoted_version(spec: UnitSpec, env: Environment, region: Region) -> tuple[str | None, KeyPath]:
    """The version set for this unit, later wins: unit < environment < region."""
    found: tuple[str | None, KeyPath] = (None, ())
    if spec.version is not None:
        found = (spec.version, (*spec.path, "version"))
    for owner, overrides in ((env.path, env.unit_overrides), (region.path, region.unit_overrides)):
        override = overrides.get(spec.name)
        if isinstance(override, Mapping) and override.get("version") is not None:
            found = (str(override["version"]), (*owner, "units", spec.name, "version"))
    return found


def _unit_tags(spec: UnitSpec, env: Environment, region: Region, module: Module) -> dict[str, str]:
    """The unit's own tags (unit < environment < region) plus ManagedByModule; empty when
    the unit declares none anywhere (then tfgen adds no tags input)."""
    tags = dict(spec.tags)
    for overrides in (env.unit_overrides, region.unit_overrides):
        override = overrides.get(spec.name)
        if isinstance(override, Mapping):
            tags.update(override.get("tags") or {})
    if tags:
        tags["ManagedByModule"] = module.id
    return tags


def _module_id(spec: UnitSpec, env: Environment, region: Region) -> str:
    """The catalog module of this placement, later wins: unit < environment < region."""
    module = spec.module
    for overrides in (env.unit_overrides, region.unit_overrides):
        override = overrides.get(spec.name)
        if isinstance(override, Mapping) and override.get("module") is not None:
            module = str(override["module"])
    return module


def _placed(spec: UnitSpec, env: Environment, region: Region) -> bool:
    if spec.environments is not None and env.name not in spec.environments:
        return False
    if spec.regions is not None and region.name not in spec.regions:
        return False
    return env.unit_overrides.get(spec.name) is not False and region.unit_overrides.get(spec.name) is not False


def build_project(root: Path, doc: Document, modules: Mapping[str, Module]) -> tuple[Project, list[Diagnostic]]:
    """Build the model from a schema-valid document; reference errors are returned."""
    data = doc.data
    errors: list[Diagnostic] = []
    sizing = data.get("sizing") or {}
    defaults = data.get("defaults") or {}
    environments = tuple(
        _environment(name, raw, defaults, sizing, errors, doc) for name, raw in data["environments"].items()
    )
    specs = tuple(
        UnitSpec(
            name=name,
            module=raw["module"],
            description=raw.get("description", ""),
            environments=tuple(raw["environments"]) if "environments" in raw else None,
            regions=tuple(raw["regions"]) if "regions" in raw else None,
            inputs=raw.get("inputs") or {},
            path=("units", name),
            version=str(raw["version"]) if raw.get("version") is not None else None,
            tags=raw.get("tags") or {},
        )
        for name, raw in data["units"].items()
    )
    units: list[Unit] = []
    # Units with the same overrides share one merged mapping (read-only), so that
    # thousands of units in regions without overrides cost one merge, not thousands.
    merged: dict[tuple[str, int, int], Mapping[str, Any]] = {}
    for env in environments:
        for region in env.regions:
            for spec in specs:
                module = modules.get(_module_id(spec, env, region))
                if module is None or not _placed(spec, env, region):
                    continue
                env_inputs = _override_inputs(env.unit_overrides.get(spec.name))
                region_inputs = _override_inputs(region.unit_overrides.get(spec.name))
                key = (spec.name, id(env_inputs) if env_inputs else 0, id(region_inputs) if region_inputs else 0)
                overrides = merged.get(key)
                if overrides is None:
                    overrides = merged[key] = deep_merge(deep_merge(spec.inputs, env_inputs), region_inputs)
                tags = _unit_tags(spec, env, region, module)
                if tags:
                    overrides = deep_merge(overrides, {"tags": tags})
                version, version_path = _promoted_version(spec, env, region)
                if version is not None and version == module.version:
                    version, version_path = None, ()  # the catalog's own version: nothing promoted
                units.append(Unit(spec, module, env, region, overrides, version, version_path))
    project = Project(
        root=root,
        document=doc,
        name=data["project"]["name"],
        tags=data["project"].get("tags") or {},
        terraform=data.get("terraform") or {},
        state=data["state"],
        sizing=sizing,
        environments=environments,
        unit_specs=specs,
        modules=dict(modules),
        units=tuple(units),
    )
    wiring, wiring_errors = resolve_dependencies(project)
    object.__setattr__(project, "wiring", wiring)
    return project, errors + wiring_errors


def relative_path(target: str, start: str) -> str:
    """``posixpath.relpath`` for two clean relative paths below the same root (no ``.``,
    ``..`` or empty parts, which the schema guarantees for every directory name),
    without the file-system lookups of the current directory it makes each call."""
    to, here = target.split("/"), start.split("/")
    common = 0
    for a, b in zip(to, here, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + to[common:]) or "."


def resolve_dependencies(project: Project) -> tuple[dict[tuple[str, str, str], tuple[Wiring, ...]], list[Diagnostic]]:
    """Each placed unit's dependencies, resolved to placed units; misses are errors.

    A dependency on a unit nobody declares, or on one whose catalog file could not be
    loaded, is not reported here: the checks and the catalog loader report it once."""
    wiring: dict[tuple[str, str, str], tuple[Wiring, ...]] = {}
    errors: list[Diagnostic] = []
    doc = project.document
    placeable = {s.name for s in project.unit_specs if s.module in project.modules}
    for unit in project.units:
        resolved: list[Wiring] = []
        for dep in unit.module.dependencies:
            region = dep.region or unit.region.name
            target = project.unit((unit.environment.name, region, dep.unit))
            if target is None:
                if dep.unit not in placeable:
                    continue
                declared = unit.module.document.locate((*dep.path, "unit"))
                errors.append(
                    Diagnostic(
                        f"unit '{unit.name}' depends on '{dep.unit}' (dependency '{dep.name}' in {declared}), "
                        f"which is not deployed in {unit.environment.name}/{region}",
                        doc.locate(unit.spec.path, key=True),
                        unit.spec.path,
                        rule="dependency-missing",
                        hint=f"deploy '{dep.unit}' there, or limit '{unit.name}' with environments:/regions:",
                    )
                )
                continue
            relative = relative_path(target.directory, unit.directory)
            resolved.append(Wiring(dep, target, relative))
        wiring[unit.key] = tuple(resolved)
    return wiring, errors
