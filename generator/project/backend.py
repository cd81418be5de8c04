"""The S3 backend: the state bucket name (its placeholders, what fills them, its HCL in
root.hcl) and the backend settings, as rendered or as Terragrunt resolves them."""

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


def unknown_placeholders(template: str) -> list[str]:
    return [m.group(1) for m in PLACEHOLDER.finditer(template) if m.group(1) not in PLACEHOLDERS]


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


def expression(template: str, project: str) -> str:
    """The bucket name as an HCL string, placeholders as interpolations (known ones only:
    validation refuses the others)."""
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        parts.append(hcl.string(template[position : match.start()])[1:-1])
        fills = PLACEHOLDERS[match.group(1)]
        parts.append(hcl.string(project)[1:-1] if fills is None else fills)
        position = match.end()
    parts.append(hcl.string(template[position:])[1:-1])
    return '"' + "".join(parts) + '"'


def moved(project: Project) -> dict[str, str]:
    """Unit directory -> the directory its state key keeps (renamed or moved units)."""
    return {m.directory: m.state_directory for m in moves(project)}


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


def config(project: Project, unit: Unit | None = None) -> dict[str, Any]:
    """The S3 backend settings of root.hcl: as rendered (bucket and key as interpolations),
    or, for *unit*, the values Terragrunt resolves them to in that unit."""
    state = project.state
    per_region = state["region"] == "{region}"  # each region's state in that region
    if unit is None:
        bucket: Any = HclExpr(expression(state["bucket"], project.name))
        key: Any = HclExpr('"${path_relative_to_include()}/' + layout.STATE_FILE + '"')
        # Renamed or moved units keep their state key (previous:): a classic leaf says so
        # itself; the stacks style's units share a catalog file, so root.hcl maps them.
        if project.style == "stacks" and moved(project):
            key = HclExpr(
                '"${lookup(local.moved, path_relative_to_include(), path_relative_to_include())}/'
                + layout.STATE_FILE
                + '"'
            )
        region: Any = HclExpr("local.region.aws_region") if per_region else state["region"]
    else:
        bucket = fill(state["bucket"], values(project, unit.environment, unit.region, unit.tenant))
        key = layout.state_key(unit.state_directory)
        region = unit.region.name if per_region else state["region"]
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
