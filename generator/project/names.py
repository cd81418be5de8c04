"""Names that become directory or file names: checked before any path is built.

Environment, region, unit, layer, category and module names each become one path
component of the output tree or the catalog. The schema already restricts them to
lowercase letters, digits, ``-`` and ``_``; this module says *why* a name is refused,
and also refuses what those patterns let through: names that Windows reserves (``con``,
``nul``, ``com1`` ...), which a checkout on Windows cannot create.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: Device names Windows reserves in every directory, whatever the extension.
WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
_FORBIDDEN = set('<>:"|?*')

# The name patterns, one copy each; the JSON Schemas spell the same patterns (a test
# holds them equal) because editors read the schema without tfgen.
#: An environment, unit, layer, category or module name.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
#: A project name: it starts bucket names and resource names, so it starts with a letter.
PROJECT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
#: What the schema accepts as a module id, ``<category>/<module>``.
MODULE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*/[a-z0-9][a-z0-9_-]*$")
#: The words that mean production: prod, production, prd, live.
PRODUCTION_WORDS = ("prod", "production", "prd", "live")
#: An environment name that means production: a production word alone or as a part
#: of the name (prod-eu, eu-prod2 ...).
PRODUCTION_NAME = re.compile(rf"(?:^|[-_])(?:{'|'.join(PRODUCTION_WORDS)})(?:$|[-_0-9])")


def looks_like_production(name: str) -> bool:
    return PRODUCTION_NAME.search(name) is not None


def name_problem(name: str) -> str | None:
    """Why *name* cannot be a single, portable path component; None when it can."""
    if not name:
        return "is empty"
    if name in (".", ".."):
        return f"'{name}' refers to a directory, not a name of its own"
    if "/" in name or "\\" in name:
        return "contains a path separator ('/' or '\\'); a name is one directory"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "contains a NUL or control character"
    forbidden = sorted({ch for ch in name if ch in _FORBIDDEN})
    if forbidden:
        return f"contains {', '.join(repr(c) for c in forbidden)}, which Windows does not allow in file names"
    if name != name.rstrip(". "):
        return "ends with a dot or a space, which Windows silently drops"
    if name.split(".", 1)[0].lower() in WINDOWS_RESERVED:
        return f"'{name}' is a device name reserved on Windows (CON, PRN, AUX, NUL, COM0-9, LPT0-9)"
    if name != name.lower():
        return "contains uppercase letters; names are lowercase so that two cannot differ only by case"
    return None


def case_collisions(names: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs (first, later) of *names* that differ only by case (one file on macOS/Windows)."""
    seen: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for name in names:
        folded = name.casefold()
        first = seen.setdefault(folded, name)
        if first != name:
            pairs.append((first, name))
    return pairs


def module_id_problem(module_id: str) -> str | None:
    """Why a ``<category>/<module>`` id cannot name catalog/<category>/<module>.yaml."""
    parts = module_id.split("/")
    if len(parts) != 2:
        return "a module is <category>/<module>, naming catalog/<category>/<module>.yaml"
    for part in parts:
        problem = name_problem(part)
        if problem:
            return f"'{part}' {problem}" if not problem.startswith("'") else problem
        if not NAME.match(part):
            return f"'{part}' is not 1-63 lowercase letters, digits, '-' or '_'"
    return None
