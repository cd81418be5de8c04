"""Renamed and moved units keep their state: ``previous:`` names the unit (NAME, or
LAYER/NAME) as it was when its state was created, and root.hcl maps the unit's new
directory to that state key (``local.moved``). Validation rules, and what a render
reports as ``moved``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .checks import Context, rule
from .errors import Diagnostic
from .model import Project


@dataclass(frozen=True)
class Move:
    address: str  # env/region/unit, as the unit is now called
    directory: str  # where its files are now
    state_directory: str  # where its state key stays


def moves(project: Project) -> list[Move]:
    return [
        Move(u.address, u.directory, u.state_directory) for u in project.units if u.state_directory != u.directory
    ]


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
