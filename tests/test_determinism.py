"""Same inputs, byte-identical tree and manifest: whatever PYTHONHASHSEED, locale,
current directory, config path spelling or the order in which the file system lists
the project's files. Each render runs in its own interpreter."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.output.state import MANIFEST

from .conftest import REPO, tree

#: A non-ASCII tag, so a locale-dependent encoding anywhere would show.
UNICODE_TAG = '    Owner: "Zoë İnce — plateforme ☁"\n'


def copy_project(target: Path, order: str, seed: int) -> Path:
    """The reference project (with a non-ASCII tag), its files created in *order*."""
    sources = [REPO / "environments.yaml", *sorted((REPO / "catalog").rglob("*.yaml")),
               REPO / "catalog" / ".tfgen-modules.lock.json"]
    if (REPO / "templates").is_dir():
        sources += sorted(p for p in (REPO / "templates").rglob("*") if p.is_file())
    if order == "reversed":
        sources.reverse()
    elif order == "shuffled":
        random.Random(seed).shuffle(sources)
    for source in sources:
        destination = target / source.relative_to(REPO)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    config = target / "environments.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  tags:\n", "  tags:\n" + UNICODE_TAG, 1), encoding="utf-8")
    return config


VARIANTS = [
    {"PYTHONHASHSEED": "0", "LC_ALL": "C", "order": "sorted", "cwd": "project", "config": "relative"},
    {"PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8", "order": "reversed", "cwd": "/", "config": "absolute"},
    {"PYTHONHASHSEED": "4242", "LC_ALL": "POSIX", "PYTHONUTF8": "0", "order": "shuffled", "cwd": "elsewhere",
     "config": "absolute"},
    {"PYTHONHASHSEED": "random", "LANG": "tr_TR.UTF-8", "LC_ALL": "", "PYTHONIOENCODING": "latin-1",
     "order": "shuffled", "cwd": "catalog", "config": "dotted"},
]


def run(
    config: Path, output: Path, variant: dict[str, str], base: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHON")) and k != "LANG"}
    env.update({k: v for k, v in variant.items() if k.isupper()})
    cwd = {"project": config.parent, "/": Path("/"), "elsewhere": base, "catalog": config.parent / "catalog"}[
        variant["cwd"]]
    spelled = {
        "relative": os.path.relpath(config, cwd),
        "absolute": str(config),
        "dotted": str(config.parent / "catalog" / ".." / "environments.yaml"),
    }[variant["config"]]
    command = [sys.executable, "-m", "generator", "render", "-c", spelled, "-o", str(output), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", check=False)


@pytest.mark.slow
def test_same_inputs_give_byte_identical_tree_and_manifest(tmp_path: Path) -> None:
    trees, reports = [], []
    for number, variant in enumerate(VARIANTS):
        base = tmp_path / f"variant-{number}"
        config = copy_project(base / "project", variant["order"], number)
        output = base / "out"
        result = run(config, output, variant, base)
        assert result.returncode == 0, (variant, result.stderr)
        trees.append(tree(output))
        check = run(config, output, variant, base, "--check", "--format", "json")
        assert check.returncode == 0, (variant, check.stdout, check.stderr)
        report = json.loads(check.stdout)
        report["result"].pop("seconds")
        report["result"].pop("output")
        reports.append(report)
    assert all(t == trees[0] for t in trees[1:]), "every variant renders the same bytes"
    assert all(r == reports[0] for r in reports[1:])
    manifest = json.loads(trees[0][MANIFEST])
    assert set(manifest["files"]) == set(trees[0]) - {MANIFEST}
    assert "Zoë İnce — plateforme ☁".encode() in trees[0]["root.hcl"]
    # apart from the files that carry the tag, exactly the committed reference tree
    committed = tree(REPO / "output")
    assert set(committed) == set(trees[0])
    differing = {p for p in committed if committed[p] != trees[0][p]}
    tagged = {p for p, data in trees[0].items() if "Zoë".encode() in data}
    assert "root.hcl" in tagged and differing == tagged | {MANIFEST}


@pytest.mark.slow
def test_re_rendering_a_tree_listed_in_another_order_changes_nothing(tmp_path: Path) -> None:
    """An existing tree whose files were created in another order (so the file system
    lists them differently) is re-rendered without a single write."""
    variant = VARIANTS[2]
    config = copy_project(tmp_path / "project", "shuffled", 7)
    fresh = tmp_path / "fresh"
    assert run(config, fresh, variant, tmp_path).returncode == 0
    expected = tree(fresh)
    output = tmp_path / "out"
    paths = list(expected)
    random.Random(3).shuffle(paths)
    for path in paths:
        (output / path).parent.mkdir(parents=True, exist_ok=True)
        (output / path).write_bytes(expected[path])
    before = {p: (output / p).stat().st_mtime_ns for p in expected}
    result = run(config, output, VARIANTS[1], tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"0 created, 0 changed, 0 deleted, {len(expected) - 1} unchanged" in result.stdout
    assert tree(output) == expected
    assert {p: (output / p).stat().st_mtime_ns for p in expected} == before, "nothing was rewritten"
