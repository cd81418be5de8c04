"""Why a rehearsal could not start (exit 2); a rehearsal that ran and failed exits 1."""

from __future__ import annotations

from ..errors import Diagnostic, Location, TfgenError


class CannotRehearse(TfgenError):
    """A tool, moto or the scratch directory is missing or unusable."""

    exit_code = 2


def cannot(message: str, hint: str = "") -> CannotRehearse:
    return CannotRehearse([Diagnostic(message, Location("tfgen rehearse"), rule="rehearse", hint=hint)])
