"""The desired tree against the disk: one :class:`Change` per path. Reads only."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ..errors import Diagnostic, Location, OutputError
from ..project.layout import environment_of, is_outside, read_by_every_environment
from .state import State, digest, holds_files

#: What comparing one path finds. ``stale``: tfgen wrote it, it is no longer rendered;
#: ``hand-edited``: its bytes differ from what tfgen wrote; ``unowned``: tfgen is about
#: to write a path that holds a file tfgen did not write.
Status = Literal["created", "changed", "unchanged", "stale", "hand-edited", "unowned"]
STATUSES: tuple[Status, ...] = ("created", "changed", "stale", "hand-edited", "unowned", "unchanged")
Action = Literal["write", "delete", "none"]


@dataclass(frozen=True)
class Change:
    path: str
    status: Status
    old: bytes | None  # on disk now; None: absent
    new: bytes | None  # what tfgen renders; None: no longer rendered
    input_changed: bool = False  # hand-edited: the render also differs from what tfgen last wrote
    protected: bool = False  # stale in an environment with deletion_protection
    adopted: bool = False  # unchanged, but not (yet) recorded in the manifest

    def __repr__(self) -> str:  # without old and new, the file's bytes
        return f"<Change {self.status} {self.path}>"

    @classmethod
    def created(cls, path: str, data: bytes) -> Change:
        """``Change(path, "created", None, data)``, made fast (see :meth:`_made`)."""
        return cls._made(path, "created", None, data)

    @classmethod
    def unchanged(cls, path: str, data: bytes) -> Change:
        """``Change(path, "unchanged", data, data)``, made fast (see :meth:`_made`)."""
        return cls._made(path, "unchanged", data, data)

    @classmethod
    def _made(cls, path: str, status: Status, old: bytes | None, new: bytes | None) -> Change:
        """A change with the defaults, made as fast as a render of 50,000 files needs (a
        frozen dataclass's __init__ sets each field through object.__setattr__)."""
        change = object.__new__(cls)
        change.__dict__.update(path=path, status=status, old=old, new=new, input_changed=False,
                               protected=False, adopted=False)
        return change

    @property
    def action(self) -> Action:
        if self.status == "unchanged":
            return "none"
        return "write" if self.new is not None else "delete"

    @property
    def environment(self) -> str | None:
        return environment_of(self.path)

    @property
    def shared(self) -> bool:
        """Read by every environment (root.hcl, _envcommon/*): a render limited to one
        environment that writes it changes what the others deploy too."""
        return read_by_every_environment(self.path)

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


class _Links:
    """Refuses a path of the output tree that passes through a symbolic link: writing or
    deleting through one would change files outside the tree. Each directory is looked
    at once per comparison."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.checked: set[str] = set()

    def check(self, path: str) -> None:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix in self.checked:
                continue
            target = os.path.join(self.root, prefix)
            if os.path.islink(target):
                raise OutputError(
                    [
                        Diagnostic(
                            "is a symbolic link inside the output tree; tfgen never writes or deletes through one "
                            f"(it points to {os.readlink(target)})",
                            Location(target),
                            rule="symlink",
                            hint="replace the link with a real directory or file, or remove it",
                        )
                    ]
                )
            if depth < len(parts):
                self.checked.add(prefix)
            if not os.path.lexists(target):
                return


def _read(target: str) -> bytes:
    with open(target, "rb") as handle:
        return handle.read()


def _empty(root: str) -> bool:
    """Whether *root* holds nothing but tfgen's manifest, journal and temporary files."""
    try:
        names = os.listdir(root)
    except (FileNotFoundError, NotADirectoryError):
        return True
    return not holds_files(names)


def _partly_created(state: State, path: str, old: bytes, new: bytes | None) -> bool:
    """Whether *old*, at a path an interrupted render was creating in place (its
    journal's ``creating``), can only be that render's partial write: empty, or the
    start of the bytes rendered there now. Anything else is kept as a hand edit: after
    the interruption another hand may have put a file there (a checkout, an editor)."""
    return path in state.creating and (not old or (new is not None and new.startswith(old)))


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
    links = _Links(root)
    empty = _empty(root)  # nothing below the output directory: every file is new, none is looked at
    for path in sorted(desired):
        new = desired[path]
        if empty and not is_outside(path):
            changes.append(Change.created(path, new))
            continue
        target = os.path.join(root, path)
        links.check(path)
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
        elif digest(old) in known or _partly_created(state, path, old, new):
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
        links.check(path)
        if _regular_file(target, strict=False) is None:
            vanished.append(path)
            continue
        old = _read(target)
        owned = digest(old) in state.known(path) or _partly_created(state, path, old, None)
        status: Status = "stale" if owned else "hand-edited"
        changes.append(Change(path, status, old, None, input_changed=True, protected=guarded))
    changes.sort(key=lambda c: c.path)
    return Survey(changes, vanished)


#: Files that Terragrunt or OpenTofu read when they find them under output/: a unit or
#: stack (terragrunt.hcl, terragrunt.stack.hcl), any included or read .hcl, and .tf
#: files that OpenTofu loads into a unit's module.
_PICKED_UP = re.compile(r"(?:.*\.hcl|.*\.tf|.*\.tf\.json|.*\.hcl\.json)\Z")
#: Accepted whatever output_extra_files says: READMEs, and the provider lock files that
#: OpenTofu writes and teams commit beside each unit (they pin providers, they configure
#: nothing).
DEFAULT_EXTRA_FILES = ("README.md", "**/README.md", ".terraform.lock.hcl", "**/.terraform.lock.hcl")


def glob_pattern(glob: str) -> re.Pattern[str]:
    """A path glob: ``*`` and ``?`` within one name, ``**/`` any number of directories."""
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def foreign_files(
    output: Path,
    desired: Mapping[str, bytes],
    state: State,
    *,
    allowed: tuple[str, ...] = (),
    prune: Callable[[str], bool] = lambda path: True,
) -> list[str]:
    """Files under *output* that tfgen neither renders nor wrote, that Terragrunt would
    pick up (a hand-added terragrunt.hcl is a unit ``terragrunt run --all`` applies),
    within the scope *prune* accepts, and that no glob of *allowed* names. Symbolic
    links are not followed; tfgen's own temporary files are not listed."""
    found: list[str] = []
    root = os.fspath(output)
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in TOOL_DIRECTORIES)
        # os.walk yields root, then paths below it: slicing is relpath without its lookups
        relative = "." if directory == root else directory[len(root) :].lstrip(os.sep).replace(os.sep, "/")
        found += (name if relative == "." else f"{relative}/{name}" for name in names)
    return foreign_among(found, desired, state, allowed=allowed, prune=prune)


#: Directories Terragrunt and OpenTofu make inside units; never tfgen's, never looked into.
TOOL_DIRECTORIES = frozenset({".terragrunt-cache", ".terraform"})


def foreign_among(
    paths: Iterable[str],
    desired: Container[str],
    state: State,
    *,
    allowed: tuple[str, ...] = (),
    prune: Callable[[str], bool] = lambda path: True,
) -> list[str]:
    """Which of *paths* (every file of an output tree) :func:`foreign_files` lists."""
    owned = state.owned()
    patterns = [glob_pattern(g) for g in (*DEFAULT_EXTRA_FILES, *allowed)]
    found: list[str] = []
    for path in paths:
        if path in desired or path in owned or not _PICKED_UP.match(path.rpartition("/")[2]) or not prune(path):
            continue
        if not any(p.match(path) for p in patterns):
            found.append(path)
    return sorted(found)
