"""Every path of the output tree, which environment owns a path, and scopes. Pure.

The tree (relative to the output directory, posix separators)::

    root.hcl
    _envcommon/<category>/<module>.hcl
    environments/<env>/env.hcl
    environments/<env>/<region>/region.hcl
    environments/<env>/<region>/<layer>/<unit>/terragrunt.hcl
    environments/<env>/<region>/tenants/<tenant>/tenant.hcl
    environments/<env>/<region>/tenants/<tenant>/<layer>/<unit>/terragrunt.hcl

In ``style: single-include`` there is no root.hcl: each ``_envcommon`` file also carries
root.hcl's settings (remote state, provider, version pins), and a unit includes its
module's file alone, so Terragrunt parses one include per unit instead of two.

In ``style: stacks`` the units catalog and the stack files replace ``_envcommon/`` and
the leaves (root.hcl, env.hcl and region.hcl stay)::

    _units/<category>/<module>/terragrunt.hcl
    environments/<env>/<region>/terragrunt.stack.hcl

and ``terragrunt stack generate`` writes each unit into its classic directory (or, without
``no_dot_terragrunt_stack``, below ``environments/<env>/<region>/.terragrunt-stack/``).

Files under ``environments/<env>/`` belong to that environment; the others are
shared by every environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The tree styles (``style:``): one terragrunt.hcl per unit that includes root.hcl and its
#: module's _envcommon file, the same with the module file alone (root.hcl's settings in
#: every module file), or Terragrunt Stacks.
STYLES = ("classic", "single-include", "stacks")
SINGLE_INCLUDE = "single-include"

ROOT = "root.hcl"
ENVCOMMON = "_envcommon"
ENVIRONMENTS = "environments"
ENV_FILE = "env.hcl"
REGION_FILE = "region.hcl"
#: A tenant's directory in a region holds its tenant.hcl and its per_tenant units.
TENANTS = "tenants"
TENANT_FILE = "tenant.hcl"
UNIT_FILE = "terragrunt.hcl"
#: style: stacks: the units catalog, the stack file of a region, and where
#: ``terragrunt stack generate`` writes units unless no_dot_terragrunt_stack.
UNITS_DIR = "_units"
STACK_FILE = "terragrunt.stack.hcl"
DOT_STACK = ".terragrunt-stack"
#: What ``terragrunt stack generate`` writes into a unit directory besides terragrunt.hcl,
#: and Terragrunt reads in any unit that has them.
GENERATED_FILES = ("terragrunt.autoinclude.hcl", "terragrunt.values.hcl")
#: A unit's state object, below its directory's path in the bucket (path_relative_to_include()).
STATE_FILE = "terraform.tfstate"
#: The one kind of file tfgen owns outside the output directory: the GitHub workflow at
#: the repository root (ci.github_actions.path), recorded relative to the output
#: directory. Nothing else may leave the tree, whatever a manifest says.
_OUTSIDE = re.compile(r"(?:\.\./)+\.github/workflows/[A-Za-z0-9._-]+\.ya?ml\Z")


def envcommon_file(category: str, module: str) -> str:
    return f"{ENVCOMMON}/{category}/{module}.hcl"


def environment_directory(environment: str) -> str:
    return f"{ENVIRONMENTS}/{environment}"


def env_file(environment: str) -> str:
    return f"{ENVIRONMENTS}/{environment}/{ENV_FILE}"


def region_file(environment: str, region: str) -> str:
    return f"{ENVIRONMENTS}/{environment}/{region}/{REGION_FILE}"


def tenant_directory(environment: str, region: str, tenant: str) -> str:
    return f"{ENVIRONMENTS}/{environment}/{region}/{TENANTS}/{tenant}"


def tenant_file(environment: str, region: str, tenant: str) -> str:
    return f"{tenant_directory(environment, region, tenant)}/{TENANT_FILE}"


def tenant_of(path: str) -> str | None:
    """``environments/<env>/<region>/tenants/<tenant>/...`` -> ``<tenant>``; else None."""
    parts = path.split("/")
    return parts[4] if len(parts) >= 6 and parts[0] == ENVIRONMENTS and parts[3] == TENANTS else None


def unit_directory(environment: str, region: str, layer: str, unit: str, *, tenant: str | None = None) -> str:
    if tenant is not None:
        return f"{tenant_directory(environment, region, tenant)}/{layer}/{unit}"
    return f"{ENVIRONMENTS}/{environment}/{region}/{layer}/{unit}"


def unit_file(directory: str) -> str:
    """The leaf terragrunt.hcl of a unit directory."""
    return f"{directory}/{UNIT_FILE}"


def catalog_directory(category: str, module: str) -> str:
    """The reusable unit of a module in the units catalog (style: stacks)."""
    return f"{UNITS_DIR}/{category}/{module}"


def stack_directory(environment: str, region: str, tenant: str | None = None) -> str:
    """The directory of a region's terragrunt.stack.hcl (style: stacks); a tenant's
    units have a stack of their own, in the tenant's directory."""
    if tenant is not None:
        return tenant_directory(environment, region, tenant)
    return f"{ENVIRONMENTS}/{environment}/{region}"


def stack_file(environment: str, region: str, tenant: str | None = None) -> str:
    return f"{stack_directory(environment, region, tenant)}/{STACK_FILE}"


def generated_directory(
    environment: str, region: str, layer: str, unit: str, *, no_dot: bool, tenant: str | None = None
) -> str:
    """Where ``terragrunt stack generate`` writes a unit (style: stacks)."""
    base = stack_directory(environment, region, tenant)
    return f"{base}/{layer}/{unit}" if no_dot else f"{base}/{DOT_STACK}/{layer}/{unit}"


def state_key(directory: str) -> str:
    """The key of a unit's state in the bucket, as Terragrunt resolves it."""
    return f"{directory}/{STATE_FILE}"


def environment_of(path: str) -> str | None:
    """``environments/<env>/...`` -> ``<env>``; shared files -> None."""
    parts = path.split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == ENVIRONMENTS else None


def is_outside(path: str) -> bool:
    """``../.github/workflows/NAME.yml`` (any number of ``../``): the workflow at the
    repository root, the only path outside the output directory tfgen writes."""
    return _OUTSIDE.match(path) is not None


def outside_top(path: str) -> str:
    """The ``../../`` part of an outside path: the repository root, from the output directory."""
    return path[: path.index(".github/")]


def read_by_every_environment(path: str) -> bool:
    """root.hcl, _envcommon/* and the stacks' _units/*: every environment's units read
    them, so a render limited to one environment that rewrites one changes the others."""
    return path == ROOT or path.split("/", 1)[0] in (ENVCOMMON, UNITS_DIR)


def relative_path(target: str, start: str) -> str:
    """``posixpath.relpath`` for two clean relative paths below the same root (no ``.``,
    ``..`` or empty parts, which the schema guarantees for every directory name),
    without the file-system lookups of the current directory it makes each call."""
    to, here = target.split("/"), start.split("/")
    common = 0
    for a, b in zip(to, here, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + to[common:]) or "."


def parent(path: str) -> str:
    """The posix parent directory of *path* ("" at the top)."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


@dataclass(frozen=True)
class Scope:
    """Which environments, regions and tenants a command works on (empty: all). With
    tenants, only those tenants' units (and tenant.hcl files) are in scope."""

    environments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()

    def includes(self, environment: str | None, region: str | None = None) -> bool:
        if environment is not None and self.environments and environment not in self.environments:
            return False
        return not (region is not None and self.regions and region not in self.regions)

    def includes_tenant(self, tenant: str | None) -> bool:
        """Whether a unit of *tenant* (None: a shared unit) is in scope."""
        return not self.tenants or (tenant is not None and tenant in self.tenants)

    @property
    def everything(self) -> bool:
        return not self.environments and not self.regions and not self.tenants

    def may_prune(self, path: str) -> bool:
        """Whether an owned path that is no longer rendered may be pruned in this scope.
        Shared files are pruned only by a full render; an environment's own files
        (env.hcl) only when no region limits the render (its other regions may remain)."""
        if self.everything:
            return True
        parts = path.split("/")
        if parts[0] != ENVIRONMENTS or len(parts) < 3:
            return False
        environment = parts[1]
        if self.tenants:  # only the chosen tenants' own files
            tenant = tenant_of(path)
            return tenant is not None and tenant in self.tenants and self.includes(environment, parts[2])
        if len(parts) == 3:
            return not self.regions and self.includes(environment)
        return self.includes(environment, parts[2])
