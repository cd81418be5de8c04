"""Rules on the providers a unit's module requires (its locked ``required_providers``)
and the ones the catalog configures (``providers:``).

Every provider a module requires must be configured in the unit's generated files (the
generated ``aws``, an alias or a catalog ``providers:`` entry) or be one that works with
no configuration at all; the version constraints that reach one unit (the module's own
and its local modules', the project's ``aws_provider_version``, a catalog entry's
``version``, which the generated override files put in place of the module's) must be
able to hold together. Registered with the checks registry on import.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ..errors import Diagnostic, KeyPath
from ..project.model import Module, Unit
from ..project.modules.constraints import ConstraintError, satisfiable
from ..project.modules.interface import RequiredProvider
from ..project.modules.sources import parse_source, pin_of
from .base import Context, catalog_rule, rule
from .modules import interface_of

#: hashicorp providers that work without a provider block: OpenTofu configures them empty.
NO_CONFIGURATION = frozenset({"random", "null", "time", "tls", "local", "archive", "cloudinit", "external", "http"})


def provider_address(source: str) -> str:
    """``hashicorp/aws``, ``registry.terraform.io/hashicorp/aws`` -> ``hashicorp/aws``
    (lower case; another registry host stays)."""
    text = source.strip().lower()
    for host in ("registry.terraform.io/", "registry.opentofu.org/"):
        text = text.removeprefix(host)
    return text


def _module_line(unit: Unit) -> KeyPath:
    """Where the catalog pins the module: its version, else its source."""
    return ("version",) if unit.module.version is not None else ("source",)


def _what(unit: Unit) -> str:
    version = pin_of(parse_source(unit.module.source), unit.pin)
    return f"{unit.module.id}{f' {version}' if version else ''}"


def _example(name: str, required: RequiredProvider) -> str:
    version = f', version: "{required.constraint}"' if required.constraint else ""
    return f"providers: {{{name}: {{source: {required.source}{version}, config: {{...}}}}}}"


@rule
def provider_entries_are_sound(ctx: Context) -> Iterator[Diagnostic]:
    """``aws`` itself is the generated provider; an alias needs its provider configured;
    a version constraint must parse."""
    for module in ctx.project.modules.values():
        names = {p.name for p in module.providers if p.alias is None}
        for entry in module.providers:
            if entry.alias is None and entry.name == "aws":
                yield Diagnostic(
                    "aws is the provider tfgen generates for every unit (region, account, role, default tags)",
                    module.document.locate(("providers", "aws"), key=True),
                    ("providers", "aws"),
                    rule="provider-config",
                    hint="configure another region as an alias, e.g. aws.us_east_1: {region: us-east-1}",
                )
            elif entry.alias is not None and entry.name != "aws" and entry.name not in names:
                yield Diagnostic(
                    f"alias {entry.key} of provider '{entry.name}', which this module does not configure",
                    module.document.locate(entry.path, key=True),
                    entry.path,
                    rule="provider-config",
                    hint=f"add providers: {{{entry.name}: {{source: ..., version: ..., config: {{...}}}}}} too",
                )
            if entry.version is not None:
                try:
                    satisfiable([entry.version])
                except ConstraintError as exc:
                    path = ("providers", entry.key, "version")
                    yield Diagnostic(
                        f"provider version constraint: {exc}",
                        module.document.locate(path),
                        path,
                        rule="provider-config",
                    )


def _configured(module: Module) -> dict[str, str | None]:
    """Local name -> source of every provider the catalog configures (an alias: None)."""
    found: dict[str, str | None] = {p.name: p.source for p in module.providers if p.alias is None}
    return found


def _locked_module_versions(ctx: Context) -> Iterator[tuple[Unit, Mapping[str, RequiredProvider]]]:
    """One unit of each module version whose lock entry records its providers, with them."""
    seen: set[tuple[str, str | None]] = set()
    for unit in ctx.project.units:
        if (unit.module.id, unit.pin) in seen:
            continue
        seen.add((unit.module.id, unit.pin))
        interface = interface_of(ctx, unit)
        if interface is not None and interface.providers is not None:
            yield unit, interface.providers


@catalog_rule
def required_providers_configured(ctx: Context) -> Iterator[Diagnostic]:
    """Each provider the unit's module requires (from the lock or its local .tf files) is
    configured or needs no configuration; each configuration alias it declares is given."""
    for unit, providers in _locked_module_versions(ctx):
        module = unit.module
        configured = _configured(module)
        aliases = {p.key for p in module.providers if p.alias is not None}
        where = _module_line(unit)
        for name, required in sorted(providers.items()):
            address = provider_address(required.source)
            if name in configured:
                given = configured[name]
                if given is not None and provider_address(given) != address:
                    path = ("providers", name, "source")
                    yield Diagnostic(
                        f"provider '{name}' is {given} here, but {_what(unit)} requires {required.source}",
                        module.document.locate(path),
                        path,
                        rule="provider-unconfigured",
                        hint=f"source: {required.source}",
                    )
            elif name == "aws" and address == "hashicorp/aws":
                pass  # the generated provider
            elif name in NO_CONFIGURATION and address == f"hashicorp/{name}":
                pass
            else:
                yield Diagnostic(
                    f"{_what(unit)} requires provider '{name}' ({required.source}), which nothing configures: "
                    f"its units could not plan",
                    module.document.locate(where),
                    where,
                    rule="provider-unconfigured",
                    hint=f"add {_example(name, required)} to {module.file}",
                )
            for alias in required.aliases:
                if f"{name}.{alias}" not in aliases:
                    yield Diagnostic(
                        f"{_what(unit)} requires the provider configuration {name}.{alias} "
                        f"(configuration_aliases), which nothing configures",
                        module.document.locate(where),
                        where,
                        rule="provider-unconfigured",
                        hint=f"add providers: {{{name}.{alias}: {{...arguments, e.g. region...}}}} to {module.file}",
                    )


@catalog_rule
def provider_constraints_agree(ctx: Context) -> Iterator[Diagnostic]:
    """The constraints on one provider that reach a unit can all hold: the module's own
    (with its local modules'), the project's aws_provider_version and a catalog entry's
    version (both replace the module's requirement in an override file, so one that
    excludes every version the module accepts would plan with a provider it cannot use)."""
    project_aws = ctx.project.terraform.get("aws_provider_version")
    aws_path: KeyPath = ("terraform", "aws_provider_version")
    for unit, providers in _locked_module_versions(ctx):
        module = unit.module
        entries = {p.name: p for p in module.providers if p.alias is None}
        for name, required in sorted(providers.items()):
            own = list(required.versions)
            try:
                holds = satisfiable(own)
            except ConstraintError as exc:
                yield Diagnostic(
                    f"{_what(unit)}: provider '{name}' has a constraint tfgen cannot read ({exc})",
                    module.document.locate(_module_line(unit)),
                    _module_line(unit),
                    severity="warning",
                    rule="provider-version",
                )
                continue
            if not holds:
                yield Diagnostic(
                    f"{_what(unit)} and the modules it calls require provider '{name}' {' and '.join(own)}: "
                    "no version satisfies them all",
                    module.document.locate(_module_line(unit)),
                    _module_line(unit),
                    rule="provider-version",
                    hint="pin another version of the module",
                )
                continue
            entry = entries.get(name)
            if entry is not None and entry.version is not None:
                try:
                    agree = satisfiable([*own, entry.version])
                except ConstraintError:
                    continue  # reported by provider_entries_are_sound
                if not agree:
                    path = ("providers", name, "version")
                    yield Diagnostic(
                        f"provider '{name}' version {entry.version} excludes every version {_what(unit)} "
                        f"accepts ({required.constraint})",
                        module.document.locate(path),
                        path,
                        rule="provider-version",
                        hint=f"a constraint within {required.constraint}",
                    )
            if name == "aws" and project_aws and provider_address(required.source) == "hashicorp/aws":
                try:
                    agree = satisfiable([*own, str(project_aws)])
                except ConstraintError as exc:
                    yield ctx.error(aws_path, f"aws_provider_version: {exc}", "provider-version")
                    return
                if not agree:
                    yield Diagnostic(
                        f"{_what(unit)} requires provider aws {required.constraint}, which the project's "
                        f"aws_provider_version {project_aws} ({ctx.doc.locate(aws_path)}) excludes: no version "
                        "satisfies both",
                        module.document.locate(_module_line(unit)),
                        _module_line(unit),
                        rule="provider-version",
                        hint="raise terraform.aws_provider_version, or pin a version of the module that accepts it",
                    )
