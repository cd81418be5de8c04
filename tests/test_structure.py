"""Every rendered file parses with python-hcl2, and the tree has the structure a
Terragrunt user relies on: includes, dependency paths, env.hcl and region.hcl."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

import hcl2
import pytest

from generator import api

from .conftest import CASES, REPO


def parsed_tree(root: Path) -> dict[str, dict[str, Any]]:
    return {p.relative_to(root).as_posix(): hcl2.loads(p.read_text()) for p in sorted(root.rglob("*.hcl"))}


def unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def blocks(body: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in body.get(kind, []):
        for label, content in block.items():
            found[unquote(label)] = content
    return found


@pytest.fixture(params=["reference", "minimal", "every-key"])
def rendered(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "reference":
        return REPO / "output"
    api.render(CASES / request.param / "environments.yaml", output=tmp_path / "out")
    return tmp_path / "out"


def test_tree_structure(rendered: Path) -> None:
    files = parsed_tree(rendered)
    assert "root.hcl" in files and "terragrunt.hcl" not in files
    leaves = [p for p in files if p.endswith("/terragrunt.hcl")]
    assert leaves
    env_dirs = {p.split("/")[1] for p in leaves}
    region_dirs = {tuple(p.split("/")[1:3]) for p in leaves}
    for env in env_dirs:
        assert f"environments/{env}/env.hcl" in files
    for env, region in region_dirs:
        assert f"environments/{env}/{region}/region.hcl" in files
    unit_dirs = {posixpath.dirname(p) for p in leaves}
    for leaf in leaves:
        body = files[leaf]
        includes = blocks(body, "include")
        assert set(includes) >= {"root", "envcommon"}, leaf
        assert 'find_in_parent_folders("root.hcl")' in includes["root"]["path"]
        envcommon = unquote(includes["envcommon"]["path"])
        # expose makes Terragrunt parse the envcommon file once more for every evaluation:
        # only a leaf whose own expressions read include.envcommon asks for it
        assert includes["envcommon"].get("expose") in (None, True)
        if includes["envcommon"].get("expose"):
            assert "include.envcommon" in body, leaf
        common = envcommon.split("}/", 1)[1]
        assert common in files and common.startswith("_envcommon/"), leaf
        assert "include" not in files[common], "Terragrunt allows only one level of include"
        assert "terraform" in files[common]
        for name, dep in blocks(body, "dependency").items():
            target = posixpath.normpath(posixpath.join(posixpath.dirname(leaf), unquote(dep["config_path"])))
            assert target in unit_dirs, f"{leaf}: dependency {name} -> {target} is not a unit"
    for path, body in files.items():
        if path.endswith(("env.hcl", "region.hcl")):
            assert set(body) - {"__comments__"} == {"locals"}, path


def test_prevent_destroy_only_in_protected_environments() -> None:
    files = parsed_tree(REPO / "output")
    for path, body in files.items():
        if path.endswith("/terragrunt.hcl"):
            env = path.split("/")[1]
            assert body.get("prevent_destroy", False) is (env in ("uat", "prod")), path
