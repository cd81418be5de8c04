"""tfgen: render one declarative environments.yaml into a complete Terragrunt tree.

The public API is small; the command line (``tfgen``) is a thin shell over it::

    from generator import render, validate
    result = render("environments.yaml")
"""

from ._version import __version__
from .api import RenderResult, ValidationResult, check, load_project, render, validate
from .errors import Diagnostic, InputError, OutputError, TfgenError
from .project.layout import Scope

__all__ = [
    "Diagnostic",
    "InputError",
    "OutputError",
    "RenderResult",
    "Scope",
    "TfgenError",
    "ValidationResult",
    "__version__",
    "check",
    "load_project",
    "render",
    "validate",
]
