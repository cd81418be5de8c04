"""Two evaluations of the same units side by side: the source tree's and the imported
project's rendered tree, unit by unit, attribute by attribute."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..project.modules.sources import is_local

#: Evaluated attributes that are the tree's own bookkeeping, not what is deployed.
IGNORED = frozenset({"locals", "dependency", "dependencies", "inputs", "remote_state", "generate", "terraform"})


@dataclass(frozen=True)
class Difference:
    attribute: str  # e.g. inputs.name, remote_state.config.key, generate.provider.contents
    source: Any
    imported: Any


@dataclass(frozen=True)
class UnitComparison:
    source: str  # the unit's directory in the source tree
    imported: str  # its directory in the rendered tree ("" when it is missing)
    differences: tuple[Difference, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return bool(self.imported) and not self.differences


_ABSENT = "(absent)"
#: Settings of a generate block that are Terragrunt's defaults.
GENERATE_DEFAULTS = frozenset({("comment_prefix", "# "), ("if_disabled", "skip")})
#: S3 backend settings whose absence Terragrunt reads as false (its bootstrap options):
#: an explicit false is the same configuration.
FALSE_BY_DEFAULT = frozenset(
    f"remote_state.config.{name}"
    for name in (
        "enable_lock_table_ssencryption",
        "skip_bucket_versioning",
        "skip_bucket_ssencryption",
        "skip_bucket_accesslogging",
        "skip_bucket_root_access",
        "skip_bucket_enforced_tls",
        "skip_bucket_public_access_blocking",
        "disable_bucket_update",
    )
)


def _resolve(directory: str, path: str) -> str:
    parts: list[str] = []
    for part in (PurePosixPath(directory) / path).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _dependencies(directory: str, config: Mapping[str, Any], rename: Mapping[str, str]) -> dict[str, Any]:
    """Dependency directories (as source directories) -> the mock outputs given there."""
    found: dict[str, Any] = {}
    for block in (config.get("dependency") or {}).values():
        target = _resolve(directory, str(block.get("config_path") or ""))
        found[rename.get(target, target)] = block.get("mock_outputs")
    for path in (config.get("dependencies") or {}).get("paths") or []:
        target = _resolve(directory, str(path))
        found.setdefault(rename.get(target, target), None)
    return found


def _flat(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            _flat(f"{prefix}.{key}", item, into)
    else:
        into[prefix] = value


def _module_path(source: Any, root: str, directory: str) -> Any:
    """A local module source as the directory Terragrunt reads it from."""
    if isinstance(source, str) and (is_local(source) or source.startswith("/")):
        path, _, query = source.partition("?")
        resolved = os.path.normpath(os.path.join(root, directory, path))
        return resolved + ("?" + query if query else "")
    return source


def attributes(
    directory: str,
    config: Mapping[str, Any],
    rename: Mapping[str, str],
    root: str = "/",
    dag: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The unit's deployed configuration, flattened: attribute -> value (a local module
    source resolved from the unit's directory below *root*)."""
    found: dict[str, Any] = {}
    terraform = dict(config.get("terraform") or {})
    if "source" in terraform:
        terraform["source"] = _module_path(terraform["source"], root, directory)
    for key, value in terraform.items():
        if isinstance(value, Mapping):  # hooks and extra_arguments: one attribute per block
            for name, block in value.items():
                found[f"terraform.{key}.{name}"] = block
        elif value not in (None, []):
            found[f"terraform.{key}"] = value
    for key, value in (config.get("inputs") or {}).items():
        found[f"inputs.{key}"] = value
    dependencies = _dependencies(directory, config, rename)
    found["dependencies"] = sorted(dependencies)
    if dag is not None:  # Terragrunt's own resolution of them
        found["dependencies (find --dag)"] = sorted(rename.get(d, d) for d in dag)
    for target, mocks in dependencies.items():
        if mocks:
            found[f"dependency({target}).mock_outputs"] = mocks
    remote = config.get("remote_state") or {}
    if remote:
        found["remote_state.backend"] = remote.get("backend")
        for key, value in (remote.get("config") or {}).items():
            found[f"remote_state.config.{key}"] = value
        _flat("remote_state.generate", remote.get("generate"), found)
    for name, block in (config.get("generate") or {}).items():
        # One attribute per block: its settings that are not Terragrunt's defaults.
        found[f"generate.{name}"] = {
            key: value
            for key, value in (block or {}).items()
            if value not in (None, False, "", [], {})
            and not (isinstance(value, str) and (key, value) in GENERATE_DEFAULTS)
        }
    for key, value in config.items():
        if key not in IGNORED and value not in (None, "", [], {}, False):
            found[key] = value
    for key in FALSE_BY_DEFAULT:
        if found.get(key) is False:
            del found[key]
    return found


def compare(
    source: Mapping[str, Mapping[str, Any]],
    imported: Mapping[str, Mapping[str, Any]],
    directories: Mapping[str, str],
    roots: tuple[str, str] = ("/", "/"),
    dags: tuple[Mapping[str, tuple[str, ...]], Mapping[str, tuple[str, ...]]] = ({}, {}),
) -> list[UnitComparison]:
    """Every source unit against its imported counterpart (*directories*: source ->
    rendered directory); dependency paths are compared as source directories."""
    back = {new: old for old, new in directories.items()}
    results: list[UnitComparison] = []
    for path in sorted(source):
        target = directories.get(path, "")
        if not target or target not in imported:
            results.append(UnitComparison(path, ""))
            continue
        both = bool(dags[0]) and bool(dags[1])
        old = attributes(path, source[path], {}, roots[0], dags[0].get(path, ()) if both else None)
        new = attributes(target, imported[target], back, roots[1], dags[1].get(target, ()) if both else None)
        differences = tuple(
            Difference(key, old.get(key, _ABSENT), new.get(key, _ABSENT))
            for key in sorted(old.keys() | new.keys())
            if _canonical(old.get(key, _ABSENT)) != _canonical(new.get(key, _ABSENT))
        )
        results.append(UnitComparison(path, target, differences))
    return results


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
