"""The README's Python API example runs as written, against a copy of the reference
project whose dev environment has not been rendered yet."""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from pathlib import Path

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
