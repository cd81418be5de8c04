"""Finding Terragrunt, OpenTofu and the stand-in AWS provider for a rehearsal."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import cannot

#: A source checkout: scripts/build-tools.sh builds all three into the tools cache.
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-tools.sh"


@dataclass(frozen=True)
class Tools:
    terragrunt: str
    tofu: str
    provider: str
    #: tfgen's stand-in hashicorp/random for `--provider real` ("" when not built).
    random: str = ""


def _from_script() -> dict[str, str]:
    if not BUILD_SCRIPT.is_file() or not (BUILD_SCRIPT.parent.parent / "rehearsal" / "provider").is_dir():
        return {}
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), "--env"], capture_output=True, text=True, check=False, timeout=3600
    )
    if result.returncode != 0:
        return {}
    found = {}
    for line in result.stdout.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found


def find(build: bool = True) -> Tools:
    """The tools from $TERRAGRUNT, $TOFU and $TFGEN_REHEARSAL_PROVIDER, else built (or
    found cached) by scripts/build-tools.sh in a source checkout."""
    env = {k: os.environ.get(k, "") for k in ("TERRAGRUNT", "TOFU", "TFGEN_REHEARSAL_PROVIDER")}
    random = os.environ.get("TFGEN_REHEARSAL_RANDOM", "")
    if (not all(env.values()) or not random) and build:
        built = _from_script()
        env = {k: v or built.get(k, "") for k, v in env.items()}
        random = random or built.get("TFGEN_REHEARSAL_RANDOM", "")
    env["TERRAGRUNT"] = env["TERRAGRUNT"] or shutil.which("terragrunt") or ""
    env["TOFU"] = env["TOFU"] or shutil.which("tofu") or ""
    missing = [k for k, v in env.items() if not v or not os.access(v, os.X_OK)]
    if missing:
        raise cannot(
            f"tfgen rehearse needs {', '.join('$' + m for m in missing)} (Terragrunt, OpenTofu and "
                    "tfgen's stand-in AWS provider)",
            'in a tfgen checkout: eval "$(bash scripts/build-tools.sh --env)"',
        )
    random = random if random and os.access(random, os.X_OK) else ""
    return Tools(env["TERRAGRUNT"], env["TOFU"], env["TFGEN_REHEARSAL_PROVIDER"], random)


def need_random(found: Tools) -> str:
    """The stand-in hashicorp/random, which `--provider real` needs."""
    if not found.random:
        raise cannot(
            "tfgen rehearse --provider real needs $TFGEN_REHEARSAL_RANDOM (tfgen's stand-in hashicorp/random)",
            'in a tfgen checkout: eval "$(bash scripts/build-tools.sh --env)"',
        )
    return found.random
