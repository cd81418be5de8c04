"""Crash safety and concurrency, with real processes and real SIGKILLs.

Each trial forks a child (a subprocess that shares the parent's warmed-up imports,
so hundreds of trials stay fast) that renders a changed project over an old tree and
is killed with SIGKILL at its Nth file-system step (before or after every rename,
unlink and rmdir, and half-way through every write), or at a random moment. After every kill,
every file must be either its old or its new content, and the next render (without
--force) must repair the tree and leave it in sync."""

from __future__ import annotations

import builtins
import io
import json
import multiprocessing
import os
import random
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.errors import OutputAccessError
from generator.output import disk
from generator.output.state import JOURNAL, MANIFEST, TEMP_SUFFIX
from generator.output.sync import UnsafeWriteError

from .conftest import tree
from .safety_project import edit, write_project

FORK = multiprocessing.get_context("fork")
STEPS = ("replace", "unlink", "rmdir")  # fsync changes nothing a SIGKILL can observe


class _HalfWriter:
    """A writable file whose write() stops half-way at a kill point."""

    def __init__(self, handle: Any, step: Callable[[], None]) -> None:
        self._handle, self._step = handle, step

    def write(self, data: Any) -> int:
        middle = len(data) // 2
        written = int(self._handle.write(data[:middle]))
        self._handle.flush()
        self._step()
        return written + int(self._handle.write(data[middle:]))

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)


def _instrument(kill_at: int, counter: Path | None, delay: float = 0.0) -> None:
    """In a child: count the writer's file-system steps (before and after every rename,
    unlink and rmdir, and half-way through every write); SIGKILL itself at step *kill_at*."""
    events = [0]
    real_open = builtins.open

    def step() -> None:
        events[0] += 1
        if counter is not None:
            with real_open(counter, "w") as handle:
                handle.write(str(events[0]))
        if events[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        def instrumented(*args: Any, **kwargs: Any) -> Any:
            step()
            if delay:
                time.sleep(delay)
            result = function(*args, **kwargs)
            step()
            return result

        return instrumented

    def opener(function: Callable[..., Any]) -> Callable[..., Any]:
        def instrumented(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            handle = function(file, mode, *args, **kwargs)
            return _HalfWriter(handle, step) if set(mode) & set("wax+") else handle

        return instrumented

    def half_writer(function: Callable[..., Any]) -> Callable[..., Any]:
        def instrumented(fd: int, data: Any) -> int:  # the writer's loop writes the rest
            if len(data) < 2:
                return int(function(fd, data))
            written = int(function(fd, data[: len(data) // 2]))
            step()
            return written

        return instrumented

    for name in STEPS:
        setattr(os, name, wrap(getattr(os, name)))
    os.write = half_writer(os.write)
    builtins.open = opener(builtins.open)
    io.open = builtins.open
    os.fdopen = opener(os.fdopen)


def _render_child(config: Path, output: Path, kill_at: int, counter: Path | None, delay: float) -> None:
    _instrument(kill_at, counter, delay)
    api.render(config, output=output)


def run_killed(config: Path, output: Path, kill_at: int, *, counter: Path | None = None, delay: float = 0.0) -> int:
    process = FORK.Process(target=_render_child, args=(config, output, kill_at, counter, delay))
    process.start()
    process.join(60)
    assert process.exitcode is not None
    return process.exitcode


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An old tree, a new project (creations, changes, deletions) and a third one."""
    base = tmp_path_factory.mktemp("crash")
    old = write_project(base / "old")
    api.render(old)
    new = write_project(base / "new")
    edit(new, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    edit(new, "settings: {backup_retention_days: 30}", "settings: {backup_retention_days: 35}")
    edit(new, "  cache: {module: data/db, environments: [dev]}\n", "  queue: {module: data/db, environments: [dev]}\n")
    api.render(new, output=base / "expected-new")
    third = write_project(base / "third")
    edit(third, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 11}")
    edit(third, "settings: {backup_retention_days: 30}", "settings: {backup_retention_days: 40}")
    api.render(third, output=base / "expected-third")
    return {
        "old_config": old,
        "old_output": old.parent / "output",
        "old": tree(old.parent / "output"),
        "new_config": new,
        "new": tree(base / "expected-new"),
        "third_config": third,
        "third": tree(base / "expected-third"),
    }


def is_temporary(path: str) -> bool:
    return path.rsplit("/", 1)[-1].startswith(".") and path.endswith(TEMP_SUFFIX)


def assert_old_or_new(output: Path, old: dict[str, bytes], new: dict[str, bytes]) -> None:
    """Every file is old or new; a file the render was creating where none was (the
    journal's ``creating``) may also be partly written, a prefix of the new bytes."""
    on_disk = {p: b for p, b in tree(output).items() if not is_temporary(p) and p != JOURNAL}
    journal = output / JOURNAL
    creating = set(json.loads(journal.read_bytes()).get("creating", [])) if journal.exists() else set()
    for path in sorted(set(old) | set(new) | set(on_disk)):
        found = on_disk.get(path)
        if found not in (old.get(path), new.get(path)):
            partial = path not in old and path in creating and new.get(path, b"").startswith(found or b"\0")
            assert found is not None and partial, f"{path} is neither old nor new"


def assert_repaired(output: Path, config: Path, expected: dict[str, bytes], *, force: bool = False) -> None:
    result = api.render(config, output=output, force=force)
    assert result.written
    assert tree(output) == expected, "the next render repairs the tree (manifest included)"
    assert not [p for p in tree(output) if is_temporary(p)]
    assert api.check(config, output=output).in_sync


def test_kill_at_every_step_leaves_old_or_new_and_the_next_render_repairs(
    scenario: dict[str, Any], tmp_path: Path
) -> None:
    counter = tmp_path / "count"
    trial = tmp_path / "count-run"
    shutil.copytree(scenario["old_output"], trial)
    assert run_killed(scenario["new_config"], trial, 0, counter=counter) == 0
    steps = int(counter.read_text())
    assert tree(trial) == scenario["new"]
    assert steps > 20, steps  # journal, every write, delete, rmdir, manifest, each before and after
    killed_with_leftovers = 0
    for kill_at in range(1, steps + 1):
        output = tmp_path / f"kill-{kill_at}"
        shutil.copytree(scenario["old_output"], output)
        assert run_killed(scenario["new_config"], output, kill_at) == -signal.SIGKILL, kill_at
        assert_old_or_new(output, scenario["old"], scenario["new"])
        killed_with_leftovers += any(is_temporary(p) for p in tree(output))
        if kill_at % 2:
            assert_repaired(output, scenario["new_config"], scenario["new"])
        else:  # the input changed again before the next render: no false hand edits, but
            # for a file the render was creating, cut (refused_partial: --force completes)
            force = bool(refused_partial(output, scenario["third_config"], scenario["third"]))
            assert_repaired(output, scenario["third_config"], scenario["third"], force=force)
    assert killed_with_leftovers > 5, "some kills left temporary files for the next render to remove"


def test_a_first_render_killed_at_every_step_is_completed_by_the_next(
    scenario: dict[str, Any], tmp_path: Path
) -> None:
    """A first render creates its files in place (no temporary file, no rename): a kill
    half-way through one leaves it partly written at its path, named in the journal's
    ``creating``; the next render rewrites it when it is the start of what it renders
    there (else see refused_partial), and leaves a file tfgen did not write, added after
    the kill, as it is."""
    counter = tmp_path / "count"
    assert run_killed(scenario["new_config"], tmp_path / "count-run", 0, counter=counter) == 0
    steps = int(counter.read_text())
    assert tree(tmp_path / "count-run") == scenario["new"]
    partial = refused = 0
    for kill_at in range(1, steps + 1):
        output = tmp_path / f"first-{kill_at}"
        assert run_killed(scenario["new_config"], output, kill_at) == -signal.SIGKILL, kill_at
        assert_old_or_new(output, {}, scenario["new"])
        on_disk = tree(output)
        partial += any(on_disk[p] != scenario["new"][p] for p in on_disk if p in scenario["new"])
        renamed = [p for p in on_disk if is_temporary(p) and not p.startswith((f".{JOURNAL}.", f".{MANIFEST}."))]
        assert not renamed, "no rendered file is renamed into a new tree"
        hand = output / "environments" / "NOTES.md"
        if hand.parent.is_dir():
            hand.write_text("mine\n")
        if kill_at % 2:
            assert_repaired_beside(output, scenario["new_config"], scenario["new"], hand)
        else:  # the input changed before the next render
            refused += bool(refused_partial(output, scenario["third_config"], scenario["third"]))
            assert_repaired_beside(output, scenario["third_config"], scenario["third"], hand, force=True)
    assert partial > 5, "some kills left a file partly written for the next render to rewrite"
    assert refused, "some partial writes were not the start of the next render's bytes"


def refused_partial(output: Path, config: Path, expected: dict[str, bytes]) -> list[str]:
    """The next render after a kill, with other inputs: a partly written file that is
    not the start of what it renders now could be another hand's (a checkout after the
    kill), so the render refuses it, writing nothing, and --force replaces it. Returns
    the paths refused."""
    journal = json.loads((output / JOURNAL).read_bytes()) if (output / JOURNAL).exists() else {}
    before = tree(output)
    try:
        api.render(config, output=output)
    except UnsafeWriteError as error:
        paths = [c.path for c in error.result.refused]
        for path in paths:
            written = before[path]
            assert path in journal.get("creating", []) and written
            assert not expected.get(path, b"").startswith(written)
        assert tree(output) == before, "a refused render writes nothing"
        return paths
    return []


def test_a_partly_created_file_that_is_no_longer_rendered_is_kept_until_forced(
    scenario: dict[str, Any], tmp_path: Path
) -> None:
    """A file that a killed first render was creating, and that the next render no
    longer renders, cannot be told from a file another hand put there since (no bytes
    to compare it with): the render refuses to delete it, writing nothing, and
    --force deletes it. An empty one is tfgen's partial write and deleted."""
    cache = "environments/dev/us-east-1/02-data/cache/terragrunt.hcl"
    old, new = scenario["old"], scenario["new"]
    assert cache in old and cache not in new
    counter = tmp_path / "count"
    assert run_killed(scenario["old_config"], tmp_path / "count-run", 0, counter=counter) == 0
    found = 0
    for kill_at in range(1, int(counter.read_text()) + 1):
        output = tmp_path / f"old-{kill_at}"
        assert run_killed(scenario["old_config"], output, kill_at) == -signal.SIGKILL, kill_at
        written = (output / cache).read_bytes() if (output / cache).exists() else None
        if written is None or written == old[cache]:
            continue
        found += 1
        assert old[cache].startswith(written)
        if written:
            with pytest.raises(UnsafeWriteError) as refused:
                api.render(scenario["new_config"], output=output)
            assert [(c.path, c.status) for c in refused.value.result.refused] == [(cache, "hand-edited")]
            assert (output / cache).read_bytes() == written
        result = api.render(scenario["new_config"], output=output, force=True)
        status = "hand-edited" if written else "stale"
        assert [(c.status, c.action) for c in result.changes if c.path == cache] == [(status, "delete")]
        assert tree(output) == new
    assert found, "a kill left the file partly written"


def assert_repaired_beside(
    output: Path, config: Path, expected: dict[str, bytes], hand: Path, *, force: bool = False
) -> None:
    """The next render repairs the tree, and a file tfgen did not write stays as it is
    (even with *force*, which replaces only the files the render writes or deletes)."""
    kept = hand.read_bytes() if hand.exists() else None
    result = api.render(config, output=output, force=force)
    assert result.written
    on_disk = tree(output)
    if kept is not None:
        assert on_disk.pop(hand.relative_to(output).as_posix()) == kept
    assert on_disk == expected, "the next render completes the tree (manifest included)"
    assert api.check(config, output=output).in_sync


def test_a_file_that_appears_where_a_render_creates_one_is_never_replaced(
    scenario: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another hand creates a file after the comparison, where the render creates one:
    the render fails on it instead of replacing it, and the next render, which finds
    the journal, refuses to replace it."""
    output = tmp_path / "raced"
    real = disk.write_all
    theirs = b"theirs\n"

    def racing(root: Path, files: list[tuple[str, bytes]], *args: Any, **kwargs: Any) -> None:
        target = root / "environments" / "dev" / "env.hcl"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(theirs)
        real(root, files, *args, **kwargs)

    monkeypatch.setattr(disk, "write_all", racing)
    with pytest.raises(OutputAccessError):
        api.render(scenario["new_config"], output=output)
    monkeypatch.setattr(disk, "write_all", real)
    assert (output / "environments" / "dev" / "env.hcl").read_bytes() == theirs
    assert "environments/dev/env.hcl" not in json.loads((output / JOURNAL).read_bytes())["creating"]
    with pytest.raises(UnsafeWriteError) as refused:
        api.render(scenario["new_config"], output=output)
    assert [c.path for c in refused.value.result.refused] == ["environments/dev/env.hcl"]
    assert (output / "environments" / "dev" / "env.hcl").read_bytes() == theirs


def test_kill_at_random_moments(scenario: dict[str, Any], tmp_path: Path) -> None:
    chance = random.Random(4)
    for trial in range(12):
        output = tmp_path / f"random-{trial}"
        shutil.copytree(scenario["old_output"], output)
        process = FORK.Process(target=_render_child, args=(scenario["new_config"], output, 0, None, 0.004))
        process.start()
        time.sleep(chance.uniform(0.0, 0.25))
        if process.pid is not None:
            os.kill(process.pid, signal.SIGKILL)
        process.join(60)
        assert_old_or_new(output, scenario["old"], scenario["new"])
        assert_repaired(output, scenario["new_config"], scenario["new"])


# --- concurrency ------------------------------------------------------------------


def _logged_child(config: Path, output: Path, log: Path, marker: Path | None, timeout: float) -> None:
    """Render, logging when applying starts and ends (inside the lock); with *marker*,
    pause mid-apply. The child is forked, so wrapping disk.apply touches only it."""
    real_apply = disk.apply

    def apply(*args: Any, **kwargs: Any) -> None:
        with log.open("a") as handle:
            handle.write(f"{os.getpid()} start {time.monotonic():.6f}\n")
        if marker is not None:
            real_replace = os.replace

            def replace(*a: Any, **k: Any) -> None:
                real_replace(*a, **k)
                if not marker.exists():
                    marker.write_text("paused")
                    time.sleep(1.0)

            os.replace = replace
        real_apply(*args, **kwargs)
        with log.open("a") as handle:
            handle.write(f"{os.getpid()} end {time.monotonic():.6f}\n")

    disk.apply = apply
    api.render(config, output=output, lock_timeout=timeout)


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_concurrent_renders_are_serialised(scenario: dict[str, Any], tmp_path: Path) -> None:
    output = tmp_path / "shared"
    shutil.copytree(scenario["old_output"], output)
    log, marker = tmp_path / "log", tmp_path / "paused"
    first = FORK.Process(target=_logged_child, args=(scenario["new_config"], output, log, marker, 30.0))
    first.start()
    _wait_for(marker)  # the first render is half-way through writing, holding the lock
    second = FORK.Process(target=_logged_child, args=(scenario["third_config"], output, log, None, 30.0))
    second.start()
    first.join(60)
    second.join(60)
    assert first.exitcode == 0 and second.exitcode == 0
    events = [line.split() for line in log.read_text().splitlines()]
    assert [e[1] for e in events] == ["start", "end", "start", "end"], events
    assert events[0][0] == events[1][0] != events[2][0], "one render applied entirely before the other"
    assert tree(output) == scenario["third"]


def test_a_render_that_cannot_get_the_lock_fails_clearly(scenario: dict[str, Any], tmp_path: Path) -> None:
    output = tmp_path / "shared"
    shutil.copytree(scenario["old_output"], output)
    marker = tmp_path / "paused"
    first = FORK.Process(target=_logged_child, args=(scenario["new_config"], output, tmp_path / "log", marker, 30.0))
    first.start()
    _wait_for(marker)
    during = tree(output)
    result = CliRunner().invoke(main, ["render", "-c", str(scenario["third_config"]), "-o", str(output),
                                       "--lock-timeout", "0.2"])
    first.join(60)
    assert result.exit_code == 1
    assert "another tfgen is rendering into this directory; gave up after 0.2 s" in result.stderr
    assert "Traceback" not in result.output
    assert first.exitcode == 0
    assert during != scenario["third"] and tree(output) == scenario["new"], "the waiting render wrote nothing"
