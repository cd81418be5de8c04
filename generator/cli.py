"""The tfgen command line: options -> one API call -> output and exit code."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__, api, schema
from .errors import Diagnostic, TfgenError
from .plan import Scope

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def config_option(function: F) -> F:
    return click.option(
        "-c",
        "--config",
        "config",
        default=api.DEFAULT_CONFIG,
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The project file; catalog/, templates/ and output/ are found beside it.",
    )(function)


def format_option(function: F) -> F:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format of the report.",
    )(function)


def print_diagnostics(diagnostics: Sequence[Diagnostic], fmt: str = "text") -> None:
    if fmt == "json":
        return
    for diagnostic in diagnostics:
        click.echo(str(diagnostic), err=True)


def fail(error: TfgenError, fmt: str = "text") -> None:
    if fmt == "json":
        click.echo(json.dumps({"ok": False, "errors": [d.as_json() for d in error.diagnostics]}, indent=2))
    else:
        print_diagnostics(error.diagnostics)
        count = sum(1 for d in error.diagnostics if d.severity == "error")
        if count > 1:
            click.echo(f"{count} errors", err=True)
    sys.exit(error.exit_code)


def is_terminal(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar:
    """A progress bar on standard error for renders that take a while.

    It appears only on a terminal and only once the render has run for DELAY seconds,
    so quick renders and piped or captured output show nothing extra."""

    DELAY = 1.0

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.enabled = is_terminal(sys.stderr)
        self.stage = ""
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.started < self.DELAY:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = click.progressbar(length=total, label=f"{stage} {total} files", file=sys.stderr)
            self.bar.render_progress()
        if self.bar is not None:
            self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.render_finish()
            self.bar = None


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="tfgen")
def main() -> None:
    """Render one declarative environments.yaml into a complete Terragrunt tree.

    \b
    Typical use, in the directory that holds environments.yaml:
      tfgen validate                 check the YAML and the catalog
      tfgen render                   write output/ (only files whose bytes change)
      tfgen render --env uat         only environments/uat and the shared files it uses
      tfgen schema > schema.json     the JSON Schema, for editors

    Exit codes: 0 success, 1 drift or an unsafe write refused, 2 invalid input.
    """


@main.command(context_settings=CONTEXT)
@config_option
@format_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def validate(config: Path, fmt: str, strict: bool) -> None:
    """Check environments.yaml and its catalog: schema and semantic rules.

    Every problem is reported at once as FILE:LINE:COL: KEY.PATH: MESSAGE.

    \b
    Example:
      tfgen validate -c environments.yaml --format json
    """
    try:
        result = api.validate(config, strict=strict)
    except TfgenError as error:
        fail(error, fmt)
        return
    project = result.project
    if fmt == "json":
        click.echo(json.dumps({"ok": True, "errors": [], "warnings": [w.as_json() for w in result.warnings]}, indent=2))
        return
    print_diagnostics(result.warnings)
    regions = sum(len(e.regions) for e in project.environments)
    click.echo(
        f"{api.display_path(config)}: valid: {len(project.environments)} environments, {regions} regions, "
        f"{len(project.units)} units from {len(project.modules)} modules"
    )


@main.command(context_settings=CONTEXT)
@config_option
@click.option("--env", "environments", multiple=True, metavar="ENV", help="Limit to this environment (repeatable).")
@click.option("--region", "regions", multiple=True, metavar="REGION", help="Limit to this region (repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory [default: output/ beside the config].",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def render(
    config: Path, environments: tuple[str, ...], regions: tuple[str, ...], output: Path | None, strict: bool
) -> None:
    """Render the Terragrunt tree into output/.

    Only files whose bytes change are written; the manifest output/.tfgen-manifest.json
    records what tfgen wrote.

    \b
    Examples:
      tfgen render
      tfgen render --env uat --region us-east-1
      tfgen render -c infra/environments.yaml -o /tmp/tree
    """
    bar = ProgressBar()
    try:
        result = api.render(config, output=output, scope=Scope(environments, regions), strict=strict, progress=bar)
    except TfgenError as error:
        bar.close()
        fail(error)
        return
    bar.close()
    print_diagnostics(result.warnings)
    click.echo(result.summary())


@main.command(context_settings=CONTEXT)
@click.option("--catalog", is_flag=True, help="The schema of catalog/<category>/<module>.yaml files instead.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
def schema_command(catalog: bool, output: Path | None) -> None:
    """Print the JSON Schema (draft 2020-12) of environments.yaml.

    \b
    Example, for editors with the YAML language server:
      tfgen schema -o .tfgen/environments.schema.json
    """
    text = schema.schema_text(schema.CATALOG if catalog else schema.ENVIRONMENTS)
    if output is None:
        click.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {output}")


schema_command.name = "schema"
