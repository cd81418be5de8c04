"""The pipeline: load -> validate -> model -> plan -> render -> compare -> apply.

Functions here return results and raise TfgenError; they never print.
"""

from __future__ import annotations

import difflib
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import checks, schema
from .errors import Diagnostic, InputError, KeyPath, Location, OutputError, sorted_diagnostics
from .explain import Explanation
from .explain import explain as explain_address
from .graph import Graph, select
from .loader import CatalogLookup, Document, find_module_file, load
from .model import Module, Project, build_module, build_project
from .modules import lockfile
from .modules import rules as _module_rules  # noqa: F401  (registers the module and settings rules)
from .names import module_id_problem
from .plan import PlannedFile, Scope, check_scope, plan
from .render import Renderer
from .scaffold import Options as ScaffoldOptions
from .scaffold import project_name_for, scaffold_files, write_new
from .writer import (
    MANIFEST,
    STATUSES,
    Change,
    Manifest,
    State,
    Survey,
    apply,
    compare,
    digest,
    environment_of,
    explain_refusals,
    kept_directories,
    locked,
    read_state,
)

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


def _strict(warning: Diagnostic) -> Diagnostic:
    if warning.rule == lockfile.NO_LOCK_RULE:
        return warning  # informational: a project without remote modules locked yet
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
    interfaces, interface_notes = lockfile.interfaces(project, display_path(lockfile.lock_path(root)))
    object.__setattr__(project, "interfaces", interfaces)
    model_errors += interface_notes
    # With a catalog file missing or broken, units of its module are not placed, and
    # rules that need every unit would be noise.
    unplaced = {s.name for s in project.unit_specs if s.module not in modules}
    found = problems + catalog_errors + model_errors
    found += checks.run(project, catalog_complete=not unplaced)
    errors = [d for d in found if d.severity == "error"]
    warnings = [d for d in found if d.severity == "warning"]
    if strict:
        escalated = [_strict(w) for w in warnings]
        errors = errors + [w for w in escalated if w.severity == "error"]
        warnings = [w for w in escalated if w.severity == "warning"]
    if errors:
        raise InputError(errors + warnings)
    return ValidationResult(project, sorted_diagnostics(warnings))


def validate(config: str | os.PathLike[str] = DEFAULT_CONFIG, *, strict: bool = False) -> ValidationResult:
    """Schema and semantic checks; raises InputError listing every error."""
    return load_project(config, strict=strict)


@dataclass(frozen=True)
class RenderResult:
    """What a render found (and, when *written*, did), file by file."""

    output: Path
    changes: list[Change]
    warnings: list[Diagnostic]
    seconds: float
    written: bool
    manifest: str = "unchanged"  # the manifest render writes vs the one on disk: unchanged|changed|created
    interrupted: bool = False  # a previous render was killed before it finished
    kept: list[str] = field(default_factory=list)  # directories left because they hold files tfgen did not write
    force: bool = False
    allow_orphan: bool = False

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)

    @property
    def files(self) -> int:
        """How many files the render produces (stale files are not counted)."""
        return sum(1 for c in self.changes if c.new is not None)

    @property
    def in_sync(self) -> bool:
        unchanged = all(c.status == "unchanged" for c in self.changes)
        return unchanged and self.manifest == "unchanged" and not self.interrupted

    @property
    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.refused(force=self.force, allow_orphan=self.allow_orphan)]

    def counts(self) -> dict[str, int]:
        """Files per status, and what applying does: written as created/changed, deleted."""
        counts: dict[str, int] = {status: self.count(status) for status in STATUSES}
        counts["deleted"] = sum(1 for c in self.changes if c.action == "delete") if self.written else 0
        return counts

    def summary(self) -> str:
        if self.written:
            writes = [c for c in self.changes if c.action == "write"]
            created = sum(1 for c in writes if c.old is None)
            unchanged = sum(1 for c in self.changes if c.action == "none")
            return (
                f"rendered {self.files} files: {created} created, {len(writes) - created} changed, "
                f"{self.counts()['deleted']} deleted, {unchanged} unchanged in {self.seconds:.2f} s"
            )
        unowned = f", {self.count('unowned')} unowned" if self.count("unowned") else ""
        return (
            f"checked {self.files} files: {self.count('created')} created, {self.count('changed')} changed, "
            f"{self.count('stale')} stale, {self.count('hand-edited')} hand-edited{unowned}, "
            f"{self.count('unchanged')} unchanged in {self.seconds:.2f} s"
        )


#: ``progress(stage, done, total)``: stage is "rendering" or "writing".
Progress = Callable[[str, int, int], None]


class UnsafeWriteError(OutputError):
    """render refused: hand-edited or unowned files, or protected infrastructure would be
    orphaned. Nothing was written; *result* holds the full comparison (for diffs)."""

    def __init__(self, diagnostics: list[Diagnostic], result: RenderResult) -> None:
        super().__init__(diagnostics)
        self.result = result


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
    force: bool = False,
    allow_orphan: bool = False,
    lock_timeout: float = 30.0,
    progress: Progress | None = None,
) -> RenderResult:
    """Render the project and compare it with the output tree; apply it unless *write*
    is false. Raises UnsafeWriteError (writing nothing) when applying would overwrite a
    hand edit or a file tfgen did not write (unless *force*), or delete the files of
    protected infrastructure (unless *allow_orphan*). *progress*, if given, is called
    as files are rendered and written."""
    started = time.perf_counter()
    scope = scope or Scope()
    validated = load_project(config, strict=strict)
    project = validated.project
    out = Path(output) if output is not None else project.root / "output"
    desired = render_files(project, scope, Path(config).name, progress=progress)[1]
    try:
        result = _compare_and_apply(
            out, project, scope, desired, write, force, allow_orphan, lock_timeout, _stage(progress, "writing")
        )
    except UnsafeWriteError as error:
        error.result = replace(error.result, warnings=validated.warnings + _displayed(error.result.warnings))
        raise
    except OutputError as error:  # corrupt manifest, lock, a directory where a file belongs
        raise OutputError(_displayed(error.diagnostics)) from None
    except OSError as exc:
        where = exc.filename if isinstance(exc.filename, str) else str(out)
        raise OutputError(
            [Diagnostic(f"cannot write the output tree: {exc.strerror or exc}", Location(display_path(Path(where))),
                        rule="io")]
        ) from None
    result = replace(result, warnings=validated.warnings + _displayed(result.warnings))
    return replace(result, seconds=time.perf_counter() - started)


def _displayed(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics about output files, with paths as the user would type them."""
    return [replace(d, location=replace(d.location, file=display_path(Path(d.location.file)))) for d in diagnostics]


def _compare_and_apply(
    out: Path,
    project: Project,
    scope: Scope,
    desired: dict[str, bytes],
    write: bool,
    force: bool,
    allow_orphan: bool,
    lock_timeout: float,
    progress: Callable[[int, int], None] | None = None,
) -> RenderResult:
    with locked(out, exclusive=write, timeout=lock_timeout):
        state = read_state(out, force=force)
        is_protected = _protection(project, state.manifest)
        survey = compare(out, desired, state, prune=lambda p: _path_in_scope(p, scope), protected=is_protected)
        manifest = _next_manifest(project, scope, state, survey, desired, is_protected)
        result = RenderResult(
            out,
            survey.changes,
            list(state.warnings),
            0.0,
            False,
            _manifest_status(out, manifest),
            state.interrupted,
            force=force,
            allow_orphan=allow_orphan,
        )
        if write:
            refused = result.refused
            if refused:
                raise UnsafeWriteError(explain_refusals(out, refused, display_path), result)
            apply(out, survey, manifest, state, progress=progress)
            deleted = [c.path for c in survey.changes if c.action == "delete"]
            kept = kept_directories(out, deleted, manifest.files) if deleted else []
            result = replace(result, written=True, kept=kept)
    return result


def check(
    config: str | os.PathLike[str] = DEFAULT_CONFIG,
    *,
    output: str | os.PathLike[str] | None = None,
    scope: Scope | None = None,
    strict: bool = False,
    lock_timeout: float = 30.0,
) -> RenderResult:
    """Compare a fresh render with the output tree; write nothing. ``result.in_sync``."""
    return render(config, output=output, scope=scope, write=False, strict=strict, lock_timeout=lock_timeout)


def _protection(project: Project, manifest: Manifest | None) -> Callable[[str], bool]:
    """Whether deleting an environment's rendered files would orphan protected
    infrastructure. The manifest's record of the last render decides (it is what the
    live infrastructure was deployed from, and it survives the environment's removal
    from the YAML); protection in the current YAML also counts. A manifest too old to
    record protection makes environments missing from the YAML count as protected."""
    current = {e.name for e in project.environments if e.deletion_protection}
    known = {e.name for e in project.environments}

    def protected(environment: str) -> bool:
        if environment in current:
            return True
        if manifest is None or manifest.protected is None:
            return environment not in known
        return environment in manifest.protected

    return protected


def _next_manifest(
    project: Project,
    scope: Scope,
    state: State,
    survey: Survey,
    desired: dict[str, bytes],
    was_protected: Callable[[str], bool],
) -> Manifest:
    """Out-of-scope entries as they were, in-scope ones as this render leaves them."""
    old = dict(state.manifest.files) if state.manifest else {}
    dropped = {c.path for c in survey.changes if c.action == "delete"} | set(survey.vanished)
    files = {p: h for p, h in old.items() if p not in dropped}
    files.update({p: digest(data) for p, data in desired.items()})
    rendered = {e.name: e.deletion_protection for e in project.environments if scope.includes(e.name)}
    environments = {e for e in map(environment_of, files) if e is not None}
    protected = sorted(e for e in environments if rendered.get(e, was_protected(e)))
    return Manifest(files, tuple(protected))


def _manifest_status(output: Path, manifest: Manifest) -> str:
    try:
        current = (output / MANIFEST).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return "created"
    return "unchanged" if current == manifest.to_bytes() else "changed"


def _path_in_scope(path: str, scope: Scope) -> bool:
    """Whether an owned path that is no longer rendered may be pruned in this scope.
    Shared files are pruned only by a full render; an environment's own files (env.hcl)
    only when no --region limits the render (its other regions may remain)."""
    if not scope.environments and not scope.regions:
        return True
    parts = path.split("/")
    if parts[0] != "environments" or len(parts) < 3:
        return False
    environment = parts[1]
    if len(parts) == 3:
        return not scope.regions and scope.includes(environment)
    return scope.includes(environment, parts[2])


def graph(config: str | os.PathLike[str] = DEFAULT_CONFIG, *, scope: Scope | None = None) -> Graph:
    """The dependency graph of the units within *scope* (all units by default)."""
    scope = scope or Scope()
    project = load_project(config).project
    check_scope(project, scope)
    return select(project, scope)


def explain(config: str | os.PathLike[str] = DEFAULT_CONFIG, address: str = "") -> Explanation:
    """Where every value of ENV, ENV/REGION or ENV/REGION/UNIT comes from."""
    project = load_project(config).project
    return explain_address(project, address, display_path(project.root / "output"))


def init(
    directory: str | os.PathLike[str] = ".",
    *,
    project: str | None = None,
    environments: Sequence[str] = ("dev",),
    regions: Sequence[str] = ("us-east-1",),
) -> list[Path]:
    """Create a new project in *directory*; never overwrites a file (InputError instead)."""
    target = Path(directory)
    options = ScaffoldOptions(project or project_name_for(target), tuple(environments), tuple(regions))
    written = write_new(target, scaffold_files(options))
    return [target / path for path in written]


def modules_lock(
    config: str | os.PathLike[str] = DEFAULT_CONFIG,
    *,
    hosts: dict[str, str] | None = None,
) -> lockfile.LockResult:
    """Download each pinned remote module version once and write catalog/.tfgen-modules.lock.json.

    The project is validated first (without the interface rules' findings blocking:
    a stale lock is what this command repairs)."""
    project = _project_for_lock(config)
    return lockfile.lock(project, hosts, shown=display_path(lockfile.lock_path(project.root)))


def modules_lock_check(config: str | os.PathLike[str] = DEFAULT_CONFIG) -> list[Diagnostic]:
    """Why the module lock does not match the catalog; empty when it does. Offline."""
    project = _project_for_lock(config)
    return lockfile.check_lock(project, display_path(lockfile.lock_path(project.root)))


#: Findings that `tfgen modules lock` itself repairs or that need the lock to be judged.
_LOCK_RULES = frozenset(
    {"unknown-input", "required-input", "input-type", "unknown-output", "module-lock", "module-lock-stale",
     lockfile.NO_LOCK_RULE}
)


def _project_for_lock(config: str | os.PathLike[str]) -> Project:
    try:
        return load_project(config).project
    except InputError as error:
        blocking = [d for d in error.diagnostics if d.severity == "error" and d.rule not in _LOCK_RULES]
        if blocking:
            raise InputError(blocking) from None
    # Only interface findings: model the project without them.
    path = Path(config)
    doc = load(path, display_path(path))
    modules, _ = _load_catalog(path.resolve().parent, doc)
    return build_project(path.resolve().parent, doc, modules)[0]
