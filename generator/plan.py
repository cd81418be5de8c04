"""From the model to the list of files to produce: path, template and context. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import hcl
from .errors import Diagnostic, InputError, Location
from .loader import HclExpr, expressions
from .model import Dependency, Environment, Module, Project, Region, Unit

#: Terraform commands for which a dependency's mock outputs may stand in.
MOCK_COMMANDS = ("init", "validate", "plan")
BUCKET_PLACEHOLDERS = {
    "env": "${local.env.environment}",
    "account_id": "${local.env.account_id}",
    "region": "${local.region.aws_region}",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_LOCAL_REF = re.compile(r"\blocal\.(env|region|project)\b")


@dataclass(frozen=True)
class PlannedFile:
    path: str  # posix path relative to the output directory
    template: str
    context: Mapping[str, Any]
    environment: str | None = None  # None: shared by every environment
    region: str | None = None


@dataclass(frozen=True)
class Scope:
    """Which environments and regions a command works on (empty: all)."""

    environments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def includes(self, environment: str | None, region: str | None = None) -> bool:
        if environment is not None and self.environments and environment not in self.environments:
            return False
        return not (region is not None and self.regions and region not in self.regions)


def bucket_expression(template: str, project: str) -> str:
    """The state bucket name as an HCL string with placeholders as interpolations."""
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(hcl.string(template[position : match.start()])[1:-1])
        name = match.group(1)
        parts.append(hcl.string(project)[1:-1] if name == "project" else BUCKET_PLACEHOLDERS[name])
        position = match.end()
    parts.append(hcl.string(template[position:])[1:-1])
    return '"' + "".join(parts) + '"'


def provider_contents(project: Project) -> str:
    """The generated provider.tf, escaped to be a heredoc body of root.hcl."""
    tags = {name: hcl.template_escape(hcl.string(value)) for name, value in project.tags.items()}
    tags["Environment"] = '"${local.env.environment}"'
    lines = []
    version = project.terraform.get("aws_provider_version")
    if version:
        lines += [
            "terraform {",
            "required_providers {",
            "aws = {",
            'source = "hashicorp/aws"',
            f"version = {hcl.template_escape(hcl.string(version))}",
            "}",
            "}",
            "}",
            "",
        ]
    lines += [
        'provider "aws" {',
        'region = "${local.region.aws_region}"',
        'allowed_account_ids = ["${local.env.account_id}"]',
        "",
        "default_tags {",
        "tags = {",
        *(f"{hcl.template_escape(hcl.key(name))} = {value}" for name, value in tags.items()),
        "}",
        "}",
        "}",
    ]
    return hcl.format_hcl("\n".join(lines))


def project_locals(project: Project) -> dict[str, Any]:
    return {"name": project.name, "tags": dict(project.tags)}


def root_file(project: Project, header: str) -> PlannedFile:
    state = project.state
    config: dict[str, Any] = {
        "bucket": HclExpr(bucket_expression(state["bucket"], project.name)),
        "key": HclExpr('"${path_relative_to_include()}/terraform.tfstate"'),
        "region": state["region"],
        "encrypt": state.get("encrypt", True),
    }
    if state.get("lock", "lockfile") == "dynamodb":
        config["dynamodb_table"] = state["dynamodb_table"]
    else:
        config["use_lockfile"] = True
    constraints = {}
    if project.terraform.get("required_version"):
        constraints["terraform_version_constraint"] = project.terraform["required_version"]
    if project.terraform.get("terragrunt_version"):
        constraints["terragrunt_version_constraint"] = project.terraform["terragrunt_version"]
    return PlannedFile(
        "root.hcl",
        "root.hcl.j2",
        {
            "header": header,
            "project": project,
            "constraints": constraints,
            "state_config": config,
            "provider": provider_contents(project),
        },
    )


def env_locals(env: Environment) -> dict[str, Any]:
    return {
        "environment": env.name,
        "account_id": env.account_id,
        "sizing_tier": env.sizing_tier,
        "sizing": dict(env.sizing),
        "deletion_protection": env.deletion_protection,
        "multi_az": env.multi_az,
        "settings": dict(env.settings),
    }


def region_locals(region: Region) -> dict[str, Any]:
    return {
        "aws_region": region.name,
        "azs": list(region.zones),
        "vpc_cidr": region.vpc_cidr,
        "role": region.role,
        "settings": dict(region.settings),
    }


def _envcommon(module: Module, project: Project, header: str) -> PlannedFile:
    return PlannedFile(
        module.envcommon_path,
        "envcommon.hcl.j2",
        {
            "header": header,
            "module": module,
            "project_locals": project_locals(project),
            "inputs": dict(module.inputs),
        },
    )


def leaf_inputs(unit: Unit, project: Project) -> dict[str, Any]:
    """Dependency-wired inputs, then the unit's overrides (fully merged); later wins."""
    return _leaf_inputs(unit, project, _Shared(project))


class _Shared:
    """Values that many leaves have in common, computed once per plan and shared
    (read-only), so that the renderer meets the same objects again."""

    def __init__(self, project: Project) -> None:
        self.mock_commands = list(MOCK_COMMANDS)
        self.project_locals = project_locals(project)
        self._wired: dict[int, tuple[Dependency, dict[str, HclExpr]]] = {}
        self._overridden: dict[tuple[str, int], tuple[Mapping[str, Any], dict[str, Any], frozenset[str]]] = {}

    def wired(self, dependency: Dependency) -> dict[str, HclExpr]:
        """Inputs that read the outputs of *dependency*."""
        hit = self._wired.get(id(dependency))
        if hit is not None and hit[0] is dependency:
            return hit[1]
        inputs: dict[str, HclExpr] = {}
        for name, output in dependency.outputs.items():
            if isinstance(output, tuple):
                refs = ", ".join(f"dependency.{dependency.name}.outputs.{o}" for o in output)
                inputs[name] = HclExpr(f"[{refs}]")
            else:
                inputs[name] = HclExpr(f"dependency.{dependency.name}.outputs.{output}")
        self._wired[id(dependency)] = (dependency, inputs)
        return inputs

    def overridden(self, unit: Unit) -> tuple[dict[str, Any], frozenset[str]]:
        """The unit's overridden inputs, fully merged, and the locals their expressions use."""
        key = (unit.module.id, id(unit.overrides))
        hit = self._overridden.get(key)
        if hit is not None and hit[0] is unit.overrides:
            return hit[1], hit[2]
        inputs = unit.leaf_inputs()
        used = frozenset(m.group(1) for _path, expr in expressions(inputs) for m in _LOCAL_REF.finditer(expr.text))
        self._overridden[key] = (unit.overrides, inputs, used)
        return inputs, used


def _leaf_inputs(unit: Unit, project: Project, shared: _Shared) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for wire in project.wiring.get(unit.key, ()):
        inputs.update(shared.wired(wire.dependency))
    inputs.update(shared.overridden(unit)[0])
    return inputs


def _leaf(unit: Unit, project: Project, header: str, shared: _Shared) -> PlannedFile:
    inputs = _leaf_inputs(unit, project, shared)
    # Wired inputs read dependency outputs (dependency and output names are identifiers),
    # never a local: the overrides alone decide which locals the leaf needs.
    used = shared.overridden(unit)[1]
    locals_: dict[str, Any] = {}
    if "env" in used:
        locals_["env"] = HclExpr('read_terragrunt_config(find_in_parent_folders("env.hcl")).locals')
    if "region" in used:
        locals_["region"] = HclExpr('read_terragrunt_config(find_in_parent_folders("region.hcl")).locals')
    if "project" in used:
        locals_["project"] = shared.project_locals
    dependencies = [
        {
            "name": wire.dependency.name,
            "config_path": wire.config_path,
            "mock_outputs": wire.dependency.mock_outputs,
        }
        for wire in project.wiring.get(unit.key, ())
    ]
    return PlannedFile(
        f"{unit.directory}/terragrunt.hcl",
        "terragrunt.hcl.j2",
        {
            "header": header,
            "unit": unit,
            "locals": locals_,
            "dependencies": dependencies,
            "mock_commands": shared.mock_commands,
            "inputs": inputs,
            "prevent_destroy": unit.environment.deletion_protection,
        },
        unit.environment.name,
        unit.region.name,
    )


def header_for(source_name: str) -> str:
    """The first line of every rendered file."""
    source_name = hcl.comment_text(source_name)
    return f"# Generated by tfgen from {source_name}. Do not edit: change {source_name} and run `tfgen render`."


def plan(project: Project, scope: Scope = Scope(), source_name: str = "environments.yaml") -> list[PlannedFile]:
    """Every file of the tree within *scope*, shared files first; sorted by path."""
    check_scope(project, scope)
    header = header_for(source_name)
    units = [u for u in project.units if scope.includes(u.environment.name, u.region.name)]
    files = [root_file(project, header)]
    modules = {u.module.id: u.module for u in units}
    files += [_envcommon(modules[m], project, header) for m in sorted(modules)]
    files += environment_files(project, scope, header)
    shared = _Shared(project)
    files += [_leaf(u, project, header, shared) for u in units]
    check_unique(files, project)
    return sorted(files, key=lambda f: f.path)


def environment_files(project: Project, scope: Scope, header: str) -> list[PlannedFile]:
    """env.hcl of every environment and region.hcl of every region within *scope*."""
    files: list[PlannedFile] = []
    for env in project.environments:
        if not any(scope.includes(env.name, region.name) for region in env.regions):
            continue  # not selected, or none of its regions is
        files.append(
            PlannedFile(
                f"environments/{env.name}/env.hcl",
                "env.hcl.j2",
                {"header": header, "locals": env_locals(env)},
                env.name,
            )
        )
        for region in env.regions:
            if scope.includes(env.name, region.name):
                files.append(
                    PlannedFile(
                        f"environments/{env.name}/{region.name}/region.hcl",
                        "region.hcl.j2",
                        {"header": header, "locals": region_locals(region)},
                        env.name,
                        region.name,
                    )
                )
    return files


def check_scope(project: Project, scope: Scope) -> None:
    known_envs = [e.name for e in project.environments]
    known_regions = sorted({r.name for e in project.environments for r in e.regions})
    problems = [
        f"--env {e}: no such environment (environments: {', '.join(known_envs)})"
        for e in scope.environments
        if e not in known_envs
    ]
    problems += [
        f"--region {r}: no such region (regions: {', '.join(known_regions)})"
        for r in scope.regions
        if r not in known_regions
    ]
    if problems:
        raise InputError([Diagnostic(p, Location(project.document.file), rule="scope") for p in problems])


def check_unique(files: Sequence[PlannedFile], project: Project) -> None:
    seen: dict[str, PlannedFile] = {}
    folded: dict[str, str] = {}
    errors = []
    for f in files:
        other = folded.get(f.path.casefold())
        if f.path in seen or (other is not None and other != f.path):
            errors.append(
                Diagnostic(
                    f"two files would be written to {f.path}"
                    + (f" (and {other})" if other and other != f.path else ""),
                    Location(project.document.file),
                    rule="path-collision",
                    hint="unit names must be unique per environment, region and layer",
                )
            )
        seen[f.path] = f
        folded[f.path.casefold()] = f.path
    if errors:
        raise InputError(errors)
