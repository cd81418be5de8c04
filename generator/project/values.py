"""Values read from the YAML: ``!hcl`` expressions and what they refer to.

``HclExpr`` itself belongs to the HCL toolkit (it is HCL source); this module walks
the loaded values for expressions and reads the ``local.*`` and ``dependency.*``
references inside them on the real HCL lexer.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import KeyPath
from ..hcl.literal import HclExpr
from ..hcl.references import traversals

__all__ = [
    "LOCAL_SCOPES",
    "HclExpr",
    "dependencies_named",
    "dependency_expression",
    "dependency_reads",
    "expressions",
    "local_references",
    "locals_used",
    "reads_envcommon_include",
]


def expressions(value: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, HclExpr]]:
    """Every ``!hcl`` expression inside a loaded value, with its key path."""
    if isinstance(value, HclExpr):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from expressions(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from expressions(item, (*path, index))


#: The locals the generated files define: env.hcl, region.hcl and the project's own.
LOCAL_SCOPES = ("env", "region", "project", "tenant")


def local_references(text: str) -> tuple[tuple[str, ...], ...]:
    """``local.env.sizing.x`` in an expression -> ("env", "sizing", "x"); string text ignored."""
    return tuple(ref[1:] for ref in traversals(text) if ref[0] == "local")


def locals_used(text: str) -> frozenset[str]:
    """Which of local.env, local.region and local.project an expression reads."""
    return frozenset(ref[0] for ref in local_references(text) if ref[0] in LOCAL_SCOPES)


def reads_envcommon_include(text: str) -> bool:
    """Whether an expression reads the envcommon include (``include.envcommon.*``), which
    the leaf then has to expose."""
    return any(ref[0] == "include" and ref[1] == "envcommon" for ref in traversals(text))


def dependencies_named(text: str) -> frozenset[str]:
    """The dependency blocks an expression reads (``dependency.<name>...``)."""
    return frozenset(ref[1] for ref in traversals(text) if ref[0] == "dependency")


def dependency_reads(text: str) -> tuple[tuple[str, str], ...]:
    """``dependency.<name>.outputs.<output>`` in an expression -> (name, output)."""
    return tuple(
        (ref[1], ref[3]) for ref in traversals(text) if ref[0] == "dependency" and len(ref) >= 4 and ref[2] == "outputs"
    )


def dependency_expression(dependency: str, output: str | tuple[str, ...]) -> HclExpr:
    """The input expression that reads *output* (or a list of outputs) of a dependency block."""
    if isinstance(output, tuple):
        return HclExpr("[" + ", ".join(f"dependency.{dependency}.outputs.{o}" for o in output) + "]")
    return HclExpr(f"dependency.{dependency}.outputs.{output}")
