"""Rules on where the state lives: the settings of the chosen backend only, the names of
the state bucket and of its access-logging bucket (s3), the workspace names (remote)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import Diagnostic
from ..project import backend
from ..project.model import Unit
from .base import Context, rule

#: The state keys that name a bucket, with how a message calls it.
BUCKETS = (("bucket", "state bucket"), ("access_logging_bucket", "access-logging bucket"))


def _named(ctx: Context) -> Iterator[tuple[str, str, str]]:
    """(key, what it is, template) of each bucket the project names (S3 backend only:
    with the remote backend, backend_settings refuses them)."""
    if backend.is_remote(ctx.project):
        return
    for key, what in BUCKETS:
        template = ctx.project.state.get(key)
        if isinstance(template, str) and template:
            yield key, what, template


@rule
def bucket_placeholders_known(ctx: Context) -> Iterator[Diagnostic]:
    for key, _what, template in _named(ctx):
        for name in backend.unknown_placeholders(template):
            yield ctx.error(
                ("state", key),
                f"unknown placeholder {{{name}}}",
                "bucket",
                # A bucket belongs to an account and a region, shared units' state included:
                # a tenant's state is its own by its key (.../tenants/<tenant>/...) and, in
                # the tenant's own account, by {account_id}.
                "a state bucket is per account and region; a tenant's units have their own state keys, "
                "and a tenant with its own account_id its own bucket through {account_id}"
                if name == "tenant"
                else "placeholders: " + " ".join(f"{{{p}}}" for p in backend.PLACEHOLDERS),
            )


def bucket_name_problem(name: str) -> str | None:
    """Why *name* is not a valid S3 general purpose bucket name, or None."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters long; S3 bucket names are 3 to 63"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return "may hold only lowercase letters, digits, '.' and '-'"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must begin and end with a letter or a digit"
    if ".." in name:
        return "must not hold two adjacent dots"
    if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "must not look like an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if name.startswith(prefix):
            return f"must not begin with '{prefix}'"
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if name.endswith(suffix):
            return f"must not end with '{suffix}'"
    return None


@rule
def bucket_names_valid(ctx: Context) -> Iterator[Diagnostic]:
    for key, what, template in _named(ctx):
        if backend.unknown_placeholders(template):
            continue  # bucket_placeholders_known reports it
        bad = []
        for name, env, region in backend.names(ctx.project, key):
            problem = bucket_name_problem(name)
            if problem:
                bad.append((name, env, region, problem))
        if not bad:
            continue
        name, env, region, problem = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        yield ctx.error(
            ("state", key),
            f"the {what} of {env.name}/{region.name}, '{name}', {problem}{more}",
            "bucket",
        )


@rule
def bucket_per_account(ctx: Context) -> Iterator[Diagnostic]:
    for key, _what, template in _named(ctx):
        if backend.unknown_placeholders(template):
            continue
        accounts: dict[str, set[str]] = {}
        for name, env, _region in backend.names(ctx.project, key):
            accounts.setdefault(name, set()).add(env.account_id)
        shared = sorted((name, ids) for name, ids in accounts.items() if len(ids) > 1)
        for name, ids in shared[:1]:
            message = (
                f"accounts {', '.join(sorted(ids))} all keep their state in one bucket, '{name}'"
                if key == "bucket"
                else f"accounts {', '.join(sorted(ids))} all send their state access logs to one bucket, '{name}'"
            )
            yield ctx.warning(
                ("state", key),
                message,
                "bucket",
                "S3 bucket names are global: include {account_id} or {env} unless one account holds all state",
            )


@rule
def access_logs_beside_the_state(ctx: Context) -> Iterator[Diagnostic]:
    """S3 delivers server access logs only to a bucket in the source bucket's account and
    region, and a bucket that logs into itself logs its own log writes."""
    state = ctx.project.state
    logs = state.get("access_logging_bucket")
    if not isinstance(logs, str) or not logs or backend.unknown_placeholders(logs):
        return
    if state.get("region") == "{region}" and "{region}" not in logs:
        yield ctx.error(
            ("state", "access_logging_bucket"),
            "state.region is {region}, so each region's state bucket needs an access-logging bucket "
            "in that region: the name must hold {region}",
            "bucket",
            'for example "{project}-{account_id}-{region}-tfstate-logs"',
        )
    same = [
        f"{env.name}/{region.name}"
        for (name, env, region), (target, _e, _r) in zip(
            backend.names(ctx.project), backend.names(ctx.project, "access_logging_bucket"), strict=True
        )
        if name == target
    ]
    if same:
        yield ctx.error(
            ("state", "access_logging_bucket"),
            f"the access-logging bucket of {same[0]} is its state bucket: it would log its own log writes",
            "bucket",
            "name a second bucket, for example the state bucket's name with -logs",
        )


# --- which backend a setting belongs to, and the remote backend's workspaces -------------


@rule
def backend_settings(ctx: Context) -> Iterator[Diagnostic]:
    """A setting of the other backend is refused at its line: it would be silently unused."""
    chosen = backend.kind(ctx.project.state)
    other = "remote" if chosen == "s3" else "s3"
    for key in ctx.project.state:
        if key in backend.ONLY[other]:
            if chosen == "remote":
                message = (
                    f"{key} is a setting of the S3 backend; state.backend is remote (HCP Terraform keeps the state)"
                )
                hint = "remove it, or remove backend: remote to keep the state in S3"
            else:
                message = f"{key} is a setting of backend: remote; this project keeps its state in S3 (backend: s3)"
                hint = "add backend: remote (and remove the S3 settings), or remove it"
            yield ctx.error(("state", key), message, "backend", hint, key=True)


#: HCP Terraform's rules for a workspace name.
WORKSPACE_NAME = re.compile(r"[A-Za-z0-9_-]+")
WORKSPACE_MAX = 90


def workspace_name_problem(name: str) -> str | None:
    """Why HCP Terraform would refuse *name* as a workspace name, or None."""
    if not name:
        return "is empty"
    if len(name) > WORKSPACE_MAX:
        return f"is {len(name)} characters long; workspace names are at most {WORKSPACE_MAX}"
    if not WORKSPACE_NAME.fullmatch(name):
        return "may hold only letters, digits, '-' and '_'"
    return None


def _workspace_template(ctx: Context) -> str | None:
    template = ctx.project.state.get("workspace")
    if not backend.is_remote(ctx.project) or not isinstance(template, str) or not template:
        return None
    return template


@rule
def workspace_placeholders_known(ctx: Context) -> Iterator[Diagnostic]:
    template = _workspace_template(ctx)
    if template is None:
        return
    for name in backend.unknown_placeholders(template, backend.WORKSPACE_PLACEHOLDERS):
        yield ctx.error(
            ("state", "workspace"),
            f"unknown placeholder {{{name}}}",
            "workspace",
            "placeholders: " + " ".join(f"{{{p}}}" for p in backend.WORKSPACE_PLACEHOLDERS),
        )


@rule
def workspace_names_valid(ctx: Context) -> Iterator[Diagnostic]:
    template = _workspace_template(ctx)
    if template is None or backend.unknown_placeholders(template, backend.WORKSPACE_PLACEHOLDERS):
        return
    bad = [(name, unit, why) for name, unit in backend.workspaces(ctx.project) if (why := workspace_name_problem(name))]
    if bad:
        name, unit, problem = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        yield ctx.error(
            ("state", "workspace"), f"the workspace of {unit.address}, '{name}', {problem}{more}", "workspace"
        )


@rule
def workspace_per_unit(ctx: Context) -> Iterator[Diagnostic]:
    """Two units in one workspace would share (and overwrite) one state."""
    template = _workspace_template(ctx)
    if template is None or backend.unknown_placeholders(template, backend.WORKSPACE_PLACEHOLDERS):
        return
    owners: dict[str, list[tuple[str, Unit]]] = {}
    for name, unit in backend.workspaces(ctx.project):
        # Names that differ in case only are one name to a reader: refused as well.
        owners.setdefault(name.casefold(), []).append((name, unit))
    shared = [units for units in owners.values() if len(units) > 1]
    if not shared:
        return
    (name, first), (_name, second) = shared[0][:2]
    more = f" ({len(shared) - 1} more workspaces are shared)" if len(shared) > 1 else ""
    one, two = backend.workspace_values(ctx.project, first), backend.workspace_values(ctx.project, second)
    telling = [
        p for p in ("env", "region", "tenant", "layer", "unit") if one[p] != two[p] and "{" + p + "}" not in template
    ]
    yield ctx.error(
        ("state", "workspace"),
        f"units {first.address} and {second.address} would share the workspace '{name}'{more}",
        "workspace",
        "every unit needs its own workspace: add " + " ".join("{" + p + "}" for p in telling)
        if telling
        else "every unit needs its own workspace: separate the placeholders, for example with '-'",
    )
