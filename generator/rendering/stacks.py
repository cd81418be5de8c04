"""The stacks style: the same model rendered as Terragrunt Stacks. Pure.

``style: stacks`` renders, instead of ``_envcommon/`` and one ``terragrunt.hcl`` per unit:

- ``_units/<category>/<module>/terragrunt.hcl``: the units catalog, one reusable unit per
  catalog module. It reads everything that differs between its placements from
  ``values``: ``values.env`` and ``values.region`` (the locals of env.hcl and region.hcl,
  as ``local.env`` / ``local.region``) and ``values.inputs`` (the unit's overrides).
- ``environments/<env>/<region>/terragrunt.stack.hcl``: one ``unit`` block per unit of
  that environment and region, with its values, and an ``autoinclude`` block holding,
  as the classic leaf does, a dependency block (``config_path = unit.<name>.path``, with
  its mocks) for each dependency whose outputs are read, a ``dependencies { paths }``
  block for the order-only ones, and the inputs that read dependency outputs, which
  ``values`` cannot carry (a stack evaluates values when it is generated, before any
  dependency has outputs; Terragrunt keeps ``dependency.*`` in an autoinclude verbatim
  and merges it into the unit, autoinclude winning, as a leaf
  ``terragrunt.hcl`` wins over its ``_envcommon`` include).

root.hcl, env.hcl and region.hcl are the classic ones, byte for byte: the stack files read
env.hcl and region.hcl and pass them down as values; root.hcl, included by every generated
unit, reads them as before. With ``no_dot_terragrunt_stack = true`` (the default)
``terragrunt stack generate`` writes each unit into its classic directory, so
``path_relative_to_include()`` and every state key stay those of the classic tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import Diagnostic, InputError, KeyPath, Location
from ..hcl import literal as hcl
from ..hcl.references import function_calls, traversals
from ..project import backend, layout
from ..project.layout import Scope, relative_path
from ..project.model import Module, Project, Unit, check_scope
from ..project.values import HclExpr, dependencies_named, expressions, locals_used
from .plan import (
    PlannedFile,
    _Shared,
    check_unique,
    environment_files,
    header_for,
    pipeline_files,
    providers_contents,
    providers_override_contents,
    read_dependencies,
    root_file,
)
from .plan import plan as classic_plan

STYLES = layout.STYLES

#: Terragrunt functions whose result depends on the directory of the file that calls them.
#: A stack evaluates values and autoinclude bodies at the stack file, not at the unit, so an
#: override calling one of them would get another result than in the classic tree.
UNIT_BOUND_FUNCTIONS = frozenset(
    {
        "get_terragrunt_dir", "get_original_terragrunt_dir", "get_parent_terragrunt_dir",
        "path_relative_to_include", "path_relative_from_include", "find_in_parent_folders",
        "read_terragrunt_config", "get_working_dir", "run_cmd", "get_path_from_repo_root",
        "get_path_to_repo_root", "sops_decrypt_file", "read_tfvars_file", "mark_as_read",
        "file", "fileexists", "fileset", "filebase64", "filemd5", "filesha1", "filesha256",
        "filesha512", "filebase64sha256", "filebase64sha512", "templatefile", "abspath",
    }
)  # fmt: skip


def no_dot(project: Project) -> bool:
    """Whether units are generated in their classic directories (no_dot_terragrunt_stack)."""
    return bool(project.stacks.get("no_dot_terragrunt_stack", True))


def catalog_directory(module: Module) -> str:
    return layout.catalog_directory(module.category, module.name)


def generated_directory(unit: Unit, project: Project) -> str:
    """Where ``terragrunt stack generate`` writes *unit* (relative to the output directory)."""
    return layout.generated_directory(
        unit.environment.name, unit.region.name, unit.layer, unit.name, no_dot=no_dot(project),
        tenant=unit.tenant_name,
    )


def unit_directory(unit: Unit, project: Project) -> str:
    """The directory Terragrunt runs *unit* in, in the project's style."""
    return generated_directory(unit, project) if project.style == "stacks" else unit.directory


def _unit_reference(name: str) -> str:
    if hcl.IDENTIFIER.fullmatch(name) and name not in ("true", "false", "null"):
        return f"unit.{name}.path"
    return f"unit[{hcl.string(name)}].path"


def _reads_dependency(value: Any) -> bool:
    return any(dependencies_named(expr.text) for _path, expr in expressions(value))


def _reads_include(text: str) -> bool:
    return any(ref[0] == "include" for ref in traversals(text))


def _override_location(unit: Unit, project: Project, name: str) -> tuple[KeyPath, Any]:
    """Where the override of input *name* of *unit* is written (region > environment > unit)."""
    region_units = unit.region.unit_overrides.get(unit.name)
    if isinstance(region_units, Mapping) and name in (region_units.get("inputs") or {}):
        path: KeyPath = (*unit.region.path, "units", unit.name, "inputs", name)
    else:
        env_units = unit.environment.unit_overrides.get(unit.name)
        if isinstance(env_units, Mapping) and name in (env_units.get("inputs") or {}):
            path = (*unit.environment.path, "units", unit.name, "inputs", name)
        else:
            path = (*unit.spec.path, "inputs", name)
    return path, project.document.locate(path)


def unit_bound_problems(unit: Unit, project: Project, overrides: Mapping[str, Any]) -> list[Diagnostic]:
    """Overrides that a stack would evaluate at the stack file instead of the unit."""
    problems: list[Diagnostic] = []
    for name, value in overrides.items():
        for _path, expr in expressions(value):
            bound = sorted(set(function_calls(expr.text)) & UNIT_BOUND_FUNCTIONS)
            what = f"{bound[0]}()" if bound else "include.*" if _reads_include(expr.text) else None
            if what is None:
                continue
            path, where = _override_location(unit, project, name)
            problems.append(
                Diagnostic(
                    f"style: stacks evaluates unit overrides in the stack file, where {what} reads the stack's "
                    f"directory, not the unit's ({unit.address})",
                    where,
                    path,
                    rule="stacks-unit-bound",
                    hint="a stack evaluates an overridden input, merged whole, in the stack file: move the "
                    "expression into a catalog input that no unit overrides (the reusable unit evaluates those "
                    "in the unit), or keep style: classic",
                )
            )
            break
    return problems


def problems(project: Project, units: Iterable[Unit] | None = None) -> list[Diagnostic]:
    """What the stacks style cannot render faithfully (see unit_bound_problems)."""
    shared = _Shared(project)
    chosen = project.units if units is None else units
    return [p for u in chosen for p in unit_bound_problems(u, project, shared.overridden(u)[0])]


def _catalog_unit(module: Module, project: Project, header: str, shared: _Shared) -> PlannedFile:
    return PlannedFile(
        layout.unit_file(catalog_directory(module)),
        "unit.hcl.j2",
        {
            "header": header,
            "module": module,
            "project_locals": shared.project_locals,
            "inputs": dict(module.inputs),
            "providers": providers_contents(module, project),
            "providers_override": providers_override_contents(module),
            "tenant": any(u.module is module and u.tenant is not None for u in project.units),
        },
    )


def _unit_block(unit: Unit, project: Project, shared: _Shared) -> tuple[dict[str, Any], set[str]]:
    """The context of one ``unit`` block and the stack locals its expressions use.

    The autoinclude carries what the classic leaf has: a ``dependency`` block (with its
    mocks) for each dependency whose outputs the unit reads, and a ``dependencies``
    path for each one that only orders the units, so Terragrunt never runs ``output``
    in it to plan this one."""
    here = layout.stack_directory(unit.environment.name, unit.region.name, unit.tenant_name)
    leaf: dict[str, Any] = {}
    for wire in project.wiring.get(unit.key, ()):
        leaf.update(shared.wired(wire.dependency))
    leaf.update(shared.overridden(unit)[0])
    if unit.own_protection:
        # values.env carries the unit's own deletion policy: the reusable unit evaluates
        # the catalog inputs that follow it, and its prevent_destroy, with it.
        for name in unit.module.protection_inputs:
            if name not in unit.overrides:
                leaf.pop(name, None)
    values = {k: v for k, v in leaf.items() if not _reads_dependency(v)}
    deferred = {k: v for k, v in leaf.items() if k not in values}
    used = {scope for _p, expr in expressions(leaf) for scope in locals_used(expr.text)}
    read = read_dependencies(unit, project, shared)
    dependencies = []
    ordering = []
    for wire in project.wiring.get(unit.key, ()):
        target = wire.target
        if target.region.name == unit.region.name and target.tenant is unit.tenant:
            config_path = HclExpr(_unit_reference(target.name))
        else:  # another stack (region, or the shared units of a tenant's): a path from this stack file
            relative = relative_path(generated_directory(target, project), here)
            config_path = HclExpr('"${get_terragrunt_dir()}/' + hcl.string(relative)[1:-1] + '"')
        if wire.dependency.name in read:
            dependencies.append(
                {"name": wire.dependency.name, "config_path": config_path, "mock_outputs": wire.dependency.mock_outputs}
            )
        else:
            ordering.append(config_path)
    block = {
        "name": unit.name,
        "source": relative_path(catalog_directory(unit.module), here),
        "path": f"{unit.layer}/{unit.name}",
        "inputs": values,
        "dependencies": dependencies,
        "ordering": ordering,
        "autoinclude_inputs": deferred,
        "env": HclExpr(f"merge(local.env, {{ deletion_protection = {str(unit.deletion_protection).lower()} }})")
        if unit.own_protection else HclExpr("local.env"),
    }
    return block, used


def plan(project: Project, scope: Scope | None = None, source_name: str = "environments.yaml") -> list[PlannedFile]:
    """Every file of the stacks tree within *scope* (default: everything); sorted by path."""
    scope = scope or Scope()
    check_scope(project, scope)
    header = header_for(source_name)
    units = [
        u for u in project.units
        if scope.includes(u.environment.name, u.region.name) and scope.includes_tenant(u.tenant_name)
    ]
    found = problems(project, units)
    if found:
        raise InputError(found)
    shared = _Shared(project)
    files = [root_file(project, header)]
    modules = {u.module.id: u.module for u in units}
    files += [_catalog_unit(modules[m], project, header, shared) for m in sorted(modules)]
    files += environment_files(project, scope, header)
    # a stack per region, and one per tenant there (its units, below tenants/<tenant>/)
    by_stack: dict[tuple[str, str, str | None], list[Unit]] = {}
    for unit in units:
        by_stack.setdefault((unit.environment.name, unit.region.name, unit.tenant_name), []).append(unit)
    for (env, region, tenant), members in by_stack.items():
        blocks = []
        used: set[str] = set()
        for unit in members:
            block, reads = _unit_block(unit, project, shared)
            blocks.append(block)
            used |= reads
        files.append(
            PlannedFile(
                layout.stack_file(env, region, tenant),
                "terragrunt.stack.hcl.j2",
                {
                    "header": header,
                    "environment": env,
                    "region": region,
                    "tenant": tenant,
                    "units": blocks,
                    "project_locals": shared.project_locals if "project" in used else None,
                    "no_dot": no_dot(project),
                    "mock_commands": shared.mock_commands,
                },
                env,
                region,
            )
        )
    files += pipeline_files(project, source_name)
    check_unique(files, project)
    return sorted(files, key=lambda f: f.path)


def plan_style(
    project: Project, scope: Scope | None = None, source_name: str = "environments.yaml"
) -> list[PlannedFile]:
    """The tree of the project's own style."""
    if project.style == "stacks":
        _refuse_kept_state(project)
        return plan(project, scope, source_name)
    return classic_plan(project, scope or Scope(), source_name)


def _refuse_kept_state(project: Project) -> None:
    """A unit override's state: (bucket, key) lives in the unit's own terragrunt.hcl,
    which the stacks style does not render: refused rather than moving the state."""
    kept = [unit for unit in project.units if unit.kept_state]
    if kept:
        unit = kept[0]
        path = (*unit.region.path, "units", unit.name, "state")
        more = f" (and {len(kept) - 1} more units)" if len(kept) > 1 else ""
        raise InputError(
            [
                Diagnostic(
                    f"{unit.address} keeps its state object (state:){more}, which the stacks style cannot render",
                    project.document.locate(path),
                    path,
                    rule="moved",
                    hint="render it in the classic style (style: classic)",
                )
            ]
        )


_UNIT_BLOCK = re.compile(r'^unit "((?:[^"\\]|\\.)*)" \{$', re.MULTILINE)


def unit_blocks(text: bytes | None) -> list[str]:
    """The unit names of a stack file tfgen rendered (canonical layout: one block a line)."""
    if text is None:
        return []
    return [m.group(1) for m in _UNIT_BLOCK.finditer(text.decode("utf-8", "replace"))]


def orphaned_units(path: str, old: bytes | None, new: bytes | None) -> list[str]:
    """Units whose block a rewrite of the stack file *path* drops: in the stacks style the
    block is the unit's rendered directory, so dropping it orphans what it deployed."""
    if not path.endswith(f"/{layout.STACK_FILE}"):
        return []
    kept = set(unit_blocks(new))
    where = path[: -len(layout.STACK_FILE) - 1].removeprefix(f"{layout.ENVIRONMENTS}/")
    return [f"{where}/{name}" for name in unit_blocks(old) if name not in kept]


# --- switching an existing tree from one style to the other -------------------------


@dataclass(frozen=True)
class StateMove:
    """One state object that moves when the style changes (S3, in the unit's bucket)."""

    unit: str  # address
    bucket: str
    old_key: str
    new_key: str

    def command(self) -> str:
        return f"aws s3 mv s3://{self.bucket}/{self.old_key} s3://{self.bucket}/{self.new_key}"


@dataclass(frozen=True)
class StyleSwitch:
    """A render that replaces the tree of one style by the other's."""

    old: str
    new: str
    dropped: tuple[str, ...]  # files of the old style that the render deletes
    units: int  # units that change style
    moves: tuple[StateMove, ...]  # empty: every state key stays the same

    def lines(self) -> list[str]:
        gone = f"the {len(self.dropped)} {self.old} files of {self.units} units go"
        lines = [f"Switching from {self.old} to {self.new}: {gone}."]
        if not self.moves:
            lines.append(f"State keys stay the same for all {self.units} units: no state moves.")
        else:
            lines.append(
                f"State keys change for {len(self.moves)} units: move each state object before the first "
                "plan or apply, with the S3 backend's credentials:"
            )
            lines += [f"  {move.command()}" for move in self.moves]
        if self.new == "stacks":
            lines.append("Then run `terragrunt stack generate` in the output directory: it writes the units.")
        else:
            lines.append(
                "First delete what `terragrunt stack generate` wrote into the unit directories "
                "(terragrunt.hcl, terragrunt.values.hcl, terragrunt.autoinclude.hcl, .terragrunt-stack-manifest): "
                "tfgen did not write them and will not overwrite them."
            )
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "dropped": list(self.dropped),
            "units": self.units,
            "state_moves": [
                {"unit": m.unit, "bucket": m.bucket, "from": m.old_key, "to": m.new_key} for m in self.moves
            ],
        }


def other_style(project: Project) -> Project:
    return replace(project, style="classic" if project.style == "stacks" else "stacks")


def bucket_name(project: Project, unit: Unit) -> str:
    """The state bucket of *unit*, its placeholders resolved."""
    return backend.fill(project.state["bucket"], backend.values(project, unit.environment, unit.region, unit.tenant))


def state_key(unit: Unit, project: Project) -> str:
    """``${path_relative_to_include()}/terraform.tfstate`` of *unit* in the project's style."""
    return layout.state_key(unit_directory(unit, project))


def style_switch(
    project: Project, scope: Scope, deleted: Iterable[str], created: Iterable[str] = ()
) -> StyleSwitch | None:
    """What deleting *deleted* means when those are the other style's files of this model
    (*created*: the files the render writes anew; root.hcl among them, the stacks style
    replaces a single-include tree: the same unit files as classic's)."""
    deleted = set(deleted)
    if not deleted:
        return None
    old = other_style(project)
    theirs = {f.path for f in plan_style(old, scope)}
    if project.style != "stacks":
        # The stacks and classic trees share root.hcl: a single-include render drops it
        # whichever it replaces (from classic, the same units and state keys: no switch).
        theirs.discard(layout.ROOT)
    dropped = tuple(sorted(deleted & theirs))
    if not dropped:
        return None
    units = [u for u in project.units if scope.includes(u.environment.name, u.region.name)]
    name = layout.SINGLE_INCLUDE if project.style == "stacks" and layout.ROOT in set(created) else old.style
    if backend.is_remote(project):  # a workspace is named from the unit's layer and name: the same in both styles
        return StyleSwitch(name, project.style, dropped, len(units), ())
    moves = tuple(
        StateMove(u.address, bucket_name(project, u), state_key(u, old), state_key(u, project))
        for u in units
        if state_key(u, old) != state_key(u, project)
    )
    return StyleSwitch(name, project.style, dropped, len(units), moves)


def refusal(switch: StyleSwitch, where: str) -> Diagnostic:
    return Diagnostic(
        f"render refused to drop the {switch.old} tree ({len(switch.dropped)} files of {switch.units} units): "
        f"style: {switch.new} replaces it",
        Location(where),
        rule="style-switch",
        hint="pass switch_style=True to confirm",
    )
