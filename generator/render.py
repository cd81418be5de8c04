"""Rendering planned files through Jinja templates into canonical HCL bytes. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import jinja2

from . import hcl
from .errors import Diagnostic, InputError, Location
from .plan import PlannedFile

TEMPLATE_SUFFIX = ".hcl.j2"


def builtin_templates() -> Path:
    """The templates shipped with tfgen: inside the wheel, or the repository's own."""
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def make_environment(project_templates: Path | None) -> jinja2.Environment:
    """One environment per run: the project's templates/ first, then the built-in ones."""
    search = [str(project_templates)] if project_templates and project_templates.is_dir() else []
    search.append(str(builtin_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        cache_size=-1,
    )
    env.filters["hcl"] = hcl.literal
    env.filters["hcl_key"] = hcl.key
    env.filters["hcl_string"] = hcl.string
    env.filters["hcl_comment"] = hcl.comment_text
    return env


class Renderer:
    """Renders planned files; each template is compiled once per Renderer."""

    def __init__(self, project_templates: Path | None = None) -> None:
        self.environment = make_environment(project_templates)
        self._templates: dict[str, jinja2.Template] = {}
        self.compiled = 0

    def template(self, name: str) -> jinja2.Template:
        template = self._templates.get(name)
        if template is None:
            try:
                template = self.environment.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                where = Location(exc.filename or name, exc.lineno or 0, 1)
                raise InputError(
                    [Diagnostic(f"template syntax error: {exc.message}", where, rule="template")]
                ) from None
            except jinja2.TemplateNotFound:
                raise InputError([Diagnostic(f"template {name} not found", Location(name), rule="template")]) from None
            self.compiled += 1
            self._templates[name] = template
        return template

    def render(self, planned: PlannedFile) -> bytes:
        try:
            text = self.template(planned.template).render(**planned.context)
        except jinja2.UndefinedError as exc:
            source = self.template(planned.template).filename or planned.template
            raise InputError(
                [
                    Diagnostic(
                        f"template error while rendering {planned.path}: {exc.message}",
                        Location(source),
                        rule="template",
                    )
                ]
            ) from None
        return hcl.format_hcl(text).encode("utf-8")

    def render_all(self, files: Iterable[PlannedFile]) -> dict[str, bytes]:
        return {f.path: self.render(f) for f in files}
