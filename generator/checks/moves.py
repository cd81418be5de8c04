"""Renamed and moved units (``previous:``): two units may not keep one state key, nor
a unit keep the state of one that still exists."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Diagnostic
from .base import Context, rule


@rule
def previous_names_one_unit(ctx: Context) -> Iterator[Diagnostic]:
    """Two units may not keep one state key, nor a unit keep another's."""
    owners: dict[str, str] = {}
    for unit in ctx.project.units:
        owners.setdefault(unit.directory, unit.name)
    reported: set[tuple[str, str]] = set()
    for unit in ctx.project.units:
        if unit.state_directory == unit.directory:
            continue
        where = (*unit.spec.path, "previous")
        other = owners.get(unit.state_directory)
        if other is not None and other != unit.name and (unit.name, other) not in reported:
            reported.add((unit.name, other))
            yield ctx.error(
                where,
                f"{unit.name} would keep the state of {other}, which still exists ({unit.state_directory})",
                "moved",
                "previous names the unit as it was first deployed, under a name no unit has now",
            )
            continue
        claimed = owners.setdefault(unit.state_directory, unit.name)
        if claimed != unit.name and (unit.name, claimed) not in reported:
            reported.add((unit.name, claimed))
            yield ctx.error(
                where,
                f"{unit.name} and {claimed} both keep the state at {unit.state_directory}",
                "moved",
            )
