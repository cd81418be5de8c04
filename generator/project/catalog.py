"""The catalog: finding catalog/<category>/<module>.yaml by exact name, loading and
checking the files the units name, and counting what loading did."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, InputError, KeyPath, Location, display_path
from . import schema
from .loader import Document, load
from .model import Module, build_module
from .names import MODULE_ID, module_id_problem
from .suggest import closest


@dataclass
class LoadStats:
    """What loading a project did, counted as it happens (tests and bench read it):
    YAML documents read, schema validations, catalog modules built, projects modelled
    and semantic-check runs."""

    documents: int = 0
    schema_checks: int = 0
    modules: int = 0
    projects: int = 0
    check_runs: int = 0


@dataclass(frozen=True)
class CatalogLookup:
    """Where catalog/<category>/<module>.yaml is, compared by exact, case-sensitive name.

    A case-insensitive file system (macOS, Windows) would open catalog/Data/RDS.yaml for
    data/rds and hide a mistake that breaks on Linux, so names are compared as listed.
    """

    path: Path | None  # the file, when its name matches exactly
    case_mismatch: Path | None = None  # a file whose path differs only by case
    collisions: tuple[Path, ...] = ()  # other entries that differ from the file only by case
    known: tuple[str, ...] = ()  # every module id of the catalog, for suggestions
    other_suffix: Path | None = None  # catalog/<category>/<name>.yml, when that is what exists


def _entries(directory: Path) -> list[str]:
    try:
        return sorted(os.listdir(directory))
    except OSError:
        return []


def find_module_file(catalog: Path, module_id: str) -> CatalogLookup:
    category, name = module_id.split("/", 1)
    filename = f"{name}.yaml"
    categories = [c for c in _entries(catalog) if (catalog / c).is_dir()]
    folded_categories = [c for c in categories if c.casefold() == category.casefold()]
    if category in categories:
        files = _entries(catalog / category)
        if filename in files:
            collisions = [catalog / c for c in folded_categories if c != category]
            folded = filename.casefold()
            collisions += [catalog / category / f for f in files if f.casefold() == folded and f != filename]
            return CatalogLookup(catalog / category / filename, collisions=tuple(collisions))
    for folded in folded_categories:
        for entry in _entries(catalog / folded):
            if entry.casefold() == filename.casefold():
                return CatalogLookup(None, case_mismatch=catalog / folded / entry, known=_known(catalog, categories))
    yml = catalog / category / f"{name}.yml"
    return CatalogLookup(None, known=_known(catalog, categories), other_suffix=yml if yml.is_file() else None)


def _known(catalog: Path, categories: list[str]) -> tuple[str, ...]:
    return tuple(
        f"{c}/{f[: -len('.yaml')]}" for c in categories for f in _entries(catalog / c) if f.endswith(".yaml")
    )


def _referenced_modules(doc: Document) -> list[tuple[str, KeyPath]]:
    """Module ids named under ``units:``, first use of each; safe on a schema-invalid document."""
    units = doc.data.get("units") if isinstance(doc.data, dict) else None
    found: dict[str, KeyPath] = {}
    for name, raw in (units or {}).items() if isinstance(units, dict) else ():
        module = raw.get("module") if isinstance(raw, dict) else None
        if isinstance(module, str) and MODULE_ID.match(module):
            found.setdefault(module, ("units", name, "module"))
    for owner, overrides in _unit_overrides(doc.data):
        for name, raw in overrides.items():
            module = raw.get("module") if isinstance(raw, dict) else None
            if isinstance(module, str) and MODULE_ID.match(module):
                found.setdefault(module, (*owner, "units", name, "module"))
    return list(found.items())


def _unit_overrides(data: Any) -> list[tuple[KeyPath, dict[str, Any]]]:
    """Every ``units:`` override mapping (defaults, environments, regions) with where it is."""
    found: list[tuple[KeyPath, dict[str, Any]]] = []
    if not isinstance(data, dict):
        return found
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("units"), dict):
        found.append((("defaults",), defaults["units"]))
    environments = data.get("environments")
    for env_name, env in environments.items() if isinstance(environments, dict) else ():
        if not isinstance(env, dict):
            continue
        if isinstance(env.get("units"), dict):
            found.append((("environments", env_name), env["units"]))
        regions = env.get("regions")
        for region_name, region in regions.items() if isinstance(regions, dict) else ():
            if isinstance(region, dict) and isinstance(region.get("units"), dict):
                found.append((("environments", env_name, "regions", region_name), region["units"]))
    return found


def _module_not_found(module_id: str, lookup: CatalogLookup, doc: Document, where: KeyPath) -> Diagnostic:
    expected = f"catalog/{module_id}.yaml"
    if lookup.case_mismatch is not None:
        message = f"module '{module_id}' not found: {display_path(lookup.case_mismatch)} differs in case"
        hint = f"rename it to {expected}: file names are case-sensitive on Linux"
    else:
        message = f"module '{module_id}' not found: no file {expected}"
        close = closest(module_id, lookup.known)
        listing = ", ".join(lookup.known)
        hint = f"did you mean '{close[0]}'?" if close else (f"modules: {listing}" if listing else "")
        if lookup.other_suffix is not None:
            hint = f"tfgen looks for {expected}; rename {display_path(lookup.other_suffix)} to it (.yaml, not .yml)"
    return Diagnostic(message, doc.locate(where), where, rule="unknown-module", hint=hint)


def load_catalog(
    root: Path, doc: Document, stats: LoadStats | None = None
) -> tuple[dict[str, Module], list[Diagnostic]]:
    """Load and check every catalog file the units name; names are checked before paths are built."""
    stats = stats if stats is not None else LoadStats()
    modules: dict[str, Module] = {}
    errors: list[Diagnostic] = []
    for module_id, where in _referenced_modules(doc):
        problem = module_id_problem(module_id)
        if problem:
            errors.append(Diagnostic(f"module '{module_id}': {problem}", doc.locate(where), where, rule="safe-name"))
            continue
        lookup = find_module_file(root / "catalog", module_id)
        if lookup.path is None:
            errors.append(_module_not_found(module_id, lookup, doc, where))
            continue
        for other in lookup.collisions:
            errors.append(
                Diagnostic(
                    f"{display_path(lookup.path)} and {display_path(other)} differ only by case",
                    doc.locate(where),
                    where,
                    rule="safe-name",
                    hint="a checkout on macOS or Windows keeps only one of them: rename or remove one",
                )
            )
        try:
            stats.documents += 1
            module_doc = load(lookup.path, display_path(lookup.path))
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        if not isinstance(module_doc.data, dict):
            kind = "a list" if isinstance(module_doc.data, list) else "a single value"
            errors.append(
                Diagnostic(
                    f"the catalog file is {kind}; expected a mapping with source, version, layer and inputs",
                    module_doc.locate(()),
                    rule="schema",
                )
            )
            continue
        stats.schema_checks += 1
        problems = schema.validate_document(module_doc, schema.CATALOG)
        errors.extend(problems)
        if not blocking(problems):
            stats.modules += 1
            modules[module_id] = build_module(module_id, module_doc)
    return modules, errors


def unused_modules(root: Path, doc: Document, modules: Mapping[str, Module]) -> list[Diagnostic]:
    """A warning at each catalog file no unit deploys: it is never validated nor rendered,
    so its mistakes stay hidden until a unit names it (and a removal from the last unit
    leaves it behind without a word). None while a module a unit names did not load: a
    misspelt module id would make the module meant look unused."""
    referenced = {module_id for module_id, _ in _referenced_modules(doc)}
    if not referenced <= modules.keys():
        return []
    catalog = root / "catalog"
    categories = [c for c in _entries(catalog) if (catalog / c).is_dir()]
    return [
        Diagnostic(
            f"module {module_id} is not deployed by any unit: it is neither checked nor rendered",
            Location(display_path(catalog / f"{module_id}.yaml"), 1, 1),
            severity="warning",
            rule="unused-module",
            hint=f"name it in a unit (units.NAME.module: {module_id}), or delete the file",
        )
        for module_id in _known(catalog, categories)
        if module_id not in referenced
    ]


def blocking(problems: list[Diagnostic]) -> bool:
    """Schema problems that leave the document in a shape the model cannot read."""
    return any(p.rule != "unknown-key" for p in problems)
