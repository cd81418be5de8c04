"""CI pipelines from the same model: a GitHub Actions workflow and an Atlantis repo
config, rendered beside the tree (opt-in under ``ci:`` in environments.yaml) and owned
by the manifest like every other file, so ``tfgen render --check`` keeps them in sync.

GitHub Actions: on a pull request, one job per environment plans the units that
``tfgen affected`` lists for it, with that environment's account role through OIDC, and
posts the plan summary; on a push to the branch, one job per environment (a GitHub
environment of the same name) destroys and applies them in dependency waves.

Atlantis: one project per unit; ``when_modified`` lists exactly the rendered files the
unit reads (relative to its directory), ``depends_on`` and ``execution_order_group``
come from the graph, protected environments require an approved, mergeable pull
request. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from ..hcl import literal as hcl
from ..project import backend, layout
from ..project.layout import relative_path
from ..project.model import Project, Unit, waves

WORKFLOW_PATH = ".github/workflows/terragrunt.yml"
ATLANTIS_PATH = "atlantis.yaml"

#: Actions the workflow uses, pinned by version.
ACTIONS = {
    "checkout": "actions/checkout@v4.2.2",
    "setup-python": "actions/setup-python@v5.6.0",
    "aws-credentials": "aws-actions/configure-aws-credentials@v4.2.1",
}
DEFAULTS: Mapping[str, Any] = {
    "branch": "main",
    "plan_role": "terragrunt-plan",
    "apply_role": "terragrunt-apply",
    "terragrunt_version": "1.1.3",
    "opentofu_version": "1.12.6",
    "tfgen_requirement": f"terragrunt-tfgen=={__version__}",
    "runs_on": "ubuntu-24.04",
    "path": WORKFLOW_PATH,
    "in_output": False,
}


@dataclass(frozen=True)
class Pipeline:
    path: str  # inside the output directory (api moves the workflow to the repository root)
    template: str
    context: Mapping[str, Any]


def settings(project: Project) -> Mapping[str, Any]:
    data = project.document.data
    ci = data.get("ci") if isinstance(data, dict) else None
    return ci if isinstance(ci, dict) else {}


def _join(*parts: str) -> str:
    return "/".join(p for p in parts if p and p != ".") or "."


def reads(unit: Unit, style: str = "classic") -> list[str]:
    """The rendered files a unit reads, relative to the output directory (a tenant's
    unit: its tenant.hcl too; in style single-include there is no root.hcl)."""
    found = [
        layout.unit_file(unit.directory),
        unit.module.envcommon_path,
        layout.env_file(unit.environment.name),
        layout.region_file(unit.environment.name, unit.region.name),
    ]
    if style != layout.SINGLE_INCLUDE:
        found.append(layout.ROOT)
    if unit.tenant is not None:
        found.append(layout.tenant_file(unit.environment.name, unit.region.name, unit.tenant.name))
    return found


def _project_name(unit: Unit) -> str:
    # '.' appears in no environment, region, tenant or unit name, and Atlantis accepts it.
    return f"{unit.environment.name}.{unit.region.name}.{unit.instance.replace('/', '.')}"


def _atlantis(project: Project, options: Mapping[str, Any], tree: str, header: str) -> Pipeline:
    wave = {u.key: number for number, group in enumerate(waves(project)) for u in group}
    relative: dict[tuple[str, str], str] = {}  # (file, region directory) -> path from there
    projects = []
    for unit in project.units:
        # a unit lives in <region>/<layer>/<unit> (a tenant's in <region>/tenants/<tenant>/<layer>/<unit>)
        region_directory = unit.directory.rsplit("/", 2)[0]
        when_modified = ["terragrunt.hcl"]
        for path in reads(unit, project.style)[1:]:
            hit = relative.get((path, region_directory))
            if hit is None:
                hit = relative[path, region_directory] = relative_path(path, region_directory)
            when_modified.append(f"../../{hit}")
        projects.append(
            {
                "name": _project_name(unit),
                "dir": _join(tree, unit.directory),
                "when_modified": when_modified,
                "depends_on": [_project_name(w.target) for w in project.wiring.get(unit.key, ())],
                "execution_order_group": wave[unit.key],
                "protected": unit.deletion_protection,
            }
        )
    context = {
        "header": header,
        "remote": _remote(project),
        "automerge": bool(options.get("automerge", False)),
        "parallel_plan": bool(options.get("parallel_plan", True)),
        "projects": projects,
    }
    return Pipeline(ATLANTIS_PATH, "atlantis.yaml.j2", context)


def _remote(project: Project) -> dict[str, str] | None:
    """With state.backend: remote, the host whose API token a run needs and the variable
    OpenTofu reads it from (TF_TOKEN_<host>); None with S3."""
    if not backend.is_remote(project):
        return None
    host = backend.hostname(project)
    return {"hostname": host, "token": backend.token_variable(host)}


def _credentials_region(project: Project) -> str:
    """The region the AWS credentials step names: the state bucket's, else (no bucket:
    the remote backend, or state in each unit's region) the first environment's first."""
    region = project.state.get("region")
    if isinstance(region, str) and region != "{region}":
        return region
    first = project.environments[0].regions if project.environments else ()
    return first[0].name if first else "us-east-1"


def _github(project: Project, options: Mapping[str, Any], project_path: str, tree: str, header: str) -> Pipeline:
    chosen = {**DEFAULTS, **options}
    environments = [
        {
            "name": env.name,
            "account_id": env.account_id,
            "protected": env.deletion_protection,
            "plan_role": f"arn:aws:iam::{env.account_id}:role/{chosen['plan_role']}",
            "apply_role": f"arn:aws:iam::{env.account_id}:role/{chosen['apply_role']}",
        }
        for env in project.environments
    ]
    context = {
        "header": header,
        "options": chosen,
        "actions": ACTIONS,
        "project_path": project_path,
        "tree": tree,
        "config": project.document.file.rsplit("/", 1)[-1],
        "workflow_path": chosen["path"],
        "state_region": _credentials_region(project),
        "environments": environments,
        "remote": _remote(project),
    }
    return Pipeline(chosen["path"], "github-actions.yml.j2", context)


def repository_files(project: Project) -> list[str]:
    """Planned paths that belong at the repository root, not in the output directory:
    the GitHub workflow (``ci.github_actions.path``), unless ``in_output: true``. The
    plan is pure and names it as if in output/; api.py places it once it knows where the
    repository and the output directory are."""
    ci = settings(project)
    if "github_actions" not in ci:
        return []
    options = {**DEFAULTS, **(ci.get("github_actions") or {})}
    return [] if options["in_output"] else [str(options["path"])]


def pipelines(project: Project, source_name: str = "environments.yaml") -> list[Pipeline]:
    """The pipeline files the project opts into (none without ``ci:``); build/plan.py
    adds them to every plan as shared files, so the manifest owns them."""
    ci = settings(project)
    if not ci:
        return []
    source_name = hcl.comment_text(source_name)
    header = f"# Generated by tfgen from {source_name}. Do not edit: change {source_name} and run `tfgen render`."
    project_path = str(ci.get("project_path", "."))
    tree = _join(project_path, "output")
    found = []
    if "github_actions" in ci:
        found.append(_github(project, ci.get("github_actions") or {}, project_path, tree, header))
    if "atlantis" in ci:
        found.append(_atlantis(project, ci.get("atlantis") or {}, tree, header))
    return found
