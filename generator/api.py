"""The pipeline: load -> validate -> model -> plan -> render -> compare -> apply.

Functions here return results and raise TfgenError; they never print.
"""

from __future__ import annotations

import difflib
import os
import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import checks, schema
from .errors import Diagnostic, InputError, KeyPath, sorted_diagnostics
from .loader import CatalogLookup, Document, find_module_file, load
from .model import Module, Project, build_module, build_project
from .names import module_id_problem
from .plan import PlannedFile, Scope, plan
from .render import Renderer
from .writer import Change, Manifest, apply, compare, digest, read_manifest

DEFAULT_CONFIG = "environments.yaml"
#: What the schema accepts as a module id; anything else is reported by the schema.
MODULE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")


def display_path(path: Path) -> str:
    """*path* relative to the current directory when it is below it."""
    try:
        return os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    except ValueError:  # another drive on Windows
        return str(path)


@dataclass(frozen=True)
class ValidationResult:
    project: Project
    warnings: list[Diagnostic] = field(default_factory=list)


def _referenced_modules(doc: Document) -> list[tuple[str, KeyPath]]:
    """Module ids named under ``units:``, first use of each; safe on a schema-invalid document."""
    units = doc.data.get("units") if isinstance(doc.data, dict) else None
    found: dict[str, KeyPath] = {}
    for name, raw in (units or {}).items() if isinstance(units, dict) else ():
        module = raw.get("module") if isinstance(raw, dict) else None
        if isinstance(module, str) and MODULE_ID.match(module):
            found.setdefault(module, ("units", name, "module"))
    return list(found.items())


def _module_not_found(module_id: str, lookup: CatalogLookup, doc: Document, where: KeyPath) -> Diagnostic:
    expected = f"catalog/{module_id}.yaml"
    if lookup.case_mismatch is not None:
        message = f"module '{module_id}' not found: {display_path(lookup.case_mismatch)} differs in case"
        hint = f"rename it to {expected}: file names are case-sensitive on Linux"
    else:
        message = f"module '{module_id}' not found: no file {expected}"
        close = difflib.get_close_matches(module_id, lookup.known, n=1, cutoff=0.6)
        listing = ", ".join(lookup.known)
        hint = f"did you mean '{close[0]}'?" if close else (f"modules: {listing}" if listing else "")
    return Diagnostic(message, doc.locate(where), where, rule="unknown-module", hint=hint)


def _load_catalog(root: Path, doc: Document) -> tuple[dict[str, Module], list[Diagnostic]]:
    """Load and check every catalog file the units name; names are checked before paths are built."""
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
        problems = schema.validate_document(module_doc, schema.CATALOG)
        errors.extend(problems)
        if not _blocking(problems):
            modules[module_id] = build_module(module_id, module_doc)
    return modules, errors


def _blocking(problems: list[Diagnostic]) -> bool:
    """Schema problems that leave the document in a shape the model cannot read."""
    return any(p.rule != "unknown-key" for p in problems)


def _depends_on(diagnostic: Diagnostic, units: set[str]) -> bool:
    """Whether *diagnostic* is model.py's "depends on '<unit>' ... not deployed" for one of *units*."""
    return diagnostic.rule == "dependency-missing" and any(f"depends on '{u}'" in diagnostic.message for u in units)


def _strict(warning: Diagnostic) -> Diagnostic:
    hint = f"{warning.hint}; " if warning.hint else ""
    return replace(warning, severity="error", hint=f"{hint}an error under --strict")


def load_project(config: str | os.PathLike[str] = DEFAULT_CONFIG, *, strict: bool = False) -> ValidationResult:
    """Load, validate and model a project; raise InputError with every problem found.

    Schema errors of environments.yaml and every problem of the catalog files are
    reported together; semantic rules run once the document has the right shape.
    Warnings come back in the result, or with the errors; *strict* makes them errors.
    """
    path = Path(config)
    doc = load(path, display_path(path))
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a single value"
        raise InputError(
            [
                Diagnostic(
                    f"the document is {kind}; expected a mapping with version, project, state, environments and units",
                    doc.locate(()),
                    rule="schema",
                )
            ]
        )
    problems = schema.validate_document(doc)
    root = path.resolve().parent
    modules, catalog_errors = _load_catalog(root, doc)
    if _blocking(problems):
        raise InputError(problems + catalog_errors)
    project, model_errors = build_project(root, doc, modules)
    # With a catalog file missing or broken, units of its module are not placed: a
    # dependency on them is not "missing", and rules that need every unit would be noise.
    # A dependency on a unit nobody declares is reported once, in the catalog file.
    declared = {s.name for s in project.unit_specs}
    unplaced = {s.name for s in project.unit_specs if s.module not in modules}
    undeclared = {d.unit for m in modules.values() for d in m.dependencies if d.unit not in declared}
    found = problems + catalog_errors
    found += [d for d in model_errors if not _depends_on(d, unplaced | undeclared)]
    found += checks.run(project, catalog_complete=not unplaced)
    errors = [d for d in found if d.severity == "error"]
    warnings = [d for d in found if d.severity == "warning"]
    if strict:
        errors, warnings = errors + [_strict(w) for w in warnings], []
    if errors:
        raise InputError(errors + warnings)
    return ValidationResult(project, sorted_diagnostics(warnings))


def validate(config: str | os.PathLike[str] = DEFAULT_CONFIG, *, strict: bool = False) -> ValidationResult:
    """Schema and semantic checks; raises InputError listing every error."""
    return load_project(config, strict=strict)


@dataclass(frozen=True)
class RenderResult:
    output: Path
    changes: list[Change]
    warnings: list[Diagnostic]
    seconds: float
    written: bool

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def in_sync(self) -> bool:
        return all(c.kind == "unchanged" for c in self.changes)

    def summary(self) -> str:
        verb = "rendered" if self.written else "compared"
        total = sum(1 for c in self.changes if c.kind != "deleted")
        return (
            f"{verb} {total} files: {self.count('created')} created, {self.count('changed')} changed, "
            f"{self.count('deleted')} deleted, {self.count('unchanged')} unchanged in {self.seconds:.2f} s"
        )


def render_files(
    project: Project, scope: Scope | None = None, source_name: str = DEFAULT_CONFIG, renderer: Renderer | None = None
) -> tuple[list[PlannedFile], dict[str, bytes]]:
    """The desired tree, in memory: planned files and their bytes."""
    files = plan(project, scope or Scope(), source_name)
    renderer = renderer or Renderer(project.root / "templates")
    return files, renderer.render_all(files)


def render(
    config: str | os.PathLike[str] = DEFAULT_CONFIG,
    *,
    output: str | os.PathLike[str] | None = None,
    scope: Scope | None = None,
    write: bool = True,
    strict: bool = False,
) -> RenderResult:
    """Render the project; write changed files unless *write* is false."""
    started = time.perf_counter()
    scope = scope or Scope()
    validated = load_project(config, strict=strict)
    project = validated.project
    out = Path(output) if output is not None else project.root / "output"
    files, desired = render_files(project, scope, Path(config).name)
    manifest = read_manifest(out)
    owned = dict(manifest.files) if manifest else {}
    in_scope = {p for p in owned if _path_in_scope(p, files, scope)}
    changes = compare(out, desired, in_scope)
    if write:
        recorded = {p: h for p, h in owned.items() if p not in in_scope}
        recorded.update({p: digest(data) for p, data in desired.items()})
        apply(out, changes, Manifest(recorded))
    return RenderResult(out, changes, validated.warnings, time.perf_counter() - started, write)


def _path_in_scope(path: str, files: list[PlannedFile], scope: Scope) -> bool:
    """Whether an owned path belongs to the scope being rendered (for pruning)."""
    if not scope.environments and not scope.regions:
        return True
    parts = path.split("/")
    if parts[0] != "environments" or len(parts) < 3:
        return False  # shared files are pruned only by a full render
    environment = parts[1]
    region = parts[2] if len(parts) > 3 else None
    return scope.includes(environment, region)
