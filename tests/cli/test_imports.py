"""What a command imports: `tfgen --version`, and a render or `--check` that the
manifest proves changes nothing, import none of the stages they do not run (the model,
the rules, the renderer, the YAML and schema libraries). Interpreter start and imports
are most of what those commands cost (issue 27)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli.commands import GRAPH_FORMATS
from generator.features import graph

from ..conftest import REPO

#: Modules of the stages that only loading, validating and rendering need.
STAGES = {
    "generator.project.model",
    "generator.project.loader",
    "generator.project.catalog",
    "generator.checks",
    "generator.rendering.plan",
    "generator.rendering.render",
    "generator.features.graph",
    "generator.importing.evaluate",
    "jinja2",
    "jsonschema",
    "yaml",
}


def _imported(*runs: list[str]) -> set[str]:
    """The modules loaded after running the command line once per *runs* in a fresh
    interpreter (each run must exit 0)."""
    script = (
        "import sys\n"
        "from generator.cli import main\n"
        f"for args in {list(runs)!r}:\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as done:\n"
        "        assert not done.code, (args, done.code)\n"
        "print('IMPORTED', ' '.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split("IMPORTED", 1)[1].split())


def test_version_imports_no_stage() -> None:
    imported = _imported(["--version"])
    assert "generator.cli" in imported
    assert imported & STAGES == set()


@pytest.mark.parametrize("check", [True, False])
def test_a_render_proven_unchanged_imports_no_stage(tmp_path: Path, check: bool) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "examples" / "001-order-analytics", project,
                    ignore=shutil.ignore_patterns("output*"))
    config = str(project / "environments.yaml")
    assert "generator.rendering.render" in _imported(["render", "-c", config])  # the control
    again = ["render", "--check", "-c", config] if check else ["render", "-c", config]
    assert _imported(again) & STAGES == set()


def test_the_command_line_offers_every_graph_format() -> None:
    assert tuple(graph.FORMATS) == GRAPH_FORMATS
