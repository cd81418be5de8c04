"""Rules on the state bucket name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import Diagnostic
from ..project import backend
from .base import Context, rule


@rule
def bucket_placeholders_known(ctx: Context) -> Iterator[Diagnostic]:
    for name in backend.unknown_placeholders(ctx.project.state.get("bucket", "")):
        yield ctx.error(
            ("state", "bucket"),
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
    if backend.unknown_placeholders(ctx.project.state.get("bucket", "")):
        return  # bucket_placeholders_known reports it
    bad = []
    for name, env, region in backend.names(ctx.project):
        problem = bucket_name_problem(name)
        if problem:
            bad.append((name, env, region, problem))
    if not bad:
        return
    name, env, region, problem = bad[0]
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    yield ctx.error(
        ("state", "bucket"),
        f"the state bucket of {env.name}/{region.name}, '{name}', {problem}{more}",
        "bucket",
    )


@rule
def bucket_per_account(ctx: Context) -> Iterator[Diagnostic]:
    accounts: dict[str, set[str]] = {}
    for name, env, _region in backend.names(ctx.project):
        accounts.setdefault(name, set()).add(env.account_id)
    shared = sorted((name, ids) for name, ids in accounts.items() if len(ids) > 1)
    for name, ids in shared[:1]:
        yield ctx.warning(
            ("state", "bucket"),
            f"accounts {', '.join(sorted(ids))} all keep their state in one bucket, '{name}'",
            "bucket",
            "S3 bucket names are global: include {account_id} or {env} unless one account holds all state",
        )
