"""The recovered project as files: environments.yaml and catalog/<category>/<module>.yaml."""

from __future__ import annotations

from typing import Any

import yaml

from .recover import Hcl, Recovered
from .templates import root_template


class _Dumper(yaml.SafeDumper):
    """Block style, keys in the order recovered, ``!hcl`` for expressions."""


def _hcl(dumper: yaml.SafeDumper, value: Hcl) -> yaml.ScalarNode:
    return dumper.represent_scalar("!hcl", str(value), style="'" if "'" not in value else '"')


_Dumper.add_representer(Hcl, _hcl)


def dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=100)


def files(recovered: Recovered, source: str) -> dict[str, str]:
    """{relative path: text} of the imported project."""
    header = (
        f"# Imported by `tfgen import` from {source}: render it with `tfgen render`;\n"
        "# `tfgen import --check SOURCE` compares Terragrunt's evaluation of both trees.\n"
    )
    written = {"environments.yaml": header + dump(recovered.environments)}
    for module_id, document in sorted(recovered.catalog.items()):
        written[f"catalog/{module_id}.yaml"] = f"# Imported from {source}.\n" + dump(document)
    accounts = {name: env["account_id"] for name, env in recovered.environments["environments"].items()}
    template = root_template(recovered.placements, accounts)
    if template is not None:
        written["templates/root.hcl.j2"] = template
    return written
