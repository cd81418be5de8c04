"""A module's interface: its variables (type, default or required, nullable), outputs
and the providers it requires (``required_providers``: source, version constraint,
configuration aliases).

Read from the ``.tf`` files of a module directory with pygohcl (HashiCorp's HCL
parser); stored in and read back from the lock file as plain JSON. The providers of a
downloaded package are those of its top directory and of the local modules it calls
(``source = "./modules/x"``): OpenTofu needs a configuration for each of them.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pygohcl

_NO_DEFAULT = object()


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # the type constraint as written, whitespace collapsed; "any" when absent
    required: bool  # no default
    nullable: bool = True
    default: Any = None  # meaningful only when not required

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "required": self.required}
        if not self.nullable:
            out["nullable"] = False
        if not self.required:
            out["default"] = self.default
        return out

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> Variable:
        return cls(
            name,
            str(data.get("type", "any")),
            bool(data.get("required", False)),
            bool(data.get("nullable", True)),
            data.get("default"),
        )


@dataclass(frozen=True)
class RequiredProvider:
    """One entry of a module's ``required_providers`` (by its local name)."""

    name: str  # the local name: aws, awsutils, kubernetes ...
    source: str  # as written, or hashicorp/<name> when the module gives none
    versions: tuple[str, ...] = ()  # every constraint written for it (the module and its local modules)
    aliases: tuple[str, ...] = ()  # configuration_aliases: us_east_1 for aws.us_east_1

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source}
        if self.versions:
            out["version"] = ", ".join(self.versions)
        if self.aliases:
            out["configuration_aliases"] = [f"{self.name}.{a}" for a in self.aliases]
        return out

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> RequiredProvider:
        version = str(data.get("version") or "").strip()
        aliases = tuple(str(a).split(".", 1)[-1] for a in data.get("configuration_aliases") or ())
        return cls(name, str(data.get("source") or f"hashicorp/{name}"), (version,) if version else (), aliases)

    @property
    def constraint(self) -> str:
        return ", ".join(self.versions)


@dataclass(frozen=True)
class Interface:
    variables: Mapping[str, Variable]
    outputs: tuple[str, ...]
    origin: str  # where it was read: the lock file entry or the local directory
    #: required_providers by local name; None: not recorded (a lock written before tfgen read them)
    providers: Mapping[str, RequiredProvider] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variables": {name: self.variables[name].as_json() for name in sorted(self.variables)},
            "outputs": sorted(self.outputs),
        }
        if self.providers is not None:
            out["required_providers"] = {name: self.providers[name].as_json() for name in sorted(self.providers)}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any], origin: str) -> Interface:
        variables = data.get("variables") or {}
        providers = data.get("required_providers")
        return cls(
            {name: Variable.from_json(name, spec) for name, spec in variables.items()},
            tuple(data.get("outputs") or ()),
            origin,
            None if providers is None else {n: RequiredProvider.from_json(n, p) for n, p in providers.items()},
        )


class InterfaceError(Exception):
    """A module directory that cannot be read as Terraform (message says why)."""


def _type_text(value: Any) -> str:
    if value is None:
        return "any"
    return re.sub(r"\s+", " ", str(value)).strip()


def _folder_texts(folder: Path) -> list[tuple[str, str]]:
    """The ``*.tf`` and ``*.tf.json`` files directly in *folder*, by name."""
    files = sorted(p for p in folder.iterdir() if p.name.endswith((".tf", ".tf.json")) and p.is_file())
    texts: list[tuple[str, str]] = []
    for path in files:
        try:
            texts.append((path.name, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError) as exc:
            raise InterfaceError(f"{path.name}: {exc}") from None
    return texts


def _nested_folders(
    directory: Path, texts: list[tuple[str, str]]
) -> Iterator[tuple[Path, dict[str, RequiredProvider] | None]]:
    """Each folder of a local module that the module in *directory* (whose files are
    *texts*) calls, directly or through another, once, with the providers it requires;
    None for a folder tfgen cannot read (OpenTofu reports it), whose calls are not followed."""
    seen = {directory.resolve()}
    pending = [directory / s for s in _local_calls(texts)]
    while pending:
        folder = pending.pop().resolve()
        if folder in seen or not folder.is_dir():
            continue
        seen.add(folder)
        try:
            found = _folder_texts(folder)
            providers = _providers(found)
        except InterfaceError:
            yield folder, None
            continue
        yield folder, providers
        pending += [folder / s for s in _local_calls(found)]


def read_module_dir(directory: Path, origin: str | None = None) -> Interface:
    """The interface declared by the ``*.tf`` files directly in *directory* (and the
    providers of the local modules they call)."""
    if not directory.is_dir():
        raise InterfaceError(f"{directory} is not a directory")
    texts = _folder_texts(directory)
    if not texts:
        raise InterfaceError(f"{directory} holds no .tf files")
    interface = _interface(texts, origin or str(directory))
    extra: list[Mapping[str, RequiredProvider]] = [
        found for _folder, found in _nested_folders(directory, texts) if found is not None
    ]
    return _with_nested(interface, extra)


def module_folders(directory: Path) -> list[Path]:
    """Every folder whose files :func:`read_module_dir` reads for *directory*: the
    directory itself and the local modules it calls (what a render's fingerprint covers)."""
    try:
        texts = _folder_texts(directory) if directory.is_dir() else []
    except InterfaceError:
        texts = []
    return [directory, *(folder for folder, _found in _nested_folders(directory, texts))]


def _top_texts(files: Mapping[str, bytes], folder: str) -> list[tuple[str, str]]:
    prefix = f"{folder}/" if folder else ""
    names = sorted(
        n for n in files if n.startswith(prefix) and "/" not in n[len(prefix) :] and n.endswith((".tf", ".tf.json"))
    )
    texts: list[tuple[str, str]] = []
    for name in names:
        try:
            texts.append((name[len(prefix) :], files[name].decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise InterfaceError(f"{name}: {exc}") from None
    return texts


def read_module_files(files: Mapping[str, bytes], origin: str) -> Interface:
    """The interface declared by the ``*.tf`` files at the top of a downloaded package
    (and the providers of the local modules they call, inside the package)."""
    texts = _top_texts(files, "")
    if not texts:
        raise InterfaceError("the module directory holds no .tf files")
    interface = _interface(texts, origin)
    seen = {""}
    pending = [posixpath.normpath(s) for s in _local_calls(texts)]
    extra: list[Mapping[str, RequiredProvider]] = []
    while pending:
        folder = pending.pop()
        if folder in seen or folder.startswith(".."):  # outside the package: not downloaded with it
            continue
        seen.add(folder)
        nested = _top_texts(files, folder)
        if not nested:
            continue
        try:
            extra.append(_providers(nested))
        except InterfaceError:
            continue
        pending += [posixpath.normpath(posixpath.join(folder, s)) for s in _local_calls(nested)]
    return _with_nested(interface, extra)


def _bodies(texts: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    bodies = []
    for file_name, text in texts:
        try:
            body = json.loads(text) if file_name.endswith(".json") else pygohcl.loads(text)
        except Exception as exc:  # pygohcl raises its own HCLParseError and ValueError
            raise InterfaceError(f"{file_name}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
        if not isinstance(body, dict):
            raise InterfaceError(f"{file_name}: not a Terraform configuration")
        bodies.append((file_name, body))
    return bodies


def _blocks(value: Any) -> list[dict[str, Any]]:
    """A block type's bodies: pygohcl gives one as a mapping, several as a list."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _local_calls(texts: list[tuple[str, str]]) -> list[str]:
    """The local directories (./x, ../x) the module blocks of *texts* call."""
    found = []
    for _name, body in _bodies(texts):
        for block in _blocks(body.get("module")):
            for call in block.values():
                for spec in _blocks(call):
                    source = spec.get("source")
                    if isinstance(source, str) and source.startswith(("./", "../")):
                        found.append(source)
    return found


def _providers(texts: list[tuple[str, str]]) -> dict[str, RequiredProvider]:
    """The ``required_providers`` of one module directory, by local name."""
    found: dict[str, RequiredProvider] = {}
    for file_name, body in _bodies(texts):
        for terraform in _blocks(body.get("terraform")):
            for block in _blocks(terraform.get("required_providers")):
                for name, spec in block.items():
                    if isinstance(spec, str):  # the pre-0.13 shorthand: name = "constraint"
                        spec = {"version": spec}
                    if not isinstance(spec, dict):
                        raise InterfaceError(f"{file_name}: required_providers.{name} is not an object")
                    found[name] = _merged(found.get(name), RequiredProvider.from_json(name, spec))
    return found


def _merged(old: RequiredProvider | None, new: RequiredProvider) -> RequiredProvider:
    if old is None:
        return new
    versions = tuple(dict.fromkeys((*old.versions, *new.versions)))
    return replace(old, versions=versions, aliases=tuple(dict.fromkeys((*old.aliases, *new.aliases))))


def _with_nested(interface: Interface, nested: list[Mapping[str, RequiredProvider]]) -> Interface:
    """*interface* with the providers its local modules require that it does not itself;
    their constraints join those of the same provider (every one must hold). Aliases stay
    the top module's: a local module's are passed to it by the module block."""
    providers = dict(interface.providers or {})
    for found in nested:
        for name, required in found.items():
            if name in providers:
                if required.source == providers[name].source:
                    versions = tuple(dict.fromkeys((*providers[name].versions, *required.versions)))
                    providers[name] = replace(providers[name], versions=versions)
            else:
                providers[name] = replace(required, aliases=())
    return replace(interface, providers=providers)


def _interface(texts: list[tuple[str, str]], origin: str) -> Interface:
    variables: dict[str, Variable] = {}
    outputs: set[str] = set()
    for _file_name, body in _bodies(texts):
        for name, spec in (body.get("variable") or {}).items():
            spec = spec if isinstance(spec, dict) else {}
            default = spec.get("default", _NO_DEFAULT)
            nullable = spec.get("nullable", True)
            variables[name] = Variable(
                name,
                _type_text(spec.get("type")),
                default is _NO_DEFAULT,
                nullable is not False,
                None if default is _NO_DEFAULT else default,
            )
        outputs.update((body.get("output") or {}).keys())
    return Interface(variables, tuple(sorted(outputs)), origin, _providers(texts))
