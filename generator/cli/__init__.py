"""The tfgen command line: the group, its commands, and the one error handler that
maps every outcome to an exit code (cli/report.py holds the codes):

- 0: success;
- 1: drift (``render --check``), a refused write, a locked output tree;
- 2: invalid input or arguments (one line per problem, output untouched);
- 3: a bug: one line asking for a report (``TFGEN_TRACEBACK=1`` shows the traceback);
- 130: interrupted (Ctrl-C); a render says the tree may be partly updated and that
  the next render finishes it, and the terminal cursor is restored.

With ``--format json`` every outcome, errors included, prints the same envelope.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .._version import __version__
from ..errors import TfgenError, display_path
from . import report
from .commands import COMMANDS, CONTEXT

#: Shows the terminal cursor again (a progress bar hides it while it draws).
_SHOW_CURSOR = "\033[?25h"


class Group(click.Group):
    """A click group whose subcommands' outcomes all end in :meth:`invoke`."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # click's own outcomes: --help, usage errors (exit 2)
        except TfgenError as error:
            self._expected(ctx, error)
        except KeyboardInterrupt:
            self._interrupted(ctx)
        except Exception as error:  # anything else is a bug
            if os.environ.get("TFGEN_TRACEBACK"):
                raise
            self._bug(ctx, error)
        return None

    @staticmethod
    def _command(ctx: click.Context) -> str:
        # A subcommand of a group (modules lock) names itself: the group alone is not the command.
        return ctx.meta.get("tfgen.command") or ctx.invoked_subcommand or ctx.info_name or "tfgen"

    def _expected(self, ctx: click.Context, error: TfgenError) -> None:
        if ctx.meta.get("tfgen.format") == "json":
            click.echo(report.error_envelope(self._command(ctx), error), nl=False)
        else:
            report.print_error(error)
        ctx.exit(report.exit_code(error))

    def _interrupted(self, ctx: click.Context) -> None:
        if sys.stderr.isatty():
            click.echo(_SHOW_CURSOR, err=True, nl=False)
        writing = ctx.meta.get("tfgen.writing")
        if writing is not None:
            where = display_path(writing)
            message = (
                f"tfgen: interrupted; {where} may be partially updated: every file is either old or new, "
                "and the next `tfgen render` finishes it"
            )
        else:
            message = "tfgen: interrupted; nothing was written"
        click.echo(message, err=True)
        ctx.exit(report.EXIT_INTERRUPTED)

    def _bug(self, ctx: click.Context, error: Exception) -> None:
        text = " ".join(str(error).split()) or "(no message)"
        click.echo(
            f"tfgen: internal error in `tfgen {self._command(ctx)}`: {type(error).__name__}: {text}; "
            "this is a bug in tfgen, please report it with the command and the project that caused it "
            "(TFGEN_TRACEBACK=1 shows the traceback)",
            err=True,
        )
        ctx.exit(report.EXIT_BUG)


@click.group(cls=Group, context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="tfgen")
def main() -> None:
    """Render one declarative environments.yaml into a complete Terragrunt tree.

    \b
    Typical use, in the directory that holds environments.yaml:
      tfgen validate                 check the YAML and the catalog
      tfgen render                   write output/ (only files whose bytes change)
      tfgen render --env uat         only environments/uat and the shared files it uses
      tfgen schema > schema.json     the JSON Schema, for editors
      tfgen graph                    units and dependencies in apply order (waves)
      tfgen affected --base main     the units a change touches, and why, in waves
      tfgen explain prod/us-east-1/rds   every input of a unit and where it was set
      tfgen modules lock             record the pinned modules' variables and outputs
      tfgen init my-infra            start a new project that renders as it is
      tfgen import LIVE -o infra     a Terragrunt live tree into a project

    Exit codes: 0 success, 1 drift or an unsafe write refused, 2 invalid input,
    3 a bug in tfgen (please report it), 130 interrupted.

    \b
    Shell completion (bash; zsh_source and fish_source likewise):
      eval "$(_TFGEN_COMPLETE=bash_source tfgen)"
    """


for _command in COMMANDS:
    main.add_command(_command)

__all__ = ["Group", "main"]
