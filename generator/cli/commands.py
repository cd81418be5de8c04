"""The tfgen commands: options -> one API call -> a view. Errors propagate to the one
handler in cli/__init__.py, which maps every outcome to its exit code."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import api
from ..errors import Diagnostic, Location, display_path
from ..output import disk
from ..output.diff import Change
from ..output.sync import UnsafeWriteError, explain_refusals
from ..project.layout import STYLES, Scope
from . import report
from .completion import complete_addresses, complete_environments, complete_regions

F = TypeVar("F", bound=Callable[..., Any])

#: features/graph.py FORMATS, named here so that the command line is built without
#: importing the graph (tests/test_imports.py holds the two equal).
GRAPH_FORMATS = ("text", "dot", "mermaid", "json")

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


def tenant_option(function: F) -> F:
    """--tenant: only these tenants' units (repeatable or comma-separated)."""
    return click.option("--tenant", "tenants", multiple=True, metavar="TENANT",
                        help="Only this tenant's units (repeatable; tenants: in environments.yaml).")(function)


def listed(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated or comma-separated option values (--env dev,uat = --env dev --env uat)."""
    return tuple(v.strip() for text in values for v in text.split(",") if v.strip())


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


@click.command(context_settings=CONTEXT)
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
    report.remember_format(fmt)
    result = api.validate(config, strict=strict)
    project = result.project
    regions = sum(len(e.regions) for e in project.environments)
    if fmt == "json":
        counts = {"environments": len(project.environments), "regions": regions, "units": len(project.units),
                  "modules": len(project.modules)}
        click.echo(report.envelope("validate", warnings=result.warnings, result=counts), nl=False)
        return
    report.print_diagnostics(result.warnings)
    warned = len(result.warnings)
    click.echo(
        f"{display_path(config)}: valid: {len(project.environments)} environments, {regions} regions, "
        f"{len(project.units)} units from {len(project.modules)} modules"
        + (f" ({warned} warning{'s' if warned != 1 else ''})" if warned else "")
    )


@click.command(context_settings=CONTEXT)
@config_option
@click.option("--env", "environments", multiple=True, metavar="ENV", help="Limit to this environment (repeatable).",
              shell_complete=complete_environments)
@click.option("--region", "regions", multiple=True, metavar="REGION", help="Limit to this region (repeatable).",
              shell_complete=complete_regions)
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
@click.option("--style", type=click.Choice(STYLES), default=None,
              help="Render this style instead of the one environments.yaml names (style:).")
@click.option("--switch-style", is_flag=True,
              help="Confirm replacing the other style's tree (classic <-> stacks) of the same units.")
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
@tenant_option
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
    style: str | None,
    switch_style: bool,
    fmt: str,
    color: str,
    lock_timeout: float,
    strict: bool,
    tenants: tuple[str, ...] = (),
) -> None:
    """Render the Terragrunt tree into output/.

    Only files whose bytes change are written; stale files tfgen wrote are deleted, with
    the directories they leave empty. output/.tfgen-manifest.json records what tfgen
    wrote: a file edited by hand, or one tfgen did not write, is never overwritten
    without --force, and a file tfgen did not write is never deleted. Removing a unit,
    region or environment of a protected environment (deletion_protection: true) fails
    unless --allow-orphan. --env/--region limit writing, pruning and checking to those
    subtrees and the shared files they use.

    --style stacks renders Terragrunt Stacks (terragrunt.stack.hcl per environment and
    region, a units catalog in _units/) instead of the classic tree, as style: stacks in
    environments.yaml does. Replacing one style's tree by the other's is refused until
    --switch-style; the render then says whether state keys stay or which state moves.

    \b
    Statuses: created, changed (the input changed), stale (no longer rendered: deleted),
    hand-edited (bytes differ from what tfgen wrote), unowned (not written by tfgen),
    unchanged.

    \b
    Exit codes: 0 done (or in sync); 1 --check found drift, or render refused a write,
    or another tfgen holds the lock; 2 invalid input, or the file system refuses the output
    directory (named: read-only, not a directory); 3 a bug in tfgen; 130 interrupted
    (the next render finishes the tree).

    \b
    --format json prints the envelope every command prints:
      {"format": 1, "command": "render", "ok": bool, "exit_code": N,
       "errors": [DIAGNOSTIC], "warnings": [DIAGNOSTIC], "result": RESULT}
    RESULT (null when the input is invalid):
      {"mode": "render|check|diff|dry-run", "output": DIR,
       "in_sync": bool, "written": bool, "manifest": "unchanged|changed|created",
       "interrupted": bool, "counts": {STATUS: N, ..., "deleted": N},
       "files": [{"path", "status", "action": "write|delete", "environment",
                  "read_by_every_environment", "input_changed", "protected",
                  "refused", "diff" (with --diff)}],
       "shared_changed": [PATH, ...] (root.hcl, _envcommon/*: every environment reads them),
       "kept_directories": [...], "seconds": N,
       "style_switch": null or {"from", "to", "dropped", "units",
                                "state_moves": [{"unit", "bucket", "from", "to"}]}}
    "files" lists every file that is not unchanged.

    \b
    Examples:
      tfgen render
      tfgen render --check                 # in CI: exit 1 when output/ drifted
      tfgen render --diff --env prod       # review a change before writing it
      tfgen render --env uat --region us-east-1
      tfgen render -c infra/environments.yaml -o /tmp/tree
    """
    report.remember_format(fmt)
    environments, regions = listed(environments), listed(regions)
    mode = "check" if check else "diff" if show_diff else "dry-run" if dry_run else "render"
    write = mode == "render"
    if write:
        report.remember_writing(output or Path(config).parent / "output")
    bar = ProgressBar() if write else None
    try:
        result = api.render(
            config,
            output=output,
            scope=Scope(environments, regions, listed(tenants)),
            write=write,
            strict=strict,
            force=force,
            allow_orphan=allow_orphan,
            lock_timeout=lock_timeout,
            progress=bar,
            style=style,
            switch_style=switch_style,
        )
    except UnsafeWriteError as error:
        refused_report(error, fmt, color)
        return
    finally:
        if bar is not None:
            bar.close()
    where = display_path(result.output)
    # a dry run previews the render: one that would be refused fails as the render would
    refusals = []
    if mode == "dry-run":
        refusals = [report.as_typed(d) for d in result.review_refusals]
        refusals += explain_refusals(result.output, result.refused, display_path) if not refusals else []
    code = report.EXIT_DRIFT if (check and not result.in_sync) or refusals else report.EXIT_OK
    if fmt == "json":
        document = report.render_result(result, mode, where, diffs=show_diff)
        click.echo(
            report.envelope("render", exit_code=code, errors=refusals, warnings=result.warnings, result=document),
            nl=False,
        )
        sys.exit(code)
    report.print_diagnostics(result.warnings)
    if result.switch is not None:
        for line in result.switch.lines():
            click.echo(line, err=True)
    if show_diff:
        print_diffs([c for c in result.changes if c.status != "unchanged"], color, err=False)
    if check or dry_run:
        for line in report.listing(result.changes, result.manifest, force=force, allow_orphan=allow_orphan):
            click.echo(line)
        for path in result.foreign:
            click.echo(f"{'foreign':<12} {path}  (not written by tfgen, and Terragrunt would pick it up; "
                       "remove it, or list it in output_extra_files)")
    for directory in result.kept:
        click.echo(f"{where}/{directory}: kept: it holds files tfgen did not write", err=True)
    for move in result.moved:
        click.echo(f"moved {move.address}: {move.state_directory} -> {move.directory} (its state key stays)")
    if write and (environments or regions):  # the listing above says it for --check and --dry-run
        for change in report.shared_writes(result):
            status = "created" if change.old is None else "changed"
            click.echo(f"{change.path}: {status}, {report.SHARED}, not only the ones rendered")
    click.echo(report.summary(result), err=mode == "diff")
    if result.interrupted and not write:
        click.echo(f"{where}: a previous render was interrupted; `tfgen render` repairs the tree", err=True)
    if refusals:
        report.print_diagnostics(refusals)
        click.echo(f"render would refuse: nothing would be written to {where}", err=True)
        sys.exit(code)
    if check and not result.in_sync:
        needs = []
        if any(c.status in ("hand-edited", "unowned") for c in result.refused):
            needs.append("--force to overwrite hand-edited or unowned files")
        if any(c.action == "delete" and c.protected for c in result.refused):
            needs.append("--allow-orphan to delete protected units")
        if any(d.rule == "style-switch" for d in result.review_refusals):
            needs.append("--switch-style to replace the other style's tree")
        hint = f" (it needs {' and '.join(needs)})" if needs else ""
        advice = f"run `tfgen render`{hint}"
        if result.foreign and all(c.status == "unchanged" for c in result.changes) and result.manifest == "unchanged":
            advice = (f"{len(result.foreign)} file(s) tfgen did not write would be picked up by Terragrunt: "
                      "remove them, or list them in output_extra_files")
        click.echo(f"{where} is not in sync with {config.name}: {advice}", err=True)
        sys.exit(code)


def print_diffs(changes: Sequence[Change], color: str, *, err: bool) -> None:
    stream = sys.stderr if err else sys.stdout
    colored = report.use_color(color, stream.isatty())
    for change in changes:
        text = report.unified_diff(change)
        click.echo(report.colorize(text) if colored else text, nl=False, err=err, color=colored)


def refused_report(error: UnsafeWriteError, fmt: str, color: str) -> None:
    """Name every refused file, show the diffs of files that would be overwritten, exit 1."""
    result = error.result
    code = report.exit_code(error)
    if fmt == "json":
        document = report.render_result(result, "render", display_path(result.output))
        click.echo(
            report.envelope("render", exit_code=code, errors=error.diagnostics, warnings=result.warnings,
                            result=document),
            nl=False,
        )
        sys.exit(code)
    report.print_diagnostics(result.warnings)
    report.print_diagnostics(error.diagnostics)
    if result.switch is not None:
        for line in result.switch.lines():
            click.echo(line, err=True)
    print_diffs([c for c in result.refused if c.new is not None], color, err=True)
    click.echo(f"render refused: nothing was written to {display_path(result.output)}", err=True)
    sys.exit(code)


@click.command("schema", context_settings=CONTEXT)
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
    from ..project import schema

    text = schema.schema_text(schema.CATALOG if catalog else schema.ENVIRONMENTS)
    if output is None:
        click.echo(text, nl=False)
        return
    disk.write_text(output, text)
    click.echo(f"wrote {output}")


@click.group(context_settings=CONTEXT)
def modules() -> None:
    """Module interfaces: the lock file of the pinned remote module versions."""


def _registry_hosts(values: tuple[str, ...]) -> dict[str, str]:
    hosts: dict[str, str] = {}
    for value in values:
        host, sep, url = value.partition("=")
        if not sep or not host or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"{value!r}: write HOST=URL, e.g. registry.terraform.io=http://127.0.0.1:8080")
        hosts[host] = url
    return hosts


@modules.command("lock", context_settings=CONTEXT)
@click.argument("names", nargs=-1, metavar="[MODULE]...")
@config_option
@click.option("--check", is_flag=True, help="Download nothing; exit 1 if the lock does not match the catalog.")
@click.option("--refresh", is_flag=True,
              help="Download every version again, also those the lock holds (a release published twice shows).")
@click.option(
    "--registry",
    "registries",
    multiple=True,
    metavar="HOST=URL",
    help="Reach registry HOST at URL (a mirror or a local server); repeatable. [default: https://HOST]",
)
@format_option
def modules_lock(
    names: tuple[str, ...], config: Path, check: bool, refresh: bool, registries: tuple[str, ...], fmt: str
) -> None:
    """Record the interface of every pinned remote module in catalog/.tfgen-modules.lock.json.

    Each registry (tfr://) and git module version the catalog pins, and each version
    promoted for an environment or unit, that the lock does not hold yet is downloaded
    once; versions already locked are kept without a download, so a complete lock
    needs no network (--refresh downloads them all again). MODULE names (data/rds)
    limit the command to those catalog modules; the others' entries stay as they are.
    A download uses the Terraform module
    registry protocol: service discovery, then the X-Terraform-Get download URL, an
    archive or git; //subdir for a module inside a package). Its variables (type,
    default or required, nullable), outputs and required providers (source,
    constraint, configuration aliases; with those of the local modules it calls) are
    written to the lock file, which is committed: validate and render read it
    offline. A version locked before providers were recorded is read again. Local
    modules are read where they are and need no lock.

    \b
    Exit codes: 0 written (or, with --check, in sync); 1 --check found the lock stale;
    2 invalid input or a module that cannot be downloaded. --format json prints the
    envelope every command prints; its result is {mode, lock, changed, downloaded,
    modules} (with --check: {mode, lock, in_sync}, the findings as errors).

    \b
    Examples:
      tfgen modules lock
      tfgen modules lock data/rds         # after bumping data/rds's version
      tfgen modules lock --refresh        # download every version again
      tfgen modules lock --check          # in CI, with tfgen render --check
      tfgen modules lock --registry registry.terraform.io=http://127.0.0.1:8080
    """
    report.remember_format(fmt)
    report.remember_command("modules lock")
    lock_file = display_path(api.lock_path(config))
    if check:
        if names or refresh:
            raise click.UsageError("--check takes no module names and no --refresh: it checks the whole lock")
        problems = api.modules_lock_check(config)
        code = report.EXIT_DRIFT if problems else report.EXIT_OK
        if fmt == "json":
            document = {"mode": "check", "lock": lock_file, "in_sync": not problems}
            click.echo(report.envelope("modules lock", exit_code=code, errors=problems, result=document), nl=False)
            sys.exit(code)
        report.print_diagnostics(problems)
        if problems:
            click.echo("the module lock is stale: run `tfgen modules lock` and commit it", err=True)
            sys.exit(code)
        click.echo("the module lock matches the catalog")
        return
    result = api.modules_lock(config, hosts=_registry_hosts(registries), modules=names, refresh=refresh)
    where = display_path(result.path)
    warnings = [
        Diagnostic(
            f"{module} {version} now downloads other code ({old} -> {new}): the release was published again; "
            "review the change before committing the lock",
            Location(where),
            severity="warning",
            rule="module-republished",
        )
        for module, version, old, new in result.republished
    ]
    if fmt == "json":
        document = {
            "mode": "lock",
            "lock": where,
            "changed": result.changed,
            "downloaded": result.downloaded,
            "already_locked": result.reused,
            "modules": [{"module": e.module, "source": e.source, "version": e.version} for e in result.entries],
        }
        click.echo(report.envelope("modules lock", warnings=warnings, result=document), nl=False)
        return
    report.print_diagnostics(warnings)
    state = "written" if result.changed else "unchanged"
    click.echo(f"{where}: {state}: {len(result.entries)} module versions, {result.downloaded} packages downloaded"
               f" ({result.reused} module versions already locked)")




# --- graph, explain, init --------------------------------------------------------


@click.command(context_settings=CONTEXT)
@config_option
@click.option(
    "--env",
    "environments",
    multiple=True,
    metavar="ENV",
    shell_complete=complete_environments,
    help="Only this environment's units (repeatable).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    shell_complete=complete_regions,
    help="Only this region's units (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(GRAPH_FORMATS),
    default="text",
    show_default=True,
    help="text: numbered waves; dot: Graphviz; mermaid: a Mermaid flowchart; json: for scripts.",
)
@click.option("--destroy", is_flag=True, help="The destroy order instead: a unit after every unit that needs it.")
@click.option("--style", type=click.Choice(STYLES), default=None,
              help="The directories of this style instead of the one environments.yaml names.")
@tenant_option
def graph(
    config: Path, environments: tuple[str, ...], regions: tuple[str, ...], fmt: str, destroy: bool, style: str | None,
    tenants: tuple[str, ...] = (),
) -> None:
    """Show the units and their dependencies, in apply order.

    Units are grouped by environment and region; dependencies across regions are
    shown too. The text view numbers the apply waves: the units of one wave do not
    depend on each other and can run in parallel.

    \b
    Examples:
      tfgen graph
      tfgen graph --env prod --destroy
      tfgen graph --format dot | dot -Tsvg -o graph.svg
      tfgen graph --format mermaid      (paste into a ```mermaid block on GitHub)
    """
    from ..features import graph as graph_views

    report.remember_format("json" if fmt == "json" else "text")
    result = api.graph(config, scope=Scope(listed(environments), listed(regions), listed(tenants)), style=style)
    if fmt == "json":
        click.echo(report.envelope("graph", result=graph_views.document(result, destroy=destroy)), nl=False)
        return
    click.echo(graph_views.FORMATS[fmt](result, destroy=destroy), nl=False)


@click.command(context_settings=CONTEXT)
@config_option
@click.argument("address", metavar="ENV[/REGION[/UNIT]]", shell_complete=complete_addresses)
@click.argument("input_name", metavar="[INPUT]", required=False)
@format_option
@click.option("--style", type=click.Choice(STYLES), default=None,
              help="Name the files of this style instead of the one environments.yaml names.")
@click.option("--tenant", "tenant", metavar="TENANT",
              help="The tenant's instance of ENV/REGION/UNIT (the same as ENV/REGION/TENANT/UNIT), "
              "or with ENV/REGION its tenant.hcl (ENV/REGION/TENANT).")
def explain(
    config: Path, address: str, input_name: str | None, fmt: str, style: str | None, tenant: str | None = None
) -> None:
    """Show where every value of a unit, region or environment comes from.

    For a unit: each input with its final value, the YAML line that set it (catalog,
    unit, environment or region override, defaults), the rendered file that carries
    it, the dependency outputs it is wired to, and for an !hcl expression the locals
    it reads and where those were set (sizing tier, sizing_overrides, settings).
    For ENV, ENV/REGION or ENV/REGION/TENANT: every local of env.hcl, region.hcl or the
    tenant's tenant.hcl. INPUT limits the list to one input (or a dotted path inside it).

    \b
    Examples:
      tfgen explain prod/us-east-1/rds
      tfgen explain prod/us-east-1/rds instance_class
      tfgen explain uat --format json
    """
    from ..features import explain as explain_views

    report.remember_format(fmt)
    if tenant:
        parts = address.strip("/").split("/")
        address = "/".join([*parts[:2], tenant, *parts[2:]]) if len(parts) in (2, 3) else address
    explanation = api.explain(config, address, style=style)
    explain_views.check_selector(explanation, input_name)
    if fmt == "json":
        click.echo(report.envelope("explain", result=explain_views.document(explanation, input_name)), nl=False)
        return
    click.echo(explain_views.to_text(explanation, input_name), nl=False)


@click.command(context_settings=CONTEXT)
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--project", metavar="NAME", help="Project name [default: from the directory name].")
@click.option(
    "--environments",
    default="dev",
    show_default=True,
    metavar="NAMES",
    help="Environments, comma-separated; production-like names (prod, prod-eu, live ...) get production settings.",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="REGION",
    help="Region of every environment, repeatable or comma-separated; the first is primary. [default: us-east-1]",
)
def init(directory: Path, project: str | None, environments: str, regions: tuple[str, ...]) -> None:
    """Start a new project in DIRECTORY (default: the current directory).

    Writes environments.yaml (one region per environment), a small catalog (a VPC and
    a PostgreSQL database wired to it), the JSON Schemas editors use, and a README
    with the next steps. Existing files are never overwritten: init refuses and
    names them. The new project validates and renders as it is.

    \b
    Examples:
      tfgen init my-infra
      tfgen init my-infra --environments dev,staging,prod --region us-east-1,eu-west-1
    """
    from ..features import scaffold

    region_names = tuple(r for text in regions for r in scaffold.environment_names(text)) or ("us-east-1",)
    written = api.init(
        directory,
        project=project,
        environments=scaffold.environment_names(environments),
        regions=region_names,
    )
    for path in written:
        click.echo(f"created {display_path(path)}")
    where = display_path(directory)
    step = "" if where in (".", "") else f"cd {where}, then "
    click.echo(
        f"Next: {step}put your AWS account ids in environments.yaml and run `tfgen validate` and `tfgen render`."
    )


@click.command(context_settings=CONTEXT)
@config_option
@click.option("--base", required=True, metavar="REF", help="The git revision to compare with (branch, tag, commit).")
@click.option("--head", metavar="REF", help="The revision with the change [default: the working tree].")
@format_option
@tenant_option
def affected(config: Path, base: str, head: str | None, fmt: str, tenants: tuple[str, ...] = ()) -> None:
    """List the units a change touches, in the order to destroy, plan and apply them.

    Both revisions of environments.yaml, catalog/ and templates/ are read from git and
    rendered in memory. A unit is listed when a rendered file it reads changed (its
    terragrunt.hcl, its _envcommon file, root.hcl) or a local it reads from env.hcl or
    region.hcl changed, or when it depends on a listed unit; units no longer rendered
    are listed for destroy. Each line says why. Units are grouped per environment in
    waves: a wave's units do not depend on each other.

    \b
    Examples:
      tfgen affected --base origin/main
      tfgen affected --base HEAD~1 --head HEAD --format json
    """
    from ..features import affected as affected_views

    report.remember_format(fmt)
    result = api.affected(config, base=base, head=head, tenants=listed(tenants))
    if fmt == "json":
        click.echo(report.envelope("affected", result=affected_views.document(result)), nl=False)
        return
    click.echo(affected_views.to_text(result), nl=False)


@click.command(context_settings=CONTEXT)
@config_option
@click.option("--env", "environments", multiple=True, metavar="ENV", shell_complete=complete_environments,
              help="Only this environment's units and what they depend on (repeatable).")
@click.option("--region", "regions", multiple=True, metavar="REGION", shell_complete=complete_regions,
              help="Only this region's units and what they depend on (repeatable).")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Rehearse in DIR (new or empty) and leave the scratch tree, logs and reports there.")
@click.option("--parallelism", type=click.IntRange(1), default=4, show_default=True,
              help="Units Terragrunt runs at once.")
@click.option("--then", "then", type=click.Path(dir_okay=False, path_type=Path), metavar="CONFIG",
              help="After the first apply, render CONFIG (the project changed, e.g. a unit renamed) and apply "
              "again: no terraform_data may be replaced, no state orphaned.")
@click.option("--provider", "provider_mode", type=click.Choice(["standin", "real"]), default="standin",
              show_default=True,
              help="standin: stand-in modules and tfgen's stand-in AWS provider (wiring, order, state). real: the "
              "units' own modules with the real hashicorp/aws provider against the local server (what AWS "
              "accepts): plan, then apply and destroy.")
@click.option("--provider-mirror", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="--provider real: a filesystem mirror holding hashicorp/aws. [default: $TFGEN_PROVIDER_MIRROR, "
              "else /opt/tf-plugins]")
@click.option("--provider-registry", is_flag=True,
              help="--provider real: let OpenTofu download hashicorp/aws from its registry (needs network) "
              "instead of a mirror.")
@click.option("--modules", "modules", type=click.Path(file_okay=False, exists=True, path_type=Path), metavar="DIR",
              help="--provider real: serve registry (tfr://) module sources from DIR/NAMESPACE/NAME/PROVIDER/VERSION/ "
              "on 127.0.0.1 instead of downloading them.")
@click.option("--plan-only", is_flag=True, help="--provider real: stop after plan (no apply, no destroy).")
@click.option("--timeout", type=click.IntRange(1), default=1800, show_default=True, metavar="SECONDS",
              help="Longest one Terragrunt step (apply, plan ...) may run; the real provider is slow to load, so "
              "plan a large tree with more.")
@format_option
@tenant_option
def rehearse(
    config: Path, environments: tuple[str, ...], regions: tuple[str, ...], keep: Path | None, parallelism: int,
    then: Path | None, provider_mode: str, provider_mirror: Path | None, provider_registry: bool,
    modules: Path | None, plan_only: bool, timeout: int, fmt: str, tenants: tuple[str, ...] = (),
) -> None:
    """Apply, re-apply and destroy the tree for real, with local stand-ins for AWS.

    Renders the project into a scratch directory, starts a local S3 on 127.0.0.1
    (moto) for the state with the project's real backend settings, replaces every
    module by a stand-in generated from the catalog and the AWS provider by tfgen's
    stand-in, then runs `terragrunt run --all apply` (bootstrapping the backend), a
    second apply that must change nothing, and `run --all destroy`. Reports the order
    the units ran in, the dependency outputs that flowed from state into inputs, the
    state objects, the units prevent_destroy kept, and every failure. Never uses
    real AWS credentials.

    \b
    Exit codes: 0 all of it held; 1 a step failed (the report says where);
    2 invalid input, or the rehearsal cannot start (tools, moto, --keep).

    \b
    Examples:
      tfgen rehearse
      tfgen rehearse --env prod --keep /tmp/rehearsal --format json
      tfgen rehearse -c before/environments.yaml --then environments.yaml   (a rename keeps its state)
      tfgen rehearse --provider real --plan-only --modules ~/module-sources   (what the real provider refuses)

    With --provider real, the units keep their own modules and the real hashicorp/aws
    provider (from a filesystem mirror, or its registry with --provider-registry) plans
    them with every AWS service endpoint, and fake credentials of each environment's
    account, on the local server (moto), which answers plan-time data sources (caller
    identity, SSM parameters, availability zones, event buses). Providers no mirror
    holds (hashicorp/random, external, local and null) are tfgen's stand-ins, named in
    the report. A failing unit is reported with the provider's own message.
    """
    report.remember_format(fmt)
    real = None
    if provider_mode == "standin":
        given = [name for name, value in (("--provider-mirror", provider_mirror), ("--provider-registry",
                 provider_registry), ("--modules", modules), ("--plan-only", plan_only)) if value]
        if given:
            raise click.UsageError(f"{', '.join(given)} only apply with --provider real")
    elif provider_mirror is not None and provider_registry:
        raise click.UsageError("--provider-mirror and --provider-registry exclude each other")
    elif then is not None:
        raise click.UsageError("--then applies to the stand-in rehearsal only")
    # imported here: the rehearsal (moto, boto3, its servers) is not loaded by the other commands
    from ..rehearse import Options, text, tools
    from ..rehearse import real as real_rehearsal
    from ..rehearse import rehearse as run_rehearsal

    found = tools.find(say=lambda line: click.echo(line, err=True))
    if provider_mode == "real":
        real = real_rehearsal.RealProvider(
            None if provider_registry else real_rehearsal.find_mirror(provider_mirror),
            tools.need_standins(found),
            modules.resolve() if modules else None,
            plan_only,
        )
    options = Options(
        config, found.terragrunt, found.tofu, found.provider, Scope(environments, regions, listed(tenants)), keep,
        parallelism,
        then=then, real=real, timeout=float(timeout),
    )
    result = run_rehearsal(options)
    code = 0 if result.ok else 1
    if fmt == "json":
        click.echo(report.envelope("rehearse", exit_code=code, result=result.to_json()), nl=False)
    else:
        click.echo(text.to_text(result), nl=False)
    sys.exit(code)


@click.command("import", context_settings=CONTEXT)
@click.argument("source", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "directory",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the project goes; it must not hold environments.yaml yet. [default: .]",
)
@click.option("--check", is_flag=True, help="Write nothing: run the round trip and compare both trees unit by unit.")
@click.option("--round-trip", is_flag=True, help="After importing, also run the round trip (as --check).")
@format_option
def import_command(source: Path, directory: Path, check: bool, round_trip: bool, fmt: str) -> None:
    """Import the Terragrunt live tree SOURCE into a project: environments.yaml and catalog/.

    Terragrunt (v1.x, found as $TERRAGRUNT, in tfgen's tool cache or on PATH) evaluates
    a copy of SOURCE with mock dependency outputs; SOURCE is never written. Every unit
    whose state key the rendered layout does not reproduce keeps it (state:), and what
    tfgen cannot model is reported as SOURCE/path:LINE. --check renders the imported
    project in a temporary directory and prints, per unit, identical or each attribute
    that differs (exit 1 when one does).

    \b
    Examples:
      tfgen import ../infrastructure-live -o infra
      tfgen import --check ../infrastructure-live
    """
    from ..importing import views as import_views

    report.remember_format(fmt)
    result = api.import_check(source) if check else api.import_project(source, directory, check=round_trip)
    differs = (check or round_trip) and not all(u.identical for u in result.comparisons)
    if fmt == "json":
        written = [display_path(path) for path in result.written]
        document = import_views.document(result.recovered, display_path(source), result.comparisons, written)
        click.echo(report.envelope("import", exit_code=1 if differs else 0, result=document), nl=False)
    else:
        for path in result.written:
            click.echo(f"created {display_path(path)}")
        click.echo(import_views.report(result.recovered, display_path(source)), nl=False)
        if check or round_trip:
            click.echo(import_views.round_trip(result.comparisons), nl=False)
    if differs:
        sys.exit(1)


COMMANDS = (validate, render, schema_command, graph, explain, affected, modules, init, import_command, rehearse)
