"""Syntax checks of HCL with HashiCorp's Go parser (pygohcl), else python-hcl2.

pygohcl wraps hashicorp/hcl/v2, the parser Terragrunt itself uses, so its verdict is the
one that counts; python-hcl2 (a Lark grammar) is the fallback on platforms without a
pygohcl wheel. pygohcl names every source ``tmp.hcl``; the functions here put the real
file name (or the position inside an ``!hcl`` expression) in its place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# One pygohcl diagnostic: "tmp.hcl:LINE,COL-[LINE,]COL: Summary; Detail".
_DIAGNOSTIC = re.compile(r"(?:^|, )tmp\.hcl:(\d+),(\d+)(?:-(?:\d+,)?\d+)?: ")
_EXPRESSION_PREFIX = "x = "


@dataclass(frozen=True)
class SyntaxProblem:
    """One diagnostic of the Go parser, at a 1-based line and column of its source."""

    line: int
    column: int
    message: str


def _problems(text: str, file: str) -> list[SyntaxProblem]:
    """Split pygohcl's one-string error into diagnostics; *file* replaces ``tmp.hcl``."""
    text = text.removeprefix("invalid HCL: ")
    marks = list(_DIAGNOSTIC.finditer(text))
    if not marks:
        return [SyntaxProblem(1, 1, text.replace("tmp.hcl:", f"{file}:"))]
    problems = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(text)
        message = text[mark.end() : end].replace("tmp.hcl:", f"{file}:")
        problems.append(SyntaxProblem(int(mark.group(1)), int(mark.group(2)), message))
    return problems


# The parsers are imported on first use, not to dodge an import cycle (this module
# imports nothing of tfgen) but to keep start-up fast: commands that parse no !hcl
# expression (graph, schema, --help) never load the Go library (0.1 s), and only the
# fallback needs python-hcl2 and its grammar (0.4 s).


def _go_parse(source: str, file: str) -> tuple[Any, list[SyntaxProblem]]:
    import pygohcl

    try:
        return pygohcl.loads(source), []
    except pygohcl.HCLParseError as exc:
        return None, _problems(str(exc), file)
    except Exception as exc:  # pygohcl's internal errors are still a verdict on the source
        return None, [SyntaxProblem(1, 1, str(exc).replace("tmp.hcl:", f"{file}:"))]


def have_go_parser() -> bool:
    try:
        import pygohcl  # noqa: F401
    except ImportError:
        return False
    return True


def file_problems(source: str, file: str) -> list[str]:
    """Every syntax error of a whole HCL file, as ``file:line:col: message``."""
    if not have_go_parser():
        problem = _parse_error_hcl2(source)
        return [f"{file}:1:1: {problem}"] if problem else []
    _, problems = _go_parse(source, file)
    return [f"{file}:{p.line}:{p.column}: {p.message}" for p in problems]


@lru_cache(maxsize=4096)
def expression_error(text: str) -> str | None:
    """None when *text* is exactly one HCL expression, else a one-line reason.

    The expression is parsed as the value of an attribute. Positions in the reason are
    relative to the expression (line 1 is its first line), so that a caller can add
    them to the YAML position of the ``!hcl`` value.
    """
    source = f"{_EXPRESSION_PREFIX}{text}\n"
    if not have_go_parser():
        return _parse_error_hcl2(source)
    body, problems = _go_parse(source, "<expression>")
    if problems:
        first = problems[0]
        column = first.column - len(_EXPRESSION_PREFIX) if first.line == 1 else first.column
        where = f"line {first.line}, column {max(column, 1)}" if "\n" in text else f"column {max(column, 1)}"
        return f"{first.message} (at {where} of the expression)"
    if isinstance(body, dict) and set(body) != {"x"}:
        extra = sorted(set(body) - {"x"})
        return (
            "more than one expression: the text goes on after the expression ends"
            f" (it defines {', '.join(extra)}); an !hcl value must be a single expression"
        )
    return None


def _parse_error_hcl2(source: str) -> str | None:
    import hcl2

    try:
        hcl2.loads(source)
    except Exception as exc:  # python-hcl2 raises lark errors of several kinds
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return None
