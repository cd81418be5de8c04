"""The render progress bar: on a terminal, for renders that take a while; never when
the output is piped or captured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import synth
from generator import api
from generator.cli import commands as cli
from generator.cli import main

from ..conftest import REPO


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth.write_project(synth.SHAPES[80], tmp_path_factory.mktemp("synthetic") / "project")


def test_piped_render_prints_only_the_summary(tmp_path: Path) -> None:
    """Even a slow render prints nothing but its summary when standard error is a pipe."""
    script = (
        "import sys; from generator import cli; from generator.cli import commands; commands.ProgressBar.DELAY = 0; "
        "sys.argv = ['tfgen'] + sys.argv[1:]; cli.main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "render", "-c", str(REPO / "environments.yaml"), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stderr == ""
    assert done.stdout.startswith("rendered 104 files: 104 created,") and done.stdout.count("\n") == 1


def test_a_terminal_shows_the_bar_once_the_render_is_slow(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "is_terminal", lambda _stream: True)
    monkeypatch.setattr(cli.ProgressBar, "DELAY", 0.0)
    result = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "rendering 104 files" in result.stderr
    assert "writing 104 files" in result.stderr
    assert result.stdout.startswith("rendered 104 files")  # the bar stays on standard error


def test_a_terminal_shows_no_bar_for_a_quick_render(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "is_terminal", lambda _stream: True)
    monkeypatch.setattr(cli.ProgressBar, "DELAY", 3600.0)
    result = runner.invoke(main, ["render", "-c", str(REPO / "environments.yaml"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_progress_is_reported_while_rendering_and_writing(synthetic: Path, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    api.render(synthetic, output=tmp_path / "out", progress=lambda *event: seen.append(event))
    stages = {stage for stage, _done, _total in seen}
    assert stages == {"rendering", "writing"}
    for stage in stages:
        events = [(done, total) for s, done, total in seen if s == stage]
        assert events[-1][0] == events[-1][1] > 80
        assert [d for d, _t in events] == sorted(d for d, _t in events)
    seen.clear()
    api.render(synthetic, output=tmp_path / "out", progress=lambda *event: seen.append(event))
    assert seen == []  # nothing changed: the manifest's fingerprint proves it without rendering
    (synthetic.parent / "environments.yaml").write_text(synthetic.read_text() + "# edited\n")
    api.render(synthetic, output=tmp_path / "out", progress=lambda *event: seen.append(event))
    assert {stage for stage, _d, _t in seen} == {"rendering"}  # an input changed, no rendered byte did

