"""`tfgen affected` against an oracle that knows nothing of tfgen.

For every golden project (tests/cases/*/ with expected/) and the reference project, a
set of edits is generated from the YAML alone: a sizing change, a region added, a
shared template changed, a template change nothing reads, a unit removed, a catalog
version bump, a unit renamed and a module moved to another layer (both with
``previous:``). Each project is committed to a temporary git repository, the edit is
committed on top, and both revisions' rendered trees are evaluated by Terragrunt
(`render --all --json`, offline, mock dependency outputs). A unit is affected when its
evaluated configuration (all but its locals) changed, or it exists in only one revision. tfgen must list
every such unit (never miss one); every unit it lists beyond them must carry a reason.
A directory that disappears while a new one evaluates to the same remote state (bucket
and key) is one unit moved: tfgen lists it once, as moved, and never for destroy.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import api
from generator.api import affected

from ..conftest import CASES, REPO, need_tool
from ..realclient import find_tool

#: "<project>-single-include": the project in style: single-include (no root.hcl; each
#: module file carries the remote state and provider; values files read as variables).
SINGLE = "-single-include"
PROJECTS = [
    *sorted(p.parent.name for p in CASES.glob("*/expected")), "reference", f"reference{SINGLE}", f"tenants{SINGLE}",
]
NEW_REGIONS = ("ap-southeast-2", "ca-central-1", "sa-east-1")


# --- YAML that keeps !hcl expressions ---------------------------------------------


class Hcl(str):
    pass


class _Loader(yaml.SafeLoader):
    pass


class _Dumper(yaml.SafeDumper):
    pass


_Loader.add_constructor("!hcl", lambda loader, node: Hcl(loader.construct_scalar(node)))  # type: ignore[arg-type]
_Dumper.add_representer(Hcl, lambda dumper, value: dumper.represent_scalar("!hcl", str(value), style='"'))


def read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def write_yaml(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000), "utf-8")


# --- the edits, computed from the project's YAML alone --------------------------------


Edit = Callable[[Path], None]


def _bumped(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    return f"{value}-changed"


def sizing_change(root: Path) -> Edit | None:
    data = read_yaml(root / "environments.yaml")
    tiers = data.get("sizing") or {}
    name = list(data["environments"])[-1]
    env = data["environments"][name]
    tier = env.get("sizing") or (data.get("defaults") or {}).get("sizing")
    if tier not in tiers or not tiers[tier]:
        return None
    key = next(iter(tiers[tier]))

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        target = doc["environments"][name]
        current = {**tiers[tier], **(target.get("sizing_overrides") or {})}
        target["sizing_overrides"] = {**(target.get("sizing_overrides") or {}), key: _bumped(current[key])}
        write_yaml(root / "environments.yaml", doc)

    return edit


def setting_change(root: Path) -> Edit | None:
    """One environment setting of the last environment changed (settings are deep-merged
    over defaults; regions may override it, then nothing changes there)."""
    data = read_yaml(root / "environments.yaml")
    name = list(data["environments"])[-1]
    merged = {**((data.get("defaults") or {}).get("settings") or {}),
              **(data["environments"][name].get("settings") or {})}
    scalar = [k for k, v in merged.items() if not isinstance(v, (dict, list))]
    if not scalar:
        return None
    key = scalar[0]
    # A declared setting keeps to its allowed values (validate refuses the others).
    allowed = ((data.get("settings_schema") or {}).get(key) or {}).get("allowed")
    others = [v for v in allowed or () if v != merged[key]]
    value = others[0] if others else _bumped(merged[key])

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        env = doc["environments"][name]
        env["settings"] = {**(env.get("settings") or {}), key: value}
        write_yaml(root / "environments.yaml", doc)

    return edit


def region_added(root: Path) -> Edit | None:
    data = read_yaml(root / "environments.yaml")
    used = {r for env in data["environments"].values() for r in env["regions"]}
    region = next(r for r in NEW_REGIONS if r not in used)
    name = next(iter(data["environments"]))

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        doc["environments"][name]["regions"][region] = {"vpc_cidr": "10.250.0.0/16", "azs": ["a", "b"]}
        if "aws_regions" in doc:
            doc["aws_regions"] = [*doc["aws_regions"], region]
        write_yaml(root / "environments.yaml", doc)

    return edit


def _template(root: Path, name: str) -> str:
    own = root / "templates" / name
    return (own if own.is_file() else REPO / "templates" / name).read_text(encoding="utf-8")


def shared_template_change(root: Path) -> Edit | None:
    def edit(root: Path) -> None:
        # style single-include has no root.hcl: its module files carry the remote state
        single = read_yaml(root / "environments.yaml").get("style") == "single-include"
        name = "envcommon.hcl.j2" if single else "root.hcl.j2"
        text = _template(root, name)
        assert "\nremote_state {" in text
        text = text.replace("\nremote_state {", '\nterraform_binary = "tofu"\n\nremote_state {', 1)
        (root / "templates").mkdir(exist_ok=True)
        (root / "templates" / name).write_text(text, encoding="utf-8")

    return edit


def unread_template_change(root: Path) -> Edit | None:
    """A local added to every env.hcl that no file reads."""

    def edit(root: Path) -> None:
        text = _template(root, "env.hcl.j2")
        assert "\nlocals {\n" in text
        text = text.replace("\nlocals {\n", '\nlocals {\n  owner = "platform-team"\n', 1)
        (root / "templates").mkdir(exist_ok=True)
        (root / "templates" / "env.hcl.j2").write_text(text, encoding="utf-8")

    return edit


def _catalog(root: Path) -> dict[str, Any]:
    return {p.relative_to(root / "catalog").with_suffix("").as_posix(): read_yaml(p)
            for p in sorted((root / "catalog").rglob("*.yaml"))}


def unit_removed(root: Path) -> Edit | None:
    """A unit no other unit depends on, switched off in one environment that deploys it."""
    data = read_yaml(root / "environments.yaml")
    needed = {d["unit"] for module in _catalog(root).values() for d in (module.get("dependencies") or {}).values()}
    candidates = [n for n in data["units"] if n not in needed]
    if not candidates:
        return None
    unit = candidates[-1]
    name = (data["units"][unit].get("environments") or list(data["environments"]))[0]

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        env = doc["environments"][name]
        env["units"] = {**(env.get("units") or {}), unit: False}
        write_yaml(root / "environments.yaml", doc)

    return edit


def version_bump(root: Path) -> Edit | None:
    # a module some unit deploys (a catalog file no unit deploys would be bumped for nothing)
    config = (root / "environments.yaml").read_text(encoding="utf-8")
    found = [(m, d) for m, d in _catalog(root).items()
             if d.get("version") and re.search(rf"module: {re.escape(m)}(?![\w/-])", config)]
    if not found:
        return None
    module, data = found[0]

    def edit(root: Path) -> None:
        parts = str(data["version"]).split(".")
        head, digits = parts[-1].rstrip("0123456789"), parts[-1][len(parts[-1].rstrip("0123456789")):]
        parts[-1] = head + str(int(digits or "0") + 1)
        changed = copy.deepcopy(data)
        changed["version"] = ".".join(parts)
        write_yaml(root / "catalog" / f"{module}.yaml", changed)

    return edit


def dependency_retarget(root: Path) -> Edit | None:
    """A unit's own dependency pointed at another unit (issue 22): only that unit changes,
    in every environment and region it is placed in."""
    data = read_yaml(root / "environments.yaml")
    units = data["units"]
    found = [
        (owner, dependency, other)
        for owner, unit in units.items()
        for dependency, wanted in ((unit or {}).get("dependencies") or {}).items()
        if isinstance(wanted, dict) and "unit" in wanted
        # another unit of the same module as the current target: the same outputs
        for other, candidate in units.items()
        if other not in (owner, wanted["unit"]) and candidate["module"] == units[wanted["unit"]]["module"]
    ]
    if not found:
        return None
    owner, dependency, target = found[0]

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        doc["units"][owner]["dependencies"][dependency]["unit"] = target
        write_yaml(root / "environments.yaml", doc)

    return edit


def protection_lift(root: Path) -> Edit | None:
    """One unit of a protected environment given its own deletion_protection: false
    (issue 21 item 3): that unit alone changes."""
    data = read_yaml(root / "environments.yaml")
    protected = [n for n, e in data["environments"].items() if e.get("deletion_protection")]
    if not protected:
        return None
    name = protected[-1]
    unit = next(iter(data["units"]))

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        env = doc["environments"][name]
        env["units"] = {**(env.get("units") or {}), unit: {"deletion_protection": False}}
        write_yaml(root / "environments.yaml", doc)

    return edit


def _rename_everywhere(doc: dict[str, Any], old: str, new: str) -> None:
    """The unit *old* called *new* in environments.yaml: its definition and every override."""
    doc["units"] = {(new if k == old else k): v for k, v in doc["units"].items()}
    for unit in doc["units"].values():  # the units that name it (their own dependencies)
        for wanted in ((unit or {}).get("dependencies") or {}).values():
            if isinstance(wanted, dict) and wanted.get("unit") == old:
                wanted["unit"] = new
    for tenant in (doc.get("tenants") or {}).values():  # a tenant's overrides of its units
        if isinstance(tenant, dict) and isinstance(tenant.get("units"), dict):
            tenant["units"] = {(new if k == old else k): v for k, v in tenant["units"].items()}
    for env in doc["environments"].values():
        places = [env, *((env.get("regions") or {}).values())]
        for place in places:
            if isinstance(place, dict) and isinstance(place.get("units"), dict):
                place["units"] = {(new if k == old else k): v for k, v in place["units"].items()}


def _depended_on(root: Path) -> list[str]:
    return [d["unit"] for module in _catalog(root).values() for d in (module.get("dependencies") or {}).values()]


def unit_renamed(root: Path) -> Edit | None:
    """A unit that others depend on (else the last one) renamed, keeping its state."""
    data = read_yaml(root / "environments.yaml")
    if not data.get("units"):
        return None
    needed = [n for n in _depended_on(root) if n in data["units"]]
    unit = needed[0] if needed else list(data["units"])[-1]
    new = f"{unit}-renamed"

    def edit(root: Path) -> None:
        doc = read_yaml(root / "environments.yaml")
        _rename_everywhere(doc, unit, new)
        doc["units"][new] = {**doc["units"][new], "previous": unit}
        write_yaml(root / "environments.yaml", doc)
        for module, body in _catalog(root).items():
            deps = body.get("dependencies") or {}
            if any(d.get("unit") == unit for d in deps.values()):
                for d in deps.values():
                    if d.get("unit") == unit:
                        d["unit"] = new
                write_yaml(root / "catalog" / f"{module}.yaml", body)

    return edit


def layer_moved(root: Path) -> Edit | None:
    """The module of the first unit moved to another layer; its units keep their state
    (previous: OLD-LAYER/NAME)."""
    data = read_yaml(root / "environments.yaml")
    if not data.get("units"):
        return None
    catalog = _catalog(root)
    spec = next(iter(data["units"].values()))
    module = spec.get("module") if isinstance(spec, dict) else None
    if module not in catalog or not catalog[module].get("layer"):
        return None
    old_layer = catalog[module]["layer"]
    if data.get("layer_order") == "strict":
        return None  # 99-moved would be a later layer than the units that depend on it
    users = [n for n, u in data["units"].items() if isinstance(u, dict) and u.get("module") == module]
    if any(u.get("previous") for n, u in data["units"].items() if n in users):
        return None

    def edit(root: Path) -> None:
        body = _catalog(root)[module]
        body["layer"] = "99-moved"
        write_yaml(root / "catalog" / f"{module}.yaml", body)
        doc = read_yaml(root / "environments.yaml")
        for user in users:
            doc["units"][user] = {**doc["units"][user], "previous": f"{old_layer}/{user}"}
        write_yaml(root / "environments.yaml", doc)

    return edit


EDITS: dict[str, Callable[[Path], Edit | None]] = {
    "dependency-retarget": dependency_retarget,
    "protection-lift": protection_lift,
    "sizing-change": sizing_change,
    "setting-change": setting_change,
    "region-added": region_added,
    "shared-template-change": shared_template_change,
    "unread-template-change": unread_template_change,
    "unit-removed": unit_removed,
    "version-bump": version_bump,
    "unit-renamed": unit_renamed,
    "layer-moved": layer_moved,
}


def source(project: str) -> Path:
    project = project.removesuffix(SINGLE)
    return REPO if project == "reference" else CASES / project


def _applicable() -> list[tuple[str, str]]:
    pairs = []
    for project in PROJECTS:
        for name, make in EDITS.items():
            if make(source(project)) is not None:
                pairs.append((project, name))
    return pairs


CASES_AND_EDITS = _applicable()


# --- the git repository and the oracle ----------------------------------------------


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


def commit_project(project: str, root: Path) -> str:
    """The project, its YAML files written back through the same dumper the edits use
    (so that both revisions differ by the edit alone), committed; returns the commit."""
    origin = source(project)
    root.mkdir(parents=True)
    shutil.copy2(origin / "environments.yaml", root / "environments.yaml")
    shutil.copytree(origin / "catalog", root / "catalog")
    if (origin / "templates").is_dir() and origin != REPO:
        shutil.copytree(origin / "templates", root / "templates")
    for path in [root / "environments.yaml", *sorted((root / "catalog").rglob("*.yaml"))]:
        write_yaml(path, read_yaml(path))
    if project.endswith(SINGLE):
        document = read_yaml(root / "environments.yaml")
        document["style"] = "single-include"
        write_yaml(root / "environments.yaml", document)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    return git(root, "rev-parse", "HEAD")


def evaluate(terragrunt: str, config: Path, work: Path) -> dict[str, Any]:
    """{unit directory: the configuration Terragrunt evaluates for it}."""
    out = work / "tree"
    api.render(config, output=out)
    env = {**os.environ, "TG_NON_INTERACTIVE": "true", "TG_LOG_LEVEL": "error", "HOME": str(work)}
    env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [terragrunt, "render", "--all", "--json", "-w", "--experiment", "optional-dependency-outputs",
         "--no-dependency-outputs"],
        cwd=out, capture_output=True, text=True, env=env, check=False, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {
        p.parent.relative_to(out).as_posix(): json.loads(p.read_text(encoding="utf-8"))
        for p in sorted(out.rglob("terragrunt.rendered.json"))
    }


def oracle(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    """The units whose evaluated configuration differs. A unit's `locals` are left out: they
    never reach OpenTofu, and what they feed (inputs, source, remote state, generated
    files, dependencies) is compared. A leaf that reads `local.env.settings.service_port`
    defines `local.env` as all of env.hcl, so any env.hcl change shows in its locals."""

    def seen(config: Any) -> Any:
        return {k: v for k, v in config.items() if k != "locals"} if isinstance(config, dict) else config

    return {d for d in set(before) | set(after) if seen(before.get(d)) != seen(after.get(d))}


def moves(before: dict[str, Any], after: dict[str, Any]) -> dict[str, str]:
    """New directory -> old directory, for a directory gone and one new that evaluate to
    the same remote state object (backend, bucket and key): the same infrastructure."""
    def state(config: Any) -> str:
        remote = config.get("remote_state") or {}
        return json.dumps([remote.get("backend"), remote.get("config")], sort_keys=True)

    gone = {state(before[d]): d for d in set(before) - set(after)}
    return {d: gone[state(after[d])] for d in sorted(set(after) - set(before)) if state(after[d]) in gone}


@pytest.fixture(scope="module")
def terragrunt() -> str:
    return need_tool("terragrunt", find_tool("terragrunt"))


_BASE: dict[str, dict[str, Any]] = {}


@pytest.mark.slow
@pytest.mark.parametrize(("project", "edit_name"), CASES_AND_EDITS)
def test_affected_lists_every_unit_terragrunt_sees_change(
    project: str, edit_name: str, terragrunt: str, tmp_path: Path
) -> None:
    root = tmp_path / "repo"
    base = commit_project(project, root)
    if project not in _BASE:
        _BASE[project] = evaluate(terragrunt, root / "environments.yaml", tmp_path / "base")
    edit = EDITS[edit_name](root)
    assert edit is not None
    edit(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", edit_name)
    head = git(root, "rev-parse", "HEAD")
    evaluated = evaluate(terragrunt, root / "environments.yaml", tmp_path / "head")
    truth = oracle(_BASE[project], evaluated)
    moved = moves(_BASE[project], evaluated)
    if edit_name in ("unit-renamed", "layer-moved"):
        assert moved, "previous: keeps the state key: Terragrunt evaluates the old key in the new directory"
    truth -= set(moved.values())  # listed once, at the new directory

    result = affected(root / "environments.yaml", base=base, head=head)
    listed = {e.unit.directory: e for e in result.units}
    assert {e.unit.directory: e.moved_from.directory for e in result.moved if e.moved_from} == moved
    assert not set(moved.values()) & set(listed), "a moved unit is never listed for destroy"
    missed = sorted(truth - set(listed))
    assert not missed, f"{project} / {edit_name}: tfgen missed units whose evaluated config changed: {missed}"
    for directory, entry in listed.items():
        assert entry.reasons and all(entry.reasons), f"{directory} is listed without a reason"
    if edit_name == "unread-template-change":
        assert not truth and not listed, "a local nobody reads changes no unit"
    elif not truth:  # a setting nothing reads: tfgen must see that too
        assert edit_name == "setting-change" and not listed, (project, edit_name, sorted(listed))
    # Precision: the units tfgen marks as changed are exactly those whose evaluated config
    # changed (or that appear or disappear); the others follow a changed dependency.
    assert {d for d, e in listed.items() if e.changed} == truth
    extra = {d: e for d, e in listed.items() if d not in truth}
    direct = sum(1 for e in listed.values() if e.changed)
    print(f"{project} / {edit_name}: Terragrunt sees {len(truth)} of {len(_BASE[project])} units change; tfgen "
          f"lists {len(listed)} ({direct} changed, {len(listed) - direct} dependents; {len(extra)} beyond Terragrunt)")
    for directory, entry in extra.items():
        assert all(r.startswith("depends on ") for r in entry.reasons), (directory, entry.reasons)
