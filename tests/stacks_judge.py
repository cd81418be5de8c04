"""Terragrunt itself evaluates a rendered tree, offline, unit by unit.

``evaluate(tree)`` copies the tree, runs ``terragrunt stack generate`` when it holds stack
files, then ``terragrunt render --all --json -w`` (dependency outputs from mocks, no AWS)
from ``environments/`` and reads every unit's ``terragrunt.rendered.json`` back as the
facts the two styles must agree on: evaluated inputs, terraform.source, remote_state
(backend and config, the key included), the resolved directory of every dependency,
the generated files (provider) and prevent_destroy.
"""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import subprocess
from pathlib import Path
from typing import Any

RENDER = [
    "render", "--all", "--json", "-w",
    "--experiment", "optional-dependency-outputs", "--no-dependency-outputs",
]  # fmt: skip


def terragrunt_env(tools_bin: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TG_", "TERRAGRUNT_"))}
    env["PATH"] = f"{tools_bin}{os.pathsep}{env.get('PATH', '')}"
    env["TG_NON_INTERACTIVE"] = "true"
    env["TG_NO_COLOR"] = "true"
    return env


def run(terragrunt: str, args: list[str], cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run([terragrunt, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.splitlines()[-30:])
        raise AssertionError(f"terragrunt {' '.join(args)} failed in {cwd} (exit {result.returncode}):\n{tail}")


def _unit_facts(document: dict[str, Any], unit_dir: str) -> dict[str, Any]:
    dependencies = {}
    for name, block in (document.get("dependency") or {}).items():
        path = block["config_path"]
        joined = path if path.startswith("/") else posixpath.join(unit_dir, path)
        dependencies[name] = posixpath.normpath(joined)
    remote = document.get("remote_state") or {}
    generate = {
        name: {k: block.get(k) for k in ("path", "if_exists", "contents")}
        for name, block in (document.get("generate") or {}).items()
    }
    return {
        "inputs": document.get("inputs") or {},  # no inputs at all and an empty map are the same
        "source": (document.get("terraform") or {}).get("source"),
        "remote_state": {"backend": remote.get("backend"), "config": remote.get("config")},
        "dependencies": dependencies,
        "generate": generate,
        "prevent_destroy": bool(document.get("prevent_destroy")),  # unset and false both allow destroy
    }


def evaluate(tree: Path, work: Path, terragrunt: str, tools_bin: str) -> dict[str, dict[str, Any]]:
    """{unit directory relative to the tree: facts} as Terragrunt evaluates them."""
    copy = work / "tree"
    shutil.copytree(tree, copy)
    env = terragrunt_env(tools_bin)
    if any(copy.rglob("terragrunt.stack.hcl")):
        run(terragrunt, ["stack", "generate"], copy, env)
    run(terragrunt, RENDER, copy / "environments", env)
    facts = {}
    for rendered in sorted(copy.rglob("terragrunt.rendered.json")):
        unit_dir = rendered.parent.relative_to(copy).as_posix()
        facts[unit_dir] = _unit_facts(json.loads(rendered.read_text(encoding="utf-8")), "/" + unit_dir)
    # dependency paths relative to the tree again
    for unit in facts.values():
        unit["dependencies"] = {k: v.lstrip("/") for k, v in unit["dependencies"].items()}
    return facts
