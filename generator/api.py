"""The pipeline: load -> validate -> model -> plan -> render -> compare -> apply.

Functions here return results and raise TfgenError; they never print.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import checks, schema
from .errors import Diagnostic, InputError
from .loader import Document, load
from .model import Module, Project, build_module, build_project, referenced_modules
from .plan import PlannedFile, Scope, plan
from .render import Renderer
from .writer import Change, Manifest, apply, compare, digest, read_manifest

DEFAULT_CONFIG = "environments.yaml"


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


def _load_catalog(root: Path, doc: Document) -> tuple[dict[str, Module], list[Diagnostic]]:
    modules: dict[str, Module] = {}
    errors: list[Diagnostic] = []
    for module_id, where in referenced_modules(doc):
        path = root / "catalog" / f"{module_id}.yaml"
        if not path.is_file():
            errors.append(
                Diagnostic(
                    f"module '{module_id}' not found: no file {display_path(path)}",
                    doc.locate(where),
                    where,
                    rule="unknown-module",
                )
            )
            continue
        try:
            module_doc = load(path, display_path(path))
        except InputError as exc:
            errors.extend(exc.diagnostics)
            continue
        if not isinstance(module_doc.data, dict):
            errors.append(Diagnostic("a catalog file must be a mapping", module_doc.locate(()), rule="schema"))
            continue
        problems = schema.validate_document(module_doc, schema.CATALOG)
        if problems:
            errors.extend(problems)
            continue
        modules[module_id] = build_module(module_id, module_doc)
    return modules, errors


def load_project(config: str | os.PathLike[str] = DEFAULT_CONFIG, *, strict: bool = False) -> ValidationResult:
    """Load, validate and model a project; raise InputError with every problem found."""
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
    if problems:
        raise InputError(problems)
    root = path.resolve().parent
    modules, errors = _load_catalog(root, doc)
    project, model_errors = build_project(root, doc, modules)
    found = errors + model_errors
    if not any(d.severity == "error" for d in found):
        found += checks.run(project)
    errors = [d for d in found if d.severity == "error" or strict]
    if errors:
        raise InputError(errors)
    return ValidationResult(project, [d for d in found if d.severity == "warning"])


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


#: ``progress(stage, done, total)``: stage is "rendering" or "writing".
Progress = Callable[[str, int, int], None]


def render_files(
    project: Project,
    scope: Scope | None = None,
    source_name: str = DEFAULT_CONFIG,
    renderer: Renderer | None = None,
    progress: Progress | None = None,
) -> tuple[list[PlannedFile], dict[str, bytes]]:
    """The desired tree, in memory: planned files and their bytes."""
    files = plan(project, scope or Scope(), source_name)
    renderer = renderer or Renderer(project.root / "templates")
    return files, renderer.render_all(files, _stage(progress, "rendering"))


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def render(
    config: str | os.PathLike[str] = DEFAULT_CONFIG,
    *,
    output: str | os.PathLike[str] | None = None,
    scope: Scope | None = None,
    write: bool = True,
    strict: bool = False,
    progress: Progress | None = None,
) -> RenderResult:
    """Render the project; write changed files unless *write* is false. *progress*, if
    given, is called as files are rendered and written."""
    started = time.perf_counter()
    scope = scope or Scope()
    validated = load_project(config, strict=strict)
    project = validated.project
    out = Path(output) if output is not None else project.root / "output"
    files, desired = render_files(project, scope, Path(config).name, progress=progress)
    manifest = read_manifest(out)
    owned = dict(manifest.files) if manifest else {}
    in_scope = {p for p in owned if _path_in_scope(p, files, scope)}
    changes = compare(out, desired, in_scope)
    if write:
        recorded = {p: h for p, h in owned.items() if p not in in_scope}
        recorded.update({p: digest(data) for p, data in desired.items()})
        apply(out, changes, Manifest(recorded), progress=_stage(progress, "writing"))
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
