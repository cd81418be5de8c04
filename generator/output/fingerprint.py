"""The fingerprint of a render: one digest of everything the tree is made from, recorded
in the manifest, so that a render whose inputs did not change (a no-op, ``--check`` in
a pre-commit hook or CI) verifies the tree's bytes against the manifest instead of
loading, validating and rendering the project again.

What a render is made from, its *inputs*: the project file; every file under catalog/
(the module definitions and the module lock) and under the project's templates/; the
``*.tf`` files of each local module and of the local modules it calls; tfgen's own
code, built-in templates and the versions of the libraries it renders with
(:func:`generator._package.code_identity`); and the render's options (the style asked
for and, for a tree with the GitHub workflow, where the git repository puts it). A render of the whole project
records, beside the files it wrote, the list of those paths, their digest, the
``output_extra_files`` globs and the warnings it printed (:class:`Record`). The next
render recomputes the digest from that list: equal, the tree it would render is the one
the manifest records, and what is left to prove is that the bytes on disk are those
(:func:`verify`). Any difference, or anything unusual on disk (a hand edit, a missing
or foreign file, an interrupted render), falls back to the full render, which reports it.

The record is only a shortcut: ``--check`` compares the files and the protection the
manifest records, never the record, so a record made by another tfgen or before a
comment was edited never makes a tree out of sync; it only costs one full render.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._package import code_identity, hash_file, hash_tree
from ..errors import Diagnostic, Location

#: Suffix of a recorded path whose whole tree is an input (catalog/, templates/); a path
#: ending in "/" is a folder whose files (not its subdirectories) are an input.
TREE = "/**"


@dataclass(frozen=True)
class Fingerprint:
    """The inputs of one render, taken when it starts: their digest, what they are."""

    digest: str
    read: tuple[str, ...]
    placed: bool = False


@dataclass(frozen=True)
class Record:
    """What the manifest keeps of the inputs of the render that wrote it."""

    digest: str
    read: tuple[str, ...]  # paths relative to the project directory (see TREE)
    extra_files: tuple[str, ...] = ()  # the project's output_extra_files globs
    warnings: tuple[Diagnostic, ...] = ()  # locations relative to the project directory
    #: the tree holds the GitHub workflow, whose place depends on the git repository
    #: around the output directory (api._placed): that place is an input too
    placed: bool = False
    #: the digest of the files and protection the manifest records beside it
    #: (:func:`tree_digest`): a manifest edited by hand is not the one this render wrote
    tree: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "tree": self.tree,
            "read": list(self.read),
            "placed": self.placed,
            "extra_files": list(self.extra_files),
            "warnings": [_warning_json(w) for w in self.warnings],
        }


def _warning_json(warning: Diagnostic) -> dict[str, Any]:
    return {
        "file": warning.location.file,
        "line": warning.location.line,
        "column": warning.location.column,
        "path": list(warning.path),
        "rule": warning.rule,
        "message": warning.message,
        "hint": warning.hint,
    }


def parse_record(body: Any) -> Record | None:
    """The record in a manifest's ``inputs``; None when there is none or it is not one
    this tfgen wrote (a cache entry: never an error, it only costs a full render)."""
    if not isinstance(body, dict):
        return None
    digest, read, extra, warnings = (body.get(k) for k in ("digest", "read", "extra_files", "warnings"))
    placed, tree = body.get("placed", False), body.get("tree")
    if not isinstance(digest, str) or not _strings(read) or not _strings(extra) or not isinstance(warnings, list):
        return None
    if not isinstance(placed, bool) or not isinstance(tree, str):
        return None
    parsed: list[Diagnostic] = []
    for item in warnings:
        if not isinstance(item, dict):
            return None
        file, line, column, path = item.get("file"), item.get("line"), item.get("column"), item.get("path")
        texts = [item.get(k) for k in ("rule", "message", "hint")]
        if not (isinstance(file, str) and _number(line) and _number(column) and isinstance(path, list)
                and all(isinstance(p, (str, int)) and not isinstance(p, bool) for p in path)
                and _strings(texts)):
            return None
        rule, message, hint = (str(t) for t in texts)
        where = Location(file, int(line or 0), int(column or 0))
        parsed.append(Diagnostic(message, where, tuple(path), "warning", rule, hint))
    return Record(digest, tuple(read or ()), tuple(extra or ()), tuple(parsed), placed, tree)


def tree_digest(files: Mapping[str, str], protected: Iterable[str]) -> str:
    """The digest of what a manifest records of the tree: its files, their hashes, the
    protected environments."""
    body = "\n".join(f"{path}\0{files[path]}" for path in sorted(files))
    body += "\n\0protected\0" + ",".join(sorted(protected))
    return "sha256:" + hashlib.sha256(body.encode("utf-8", "surrogateescape")).hexdigest()


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _number(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def inputs_digest(root: Path, config: Path, read: Sequence[str], style: str | None, where: str | None) -> str:
    """The digest of the inputs of a render of *config*: tfgen's code, the options, the
    contents of *read* (paths relative to *root*) and, for a tree with the GitHub
    workflow, *where* the repository puts it (:func:`placement`)."""
    digest = hashlib.sha256(f"tfgen-render\0{code_identity()}\0".encode())
    options = f"\0config\0{config.name}\0style\0{style or ''}\0placement\0{where or ''}\0"
    digest.update(options.encode("utf-8", "surrogateescape"))
    for path in read:
        digest.update(f"\0input\0{path}\0".encode("utf-8", "surrogateescape"))
        if path.endswith(TREE):
            hash_tree(digest, os.path.join(root, path[: -len(TREE)]))
        elif path.endswith("/"):
            _hash_folder(digest, os.path.join(root, path))
        else:
            target = os.path.join(root, path)
            if os.path.isfile(target):
                hash_file(digest, target, path)
            else:
                digest.update(b"\0absent\0")
    return "sha256:" + digest.hexdigest()


def placement(root: Path, out: Path) -> str:
    """Where the GitHub workflow goes for a tree rendered into *out* (api._placed): in
    the tree when no git repository holds the project and *out*, else at the repository
    root, seen from *out*."""
    from ..project import revision  # git: for trees with the workflow alone

    top = revision.repository_root(root)
    resolved = out.resolve()
    if top is None or not resolved.is_relative_to(top.resolve()):
        return "in the output directory"
    return Path(os.path.relpath(top.resolve(), resolved)).as_posix()


def _hash_folder(digest: hashlib._Hash, folder: str) -> None:
    """The files directly in *folder* (a module's ``*.tf`` files and their neighbours)."""
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.is_file())
    except OSError:
        digest.update(b"\0absent\0")
        return
    for name in names:
        hash_file(digest, os.path.join(folder, name), name)


def relative(root: Path, path: Path | str) -> str:
    return Path(os.path.relpath(os.path.abspath(path), root)).as_posix()


def inputs_of(root: Path, config: Path, module_folders: Iterable[Path]) -> tuple[str, ...]:
    """What a render of *config* (in *root*) reads, as a record lists it."""
    read = [relative(root, config), "catalog" + TREE, "templates" + TREE]
    read += sorted({relative(root, folder) + "/" for folder in module_folders})
    return tuple(read)


def make_record(root: Path, inputs: Fingerprint, extra_files: Sequence[str], warnings: Sequence[Diagnostic]) -> Record:
    """The record of a render of *inputs* (in *root*) that printed *warnings*."""
    stored = tuple(_rooted(root, w) for w in warnings)
    return Record(inputs.digest, inputs.read, tuple(extra_files), stored, inputs.placed)


def _rooted(root: Path, warning: Diagnostic) -> Diagnostic:
    file = warning.location.file
    if not file:
        return warning
    return Diagnostic(warning.message, Location(relative(root, file), warning.location.line, warning.location.column),
                      warning.path, warning.severity, warning.rule, warning.hint)


def replayed(root: Path, record: Record, display: Any) -> list[Diagnostic]:
    """The record's warnings as the render that wrote it printed them (paths displayed
    from the current directory by *display*)."""
    out: list[Diagnostic] = []
    for warning in record.warnings:
        file = warning.location.file
        shown = display(os.path.normpath(os.path.join(root, file))) if file else file
        out.append(Diagnostic(warning.message, Location(shown, warning.location.line, warning.location.column),
                              warning.path, "warning", warning.rule, warning.hint))
    return out


def matches(root: Path, config: Path, record: Record, out: Path, style: str | None) -> bool:
    """Whether the inputs of a render of *config* into *out* are what they were when
    *record* was made."""
    where = placement(root, out) if record.placed else None
    return inputs_digest(root, config, record.read, style, where) == record.digest


#: A file of the tree larger than this is not one tfgen wrote (nor a regular file that
#: reading would ever finish: a device node).
_LARGEST = 1 << 26
_CHUNK = 1 << 18


def verify(out: Path, files: Mapping[str, str], digest_of: Callable[[bytes], str]) -> dict[str, bytes] | None:
    """The bytes of every file of *files* (path -> recorded digest) in *out*, or None as
    soon as one is missing, is a symbolic link, is not a file whose bytes have the
    recorded digest. (Directories are not looked at: :func:`listing` finds symbolic
    links among them.)"""
    root = os.fspath(out) + os.sep
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    found: dict[str, bytes] = {}
    for path, recorded in files.items():
        try:
            fd = os.open(root + path, flags)
        except OSError:
            return None
        try:
            data = os.read(fd, _CHUNK)
            while len(data) % _CHUNK == 0 and data:  # a large file: read on until the end
                more = os.read(fd, _CHUNK)
                data += more
                if not more or len(data) > _LARGEST:
                    break
        except OSError:  # a directory
            return None
        finally:
            os.close(fd)
        if digest_of(data) != recorded:
            return None
        found[path] = data
    return found


def listing(out: Path, skipped: frozenset[str]) -> list[str] | None:
    """Every file below *out* (relative posix paths), not looking into directories named
    in *skipped*; None when a symbolic link is among them (the full render refuses a
    tree with one: it never writes or deletes through a link)."""
    # The loop runs once per entry of a tree of 50,000 directories: names bound locally,
    # and the directory test first (it is not true of a link), so a directory costs one
    # call on its entry and a file two.
    found: list[str] = []
    add = found.append
    pending = [(os.fspath(out), "")]
    push, pop, scandir = pending.append, pending.pop, os.scandir
    while pending:
        directory, prefix = pop()
        with scandir(directory) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in skipped:
                        push((entry.path, prefix + entry.name + "/"))
                elif entry.is_symlink():
                    return None
                else:
                    add(prefix + entry.name)
    return found


def outside_links(out: Path, paths: Iterable[str]) -> bool:
    """Whether a directory on the way to a file outside the tree (the workflow at the
    repository root, ``../.github/workflows/...``) is a symbolic link."""
    root = os.fspath(out)
    for path in paths:
        parts = path.split("/")
        if any(os.path.islink(os.path.join(root, *parts[:depth])) for depth in range(2, len(parts))):
            return True
    return False
