"""The pipeline, short: project -> checks -> build -> output.

One-shot calls (validate, render, check, graph, explain, affected, init) and the staged calls
they are made of, for scripts that load a project once::

    loaded = load("environments.yaml")       # read, validate, model
    planned = plan(loaded, scope=Scope(("dev",)))  # the desired tree, in memory
    result = diff(planned)                   # compare with output/, write nothing
    result = apply(planned)                  # write it (refusing unsafe changes)

Functions here return results and raise TfgenError; they never print.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import (
    ArgumentError,
    ArgumentProblem,
    Diagnostic,
    InputError,
    Location,
    OutputAccessError,
    OutputError,
    TfgenError,
    display_path,
    format_key_path,
    sorted_diagnostics,
)
from .output import disk, fingerprint
from .output.fingerprint import Fingerprint
from .output.state import TEMP_SUFFIX
from .output.sync import RenderResult, Reviewer, UnsafeWriteError, sync, unchanged
from .project.layout import Scope

if TYPE_CHECKING:
    # Each stage is imported by the call that runs it (for example, the renderer and
    # Jinja when a plan is made, not to validate): a render that the manifest proves
    # unchanged, `render --check` on a tree in sync and `tfgen --version` import none of
    # them (tests/cli/test_imports.py).
    from .features.affected import Affected, Revision
    from .features.explain import Explanation
    from .features.graph import Graph
    from .importing import compare as import_compare
    from .importing import evaluate as import_evaluate
    from .importing import recover as import_recover
    from .project.catalog import LoadStats
    from .project.model import Project
    from .project.modules import lockfile
    from .rendering.plan import PlannedFile
    from .rendering.render import Renderer

DEFAULT_CONFIG = "environments.yaml"
Config = str | os.PathLike[str]

#: ``progress(stage, done, total)``: stage is "rendering" or "writing".
Progress = Callable[[str, int, int], None]


def _new_stats() -> LoadStats:
    from .project.catalog import LoadStats


    return LoadStats()


@dataclass(frozen=True)
class ValidationResult:
    """A loaded, valid project: the model, the warnings, and what loading did."""

    project: Project
    warnings: list[Diagnostic] = field(default_factory=list)
    config: Path = Path(DEFAULT_CONFIG)
    stats: LoadStats = field(default_factory=_new_stats, compare=False)
    seconds: float = 0.0

    def __repr__(self) -> str:  # short: print(generator.validate(...)) printed the whole model (1.3 MB)
        return f"<ValidationResult {self.config}: {self.project!r}, {len(self.warnings)} warnings>"


@dataclass(frozen=True)
class Plan:
    """The desired tree of a loaded project within a scope: files and their bytes."""

    loaded: ValidationResult
    scope: Scope
    files: list[PlannedFile]
    desired: dict[str, bytes]
    seconds: float = 0.0  # loading and planning
    #: the fingerprint of what the plan was made from (render() sets it; output/fingerprint.py)
    inputs: Fingerprint | None = None

    @property
    def project(self) -> Project:
        return self.loaded.project

    @property
    def output(self) -> Path:
        """Where the tree goes unless told otherwise: output/ beside the config."""
        return self.project.root / "output"

    def __repr__(self) -> str:
        return f"<Plan {self.loaded.config}: {len(self.desired)} files, {self.scope}>"


def find_config(config: Config = DEFAULT_CONFIG) -> Path:
    """*config*; for the default name, when the current directory has none, the first
    environments.yaml in a directory above it (as git finds .git), so tfgen works from
    anywhere inside a project."""
    path = Path(config)
    if os.fspath(config) != DEFAULT_CONFIG or path.exists():
        return path
    for directory in Path.cwd().parents:
        candidate = directory / DEFAULT_CONFIG
        if candidate.is_file():
            return candidate
    return path


def _check_output(out: Path, project: Project) -> None:
    """Refuse an output directory that would put the tree among the project's own files:
    the project directory (or one above it), its catalog/ or templates/."""
    target = out.resolve()
    root = project.root.resolve()
    places = ((root / "catalog", "the catalog"), (root / "templates", "the templates directory"))
    what = "the project directory" if target == root or target in root.parents else next(
        (name for place, name in places if target == place or place in target.parents), None
    )
    if what is not None:
        raise ArgumentError(
            [ArgumentProblem("output", os.fspath(out), f"is {what}; the rendered tree would be written among "
                             "the project's own files", hint="use output/ (the default) or another directory")],
            Location(display_path(project.document.file)),
            rule="output",
        )


_MEANT = re.compile(r"did you mean '([^']+)'")


def _without_cascades(found: list[Diagnostic], schema_problems: list[Diagnostic]) -> list[Diagnostic]:
    """Drop what follows from a misspelt key: with ``environments.dev.sizng`` unknown
    (did you mean 'sizing'?), dev has no sizing, and every rule that reads it would
    report that too. The typo is the one error to fix; a rule's error that names the
    same environment and the key meant is its consequence."""
    meant: list[tuple[str, str]] = []  # (environment, key meant)
    for problem in schema_problems:
        match = _MEANT.search(f"{problem.message} {problem.hint}")
        path = problem.path
        if problem.rule == "unknown-key" and match and len(path) == 3 and path[0] == "environments":
            meant.append((str(path[1]), match.group(1)))
    if not meant:
        return found

    def consequence(diagnostic: Diagnostic) -> bool:
        if diagnostic in schema_problems:
            return False
        text = f"{diagnostic.message} {format_key_path(diagnostic.path)}"
        return any(
            re.search(rf"\b{re.escape(key)}\b", text)
            and (re.search(rf"\b{re.escape(env)}\b", text) or diagnostic.path[:2] == ("environments", env))
            for env, key in meant
        )

    return [d for d in found if not consequence(d)]


def _strict(warning: Diagnostic) -> Diagnostic:
    from .project.modules import lockfile

    if warning.rule == lockfile.NO_LOCK_RULE:
        return warning  # informational: a project without remote modules locked yet
    hint = f"{warning.hint}; " if warning.hint else ""
    return replace(warning, severity="error", hint=f"{hint}an error under strict=True")


@contextlib.contextmanager
def _cycles_collected_after() -> Iterator[None]:
    """No cyclic garbage collection while a project loads or renders; the collector is
    back as it was after it. A render builds a few million objects that all stay alive
    until it ends (the model, the planned files, their bytes), and each full collection
    walks every one of them: at 50,000 units the collector's passes cost a sixth of the render and
    find next to nothing (the objects die with the render, by reference counting)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_cycles_collected_after()
def load(config: Config = DEFAULT_CONFIG, *, strict: bool = False) -> ValidationResult:
    """Load, validate and model a project; raise InputError with every problem found.

    Schema errors of environments.yaml and every problem of the catalog files are
    reported together; semantic rules run once the document has the right shape.
    Warnings come back in the result, or with the errors; *strict* makes them errors.
    """
    from . import checks
    from .project import schema
    from .project.catalog import LoadStats, blocking, load_catalog, unused_modules
    from .project.loader import load as load_document
    from .project.model import build_project, with_module_interfaces
    from .project.modules import lockfile
    from .rendering import stacks

    started = time.perf_counter()
    stats = LoadStats()
    path = find_config(config)
    stats.documents += 1
    doc = load_document(path, display_path(path))
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
    stats.schema_checks += 1
    problems = schema.validate_document(doc)
    root = path.resolve().parent
    modules, catalog_errors = load_catalog(root, doc, stats)
    if blocking(problems):
        raise InputError(problems + catalog_errors)
    catalog_errors += unused_modules(root, doc, modules)
    stats.projects += 1
    project, model_errors = build_project(root, doc, modules)
    interfaces, interface_notes = lockfile.interfaces(project, display_path(lockfile.lock_path(root)))
    project = with_module_interfaces(project, interfaces)
    model_errors += interface_notes
    # With a catalog file missing or broken, units of its module are not placed, and
    # rules that need every unit would be noise.
    unplaced = {s.name for s in project.unit_specs if s.module not in modules}
    found = problems + catalog_errors + model_errors
    stats.check_runs += 1
    found += checks.run(project, catalog_complete=not unplaced)
    if project.style == "stacks" and not unplaced:
        found += stacks.problems(project)
    found = _without_cascades(found, problems + catalog_errors)
    errors = [d for d in found if d.severity == "error"]
    warnings = [d for d in found if d.severity == "warning"]
    if strict:
        escalated = [_strict(w) for w in warnings]
        errors = errors + [w for w in escalated if w.severity == "error"]
        warnings = [w for w in escalated if w.severity == "warning"]
    if errors:
        raise InputError(errors + warnings)
    return ValidationResult(project, sorted_diagnostics(warnings), path, stats, time.perf_counter() - started)


def validate(config: Config = DEFAULT_CONFIG, *, strict: bool = False) -> ValidationResult:
    """Schema and semantic checks; raises InputError listing every error."""
    return load(config, strict=strict)


def _stage(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


@_cycles_collected_after()
def plan(
    loaded: ValidationResult,
    *,
    scope: Scope | None = None,
    renderer: Renderer | None = None,
    progress: Progress | None = None,
    style: str | None = None,
) -> Plan:
    """The desired tree of *loaded* within *scope* (everything by default), rendered in
    memory. ArgumentError when the scope names an environment or region the project
    lacks. *renderer* (one per run by default) may be passed to share or inspect it.
    *style* (classic or stacks) replaces the project's ``style:``."""
    from .project.model import check_scope
    from .rendering import stacks

    started = time.perf_counter()
    scope = scope or Scope()
    if style is not None and style != loaded.project.style:
        loaded = replace(loaded, project=_styled(loaded.project, style))
    project = loaded.project
    check_scope(project, scope)
    files = stacks.plan_style(project, scope, loaded.config.name)
    from .rendering.render import Renderer

    renderer = renderer or Renderer(project.root / "templates")
    desired = renderer.render_all(files, _stage(progress, "rendering"))
    return Plan(loaded, scope, files, desired, loaded.seconds + time.perf_counter() - started)


def _displayed(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics about output files, with paths as the user would type them."""
    return [replace(d, location=replace(d.location, file=display_path(d.location.file))) for d in diagnostics]


@_cycles_collected_after()
def _sync(
    planned: Plan,
    output: Config | None,
    *,
    write: bool,
    force: bool,
    allow_orphan: bool,
    lock_timeout: float,
    progress: Progress | None,
    switch_style: bool = False,
) -> RenderResult:
    from .features import stacks as stacks_views

    started = time.perf_counter()
    out = Path(output) if output is not None else planned.output
    _check_output(out, planned.project)
    desired, placed = _placed(planned, out)
    warnings = planned.loaded.warnings + placed
    extra = tuple(planned.project.document.data.get("output_extra_files") or ())
    record = None
    if planned.inputs is not None:
        record = fingerprint.make_record(planned.project.root, planned.inputs, extra, warnings)
    review: Reviewer = stacks_views.reviewer(
        planned.project, planned.scope, switch_style=switch_style, allow_orphan=allow_orphan, display=display_path
    )
    try:
        result = sync(
            out,
            planned.project,
            planned.scope,
            desired,
            write=write,
            force=force,
            allow_orphan=allow_orphan,
            lock_timeout=lock_timeout,
            progress=_stage(progress, "writing"),
            display=display_path,
            review=review,
            allowed_extra=extra,
            inputs=record,
        )
    except UnsafeWriteError as error:
        error.result = replace(error.result, warnings=warnings + _displayed(error.result.warnings))
        raise
    except OutputError as error:  # corrupt manifest, lock, a directory where a file belongs
        raise OutputError(_displayed(error.diagnostics)) from None
    except OSError as exc:
        raise OutputAccessError([_access_problem(exc, out)]) from None
    seconds = planned.seconds + time.perf_counter() - started
    return replace(result, warnings=warnings + _displayed(result.warnings), seconds=seconds)


def _access_problem(exc: OSError, out: Path) -> Diagnostic:
    """What the file system refused, at the path it refused: a directory is shown with
    its trailing slash (``output/``), never tfgen's temporary file inside it."""
    where = exc.filename if isinstance(exc.filename, str) else str(out)
    directory = os.path.isdir(where)
    if os.path.basename(where).endswith(TEMP_SUFFIX):  # creating a file in the directory failed
        where, directory = os.path.dirname(where) or str(out), True
    shown = display_path(where) + ("/" if directory else "")
    reason = (exc.strerror or str(exc)).lower()
    what = "cannot write into this directory" if directory else "cannot write"
    refused = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    hint = f"make {shown} writable for this user, or render into another directory" if refused else ""
    return Diagnostic(f"{what}: {reason}", Location(shown), rule="io", hint=hint)


def _placed(planned: Plan, out: Path) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The desired tree with the GitHub workflow at the repository root (found with git)
    instead of in the output directory, as a path relative to it (``../.github/...``).
    Without a repository, or with an output directory outside it, the workflow stays in
    the tree (to be copied, as with ``in_output: true``) and a warning says so."""
    from .project import revision
    from .rendering import pipelines

    paths = [p for p in pipelines.repository_files(planned.project) if p in planned.desired]
    if not paths:
        return dict(planned.desired), []
    project = planned.project
    top = revision.repository_root(project.root)
    resolved = out.resolve()
    if top is None or not resolved.is_relative_to(top.resolve()):
        problem = (f"no git repository holds {project.root}" if top is None
                   else f"the output directory {display_path(str(out))} is outside the repository {top}")
        return dict(planned.desired), [
            Diagnostic(
                f"{problem}: the workflow goes to {display_path(str(out / p))} instead; copy it to {p} at the "
                "repository root, where GitHub reads it (its first job fails when the copy differs)",
                project.document.locate(("ci", "github_actions")),
                ("ci", "github_actions"),
                severity="warning",
                rule="ci-workflow-path",
                hint="run tfgen inside the repository, or set ci.github_actions.in_output: true to say so",
            )
            for p in paths
        ]
    desired = dict(planned.desired)
    for path in paths:
        desired[Path(os.path.relpath(top.resolve() / path, resolved)).as_posix()] = desired.pop(path)
    return desired, []


def diff(
    planned: Plan,
    *,
    output: Config | None = None,
    force: bool = False,
    allow_orphan: bool = False,
    lock_timeout: float = 30.0,
    switch_style: bool = False,
) -> RenderResult:
    """Compare *planned* with the output tree (output/ beside the config by default);
    write nothing. ``result.in_sync`` says whether the tree is up to date;
    ``result.refused`` the files, and ``result.review_refusals`` the other reasons
    (a style switch without *switch_style*), that applying it with the same flags refuses."""
    return _sync(
        planned, output, write=False, force=force, allow_orphan=allow_orphan, lock_timeout=lock_timeout,
        progress=None, switch_style=switch_style,
    )


def apply(
    planned: Plan,
    *,
    output: Config | None = None,
    force: bool = False,
    allow_orphan: bool = False,
    lock_timeout: float = 30.0,
    progress: Progress | None = None,
    switch_style: bool = False,
) -> RenderResult:
    """Write *planned* into the output tree: only files whose bytes change, deleting the
    stale files tfgen wrote. Raises UnsafeWriteError (writing nothing) when that would
    overwrite a hand edit or a file tfgen did not write (unless *force*), or delete the
    files of protected infrastructure (unless *allow_orphan*), or replace the other
    style's tree of the same units (unless *switch_style*). The comparison is made
    afresh under the write lock."""
    return _sync(
        planned,
        output,
        write=True,
        force=force,
        allow_orphan=allow_orphan,
        lock_timeout=lock_timeout,
        progress=progress,
        switch_style=switch_style,
    )


@_cycles_collected_after()
def render(
    config: Config = DEFAULT_CONFIG,
    *,
    output: Config | None = None,
    scope: Scope | None = None,
    write: bool = True,
    strict: bool = False,
    force: bool = False,
    allow_orphan: bool = False,
    lock_timeout: float = 30.0,
    progress: Progress | None = None,
    style: str | None = None,
    switch_style: bool = False,
) -> RenderResult:
    """load, plan and apply (or, unless *write*, diff). *progress*, if given, is called
    as files are rendered and written. *style* (classic or stacks) replaces the
    project's ``style:``; replacing the other style's tree of the same units is refused
    (UnsafeWriteError) unless *switch_style*.

    A render of everything whose inputs are those the manifest's fingerprint records,
    into a tree whose files are the bytes it records, is known to change nothing: it
    returns after reading the inputs and the tree, without loading the project
    (output/fingerprint.py)."""
    path = find_config(config)
    if scope is None or scope.everything:
        quick = _unchanged(path, output, write=write, strict=strict, style=style, lock_timeout=lock_timeout)
        if quick is not None:
            return quick
    loaded = load(path, strict=strict)
    inputs = _fingerprint(loaded, output, style)  # before the templates are read: a change during the render shows
    planned = replace(plan(loaded, scope=scope, progress=progress, style=style), inputs=inputs)
    if not write:
        return diff(planned, output=output, force=force, allow_orphan=allow_orphan, lock_timeout=lock_timeout,
                    switch_style=switch_style)
    return apply(
        planned,
        output=output,
        force=force,
        allow_orphan=allow_orphan,
        lock_timeout=lock_timeout,
        progress=progress,
        switch_style=switch_style,
    )


def _unchanged(
    path: Path, output: Config | None, *, write: bool, strict: bool, style: str | None, lock_timeout: float
) -> RenderResult | None:
    root = path.resolve().parent
    out = Path(output) if output is not None else root / "output"
    try:
        return unchanged(out, root, path, write=write, strict=strict, style=style, lock_timeout=lock_timeout,
                         display=display_path)
    except OutputError as error:  # the lock
        raise OutputError(_displayed(error.diagnostics)) from None
    except OSError:  # whatever it is, the full render meets it again and says what it is
        return None


def _fingerprint(loaded: ValidationResult, output: Config | None, style: str | None) -> Fingerprint:
    """What a render of *loaded* reads (output/fingerprint.py), and its digest now."""
    from .project.modules import lockfile
    from .project.modules.interface import module_folders
    from .rendering import pipelines

    project = loaded.project
    out = Path(output) if output is not None else project.root / "output"
    folders = [folder for directory in lockfile.local_directories(project) for folder in module_folders(directory)]
    read = fingerprint.inputs_of(project.root, loaded.config, folders)
    placed = bool(pipelines.repository_files(project))
    where = fingerprint.placement(project.root, out) if placed else None
    return Fingerprint(fingerprint.inputs_digest(project.root, loaded.config, read, style, where), read, placed)


def check(
    config: Config = DEFAULT_CONFIG,
    *,
    output: Config | None = None,
    scope: Scope | None = None,
    strict: bool = False,
    lock_timeout: float = 30.0,
    style: str | None = None,
) -> RenderResult:
    """Compare a fresh render with the output tree; write nothing. ``result.in_sync``.
    (When the manifest's fingerprint is of these inputs, the tree's files are compared
    with the hashes it records instead: see render.)"""
    return render(
        config, output=output, scope=scope, write=False, strict=strict, lock_timeout=lock_timeout, style=style
    )


def _styled(project: Project, style: str | None) -> Project:
    from .rendering import stacks

    if style is None:
        return project
    if style not in stacks.STYLES:
        problem = ArgumentProblem("style", style, f"expected one of {', '.join(stacks.STYLES)}")
        raise ArgumentError([problem], Location(project.document.file), "style")
    return replace(project, style=style)


def graph(config: Config = DEFAULT_CONFIG, *, scope: Scope | None = None, style: str | None = None) -> Graph:
    """The dependency graph of the units within *scope* (all units by default); the
    directories are those of *style* (the project's own by default)."""
    from .features import stacks as stacks_views
    from .features.graph import select
    from .project.model import check_scope

    scope = scope or Scope()
    project = _styled(load(config).project, style)
    check_scope(project, scope)
    return stacks_views.graph(select(project, scope), project)


def explain(config: Config = DEFAULT_CONFIG, address: str = "", *, style: str | None = None) -> Explanation:
    """Where every value of ENV, ENV/REGION or ENV/REGION/UNIT comes from, in the files
    of *style* (the project's own by default)."""
    from .features import stacks as stacks_views
    from .features.explain import explain as explain_address

    project = _styled(load(config).project, style)
    found = explain_address(project, address, display_path(project.root / "output"))
    return stacks_views.explanation(found, project)


def _rendered(config: Path, label: str) -> Revision:
    from .features.affected import Revision

    loaded = load(config)
    return Revision(label, loaded.project, plan(loaded).desired)


def _at_revision(config: Path, ref: str) -> Revision:
    """The project as it was at git revision *ref*, rendered in memory; diagnostics
    about its files name them as REF:path."""
    from .features import affected as affected_units
    from .features.affected import Revision
    from .project import revision

    files = revision.read(config, ref)
    if files is None:
        return Revision(ref, None, {})
    with disk.temporary_tree(files, prefix="tfgen-rev-") as root:
        try:
            return _rendered(root / config.name, ref)
        except TfgenError as error:
            raise InputError([affected_units.relocate(d, str(root), ref) for d in error.diagnostics]) from None


def affected(
    config: Config = DEFAULT_CONFIG, *, base: str, head: str | None = None, tenants: Sequence[str] = ()
) -> Affected:
    """The units that change between git revision *base* and *head* (None: the working
    tree), with reasons, in destroy and apply waves per environment; with *tenants*,
    only those tenants' units."""
    from .features import affected as affected_units

    path = Path(config)
    if not path.is_file() and head is None:
        raise InputError([Diagnostic(f"{path}: no such file", Location(str(path)), rule="io")])
    old = _at_revision(path, base)
    new = _at_revision(path, head) if head is not None else _rendered(path, "working tree")
    result = affected_units.compare(old, new)
    return affected_units.only_tenants(result, tuple(tenants)) if tenants else result


def init(
    directory: Config = ".",
    *,
    project: str | None = None,
    environments: Sequence[str] = ("dev",),
    regions: Sequence[str] = ("us-east-1",),
) -> list[Path]:
    """Create a new project in *directory*; never overwrites a file (InputError instead)."""
    from .features.scaffold import INIT, Options, project_name_for, scaffold_files

    target = Path(directory)
    options = Options(project or project_name_for(target), tuple(environments), tuple(regions))
    written = disk.write_new(target, scaffold_files(options), INIT)
    return [target / path for path in written]


def lock_path(config: Config = DEFAULT_CONFIG) -> Path:
    """Where the module lock of the project *config* lives (catalog/.tfgen-modules.lock.json)."""
    from .project.modules import lockfile

    return lockfile.lock_path(Path(config).parent)


def modules_lock(
    config: Config = DEFAULT_CONFIG,
    *,
    hosts: dict[str, str] | None = None,
    modules: Sequence[str] = (),
    refresh: bool = False,
) -> lockfile.LockResult:
    """Complete catalog/.tfgen-modules.lock.json: download each pinned remote module
    version the lock does not hold yet (each package once), keep the others as they are.

    *modules* limits it to those catalog modules (ArgumentError for a name the catalog
    lacks); *refresh* downloads every version in scope again. The project is validated
    first (without the interface rules' findings blocking: a stale lock is what this
    command repairs)."""
    from .project.modules import lockfile

    project = _project_for_lock(config)
    problems = lockfile.unknown_modules(project, modules)
    if problems:
        raise ArgumentError(problems, Location(lockfile.COMMAND), rule="unknown-module")
    result = lockfile.lock(project, hosts, shown=display_path(lockfile.lock_path(project.root)), refresh=refresh,
                           modules=modules)
    if result.changed:
        disk.write_atomic(result.path, result.data)
    return result


def modules_lock_check(config: Config = DEFAULT_CONFIG) -> list[Diagnostic]:
    """Why the module lock does not match the catalog; empty when it does. Offline."""
    from .project.modules import lockfile

    project = _project_for_lock(config)
    return lockfile.check_lock(project, display_path(lockfile.lock_path(project.root)))


#: Findings that `tfgen modules lock` itself repairs or that need the lock to be judged
#: (and the lockfile's NO_LOCK_RULE).
_LOCK_RULES = frozenset(
    {"unknown-input", "required-input", "input-type", "unknown-output", "module-lock", "module-lock-stale"}
)


def _project_for_lock(config: Config) -> Project:
    from .project.catalog import LoadStats, load_catalog
    from .project.loader import load as load_document
    from .project.model import build_project
    from .project.modules import lockfile

    try:
        return load(config).project
    except InputError as error:
        rules = _LOCK_RULES | {lockfile.NO_LOCK_RULE}
        found = [d for d in error.diagnostics if d.severity == "error" and d.rule not in rules]
        if found:
            raise InputError(found) from None
    # Only interface findings: model the project without them.
    path = Path(config)
    doc = load_document(path, display_path(path))
    root = path.resolve().parent
    modules, _ = load_catalog(root, doc, LoadStats())
    return build_project(root, doc, modules)[0]


IMPORT = Location("tfgen import")


@dataclass(frozen=True)
class ImportResult:
    """What ``tfgen import`` wrote (or would write) and what its report says."""

    source: Path
    directory: Path
    written: list[Path]
    recovered: import_recover.Recovered = field(repr=False)
    #: The round trip, unit by unit (import_project(check=True) and import_check only).
    comparisons: list[import_compare.UnitComparison] = field(default_factory=list)


def _import_source(source: Config) -> Path:
    path = Path(source)
    if not path.is_dir():
        raise InputError([Diagnostic(f"{path}: not a directory (a Terragrunt live tree)", IMPORT, rule="import")])
    return path


def _project_name(source: Path) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", source.resolve().name.lower()).strip("-")
    if not name or not name[0].isalpha():
        name = "live" + ("-" + name if name else "")
    return name[:63].rstrip("-")


def import_project(source: Config, directory: Config = ".", *, check: bool = False) -> ImportResult:
    """Read the Terragrunt tree *source* with Terragrunt and write the project recovered
    from it (environments.yaml, catalog/) into *directory*. Never writes into *source* and
    never replaces a file (InputError instead). *check* also runs the round trip."""
    tree = _import_source(source)
    target = Path(directory)
    inside = target.resolve() == tree.resolve() or tree.resolve() in target.resolve().parents
    if inside:
        raise InputError(
            [
                Diagnostic(
                    f"{target}: inside the source tree {tree}; tfgen import never writes there",
                    IMPORT,
                    rule="import",
                    hint="pass another directory: tfgen import SOURCE -o DIR",
                )
            ]
        )
    if (target / DEFAULT_CONFIG).exists():
        raise InputError(
            [Diagnostic(f"{target / DEFAULT_CONFIG}: a project is already there; tfgen import never overwrites it",
                        IMPORT, rule="import", hint="pass an empty directory: tfgen import SOURCE -o DIR")]
        )
    tools, files, evaluation = _evaluated(tree)
    recovered, texts = _recovered(tree, target, files, evaluation)
    written = disk.write_new(target, texts, IMPORT)
    comparisons = _round_trip(target, tools, evaluation, recovered) if check else []
    return ImportResult(tree, target, [target / p for p in written], recovered, comparisons)


def import_check(source: Config) -> ImportResult:
    """The round trip of *source*: import it into a temporary directory, render that, and
    compare Terragrunt's evaluation of both trees unit by unit. Writes nothing that stays."""
    tree = _import_source(source)
    tools, files, evaluation = _evaluated(tree)
    with disk.temporary_tree({}, prefix="tfgen-import-check-") as work:
        recovered, texts = _recovered(tree, work, files, evaluation)
        disk.write_new(work, texts, IMPORT)
        comparisons = _round_trip(work, tools, evaluation, recovered)
    return ImportResult(tree, Path(), [], recovered, comparisons)


def _evaluated(
    tree: Path,
) -> tuple[import_evaluate.Tools, dict[str, bytes], import_evaluate.Evaluation]:
    from .importing import evaluate as import_evaluate

    tools = import_evaluate.Tools.find()
    files = import_evaluate.tree_files(tree)
    evaluation = import_evaluate.evaluate(tree, tools, files)
    if not evaluation.units:
        problem = f"{tree}: no Terragrunt unit found (no terragrunt.hcl below it)"
        raise InputError([Diagnostic(problem, IMPORT, rule="import")])
    return tools, files, evaluation


def _recovered(
    tree: Path, target: Path, files: dict[str, bytes], evaluation: import_evaluate.Evaluation
) -> tuple[import_recover.Recovered, dict[str, str]]:
    from .importing import documents as import_documents
    from .importing import recover as import_recover

    recovered = import_recover.recover(evaluation.units, files, _project_name(tree), tree.resolve(), target.resolve())
    return recovered, import_documents.files(recovered, tree.name)


def _round_trip(
    project: Path,
    tools: import_evaluate.Tools,
    evaluation: import_evaluate.Evaluation,
    recovered: import_recover.Recovered,
) -> list[import_compare.UnitComparison]:
    """Render the imported *project* (into its output/) and compare both evaluations."""
    from .importing import compare as import_compare
    from .importing import evaluate as import_evaluate

    render(project / DEFAULT_CONFIG)
    rendered = import_evaluate.evaluate(project / "output", tools)
    roots = (evaluation.root, rendered.root)
    dags = (evaluation.dag, rendered.dag)
    return import_compare.compare(evaluation.units, rendered.units, recovered.directories(), roots, dags)
