"""Golden projects: tests/cases/<name>/ holds an input project and expected/, the tree
tfgen must render, byte for byte. After an intended change to the output, regenerate
the expectations with ``pytest tests/test_golden.py --update-golden`` and review the diff.
The reference project's golden tree is the committed output/ at the repository root."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator import api
from generator.output.state import MANIFEST

from .conftest import CASES, REPO, tree, without_fingerprint

GOLDEN = sorted(p.parent.name for p in CASES.glob("*/expected"))


def render_tree(config: Path, output: Path) -> dict[str, bytes]:
    api.render(config, output=output)
    rendered = tree(output)
    rendered.pop(MANIFEST)
    return rendered


@pytest.mark.parametrize("name", GOLDEN)
def test_case_renders_its_expected_tree(name: str, tmp_path: Path, update_golden: bool) -> None:
    rendered = render_tree(CASES / name / "environments.yaml", tmp_path / "out")
    expected_dir = CASES / name / "expected"
    if update_golden:
        shutil.rmtree(expected_dir, ignore_errors=True)
        for path, data in rendered.items():
            (expected_dir / path).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / path).write_bytes(data)
    expected = tree(expected_dir)
    assert sorted(rendered) == sorted(expected)
    for path in expected:
        assert rendered[path] == expected[path], f"{name}: {path} differs (rerun with --update-golden if intended)"


def test_reference_project_matches_committed_output(tmp_path: Path) -> None:
    """The committed output/ is exactly a fresh render of environments.yaml, manifest
    included (but for its fingerprint, which also digests tfgen's code)."""
    api.render(REPO / "environments.yaml", output=tmp_path / "out")
    assert without_fingerprint(tree(tmp_path / "out")) == without_fingerprint(tree(REPO / "output"))


def test_reference_project_renders_the_seed_tables() -> None:
    """The values of seed 004's tables, as the rendered env.hcl/region.hcl state them."""
    out = REPO / "output" / "environments"
    env = {name: _aligned((out / name / "env.hcl").read_text()) for name in ("dev", "staging", "uat", "prod")}
    assert 'db_instance_class = "db.t3.micro"' in env["dev"]
    assert 'db_instance_class = "db.t3.small"' in env["staging"]
    assert 'db_instance_class = "db.t3.small"' in env["uat"]  # medium tier, overridden
    assert 'ecs_instance_type = "t3.medium"' in env["uat"]
    assert 'db_instance_class = "db.r6g.large"' in env["prod"]
    for name, storage in (("dev", 20), ("staging", 30), ("uat", 50), ("prod", 100)):
        assert f"db_storage_gb = {storage}" in env[name]
    for name, protected in (("dev", "false"), ("staging", "false"), ("uat", "true"), ("prod", "true")):
        assert f"deletion_protection = {protected}" in env[name]
    for name, nat in (("dev", "none"), ("staging", "single"), ("uat", "single"), ("prod", "per_az")):
        assert f'nat_gateway = "{nat}"' in env[name]
    for name, days in (("dev", 7), ("staging", 14), ("uat", 14), ("prod", 30)):
        assert f"backup_retention_days = {days}" in env[name]
    assert "encryption_at_rest = true" in env["uat"] and "encryption_at_rest = true" in env["prod"]
    assert "encryption_at_rest = false" in env["dev"]
    cidrs = {("dev", "us-east-1"): "10.10.0.0/16", ("staging", "us-east-1"): "10.20.0.0/16",
             ("uat", "us-east-1"): "10.30.0.0/16", ("prod", "us-east-1"): "10.40.0.0/16",
             ("prod", "eu-west-1"): "10.50.0.0/16"}
    for (name, region), cidr in cidrs.items():
        text = _aligned((out / name / region / "region.hcl").read_text())
        assert f'vpc_cidr = "{cidr}"' in text
        assert f'azs = ["{region}a", "{region}b", "{region}c"]' in text


def _aligned(text: str) -> str:
    """*text* with the alignment of '=' removed (it depends on the longest key of a block)."""
    return re.sub(r"(?m)^(\s*\S+) +=", r"\1 =", text)
