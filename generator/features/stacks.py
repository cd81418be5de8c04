"""explain and graph in the stacks style: the same model, other files; and the review
a render of either style gets (a style switch, unit blocks of protected environments,
units stack generate left in a classic tree).

The explanations are built for the classic tree (explain.py, graph.py); this names the
files that carry each value in the stacks tree instead: the stack file's ``unit`` block
for overrides and wiring, the units catalog for the module's common inputs, and the
directory ``terragrunt stack generate`` writes the unit to.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import Diagnostic, Location
from ..output.diff import Change
from ..output.sync import Review, Reviewer
from ..project import layout
from ..project.layout import Scope, relative_path
from ..project.model import Project
from ..rendering import stacks
from ..rendering.stacks import catalog_directory, generated_directory
from .explain import Explanation, Read, UnitExplanation
from .graph import Graph


def explanation(found: Explanation, project: Project) -> Explanation:
    """*found* (explained for the classic tree) with the stacks tree's files."""
    if project.style != "stacks" or not isinstance(found, UnitExplanation):
        return found  # env.hcl and region.hcl are the same files in both styles
    unit = found.unit
    leaf = layout.unit_file(unit.directory)
    stack = layout.stack_file(unit.environment.name, unit.region.name)
    catalog = layout.unit_file(catalog_directory(unit.module))
    names = {leaf: stack, unit.module.envcommon_path: catalog}

    def moved(path: str | None) -> str | None:
        return names.get(path, path) if path is not None else None

    def read(r: Read) -> Read:
        return replace(r, file=moved(r.file))

    inputs = tuple(
        replace(i, file=moved(i.file) or i.file, replaces=moved(i.replaces), reads=tuple(read(r) for r in i.reads))
        for i in found.inputs
    )
    here = generated_directory(unit, project)
    dependencies = tuple(
        replace(d, config_path=relative_path(generated_directory(project.unit(_key(d.target)) or unit, project), here))
        for d in found.dependencies
    )
    files = [
        (stack, f'unit "{unit.name}": values (env, region, overrides), autoinclude (dependencies, wired inputs)'),
        (catalog, f"the reusable unit: inputs common to every {unit.module.id} unit"),
        *[(path, what) for path, what in found.files if path not in names],
        (here, "where `terragrunt stack generate` writes the unit"),
    ]
    return replace(found, files=tuple(files), inputs=inputs, dependencies=dependencies, directory=here)


def _key(address: str) -> tuple[str, str, str]:
    env, region, name = address.split("/", 2)
    return env, region, name


def graph(found: Graph, project: Project) -> Graph:
    """*found* with the directories Terragrunt runs the units in, in the stacks style."""
    if project.style != "stacks":
        return found
    return replace(found, directories={u.key: generated_directory(u, project) for u in found.nodes})


def reviewer(
    project: Project, scope: Scope, *, switch_style: bool, allow_orphan: bool, display: Callable[[Path], str] = str
) -> Reviewer:
    """The review of one render of *project* (either style): see :class:`Review`."""

    def review(out: Path, changes: Sequence[Change], protected: Callable[[str], bool]) -> Review:
        deleted = [c.path for c in changes if c.action == "delete"]
        created = [c.path for c in changes if c.status == "created"]
        switch = stacks.style_switch(project, scope, deleted, created)
        refusals: list[Diagnostic] = []  # the first reason found, as the user fixes them one at a time
        if switch is not None and not switch_style:
            refusals = [stacks.refusal(switch, display(out))]
        if not refusals and not allow_orphan:
            refusals = dropped_unit_blocks(out, changes, protected, display)
        if not refusals and project.style != "stacks":  # whatever the flags: Terragrunt would merge them
            refusals = generated_leftovers(out, project, scope, display)
        unprotected = frozenset(switch.dropped) if switch is not None else frozenset()
        return Review(unprotected, tuple(refusals), switch)

    return review


_STACK_SUFFIX = f"/{layout.STACK_FILE}"


def dropped_unit_blocks(
    out: Path, changes: Sequence[Change], protected: Callable[[str], bool], display: Callable[[Path], str] = str
) -> list[Diagnostic]:
    """Unit blocks that a rewrite drops from the stack file of a protected environment:
    in the stacks style the block is the unit's rendered directory."""
    found = []
    for change in changes:
        # a created file drops nothing, and only stack files hold unit blocks: the cheap
        # tests first, as a first render of 50,000 files has nothing else
        if change.old is None or not change.path.endswith(_STACK_SUFFIX):
            continue
        if change.action != "write" or change.environment is None or not protected(change.environment):
            continue
        for address in stacks.orphaned_units(change.path, change.old, change.new):
            found.append(
                Diagnostic(
                    f"unit {address} was removed from the YAML, but environment {change.environment} has "
                    "deletion_protection: true; dropping its unit block would orphan the live infrastructure "
                    "it deployed, so nothing was written",
                    Location(display(out / change.path)),
                    rule="orphan",
                    hint="to destroy it: put it back with deletion_protection: false, render, run "
                    "`terragrunt destroy` in its directory, then remove it; or pass --allow-orphan to leave it "
                    "running unmanaged",
                )
            )
    return found


def generated_leftovers(
    out: Path, project: Project, scope: Scope, display: Callable[[Path], str] = str
) -> list[Diagnostic]:
    """Files ``terragrunt stack generate`` left in classic unit directories that Terragrunt
    reads in any unit: an autoinclude is merged into the unit, values feed ``values.*``."""
    found: list[Diagnostic] = []
    root = os.fspath(out)
    if not os.path.isdir(os.path.join(root, layout.ENVIRONMENTS)):  # a new tree: no unit directory yet
        return found
    for unit in project.units:
        if not scope.includes(unit.environment.name, unit.region.name):
            continue
        for name in layout.GENERATED_FILES:
            # string paths: a Path per unit and file cost more than the whole comparison
            if not os.path.isfile(os.path.join(root, unit.directory, name)):
                continue
            path = out / unit.directory / name
            if path.is_file():
                found.append(
                    Diagnostic(
                        "written by `terragrunt stack generate` (style: stacks); Terragrunt would merge it into "
                        "the classic unit, so tfgen renders nothing while it is there",
                        Location(display(path)),
                        rule="style-switch",
                        hint="delete the files stack generate wrote in the unit directories, then render again",
                    )
                )
    return found
