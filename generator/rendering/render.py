"""Rendering planned files through Jinja templates into canonical HCL bytes. Pure.

Templates may write ``{{ section }}`` on a line of its own between two top-level
blocks, where the file has a blank line (it renders as that blank line). The renderer
then formats each section on its own and remembers the result: canonical layout
(indentation by nesting, ``=`` alignment within runs that a blank line ends) starts
afresh at such a point, so the bytes are those of formatting the whole file, while
the sections that thousands of units share (includes, dependency blocks, inputs) are
formatted once per render. A section of plain top-level comment lines, such as each
unit's own header, is already canonical and is not formatted at all. A template
without ``{{ section }}`` is formatted as a whole.
"""

from __future__ import annotations

import json
import re
import types
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jinja2

from .._package import builtin_templates
from ..errors import Diagnostic, InputError, Location, display_path
from ..hcl import literal as hcl
from ..hcl import syntax
from .plan import PlannedFile

#: What ``{{ section }}`` renders to: a control character that no YAML value or !hcl
#: expression can carry (the loader refuses them).
SECTION = "\x1e"
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
#: Top-level comment lines with nothing to trim: canonical as they are.
_PLAIN_COMMENTS = re.compile(r"(?:#(?:[^\n]*\S)?\n)+")


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
    env.filters["yaml"] = lambda value: json.dumps(value, ensure_ascii=False)  # a YAML 1.2 flow scalar
    env.globals["section"] = SECTION
    return env


#: ``progress(done, total)``, called as files are rendered.
Progress = Callable[[int, int], None]


#: Lays out a whole HCL text canonically.
Formatter = Callable[[str], str]


def _by_value(function: Callable[[str], str]) -> Callable[[Any], str]:
    """*function* (a pure filter of strings), computed once per distinct string: the
    leaves repeat the same input names and dependency names thousands of times."""
    done: dict[str, str] = {}

    def cached(value: Any) -> str:
        if type(value) is not str:
            return function(value)
        text = done.get(value)
        if text is None:
            text = done[value] = function(value)
        return text

    return cached


class Renderer:
    """Renders planned files; each template is compiled once per Renderer and each
    distinct section is formatted once per Renderer. It counts what it does
    (:attr:`compiled`, :attr:`formatted`, :attr:`rendered`) for bench/ and the tests;
    *formatter* (hcl.format_hcl) may be replaced, e.g. by one that counts its texts."""

    def __init__(self, project_templates: Path | None = None, formatter: Formatter = hcl.format_hcl) -> None:
        self.environment = make_environment(project_templates)
        self.formatter = formatter
        self._templates: dict[str, jinja2.Template] = {}
        self._sections: dict[str, str] = {}
        self._parts: dict[str, str] = {}  # a raw part of a rendered text -> what format() makes of it
        self._literals: dict[int, tuple[object, str]] = {}
        self._trust_comments: bool | None = None  # None: not yet confirmed with the formatter
        self._check_syntax_flag: bool | None = None
        self.compiled = 0
        self.formatted = 0  # calls of the formatter
        self.rendered: Counter[str] = Counter()  # path -> times rendered
        self._strings: dict[str, str] = {}
        self.environment.filters["hcl"] = self.literal
        self.environment.filters["hcl_key"] = _by_value(hcl.key)
        self.environment.filters["hcl_string"] = _by_value(hcl.string)
        self._globals = dict(self.environment.globals)

    def literal(self, value: Any) -> str:
        """``hcl.literal``, once per map or list object: the planner shares the values
        that many files hold (mock outputs, merged inputs), and nothing changes them
        while they are rendered."""
        if type(value) is str:  # the same names and values in thousands of files
            text = self._strings.get(value)
            if text is None:
                text = self._strings[value] = hcl.literal(value)
            return text
        if not isinstance(value, (dict, list)):
            return hcl.literal(value)
        hit = self._literals.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        text = hcl.literal(value)
        self._literals[id(value)] = (value, text)
        return text

    def template(self, name: str) -> jinja2.Template:
        template = self._templates.get(name)
        if template is None:
            try:
                template = self.environment.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                where = Location(display_path(exc.filename) if exc.filename else name, exc.lineno or 0, 1)
                raise InputError(
                    [Diagnostic(f"template syntax error: {exc.message}", where, rule="template")]
                ) from None
            except jinja2.TemplateNotFound:
                raise InputError([Diagnostic(f"template {name} not found", Location(name), rule="template")]) from None
            self.compiled += 1
            self._templates[name] = template
        return template

    def _render_text(self, template: jinja2.Template, context: Mapping[str, Any]) -> str:
        """``template.render(**context)`` without copying the environment's globals out of
        their ChainMap for every file (a quarter of Jinja's time over thousands of files)."""
        # template.new_context(vars, shared=True), less two calls per file
        environment = template.environment
        ctx = environment.context_class(
            environment, {**self._globals, **context}, template.name, template.blocks, globals=template.globals
        )
        try:
            return self.environment.concat(template.root_render_func(ctx))
        except Exception:
            self.environment.handle_exception()  # re-raises, pointing at the template line

    def render(self, planned: PlannedFile) -> bytes:
        self.rendered[planned.path] += 1
        try:
            text = self._render_text(self.template(planned.template), planned.context)
        except Exception as exc:
            source = self.template(planned.template).filename or planned.template
            if not isinstance(exc, jinja2.TemplateError) and self._builtin(source):
                raise  # tfgen's own template failed: a bug, not the user's input
            # a project template is the user's input, whatever it raises
            own = exc.message if isinstance(exc, jinja2.TemplateError) else None
            reason = own or f"{type(exc).__name__}: {exc}"
            raise InputError(
                [Diagnostic(f"template error while rendering {planned.path}: {reason}",
                            self._template_line(exc, source), rule="template")]
            ) from None
        if not planned.path.endswith(".hcl"):  # CI pipelines (YAML) are written as the template lays them out
            return text.encode("utf-8")
        formatted = self.format(text)
        if self.check_syntax:
            self._check_syntax(planned, formatted)
        return formatted.encode("utf-8")

    @property
    def check_syntax(self) -> bool:
        """Whether rendered files are parsed with the Go HCL parser before they count:
        when the project has templates of its own (tfgen's built-in templates are
        judged by the test suite, and parsing 10,000 files would cost seconds)."""
        if self._check_syntax_flag is None:
            loader = self.environment.loader
            search = loader.searchpath if isinstance(loader, jinja2.FileSystemLoader) else []
            builtin = str(builtin_templates())
            self._check_syntax_flag = any(
                Path(d).is_dir() and any(Path(d).iterdir()) for d in search if d != builtin
            )
        return self._check_syntax_flag

    def _check_syntax(self, planned: PlannedFile, text: str) -> None:
        problems = syntax.file_problems(text, planned.path)
        if not problems:
            return
        source = self.template(planned.template).filename or planned.template
        line, _column, message = problems[0].removeprefix(f"{planned.path}:").split(":", 2)
        raise InputError(
            [
                Diagnostic(
                    f"the rendered {planned.path} is not valid HCL (line {line} of the rendered file: "
                    f"{message.strip()}); nothing was written",
                    Location(display_path(source)),
                    rule="template-hcl",
                    hint="fix the template so that it renders HCL; `tfgen render --dry-run` checks without writing",
                )
            ]
        )

    def _template_line(self, exc: BaseException, source: str) -> Location:
        """The template file and line a template error happened at: the innermost frame
        of the traceback that Jinja points at a template (an include, a macro), else the
        error's own line (syntax errors), else the top-level template."""
        if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
            return Location(display_path(exc.filename), exc.lineno or 0, 1 if exc.lineno else 0)
        templates = {t.filename for t in self._templates.values() if t.filename}
        found: tuple[str, int] | None = None
        tb: types.TracebackType | None = exc.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if name in templates or name.endswith(".j2"):
                found = (name, tb.tb_lineno)
            tb = tb.tb_next
        if found is None:
            return Location(display_path(source))
        return Location(display_path(found[0]), found[1], 1)

    @staticmethod
    def _builtin(source: str) -> bool:
        return Path(source).resolve().parent == builtin_templates().resolve()

    def format(self, text: str) -> str:
        """Canonical layout of rendered text, section by section (see the module docstring)."""
        if SECTION not in text:
            self.formatted += 1
            return self.formatter(text)
        parts = text.split(SECTION)
        if not parts[0].strip():  # nothing before the first section: keep it simple
            self.formatted += 1
            return self.formatter(text.replace(SECTION, ""))
        out = [self._section(parts[0])]
        for part in parts[1:]:
            # the sections after the first (the unit's own header) repeat across leaves:
            # each raw part is trimmed and looked up once ("" when it holds nothing)
            done = self._parts.get(part)
            if done is None:
                body = _LEADING_BLANK_LINES.sub("", part)
                done = self._parts[part] = self._section(body) if body.strip() else ""
            if done:
                out.append(done)
        return "\n".join(out)

    def _section(self, text: str) -> str:
        formatted = self._sections.get(text)
        if formatted is not None:
            return formatted
        if self._trust_comments is not False and _PLAIN_COMMENTS.fullmatch(text):
            if self._trust_comments:
                return text
            # the first time, check the premise against the formatter itself
            self.formatted += 1
            self._trust_comments = self.formatter(text) == text
            if self._trust_comments:
                return text
        self.formatted += 1
        formatted = self._sections[text] = self.formatter(text)
        return formatted

    def render_all(self, files: Iterable[PlannedFile], progress: Progress | None = None) -> dict[str, bytes]:
        if progress is None:
            return {f.path: self.render(f) for f in files}
        planned = list(files)
        rendered: dict[str, bytes] = {}
        for done, f in enumerate(planned, start=1):
            rendered[f.path] = self.render(f)
            if done % 100 == 0 or done == len(planned):
                progress(done, len(planned))
        return rendered
