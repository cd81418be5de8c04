"""User-facing errors: every expected failure is a TfgenError carrying diagnostics.

A diagnostic knows the file, line and column it points at and the key path inside
the document, so the CLI can print ``file:line:col: key.path: message``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
KeyPath = tuple[str | int, ...]


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$-]+\Z")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """*text* with control characters escaped: a diagnostic is always one line, whatever
    names or values from the YAML it quotes."""
    return _CONTROL.sub(lambda m: json.dumps(m.group(0))[1:-1], text)


def format_key_path(path: KeyPath) -> str:
    """``("environments", "prod", "regions", 0)`` -> ``environments.prod.regions[0]``;
    a key that is not a plain word is quoted: ``units["a/../b"]``, ``environments["dev\\u0000"]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += ("." if out else "") + part
        else:
            out += f"[{json.dumps(part)}]"
    return out


@dataclass(frozen=True, order=True)
class Location:
    file: str
    line: int = 0  # 1-based; 0 when unknown
    column: int = 0  # 1-based; 0 when unknown

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


@dataclass(frozen=True)
class Diagnostic:
    message: str
    location: Location
    path: KeyPath = ()
    severity: Severity = "error"
    rule: str = ""
    hint: str = field(default="", compare=False)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.message)

    def __str__(self) -> str:
        where = str(self.location)
        key = format_key_path(self.path)
        prefix = f"{where}: {key}: " if key else f"{where}: "
        tag = "warning: " if self.severity == "warning" else ""
        text = f"{prefix}{tag}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return one_line(text)

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "path": format_key_path(self.path),
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message + (f" ({self.hint})" if self.hint else ""),
        }


def display_path(path: str | os.PathLike[str]) -> str:
    """*path* relative to the current directory when it is below it, as a user types it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return os.fspath(path)
    return relative if not relative.startswith("..") else os.fspath(path)


def sorted_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    unique = {(d.sort_key(), d.severity, d.path): d for d in diagnostics}
    return [unique[k] for k in sorted(unique, key=lambda k: (k[0], k[1], str(k[2])))]


class TfgenError(Exception):
    """An expected, user-caused failure. The CLI prints it and exits with 2."""

    exit_code = 2

    def __init__(self, diagnostics: Sequence[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics, Location("tfgen"))]
        self.diagnostics: list[Diagnostic] = sorted_diagnostics(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class InputError(TfgenError):
    """environments.yaml or a catalog file is invalid (syntax, schema or semantics)."""


@dataclass(frozen=True)
class ArgumentProblem:
    """An argument of a call that names something the project does not have."""

    argument: str  # as the library knows it: scope.environments, project, regions
    value: str  # the offending value as shown ("" when the argument as a whole is wrong)
    message: str
    hint: str = ""

    def text(self, name: str | None = None) -> str:
        """``name value: message``; *name* defaults to the argument's own name."""
        shown = name or self.argument
        return f"{shown} {self.value}: {self.message}" if self.value else f"{shown}: {self.message}"


class ArgumentError(InputError):
    """A call's arguments are wrong (an unknown environment in a scope, a bad project
    name for init). The diagnostics speak of the arguments; the command line words
    them with its own options (``--env qa``) from :attr:`problems`."""

    def __init__(self, problems: Sequence[ArgumentProblem], location: Location, rule: str) -> None:
        self.problems = list(problems)
        self.location = location
        self.rule = rule
        super().__init__([Diagnostic(p.text(), location, rule=rule, hint=p.hint) for p in self.problems])

    def worded(self, names: dict[str, str]) -> list[Diagnostic]:
        """The diagnostics with each argument renamed by *names* (e.g. to a CLI option)."""
        return [
            Diagnostic(p.text(names.get(p.argument)), self.location, rule=self.rule, hint=p.hint)
            for p in self.problems
        ]


class OutputError(TfgenError):
    """The output tree cannot be written safely (hand edits, protected deletions, locks)."""

    exit_code = 1


class OutputAccessError(OutputError):
    """The file system refuses the output tree (a read-only directory, a read-only file
    system, a full disk): nothing tfgen can repair, and nothing drifted, so it exits 2 like
    any problem the user fixes outside tfgen. The diagnostic names the path refused."""

    exit_code = 2
