"""Terragrunt itself evaluates a rendered tree, offline, unit by unit.

``evaluate(tree)`` copies the tree, runs ``terragrunt stack generate`` when it holds stack
files, then ``terragrunt render --all --json -w`` (dependency outputs from mocks, no AWS)
from ``environments/`` and reads every unit's ``terragrunt.rendered.json`` back as the
facts the two styles must agree on: evaluated inputs, terraform.source, remote_state
(backend and config, the key included), the resolved directory of every dependency
block and of every order-only ``dependencies`` path, the generated files (provider) and prevent_destroy.
"""

from __future__ import annotations

import posixpath
import shutil
from pathlib import Path
from typing import Any

from .realclient import Client


def _resolved(path: str, unit_dir: str) -> str:
    """A dependency path relative to the tree (Terragrunt gives absolute or unit-relative)."""
    joined = path if path.startswith("/") else posixpath.join(unit_dir, path)
    return posixpath.normpath(joined)


def _unit_facts(document: dict[str, Any], unit_dir: str, root: str) -> dict[str, Any]:
    def relative(path: str) -> str:
        return posixpath.relpath(_resolved(path, unit_dir), root)

    dependencies = {name: relative(block["config_path"]) for name, block in (document.get("dependency") or {}).items()}
    ordering = sorted(relative(p) for p in ((document.get("dependencies") or {}).get("paths") or []))
    remote = document.get("remote_state") or {}
    generate = {
        name: {k: block.get(k) for k in ("path", "if_exists", "contents")}
        for name, block in (document.get("generate") or {}).items()
    }
    return {
        "inputs": document.get("inputs") or {},  # no inputs at all and an empty map are the same
        "source": (document.get("terraform") or {}).get("source"),
        "remote_state": {"backend": remote.get("backend"), "config": remote.get("config")},
        "dependencies": dependencies,  # dependency blocks: name -> directory
        "ordering": ordering,  # dependencies { paths }: order-only, outputs never read
        "generate": generate,
        "prevent_destroy": bool(document.get("prevent_destroy")),  # unset and false both allow destroy
    }


def evaluate(tree: Path, work: Path, client: Client) -> dict[str, dict[str, Any]]:
    """{unit directory relative to the tree: facts} as Terragrunt evaluates them."""
    copy = work / "tree"
    shutil.copytree(tree, copy)
    if any(copy.rglob("terragrunt.stack.hcl")):
        client.run(["stack", "generate"], copy)
    environments = copy / "environments"
    rendered = client.render_all(environments)
    root = str(copy.resolve())
    return {
        f"environments/{unit}": _unit_facts(document, str((environments / unit).resolve()), root)
        for unit, document in rendered.items()
    }
