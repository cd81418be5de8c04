"""The ownership and protection policy: what a render may write and delete, which
environments are protected, the manifest it leaves, and why a write is refused.
:func:`sync` runs one comparison (and, when writing, one apply) under the lock; the
mechanism lives in state.py (reading), diff.py (comparing) and disk.py (writing)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import Diagnostic, Location, OutputError
from ..project import layout
from ..project.layout import Scope, environment_of, parent
from . import disk, fingerprint
from .diff import STATUSES, TOOL_DIRECTORIES, Change, Survey, compare, foreign_among, foreign_files
from .fingerprint import Record
from .state import Manifest, State, digest, read_state

if TYPE_CHECKING:  # a tree proven unchanged (unchanged() below) needs no model
    from ..project.model import Project
    from ..project.moves import Move


class Notice(Protocol):
    """Something a render has to tell beside its changes (a style switch: build/stacks.py)."""

    def lines(self) -> list[str]: ...

    def as_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Review:
    """What the planning stage adds to the policy of one render, decided on the
    comparison made under the lock (style: stacks, features/stacks.py)."""

    unprotected: frozenset[str] = frozenset()  # deletions that orphan nothing: not protected
    refusals: Sequence[Diagnostic] = ()  # applying must refuse, writing nothing, for these
    notice: Notice | None = None


#: ``review(out, changes, protected)``, called once per comparison.
Reviewer = Callable[[Path, Sequence[Change], Callable[[str], bool]], Review]


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
    moved: list[Move] = field(default_factory=list)  # units whose old files go now, state key kept
    #: set when this render replaces the tree of the other style (build/stacks.py StyleSwitch)
    switch: Notice | None = None
    #: files under output/ that tfgen did not write and Terragrunt would pick up (compared only)
    foreign: list[str] = field(default_factory=list)
    #: why writing this render would be refused beyond single files (a style switch without
    #: switch_style, a unit block dropped from a protected stack): a dry run reports them too
    review_refusals: tuple[Diagnostic, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for c in self.changes if c.status == status)

    def __repr__(self) -> str:  # short: the changes hold every file's bytes
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        return f"<RenderResult {self.output}: {counts or 'no files'}, written={self.written}, in_sync={self.in_sync}>"

    @property
    def files(self) -> int:
        """How many files the render produces (stale files are not counted)."""
        return sum(1 for c in self.changes if c.new is not None)

    @property
    def in_sync(self) -> bool:
        unchanged = all(c.status == "unchanged" for c in self.changes)
        return unchanged and self.manifest == "unchanged" and not self.interrupted and not self.foreign

    @property
    def refused(self) -> list[Change]:
        return [c for c in self.changes if c.refused(force=self.force, allow_orphan=self.allow_orphan)]

    def counts(self) -> dict[str, int]:
        """Files per status, and what applying does: written as created/changed, deleted."""
        counts: dict[str, int] = {status: self.count(status) for status in STATUSES}
        counts["deleted"] = sum(1 for c in self.changes if c.action == "delete") if self.written else 0
        return counts


class UnsafeWriteError(OutputError):
    """render refused: hand-edited or unowned files, or protected infrastructure would be
    orphaned. Nothing was written; *result* holds the full comparison (for diffs)."""

    def __init__(self, diagnostics: list[Diagnostic], result: RenderResult) -> None:
        super().__init__(diagnostics)
        self.result = result


def protection(project: Project, manifest: Manifest | None) -> Callable[[str], bool]:
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


def next_manifest(
    project: Project,
    scope: Scope,
    state: State,
    survey: Survey,
    desired: dict[str, bytes],
    was_protected: Callable[[str], bool],
    inputs: Record | None = None,
) -> Manifest:
    """Out-of-scope entries as they were, in-scope ones as this render leaves them. The
    fingerprint *inputs* is recorded for a render of everything; a render of a part
    keeps the one recorded only if it is of the same inputs (the other environments'
    files were then rendered from them too), and records none otherwise."""
    old = dict(state.manifest.files) if state.manifest else {}
    dropped = {c.path for c in survey.changes if c.action == "delete"} | set(survey.vanished)
    files = {p: h for p, h in old.items() if p not in dropped}
    files.update({p: digest(data) for p, data in desired.items()})
    rendered = {e.name: e.deletion_protection for e in project.environments if scope.includes(e.name)}
    environments = {e for e in map(environment_of, files) if e is not None}
    protected = sorted(e for e in environments if rendered.get(e, was_protected(e)))
    if not scope.everything:
        kept = state.manifest.inputs if state.manifest else None
        inputs = kept if kept is not None and inputs is not None and kept.digest == inputs.digest else None
    if inputs is not None:
        inputs = replace(inputs, tree=fingerprint.tree_digest(files, protected))
    return Manifest(files, tuple(protected), inputs)


def sync(
    out: Path,
    project: Project,
    scope: Scope,
    desired: dict[str, bytes],
    *,
    write: bool,
    force: bool = False,
    allow_orphan: bool = False,
    lock_timeout: float = 30.0,
    progress: Callable[[int, int], None] | None = None,
    display: Callable[[Path], str] = str,
    review: Reviewer | None = None,
    allowed_extra: tuple[str, ...] = (),
    inputs: Record | None = None,
) -> RenderResult:
    """Compare *desired* with *out* and, when *write*, apply it; all under one lock
    and one reading of the manifest. Raises UnsafeWriteError, writing nothing, when
    the policy (and *review*, if given) refuses a change. *inputs*, the fingerprint of
    what *desired* was rendered from, goes into the manifest (next_manifest)."""
    with disk.locked(out, exclusive=write, timeout=lock_timeout):
        state = read_state(out, force=force)
        is_protected = protection(project, state.manifest)
        survey = compare(out, desired, state, prune=scope.may_prune, protected=is_protected)
        survey, moved = keep_moved_state(project, survey)
        survey = release_unprotected_units(survey)
        reviewed = review(out, survey.changes, is_protected) if review is not None else Review()
        if reviewed.unprotected:
            survey = replace(
                survey,
                changes=[replace(c, protected=False) if c.path in reviewed.unprotected else c for c in survey.changes],
            )
        manifest = next_manifest(project, scope, state, survey, desired, is_protected, inputs)
        result = RenderResult(
            out,
            survey.changes,
            list(state.warnings),
            0.0,
            False,
            state.manifest_status(manifest),
            state.interrupted,
            force=force,
            allow_orphan=allow_orphan,
            moved=moved,
            switch=reviewed.notice,
            foreign=[] if write else foreign_files(out, desired, state, allowed=allowed_extra, prune=scope.may_prune),
            review_refusals=tuple(reviewed.refusals),
        )
        if write:
            if reviewed.refusals:
                raise UnsafeWriteError(list(reviewed.refusals), result)
            refused = result.refused
            if refused:
                raise UnsafeWriteError(explain_refusals(out, refused, display), result)
            disk.apply(out, survey, manifest, state, progress=progress)
            deleted = [c.path for c in survey.changes if c.action == "delete"]
            kept = disk.kept_directories(out, deleted, manifest.files) if deleted else []
            result = replace(result, written=True, kept=kept)
    return result


def unchanged(
    out: Path,
    root: Path,
    config: Path,
    *,
    write: bool,
    strict: bool,
    style: str | None,
    lock_timeout: float = 30.0,
    display: Callable[[str], str] = str,
) -> RenderResult | None:
    """The render of everything in *config* (in *root*) into *out*, when the manifest
    proves it changes nothing: its fingerprint is of these inputs (fingerprint.matches),
    every file it records is on disk with the bytes it records, nothing is left of an
    interrupted render and, when comparing, no file tfgen did not write is where
    Terragrunt would pick it up and no symbolic link is in the tree. None when any of
    that does not hold: the caller renders in full, which reports why. (A render that
    writes takes this path without looking for links among directories: it writes
    nothing, so it writes nothing through one; the next render that writes refuses it.)"""
    started = time.perf_counter()
    with disk.locked(out, exclusive=False, timeout=lock_timeout):
        try:
            state = read_state(out)
        except OutputError:
            return None
        manifest = state.manifest
        record = manifest.inputs if manifest is not None else None
        if manifest is None or record is None or state.interrupted or state.warnings:
            return None
        if strict and record.warnings:  # the full render reports them as errors
            return None
        if manifest.protected is None or fingerprint.tree_digest(manifest.files, manifest.protected) != record.tree:
            return None  # edited by hand since the render that wrote the record
        if not fingerprint.matches(root, config, record, out, style):
            return None
        if not write:
            inside = fingerprint.listing(out, TOOL_DIRECTORIES)
            outside = [path for path in manifest.files if layout.is_outside(path)]
            if inside is None or fingerprint.outside_links(out, outside):
                return None
            if foreign_among(inside, manifest.files, state, allowed=record.extra_files):
                return None
        found = fingerprint.verify(out, manifest.files, digest)
        if found is None:
            return None
    changes = [Change.unchanged(path, data) for path, data in sorted(found.items())]
    warnings = fingerprint.replayed(root, record, display)
    return RenderResult(out, changes, warnings, time.perf_counter() - started, write)


def keep_moved_state(project: Project, survey: Survey) -> tuple[Survey, list[Move]]:
    """The old files of a renamed or moved unit may go, even in a protected environment:
    its state key stays where they were (``previous:``), nothing is orphaned."""
    from ..project.moves import moves

    found = [m for m in moves(project) if any(c.path.startswith(m.state_directory + "/") for c in survey.changes)]
    kept = tuple(m.state_directory + "/" for m in found)
    if not kept:
        return survey, []
    changes = [
        replace(c, protected=False) if c.protected and c.action == "delete" and c.path.startswith(kept) else c
        for c in survey.changes
    ]
    return replace(survey, changes=changes), found


#: What a protected unit's rendered terragrunt.hcl holds (templates/terragrunt.hcl.j2).
_PREVENT_DESTROY = b"\nprevent_destroy = true\n"
#: What the leaf of a unit that lifts its environment's protection binds (plan._leaf): a
#: positive mark, so that a custom template that drops prevent_destroy releases nothing.
_LIFTED = b"{ deletion_protection = false })\n"


def release_unprotected_units(survey: Survey) -> Survey:
    """The files of a removed unit may go, even in a protected environment, when its last
    render lifted the protection (the unit's own ``deletion_protection: false``): that is
    the way to destroy one unit of a protected environment (apply with the protection
    lifted, destroy, then remove it), and its rendered terragrunt.hcl, as tfgen wrote it,
    records that nothing guards it any longer."""
    released = tuple(
        parent(c.path) + "/"
        for c in survey.changes
        if c.protected
        and c.action == "delete"
        and c.status == "stale"
        and c.path.endswith("/" + layout.UNIT_FILE)
        and c.old is not None
        and _PREVENT_DESTROY not in c.old
        and _LIFTED in c.old
    )
    changes = [
        replace(c, protected=False) if c.protected and c.action == "delete" and c.path.startswith(released) else c
        for c in survey.changes
    ] if released else list(survey.changes)
    # An offboarded tenant's tenant.hcl deploys nothing: it goes once none of the
    # tenant's units there is kept by protection.
    guarded = [parent(c.path) for c in changes
               if c.protected and c.action == "delete" and c.path.endswith("/" + layout.UNIT_FILE)]
    lone = tuple(
        c.path for c in changes
        if c.protected and c.action == "delete" and c.path.endswith("/" + layout.TENANT_FILE)
        and layout.tenant_of(c.path) is not None
        and not any(d.startswith(parent(c.path) + "/") for d in guarded)
    )
    if not released and not lone:
        return survey
    changes = [replace(c, protected=False) if c.path in lone else c for c in changes]
    return replace(survey, changes=changes)


def _orphaned_directories(changes: Iterable[Change]) -> dict[str, str]:
    """The top-most directories whose files a refused deletion would remove -> environment."""
    directories = {parent(c.path): c.environment or "" for c in changes}
    return {
        d: e
        for d, e in sorted(directories.items())
        if not any(d.startswith(other + "/") for other in directories if other != d)
    }


def explain_refusals(
    output: Path, refused: Iterable[Change], display: Callable[[Path], str] = str
) -> list[Diagnostic]:
    """One diagnostic per refused file (per directory for protected deletions)."""
    diagnostics: list[Diagnostic] = []
    orphans: list[Change] = []
    for change in refused:
        where = Location(display(output / change.path))
        if change.status == "unowned":
            diagnostics.append(
                Diagnostic(
                    "exists but tfgen did not write it (it is not in the manifest) and it differs from the render; "
                    "not overwritten",
                    where,
                    rule="unowned",
                    hint="move it away, or pass force=True to replace it",
                )
            )
        elif change.status == "hand-edited" and change.new is None:
            diagnostics.append(
                Diagnostic(
                    "edited by hand since tfgen wrote it, and no longer rendered; not deleted",
                    where,
                    rule="hand-edited",
                    hint="pass force=True to delete it",
                )
            )
        elif change.status == "hand-edited":
            also = " (and the input changed it too)" if change.input_changed else ""
            diagnostics.append(
                Diagnostic(
                    f"edited by hand since tfgen wrote it{also}; not overwritten",
                    where,
                    rule="hand-edited",
                    hint="move the edit into the YAML, or pass force=True to discard it",
                )
            )
        else:
            orphans.append(change)
    for directory, environment in _orphaned_directories(orphans).items():
        diagnostics.append(
            Diagnostic(
                f"removed from the YAML, but environment {environment} has deletion_protection: true; deleting "
                "its files would orphan the live infrastructure they deployed, so nothing was deleted",
                Location(display(output / directory) if directory else display(output)),
                rule="orphan",
                hint="renamed or moved? give the unit previous: OLD-NAME (or LAYER/NAME) so it keeps this state; "
                + destroy_advice(directory, environment),
            )
        )
    return diagnostics


def destroy_advice(directory: str, environment: str) -> str:
    """The narrow way to destroy what a refused deletion would orphan: lift protection on
    that unit only (not on the whole environment, which would also drop deletion
    protection and final snapshots of every database there), apply, destroy, remove.
    ``deletion_protection: false`` on the unit's override in that region removes its
    prevent_destroy and sets every catalog input that follows the policy to false."""
    parts = directory.split("/")
    region = parts[2] if len(parts) >= 3 else None
    tenant = layout.tenant_of(directory + "/" + layout.UNIT_FILE)
    if tenant is not None:  # environments/<env>/<region>/tenants/<tenant>[/<layer>/<unit>]
        unit = parts[6] if len(parts) >= 7 else None
        place = f"tenants.{tenant}"
    else:
        unit = parts[4] if len(parts) >= 5 else None
        place = f"environments.{environment}" + (f".regions.{region}" if region else "")
    which = f"unit {unit}" if unit else "each of its units"
    override = f"{place}.units.{unit or '<unit>'}: {{deletion_protection: false}}"
    here = f" in {directory}" if unit else ""
    return (
        f"to destroy it: put it back, give {which} the override `{override}` (not the environment's "
        f"deletion_protection), render and run `terragrunt apply`{here} (it lifts prevent_destroy, and AWS "
        "refuses to delete a protected database until an apply has lifted its flag), then `terragrunt destroy`"
        f"{here}, then remove it from the YAML and render; "
        "or pass allow_orphan=True to leave it running unmanaged"
    )
