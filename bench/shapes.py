"""Tree shapes for Terragrunt's ``find --dag``, derived from a tree tfgen rendered.

``python -m bench.terragrunt --shapes today,one-include,...`` times Terragrunt on each
shape, interleaved round by round (issue 27 item 3). Each shape here is made from the
rendered tree by moving text between files, and is *find-equivalent* to the tree that
shape would be: it has the same includes, ``locals`` (with their
``read_terragrunt_config`` calls), ``terraform.source``, ``remote_state``, ``generate``,
``dependency`` and ``dependencies`` blocks in the same files, which is everything
``find --dag`` decodes (a partial parse: inputs are never evaluated). Where a shape
would move inputs that read ``local.env`` into a file without that local (exposed-root),
the inputs stay where they are: ``find`` does not evaluate them, so the timing is the
shape's, but the tree is not one to apply. The bench compares the graph Terragrunt
reports for every shape with today's.

Shapes (what Terragrunt v1.1.3 parses per unit, from pkg/config and internal/discovery):

- ``today``: the leaf includes root.hcl and ``_envcommon/<module>.hcl``; both
  ``read_terragrunt_config`` env.hcl and region.hcl. Each include is partially parsed
  twice per unit (once for feature flags, once to merge), so a unit costs 4 include
  parses and 8 ``read_terragrunt_config`` (each a full parse of the file read).
- ``one-include``: the module file carries root.hcl's content (one ``locals`` block, one
  pair of reads) and the leaf includes it alone: 2 include parses, 4 reads.
- ``one-include-literal``: the same, the include path written as a relative literal.
- ``one-include-one-read``: one include, and every region.hcl carries a copy of its
  environment's env.hcl values (known when tfgen renders), so the module file reads
  region.hcl alone: 2 include parses, 2 reads.
- ``one-include-literal-one-read``: one-include-one-read with the include path a
  relative literal.
- ``literal-paths``: today's shape, include paths as relative literals (no
  ``find_in_parent_folders``).
- ``literal-paths-one-read``: today's two includes, literal paths, and root.hcl and the
  module file each read region.hcl alone (which carries env.hcl's values): 4 include
  parses, 4 reads.
- ``inline-leaf``: the leaf includes root.hcl alone and holds the module's source,
  locals (its own pair of reads) and inputs: 2 include parses, 6 reads.
- ``exposed-root``: ``expose = true`` on the root include, ``_envcommon`` without reads
  (its env-dependent inputs would move to the leaf as ``include.root.locals...``). An
  exposed include is parsed again, fully, each time the leaf's evaluation context is
  built (pkg/config/cty_helpers.go includeConfigAsCtyVal).
- ``standalone``: no include; root.hcl's and the module's content in every leaf.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

INCLUDE_ROOT = 'include "root" {\n  path = find_in_parent_folders("root.hcl")\n}\n'
INCLUDE_ENVCOMMON = re.compile(
    r'include "envcommon" \{\n  path = "\$\{dirname\(find_in_parent_folders\("root.hcl"\)\)\}/(_envcommon/[^"]+)"\n\}\n'
)
READS = re.compile(r"^  (env|region) +=.*read_terragrunt_config.*\n", re.MULTILINE)


def _block(text: str, opening: str) -> tuple[int, int]:
    """Start and end of the brace block that begins with *opening* in *text*."""
    start = text.index(opening)
    depth = 0
    for index in range(text.index("{", start), len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return start, index + 1
    raise ValueError(f"unbalanced {opening!r}")


def _cut(text: str, opening: str) -> tuple[str, str]:
    """*text* without the block that begins with *opening*, and that block ("" if none)."""
    if opening not in text:
        return text, ""
    start, end = _block(text, opening)
    return text[:start] + text[end:], text[start:end]


def _inner(block: str) -> str:
    return block[block.index("{") + 1 : -1] if block else ""


class _Parts:
    """A rendered file split into its locals' body, terraform block, inputs block and the rest."""

    def __init__(self, text: str, module: bool = True) -> None:
        # root.hcl has neither inputs nor a terraform block (its heredocs hold "terraform {").
        rest, locals_ = _cut(text, "\nlocals {")
        rest, self.inputs = _cut(rest, "\ninputs = {") if module else (rest, "")
        self.rest, self.terraform = _cut(rest, "\nterraform {") if module else (rest, "")
        self.locals = _inner(locals_)


def _merge_inputs(leaf: str, module_inputs: str) -> str:
    """The leaf with the module's inputs merged under its own (Terragrunt's shallow merge)."""
    if not module_inputs:
        return leaf
    if "\ninputs = {" not in leaf:
        return leaf + module_inputs + "\n"
    leaf, own = _cut(leaf, "\ninputs = {")
    return leaf + "\ninputs = merge(" + module_inputs.split("=", 1)[1] + ", " + own.split("=", 1)[1] + ")\n"


def make(tree: Path, out: Path, shape: str) -> Path:
    """Write *shape* of the rendered *tree* to *out*/*shape*; returns that directory."""
    target = out / shape
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(tree, target)
    root = _Parts((tree / "root.hcl").read_text(encoding="utf-8"), module=False)
    modules = {
        path.relative_to(tree).as_posix(): _Parts(path.read_text(encoding="utf-8"))
        for path in (tree / "_envcommon").rglob("*.hcl")
    }

    def module_file(path: str) -> str:
        """root.hcl's content and the module's in one file, one pair of reads."""
        module = modules[path]
        up = "../" * (len(Path(path).parts) - 1)
        key = f'${{trimprefix(path_relative_to_include(), "{up}")}}'
        shared = root.rest.replace("${path_relative_to_include()}", key)
        locals_ = f"locals {{{root.locals}{READS.sub('', module.locals)}}}"
        return f"{module.terraform}\n\n{locals_}\n{shared}\n{module.rest}\n{module.inputs}\n"

    def one_include(leaf: str, match: re.Match[str]) -> str:
        return leaf.replace(INCLUDE_ROOT, "").replace(match.group(0), match.group(0).replace('"envcommon"', '"root"'))

    def own_locals(leaf: str, defined: str) -> tuple[str, str]:
        """The leaf without its locals block, and those of its locals *defined* lacks
        (Terragrunt allows one locals block per file; a leaf's env of its own, which
        merges env.hcl with its deletion policy, reads env.hcl as the module's does)."""
        leaf, block = _cut(leaf, "\nlocals {")
        names = set(re.findall(r"^  (\w+) +=", defined, re.MULTILINE))
        kept, skip = [], False
        for line in _inner(block).splitlines(keepends=True):
            name = re.match(r"^  (\w+) +=", line)
            if name:
                skip = name.group(1) in names
            if not skip:
                kept.append(line)
        return leaf, "".join(kept)

    def inline_leaf(leaf: str, match: re.Match[str]) -> str:
        module = modules[match.group(1)]
        leaf, extra = own_locals(leaf, module.locals)
        locals_ = f"locals {{{module.locals}{extra}}}"
        leaf = leaf.replace(match.group(0), f"{module.terraform}\n\n{locals_}\n{module.rest}\n")
        return _merge_inputs(leaf, module.inputs)

    def exposed_root(leaf: str, match: re.Match[str]) -> str:
        exposed = 'include "root" {\n  path   = find_in_parent_folders("root.hcl")\n  expose = true\n}\n'
        return leaf.replace(INCLUDE_ROOT, exposed)

    def standalone(leaf: str, match: re.Match[str]) -> str:
        module = modules[match.group(1)]
        leaf, extra = own_locals(leaf, root.locals + module.locals)
        locals_ = f"locals {{{root.locals}{READS.sub('', module.locals)}{extra}}}"
        merged = f"{module.terraform}\n\n{locals_}\n{root.rest}\n{module.rest}\n"
        return _merge_inputs(leaf.replace(INCLUDE_ROOT, "").replace(match.group(0), merged), module.inputs)

    def literal(leaf: str, depth: int) -> str:
        up = "../" * depth
        leaf = leaf.replace('path = find_in_parent_folders("root.hcl")', f'path = "{up}root.hcl"')
        return leaf.replace('path = "${dirname(find_in_parent_folders("root.hcl"))}/', f'path = "{up}')

    leaves: dict[str, Callable[[str, re.Match[str]], str]] = {
        "today": lambda leaf, match: leaf,
        "literal-paths": lambda leaf, match: leaf,
        "one-include": one_include,
        "one-include-literal": one_include,
        "inline-leaf": inline_leaf,
        "exposed-root": exposed_root,
        "standalone": standalone,
    }
    leaves["one-include-one-read"] = one_include
    leaves["one-include-literal-one-read"] = one_include
    leaves["literal-paths-one-read"] = leaves["today"]
    if shape not in leaves:
        raise ValueError(f"unknown shape {shape!r}: one of {', '.join(leaves)}")
    for path in target.rglob("terragrunt.hcl"):
        text = path.read_text(encoding="utf-8")
        match = INCLUDE_ENVCOMMON.search(text)
        if match is None:
            raise ValueError(f"{path}: no envcommon include")
        text = leaves[shape](text, match)
        if "literal" in shape:
            text = literal(text, len(path.relative_to(target).parts) - 1)
        path.write_text(text, encoding="utf-8")
    one_read = (
        '  region = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals\n'
        "  env    = local.region.env\n"
    )
    if shape == "literal-paths-one-read":  # today's files, each reading region.hcl alone
        for path in [target / "root.hcl", *(target / "_envcommon").rglob("*.hcl")]:
            text = READS.sub("", path.read_text(encoding="utf-8"))
            path.write_text(text.replace("locals {\n", "locals {\n" + one_read, 1), encoding="utf-8")
    for path in (target / "_envcommon").rglob("*.hcl"):
        relative = path.relative_to(target).as_posix()
        if shape == "literal-paths-one-read":
            continue
        if shape.endswith("one-read"):
            text = READS.sub("", module_file(relative))
            path.write_text(text.replace("locals {\n", "locals {\n" + one_read, 1), encoding="utf-8")
        elif shape.startswith("one-include"):
            path.write_text(module_file(relative), encoding="utf-8")
        elif shape == "exposed-root":
            path.write_text(READS.sub("", path.read_text(encoding="utf-8")), encoding="utf-8")
    if shape.endswith("one-read"):
        # Every region.hcl carries its environment's values (env.hcl's locals, which tfgen
        # knows when it renders), so that the module file reads one file, not two.
        for region in target.glob("environments/*/*/region.hcl"):
            env = _Parts((region.parent.parent / "env.hcl").read_text(encoding="utf-8"), module=False)
            text = region.read_text(encoding="utf-8")
            end = _block(text, "\nlocals {")[1]
            copy = f"  env = {{{env.locals}}}\n"
            region.write_text(text[: end - 1] + copy + text[end - 1 :], encoding="utf-8")
    return target


SHAPES = (
    "today",
    "one-include",
    "one-include-literal",
    "one-include-one-read",
    "one-include-literal-one-read",
    "literal-paths",
    "literal-paths-one-read",
    "inline-leaf",
    "exposed-root",
    "standalone",
)
