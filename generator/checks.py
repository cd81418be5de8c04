"""Semantic rules over the model, one small function per rule.

Each rule takes a :class:`Context` and yields diagnostics; ``run`` collects them all.
No rule does I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .errors import Diagnostic, KeyPath
from .loader import Document, HclExpr
from .model import Project

#: AWS commercial, GovCloud and China regions; extend with top-level ``aws_regions``.
AWS_REGIONS = frozenset(
    {
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-central-1",
        "ca-west-1",
        "cn-north-1",
        "cn-northwest-1",
        "eu-central-1",
        "eu-central-2",
        "eu-north-1",
        "eu-south-1",
        "eu-south-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "il-central-1",
        "me-central-1",
        "me-south-1",
        "mx-central-1",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-gov-east-1",
        "us-gov-west-1",
        "us-west-1",
        "us-west-2",
    }
)


@dataclass(frozen=True)
class Context:
    project: Project

    @property
    def doc(self) -> Document:
        return self.project.document

    def error(self, path: KeyPath, message: str, rule: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        return Diagnostic(message, self.doc.locate(path, key=key), path, rule=rule, hint=hint)

    def warning(self, path: KeyPath, message: str, rule: str, hint: str = "") -> Diagnostic:
        return Diagnostic(message, self.doc.locate(path), path, severity="warning", rule=rule, hint=hint)


Rule = Callable[[Context], Iterable[Diagnostic]]
RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    RULES.append(function)
    return function


def _network(text: str) -> ipaddress.IPv4Network | str:
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        return str(exc)


@rule
def cidrs_well_formed(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        for region in env.regions:
            net = _network(region.vpc_cidr)
            if isinstance(net, str):
                yield ctx.error(
                    (*region.path, "vpc_cidr"),
                    f"{region.vpc_cidr!r} is not a valid IPv4 CIDR: {net}",
                    "cidr",
                    "write it as network/prefix with no host bits, e.g. 10.40.0.0/16",
                )


@rule
def regions_of_one_environment_do_not_overlap(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        seen: list[tuple[ipaddress.IPv4Network, str, KeyPath]] = []
        for region in env.regions:
            net = _network(region.vpc_cidr)
            if isinstance(net, str):
                continue
            for other, other_name, _ in seen:
                if net.overlaps(other):
                    path = (*region.path, "vpc_cidr")
                    yield ctx.error(
                        path,
                        f"{net} overlaps environments.{env.name}.regions.{other_name}.vpc_cidr ({other})",
                        "cidr-overlap",
                        "regions of one environment are peered: give each a disjoint range",
                    )
            seen.append((net, region.name, region.path))


@rule
def region_names_are_aws_regions(ctx: Context) -> Iterator[Diagnostic]:
    extra = set(ctx.doc.data.get("aws_regions") or ())
    known = AWS_REGIONS | extra
    for env in ctx.project.environments:
        for region in env.regions:
            if region.name not in known:
                yield ctx.error(
                    region.path,
                    f"unknown AWS region '{region.name}'",
                    "region-name",
                    "add it to the top-level aws_regions list if it is new",
                    key=True,
                )


@rule
def zone_suffixes_unique(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        for region in env.regions:
            seen: set[str] = set()
            for i, suffix in enumerate(region.azs):
                if suffix in seen:
                    yield ctx.error((*region.path, "azs", i), f"zone '{suffix}' is listed twice", "azs")
                seen.add(suffix)


@rule
def sizing_tiers_define_same_keys(ctx: Context) -> Iterator[Diagnostic]:
    tiers = ctx.project.sizing
    if not tiers:
        return
    every = set().union(*(set(values) for values in tiers.values()))
    for name, values in tiers.items():
        missing = sorted(every - set(values))
        if missing:
            yield ctx.error(
                ("sizing", name),
                f"tier '{name}' does not define {', '.join(missing)}",
                "sizing-keys",
                "every tier defines the same keys",
                key=True,
            )


@rule
def unit_references_exist(ctx: Context) -> Iterator[Diagnostic]:
    project = ctx.project
    env_names = {e.name for e in project.environments}
    region_names = {r.name for e in project.environments for r in e.regions}
    unit_names = {s.name for s in project.unit_specs}
    for spec in project.unit_specs:
        for i, name in enumerate(spec.environments or ()):
            if name not in env_names:
                yield ctx.error((*spec.path, "environments", i), f"unknown environment '{name}'", "unknown-reference")
        for i, name in enumerate(spec.regions or ()):
            if name not in region_names:
                yield ctx.error((*spec.path, "regions", i), f"no environment has region '{name}'", "unknown-reference")
    for env in project.environments:
        overrides = [((*env.path, "units", n), n) for n in env.unit_overrides]
        overrides += [((*r.path, "units", n), n) for r in env.regions for n in r.unit_overrides]
        for path, name in overrides:
            if name not in unit_names:
                yield ctx.error(
                    path,
                    f"override of unknown unit '{name}'",
                    "unknown-reference",
                    f"units: {', '.join(sorted(unit_names))}",
                    key=True,
                )


@rule
def bucket_placeholders_known(ctx: Context) -> Iterator[Diagnostic]:
    import re

    bucket = ctx.project.state.get("bucket", "")
    for match in re.finditer(r"\{([^{}]*)\}", bucket):
        if match.group(1) not in ("project", "env", "account_id", "region"):
            yield ctx.error(
                ("state", "bucket"),
                f"unknown placeholder {{{match.group(1)}}}",
                "bucket",
                "placeholders: {project} {env} {account_id} {region}",
            )


@rule
def dependency_cycles(ctx: Context) -> Iterator[Diagnostic]:
    from .graph import find_cycle

    cycle = find_cycle(ctx.project)
    if cycle:
        path = " -> ".join(u.address for u in cycle)
        first = cycle[0]
        yield ctx.error(first.spec.path, f"dependency cycle: {path}", "dependency-cycle", key=True)


def _expressions(value: object, path: KeyPath) -> Iterator[tuple[KeyPath, HclExpr]]:
    if isinstance(value, HclExpr):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _expressions(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _expressions(v, (*path, i))


def expression_syntax(expr: HclExpr) -> str | None:
    """None when *expr* parses as an HCL expression, else the parser's complaint."""
    from .hclcheck import expression_error

    return expression_error(expr.text)


@rule
def hcl_expressions_parse(ctx: Context) -> Iterator[Diagnostic]:
    documents = [ctx.doc] + [m.document for m in ctx.project.modules.values()]
    for doc in documents:
        for path, expr in _expressions(doc.data, ()):
            problem = expression_syntax(expr)
            if problem:
                yield Diagnostic(
                    f"!hcl expression does not parse: {problem}", doc.locate(path), path, rule="hcl-expression"
                )
            elif "timestamp()" in expr.text:
                yield Diagnostic(
                    "timestamp() changes on every run and makes every plan dirty",
                    doc.locate(path),
                    path,
                    severity="warning",
                    rule="timestamp",
                )


@rule
def map_keys_distinct_in_hcl(ctx: Context) -> Iterator[Diagnostic]:
    """HCL normalises strings to Unicode NFC: two keys that differ only in their
    normalisation would silently become one."""
    from .hcl import key_collisions

    documents = [ctx.doc] + [m.document for m in ctx.project.modules.values()]
    for doc in documents:
        for path, first, second in key_collisions(doc.data):
            yield Diagnostic(
                f"keys {first!r} and {second!r} are the same key in HCL (Unicode NFC normalisation)",
                doc.locate((*path, second), key=True),
                (*path, second),
                rule="hcl-key-collision",
                hint="write both keys with the same Unicode normalisation, or rename one",
            )


def run(project: Project) -> list[Diagnostic]:
    ctx = Context(project)
    return [d for check in RULES for d in check(ctx)]
