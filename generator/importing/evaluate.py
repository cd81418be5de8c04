"""A Terragrunt tree as Terragrunt evaluates it: every unit's rendered configuration.

Terragrunt (v1.x) runs on a copy of the tree laid out in a temporary directory, with
mock dependency outputs (no state is read, no credentials are passed), so the source is
never written, not even Terragrunt's ``terragrunt.rendered.json``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, InputError, Location
from ..output import disk

TERRAGRUNT_VERSION = "v1.1.3"
TOFU_VERSION = "v1.12.6"
#: Dependencies give their mock outputs: ``render --all`` reads no state.
NO_OUTPUTS = ("--experiment", "optional-dependency-outputs", "--no-dependency-outputs")
#: Directories never copied: VCS data and Terragrunt's and Terraform's working files.
SKIPPED = frozenset({".git", ".terragrunt-cache", ".terraform", ".terragrunt-stack", "node_modules"})
RENDERED = "terragrunt.rendered.json"
MAX_FILE = 4 * 1024 * 1024  # bytes: a live tree's configuration, not its artefacts
WHERE = Location("tfgen import")


def _cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("TFGEN_TOOLS_DIR") or base / "tfgen" / "tools")


def _on_path(name: str) -> str | None:
    found = (Path(directory) / name for directory in os.get_exec_path())
    return next((str(p) for p in found if p.is_file() and os.access(p, os.X_OK)), None)


def find_tool(name: str) -> str | None:
    """$TERRAGRUNT / $TOFU, then tfgen's tool cache (scripts/build-tools.sh), then PATH."""
    version = {"terragrunt": TERRAGRUNT_VERSION, "tofu": TOFU_VERSION}[name]
    candidates = [os.environ.get(name.upper()), str(_cache() / f"{name}-{version}" / name), _on_path(name)]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@dataclass(frozen=True)
class Tools:
    terragrunt: str
    tofu: str | None

    @classmethod
    def find(cls) -> Tools:
        terragrunt = find_tool("terragrunt")
        if terragrunt is None:
            raise InputError(
                [
                    Diagnostic(
                        "Terragrunt (v1.x) was not found: set $TERRAGRUNT or put terragrunt on PATH",
                        WHERE,
                        rule="import",
                        hint="tfgen import reads the tree with Terragrunt itself",
                    )
                ]
            )
        return cls(terragrunt, find_tool("tofu") or _on_path("terraform"))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TG_", "TERRAGRUNT_", "TF_"))}
        env.update(
            {
                "TG_NON_INTERACTIVE": "true",
                "TG_NO_COLOR": "true",
                "TF_IN_AUTOMATION": "1",
                "CHECKPOINT_DISABLE": "1",
                # No credentials reach Terragrunt: evaluation never touches AWS.
                "AWS_ACCESS_KEY_ID": "",
                "AWS_SECRET_ACCESS_KEY": "",
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
        if self.tofu:
            env["TG_TF_PATH"] = self.tofu
        return env

    def run(self, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.terragrunt, *args], cwd=cwd, env=self.env(), capture_output=True, text=True, check=False
        )


def tree_files(root: Path) -> dict[str, bytes]:
    """Every file of the tree (relative posix path -> bytes), without working directories."""
    files: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE or name == RENDERED:
                continue
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


@dataclass(frozen=True)
class Evaluation:
    """Every unit of a tree (its directory relative to the tree's root -> Terragrunt's
    rendered JSON of it) and the DAG's dependencies by directory."""

    units: Mapping[str, Mapping[str, Any]]
    root: str  # the tree's own absolute path (the copy's replaced by it inside values)
    #: ``find --dag --dependencies``: each unit's dependency directories, as Terragrunt resolves them.
    dag: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def _rendered(root: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED)
        if RENDERED in filenames:
            path = Path(dirpath) / RENDERED
            yield path.parent.relative_to(root).as_posix(), json.loads(path.read_text(encoding="utf-8"))


def evaluate(source: Path, tools: Tools, files: Mapping[str, bytes] | None = None) -> Evaluation:
    """Terragrunt's ``render --all --json`` of every unit under *source*, on a copy."""
    files = tree_files(source) if files is None else files
    if not files:
        return Evaluation({}, str(source.resolve()))
    # The copy has the tree's own directory name: a path function of it evaluates alike.
    name = source.resolve().name or "tree"
    with disk.temporary_tree({f"{name}/{p}": data for p, data in files.items()}, prefix="tfgen-import-") as base:
        copy = base / name
        result = tools.run(["render", "--all", "--json", "-w", *NO_OUTPUTS], copy)
        if result.returncode != 0:
            raise InputError(
                _failure(
                    result.stderr.replace(str(copy.resolve()), str(source)).replace(str(copy), str(source)), source
                )
            )
        real = str(source.resolve())
        units = {path: _relocated(data, str(copy.resolve()), real) for path, data in _rendered(copy) if path != "."}
        return Evaluation(units, real, _dag(tools, copy))


def _dag(tools: Tools, copy: Path) -> dict[str, tuple[str, ...]]:
    """Terragrunt's DAG of the tree; empty when ``find`` fails (render succeeded: the
    dependencies are then read from each unit's configuration alone)."""
    result = tools.run(["find", "--dag", "--json", "--dependencies"], copy)
    if result.returncode != 0:
        return {}
    try:
        found = json.loads(result.stdout)
    except ValueError:
        return {}
    return {
        str(entry["path"]): tuple(str(d) for d in entry.get("dependencies") or ())
        for entry in found
        if isinstance(entry, dict) and entry.get("type") == "unit" and entry.get("path") not in (None, ".")
    }


#: A located HCL diagnostic in Terragrunt's log: FILE:LINE,COL[-...]: Summary; Detail
_LOCATED = re.compile(r"(?P<file>[^\s:]+\.hcl):(?P<line>\d+),(?P<column>\d+)(?:-[\d,]+)?: (?P<message>[^\n]+)")
_LOG_PREFIX = re.compile(r"^\S+\s+(?:ERROR|WARN|INFO|DEBUG)\s+")


def _failure(stderr: str, source: Path) -> list[Diagnostic]:
    """Terragrunt's errors, one line each, at the source file and line when it says them."""
    found: dict[tuple[str, int, int], str] = {}
    for match in _LOCATED.finditer(stderr):
        where = (match["file"], int(match["line"]), int(match["column"]))
        found.setdefault(where, match["message"].strip())
    if found:
        return [Diagnostic(message, Location(*where), rule="import") for where, message in found.items()]
    lines = [_LOG_PREFIX.sub("", line).strip() for line in stderr.strip().splitlines()]
    errors = [line for line in lines if line and not line.startswith("TIP")] or ["(no message)"]
    return [Diagnostic(f"{source}: Terragrunt could not evaluate the tree: {errors[-1]}", WHERE, rule="import")]


def _relocated(value: Any, copy: str, real: str) -> Any:
    """Absolute paths of the temporary copy inside values, as the tree's own paths."""
    if isinstance(value, str):
        return value.replace(copy, real)
    if isinstance(value, list):
        return [_relocated(v, copy, real) for v in value]
    if isinstance(value, dict):
        return {k: _relocated(v, copy, real) for k, v in value.items()}
    return value
