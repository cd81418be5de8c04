"""Reading a project as it was at a git revision: into memory, only its inputs, links
never followed, the working tree and index untouched."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.errors import InputError
from generator.project import revision

from ..features.test_affected_oracle import git


def _repository(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "infra" / "catalog" / "data").mkdir(parents=True)
    (root / "infra" / "environments.yaml").write_text("version: 1\n", encoding="utf-8")
    (root / "infra" / "catalog" / "data" / "rds.yaml").write_text("source: x\n", encoding="utf-8")
    (root / "infra" / "output").mkdir()
    (root / "infra" / "output" / "root.hcl").write_text("# old tree\n", encoding="utf-8")
    (root / "infra" / "notes.md").write_text("not an input\n", encoding="utf-8")
    os.symlink("/etc/passwd", root / "infra" / "catalog" / "link.yaml")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root / "infra" / "environments.yaml"


def test_a_revision_is_read_into_memory_inputs_only_links_skipped(tmp_path: Path) -> None:
    config = _repository(tmp_path)
    config.write_text("version: 2\n", encoding="utf-8")  # the working tree is not read
    files = revision.read(config, "main")
    assert files == {"environments.yaml": b"version: 1\n", "catalog/data/rds.yaml": b"source: x\n"}
    assert config.read_text(encoding="utf-8") == "version: 2\n"
    assert git(config.parent, "status", "--porcelain") == "M infra/environments.yaml"


def test_a_revision_without_the_project_is_none_and_an_unknown_one_is_bad_input(tmp_path: Path) -> None:
    config = _repository(tmp_path)
    assert revision.read(config.parent / "other.yaml", "main") is None
    with pytest.raises(InputError, match="unknown git revision 'nope'"):
        revision.read(config, "nope")
    with pytest.raises(InputError, match="is not a git revision"):
        revision.read(config, "--output=/tmp/x")
