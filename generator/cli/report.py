"""How outcomes are shown: diagnostics, a render's file listing and diffs, the one
``--format json`` envelope of every command, and the exit code of every outcome."""

from __future__ import annotations

import difflib
import itertools
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from ..errors import ArgumentError, Diagnostic, KeyPath, TfgenError
from ..output.diff import Change
from ..output.state import MANIFEST
from ..output.sync import RenderResult

#: The JSON envelope's shape version; fields may be added, none renamed.
REPORT_FORMAT = 1

#: Exit codes: the only mapping of outcomes to codes.
EXIT_OK = 0
EXIT_DRIFT = 1  # --check found drift, a write was refused, the output is locked
EXIT_INPUT = 2  # invalid input or arguments (also click's usage errors)
EXIT_BUG = 3  # an unexpected exception: a bug in tfgen
EXIT_INTERRUPTED = 130  # Ctrl-C

#: The library's argument names, as the command line spells them.
OPTION_NAMES = {
    "scope.environments": "--env",
    "scope.regions": "--region",
    "scope.tenants": "--tenant",
    "project": "--project",
    "environments": "--environments",
    "regions": "--region",
    "style": "--style",
    "output": "-o",
    "modules": "module",
}


#: How the library names its keyword arguments in messages, as the command line spells them.
_KEYWORDS = {"force=True": "--force", "allow_orphan=True": "--allow-orphan", "lock_timeout": "--lock-timeout",
             "strict=True": "--strict", "switch_style=True": "--switch-style"}
_KEYWORD = re.compile("|".join(re.escape(k) for k in _KEYWORDS))


def as_typed(diagnostic: Diagnostic) -> Diagnostic:
    """*diagnostic* with the library's keyword arguments (force=True) named as options (--force)."""
    message = _KEYWORD.sub(lambda m: _KEYWORDS[m.group(0)], diagnostic.message)
    hint = _KEYWORD.sub(lambda m: _KEYWORDS[m.group(0)], diagnostic.hint)
    if message == diagnostic.message and hint == diagnostic.hint:
        return diagnostic
    return replace(diagnostic, message=message, hint=hint)


def exit_code(error: TfgenError) -> int:
    """Input errors exit 2; errors of the output tree (refused writes, locks) exit 1."""
    return EXIT_DRIFT if error.exit_code == 1 else EXIT_INPUT


def worded(error: TfgenError) -> list[Diagnostic]:
    """The error's diagnostics, arguments named as the command line's options."""
    diagnostics = error.worded(OPTION_NAMES) if isinstance(error, ArgumentError) else error.diagnostics
    return [as_typed(d) for d in diagnostics]


# --- what the error handler needs to know about the running command -----------------


def remember_format(fmt: str) -> None:
    """Tell the error handler that this command reports in *fmt* (text or json)."""
    click.get_current_context().meta["tfgen.format"] = fmt


def remember_command(name: str) -> None:
    """Tell the error handler the command's full name (``modules lock``) for its envelope."""
    click.get_current_context().meta["tfgen.command"] = name


def remember_writing(output: Path) -> None:
    """Tell the error handler that this command writes into *output*."""
    click.get_current_context().meta["tfgen.writing"] = output


def print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        click.echo(str(as_typed(diagnostic)), err=True)


def print_error(error: TfgenError) -> None:
    """The errors of *error* first, one per line, then the warnings that stand on their
    own; the warnings that follow from the errors (about an environment or unit an error
    is about) folded into one line, and a count when there are several."""
    diagnostics = worded(error)
    errors = [d for d in diagnostics if d.severity == "error"]
    warnings = [d for d in diagnostics if d.severity == "warning"]
    subjects = {s for e in errors for s in _subjects(e)}
    folded = [w for w in warnings if _pairs(w.path) & subjects]
    shown = [w for w in warnings if w not in folded]
    print_diagnostics(errors + shown)
    if folded:
        about = sorted({f"{kind[:-1]} {name}" for kind, name in subjects if any((kind, name) in _pairs(w.path)
                                                                             for w in folded)})
        click.echo(f"(+{len(folded)} warning{'s' if len(folded) != 1 else ''} about {', '.join(about)} that may "
                   "follow from these errors: fix them and run again)", err=True)
    if len(errors) > 1 or warnings:
        counts = [f"{len(errors)} error{'s' if len(errors) != 1 else ''}"]
        if warnings:
            counts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
        click.echo(", ".join(counts), err=True)


_MEANT = re.compile(r"did you mean '([^']+)'")
_SUBJECTS = ("environments", "regions", "units")


def _pairs(path: KeyPath) -> set[tuple[str, str]]:
    """(kind, name) of every environment, region and unit *path* goes through."""
    return {(str(k), str(n)) for k, n in itertools.pairwise(path) if k in _SUBJECTS and isinstance(n, str)}


def _subjects(error: Diagnostic) -> set[tuple[str, str]]:
    """What an error is about: the environments, regions and units on its key path and, for
    a misspelt name in a unit's environments or regions list, the one meant, which then
    lacks the unit (its settings read by nothing, its overrides of the unit without effect)."""
    found = _pairs(error.path)
    path = error.path
    if len(path) >= 3 and path[0] == "units" and path[2] in ("environments", "regions"):
        meant = _MEANT.search(f"{error.message} {error.hint}")
        if meant:
            found.add((str(path[2]), meant.group(1)))
    return found


def envelope(
    command: str,
    *,
    exit_code: int = EXIT_OK,
    errors: Iterable[Diagnostic] = (),
    warnings: Iterable[Diagnostic] = (),
    result: Any = None,
) -> str:
    """The one JSON shape every command prints with --format json, whatever the outcome:
    {"format", "command", "ok", "exit_code", "errors", "warnings", "result"}; result is
    the command's own document (null when it failed before producing one)."""
    document = {
        "format": REPORT_FORMAT,
        "command": command,
        "ok": exit_code == EXIT_OK,
        "exit_code": exit_code,
        "errors": [as_typed(d).as_json() for d in errors],
        "warnings": [as_typed(d).as_json() for d in warnings],
        "result": result,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def error_envelope(command: str, error: TfgenError) -> str:
    diagnostics = worded(error)
    return envelope(
        command,
        exit_code=exit_code(error),
        errors=[d for d in diagnostics if d.severity == "error"],
        warnings=[d for d in diagnostics if d.severity == "warning"],
    )

_NOTES = {
    "created": "",
    "changed": "",
    "stale": "",
    "unowned": "not written by tfgen; render refuses to replace it without --force",
    "unchanged": "",
}


#: What a written shared file (root.hcl, _envcommon/*) means, in listings and diff headers.
SHARED = "read by every environment"


def use_color(choice: str, is_tty: bool, environ: Mapping[str, str] = os.environ) -> bool:
    """--color always|never|auto; auto: a terminal, and NO_COLOR unset or empty."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return is_tty and not environ.get("NO_COLOR")


def note(change: Change, *, force: bool = False, allow_orphan: bool = False) -> str:
    """Why a listed file matters, beyond its status, for a render given the same
    --force and --allow-orphan."""
    if change.status == "hand-edited":
        if change.new is None:
            text = "edited by hand and no longer rendered; " + (
                "--force deletes it" if force else "render refuses to delete it without --force"
            )
        elif change.input_changed:
            text = "edited by hand, and the input changed too; " + (
                "--force overwrites it" if force else "render refuses to overwrite it without --force"
            )
        else:
            text = "edited by hand; " + (
                "--force overwrites it" if force else "render refuses to overwrite it without --force"
            )
    elif change.status == "unowned" and force:
        text = "not written by tfgen; --force replaces it"
    else:
        text = _NOTES[change.status]
    if change.shared and change.action == "write":
        text = f"{text}; {SHARED}" if text else SHARED
    if change.protected and change.action == "delete":
        protected = f"protected environment {change.environment}: " + (
            "--allow-orphan deletes its files and leaves the infrastructure unmanaged"
            if allow_orphan
            else "render refuses to orphan it without --allow-orphan"
        )
        text = f"{text}; {protected}" if text else protected
    return text


def listing(changes: Iterable[Change], manifest: str, *, force: bool = False, allow_orphan: bool = False) -> list[str]:
    """One line per file that is not in sync: ``status  path  (note)``."""
    lines = []
    for change in changes:
        if change.status == "unchanged":
            continue
        why = note(change, force=force, allow_orphan=allow_orphan)
        lines.append(f"{change.status:<12} {change.path}" + (f"  ({why})" if why else ""))
    if manifest != "unchanged":
        lines.append(f"{manifest:<12} {MANIFEST}  (tfgen's record of the files it wrote)")
    return lines


def summary(result: RenderResult) -> str:
    """One line: what a render wrote, or what a check found."""
    if result.written:
        writes = [c for c in result.changes if c.action == "write"]
        created = sum(1 for c in writes if c.old is None)
        unchanged = sum(1 for c in result.changes if c.action == "none")
        return (
            f"rendered {result.files} files: {created} created, {len(writes) - created} changed, "
            f"{result.counts()['deleted']} deleted, {unchanged} unchanged in {result.seconds:.2f} s"
        )
    unowned = f", {result.count('unowned')} unowned" if result.count("unowned") else ""
    return (
        f"checked {result.files} files: {result.count('created')} created, {result.count('changed')} changed, "
        f"{result.count('stale')} stale, {result.count('hand-edited')} hand-edited{unowned}, "
        f"{result.count('unchanged')} unchanged in {result.seconds:.2f} s"
    )


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
    if change.shared and change.new is not None and not new_label:
        new_label = f"({SHARED})"
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


def shared_writes(result: RenderResult) -> list[Change]:
    """Files every environment reads that this render writes (or would write)."""
    return [c for c in result.changes if c.shared and c.action == "write"]


def render_result(result: RenderResult, mode: str, output: str, *, diffs: bool = False) -> dict[str, Any]:
    """The "result" of ``tfgen render --format json`` (see ``tfgen render --help``)."""
    files = []
    for change in result.changes:
        if change.status == "unchanged":
            continue
        entry: dict[str, Any] = {
            "path": change.path,
            "status": change.status,
            "action": change.action,
            "environment": change.environment,
            # root.hcl, _envcommon/*: a render limited to one environment changes the others too
            "read_by_every_environment": change.shared,
            "input_changed": change.status != "hand-edited" or change.input_changed,
            "protected": change.protected,
            "refused": change.refused(force=result.force, allow_orphan=result.allow_orphan),
        }
        if diffs:
            entry["diff"] = unified_diff(change)
        files.append(entry)
    return {
        "mode": mode,
        "output": output,
        "moved": [{"unit": m.address, "from": m.state_directory, "to": m.directory} for m in result.moved],
        "shared_changed": [c.path for c in shared_writes(result)],
        "in_sync": result.in_sync,
        "written": result.written,
        "counts": result.counts(),
        "manifest": result.manifest,
        "interrupted": result.interrupted,
        "files": files,
        "kept_directories": result.kept,
        "foreign_files": result.foreign,
        "seconds": round(result.seconds, 3),
        "style_switch": result.switch.as_json() if result.switch is not None else None,
    }
