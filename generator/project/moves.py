"""Renamed and moved units keep their state: ``previous:`` names the unit (NAME, or
LAYER/NAME) as it was when its state was created; the unit's own terragrunt.hcl keeps
that state key (root.hcl's ``local.moved`` in the stacks style, whose units share one
catalog file). What a render reports as ``moved``."""

from __future__ import annotations

from dataclasses import dataclass

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
