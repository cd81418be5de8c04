"""The project model: frozen dataclasses built from schema-valid documents.

All merging lives here, and the merge orders are declared once, as data
(:data:`UNIT_INPUTS`, :data:`SETTINGS`, :data:`SIZING_OVERRIDES`): the model folds the
values found at those places, and provenance (``tfgen explain``) folds the same places
with their YAML positions, so the two cannot drift apart. Placement (which unit is
deployed where) and the locals of env.hcl, region.hcl and the project live here too.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ..errors import ArgumentError, ArgumentProblem, Diagnostic, KeyPath, Location
from . import layout
from .layout import Scope
from .loader import Document
from .modules.sources import parse_source, pin_of, pinned, promoted
from .values import HclExpr, dependencies_named, dependency_expression, expressions, local_references

Inputs = dict[str, Any]
Key = tuple[str, str, str]  # (environment, region, unit)


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


# --- the merge orders, declared once ------------------------------------------------

T = TypeVar("T")


@dataclass(frozen=True)
class Layer:
    """One place that sets values in a merge order: a key path in environments.yaml
    (or, for *catalog*, in the unit's catalog file) with ``{unit}``, ``{env}`` and
    ``{region}`` standing for the names of the place asked about."""

    kind: str  # catalog | unit | defaults | environment | region | tenant
    path: tuple[str, ...]
    catalog: bool = False

    @cached_property
    def uses_tenant(self) -> bool:
        """Whether the path names the tenant (``{tenant}``): a layer only tenant units have."""
        return "{tenant}" in self.path

    @cached_property
    def uses(self) -> tuple[bool, bool, bool]:
        """Whether the path names the unit, the environment, the region: the names that
        tell this layer's places apart."""
        return ("{unit}" in self.path, "{env}" in self.path, "{region}" in self.path)

    def place(self, *, unit: str = "", env: str = "", region: str = "") -> tuple[str, str, str]:
        """The names that tell this layer's places apart (the others blank): a cheap key
        for remembering what was read at a place."""
        uses_unit, uses_env, uses_region = self.uses
        return (unit if uses_unit else "", env if uses_env else "", region if uses_region else "")

    def key_path(self, *, unit: str = "", env: str = "", region: str = "", tenant: str = "") -> tuple[str, ...]:
        return tuple(
            unit if part == "{unit}" else env if part == "{env}" else region if part == "{region}"
            else tenant if part == "{tenant}" else part
            for part in self.path
        )


@dataclass(frozen=True)
class Merge:
    """Values merged in order, later wins (maps merge deeply, anything else replaces).
    A part that is a Merge of its own is merged first and then counts as one value:
    ``defaults`` merge under an environment before the environment goes over the unit."""

    parts: tuple[Layer | Merge, ...]

    @cached_property
    def layers(self) -> tuple[Layer, ...]:
        """Every layer, in order."""
        return tuple(layer for part in self.parts for layer in (part.layers if isinstance(part, Merge) else (part,)))

    def combine(self, read: Callable[[Layer], T], merge: Callable[[T, T], T]) -> T:
        """The merged value: *read* gives each layer's value, *merge* puts one over another."""
        values = [part.combine(read, merge) if isinstance(part, Merge) else read(part) for part in self.parts]
        result = values[0]
        for value in values[1:]:
            result = merge(result, value)
        return result


_DEFAULTS_UNDER_ENVIRONMENT = Merge(
    (
        Layer("defaults", ("defaults", "units", "{unit}", "inputs")),
        Layer("environment", ("environments", "{env}", "units", "{unit}", "inputs")),
    )
)
#: What a unit's own terragrunt.hcl overrides: unit < (defaults < environment) < region
#: < tenant (a per_tenant unit's instance: tenants.<tenant>.units; nothing for shared units).
UNIT_OVERRIDES = Merge(
    (
        Layer("unit", ("units", "{unit}", "inputs")),
        _DEFAULTS_UNDER_ENVIRONMENT,
        Layer("region", ("environments", "{env}", "regions", "{region}", "units", "{unit}", "inputs")),
        Layer("tenant", ("tenants", "{tenant}", "units", "{unit}", "inputs")),
    )
)
#: A unit's tags, merged over its ``tags`` input with ManagedByModule (Unit.tags).
UNIT_TAGS = Merge(
    (
        Layer("unit", ("units", "{unit}", "tags")),
        Merge(
            (
                Layer("defaults", ("defaults", "units", "{unit}", "tags")),
                Layer("environment", ("environments", "{env}", "units", "{unit}", "tags")),
            )
        ),
        Layer("region", ("environments", "{env}", "regions", "{region}", "units", "{unit}", "tags")),
        Layer("tenant", ("tenants", "{tenant}", "units", "{unit}", "tags")),
    )
)
#: Every input of a unit: the catalog's inputs, then the overrides.
UNIT_INPUTS = Merge((Layer("catalog", ("inputs",), catalog=True), UNIT_OVERRIDES))
#: local.env.settings: defaults < environment.
ENV_SETTINGS = Merge(
    (Layer("defaults", ("defaults", "settings")), Layer("environment", ("environments", "{env}", "settings")))
)
#: local.region.settings: the environment's settings < region.
REGION_SETTINGS = Merge((ENV_SETTINGS, Layer("region", ("environments", "{env}", "regions", "{region}", "settings"))))
#: local.tenant.settings: the region's settings < the tenant's.
TENANT_SETTINGS = Merge((REGION_SETTINGS, Layer("tenant", ("tenants", "{tenant}", "settings"))))
#: local.env.sizing: the sizing tier's values, then these, key by key (no deep merge).
SIZING_OVERRIDES = Merge(
    (
        Layer("defaults", ("defaults", "sizing_overrides")),
        Layer("environment", ("environments", "{env}", "sizing_overrides")),
    )
)


def merged(order: Merge, read: Callable[[Layer], Mapping[str, Any]]) -> dict[str, Any]:
    """*order* merged over the values *read* gives for its layers."""

    def over(base: Mapping[str, Any], override: Mapping[str, Any]) -> Mapping[str, Any]:
        return deep_merge(base, override)

    result: Mapping[str, Any] = order.combine(read, over)
    return dict(result)


def _reader(
    data: Any, *, unit: str = "", env: str = "", region: str = "", tenant: str = ""
) -> Callable[[Layer], Mapping[str, Any]]:
    """Reads each layer's mapping for one unit, environment, region (and tenant) from *data*."""

    def read(layer: Layer) -> Mapping[str, Any]:
        return mapping_at(data, layer.key_path(unit=unit, env=env, region=region, tenant=tenant))

    return read


def value_at(data: Any, path: KeyPath) -> Any:
    """The value at *path* inside loaded data, None when a step is missing."""
    for part in path:
        if data is None:  # most units have no override: skip the (slow) Mapping check
            return None
        # dict first: it is what the loader builds, and much cheaper to test than Mapping
        if isinstance(part, str) and (isinstance(data, dict) or isinstance(data, Mapping)):  # noqa: SIM101
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def mapping_at(data: Any, path: KeyPath) -> Mapping[str, Any]:
    """The mapping at *path*, empty when it is absent or not a mapping (``false``)."""
    value = value_at(data, path) if data is not None else None
    if value is None:
        return {}
    return value if type(value) is dict or isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class Dependency:
    name: str  # the dependency block label
    unit: str
    region: str | None  # None: the depending unit's own region
    outputs: Mapping[str, str | tuple[str, ...]]  # module input <- output(s)
    mock_outputs: Mapping[str, Any]
    path: KeyPath  # where its target (``unit:``) is set, in *document*
    #: The file that sets its target: the catalog file, or environments.yaml for a
    #: dependency a unit (or an override) adds or retargets.
    document: Document = field(repr=False, compare=False)

    def locate(self, *rest: str | int, key: bool = False) -> Location:
        return self.document.locate((*self.path, *rest), key=key)

    @property
    def file(self) -> str:
        return self.document.file


@dataclass(frozen=True)
class ProviderConfig:
    """One entry of a catalog module's ``providers:``: a provider its units configure in
    their generated ``providers.tf`` (``kubernetes``), or an alias of one (``aws.us_east_1``)."""

    key: str  # as written: kubernetes, aws.us_east_1
    name: str  # the provider's local name
    alias: str | None
    source: str | None  # an alias takes its provider's
    version: str | None
    config: Mapping[str, Any]  # arguments and nested blocks, literals or HclExpr
    path: KeyPath  # ("providers", key): of the config itself, (..., "config") for a provider

    @property
    def address(self) -> str:
        return self.key


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
    #: The input that receives a unit's tags; None: the module takes no tags.
    tags_input: str | None = "tags"
    #: Whether the catalog file names tags_input itself (then no lock is needed to trust it).
    tags_input_declared: bool = False
    #: Providers (and aliases) its units configure beside the generated aws.
    providers: tuple[ProviderConfig, ...] = ()

    @property
    def file(self) -> str:
        return self.document.file

    @cached_property
    def protection_inputs(self) -> tuple[str, ...]:
        """Top-level catalog inputs that follow the environment's deletion policy (their
        expressions read ``local.env.deletion_protection``): a unit with a policy of its
        own carries them in its leaf, where local.env holds the unit's policy."""
        return tuple(
            name
            for name, value in self.inputs.items()
            if any(ref[:2] == ("env", "deletion_protection") for _p, e in expressions(value)
                   for ref in local_references(e.text))
        )

    @cached_property
    def dependency_reads(self) -> frozenset[str]:
        """The dependency blocks the catalog inputs and provider configurations read
        (``dependency.<name>...``)."""
        values = [self.inputs, *(p.config for p in self.providers)]
        return frozenset(name for v in values for _p, e in expressions(v) for name in dependencies_named(e.text))

    def __repr__(self) -> str:  # short: a script that prints a model must not print every input
        return f"<Module {self.id} {self.source_url}>"

    @property
    def source_url(self) -> str:
        """The Terraform source with its version pinned (?version= or ?ref=)."""
        return pinned(self.source, self.version)

    @property
    def envcommon_path(self) -> str:
        return layout.envcommon_file(self.category, self.name)


@dataclass(frozen=True)
class Region:
    name: str
    vpc_cidr: str
    azs: tuple[str, ...]
    role: str | None
    settings: Mapping[str, Any]  # environment settings deep-merged with the region's
    unit_overrides: Mapping[str, Any]
    path: KeyPath
    #: Layers turned off here: layer -> where (the environment's or the region's layers:).
    layers_off: Mapping[str, KeyPath] = field(default_factory=dict)

    @property
    def zones(self) -> tuple[str, ...]:
        return tuple(f"{self.name}{suffix}" for suffix in self.azs)

    def __repr__(self) -> str:
        return f"<Region {self.name} {self.vpc_cidr}>"


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
    role_arn: str | None = None  # the IAM role its backend and provider assume, placeholders filled in
    tags: Mapping[str, str] = field(default_factory=dict)  # defaults < environment
    role_pattern: str = ""  # role_arn as written (placeholders), for tenants with their own account

    def region(self, name: str) -> Region | None:
        return next((r for r in self.regions if r.name == name), None)

    def __repr__(self) -> str:
        return f"<Environment {self.name}: {', '.join(r.name for r in self.regions) or 'no regions'}>"


@dataclass(frozen=True)
class Tenant:
    """A tenant (``tenants.<name>``): its own instance of every per_tenant unit in each
    environment and region where it exists, isolated from every other tenant's."""

    name: str
    environments: tuple[str, ...] | None  # None: every environment
    regions: tuple[str, ...] | None  # None: every region of those
    account_id: str | None  # None: the environment's
    role_arn: str | None  # its own role pattern; None: the environment's, with the tenant's account
    settings: Mapping[str, Any]  # its own (TENANT_SETTINGS merges them over the region's)
    tags: Mapping[str, str]
    unit_overrides: Mapping[str, Any]
    path: KeyPath

    def exists_in(self, env: str, region: str) -> bool:
        return (self.environments is None or env in self.environments) and (
            self.regions is None or region in self.regions
        )

    def account(self, env: Environment) -> str:
        """The account its units deploy into in *env*: its own, else the environment's."""
        return self.account_id if self.account_id is not None else env.account_id

    def role(self, env: Environment, project: str) -> str | None:
        """The role its units assume in *env* (None where environments assume no role)."""
        if env.role_arn is None:
            return None
        if self.role_arn is not None:
            return self.role_arn.replace("{account_id}", self.account(env)).replace("{env}", env.name).replace(
                "{project}", project).replace("{tenant}", self.name)
        if self.account_id is None:
            return env.role_arn
        return _role_arn(env.role_pattern, self.account_id, env.name, project)

    def __repr__(self) -> str:
        return f"<Tenant {self.name}>"


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
    previous: str | None = None  # NAME or LAYER/NAME when its state was created
    layer: str | None = None  # its own layer; None: the catalog module's
    #: Its own dependencies (raw mappings by name): retargeting the catalog's or new ones.
    dependencies: Mapping[str, Any] = field(default_factory=dict)
    deletion_protection: bool | None = None  # None: the environment's
    per_tenant: bool = False  # one instance per tenant, below tenants/<tenant>/

    def __repr__(self) -> str:
        return f"<UnitSpec {self.name} ({self.module})>"


@dataclass(frozen=True)
class Unit:
    """A unit placed in one environment and region: one leaf terragrunt.hcl."""

    spec: UnitSpec
    module: Module
    environment: Environment
    region: Region
    overrides: Mapping[str, Any]  # the UNIT_OVERRIDES layers, merged
    layers: tuple[Mapping[str, Any], ...] = field(repr=False, compare=False)  # each UNIT_OVERRIDES layer
    #: A version promoted for this unit (unit < environment < region), None: the catalog's.
    version: str | None = None
    version_path: KeyPath = ()  # where that version is set in environments.yaml
    #: The unit's tags (unit < environment < region) with ManagedByModule, merged over
    #: any ``tags`` input; empty when the unit declares none.
    tags: Mapping[str, str] = field(default_factory=dict)
    layer: str = ""  # its directory's layer: the unit's own, else the catalog module's
    #: Its dependencies: the catalog module's, retargeted or extended by the unit and its
    #: overrides (UNIT_DEPENDENCIES), in declaration order.
    dependencies: tuple[Dependency, ...] = ()
    #: Its deletion policy: the environment's unless the unit (or an override) sets one.
    deletion_protection: bool = False
    protection_path: KeyPath = ()  # where the unit's own deletion_protection is set; () the environment's
    #: Where its state object already is (an override's state: bucket and key; tfgen
    #: import), region over environment; empty: root.hcl's bucket and key.
    kept_state: Mapping[str, str] = field(default_factory=dict)
    #: The tenant of a per_tenant unit's instance; None: a shared unit.
    tenant: Tenant | None = None

    # key, instance and directory are read hundreds of thousands of times in a large
    # project (checks, wiring, planning): worked out once, when the unit is made (the
    # fields they derive from are frozen; replace() makes them anew). Set in the same
    # order for every unit, they keep the instances' shared-key dicts (functools.
    # cached_property would add them in the order they are first read, and take a lock).
    if TYPE_CHECKING:
        #: (environment, region, unit); a tenant's instance is ``<tenant>/<unit>``.
        key: ClassVar[tuple[str, str, str]]
        #: The unit's name, ``<tenant>/<unit>`` for a tenant's instance.
        instance: ClassVar[str]
        #: Its directory in the tree.
        directory: ClassVar[str]

    def __post_init__(self) -> None:
        tenant = self.tenant.name if self.tenant is not None else None
        name = self.spec.name
        instance = name if tenant is None else f"{tenant}/{name}"
        object.__setattr__(self, "instance", instance)
        object.__setattr__(self, "key", (self.environment.name, self.region.name, instance))
        object.__setattr__(
            self, "directory",
            layout.unit_directory(self.environment.name, self.region.name, self.layer, name, tenant=tenant),
        )

    @property
    def pin(self) -> str | None:
        """The version this unit deploys: its own override, else the catalog's."""
        return self.version if self.version is not None else self.module.version

    @property
    def source_url(self) -> str:
        """The pinned source of this unit (the catalog's unless a version is promoted)."""
        return promoted(self.module.source, self.version) if self.version is not None else self.module.source_url

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tenant_name(self) -> str | None:
        return self.tenant.name if self.tenant is not None else None

    @property
    def address(self) -> str:
        return "/".join(self.key)

    def __repr__(self) -> str:
        return f"<Unit {self.address} ({self.module.id})>"

    @property
    def state_directory(self) -> str:
        """Where its state key lives: its directory, or where it was when its state was
        created (``previous``), so that renames and moves keep the state."""
        previous = self.spec.previous
        if previous is None:
            return self.directory
        layer, _, name = previous.rpartition("/")
        return layout.unit_directory(
            self.environment.name, self.region.name, layer or self.layer, name,
            tenant=self.tenant.name if self.tenant is not None else None,
        )

    def effective_inputs(self) -> Inputs:
        """Every input as Terraform finally sees it: UNIT_INPUTS, merged."""
        values = dict(zip(UNIT_INPUTS.layers, (self.module.inputs, *self.layers), strict=True))
        found = merged(UNIT_INPUTS, values.__getitem__)
        if self.tags and self.module.tags_input is not None:
            found = deep_merge(found, {self.module.tags_input: dict(self.tags)})
        return found

    @property
    def own_protection(self) -> bool:
        """Whether the unit's deletion policy differs from its environment's."""
        return self.deletion_protection != self.environment.deletion_protection

    def leaf_inputs(self) -> Inputs:
        """Overridden top-level inputs, fully merged: Terragrunt merges the included
        envcommon inputs shallowly, so the leaf must carry the whole merged value. A unit
        with its own deletion policy also carries the catalog inputs that follow it."""
        effective = self.effective_inputs()
        found = {name: effective[name] for name in self.overrides}
        if self.own_protection:
            for name in self.module.protection_inputs:
                found.setdefault(name, effective[name])
        return found


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
    style: str = "classic"  # classic | stacks: which tree the same model renders as
    stacks: Mapping[str, Any] = field(default_factory=dict)  # options of style: stacks
    #: Units placed but for their layer being off there (``layers: {L: false}``): not
    #: rendered; the settings they read still count as read.
    dormant: tuple[Unit, ...] = ()
    layer_order: str = "free"  # free | strict: a unit may depend only on its own or earlier layers
    tenants: tuple[Tenant, ...] = ()

    def environment(self, name: str) -> Environment | None:
        return next((e for e in self.environments if e.name == name), None)

    def tenant(self, name: str) -> Tenant | None:
        return next((t for t in self.tenants if t.name == name), None)

    def unit(self, key: tuple[str, str, str]) -> Unit | None:
        return self._units_by_key().get(key)

    def __repr__(self) -> str:
        return (f"<Project {self.name or self.root.name}: {len(self.environments)} environments, "
                f"{len(self.units)} units from {len(self.modules)} modules>")

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
            document=doc,
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
        tags_input=data.get("tags_input", "tags"),
        tags_input_declared="tags_input" in data,
        providers=tuple(_provider_config(key, spec) for key, spec in (data.get("providers") or {}).items()),
    )


def _provider_config(key: str, spec: Mapping[str, Any]) -> ProviderConfig:
    """``NAME: {source, version, config}`` or ``NAME.ALIAS: {argument: value ...}``."""
    name, _dot, alias = key.partition(".")
    if alias:
        return ProviderConfig(key, name, alias, None, None, dict(spec), ("providers", key))
    version = spec.get("version")
    return ProviderConfig(key, name, None, spec.get("source"), None if version is None else str(version),
                          dict(spec.get("config") or {}), ("providers", key, "config"))


def _environment(
    name: str,
    raw: Mapping[str, Any],
    defaults: Mapping[str, Any],
    sizing: Mapping[str, Mapping[str, Any]],
    errors: list[Diagnostic],
    doc: Document,
    project_name: str = "",
) -> Environment:
    own = deep_merge(defaults, raw)  # the environment's own keys over defaults
    path: KeyPath = ("environments", name)
    tier = own.get("sizing")
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
    data = doc.data
    values.update(merged(SIZING_OVERRIDES, _reader(data, env=name)))
    settings = merged(ENV_SETTINGS, _reader(data, env=name))
    env_off = {layer: (*path, "layers", layer) for layer, on in (raw.get("layers") or {}).items() if on is False}
    regions = tuple(
        Region(
            name=region_name,
            vpc_cidr=region["vpc_cidr"],
            azs=tuple(region["azs"]),
            role=region.get("role"),
            settings=merged(REGION_SETTINGS, _reader(data, env=name, region=region_name)),
            unit_overrides=region.get("units") or {},
            path=(*path, "regions", region_name),
            layers_off=_layers_off(env_off, region.get("layers") or {}, (*path, "regions", region_name, "layers")),
        )
        for region_name, region in raw["regions"].items()
    )
    return Environment(
        name=name,
        account_id=raw["account_id"],
        sizing_tier=tier,
        sizing=values,
        deletion_protection=bool(own.get("deletion_protection", False)),
        multi_az=bool(own.get("multi_az", False)),
        settings=settings,
        regions=regions,
        unit_overrides=own.get("units") or {},
        path=path,
        role_arn=_role_arn(own.get("role_arn"), raw["account_id"], name, project_name),
        tags=own.get("tags") or {},
        role_pattern=own.get("role_arn") or "",
    )


def _layers_off(
    env_off: Mapping[str, KeyPath], own: Mapping[str, bool], where: KeyPath
) -> dict[str, KeyPath]:
    """The layers off in a region: the environment's, then the region's own (``true``
    turns one of the environment's back on there)."""
    found = dict(env_off)
    for layer, on in own.items():
        if on is False:
            found[layer] = (*where, layer)
        else:
            found.pop(layer, None)
    return found


def _role_arn(pattern: str | None, account_id: str, env: str, project: str) -> str | None:
    if pattern is None:
        return None
    return pattern.replace("{account_id}", account_id).replace("{env}", env).replace("{project}", project)


def _units_of(
    data: Any, layer: Layer, env: str, region: str, tenant: str = ""
) -> tuple[Mapping[str, Any], tuple[str, ...]]:
    """The mapping of units a layer holds in *env*/*region* (and *tenant*: a shared unit
    has no tenant layer), and the path below a unit."""
    cut = layer.path.index("{unit}")
    if layer.uses_tenant and not tenant:
        return {}, layer.path[cut + 1 :]
    return mapping_at(data, layer.key_path(env=env, region=region, tenant=tenant)[:cut]), layer.path[cut + 1 :]


def _overrides(
    spec: UnitSpec, env: Environment, region: Region, tenant: Tenant | None = None
) -> Iterator[tuple[KeyPath, Mapping[str, Any]]]:
    """The unit's override mappings here, in merge order (environment, with defaults folded
    in, then region, then a tenant's instance's tenant), each with the path of the mapping
    that holds it."""
    owners = [(env.path, env.unit_overrides), (region.path, region.unit_overrides)]
    if tenant is not None:
        owners.append((tenant.path, tenant.unit_overrides))
    for owner, overrides in owners:
        override = overrides.get(spec.name)
        if isinstance(override, Mapping):
            yield owner, override


#: A unit's override mappings in one place, in merge order (_overrides), found once.
Owned = Sequence[tuple[KeyPath, Mapping[str, Any]]]


def _promoted_version(spec: UnitSpec, owned: Owned) -> tuple[str | None, KeyPath]:
    """The version set for this unit, later wins: unit < environment < region."""
    found: tuple[str | None, KeyPath] = (None, ())
    if spec.version is not None:
        found = (spec.version, (*spec.path, "version"))
    for owner, override in owned:
        if override.get("version") is not None:
            found = (str(override["version"]), (*owner, "units", spec.name, "version"))
    return found


def _kept_state(owned: Owned) -> dict[str, str]:
    """The state bucket and key an override keeps for this unit, later wins: environment < region."""
    found: dict[str, str] = {}
    for _owner, override in owned:
        found.update(override.get("state") or {})
    return found


def _unit_tags(layers: Sequence[Mapping[str, Any]], module: Module) -> dict[str, str]:
    """The unit's tags from the values of UNIT_TAGS's layers, plus ManagedByModule; empty
    when the unit declares none anywhere (then tfgen adds no tags input)."""
    if not any(layers):
        return {}
    values = dict(zip(UNIT_TAGS.layers, layers, strict=True))
    tags = merged(UNIT_TAGS, values.__getitem__)
    if tags:
        tags["ManagedByModule"] = module.id
    return tags


def _protection(spec: UnitSpec, env: Environment, owned: Owned) -> tuple[bool, KeyPath]:
    """The unit's deletion policy here, later wins: environment < unit < environment's
    override < region's override; with where the unit's own is set (() the environment's)."""
    found: tuple[bool, KeyPath] = (env.deletion_protection, ())
    if spec.deletion_protection is not None:
        found = (spec.deletion_protection, (*spec.path, "deletion_protection"))
    for owner, override in owned:
        if override.get("deletion_protection") is not None:
            found = (bool(override["deletion_protection"]), (*owner, "units", spec.name, "deletion_protection"))
    return found


#: Where a unit's own dependencies are written, in merge order after the catalog's:
#: the unit, then its environment override (defaults folded in), then its region override.
def _dependency_layers(spec: UnitSpec, owned: Owned) -> list[tuple[KeyPath, Mapping[str, Any]]]:
    found: list[tuple[KeyPath, Mapping[str, Any]]] = []
    if spec.dependencies:
        found.append(((*spec.path, "dependencies"), spec.dependencies))
    for owner, override in owned:
        own = override.get("dependencies")
        if isinstance(own, Mapping) and own:
            found.append(((*owner, "units", spec.name, "dependencies"), own))
    return found


def _outputs(raw: Mapping[str, Any]) -> dict[str, str | tuple[str, ...]]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def merge_dependencies(
    module: Module, layers: Sequence[tuple[KeyPath, Mapping[str, Any]]], doc: Document, errors: list[Diagnostic]
) -> tuple[Dependency, ...]:
    """The catalog's dependencies with a unit's own merged over them, by name: a named
    one is retargeted (its ``unit``/``region``) and its outputs and mocks extended; a new
    name adds a dependency (it must say which ``unit``); ``false`` drops one."""
    found = {d.name: d for d in module.dependencies}
    for where, mapping in layers:
        for name, raw in mapping.items():
            path = (*where, name)
            if raw is False:
                found.pop(name, None)
                continue
            current = found.get(name)
            if current is None and "unit" not in raw:
                known = ", ".join(d.name for d in module.dependencies) or "none"
                errors.append(
                    Diagnostic(
                        f"dependency '{name}' is not one of {module.id}'s (its dependencies: {known}): "
                        "a dependency of the unit alone says which unit it needs",
                        doc.locate(path, key=True),
                        path,
                        rule="dependency-missing",
                        hint=f"add unit: <name> under {'.'.join(map(str, path))}",
                    )
                )
                continue
            retargets = current is None or "unit" in raw or "region" in raw
            found[name] = Dependency(
                name=name,
                unit=raw.get("unit", current.unit if current else ""),
                region=raw.get("region", current.region if current else None),
                outputs={**(current.outputs if current else {}), **_outputs(raw.get("outputs") or {})},
                mock_outputs=deep_merge(current.mock_outputs if current else {}, raw.get("mock_outputs") or {}),
                path=path if retargets or current is None else current.path,
                document=doc if retargets or current is None else current.document,
            )
    return tuple(found.values())


def _module_id(spec: UnitSpec, env: Environment, region: Region, owned: Owned | None = None) -> str:
    """The catalog module of this placement, later wins: unit < environment < region."""
    module = spec.module
    for _owner, override in owned if owned is not None else _overrides(spec, env, region):
        if override.get("module") is not None:
            module = str(override["module"])
    return module


def why_not_placed(
    spec: UnitSpec, env: Environment, region: Region, layer: str = "", *, check_layer: bool = True,
    tenant: Tenant | None = None,
) -> str:
    """Why the unit *spec* (of *layer*, when known) is not deployed in *env*/*region* (for
    *tenant*, that tenant's instance); "" when it is."""
    if tenant is not None:
        if not tenant.exists_in(env.name, region.name):
            return f"tenant {tenant.name} does not exist in {env.name}/{region.name} (tenants.{tenant.name})"
        if tenant.unit_overrides.get(spec.name) is False:
            return f"tenants.{tenant.name}.units.{spec.name} is false"
    if spec.environments is not None and env.name not in spec.environments:
        return f"units.{spec.name}.environments is [{', '.join(spec.environments)}]"
    if spec.regions is not None and region.name not in spec.regions:
        return f"units.{spec.name}.regions is [{', '.join(spec.regions)}]"
    if env.unit_overrides.get(spec.name) is False:
        return f"environments.{env.name}.units.{spec.name} is false"
    if region.unit_overrides.get(spec.name) is False:
        return f"environments.{env.name}.regions.{region.name}.units.{spec.name} is false"
    off = region.layers_off.get(layer or spec.layer or "") if check_layer else None
    if off is not None:
        return f"{'.'.join(map(str, off))} is false (layer {off[-1]} is off there)"
    return ""


def unit_layer(spec: UnitSpec, env: Environment, region: Region, modules: Mapping[str, Module]) -> str:
    """The layer of *spec* in *env*/*region*: its own, else its catalog module's; "" if unknown."""
    if spec.layer is not None:
        return spec.layer
    module = modules.get(_module_id(spec, env, region))
    return module.layer if module is not None else ""


def build_project(root: Path, doc: Document, modules: Mapping[str, Module]) -> tuple[Project, list[Diagnostic]]:
    """Build the model from a schema-valid document; reference errors are returned."""
    data = doc.data
    errors: list[Diagnostic] = []
    sizing = data.get("sizing") or {}
    defaults = data.get("defaults") or {}
    environments = tuple(
        _environment(name, raw, defaults, sizing, errors, doc, data["project"]["name"])
        for name, raw in data["environments"].items()
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
            previous=raw.get("previous"),
            layer=raw.get("layer"),
            dependencies=raw.get("dependencies") or {},
            deletion_protection=raw.get("deletion_protection"),
            per_tenant=bool(raw.get("per_tenant", False)),
        )
        for name, raw in data["units"].items()
    )
    tenants = tuple(
        Tenant(
            name=name,
            environments=tuple(raw["environments"]) if "environments" in raw else None,
            regions=tuple(raw["regions"]) if "regions" in raw else None,
            account_id=raw.get("account_id"),
            role_arn=raw.get("role_arn"),
            settings=raw.get("settings") or {},
            tags=raw.get("tags") or {},
            unit_overrides=raw.get("units") or {},
            path=("tenants", name),
        )
        for name, raw in (data.get("tenants") or {}).items()
    )
    units: list[Unit] = []
    dormant: list[Unit] = []
    # Units with the same overrides share one merged mapping (read-only), so that
    # thousands of units in regions without overrides cost one merge, not thousands.
    shared: dict[tuple[int, ...], Mapping[str, Any]] = {}
    # Likewise, units with the same own dependencies share one merged tuple.
    shared_dependencies: dict[tuple[str, tuple[int, ...]], tuple[Dependency, ...]] = {}
    # Each unit name's layers where no environment, region or tenant names it (_place).
    static: dict[tuple[str, str], tuple[tuple[Mapping[str, Any], ...], tuple[int, ...]]] = {}
    # Each environment's units' fields by name, for the regions that do not name them (_place).
    alike: dict[str, dict[str, dict[str, Any] | None]] = {}
    shared_specs = [s for s in specs if not s.per_tenant]
    tenant_specs = [s for s in specs if s.per_tenant]
    for env in environments:
        for region in env.regions:
            # Each place is a shared region, or one tenant in it (its per_tenant units).
            owners: list[tuple[Tenant | None, Sequence[UnitSpec]]] = [(None, shared_specs)]
            if tenant_specs:
                owners += [(tn, tenant_specs) for tn in tenants if tn.exists_in(env.name, region.name)]
            for tenant, owned_specs in owners:
                _place(owned_specs, env, region, tenant, data, doc, modules, errors, shared, shared_dependencies,
                       units, dormant, static, alike)
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
        style=data.get("style", "classic"),
        stacks=data.get("stacks") or {},
        dormant=tuple(dormant),
        layer_order=data.get("layer_order", "free"),
        tenants=tenants,
    )
    wiring, wiring_errors = resolve_dependencies(project)
    object.__setattr__(project, "wiring", wiring)
    return project, errors + wiring_errors


def _varies(layer: Layer) -> bool:
    """Whether *layer*'s values differ between environments, regions or tenants."""
    return layer.uses[1] or layer.uses[2] or layer.uses_tenant


def _layers_of(
    name: str, places: Sequence[tuple[Mapping[str, Any], KeyPath]]
) -> tuple[tuple[Mapping[str, Any], ...], tuple[int, ...]]:
    """Unit *name*'s mapping in each of *places* (_units_of), and their identities (0: empty)."""
    layers = tuple(mapping_at(found.get(name), rest) for found, rest in places)
    return layers, tuple(id(layer) if layer else 0 for layer in layers)


def _place(
    specs: Sequence[UnitSpec],
    env: Environment,
    region: Region,
    tenant: Tenant | None,
    data: Any,
    doc: Document,
    modules: Mapping[str, Module],
    errors: list[Diagnostic],
    shared: dict[tuple[int, ...], Mapping[str, Any]],
    shared_dependencies: dict[tuple[str, tuple[int, ...]], tuple[Dependency, ...]],
    units: list[Unit],
    dormant: list[Unit],
    static: dict[tuple[str, str], tuple[tuple[Mapping[str, Any], ...], tuple[int, ...]]],
    alike: dict[str, dict[str, dict[str, Any] | None]],
) -> None:
    """Places *specs* in *env*/*region* (for *tenant*: that tenant's instances)."""
    override_layers = UNIT_OVERRIDES.layers
    tag_layers = UNIT_TAGS.layers
    tenant_name = tenant.name if tenant is not None else ""
    # Each layer's path is <the units of a place>/<unit>/<rest>: the units mapping
    # is found once per region, then each unit costs one lookup per layer.
    places = [_units_of(data, layer, env.name, region.name, tenant_name) for layer in override_layers]
    # Units with an override here (most have none: their walk is skipped).
    overridden = env.unit_overrides.keys() | region.unit_overrides.keys()
    if tenant is not None:
        overridden |= tenant.unit_overrides.keys()
    tag_places = [_units_of(data, layer, env.name, region.name, tenant_name) for layer in tag_layers]
    # The layers of environments, regions and tenants that name some unit here: a unit
    # named in none of them has the same layers in every place (its own and the
    # defaults'), read once per unit name (*static*), not once per placement.
    varying = [found for (found, _), layer in zip(places, override_layers, strict=True) if found and _varies(layer)]
    varying_tags = [found for (found, _), layer in zip(tag_places, tag_layers, strict=True) if found and _varies(layer)]
    # A shared unit the region does not name (most units) is made alike in every region
    # of its environment: its fields are worked out once per (environment, unit) in
    # *alike*, and each region fills in only its own (region, key, directory).
    named_here = [found for (found, _), layer in zip([*places, *tag_places], [*override_layers, *tag_layers],
                                                      strict=True) if found and (layer.uses[2] or layer.uses_tenant)]
    named_here.append(region.unit_overrides)
    named = set().union(*named_here)
    in_env = alike.setdefault(env.name, {})
    for spec in specs:
        name = spec.name
        fields: dict[str, Any] | None
        if tenant is None and name not in named:
            if name in in_env:
                fields = in_env[name]
            else:
                fields = in_env[name] = _unit_fields(
                    spec, env, region, None, places, tag_places, overridden, varying, varying_tags, modules, doc,
                    errors, shared, shared_dependencies, static, regional=False,
                )
            if fields is None or (spec.regions is not None and region.name not in spec.regions):
                continue
        else:
            fields = _unit_fields(
                spec, env, region, tenant, places, tag_places, overridden, varying, varying_tags, modules, doc,
                errors, shared, shared_dependencies, static, regional=True,
            )
            if fields is None:
                continue
        unit = _new_unit(fields, region)
        (dormant if unit.layer in region.layers_off else units).append(unit)


#: Unit's fields in the order its __init__ sets them, then those __post_init__ sets.
_UNIT_FIELDS = (
    "spec", "module", "environment", "region", "overrides", "layers", "version", "version_path", "tags",
    "layer", "dependencies", "deletion_protection", "protection_path", "kept_state", "tenant",
)


def _new_unit(fields: Mapping[str, Any], region: Region) -> Unit:
    """Unit(**fields) in *region*, made without the dataclass's __init__ (a frozen
    dataclass sets each of its fields through object.__setattr__: five times the cost,
    51,200 times in a large project). The attributes go in in the same order as there,
    so that units keep sharing their attribute names' table."""
    unit: Unit = object.__new__(Unit)
    attributes = unit.__dict__
    for name, value in fields.items():
        attributes[name] = value
    attributes["region"] = region
    spec, env, tenant = fields["spec"], fields["environment"], fields["tenant"]
    tenant_name = tenant.name if tenant is not None else None
    instance = spec.name if tenant_name is None else f"{tenant_name}/{spec.name}"
    attributes["instance"] = instance
    attributes["key"] = (env.name, region.name, instance)
    attributes["directory"] = layout.unit_directory(env.name, region.name, fields["layer"], spec.name,
                                                    tenant=tenant_name)
    return unit


def _unit_fields(
    spec: UnitSpec,
    env: Environment,
    region: Region,
    tenant: Tenant | None,
    places: Sequence[tuple[Mapping[str, Any], KeyPath]],
    tag_places: Sequence[tuple[Mapping[str, Any], KeyPath]],
    overridden: Iterable[str] | Mapping[str, Any],
    varying: Sequence[Mapping[str, Any]],
    varying_tags: Sequence[Mapping[str, Any]],
    modules: Mapping[str, Module],
    doc: Document,
    errors: list[Diagnostic],
    shared: dict[tuple[int, ...], Mapping[str, Any]],
    shared_dependencies: dict[tuple[str, tuple[int, ...]], tuple[Dependency, ...]],
    static: dict[tuple[str, str], tuple[tuple[Mapping[str, Any], ...], tuple[int, ...]]],
    *,
    regional: bool,
) -> dict[str, Any] | None:
    """The fields of *spec*'s unit in *env*/*region* (the region's own left to
    _new_unit), None when it is not placed there. Not *regional*: only what the
    environment decides is asked (the caller checks ``spec.regions``), so that the
    fields hold for every region of *env* that does not name the unit."""
    name = spec.name
    owned = tuple(_overrides(spec, env, region, tenant)) if name in overridden else ()
    module = modules.get(_module_id(spec, env, region, owned))
    if module is None:
        return None
    layer = spec.layer if spec.layer is not None else module.layer
    if regional:
        if why_not_placed(spec, env, region, layer, check_layer=False, tenant=tenant):
            return None
    elif (spec.environments is not None and env.name not in spec.environments) or (
        env.unit_overrides.get(name) is False
    ):
        return None
    if any(name in found for found in varying):
        layers, key = _layers_of(name, places)
    else:
        same = static.get(("inputs", name))
        if same is None:
            same = static[("inputs", name)] = _layers_of(name, places)
        layers, key = same
    overrides = shared.get(key)
    if overrides is None:
        values = dict(zip(UNIT_OVERRIDES.layers, layers, strict=True))
        overrides = shared[key] = merged(UNIT_OVERRIDES, values.__getitem__)
    tags: Mapping[str, str]
    if any(name in found for found in varying_tags):
        tags = _unit_tags([mapping_at(found.get(name), rest) for found, rest in tag_places], module)
    else:
        same = static.get(("tags", name))
        if same is None:
            same = static[("tags", name)] = _layers_of(name, tag_places)
        tags = _unit_tags(same[0], module) if any(same[1]) else {}
    if tags and module.tags_input is not None:
        overrides = deep_merge(overrides, {module.tags_input: tags})
    elif module.tags_input is None:
        tags = {}  # the module takes no tags
    version, version_path = _promoted_version(spec, owned)
    if version is not None and version == module.version:
        version, version_path = None, ()  # the catalog's own version: nothing promoted
    dependencies = module.dependencies
    own = _dependency_layers(spec, owned)
    if own:
        memo = (module.id, tuple(id(m) for _, m in own))
        found_dependencies = shared_dependencies.get(memo)
        if found_dependencies is None:
            found_dependencies = shared_dependencies[memo] = merge_dependencies(module, own, doc, errors)
        dependencies = found_dependencies
    protection, protection_path = _protection(spec, env, owned)
    found = (
        spec, module, env, region, overrides, layers, version, version_path, tags,
        layer, dependencies, protection, protection_path, _kept_state(owned), tenant,
    )
    return dict(zip(_UNIT_FIELDS, found, strict=True))


def interface_key(unit: Unit) -> tuple[str, str | None]:
    """The key of *unit*'s module interface in Project.interfaces (source, version)."""
    return (unit.module.source, pin_of(parse_source(unit.module.source), unit.pin))


def with_module_interfaces(project: Project, interfaces: Mapping[tuple[str, str | None], Any]) -> Project:
    """*project* with the module interfaces known (a lock, local modules), and the unit
    tags of modules whose interface has no variable named by their tags_input dropped:
    Terraform would ignore such an input. Only units with tags are rebuilt."""
    project = replace(project, interfaces=interfaces)
    takes: dict[tuple[str, str | None], bool] = {}
    changed = False
    units: list[Unit] = []
    for unit in project.units:
        tags_input = unit.module.tags_input
        if unit.tags and tags_input is not None:
            key = interface_key(unit)
            if key not in takes:
                interface = interfaces.get(key)
                variables = getattr(interface, "variables", None)
                takes[key] = variables is None or tags_input in variables
            if not takes[key]:
                overrides = {k: v for k, v in unit.overrides.items() if k != tags_input}
                unit = replace(unit, overrides=overrides, tags={})
                changed = True
        units.append(unit)
    if not changed:
        return project
    project = replace(project, units=tuple(units))
    wiring, _errors = resolve_dependencies(project)  # reported once already, by build_project
    object.__setattr__(project, "wiring", wiring)
    return project


def resolve_dependencies(project: Project) -> tuple[dict[tuple[str, str, str], tuple[Wiring, ...]], list[Diagnostic]]:
    """Each placed unit's dependencies, resolved to placed units; misses are errors.

    A dependency on a unit nobody declares, or on one whose catalog file could not be
    loaded, is not reported here: the checks and the catalog loader report it once."""
    wiring: dict[tuple[str, str, str], tuple[Wiring, ...]] = {}
    errors: list[Diagnostic] = []
    doc = project.document
    placeable = {s.name for s in project.unit_specs if s.module in project.modules}
    specs = {s.name: s for s in project.unit_specs}
    reported: set[tuple[str, KeyPath, str, str]] = set()
    tenant_names = {t.name for t in project.tenants}
    # The units of one directory that depend on one target share the path from their
    # parent directory: worked out once per (target, parent), not once per dependency.
    from_parent: dict[tuple[str, str], str] = {}

    def relative(target: str, start: str, above: str) -> str:
        """*target* from *start*, whose parent directory is *above*."""
        if target == start or "/" not in start or target.startswith(start + "/"):
            return layout.relative_path(target, start)
        found = from_parent.get((target, above))
        if found is None:
            found = from_parent[(target, above)] = layout.relative_path(target, above)
        return "../" + found if found != "." else ".."

    # What each dependency names (few distinct ones: units share their module's):
    # (owner tenant, unit name, its spec, whether it may cross a tenant boundary).
    named: dict[int, tuple[str, str, UnitSpec | None, bool]] = {}
    by_key = project._units_by_key()
    for unit in project.units:
        resolved: list[Wiring] = []
        env_name, own_region = unit.environment.name, unit.region.name
        above = layout.parent(unit.directory)
        for dep in unit.dependencies:
            region = dep.region or own_region
            what = named.get(id(dep))
            if what is None:
                owner, _, dep_unit = dep.unit.rpartition("/")
                spec = specs.get(dep_unit)
                what = named[id(dep)] = (owner, dep_unit, spec, bool(owner) or (spec is not None and spec.per_tenant))
            owner, dep_unit, spec, crossing = what
            # only a tenant's name, or a per_tenant target, can cross a tenant boundary
            if crossing:
                refused = _tenant_boundary(unit, dep, owner, spec, tenant_names, reported)
                if refused is not None:
                    if refused.message:
                        errors.append(refused)
                    continue
            instance = dep_unit
            if spec is not None and spec.per_tenant and unit.tenant is not None:
                instance = f"{unit.tenant.name}/{dep_unit}"
            target = by_key.get((env_name, region, instance))
            if target is None:
                if dep_unit not in placeable:
                    continue
                tenant = unit.tenant if specs[dep_unit].per_tenant else None
                why = _why_not_there(project, specs[dep_unit], unit.environment.name, region, tenant)
                in_catalog = dep.document is unit.module.document
                # A dependency the unit wrote itself is reported there, once per place.
                marker = (dep.file, dep.path, unit.environment.name, region) if not in_catalog else None
                if marker is not None:
                    if marker in reported:
                        continue
                    reported.add(marker)
                declared = dep.locate("unit")
                off = f": {why}" if why.endswith("is off there)") else ""
                errors.append(
                    Diagnostic(
                        f"unit '{unit.instance}' depends on '{instance}' (dependency '{dep.name}' in {declared}), "
                        f"which is not deployed in {unit.environment.name}/{region}{off}",
                        doc.locate(unit.spec.path, key=True) if in_catalog else dep.locate("unit"),
                        unit.spec.path if in_catalog else (*dep.path, "unit"),
                        rule="dependency-missing",
                        hint=f"deploy '{dep.unit}' there, or limit '{unit.name}' with environments:/regions:"
                        + (" or turn its layer off there too" if off else ""),
                    )
                )
                continue
            resolved.append(_new_wiring(dep, target, relative(target.directory, unit.directory, above)))
        wiring[unit.key] = tuple(resolved)
    return wiring, errors


def _new_wiring(dependency: Dependency, target: Unit, config_path: str) -> Wiring:
    """Wiring(dependency, target, config_path) without the frozen dataclass's per-field
    __init__ (see _new_unit): one per dependency of every placed unit."""
    wire: Wiring = object.__new__(Wiring)
    attributes = wire.__dict__
    attributes["dependency"] = dependency
    attributes["target"] = target
    attributes["config_path"] = config_path
    return wire


def _why_not_there(
    project: Project, spec: UnitSpec, env_name: str, region_name: str, tenant: Tenant | None = None
) -> str:
    env = project.environment(env_name)
    region = env.region(region_name) if env is not None else None
    if env is None or region is None:
        return f"{env_name} has no region {region_name}"
    return why_not_placed(spec, env, region, unit_layer(spec, env, region, project.modules), tenant=tenant)


def _tenant_boundary(
    unit: Unit,
    dep: Dependency,
    owner: str,
    target: UnitSpec | None,
    tenant_names: set[str],
    reported: set[tuple[str, KeyPath, str, str]],
) -> Diagnostic | None:
    """A refusal when *dep* of *unit* crosses a tenant boundary: a shared unit never
    depends on a per_tenant unit, and no tenant's unit reaches another tenant's. ``TENANT/``
    in ``unit:`` (*owner*) names the tenant. A Diagnostic without a message: refused, but
    reported already (once per place that writes the dependency and pair of tenants)."""
    own = unit.tenant.name if unit.tenant is not None else ""
    message = hint = ""
    if owner and owner not in tenant_names:
        message = f"dependency '{dep.name}' names tenant '{owner}', which tenants: does not declare"
        hint = "name a per_tenant unit alone: it resolves to the depending unit's own tenant"
    elif owner and not own:
        message = (f"shared unit '{unit.name}' depends on unit '{dep.unit}' of tenant '{owner}' "
                   f"(dependency '{dep.name}'): a shared unit never depends on one tenant's unit")
        hint = f"make '{unit.name}' per_tenant, or drop the dependency"
    elif owner and owner != own:
        message = (f"unit '{unit.name}' of tenant '{own}' depends on '{dep.unit}' of tenant '{owner}' "
                   f"(dependency '{dep.name}'): tenants are isolated, tenant '{own}' never reaches tenant '{owner}'")
        hint = f"name '{dep.unit.rpartition('/')[2]}' alone: it resolves to the instance of tenant '{own}'"
    elif target is not None and owner and not target.per_tenant:
        message = (f"dependency '{dep.name}' names '{dep.unit}', but unit '{target.name}' is shared "
                   "(not per_tenant): it has no tenant's instance")
        hint = f"write unit: {target.name}"
    elif target is not None and target.per_tenant and not own:
        message = (f"shared unit '{unit.name}' depends on per_tenant unit '{target.name}' (dependency '{dep.name}'): "
                   "every tenant has its own instance, and a shared unit may depend on none of them")
        hint = f"make '{unit.name}' per_tenant too, or depend on a shared unit"
    if not message:
        return None
    marker = (dep.file, dep.path, own, owner or target.name if target is not None else owner)
    if marker in reported:
        return Diagnostic("", dep.locate("unit"))
    reported.add(marker)
    return Diagnostic(message, dep.locate("unit"), (*dep.path, "unit"), rule="tenant-isolation", hint=hint)


def edges(project: Project) -> dict[Key, list[Key]]:
    """unit key -> keys of the units it depends on (placed, resolved)."""
    return {key: [w.target.key for w in wires] for key, wires in project.wiring.items()}


def _levels(nodes: Sequence[Key], before: Mapping[Key, Sequence[Key]]) -> dict[Key, int]:
    """0-based wave of every node: one more than the deepest node that must come before
    it (only nodes in *nodes* count). Iterative, so long chains do not hit the recursion
    limit; the graph must be acyclic (validation rejects cycles)."""
    inside = set(nodes)
    level: dict[Key, int] = {}
    for start in nodes:
        stack = [start]
        while stack:
            top = stack[-1]
            if top in level:
                stack.pop()
                continue
            pending = [k for k in before.get(top, ()) if k in inside and k not in level]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            level[top] = 1 + max((level[k] for k in before.get(top, ()) if k in inside), default=-1)
    return level


def _group(units: Iterable[Unit], level: Mapping[Key, int]) -> list[list[Unit]]:
    grouped: dict[int, list[Unit]] = {}
    for unit in units:
        grouped.setdefault(level[unit.key], []).append(unit)
    return [grouped[i] for i in sorted(grouped)]


def waves(project: Project) -> list[list[Unit]]:
    """Units grouped into apply waves: every unit's dependencies are in earlier waves."""
    return _group(project.units, _levels([u.key for u in project.units], edges(project)))


def find_cycle(project: Project) -> list[Unit] | None:
    """One dependency cycle as a list of units (first repeated at the end), or None."""
    graph = project.wiring  # the edges (edges()), read in place: each unit's targets' keys
    targets = operator.attrgetter("target.key")
    state: dict[Key, int] = {}  # 1: on the trail, 2: done
    for start in graph:
        if state.get(start):
            continue
        # depth first, each node's targets in order: an iterator per node on the trail
        state[start] = 1
        trail: list[Key] = [start]
        stack = [map(targets, graph[start])]
        while stack:
            for nxt in stack[-1]:
                seen = state.get(nxt)
                if seen == 1:
                    cycle = [*trail[trail.index(nxt) :], nxt]
                    return [u for k in cycle if (u := project.unit(k)) is not None]
                if not seen:
                    state[nxt] = 1
                    trail.append(nxt)
                    stack.append(map(targets, graph.get(nxt, ())))
                    break
            else:
                state[trail.pop()] = 2
                stack.pop()
    return None


# --- what the generated files define ------------------------------------------------


def project_locals(project: Project) -> dict[str, Any]:
    """local.project, written into the files whose expressions read it."""
    return {"name": project.name, "tags": dict(project.tags)}


def unit_env_locals(unit: Unit, project: Project | None = None) -> dict[str, Any]:
    """local.env as the unit's expressions see it: env.hcl's, with the unit's own
    deletion policy when it has one (its leaf merges it over env.hcl's locals)."""
    found = env_locals(unit.environment, project)
    if unit.own_protection:
        found["deletion_protection"] = unit.deletion_protection
    return found


def env_locals(env: Environment, project: Project | None = None) -> dict[str, Any]:
    """The locals of environments/<env>/env.hcl (local.env); with *project*, its tags when
    some environment has tags (root.hcl merges local.env.tags into default_tags)."""
    found = _env_locals(env)
    if project is not None and has_tags(project):
        found["tags"] = dict(env.tags)
    return found


def has_tags(project: Project) -> bool:
    """Whether some environment or tenant has tags: root.hcl merges local.env.tags (for a
    tenant's units, the tenant's over the environment's) into the provider's default_tags."""
    return any(e.tags for e in project.environments) or any(t.tags for t in project.tenants)


def tenant_settings(project: Project, tenant: Tenant, env: Environment, region: Region) -> dict[str, Any]:
    """local.tenant.settings: TENANT_SETTINGS merged for *tenant* in *env*/*region*."""
    return merged(TENANT_SETTINGS, _reader(project.document.data, env=env.name, region=region.name, tenant=tenant.name))


def tenant_locals(project: Project, tenant: Tenant, env: Environment, region: Region) -> dict[str, Any]:
    """The locals of environments/<env>/<region>/tenants/<tenant>/tenant.hcl (local.tenant);
    ``env_overrides`` is what root.hcl merges over env.hcl's locals for the tenant's units:
    its account (state bucket, allowed account, role) and its tags."""
    account = tenant.account(env)
    role = tenant.role(env, project.name)
    over: dict[str, Any] = {"account_id": account}
    if role is not None:
        over["role_arn"] = role
    if has_tags(project):
        over["tags"] = {**env.tags, **tenant.tags}
    return {
        "name": tenant.name,
        "account_id": account,
        **({"role_arn": role} if role is not None else {}),
        "settings": tenant_settings(project, tenant, env, region),
        "tags": dict(tenant.tags),
        "env_overrides": over,
    }


def _env_locals(env: Environment) -> dict[str, Any]:
    role = {"role_arn": env.role_arn} if env.role_arn else {}
    return {
        "environment": env.name,
        "account_id": env.account_id,
        **role,
        "sizing_tier": env.sizing_tier,
        "sizing": dict(env.sizing),
        "deletion_protection": env.deletion_protection,
        "multi_az": env.multi_az,
        "settings": dict(env.settings),
    }


def region_locals(region: Region) -> dict[str, Any]:
    """The locals of environments/<env>/<region>/region.hcl (local.region)."""
    return {
        "aws_region": region.name,
        "azs": list(region.zones),
        "vpc_cidr": region.vpc_cidr,
        "role": region.role,
        "settings": dict(region.settings),
    }


def wired_inputs(dependency: Dependency) -> dict[str, HclExpr]:
    """The inputs that read the outputs of *dependency*."""
    return {name: dependency_expression(dependency.name, output) for name, output in dependency.outputs.items()}


def leaf_inputs(unit: Unit, project: Project) -> Inputs:
    """The inputs a unit's own terragrunt.hcl sets: those wired to dependency outputs,
    then the unit's overrides (fully merged); later wins."""
    inputs: Inputs = {}
    for wire in project.wiring.get(unit.key, ()):
        inputs.update(wired_inputs(wire.dependency))
    inputs.update(unit.leaf_inputs())
    return inputs


def check_scope(project: Project, scope: Scope) -> None:
    """ArgumentError naming every environment or region of *scope* the project lacks."""
    known_envs = [e.name for e in project.environments]
    known_regions = sorted({r.name for e in project.environments for r in e.regions})
    problems = [
        ArgumentProblem("scope.environments", e, f"no such environment (environments: {', '.join(known_envs)})")
        for e in scope.environments
        if e not in known_envs
    ]
    problems += [
        ArgumentProblem("scope.regions", r, f"no such region (regions: {', '.join(known_regions)})")
        for r in scope.regions
        if r not in known_regions
    ]
    chosen = [e for e in project.environments if e.name in scope.environments]
    if chosen and not problems:
        # each region must be one of a chosen environment's, or nothing is rendered for it
        for r in scope.regions:
            if not any(r in {x.name for x in e.regions} for e in chosen):
                names = ", ".join(e.name for e in chosen)
                theirs = sorted({x.name for e in chosen for x in e.regions})
                problems.append(
                    ArgumentProblem("scope.regions", r, f"environment {names} has no such region "
                                    f"(its regions: {', '.join(theirs)}); nothing would be rendered")
                )
    known_tenants = [t.name for t in project.tenants]
    problems += [
        ArgumentProblem("scope.tenants", t, f"no such tenant (tenants: {', '.join(known_tenants) or 'none'})")
        for t in scope.tenants
        if t not in known_tenants
    ]
    if problems:
        raise ArgumentError(problems, Location(project.document.file), rule="scope")
