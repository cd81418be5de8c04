"""One measurement in a fresh process: ``python -m bench.measure OP CONFIG TREE OUT``.

Prints one JSON object: wall seconds and CPU seconds of the operation itself (after
imports: tfgen's stages are imported by the calls that run them, and the ones listed in
STAGES are imported here before the clock starts, as they were when api.py imported
them all; interpreter start and imports are measured apart, bench/run.py
startup_seconds), the process's peak resident memory (ru_maxrss, so it includes the
interpreter and tfgen's imports, as a user would see it), and counts that show the
operation did what it should (files written, files in the tree).

Operations:

- ``floor``: the bytes of TREE written into OUT, which must not exist, by a plain
  loop (mkdir, open, write) with no templating: the write floor.
- ``full``: a render into OUT, which must not exist.
- ``noop``: a render into TREE, which is already in sync; counts files written.
- ``check``: the check-mode render of TREE (writes nothing; reports drift).
- ``validate``: schema and semantic checks only.

The tfgen API is called only through the adapter functions below, so a change of the
API (e.g. a ``check()`` function or a ``--check`` flag) is a one-line edit here.
"""

from __future__ import annotations

import cProfile
import importlib
import json
import os
import pstats
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator import api

#: The modules that loading, checking and rendering import when they first run.
STAGES = (
    "generator.checks",
    "generator.features.stacks",
    "generator.project.catalog",
    "generator.project.loader",
    "generator.project.model",
    "generator.project.modules.lockfile",
    "generator.project.schema",
    "generator.rendering.pipelines",
    "generator.rendering.plan",
    "generator.rendering.render",
    "generator.rendering.stacks",
)

# --- adapters: the only calls into tfgen ----------------------------------------------


def do_render(config: Path, output: Path) -> int:
    """A full or no-op render; returns the number of files that differed."""
    result = api.render(config, output=output)
    return sum(1 for change in result.changes if change.status != "unchanged")


def do_check(config: Path, output: Path) -> int:
    """``tfgen render --check`` (api.check): compare, write nothing; returns the number of drifted files."""
    result = api.check(config, output=output)
    return sum(1 for change in result.changes if change.status != "unchanged")


def do_validate(config: Path) -> int:
    """``validate``; returns the number of units."""
    return len(api.validate(config).project.units)


# --- the floor ---------------------------------------------------------------------------


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def write_floor(files: dict[str, bytes], output: Path) -> int:
    """The same bytes, written by the simplest loop that creates the tree."""
    for path, data in files.items():
        target = output / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)
    return len(files)


# --- bookkeeping -------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file: a rename or a write changes one of them."""
    found: dict[str, tuple[int, int]] = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            st = os.stat(os.path.join(dirpath, name))
            found[os.path.join(dirpath, name)] = (st.st_ino, st.st_mtime_ns)
    return found


def written_between(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> int:
    return sum(1 for path, stamp in after.items() if before.get(path) != stamp) + len(before.keys() - after.keys())


def peak_rss_mb() -> float:
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 1024 / 1024


def prepare(op: str, config: Path, tree: Path, out: Path) -> Callable[[], int]:
    """Set up outside the timed region; return the timed operation."""
    if op in ("floor", "full") and out.exists():
        # Deleting a large tree leaves the file system busy for seconds afterwards (and
        # with the discard mount option, much longer): a fresh directory keeps that out
        # of the measurement. run.py deletes them all at the end.
        raise SystemExit(f"{out} exists: floor and full need a directory that was never there")
    if op == "floor":
        files = read_tree(tree)
        return lambda: write_floor(files, out)
    if op == "full":
        return lambda: do_render(config, out)
    if op == "noop":
        return lambda: do_render(config, tree)
    if op == "check":
        return lambda: do_check(config, tree)
    if op == "validate":
        return lambda: do_validate(config)
    raise SystemExit(f"unknown operation {op}")


def profile_summary(profile: cProfile.Profile, limit: int = 12) -> dict[str, Any]:
    """Top functions by own time and the share of own time per source file."""
    stats = pstats.Stats(profile)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in raw.values()) or 1.0
    functions = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:limit]
    by_file: dict[str, float] = {}
    for (filename, _line, _name), entry in raw.items():
        key = _short(filename)
        by_file[key] = by_file.get(key, 0.0) + entry[2]
    cumulative = sorted(raw.items(), key=lambda item: item[1][3], reverse=True)
    return {
        "total_seconds": total,
        "own_time": [
            {"function": f"{_short(fn)}:{line}({name})", "percent": 100 * entry[2] / total, "calls": entry[1]}
            for (fn, line, name), entry in functions
        ],
        "by_file": [
            {"file": f, "percent": 100 * t / total}
            for f, t in sorted(by_file.items(), key=lambda item: item[1], reverse=True)[:limit]
        ],
        "cumulative": [
            {"function": f"{_short(fn)}:{line}({name})", "percent": 100 * entry[3] / total, "calls": entry[1]}
            for (fn, line, name), entry in cumulative
            if "generator" in fn and "/site-packages/" not in fn
        ][:limit],
    }


def _short(filename: str) -> str:
    """A readable name for a profiled file: package-relative, stdlib by base name."""
    for marker in ("/site-packages/", "/generator/", "/templates/"):
        if marker in filename:
            prefix = "" if marker == "/site-packages/" else marker.strip("/") + "/"
            return prefix + filename.rsplit(marker, 1)[1]
    if "/lib/python3" in filename:
        return "stdlib/" + os.path.basename(filename)
    return filename


def main(argv: list[str]) -> None:
    profile_to = None
    if argv and argv[0] == "--profile":
        profile_to = Path(argv[1])
        argv = argv[2:]
    op, config, tree, out = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    for module in STAGES:
        importlib.import_module(module)
    operation = prepare(op, config, tree, out)
    target = tree if op == "noop" else out
    before = snapshot(target) if op in ("noop", "check") else {}
    os.sync()  # let the previous run's writeback finish before the clock starts
    profiler = cProfile.Profile() if profile_to else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    count = operation()
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    report: dict[str, Any] = {"op": op, "seconds": wall, "cpu_seconds": cpu, "peak_mb": peak_rss_mb(), "count": count}
    if op in ("noop", "check"):
        report["written"] = written_between(before, snapshot(target))
    if profiler and profile_to:
        profiler.dump_stats(profile_to)
        report["profile"] = profile_summary(profiler)
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
