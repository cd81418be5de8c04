"""HCL literals and canonical layout.

``literal()`` turns a YAML value into HCL source that HashiCorp's parser reads back as
exactly that value: every template sequence (``${``, ``%{``) and escape is neutralised,
so a YAML string can never become an interpolation. ``!hcl`` expressions are the only
way to write HCL code; they are emitted as written and laid out with the file.

``format_hcl()`` lays out a whole file exactly as ``hclfmt`` does (see hclformat.py:
token spacing, indentation, ``=`` and comment alignment, heredoc bodies untouched), with
tfgen's own blank-line policy on top: no leading, trailing or doubled blank lines and
exactly one final newline.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import format as hclformat

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# Bare words that the HCL parser would read as something other than a key name.
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if", "endif", "endfor", "else"})
#: A list of scalars is written on one line when it fits in this many characters.
INLINE_LIST_LIMIT = 100

@dataclass(frozen=True)
class HclExpr:
    """A raw HCL expression written with the ``!hcl`` tag; rendered verbatim."""

    text: str

    def __str__(self) -> str:
        return self.text


_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
}


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or code in (0x2028, 0x2029):
        return f"\\u{code:04x}"
    return ch


_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\u2028\u2029]|\$\{|%\{')


def string(value: str) -> str:
    """A quoted HCL string whose parsed value is exactly *value*."""
    if not _NEEDS_ESCAPE.search(value):
        return f'"{value}"'
    out: list[str] = []
    i = 0
    n = len(value)
    while i < n:
        ch = value[i]
        if ch in "$%" and i + 1 < n and value[i + 1] == "{":
            out.append(ch + ch + "{")  # $${ and %%{ are HCL's literal ${ and %{
            i += 2
            continue
        out.append(_escape_char(ch))
        i += 1
    return '"' + "".join(out) + '"'


def key(name: str) -> str:
    """An object key or attribute name: bare when it is a plain identifier."""
    if IDENTIFIER.fullmatch(name) and name not in _KEYWORDS:
        return name
    return string(name)


def number(value: int | float) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} has no HCL literal")
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float))


@lru_cache(maxsize=4096)
def _expression_shape(text: str) -> tuple[bool, str, str | None, bool]:
    """(fits inside a one-line list, code, trailing line comment, ends with a heredoc)."""
    tokens = [t for t in hclformat.lex(text + "\n").tokens if t.kind not in (hclformat.NEWLINE, hclformat.EOF)]
    comment: str | None = None
    code = text
    if tokens and tokens[-1].kind == hclformat.COMMENT and not tokens[-1].text.startswith("/*"):
        comment = tokens[-1].text.rstrip("\r\n")
        code = text[: text.rindex(comment)].rstrip(" \t")
        tokens = tokens[:-1]
    line_comments = any(t.kind == hclformat.COMMENT and not t.text.startswith("/*") for t in tokens)
    inline = "\n" not in text and "\r" not in text and comment is None and not line_comments
    heredoc = bool(tokens) and tokens[-1].kind == hclformat.CHEREDOC
    return inline, code, comment, heredoc


def _list_item(value: Any) -> str:
    """One item of a multi-line list, with its comma where HCL needs it."""
    if not isinstance(value, HclExpr):
        return literal(value) + ","
    _, code, comment, heredoc = _expression_shape(value.text)
    if heredoc:
        return code + "\n,"  # the closing marker must stay alone on its line
    return f"{code}, {comment}" if comment else code + ","


def _inline(value: Any, text: str) -> bool:
    if isinstance(value, HclExpr):
        return _expression_shape(value.text)[0]
    return _is_scalar(value) and "\n" not in text


def literal(value: Any) -> str:
    """HCL source for a YAML value. Maps and long lists span several lines (unindented;
    ``format_hcl`` indents them)."""
    if isinstance(value, HclExpr):
        return value.text
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        body = "\n".join(f"{key(str(k))} = {literal(v)}" for k, v in value.items())
        return "{\n" + body + "\n}"
    if isinstance(value, Sequence):
        if not value:
            return "[]"
        items = [literal(v) for v in value]
        inline = "[" + ", ".join(items) + "]"
        simple = all(_inline(v, s) for v, s in zip(value, items, strict=True))
        if simple and len(inline) <= INLINE_LIST_LIMIT:
            return inline
        return "[\n" + "".join(f"{_list_item(v)}\n" for v in value) + "]"
    raise TypeError(f"no HCL literal for {type(value).__name__}")


def key_collisions(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Map keys that HCL would merge: cty normalises every string to Unicode NFC, so
    ``"é"`` written precomposed and decomposed name the same attribute. Yields
    (path of the map, first key, colliding key)."""
    if isinstance(value, Mapping):
        seen: dict[str, str] = {}
        for name, item in value.items():
            folded = unicodedata.normalize("NFC", str(name))
            if folded in seen:
                yield path, seen[folded], str(name)
            else:
                seen[folded] = str(name)
            yield from key_collisions(item, (*path, str(name)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from key_collisions(item, (*path, index))


_COMMENT_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def comment_text(text: str) -> str:
    """*text* made safe for the end of a ``#`` comment line: line breaks and other
    control characters become one space, so free text can never end the comment and
    start HCL code."""
    return _COMMENT_BREAKS.sub(" ", text).rstrip()


def template_escape(text: str) -> str:
    """Escape HCL source so a heredoc template reproduces it literally."""
    return text.replace("${", "$${").replace("%{", "%%{")


# --- layout -----------------------------------------------------------------------


def format_hcl(text: str) -> str:
    """Canonical layout of a whole HCL file (see the module docstring)."""
    if not text.endswith("\n"):
        text += "\n"
    return hclformat.format_lines(text, tidy_blank_lines=True)
