"""What an HCL expression names, read on the real lexer (hcl/format.py's port of the
hclsyntax scanner): the text of string literals, heredoc bodies and comments is not
code, the interpolations inside them are."""

from __future__ import annotations

from functools import lru_cache

from .format import COMMA, DOT, IDENT, OPAREN, lex


@lru_cache(maxsize=8192)
def traversals(text: str) -> tuple[tuple[str, ...], ...]:
    """Every ``root.attr.attr`` traversal in *text*, as (root, attr, ...), in textual
    order; a bare name without an attribute is not a traversal. Attributes stop at the
    first index, splat or call (``local.region.azs[0]`` -> ("local", "region", "azs"))."""
    tokens = lex(text + "\n").tokens
    found: list[tuple[str, ...]] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if token.kind != IDENT or (i and tokens[i - 1].kind == DOT):
            i += 1
            continue
        parts = [token.text]
        i += 1
        while i + 1 < n and tokens[i].kind == DOT and tokens[i + 1].kind == IDENT:
            parts.append(tokens[i + 1].text)
            i += 2
        if len(parts) > 1:
            found.append(tuple(parts))
    return tuple(found)


@lru_cache(maxsize=8192)
def function_calls(text: str) -> tuple[str, ...]:
    """The names of the functions *text* calls, in textual order."""
    tokens = lex(text + "\n").tokens
    return tuple(
        token.text
        for i, token in enumerate(tokens[:-1])
        if token.kind == IDENT and tokens[i + 1].kind == OPAREN and not (i and tokens[i - 1].kind == DOT)
    )


@lru_cache(maxsize=8192)
def for_bindings(text: str) -> frozenset[str]:
    """The names *text*'s ``for`` expressions bind (``for k, v in ...`` -> {"k", "v"}):
    ``data.x`` there reads a bound name, not Terraform's data namespace."""
    tokens = lex(text + "\n").tokens
    bound: set[str] = set()
    for i, token in enumerate(tokens):
        if token.kind != IDENT or token.text != "for" or (i and tokens[i - 1].kind == DOT):
            continue
        names, j = [], i + 1
        while j < len(tokens) and tokens[j].kind == IDENT and tokens[j].text != "in":
            names.append(tokens[j].text)
            j += 1
            if j < len(tokens) and tokens[j].kind == COMMA:
                j += 1
        if names and j < len(tokens) and tokens[j].kind == IDENT and tokens[j].text == "in":
            bound.update(names)
    return frozenset(bound)
