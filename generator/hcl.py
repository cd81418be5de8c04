"""HCL literals and canonical layout.

``literal()`` turns a YAML value into HCL source that HashiCorp's parser reads back as
exactly that value: every template sequence (``${``, ``%{``) and escape is neutralised,
so a YAML string can never become an interpolation. ``!hcl`` expressions are the only
way to write HCL code, and they are emitted as written.

``format_hcl()`` lays out a whole file the way ``hclfmt`` does: two-space indentation
by bracket depth, ``=`` aligned across a run of consecutive single-line attributes,
heredoc bodies untouched, no trailing white space, exactly one final newline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import regex

from .loader import HclExpr

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Bare words that the HCL parser would read as something other than a key name.
_KEYWORDS = frozenset({"true", "false", "null", "for", "in", "if", "endif", "endfor", "else"})
#: A list of scalars is written on one line when it fits in this many characters.
INLINE_LIST_LIMIT = 100

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
    if IDENTIFIER.match(name) and name not in _KEYWORDS:
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
    return value is None or isinstance(value, (str, bool, int, float, HclExpr))


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
        simple = all(_is_scalar(v) and "\n" not in s for v, s in zip(value, items, strict=True))
        if simple and len(inline) <= INLINE_LIST_LIMIT:
            return inline
        return "[\n" + "".join(f"{item},\n" for item in items) + "]"
    raise TypeError(f"no HCL literal for {type(value).__name__}")


def template_escape(text: str) -> str:
    """Escape HCL source so a heredoc template reproduces it literally."""
    return text.replace("${", "$${").replace("%{", "%%{")


# --- layout -----------------------------------------------------------------------

_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)\s*$")


_SIMPLE_STRING = re.compile(r'"[^"\\$%]*"')
_TRICKY = re.compile(r'["#/<\\]')
_DROP_OPENERS = str.maketrans("", "", "{[(")
_DROP_CLOSERS = str.maketrans("", "", "}])")


def _scan(line: str, stack: list[str]) -> tuple[int, int, str | None]:
    """Scan one line of HCL code (fast path for lines without tricky characters)."""
    if not stack:
        simple = _SIMPLE_STRING.sub('""', line) if '"' in line else line
        if not _TRICKY.search(simple.replace('""', "")):
            opened = len(simple) - len(simple.translate(_DROP_OPENERS))
            closed = len(simple) - len(simple.translate(_DROP_CLOSERS))
            prefix = simple[: len(simple) - len(simple.lstrip("}]) "))]
            return opened - closed, sum(1 for ch in prefix if ch in "}])"), None
    return _scan_slow(line, stack)


def _scan_slow(line: str, stack: list[str]) -> tuple[int, int, str | None]:
    """Scan one line of HCL code.

    Returns (net bracket change outside strings, brackets closed before the first
    token opened anything, heredoc marker or None). *stack* carries open template
    contexts across lines (``"`` strings, ``${`` interpolations).
    """
    net = 0
    leading_close = 0
    seen_other = False
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        top = stack[-1] if stack else None
        if top == '"':
            if ch == "\\":
                i += 2
                continue
            if ch in "$%" and line.startswith("{", i + 1):
                if line.startswith(ch + "{", i + 1):
                    i += 3  # $${ / %%{ escapes
                    continue
                stack.append("${")
                i += 2
                continue
            if ch == '"':
                stack.pop()
            i += 1
            continue
        # code (top level or inside an interpolation)
        if ch == '"':
            stack.append('"')
            seen_other = True
        elif ch == "#" or line.startswith("//", i):
            break
        elif ch in "{[(":
            if top == "${":
                stack.append("(")
            else:
                net += 1
            seen_other = True
        elif ch in "}])":
            if (top == "${" and ch == "}") or top == "(":
                stack.pop()
            else:
                net -= 1
                if not seen_other:
                    leading_close += 1
        elif ch == "<" and line.startswith("<<", i) and not stack:
            match = _HEREDOC.match(line, i)
            if match:
                return net, leading_close, match.group(1)
            seen_other = True
        elif not ch.isspace():
            seen_other = True
        i += 1
    return net, leading_close, None


def _assignment(content: str) -> tuple[str, str] | None:
    """(name, rest) when *content* is a single-line ``name = value`` attribute."""
    match = re.match(r'^([A-Za-z_][A-Za-z0-9_-]*|"(?:[^"\\]|\\.)*")\s*=(?!=)\s*(.*)$', content)
    if not match:
        return None
    return match.group(1), match.group(2)


def display_width(text: str) -> int:
    """Columns as hclfmt counts them: grapheme clusters."""
    if text.isascii():
        return len(text)
    return len(regex.findall(r"\X", text))


def format_hcl(text: str) -> str:
    """Canonical layout of HCL source (see the module docstring)."""
    out: list[str] = []
    depth = 0
    stack: list[str] = []
    heredoc: str | None = None
    run: list[tuple[int, str, str, str]] = []  # (out index, indent, name, value)

    def close_run() -> None:
        if not run:
            return
        width = max(display_width(name) for _, _, name, _ in run)
        for index, indent, name, value in run:
            out[index] = f"{indent}{name}{' ' * (width - display_width(name))} = {value}"
        run.clear()

    for raw in text.split("\n"):
        if heredoc is not None:
            out.append(raw)
            if raw.strip() == heredoc:
                heredoc = None
            continue
        content = raw.strip()
        if not content:
            close_run()
            out.append("")
            continue
        in_string = bool(stack)
        net, leading_close, marker = _scan(content, stack)
        indent = "  " * max(depth - leading_close, 0)
        if in_string:
            out.append(raw.rstrip())  # continuation of a multi-line string: untouched
        else:
            assignment = _assignment(content) if net == 0 and not stack else None
            if assignment is not None:
                run.append((len(out), indent, assignment[0], assignment[1]))
                out.append("")
            else:
                close_run()
                out.append(indent + content)
        depth = max(depth + net, 0)
        if marker is not None:
            # hclfmt treats a whole heredoc as one line: its attribute stays in the run.
            heredoc = marker
    close_run()
    while out and not out[-1]:
        out.pop()
    # collapse runs of blank lines, like hclfmt's output of hand-written files
    result: list[str] = []
    for line in out:
        if not line and result and not result[-1]:
            continue
        result.append(line)
    return "\n".join(result) + "\n"
