"""The one did-you-mean: the names closest to a word that is not known.

difflib's ratio alone ranks by shared letters anywhere: for ``alerts`` it ties
``assets`` with ``alerts-topic`` (0.67 each) and the alphabet picks ``assets``; for
``sg-db`` it prefers ``sg-alb`` (0.73) to ``sg-database`` (0.63). People shorten and
extend names at the end, so the score also weighs what a user types first:

- a shared prefix, as Jaro-Winkler does (0.1 per leading character, up to four, of
  what the ratio leaves);
- an abbreviation: every letter of the word, in order, in the candidate, starting
  with the same letter (``sg-db`` in ``sg-database``, ``alerts`` in ``alerts-topic``);
- a rename: a unit renamed with ``previous:`` is what its old name means, before any
  spelling.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping

#: Jaro-Winkler's prefix scale and its longest prefix.
_PREFIX_WEIGHT = 0.1
_PREFIX_MAX = 4
#: The floor of an abbreviation's score: above every plain misspelling of a short name.
_ABBREVIATION = 0.8


_SEPARATORS = re.compile(r"[-_/.]")


def _shortens(part: str, whole: str) -> bool:
    """*part* is *whole* with letters left out: same first letter, the rest in order."""
    if not part or not whole or part[0] != whole[0]:
        return False
    letters = iter(whole)
    return all(ch in letters for ch in part)  # a subsequence: `in` consumes the iterator


def _is_abbreviation(word: str, candidate: str) -> bool:
    """Each part of *word* (``sg``, ``db``) shortens the same part of *candidate*
    (``sg``, ``database``), which may go on with more parts (``alerts`` -> ``alerts-topic``)."""
    if len(word) < 3 or len(word) >= len(candidate):
        return False
    parts, wholes = _SEPARATORS.split(word), _SEPARATORS.split(candidate)
    return len(parts) <= len(wholes) and all(_shortens(p, w) for p, w in zip(parts, wholes, strict=False))


def score(word: str, candidate: str) -> float:
    """How likely *candidate* is what *word* meant, 0 to 1."""
    ratio = difflib.SequenceMatcher(None, word, candidate, autojunk=False).ratio()
    prefix = 0
    for a, b in zip(word[:_PREFIX_MAX], candidate[:_PREFIX_MAX], strict=False):
        if a != b:
            break
        prefix += 1
    weighted = ratio + prefix * _PREFIX_WEIGHT * (1 - ratio)
    if _is_abbreviation(word, candidate):
        weighted = max(weighted, _ABBREVIATION + (1 - _ABBREVIATION) * len(word) / len(candidate))
    return weighted


def closest(
    word: str,
    choices: Iterable[str],
    *,
    n: int = 1,
    cutoff: float = 0.6,
    renamed: Mapping[str, str] | None = None,
) -> list[str]:
    """Up to *n* of *choices* that *word* most likely meant, best first; *renamed* maps
    an old name to the name it has now (which comes first when it is a choice)."""
    options = sorted(set(choices))
    found: list[str] = []
    target = (renamed or {}).get(word)
    if target is not None and target in options:
        found.append(target)
    ranked = sorted(((score(word, c), c) for c in options if c != word and c not in found), key=lambda s: (-s[0], s[1]))
    found += [c for s, c in ranked if s >= cutoff]
    return found[:n]
