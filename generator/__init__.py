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

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
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

#: Where each public name lives: imported on first use (PEP 562), so that ``tfgen
#: --version`` and ``tfgen validate`` do not import the renderer, Jinja and the rest.
_EXPORTS = {
    "DEFAULT_CONFIG": ".api",
    "ImportResult": ".api",
    "Plan": ".api",
    "Progress": ".api",
    "ValidationResult": ".api",
    "affected": ".api",
    "apply": ".api",
    "check": ".api",
    "diff": ".api",
    "explain": ".api",
    "graph": ".api",
    "import_check": ".api",
    "import_project": ".api",
    "init": ".api",
    "load": ".api",
    "modules_lock": ".api",
    "modules_lock_check": ".api",
    "plan": ".api",
    "render": ".api",
    "validate": ".api",
    "ArgumentError": ".errors",
    "ArgumentProblem": ".errors",
    "Diagnostic": ".errors",
    "InputError": ".errors",
    "Location": ".errors",
    "OutputAccessError": ".errors",
    "OutputError": ".errors",
    "TfgenError": ".errors",
    "Affected": ".features.affected",
    "Explanation": ".features.explain",
    "ScopeExplanation": ".features.explain",
    "UnitExplanation": ".features.explain",
    "Edge": ".features.graph",
    "Graph": ".features.graph",
    "HclExpr": ".hcl.literal",
    "STATUSES": ".output.diff",
    "Change": ".output.diff",
    "Status": ".output.diff",
    "RenderResult": ".output.sync",
    "UnsafeWriteError": ".output.sync",
    "LoadStats": ".project.catalog",
    "Scope": ".project.layout",
    "Environment": ".project.model",
    "Module": ".project.model",
    "Project": ".project.model",
    "Region": ".project.model",
    "Unit": ".project.model",
    "Renderer": ".rendering.render",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


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
