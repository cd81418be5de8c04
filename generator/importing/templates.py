"""The source's own generated files, where tfgen's would differ: a project root.hcl
template (templates/root.hcl.j2) whose generate blocks are the source root's.

Every unit of a live tree gets the same generate blocks from its root, each evaluated
with the unit's region and account. Read back with the region and account as the
rendered env.hcl / region.hcl locals (``${local.region.aws_region}``,
``${local.env.account_id}``, ``${local.env.environment}``), they must come out as one
text for every unit; then the project's root.hcl renders exactly them. Otherwise
nothing is written and the round trip lists the difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .._package import builtin_templates
from ..hcl.literal import string as hcl_string
from ..hcl.literal import template_escape
from .recover import ACCOUNT_ID, Placement

#: The built-in root template's provider block, replaced by the source's blocks.
_PROVIDER_BLOCK = re.compile(r'(?ms)^generate "provider" \{\n.*?EOF\n\}\n')
#: Defaults of a generate block in Terragrunt's evaluation: not written.
_DEFAULTS: Mapping[str, Any] = {
    "comment_prefix": "# ",
    "disable_signature": False,
    "disable": False,
    "if_disabled": "skip",
    "hcl_fmt": None,
    "mutable": None,
}


def _read_back(contents: str, placement: Placement, account_id: str) -> str:
    """*contents* with the unit's region, account and environment as reads of the locals."""
    names = {placement.region: "${local.region.aws_region}", placement.env: "${local.env.environment}"}
    if ACCOUNT_ID.match(account_id):
        names[account_id] = "${local.env.account_id}"
    escaped = template_escape(contents)
    pattern = "|".join(re.escape(v) for v in sorted(names, key=len, reverse=True) if len(v) >= 2)
    return re.sub(rf"(?<![A-Za-z0-9])(?:{pattern})(?![A-Za-z0-9])", lambda m: names[m.group(0)], escaped)


def _block(name: str, block: Mapping[str, Any], contents: str) -> str:
    lines = [f"generate {hcl_string(name)} {{", f"  path      = {hcl_string(str(block.get('path')))}"]
    lines.append(f"  if_exists = {hcl_string(str(block.get('if_exists') or 'overwrite_terragrunt'))}")
    for key, default in _DEFAULTS.items():
        value = block.get(key, default)
        if value != default and value is not None:
            rendered = "true" if value is True else "false" if value is False else hcl_string(str(value))
            lines.append(f"  {key} = {rendered}")
    body = contents if contents.endswith("\n") else contents + "\n"
    marker = "EOT" if "\nEOF\n" in "\n" + body else "EOF"
    lines.append(f"  contents  = <<{marker}\n{body}{marker}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def root_template(placements: Sequence[Placement], account_ids: Mapping[str, str]) -> str | None:
    """templates/root.hcl.j2 with the source's generate blocks, or None when every unit's
    generate blocks are tfgen's provider.tf alone or cannot be read back as one text."""
    if not placements:
        return None
    # The blocks every unit has come from the root; a unit's own extra ones stay a
    # difference of that unit (import warns at their line).
    common = set.intersection(*(set((p.config.get("generate") or {}).keys()) for p in placements))
    blocks: list[str] = []
    for name in sorted(common):
        texts = set()
        shapes = set()
        for p in placements:
            block = (p.config.get("generate") or {})[name]
            texts.add(_read_back(str(block.get("contents") or ""), p, account_ids.get(p.env, "")))
            shapes.add(tuple(sorted((k, str(v)) for k, v in block.items() if k != "contents")))
        if len(texts) != 1 or len(shapes) != 1:
            return None
        blocks.append(_block(name, (placements[0].config.get("generate") or {})[name], texts.pop()))
    builtin = (builtin_templates() / "root.hcl.j2").read_text(encoding="utf-8")
    if not _PROVIDER_BLOCK.search(builtin):
        return None
    source_blocks = "\n".join(blocks)
    replacement = (
        "# The generate blocks of the imported tree's root, as its units evaluated them\n"
        "# (tfgen import wrote this template: it replaces tfgen's provider.tf).\n"
        "{% raw %}" + source_blocks + "{% endraw %}"
        if blocks
        else "# The imported tree generates no provider file (tfgen import wrote this template).\n"
    )
    return _PROVIDER_BLOCK.sub(lambda _m: replacement, builtin, count=1)
