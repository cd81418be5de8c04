"""HashiCorp's own tools judge every rendered file (QUALITY.md, "Real external checks").

- hclfmt: every committed file (output/, tests/cases/*/expected) and every fresh render
  of every project is unchanged by ``hclfmt -check -require-no-change``.
- pygohcl: every rendered file parses, and every value tfgen decided to write (each
  YAML string, number, bool, null, list and map) comes back from the Go parser with
  ``keep_interpolations=False`` exactly as it is in the model.

Under CI=true these fail, not skip, when hclfmt or pygohcl is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator import api
from generator.rendering.plan import PlannedFile

from .conftest import CASES, REPO
from .judges import assert_same, hcl_files, hclfmt_check

PROJECTS = {"reference": REPO / "environments.yaml"} | {
    p.parent.name: p.parent / "environments.yaml" for p in sorted(CASES.glob("*/expected"))
}


@dataclass
class Rendered:
    name: str
    root: Path
    planned: dict[str, PlannedFile]
    files: dict[str, bytes]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> list[Rendered]:
    """A fresh in-memory render of every project, also written out for hclfmt."""
    rendered = []
    for name, config in PROJECTS.items():
        staged = api.plan(api.load(config))
        planned, files = staged.files, staged.desired
        files = {p: d for p, d in files.items() if p.endswith(".hcl")}  # pipelines: tests/rendering/test_pipelines.py
        root = tmp_path_factory.mktemp(name)
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
        rendered.append(Rendered(name, root, {p.path: p for p in planned}, files))
    return rendered


def committed_files() -> list[Path]:
    files = hcl_files(REPO / "output")
    for expected in sorted(CASES.glob("*/expected")):
        files += hcl_files(expected)
    return files


@pytest.mark.external
def test_every_committed_file_is_canonical(hclfmt: str) -> None:
    files = committed_files()
    assert len(files) >= 60
    assert hclfmt_check(hclfmt, files) == []


@pytest.mark.external
def test_every_fresh_render_is_canonical(hclfmt: str, fresh: list[Rendered]) -> None:
    files = [f for r in fresh for f in hcl_files(r.root)]
    assert len(files) == sum(len(r.files) for r in fresh)
    assert hclfmt_check(hclfmt, files) == []


@pytest.mark.external
def test_every_rendered_file_parses(pygohcl: Any, fresh: list[Rendered]) -> None:
    from generator.hcl.syntax import file_problems

    problems = [
        problem
        for r in fresh
        for path, data in r.files.items()
        for problem in file_problems(data.decode("utf-8"), f"{r.name}/{path}")
    ]
    assert problems == []
    for path in committed_files():
        assert file_problems(path.read_text(encoding="utf-8"), str(path)) == []


def _values_of_one_file(pygohcl: Any, planned: PlannedFile, text: str) -> int:
    """Compare every value the template wrote with what the Go parser reads back."""
    parsed = pygohcl.loads(text, keep_interpolations=False)
    context = planned.context
    where = planned.path
    count = 0
    if planned.template in ("env.hcl.j2", "region.hcl.j2", "tenant.hcl.j2"):
        count += assert_same(context["locals"], parsed["locals"], f"{where}: locals")
    elif planned.template == "envcommon.hcl.j2":
        count += assert_same(context["module"].source_url, parsed["terraform"]["source"], f"{where}: source")
        count += assert_same(context["project_locals"], parsed["locals"]["project"], f"{where}: local.project")
        count += assert_same(context["inputs"], parsed.get("inputs", {}), f"{where}: inputs")
    elif planned.template == "terragrunt.hcl.j2":
        count += assert_same(context["inputs"], parsed.get("inputs", {}), f"{where}: inputs")
        if "project" in context["locals"]:
            count += assert_same(context["locals"]["project"], parsed["locals"]["project"], f"{where}: local.project")
        for dep in context["dependencies"]:
            block = parsed["dependency"][dep["name"]]
            count += assert_same(dep["config_path"], block["config_path"], f"{where}: {dep['name']}.config_path")
            if dep["mock_outputs"]:
                count += assert_same(dep["mock_outputs"], block["mock_outputs"], f"{where}: {dep['name']}.mock_outputs")
        protected = parsed.get("prevent_destroy", False)
        count += assert_same(context["prevent_destroy"], protected, f"{where}: prevent_destroy")
    elif planned.template == "root.hcl.j2":
        count += assert_same(context["state_config"], parsed["remote_state"]["config"], f"{where}: remote_state")
        for name, value in context["constraints"].items():
            count += assert_same(value, parsed[name], f"{where}: {name}")
        # provider.tf is HCL inside a heredoc template: Terragrunt evaluates the heredoc,
        # Terraform parses the result. Both levels must keep the tags literal.
        contents = parsed["generate"]["provider"]["contents"]
        # (the Go parser gives interpolations without their "${ }")
        marker = ", jsonencode(local.env.tags))"
        if marker in contents:
            # Environments with tags: merge(the project's literal tags, local.env.tags), the
            # second as JSON that Terragrunt's template writes; the literal must parse alone.
            line = next(x for x in contents.split("\n") if marker in x)
            literal = line.split("tags = merge(", 1)[1].rsplit(marker, 1)[0]
            contents = contents.replace(line, f"    tags = {literal}")
        provider = pygohcl.loads(contents, keep_interpolations=False)
        tags = provider["provider"]["aws"]["default_tags"]["tags"]
        tags.pop("Environment")
        count += assert_same(dict(context["project"].tags), tags, f"{where}: provider.tf default_tags")
    else:
        raise AssertionError(f"{where}: no value check for template {planned.template}")
    return count


@pytest.mark.external
def test_every_value_comes_back_from_the_go_parser(pygohcl: Any, fresh: list[Rendered]) -> None:
    counts = {
        r.name: sum(_values_of_one_file(pygohcl, r.planned[path], data.decode()) for path, data in r.files.items())
        for r in fresh
    }
    # Every project contributes values; the adversarial case contributes most per file.
    assert all(count > 0 for count in counts.values()), counts
    assert counts["hcl-fidelity"] >= 80, counts
