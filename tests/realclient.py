"""Terragrunt and OpenTofu, run on a rendered tree the way the tests need them.

The binaries come from ``scripts/build-tools.sh`` (Terragrunt v1.1.3, OpenTofu v1.12.6,
built from their Go modules). Everything here works offline, with no AWS credentials:
Terragrunt evaluates the tree with mock dependency outputs and never reads state.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TERRAGRUNT_VERSION = "v1.1.3"
TOFU_VERSION = "v1.12.6"
HCL_VERSION = "v2.24.0"  # the hcl that Terragrunt v1.1.3's `hcl fmt` links

#: Experiments and flags that make ``render --all`` read no state: dependencies give
#: their mock outputs (QUALITY.md).
NO_OUTPUTS = ["--experiment", "optional-dependency-outputs", "--no-dependency-outputs"]


def tools_dir() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("TFGEN_TOOLS_DIR") or cache / "tfgen" / "tools")


def find_tool(name: str) -> str | None:
    """The tool's path: $TERRAGRUNT / $TOFU, then the build script's cache, then PATH."""
    version = {"terragrunt": TERRAGRUNT_VERSION, "tofu": TOFU_VERSION}[name]
    candidates = [
        os.environ.get(name.upper()),
        str(tools_dir() / f"{name}-{version}" / name),
        shutil.which(name),
    ]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


@dataclass(frozen=True)
class Client:
    terragrunt: str
    tofu: str

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TG_", "TERRAGRUNT_", "TF_"))}
        env.update({
            "TG_NON_INTERACTIVE": "true",
            "TG_NO_COLOR": "true",
            "TG_TF_PATH": self.tofu,
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            # No credentials reach Terragrunt: a command that tried AWS would fail here.
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        env.update(extra or {})
        return env

    def run(
        self, args: Sequence[str], cwd: Path, *, extra_env: Mapping[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.terragrunt, *args], cwd=cwd, env=self.env(extra_env), capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terragrunt {' '.join(args)} exited {result.returncode} in {cwd}:\n{result.stderr[-6000:]}"
            )
        return result

    def tofu_run(self, args: Sequence[str], cwd: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [self.tofu, *args], cwd=cwd, env=self.env(), capture_output=True, text=True, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tofu {' '.join(args)} exited {result.returncode} in {cwd}:\n{result.stderr[-6000:]}")
        return result

    def render_all(self, root: Path) -> dict[str, dict[str, Any]]:
        """Every unit's configuration as Terragrunt evaluates it: {unit directory: JSON}."""
        self.run(["render", "--all", "--json", "-w", *NO_OUTPUTS], root)
        rendered: dict[str, dict[str, Any]] = {}
        for path in sorted(root.rglob("terragrunt.rendered.json")):
            if ".terragrunt-cache" in path.parts:
                continue
            rendered[path.parent.relative_to(root).as_posix()] = json.loads(path.read_text(encoding="utf-8"))
        return rendered

    def dag(self, root: Path) -> list[dict[str, Any]]:
        """``terragrunt find --dag --json --dependencies``: units in Terragrunt's DAG order."""
        result = self.run(["find", "--dag", "--json", "--dependencies"], root)
        found: list[dict[str, Any]] = json.loads(result.stdout)
        return found


def write_tree(files: Mapping[str, bytes], root: Path) -> Path:
    """Write a rendered tree ({relative path: bytes}) under *root*."""
    for relative, data in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root
