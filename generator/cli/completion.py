"""Shell completion: environment, region and unit names read from the project."""

from __future__ import annotations

from pathlib import Path

import click
from click.shell_completion import CompletionItem

from .. import api
from ..api import DEFAULT_CONFIG


def _completion_config(ctx: click.Context) -> Path:
    config = ctx.params.get("config")
    return Path(config) if config else Path(DEFAULT_CONFIG)


def _names_from_yaml(config: Path) -> list[str]:
    """Addresses read from the YAML alone, for a project that does not validate."""
    from ..project.loader import load

    data = load(config).data
    environments = data.get("environments") if isinstance(data, dict) else None
    units = data.get("units") if isinstance(data, dict) else None
    found: list[str] = []
    for env, raw in (environments or {}).items() if isinstance(environments, dict) else ():
        found.append(str(env))
        regions = raw.get("regions") if isinstance(raw, dict) else None
        for region in regions if isinstance(regions, dict) else ():
            found.append(f"{env}/{region}")
            found += [f"{env}/{region}/{unit}" for unit in (units if isinstance(units, dict) else ())]
    return found


def _known_addresses(ctx: click.Context) -> list[str]:
    """ENV, ENV/REGION and ENV/REGION/UNIT of the project; never raises."""
    from ..features.explain import addresses

    config = _completion_config(ctx)
    try:
        return addresses(api.load(config).project)
    except Exception:  # completion must never crash, whatever the project holds
        pass
    try:
        return _names_from_yaml(config)
    except Exception:
        return []


def complete_environments(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    names = [a for a in _known_addresses(ctx) if "/" not in a]
    return [CompletionItem(n) for n in names if n.startswith(incomplete)]


def complete_regions(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    chosen = set(ctx.params.get("environments") or ())
    regions: list[str] = []
    for address in _known_addresses(ctx):
        parts = address.split("/")
        if len(parts) == 2 and (not chosen or parts[0] in chosen) and parts[1] not in regions:
            regions.append(parts[1])
    return [CompletionItem(r) for r in regions if r.startswith(incomplete)]


def complete_addresses(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """One level at a time: environments, then ENV/REGION, then ENV/REGION/UNIT."""
    depth = incomplete.count("/")
    return [
        CompletionItem(a, type="plain")
        for a in _known_addresses(ctx)
        if a.startswith(incomplete) and a.count("/") == depth
    ]
