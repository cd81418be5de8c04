"""Semantic rules over the model, one small function per rule.

Each rule takes a :class:`Context` and yields diagnostics; ``run`` collects them all.
No rule does I/O. Rules registered with ``@catalog_rule`` need every unit placed and
run only when every catalog file loaded; the others need only environments.yaml.

Pairwise rules (CIDR overlaps) sort and sweep, and per-unit rules remember what they
already checked, so that validating 10,000 units stays linear.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .errors import Diagnostic, KeyPath, format_key_path
from .loader import Document, HclExpr, expressions
from .model import Environment, Module, Project, Region, Unit
from .names import case_collisions, name_problem

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

#: Environment names that mean production: prod, production, prd, live (also prod-eu, eu-prod2 ...).
PRODUCTION_NAME = re.compile(r"(?:^|[-_])(?:prod|production|prd|live)(?:$|[-_0-9])")
#: Functions whose result changes on every run: every plan would show a change.
NONDETERMINISTIC = re.compile(r"(?<![\w.])(timestamp|uuid|bcrypt)\s*\(")
#: The smallest and largest VPC (and subnet) AWS accepts.
AWS_VPC_PREFIXES = (16, 28)
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
_CIDR_TEXT = re.compile(r"^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/\d{1,2}$")


@dataclass
class Context:
    project: Project
    _env_locals: dict[str, dict[str, Any]] = field(default_factory=dict)
    _region_locals: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    _expressions: dict[tuple[str, ...], tuple[tuple[KeyPath, HclExpr], ...]] = field(default_factory=dict)
    _subnet_plans: dict[tuple[str, ...], tuple[SubnetPlan, ...]] = field(default_factory=dict)
    _module_sources: dict[str, _Source] = field(default_factory=dict)
    _override_sources: dict[tuple[str, ...], _Source] | None = None

    @property
    def doc(self) -> Document:
        return self.project.document

    def error(self, path: KeyPath, message: str, rule: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        return Diagnostic(message, self.doc.locate(path, key=key), path, rule=rule, hint=hint)

    def warning(self, path: KeyPath, message: str, rule: str, hint: str = "", *, key: bool = False) -> Diagnostic:
        return Diagnostic(message, self.doc.locate(path, key=key), path, severity="warning", rule=rule, hint=hint)

    def env_locals(self, env: Environment) -> dict[str, Any]:
        """What env.hcl defines as locals, as the renderer writes it."""
        from .plan import env_locals

        if env.name not in self._env_locals:
            self._env_locals[env.name] = env_locals(env, self.project)
        return self._env_locals[env.name]

    def region_locals(self, env: Environment, region: Region) -> dict[str, Any]:
        from .plan import region_locals

        key = (env.name, region.name)
        if key not in self._region_locals:
            self._region_locals[key] = region_locals(region)
        return self._region_locals[key]


Rule = Callable[[Context], Iterable[Diagnostic]]
RULES: list[Rule] = []
CATALOG_RULES: list[Rule] = []


def rule(function: Rule) -> Rule:
    """A rule over environments.yaml alone: runs whenever the document is schema-valid."""
    RULES.append(function)
    return function


def catalog_rule(function: Rule) -> Rule:
    """A rule that needs every unit placed: runs only when every catalog file loaded."""
    CATALOG_RULES.append(function)
    return function


def did_you_mean(word: str, choices: Iterable[str], listing: str = "") -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"{listing}: {', '.join(options)}" if listing and options else ""


# --- networks -------------------------------------------------------------------------


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
        close = difflib.get_close_matches(name, sorted(known), n=2, cutoff=0.75)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}? {hint_tail}" if close else hint_tail[3:]
        return f"unknown AWS region '{name}'", hint

    for env in ctx.project.environments:
        for region in env.regions:
            found = problem(region.name)
            if found:
                yield ctx.error(region.path, found[0], "region-name", found[1], key=True)
    state_region = ctx.project.state.get("region")
    if isinstance(state_region, str):
        found = problem(state_region)
        if found:
            yield ctx.error(("state", "region"), found[0], "region-name", found[1])


# --- sizing ---------------------------------------------------------------------------


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
                "every tier defines the same keys, so that local.env.sizing.<key> exists everywhere",
                key=True,
            )


@rule
def sizing_overrides_use_tier_keys(ctx: Context) -> Iterator[Diagnostic]:
    tiers = ctx.project.sizing
    if not tiers:
        return
    keys = set().union(*(set(values) for values in tiers.values()))
    data = ctx.doc.data
    owners: list[KeyPath] = [("defaults",)] + [("environments", e.name) for e in ctx.project.environments]
    for owner in owners:
        raw = _get(data, owner)
        overrides = raw.get("sizing_overrides") if isinstance(raw, dict) else None
        for key in overrides or {}:
            if key not in keys:
                yield ctx.error(
                    (*owner, "sizing_overrides", key),
                    f"'{key}' is not a key of the sizing tiers",
                    "sizing-keys",
                    did_you_mean(key, keys, "tier keys"),
                    key=True,
                )


# --- references -----------------------------------------------------------------------


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


@rule
def unit_references_exist(ctx: Context) -> Iterator[Diagnostic]:
    project = ctx.project
    env_names = [e.name for e in project.environments]
    region_names = sorted({r.name for e in project.environments for r in e.regions})
    unit_names = [s.name for s in project.unit_specs]
    for spec in project.unit_specs:
        for i, name in enumerate(spec.environments or ()):
            if name not in env_names:
                yield ctx.error(
                    (*spec.path, "environments", i),
                    f"unknown environment '{name}'",
                    "unknown-reference",
                    did_you_mean(name, env_names, "environments"),
                )
        for i, name in enumerate(spec.regions or ()):
            if name not in region_names:
                yield ctx.error(
                    (*spec.path, "regions", i),
                    f"no environment has region '{name}'",
                    "unknown-reference",
                    did_you_mean(name, region_names, "regions"),
                )
    owners: list[KeyPath] = [("defaults",)]
    for env in project.environments:
        owners.append(env.path)
        owners += [r.path for r in env.regions]
    for owner in owners:
        overrides = _get(ctx.doc.data, (*owner, "units"))
        for name in overrides or {}:
            if name not in unit_names:
                yield ctx.error(
                    (*owner, "units", name),
                    f"override of unknown unit '{name}'",
                    "unknown-reference",
                    did_you_mean(name, unit_names, "units"),
                    key=True,
                )


# --- state bucket ---------------------------------------------------------------------

BUCKET_PLACEHOLDERS = ("project", "env", "account_id", "region")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@rule
def bucket_placeholders_known(ctx: Context) -> Iterator[Diagnostic]:
    bucket = ctx.project.state.get("bucket", "")
    for match in _PLACEHOLDER.finditer(bucket):
        if match.group(1) not in BUCKET_PLACEHOLDERS:
            yield ctx.error(
                ("state", "bucket"),
                f"unknown placeholder {{{match.group(1)}}}",
                "bucket",
                "placeholders: {project} {env} {account_id} {region}",
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


def bucket_names(project: Project) -> Iterator[tuple[str, Environment, Region]]:
    """The state bucket name of every environment and region, placeholders filled in."""
    template = project.state.get("bucket", "")
    for env in project.environments:
        for region in env.regions:
            values = {"project": project.name, "env": env.name, "account_id": env.account_id, "region": region.name}
            yield fill_placeholders(template, values), env, region


def fill_placeholders(template: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


@rule
def bucket_names_valid(ctx: Context) -> Iterator[Diagnostic]:
    template = ctx.project.state.get("bucket", "")
    if any(m.group(1) not in BUCKET_PLACEHOLDERS for m in _PLACEHOLDER.finditer(template)):
        return  # bucket_placeholders_known reports it
    bad = []
    for name, env, region in bucket_names(ctx.project):
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
    for name, env, _region in bucket_names(ctx.project):
        accounts.setdefault(name, set()).add(env.account_id)
    shared = sorted((name, ids) for name, ids in accounts.items() if len(ids) > 1)
    for name, ids in shared[:1]:
        yield ctx.warning(
            ("state", "bucket"),
            f"accounts {', '.join(sorted(ids))} all keep their state in one bucket, '{name}'",
            "bucket",
            "S3 bucket names are global: include {account_id} or {env} unless one account holds all state",
        )


# --- names and policy -----------------------------------------------------------------


@rule
def safe_names(ctx: Context) -> Iterator[Diagnostic]:
    project = ctx.project
    named: list[tuple[str, KeyPath, str]] = [(e.name, e.path, "environment") for e in project.environments]
    named += [(s.name, s.path, "unit") for s in project.unit_specs]
    for what, path, kind in named:
        problem = name_problem(what)
        if problem:
            yield ctx.error(path, f"{kind} name '{what}': {problem}", "safe-name", key=True)
    for kind, section in (("environment", "environments"), ("unit", "units")):
        for first, later in case_collisions(n for n, _, k in named if k == kind):
            yield ctx.error(
                (section, later),
                f"{kind} names '{first}' and '{later}' differ only by case",
                "safe-name",
                key=True,
            )
    for module in project.modules.values():
        problem = name_problem(module.layer)
        if problem:
            yield Diagnostic(
                f"layer name '{module.layer}': {problem}",
                module.document.locate(("layer",)),
                ("layer",),
                rule="safe-name",
            )


@rule
def protected_environment_policy(ctx: Context) -> Iterator[Diagnostic]:
    for env in ctx.project.environments:
        if PRODUCTION_NAME.search(env.name) and not env.deletion_protection:
            raw = _get(ctx.doc.data, env.path)
            path = (*env.path, "deletion_protection") if "deletion_protection" in raw else env.path
            yield ctx.warning(
                path,
                f"environment '{env.name}' looks like production but deletion_protection is false",
                "protected-environment",
                "set deletion_protection: true (prevent_destroy on every unit, no pruning of removed units)",
                key=path == env.path,
            )


@catalog_rule
def environments_deploy_units(ctx: Context) -> Iterator[Diagnostic]:
    placed: dict[str, set[str]] = {}
    for unit in ctx.project.units:
        placed.setdefault(unit.environment.name, set()).add(unit.region.name)
    for env in ctx.project.environments:
        regions = placed.get(env.name)
        if not regions:
            yield ctx.warning(
                env.path,
                f"environment '{env.name}' deploys no unit",
                "empty-environment",
                "check the units' environments:/regions: limits and `false` overrides",
                key=True,
            )
            continue
        for region in env.regions:
            if region.name not in regions:
                yield ctx.warning(
                    region.path, f"region {region.name} of '{env.name}' deploys no unit", "empty-region", key=True
                )


@catalog_rule
def units_are_deployed(ctx: Context) -> Iterator[Diagnostic]:
    placed = {u.spec.name for u in ctx.project.units}
    for spec in ctx.project.unit_specs:
        if spec.name not in placed and spec.module in ctx.project.modules:
            yield ctx.warning(
                spec.path,
                f"unit '{spec.name}' is deployed in no environment and region",
                "unused-unit",
                "its environments:/regions: limits or `false` overrides exclude every region",
                key=True,
            )


@catalog_rule
def overrides_take_effect(ctx: Context) -> Iterator[Diagnostic]:
    placed = {u.key for u in ctx.project.units}
    in_env = {(u.environment.name, u.spec.name) for u in ctx.project.units}
    known = {s.name for s in ctx.project.unit_specs}
    for env in ctx.project.environments:
        own = _get(ctx.doc.data, (*env.path, "units")) or {}
        for name, value in own.items():
            if value is not False and name in known and (env.name, name) not in in_env:
                yield ctx.warning(
                    (*env.path, "units", name),
                    f"override of '{name}' has no effect: it is not deployed in {env.name}",
                    "unused-override",
                    key=True,
                )
        for region in env.regions:
            for name, value in region.unit_overrides.items():
                if value is not False and name in known and (env.name, region.name, name) not in placed:
                    yield ctx.warning(
                        (*region.path, "units", name),
                        f"override of '{name}' has no effect: it is not deployed in {env.name}/{region.name}",
                        "unused-override",
                        key=True,
                    )


#: Linux's limit on one environment string (MAX_ARG_STRLEN): Terragrunt passes each input
#: to OpenTofu as one `TF_VAR_<name>=<JSON>` variable.
MAX_INPUT_BYTES = 128 * 1024


def _literal_strings(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str, bool]]:
    """Every literal string of an input value (keys too): (path, text, is a key)."""
    stack: list[tuple[Any, KeyPath]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield where, item, False
        elif isinstance(item, dict):
            for key, child in item.items():
                yield (*where, key), str(key), True
                stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, i)) for i, child in enumerate(item))


@catalog_rule
def inputs_fit_in_the_environment(ctx: Context) -> Iterator[Diagnostic]:
    """Terragrunt hands inputs to OpenTofu as environment variables, which cannot hold a
    NUL character and have a size limit: such an input fails every run of the unit."""
    sources = list(_override_sources(ctx).values())
    sources += [_Source(("module", m.id), m.document, ("inputs",), m.inputs) for m in _placed_modules(ctx)]
    for source in sources:
        for name, value in source.inputs.items():
            for where, text, is_key in _literal_strings(value, (*source.path, name)):
                if "\0" in text:
                    yield Diagnostic(
                        "a NUL character in an input: Terragrunt passes inputs as TF_VAR_ environment "
                        "variables, which cannot hold one",
                        source.doc.locate(where, key=is_key),
                        where,
                        rule="input-environment",
                        hint="remove the \\0 (or \\x00) escape",
                    )
            size = len(json.dumps(expressions_as_text(value), ensure_ascii=False).encode("utf-8"))
            if size > MAX_INPUT_BYTES:
                yield Diagnostic(
                    f"input '{name}' is {size} bytes as JSON; Terragrunt passes it as one environment "
                    f"variable, which Linux limits to {MAX_INPUT_BYTES} bytes",
                    source.doc.locate((*source.path, name), key=True),
                    (*source.path, name),
                    rule="input-environment",
                    hint="move large data into a file the module reads",
                )


def expressions_as_text(value: Any) -> Any:
    """*value* with every !hcl expression as its source text (a lower bound of its size)."""
    if isinstance(value, HclExpr):
        return value.text
    if isinstance(value, dict):
        return {str(k): expressions_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expressions_as_text(v) for v in value]
    return value


def _placed_modules(ctx: Context) -> list[Module]:
    return list({u.module.id: u.module for u in ctx.project.units}.values())


# --- dependencies ---------------------------------------------------------------------


@catalog_rule
def dependency_cycles(ctx: Context) -> Iterator[Diagnostic]:
    from .graph import find_cycle

    cycle = find_cycle(ctx.project)
    if not cycle:
        return
    steps = []
    for unit, target in itertools.pairwise(cycle):
        wire = next(w for w in ctx.project.wiring[unit.key] if w.target.key == target.key)
        where = unit.module.document.locate(wire.dependency.path, key=True)
        steps.append(f"{unit.name} -> {target.name} by dependency '{wire.dependency.name}' at {where}")
    first = cycle[0]
    yield ctx.error(
        first.spec.path,
        "dependency cycle: " + " -> ".join(u.address for u in cycle),
        "dependency-cycle",
        "; ".join(steps),
        key=True,
    )


@rule
def dependency_units_exist(ctx: Context) -> Iterator[Diagnostic]:
    names = [s.name for s in ctx.project.unit_specs]
    for module in ctx.project.modules.values():
        for dep in module.dependencies:
            if dep.unit not in names:
                path = (*dep.path, "unit")
                yield Diagnostic(
                    f"dependency '{dep.name}' needs unit '{dep.unit}', which environments.yaml does not declare",
                    module.document.locate(path),
                    path,
                    rule="dependency-missing",
                    hint=did_you_mean(dep.unit, names, "units"),
                )


# --- !hcl expressions -----------------------------------------------------------------


def expression_syntax(expr: HclExpr) -> str | None:
    """None when *expr* parses as an HCL expression, else the parser's complaint."""
    from .hclcheck import expression_error

    return expression_error(expr.text)


def _documents(ctx: Context) -> list[Document]:
    return [ctx.doc] + [m.document for m in ctx.project.modules.values()]


@rule
def hcl_expressions_parse(ctx: Context) -> Iterator[Diagnostic]:
    for doc in _documents(ctx):
        for path, expr in expressions(doc.data):
            problem = expression_syntax(expr)
            if problem:
                yield Diagnostic(
                    f"!hcl expression does not parse: {problem}", doc.locate(path), path, rule="hcl-expression"
                )


@rule
def no_nondeterministic_functions(ctx: Context) -> Iterator[Diagnostic]:
    for doc in _documents(ctx):
        for path, expr in expressions(doc.data):
            match = NONDETERMINISTIC.search(code_of(expr.text) or "")
            if match:
                yield Diagnostic(
                    f"{match.group(1)}() changes on every run and makes every plan dirty",
                    doc.locate(path),
                    path,
                    severity="warning",
                    rule="timestamp",
                    hint="pass a fixed value, or compute it in the module with a lifecycle ignore_changes",
                )


@lru_cache(maxsize=8192)
def code_of(text: str) -> str | None:
    """*text* with the literal parts of quoted strings blanked (interpolations kept),
    so that only real references are seen; None for heredocs (not analysed)."""
    if re.search(r"<<-?[A-Za-z_]", text):
        return None
    out: list[str] = []
    modes = ["code"]  # code | string | brace (a { in code) | interp (${ in a string)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        mode = modes[-1]
        if mode == "string":
            if ch == "\\":
                out.append("  ")
                i += 2
                continue
            if ch == '"':
                modes.pop()
            elif text.startswith(("$${", "%%{"), i):
                out.append("   ")
                i += 3
                continue
            elif text.startswith(("${", "%{"), i):
                modes.append("interp")
                out.append("  ")
                i += 2
                continue
            out.append(" ")
        elif ch == '"':
            modes.append("string")
            out.append(" ")
        elif ch == "{":
            modes.append("brace")
            out.append(ch)
        elif ch == "}" and len(modes) > 1:
            out.append(" " if modes.pop() == "interp" else ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


_LOCAL_REF = re.compile(r"(?<![\w.-])local((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")


@lru_cache(maxsize=8192)
def local_references(text: str) -> tuple[tuple[str, ...], ...]:
    """``local.env.sizing.x`` in an expression -> ("env", "sizing", "x"); string text ignored."""
    code = code_of(text)
    if code is None:
        return ()
    return tuple(tuple(m.group(1)[1:].split(".")) for m in _LOCAL_REF.finditer(code))


@dataclass(frozen=True)
class _Source:
    """Inputs written in one place (a catalog file, a unit, an override) that a unit uses."""

    key: tuple[str, ...]  # the same key for the same place, whichever unit asks
    doc: Document
    path: KeyPath
    inputs: Any


def _override_sources(ctx: Context) -> dict[tuple[str, ...], _Source]:
    """Every place in environments.yaml that gives a unit inputs, by key; built once."""
    found = ctx._override_sources
    if found is not None:
        return found
    found = {}
    data = ctx.doc.data

    def add(key: tuple[str, ...], path: KeyPath, inputs: Any) -> None:
        if isinstance(inputs, dict) and inputs:
            found[key] = _Source(key, ctx.doc, path, inputs)

    for spec in ctx.project.unit_specs:
        add(("unit", spec.name), (*spec.path, "inputs"), spec.inputs)
    owners: list[tuple[tuple[str, ...], KeyPath]] = [(("defaults",), ("defaults",))]
    for env in ctx.project.environments:
        owners.append((("env", env.name), env.path))
        owners += [(("region", env.name, r.name), r.path) for r in env.regions]
    for prefix, owner in owners:
        units = _get(data, (*owner, "units"))
        for name, override in units.items() if isinstance(units, dict) else ():
            if isinstance(override, dict):
                add((*prefix, name), (*owner, "units", name, "inputs"), override.get("inputs"))
    ctx._override_sources = found
    return found


def unit_sources(ctx: Context, unit: Unit) -> Iterator[_Source]:
    """Every place whose inputs reach *unit*'s rendered files."""
    module = ctx._module_sources.get(unit.module.id)
    if module is None:
        module = _Source(("module", unit.module.id), unit.module.document, ("inputs",), unit.module.inputs)
        ctx._module_sources[unit.module.id] = module
    yield module
    overrides = _override_sources(ctx)
    if not overrides:
        return
    env, region, name = unit.environment.name, unit.region.name, unit.spec.name
    for key in (("unit", name), ("defaults", name), ("env", env, name), ("region", env, region, name)):
        source = overrides.get(key)
        if source is not None:
            yield source


def _source_expressions(ctx: Context, source: _Source) -> tuple[tuple[KeyPath, HclExpr], ...]:
    found = ctx._expressions.get(source.key)
    if found is None:
        found = ctx._expressions[source.key] = tuple(expressions(source.inputs, source.path))
    return found


def _scopes(ctx: Context, unit: Unit) -> dict[str, Any]:
    from .plan import project_locals

    return {
        "env": ctx.env_locals(unit.environment),
        "region": ctx.region_locals(unit.environment, unit.region),
        "project": project_locals(ctx.project),
    }


def undefined_reference(ref: tuple[str, ...], scopes: Mapping[str, Any]) -> tuple[str, str] | None:
    """(the first undefined part as local.a.b, a hint) when *ref* names nothing; None if fine
    or unknowable (an !hcl value or a list on the way)."""
    if ref[0] not in scopes:
        return f"local.{ref[0]}", "the generated files define local.env, local.region and local.project"
    value: Any = scopes[ref[0]]
    walked = f"local.{ref[0]}"
    for part in ref[1:]:
        if isinstance(value, dict):
            if part not in value:
                return f"{walked}.{part}", did_you_mean(part, value, f"{walked} has") or f"{walked} is empty there"
            value = value[part]
            walked = f"{walked}.{part}"
        elif isinstance(value, (HclExpr, list)):
            return None
        else:
            return f"{walked}.{part}", f"{walked} is a single value, not a map"
    return None


@catalog_rule
def local_references_defined(ctx: Context) -> Iterator[Diagnostic]:
    """``local.env.sizing.<key>``, ``local.region.settings.<key>`` ... must exist wherever the
    expression is rendered, or Terragrunt fails with "Unsupported attribute"."""
    tiers = ctx.project.sizing
    # Where each source is rendered: one unit per environment and per region stands for
    # all (local.env depends on the environment only, local.region on the region).
    placements: dict[tuple[str, ...], tuple[_Source, dict[str, Unit], dict[tuple[str, str], Unit]]] = {}
    for unit in ctx.project.units:
        for source in unit_sources(ctx, unit):
            placed = placements.setdefault(source.key, (source, {}, {}))
            placed[1].setdefault(unit.environment.name, unit)
            placed[2].setdefault((unit.environment.name, unit.region.name), unit)
    found: dict[tuple[str, KeyPath, str], tuple[Document, KeyPath, str, list[str]]] = {}
    scopes: dict[tuple[str, str], dict[str, Any]] = {}
    for source, by_env, by_region in placements.values():
        for path, expr in _source_expressions(ctx, source):
            for ref in local_references(expr.text):
                units = by_region.values() if ref[0] == "region" else by_env.values()
                for unit in units if ref[0] in ("env", "region") else list(by_env.values())[:1]:
                    env, region = unit.environment, unit.region
                    if ref[:2] == ("env", "sizing") and env.sizing_tier is not None and env.sizing_tier not in tiers:
                        continue  # the unknown tier is reported already
                    placement = (env.name, region.name)
                    if placement not in scopes:
                        scopes[placement] = _scopes(ctx, unit)
                    missing = undefined_reference(ref, scopes[placement])
                    if missing is None:
                        continue
                    place = env.name if ref[0] != "region" else f"{env.name}/{region.name}"
                    entry = found.setdefault(
                        (source.doc.file, path, missing[0]), (source.doc, path, missing[1], [])
                    )
                    if place not in entry[3]:
                        entry[3].append(place)
    for (_, _, name), (doc, path, hint, places) in found.items():
        shown = ", ".join(places[:5]) + (f" and {len(places) - 5} more" if len(places) > 5 else "")
        kind = "region" if name.startswith("local.region.") else "environment"
        where = f" in {kind} {shown}" if name.startswith(("local.env.", "local.region.")) else ""
        yield Diagnostic(
            f"{name} is not defined{where}",
            doc.locate(path),
            path,
            rule="undefined-local",
            hint=hint,
        )


# --- subnet plans ---------------------------------------------------------------------

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


def _source_subnet_plans(ctx: Context, source: _Source) -> tuple[SubnetPlan, ...]:
    found = ctx._subnet_plans.get(source.key)
    if found is None:
        expressions = _source_expressions(ctx, source)
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
    for unit in ctx.project.units:
        network = parse_cidr(unit.region.vpc_cidr)
        if isinstance(network, str):
            continue
        for source in unit_sources(ctx, unit):
            marker = (source.key, unit.environment.name, unit.region.name)
            plans = _source_subnet_plans(ctx, source)
            if not plans or marker in seen:
                continue
            seen.add(marker)
            for where, message, hint in subnet_plan_problems(network, len(unit.region.azs), plans):
                path = (*unit.region.path, where)
                text = f"unit '{unit.name}': {message}"
                if (path, message) not in reported:
                    reported.add((path, message))
                    yield ctx.error(path, text, "subnet-plan", hint)


@rule
def map_keys_distinct_in_hcl(ctx: Context) -> Iterator[Diagnostic]:
    """HCL normalises strings to Unicode NFC: two keys that differ only in their
    normalisation would silently become one."""
    from .hcl import key_collisions

    for doc in _documents(ctx):
        for path, first, second in key_collisions(doc.data):
            yield Diagnostic(
                f"keys {first!r} and {second!r} are the same key in HCL (Unicode NFC normalisation)",
                doc.locate((*path, second), key=True),
                (*path, second),
                rule="hcl-key-collision",
                hint="write both keys with the same Unicode normalisation, or rename one",
            )


def run(project: Project, *, catalog_complete: bool = True) -> list[Diagnostic]:
    """Every rule's findings; rules that need the whole catalog only when it loaded."""
    ctx = Context(project)
    rules = RULES + (CATALOG_RULES if catalog_complete else [])
    return [d for check in rules for d in check(ctx)]

