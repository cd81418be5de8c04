"""Terraform provider version constraints: parsed, and whether several can all hold.

The syntax is HashiCorp go-version's, as OpenTofu and Terraform read ``version`` in
``required_providers``: comma-separated conditions ``=``, ``!=``, ``>``, ``>=``, ``<``,
``<=`` and the pessimistic ``~>`` (``~> 5.62`` is ``>= 5.62, < 6.0``; ``~> 5.62.1`` is
``>= 5.62.1, < 5.63.0``), a bare version meaning ``=``. No PyPI library speaks ``~>``
(``packaging`` reads PEP 440, ``semver``'s ranges are npm's), so this small reader does:
releases only (a pre-release suffix is dropped: providers are pinned to releases).

Several constraints hold together when some release ``MAJOR.MINOR.PATCH`` satisfies all
of them: the highest lower bound, stepped past the versions excluded with ``!=``, below
the lowest upper bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Version = tuple[int, int, int]

_CONDITION = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(?:[-+][0-9A-Za-z.+-]*)?\s*$")


class ConstraintError(ValueError):
    """A constraint that is not go-version syntax (the message says which part)."""


@dataclass(frozen=True)
class Condition:
    operator: str
    version: Version
    segments: int  # how many parts were written: ~> 5.62 (2) differs from ~> 5.62.0 (3)


def _version(text: str) -> tuple[Version, int]:
    parts = [int(p) for p in text.split(".")]
    padded = [*parts, 0, 0][:3]
    return (padded[0], padded[1], padded[2]), len(parts)


def parse(constraint: str) -> tuple[Condition, ...]:
    """The conditions of one constraint string; ConstraintError when one is not valid."""
    conditions = []
    for part in constraint.split(","):
        match = _CONDITION.match(part)
        if match is None:
            raise ConstraintError(f"{part.strip()!r} is not a version condition (e.g. >= 5.0, ~> 2.35)")
        version, segments = _version(match.group(2))
        conditions.append(Condition(match.group(1) or "=", version, segments))
    return tuple(conditions)


def _pessimistic_upper(condition: Condition) -> Version:
    """The exclusive upper bound of ``~> V``: the next release of the second-to-last part
    written (of the only part when one is written)."""
    major, minor, _patch = condition.version
    if condition.segments <= 2:
        return (major + 1, 0, 0)
    return (major, minor + 1, 0)


def _successor(version: Version) -> Version:
    return (version[0], version[1], version[2] + 1)


def satisfiable(constraints: list[str] | tuple[str, ...]) -> bool:
    """Whether some release satisfies every constraint (ConstraintError on bad syntax)."""
    lower: Version = (0, 0, 0)
    upper: Version | None = None  # exclusive
    excluded: set[Version] = set()
    for constraint in constraints:
        for condition in parse(constraint):
            version, op = condition.version, condition.operator
            if op in ("=", ">=", "~>"):
                lower = max(lower, version)
            if op == ">":
                lower = max(lower, _successor(version))
            if op == "=" or op == "<=":
                bound = _successor(version)
                upper = bound if upper is None else min(upper, bound)
            if op == "<":
                upper = version if upper is None else min(upper, version)
            if op == "~>":
                bound = _pessimistic_upper(condition)
                upper = bound if upper is None else min(upper, bound)
            if op == "!=":
                excluded.add(version)
    candidate = lower
    while candidate in excluded:
        candidate = _successor(candidate)
    return upper is None or candidate < upper
