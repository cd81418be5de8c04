"""explain and graph in the stacks style: the same model, other files. Pure.

The explanations are built for the classic tree (explain.py, graph.py); this names the
files that carry each value in the stacks tree instead: the stack file's ``unit`` block
for overrides and wiring, the units catalog for the module's common inputs, and the
directory ``terragrunt stack generate`` writes the unit to.
"""

from __future__ import annotations

from dataclasses import replace

from .explain import Explanation, Read, UnitExplanation
from .graph import Graph
from .model import Project, relative_path
from .stacks import STACK_FILE, catalog_directory, generated_directory, stack_directory


def explanation(found: Explanation, project: Project) -> Explanation:
    """*found* (explained for the classic tree) with the stacks tree's files."""
    if project.style != "stacks" or not isinstance(found, UnitExplanation):
        return found  # env.hcl and region.hcl are the same files in both styles
    unit = found.unit
    leaf = f"{unit.directory}/terragrunt.hcl"
    stack = f"{stack_directory(unit.environment.name, unit.region.name)}/{STACK_FILE}"
    catalog = f"{catalog_directory(unit.module)}/terragrunt.hcl"
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
