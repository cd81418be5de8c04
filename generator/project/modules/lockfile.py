"""The module lock: ``catalog/.tfgen-modules.lock.json``.

``tfgen modules lock`` downloads each remote module version the project pins that the
lock does not hold yet (each package and version once; ``--refresh`` all of them),
reads its interface and writes one entry per (module, source, version): digest,
variables, outputs and required providers. A complete lock needs no network. The file is JSON with sorted keys and one
entry per module version, so that a version bump is a small, reviewable diff.
``validate`` and ``render`` read it offline; ``modules lock --check`` fails when the
catalog pins a version the lock does not hold (or the lock holds one nobody pins).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ...errors import ArgumentProblem, Diagnostic, InputError, KeyPath, Location
from ..loader import Document
from ..model import Project, Unit
from ..suggest import closest
from .fetch import FetchError, Package, fetch_package, package_digest, subdirectory
from .interface import Interface, InterfaceError, read_module_dir, read_module_files
from .sources import ModuleSource, parse_source, pin_of, pin_problems, without_pin

LOCK_NAME = ".tfgen-modules.lock.json"
LOCK_FORMAT = 1
COMMAND = "tfgen modules lock"


@dataclass(frozen=True)
class Pin:
    """One module version the project deploys somewhere."""

    module: str  # catalog module id
    source: str  # as written in the catalog (maybe with its own ?ref=)
    version: str | None  # the catalog's version or a promoted one; None: the source's own pin
    doc: Document
    path: KeyPath  # where the version (or the source) is written
    promoted: bool = False  # a unit's version: it replaces the source's own pin

    @property
    def parsed(self) -> ModuleSource:
        return parse_source(without_pin(self.source) if self.promoted else self.source)

    @property
    def resolved_version(self) -> str | None:
        return pin_of(self.parsed, self.version)

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.source, self.resolved_version)


def lock_path(project_root: Path) -> Path:
    return project_root / "catalog" / LOCK_NAME


def pins(project: Project) -> list[Pin]:
    """Every (module, source, version) the project deploys: each catalog module at its
    version, and each version promoted for a unit, environment or region."""
    found: dict[tuple[str, str, str | None], Pin] = {}
    for module in project.modules.values():
        path: KeyPath = ("version",) if module.version is not None else ("source",)
        pin = Pin(module.id, module.source, module.version, module.document, path)
        found.setdefault((module.id, module.source, module.version), pin)
    for unit in project.units:
        if unit.version is not None:
            key = (unit.module.id, unit.module.source, unit.version)
            pin = Pin(unit.module.id, unit.module.source, unit.version, project.document, unit.version_path, True)
            found.setdefault(key, pin)
    return sorted(found.values(), key=lambda p: (p.module, p.version or "", p.source))


@dataclass(frozen=True)
class Entry:
    module: str
    source: str
    version: str | None
    digest: str
    interface: Interface

    def as_json(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "source": self.source,
            "version": self.version,
            "digest": self.digest,
            **self.interface.as_json(),
        }


def entries_bytes(entries: Iterable[Entry]) -> bytes:
    ordered = sorted(entries, key=lambda e: (e.module, e.version or "", e.source))
    document = {
        "format": LOCK_FORMAT,
        "comment": f"Written by `{COMMAND}`: the interfaces of the pinned module versions. Do not edit.",
        "modules": [e.as_json() for e in ordered],
    }
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def read_lock(path: Path, shown: str) -> list[Entry] | None:
    """The entries of the lock file, None when there is none; InputError when it is broken."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problem = Diagnostic(f"cannot read the module lock: {exc}", Location(shown), rule="module-lock")
        raise InputError([problem]) from None
    try:
        data = json.loads(text)
        if data.get("format") != LOCK_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {LOCK_FORMAT}")
        return [
            Entry(
                str(item["module"]),
                str(item["source"]),
                None if item.get("version") is None else str(item["version"]),
                str(item.get("digest", "")),
                Interface.from_json(item, f"{shown} ({item['module']} {item.get('version')})"),
            )
            for item in data["modules"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        line = exc.lineno if isinstance(exc, json.JSONDecodeError) else 1
        column = exc.colno if isinstance(exc, json.JSONDecodeError) else 1
        raise InputError(
            [
                Diagnostic(
                    f"the module lock is not valid: {message}",
                    Location(shown, line, column),
                    rule="module-lock",
                    hint=f"run `{COMMAND}` to write it again",
                )
            ]
        ) from None


def remote(pin: Pin) -> bool:
    return pin.parsed.kind != "local"


def lockable(pin: Pin) -> bool:
    """A remote pin without an error in its source (a broken pin is reported by validate)."""
    if pin.parsed.kind == "http":  # pinned by its URL
        return not pin_problems(pin.parsed, pin.version)
    if not remote(pin) or pin.resolved_version is None or pin.resolved_version.lower() == "latest":
        return False  # unpinned: validate warns, and there is no one version to record
    return not any(p.severity == "error" for p in pin_problems(pin.parsed, pin.version))


# --- tfgen modules lock -----------------------------------------------------------------


@dataclass(frozen=True)
class LockResult:
    path: Path
    entries: list[Entry]
    downloaded: int  # packages downloaded
    changed: bool
    data: bytes  # the lock file's bytes; api writes them (output/disk.py) when they changed
    #: (module, version, old digest, new digest): the same version now holds other code
    republished: tuple[tuple[str, str | None, str, str], ...] = ()
    reused: int = 0  # module versions taken from the lock as they were, without a download


def unknown_modules(project: Project, names: Iterable[str]) -> list[ArgumentProblem]:
    """The problems of module names given to ``tfgen modules lock``: not in the catalog,
    or a module with nothing to lock (a local one is read from its .tf files)."""
    lockable_modules = {p.module for p in pins(project) if lockable(p)}
    problems = []
    for name in names:
        if name not in project.modules:
            close = closest(name, project.modules)
            hint = f"did you mean '{close[0]}'?" if close else f"modules: {', '.join(sorted(project.modules))}"
            problems.append(ArgumentProblem("modules", name, "no such module in the catalog", hint))
        elif name not in lockable_modules:
            problems.append(ArgumentProblem("modules", name, "has no remote version to lock (a local module is "
                                            "read from its .tf files; an unpinned one has no version)"))
    return problems


def lock(
    project: Project,
    hosts: Mapping[str, str] | None = None,
    *,
    shown: str,
    refresh: bool = False,
    modules: Iterable[str] = (),
) -> LockResult:
    """Work out the lock file's bytes (written by the caller when they change): each
    pinned version the lock already holds is kept as it is, each missing one is
    downloaded (each package and version once) and its interface read. *refresh*
    downloads every version again (a release published twice shows as ``republished``).
    *modules* limits the work to those catalog modules: the others' entries stay as
    they are."""
    hosts = dict(hosts or {})
    path = lock_path(project.root)
    named = frozenset(modules)
    try:
        old = read_lock(path, shown) or []
    except InputError:
        old = []  # a broken lock is what this command repairs
    by_module = {(e.module, e.source, e.version): e for e in old}
    by_version = {(e.source, e.version): e for e in old}  # another module of the same package version
    wanted = [p for p in pins(project) if lockable(p) and (not named or p.module in named)]
    errors: list[Diagnostic] = []
    entries: list[Entry] = []
    downloaded = reused = 0
    packages: dict[tuple[str, str | None], tuple[Package, str] | str] = {}
    for pin in wanted:
        known = by_module.get((pin.module, pin.source, pin.resolved_version)) or by_version.get(pin.key)
        # An entry written before the lock recorded providers is read again.
        if known is not None and not refresh and known.interface.providers is not None:
            entries.append(Entry(pin.module, pin.source, pin.resolved_version, known.digest, known.interface))
            reused += 1
            continue
        source = pin.parsed
        package_key = (source.package, pin.resolved_version)
        if package_key not in packages:
            try:
                package = fetch_package(source, pin.resolved_version, hosts)
                packages[package_key] = (package, package_digest(package))
                downloaded += 1
            except FetchError as exc:
                packages[package_key] = str(exc)
        fetched = packages[package_key]
        where = pin.doc.locate(pin.path)
        if isinstance(fetched, str):
            errors.append(
                Diagnostic(f"cannot download {pin.source} {pin.resolved_version}: {fetched}", where, pin.path,
                           rule="module-download")
            )
            continue
        package, digest = fetched
        files = subdirectory(package, source.subdir) if source.subdir else package
        try:
            interface = read_module_files(files, f"{pin.source} {pin.resolved_version}")
        except InterfaceError as exc:
            errors.append(
                Diagnostic(f"{pin.source} {pin.resolved_version}: {exc}", where, pin.path, rule="module-interface")
            )
            continue
        entries.append(Entry(pin.module, pin.source, pin.resolved_version, digest, interface))
    if errors:
        raise InputError(errors)
    previous = {(e.source, e.version): e.digest for e in old}
    republished = tuple(
        (e.module, e.version, previous[(e.source, e.version)], e.digest)
        for e in entries
        if previous.get((e.source, e.version), e.digest) != e.digest
    )
    if named:  # the modules not named keep their entries, whatever they are
        entries += [e for e in old if e.module not in named]
    data = entries_bytes(entries)
    try:
        changed = path.read_bytes() != data
    except FileNotFoundError:
        changed = True
    return LockResult(path, entries, downloaded, changed, data, republished, reused)


def check_lock(project: Project, shown: str) -> list[Diagnostic]:
    """Why the lock file does not match the catalog: a pinned version missing from it,
    an entry nobody pins any more. Empty when it matches. Offline."""
    path = lock_path(project.root)
    entries = read_lock(path, shown)
    wanted = [p for p in pins(project) if lockable(p)]
    if entries is None:
        if not wanted:
            return []
        return [
            Diagnostic(
                f"no module lock: {len(wanted)} remote module version{'s' if len(wanted) != 1 else ''} "
                f"{'have' if len(wanted) != 1 else 'has'} no recorded interface",
                Location(shown),
                rule="module-lock-stale",
                hint=f"run `{COMMAND}` and commit {shown}",
            )
        ]
    have = {(e.source, e.version): e for e in entries}
    problems = []
    for pin in wanted:
        if pin.key in have:
            continue
        locked = sorted(str(e.version) for e in entries if e.source == pin.source)
        was = f" (locked: {', '.join(locked)})" if locked else ""
        problems.append(
            Diagnostic(
                f"{pin.module} {pin.resolved_version} is not in {shown}{was}",
                pin.doc.locate(pin.path),
                pin.path,
                rule="module-lock-stale",
                hint=f"run `{COMMAND}`",
            )
        )
    used = {p.key for p in wanted}
    for entry in entries:
        if (entry.source, entry.version) not in used:
            problems.append(
                Diagnostic(
                    f"{entry.module} {entry.version} is locked but no longer pinned by the catalog",
                    Location(shown),
                    rule="module-lock-stale",
                    hint=f"run `{COMMAND}`",
                )
            )
    return problems


# --- interfaces for validate -------------------------------------------------------------


def local_directories(project: Project) -> list[Path]:
    """Where Terragrunt finds each local module the project deploys."""
    found = (local_directory(project, pin.source) for pin in pins(project) if pin.parsed.kind == "local")
    return sorted({d for d in found if d is not None})


def local_directory(project: Project, source: str) -> Path | None:
    """Where Terragrunt finds a local module: relative to a unit's directory."""
    unit = _unit_of(project, source)
    return None if unit is None else (project.root / "output" / unit.directory / parse_source(source).address).resolve()


def _unit_of(project: Project, source: str) -> Unit | None:
    return next((u for u in project.units if u.module.source == source), None)


def _not_found(project: Project, pin: Pin, directory: Path) -> Diagnostic:
    """A local module that is not where Terragrunt will look: a warning (``render -o``
    may put the units elsewhere), with the path to write when the module is found beside
    the project or the catalog file."""
    unit = _unit_of(project, pin.source)
    assert unit is not None  # local_directory found one
    unit_dir = project.root / "output" / unit.directory
    address = parse_source(pin.source).address
    hint = "write the path relative to a unit's directory, output/environments/ENV/REGION/LAYER/UNIT"
    for base in (project.root, Path(pin.doc.file).resolve().parent):  # a display path: from the cwd
        candidate = (base / address).resolve()
        if candidate.is_dir():
            shown = os.path.relpath(candidate, project.root)
            hint = f"{shown} exists: from a unit's directory it is {os.path.relpath(candidate, unit_dir)}"
            break
    return Diagnostic(
        f"local module {pin.source} is not found where Terragrunt looks for it, from each unit's directory "
        f"({os.path.relpath(directory, project.root)} for {unit.address}): its inputs are not checked",
        pin.doc.locate(("source",)),
        ("source",),
        severity="warning",
        rule=LOCAL_MISSING_RULE,
        hint=hint,
    )


def interfaces(project: Project, shown: str) -> tuple[dict[tuple[str, str | None], Interface], list[Diagnostic]]:
    """The interface of every pin that has one (lock entries, local .tf files), and the
    warnings for those without: one for a project with no lock at all, naming the command."""
    found: dict[tuple[str, str | None], Interface] = {}
    notes: list[Diagnostic] = []
    entries = read_lock(lock_path(project.root), shown) or []
    by_key = {(e.source, e.version): e.interface for e in entries}
    missing: list[Pin] = []
    for pin in pins(project):
        if pin.parsed.kind == "local":
            directory = local_directory(project, pin.source)
            if directory is None:
                continue
            try:
                found[pin.key] = read_module_dir(directory, str(directory))
            except InterfaceError as exc:
                if not directory.exists():
                    notes.append(_not_found(project, pin, directory))
                else:
                    notes.append(
                        Diagnostic(
                            f"cannot read the interface of {pin.source}: {exc}",
                            pin.doc.locate(("source",)),
                            ("source",),
                            severity="warning",
                            rule="module-interface",
                        )
                    )
            continue
        if not lockable(pin):
            continue
        if pin.key in by_key:
            found[pin.key] = by_key[pin.key]
        else:
            missing.append(pin)
    if missing and not entries:
        names = ", ".join(sorted({p.module for p in missing}))
        notes.append(
            Diagnostic(
                f"inputs are not checked against module variables: no interface is known for {names}",
                Location(shown),
                severity="warning",
                rule=NO_LOCK_RULE,
                hint=f"run `{COMMAND}` to record them in {shown}",
            )
        )
    else:
        for pin in missing:
            notes.append(
                Diagnostic(
                    f"{pin.module} {pin.resolved_version} is not in the module lock: its inputs are not checked",
                    pin.doc.locate(pin.path),
                    pin.path,
                    severity="warning",
                    rule="module-lock-stale",
                    hint=f"run `{COMMAND}`",
                )
            )
    return found, notes


def scaffold_lock() -> str:
    """The lock of the catalog ``tfgen init`` writes (vpc 5.17.0, rds 6.10.0 as data/postgres):
    the reference lock's entries for the same sources and versions."""
    return resources.files("generator").joinpath("project", "modules", "scaffold.lock.json").read_text(encoding="utf-8")


#: The warning of a project with no lock at all: informational, --strict leaves it a warning.
NO_LOCK_RULE = "module-interface-unknown"
#: A local module that is not where Terragrunt looks for it from the units.
LOCAL_MISSING_RULE = "module-local-not-found"
