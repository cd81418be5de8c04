"""Which units a change touches, and in what order to plan, apply and destroy them.

Both revisions are rendered in memory. A unit reads five rendered files: its leaf
``terragrunt.hcl``, its ``_envcommon`` file, ``root.hcl``, its environment's ``env.hcl``
and its region's ``region.hcl``. A unit is affected when one of them changed, with one
refinement: ``env.hcl`` and ``region.hcl`` hold only locals, and a unit sees only the
locals that the files it reads refer to (``local.env.sizing.db_instance_class``), so
a change to one local affects only the units that read it. The values compared are the
locals as HashiCorp's HCL parser reads them from the rendered bytes. Every unit that
depends on an affected unit is affected too (its inputs may change at apply time).
Units that are no longer rendered are listed for destroy, in destroy order, except a
unit renamed or moved with ``previous:``: the same state key now belongs to a unit of
the head, so it is listed once, under apply, as moved (``from -> to``), never destroyed.

Every listed unit carries its reasons: the file, input or local that changed, or the
dependency that made it follow.

Pure: api.affected reads both revisions (project/revision.py) and renders them; this
module compares the two trees and holds the views.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import pygohcl

from ..errors import Diagnostic
from ..hcl import format as hclformat
from ..project import backend, layout
from ..project.model import Project, Unit
from .graph import Graph, select

#: Version of the JSON document ``tfgen affected --format json`` prints.
JSON_VERSION = 1
ROOT = layout.ROOT
Action = Literal["apply", "destroy"]

#: ``local.env.a.b`` / ``local.region.a`` (and the same through an exposed include):
#: the locals a file reads from env.hcl and region.hcl. What follows the matched path
#: (an index, a function call) only narrows it, so the path read is a safe bound.
_READ = re.compile(
    r"\b(?:local|include\.[A-Za-z_][\w-]*\.locals)\.(env|region|tenant)\b((?:\.[A-Za-z_][\w-]*)*)"
)
#: The one standard way a file binds those locals (a unit with its own deletion policy
#: merges it over env.hcl's: reads of local.env.* then still name what they read); any
#: other mention of env.hcl or region.hcl (a custom template reading it another way)
#: counts as reading all of it.
_BINDING = re.compile(
    r'\b(env|region)\s*=\s*(?:merge\(\s*)?(?:read_terragrunt_config\(find_in_parent_folders\("(?:env|region)\.hcl"\)\)\.locals'
    # style single-include: the values files are read as variable values
    r'|jsondecode\(read_tfvars_file\(find_in_parent_folders\("(?:env|region)\.hcl"\)\)\))'
)
#: A tenant's unit binds tenant.hcl as local.tenant (its leaf, and _envcommon with a
#: fallback for shared units); root.hcl reads its env_overrides (account, role, tags).
_TENANT_FILE = r'find_in_parent_folders\("tenant\.hcl"(?:, "[^"\n]*")?\)'
_TENANT_BINDING = re.compile(
    r"\btenant\s*=\s*(?:read_terragrunt_config\(" + _TENANT_FILE + r"(?:, \{ locals = \{\} \})?\)\.locals\b(?!\.)"
    # style single-include: a leaf's, and a module file's with {} for a shared unit
    + r'|jsondecode\(read_tfvars_file\(' + _TENANT_FILE + r"\)\)"
    + r"|jsondecode\(fileexists\(" + _TENANT_FILE + r"\) \? read_tfvars_file\(" + _TENANT_FILE + r'\) : "\{\}"\))'
)
_TENANT_ROOT = re.compile(
    r"read_terragrunt_config\(" + _TENANT_FILE + r", \{ locals = \{ env_overrides = \{\} \} \}\)\.locals\.env_overrides"
)
#: ... and, for {tenant} in a remote backend's workspace name, the tenant's name.
_TENANT_NAME = re.compile(
    r"read_terragrunt_config\(" + _TENANT_FILE + r', \{ locals = \{ name = "" \} \}\)\.locals\.name\b'
)
_MENTION = re.compile(r"\b(env|region|tenant)\.hcl\b")
#: Style single-include: a module file binds the account a unit deploys into as
#: local.target, env.hcl's values with the tenant's env_overrides over them; what it reads
#: of local.target.* it reads of env.hcl (and of the overrides, read whole by the binding).
_TARGET_BINDING = re.compile(r"\btarget\s*=\s*merge\(local\.env, ")
_TARGET_READ = re.compile(r"\blocal\.target\b((?:\.[A-Za-z_][\w-]*)*)")


@dataclass(frozen=True)
class Revision:
    """One side of the comparison: a project (None: it did not exist) and its tree."""

    label: str
    project: Project | None
    files: Mapping[str, bytes]

    @property
    def units(self) -> dict[str, Unit]:
        return {u.directory: u for u in self.project.units} if self.project else {}


@dataclass(frozen=True)
class Entry:
    unit: Unit
    action: Action
    reasons: tuple[str, ...]
    changed: bool  # False: listed only because it depends on a changed unit
    moved_from: Unit | None = None  # the unit as the base had it, when renamed or moved (previous:)
    workspace: str | None = None  # state.backend: remote: the workspace of its state (a moved unit's old one)

    @property
    def protected(self) -> bool:
        return self.unit.deletion_protection


@dataclass(frozen=True)
class Waves:
    environment: str
    waves: tuple[tuple[Entry, ...], ...]

    @property
    def entries(self) -> list[Entry]:
        return [e for wave in self.waves for e in wave]


@dataclass(frozen=True)
class Affected:
    base: str
    head: str
    changed_files: tuple[str, ...]
    apply: tuple[Waves, ...]
    destroy: tuple[Waves, ...]

    def __repr__(self) -> str:
        apply = sum(len(g.entries) for g in self.apply)
        destroy = sum(len(g.entries) for g in self.destroy)
        return f"<Affected {self.base}..{self.head}: {apply} to apply, {destroy} to destroy>"

    @property
    def units(self) -> list[Entry]:
        return [e for group in (*self.destroy, *self.apply) for e in group.entries]

    @property
    def moved(self) -> list[Entry]:
        return [e for group in self.apply for e in group.entries if e.moved_from is not None]

    def environments(self) -> list[str]:
        return list(dict.fromkeys(g.environment for g in (*self.destroy, *self.apply)))


# --- reading the rendered files ---------------------------------------------------


def _parse(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        parsed = pygohcl.loads(data.decode("utf-8"))
    except Exception:  # pygohcl raises its own error types; an unparsable file is "all changed"
        return None
    return parsed if isinstance(parsed, dict) else None


def _values(parsed: dict[str, Any]) -> Any:
    """The values of a parsed values file: its locals block, or its attributes."""
    found = parsed.get("locals")
    return found if isinstance(found, dict) else parsed


class _Reader:
    """Parsed files and the locals each file reads, computed once per revision."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self._parsed: dict[str, dict[str, Any] | None] = {}
        self._reads: dict[str, dict[str, set[tuple[str, ...]]]] = {}

    def parsed(self, path: str) -> dict[str, Any] | None:
        if path not in self._parsed:
            self._parsed[path] = _parse(self.files.get(path))
        return self._parsed[path]

    def reads(self, path: str) -> dict[str, set[tuple[str, ...]]]:
        """{"env": {local paths}, "region": {...}} that the file at *path* reads."""
        found = self._reads.get(path)
        if found is None:
            found = self._reads[path] = _reads(self.files.get(path, b"").decode("utf-8", "replace"))
        return found


def _code(text: str) -> str:
    """*text* without its comments (a comment that names env.hcl reads nothing)."""
    lexed = hclformat.lex(text)
    if not lexed.complete:
        return text
    return "".join(" " * t.spaces + ("\n" if t.kind == hclformat.COMMENT else t.text) for t in lexed.tokens)


def _reads(text: str) -> dict[str, set[tuple[str, ...]]]:
    """The local paths a file reads from env.hcl and region.hcl. A reference inside a
    comment counts too (a safe over-estimate); a mention of env.hcl other than the
    standard binding counts as reading all of it, unless it is inside a comment (the
    file is lexed only then: most files have no such mention)."""
    found: dict[str, set[tuple[str, ...]]] = {"env": set(), "region": set(), "tenant": set()}
    text = _TARGET_BINDING.sub("target = merge(", text)
    for match in _READ.finditer(text):
        found[match.group(1)].add(tuple(p for p in match.group(2).split(".") if p))
    for match in _TARGET_READ.finditer(text):
        found["env"].add(tuple(p for p in match.group(1).split(".") if p))
    if _TENANT_ROOT.search(text):
        found["tenant"].add(("env_overrides",))
    if _TENANT_NAME.search(text):
        found["tenant"].add(("name",))
    for name in _unbound(text) and _unbound(_code(text)):
        found[name].add(())  # read some other way: all of it
    return found


def _unbound(text: str) -> set[str]:
    """"env" / "region" when *text* names env.hcl / region.hcl beyond the standard bindings."""
    bound = {"env": 0, "region": 0, "tenant": 0}
    for match in _BINDING.finditer(text):
        bound[match.group(1)] += 1
    for pattern in (_TENANT_BINDING, _TENANT_ROOT, _TENANT_NAME):  # a binding may name the file twice
        bound["tenant"] += sum(m.group(0).count("tenant.hcl") for m in pattern.finditer(text))
    mentions = {"env": 0, "region": 0, "tenant": 0}
    for match in _MENTION.finditer(text):
        mentions[match.group(1)] += 1
    return {name for name in bound if mentions[name] > bound[name]}


_MISSING = object()


def _value(tree: Any, path: Sequence[str]) -> Any:
    for part in path:
        if not isinstance(tree, dict) or part not in tree:
            return _MISSING
        tree = tree[part]
    return tree


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _differences(old: Any, new: Any, path: tuple[str, ...] = (), depth: int = 2) -> list[tuple[str, ...]]:
    """Key paths (up to *depth* levels) whose values differ between two parsed files."""
    if old == new:
        return []
    if depth == 0 or not isinstance(old, dict) or not isinstance(new, dict):
        return [path]
    found: list[tuple[str, ...]] = []
    for key in sorted(set(old) | set(new), key=str):
        found += _differences(old.get(key, _MISSING), new.get(key, _MISSING), (*path, str(key)), depth - 1)
    return found


def _describe(path: tuple[str, ...], old: Any, new: Any) -> str:
    before, after = _value(old, path), _value(new, path)
    name = ".".join(path) or "(the whole file)"
    if any(isinstance(v, (dict, list)) for v in (before, after)):
        return name
    return f"{name}: {_show(before)} -> {_show(after)}"


def _file_reason(path: str, base: _Reader, head: _Reader) -> str:
    old, new = base.parsed(path), head.parsed(path)
    if old is None or new is None:
        return f"{path} changed"
    parts = [_describe(p, old, new) for p in _differences(old, new)]
    shown = "; ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")
    return f"{path} changed: {shown}" if parts else f"{path} changed (comments or layout only)"


def _locals_reasons(kind: str, path: str, reads: set[tuple[str, ...]], base: _Reader, head: _Reader) -> list[str]:
    old, new = base.parsed(path), head.parsed(path)
    if old is None or new is None:
        return [f"{path} changed"]
    # style single-include writes the values as plain attributes, the classic style as locals
    old_locals, new_locals = (_values(parsed) for parsed in (old, new))
    reasons: list[str] = []
    for local in sorted(reads):
        before, after = _value(old_locals, local), _value(new_locals, local)
        if before != after:
            name = ".".join(("local", kind, *local))
            reasons.append(f"{path}: {name} changed: {_show(before)} -> {_show(after)}")
    return reasons


# --- the comparison ----------------------------------------------------------------


def _unit_reasons(unit: Unit, before: Unit, base: _Reader, head: _Reader, changed: set[str]) -> list[str]:
    leaf = layout.unit_file(unit.directory)
    envcommon = unit.module.envcommon_path
    env_file = layout.env_file(unit.environment.name)
    region_file = layout.region_file(unit.environment.name, unit.region.name)
    reasons: list[str] = []
    if before.directory != unit.directory:  # its leaf is a new file: the move is the reason
        reasons.append(f"moved: {before.directory} -> {unit.directory} (state key kept)")
    for path in (leaf, envcommon, ROOT):
        if path == leaf and before.directory != unit.directory:
            continue
        if path in changed or (path == envcommon and before.module.envcommon_path != envcommon):
            reasons.append(_file_reason(path, base, head))
    readers = (leaf, envcommon, ROOT)
    # A tenant's unit reads its tenant.hcl too (local.tenant, and root.hcl its account and tags).
    places = [("env", env_file), ("region", region_file)]
    if unit.tenant is not None:
        places.append(("tenant", layout.tenant_file(unit.environment.name, unit.region.name, unit.tenant.name)))
    for kind, path in places:
        if path not in changed:
            continue
        reads: set[tuple[str, ...]] = set()
        for side, files in ((head, readers), (base, (layout.unit_file(before.directory), before.module.envcommon_path,
                                                      ROOT))):
            for read_from in files:
                reads |= side.reads(read_from)[kind]
        reasons += _locals_reasons(kind, path, _minimal(reads), base, head)
    return reasons


def _minimal(paths: set[tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Drop paths below another one: reading ``sizing`` covers ``sizing.db_storage_gb``."""
    return {p for p in paths if not any(q != p and p[: len(q)] == q for q in paths)}


def _dependents(project: Project) -> dict[str, list[Unit]]:
    found: dict[str, list[Unit]] = {}
    for unit in project.units:
        for wire in project.wiring.get(unit.key, ()):
            found.setdefault(wire.target.directory, []).append(unit)
    return found


def _moves(old_units: Mapping[str, Unit], new_units: Mapping[str, Unit]) -> dict[str, Unit]:
    """New directory -> the base's unit, for each unit renamed or moved (previous:): a
    unit of the base that is gone, whose state key a new unit of the head keeps."""
    by_state = {u.state_directory: u for u in old_units.values()}
    found: dict[str, Unit] = {}
    for directory, unit in new_units.items():
        if directory in old_units:
            continue
        before = by_state.get(unit.state_directory)
        if before is not None and before.directory not in new_units and before.key[:2] == unit.key[:2]:
            found[directory] = before
    return found


def compare(base: Revision, head: Revision) -> Affected:
    """The affected units between two rendered revisions (pure)."""
    changed = {p for p in set(base.files) | set(head.files) if base.files.get(p) != head.files.get(p)}
    old_units, new_units = base.units, head.units
    moved = _moves(old_units, new_units)
    base_reader, head_reader = _Reader(base.files), _Reader(head.files)
    reasons: dict[str, list[str]] = {}
    for directory, unit in new_units.items():
        before = old_units.get(directory) or moved.get(directory)
        if before is None:
            reasons[directory] = ["new unit"]
            continue
        found = _unit_reasons(unit, before, base_reader, head_reader, changed)
        if found:
            reasons[directory] = found
    direct = set(reasons)
    if head.project is not None:
        dependents = _dependents(head.project)
        queue = deque(reasons)  # in the project's order: a set's order would vary from run to run
        while queue:
            target = queue.popleft()
            for unit in dependents.get(target, ()):
                note = f"depends on {new_units[target].address}"
                entry = reasons.setdefault(unit.directory, [])
                if note not in entry:
                    entry.append(note)
                if unit.directory not in direct and len(entry) == 1:
                    queue.append(unit.directory)
    apply = _waves(head.project, {d: (tuple(r), d in direct) for d, r in reasons.items()}, "apply", moved)
    kept = {u.directory for u in moved.values()}  # its state is the moved unit's now: never destroyed
    gone = {d: (("no longer rendered: destroy",), True) for d in old_units if d not in new_units and d not in kept}
    destroy = _waves(base.project, gone, "destroy")
    return Affected(base.label, head.label, tuple(sorted(changed)), apply, destroy)


def only_tenants(result: Affected, tenants: tuple[str, ...]) -> Affected:
    """*result* with only the units of *tenants* (--tenant)."""

    def keep(groups: tuple[Waves, ...]) -> tuple[Waves, ...]:
        found = []
        for group in groups:
            waves = tuple(
                kept for wave in group.waves
                if (kept := tuple(e for e in wave if e.unit.tenant is not None and e.unit.tenant.name in tenants))
            )
            if waves:
                found.append(replace(group, waves=waves))
        return tuple(found)

    return replace(result, apply=keep(result.apply), destroy=keep(result.destroy))


def _waves(project: Project | None, chosen: Mapping[str, tuple[tuple[str, ...], bool]], action: Action,
           moved: Mapping[str, Unit] | None = None) -> tuple[Waves, ...]:
    if project is None or not chosen:
        return ()
    whole = select(project)
    groups: list[Waves] = []
    for env in project.environments:
        keys = frozenset(u.key for u in project.units if u.environment is env and u.directory in chosen)
        if not keys:
            continue
        graph = Graph(whole.nodes, tuple(e for e in whole.edges if e.unit.environment is env), keys)
        waves = tuple(
            tuple(Entry(u, action, *chosen[u.directory], (moved or {}).get(u.directory), _workspace(project, u))
                  for u in _by_region(wave, env.name, project))
            for wave in graph.waves(destroy=action == "destroy")
        )
        groups.append(Waves(env.name, waves))
    return tuple(groups)


def _workspace(project: Project, unit: Unit) -> str | None:
    return backend.workspace(project, unit) if backend.is_remote(project) else None


def _by_region(units: Iterable[Unit], environment: str, project: Project) -> list[Unit]:
    env = project.environment(environment)
    order = {r.name: i for i, r in enumerate(env.regions)} if env else {}
    return sorted(units, key=lambda u: order.get(u.region.name, 0))  # stable: project order inside a region


def relocate(diagnostic: Diagnostic, prefix: str, ref: str) -> Diagnostic:
    """A diagnostic about a file of a revision's temporary copy below *prefix*, pointing
    at REF:path instead."""
    file = diagnostic.location.file
    for candidate in (prefix, str(Path(prefix).resolve())):
        if file.startswith(candidate + "/"):
            file = f"{ref}:{file[len(candidate) + 1:]}"
            break
    return replace(diagnostic, location=replace(diagnostic.location, file=file))


# --- views -------------------------------------------------------------------------


def _entry_json(entry: Entry) -> dict[str, Any]:
    unit = entry.unit
    return {
        "address": unit.address,
        "environment": unit.environment.name,
        "region": unit.region.name,
        "tenant": unit.tenant_name,  # a tenant's instance; None: a shared unit
        "unit": unit.name,
        "module": unit.module.id,
        "directory": unit.directory,
        "protected": entry.protected,
        "changed": entry.changed,
        # Renamed or moved (previous:): the base's directory, whose state this unit keeps.
        "moved_from": entry.moved_from.directory if entry.moved_from is not None else None,
        "state_key": layout.state_key(unit.state_directory),
        # state.backend: remote: the HCP Terraform workspace that holds its state (None: S3).
        "workspace": entry.workspace,
        "reasons": list(entry.reasons),
    }


def document(result: Affected) -> dict[str, Any]:
    """The ``result`` of ``tfgen affected --format json`` (docs/ci.md)."""
    def groups(waves: Sequence[Waves]) -> list[dict[str, Any]]:
        return [
            {
                "environment": g.environment,
                "regions": list(dict.fromkeys(e.unit.region.name for e in g.entries)),
                "waves": [[_entry_json(e) for e in wave] for wave in g.waves],
            }
            for g in waves
        ]

    return {
        "version": JSON_VERSION,
        "base": result.base,
        "head": result.head,
        "changed_files": list(result.changed_files),
        "environments": result.environments(),
        "counts": {
            "apply": sum(len(g.entries) for g in result.apply),
            "destroy": sum(len(g.entries) for g in result.destroy),
            "moved": len(result.moved),
        },
        "destroy": groups(result.destroy),
        "apply": groups(result.apply),
    }


def to_text(result: Affected) -> str:
    applied = sum(len(g.entries) for g in result.apply)
    destroyed = sum(len(g.entries) for g in result.destroy)
    moved = f" ({len(result.moved)} moved, state kept)" if result.moved else ""
    lines = [
        f"Affected units from {result.base} to {result.head}: {applied} to apply{moved}, {destroyed} to destroy "
        f"({len(result.changed_files)} rendered files changed)."
    ]
    if not applied and not destroyed:
        return lines[0] + "\n"
    lines.append("Units in one wave can run in parallel; each line says why the unit is listed.")
    for verb, groups in (("Destroy", result.destroy), ("Apply", result.apply)):
        for group in groups:
            count = len(group.entries)
            lines += ["", f"{verb} {group.environment}: {count} unit{'s' if count != 1 else ''} in "
                          f"{len(group.waves)} wave{'s' if len(group.waves) != 1 else ''}"]
            width = max(len(e.unit.address) for e in group.entries)
            for number, wave in enumerate(group.waves, start=1):
                lines.append(f"  Wave {number}")
                for entry in wave:
                    first, *rest = entry.reasons
                    flag = " (protected)" if verb == "Destroy" and entry.protected else ""
                    lines.append(f"    {entry.unit.address:<{width}}  {first}{flag}")
                    lines += [f"    {'':<{width}}  {reason}" for reason in rest]
    return "\n".join(lines) + "\n"


