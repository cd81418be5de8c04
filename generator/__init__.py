"""tfgen: render one declarative environments.yaml into a complete Terragrunt tree.

The command line (``tfgen``) is a thin shell over this API::

    import generator
    result = generator.render("environments.yaml")          # write output/
    result = generator.check("environments.yaml")           # result.in_sync

Scripts that work on one project several times load it once::

    loaded = generator.load("environments.yaml")
    planned = generator.plan(loaded, scope=generator.Scope(environments=("dev",)))
    if not generator.diff(planned).in_sync:
        generator.apply(planned)

Expected failures raise :class:`TfgenError` subclasses carrying diagnostics;
anything else is a bug.
"""

from ._version import __version__
from .api import (
    DEFAULT_CONFIG,
    ImportResult,
    Plan,
    Progress,
    ValidationResult,
    affected,
    apply,
    check,
    diff,
    explain,
    graph,
    import_check,
    import_project,
    init,
    load,
    modules_lock,
    modules_lock_check,
    plan,
    render,
    validate,
)
from .errors import (
    ArgumentError,
    ArgumentProblem,
    Diagnostic,
    InputError,
    Location,
    OutputAccessError,
    OutputError,
    TfgenError,
)
from .features.affected import Affected
from .features.explain import Explanation, ScopeExplanation, UnitExplanation
from .features.graph import Edge, Graph
from .hcl.literal import HclExpr
from .output.diff import STATUSES, Change, Status
from .output.sync import RenderResult, UnsafeWriteError
from .project.catalog import LoadStats
from .project.layout import Scope
from .project.model import Environment, Module, Project, Region, Unit
from .rendering.render import Renderer

__all__ = [
    "DEFAULT_CONFIG",
    "STATUSES",
    "Affected",
    "ArgumentError",
    "ArgumentProblem",
    "Change",
    "Diagnostic",
    "Edge",
    "Environment",
    "Explanation",
    "Graph",
    "HclExpr",
    "ImportResult",
    "InputError",
    "LoadStats",
    "Location",
    "Module",
    "OutputAccessError",
    "OutputError",
    "Plan",
    "Progress",
    "Project",
    "Region",
    "RenderResult",
    "Renderer",
    "Scope",
    "ScopeExplanation",
    "Status",
    "TfgenError",
    "Unit",
    "UnitExplanation",
    "UnsafeWriteError",
    "ValidationResult",
    "__version__",
    "affected",
    "apply",
    "check",
    "diff",
    "explain",
    "graph",
    "import_check",
    "import_project",
    "init",
    "load",
    "modules_lock",
    "modules_lock_check",
    "plan",
    "render",
    "validate",
]
