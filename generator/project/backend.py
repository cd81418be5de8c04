"""Where each unit's state lives: ``state.backend`` s3 (the default: a state bucket, its
placeholders, what fills them, its HCL in root.hcl) or remote (HCP Terraform or Terraform
Enterprise: a workspace per unit, named by a template), and the backend settings, as
rendered or as Terragrunt resolves them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from ..hcl import literal as hcl
from . import layout
from .model import Environment, Project, Region, Tenant, Unit
from .moves import moves
from .values import HclExpr

#: placeholder -> the HCL interpolation that fills it in root.hcl (None: the project
#: name, written out). Each reads a local whose value :func:`values` gives.
PLACEHOLDERS: Mapping[str, str | None] = {
    "project": None,
    "env": "${local.env.environment}",
    "account_id": "${local.env.account_id}",
    "region": "${local.region.aws_region}",
}
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

#: The remote backend's workspace template also names the unit: its layer and name, read
#: from the unit's path (environments/ENV/REGION/LAYER/UNIT) in root.hcl, and its tenant
#: (local.tenant_name in root.hcl: tenant.hcl's name, "" for a shared unit).
WORKSPACE_PLACEHOLDERS: Mapping[str, str | None] = {
    **PLACEHOLDERS,
    "layer": "${basename(dirname(PATH))}",
    "unit": "${basename(PATH)}",
    "tenant": "${local.tenant_name}",
}

#: {tenant} with the separator it goes with: a shared unit has no tenant, and its
#: {tenant} takes one separator beside it along (the one before it, else the one after),
#: so "{env}-{tenant}-{unit}" reads "dev-vpc" for a shared unit, "dev-ezra-db" for ezra's.
TENANT_SPAN = re.compile(r"(?P<before>[-_.])\{tenant\}|\{tenant\}(?P<after>[-_.])|\{tenant\}")

#: The backends of ``state.backend``, and the settings only one of them reads.
BACKENDS = ("s3", "remote")
DEFAULT_HOSTNAME = "app.terraform.io"
ONLY: Mapping[str, frozenset[str]] = {
    "s3": frozenset(
        {
            "bucket",
            "region",
            "lock",
            "dynamodb_table",
            "encrypt",
            "endpoint",
            "dynamodb_endpoint",
            "versioning",
            "access_logging_bucket",
            "access_logging_prefix",
            "lock_table_encryption",
        }
    ),
    "remote": frozenset({"organization", "hostname", "workspace"}),
}


def kind(state: Mapping[str, Any]) -> str:
    """The backend *state* configures: s3 unless it says remote."""
    return "remote" if state.get("backend") == "remote" else "s3"


def is_remote(project: Project) -> bool:
    return kind(project.state) == "remote"


def token_variable(hostname: str) -> str:
    """The environment variable OpenTofu and Terraform read the API token of *hostname*
    from: TF_TOKEN_ and the host, dots as underscores, dashes as double underscores."""
    return "TF_TOKEN_" + hostname.replace("-", "__").replace(".", "_")


def hostname(project: Project) -> str:
    return str(project.state.get("hostname") or DEFAULT_HOSTNAME)


def unknown_placeholders(template: str, known: Mapping[str, str | None] = PLACEHOLDERS) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(template) if m.group(1) not in known]


def values(project: Project, env: Environment, region: Region, tenant: Tenant | None = None) -> dict[str, str]:
    """What each placeholder stands for in *env*/*region* (env.hcl and region.hcl agree);
    for a *tenant*'s units, its account (root.hcl merges tenant.hcl's over env.hcl's)."""
    account = tenant.account(env) if tenant is not None else env.account_id
    return {"project": project.name, "env": env.name, "account_id": account, "region": region.name}


def fill(template: str, placeholders: Mapping[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: placeholders.get(m.group(1), m.group(0)), template)


def names(project: Project, key: str = "bucket") -> Iterator[tuple[str, Environment, Region]]:
    """The state bucket name (or, with *key*, the access-logging bucket name) of every
    environment and region, placeholders filled in."""
    template = project.state.get(key, "")
    for env in project.environments:
        for region in env.regions:
            yield fill(template, values(project, env, region)), env, region
            for tenant in project.tenants:  # a tenant's own account has its own bucket
                if tenant.account_id is not None and tenant.exists_in(env.name, region.name):
                    yield fill(template, values(project, env, region, tenant)), replace(
                        env, account_id=tenant.account_id
                    ), region


def expression(template: str, project: str, known: Mapping[str, str | None] = PLACEHOLDERS) -> str:
    """The bucket name as an HCL string, placeholders as interpolations (known ones only:
    validation refuses the others)."""
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(hcl.string(template[position : match.start()])[1:-1])
        fills = known[match.group(1)]
        parts.append(hcl.string(project)[1:-1] if fills is None else fills)
        position = match.end()
    parts.append(hcl.string(template[position:])[1:-1])
    return '"' + "".join(parts) + '"'


def moved(project: Project) -> dict[str, str]:
    """Unit directory -> the directory its state key keeps (renamed or moved units)."""
    return {m.directory: m.state_directory for m in moves(project)}


def maps_moves(project: Project) -> bool:
    """Whether the file that writes the backend maps renamed units' paths to their old
    ones (``local.moved``): the stacks style's units share one catalog file, and a
    single-include module file cannot be overridden by its units' generate blocks."""
    return project.style != "classic" and bool(moved(project))


def unit_path(project: Project, mapped: bool | None = None) -> str:
    """The including unit's directory relative to the output directory, as an HCL
    expression in the file that writes the backend (root.hcl, or in style single-include
    the module file two levels below the output directory); *mapped*: through
    ``local.moved`` (default: :func:`maps_moves`)."""
    path = "path_relative_to_include()"
    if project.style == layout.SINGLE_INCLUDE:
        path = f'trimprefix({path}, "../../")'
    if maps_moves(project) if mapped is None else mapped:
        path = f"lookup(local.moved, {path}, {path})"
    return path


def assumes_roles(project: Project) -> bool:
    """Whether the environments assume a role each (role_arn; all or none, validated)."""
    return any(env.role_arn for env in project.environments)


def endpoint_config(state: Mapping[str, Any]) -> dict[str, Any]:
    """Backend settings for an S3-compatible state store (``state.endpoint``): the
    endpoint, path-style addressing, and no STS calls (such stores have no STS)."""
    if not state.get("endpoint"):
        return {}
    endpoints = {"s3": state["endpoint"]}
    if state.get("dynamodb_endpoint"):
        endpoints["dynamodb"] = state["dynamodb_endpoint"]
    return {
        "endpoints": endpoints,
        "use_path_style": True,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
    }


def config(project: Project, unit: Unit | None = None, mapped: bool | None = None) -> dict[str, Any]:
    """The S3 backend settings of root.hcl: as rendered (bucket and key as interpolations;
    *mapped*: see :func:`unit_path`), or, for *unit*, the values Terragrunt resolves them
    to in that unit."""
    state = project.state
    if kind(state) == "remote":
        return remote_config(project, unit, mapped)
    per_region = state["region"] == "{region}"  # each region's state in that region
    if unit is None:
        bucket: Any = HclExpr(expression(state["bucket"], project.name))
        # Renamed or moved units keep their state key (previous:): a classic leaf says so
        # itself; otherwise the file that writes the backend maps them (unit_path).
        key: Any = HclExpr('"${' + unit_path(project, mapped) + "}/" + layout.STATE_FILE + '"')
        region: Any = HclExpr("local.region.aws_region") if per_region else state["region"]
    else:
        bucket = fill(state["bucket"], values(project, unit.environment, unit.region, unit.tenant))
        key = layout.state_key(unit.state_directory)
        region = unit.region.name if per_region else state["region"]
        # A unit that keeps its state object where it already is (its override's state:).
        bucket = unit.kept_state.get("bucket", bucket)
        key = unit.kept_state.get("key", key)
    settings: dict[str, Any] = {
        "bucket": bucket,
        "key": key,
        "region": region,
        "encrypt": state.get("encrypt", True),
    }
    if state.get("lock", "lockfile") == "dynamodb":
        settings["dynamodb_table"] = state["dynamodb_table"]
        # Terragrunt creates the lock table encrypted at rest (a bootstrap setting).
        settings["enable_lock_table_ssencryption"] = state.get("lock_table_encryption", True)
    else:
        settings["use_lockfile"] = True
    # Bucket hardening that Terragrunt's S3 bootstrap applies when it creates the bucket.
    if "versioning" in state:
        settings["skip_bucket_versioning"] = not state["versioning"]
    if state.get("access_logging_bucket"):
        template = state["access_logging_bucket"]
        if unit is None:
            settings["accesslogging_bucket_name"] = HclExpr(expression(template, project.name))
        else:
            settings["accesslogging_bucket_name"] = fill(
                template, values(project, unit.environment, unit.region, unit.tenant)
            )
        settings["accesslogging_target_prefix"] = state.get("access_logging_prefix", "tfstate/")
    if assumes_roles(project):
        role = (
            HclExpr("local.env.role_arn")
            if unit is None
            else unit.tenant.role(unit.environment, project.name)
            if unit.tenant is not None
            else unit.environment.role_arn
        )
        settings["assume_role"] = {"role_arn": role}
    settings.update(endpoint_config(state))
    return settings


# --- the remote backend (HCP Terraform, Terraform Enterprise) -------------------------


def workspace_values(project: Project, unit: Unit) -> dict[str, str]:
    """What each workspace placeholder stands for in *unit*. A renamed or moved unit
    (``previous:``) keeps the workspace it was created in: its old layer and name."""
    state_directory = unit.state_directory
    layer_directory, _, name = state_directory.rpartition("/")
    layer = layer_directory.rpartition("/")[2]
    return {
        **values(project, unit.environment, unit.region, unit.tenant),
        "layer": layer,
        "unit": name,
        "tenant": unit.tenant_name or "",
    }


def fill_tenant(template: str, tenant: str) -> str:
    """*template* with its {tenant} filled: *tenant*, or, for a shared unit (""), nothing
    and one separator beside it (:data:`TENANT_SPAN`)."""

    def one(match: re.Match[str]) -> str:
        if not tenant:
            return ""
        return (match.group("before") or "") + tenant + (match.group("after") or "")

    return TENANT_SPAN.sub(one, template)


def workspace(project: Project, unit: Unit) -> str:
    """The name of *unit*'s workspace, placeholders filled in."""
    placeholders = workspace_values(project, unit)
    return fill(fill_tenant(str(project.state.get("workspace", "")), placeholders["tenant"]), placeholders)


def workspaces(project: Project) -> Iterator[tuple[str, Unit]]:
    """(workspace name, unit) of every unit rendered."""
    for unit in project.units:
        yield workspace(project, unit), unit


def workspace_expression(project: Project, mapped: bool | None = None) -> str:
    """The workspace name as an HCL string for root.hcl, read in each including unit:
    its layer and name from the unit's path (the other styles map a renamed unit's path
    to its old one in ``local.moved``, see :func:`unit_path`; a classic leaf names its
    old workspace itself)."""
    path = unit_path(project, mapped)
    known = {name: (fills.replace("PATH", path) if fills else fills) for name, fills in WORKSPACE_PLACEHOLDERS.items()}
    template = str(project.state.get("workspace", ""))
    parts: list[str] = []
    position = 0
    for match in TENANT_SPAN.finditer(template):  # empty for a shared unit, with its separator
        parts.append(expression(template[position : match.start()], project.name, known)[1:-1])
        before, after = match.group("before") or "", match.group("after") or ""
        named = hcl.string(before)[1:-1] + "${local.tenant_name}" + hcl.string(after)[1:-1]
        parts.append('${local.tenant_name == "" ? "" : "' + named + '"}')
        position = match.end()
    parts.append(expression(template[position:], project.name, known)[1:-1])
    return '"' + "".join(parts) + '"'


def uses_tenant(project: Project) -> bool:
    """Whether root.hcl needs local.tenant_name: a remote backend's workspace names {tenant}."""
    return is_remote(project) and TENANT_SPAN.search(str(project.state.get("workspace", ""))) is not None


def remote_contents(project: Project, name: str) -> str:
    """backend.tf of the remote backend, as a heredoc body: *name* is the workspace name
    as the inside of an HCL string (interpolations allowed, as in root.hcl).

    A ``remote_state`` block cannot say it: Terragrunt writes a map in its config as an
    attribute (``workspaces = { name = ... }``) or a -backend-config argument, and the
    remote backend wants a ``workspaces`` block. The generated file is written whole.
    """
    lines = [
        "terraform {",
        'backend "remote" {',
        f"hostname = {hcl.template_escape(hcl.string(hostname(project)))}",
        f"organization = {hcl.template_escape(hcl.string(str(project.state.get('organization', ''))))}",
        "",
        "workspaces {",
        f'name = "{name}"',
        "}",
        "}",
        "}",
    ]
    return hcl.format_hcl("\n".join(lines))


def remote_config(project: Project, unit: Unit | None = None, mapped: bool | None = None) -> dict[str, Any]:
    """The remote backend's settings: as rendered (the workspace name as root.hcl's
    interpolation) or, for *unit*, as Terragrunt resolves them there."""
    name: Any = HclExpr(workspace_expression(project, mapped)) if unit is None else workspace(project, unit)
    return {
        "hostname": hostname(project),
        "organization": str(project.state.get("organization", "")),
        "workspaces": {"name": name},
    }
