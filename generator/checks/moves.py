"""Renamed and moved units (``previous:``): two units may not keep one state key, nor
a unit keep the state of one that still exists."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Diagnostic
from ..project import backend
from ..project.model import Unit
from .base import Context, rule


@rule
def previous_names_one_unit(ctx: Context) -> Iterator[Diagnostic]:
    """Two units may not keep one state key, nor a unit keep another's."""
    if all(spec.previous is None for spec in ctx.project.unit_specs):
        return  # every unit keeps the state of its own directory
    owners: dict[str, str] = {}
    for unit in ctx.project.units:
        owners.setdefault(unit.directory, unit.name)
    reported: set[tuple[str, str]] = set()
    for unit in ctx.project.units:
        if unit.spec.previous is None or unit.state_directory == unit.directory:
            continue  # (without previous, the state is in the unit's directory)
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


@rule
def kept_state_keys_unique(ctx: Context) -> Iterator[Diagnostic]:
    """Two units may not keep one state object (an override's state: bucket and key)."""
    units = ctx.project.units
    if not any(unit.kept_state for unit in units):
        return
    if backend.is_remote(ctx.project):
        for unit in units:
            if unit.kept_state:
                yield ctx.error(
                    (*unit.region.path, "units", unit.name, "state"),
                    f"{unit.address} keeps an S3 state object (bucket and key), but state.backend is remote",
                    "moved",
                    "with the remote backend a unit's state is its workspace: previous: keeps a moved unit's old one",
                )
        return
    owners: dict[tuple[str, str], Unit] = {}
    for unit in units:
        settings = backend.config(ctx.project, unit)
        found = (str(settings["bucket"]), str(settings["key"]))
        other = owners.setdefault(found, unit)
        if other is unit or not (unit.kept_state or other.kept_state):
            continue
        keeper = unit if unit.kept_state else other
        yield ctx.error(
            (*keeper.region.path, "units", keeper.name, "state"),
            f"{unit.address} and {other.address} both keep the state object s3://{found[0]}/{found[1]}",
            "moved",
            "each unit's state: names its own state object",
        )
