"""VALIDATE: semantic rules over the model, one small function per rule, by topic.

Importing this package registers every rule (the topic modules register themselves
with base.rule / base.catalog_rule); :func:`run` runs them. modules.py holds the rules
on module sources, interfaces and settings.
"""

from . import (
    credentials,
    expressions,
    inputs,
    modules,
    moves,
    network,
    policy,
    providers,
    references,
    state,
    tenants,
    zones,
)
from .base import CATALOG_RULES, RULES, Context, run

__all__ = [
    "CATALOG_RULES",
    "RULES",
    "Context",
    "credentials",
    "expressions",
    "inputs",
    "modules",
    "moves",
    "network",
    "policy",
    "providers",
    "references",
    "run",
    "state",
    "tenants",
    "zones",
]
