"""Stand-in modules for a rehearsal, generated from what each unit passes and what its
dependents read.

A stand-in declares one variable for every input the unit passes (as Terragrunt
evaluated it), one output for every output a dependent reads, with the shape of the
catalog's mock output, and a ``terraform_data`` resource holding the inputs, so apply
and destroy do real work in state. String outputs carry the address of the unit that
produced them (``mock@env/region/unit``), so a value found in a dependent's inputs
provably came from the dependency's state and not from a mock. The resource's
provisioners append ``apply ADDRESS`` / ``destroy ADDRESS`` to $TFGEN_REHEARSAL_LOG: the
order in which resources were really created and destroyed.

Written as ``main.tf.json`` (OpenTofu's JSON syntax) so every value is exact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

LOG_ENV = "TFGEN_REHEARSAL_LOG"
RESOURCE = "terraform_data.inputs"
_TEMPLATE = re.compile(r"([$%])\{")


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
#: Names a Terraform module cannot give a variable.
RESERVED = frozenset({"source", "version", "providers", "count", "for_each", "lifecycle", "depends_on", "locals"})


def name_problem(name: str) -> str:
    """Why no module can declare a variable *name* (Terragrunt would pass it in vain)."""
    if not _IDENTIFIER.match(name):
        return f"input {name!r} is not a valid variable name: no module can declare it, so it never arrives"
    if name in RESERVED:
        return f"input {name!r} is a reserved name: no module can declare a variable called {name}"
    return ""


def tagged(value: Any, address: str) -> Any:
    """*value* with every string leaf marked as produced by *address*."""
    if isinstance(value, str):
        return f"{value}@{address}"
    if isinstance(value, list):
        return [tagged(v, address) for v in value]
    if isinstance(value, dict):
        return {k: tagged(v, address) for k, v in value.items()}
    return value


def _literal(value: Any) -> Any:
    """*value* as a JSON-syntax literal: strings are templates there, so escape ${ and %{."""
    if isinstance(value, str):
        return _TEMPLATE.sub(lambda m: m.group(1) * 2 + "{", value)
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {k: _literal(v) for k, v in value.items()}
    return value


def _variable(value: Any) -> dict[str, Any]:
    # Terragrunt passes a string input as its raw text (TF_VAR_x=text), anything else as
    # JSON, which a variable of type any parses as HCL. Null inputs are not passed.
    if value is None:
        return {"type": "any", "default": None}
    return {"type": "string" if isinstance(value, str) else "any"}


def standin(
    address: str, inputs: Mapping[str, Any], outputs: Mapping[str, Any], *, requires_aws: bool = False
) -> dict[str, Any]:
    """The stand-in module (JSON syntax) of the unit at *address*. *requires_aws*: it
    declares its own requirement on hashicorp/aws, as registry modules do."""
    document: dict[str, Any] = {
        "//": f"tfgen rehearse: stand-in module of {address}",
        "resource": {
            "terraform_data": {
                "inputs": {
                    "input": {name: f"${{var.{name}}}" for name in sorted(inputs)},
                    "provisioner": [
                        {"local-exec": {"command": f"printf '%s\\n' {_sh('apply ' + address)} >> \"${LOG_ENV}\""}},
                        {
                            "local-exec": {
                                "when": "destroy",
                                "command": f"printf '%s\\n' {_sh('destroy ' + address)} >> \"${LOG_ENV}\"",
                            }
                        },
                    ],
                }
            }
        },
    }
    if requires_aws:
        document["terraform"] = {"required_providers": {"aws": {"source": "hashicorp/aws"}}}
    # Reading the stand-in provider's data source makes OpenTofu configure the provider
    # block the tree generates (it configures no provider that nothing uses).
    document["data"] = {"aws_tfgen_rehearsal": {"provider": {}}}
    if inputs:
        document["variable"] = {name: _variable(inputs[name]) for name in sorted(inputs)}
    if outputs:
        document["output"] = {name: {"value": _literal(outputs[name])} for name in sorted(outputs)}
    return document


def _sh(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def write(
    directory: Path, address: str, inputs: Mapping[str, Any], outputs: Mapping[str, Any], *, requires_aws: bool = False
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    module = standin(address, inputs, outputs, requires_aws=requires_aws)
    text = json.dumps(module, indent=2, sort_keys=False) + "\n"
    (directory / "main.tf.json").write_text(text, encoding="utf-8")


_TERRAFORM_BLOCK = re.compile(r"^terraform\s*\{", re.MULTILINE)


def redirect(unit_file: Path, source: Path) -> None:
    """Point the unit's terraform.source at its stand-in (the scratch copy only): a
    ``terraform`` block in the leaf wins over the one included from _envcommon."""
    text = unit_file.read_text(encoding="utf-8")
    if _TERRAFORM_BLOCK.search(text):
        raise ValueError(f"{unit_file}: the unit has its own terraform block; cannot redirect its source")
    block = (
        "\n# tfgen rehearse: the stand-in module of this unit\n"
        f"terraform {{\n  source = {json.dumps(str(source))}\n}}\n"
    )
    unit_file.write_text(text + block, encoding="utf-8")
