"""The library face: staged calls, result types, and errors that speak of arguments."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import generator

from .conftest import REPO


def test_library_errors_name_arguments_not_options(tmp_path: Path) -> None:
    with pytest.raises(generator.ArgumentError) as caught:
        generator.render(REPO / "environments.yaml", output=tmp_path, scope=generator.Scope(("qa",)))
    text = str(caught.value)
    assert "scope.environments qa: no such environment" in text and "--env" not in text
    with pytest.raises(generator.ArgumentError) as bad_init:
        generator.init(tmp_path / "new", project="Bad Name", regions=("mars-1",))
    assert [p.argument for p in bad_init.value.problems] == ["project", "regions"]
    assert "--" not in str(bad_init.value)


def test_a_refused_write_names_the_keyword_argument(reference_project: Path) -> None:
    output = reference_project.parent / "output"
    leaf = next(output.glob("environments/dev/*/*/*/terragrunt.hcl"))
    leaf.write_text(leaf.read_text() + "# mine\n")
    planned = generator.plan(generator.load(reference_project))
    with pytest.raises(generator.UnsafeWriteError) as caught:
        generator.apply(planned)
    assert any("force=True" in d.hint for d in caught.value.diagnostics)
    assert "--force" not in str(caught.value)
    assert not caught.value.result.written


def test_staged_calls_plan_once_and_write_what_diff_showed(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "catalog", project / "catalog")
    shutil.copy2(REPO / "environments.yaml", project / "environments.yaml")
    loaded = generator.load(project / "environments.yaml")
    planned = generator.plan(loaded, scope=generator.Scope(("dev",)))
    assert all(f.environment in (None, "dev") for f in planned.files)
    before = generator.diff(planned)
    assert not before.in_sync and before.count("created") == before.files == len(planned.desired)
    written = generator.apply(planned)
    assert written.written and {c.path for c in written.changes} == {c.path for c in before.changes}
    assert generator.diff(planned).in_sync
    assert generator.check(project / "environments.yaml", scope=generator.Scope(("dev",))).in_sync


def test_result_objects_print_short(reference_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """print(generator.validate(...)) printed the whole model, 1.3 MB for the reference
    project: every result and model object prints as one short line that says what it is."""
    monkeypatch.chdir(reference_project.parent)
    loaded = generator.validate("environments.yaml")
    planned = generator.plan(loaded)
    compared = generator.diff(planned)
    project = loaded.project
    shown = {
        "validate": repr(loaded),
        "plan": repr(planned),
        "diff": repr(compared),
        "change": repr(compared.changes[0]),
        "graph": repr(generator.graph("environments.yaml")),
        "explain unit": repr(generator.explain("environments.yaml", "prod/us-east-1/rds")),
        "explain scope": repr(generator.explain("environments.yaml", "prod/us-east-1")),
        "project": repr(project),
        "unit": repr(project.units[0]),
        "environment": repr(project.environments[0]),
        "region": repr(project.environments[0].regions[0]),
        "module": repr(project.modules["data/rds"]),
        "unit spec": repr(project.unit_specs[0]),
    }
    assert {k: v for k, v in shown.items() if len(v) > 200 or "\n" in v} == {}
    assert shown["validate"] == ("<ValidationResult environments.yaml: <Project terragrunt-starter: 4 environments, "
                                 "78 units from 16 modules>, 0 warnings>")
    assert shown["diff"].endswith("104 unchanged, written=False, in_sync=True>")
    assert shown["unit"] == "<Unit dev/us-east-1/vpc (networking/vpc)>"
    assert shown["explain unit"].startswith("<UnitExplanation prod/us-east-1/rds: ")
    assert str(loaded) == repr(loaded)  # print() shows the same line
