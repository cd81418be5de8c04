"""How a render's comparison is shown: file listing, unified diffs, JSON. Pure."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import click

from .errors import Diagnostic
from .writer import MANIFEST, Change

if TYPE_CHECKING:
    from .api import RenderResult

#: The JSON report's shape version; fields may be added, none renamed.
REPORT_FORMAT = 1

_NOTES = {
    "created": "",
    "changed": "",
    "stale": "",
    "unowned": "not written by tfgen; render refuses to replace it without --force",
    "unchanged": "",
}


def use_color(choice: str, is_tty: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """--color always|never|auto; auto: a terminal, and NO_COLOR unset or empty."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return is_tty and not environ.get("NO_COLOR")


def note(change: Change) -> str:
    """Why a listed file matters, beyond its status."""
    if change.status == "hand-edited":
        if change.new is None:
            text = "edited by hand and no longer rendered; render refuses to delete it without --force"
        elif change.input_changed:
            text = "edited by hand, and the input changed too; render refuses to overwrite it without --force"
        else:
            text = "edited by hand; render refuses to overwrite it without --force"
    else:
        text = _NOTES[change.status]
    if change.protected and change.action == "delete":
        protected = f"protected environment {change.environment}: render refuses to orphan it without --allow-orphan"
        text = f"{text}; {protected}" if text else protected
    return text


def listing(changes: Iterable[Change], manifest: str) -> list[str]:
    """One line per file that is not in sync: ``status  path  (note)``."""
    lines = []
    for change in changes:
        if change.status == "unchanged":
            continue
        why = note(change)
        lines.append(f"{change.status:<12} {change.path}" + (f"  ({why})" if why else ""))
    if manifest != "unchanged":
        lines.append(f"{manifest:<12} {MANIFEST}  (tfgen's record of the files it wrote)")
    return lines


def _text(data: bytes | None) -> list[str]:
    if data is None:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def unified_diff(change: Change, old_label: str = "", new_label: str = "") -> str:
    """A git-style unified diff of the file on disk (a/) and the render (b/)."""
    before = f"a/{change.path}" if change.old is not None else "/dev/null"
    after = f"b/{change.path}" if change.new is not None else "/dev/null"
    lines = difflib.unified_diff(
        _text(change.old),
        _text(change.new),
        before + (f"\t{old_label}" if old_label and change.old is not None else ""),
        after + (f"\t{new_label}" if new_label and change.new is not None else ""),
    )
    return "".join(lines)


def colorize(diff: str) -> str:
    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(click.style(line, bold=True))
        elif line.startswith("@@"):
            out.append(click.style(line, fg="cyan"))
        elif line.startswith("+"):
            out.append(click.style(line, fg="green"))
        elif line.startswith("-"):
            out.append(click.style(line, fg="red"))
        else:
            out.append(line)
    return "".join(out)


def as_json(
    result: RenderResult,
    mode: str,
    output: str,
    *,
    diffs: bool = False,
    errors: Iterable[Diagnostic] = (),
) -> dict[str, Any]:
    """The machine-readable report (see ``tfgen render --help``)."""
    errors = list(errors)
    files = []
    for change in result.changes:
        if change.status == "unchanged":
            continue
        entry: dict[str, Any] = {
            "path": change.path,
            "status": change.status,
            "action": change.action,
            "environment": change.environment,
            "input_changed": change.status != "hand-edited" or change.input_changed,
            "protected": change.protected,
            "refused": change.refused(force=result.force, allow_orphan=result.allow_orphan),
        }
        if diffs:
            entry["diff"] = unified_diff(change)
        files.append(entry)
    return {
        "format": REPORT_FORMAT,
        "ok": not errors and (result.in_sync or mode != "check"),
        "mode": mode,
        "output": output,
        "in_sync": result.in_sync,
        "written": result.written,
        "counts": result.counts(),
        "manifest": result.manifest,
        "interrupted": result.interrupted,
        "files": files,
        "kept_directories": result.kept,
        "errors": [d.as_json() for d in errors],
        "warnings": [w.as_json() for w in result.warnings],
        "seconds": round(result.seconds, 3),
        "style_switch": result.switch.as_json() if result.switch is not None else None,
    }
