"""The tfgen command line: options -> one API call -> a view -> an exit code."""

from .commands import main

__all__ = ["main"]
