"""Rules on input values as Terragrunt hands them to OpenTofu: TF_VAR_ environment
variables, which hold no NUL character and are limited in size."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..errors import Diagnostic, KeyPath
from ..project.values import HclExpr
from .base import Context, catalog_rule, input_sources

#: Linux's limit on one environment string (MAX_ARG_STRLEN): Terragrunt passes each input
#: to OpenTofu as one `TF_VAR_<name>=<JSON>` variable.
MAX_INPUT_BYTES = 128 * 1024


def _literal_strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str, bool]]:
    """Every literal string of an input value (keys too): (path, text, is a key)."""
    stack: list[tuple[Any, KeyPath]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item, False
        elif isinstance(item, dict):
            for key, child in item.items():
                yield (*where, key), str(key), True
                stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, i)) for i, child in enumerate(item))


@catalog_rule
def inputs_fit_in_the_environment(ctx: Context) -> Iterator[Diagnostic]:
    """Terragrunt hands inputs to OpenTofu as environment variables, which cannot hold a
    NUL character and have a size limit: such an input fails every run of the unit."""
    for source in input_sources(ctx):
        for name, value in source.inputs.items():
            for where, text, is_key in _literal_strings(value, (*source.path, name)):
                if "\0" in text:
                    yield Diagnostic(
                        "a NUL character in an input: Terragrunt passes inputs as TF_VAR_ environment "
                        "variables, which cannot hold one",
                        source.doc.locate(where, key=is_key),
                        where,
                        rule="input-environment",
                        hint="remove the \\0 (or \\x00) escape",
                    )
            # An !hcl expression counts as its source text: a lower bound of its value's size.
            size = len(json.dumps(value, ensure_ascii=False, default=_source_text).encode("utf-8"))
            if size > MAX_INPUT_BYTES:
                yield Diagnostic(
                    f"input '{name}' is {size} bytes as JSON; Terragrunt passes it as one environment "
                    f"variable, which Linux limits to {MAX_INPUT_BYTES} bytes",
                    source.doc.locate((*source.path, name), key=True),
                    (*source.path, name),
                    rule="input-environment",
                    hint="move large data into a file the module reads",
                )


def _source_text(value: Any) -> str:
    if isinstance(value, HclExpr):
        return value.text
    raise TypeError(f"{type(value).__name__} is not an input value")
