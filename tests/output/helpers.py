"""Helpers for the output tests: a State from plain bytes, files put on disk."""

from __future__ import annotations

from pathlib import Path

from generator.output.diff import Change
from generator.output.state import Manifest, State, digest


def state(files: dict[str, bytes] | None = None, journal: dict[str, set[bytes]] | None = None) -> State:
    manifest = Manifest({p: digest(b) for p, b in files.items()}) if files is not None else None
    recorded = {p: frozenset(digest(b) for b in v) for p, v in journal.items()} if journal is not None else None
    return State(manifest, recorded, ())


def put(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def by_path(changes: list[Change]) -> dict[str, Change]:
    return {c.path: c for c in changes}
