"""The only module that writes: desired tree vs disk -> changes -> atomic apply.

Ownership: ``.tfgen-manifest.json`` records every file tfgen wrote with the hash of the
bytes it wrote, and which environments were rendered with ``deletion_protection``.
A file is tfgen's to change or delete only if its bytes on disk still hash to what the
manifest recorded; anything else is a hand edit (refused without ``force``) or a file
tfgen never wrote (never deleted, never overwritten without ``force``).

Crash safety: every file is written to a temporary file in its own directory, fsynced
and renamed over the target, so each file is always either old or new. Before the
first file changes, a journal (``.tfgen-journal.json``) records the hash of every file
about to be written; the manifest is written last and the journal removed after it.
A render that finds a journal knows the previous one was interrupted: it accepts the
journal's hashes as tfgen's own (so a half-applied tree is not mistaken for hand
edits), removes leftover temporary files, and completes the tree.

Concurrency: a render holds an exclusive ``flock`` on the output directory itself
(no lock file to commit or ignore); ``--check`` holds a shared one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import posixpath
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

from . import __version__
from .errors import Diagnostic, Location, OutputError

MANIFEST = ".tfgen-manifest.json"
JOURNAL = ".tfgen-journal.json"
TEMP_SUFFIX = ".tfgen-tmp"
MANIFEST_FORMAT = 1

#: What comparing one path finds. ``stale``: tfgen wrote it, it is no longer rendered;
#: ``hand-edited``: its bytes differ from what tfgen wrote; ``unowned``: tfgen is about
#: to write a path that holds a file tfgen did not write.
Status = Literal["created", "changed", "unchanged", "stale", "hand-edited", "unowned"]
STATUSES: tuple[Status, ...] = ("created", "changed", "stale", "hand-edited", "unowned", "unchanged")
Action = Literal["write", "delete", "none"]

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_safe_path(path: str) -> bool:
    """A relative posix path that stays inside the output directory."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path or path in (MANIFEST, JOURNAL):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def environment_of(path: str) -> str | None:
    """``environments/<env>/...`` -> ``<env>``; shared files -> None."""
    parts = path.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "environments" else None


# --- manifest and journal ---------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, str]  # path -> digest of the bytes tfgen wrote
    #: environments rendered with deletion_protection: true; None when the manifest
    #: predates this record (protection then unknown, assumed for removed environments)
    protected: tuple[str, ...] | None = ()
    version: str = __version__

    def to_bytes(self) -> bytes:
        body = {
            "generator": "tfgen",
            "format": MANIFEST_FORMAT,
            "tfgen_version": self.version,
            "protected": sorted(self.protected or ()),
            "files": dict(sorted(self.files.items())),
        }
        return (json.dumps(body, indent=1, ensure_ascii=True) + "\n").encode("utf-8")


def _corrupt(path: Path, reason: str) -> OutputError:
    return OutputError(
        [
            Diagnostic(
                f"the manifest is corrupt ({reason}); tfgen deletes and overwrites nothing until it is repaired",
                Location(str(path)),
                rule="manifest",
                hint="restore it from version control, or pass --force to treat it as missing: "
                "tfgen then adopts files whose bytes match and deletes nothing",
            )
        ]
    )


def read_manifest(output: Path) -> Manifest | None:
    """The manifest of *output*, None when there is none; a corrupt one is an OutputError."""
    path = output / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _corrupt(path, f"not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("generator") != "tfgen":
        raise _corrupt(path, "not a tfgen manifest")
    files = body.get("files")
    if not isinstance(files, dict):
        raise _corrupt(path, "'files' is not a mapping")
    for name, value in files.items():
        if not is_safe_path(name):
            raise _corrupt(path, f"unsafe path {name!r}")
        if not isinstance(value, str) or not _DIGEST.match(value):
            raise _corrupt(path, f"bad hash for {name}")
    protected = body.get("protected")
    if protected is not None and (
        not isinstance(protected, list) or not all(isinstance(e, str) for e in protected)
    ):
        raise _corrupt(path, "'protected' is not a list of environment names")
    return Manifest(
        files,
        tuple(protected) if protected is not None else None,
        str(body.get("tfgen_version", "")),
    )


def read_journal(output: Path) -> dict[str, frozenset[str]] | None:
    """The journal an interrupted render left behind (path -> hashes it was writing)."""
    try:
        raw = (output / JOURNAL).read_bytes()
    except FileNotFoundError:
        return None
    try:
        body = json.loads(raw)
        files = body["files"]
        return {
            path: frozenset(hashes)
            for path, hashes in files.items()
            if is_safe_path(path) and all(isinstance(h, str) and _DIGEST.match(h) for h in hashes)
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        # Written atomically, so only a stray edit corrupts it. Ignoring it can only make
        # tfgen more careful (more files look hand-edited), never delete anything.
        return {}


def _journal_bytes(files: Mapping[str, Iterable[str]]) -> bytes:
    body = {"generator": "tfgen", "files": {p: sorted(set(h)) for p, h in sorted(files.items())}}
    return (json.dumps(body, indent=1) + "\n").encode("utf-8")


@dataclass(frozen=True)
class State:
    """What the output directory says about tfgen's previous renders."""

    manifest: Manifest | None
    journal: Mapping[str, frozenset[str]] | None  # None: the previous render completed
    leftovers: tuple[str, ...]  # temporary files in the output root
    warnings: tuple[Diagnostic, ...] = ()
    has_files: bool = False  # the output directory holds anything at all

    @property
    def interrupted(self) -> bool:
        return self.journal is not None or bool(self.leftovers)

    def known(self, path: str) -> frozenset[str]:
        """Every hash of *path* that tfgen wrote (or was writing when interrupted)."""
        hashes = self.journal.get(path, frozenset()) if self.journal else frozenset()
        recorded = self.manifest.files.get(path) if self.manifest else None
        return hashes | {recorded} if recorded else hashes

    def owned(self) -> set[str]:
        paths = set(self.manifest.files) if self.manifest else set()
        return paths | set(self.journal or ())


def read_state(output: Path, *, force: bool = False) -> State:
    """Manifest, journal and leftovers of *output*. A corrupt manifest is an error,
    unless *force*: then it is treated as missing (nothing is deleted)."""
    warnings: list[Diagnostic] = []
    try:
        manifest = read_manifest(output)
    except OutputError:
        if not force:
            raise
        manifest = None
        warnings.append(
            Diagnostic(
                "the manifest is corrupt; --force treats it as missing: nothing is deleted, "
                "differing files are overwritten",
                Location(str(output / MANIFEST)),
                severity="warning",
                rule="manifest",
            )
        )
    try:
        entries = [e.name for e in os.scandir(output)]
    except (FileNotFoundError, NotADirectoryError):
        entries = []
    leftovers = tuple(sorted(n for n in entries if _is_temp(n)))
    has_files = any(n not in (MANIFEST, JOURNAL) and not _is_temp(n) for n in entries)
    if manifest is None and has_files and not warnings:
        warnings.append(
            Diagnostic(
                "no manifest: tfgen cannot tell which files it wrote; it adopts files whose bytes match "
                "the render, refuses to overwrite the others without --force, and deletes nothing",
                Location(str(output / MANIFEST)),
                severity="warning",
                rule="manifest",
            )
        )
    return State(manifest, read_journal(output), leftovers, tuple(warnings), has_files)


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


# --- comparing --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    path: str
    status: Status
    old: bytes | None  # on disk now; None: absent
    new: bytes | None  # what tfgen renders; None: no longer rendered
    input_changed: bool = False  # hand-edited: the render also differs from what tfgen last wrote
    protected: bool = False  # stale in an environment with deletion_protection
    adopted: bool = False  # unchanged, but not (yet) recorded in the manifest

    @property
    def action(self) -> Action:
        if self.status == "unchanged":
            return "none"
        return "write" if self.new is not None else "delete"

    @property
    def environment(self) -> str | None:
        return environment_of(self.path)

    def refused(self, *, force: bool = False, allow_orphan: bool = False) -> bool:
        """Whether an applying render must refuse this change."""
        if self.status in ("hand-edited", "unowned") and not force:
            return True
        return self.action == "delete" and self.protected and not allow_orphan


@dataclass(frozen=True)
class Survey:
    changes: list[Change]  # every desired path plus every stale owned path in scope, by path
    vanished: list[str] = field(default_factory=list)  # owned, in scope, gone from disk and not rendered

    def refused(self, *, force: bool = False, allow_orphan: bool = False) -> list[Change]:
        return [c for c in self.changes if c.refused(force=force, allow_orphan=allow_orphan)]


def _regular_file(target: str, *, strict: bool = True) -> os.stat_result | None:
    """The file's stat, None when there is no file. Something else in its place is an
    error where tfgen must write (*strict*), and counts as no file where it would delete."""
    try:
        info = os.stat(target)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(info.st_mode):
        if not strict:
            return None
        raise OutputError(
            [Diagnostic("exists and is not a regular file; tfgen will not replace it", Location(target),
                        rule="unowned")]
        )
    return info


def _read(target: str) -> bytes:
    with open(target, "rb") as handle:
        return handle.read()


def compare(
    output: Path,
    desired: Mapping[str, bytes],
    state: State,
    *,
    prune: Callable[[str], bool] = lambda path: True,
    protected: Callable[[str], bool] = lambda environment: False,
) -> Survey:
    """What rendering *desired* into *output* would do. Owned paths (manifest and
    journal) that are not desired and for which *prune* is true are stale; *protected*
    says whether an environment's stale files must not be deleted. Sizes are compared
    before contents are read, and hashes computed only for files that differ."""
    root = os.fspath(output)
    recorded = state.manifest.files if state.manifest else {}
    journal = state.journal or {}
    changes: list[Change] = []
    for path in sorted(desired):
        new = desired[path]
        target = os.path.join(root, path)
        info = _regular_file(target)
        if info is None:
            changes.append(Change(path, "created", None, new))
            continue
        old = _read(target) if info.st_size == len(new) else None
        if old == new:
            changes.append(Change(path, "unchanged", old, new, adopted=path not in recorded and path not in journal))
            continue
        old = old if old is not None else _read(target)
        known = state.known(path)
        if not known:
            changes.append(Change(path, "unowned", old, new))
        elif digest(old) in known:
            changes.append(Change(path, "changed", old, new))
        else:
            changes.append(Change(path, "hand-edited", old, new, input_changed=recorded.get(path) != digest(new)))
    vanished: list[str] = []
    for path in sorted(state.owned() - set(desired)):
        if not prune(path):
            continue
        environment = environment_of(path)
        guarded = environment is not None and protected(environment)
        target = os.path.join(root, path)
        if _regular_file(target, strict=False) is None:
            vanished.append(path)
            continue
        old = _read(target)
        status: Status = "stale" if digest(old) in state.known(path) else "hand-edited"
        changes.append(Change(path, status, old, None, input_changed=True, protected=guarded))
    changes.sort(key=lambda c: c.path)
    return Survey(changes, vanished)


# --- writing ----------------------------------------------------------------------


@cache
def _file_mode() -> int:
    """The mode a plain ``open(..., "w")`` would give (mkstemp makes 0600 files)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(target: Path, data: bytes) -> None:
    """Write *data* to a temporary file beside *target*, fsync it, rename it over *target*."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), _file_mode())
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _write_temporary(target: str, data: bytes) -> str:
    """A new temporary file beside *target* holding *data*; its path."""
    directory, name = os.path.split(target)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=TEMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            os.fchmod(handle.fileno(), _file_mode())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_all(
    output: Path,
    files: list[tuple[str, bytes]],
    progress: Callable[[int, int], None] | None = None,
    total: int | None = None,
) -> None:
    """Write many files atomically: every temporary file first, one ``sync`` to make
    them all durable, then one rename each. A kill leaves each file old or new (a
    rename is atomic), and a crash of the machine cannot rename a file whose bytes
    are not on disk. One sync instead of an fsync per file is what makes a
    10,000-file render fast; each directory is created once, not once per file."""
    root = os.fspath(output)
    for directory in sorted({posixpath.dirname(path) for path, _ in files}):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    pending: list[tuple[str, str]] = []
    renamed = 0
    total = len(files) if total is None else total
    try:
        for path, data in files:
            target = os.path.join(root, path)
            pending.append((_write_temporary(target, data), target))
        if pending:
            os.sync()
        for tmp, target in pending:
            os.replace(tmp, target)
            renamed += 1
            if progress is not None and (renamed % 100 == 0 or renamed == total):
                progress(renamed, total)
    except BaseException:
        for tmp, _target in pending[renamed:]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


def _fsync_directory(directory: Path) -> None:
    """Make renames and unlinks in *directory* durable (no-op where unsupported)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _remove_empty_parents(output: Path, path: str) -> None:
    parent = (output / path).parent
    while parent != output and output in parent.parents:
        try:
            os.rmdir(parent)
        except OSError:
            return
        parent = parent.parent


def remove_temp_files(output: Path, *, everywhere: bool) -> list[str]:
    """Remove temporary files a killed render left: in the output root, or in the whole
    tree when a journal says files were being written."""
    removed: list[str] = []
    if everywhere:
        walk: Iterable[tuple[str, list[str], list[str]]] = os.walk(output)
    else:
        walk = [(str(output), [], [e.name for e in os.scandir(output) if e.is_file(follow_symlinks=False)])]
    for directory, _dirs, names in walk:
        for name in names:
            if _is_temp(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))
                removed.append(os.path.relpath(os.path.join(directory, name), output))
    return sorted(removed)


def kept_directories(output: Path, deleted: Iterable[str], remaining: Iterable[str]) -> list[str]:
    """After deleting *deleted*: the top-most of their directories that still exist only
    because they hold files tfgen did not write (tfgen's *remaining* files aside)."""
    prefixes = {posix_parent(p) for p in remaining}
    owned_dirs: set[str] = set()
    for prefix in prefixes:
        while prefix:
            owned_dirs.add(prefix)
            prefix = posix_parent(prefix)
    kept: set[str] = set()
    for path in deleted:
        directory = posix_parent(path)
        while directory and not (output / directory).is_dir():
            directory = posix_parent(directory)
        if not directory or directory in owned_dirs:
            continue
        while (parent := posix_parent(directory)) and parent not in owned_dirs:
            directory = parent
        kept.add(directory)
    return sorted(kept)


def apply(
    output: Path,
    survey: Survey,
    manifest: Manifest,
    state: State,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Journal, write created/changed files, delete stale ones, write the manifest,
    drop the journal. The caller has checked that nothing is refused. *progress*, if
    given, is called with (files done, files to do) as it goes."""
    output.mkdir(parents=True, exist_ok=True)
    writes = [c for c in survey.changes if c.action == "write" and c.new is not None]
    deletes = [c for c in survey.changes if c.action == "delete"]
    if state.interrupted:
        remove_temp_files(output, everywhere=state.journal is not None)
    if writes:
        journal: dict[str, set[str]] = {p: set(h) for p, h in (state.journal or {}).items()}
        for change in writes:
            journal.setdefault(change.path, set()).add(digest(change.new or b""))
        write_atomic(output / JOURNAL, _journal_bytes(journal))
        _fsync_directory(output)
    total = len(writes) + len(deletes)
    write_all(output, [(change.path, change.new or b"") for change in writes], progress, total)
    for done, change in enumerate(deletes, start=len(writes) + 1):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output / change.path)
        _remove_empty_parents(output, change.path)
        if progress is not None and (done % 100 == 0 or done == total):
            progress(done, total)
    for path in survey.vanished:
        _remove_empty_parents(output, path)
    data = manifest.to_bytes()
    manifest_path = output / MANIFEST
    try:
        current: bytes | None = manifest_path.read_bytes()
    except FileNotFoundError:
        current = None
    if current != data:
        write_atomic(manifest_path, data)
    if state.journal is not None or writes:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output / JOURNAL)
    _fsync_directory(output)


# --- locking ----------------------------------------------------------------------


@contextlib.contextmanager
def locked(output: Path, *, exclusive: bool, timeout: float = 30.0) -> Iterator[None]:
    """Hold an flock on the output directory: exclusive to write, shared to compare.
    Waits up to *timeout* seconds for another tfgen, then fails clearly."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks
        yield
        return
    if exclusive:
        output.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(output, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:  # comparing against a tree that does not exist yet
        yield
        return
    try:
        operation = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, operation)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputError(
                        [
                            Diagnostic(
                                f"another tfgen is rendering into this directory; gave up after {timeout:g} s",
                                Location(str(output)),
                                rule="lock",
                                hint="wait for it to finish, or raise --lock-timeout",
                            )
                        ]
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


# --- explaining -------------------------------------------------------------------


def _orphaned_directories(changes: Iterable[Change]) -> dict[str, str]:
    """The top-most directories whose files a refused deletion would remove -> environment."""
    directories = {posix_parent(c.path): c.environment or "" for c in changes}
    return {
        d: e
        for d, e in sorted(directories.items())
        if not any(d.startswith(other + "/") for other in directories if other != d)
    }


def posix_parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


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
                    hint="move it away, or pass --force to replace it",
                )
            )
        elif change.status == "hand-edited" and change.new is None:
            diagnostics.append(
                Diagnostic(
                    "edited by hand since tfgen wrote it, and no longer rendered; not deleted",
                    where,
                    rule="hand-edited",
                    hint="pass --force to delete it",
                )
            )
        elif change.status == "hand-edited":
            also = " (and the input changed it too)" if change.input_changed else ""
            diagnostics.append(
                Diagnostic(
                    f"edited by hand since tfgen wrote it{also}; not overwritten",
                    where,
                    rule="hand-edited",
                    hint="move the edit into the YAML, or pass --force to discard it",
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
                "to destroy it: put it back with deletion_protection: false, render, run "
                "`terragrunt run --all destroy` in that directory, then remove it; "
                "or pass --allow-orphan to leave it running unmanaged",
            )
        )
    return diagnostics
