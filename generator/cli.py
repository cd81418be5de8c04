"""The tfgen command line: options -> one API call -> output and exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__, api, report, schema
from .errors import Diagnostic, TfgenError
from .plan import Scope
from .writer import Change

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
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if output/ differs from a fresh render.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of what would change.")
@click.option("--dry-run", is_flag=True, help="Write nothing; list what would change.")
@click.option("--force", is_flag=True, help="Overwrite hand-edited files and files tfgen did not write.")
@click.option("--allow-orphan", is_flag=True, help="Delete the files of removed units of protected environments.")
@format_option
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour diffs (auto: on a terminal, unless NO_COLOR is set).",
)
@click.option("--lock-timeout", type=float, default=30.0, show_default=True, metavar="SECONDS",
              help="How long to wait for another tfgen rendering into the same directory.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def render(
    config: Path,
    environments: tuple[str, ...],
    regions: tuple[str, ...],
    output: Path | None,
    check: bool,
    show_diff: bool,
    dry_run: bool,
    force: bool,
    allow_orphan: bool,
    fmt: str,
    color: str,
    lock_timeout: float,
    strict: bool,
) -> None:
    """Render the Terragrunt tree into output/.

    Only files whose bytes change are written; stale files tfgen wrote are deleted, with
    the directories they leave empty. output/.tfgen-manifest.json records what tfgen
    wrote: a file edited by hand, or one tfgen did not write, is never overwritten
    without --force, and a file tfgen did not write is never deleted. Removing a unit,
    region or environment of a protected environment (deletion_protection: true) fails
    unless --allow-orphan. --env/--region limit writing, pruning and checking to those
    subtrees and the shared files they use.

    \b
    Statuses: created, changed (the input changed), stale (no longer rendered: deleted),
    hand-edited (bytes differ from what tfgen wrote), unowned (not written by tfgen),
    unchanged.

    \b
    Exit codes: 0 done (or in sync); 1 --check found drift, or render refused a write,
    or another tfgen holds the lock; 2 invalid input.

    \b
    --format json prints one object:
      {"format": 1, "ok": bool, "mode": "render|check|diff|dry-run", "output": DIR,
       "in_sync": bool, "written": bool, "manifest": "unchanged|changed|created",
       "interrupted": bool, "counts": {STATUS: N, ..., "deleted": N},
       "files": [{"path", "status", "action": "write|delete", "environment",
                  "input_changed", "protected", "refused", "diff" (with --diff)}],
       "kept_directories": [...], "errors": [DIAGNOSTIC], "warnings": [DIAGNOSTIC],
       "seconds": N}
    "files" lists every file that is not unchanged.

    \b
    Examples:
      tfgen render
      tfgen render --check                 # in CI: exit 1 when output/ drifted
      tfgen render --diff --env prod       # review a change before writing it
      tfgen render --env uat --region us-east-1
      tfgen render -c infra/environments.yaml -o /tmp/tree
    """
    mode = "check" if check else "diff" if show_diff else "dry-run" if dry_run else "render"
    write = mode == "render"
    try:
        result = api.render(
            config,
            output=output,
            scope=Scope(environments, regions),
            write=write,
            strict=strict,
            force=force,
            allow_orphan=allow_orphan,
            lock_timeout=lock_timeout,
        )
    except api.UnsafeWriteError as error:
        refused_report(error, fmt, color)
        return
    except TfgenError as error:
        fail(error, fmt)
        return
    where = api.display_path(result.output)
    if fmt == "json":
        click.echo(json.dumps(report.as_json(result, mode, where, diffs=show_diff), indent=2))
        sys.exit(1 if check and not result.in_sync else 0)
    print_diagnostics(result.warnings)
    if show_diff:
        print_diffs([c for c in result.changes if c.status != "unchanged"], color, err=False)
    if check or dry_run:
        for line in report.listing(result.changes, result.manifest):
            click.echo(line)
    for directory in result.kept:
        click.echo(f"{where}/{directory}: kept: it holds files tfgen did not write", err=True)
    click.echo(result.summary(), err=mode == "diff")
    if result.interrupted and not write:
        click.echo(f"{where}: a previous render was interrupted; `tfgen render` repairs the tree", err=True)
    if check and not result.in_sync:
        needs = []
        if any(c.status in ("hand-edited", "unowned") for c in result.refused):
            needs.append("--force to overwrite hand-edited or unowned files")
        if any(c.action == "delete" and c.protected for c in result.refused):
            needs.append("--allow-orphan to delete protected units")
        hint = f" (it needs {' and '.join(needs)})" if needs else ""
        click.echo(f"{where} is not in sync with {config.name}: run `tfgen render`{hint}", err=True)
        sys.exit(1)


def print_diffs(changes: Sequence[Change], color: str, *, err: bool) -> None:
    stream = sys.stderr if err else sys.stdout
    colored = report.use_color(color, stream.isatty())
    for change in changes:
        text = report.unified_diff(change)
        click.echo(report.colorize(text) if colored else text, nl=False, err=err, color=colored)


def refused_report(error: api.UnsafeWriteError, fmt: str, color: str) -> None:
    """Name every refused file, show the diffs of files that would be overwritten, exit 1."""
    result = error.result
    if fmt == "json":
        document = report.as_json(result, "render", api.display_path(result.output), errors=error.diagnostics)
        click.echo(json.dumps(document, indent=2))
        sys.exit(error.exit_code)
    print_diagnostics(result.warnings)
    print_diagnostics(error.diagnostics)
    print_diffs([c for c in result.refused if c.new is not None], color, err=True)
    click.echo(f"render refused: nothing was written to {api.display_path(result.output)}", err=True)
    sys.exit(error.exit_code)


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
