"""The tfgen command line: options -> one API call -> output and exit code."""

from __future__ import annotations

import json
import sys
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
    errors = [d for d in error.diagnostics if d.severity == "error"]
    warnings = [d for d in error.diagnostics if d.severity == "warning"]
    if fmt == "json":
        report = {"ok": False, "errors": [d.as_json() for d in errors], "warnings": [d.as_json() for d in warnings]}
        click.echo(json.dumps(report, indent=2))
    else:
        print_diagnostics(error.diagnostics)
        if len(errors) > 1 or warnings:
            counts = [f"{len(errors)} error{'s' if len(errors) != 1 else ''}"]
            if warnings:
                counts.append(f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}")
            click.echo(", ".join(counts), err=True)
    sys.exit(error.exit_code)


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
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 2).")
def validate(config: Path, fmt: str, strict: bool) -> None:
    """Check environments.yaml and its catalog: schema and semantic rules.

    Every problem is reported at once, in file and line order, as
    FILE:LINE:COL: KEY.PATH: MESSAGE. Warnings (timestamp() in an expression, an
    environment without units, a production-like environment without deletion
    protection, ...) do not fail the run unless --strict is given.

    \b
    Examples:
      tfgen validate
      tfgen validate --strict
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
    warned = len(result.warnings)
    click.echo(
        f"{api.display_path(config)}: valid: {len(project.environments)} environments, {regions} regions, "
        f"{len(project.units)} units from {len(project.modules)} modules"
        + (f" ({warned} warning{'s' if warned != 1 else ''})" if warned else "")
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
    try:
        result = api.render(config, output=output, scope=Scope(environments, regions), strict=strict)
    except TfgenError as error:
        fail(error)
        return
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
