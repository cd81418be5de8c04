"""The one error handler: every outcome maps to one exit code, and --format json prints
one envelope shape whatever happened."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from generator.cli import Group, main
from generator.cli import report as cli_report

from ..conftest import REPO

ENVELOPE = {"format", "command", "ok", "exit_code", "errors", "warnings", "result"}


def _group(*commands: click.Command) -> click.Group:
    group = Group("tfgen")
    for command in commands:
        group.add_command(command)
    return group


def test_a_bug_exits_3_with_one_line_asking_for_a_report(runner: CliRunner) -> None:
    @click.command("boom")
    def boom() -> None:
        raise ZeroDivisionError("division by zero")

    result = runner.invoke(_group(boom), ["boom"])
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "internal error in `tfgen boom`: ZeroDivisionError: division by zero" in lines[0]
    assert "please report it" in lines[0]


def test_ctrl_c_exits_130_and_says_the_next_render_finishes_the_tree(runner: CliRunner, tmp_path: Path) -> None:
    @click.command("render")
    def render() -> None:
        cli_report.remember_writing(tmp_path / "out")
        raise KeyboardInterrupt

    @click.command("graph")
    def graph() -> None:
        raise KeyboardInterrupt

    group = _group(render, graph)
    interrupted = runner.invoke(group, ["render"])
    assert interrupted.exit_code == 130
    assert "may be partially updated" in interrupted.stderr
    assert "the next `tfgen render` finishes it" in interrupted.stderr
    reading = runner.invoke(group, ["graph"])
    assert reading.exit_code == 130 and "nothing was written" in reading.stderr


def _envelope(text: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(text)
    assert set(document) == ENVELOPE
    return document


@pytest.mark.parametrize(
    "args, command, code",
    [
        (["validate", "-c", str(REPO / "environments.yaml")], "validate", 0),
        (["graph", "-c", str(REPO / "environments.yaml")], "graph", 0),
        (["explain", "-c", str(REPO / "environments.yaml"), "prod"], "explain", 0),
        (["graph", "-c", str(REPO / "environments.yaml"), "--env", "qa"], "graph", 2),
        (["explain", "-c", str(REPO / "environments.yaml"), "nope"], "explain", 2),
        (["validate", "-c", "missing.yaml"], "validate", 2),
        (["render", "-c", str(REPO / "environments.yaml"), "--check", "--env", "qa"], "render", 2),
    ],
)
def test_every_outcome_prints_the_same_envelope(runner: CliRunner, args: list[str], command: str, code: int) -> None:
    result = runner.invoke(main, [*args, "--format", "json"])
    assert result.exit_code == code, result.output
    document = _envelope(result.stdout)
    assert document["command"] == command and document["exit_code"] == code and document["ok"] is (code == 0)
    assert (document["result"] is None) is (code != 0)
    assert bool(document["errors"]) is (code != 0)


def test_json_errors_name_the_options_as_typed(runner: CliRunner) -> None:
    result = runner.invoke(main, ["graph", "-c", str(REPO / "environments.yaml"), "--env", "qa", "--format", "json"])
    message = _envelope(result.stdout)["errors"][0]["message"]
    assert message.startswith("--env qa: no such environment")


def _read_only(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """*directory* refuses new files, as the kernel refuses them: by its mode for a user,
    by os.open (EACCES with the file's name, as mkstemp sees it) for root, whom no mode stops."""
    directory.chmod(0o555)
    if os.geteuid() != 0:
        return
    real_open = os.open

    def refusing(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT and Path(os.fsdecode(path)).parent == directory:
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)


def test_a_read_only_output_directory_is_named_and_exits_2(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(reference_project.parent)
    output = reference_project.parent / "output"
    for child in output.iterdir():  # an empty, read-only output directory
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    _read_only(output, monkeypatch)
    try:
        result = runner.invoke(main, ["render"])
        as_json = runner.invoke(main, ["render", "--format", "json"])
    finally:
        output.chmod(0o755)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr == ("output/: cannot write into this directory: permission denied "
                             "(make output/ writable for this user, or render into another directory)\n")
    assert as_json.exit_code == 2
    error = json.loads(as_json.stdout)["errors"][0]
    assert (error["file"], error["rule"]) == ("output/", "io")
    assert list(output.iterdir()) == []


def test_errors_come_first_and_the_warnings_they_cause_fold_into_one_line(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in a unit's environment list (prdo) takes alb and orders-api out of prod:
    prod's settings for them are read by nothing and its overrides of them have no effect.
    Those 6 warnings printed before the 2 errors; the user fixing the file wants the errors,
    and the warnings that stand on their own."""
    monkeypatch.chdir(reference_project.parent)
    text = reference_project.read_text()
    for unit in ("module: edge/alb\n", "description: The orders HTTP API\n"):
        before = f"{unit}    environments: [staging, uat, prod]"
        assert text.count(before) == 1
        text = text.replace(before, f"{unit}    environments: [staging, uat, prdo]")
    # and a warning of its own, in another environment (dev runs no load balancer): still shown
    text = text.replace("      nat_gateway: none\n", "      nat_gateway: none\n      https_only: false\n", 1)
    reference_project.write_text(text)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].endswith("units.alb.environments[2]: unknown environment 'prdo' (did you mean 'prod'?)")
    assert lines[1].endswith("units.orders-api.environments[2]: unknown environment 'prdo' (did you mean 'prod'?)")
    assert "environments.dev.settings.https_only: warning: setting 'https_only' is read by no module" in lines[2]
    assert lines[3:] == [
        "(+6 warnings about environment prod, unit alb, unit orders-api that may follow from these errors: "
        "fix them and run again)",
        "2 errors, 7 warnings",
    ]
    # Scripts still get every warning.
    document = json.loads(runner.invoke(main, ["validate", "--format", "json"]).stdout)
    assert (len(document["errors"]), len(document["warnings"])) == (2, 7)
