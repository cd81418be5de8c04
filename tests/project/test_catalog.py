"""Finding catalog files by exact, case-sensitive name."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.project.catalog import find_module_file


def test_catalog_lookup_compares_names_exactly(tmp_path: Path) -> None:

    catalog = tmp_path / "catalog"
    (catalog / "Data").mkdir(parents=True)
    (catalog / "Data" / "rds.yaml").write_text("x: 1\n")
    (catalog / "apps").mkdir()
    (catalog / "apps" / "api.yaml").write_text("x: 1\n")
    (catalog / "apps" / "API.yaml").write_text("x: 1\n")
    mismatch = find_module_file(catalog, "data/rds")
    assert mismatch.path is None and mismatch.case_mismatch == catalog / "Data" / "rds.yaml"
    found = find_module_file(catalog, "apps/api")
    assert found.path == catalog / "apps" / "api.yaml"
    assert found.collisions == (catalog / "apps" / "API.yaml",)
    missing = find_module_file(catalog, "apps/web")
    assert missing.path is None and missing.case_mismatch is None
    assert set(missing.known) == {"Data/rds", "apps/API", "apps/api"}


def test_a_catalog_module_no_unit_deploys_is_a_warning_at_its_file(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = reference_project.parent
    monkeypatch.chdir(root)
    (root / "catalog/data/aurora.yaml").write_text((root / "catalog/data/rds.yaml").read_text())
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    assert ("catalog/data/aurora.yaml:1:1: warning: module data/aurora is not deployed by any unit: it is neither "
            "checked nor rendered (name it in a unit (units.NAME.module: data/aurora), or delete the file)"
            ) in result.stderr.splitlines()
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 2
    # Deployed by a unit override only (module: on an environment's unit), it is used.
    text = reference_project.read_text()
    reference_project.write_text(text.replace("    units:\n", "    units:\n      rds: {module: data/aurora}\n", 1))
    assert "data/aurora" not in runner.invoke(main, ["validate"]).stderr


def test_a_misspelt_module_does_not_make_the_module_meant_look_unused(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(reference_project.parent)
    text = reference_project.read_text()
    reference_project.write_text(text.replace("module: monitoring/alerts\n", "module: monitoring/alert\n", 1))
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "module 'monitoring/alert' not found" in result.stderr and "not deployed by any unit" not in result.stderr
