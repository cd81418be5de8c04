"""bench/shapes.py: the tree shapes bench.terragrunt times are the trees they stand for.

bench/README.md ("Tree shapes as trees") reports that the one-include shapes evaluate to
exactly today's configurations; these tests hold that claim to Terragrunt itself, on
the reference project.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import shapes
from generator import api

from .conftest import REPO, need_tool
from .realclient import Client, find_tool, write_tree


@pytest.fixture(scope="module")
def today(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("shapes") / "today"
    return write_tree(api.plan(api.load(REPO / "environments.yaml")).desired, tree)


def test_one_include_leaves_include_one_file_that_holds_the_root_configuration(today: Path, tmp_path: Path) -> None:
    tree = shapes.make(today, tmp_path, "one-include")
    leaves = sorted(tree.rglob("terragrunt.hcl"))
    assert leaves
    for leaf in leaves:
        assert len(re.findall(r"^include ", leaf.read_text(encoding="utf-8"), re.MULTILINE)) == 1, leaf
    for module in (tree / "_envcommon").rglob("*.hcl"):
        text = module.read_text(encoding="utf-8")
        assert text.count("\nlocals {") == 1, module  # Terragrunt refuses a second locals block
        assert text.count("read_terragrunt_config") == 2, module
        assert 'key                         = "${trimprefix(path_relative_to_include(), "../../")}' in text, module
        assert 'generate "provider"' in text, module


@pytest.mark.external
@pytest.mark.slow
def test_the_one_include_shapes_evaluate_to_todays_configurations(today: Path, tmp_path: Path) -> None:
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    client = Client(terragrunt, tofu)
    expected = client.render_all(today)
    assert expected
    for shape in ("one-include", "one-include-one-read"):
        assert client.render_all(shapes.make(today, tmp_path, shape)) == expected, shape


def test_the_terragrunt_table_compares_each_style_with_the_first_of_the_same_run() -> None:
    from bench import terragrunt as bench_terragrunt

    row = {
        "units": 1000,
        "load": 0.7,
        "styles": {
            "classic": {"render": [0.7, 0.8, 0.7], "find": [7.0, 6.0, 8.0], "find_cpu": [14.0, 13.0, 15.0],
                        "evaluate": []},
            "single-include": {"render": [0.7, 0.7, 0.7], "find": [3.0, 3.5, 2.8], "find_cpu": [6.0, 6.5, 5.5],
                               "evaluate": []},
        },
    }
    lines = bench_terragrunt.table([row]).splitlines()
    classic, single = lines[2], lines[3]
    assert classic.startswith("| 1,000 | classic | 0.70 s (0.7-0.8) | 7.00 s (6.0-8.0) | 14.00 s (13.0-15.0) | 1.00x")
    # medians: 7.0 / 3.0 wall, 14.0 / 6.0 CPU
    assert "| single-include | 0.70 s (0.7-0.7) | 3.00 s (2.8-3.5) | 6.00 s (5.5-6.5) | 2.33x / 2.33x |" in single
    assert single.endswith("| not run | 3 | 0.7 |")
