"""style: single-include: one include per unit, the module file carrying root.hcl's settings.

The style exists for Terragrunt's speed (bench/README.md): its promise is that nothing
else changes. Terragrunt itself judges that: every unit of the reference project, of
every example and of the tenants case (renamed units, kept state objects, the remote
backend among them) evaluates to the same configuration (inputs, remote state and its
key, generated files, source, dependencies) as in the classic style; a rehearsal applies
a project in both styles to the same state objects; switching styles moves no state.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.errors import InputError
from generator.project import layout
from generator.rehearse.run import Options, rehearse

from .conftest import REPO, need_tool
from .realclient import Client, find_tool, write_tree
from .test_rehearse import _failures, tools  # noqa: F401 (a fixture)
from .test_tenants import REMOTE_STATE

EXAMPLES = REPO / "examples"
LAYERED = EXAMPLES / "003-layered-monorepo"
TENANTS = REPO / "tests" / "cases" / "tenants"
#: service-c renamed service-d (previous:), and dev's vpc keeps a state object of its own (state:).
RENAMED = (
    (
        "  service-c:\n    module: applications/ecs-service\n",
        "  service-d:\n    module: applications/ecs-service\n    previous: service-c\n",
    ),
)
KEPT = (
    "      us-east-1: { vpc_cidr: 10.10.0.0/16, azs: [a, b, c] }\n",
    "      us-east-1:\n        vpc_cidr: 10.10.0.0/16\n        azs: [a, b, c]\n"
    "        units:\n          vpc:\n            state: { bucket: old-bucket, key: old/vpc.tfstate }\n",
)
#: name -> (environments file, edits)
PROJECTS: dict[str, tuple[Path, tuple[tuple[str, str], ...]]] = {
    "reference": (REPO / "environments.yaml", ()),
    **{p.parent.name: (p, ()) for p in sorted(EXAMPLES.glob("*/environments.yaml"))},
    "003-remote": (LAYERED / "environments.remote.yaml", ()),
    "003-renamed-kept": (LAYERED / "environments.yaml", (*RENAMED, KEPT)),
    "003-remote-renamed": (LAYERED / "environments.remote.yaml", RENAMED),
    "tenants": (TENANTS / "environments.yaml", ()),
    # {tenant} in the workspace name: local.tenant_name, read from tenant.hcl's values
    "tenants-remote": (TENANTS / "environments.yaml", (REMOTE_STATE,)),
}


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each project's environments file; an edited one as a project of its own."""
    found: dict[str, Path] = {}
    for name, (config, edits) in PROJECTS.items():
        if not edits:
            found[name] = config
            continue
        root = tmp_path_factory.mktemp(name)
        (root / "catalog").symlink_to(config.parent / "catalog")
        text = config.read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, old
            text = text.replace(old, new, 1)
        found[name] = root / "environments.yaml"
        found[name].write_text(text, encoding="utf-8")
    return found


def _tree(config: Path, style: str) -> dict[str, bytes]:
    return api.plan(api.load(config), style=style).desired


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_each_unit_includes_its_module_file_alone_and_no_root_hcl_is_written(
    name: str, configs: dict[str, Path]
) -> None:
    files = _tree(configs[name], "single-include")
    assert layout.ROOT not in files
    leaves = {p: t.decode() for p, t in files.items() if p.endswith("/" + layout.UNIT_FILE)}
    assert leaves
    for path, text in leaves.items():
        includes = re.findall(r'^include "(\w+)" \{\n  path +=? "([^"]+)"', text, re.MULTILINE)
        assert len(includes) == 1, path
        target = (Path(path).parent / includes[0][1]).as_posix()
        resolved = Path("/x", target).resolve().as_posix()[len("/x/") :]
        assert resolved in files and resolved.startswith(layout.ENVCOMMON + "/"), (path, target)
    for path, text in ((p, t.decode()) for p, t in files.items() if p.startswith(layout.ENVCOMMON + "/")):
        assert text.count("\nlocals {") == 1, path  # Terragrunt refuses a second locals block
        assert 'generate "provider"' in text, path
        assert "remote_state {" in text or 'generate "backend"' in text, path


@pytest.mark.parametrize("name", ["003-renamed-kept", "003-remote-renamed"])
def test_a_renamed_unit_keeps_its_state_through_its_module_file(name: str, configs: dict[str, Path]) -> None:
    files = _tree(configs[name], "single-include")
    leaf = files["environments/dev/us-east-1/04-applications/service-d/terragrunt.hcl"].decode()
    assert "remote_state" not in leaf and "generate" not in leaf  # the module file maps it
    shared = files["_envcommon/applications/ecs-service.hcl"].decode()
    unit = "environments/dev/us-east-1/04-applications/service-"
    assert re.search(rf'\n    "{unit}d" += "{unit}c"\n', shared)
    assert 'lookup(local.moved, trimprefix(path_relative_to_include(), "../../"), ' in shared
    # the other modules' files do not change with a rename
    assert "moved" not in files["_envcommon/foundation/vpc.hcl"].decode()


def test_a_unit_that_keeps_its_state_object_exposes_its_one_include(configs: dict[str, Path]) -> None:
    files = _tree(configs["003-renamed-kept"], "single-include")
    leaf = files["environments/dev/us-east-1/01-foundation/vpc/terragrunt.hcl"]
    text = leaf.decode()
    assert "  expose = true\n" in text
    assert "remote_state = merge(include.envcommon.remote_state, {" in text


def test_values_files_are_plain_attributes_read_without_parsing_a_configuration(configs: dict[str, Path]) -> None:
    """read_terragrunt_config makes Terragrunt build and evaluate a whole configuration per
    read, which was most of what discovering the tree cost: the values are variable values."""
    files = _tree(configs["002-client-platform"], "single-include")
    values = [p for p in files if p.rsplit("/", 1)[-1] in (layout.ENV_FILE, layout.REGION_FILE, layout.TENANT_FILE)]
    assert any(p.endswith(layout.TENANT_FILE) for p in values)
    for path in values:
        text = files[path].decode()
        assert "locals {" not in text and re.search(r"^\w+ += ", text, re.MULTILINE), path
    for path, text in ((p, t.decode()) for p, t in files.items() if p.endswith(".hcl")):
        assert "read_terragrunt_config" not in text, path


def test_an_expression_among_the_values_is_refused_at_its_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "catalog").symlink_to(REPO / "catalog")
    text = (REPO / "environments.yaml").read_text(encoding="utf-8")
    assert "\n    flow_logs: false\n" in text
    text = text.replace("\n    flow_logs: false\n", '\n    flow_logs: !hcl "1 == 1"\n', 1)
    (project / "environments.yaml").write_text(text, encoding="utf-8")
    line = text[: text.index("!hcl")].count("\n") + 1
    loaded = api.load(project / "environments.yaml")
    api.plan(loaded)  # the classic style evaluates env.hcl's locals
    with pytest.raises(InputError) as raised:
        api.plan(loaded, style="single-include")
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.location.line == line
    assert "settings.flow_logs is an expression (1 == 1)" in diagnostic.message


def test_a_project_root_template_is_refused_not_ignored(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    (project / "environments.yaml").write_bytes((REPO / "environments.yaml").read_bytes())
    (project / "catalog").symlink_to(REPO / "catalog")
    (project / "templates" / "root.hcl.j2").write_text("# mine\n", encoding="utf-8")
    (project / "templates" / "envcommon.hcl.j2").write_text("{{ header }}\n# {{ module.id }}\n", encoding="utf-8")
    (project / "templates" / "region.hcl.j2").write_text(
        "{{ header }}\nlocals {\n{% for k, v in locals.items() %}  {{ k }} = {{ v | hcl }}\n{% endfor %}}\n",
        encoding="utf-8",
    )
    loaded = api.load(project / "environments.yaml")
    api.plan(loaded)  # the classic style renders them
    with pytest.raises(InputError) as raised:
        api.plan(loaded, style="single-include")
    messages = [d.message for d in raised.value.diagnostics]
    # each at the template that would be ignored or would write the wrong file
    assert {Path(d.location.file).name for d in raised.value.diagnostics} == {
        "root.hcl.j2", "envcommon.hcl.j2", "region.hcl.j2"
    }
    assert all(d.location.line == 1 for d in raised.value.diagnostics)
    assert any("templates/root.hcl.j2 is not read" in m for m in messages)
    assert any("templates/envcommon.hcl.j2 does not write root.hcl's settings" in m for m in messages)
    assert any("templates/region.hcl.j2 does not write plain values" in m for m in messages)
    for name in ("envcommon.hcl.j2", "region.hcl.j2", "root.hcl.j2"):  # tfgen's own, copied: accepted
        (project / "templates" / name).write_bytes((REPO / "templates" / name).read_bytes())
    assert layout.ROOT not in api.plan(api.load(project / "environments.yaml"), style="single-include").desired


@pytest.mark.external
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_terragrunt_evaluates_every_unit_as_in_the_classic_style(
    name: str, configs: dict[str, Path], tmp_path: Path
) -> None:
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    client = Client(terragrunt, tofu)
    evaluated: dict[str, dict[str, dict[str, Any]]] = {}
    for style in ("classic", "single-include"):
        evaluated[style] = client.render_all(write_tree(_tree(configs[name], style), tmp_path / style))
    assert evaluated["classic"]
    assert evaluated["single-include"].keys() == evaluated["classic"].keys()
    for unit, expected in evaluated["classic"].items():
        assert evaluated["single-include"][unit] == expected, unit


@pytest.mark.slow
def test_the_rehearsal_applies_and_destroys_a_single_include_tree(  # type: ignore[no-untyped-def]
    tools: tuple[str, str, str], copy_case  # noqa: F811
) -> None:
    """Beyond evaluation: OpenTofu applies the tree against the local S3 (two accounts,
    two regions, a lock table), each unit's outputs reach its dependents through state,
    at the same state keys as in the classic style, and protection holds on destroy."""
    config = copy_case("rehearsal")
    classic = rehearse(Options(config, *tools))
    assert classic.ok, _failures(classic)
    with config.open("a", encoding="utf-8") as handle:
        handle.write("\nstyle: single-include\n")
    single = rehearse(Options(config, *tools))
    assert single.ok, _failures(single)
    assert sorted(single.state_objects) == sorted(classic.state_objects) and len(single.state_objects) == 7
    assert {(f.source, f.output, f.target, f.input) for f in single.flows} == {
        (f.source, f.output, f.target, f.input) for f in classic.flows
    }
    assert {u.address for u in single.units if u.kept} == {u.address for u in classic.units if u.kept}


def test_switching_styles_needs_no_confirmation_from_classic_and_names_the_tree_it_replaces(
    reference_project: Path,
) -> None:
    runner = CliRunner()
    config = str(reference_project)
    out = reference_project.parent / "output"
    classic = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = runner.invoke(main, ["render", "-c", config, "--style", "single-include"])
    assert result.exit_code == 0, result.output  # the same units and state keys: a plain render
    assert not (out / layout.ROOT).exists()
    result = runner.invoke(main, ["render", "-c", config, "--style", "stacks"])
    assert result.exit_code == 1
    assert "render refused to drop the single-include tree" in result.output
    assert "Switching from single-include to stacks" in result.output
    result = runner.invoke(main, ["render", "-c", config, "--style", "stacks", "--switch-style"])
    assert result.exit_code == 0, result.output
    # what `terragrunt stack generate` wrote would be merged into the unit by Terragrunt
    leftover = out / "environments/dev/us-east-1/01-network/vpc" / layout.GENERATED_FILES[1]
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_text("values = {}\n", encoding="utf-8")
    result = runner.invoke(main, ["render", "-c", config, "--style", "single-include", "--switch-style"])
    assert result.exit_code != 0 and "written by `terragrunt stack generate`" in result.output, result.output
    leftover.unlink()
    result = runner.invoke(main, ["render", "-c", config, "--switch-style"])
    assert result.exit_code == 0, result.output
    back = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert {p: d for p, d in back.items() if not p.endswith(".json")} == {
        p: d for p, d in classic.items() if not p.endswith(".json")
    }
