"""Rules on !hcl expressions: they parse, stay deterministic, and keep their keys apart."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Diagnostic
from ..hcl.literal import key_collisions
from ..hcl.references import function_calls
from ..hcl.syntax import expression_error
from ..project.values import HclExpr, expressions
from .base import Context, documents, rule

#: Functions whose result changes on every run: every plan would show a change.
NONDETERMINISTIC = frozenset({"timestamp", "uuid", "bcrypt"})


def expression_syntax(expr: HclExpr) -> str | None:
    """None when *expr* parses as an HCL expression, else the parser's complaint."""
    return expression_error(expr.text)


@rule
def hcl_expressions_parse(ctx: Context) -> Iterator[Diagnostic]:
    for doc in documents(ctx):
        for path, expr in expressions(doc.data):
            problem = expression_syntax(expr)
            if problem:
                yield Diagnostic(
                    f"!hcl expression does not parse: {problem}", doc.locate(path), path, rule="hcl-expression"
                )


@rule
def no_nondeterministic_functions(ctx: Context) -> Iterator[Diagnostic]:
    for doc in documents(ctx):
        for path, expr in expressions(doc.data):
            called = next((f for f in function_calls(expr.text) if f in NONDETERMINISTIC), None)
            if called:
                yield Diagnostic(
                    f"{called}() changes on every run and makes every plan dirty",
                    doc.locate(path),
                    path,
                    severity="warning",
                    rule="timestamp",
                    hint="pass a fixed value, or compute it in the module with a lifecycle ignore_changes",
                )


@rule
def map_keys_distinct_in_hcl(ctx: Context) -> Iterator[Diagnostic]:
    """HCL normalises strings to Unicode NFC: two keys that differ only in their
    normalisation would silently become one."""
    for doc in documents(ctx):
        for path, first, second in key_collisions(doc.data):
            yield Diagnostic(
                f"keys {first!r} and {second!r} are the same key in HCL (Unicode NFC normalisation)",
                doc.locate((*path, second), key=True),
                (*path, second),
                rule="hcl-key-collision",
                hint="write both keys with the same Unicode normalisation, or rename one",
            )
