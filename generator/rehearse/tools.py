"""Finding Terragrunt, OpenTofu and the stand-in AWS provider for a rehearsal."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import cannot

#: A source checkout: scripts/build-tools.sh builds all three into the tools cache.
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-tools.sh"
#: The stand-in providers of `--provider real` (rehearsal/NAME): name -> the variable
#: naming its binary. The modules' versions of them: generator.rehearse.real.STANDIN_VERSIONS.
STANDINS = {
    "awsutils": "TFGEN_REHEARSAL_AWSUTILS",
    "external": "TFGEN_REHEARSAL_EXTERNAL",
    "helm": "TFGEN_REHEARSAL_HELM",
    "kubernetes": "TFGEN_REHEARSAL_KUBERNETES",
    "local": "TFGEN_REHEARSAL_LOCAL",
    "null": "TFGEN_REHEARSAL_NULL",
    "random": "TFGEN_REHEARSAL_RANDOM",
}
#: What each variable names, for the messages.
TOOLS = {
    "TERRAGRUNT": "Terragrunt",
    "TOFU": "OpenTofu",
    "TFGEN_REHEARSAL_PROVIDER": "tfgen's stand-in AWS provider",
}

Say = Callable[[str], None]


@dataclass(frozen=True)
class Tools:
    terragrunt: str
    tofu: str
    provider: str
    #: tfgen's stand-in hashicorp/random for `--provider real` ("" when not built).
    random: str = ""
    #: Every stand-in provider `--provider real` uses (rehearsal/NAME): name -> binary;
    #: a stand-in not built is absent.
    standins: Mapping[str, str] = field(default_factory=dict)


def tools_dir() -> Path:
    """Where scripts/build-tools.sh caches its builds (as scripts/tools-common.sh says)."""
    explicit = os.environ.get("TFGEN_TOOLS_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tfgen" / "tools"


def _from_script(missing: list[str], say: Say) -> tuple[dict[str, str], str]:
    """The variables scripts/build-tools.sh exports, building what its cache lacks; and
    why not, when it failed. Its progress (each tool: cached, building, built in N s) is
    relayed line by line: a cold build compiles Go for minutes, which must not look hung."""
    if not BUILD_SCRIPT.is_file() or not (BUILD_SCRIPT.parent.parent / "rehearsal" / "provider").is_dir():
        return {}, ""
    names = ", ".join(TOOLS[m] for m in missing)
    say(f"tfgen rehearse: {', '.join('$' + m for m in missing)} not set: {BUILD_SCRIPT} provides {names}, "
        f"building what {tools_dir()} does not hold yet (a first build compiles Go for about 10-15 minutes "
        "on 2 cores; from the cache it takes a second)")
    started = time.monotonic()
    last = ""
    with subprocess.Popen(
        ["bash", str(BUILD_SCRIPT), "--env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None and process.stdout is not None
        for line in process.stderr:  # the exports on stdout are a few short lines: no deadlock
            if line.strip():
                last = line.strip()
                say(f"  {last}")
        output = process.stdout.read()
        code = process.wait()
    seconds = time.monotonic() - started
    if code != 0:
        say(f"tfgen rehearse: building the tools failed after {seconds:.0f} s (exit {code})")
        return {}, f"{BUILD_SCRIPT.name} failed: {last}" if last else f"{BUILD_SCRIPT.name} failed (exit {code})"
    say(f"tfgen rehearse: tools ready in {seconds:.1f} s")
    found = {}
    for line in output.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            found[name] = value
    return found, ""


def find(build: bool = True, say: Say | None = None) -> Tools:
    """The tools from $TERRAGRUNT, $TOFU and $TFGEN_REHEARSAL_PROVIDER, else built (or
    found cached) by scripts/build-tools.sh in a source checkout; *say* hears what is
    built and how long it took. The stand-in hashicorp/random ($TFGEN_REHEARSAL_RANDOM) is
    built beside the AWS stand-in, as are the other stand-ins of :data:`STANDINS`; only
    ``--provider real`` needs them (:func:`need_standins`)."""
    env = {k: os.environ.get(k, "") for k in TOOLS}
    standins = {name: os.environ.get(variable, "") for name, variable in STANDINS.items()}
    failure = ""
    if not all(env.values()) and build:  # a user who set the three is not built for
        built, failure = _from_script([k for k, v in env.items() if not v], say or (lambda _line: None))
        env = {k: v or built.get(k, "") for k, v in env.items()}
        standins = {name: path or built.get(STANDINS[name], "") for name, path in standins.items()}
    env["TERRAGRUNT"] = env["TERRAGRUNT"] or shutil.which("terragrunt") or ""
    env["TOFU"] = env["TOFU"] or shutil.which("tofu") or ""
    missing = [k for k, v in env.items() if not v or not os.access(v, os.X_OK)]
    if missing:
        because = f" ({failure})" if failure else ""
        raise cannot(
            f"tfgen rehearse needs {', '.join('$' + m for m in missing)} (Terragrunt, OpenTofu and "
            f"tfgen's stand-in AWS provider){because}",
            'in a tfgen checkout: eval "$(bash scripts/build-tools.sh --env)" builds them (Go 1.24+); '
            "then set the three variables wherever tfgen is installed",
        )
    standins = {name: path for name, path in standins.items() if path and os.access(path, os.X_OK)}
    return Tools(env["TERRAGRUNT"], env["TOFU"], env["TFGEN_REHEARSAL_PROVIDER"], standins.get("random", ""), standins)


def need_standins(found: Tools) -> dict[str, str]:
    """Every stand-in provider `--provider real` installs (:data:`STANDINS`): name -> binary."""
    given = dict(found.standins)
    if found.random:
        given.setdefault("random", found.random)
    missing = [STANDINS[name] for name in sorted(STANDINS) if not given.get(name)]
    if missing:
        raise cannot(
            f"tfgen rehearse --provider real needs {', '.join('$' + m for m in missing)} "
            "(tfgen's stand-in providers of the modules' other providers)",
            'in a tfgen checkout: eval "$(bash scripts/build-tools.sh --env)"',
        )
    return {name: given[name] for name in sorted(STANDINS)}
