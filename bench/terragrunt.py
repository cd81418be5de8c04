"""Terragrunt's own time on the tree tfgen writes: ``python -m bench.terragrunt``.

For synthetic projects of 1,000 and 10,000 units (bench/synth.py) it renders the tree
with tfgen in the classic style and in style single-include, then times, round by round
(each style once per round, in turn), Terragrunt's two offline whole-tree evaluations:
``find --dag --json`` (discovery and the dependency graph) and ``render --all --json``
(every unit's full configuration, mock dependency outputs, no state read). It prints a
markdown table of medians beside tfgen's own render time, with single-include's speed-up
over classic in the same run.

    python -m bench.terragrunt                     # 1,000 and 10,000 units, 3 runs each
    python -m bench.terragrunt --sizes 1000 --runs 5
    python -m bench.terragrunt --sizes 1000 --runs 5 --shapes today,one-include,standalone

With ``--shapes`` it times ``find --dag`` alone on tree shapes derived from the rendered
tree (bench/shapes.py), interleaved: each round runs every shape once, one after the
other, so that a shared machine's load weighs on all of them alike; it checks that
Terragrunt reports the same graph for every shape.

The tools come from scripts/build-tools.sh ($TERRAGRUNT / $TOFU, or its cache).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import shapes as tree_shapes
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
    return _timed_cpu(args, cwd, env)[0]


def clean(tree: Path) -> None:
    for path in tree.rglob("terragrunt.rendered.json"):
        path.unlink()


def environment() -> tuple[str, dict[str, str]]:
    """Terragrunt's path and the environment to run it in (no AWS or TG_/TF_ settings leak in)."""
    terragrunt, tofu = tool("terragrunt", "v1.1.3"), tool("tofu", "v1.12.6")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TG_", "TF_"))}
    env.update({"TG_NON_INTERACTIVE": "true", "TG_NO_COLOR": "true", "TG_TF_PATH": tofu, "CHECKPOINT_DISABLE": "1"})
    return terragrunt, env


#: The tree styles Terragrunt is timed on, the first the one the others are compared with.
STYLES = ("classic", "single-include")


def _timed_cpu(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the child's user + system) and standard output of *args*."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{' '.join(args)} failed in {cwd}:\n{result.stderr[-3000:]}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, result.stdout


def measure_size(
    size: int, runs: int, commands: list[str], work: Path = WORK, styles: tuple[str, ...] = STYLES
) -> dict[str, Any]:
    """Render the *size*-unit synthetic project with tfgen in each of *styles* (*runs*
    times into a fresh directory), then time Terragrunt's *commands* (find, render) on
    each tree, *runs* rounds, every style once per round in turn (so that a shared
    machine's load weighs on all alike); exits if Terragrunt reports another graph for a
    style than for the first. Returns per style the wall seconds of every run (render,
    find, evaluate), find's CPU seconds, and the load average at the start."""
    terragrunt, env = environment()
    tfgen = [sys.executable, "-m", "generator"]
    base = work / str(size)
    config = synth.write_project(synth.SHAPES[size], base / "project")
    load = os.getloadavg()[0]
    trees = {style: base / f"output-{style}" for style in styles}
    result: dict[str, Any] = {"units": size, "load": load, "styles": {}}
    for style, tree in trees.items():
        renders = []
        for _ in range(runs):
            shutil.rmtree(tree, ignore_errors=True)
            command = [*tfgen, "render", "-c", str(config), "-o", str(tree), "--style", style]
            renders.append(timed(command, base, os.environ.copy()))
        result["styles"][style] = {"render": renders, "find": [], "find_cpu": [], "evaluate": []}
    graphs: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for _ in range(runs if "find" in commands else 0):
        for style, tree in trees.items():
            wall, cpu, out = _timed_cpu([terragrunt, "find", "--dag", "--json", "--dependencies"], tree, env)
            result["styles"][style]["find"].append(wall)
            result["styles"][style]["find_cpu"].append(cpu)
            graphs.setdefault(style, _graph(out))
            if graphs[style] != graphs[styles[0]]:
                sys.exit(f"style {style}: Terragrunt reports another graph than for {styles[0]}")
    for _ in range(runs if "render" in commands else 0):
        for style, tree in trees.items():
            clean(tree)
            args = [terragrunt, "render", "--all", "--json", "-w", *NO_OUTPUTS]
            result["styles"][style]["evaluate"].append(timed(args, tree, env))
    for tree in trees.values():
        clean(tree)
    return result


def _graph(output: str) -> list[tuple[str, tuple[str, ...]]]:
    """``find --json --dependencies`` output as sorted (unit, sorted dependencies)."""
    return sorted((unit["path"], tuple(sorted(unit.get("dependencies") or []))) for unit in json.loads(output))


def measure_shapes(size: int, runs: int, shapes: list[str], work: Path = WORK) -> dict[str, Any]:
    """Render the *size*-unit synthetic project, derive every one of *shapes* from the tree
    (bench/shapes.py), then time ``find --dag`` on each, *runs* rounds, every shape once
    per round in turn. Returns per shape the seconds of every round, the load average at
    the start of each run and the graph's size; exits if a shape's graph differs from the
    first shape's."""
    terragrunt, env = environment()
    base = work / f"shapes-{size}"
    config = synth.write_project(synth.SHAPES[size], base / "project")
    shutil.rmtree(base / "output", ignore_errors=True)
    command = [sys.executable, "-m", "generator", "render", "-c", str(config), "-o", str(base / "output")]
    timed(command, base, os.environ.copy())
    trees = {shape: tree_shapes.make(base / "output", base / "shapes", shape) for shape in shapes}
    times: dict[str, list[float]] = {shape: [] for shape in shapes}
    cpu: dict[str, list[float]] = {shape: [] for shape in shapes}
    loads: dict[str, list[float]] = {shape: [] for shape in shapes}
    graphs: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for round_ in range(runs):
        for shape in shapes:
            loads[shape].append(os.getloadavg()[0])
            args = [terragrunt, "find", "--dag", "--json", "--dependencies"]
            wall, used, out = _timed_cpu(args, trees[shape], env)
            times[shape].append(wall)
            cpu[shape].append(used)
            graphs.setdefault(shape, _graph(out))
            if graphs[shape] != graphs[shapes[0]]:
                sys.exit(f"{shape}: Terragrunt reports another graph than for {shapes[0]}")
            print(f"round {round_ + 1} {shape}: {times[shape][-1]:.1f} s, CPU {cpu[shape][-1]:.1f} s", file=sys.stderr)
    graph = graphs[shapes[0]]
    edges = sum(len(d) for _u, d in graph)
    return {"units": len(graph), "edges": edges, "times": times, "cpu": cpu, "loads": loads}


def shapes_table(result: dict[str, Any]) -> str:
    """A markdown table of :func:`measure_shapes`: wall seconds of every round, their
    median and the speed-up against the first shape; the same for CPU seconds
    (Terragrunt's user + system time, which a shared machine's load inflates less)."""
    times: dict[str, list[float]] = result["times"]
    cpu: dict[str, list[float]] = result["cpu"]
    first = next(iter(times))
    rounds = len(times[first])
    lines = [
        "| shape | "
        + " | ".join(f"round {i + 1}" for i in range(rounds))
        + f" | median | vs {first} | CPU median | CPU vs {first} |",
        "| --- | " + " | ".join("---:" for _ in range(rounds)) + " | ---: | ---: | ---: | ---: |",
    ]
    for shape, values in times.items():
        speedup = statistics.median(times[first]) / statistics.median(values)
        cpu_speedup = statistics.median(cpu[first]) / statistics.median(cpu[shape])
        cells = " | ".join(f"{v:.1f} s" for v in values)
        lines.append(
            f"| {shape} | {cells} | {statistics.median(values):.1f} s | {speedup:.2f}x "
            f"| {statistics.median(cpu[shape]):.1f} s | {cpu_speedup:.2f}x |"
        )
    every = [load for loads in result["loads"].values() for load in loads]
    lines.append("")
    lines.append(
        f"{result['units']:,} units, {result['edges']:,} edges, the same graph for every shape; "
        f"load average (1 min) at the start of the runs {min(every):.1f}-{max(every):.1f}."
    )
    return "\n".join(lines)


def _median(values: list[float]) -> str:
    if not values:
        return "not run"
    spread = f" ({min(values):.1f}-{max(values):.1f})" if len(values) > 1 else ""
    return f"{statistics.median(values):.2f} s{spread}"


def _ratio(first: list[float], other: list[float]) -> str:
    if not first or not other:
        return "-"
    return f"{statistics.median(first) / statistics.median(other):.2f}x"


def table(rows: list[dict[str, Any]]) -> str:
    """A markdown table of medians (min-max) of :func:`measure_size` results, a row per
    style, with the speed-up of ``find --dag`` against the first style of the same run."""
    lines = [
        "| units | style | tfgen render | terragrunt find --dag | find CPU | find vs first style (wall / CPU) "
        "| terragrunt render --all --json | runs | load at start |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        styles = row["styles"]
        first = styles[next(iter(styles))]
        for style, data in styles.items():
            runs = max(len(data["render"]), len(data["find"]), len(data["evaluate"]))
            speedup = f"{_ratio(first['find'], data['find'])} / {_ratio(first['find_cpu'], data['find_cpu'])}"
            lines.append(
                f"| {row['units']:,} | {style} | {_median(data['render'])} | {_median(data['find'])} "
                f"| {_median(data['find_cpu'])} | {speedup} | {_median(data['evaluate'])} | {runs} "
                f"| {row['load']:.1f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--commands", default="find,render", help="which Terragrunt commands to time")
    parser.add_argument("--work", type=Path, default=WORK, help="where projects and trees go")
    shapes = ", ".join(tree_shapes.SHAPES)
    parser.add_argument("--shapes", help=f"time find --dag on these tree shapes instead ({shapes})")
    args = parser.parse_args()
    if args.shapes:
        for size in (int(s) for s in args.sizes.split(",")):
            print(shapes_table(measure_shapes(size, args.runs, args.shapes.split(","), args.work.resolve())))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        rows.append(measure_size(size, args.runs, args.commands.split(","), args.work.resolve()))
        print(f"{size} units done", file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main()
