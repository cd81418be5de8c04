"""The only module that writes: desired tree vs disk -> changes -> atomic apply.

Every file is written to a temporary file in its own directory, flushed, fsynced and
renamed over the target, so a crash leaves each file either old or new. The manifest
(``.tfgen-manifest.json``) records what tfgen wrote, with content hashes; it is
written last.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from . import __version__
from .errors import Diagnostic, Location, OutputError

MANIFEST = ".tfgen-manifest.json"
MANIFEST_FORMAT = 1

ChangeKind = Literal["created", "changed", "deleted", "unchanged"]


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, str]  # path -> digest
    version: str = __version__

    def to_bytes(self) -> bytes:
        body = {
            "generator": "tfgen",
            "format": MANIFEST_FORMAT,
            "tfgen_version": self.version,
            "files": dict(sorted(self.files.items())),
        }
        return (json.dumps(body, indent=1, sort_keys=False) + "\n").encode("utf-8")


def read_manifest(output: Path) -> Manifest | None:
    """The manifest of *output*, None when there is none; a corrupt one is an error."""
    path = output / MANIFEST
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        body = json.loads(raw)
        files = body["files"]
        if (
            body.get("generator") != "tfgen"
            or not isinstance(files, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
        ):
            raise ValueError("unexpected structure")
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            [
                Diagnostic(
                    f"the manifest is corrupt ({exc}); tfgen deletes and overwrites nothing until it is repaired",
                    Location(str(path)),
                    rule="manifest",
                    hint="restore it from version control, or remove it to let tfgen adopt files whose bytes match",
                )
            ]
        ) from None
    return Manifest(files, str(body.get("tfgen_version", "")))


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind
    old: bytes | None
    new: bytes | None


def compare(output: Path, desired: Mapping[str, bytes], owned: Iterable[str] = ()) -> list[Change]:
    """What applying *desired* would do. *owned* paths (from the manifest) that are not
    desired are deletions. Sizes are compared before contents are read."""
    changes: list[Change] = []
    for path in sorted(desired):
        new = desired[path]
        target = output / path
        try:
            size = target.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            changes.append(Change(path, "created", None, new))
            continue
        old = target.read_bytes() if size == len(new) else None
        if old == new:
            changes.append(Change(path, "unchanged", old, new))
        else:
            changes.append(Change(path, "changed", old if old is not None else target.read_bytes(), new))
    for path in sorted(set(owned) - set(desired)):
        target = output / path
        if target.is_file():
            changes.append(Change(path, "deleted", target.read_bytes(), None))
    return changes


def write_atomic(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tfgen-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _remove_empty_parents(output: Path, path: str) -> None:
    parent = (output / path).parent
    while parent != output and output in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def apply(
    output: Path, changes: Iterable[Change], manifest: Manifest, progress: Callable[[int, int], None] | None = None
) -> None:
    """Write created/changed files, delete deleted ones, then write the manifest.
    *progress*, if given, is called with (files done, files to do) as it goes."""
    output.mkdir(parents=True, exist_ok=True)
    todo = [c for c in changes if c.kind != "unchanged"]
    for done, change in enumerate(todo, start=1):
        if change.kind in ("created", "changed") and change.new is not None:
            write_atomic(output / change.path, change.new)
        elif change.kind == "deleted":
            with contextlib.suppress(FileNotFoundError):
                (output / change.path).unlink()
            _remove_empty_parents(output, change.path)
        if progress is not None and (done % 100 == 0 or done == len(todo)):
            progress(done, len(todo))
    data = manifest.to_bytes()
    manifest_path = output / MANIFEST
    try:
        current = manifest_path.read_bytes()
    except FileNotFoundError:
        current = None
    if current != data:
        write_atomic(manifest_path, data)
