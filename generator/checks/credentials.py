"""Per-environment credentials and per-region state placement.

``role_arn`` (in ``defaults`` as a pattern, or per environment): the environment's
backend (and Terragrunt's bootstrap) and its AWS provider assume the role, so one
``terragrunt run --all`` spans every account. ``state.region: "{region}"``: each
region's state lives in that region, so a region's outage does not block the failover
to another. Validation rules for both."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import Diagnostic, KeyPath
from .base import Context, rule

PLACEHOLDERS = ("account_id", "env", "project")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/")


def _where(ctx: Context, env: str) -> KeyPath:
    data = ctx.doc.data
    own = (data.get("environments") or {}).get(env) or {}
    return ("environments", env, "role_arn") if "role_arn" in own else ("defaults", "role_arn")


@rule
def role_arn_for_every_environment_or_none(ctx: Context) -> Iterator[Diagnostic]:
    with_role = [e for e in ctx.project.environments if e.role_arn]
    if not with_role or len(with_role) == len(ctx.project.environments):
        return
    for env in ctx.project.environments:
        if env.role_arn is None:
            yield ctx.error(
                ("environments", env.name),
                f"{env.name} assumes no role while {with_role[0].name} does (role_arn): "
                "root.hcl assumes one role per environment for all of them",
                "credentials",
                "set role_arn here, or a pattern for every environment in defaults.role_arn "
                '("arn:aws:iam::{account_id}:role/terragrunt")',
                key=True,
            )


@rule
def role_arn_in_the_environments_account(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        if env.role_arn is None:
            continue
        where = _where(ctx, env.name)
        raw = ctx.doc.data
        for part in where:
            raw = raw.get(part) if isinstance(raw, dict) else None
        for match in _PLACEHOLDER.finditer(str(raw or "")):
            if match.group(1) not in PLACEHOLDERS:
                yield ctx.error(where, f"unknown placeholder {{{match.group(1)}}}", "credentials",
                                "placeholders: {account_id} {env} {project}")
        found = _ACCOUNT.match(env.role_arn)
        if found and found.group(1) != env.account_id:
            yield ctx.error(
                where,
                f"{env.name} would assume a role in account {found.group(1)}, not its own ({env.account_id})",
                "credentials",
                "write {account_id} for the environment's account",
            )


@rule
def state_follows_the_region_with_a_bucket_per_region(ctx: Context) -> Iterator[Diagnostic]:
    state = ctx.project.state
    if state.get("region") == "{region}" and "{region}" not in str(state.get("bucket", "")):
        yield ctx.error(
            ("state", "bucket"),
            "state.region is {region}, so every region needs its own bucket: the name must hold {region}",
            "bucket",
            'for example "{project}-{account_id}-{region}-tfstate"',
        )
