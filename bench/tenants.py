"""``python -m bench.tenants``: validate and render at 100 tenants x 10 units x 4
environments (bench/synth.py TENANT_SHAPES), each operation in a fresh process
(bench/measure.py), three runs each; prints the table of bench/README.md's tenants section."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from . import synth

WORK = Path("/tmp/tfgen-bench-tenants")
OPS = ("validate", "full", "noop", "check")


def run(op: str, config: Path, tree: Path, out: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "bench.measure", op, str(config), str(tree), str(out)]
    done = subprocess.run(command, cwd=Path(__file__).parent.parent, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    shape = synth.TENANT_SHAPES[4_000]
    config = synth.write_tenants_project(shape, WORK / "project")
    tree = WORK / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "generator", "render", "-c", str(config), "-o", str(tree)], check=True,
                   capture_output=True)
    files = sum(1 for p in tree.rglob("*") if p.is_file())
    print(f"{shape.tenants} tenants x {shape.units} units x {shape.base.environments} environments "
          f"= {shape.tenant_units} tenant units + {shape.base.units} shared; {files} files")
    print("| operation | wall (s), 3 runs | cpu (s) | peak RSS (MB) |")
    print("| --- | ---: | ---: | ---: |")
    for op in OPS:
        results = []
        for i in range(3):
            out = WORK / f"out-{op}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            results.append(run(op, config, tree, out))
            shutil.rmtree(out, ignore_errors=True)
        walls = " / ".join(f"{r['seconds']:.2f}" for r in results)
        cpu = min(r["cpu_seconds"] for r in results)
        rss = max(r["peak_mb"] for r in results)
        print(f"| {op} | {walls} | {cpu:.2f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
