"""MkDocs hooks: the pages that are generated, not written.

- reference/environments-yaml.md and reference/catalog.md from the JSON Schemas in
  generator/project/schemas (the editors' schemas: one source of truth). A key without a
  description fails the build.
- reference/validation-rules.md from the rule registry (generator/checks/base.py: RULES
  and CATALOG_RULES), each rule's ids read from its source, an example message of each id
  taken from validating tests/cases/*.
- examples/<name>.md from examples/<name>/README.md, added to the nav's Examples section
  (a new example directory appears without editing mkdocs.yml).
- Markers in hand-written pages: ``<!-- generated: exit-codes -->`` (cli/report.py's
  EXIT_* constants) and ``<!-- generated: python-api -->`` (generator.__all__).
"""

from __future__ import annotations

import ast
import html
import inspect
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "generator" / "project" / "schemas"
EXAMPLES = REPO / "examples"


# --- schemas -------------------------------------------------------------------------------

#: $defs documented once, in their own section, and linked from every key that uses them.
SECTIONS = {
    "environment": ("Environment", "environments.<env>"),
    "region": ("Region", "environments.<env>.regions.<region>"),
    "unit": ("Unit", "units.<unit>"),
    "unitOverride": ("Unit override", "...units.<unit> under defaults, an environment or a region"),
    "unitDependency": ("Unit dependency", "...dependencies.<name> of a unit or a unit override"),
    "settingDeclaration": ("Setting declaration", "settings_schema.<setting>"),
    "dependency": ("Catalog dependency", "dependencies.<name>"),
}

#: What a $def is, in a type column.
NAMED_TYPES = {
    "identifier": "identifier",
    "name": "name (lowercase, digits, - and _)",
    "projectName": "project name",
    "regionName": "AWS region name",
    "iamRole": "IAM role name",
    "toolVersion": "version X.Y.Z",
    "scalar": "string, number or boolean",
    "tags": "map of tags",
    "settings": "map",
    "sizingOverrides": "map of scalars",
    "inputs": "map of inputs",
    "layers": "map of layer: boolean",
    "unitOverrides": "map of unit overrides",
    "unitDependencies": "map of dependencies",
    "outputName": "output name",
}


def _ref_name(node: dict[str, Any]) -> str | None:
    ref = node.get("$ref")
    return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


def _anchor(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class SchemaDoc:
    def __init__(self, schema: dict[str, Any], name: str) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.name = name
        self.keys = 0

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        name = _ref_name(node)
        return self.resolve(self.defs[name]) if name else node

    def type_of(self, node: Any) -> str:
        if not isinstance(node, dict):
            return "any"
        name = _ref_name(node)
        if name in SECTIONS:
            title = SECTIONS[name][0]
            return f"[{title.lower()}](#{_anchor(title)})"
        if name:
            return NAMED_TYPES.get(name) or self.type_of(self.defs[name])
        if "const" in node:
            return f"`{json.dumps(node['const'])}`"
        if "enum" in node:
            return " \\| ".join(f"`{v}`" for v in node["enum"])
        for key in ("oneOf", "anyOf"):
            if key in node:
                return " or ".join(self.type_of(option) for option in node[key])
        kind = node.get("type")
        if kind == "array":
            return f"list of {self.type_of(node.get('items', {}))}"
        if kind == "object":
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and not node.get("properties"):
                return f"map of {self.type_of(extra)}"
            return "mapping"
        if isinstance(kind, list):
            return ", ".join(kind)
        return str(kind) if kind else "any"

    def description(self, path: str, node: dict[str, Any]) -> str:
        text = node.get("description")
        name = _ref_name(node)
        if not text and name and name not in SECTIONS:
            text = self.defs[name].get("description")
        if not text:
            raise PluginError(f"{self.name}: key {path} has no description (add one in generator/project/schemas)")
        extra = []
        target = self.resolve(node)
        if isinstance(target.get("x-message"), str) and "pattern" in target:
            extra.append(f"Format: {target['x-message']}.")
        return " ".join([_cell(text), *extra])

    def rows(self, prefix: str, node: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
        """(key path, type, required, description) of every key under *node*, depth first;
        sections are linked, not walked."""
        required = set(node.get("required", ()))
        for key, child in node.get("properties", {}).items():
            path = f"{prefix}{key}"
            self.keys += 1
            yield (path, self.type_of(child), "yes" if key in required else "", self.description(path, child))
            target = self.resolve(child)
            if _ref_name(child) in SECTIONS:
                continue
            yield from self._children(path, target)

    def _children(self, path: str, target: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
        if target.get("properties"):
            yield from self.rows(f"{path}.", target)
        extra = target.get("additionalProperties")
        if isinstance(extra, dict) and not target.get("properties"):
            placeholder = _placeholder(path)
            inner = self.resolve(extra)
            if _ref_name(extra) not in SECTIONS and inner.get("type") == "object":
                yield from self._children(f"{path}.<{placeholder}>", inner)
        for option in target.get("oneOf", ()):
            if isinstance(option, dict) and option.get("properties"):
                yield from self.rows(f"{path}.", option)
        # Keys by pattern (a catalog's providers: NAME and NAME.ALIAS): a row per pattern,
        # named by placeholders, then the keys of what it holds.
        for pattern, child in (target.get("patternProperties") or {}).items():
            placeholder = f"<{_placeholder(path)}>"
            sub = f"{path}.{placeholder}.<alias>" if "\\." in pattern else f"{path}.{placeholder}"
            self.keys += 1
            yield (sub, self.type_of(child), "", self.description(sub, child))
            inner = self.resolve(child)
            if _ref_name(child) not in SECTIONS and inner.get("type") == "object":
                yield from self._children(sub, inner)

    def section(self, def_name: str) -> str:
        title, where = SECTIONS[def_name]
        node = self.defs[def_name]
        lines = [f"## {title}", "", f"Where: `{where}`.", ""]
        for option in node.get("oneOf", ()):
            if "const" in option:
                lines += [f"`{json.dumps(option['const'])}`: {_cell(option['description'])}.", ""]
        target = next((o for o in node.get("oneOf", ()) if o.get("properties")), node)
        lines += _table(self.rows("", target))
        return "\n".join(lines)

    def page(self, title: str, intro: str, sections: tuple[str, ...]) -> str:
        root = _table(self.rows("", self.schema))
        parts = [f"# {title}", "", intro, "", "## Top-level keys", "", *root, ""]
        parts += [self.section(name) + "\n" for name in sections if name in self.defs]
        return "\n".join(parts)


def _placeholder(path: str) -> str:
    last = path.rsplit(".", 1)[-1]
    return {
        "environments": "env",
        "regions": "region",
        "units": "unit",
        "sizing": "tier",
        "dependencies": "name",
        "settings_schema": "setting",
        "providers": "provider",
    }.get(last, "key")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: Iterator[tuple[str, str, str, str]]) -> list[str]:
    lines = ["| key | type | required | description |", "|---|---|---|---|"]
    for path, kind, required, description in rows:
        key = html.escape(path).replace(".", ".<wbr>")  # long paths break after a dot, not inside a name
        lines.append(f"| <code>{key}</code> | {kind} | {required} | {description} |")
    return lines


def schema_pages() -> dict[str, str]:
    env = SchemaDoc(
        json.loads((SCHEMAS / "environments.schema.json").read_text(encoding="utf-8")), "environments.schema.json"
    )
    env_page = env.page(
        "environments.yaml keys",
        "Every key of `environments.yaml`, generated from `generator/project/schemas/environments.schema.json`, "
        "the JSON Schema that `tfgen validate` checks and that `tfgen schema` writes for editors "
        "([Editors and completion](../guides/editors.md)). `<env>`, `<region>`, `<unit>` stand for names you "
        "choose. A key path starting with `...` is relative to where the section is used.",
        ("environment", "region", "unit", "unitOverride", "unitDependency", "settingDeclaration"),
    )
    catalog = SchemaDoc(
        json.loads((SCHEMAS / "catalog.schema.json").read_text(encoding="utf-8")), "catalog.schema.json"
    )
    catalog_page = catalog.page(
        "Catalog module keys",
        "Every key of a catalog file, `catalog/<category>/<module>.yaml`, generated from "
        "`generator/project/schemas/catalog.schema.json` (`tfgen schema --catalog`). A unit of "
        "`environments.yaml` names its module as `<category>/<module>`.",
        ("dependency",),
    )
    return {"reference/environments-yaml.md": env_page, "reference/catalog.md": catalog_page}


# --- validation rules ----------------------------------------------------------------------


def _template(node: ast.expr) -> str:
    """A message argument as its author wrote it: an f-string's fields as {expression}."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                parts.append("{" + ast.unparse(part.value) + "}")
            elif isinstance(part, ast.Constant):
                parts.append(str(part.value))
        return "".join(parts)
    return "{" + ast.unparse(node) + "}"


def _rule_ids(function: Any) -> dict[str, str]:
    """The rule ids a rule function passes to ctx.error / ctx.warning / Diagnostic(rule=),
    each with the message template of its first call."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    ids: dict[str, str] = {}
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        candidates: list[ast.expr] = [k.value for k in call.keywords if k.arg == "rule"]
        if name in ("error", "warning") and len(call.args) >= 3:
            candidates.append(call.args[2])
        message = (
            call.args[1]
            if name in ("error", "warning") and len(call.args) >= 2
            else (call.args[0] if call.args else None)
        )
        for node in candidates:
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value not in ids:
                ids[node.value] = _template(message) if message is not None else ""
    return ids


def _examples() -> dict[str, tuple[str, str]]:
    """rule id -> (severity, one message) from validating every project under tests/cases."""
    import generator

    found: dict[str, tuple[str, str]] = {}
    for config in sorted((REPO / "tests" / "cases").glob("*/environments.yaml")):
        try:
            diagnostics = list(generator.validate(config).warnings)
        except generator.InputError as error:
            diagnostics = list(error.diagnostics)
        prefix = f"{config.parent}/"
        for diagnostic in diagnostics:
            text = str(diagnostic)
            text = text.replace(prefix, "").replace(str(config.parent.relative_to(REPO)) + "/", "")
            if diagnostic.rule and diagnostic.rule not in found:
                found[diagnostic.rule] = (diagnostic.severity, text)
    return found


def rules_page() -> str:
    import generator.checks  # noqa: F401  (registers every rule)
    from generator.checks.base import CATALOG_RULES, RULES

    examples = _examples()
    lines = [
        "# Validation rules",
        "",
        "Generated from the rule registry (`generator/checks/base.py`: every function registered with `@rule` "
        "or `@catalog_rule`), with one real message per rule id, taken from validating the projects under "
        "`tests/cases/`. Rules over `environments.yaml` alone run whenever the document matches the schema; "
        "catalog rules run when every catalog file loaded. A warning is an error under `--strict`. "
        "The messages have the form `FILE:LINE:COL: KEY.PATH: MESSAGE` ([What validate checks]"
        "(validation.md) says it by topic).",
        "",
    ]
    used: set[str] = set()
    for title, registry in (("Rules over environments.yaml", RULES), ("Catalog rules", CATALOG_RULES)):
        lines += [f"## {title}", ""]
        for function in registry:
            topic = function.__module__.rsplit(".", 1)[1]
            name = function.__name__.replace("_", " ")
            lines += [f"### {name[0].upper()}{name[1:]}", "", f"`checks/{topic}.py`: `{function.__name__}`", ""]
            doc = inspect.getdoc(function)
            if doc:
                lines += [doc.replace("``", "`"), ""]
            for rule_id, template in _rule_ids(function).items():
                used.add(rule_id)
                if rule_id in examples:
                    severity, message = examples[rule_id]
                    lines += [
                        f"- `{rule_id}` ({severity}), for example:",
                        "",
                        "    ```text",
                        f"    {message}",
                        "    ```",
                        "",
                    ]
                else:
                    lines += [
                        f"- `{rule_id}`: no project under tests/cases/ shows it; its message, as written:",
                        "",
                        "    ```text",
                        f"    {template}",
                        "    ```",
                        "",
                    ]
    rest = sorted(set(examples) - used)
    if rest:
        lines += [
            "## Reading, schema and modules",
            "",
            "Problems found while reading the files, checking the schema and the module interfaces "
            "(before or beside the registry's rules):",
            "",
        ]
        for rule_id in rest:
            severity, message = examples[rule_id]
            lines += [f"- `{rule_id}` ({severity}), for example:", "", "    ```text", f"    {message}", "    ```", ""]
    return "\n".join(lines)


# --- examples, exit codes, Python API ------------------------------------------------------


def example_pages() -> dict[str, str]:
    pages = {}
    for readme in sorted(EXAMPLES.glob("*/README.md")):
        name = readme.parent.name
        text = readme.read_text(encoding="utf-8")
        intro = (
            f"*This page is `examples/{name}/README.md`. The project is `examples/{name}/`: "
            f"`tfgen validate --strict -c examples/{name}/environments.yaml` checks it.*\n\n"
        )
        title, _, body = text.partition("\n")
        pages[f"examples/{name}.md"] = f"{title}\n\n{intro}{body}"
    return pages


def exit_codes() -> str:
    source = (REPO / "generator" / "cli" / "report.py").read_text(encoding="utf-8")
    lines = ["| code | name | meaning |", "|---|---|---|"]
    for name, value, comment in re.findall(r"^(EXIT_[A-Z]+) = (\d+)(?:  # (.*))?$", source, re.M):
        lines.append(f"| {value} | `{name}` | {_cell(comment)} |")
    if len(lines) < 4:
        raise PluginError("generator/cli/report.py: no EXIT_* constants found")
    return "\n".join(lines)


def python_api() -> str:
    import generator

    out: list[str] = []
    for name in sorted(generator.__all__ if hasattr(generator, "__all__") else dir(generator)):
        if name.startswith("_"):
            continue
        obj = getattr(generator, name)
        if inspect.ismodule(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        if inspect.isfunction(obj):
            signature = f"{name}{inspect.signature(obj)}"
            kind = "function"
        elif inspect.isclass(obj):
            signature = name
            kind = "exception" if issubclass(obj, BaseException) else "class"
        else:
            continue
        out += [f"### `{name}`", "", f"*{kind}*", "", "```python", signature, "```", ""]
        if doc:
            out += [_escape_doc(doc), ""]
    return "\n".join(out)


def _escape_doc(doc: str) -> str:
    text = doc.replace("``", "`").replace(":func:", "").replace(":class:", "").replace(":meth:", "")
    return "\n".join(line.replace("<", "&lt;").replace(">", "&gt;") for line in text.splitlines())


# --- click's no-rewrap paragraphs ----------------------------------------------------------


def click_description(ctx: Any, remove_ascii_art: bool = False) -> Iterator[str]:
    """A command's help text as Markdown, where a paragraph that starts with a line of
    \\b alone (click keeps its line breaks in a terminal) is a text block: mkdocs-click
    passes the help through as Markdown, which would flow it into one line."""
    text = inspect.cleandoc(ctx.command.help or ctx.command.short_help or "")
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            yield from ["```text", *textwrap.dedent("\n".join(lines[1:])).splitlines(), "```", ""]
        elif paragraph.strip():
            yield from [*lines, ""]


# --- hooks ---------------------------------------------------------------------------------


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    import mkdocs_click._docs

    mkdocs_click._docs._make_description = click_description  # mkdocs-click has no option for \\b
    nav = config.nav or []
    for section in nav:
        if isinstance(section, dict) and "Examples" in section:
            entries = section["Examples"]
            for readme in sorted(EXAMPLES.glob("*/README.md")):
                page = f"examples/{readme.parent.name}.md"
                if page not in [next(iter(e.values())) if isinstance(e, dict) else e for e in entries]:
                    entries.append({readme.parent.name: page})
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    pages = {**schema_pages(), "reference/validation-rules.md": rules_page(), **example_pages()}
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    return files


MARKERS = {"exit-codes": exit_codes, "python-api": python_api}


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    def fill(match: re.Match[str]) -> str:
        maker = MARKERS.get(match.group(1))
        if maker is None:
            raise PluginError(f"{page.file.src_uri}: unknown marker {match.group(0)}")
        return maker()

    return re.sub(r"<!-- generated: ([a-z-]+) -->", fill, markdown)


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    # click 8.3 marks an option without a default with a sentinel; mkdocs-click prints it
    return html.replace("<code>Sentinel.UNSET</code>", "") if page.file.src_uri == "reference/cli.md" else html
