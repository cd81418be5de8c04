"""The only code that writes files: atomic writes, the journal, pruning, the lock.

Crash safety: every file that exists is replaced by a temporary file written in its
own directory and renamed over it, so each such file is always either old or new.
Before the first file changes, a journal (``.tfgen-journal.json``) records the hash of
every file about to be written, and the paths where no file was, which are created in
place (``creating``); the manifest is written last and the journal removed after it.
A render that finds a journal knows the previous one was interrupted: it accepts the
journal's hashes as tfgen's own (so a half-applied tree is not mistaken for hand
edits), removes leftover temporary files, rewrites a file it finds cut at a path it
was creating (diff._partly_created: empty, or the start of what is rendered there;
anything else there is refused as a hand edit), and completes the tree.

Concurrency: a render holds an exclusive ``flock`` on the output directory itself
(no lock file to commit or ignore); ``--check`` holds a shared one.

Besides the output tree, ``tfgen init`` (:func:`write_new`), ``tfgen schema -o``
(:func:`write_text`) and ``tfgen affected`` (:func:`temporary_tree`, a project read
out of git) write through here.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import tempfile
import time
from collections.abc import Callable, Collection, Container, Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path

from ..errors import Diagnostic, InputError, Location, OutputError
from ..project.layout import is_outside, outside_top, parent
from .diff import Survey
from .state import JOURNAL, MANIFEST, TEMP_SUFFIX, Manifest, State, digest, is_temp, journal_bytes

try:
    import fcntl
except ImportError:  # not POSIX: no advisory locks
    fcntl = None  # type: ignore[assignment]

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


_TEMPORARY_NAMES = itertools.count()


def _write_temporary(target: str, data: bytes) -> str:
    """A new temporary file beside *target* holding *data*; its path. Named
    ``.<name>.<pid><n>.tfgen-tmp`` (state.is_temp) and created exclusively, with the
    mode a plain ``open(..., "w")`` gives: tempfile.mkstemp's random names and 0600
    mode cost a third of writing a 50,000-file tree."""
    directory, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{name}.{os.getpid():x}{next(_TEMPORARY_NAMES)}{TEMP_SUFFIX}")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    _fill(fd, tmp, data)
    return tmp


def _fill(fd: int, path: str, data: bytes) -> None:
    """Write *data* to *fd*, the file just created at *path*, and close it; a write that
    fails (or is interrupted: Ctrl-C) removes the file, so nothing cut half-way stays."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        raise
    os.close(fd)


def _write_new(target: str, data: bytes) -> None:
    """Create *target*, which must not exist (O_EXCL: a file that appeared since the
    comparison is never replaced), holding *data*; removed again if writing fails."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    _fill(os.open(target, flags, 0o666), target, data)


def write_all(
    output: Path,
    files: list[tuple[str, bytes]],
    progress: Callable[[int, int], None] | None = None,
    total: int | None = None,
    *,
    new: Container[str] = frozenset(),
) -> None:
    """Write many files atomically: every temporary file first, one ``sync`` to make
    them all durable, then one rename each. A kill leaves each file old or new (a
    rename is atomic), and a crash of the machine cannot rename a file whose bytes
    are not on disk. One sync instead of an fsync per file is what makes a
    10,000-file render fast; each directory is created once, not once per file.

    The paths in *new* are where no file was: each is created in place (exclusively),
    without a temporary file and a rename, a third of the time of writing a new tree.
    The caller has named them in the journal (apply): a kill, or a machine crash
    before the sync, can leave one partly written, and the next render, which reads
    the journal, rewrites it (diff._partly_created says when)."""
    root = os.fspath(output)
    _make_directories(root, {path.rpartition("/")[0] for path, _ in files})
    prefix = os.path.join(root, "")  # + a relative path: os.path.join, without its cost per file
    pending: list[tuple[str, str]] = []
    done = renamed = 0
    total = len(files) if total is None else total
    try:
        for path, data in files:
            target = prefix + path
            if path in new:
                _write_new(target, data)
                done += 1
                if progress is not None and (done % 100 == 0 or done == total):
                    progress(done, total)
            else:
                pending.append((_write_temporary(target, data), target))
        if files:
            os.sync()
        for tmp, target in pending:
            os.replace(tmp, target)
            renamed += 1
            done += 1
            if progress is not None and (done % 100 == 0 or done == total):
                progress(done, total)
    except BaseException:
        for tmp, _target in pending[renamed:]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise


def _make_directories(root: str, directories: Iterable[str]) -> None:
    """``os.makedirs(root/d, exist_ok=True)`` for each of *directories* (posix paths
    below *root*, which exists), with one mkdir per directory of the tree: makedirs
    looks at each parent again, 50,000 stats in a tree of 50,000 unit directories."""
    every: set[str] = set()
    for directory in directories:
        while directory and directory not in every:
            every.add(directory)
            directory = directory.rpartition("/")[0]  # posixpath.dirname of a normalised path
    prefix = os.path.join(root, "")
    for directory in sorted(every):  # parents first
        target = prefix + directory
        try:
            os.mkdir(target)
        except FileExistsError:
            if not os.path.isdir(target):  # as makedirs(exist_ok=True): a file in the way is an error
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
    """Remove the directories of *path* that are now empty, up to the output directory
    (for the workflow outside it, up to the repository root), never that one itself."""
    top = Path(os.path.normpath(output / outside_top(path))) if is_outside(path) else output
    parent = Path(os.path.normpath(output / path)).parent
    while parent != top and top in parent.parents:
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
            if is_temp(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(directory, name))
                removed.append(os.path.relpath(os.path.join(directory, name), output))
    return sorted(removed)


def _remove_own_temp_files(target: Path) -> None:
    """Temporary files that a killed write of *target* left beside it (``.NAME.*`` with
    tfgen's suffix), and no other file of that directory."""
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(target.parent):
            if entry.name.startswith(f".{target.name}.") and is_temp(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def kept_directories(output: Path, deleted: Iterable[str], remaining: Iterable[str]) -> list[str]:
    """After deleting *deleted*: the top-most of their directories that still exist only
    because they hold files tfgen did not write (tfgen's *remaining* files aside)."""
    prefixes = {parent(p) for p in remaining}
    owned_dirs: set[str] = set()
    for prefix in prefixes:
        while prefix:
            owned_dirs.add(prefix)
            prefix = parent(prefix)
    kept: set[str] = set()
    for path in deleted:
        if is_outside(path):  # the workflow's directories are the repository's
            continue
        directory = parent(path)
        while directory and not (output / directory).is_dir():
            directory = parent(directory)
        if not directory or directory in owned_dirs:
            continue
        while (above := parent(directory)) and above not in owned_dirs:
            directory = above
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
        for path in state.journal or {}:
            if is_outside(path):  # the workflow's own temporary file, beside it at the repository root
                _remove_own_temp_files(output / path)
    # created in place: no file was there when compared, under this lock (the workflow
    # outside the tree, in the user's repository, is always renamed into place)
    new = {c.path for c in writes if c.status == "created" and c.old is None and not is_outside(c.path)}
    # a partial write of the interrupted render stays known as one
    creating = new | state.creating if state.creating else new
    if writes:
        previous = state.journal or {}
        journal: dict[str, Collection[str]] = dict(previous)
        hashes = manifest.files  # the hashes of what is written (sync.next_manifest): not hashed twice
        for change in writes:
            known = hashes.get(change.path)
            written = known if known is not None else digest(change.new or b"")
            before = previous.get(change.path)
            journal[change.path] = (written,) if before is None else before | {written}
        write_atomic(output / JOURNAL, journal_bytes(journal, creating))
        del journal
        _fsync_directory(output)
    total = len(writes) + len(deletes)
    try:
        write_all(output, [(change.path, change.new or b"") for change in writes], progress, total, new=new)
    except FileExistsError as exc:
        # a file appeared where none was, by another hand: not tfgen's to replace, now or
        # when the next render finishes this one
        if isinstance(exc.filename, str):
            appeared = Path(os.path.relpath(exc.filename, output)).as_posix()
            journal_file = output / JOURNAL
            kept = json.loads(journal_file.read_bytes())
            write_atomic(journal_file, journal_bytes(kept["files"], creating - {appeared}))
        raise
    for done, change in enumerate(deletes, start=len(writes) + 1):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output / change.path)
        _remove_empty_parents(output, change.path)
        if progress is not None and (done % 100 == 0 or done == total):
            progress(done, total)
    for path in survey.vanished:
        _remove_empty_parents(output, path)
    manifest_bytes = manifest.to_bytes()
    if state.manifest_bytes != manifest_bytes:  # as read_state found it, under the same lock
        write_atomic(output / MANIFEST, manifest_bytes)
    if state.journal is not None or writes:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output / JOURNAL)
    _fsync_directory(output)


# --- locking ----------------------------------------------------------------------


@contextlib.contextmanager
def locked(output: Path, *, exclusive: bool, timeout: float = 30.0) -> Iterator[None]:
    """Hold an flock on the output directory: exclusive to write, shared to compare.
    Waits up to *timeout* seconds for another tfgen, then fails clearly."""
    if fcntl is None:
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
                                hint="wait for it to finish, or raise lock_timeout",
                            )
                        ]
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def write_text(target: Path, text: str) -> None:
    """Write one text file atomically (``tfgen schema -o``), creating its directory."""
    write_atomic(target, text.encode("utf-8"))


def existing(directory: Path, files: Mapping[str, str]) -> list[str]:
    """The paths among *files* that already exist below *directory* (or are blocked)."""
    found: list[str] = []
    for path in files:
        target = directory / path
        parents = [directory / p for p in Path(path).parents if str(p) != "."]
        if target.exists() or target.is_symlink() or any(p.exists() and not p.is_dir() for p in parents):
            found.append(path)
    return found


def write_new(directory: Path, files: Mapping[str, str], where: Location) -> list[str]:
    """Create every file of *files* below *directory*; refuse (InputError at *where*,
    writing nothing) when any of them exists. Never replaces a file."""
    if directory.exists() and not directory.is_dir():
        raise InputError([Diagnostic(f"{directory} exists and is not a directory", where, rule="init")])
    taken = existing(directory, files)
    if taken:
        raise InputError(
            [
                Diagnostic(
                    f"{directory / p}: already exists; tfgen init never overwrites a file",
                    where,
                    rule="init",
                    hint="choose an empty directory: tfgen init DIR",
                )
                for p in taken
            ]
        )
    written: list[str] = []
    for path, text in files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        # "x": fail rather than replace a file that appeared since the check above
        with open(target, "x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        written.append(path)
    return written


@contextlib.contextmanager
def temporary_tree(files: Mapping[str, bytes], prefix: str = "tfgen-") -> Iterator[Path]:
    """*files* (posix paths that revision.read made safe -> bytes) laid out in a fresh
    temporary directory, removed on exit: how `tfgen affected` lets the normal loader
    read a project as it was at a git revision."""
    with tempfile.TemporaryDirectory(prefix=prefix) as temporary:
        root = Path(temporary)
        for path, data in files.items():
            target = root.joinpath(*path.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        yield root
