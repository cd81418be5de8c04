"""A provider version that satisfies a Terraform version constraint, for the stand-in
provider's filesystem mirror (OpenTofu installs only versions the tree accepts)."""

from __future__ import annotations

import re

_PART = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})\s*$")

Version = tuple[int, int, int]


def _parse(text: str) -> tuple[str, Version, int]:
    match = _PART.match(text)
    if not match:
        raise ValueError(f"cannot read the version constraint {text!r}")
    numbers = [int(n) for n in match.group(2).split(".")]
    given = len(numbers)
    numbers += [0] * (3 - given)
    return match.group(1) or "=", (numbers[0], numbers[1], numbers[2]), given


def _holds(version: Version, operator: str, bound: Version, given: int) -> bool:
    if operator == "=":
        return version == bound
    if operator == "!=":
        return version != bound
    if operator == ">":
        return version > bound
    if operator == ">=":
        return version >= bound
    if operator == "<":
        return version < bound
    if operator == "<=":
        return version <= bound
    # ~> X.Y.Z: >= X.Y.Z, < X.(Y+1); ~> X.Y: >= X.Y, < (X+1); ~> X: >= X, < X+1
    if version < bound:
        return False
    if given >= 3:
        return version[:2] == bound[:2]
    return version[0] == bound[0]


def satisfying(constraint: str | None) -> str:
    """A version (X.Y.Z) that *constraint* (``~> 5.0, != 5.1.0``) accepts."""
    if not constraint or not constraint.strip():
        return "5.999.0"
    parts = [_parse(p) for p in constraint.split(",")]
    candidates: list[Version] = []
    for _operator, (a, b, c), _given in parts:
        candidates += [(a, 999, 0), (a, b, 999), (a, b, c + 1), (a, b, c), (a, b + 1, 0), (a + 1, 0, 0)]
        candidates += [(a - 1, 999, 0)] if a > 0 else []
        candidates += [(a, b - 1, 999)] if b > 0 else []
    for version in sorted(set(candidates), reverse=True):
        if all(_holds(version, op, bound, given) for op, bound, given in parts):
            return ".".join(map(str, version))
    raise ValueError(f"no version satisfies the constraint {constraint!r}")
