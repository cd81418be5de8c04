"""The import report as text: what was written, kept state keys, warnings, the round trip."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .compare import UnitComparison
from .recover import Recovered

MAX_VALUE = 160


def _value(value: Any) -> str:
    text = value if value == "(absent)" else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def report(recovered: Recovered, source: str) -> str:
    """The model recovered, the state keys kept, and every warning, located."""
    envs = recovered.environments["environments"]
    regions = {r for e in envs.values() for r in e["regions"]}
    lines = [
        f"Imported {_count(len(recovered.placements), 'unit')} of {_count(len(recovered.catalog), 'module')} into "
        f"{_count(len(envs), 'environment')} in {_count(len(regions), 'region')}."
    ]
    if recovered.kept_keys:
        lines.append(
            f"The output layout (environments/<env>/<region>/<layer>/<unit>) does not reproduce the source's "
            f"directories: {len(recovered.kept_keys)} units keep their state key explicitly "
            "(state: in environments.yaml):"
        )
        lines += [f"  {path}" for path in recovered.kept_keys]
    elif any((p.config.get("remote_state") or {}).get("backend") == "s3" for p in recovered.placements):
        lines.append("Every unit's state key is the rendered tree's own: none is kept explicitly.")
    lines += [f"note: {note}" for note in recovered.notes]
    lines += [
        f"warning: {w.located(source)}"
        for w in sorted(set(recovered.warnings), key=lambda w: (w.path, w.line, w.message))
    ]
    return "\n".join(lines) + "\n"


def round_trip(comparisons: Sequence[UnitComparison]) -> str:
    """Per unit: identical, or each attribute that differs with both values."""
    lines = []
    for unit in comparisons:
        if not unit.imported:
            lines.append(f"{unit.source}: missing from the rendered tree")
        elif unit.identical:
            lines.append(f"{unit.source}: identical ({unit.imported})")
        else:
            lines.append(f"{unit.source}: {_count(len(unit.differences), 'difference')} ({unit.imported})")
            for difference in unit.differences:
                lines.append(f"  {difference.attribute}")
                lines.append(f"    source:   {_value(difference.source)}")
                lines.append(f"    imported: {_value(difference.imported)}")
    same = sum(1 for u in comparisons if u.identical)
    lines.append(f"Round trip: {same} of {len(comparisons)} units identical.")
    return "\n".join(lines) + "\n"


def document(
    recovered: Recovered, source: str, comparisons: Sequence[UnitComparison], written: Sequence[str]
) -> dict[str, Any]:
    """The report for --format json."""
    return {
        "source": source,
        "written": list(written),
        "units": [
            {
                "source": p.path,
                "directory": p.directory,
                "environment": p.env,
                "region": p.region,
                "module": p.module,
                "kept_state_key": p.path in recovered.kept_keys,
            }
            for p in recovered.placements
        ],
        "notes": list(recovered.notes),
        "warnings": [
            {"file": f"{source}/{w.path}", "line": w.line, "message": w.message}
            for w in sorted(set(recovered.warnings), key=lambda w: (w.path, w.line, w.message))
        ],
        "round_trip": [
            {
                "source": u.source,
                "imported": u.imported or None,
                "identical": u.identical,
                "differences": [
                    {"attribute": d.attribute, "source": d.source, "imported": d.imported} for d in u.differences
                ],
            }
            for u in comparisons
        ],
    }
