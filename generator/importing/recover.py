"""The model of a Terragrunt live tree, recovered from Terragrunt's evaluation of it.

Every unit's evaluated configuration (``render --json``) says what Terragrunt deploys;
the tree's layout and hierarchy files (``account.hcl``, ``region.hcl``, ``env.hcl``)
say where: environment, region, layer and unit. From these, ``recover`` builds
environments.yaml and one catalog module per module source:

- inputs equal in every unit of a module go to the catalog, the rest to the narrowest
  place they are common to (the unit, an environment's override, a region's);
  a string holding the environment's or the region's name reads ``local.env`` /
  ``local.region`` instead, so it becomes common;
- an input whose HCL reads only ``dependency.*`` stays that expression (``!hcl``);
- a module pinned to several versions gets the most common one in the catalog and a
  ``version`` override where another is deployed;
- the state bucket becomes ``state.bucket`` with placeholders where it can, and every
  unit whose state key the output layout cannot reproduce keeps it (``state:``).

What it cannot model is reported as a located warning (``SOURCE/path:LINE``).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..hcl.literal import string as hcl_string
from ..hcl.references import traversals
from ..project import layout
from ..project.modules.sources import is_local, parse_source, without_pin

REGION = re.compile(r"^[a-z]{2,4}(-[a-z]+)+-[0-9]+$")
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
PLACEHOLDER_ACCOUNT = "000000000000"
DEFAULT_LAYER = "units"
#: Block names in a unit's HCL that tfgen cannot model, with the reason.
UNMODELLED = {
    "before_hook": "a hook (terraform.before_hook) has no place in environments.yaml",
    "after_hook": "a hook (terraform.after_hook) has no place in environments.yaml",
    "error_hook": "a hook (terraform.error_hook) has no place in environments.yaml",
    "extra_arguments": "terraform.extra_arguments has no place in environments.yaml",
    "run_cmd": "run_cmd runs at every evaluation: its result was imported as a literal value",
    "get_env": "get_env() was read with no TG_, TF_ or AWS_ variable set: its value then was imported",
    "get_aws_account_id": "get_aws_account_id() needs AWS credentials, which import does not pass",
    "sops_decrypt_file": "sops_decrypt_file() was decrypted when importing: the secret is now a literal value",
}
#: The entries of UNMODELLED that are function calls, not blocks.
FUNCTIONS = frozenset({"run_cmd", "get_env", "get_aws_account_id", "sops_decrypt_file"})


@dataclass(frozen=True)
class Warning:
    """Something import could not model, at SOURCE/path:LINE."""

    path: str  # relative to the source tree
    line: int
    message: str

    def located(self, source: str) -> str:
        return f"{source}/{self.path}:{self.line}: {self.message}"


@dataclass
class Placement:
    """One unit of the source tree, where the project puts it."""

    path: str  # its directory, relative to the source's root
    config: Mapping[str, Any]  # Terragrunt's evaluation of it
    account: str
    env: str
    region: str
    layer: str
    name: str
    account_id: str = ""
    module: str = ""  # catalog module id
    pin: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def place(self) -> tuple[str, str]:
        return (self.env, self.region)

    @property
    def directory(self) -> str:
        """Its directory in the rendered tree."""
        return layout.unit_directory(self.env, self.region, self.layer, self.name)


class Hcl(str):
    """An ``!hcl`` expression in the written YAML."""


@dataclass
class Recovered:
    """The documents of the imported project and what the report says about them."""

    environments: dict[str, Any]
    catalog: dict[str, dict[str, Any]]  # module id -> its catalog document
    placements: list[Placement]
    warnings: list[Warning]
    kept_keys: list[str]  # units that keep their old state key (source paths)
    notes: list[str]

    def directories(self) -> dict[str, str]:
        """Source unit directory -> its directory in the rendered tree (under output/)."""
        return {p.path: p.directory for p in self.placements}


# --- the source's files -------------------------------------------------------------


def hcl_locals(text: str) -> dict[str, Any]:
    """The literal string/number/bool locals of a hierarchy file (account.hcl, env.hcl)."""
    found: dict[str, Any] = {}
    block = re.search(r"(?ms)^\s*locals\s*\{(.*?)^\}", text)
    if not block:
        return found
    for match in re.finditer(
        r'(?m)^\s*([A-Za-z_][\w-]*)\s*=\s*("(?:[^"\\$]|\\.)*"|-?\d+(?:\.\d+)?|true|false)\s*(?:#.*)?$', block.group(1)
    ):
        raw = match.group(2)
        found[match.group(1)] = raw[1:-1] if raw.startswith('"') else raw
    return found


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _included(text: str) -> list[str]:
    """Paths of the _envcommon-style files a unit includes (the root's aside), from the
    tree's root: ``"${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/x.hcl"``."""
    found = []
    for value in re.findall(r'(?m)^\s*path\s*=\s*"(.*)"\s*$', text):
        tail = re.search(r'\}/([^"{}$]+\.hcl)$', value)
        if tail:
            found.append(tail.group(1))
    return found


def input_expressions(text: str) -> dict[str, tuple[str, int]]:
    """The one-line expressions of the ``inputs`` block of *text*: name -> (HCL, line)."""
    found: dict[str, tuple[str, int]] = {}
    block = re.search(r"(?m)^inputs\s*=\s*(?:merge\()?\{", text)
    if not block:
        return found
    depth, index = 1, block.end()
    body_start = index
    while index < len(text) and depth:
        if text[index] in "{[(":
            depth += 1
        elif text[index] in "}])":
            depth -= 1
        index += 1
    body = text[body_start:index]
    for match in re.finditer(r"(?m)^\s{0,4}([A-Za-z_][\w-]*)\s*=\s*(.+?)\s*(?:#.*)?$", body):
        found[match.group(1)] = (match.group(2), _line_of(text, body_start + match.start(1)))
    return found


def dependency_reads(expression: str) -> bool:
    """Whether the expression reads dependency outputs and nothing else of the source."""
    try:
        found = traversals(expression)
    except Exception:
        return False
    return bool(found) and all(t[0] == "dependency" and len(t) >= 3 and t[2] == "outputs" for t in found)


def unmodelled(path: str, text: str) -> list[Warning]:
    """Located warnings for what the project cannot say (hooks, run_cmd, extra generate blocks)."""
    found: list[Warning] = []
    for word, why in UNMODELLED.items():
        pattern = rf"\b{word}\s*\(" if word in FUNCTIONS else rf'(?m)^[ \t]*{word}\s+"'
        for match in re.finditer(pattern, text):
            found.append(Warning(path, _line_of(text, match.start()), why))
    for match in re.finditer(r'(?m)^[ \t]*generate\s+"([^"]+)"', text):
        if PurePosixPath(path).name not in ("root.hcl", "terragrunt.hcl") or "/" in path:
            found.append(
                Warning(
                    path,
                    _line_of(text, match.start()),
                    f'generate "{match.group(1)}" in a unit: tfgen generates the provider and backend only',
                )
            )
    found.extend(_logic_in_locals(path, text))
    for match in re.finditer(
        r"\b(get_terragrunt_dir|get_original_terragrunt_dir|path_relative_from_include)\s*\(", text
    ):
        found.append(
            Warning(
                path,
                _line_of(text, match.start()),
                f"{match.group(1)}() depends on the unit's directory: imported as its value",
            )
        )
    return found


#: Functions a hierarchy-reading local may call without being logic.
_PLAIN_CALLS = frozenset(
    {"read_terragrunt_config", "find_in_parent_folders", "dirname", "basename", "get_parent_terragrunt_dir"}
)


def _logic_in_locals(path: str, text: str) -> list[Warning]:
    """Locals computed with logic (conditionals, for expressions, function calls): only
    the values they gave each unit are imported."""
    found: list[Warning] = []
    block = re.search(r"(?ms)^locals\s*\{\n(.*?)^\}", text)
    if not block:
        return found
    for match in re.finditer(r"(?m)^[ \t]*([A-Za-z_][\w-]*)[ \t]*=[ \t]*(.+)$", block.group(1)):
        expression = match.group(2)
        calls = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*\(", expression)) - _PLAIN_CALLS
        if "?" in expression or re.search(r"\bfor\b", expression) or calls:
            line = _line_of(text, block.start(1) + match.start(1))
            found.append(
                Warning(path, line, f"local.{match.group(1)} has logic: the value it gave each unit was imported")
            )
    return found


# --- placement: environment, region, layer and unit from the layout -------------------


def _find_up(files: Mapping[str, bytes], directory: str, name: str) -> str | None:
    parts = directory.split("/") if directory not in ("", ".") else []
    while True:
        candidate = "/".join([*parts, name])
        if candidate in files:
            return candidate
        if not parts:
            return None
        parts.pop()


def _text(files: Mapping[str, bytes], path: str | None) -> str:
    return files[path].decode("utf-8", "replace") if path else ""


def place(path: str, config: Mapping[str, Any], files: Mapping[str, bytes]) -> Placement:
    """Where the unit at *path* lives: account, environment, region, layer and name."""
    parts = path.split("/")
    account_file = _find_up(files, path, "account.hcl")
    region_file = _find_up(files, path, "region.hcl")
    env_file = _find_up(files, path, "env.hcl")
    account_locals = hcl_locals(_text(files, account_file))
    region_locals = hcl_locals(_text(files, region_file))
    env_locals = hcl_locals(_text(files, env_file))
    region_index = next((i for i, p in enumerate(parts[:-1]) if REGION.match(p)), None)
    region = str(region_locals.get("aws_region") or (parts[region_index] if region_index is not None else ""))
    depth = {"account": 0, "region": 0, "env": 0}
    if account_file:
        depth["account"] = account_file.count("/") + 1 if "/" in account_file else 0
    if region_file:
        depth["region"] = region_file.count("/")
    elif region_index is not None:
        depth["region"] = region_index + 1
    if env_file:
        env_dir = env_file.rpartition("/")[0]
        env = str(env_locals.get("environment") or env_locals.get("env") or env_dir.rpartition("/")[2])
        depth["env"] = env_dir.count("/") + 1 if env_dir else 0
    elif account_file and region_index is not None and region_index + 2 < len(parts):
        env = parts[region_index + 1]  # account/region/env/unit
        depth["env"] = region_index + 2
    elif region_index:
        env = parts[region_index - 1]  # env/region/unit
        depth["env"] = region_index
    else:
        env = parts[0] if len(parts) > 1 else "default"
        depth["env"] = 1
    account = str(account_locals.get("account_name") or (account_file.rpartition("/")[0] if account_file else ""))
    account_id = str(
        account_locals.get("aws_account_id")
        or account_locals.get("account_id")
        or env_locals.get("aws_account_id")
        or env_locals.get("account_id")
        or ""
    )
    start = max(depth.values())
    middle = parts[start:-1]
    layer = "-".join(middle) if middle else ""
    return Placement(
        path, config, account, _safe(env), region, _safe(layer) if layer else "", _safe(parts[-1]), account_id
    )


def _safe(name: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_") or "x"
    return cleaned[:63]


# --- values: the environment's and region's names read from env.hcl / region.hcl ------


def _templated(text: str, names: Mapping[str, str]) -> str | None:
    """*text* as an HCL template reading *names* (value -> expression), or None."""
    pattern = "|".join(re.escape(v) for v in sorted(names, key=len, reverse=True) if len(v) >= 2)
    if not pattern:
        return None
    regex = re.compile(rf"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])")
    pieces: list[str] = []
    last = 0
    for match in regex.finditer(text):
        pieces.append(hcl_string(text[last : match.start()])[1:-1])
        pieces.append("${" + names[match.group(0)] + "}")
        last = match.end()
    if not last:
        return None
    if len(pieces) == 2 and not pieces[0] and last == len(text):
        return names[text]  # the whole value: the local itself
    pieces.append(hcl_string(text[last:])[1:-1])
    return '"' + "".join(pieces) + '"'


def generalised(value: Any, names: Mapping[str, str]) -> Any:
    """*value* with its environment and region names read from the locals."""
    if isinstance(value, str):
        found = _templated(value, names)
        return Hcl(found) if found is not None else value
    if isinstance(value, list) and not any(isinstance(v, (dict, list)) for v in value):
        items = [generalised(v, names) for v in value]
        if any(isinstance(i, Hcl) for i in items):
            return Hcl("[" + ", ".join(i if isinstance(i, Hcl) else _hcl_scalar(i) for i in items) + "]")
        return value
    return value


def _hcl_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    return hcl_string(str(value))


# --- modules --------------------------------------------------------------------------


def split_pin(source: str) -> tuple[str, str | None]:
    """A module source without its pin, and the pin (?ref= / ?version=)."""
    try:
        parsed = parse_source(source)
    except Exception:
        return source, None
    pin = parsed.source_version if parsed.kind == "registry" else parsed.ref
    return (without_pin(source) if pin else source), pin


def module_name(source: str, includes: Iterable[str]) -> str:
    for include in includes:
        stem = PurePosixPath(include).stem
        if NAME.match(_safe(stem)) and stem not in ("root", "terragrunt", "account", "env", "region"):
            return _safe(stem)
    base = source.split("?")[0].rstrip("/")
    if "//" in base.split("://", 1)[-1]:
        base = base.rsplit("//", 1)[1]
    tail = base.rsplit("/", 1)[-1].removesuffix(".git")
    if base.startswith("tfr://"):
        tail = base.split("/")[-2]  # tfr:///namespace/NAME/provider
    return _safe(tail)


# --- factoring inputs into the catalog, the unit and its overrides ---------------------


def _same(values: list[Any]) -> bool:
    return all(v == values[0] for v in values[1:])


def _factor(
    placements: list[Placement],
) -> tuple[dict[str, Any], dict[tuple[str, ...], dict[str, Any]]]:
    """Inputs common to all *placements*, and the rest by (env,) or (env, region)."""
    keys: set[str] = set()
    for p in placements:
        keys |= p.inputs.keys()
    common: dict[str, Any] = {}
    narrower: dict[tuple[str, ...], dict[str, Any]] = {}
    for key in sorted(keys):
        values = [p.inputs.get(key, _MISSING) for p in placements]
        if _MISSING not in values and _same(values):
            common[key] = values[0]
            continue
        usual = _usual(values)
        if usual is not _MISSING:
            # The value most placements have is the default; the others override it
            # (replaced whole: never a mapping, which an override would merge into).
            common[key] = usual
            placements = list(placements)
            odd = [p for p in placements if p.inputs[key] != usual]
            _narrow(key, odd, placements, narrower)
            continue
        by_env: dict[str, list[Placement]] = {}
        for p in placements:
            by_env.setdefault(p.env, []).append(p)
        for env, group in by_env.items():
            found = [p.inputs.get(key, _MISSING) for p in group]
            if _MISSING not in found and _same(found):
                narrower.setdefault((env,), {})[key] = found[0]
                continue
            for p in group:
                if key in p.inputs:
                    narrower.setdefault((env, p.region), {})[key] = p.inputs[key]
    return common, narrower


def _usual(values: list[Any]) -> Any:
    """The one value most of *values* hold (no mapping, none missing), else _MISSING."""
    if any(v is _MISSING or isinstance(v, Mapping) for v in values):
        return _MISSING
    counts = Counter(_key(v) for v in values)
    ranked = counts.most_common(2)
    if ranked[0][1] < 2 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return _MISSING
    return next(v for v in values if _key(v) == ranked[0][0])


def _key(value: Any) -> str:
    return type(value).__name__ + ":" + repr(value)


def _narrow(
    key: str, odd: list[Placement], everyone: list[Placement], into: dict[tuple[str, ...], dict[str, Any]]
) -> None:
    """*key* of the *odd* placements: per environment where the environment's placements
    all share it, else per region."""
    for env in sorted({p.env for p in odd}):
        group = [p for p in everyone if p.env == env]
        found = [p.inputs[key] for p in group]
        if all(p in odd for p in group) and _same(found):
            into.setdefault((env,), {})[key] = found[0]
            continue
        for p in odd:
            if p.env == env:
                into.setdefault((env, p.region), {})[key] = p.inputs[key]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


# --- the whole tree -------------------------------------------------------------------


def recover(
    units: Mapping[str, Mapping[str, Any]],
    files: Mapping[str, bytes],
    project_name: str,
    source_root: Path,
    project_dir: Path,
) -> Recovered:
    """The project of the evaluated tree *units* ({directory: rendered JSON}) at
    *source_root*, to be written into *project_dir* (local module paths are relative to
    the rendered units' directories there)."""
    warnings: list[Warning] = []
    notes: list[str] = []
    placements = [place(path, config, files) for path, config in sorted(units.items())]
    _name_environments(placements, notes)
    for p in placements:
        if not REGION.match(p.region):
            # A _global directory or none: the region the unit's state (or provider) is in.
            state_region = str(((p.config.get("remote_state") or {}).get("config") or {}).get("region") or "")
            found = state_region if REGION.match(state_region) else "us-east-1"
            warnings.append(
                Warning(
                    f"{p.path}/terragrunt.hcl",
                    1,
                    f"no AWS region in the unit's path or region.hcl: placed in {found}"
                    + (" (its state's region)" if found == state_region else ""),
                )
            )
            p.region = found
    _name_units(placements, notes)
    by_path = {p.path: p for p in placements}
    environments: dict[str, Any] = {}
    region_order: dict[str, list[str]] = {}
    for p in placements:
        region_order.setdefault(p.env, [])
        if p.region not in region_order[p.env]:
            region_order[p.env].append(p.region)

    # The shared files (root, _envcommon): what they hold that the project cannot say.
    unit_files = {f"{p.path}/terragrunt.hcl" for p in placements}
    hierarchy = ("account.hcl", "region.hcl", "env.hcl")
    for path in sorted(files):
        if path.endswith(".hcl") and path not in unit_files and PurePosixPath(path).name not in hierarchy:
            warnings.extend(unmodelled(path, _text(files, path)))

    # Modules by source without pin; the unit's HCL says which inputs read dependencies.
    modules: dict[str, str] = {}  # unpinned source (a local module's absolute path) -> module id
    local_sources: dict[str, str] = {}  # a local module's absolute path -> its catalog source
    names_taken: dict[str, str] = {}
    for p in placements:
        unit_file = f"{p.path}/terragrunt.hcl"
        text = _text(files, unit_file if unit_file in files else None)
        includes = _included(text)
        warnings.extend(unmodelled(unit_file, text))
        source = str((p.config.get("terraform") or {}).get("source") or "")
        if not source:
            warnings.append(Warning(unit_file, 1, "the unit has no terraform.source: not imported"))
            continue
        unpinned, p.pin = split_pin(source)
        if is_local(source) or source.startswith("/"):
            # A local module: one module per directory, written from the rendered units.
            directory = os.path.normpath(os.path.join(source_root, p.path, source.split("?")[0]))
            unpinned, p.pin = directory, None
            rendered = project_dir / "output" / layout.unit_directory(p.env, p.region, p.layer or DEFAULT_LAYER, p.name)
            local_sources[directory] = os.path.relpath(directory, rendered)
        if unpinned not in modules:
            name = module_name(unpinned, includes)
            category = p.layer or "live"
            module_id = f"{category}/{name}"
            suffix = 2
            while module_id in names_taken and names_taken[module_id] != unpinned:
                module_id = f"{category}/{name}-{suffix}"
                suffix += 1
            names_taken[module_id] = unpinned
            modules[unpinned] = module_id
        p.module = modules[unpinned]
        reads: dict[str, tuple[str, int, str]] = {}
        for include in includes:
            shared = include if include in files else next((f for f in files if f.endswith("/" + include)), None)
            if shared:
                for key, (expr, line) in input_expressions(_text(files, shared)).items():
                    reads[key] = (expr, line, shared)
        for key, (expr, line) in input_expressions(text).items():
            reads[key] = (expr, line, unit_file)
        names = {p.env: "local.env.environment", p.region: "local.region.aws_region"}
        if ACCOUNT_ID.match(p.account_id):
            names[p.account_id] = "local.env.account_id"
        for key, value in (p.config.get("inputs") or {}).items():
            expr, line, where = reads.get(key, ("", 0, unit_file))
            if "dependency." in expr:
                if dependency_reads(expr):
                    p.inputs[key] = Hcl(expr)
                    continue
                warnings.append(
                    Warning(
                        where,
                        line,
                        f"input {key} reads a dependency through the source's locals: imported with its mock value",
                    )
                )
            p.inputs[key] = generalised(value, names)

    # Environments and regions.
    for env in sorted(region_order):
        group = [p for p in placements if p.env == env]
        ids = {p.account_id for p in group}
        account_id = next(iter(ids)) if len(ids) == 1 else ""
        if not ACCOUNT_ID.match(account_id):
            where = _find_up(files, group[0].path, "account.hcl") or f"{group[0].path}/terragrunt.hcl"
            notes.append(
                f"environment {env}: account id {account_id or '(none)'} is not 12 digits; "
                f"{PLACEHOLDER_ACCOUNT} stands in ({where}): set the real one"
            )
            account_id = PLACEHOLDER_ACCOUNT
        environments[env] = {"account_id": account_id, "regions": {}}
    cidr = 0
    for env in sorted(region_order):
        for region in region_order[env]:
            cidr += 1
            environments[env]["regions"][region] = {"vpc_cidr": f"10.{cidr % 256}.0.0/16", "azs": ["a", "b", "c"]}
    if cidr:
        notes.append(
            "vpc_cidr and azs of every region are stand-ins (tfgen requires them; no imported unit reads them)"
        )

    # Catalog modules: inputs common to every unit, the pin most units deploy.
    catalog: dict[str, dict[str, Any]] = {}
    unit_specs: dict[str, dict[str, Any]] = {}
    overrides: dict[tuple[str, ...], Any] = {}  # (env[, region], unit) -> override (or false)

    def override(key: tuple[str, ...]) -> dict[str, Any]:
        found: dict[str, Any] = overrides.setdefault(key, {})
        return found

    importable = [p for p in placements if p.module]
    for unpinned, module_id in modules.items():
        group = [p for p in importable if p.module == module_id]
        pins = Counter(p.pin for p in group)
        pin = max(pins, key=lambda v: (pins[v], v or ""))
        layers = Counter(p.layer or DEFAULT_LAYER for p in group)
        document: dict[str, Any] = {"source": local_sources.get(unpinned, unpinned)}
        if pin:
            document["version"] = pin
        document["layer"] = layers.most_common(1)[0][0]
        common, _ = _factor(group)
        if common:
            document["inputs"] = common
        catalog[module_id] = document
        for p in group:
            for key, value in common.items():
                if _key(p.inputs.get(key, _MISSING)) == _key(value):
                    del p.inputs[key]

    # Units: one per name; inputs common to its placements, then narrower overrides.
    for name in sorted({p.name for p in importable}):
        group = [p for p in importable if p.name == name]
        modules_used = Counter(p.module for p in group)
        module_id = modules_used.most_common(1)[0][0]
        spec: dict[str, Any] = {"module": module_id}
        layer = Counter(p.layer or DEFAULT_LAYER for p in group).most_common(1)[0][0]
        if layer != catalog[module_id]["layer"]:
            spec["layer"] = layer
        for p in group:
            if p.module != module_id:
                override((p.env, p.region, name))["module"] = p.module
            if (p.layer or DEFAULT_LAYER) != layer:
                warnings.append(
                    Warning(
                        f"{p.path}/terragrunt.hcl",
                        1,
                        f"unit {name} sits in layer {p.layer or DEFAULT_LAYER} here, {layer} elsewhere: "
                        f"placed in {layer}",
                    )
                )
                p.layer = layer
            p.layer = p.layer or DEFAULT_LAYER
        common, narrower = _factor(group)
        if common:
            spec["inputs"] = common
        for scope, inputs in narrower.items():
            override((*scope, name)).setdefault("inputs", {}).update(inputs)
        envs = sorted({p.env for p in group})
        if envs != sorted(environments):
            spec["environments"] = envs
        for env in envs:
            present = {p.region for p in group if p.env == env}
            for region in environments[env]["regions"]:
                if region not in present:
                    overrides[(env, region, name)] = False
        # Versions: the catalog's pin, else a per-environment (or per-region) version.
        catalog_pin = catalog[module_id].get("version")
        for env in envs:
            env_pins = {p.pin for p in group if p.env == env}
            if len(env_pins) == 1 and next(iter(env_pins)) != catalog_pin and next(iter(env_pins)):
                override((env, name))["version"] = next(iter(env_pins))
            elif len(env_pins) > 1:
                for p in group:
                    if p.env == env and p.pin and p.pin != catalog_pin:
                        override((env, p.region, name))["version"] = p.pin
        unit_specs[name] = spec

    _dependencies(importable, by_path, unit_specs, override, warnings, files)
    state, kept = _state(importable, environments, project_name, override, notes)
    _protection(importable, environments, unit_specs, override)

    for place_key, value in sorted(overrides.items(), key=lambda kv: kv[0]):
        owner = environments[place_key[0]]
        if len(place_key) == 2:
            owner.setdefault("units", {})[place_key[1]] = value
        else:
            owner["regions"][place_key[1]].setdefault("units", {})[place_key[2]] = value
    project: dict[str, Any] = {"version": 1, "project": {"name": project_name}}
    project.update(_root_settings(importable, notes))
    project["state"] = state
    project["environments"] = environments
    project["units"] = unit_specs
    return Recovered(project, catalog, importable, warnings, kept, notes)


def _name_units(placements: list[Placement], notes: list[str]) -> None:
    """Two units of one name in one environment and region (in two layers) become
    LAYER-NAME, both of them."""
    seen = Counter((p.env, p.region, p.name) for p in placements)
    for p in placements:
        if seen[(p.env, p.region, p.name)] > 1:
            renamed = _safe(f"{p.layer or DEFAULT_LAYER}-{p.name}")
            notes.append(f"{p.path}: unit {p.name} is in two layers of {p.env}/{p.region}: named {renamed}")
            p.name = renamed


def _name_environments(placements: list[Placement], notes: list[str]) -> None:
    """An environment name used in two accounts becomes ACCOUNT-ENV in both."""
    accounts: dict[str, set[str]] = {}
    for p in placements:
        accounts.setdefault(p.env, set()).add(p.account)
    for env, owners in accounts.items():
        if len(owners) > 1:
            notes.append(f"environment {env} is in accounts {', '.join(sorted(owners))}: named <account>-{env}")
            for p in placements:
                if p.env == env:
                    p.env = _safe(f"{p.account}-{env}")


def _dependencies(
    placements: list[Placement],
    by_path: Mapping[str, Placement],
    unit_specs: dict[str, dict[str, Any]],
    override: Any,
    warnings: list[Warning],
    files: Mapping[str, bytes],
) -> None:
    """Each dependency block (and dependencies path) as a unit's dependency on another
    unit of its environment: common ones on the unit, the rest in overrides."""
    found: dict[str, dict[tuple[str, str], dict[str, dict[str, Any]]]] = {}
    for p in placements:
        unit_file = f"{p.path}/terragrunt.hcl"
        text = _text(files, unit_file if unit_file in files else None)

        def line(pattern: str, text: str = text) -> int:
            match = re.search(pattern, text)
            return _line_of(text, match.start()) if match else 1

        deps: dict[str, dict[str, Any]] = {}
        blocks = p.config.get("dependency") or {}
        for block_name, block in blocks.items():
            target = _target(p, str(block.get("config_path") or ""), by_path)
            if target is None:
                warnings.append(
                    Warning(
                        unit_file,
                        line(rf'dependency\s+"{re.escape(block_name)}"'),
                        f"dependency {block_name}: {block.get('config_path')} is no imported unit",
                    )
                )
                continue
            if target.env != p.env:
                warnings.append(
                    Warning(
                        unit_file,
                        line(rf'dependency\s+"{re.escape(block_name)}"'),
                        f"dependency {block_name} is in another environment ({target.path}): "
                        "tfgen has no cross-environment dependency",
                    )
                )
                continue
            dep: dict[str, Any] = {"unit": target.name}
            if target.region != p.region:
                dep["region"] = target.region
            mocks = block.get("mock_outputs")
            if mocks:
                dep["mock_outputs"] = mocks
            deps[_safe_identifier(block_name)] = dep
        paths = (p.config.get("dependencies") or {}).get("paths") or []
        for path in paths:
            target = _target(p, str(path), by_path)
            if target is None or target.env != p.env:
                warnings.append(
                    Warning(
                        unit_file,
                        line(r"(?m)^dependencies\s*\{"),
                        f"dependencies path {path} is no imported unit of the environment",
                    )
                )
                continue
            if any(d["unit"] == target.name and d.get("region", p.region) == target.region for d in deps.values()):
                continue
            dep = {"unit": target.name}
            if target.region != p.region:
                dep["region"] = target.region
            deps[_safe_identifier(target.name)] = dep
        found.setdefault(p.name, {})[p.place] = deps
    for name, by_place in found.items():
        values = list(by_place.values())
        if _same(values):
            if values[0]:
                unit_specs[name]["dependencies"] = values[0]
            continue
        everywhere = {k: v for k, v in values[0].items() if all(other.get(k) == v for other in values[1:])}
        if everywhere:
            unit_specs[name]["dependencies"] = everywhere
        for (env, region), deps in by_place.items():
            own: dict[str, Any] = {k: v for k, v in deps.items() if k not in everywhere}
            if own:
                override((env, region, name))["dependencies"] = own


def _safe_identifier(name: str) -> str:
    return name if re.match(r"^[A-Za-z_][A-Za-z0-9_-]*$", name) else "dep_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def _target(p: Placement, config_path: str, by_path: Mapping[str, Placement]) -> Placement | None:
    if not config_path:
        return None
    if config_path.startswith("/"):
        return None
    joined = PurePosixPath(p.path) / config_path
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return by_path.get("/".join(parts))


def _bucket_template(bucket: str, p: Placement, project: str) -> str:
    values = {p.region: "{region}", p.env: "{env}", project: "{project}"}
    if ACCOUNT_ID.match(p.account_id):
        values[p.account_id] = "{account_id}"
    pattern = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True) if len(v) >= 2)
    return re.sub(rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])", lambda m: values[m.group(0)], bucket)


def _state(
    placements: list[Placement],
    environments: dict[str, Any],
    project: str,
    override: Any,
    notes: list[str],
) -> tuple[dict[str, Any], list[str]]:
    """state: from the units' S3 backends; a unit's bucket or key that the project's
    pattern does not give is kept in the unit's override (state:)."""
    configs = [(p, (p.config.get("remote_state") or {})) for p in placements]
    backends = Counter(str(rs.get("backend") or "") for _, rs in configs)
    for backend, count in sorted(backends.items()):
        if backend == "":
            notes.append(
                f"{count} of {len(configs)} units keep local state (no remote_state): tfgen gives every unit an S3 "
                "backend; migrate their state (init -migrate-state) before applying"
            )
        elif backend != "s3":
            notes.append(f"{count} of {len(configs)} units use the {backend} backend: tfgen renders s3; not imported")
    s3 = [(p, rs.get("config") or {}) for p, rs in configs if rs.get("backend") == "s3"]
    state: dict[str, Any] = {
        "bucket": f"{project}-{{env}}-{{region}}-tfstate",
        "region": "{region}",
        "lock": "lockfile",
        "encrypt": True,
    }
    kept: list[str] = []
    if s3:
        templates = Counter(_bucket_template(str(c.get("bucket", "")), p, project) for p, c in s3)
        literal = {str(c.get("region")) for _, c in s3}
        regions = (
            Counter(literal)
            if len(literal) == 1
            else Counter("{region}" if c.get("region") == p.region else str(c.get("region")) for p, c in s3)
        )
        region = regions.most_common(1)[0][0]
        accounts = {environments[p.env]["account_id"] for p, _ in s3}
        usable = [
            t
            for t, _ in templates.most_common()
            if (region != "{region}" or "{region}" in t) and (len(accounts) < 2 or "{env}" in t or "{account_id}" in t)
        ]
        if not usable:
            # No pattern of the buckets names one per account: a pattern that does, and
            # every unit keeps its own bucket (state: below).
            usable = [f"{project}-{{account_id}}-{{region}}-tfstate"]
        state["bucket"] = usable[0] if usable else templates.most_common(1)[0][0]
        if region != "{region}" or usable:
            state["region"] = region
        else:
            state["region"] = str(s3[0][1].get("region"))
        first = s3[0][1]
        if first.get("dynamodb_table"):
            state["lock"] = "dynamodb"
            state["dynamodb_table"] = first["dynamodb_table"]
            state["lock_table_encryption"] = bool(first.get("enable_lock_table_ssencryption", False))
        state["encrypt"] = bool(first.get("encrypt", False))
        if "skip_bucket_versioning" in first:
            state["versioning"] = not first["skip_bucket_versioning"]
        if first.get("accesslogging_bucket_name"):
            notes.append("the state bucket's access logging was not imported: set state.access_logging_bucket")
        for p, config in s3:
            own: dict[str, str] = {}
            expected_bucket = (
                state["bucket"]
                .replace("{region}", p.region)
                .replace("{env}", p.env)
                .replace("{project}", project)
                .replace("{account_id}", environments[p.env]["account_id"])
            )
            if config.get("bucket") != expected_bucket:
                own["bucket"] = str(config.get("bucket"))
            if config.get("key") != layout.state_key(p.directory):
                own["key"] = str(config.get("key"))
                kept.append(p.path)
            if own:
                override((p.env, p.region, p.name))["state"] = own
    return state, kept


def _protection(
    placements: list[Placement], environments: dict[str, Any], unit_specs: dict[str, dict[str, Any]], override: Any
) -> None:
    """prevent_destroy as the unit's deletion_protection (here, or everywhere), or the
    environment's when every unit of the environment has it."""
    for env in {p.env for p in placements}:
        if all(p.config.get("prevent_destroy") for p in placements if p.env == env):
            environments[env]["deletion_protection"] = True
            for p in placements:
                if p.env == env:
                    p.config = {**p.config, "prevent_destroy": None}  # the environment's now
    for name in unit_specs:
        group = [p for p in placements if p.name == name]
        flags = {bool(p.config.get("prevent_destroy")) for p in group}
        if flags == {True}:
            unit_specs[name]["deletion_protection"] = True
        elif len(flags) > 1:
            for p in group:
                if p.config.get("prevent_destroy"):
                    override((p.env, p.region, name))["deletion_protection"] = True


def _root_settings(placements: list[Placement], notes: list[str]) -> dict[str, Any]:
    """terraform: the version constraints every unit shares."""
    terraform: dict[str, str] = {}
    for attribute, key in (
        ("terraform_version_constraint", "required_version"),
        ("terragrunt_version_constraint", "terragrunt_version"),
    ):
        values = {str(p.config.get(attribute) or "") for p in placements}
        if len(values) == 1 and next(iter(values)):
            terraform[key] = next(iter(values))
        elif len(values) > 1:
            notes.append(f"{attribute} differs between units: not imported")
    return {"terraform": terraform} if terraform else {}
