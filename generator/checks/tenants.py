"""Tenants: what ``tenants:`` names exists, and no tenant's wiring reaches another's.

Dependencies between units are checked where they resolve (model.resolve_dependencies:
a shared unit never depends on a per_tenant unit, ``TENANT/UNIT`` names the unit's own
tenant only). Here: the tenants' own references, and ``!hcl`` expressions that name a
tenant's directory (``tenants/<name>``, ``../<name>/tenant.hcl``) by path, which no
dependency declares: a unit reads its own tenant as ``local.tenant``, never another's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import Diagnostic, KeyPath
from ..project import backend, layout
from ..project.values import expressions
from .base import Context, did_you_mean, documents, rule


@rule
def tenants_refer_to_what_exists(ctx: Context) -> Iterator[Diagnostic]:
    project = ctx.project
    env_names = [e.name for e in project.environments]
    specs = {s.name: s for s in project.unit_specs}
    bucket = str(project.state.get("bucket", ""))
    roles = any(e.role_arn for e in project.environments)
    remote = backend.is_remote(project)
    # state.backend remote: {tenant} in the workspace name separates the tenants' units
    # (state.workspace_per_unit refuses a template that does not, suggesting {tenant}).
    for tenant in project.tenants:
        for i, name in enumerate(tenant.environments or ()):
            if name not in env_names:
                yield ctx.error(
                    (*tenant.path, "environments", i),
                    f"tenant '{tenant.name}': unknown environment '{name}'",
                    "unknown-reference",
                    did_you_mean(name, env_names, "environments"),
                )
        theirs = [e for e in project.environments if tenant.environments is None or e.name in tenant.environments]
        regions = sorted({r.name for e in theirs for r in e.regions})
        for i, name in enumerate(tenant.regions or ()):
            if name not in regions:
                yield ctx.error(
                    (*tenant.path, "regions", i),
                    f"tenant '{tenant.name}': none of its environments has region '{name}'",
                    "unknown-reference",
                    did_you_mean(name, regions, "regions"),
                )
        for name in tenant.unit_overrides:
            spec = specs.get(name)
            if spec is None:
                yield ctx.error(
                    (*tenant.path, "units", name),
                    f"override of unknown unit '{name}'",
                    "unknown-reference",
                    did_you_mean(name, specs, "units"),
                    key=True,
                )
            elif not spec.per_tenant:
                yield ctx.error(
                    (*tenant.path, "units", name),
                    f"tenant '{tenant.name}' overrides unit '{name}', which is shared (not per_tenant): "
                    "a tenant overrides only its own instances",
                    "tenant-isolation",
                    f"give units.{name} per_tenant: true, or override it on the environment",
                    key=True,
                )
        if tenant.account_id is not None and not remote and "{account_id}" not in bucket:
            yield ctx.error(
                (*tenant.path, "account_id"),
                f"tenant '{tenant.name}' has its own account, but state.bucket has no {{account_id}}: "
                "its state would go to the environment's bucket, outside its account",
                "tenant-isolation",
                'put {account_id} in state.bucket, e.g. "{project}-{account_id}-tfstate"',
            )
        if tenant.role_arn is not None and not roles:
            yield ctx.error(
                (*tenant.path, "role_arn"),
                f"tenant '{tenant.name}' has a role_arn, but the environments assume no role",
                "tenant-isolation",
                "give the environments a role_arn, or drop the tenant's",
            )
    if project.tenants:
        layers = {m.layer for m in project.modules.values()} | {s.layer for s in project.unit_specs if s.layer}
        if layout.TENANTS in layers:
            yield ctx.error(
                ("tenants",),
                f"a layer is named '{layout.TENANTS}', the directory of the tenants",
                "tenant-isolation",
                "rename the layer",
                key=True,
            )


def _named_tenants(text: str, names: frozenset[str]) -> set[str]:
    found = {m.group(1) for m in re.finditer(r"(?<![\w-])" + layout.TENANTS + r"/([a-z0-9][a-z0-9_-]*)", text)}
    found |= {m.group(1) for m in re.finditer(r"\.\./([a-z0-9][a-z0-9_-]*)/" + re.escape(layout.TENANT_FILE), text)}
    return found & names


@rule
def expressions_stay_in_their_tenant(ctx: Context) -> Iterator[Diagnostic]:
    """An expression that names a tenant's directory: refused outside that tenant's own
    block (a shared catalog module or unit would reach into one tenant, and every other
    tenant's instance would read it too)."""
    names = frozenset(t.name for t in ctx.project.tenants)
    if not names:
        return
    for doc in documents(ctx):
        for path, expr in expressions(doc.data, ()):
            found = _named_tenants(expr.text, names)
            if not found:
                continue
            own = _own_tenant(path) if doc is ctx.doc else None
            for other in sorted(found - {own} if own else found):
                if own:
                    message = (
                        f"tenant '{own}' reads the directory of tenant '{other}': tenants are isolated, "
                        f"nothing of tenant '{own}' reaches tenant '{other}'"
                    )
                else:
                    message = (
                        f"the expression reads the directory of tenant '{other}', and every tenant's instance (and "
                        f"every shared unit) that renders it would reach tenant '{other}'"
                    )
                yield Diagnostic(
                    message,
                    doc.locate(path),
                    path,
                    rule="tenant-isolation",
                    hint="a unit reads its own tenant as local.tenant and another tenant never",
                )


def _own_tenant(path: KeyPath) -> str | None:
    return str(path[1]) if len(path) >= 2 and path[0] == "tenants" else None
