"""A module's interface: its variables (type, default or required, nullable) and outputs.

Read from the ``.tf`` files of a module directory with pygohcl (HashiCorp's HCL
parser); stored in and read back from the lock file as plain JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
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
class Interface:
    variables: Mapping[str, Variable]
    outputs: tuple[str, ...]
    origin: str  # where it was read: the lock file entry or the local directory

    def as_json(self) -> dict[str, Any]:
        return {
            "variables": {name: self.variables[name].as_json() for name in sorted(self.variables)},
            "outputs": sorted(self.outputs),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], origin: str) -> Interface:
        variables = data.get("variables") or {}
        return cls(
            {name: Variable.from_json(name, spec) for name, spec in variables.items()},
            tuple(data.get("outputs") or ()),
            origin,
        )


class InterfaceError(Exception):
    """A module directory that cannot be read as Terraform (message says why)."""


def _type_text(value: Any) -> str:
    if value is None:
        return "any"
    return re.sub(r"\s+", " ", str(value)).strip()


def read_module_dir(directory: Path, origin: str | None = None) -> Interface:
    """The interface declared by the ``*.tf`` files directly in *directory*."""
    if not directory.is_dir():
        raise InterfaceError(f"{directory} is not a directory")
    files = sorted(p for p in directory.iterdir() if p.name.endswith((".tf", ".tf.json")) and p.is_file())
    if not files:
        raise InterfaceError(f"{directory} holds no .tf files")
    texts: list[tuple[str, str]] = []
    for path in files:
        try:
            texts.append((path.name, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError) as exc:
            raise InterfaceError(f"{path.name}: {exc}") from None
    return _interface(texts, origin or str(directory))


def read_module_files(files: Mapping[str, bytes], origin: str) -> Interface:
    """The interface declared by the ``*.tf`` files at the top of a downloaded package."""
    names = sorted(n for n in files if "/" not in n and n.endswith((".tf", ".tf.json")))
    if not names:
        raise InterfaceError("the module directory holds no .tf files")
    texts: list[tuple[str, str]] = []
    for name in names:
        try:
            texts.append((name, files[name].decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise InterfaceError(f"{name}: {exc}") from None
    return _interface(texts, origin)


def _interface(texts: list[tuple[str, str]], origin: str) -> Interface:
    variables: dict[str, Variable] = {}
    outputs: set[str] = set()
    for file_name, text in texts:
        try:
            body = json.loads(text) if file_name.endswith(".json") else pygohcl.loads(text)
        except Exception as exc:  # pygohcl raises its own HCLParseError and ValueError
            raise InterfaceError(f"{file_name}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
        if not isinstance(body, dict):
            raise InterfaceError(f"{file_name}: not a Terraform configuration")
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
    return Interface(variables, tuple(sorted(outputs)), origin)
