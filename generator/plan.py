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
_INCLUDE_REF = re.compile(r"\binclude\.envcommon\b")
_DEPENDENCY_REF = re.compile(r"\bdependency\.([A-Za-z_][A-Za-z0-9_-]*)\b")


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
    if any(env.tags for env in project.environments):
        # The environment's tags (env.hcl) merged over the project's: one root.hcl for all.
        body = ", ".join(f"{hcl.template_escape(hcl.key(name))} = {value}" for name, value in tags.items())
        # jsonencode() of the map is an HCL object expression in provider.tf; the line is
        # set after formatting, which would split the template's "${".
        tags_line = f"    tags = merge({{ {body} }}, ${{jsonencode(local.env.tags)}})"
        lines = [
            'provider "aws" {',
            'region = "${local.region.aws_region}"',
            'allowed_account_ids = ["${local.env.account_id}"]',
            "",
            "default_tags {",
            "tags = {}",
            "}",
            "}",
        ]
        formatted = hcl.format_hcl("\n".join(lines))
        assert "\n    tags = {}\n" in formatted
        return formatted.replace("\n    tags = {}\n", f"\n{tags_line}\n", 1)
    lines = [
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


def versions_override_contents(project: Project) -> str | None:
    """The generated versions_override.tf that pins the AWS provider, or None (no pin).

    A module may declare ``required_providers`` only once, and every pinned registry
    module already does in its versions.tf, so the pin cannot be a second block. In an
    override file (``*_override.tf``) OpenTofu and Terraform replace the module's own
    requirement for ``aws`` with this one, whether or not the module declares it.
    """
    version = project.terraform.get("aws_provider_version")
    if not version:
        return None
    lines = [
        "terraform {",
        "required_providers {",
        "aws = {",
        'source = "hashicorp/aws"',
        f"version = {hcl.template_escape(hcl.string(version))}",
        "}",
        "}",
        "}",
    ]
    return hcl.format_hcl("\n".join(lines))


def project_locals(project: Project) -> dict[str, Any]:
    return {"name": project.name, "tags": dict(project.tags)}


def state_config(project: Project, unit: Unit | None = None) -> dict[str, Any]:
    """The S3 backend settings of root.hcl: as rendered (bucket and key as interpolations),
    or, for *unit*, the values Terragrunt resolves them to in that unit."""
    state = project.state
    if unit is None:
        bucket: Any = HclExpr(bucket_expression(state["bucket"], project.name))
        key: Any = HclExpr('"${path_relative_to_include()}/terraform.tfstate"')
    else:
        values = {"project": project.name, "env": unit.environment.name,
                  "account_id": unit.environment.account_id, "region": unit.region.name}
        bucket = _PLACEHOLDER.sub(lambda m: values[m.group(1)], state["bucket"])
        key = f"{unit.directory}/terraform.tfstate"
    config: dict[str, Any] = {
        "bucket": bucket,
        "key": key,
        "region": state["region"],
        "encrypt": state.get("encrypt", True),
    }
    if state.get("lock", "lockfile") == "dynamodb":
        config["dynamodb_table"] = state["dynamodb_table"]
        # Terragrunt creates the lock table encrypted at rest (a bootstrap setting).
        config["enable_lock_table_ssencryption"] = state.get("lock_table_encryption", True)
    else:
        config["use_lockfile"] = True
    # Bucket hardening that Terragrunt's S3 bootstrap applies when it creates the bucket.
    if "versioning" in state:
        config["skip_bucket_versioning"] = not state["versioning"]
    if state.get("access_logging_bucket"):
        template = state["access_logging_bucket"]
        if unit is None:
            config["accesslogging_bucket_name"] = HclExpr(bucket_expression(template, project.name))
        else:
            config["accesslogging_bucket_name"] = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
        config["accesslogging_target_prefix"] = state.get("access_logging_prefix", "tfstate/")
    return config


def _root(project: Project, header: str) -> PlannedFile:
    config = state_config(project)
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
            "versions_override": versions_override_contents(project),
        },
    )


def env_locals(env: Environment, project: Project | None = None) -> dict[str, Any]:
    found = _env_locals(env)
    if project is not None and any(e.tags for e in project.environments):
        found["tags"] = dict(env.tags)  # root.hcl merges local.env.tags into default_tags
    return found


def _env_locals(env: Environment) -> dict[str, Any]:
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
        texts = [expr.text for _path, expr in expressions(inputs)]
        used = frozenset(m.group(1) for text in texts for m in _LOCAL_REF.finditer(text))
        used |= frozenset("include" for text in texts if _INCLUDE_REF.search(text))
        used |= frozenset(f"dependency.{m.group(1)}" for text in texts for m in _DEPENDENCY_REF.finditer(text))
        self._overridden[key] = (unit.overrides, inputs, used)
        return inputs, used


def _leaf_inputs(unit: Unit, project: Project, shared: _Shared) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for wire in project.wiring.get(unit.key, ()):
        inputs.update(shared.wired(wire.dependency))
    inputs.update(shared.overridden(unit)[0])
    return inputs


def _promotion(unit: Unit) -> dict[str, str] | None:
    """A unit that deploys another version than the catalog's overrides the envcommon
    terraform.source in its own terraform block (Terragrunt merges the child's over it)."""
    if unit.version is None:
        return None
    return {"version": unit.version, "catalog": unit.module.version or "unpinned", "source": unit.source_url}


def read_dependencies(unit: Unit, project: Project, shared: _Shared | None = None) -> frozenset[str]:
    """Names of the unit's dependencies whose outputs its inputs read: wired by the
    catalog, or referenced as ``dependency.NAME`` by an override expression."""
    used = (shared or _Shared(project)).overridden(unit)[1]
    return frozenset(
        wire.dependency.name
        for wire in project.wiring.get(unit.key, ())
        if wire.dependency.outputs or f"dependency.{wire.dependency.name}" in used
    )


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
    # A dependency whose outputs nothing reads only orders the units: a `dependencies`
    # path, so Terragrunt never runs `output` in it (nor needs its state) to plan this one.
    read = read_dependencies(unit, project, shared)
    wires = project.wiring.get(unit.key, ())
    dependencies = [
        {
            "name": wire.dependency.name,
            "config_path": wire.config_path,
            "mock_outputs": wire.dependency.mock_outputs,
        }
        for wire in wires
        if wire.dependency.name in read
    ]
    ordering = [wire.config_path for wire in wires if wire.dependency.name not in read]
    return PlannedFile(
        f"{unit.directory}/terragrunt.hcl",
        "terragrunt.hcl.j2",
        {
            "header": header,
            "unit": unit,
            "locals": locals_,
            "dependencies": dependencies,
            "ordering": ordering,
            "expose": "include" in used,
            "mock_commands": shared.mock_commands,
            "inputs": inputs,
            "prevent_destroy": unit.environment.deletion_protection,
            "promoted": _promotion(unit),
        },
        unit.environment.name,
        unit.region.name,
    )


def plan(project: Project, scope: Scope = Scope(), source_name: str = "environments.yaml") -> list[PlannedFile]:
    """Every file of the tree within *scope*, shared files first; sorted by path."""
    check_scope(project, scope)
    source_name = hcl.comment_text(source_name)
    header = f"# Generated by tfgen from {source_name}. Do not edit: change {source_name} and run `tfgen render`."
    units = [u for u in project.units if scope.includes(u.environment.name, u.region.name)]
    files = [_root(project, header)]
    modules = {u.module.id: u.module for u in units}
    files += [_envcommon(modules[m], project, header) for m in sorted(modules)]
    for env in project.environments:
        if not any(scope.includes(env.name, region.name) for region in env.regions):
            continue  # not selected, or none of its regions is
        files.append(
            PlannedFile(
                f"environments/{env.name}/env.hcl",
                "env.hcl.j2",
                {"header": header, "locals": env_locals(env, project)},
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
    shared = _Shared(project)
    files += [_leaf(u, project, header, shared) for u in units]
    _check_unique(files, project)
    return sorted(files, key=lambda f: f.path)


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


def _check_unique(files: Sequence[PlannedFile], project: Project) -> None:
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
