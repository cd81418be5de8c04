"""Terragrunt's own time on the tree tfgen writes: ``python -m bench.terragrunt``.

For synthetic projects of 1,000 and 10,000 units (bench/synth.py) it renders the tree
with tfgen, then times, each several times on the same tree, Terragrunt's two offline
whole-tree evaluations: ``find --dag --json`` (discovery and the dependency graph) and
``render --all --json`` (every unit's full configuration, mock dependency outputs, no
state read). It prints a markdown table of medians beside tfgen's own render time.

    python -m bench.terragrunt                     # 1,000 and 10,000 units, 3 runs each
    python -m bench.terragrunt --sizes 1000 --runs 5

The tools come from scripts/build-tools.sh ($TERRAGRUNT / $TOFU, or its cache).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import synth

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work" / "terragrunt"
NO_OUTPUTS = ["--experiment", "optional-dependency-outputs", "--no-dependency-outputs"]


def tool(name: str, version: str) -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    tools = Path(os.environ.get("TFGEN_TOOLS_DIR") or cache / "tfgen" / "tools")
    for candidate in (os.environ.get(name.upper()), str(tools / f"{name}-{version}" / name), shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit(f"{name} not found: run `bash scripts/build-tools.sh`")


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{result.stderr[-3000:]}")
    return elapsed


def clean(tree: Path) -> None:
    for path in tree.rglob("terragrunt.rendered.json"):
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commands", default="find,render", help="which Terragrunt commands to time")
    args = parser.parse_args()
    terragrunt, tofu = tool("terragrunt", "v1.1.3"), tool("tofu", "v1.12.6")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TG_", "TF_"))}
    env.update({"TG_NON_INTERACTIVE": "true", "TG_NO_COLOR": "true", "TG_TF_PATH": tofu, "CHECKPOINT_DISABLE": "1"})
    tfgen = [sys.executable, "-m", "generator"]
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        work = WORK / str(size)
        config = synth.write_project(synth.SHAPES[size], work / "project")
        renders, finds, evaluations = [], [], []
        for _ in range(args.runs):
            shutil.rmtree(work / "output", ignore_errors=True)
            command = [*tfgen, "render", "-c", str(config), "-o", str(work / "output")]
            renders.append(timed(command, work, os.environ.copy()))
        tree = work / "output"
        commands = args.commands.split(",")
        for _ in range(args.runs if "find" in commands else 0):
            finds.append(timed([terragrunt, "find", "--dag", "--json", "--dependencies"], tree, env))
        for _ in range(args.runs if "render" in commands else 0):
            clean(tree)
            evaluations.append(timed([terragrunt, "render", "--all", "--json", "-w", *NO_OUTPUTS], tree, env))
        clean(tree)
        nan = float("nan")
        rows.append((size, statistics.median(renders), statistics.median(finds) if finds else nan,
                     statistics.median(evaluations) if evaluations else nan))
        print(f"{size} units: tfgen render {rows[-1][1]:.2f} s, find --dag {rows[-1][2]:.2f} s, "
              f"render --all {rows[-1][3]:.2f} s", file=sys.stderr)
    print(f"| units | tfgen render | terragrunt find --dag | terragrunt render --all --json | runs: {args.runs} |")
    print("| ---: | ---: | ---: | ---: | --- |")
    for size, render, find, evaluation in rows:
        print(f"| {size:,} | {render:.2f} s | {find:.2f} s | {evaluation:.2f} s | medians |")


if __name__ == "__main__":
    main()
