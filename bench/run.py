"""The tfgen benchmark: ``python -m bench`` (from the repository root).

For the reference project and synthetic projects of 80, 1,000 and 10,000 units it
measures, each in fresh subprocesses and several times, the median wall time and peak
memory of a full render into an empty directory, a no-op re-render, ``render --check``
and ``validate``, beside the write floor (the same bytes written by a plain loop).
It prints a markdown table and writes it into bench/README.md.

    python -m bench                      # everything (a few minutes)
    python -m bench --sizes 80,1000      # a subset
    python -m bench --profile 10000      # cProfile summaries of each operation
    python -m bench --large              # issue 27: 51,200 units on tmpfs, 3 runs, and
                                         # Terragrunt's find --dag at 1,000 units
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import synth

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
README = BENCH / "README.md"
OPERATIONS = ("floor", "full", "noop", "check", "validate")
LABELS = {
    "floor": "write floor",
    "full": "full render (empty dir)",
    "noop": "no-op re-render",
    "check": "render --check",
    "validate": "validate",
}
SIZES = ("reference", "80", "1000", "10000")


@dataclass
class Size:
    label: str
    config: Path
    tree: Path  # an in-sync tree: the target of no-op and check runs, the floor's bytes
    scratch: Path  # fresh output directories of floor and full runs
    units: int = 0
    files: int = 0
    bytes: int = 0
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def median(self, op: str, key: str = "seconds") -> float:
        return float(statistics.median(r[key] for r in self.runs[op]))

    def worst(self, op: str, key: str) -> float:
        return float(max(r.get(key, 0) for r in self.runs[op]))


def idle_fraction(window: float = 0.5) -> float:
    """The share of CPU time the whole machine spent idle over *window* seconds."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3], sum(fields)  # idle only: time waiting for the disk is not quiet

    idle0, total0 = sample()
    time.sleep(window)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(total1 - total0, 1)


SETTLE = [15.0]  # seconds settle() waits at most (--settle)


def settle(limit: float | None = None) -> None:
    """Wait until the machine is quiet: writes of the previous run (journal commits,
    discards) otherwise run on the same two cores as the next measurement."""
    os.sync()
    if not Path("/proc/stat").is_file():
        time.sleep(1.0)
        return
    deadline = time.monotonic() + (SETTLE[0] if limit is None else limit)
    while time.monotonic() < deadline and idle_fraction() < 0.9:
        pass


def calibrate() -> float:
    """Seconds of a fixed pure-Python workload: how fast this (shared) machine runs right now."""
    started = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i % 7
    return time.process_time() - started


CALIBRATION: list[float] = []

#: The environment of every measured process: Python writes and reads its bytecode
#: cache, as an installed tfgen does (pip compiles it; a shell that sets
#: PYTHONDONTWRITEBYTECODE would otherwise add compiling tfgen, ~0.2 s, to every figure).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def measure(op: str, size: Size, out: Path | None = None, profile: Path | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh process, once the machine is quiet; *out* is a new
    directory for floor and full."""
    settle()
    CALIBRATION.append(calibrate())
    command = [sys.executable, "-m", "bench.measure"]
    if profile is not None:
        command += ["--profile", str(profile)]
    command += [op, str(size.config), str(size.tree), str(out or size.scratch / "unused")]
    done = subprocess.run(command, cwd=BENCH.parent, capture_output=True, text=True, check=False, env=ENV)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def prepare(label: str, work: Path = WORK) -> Size:
    """Generate the project and an in-sync tree (the no-op/check target and the floor's bytes)."""
    root = work / label
    if label == "reference":
        config = synth.copy_reference(root / "project")
    else:
        config = synth.write_project(synth.SHAPES[int(label)], root / "project")
    size = Size(label, config, root / "tree", root / "scratch")
    remove(size.scratch)
    # render the tree in place (a no-op when it is already there): deleting it would
    # slow down the measurements that follow
    subprocess.run(
        [sys.executable, "-m", "generator", "render", "-c", str(config), "-o", str(size.tree)],
        cwd=BENCH.parent,
        check=True,
        capture_output=True,
        env=ENV,
    )
    size.units = measure("validate", size)["count"]
    files = [p for p in size.tree.rglob("*") if p.is_file()]
    size.files, size.bytes = len(files), sum(p.stat().st_size for p in files)
    return size


def remove(directory: Path) -> None:
    if directory.exists():
        shutil.rmtree(directory)
        os.sync()


def startup_seconds(runs: int = 5) -> float:
    """Interpreter start plus importing the tfgen CLI: paid by every command on top of the figures."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import generator.cli"], check=True, cwd=BENCH.parent, env=ENV)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def machine() -> dict[str, str]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def filesystem(path: Path) -> str:
    """The file system type and mount options of *path* (Linux), e.g. ``ext4 (rw,discard)``."""
    best = ("", "", "")
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            _device, mount, kind, options, *_ = line.split()
            below = str(path).startswith(mount.rstrip("/") + "/") or str(path) == mount
            if below and len(mount) >= len(best[0]):
                best = (mount, kind, options)
    except OSError:
        return "an unknown file system"
    kept = [o for o in best[2].split(",") if o in ("discard", "relatime", "noatime", "sync", "data=journal")]
    return f"{best[1]} ({', '.join(kept) or 'defaults'}) at {best[0]}"


# --- the report -----------------------------------------------------------------------------


def _mb(value: float) -> str:
    return f"{value:.0f}"


def table(sizes: list[Size]) -> str:
    rows = [
        "| units | files (MB) | operation | median s | min-max s | x floor | CPU s | peak MB | s per 1,000 units "
        "| written |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sizes:
        floor = size.median("floor")
        name = f"{size.units:,}" + (" (reference)" if size.label == "reference" else "")
        for op in OPERATIONS:
            if op not in size.runs:
                continue
            seconds = size.median(op)
            ratio = "1.00" if op == "floor" else (f"{seconds / floor:.2f}" if op != "validate" else "-")
            written = "-"
            if op == "noop":
                written = str(int(size.worst(op, "written")))
            per_k = seconds / size.units * 1000
            spread = [r["seconds"] for r in size.runs[op]]
            rows.append(
                f"| {name} | {size.files:,} ({size.bytes / 1e6:.1f}) | {LABELS[op]} | {seconds:.3f} "
                f"| {min(spread):.2f}-{max(spread):.2f} | {ratio} "
                f"| {size.median(op, 'cpu_seconds'):.3f} | {_mb(size.median(op, 'peak_mb'))} | {per_k:.3f} "
                f"| {written} |"
            )
    return "\n".join(rows)


def large_targets(big: Size) -> str:
    """The goals of issue 27 (QUALITY.md's 51,200-unit row), met or not in this run."""
    full, floor = big.median("full"), big.median("floor")
    noop, check, validate = big.median("noop"), big.median("check"), big.median("validate")
    peak = max(big.median(op, "peak_mb") for op in OPERATIONS if op != "floor")
    return "\n".join(
        [
            f"| target ({big.units:,} units, tmpfs, issue 27) | measured | met |",
            "| --- | --- | --- |",
            f"| full render <= 3x the write floor | {full:.2f} s, {full / floor:.2f}x the floor ({floor:.2f} s) "
            f"| {_yes(full <= 3 * floor)} |",
            f"| no-op re-render < 1.5 s, zero files written | {noop:.2f} s, {int(big.worst('noop', 'written'))} "
            f"written | {_yes(noop < 1.5 and big.worst('noop', 'written') == 0)} |",
            f"| `render --check` < 1.5 s | {check:.2f} s | {_yes(check < 1.5)} |",
            f"| validate < 1.5 s | {validate:.2f} s | {_yes(validate < 1.5)} |",
            f"| peak memory < 300 MB | {peak:.0f} MB (largest median over the operations) | {_yes(peak < 300)} |",
        ]
    )


def targets(sizes: list[Size]) -> str:
    by = {s.label: s for s in sizes}
    if "51200" in by:
        return large_targets(by["51200"])
    big, mid = by.get("10000"), by.get("1000")
    if big is None:
        return ""
    full, floor = big.median("full"), big.median("floor")
    noop, check = big.median("noop"), big.median("check")
    peak = max(big.median(op, "peak_mb") for op in OPERATIONS if op != "floor")
    lines = [
        "| target (10,000 units, QUALITY.md) | measured | met |",
        "| --- | --- | --- |",
        f"| full render <= 3x the write floor and < 5 s | {full:.2f} s, {full / floor:.2f}x the floor ({floor:.2f} s) "
        f"| {_yes(full <= 3 * floor and full < 5)} |",
        f"| no-op re-render < 1.5 s, zero files written | {noop:.2f} s, {int(big.worst('noop', 'written'))} written "
        f"| {_yes(noop < 1.5 and big.worst('noop', 'written') == 0)} |",
        f"| `render --check` < 1.5 s | {check:.2f} s | {_yes(check < 1.5)} |",
        f"| peak memory < 400 MB | {peak:.0f} MB (largest median over the operations) | {_yes(peak < 400)} |",
    ]
    if mid is not None:
        growth = {op: (big.median(op) / big.units) / (mid.median(op) / mid.units) for op in OPERATIONS}
        worst = max(growth[op] for op in OPERATIONS if op != "floor")
        detail = ", ".join(f"{op} {growth[op]:.2f}" for op in OPERATIONS)
        lines.append(
            f"| growth 1,000 -> 10,000 units linear: time per unit within 25% | per-unit time ratio 10k/1k: "
            f"{detail} | {_yes(worst <= 1.25)} |"
        )
    return "\n".join(lines)


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def report(
    sizes: list[Size], info: dict[str, str], startup: float, runs: dict[str, int], work: Path, terragrunt: str = ""
) -> str:
    counts = ", ".join(f"{label}: {n}" for label, n in runs.items())
    return "\n".join(
        [
            f"Measured {info['date']} on {info['cores']} cores ({info['cpu']}), Python {info['python']}, "
            f"{info['system']}; load average at the start {info['load']}; trees written to {info['filesystem']}. "
            f"Medians of fresh-process runs ({counts}).",
            "",
            table(sizes),
            "",
            targets(sizes),
            "",
            f"Every command also pays {startup:.2f} s of interpreter start and imports (median of 5 runs of "
            "`python -c 'import generator.cli'`), which the figures above leave out.",
            "",
            f"The speed of this shared virtual machine drifts: a fixed pure-Python loop, timed before each run, "
            f"took {statistics.median(CALIBRATION):.3f} s (median; {min(CALIBRATION):.3f}-{max(CALIBRATION):.3f} s)."
            if CALIBRATION
            else "",
            *(
                [
                    "",
                    "Terragrunt v1.1.3 on the trees tfgen renders in each style, the styles timed in turn "
                    "in the same rounds (`bench.terragrunt`; medians, min-max; find's speed-up against the "
                    "classic style, wall / CPU):",
                    "",
                    terragrunt,
                ]
                if terragrunt
                else []
            ),
        ]
    )


def write_readme(body: str, section: str = "results") -> None:
    """Replace the text between ``<!-- SECTION:start -->`` and ``<!-- SECTION:end -->``."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = README.read_text(encoding="utf-8") if README.is_file() else "# tfgen benchmark\n"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    README.write_text(pattern.sub(lambda _m: f"{start}\n{body}\n{end}", text), encoding="utf-8")


# --- profiles -------------------------------------------------------------------------------


def print_profile(label: str, work: Path = WORK) -> None:
    size = prepare(label, work)
    for op in ("full", "noop", "check", "validate"):
        path = work / f"profile-{label}-{op}.prof"
        result = measure(op, size, size.scratch / f"profile-{op}", profile=path)
        summary = result["profile"]
        print(f"\n## {LABELS[op]}, {size.units:,} units: {result['seconds']:.2f} s under cProfile ({path})")
        print("\nown time by file:")
        for entry in summary["by_file"][:8]:
            print(f"  {entry['percent']:5.1f}%  {entry['file']}")
        print("\nown time by function:")
        for entry in summary["own_time"][:10]:
            print(f"  {entry['percent']:5.1f}%  {entry['function']}  ({entry['calls']} calls)")
        print("\ncumulative, tfgen functions:")
        for entry in summary["cumulative"][:10]:
            print(f"  {entry['percent']:5.1f}%  {entry['function']}  ({entry['calls']} calls)")
    remove(size.scratch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="comma-separated: reference,80,1000,10000")
    parser.add_argument("--runs", type=int, help="runs per figure (default: 5, and 3 for 10,000 units)")
    parser.add_argument("--no-readme", action="store_true", help="print the table but leave bench/README.md alone")
    parser.add_argument(
        "--section", default="results", help="the marked block of bench/README.md to replace (default: results)"
    )
    parser.add_argument("--profile", metavar="SIZE", help="print cProfile summaries for one size instead")
    parser.add_argument(
        "--work",
        type=Path,
        default=WORK,
        help="where projects and trees go (default bench/.work; e.g. /dev/shm/tfgen-bench to leave the disk out)",
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help="issue 27's run: 51,200 units on tmpfs (/dev/shm/tfgen-bench), 3 runs, section results-51200, "
        "and Terragrunt's find --dag at 1,000 units",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="seconds to wait at most for an idle machine "
        "before each run (default 15; a machine shared with other work is never idle)",
    )
    parser.add_argument(
        "--terragrunt",
        default="",
        metavar="SIZES",
        help="also time Terragrunt on the rendered trees of these sizes (e.g. 1000,10000)",
    )
    parser.add_argument("--terragrunt-commands", default="find", help="find, render or find,render (default find)")
    parser.add_argument("--terragrunt-runs", type=int, default=3)
    args = parser.parse_args(argv)
    if args.large:
        args.sizes = "51200" if args.sizes == ",".join(SIZES) else args.sizes
        args.runs = args.runs or 3
        args.work = Path("/dev/shm/tfgen-bench") if args.work == WORK else args.work
        args.section = "results-51200" if args.section == "results" else args.section
        args.terragrunt = args.terragrunt or "1000"
    SETTLE[0] = args.settle
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.profile:
        print_profile(args.profile, work)
        return
    info = machine()
    labels = [s.strip() for s in args.sizes.split(",") if s.strip()]
    sizes: list[Size] = []
    runs: dict[str, int] = {}
    started = time.perf_counter()
    for label in labels:
        size = prepare(label, work)
        count = args.runs or (3 if label in ("10000", "51200") else 5)
        runs[label] = count
        for run in range(count):
            for op in OPERATIONS:
                size.runs.setdefault(op, []).append(measure(op, size, size.scratch / f"{op}-{run}"))
            print(f"{label}: run {run + 1}/{count} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        sizes.append(size)
    for size in sizes:
        print(f"removing the scratch trees of {size.label}", file=sys.stderr)
        remove(size.scratch)
    results = [{**s.__dict__, "config": str(s.config), "tree": str(s.tree), "scratch": str(s.scratch)} for s in sizes]
    (work / "results.json").write_text(json.dumps({"machine": info, "work": str(work), "sizes": results}, indent=1))
    info["filesystem"] = filesystem(work)
    terragrunt_table = ""
    if args.terragrunt:
        from . import terragrunt as tg

        try:
            rows = [
                tg.measure_size(int(n), args.terragrunt_runs, args.terragrunt_commands.split(","), work / "terragrunt")
                for n in args.terragrunt.split(",")
            ]
            terragrunt_table = tg.table(rows)
        except SystemExit as missing:  # the tools are not built
            terragrunt_table = f"not measured: {missing}"
    body = report(sizes, info, startup_seconds(), runs, work, terragrunt_table)
    print(body)
    if not args.no_readme:
        write_readme(body, args.section)
        print(f"\nwrote {README.relative_to(BENCH.parent)}", file=sys.stderr)


if __name__ == "__main__":
    main()
