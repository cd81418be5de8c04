"""Helpers that put HashiCorp's own tools in front of rendered HCL: hclfmt (the canonical
formatter, built from Debian's Go source) and pygohcl (the Go parser Terragrunt uses)."""

from __future__ import annotations

import subprocess
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from generator.project.values import HclExpr

#: Files per hclfmt process: one process per batch keeps the judge fast.
BATCH = 400


def hclfmt_check(hclfmt: str, files: Sequence[Path]) -> list[str]:
    """Problems hclfmt finds in *files*: not canonical, or not parseable. Empty when clean."""
    problems: list[str] = []
    for start in range(0, len(files), BATCH):
        batch = [str(f) for f in files[start : start + BATCH]]
        result = subprocess.run(
            [hclfmt, "-check", "-require-no-change", *batch], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            problems.append(result.stderr.strip())
    return problems


def hclfmt_text(hclfmt: str, text: str, *, check: bool = True) -> tuple[int, str, str]:
    """Run hclfmt on *text* through stdin: (exit code, formatted text, stderr)."""
    args = [hclfmt, "-check", "-require-no-change"] if check else [hclfmt]
    result = subprocess.run(args, input=text.encode("utf-8"), capture_output=True, check=False)
    return result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")


def hcl_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.hcl") if p.is_file())


def nfc(value: str) -> str:
    """HCL (cty) normalises every string to Unicode NFC."""
    return unicodedata.normalize("NFC", value)


def assert_same(expected: Any, parsed: Any, where: str) -> int:
    """Assert that pygohcl's *parsed* value is exactly the YAML value *expected*.

    ``!hcl`` expressions are skipped (they are code, not values). Returns the number of
    scalar values compared.
    """
    if isinstance(expected, HclExpr):
        return 0
    if isinstance(expected, Mapping):
        assert isinstance(parsed, dict), f"{where}: expected a map, HCL gives {parsed!r}"
        assert sorted(parsed) == sorted(nfc(str(k)) for k in expected), f"{where}: keys differ"
        return sum(assert_same(v, parsed[nfc(str(k))], f"{where}.{k}") for k, v in expected.items())
    if isinstance(expected, (list, tuple)):
        assert isinstance(parsed, list), f"{where}: expected a list, HCL gives {parsed!r}"
        assert len(parsed) == len(expected), f"{where}: {len(expected)} items, HCL gives {len(parsed)}"
        return sum(assert_same(v, p, f"{where}[{i}]") for i, (v, p) in enumerate(zip(expected, parsed, strict=True)))
    if isinstance(expected, bool) or expected is None:
        assert parsed is expected, f"{where}: {expected!r} came back as {parsed!r}"
    elif isinstance(expected, int):
        assert type(parsed) is int and parsed == expected, f"{where}: {expected!r} came back as {parsed!r}"
    elif isinstance(expected, float):
        assert isinstance(parsed, (int, float)) and not isinstance(parsed, bool), f"{where}: {parsed!r}"
        assert float(parsed) == expected, f"{where}: {expected!r} came back as {parsed!r}"
    else:
        assert isinstance(expected, str)
        assert parsed == nfc(expected), f"{where}: {expected!r} came back as {parsed!r}"
    return 1


def leaves(value: Any) -> Iterable[Any]:
    if isinstance(value, Mapping):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from leaves(item)
    else:
        yield value
