"""From the model to the list of files to produce: path, template and context. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from .._package import builtin_templates
from ..errors import Diagnostic, InputError, KeyPath, Location
from ..hcl import literal as hcl
from ..project import backend, layout, provenance
from ..project.layout import Scope
from ..project.model import (
    Dependency,
    Environment,
    Module,
    Project,
    Region,
    Unit,
    Wiring,
    check_scope,
    env_locals,
    has_tags,
    project_locals,
    region_locals,
    tenant_locals,
    wired_inputs,
)
from ..project.provenance import Traced
from ..project.values import HclExpr, dependencies_named, expressions, locals_used, reads_envcommon_include
from .pipelines import pipelines

T = TypeVar("T")

#: Terraform commands for which a dependency's mock outputs may stand in.
MOCK_COMMANDS = ("init", "validate", "plan")


@dataclass(frozen=True)
class PlannedFile:
    path: str  # posix path relative to the output directory
    template: str
    context: Mapping[str, Any]
    environment: str | None = None  # None: shared by every environment
    region: str | None = None


def provider_contents(project: Project, alias: str | None = None, settings: Mapping[str, Any] | None = None) -> str:
    """The generated provider.tf, escaped to be a heredoc body of root.hcl; with *alias*,
    the aliased aws configuration of a catalog's ``providers:`` (the same account guard,
    role and default tags), *settings* written over the generated arguments."""
    settings = dict(settings or {})
    expressions: dict[str, str] = {}
    tags = {name: hcl.template_escape(hcl.string(value)) for name, value in project.tags.items()}
    tags["Environment"] = '"${local.env.environment}"'
    assume = ["assume_role {", 'role_arn = "${local.env.role_arn}"', "}", ""] if backend.assumes_roles(project) else []
    arguments = {"region": '"${local.region.aws_region}"', "allowed_account_ids": '["${local.env.account_id}"]'}
    head = ['provider "aws" {', *([f"alias = {hcl.string(alias)}"] if alias else [])]
    own = _settings_lines(settings, expressions)
    blocks = {name for name, value in settings.items() if _is_block(value)}
    lines_of = {name: line for name, line in own if name not in blocks}  # set over the generated, in place
    arguments_lines = [lines_of.pop(k, f"{k} = {v}") for k, v in arguments.items()] + list(lines_of.values())
    extra_blocks = [line for name, line in own if name in blocks]
    if "assume_role" in settings:
        assume = []
    tag_blocks = "default_tags" not in settings
    if tag_blocks and has_tags(project):
        # The environment's tags (env.hcl) merged over the project's: one root.hcl for all.
        body = ", ".join(f"{hcl.template_escape(hcl.key(name))} = {value}" for name, value in tags.items())
        # jsonencode() of the map is an HCL object expression in provider.tf; the line is
        # set after formatting, which would split the template's "${".
        tags_line = f"    tags = merge({{ {body} }}, ${{jsonencode(local.env.tags)}})"
        merged_lines = [*head, *arguments_lines, "", *assume, *extra_blocks, "default_tags {", "tags = {}", "}", "}"]
        formatted = hcl.format_hcl("\n".join(merged_lines))
        assert "\n    tags = {}\n" in formatted
        return _with_expressions(formatted.replace("\n    tags = {}\n", f"\n{tags_line}\n", 1), expressions)
    tag_lines = (
        [
            "default_tags {",
            "tags = {",
            *(f"{hcl.template_escape(hcl.key(name))} = {value}" for name, value in tags.items()),
            "}",
            "}",
        ]
        if tag_blocks
        else []
    )
    lines = [*head, *arguments_lines, "", *assume, *extra_blocks, *tag_lines, "}"]
    return _with_expressions(hcl.format_hcl("\n".join(lines)), expressions)


def _is_block(value: Any) -> bool:
    """A nested block of a provider configuration: a mapping, or a list of mappings (repeated)."""
    if isinstance(value, HclExpr):
        return False
    if isinstance(value, Mapping):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _settings_lines(settings: Mapping[str, Any], expressions: dict[str, str]) -> list[tuple[str, str]]:
    """(name, HCL line) of a provider configuration's arguments and nested blocks, for a
    heredoc: literals escaped, each !hcl a placeholder (see _with_expressions)."""
    lines: list[tuple[str, str]] = []
    for name, value in settings.items():
        if _is_block(value):
            for body in [value] if isinstance(value, Mapping) else value:
                inner = "\n".join(line for _n, line in _settings_lines(body, expressions))
                lines.append((name, f"{hcl.key(str(name))} {{\n{inner}\n}}" if inner else f"{hcl.key(str(name))} {{}}"))
        else:
            lines.append((name, f"{hcl.key(str(name))} = {_setting_value(value, expressions)}"))
    return lines


def _setting_value(value: Any, expressions: dict[str, str]) -> str:
    """An argument's value in a heredoc: a literal, escaped; an !hcl expression, evaluated
    by Terragrunt and written into the file as HCL by jsonencode (a placeholder until the
    layout is done: the formatter would split the template's "${")."""
    if isinstance(value, HclExpr):
        placeholder = f"tfgen_expression_{len(expressions)}_"
        expressions[placeholder] = "${jsonencode(" + value.text.strip() + ")}"
        return placeholder
    if isinstance(value, (list, tuple)) and any(isinstance(v, HclExpr) for v in value):
        return "[" + ", ".join(_setting_value(v, expressions) for v in value) + "]"
    return hcl.template_escape(hcl.literal(value))


def _with_expressions(text: str, expressions: Mapping[str, str]) -> str:
    for placeholder, expression in expressions.items():
        text = text.replace(placeholder, expression, 1)
    return text


def providers_contents(module: Module, project: Project) -> str | None:
    """The generated providers.tf of *module*'s units: a provider block per catalog
    ``providers:`` entry (aliases of aws from the generated aws), or None."""
    if not module.providers:
        return None
    blocks: list[str] = []
    for entry in module.providers:
        if entry.name == "aws" and entry.alias is not None:
            blocks.append(provider_contents(project, entry.alias, entry.config))
            continue
        expressions: dict[str, str] = {}
        alias = [f"alias = {hcl.string(entry.alias)}"] if entry.alias else []
        head = [f"provider {hcl.string(entry.name)} {{", *alias]
        body = [line for _n, line in _settings_lines(entry.config, expressions)]
        blocks.append(_with_expressions(hcl.format_hcl("\n".join([*head, *body, "}"])), expressions))
    return "\n".join(blocks)


def providers_override_contents(module: Module) -> str | None:
    """The generated providers_override.tf: the source and version of each provider the
    catalog configures, put in place of the module's own requirement (an override file:
    a module declares required_providers once), or None."""
    entries = [p for p in module.providers if p.alias is None and p.source]
    if not entries:
        return None
    lines = ["terraform {", "required_providers {"]
    for entry in entries:
        lines += [f"{hcl.key(entry.name)} = {{", f"source = {hcl.template_escape(hcl.string(str(entry.source)))}"]
        if entry.version:
            lines.append(f"version = {hcl.template_escape(hcl.string(entry.version))}")
        lines.append("}")
    lines += ["}", "}"]
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


def backend_contents(project: Project, mapped: bool | None = None) -> str | None:
    """backend.tf of the remote backend as root.hcl writes it (None: the S3 backend's
    remote_state block; *mapped*: see backend.unit_path)."""
    if not backend.is_remote(project):
        return None
    return backend.remote_contents(project, backend.workspace_expression(project, mapped)[1:-1])


#: ``local.env`` in what root.hcl writes, where a single-include module file with tenants
#: has it under another name (its ``env`` is env.hcl alone, as the catalog reads it).
_ROOT_ENV = re.compile(r"\blocal\.env\b")
TARGET = "target"


def _retarget(value: T) -> T:
    """*value* (root.hcl's settings) with ``local.env`` read as ``local.target``."""
    if isinstance(value, HclExpr):
        return cast(T, HclExpr(_ROOT_ENV.sub(f"local.{TARGET}", value.text)))
    if isinstance(value, str):
        return cast(T, _ROOT_ENV.sub(f"local.{TARGET}", value))
    if isinstance(value, Mapping):
        return cast(T, {k: _retarget(v) for k, v in value.items()})
    return value


def root_settings(project: Project, moved: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What root.hcl writes (its template's context less the header): the constraints,
    the backend, the provider and its pin. *moved*: the renamed units the file maps
    (``local.moved``; default: the stacks style's, all of them)."""
    if moved is None:
        # The stacks style's units share one catalog file: their kept state keys stay
        # in root.hcl there. A classic leaf keeps its own (kept_state below).
        moved = backend.moved(project) if project.style == "stacks" else {}
    constraints = {}
    if project.terraform.get("required_version"):
        constraints["terraform_version_constraint"] = project.terraform["required_version"]
    if project.terraform.get("terragrunt_version"):
        constraints["terragrunt_version_constraint"] = project.terraform["terragrunt_version"]
    mapped = bool(moved)
    settings: dict[str, Any] = {
        "project": project,
        "constraints": constraints,
        "state_config": backend.config(project, mapped=mapped),
        "backend_contents": backend_contents(project, mapped),
        "moved": dict(moved),
        "provider": provider_contents(project),
        "versions_override": versions_override_contents(project),
        "tenants": bool(project.tenants),
        "tenant_name": backend.uses_tenant(project),
    }
    if project.style == layout.SINGLE_INCLUDE and project.tenants:
        # root.hcl's env is env.hcl merged with the tenant's account; a module file's
        # env stays env.hcl's (what its inputs read), and the account is local.target.
        for name in ("state_config", "backend_contents", "provider"):
            settings[name] = _retarget(settings[name])
    return settings


def root_file(project: Project, header: str) -> PlannedFile:
    return PlannedFile(layout.ROOT, "root.hcl.j2", {"header": header, **root_settings(project)})


def _envcommon(
    module: Module, project: Project, header: str, tenant_modules: frozenset[str], root: Mapping[str, Any] | None
) -> PlannedFile:
    """*tenant_modules*: the ids of modules with a per_tenant unit. *root*: in style
    single-include, root.hcl's settings, which the module file writes too."""
    return PlannedFile(
        module.envcommon_path,
        "envcommon.hcl.j2",
        {
            "header": header,
            "module": module,
            "project_locals": project_locals(project),
            "inputs": dict(module.inputs),
            "providers": providers_contents(module, project),
            "providers_override": providers_override_contents(module),
            # local.tenant for the catalog's inputs of per_tenant units (validation refuses
            # a read of it by a shared unit)
            "tenant": module.id in tenant_modules,
            "root": root,
            "target": TARGET,
            "reads": {
                "env": values_read(project, layout.ENV_FILE),
                "region": values_read(project, layout.REGION_FILE),
                "tenant": tenant_values_read(project),
            },
        },
    )


class _Shared:
    """Values that many leaves have in common, computed once per plan and shared
    (read-only), so that the renderer meets the same objects again."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.mock_commands = list(MOCK_COMMANDS)
        self.project_locals = project_locals(project)
        self._wired: dict[int, tuple[Dependency, dict[str, HclExpr]]] = {}
        self._overridden: dict[tuple[str, int, bool], tuple[Mapping[str, Any], dict[str, Any], frozenset[str]]] = {}
        self._read: dict[tuple[str, int, int], tuple[tuple[Dependency, ...], frozenset[str], frozenset[str]]] = {}
        self._one: dict[tuple[Any, ...], Any] = {}

    def one(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        """The value *make* gives, made once per *key* and shared by every leaf that asks:
        the leaves' locals, dependency blocks, ordering paths and inputs repeat across
        environments and regions, and a large tree would otherwise hold each once per leaf
        (the renderer then meets the same objects again, too)."""
        found = self._one.get(key, self)
        if found is self:
            found = self._one[key] = make()
        return cast(T, found)

    def wired(self, dependency: Dependency) -> dict[str, HclExpr]:
        """Inputs that read the outputs of *dependency*."""
        hit = self._wired.get(id(dependency))
        if hit is not None and hit[0] is dependency:
            return hit[1]
        inputs = wired_inputs(dependency)
        self._wired[id(dependency)] = (dependency, inputs)
        return inputs

    def overridden(self, unit: Unit) -> tuple[dict[str, Any], frozenset[str]]:
        """The unit's overridden inputs, fully merged, and the locals their expressions use."""
        key = (unit.module.id, id(unit.overrides), unit.own_protection)
        hit = self._overridden.get(key)
        if hit is not None and hit[0] is unit.overrides:
            return hit[1], hit[2]
        inputs = unit.leaf_inputs()
        texts = [expr.text for _path, expr in expressions(inputs)]
        used = frozenset(scope for text in texts for scope in locals_used(text))
        used |= frozenset("include" for text in texts if reads_envcommon_include(text))
        used |= frozenset(f"dependency.{name}" for text in texts for name in dependencies_named(text))
        self._overridden[key] = (unit.overrides, inputs, used)
        return inputs, used


def _leaf_inputs(
    unit: Unit, project: Project, shared: _Shared, wires: Sequence[Wiring] | None = None,
    overridden: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """model.leaf_inputs, from the shared (cached) parts; one dict (read-only) for the
    leaves made of the same parts. (*wires* and *overridden*: the unit's, when the
    caller has them already.)"""
    if wires is None:
        wires = project.wiring.get(unit.key, ())
    parts = [shared.wired(wire.dependency) for wire in wires]
    parts.append(shared.overridden(unit)[0] if overridden is None else overridden)
    # every part is held by *shared* for the whole plan: its id stays its own
    return shared.one(("inputs", *map(id, parts)), lambda: {k: v for part in parts for k, v in part.items()})


def read_dependencies(
    unit: Unit, project: Project, shared: _Shared | None = None, *, used: frozenset[str] | None = None,
    wires: Sequence[Wiring] | None = None,
) -> frozenset[str]:
    """Names of the unit's dependencies whose outputs its inputs read: wired (``outputs:``),
    or referenced as ``dependency.NAME`` by an expression of the catalog's inputs (in
    _envcommon, which Terragrunt evaluates with the leaf's dependency blocks) or of an
    override. Every one of them needs a ``dependency`` block in the leaf. (*used* and
    *wires*: the locals the overrides read and the unit's wiring, when the caller has them.)"""
    shared = shared or _Shared(project)
    if used is None:
        used = shared.overridden(unit)[1]
    if wires is None:
        wires = project.wiring.get(unit.key, ())
    # Which of the unit's dependencies are read depends on them, the catalog's reads and
    # the overrides' alone: worked out once for units that share all three.
    key = (unit.module.id, id(unit.dependencies), id(used))
    hit = shared._read.get(key)
    if hit is None or hit[0] is not unit.dependencies or hit[1] is not used:
        catalog = unit.module.dependency_reads
        read = frozenset(
            dep.name for dep in unit.dependencies
            if dep.outputs or dep.name in catalog or f"dependency.{dep.name}" in used
        )
        hit = shared._read[key] = (unit.dependencies, used, read)
    read = hit[2]
    if len(wires) == len(read) and all(wire.dependency.name in read for wire in wires):
        return read
    return frozenset(wire.dependency.name for wire in wires if wire.dependency.name in read)


def _promotion(unit: Unit) -> dict[str, str] | None:
    """A unit that deploys another version than the catalog's overrides the envcommon
    terraform.source in its own terraform block (Terragrunt merges the child's over it)."""
    if unit.version is None:
        return None
    return {"version": unit.version, "catalog": unit.module.version or "unpinned", "source": unit.source_url}


def _kept_state(unit: Unit, project: Project) -> dict[str, Any] | None:
    """A renamed or moved unit (previous:) keeps its state key in its own leaf, so a
    rename changes the files of the moved unit alone, not root.hcl that every unit reads.
    With the remote backend it keeps its workspace: the leaf writes backend.tf itself.
    A unit whose override says where its state object is (state:) keeps that bucket and key."""
    if unit.kept_state:
        return {"config": dict(unit.kept_state), "backend": None}
    if unit.state_directory == unit.directory or project.style == layout.SINGLE_INCLUDE:
        return None  # single-include: the module file maps it (local.moved)
    kept: dict[str, Any] = {
        "previous": str(unit.spec.previous),
        "key": layout.state_key(unit.state_directory),
        "directory": unit.directory,
        "state_directory": unit.state_directory,
        "config": {},  # none kept as such: the key follows the old directory
        "workspace": None,
        "backend": None,  # S3: the leaf's remote_state keeps the key
    }
    if backend.is_remote(project):
        name = backend.workspace(project, unit)
        kept["workspace"] = name
        kept["backend"] = backend.remote_contents(project, hcl.template_escape(hcl.string(name))[1:-1])
    return kept


def _leaf(unit: Unit, project: Project, header: str, shared: _Shared) -> PlannedFile:
    overridden, used = shared.overridden(unit)
    wires = project.wiring.get(unit.key, ())
    inputs = _leaf_inputs(unit, project, shared, wires, overridden)
    # Wired inputs read dependency outputs (dependency and output names are identifiers),
    # never a local: the overrides alone decide which locals the leaf needs.
    tenant = "tenant" in used and unit.tenant is not None
    protection, own = unit.deletion_protection, unit.own_protection
    locals_ = shared.one(
        ("locals", protection if own else None, "env" in used, "region" in used, "project" in used, tenant),
        lambda: _leaf_locals(unit, used, tenant, shared),
    )
    # A dependency whose outputs nothing reads only orders the units: a `dependencies`
    # path, so Terragrunt never runs `output` in it (nor needs its state) to plan this one.
    read = read_dependencies(unit, project, shared, used=used, wires=wires)
    blocks = [wire for wire in wires if wire.dependency.name in read]
    # mock_outputs are held by the units' dependencies for the whole plan: their ids stay theirs
    dependencies = shared.one(
        ("dependencies", *((w.dependency.name, w.config_path, id(w.dependency.mock_outputs)) for w in blocks)),
        lambda: [
            {"name": w.dependency.name, "config_path": w.config_path, "mock_outputs": w.dependency.mock_outputs}
            for w in blocks
        ],
    )
    paths = tuple(wire.config_path for wire in wires if wire.dependency.name not in read)
    ordering = shared.one(("ordering", *paths), lambda: list(paths))
    return PlannedFile(
        layout.unit_file(unit.directory),
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
            "prevent_destroy": protection,
            "own_protection": unit.protection_path and own,
            "promoted": _promotion(unit),
            "kept_state": _kept_state(unit, project),
            # style single-include: the module file is the one include, by relative path
            "single_include": (
                "../" * (unit.directory.count("/") + 1) + unit.module.envcommon_path
                if project.style == layout.SINGLE_INCLUDE
                else None
            ),
        },
        unit.environment.name,
        unit.region.name,
    )


#: Where a unit's tenant.hcl would be when it has none (a shared unit): no such file.
NO_TENANT_FILE = "${get_terragrunt_dir()}/.tfgen-no-tenant-file"


def values_read(project: Project, name: str) -> str:
    """HCL that reads the values file *name* (env.hcl, region.hcl, tenant.hcl) from the
    evaluating unit's directory upwards. In style single-include the values are plain
    attributes read with read_tfvars_file: Terragrunt parses no configuration for them
    (a read_terragrunt_config builds and evaluates a whole one, and was most of what
    discovering the tree cost: bench/README.md)."""
    if project.style == layout.SINGLE_INCLUDE:
        return f'jsondecode(read_tfvars_file(find_in_parent_folders("{name}")))'
    return f'read_terragrunt_config(find_in_parent_folders("{name}")).locals'


def tenant_values_read(project: Project) -> str:
    """HCL for the values of the evaluating unit's tenant.hcl, {} for a shared unit (style
    single-include; only the branch taken is read, so a missing file is not an error)."""
    path = f'find_in_parent_folders("{layout.TENANT_FILE}", "{NO_TENANT_FILE}")'
    return f'jsondecode(fileexists({path}) ? read_tfvars_file({path}) : "{{}}")'


def values_file(
    values: Mapping[str, Any], project: Project, where: KeyPath, traced: Callable[[], Traced]
) -> Mapping[str, Any]:
    """*values* of a values file; in style single-include they must be literals (the file
    is read as variable values, which evaluate no expression). *traced*: the same values
    with where each was set (worked out only for the error, which points at the value)."""
    if project.style != layout.SINGLE_INCLUDE:
        return values
    found = next(expressions(values), None)
    if found is not None:
        path, expression = found
        node = traced().find(tuple(map(str, path)))
        source = node.source if node is not None else None
        location = source.location if source is not None and source.location else project.document.locate(where)
        key = source.key if source is not None and source.key else where
        raise InputError(
            [
                Diagnostic(
                    f"{'.'.join(map(str, path))} is an expression ({expression.text.strip()}): style single-include "
                    "writes environment, region and tenant values as literals",
                    location,
                    key,
                    rule="style",
                    hint="write the value itself, or use style: classic",
                )
            ]
        )
    return values


def _leaf_locals(unit: Unit, used: frozenset[str], tenant: bool, shared: _Shared) -> dict[str, Any]:
    """The locals block of a leaf: the scopes its overrides read (*tenant*: local.tenant)."""
    locals_: dict[str, Any] = {}
    project = shared.project
    env = values_read(project, layout.ENV_FILE)
    if unit.own_protection:
        # The unit's own deletion policy, seen by the inputs that follow it (carried here).
        policy = "true" if unit.deletion_protection else "false"
        locals_["env"] = HclExpr(f"merge({env}, {{ deletion_protection = {policy} }})")
    elif "env" in used:
        locals_["env"] = HclExpr(env)
    if "region" in used:
        locals_["region"] = HclExpr(values_read(project, layout.REGION_FILE))
    if "project" in used:
        locals_["project"] = shared.project_locals
    if tenant:
        locals_["tenant"] = HclExpr(values_read(project, layout.TENANT_FILE))
    return locals_


def check_single_include_templates(project: Project) -> None:
    """Refuse a project's own root.hcl.j2 (style single-include renders no root.hcl: it
    would be ignored; a byte-for-byte copy of tfgen's is left out), an envcommon.hcl.j2
    that does not write root.hcl's settings (its units would have no backend: their state
    would be local files), or an env.hcl.j2, region.hcl.j2 or tenant.hcl.j2 that does not
    write the plain values the style reads (Terragrunt would fail to read them)."""
    templates = project.root / "templates"
    if not templates.is_dir() or templates.resolve() == builtin_templates().resolve():
        return  # tfgen's own (the repository's reference project renders with them)
    problems: list[tuple[Path, str]] = []
    own = templates / "root.hcl.j2"
    if own.is_file() and own.read_bytes() != (builtin_templates() / "root.hcl.j2").read_bytes():
        # (a copy of tfgen's own, byte for byte, changes nothing by being left out)
        problems.append((own, "templates/root.hcl.j2 is not read in style single-include (there is no root.hcl)"))
    # Each template of the style's own files, and what it must read to write them.
    needs = {
        "envcommon.hcl.j2": ("root", "root.hcl's settings", "every module file carries"),
        "env.hcl.j2": ("flat", "plain values", "the files that read it expect"),
        "region.hcl.j2": ("flat", "plain values", "the files that read it expect"),
        "tenant.hcl.j2": ("flat", "plain values", "the files that read it expect"),
    }
    found = {name: templates / name for name in needs if (templates / name).is_file()}
    if found:
        import jinja2
    for name, template in found.items():
        variable, what, why = needs[name]
        try:  # the names the template reads (parsed only: its filters need not exist here)
            tree = jinja2.Environment().parse(template.read_text(encoding="utf-8"))
            names = {node.name for node in tree.find_all(jinja2.nodes.Name) if node.ctx == "load"}
        except (OSError, UnicodeDecodeError, jinja2.TemplateSyntaxError):
            names = {variable}  # the render reports what is wrong with it
        if variable not in names:
            problems.append(
                (
                    template,
                    f"templates/{name} does not write {what} (it never reads `{variable}`), which {why} in style "
                    "single-include",
                )
            )
    if problems:
        raise InputError(
            [
                Diagnostic(
                    problem,
                    Location(str(template), 1, 1),
                    ("style",),
                    rule="style",
                    hint="start from tfgen's built-in templates (their `root` and `flat` sections), or use style: "
                    "classic",
                )
                for template, problem in problems
            ]
        )


def header_for(source_name: str) -> str:
    """The first line of every rendered file."""
    source_name = hcl.comment_text(source_name)
    return f"# Generated by tfgen from {source_name}. Do not edit: change {source_name} and run `tfgen render`."


def plan(project: Project, scope: Scope | None = None, source_name: str = "environments.yaml") -> list[PlannedFile]:
    """Every file of the tree within *scope* (everything by default), shared files first; sorted by path."""
    scope = scope or Scope()
    check_scope(project, scope)
    header = header_for(source_name)
    units = [
        u
        for u in project.units
        if scope.includes(u.environment.name, u.region.name) and scope.includes_tenant(u.tenant_name)
    ]
    single = project.style == layout.SINGLE_INCLUDE
    files = [] if single else [root_file(project, header)]
    modules = {u.module.id: u.module for u in units}
    tenant_modules = frozenset(u.module.id for u in project.units if u.tenant is not None)
    roots: dict[str, Mapping[str, Any] | None] = dict.fromkeys(modules)
    if single:
        check_single_include_templates(project)
        moved: dict[str, dict[str, str]] = {}
        for u in project.units:  # a module file maps its renamed units, whatever the scope
            if u.state_directory != u.directory and u.module.id in modules:
                moved.setdefault(u.module.id, {})[u.directory] = u.state_directory
        unmoved = root_settings(project, {})  # the same for every module file without a rename
        roots = {m: root_settings(project, moved[m]) if m in moved else unmoved for m in modules}
    files += [_envcommon(modules[m], project, header, tenant_modules, roots[m]) for m in sorted(modules)]
    files += environment_files(project, scope, header)
    shared = _Shared(project)
    files += [_leaf(u, project, header, shared) for u in units]
    files += pipeline_files(project, source_name)
    check_unique(files, project)
    return sorted(files, key=lambda f: f.path)


def pipeline_files(project: Project, source_name: str) -> list[PlannedFile]:
    """CI pipelines read the whole model, so they are the same bytes whatever the scope."""
    return [PlannedFile(p.path, p.template, p.context) for p in pipelines(project, source_name)]


def environment_files(project: Project, scope: Scope, header: str) -> list[PlannedFile]:
    """env.hcl of every environment and region.hcl of every region within *scope*."""
    files: list[PlannedFile] = []
    flat = project.style == layout.SINGLE_INCLUDE
    placed = {(u.environment.name, u.region.name, u.tenant.name) for u in project.units if u.tenant is not None}
    for env in project.environments:
        if not any(scope.includes(env.name, region.name) for region in env.regions):
            continue  # not selected, or none of its regions is
        files.append(
            PlannedFile(
                layout.env_file(env.name),
                "env.hcl.j2",
                {
                    "header": header,
                    "locals": values_file(
                        env_locals(env, project), project, env.path, partial(provenance.traced_env_locals, env, project)
                    ),
                    "flat": flat,
                },
                env.name,
            )
        )
        for region in env.regions:
            if scope.includes(env.name, region.name):
                files.append(
                    PlannedFile(
                        layout.region_file(env.name, region.name),
                        "region.hcl.j2",
                        {
                            "header": header,
                            "locals": values_file(
                                region_locals(region), project, region.path,
                                partial(provenance.traced_region_locals, env, region, project),
                            ),
                            "flat": flat,
                        },
                        env.name,
                        region.name,
                    )
                )
                files += tenant_files(project, scope, header, env, region, placed)
    return files


def tenant_files(
    project: Project, scope: Scope, header: str, env: Environment, region: Region, placed: set[tuple[str, str, str]]
) -> list[PlannedFile]:
    """tenant.hcl of every tenant in scope with a unit in *env*/*region* (*placed*:
    (environment, region, tenant) of every tenant's unit)."""
    return [
        PlannedFile(
            layout.tenant_file(env.name, region.name, tenant.name),
            "tenant.hcl.j2",
            {
                "header": header,
                "tenant": tenant.name,
                "locals": values_file(
                    tenant_locals(project, tenant, env, region), project, tenant.path,
                    partial(provenance.traced_tenant_locals, tenant, env, region, project),
                ),
                "flat": project.style == layout.SINGLE_INCLUDE,
            },
            env.name,
            region.name,
        )
        for tenant in project.tenants
        if (env.name, region.name, tenant.name) in placed and scope.includes_tenant(tenant.name)
    ]


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
