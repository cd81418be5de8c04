"""Safe YAML loading that remembers where every key and value came from.

Only plain data is built: mappings, sequences, strings, numbers, booleans, null and
``!hcl`` expressions. Plain scalars are resolved by tfgen itself (a YAML 1.2 core
subset) so that YAML 1.1 surprises (``no``, ``on``, ``012``, ``1:30``) are reported
instead of silently becoming booleans or numbers; dates stay strings. Nothing from the
file is ever executed.
"""

from __future__ import annotations

import contextlib
import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import Diagnostic, InputError, KeyPath, Location
from ..hcl.literal import HclExpr

#: Files larger than this are refused before they are read.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: YAML nodes (scalars, mappings, lists, aliases) a file may hold: about 100 times what
#: a 10,000-unit project needs, and few enough to load in seconds and ~100 MB.
MAX_NODES = 500_000
#: How many nodes alias expansion may add beyond the file's own nodes (alias bombs).
ALIAS_EXPANSION_BUDGET = 200_000
#: Mappings and lists nested deeper than this are refused (tfgen's files need about 12).
MAX_DEPTH = 200

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
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)  # a line that is neither blank nor a comment
#: First characters of plain scalars that may resolve to something other than a string.
_SPECIAL_PLAIN_START = frozenset("0123456789+-.~nNtTfFyYoO")
_SPECIAL_KEY_START = frozenset("~nNtTfFyYoO")
_SPECIAL_FLOAT = re.compile(r"^[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)$")


class Document:
    """A loaded YAML file: plain data plus the position of every key and value.

    Positions are recorded on first use by parsing the text once more: a valid project
    never needs them, and a large one would spend memory on a table nobody reads.
    """

    def __init__(
        self,
        file: str,
        data: Any,
        key_marks: dict[KeyPath, tuple[int, int]] | None = None,
        value_marks: dict[KeyPath, tuple[int, int]] | None = None,
        *,
        text: str | None = None,
    ) -> None:
        self.file = file
        self.data = data
        self._text = text
        self._key_marks = key_marks
        self._value_marks = value_marks

    def __repr__(self) -> str:
        return f"Document({self.file!r})"

    def _marks(self) -> tuple[dict[KeyPath, tuple[int, int]], dict[KeyPath, tuple[int, int]]]:
        if self._key_marks is None or self._value_marks is None:
            builder = _Builder(self.file, record=True)
            if self._text is not None:
                with contextlib.suppress(yaml.YAMLError, _Refused):
                    _feed(builder, self._text)
            self._key_marks, self._value_marks = dict(builder.key_marks), dict(builder.value_marks)
        return self._key_marks, self._value_marks

    @property
    def key_marks(self) -> dict[KeyPath, tuple[int, int]]:
        return self._marks()[0]

    @property
    def value_marks(self) -> dict[KeyPath, tuple[int, int]]:
        return self._marks()[1]

    def locate(self, path: KeyPath, *, key: bool = False) -> Location:
        """The best position for *path*: its value (or key), else the nearest ancestor."""
        key_marks, value_marks = self._marks()
        probe = tuple(path)
        while True:
            for table in (key_marks, value_marks) if key else (value_marks, key_marks):
                if probe in table:
                    line, col = table[probe]
                    return Location(self.file, line, col)
            if not probe:
                return Location(self.file, 1, 1)
            probe = probe[:-1]


def _base_loader() -> type:
    loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return loader


_CORE_TAG = "tag:yaml.org,2002:"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Refused(Exception):
    """Loading stops: the document is too deep, expands too far, or is not one document."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


_TAG_HINT = "only !hcl is understood; YAML is never executed"


def _show_tag(tag: str) -> str:
    """``tag:yaml.org,2002:python/object`` -> ``!!python/object``, as the user wrote it."""
    return "!!" + tag.removeprefix(_CORE_TAG) if tag.startswith(_CORE_TAG) else tag


Mark = Any  # yaml.Mark (pure Python) or its libyaml twin; both have .line and .column


@dataclass
class _Anchor:
    value: Any
    size: int  # nodes, aliases expanded
    path: KeyPath  # where the anchored node was built
    marks: tuple[int, int, int, int]  # slices of the key and value mark lists it recorded
    complete: bool = False


@dataclass
class _Frame:
    """An open mapping or sequence while its events stream in."""

    mapping: bool
    value: dict[str, Any] | list[Any] | None  # None: being discarded (bad tag, duplicate, complex key)
    path: KeyPath
    anchor: str | None
    size: int = 1
    key: str | None = None  # a mapping's pending key
    key_seen: bool = False  # a mapping got its key and waits for the value
    skip_value: bool = False  # the pending key was refused: build its value but drop it
    merge: bool = False  # the pending key is <<
    explicit: dict[str, int] = field(default_factory=dict)  # key -> line
    merges: list[tuple[Any, KeyPath, tuple[int, int, int, int], Mark]] = field(default_factory=list)
    as_key: bool = False  # this collection is itself a mapping key (refused)
    marks: tuple[int, int] = (0, 0)



class _Builder:
    """Builds plain data straight from the parser's events, with an explicit stack.

    No recursion (deep nesting cannot overflow the C or the Python stack), aliases are
    charged by the size of what they expand to, and every key and value's position is
    recorded under its key path.
    """

    def __init__(self, file: str, *, record: bool = False) -> None:
        self.file = file
        self.recording = record
        self.nodes = 0
        self.errors: list[Diagnostic] = []
        self.key_marks: list[tuple[KeyPath, tuple[int, int]]] = []
        self.value_marks: list[tuple[KeyPath, tuple[int, int]]] = []
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.expansion = 0
        self.root: Any = None
        self.done = False

    # --- diagnostics -------------------------------------------------------------

    def location(self, mark: Mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    def error(self, mark: Mark, path: KeyPath, message: str, hint: str = "", rule: str = "yaml") -> None:
        self.errors.append(Diagnostic(message, self.location(mark), path, rule=rule, hint=hint))

    def refuse(self, mark: Mark, message: str, hint: str, rule: str) -> _Refused:
        return _Refused(Diagnostic(message, self.location(mark), rule=rule, hint=hint))

    # --- where the next node goes --------------------------------------------------

    def next_slot(self) -> tuple[KeyPath, bool, bool]:
        """(path of the next node, it is a mapping key, it is discarded)."""
        if not self.stack:
            return (), False, False
        top = self.stack[-1]
        discarded = top.value is None
        if not top.mapping:
            return (*top.path, len(top.value) if isinstance(top.value, list) else 0), False, discarded
        if not top.key_seen:
            return top.path, True, discarded
        if top.merge:
            return (*top.path, "<<"), False, discarded
        if top.skip_value or top.key is None:
            return (*top.path, "?"), False, True
        return (*top.path, top.key), False, discarded

    def record(self, path: KeyPath, mark: Mark) -> None:
        if self.recording:
            self.value_marks.append((path, (mark.line + 1, mark.column + 1)))

    def count(self, mark: Mark) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.refuse(
                mark,
                f"the file has more than {MAX_NODES} YAML nodes",
                "tfgen refuses documents this large before they exhaust memory",
                "yaml-size",
            )

    # --- events ------------------------------------------------------------------

    def feed(self, event: yaml.Event) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self.scalar(event)  # type: ignore[arg-type]
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self.start(event)  # type: ignore[arg-type]
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            self.end(event)
        elif kind is yaml.AliasEvent:
            self.alias(event)  # type: ignore[arg-type]
        elif kind is yaml.DocumentStartEvent and self.done:
            raise self.refuse(
                event.start_mark,
                "the file holds more than one YAML document",
                "remove the second '---' and what follows, or merge the documents",
                "yaml-syntax",
            )
        elif isinstance(event, yaml.DocumentEndEvent):
            self.done = True

    def scalar(self, event: yaml.ScalarEvent) -> None:
        self.count(event.start_mark)
        path, is_key, discarded = self.next_slot()
        if is_key:
            self.key(event, path, discarded)
            return
        if not discarded:
            self.record(path, event.start_mark)
        value = None if discarded else self.resolve(event, path)
        self.attach(value, 1, event.anchor, path, (len(self.key_marks),) * 2 + (len(self.value_marks),) * 2, event)

    def start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self.refuse(
                event.start_mark,
                f"YAML nesting is deeper than {MAX_DEPTH} levels",
                "flatten the document; tfgen's files are a few levels deep",
                "yaml-depth",
            )
        self.count(event.start_mark)
        path, is_key, discarded = self.next_slot()
        mapping = isinstance(event, yaml.MappingStartEvent)
        if is_key and not discarded:
            self.error(event.start_mark, path, "a mapping key must be a plain string", rule="yaml-key")
        elif not discarded and event.tag not in (None, "!", _MAP if mapping else _SEQ):
            kind = "mapping" if mapping else "list"
            if event.tag == HCL_TAG:
                self.error(event.start_mark, path, f"!hcl applies to a string, not a {kind}", rule="yaml-tag")
            else:
                message = f"unsupported YAML tag {_show_tag(event.tag)}"
                self.error(event.start_mark, path, message, _TAG_HINT, "yaml-tag")
            discarded = True
        if not discarded and not is_key:
            self.record(path, event.start_mark)
        value: dict[str, Any] | list[Any] | None = None
        if not (discarded or is_key):
            value = {} if mapping else []
        frame = _Frame(mapping, value, path, event.anchor, as_key=is_key)
        frame.marks = (len(self.key_marks), len(self.value_marks) - (0 if value is None else 1))
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(None, 0, path, (0, 0, 0, 0))
        self.stack.append(frame)

    def end(self, event: yaml.Event) -> None:
        frame = self.stack.pop()
        if isinstance(frame.value, dict):
            self.apply_merges(frame)
        marks = (frame.marks[0], len(self.key_marks), frame.marks[1], len(self.value_marks))
        if frame.as_key:
            self.refused_key()
            return
        self.attach(frame.value, frame.size, frame.anchor, frame.path, marks, event)

    def alias(self, event: yaml.AliasEvent) -> None:
        self.count(event.start_mark)
        path, is_key, discarded = self.next_slot()
        anchor = self.anchors.get(event.anchor or "")
        if anchor is None or not anchor.complete:
            problem = "refers to itself" if anchor is not None else "is not defined before this point"
            self.error(event.start_mark, path, f"alias *{event.anchor} {problem}", rule="yaml-alias")
            if is_key:
                self.refused_key()
            else:
                self.attach(None, 1, None, path, (0, 0, 0, 0), event)
            return
        self.expansion += anchor.size
        if self.expansion > ALIAS_EXPANSION_BUDGET:
            raise self.refuse(
                event.start_mark,
                "YAML aliases expand to too many nodes (an alias bomb?)",
                f"expansion is limited to {ALIAS_EXPANSION_BUDGET} nodes beyond the file's own",
                "yaml-aliases",
            )
        if is_key:
            self.error(event.start_mark, path, "a mapping key must be a plain string, not an alias", rule="yaml-key")
            self.refused_key()
            return
        start = (len(self.key_marks), len(self.value_marks))
        if not discarded:
            self.record(path, event.start_mark)
            if self.recording and self.stack and not self.stack[-1].merge:
                self.copy_marks(anchor, anchor.path, path, root=False)
        marks = (start[0], len(self.key_marks), start[1], len(self.value_marks))
        self.attach(anchor.value, anchor.size, None, path, marks, event, alias_of=anchor)

    # --- building ------------------------------------------------------------------

    def attach(
        self,
        value: Any,
        size: int,
        anchor: str | None,
        path: KeyPath,
        marks: tuple[int, int, int, int],
        event: yaml.Event,
        alias_of: _Anchor | None = None,
    ) -> None:
        if anchor is not None:
            self.anchors[anchor] = _Anchor(value, size, path, marks, complete=True)
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.size += size
        if isinstance(top.value, list):
            top.value.append(value)
            return
        if not top.key_seen:  # only a refused or discarded key gets here
            top.key_seen = True
            return
        if top.merge:
            source = alias_of if alias_of is not None else _Anchor(value, size, path, marks)
            top.merges.append((value, source.path, source.marks, event.start_mark))
        elif isinstance(top.value, dict) and top.key is not None and not top.skip_value:
            top.value[top.key] = value
        top.key, top.key_seen, top.skip_value, top.merge = None, False, False, False

    def refused_key(self) -> None:
        top = self.stack[-1]
        top.key, top.key_seen, top.skip_value, top.merge = None, True, True, False

    def key(self, event: yaml.ScalarEvent, path: KeyPath, discarded: bool) -> None:
        top = self.stack[-1]
        text: str = event.value
        top.key_seen = True
        if discarded:
            top.skip_value = True
            return
        if event.tag is None and event.implicit[0] and text == "<<":
            top.merge = True
            return
        problem: tuple[str, str, str] | None = None
        if event.tag is None and event.implicit[0] and (not text or text[0] in _SPECIAL_KEY_START):
            if _YAML11_BOOL.match(text) or _TRUE.match(text) or _FALSE.match(text):
                problem = (f"key '{text}' is a boolean in YAML 1.1", f'quote it: "{text}"', "yaml11")
            elif _NULL.match(text):
                problem = ("a mapping key must not be empty or null", "", "yaml-key")
        elif event.tag not in (None, "!", _STR):
            problem = (f"unsupported YAML tag {_show_tag(event.tag)} on a key", _TAG_HINT, "yaml-tag")
        if problem is not None:
            where = (*path, text) if problem[2] == "yaml11" else path
            self.error(event.start_mark, where, problem[0], hint=problem[1], rule=problem[2])
            top.skip_value = True
            return
        mark: Mark = event.start_mark
        if text in top.explicit:
            self.error(
                mark,
                (*path, text),
                f"duplicate key '{text}' (first defined at line {top.explicit[text]})",
                rule="duplicate-key",
            )
            top.skip_value = True
            return
        top.explicit[text] = mark.line + 1
        top.key = text
        if self.recording:
            self.key_marks.append(((*path, text), (mark.line + 1, mark.column + 1)))

    def apply_merges(self, frame: _Frame) -> None:
        """``<<`` keys: explicit keys win, then earlier merge sources over later ones."""
        assert isinstance(frame.value, dict)
        for value, source_path, marks, mark in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for index, source in enumerate(sources):
                if not isinstance(source, dict):
                    self.error(mark, frame.path, "a merge key (<<) needs a mapping or a list of mappings")
                    continue
                base = (*source_path, index) if isinstance(value, list) else source_path
                for name, item in source.items():
                    if name in frame.value:
                        continue
                    frame.value[name] = item
                    if self.recording:
                        source = _Anchor(None, 0, base, marks)
                        self.copy_marks(source, (*base, name), (*frame.path, name), root=True)

    def copy_marks(self, anchor: _Anchor, old: KeyPath, new: KeyPath, *, root: bool) -> None:
        """Positions inside an anchored node, re-recorded under the path it is used at
        (*root*: the positions of *old* itself too)."""
        k0, k1, v0, v1 = anchor.marks
        cut = len(old)
        for table, lo, hi in ((self.key_marks, k0, k1), (self.value_marks, v0, v1)):
            copies = [((*new, *p[cut:]), m) for p, m in table[lo:hi] if p[:cut] == old and (root or p != old)]
            table.extend(copies)

    def resolve(self, event: yaml.ScalarEvent, path: KeyPath) -> Any:
        text: str = event.value
        tag = event.tag
        mark = event.start_mark
        if tag is None:
            return self.plain(mark, path, text) if event.implicit[0] else text
        if tag == HCL_TAG:
            if not text.strip():
                self.error(mark, path, "an !hcl expression must not be empty", rule="hcl-expression")
            return HclExpr(text.strip())
        if tag in (_STR, "!"):
            return text
        if tag == "tag:yaml.org,2002:int" and _INT.match(text):
            return int(text)
        if tag == "tag:yaml.org,2002:float" and _FLOAT.match(text):
            return self.finite(mark, path, text)
        if tag == "tag:yaml.org,2002:bool" and (_TRUE.match(text) or _FALSE.match(text)):
            return bool(_TRUE.match(text))
        if tag == "tag:yaml.org,2002:null" and _NULL.match(text):
            return None
        self.error(mark, path, f"unsupported YAML tag {_show_tag(tag)}", _TAG_HINT, "yaml-tag")
        return None

    def finite(self, mark: Mark, path: KeyPath, text: str) -> float | None:
        """A float HCL can write: one too large for a double (1e400) is refused here,
        not left to become infinity and crash the render."""
        value = float(text)
        if math.isfinite(value):
            return value
        self.error(
            mark,
            path,
            f"'{text}' is too large for a number (it would be infinity) and has no HCL literal",
            hint=f'quote it ("{text}") if you mean the string',
            rule="yaml-number",
        )
        return None

    def plain(self, mark: Mark, path: KeyPath, text: str) -> Any:
        if text and text[0] not in _SPECIAL_PLAIN_START:
            return text  # the common case: a word that cannot be a null, bool or number
        if _NULL.match(text):
            return None
        if _TRUE.match(text):
            return True
        if _FALSE.match(text):
            return False
        if _YAML11_BOOL.match(text):
            self.error(
                mark,
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
                mark,
                path,
                f"'{text}' has a leading zero: YAML 1.1 reads it as an octal number"
                if re.fullmatch(r"[-+]?0[0-7_]+", text)
                else f"'{text}' has a leading zero: YAML 1.2 reads it as a number without it (YAML 1.1 as a string)",
                hint=f'quote it ("{text}") if you mean the string',
                rule="yaml11",
            )
            return text
        if _SEXAGESIMAL.match(text) or _UNDERSCORE_NUMBER.match(text):
            self.error(
                mark,
                path,
                f"'{text}' is a number in YAML 1.1 (sexagesimal or with underscores)",
                hint=f'quote it ("{text}") if you mean the string',
                rule="yaml11",
            )
            return text
        if _FLOAT.match(text):
            return self.finite(mark, path, text)
        if _SPECIAL_FLOAT.match(text):
            self.error(mark, path, f"'{text}' (infinity / not-a-number) has no HCL literal", rule="yaml-number")
            return None
        return text


def _syntax_error(file: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or exc.context or "invalid YAML"
    hint = ""
    if "\t" in problem or "tab" in problem.lower():
        hint = "YAML indentation must use spaces, not tabs"
    message = f"YAML syntax error: {problem}"
    if exc.context and exc.problem and exc.context != exc.problem:
        opened = exc.context_mark
        elsewhere = opened is not None and mark is not None and opened.line != mark.line
        at = f" at line {opened.line + 1}" if opened is not None and elsewhere else ""
        message = f"YAML syntax error: {problem} ({exc.context}{at})"
    return Diagnostic(message, Location(file, line, col), rule="yaml-syntax", hint=hint)


#: C0 control characters other than tab, line feed and carriage return.
_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def decode(raw: bytes, file: str) -> str:
    """UTF-8 (an optional BOM is dropped), reporting the position of a bad byte."""
    for bom, encoding in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                          (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):
        if raw.startswith(bom):
            raise InputError(
                [
                    Diagnostic(
                        f"the file is {encoding}-encoded; tfgen reads UTF-8",
                        Location(file, 1, 1),
                        rule="encoding",
                        hint="save the file as UTF-8",
                    )
                ]
            )
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
    found = _CONTROL_CHARACTER.search(text)  # one regex scan: a loop per character took 1 s for 5 MB
    if found is not None:
        i, ch = found.start(), found.group()
        before = text[:i]
        line = before.count("\n") + 1
        col = i - (before.rfind("\n") + 1) + 1
        raise InputError(
            [Diagnostic(f"control character U+{ord(ch):04X} in the file", Location(file, line, col), rule="encoding")]
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
    if _CONTENT.search(text) is None:
        raise InputError([Diagnostic("the file is empty", Location(file, 1, 1), rule="yaml-empty")])
    builder = _Builder(file)
    try:
        _feed(builder, text)
    except yaml.MarkedYAMLError as exc:
        tab = _find_tab_indent(text, file)
        raise InputError([tab if tab is not None else _syntax_error(file, exc)]) from None
    except yaml.YAMLError as exc:  # e.g. a reader error without a mark
        raise InputError([Diagnostic(f"YAML error: {exc}", Location(file, 1, 1), rule="yaml-syntax")]) from None
    except _Refused as exc:
        raise InputError([exc.diagnostic]) from None
    if builder.errors:
        raise InputError(builder.errors)
    if builder.root is None:
        raise InputError([Diagnostic("the file is empty", Location(file, 1, 1), rule="yaml-empty")])
    return Document(file, builder.root, text=text)


def _feed(builder: _Builder, text: str) -> None:
    parser = _base_loader()(text)
    try:
        while parser.check_event():
            builder.feed(parser.get_event())
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" not in (exc.problem or ""):
            raise
        # libyaml has a depth limit of its own (1,000 flow levels since PyYAML 6.0.4) and
        # its scanner reads a whole flow collection ahead, so it can fire before the
        # builder has seen MAX_DEPTH levels. tfgen owns the limit: read the document
        # again with the pure-Python parser, which streams events, so the builder refuses
        # it at the exact level with tfgen's own message.
        _feed_streaming(_Builder(builder.file), text)
        raise
    finally:
        parser.dispose()


def _feed_streaming(builder: _Builder, text: str) -> None:
    parser: Any = yaml.SafeLoader(text)
    try:
        while parser.check_event():
            builder.feed(parser.get_event())
    finally:
        parser.dispose()


def load(path: Path, display: str | None = None) -> Document:
    """Read and parse a YAML file, refusing oversized files before parsing them.

    Only regular files are read (a FIFO or /dev/zero would never end), and never more
    than the limit, even if the file grows while it is read.
    """
    file = display or str(path)

    def refuse(message: str, rule: str = "io") -> InputError:
        return InputError([Diagnostic(message, Location(file, 1, 1) if rule != "io" else Location(file), rule=rule)])

    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise refuse("is a directory, not a YAML file")
        if not stat.S_ISREG(mode):
            raise refuse("is not a regular file")
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise refuse("file not found") from None
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        size = max(len(raw), path.stat().st_size)
        raise refuse(f"the file is {size} bytes; the limit is {MAX_FILE_BYTES}", "yaml-size")
    return loads(decode(raw, file), file)
