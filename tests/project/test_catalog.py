"""Finding catalog files by exact, case-sensitive name."""

from __future__ import annotations

from pathlib import Path

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
