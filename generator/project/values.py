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

__all__ = ["HclExpr", "expressions"]


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
