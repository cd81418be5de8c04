"""Safe YAML loading that remembers where every key and value came from.

Only plain data is built: mappings, sequences, strings, numbers, booleans, null and
``!hcl`` expressions. Plain scalars are resolved by tfgen itself (a YAML 1.2 core
subset) so that YAML 1.1 surprises (``no``, ``on``, ``012``, ``1:30``) are reported
instead of silently becoming booleans or numbers; dates stay strings. Nothing from the
file is ever executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .errors import Diagnostic, InputError, KeyPath, Location

MAX_FILE_BYTES = 16 * 1024 * 1024
#: How many nodes alias expansion may add beyond the file's own nodes (alias bombs).
ALIAS_EXPANSION_BUDGET = 200_000

HCL_TAG = "!hcl"
_PLAIN = "tag:tfgen:plain"
_STR = "tag:yaml.org,2002:str"

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_YAML11_BOOL = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_INT_OCT_HEX = re.compile(r"^(?:0o[0-7]+|0x[0-9a-fA-F]+)$")
_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
_UNDERSCORE_NUMBER = re.compile(r"^[-+]?[0-9][0-9_]*_[0-9_]*(?:\.[0-9_]*)?$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = re.compile(r"^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$")


@dataclass(frozen=True)
class HclExpr:
    """A raw HCL expression written with the ``!hcl`` tag; rendered verbatim."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class Document:
    """A loaded YAML file: plain data plus the position of every key and value."""

    file: str
    data: Any
    key_marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    value_marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def locate(self, path: KeyPath, *, key: bool = False) -> Location:
        """The best position for *path*: its value (or key), else the nearest ancestor."""
        probe = tuple(path)
        while True:
            marks = (self.key_marks, self.value_marks) if key else (self.value_marks, self.key_marks)
            for table in marks:
                if probe in table:
                    line, col = table[probe]
                    return Location(self.file, line, col)
            if not probe:
                return Location(self.file, 1, 1)
            probe = probe[:-1]


def _base_loader() -> type:
    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


class _Composer(_base_loader()):  # type: ignore[misc]
    """A composer only: tags of plain scalars are left for tfgen to resolve."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:
            return _PLAIN
        return super().resolve(kind, value, implicit)  # type: ignore[no-any-return]


class _Builder:
    def __init__(self, file: str, node_count: int) -> None:
        self.doc = Document(file, None)
        self.errors: list[Diagnostic] = []
        self.budget = node_count + ALIAS_EXPANSION_BUDGET

    def error(self, node: Node, path: KeyPath, message: str, hint: str = "", rule: str = "yaml") -> None:
        mark = node.start_mark
        self.errors.append(
            Diagnostic(message, Location(self.doc.file, mark.line + 1, mark.column + 1), path, rule=rule, hint=hint)
        )

    def build(self, node: Node, path: KeyPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge(node)
        self.doc.value_marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag not in ("tag:yaml.org,2002:seq",):
                self.error(node, path, f"unsupported YAML tag {node.tag}", rule="yaml-tag")
                return None
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        if node.tag != "tag:yaml.org,2002:map":
            self.error(node, path, f"unsupported YAML tag {node.tag}", rule="yaml-tag")
            return None
        return self.mapping(node, path)

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        merges: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _PLAIN and key_node.value == "<<":
                merges.append((key_node, value_node))
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in explicit:
                first = self.doc.key_marks.get((*path, key), (0, 0))
                self.error(
                    key_node,
                    (*path, key),
                    f"duplicate key '{key}' (first defined at line {first[0]})",
                    rule="duplicate-key",
                )
                continue
            explicit.add(key)
            mark = key_node.start_mark
            self.doc.key_marks[(*path, key)] = (mark.line + 1, mark.column + 1)
            result[key] = self.build(value_node, (*path, key))
        for _key_node, value_node in merges:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, MappingNode):
                    self.error(source, path, "a merge key (<<) needs a mapping or a list of mappings")
                    continue
                merged = self.build(source, path)
                for k, v in (merged or {}).items():
                    result.setdefault(k, v)
        return result

    def key(self, node: Node, path: KeyPath) -> str | None:
        if not isinstance(node, ScalarNode):
            self.error(node, path, "a mapping key must be a plain string", rule="yaml-key")
            return None
        text = node.value
        if node.tag == _PLAIN:
            if _YAML11_BOOL.match(text) or _TRUE.match(text) or _FALSE.match(text):
                self.error(
                    node,
                    (*path, text),
                    f"key '{text}' is a boolean in YAML 1.1",
                    hint=f'quote it: "{text}"',
                    rule="yaml11",
                )
                return None
            if _NULL.match(text):
                self.error(node, path, "a mapping key must not be empty or null", rule="yaml-key")
                return None
        elif node.tag not in (_STR,):
            self.error(node, path, f"unsupported YAML tag {node.tag} on a key", rule="yaml-tag")
            return None
        return str(text)

    def scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        text = node.value
        if node.tag == HCL_TAG:
            if not text.strip():
                self.error(node, path, "an !hcl expression must not be empty", rule="hcl-expression")
            return HclExpr(text.strip())
        if node.tag == _STR:
            return text
        if node.tag == "tag:yaml.org,2002:int" and _INT.match(text):
            return int(text)
        if node.tag == "tag:yaml.org,2002:float" and _FLOAT.match(text):
            return float(text)
        if node.tag == "tag:yaml.org,2002:bool" and (_TRUE.match(text) or _FALSE.match(text)):
            return bool(_TRUE.match(text))
        if node.tag == "tag:yaml.org,2002:null" and _NULL.match(text):
            return None
        if node.tag != _PLAIN:
            self.error(
                node,
                path,
                f"unsupported YAML tag {node.tag}",
                hint="only !hcl is understood; YAML is never executed",
                rule="yaml-tag",
            )
            return None
        return self.plain(node, path, text)

    def plain(self, node: ScalarNode, path: KeyPath, text: str) -> Any:
        if _NULL.match(text):
            return None
        if _TRUE.match(text):
            return True
        if _FALSE.match(text):
            return False
        if _YAML11_BOOL.match(text):
            self.error(
                node,
                path,
                f"'{text}' is a boolean in YAML 1.1 and a string in YAML 1.2",
                hint=f'write true/false, or quote it ("{text}") if you mean the string',
                rule="yaml11",
            )
            return text
        if _INT.match(text):
            return int(text)
        if _INT_OCT_HEX.match(text):
            return int(text, 0)
        if _LEADING_ZERO.match(text):
            self.error(
                node,
                path,
                f"'{text}' has a leading zero: YAML 1.1 reads it as an octal number",
                hint=f'quote it ("{text}") if you mean the string',
                rule="yaml11",
            )
            return text
        if _SEXAGESIMAL.match(text) or _UNDERSCORE_NUMBER.match(text):
            self.error(
                node,
                path,
                f"'{text}' is a number in YAML 1.1 (sexagesimal or with underscores)",
                hint=f'quote it ("{text}") if you mean the string',
                rule="yaml11",
            )
            return text
        if _FLOAT.match(text):
            return float(text)
        if _SPECIAL_FLOAT.match(text):
            self.error(node, path, f"'{text}' (infinity / not-a-number) has no HCL literal", rule="yaml-number")
            return None
        return text


class _TooLarge(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


def _count_nodes(root: Node) -> int:
    """Count distinct nodes (aliases share their node object, so they count once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for k, v in node.value:
                stack.append(k)
                stack.append(v)
    return len(seen)


def _syntax_error(file: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    hint = ""
    if "\t" in problem or "tab" in problem.lower():
        hint = "YAML indentation must use spaces, not tabs"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context != exc.problem:
        message = f"YAML syntax error: {problem} ({exc.context})"
    return Diagnostic(message, Location(file, line, col), rule="yaml-syntax", hint=hint)


def decode(raw: bytes, file: str) -> str:
    """UTF-8 (an optional BOM is dropped), reporting the position of a bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        head = raw[: exc.start]
        line = head.count(b"\n") + 1
        col = exc.start - (head.rfind(b"\n") + 1) + 1
        raise InputError(
            [
                Diagnostic(
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                    Location(file, line, col),
                    rule="encoding",
                    hint="save the file as UTF-8",
                )
            ]
        ) from None
    for i, ch in enumerate(text):
        if ch == "\x00" or (ord(ch) < 32 and ch not in "\t\n\r"):
            before = text[:i]
            line = before.count("\n") + 1
            col = i - (before.rfind("\n") + 1) + 1
            raise InputError(
                [
                    Diagnostic(
                        f"control character U+{ord(ch):04X} in the file", Location(file, line, col), rule="encoding"
                    )
                ]
            )
    return text


def _find_tab_indent(text: str, file: str) -> Diagnostic | None:
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            return Diagnostic(
                "a tab character in the indentation",
                Location(file, number, len(line) - len(stripped) + 1),
                rule="yaml-syntax",
                hint="YAML indentation must use spaces, not tabs",
            )
    return None


def loads(text: str, file: str) -> Document:
    """Parse YAML *text* (already decoded) into a :class:`Document`; raise InputError."""
    if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise InputError([Diagnostic("the file is empty", Location(file, 1, 1), rule="yaml-empty")])
    try:
        loader = _Composer(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        tab = _find_tab_indent(text, file)
        raise InputError([tab if tab is not None else _syntax_error(file, exc)]) from None
    except yaml.YAMLError as exc:  # e.g. a reader error without a mark
        raise InputError([Diagnostic(f"YAML error: {exc}", Location(file, 1, 1), rule="yaml-syntax")]) from None
    if root is None:
        raise InputError([Diagnostic("the file is empty", Location(file, 1, 1), rule="yaml-empty")])
    builder = _Builder(file, _count_nodes(root))
    try:
        builder.doc.data = builder.build(root, ())
    except _TooLarge as exc:
        mark = exc.node.start_mark
        raise InputError(
            [
                Diagnostic(
                    "YAML aliases expand to too many nodes (an alias bomb?)",
                    Location(file, mark.line + 1, mark.column + 1),
                    rule="yaml-aliases",
                    hint=f"expansion is limited to {ALIAS_EXPANSION_BUDGET} nodes beyond the file's own",
                )
            ]
        ) from None
    except RecursionError:
        raise InputError(
            [Diagnostic("YAML nesting is too deep (or a recursive alias)", Location(file, 1, 1), rule="yaml-aliases")]
        ) from None
    if builder.errors:
        raise InputError(builder.errors)
    return builder.doc


def load(path: Path, display: str | None = None) -> Document:
    """Read and parse a YAML file, refusing oversized files before parsing them."""
    file = display or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                [
                    Diagnostic(
                        f"the file is {size} bytes; the limit is {MAX_FILE_BYTES}",
                        Location(file, 1, 1),
                        rule="yaml-size",
                    )
                ]
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Diagnostic("file not found", Location(file), rule="io")]) from None
    except IsADirectoryError:
        raise InputError([Diagnostic("is a directory, not a YAML file", Location(file), rule="io")]) from None
    except OSError as exc:
        raise InputError([Diagnostic(f"cannot read: {exc.strerror}", Location(file), rule="io")]) from None
    return loads(decode(raw, file), file)
