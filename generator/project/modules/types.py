"""Terraform type constraints, and whether a YAML literal converts to one.

``parse_type("map(object({ name = string, port = optional(number) }))")`` gives a
small tree; ``conversion_problem(value, tree)`` says why a literal cannot become a
value of that type under Terraform's conversion rules (a number or bool converts to
a string, a numeric string to a number, "true"/"false" to a bool, a list to a set
or tuple, a map to an object), or None. Unknown forms are treated as ``any``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..values import HclExpr


@dataclass(frozen=True)
class Type:
    kind: str  # any string number bool list set map tuple object
    element: Type | None = None  # list, set, map
    elements: tuple[Type, ...] = ()  # tuple
    attributes: tuple[tuple[str, Type, bool], ...] = field(default=())  # object: (name, type, optional)

    def __str__(self) -> str:
        if self.kind in ("list", "set", "map"):
            return f"{self.kind}({self.element})"
        if self.kind == "tuple":
            return "tuple([" + ", ".join(map(str, self.elements)) + "])"
        if self.kind == "object":
            return "object({" + ", ".join(f"{n} = {t}" for n, t, _ in self.attributes) + "})"
        return self.kind


ANY = Type("any")
_TOKEN = re.compile(r'\s*(?:(?P<word>[A-Za-z_][A-Za-z0-9_-]*)|(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>.))', re.S)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [m.group(0).strip() for m in _TOKEN.finditer(text) if m.group(0).strip()]
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.at += 1
        return token

    def skip_value(self) -> None:
        """Skip a default value of optional(T, default): up to the matching ')'."""
        depth = 0
        while self.peek():
            token = self.peek()
            if token in "([{":
                depth += 1
            elif token in ")]}":
                if depth == 0:
                    return
                depth -= 1
            self.take()

    def type(self) -> tuple[Type, bool]:
        word = self.take()
        if word in ("string", "number", "bool", "any"):
            return Type(word), False
        if word in ("list", "set", "map"):
            self.take("(")
            element, _ = self.type()
            self.take(")")
            return Type(word, element=element), False
        if word == "optional":
            self.take("(")
            inner, _ = self.type()
            if self.peek() == ",":
                self.take()
                self.skip_value()
            self.take(")")
            return inner, True
        if word == "tuple":
            self.take("(")
            self.take("[")
            elements = []
            while self.peek() != "]":
                elements.append(self.type()[0])
                if self.peek() == ",":
                    self.take()
            self.take("]")
            self.take(")")
            return Type("tuple", elements=tuple(elements)), False
        if word == "object":
            self.take("(")
            self.take("{")
            attributes = []
            while self.peek() != "}":
                name = self.take().strip('"')
                if self.peek() not in ("=", ":"):
                    raise ValueError(f"expected '=' after {name}")
                self.take()
                attr, optional = self.type()
                attributes.append((name, attr, optional))
                if self.peek() == ",":
                    self.take()
            self.take("}")
            self.take(")")
            return Type("object", attributes=tuple(attributes)), False
        raise ValueError(f"unknown type {word!r}")


def parse_type(text: str) -> Type:
    """The type tree of a constraint; ``any`` for what this parser does not know."""
    text = text.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    try:
        parser = _Parser(text)
        parsed, _ = parser.type()
        return parsed if not parser.peek() else ANY
    except (ValueError, IndexError):
        return ANY


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a bool ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"a string ({shown!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a map"
    return type(value).__name__


_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def conversion_problem(value: Any, target: Type, where: str = "") -> str | None:
    """Why *value* does not convert to *target*, naming the path inside it; None if it
    does, or if it cannot be known (an !hcl expression anywhere on the way)."""
    if isinstance(value, HclExpr) or value is None or target.kind == "any":
        return None
    at = f" at {where}" if where else ""
    kind = target.kind
    if kind == "string":
        if isinstance(value, (str, int, float)):  # bool is an int: converts too
            return None
        return f"{describe(value)}{at} cannot be a string"
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return f"{describe(value)}{at} cannot be a number"
        if isinstance(value, str) and not _NUMBER.match(value):
            return f"{describe(value)}{at} cannot be a number"
        return None
    if kind == "bool":
        if isinstance(value, bool) or value in ("true", "false"):
            return None
        return f"{describe(value)}{at} cannot be a bool"
    if kind in ("list", "set"):
        if not isinstance(value, list):
            return f"{describe(value)}{at} cannot be a {kind}"
        assert target.element is not None
        for i, item in enumerate(value):
            problem = conversion_problem(item, target.element, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if kind == "tuple":
        if not isinstance(value, list):
            return f"{describe(value)}{at} cannot be a tuple"
        if len(value) != len(target.elements):
            return f"a list of {len(value)}{at} cannot be a tuple of {len(target.elements)}"
        for i, (item, element) in enumerate(zip(value, target.elements, strict=True)):
            problem = conversion_problem(item, element, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return f"{describe(value)}{at} cannot be a map"
        assert target.element is not None
        for key, item in value.items():
            problem = conversion_problem(item, target.element, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
        return None
    if kind == "object":
        if not isinstance(value, dict):
            return f"{describe(value)}{at} cannot be an object"
        for name, attr, optional in target.attributes:
            if name not in value:
                if not optional:
                    return f"the map{at} lacks attribute '{name}', which {target} requires"
                continue
            problem = conversion_problem(value[name], attr, f"{where}.{name}" if where else name)
            if problem:
                return problem
        return None
    return None
