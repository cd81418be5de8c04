"""What the output directory says about tfgen's previous renders: the manifest, the
journal of an interrupted render, and leftover temporary files. Reads only.

Ownership: ``.tfgen-manifest.json`` records every file tfgen wrote with the hash of the
bytes it wrote, and which environments were rendered with ``deletion_protection``.
A file is tfgen's to change or delete only if its bytes on disk still hash to what the
manifest recorded; anything else is a hand edit (refused without ``force``) or a file
tfgen never wrote (never deleted, never overwritten without ``force``).

The manifest is read once per render (:func:`read_state`); its bytes travel in the
:class:`State`, so neither the report nor the writer reads it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .._version import __version__
from ..errors import Diagnostic, Location, OutputError
from ..project.layout import is_outside
from .fingerprint import Record, parse_record

MANIFEST = ".tfgen-manifest.json"
JOURNAL = ".tfgen-journal.json"
TEMP_SUFFIX = ".tfgen-tmp"
MANIFEST_FORMAT = 1

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


#: An empty, "." or ".." part of a posix path.
_DOT_PART = re.compile(r"(?:\A|/)\.{0,2}(?:/|\Z)")


#: In a manifest's paths joined by newlines, their "/" turned into newlines too, what
#: could make one of them unsafe (is_safe_path): an empty, "." or ".." part (a leading
#: "/" makes an empty one), a backslash, a NUL. None of them there proves every path
#: safe; one there sends each path to is_safe_path.
_UNSAFE_PARTS = ("\n\n", "\n.\n", "\n..\n", "\\", "\0")
#: Every hash of a manifest, joined by newlines.
_DIGESTS = re.compile(r"(?:sha256:[0-9a-f]{64}\n)*sha256:[0-9a-f]{64}")


def _all_safe(files: Mapping[str, object]) -> bool:
    """Whether every path of *files* is safe and every value a hash, at once: the
    manifest of a large tree holds 50,000 of each. False says only: check each one."""
    if MANIFEST in files or JOURNAL in files:
        return False
    inside = [path for path in files if not path.startswith("../")]
    if len(inside) < len(files) and not all(is_safe_path(p) for p in files if p.startswith("../")):
        return False  # outside the tree: only the workflow at the repository root may be
    values = list(files.values())
    if not all(type(value) is str for value in values):
        return False
    parts = "\n" + "\n".join(inside).replace("/", "\n") + "\n"
    return not any(unsafe in parts for unsafe in _UNSAFE_PARTS) and (
        not values or _DIGESTS.fullmatch("\n".join(cast(list[str], values))) is not None
    )


def is_safe_path(path: str) -> bool:
    """A relative posix path that stays inside the output directory, or the workflow at
    the repository root's .github/workflows/ (layout.is_outside)."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path or path in (MANIFEST, JOURNAL):
        return False
    return not _DOT_PART.search(path) or is_outside(path)


# --- manifest and journal ---------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What tfgen wrote (files, their hashes, protection) and what it was made from
    (*inputs*, a fingerprint.Record). Only the first part is the tree's state: comparing
    a render with the tree ignores *inputs* (State.manifest_status), so a manifest
    written by another tfgen, or before a comment of the YAML changed, is never drift.
    (Manifests once recorded ``tfgen_version`` in a way that made every release drift.)"""

    files: Mapping[str, str]  # path -> digest of the bytes tfgen wrote
    #: environments rendered with deletion_protection: true; None when the manifest
    #: predates this record (protection then unknown, assumed for removed environments)
    protected: tuple[str, ...] | None = ()
    #: the fingerprint of the whole render that wrote these files (None: unknown, e.g.
    #: after a render limited to some environments changed the inputs)
    inputs: Record | None = None

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
            "generator": "tfgen",
            "format": MANIFEST_FORMAT,
            "protected": sorted(self.protected or ()),
            "files": dict(sorted(self.files.items())),
        }
        if self.inputs is not None:
            body["inputs"] = self.inputs.as_json()
        return _dumps(body, "files", _string_map(body["files"], 2))


def _corrupt(path: Path, reason: str) -> OutputError:
    return OutputError(
        [
            Diagnostic(
                f"the manifest is corrupt ({reason}); tfgen deletes and overwrites nothing until it is repaired",
                Location(str(path)),
                rule="manifest",
                hint="restore it from version control, or pass force=True to treat it as missing: "
                "tfgen then adopts files whose bytes match and deletes nothing",
            )
        ]
    )


def read_manifest(output: Path) -> Manifest | None:
    """The manifest of *output*, None when there is none; a corrupt one is an OutputError."""
    raw = _manifest_bytes(output)
    return None if raw is None else parse_manifest(raw, output / MANIFEST)


def _manifest_bytes(output: Path) -> bytes | None:
    try:
        return (output / MANIFEST).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def parse_manifest(raw: bytes, path: Path) -> Manifest:
    """The manifest in *raw* (read from *path*); a corrupt one is an OutputError."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise _corrupt(path, f"not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("generator") != "tfgen":
        raise _corrupt(path, "not a tfgen manifest")
    form = body.get("format", MANIFEST_FORMAT)
    if isinstance(form, int) and not isinstance(form, bool) and form > MANIFEST_FORMAT:
        written_by = body.get("tfgen_version")
        by = f" by tfgen {written_by}" if isinstance(written_by, str) and written_by else ""
        raise OutputError(
            [
                Diagnostic(
                    f"the manifest was written{by} in format {form}, newer than this tfgen ({__version__}) "
                    f"reads (format {MANIFEST_FORMAT}); tfgen writes and deletes nothing",
                    Location(str(path)),
                    rule="manifest-newer",
                    hint="upgrade tfgen (pip install -U terragrunt-tfgen) to the version that wrote it",
                )
            ]
        )
    files = body.get("files")
    if not isinstance(files, dict):
        raise _corrupt(path, "'files' is not a mapping")
    for name, value in () if _all_safe(files) else files.items():
        if not is_safe_path(name):
            raise _corrupt(path, f"unsafe path {name!r}")
        if not isinstance(value, str) or not _DIGEST.match(value):
            raise _corrupt(path, f"bad hash for {name}")
    protected = body.get("protected")
    if protected is not None and (
        not isinstance(protected, list) or not all(isinstance(e, str) for e in protected)
    ):
        raise _corrupt(path, "'protected' is not a list of environment names")
    return Manifest(files, tuple(protected) if protected is not None else None, parse_record(body.get("inputs")))


def read_journal(output: Path) -> dict[str, frozenset[str]] | None:
    """The journal an interrupted render left behind (path -> hashes it was writing)."""
    return _read_journal(output)[0]


def _read_journal(output: Path) -> tuple[dict[str, frozenset[str]] | None, frozenset[str]]:
    """The journal's files (path -> hashes) and the paths it was creating in place."""
    try:
        raw = (output / JOURNAL).read_bytes()
    except FileNotFoundError:
        return None, frozenset()
    try:
        body = json.loads(raw)
        files = body["files"]
        hashes = {
            path: frozenset(hashes)
            for path, hashes in files.items()
            if is_safe_path(path) and all(isinstance(h, str) and _DIGEST.match(h) for h in hashes)
        }
        creating = body.get("creating", [])
        # only a path that the journal also lists with its hashes: what tfgen was writing
        return hashes, frozenset(p for p in creating if isinstance(p, str) and p in hashes)
    except (ValueError, KeyError, TypeError, AttributeError):
        # Written atomically, so only a stray edit corrupts it. Ignoring it can only make
        # tfgen more careful (more files look hand-edited), never delete anything.
        return {}, frozenset()


def journal_bytes(files: Mapping[str, Iterable[str]], creating: Iterable[str] = ()) -> bytes:
    """The journal: the hashes of every file a render is about to write, and *creating*,
    the paths it creates in place (no file was there: disk.write_all), where the next
    render may find a partial write of its own (diff._partly_created)."""
    body: dict[str, Any] = {"generator": "tfgen", "files": {}}
    created = sorted(set(creating))
    if created:
        body["creating"] = created
    listed = ((p, sorted(set(h))) for p, h in sorted(files.items()))  # one entry at a time: 50,000 of them
    return _dumps(body, "files", _string_lists(listed, 2))


# json.dumps with an indent runs the pure-Python encoder (the C one is for compact
# output only): a manifest or journal of 50,000 files took a second. The large mapping
# of each is written by the functions below, which make json.dumps(..., indent=1)'s
# bytes (ASCII, ": " and "," separators) with the C string encoder; the rest of the
# document goes through json.dumps itself. tests/output/test_state.py compares them.
_string = json.encoder.encode_basestring_ascii


def _string_map(entries: Mapping[str, str], depth: int) -> str:
    """``json.dumps(entries, indent=1)`` nested *depth* levels deep (keys and values strings)."""
    if not entries:
        return "{}"
    inner = ",\n" + " " * depth
    return "{\n" + " " * depth + inner.join(
        f"{_string(k)}: {_string(v)}" for k, v in entries.items()
    ) + "\n" + " " * (depth - 1) + "}"


def _string_lists(entries: Iterable[tuple[str, list[str]]], depth: int) -> str:
    """``json.dumps(dict(entries), indent=1)`` nested *depth* levels deep (lists of strings)."""
    pad, inner = " " * depth, " " * (depth + 1)

    def listed(values: list[str]) -> str:
        if not values:
            return "[]"
        return "[\n" + ",\n".join(inner + _string(v) for v in values) + "\n" + pad + "]"

    body = ",\n".join(f"{pad}{_string(k)}: {listed(v)}" for k, v in entries)
    return "{\n" + body + "\n" + " " * (depth - 1) + "}" if body else "{}"


def _dumps(body: dict[str, Any], key: str, encoded: str) -> bytes:
    """``json.dumps(body, indent=1) + "\\n"`` as bytes, with *encoded* (the text of
    body[key], a top-level key) spliced in for it."""
    text = json.dumps({**body, key: {}}, indent=1, ensure_ascii=True)
    # "KEY": {} is the first such text: a string's own quotes are escaped (\"), and
    # *key* comes before any nested mapping of the same name
    marker = f"{_string(key)}: {{}}"
    return (text.replace(marker, f"{_string(key)}: {encoded}", 1) + "\n").encode("utf-8")


@dataclass(frozen=True)
class State:
    """What the output directory says about tfgen's previous renders."""

    manifest: Manifest | None
    journal: Mapping[str, frozenset[str]] | None  # None: the previous render completed
    leftovers: tuple[str, ...]  # temporary files in the output root
    warnings: tuple[Diagnostic, ...] = ()
    has_files: bool = False  # the output directory holds anything at all
    manifest_bytes: bytes | None = None  # the manifest file as read (None: there is none)
    #: paths the interrupted render was creating in place (no file was there before it):
    #: what they hold may be its partial write (diff._partly_created says when it is)
    creating: frozenset[str] = frozenset()

    def manifest_status(self, manifest: Manifest) -> str:
        """What *manifest* changes in the file: unchanged, changed or created. Only what it
        records counts (files, hashes, protection), not how an older tfgen spelt it (with
        the ``tfgen_version`` it wrote then): a tfgen upgrade that renders the same bytes
        leaves the tree in sync, and the file is rewritten with the next real change."""
        if self.manifest_bytes is None:
            return "created"
        if self.manifest_bytes == manifest.to_bytes():
            return "unchanged"
        old = self.manifest
        same = (
            old is not None
            and old.protected is not None
            and dict(old.files) == dict(manifest.files)
            and sorted(old.protected) == sorted(manifest.protected or ())
        )
        return "unchanged" if same else "changed"

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
    raw = _manifest_bytes(output)
    try:
        manifest = None if raw is None else parse_manifest(raw, output / MANIFEST)
    except OutputError as error:
        if not force or any(d.rule == "manifest-newer" for d in error.diagnostics):
            raise
        manifest = None
        warnings.append(
            Diagnostic(
                "the manifest is corrupt; force=True treats it as missing: nothing is deleted, "
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
    leftovers = tuple(sorted(n for n in entries if is_temp(n)))
    has_files = holds_files(entries)
    if manifest is None and has_files and not warnings:
        warnings.append(
            Diagnostic(
                "no manifest: tfgen cannot tell which files it wrote; it adopts files whose bytes match "
                "the render, refuses to overwrite the others without force=True, and deletes nothing",
                Location(str(output / MANIFEST)),
                severity="warning",
                rule="manifest",
            )
        )
    journal, creating = _read_journal(output)
    return State(manifest, journal, leftovers, tuple(warnings), has_files, raw, creating)


def holds_files(names: Iterable[str]) -> bool:
    """Whether the entries *names* of an output directory hold anything but tfgen's
    manifest, journal and temporary files."""
    return any(n not in (MANIFEST, JOURNAL) and not is_temp(n) for n in names)


def is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)
