"""Rules on networks: VPC CIDRs, zones, region names, and subnets carved from the VPC."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..errors import Diagnostic, KeyPath, format_key_path
from ..project.loader import Document
from ..project.model import (
    Environment,
    Project,
    Region,
)
from ..project.suggest import closest
from ..project.values import HclExpr
from .base import Context, InputSource, catalog_rule, distinct_sources, rule, source_expressions, units_with

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


#: The smallest and largest VPC (and subnet) AWS accepts.
AWS_VPC_PREFIXES = (16, 28)


PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


_CIDR_TEXT = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}$")


@lru_cache(maxsize=65536)
def parse_cidr(text: str) -> ipaddress.IPv4Network | str:
    """The network of an ``a.b.c.d/n`` CIDR, or why it is not one (host bits included)."""
    if not _CIDR_TEXT.match(text):
        return "write it as a.b.c.d/prefix, e.g. 10.40.0.0/16"
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        if "host bits set" in str(exc):
            network = ipaddress.IPv4Network(text, strict=False)
            return f"it has host bits set: the network is {network}"
        return str(exc)


@dataclass(frozen=True)
class _Net:
    network: ipaddress.IPv4Network
    env: Environment
    region: Region
    order: int  # position in the file's order of environments and regions

    @property
    def start(self) -> int:
        return int(self.network.network_address)

    @property
    def end(self) -> int:
        return int(self.network.broadcast_address)

    @property
    def where(self) -> str:
        return f"environments.{self.env.name}.regions.{self.region.name}.vpc_cidr ({self.network})"


def _networks(project: Project) -> list[_Net]:
    nets: list[_Net] = []
    for env in project.environments:
        for region in env.regions:
            net = parse_cidr(region.vpc_cidr)
            if not isinstance(net, str):
                nets.append(_Net(net, env, region, len(nets)))
    return nets


def overlapping_pairs(nets: Iterable[_Net]) -> Iterator[tuple[_Net, _Net]]:
    """Pairs of overlapping networks, each network reported at most once: sort and sweep."""
    reach: _Net | None = None  # the network reaching furthest so far
    for net in sorted(nets, key=lambda n: (n.start, n.order)):
        if reach is not None and net.start <= reach.end:
            yield reach, net
        if reach is None or net.end > reach.end:
            reach = net


def overlapping_pairs_across_environments(nets: Iterable[_Net]) -> Iterator[tuple[_Net, _Net]]:
    """Like :func:`overlapping_pairs`, but only pairs from two different environments.

    The sweep keeps the network reaching furthest and the one reaching furthest among
    the other environments, which is all a new network needs to be compared with.
    """
    top: _Net | None = None
    second: _Net | None = None  # reaches furthest among environments other than top's
    for net in sorted(nets, key=lambda n: (n.start, n.order)):
        candidate = top if top is not None and top.env.name != net.env.name else second
        if candidate is not None and net.start <= candidate.end:
            yield candidate, net
        if top is None or net.end > top.end:
            if top is not None and top.env.name != net.env.name:
                second = top
            top = net
        elif net.env.name != top.env.name and (second is None or net.end > second.end):
            second = net


@rule
def cidrs_well_formed(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        for region in env.regions:
            problem = parse_cidr(region.vpc_cidr)
            if isinstance(problem, str):
                yield ctx.error(
                    (*region.path, "vpc_cidr"), f"{region.vpc_cidr!r} is not a valid IPv4 CIDR: {problem}", "cidr"
                )


@rule
def vpc_cidrs_fit_aws_limits(ctx: Context) -> Iterator[Diagnostic]:
    low, high = AWS_VPC_PREFIXES
    for net in _networks(ctx.project):
        if not low <= net.network.prefixlen <= high:
            yield ctx.error(
                (*net.region.path, "vpc_cidr"),
                f"{net.network} is a /{net.network.prefixlen}: an AWS VPC is /{low} to /{high}",
                "cidr",
            )


@rule
def vpc_cidrs_private(ctx: Context) -> Iterator[Diagnostic]:
    for net in _networks(ctx.project):
        if not any(net.network.subnet_of(r) for r in PRIVATE_RANGES):
            yield ctx.warning(
                (*net.region.path, "vpc_cidr"),
                f"{net.network} is not a private range",
                "cidr-public",
                "VPCs normally use 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or 100.64.0.0/10",
            )


def _later_first(a: _Net, b: _Net) -> tuple[_Net, _Net]:
    return (b, a) if b.order > a.order else (a, b)


@rule
def regions_of_one_environment_do_not_overlap(ctx: Context) -> Iterator[Diagnostic]:
    by_env: dict[str, list[_Net]] = {}
    for net in _networks(ctx.project):
        by_env.setdefault(net.env.name, []).append(net)
    for nets in by_env.values():
        for a, b in overlapping_pairs(nets):
            later, earlier = _later_first(a, b)
            yield ctx.error(
                (*later.region.path, "vpc_cidr"),
                f"{later.network} overlaps {earlier.where}",
                "cidr-overlap",
                "regions of one environment are peered: give each a disjoint range",
            )


@rule
def environments_do_not_overlap(ctx: Context) -> Iterator[Diagnostic]:
    for a, b in overlapping_pairs_across_environments(_networks(ctx.project)):
        later, earlier = _later_first(a, b)
        yield ctx.warning(
            (*later.region.path, "vpc_cidr"),
            f"{later.network} overlaps {earlier.where}",
            "cidr-overlap-environments",
            "environments with overlapping ranges can never be peered or share a transit gateway",
        )


@rule
def zone_suffixes_unique(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        for region in env.regions:
            seen: set[str] = set()
            for i, suffix in enumerate(region.azs):
                if suffix in seen:
                    yield ctx.error(
                        (*region.path, "azs", i),
                        f"zone '{suffix}' ({region.name}{suffix}) is listed twice",
                        "azs",
                        "each zone suffix appears once",
                    )
                seen.add(suffix)


@rule
def multi_az_needs_two_zones(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        if not env.multi_az:
            continue
        for region in env.regions:
            if len(set(region.azs)) < 2:
                yield ctx.error(
                    (*region.path, "azs"),
                    f"environment '{env.name}' is multi_az but region {region.name} lists one zone",
                    "azs",
                    "list at least two zones, or set multi_az: false",
                )


@rule
def one_primary_region(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        primaries = [r for r in env.regions if r.role == "primary"]
        for region in primaries[1:]:
            yield ctx.warning(
                (*region.path, "role"),
                f"environment '{env.name}' has more than one primary region ({primaries[0].name}, {region.name})",
                "region-role",
            )


@rule
def region_names_are_aws_regions(ctx: Context) -> Iterator[Diagnostic]:
    extra = ctx.doc.data.get("aws_regions") or ()
    known = AWS_REGIONS | set(extra)
    hint_tail = "or add it to the top-level aws_regions list if it is new"

    def problem(name: str) -> tuple[str, str] | None:
        if name in known:
            return None
        close = closest(name, known, n=2, cutoff=0.75)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? {hint_tail}" if close else hint_tail[3:]
        return f"unknown AWS region '{name}'", hint

    for env in ctx.project.environments:
        for region in env.regions:
            found = problem(region.name)
            if found:
                yield ctx.error(region.path, found[0], "region-name", found[1], key=True)
    state_region = ctx.project.state.get("region")
    if isinstance(state_region, str) and state_region != "{region}":  # {region}: checks/credentials.py
        found = problem(state_region)
        if found:
            yield ctx.error(("state", "region"), found[0], "region-name", found[1])


_CIDRSUBNET = re.compile(r"cidrsubnet\(\s*local\.region\.vpc_cidr\s*,\s*(\d+)\s*,\s*([^(),]+?)\s*\)")


_FOR_INDEX = re.compile(r"\bfor\s+([A-Za-z_]\w*)\s*,\s*[A-Za-z_]\w*\s+in\s+local\.region\.azs\b")


_FOR_RANGE = re.compile(r"\bfor\s+([A-Za-z_]\w*)\s+in\s+range\(\s*length\(\s*local\.region\.azs\s*\)\s*\)")


_NETNUM = re.compile(r"^(?:(\d+)|([A-Za-z_]\w*)(?:\s*\+\s*(\d+))?|(\d+)\s*\+\s*([A-Za-z_]\w*))$")


@dataclass(frozen=True)
class SubnetPlan:
    """``cidrsubnet(local.region.vpc_cidr, newbits, i + offset)`` found in an !hcl input:
    one subnet per zone when *per_zone* (i runs over the region's zones), else one."""

    doc: Document
    path: KeyPath
    newbits: int
    offset: int
    per_zone: bool

    def numbers(self, zones: int) -> range:
        return range(self.offset, self.offset + (zones if self.per_zone else 1))

    def describe(self, zones: int) -> str:
        numbers = self.numbers(zones)
        span = f"{numbers[0]}" if len(numbers) == 1 else f"{numbers[0]}-{numbers[-1]}"
        where = self.doc.locate(self.path)
        return f"{format_key_path(self.path)} (subnets {span} of {self.newbits} new bits at {where})"


def subnet_plans(path: KeyPath, expr: HclExpr, doc: Document) -> list[SubnetPlan]:
    """The subnet plans of one expression; forms tfgen cannot evaluate are skipped."""
    index = _FOR_INDEX.search(expr.text) or _FOR_RANGE.search(expr.text)
    variable = index.group(1) if index else None
    plans = []
    for match in _CIDRSUBNET.finditer(expr.text):
        number = _NETNUM.match(match.group(2))
        if number is None:
            continue
        literal, var, plus, literal2, var2 = number.groups()
        name = var or var2
        if name is None:
            plans.append(SubnetPlan(doc, path, int(match.group(1)), int(literal), False))
        elif name == variable:
            plans.append(SubnetPlan(doc, path, int(match.group(1)), int(plus or literal2 or 0), True))
    return plans


def _source_subnet_plans(ctx: Context, source: InputSource) -> tuple[SubnetPlan, ...]:
    found = ctx._subnet_plans.get(source.key)
    if found is None:
        expressions = source_expressions(ctx, source)
        found = tuple(plan for path, expr in expressions for plan in subnet_plans(path, expr, source.doc))
        ctx._subnet_plans[source.key] = found
    return found


def subnet_plan_problems(network: ipaddress.IPv4Network, zones: int, plans: Iterable[SubnetPlan]) -> Iterator[
    tuple[str, str, str]
]:
    """(field: vpc_cidr or azs, message, hint) for each plan that does not fit *network*."""
    fitting: list[tuple[int, int, SubnetPlan]] = []
    for plan in plans:
        prefix = network.prefixlen + plan.newbits
        numbers = plan.numbers(zones)
        if prefix > AWS_VPC_PREFIXES[1]:
            yield (
                "vpc_cidr",
                f"{network} is too small for {plan.describe(zones)}: that makes /{prefix} subnets",
                f"AWS subnets are /{AWS_VPC_PREFIXES[0]} to /{AWS_VPC_PREFIXES[1]}: use a larger VPC or fewer new bits",
            )
        elif numbers[-1] >= 2**plan.newbits:
            yield (
                "azs" if plan.per_zone else "vpc_cidr",
                f"{zones} zones need {plan.describe(zones)}, but {plan.newbits} new bits "
                f"number subnets 0-{2**plan.newbits - 1}",
                "list fewer zones, or use more new bits",
            )
        else:
            size = 2 ** (32 - prefix)
            fitting.append((numbers[0] * size, (numbers[-1] + 1) * size - 1, plan))
    reach: tuple[int, int, SubnetPlan] | None = None
    for start, end, plan in sorted(fitting, key=lambda f: (f[0], f[1])):
        if reach is not None and start <= reach[1] and (start, end) != reach[:2]:
            yield (
                "azs",
                f"with {zones} zones, {plan.describe(zones)} overlaps {reach[2].describe(zones)}",
                "list fewer zones, or space the subnet offsets further apart",
            )
        if reach is None or end > reach[1]:
            reach = (start, end, plan)


@catalog_rule
def subnet_plans_fit(ctx: Context) -> Iterator[Diagnostic]:
    """Subnets carved with ``cidrsubnet(local.region.vpc_cidr, newbits, i + offset)`` per zone
    fit the region's VPC: the prefix stays within AWS's /28, the subnet numbers within
    2^newbits, and the subnets of different inputs of one place do not overlap."""
    seen: set[tuple[tuple[str, ...], str, str]] = set()
    reported: set[tuple[KeyPath, str]] = set()
    # The same plans in VPCs of the same size and zones fit or not alike: worked out once.
    problems: dict[tuple[int, int, tuple[str, ...]], bool] = {}
    networks: dict[str, ipaddress.IPv4Network | str] = {}
    # Only the units with a source that carves subnets, and that does not fit some VPC
    # size and zone count of the project, are looked at (most sources fit every VPC).
    sizes: dict[tuple[int, int], ipaddress.IPv4Network] = {}
    for env in ctx.project.environments:
        for region in env.regions:
            network = networks.get(region.vpc_cidr)
            if network is None:
                network = networks[region.vpc_cidr] = parse_cidr(region.vpc_cidr)
            if not isinstance(network, str):
                sizes.setdefault((network.prefixlen, len(region.azs)), network)
    planned: dict[int, InputSource] = {}
    for source in distinct_sources(ctx):
        plans = _source_subnet_plans(ctx, source)
        if not plans:
            continue
        for (prefix, zones), network in sizes.items():
            memo = (prefix, zones, source.key)
            if memo not in problems:
                problems[memo] = any(True for _ in subnet_plan_problems(network, zones, plans))
            if problems[memo]:
                planned[id(source)] = source
    for unit, sources in units_with(ctx, planned):
        cidr = unit.region.vpc_cidr
        network = networks.get(cidr)
        if network is None:
            network = networks[cidr] = parse_cidr(cidr)
        if isinstance(network, str):
            continue
        for source in sources:
            marker = (source.key, unit.environment.name, unit.region.name)
            plans = _source_subnet_plans(ctx, source)
            if marker in seen:
                continue
            seen.add(marker)
            # whether plans fit depends on the VPC's size alone (its address is only told)
            memo = (network.prefixlen, len(unit.region.azs), source.key)
            if problems.get(memo) is False:
                continue
            found = list(subnet_plan_problems(network, len(unit.region.azs), plans))
            problems[memo] = bool(found)
            for where, message, hint in found:
                path = (*unit.region.path, where)
                text = f"unit '{unit.name}': {message}"
                if (path, message) not in reported:
                    reported.add((path, message))
                    yield ctx.error(path, text, "subnet-plan", hint)
