"""Rules on the names of the state bucket and of its access-logging bucket."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import Diagnostic
from ..project import backend
from .base import Context, rule

#: The state keys that name a bucket, with how a message calls it.
BUCKETS = (("bucket", "state bucket"), ("access_logging_bucket", "access-logging bucket"))


def _named(ctx: Context) -> Iterator[tuple[str, str, str]]:
    """(key, what it is, template) of each bucket the project names."""
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
                "placeholders: " + " ".join(f"{{{p}}}" for p in backend.PLACEHOLDERS),
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
