"""The rehearsal itself: render into a scratch directory, point the tree at local
stand-ins, run Terragrunt (apply, apply again, destroy) and check what held."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import api
from ..features.graph import select
from ..project import backend
from ..project.layout import Scope
from ..project.model import Project, Unit, Wiring, check_scope, resolve_dependencies
from ..project.moves import moves
from ..rendering.plan import plan as plan_files
from ..rendering.render import Renderer
from . import real as real_provider
from . import standins
from .errors import cannot
from .server import LocalS3
from .state import StateStore
from .versions import satisfying

#: Hosts a rehearsal may reach.
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
PROVIDER_ADDRESS = "registry.opentofu.org/hashicorp/aws"
_URL = re.compile(r"\bhttps?://[^\s\"'}]+")
_NO_CHANGES = re.compile(r"No changes\.|Resources: 0 added, 0 changed, 0 destroyed")


@dataclass(frozen=True)
class Options:
    config: Path
    terragrunt: str
    tofu: str
    provider: str
    scope: Scope = field(default_factory=Scope)
    keep: Path | None = None
    parallelism: int = 4
    timeout: float = 1800.0
    #: A second version of the project (a unit renamed or moved, say): after the first
    #: apply the tree is rendered from it and applied again; nothing may be created or
    #: destroyed. The rest of the rehearsal runs on it.
    then: Path | None = None
    #: With the real hashicorp/aws provider (`--provider real`) instead of stand-in
    #: modules and tfgen's stand-in provider: how it gets its providers and modules.
    real: real_provider.RealProvider | None = None


@dataclass
class Step:
    name: str
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Failure:
    step: str
    unit: str  # address, or "" when the step failed as a whole
    message: str


@dataclass
class UnitResult:
    address: str
    directory: str
    wave: int  # 1-based apply wave of `tfgen graph`
    protected: bool
    applied_at: int | None = None  # position in the order resources were created
    destroyed_at: int | None = None
    state_key: str = ""
    state_found: bool = False
    kept: bool = False  # resources still in state after destroy


@dataclass
class Flow:
    source: str  # address of the unit whose state held the output
    output: str
    target: str  # address of the unit whose inputs received it
    input: str  # input path in the target, "" when not found
    ok: bool


@dataclass
class Report:
    scratch: str
    kept: bool = False  # the scratch directory was left (--keep)
    endpoint: str = ""
    steps: list[Step] = field(default_factory=list)
    units: list[UnitResult] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    state_objects: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    order_problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures and all(s.ok for s in self.steps) and bool(self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "ok": self.ok,
            "scratch": self.scratch if self.kept else None,
            "endpoint": self.endpoint,
            "seconds": round(self.seconds, 2),
            "steps": [vars(s) | {"seconds": round(s.seconds, 2)} for s in self.steps],
            "units": [vars(u) for u in self.units],
            "flows": [vars(f) for f in self.flows],
            "state_objects": self.state_objects,
            "failures": [vars(f) for f in self.failures],
            "order_problems": self.order_problems,
            "notes": self.notes,
        }


class _Failed(Exception):
    """A step failed; the report says why. Later steps are not run."""


def rehearse(options: Options) -> Report:
    started = time.perf_counter()
    project = api.load(options.config).project
    check_scope(project, options.scope)
    if options.then is not None:  # invalid: exit 2 before anything starts
        check_scope(api.load(options.then).project, options.scope)
    scratch = _scratch(options.keep)
    report = Report(str(scratch), kept=options.keep is not None)
    try:
        with LocalS3(scratch) as s3, contextlib.ExitStack() as stack:
            report.endpoint = s3.endpoint
            registry = None
            if options.real is not None and options.real.modules is not None:
                registry = stack.enter_context(
                    real_provider.ModuleRegistry(options.real.modules, s3.certificate, s3.key)
                )
            with contextlib.suppress(_Failed):  # the report says which step failed
                _Rehearsal(project, options, scratch, s3, report, registry).run()
    finally:
        report.seconds = time.perf_counter() - started
        if options.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    return report


def _scratch(keep: Path | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="tfgen-rehearse-"))
    if keep.exists() and (not keep.is_dir() or any(keep.iterdir())):
        raise cannot(f"--keep {keep}: not an empty directory; the rehearsal writes its scratch tree there")
    keep.mkdir(parents=True, exist_ok=True)
    return keep.resolve()


#: The rehearsal's state bucket of a project whose state is in HCP Terraform
#: (state.backend: remote): a bucket per account in the local S3.
REMOTE_STAND_IN_BUCKET = "tfgen-rehearsal-{account_id}-tfstate"


def remote_stand_in(project: Project) -> dict[str, Any]:
    """S3 settings that stand in for the remote backend in a rehearsal: no HCP Terraform
    runs on this machine, so each unit's state is an object of the local S3 (at its
    directory's key) instead of its workspace, whose names validate proves."""
    first = project.environments[0].regions[0].name if project.environments else "us-east-1"
    return {"bucket": REMOTE_STAND_IN_BUCKET, "region": first, "lock": "lockfile"}


def local_project(project: Project, endpoint: str) -> Project:
    """The project with its state store pointed at *endpoint* (every other backend
    setting as the user wrote it; the remote backend stood in for by S3)."""
    settings = remote_stand_in(project) if backend.is_remote(project) else project.state
    state = {k: v for k, v in settings.items() if k not in ("endpoint", "dynamodb_endpoint")}
    state["endpoint"] = endpoint
    if state.get("lock") == "dynamodb":
        state["dynamodb_endpoint"] = endpoint
    return replace(project, state=state)


def aws_only(project: Project) -> Project:
    """The project with the catalog's providers other than aws aliases left out: the
    stand-in modules require hashicorp/aws alone, and the stand-in rehearsal installs
    nothing else (``--provider real`` keeps them, with stand-ins of helm, kubernetes ...)."""
    if not any(p.name != "aws" for m in project.modules.values() for p in m.providers):
        return project
    modules = {
        key: replace(module, providers=tuple(p for p in module.providers if p.name == "aws"))
        for key, module in project.modules.items()
    }
    units = tuple(replace(u, module=modules[u.module.id]) for u in project.units)
    changed = replace(project, modules=modules, units=units)
    wiring, _errors = resolve_dependencies(changed)  # the same targets, now the new units
    object.__setattr__(changed, "wiring", wiring)
    return changed


def non_local_urls(text: str) -> list[str]:
    """URLs in *text* whose host is not loopback."""
    return [u for u in _URL.findall(text) if (urlsplit(u).hostname or "") not in LOOPBACK]


def _walk_endpoints(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, value) of every leaf whose path names an endpoint (endpoint, sts_endpoint,
    endpoints.s3, ...)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_endpoints(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _walk_endpoints(item, path)
    elif "endpoint" in path and value is not None:
        yield path, value


def remote_endpoints(config: Mapping[str, Any]) -> list[str]:
    """Endpoint settings of a backend config that leave the machine."""
    found = []
    for where, value in _walk_endpoints(dict(config)):
        host = urlsplit(str(value)).hostname if "://" in str(value) else str(value)
        if (host or "") not in LOOPBACK:
            found.append(f"{where} = {value}")
    return found


def _provider_endpoints(contents: str) -> list[str]:
    """Non-local URLs a generated file gives as endpoints: inside an ``endpoints`` block,
    or on a line that names an endpoint (``sts_endpoint = ...``). Other URLs (a tag
    value, say) are not endpoints."""
    found = []
    depth = 0  # > 0 inside an endpoints block
    for line in contents.splitlines():
        if re.match(r"\s*(#|//)", line):
            continue
        if depth == 0 and re.match(r"\s*endpoints\s*(=\s*)?\{", line):
            depth = 1
            found += non_local_urls(line.split("{", 1)[1])
            depth += line.split("{", 1)[1].count("{") - line.split("{", 1)[1].count("}")
            continue
        if depth > 0:
            found += non_local_urls(line)
            depth += line.count("{") - line.count("}")
        elif "endpoint" in line:
            found += non_local_urls(line)
    return found


class _Rehearsal:
    def __init__(
        self, project: Project, options: Options, scratch: Path, s3: LocalS3, report: Report,
        registry: real_provider.ModuleRegistry | None = None,
    ) -> None:
        self.registry = registry
        endpoint = s3.endpoint
        self.certificate = s3.certificate
        self.project = local_project(project if options.real is not None else aws_only(project), endpoint)
        if backend.is_remote(project):
            report.notes.append(
                f"state.backend is remote: the rehearsal keeps each unit's state in the local S3 "
                f"(s3://{REMOTE_STAND_IN_BUCKET}/<unit directory>/terraform.tfstate), not in HCP Terraform; "
                f"the workspace names are validate's to prove ({backend.hostname(project)}, "
                f"organization {project.state.get('organization')})"
            )
        self.options = options
        self.scratch = scratch
        self.tree = scratch / "tree"
        self.standins_dir = scratch / "standins"
        self.endpoint = endpoint
        self.report = report
        self.log = scratch / "resources.log"
        self.graph = select(self.project, options.scope)
        self.units: list[Unit] = list(self.graph.units)
        self.in_queue: list[Unit] = self._queue()
        self.rendered: dict[str, dict[str, Any]] = {}
        self.state = StateStore(endpoint, self.certificate, self._home_region())
        self.server_log = s3.log

    # --- the steps ---------------------------------------------------------------

    def run(self) -> None:
        if self.options.real is not None:
            self._run_real(self.options.real)
            return
        self._step("render", self._render)
        self._step("check endpoints", self._check_endpoints)
        self._step("check state objects", self._check_state_objects)
        self._step("stand-ins", self._standins)
        self._step("apply", lambda: self._terragrunt("apply", ["apply", "-auto-approve", "-input=false"]))
        self._step("provider", self._check_provider)
        self._step("state", self._check_state)
        self._step("flows", self._check_flows)
        if self.options.then is not None:
            self._step("then: render", self._render_then)
            self._step("then: stand-ins", self._standins)
            logged = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
            apply = ["apply", "-auto-approve", "-input=false"]
            self._step("then: apply", lambda: self._terragrunt("then: apply", apply, logged, updates=True))
            self._step("then: state", self._check_state)
        before = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
        self._step(
            "apply again", lambda: self._terragrunt("apply again", ["apply", "-auto-approve", "-input=false"], before)
        )
        offboarded = self._offboarded()
        # the units of a tenant destroyed alone are out of the last destroy: their state is
        # empty, so Terragrunt could not read the outputs their own dependencies no longer have
        gone: list[str] = []
        if offboarded:
            self._step("tenant isolation", lambda: self._destroy_tenant(*offboarded))
            gone = [a for u in offboarded[1] for a in ("--queue-exclude-dir", u.directory)]
        self._step(
            "destroy", lambda: self._terragrunt("destroy", ["destroy", "-auto-approve", "-input=false"], queue=gone)
        )
        self._step("protection", self._check_protection)
        self._step("order", self._check_order)

    def _run_real(self, real: real_provider.RealProvider) -> None:
        """The rehearsal with the real AWS provider and the units' own modules: plan
        every unit, then (unless plan_only) apply and destroy against the local server."""
        self._step("render", self._render)
        self._step("check endpoints", self._check_endpoints)
        self._step("real provider", lambda: self._real_setup(real))
        # Each unit plans on its own (dependencies' outputs are their mocks before apply),
        # so one unit's failure does not hide what the provider says about its dependents.
        self._step("plan", lambda: self._terragrunt("plan", ["plan", "-input=false"], queue=["--queue-ignore-errors"]))
        if real.plan_only:
            return
        apply = ["apply", "-auto-approve", "-input=false"]
        try:
            self._step("apply", lambda: self._terragrunt("apply", apply))
        finally:  # what was applied is destroyed even when some unit failed to apply
            self._step("destroy", lambda: self._terragrunt("destroy", ["destroy", "-auto-approve", "-input=false"]))

    def _real_setup(self, real: real_provider.RealProvider) -> str:
        """Accounts on the local server, each unit's provider pointed at it, and the
        module sources at the local registry."""
        accounts = {u.environment.account_id for u in self.project.units if u.environment.account_id}
        keys = real_provider.seed_accounts(self.endpoint, self.certificate, self._home_region(), accounts)
        for unit in self.project.units:
            access, secret = keys.get(unit.environment.account_id, ("rehearsal", "rehearsal"))
            aliases = [p.alias for p in unit.module.providers if p.name == "aws" and p.alias]
            override = real_provider.provider_override(self.endpoint, access, secret, aliases)
            unit_file = self.tree / unit.directory / "terragrunt.hcl"
            with unit_file.open("a", encoding="utf-8") as out:
                out.write(real_provider.generate_block(override))
        detail = f"{len(self.project.units)} units use the real provider against {self.endpoint}"
        if self.registry is not None:
            changed = real_provider.rewrite_registry_sources(self.tree, self.registry.host)
            self.report.notes.append(
                f"modules: registry sources served from {real.modules} at https://{self.registry.host} "
                f"({changed} files point there)"
            )
        self.report.notes.append(
            "accounts on the local server: " + ", ".join(f"{a} (key {k[0]})" for a, k in sorted(keys.items()))
        )
        return detail

    def _step(self, name: str, action: Any) -> None:
        started = time.perf_counter()
        failures = len(self.report.failures)
        detail = ""
        try:
            detail = action() or ""
        except subprocess.TimeoutExpired as exc:
            self.report.failures.append(Failure(name, "", f"timed out after {exc.timeout:.0f} s"))
        except (OSError, ValueError) as exc:
            self.report.failures.append(Failure(name, "", str(exc)))
        except Exception as exc:  # a boto3 or tfgen error: reported, never a traceback
            self.report.failures.append(Failure(name, "", f"unexpected error: {type(exc).__name__}: {exc}"))
        ok = len(self.report.failures) == failures
        self.report.steps.append(Step(name, ok, time.perf_counter() - started, detail))
        if not ok:
            raise _Failed(name)

    # --- render ------------------------------------------------------------------

    def _render_then(self) -> str:
        """Switch to the second version of the project, rendered into a fresh tree (as
        `tfgen render` would leave output/), with the same state store."""
        assert self.options.then is not None
        then = api.load(self.options.then).project
        check_scope(then, self.options.scope)
        self.project = local_project(then if self.options.real is not None else aws_only(then), self.endpoint)
        self.graph = select(self.project, self.options.scope)
        self.units = list(self.graph.units)
        self.in_queue = self._queue()
        self.tree = self.scratch / "tree-then"
        self.standins_dir = self.scratch / "standins-then"
        self.rendered = {}
        self.report.units = []
        self.__dict__.pop("_waves_cache", None)
        moved = ", ".join(f"{m.address} (state at {m.state_directory})" for m in moves(then)) or "none"
        self.report.notes.append(f"then: {self.options.then}; units that keep their state after a move: {moved}")
        detail = self._render(cli_config=False)
        self._check_endpoints()
        self._check_state_objects()
        return detail

    def _render(self, cli_config: bool = True) -> str:
        files = plan_files(self.project, Scope(), Path(self.project.document.file).name)
        data = Renderer(self.project.root / "templates").render_all(files)
        for path, content in data.items():
            target = self.tree / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        if cli_config and self.options.real is not None:
            self._write_real_cli_config(self.options.real)
        elif cli_config:
            self._write_cli_config()
        result = self._run(
            [
                "render",
                "--all",
                "--json",
                "-w",
                "--experiment",
                "optional-dependency-outputs",
                "--no-dependency-outputs",
            ],
            "render",
        )
        if result.returncode != 0:
            self._terragrunt_failure("render", result)
            return ""
        for unit in self.project.units:
            rendered = self.tree / unit.directory / "terragrunt.rendered.json"
            try:
                self.rendered[unit.address] = json.loads(rendered.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                self.report.failures.append(Failure("render", unit.address, f"no rendered configuration: {exc}"))
        for leftover in self.tree.rglob("terragrunt.rendered.json"):
            leftover.unlink()
        return f"{len(data)} files"

    # --- safety --------------------------------------------------------------------

    def _check_endpoints(self) -> str:
        for unit in self.project.units:
            config = self.rendered.get(unit.address, {})
            backend = (config.get("remote_state") or {}).get("config") or {}
            for problem in remote_endpoints(backend):
                self.report.failures.append(Failure("check endpoints", unit.address, f"remote state {problem}"))
            generate = config.get("generate") or {}
            for block in generate.values() if isinstance(generate, dict) else ():
                contents = block.get("contents", "") if isinstance(block, dict) else ""
                for url in _provider_endpoints(str(contents)):
                    self.report.failures.append(
                        Failure("check endpoints", unit.address, f"generated file reaches {url}: not local")
                    )
        if self.report.failures:
            self.report.notes.append("refused to run: the tree would reach a non-local endpoint")
        return f"every endpoint is {urlsplit(self.endpoint).hostname}"

    def _check_state_objects(self) -> str:
        """Two units whose evaluated remote_state is one state object would overwrite each
        other's state; OpenTofu would only say that the lock is held. Checked on what
        Terragrunt evaluated (a custom root.hcl.j2 decides the key; validate cannot see it),
        before anything is applied."""
        owners: dict[str, str] = {}
        for unit in self.project.units:
            where = state_object(self.rendered.get(unit.address, {}).get("remote_state"))
            if where is None:
                continue
            other = owners.setdefault(where, unit.address)
            if other != unit.address:
                self.report.failures.append(
                    Failure(
                        "check state objects",
                        unit.address,
                        f"{unit.address} and {other} share one state object, {where}: each unit needs its own "
                        "key (see remote_state in root.hcl, or its template templates/root.hcl.j2)",
                    )
                )
        if self.report.failures:
            self.report.notes.append("refused to run: two units would share one state object")
        return f"{len(owners)} state objects, one per unit"

    # --- stand-ins -----------------------------------------------------------------

    def _provider_requirement(self) -> bool:
        """Whether the stand-ins declare required_providers, as registry modules do.
        They do when the tree pins the provider in an override file (*_override.tf):
        OpenTofu then replaces the module's requirement. A plain generated file that
        declares required_providers clashes with every module that declares its own
        (a module has one required_providers block): noted, and stand-ins do not."""
        pinned_plain = False
        for config in self.rendered.values():
            generate = config.get("generate") or {}
            for block in generate.values() if isinstance(generate, dict) else ():
                if isinstance(block, dict) and "required_providers" in str(block.get("contents", "")):
                    if str(block.get("path", "")).endswith("_override.tf"):
                        return True
                    pinned_plain = True
        if pinned_plain:
            self.report.notes.append(
                "the generated provider file declares required_providers outside an override file: a module "
                "that declares its own (registry modules do) fails with 'Duplicate required providers "
                "configuration'; stand-ins declare none, so this rehearsal does not show it"
            )
        return False

    def _standins(self) -> str:
        requires_aws = self._provider_requirement()
        reads: dict[str, dict[str, Any]] = {u.address: {} for u in self.project.units}
        for unit in self.project.units:
            for wire in self._reading(unit):
                outputs = reads.setdefault(wire.target.address, {})
                for name, mock in wire.dependency.mock_outputs.items():
                    outputs.setdefault(name, mock)
        for unit in self.project.units:
            inputs = self.rendered.get(unit.address, {}).get("inputs") or {}
            for name in sorted(inputs):
                problem = standins.name_problem(name)
                if problem:
                    self.report.failures.append(Failure("stand-ins", unit.address, problem))
            inputs = {k: v for k, v in inputs.items() if not standins.name_problem(k)}
            label = identity(unit)
            outputs = {name: standins.tagged(mock, label) for name, mock in reads[unit.address].items()}
            module = self.standins_dir / unit.directory
            standins.write(module, label, inputs, outputs, requires_aws=requires_aws)
            standins.redirect(self.tree / unit.directory / "terragrunt.hcl", module)
        declared = ", each requiring hashicorp/aws" if requires_aws else ""
        return f"{len(self.project.units)} stand-in modules{declared}"

    # --- Terragrunt ------------------------------------------------------------------

    def _write_cli_config(self) -> None:
        """An OpenTofu CLI configuration that installs hashicorp/aws from a filesystem
        mirror holding only the stand-in provider, at a version the tree's constraint
        accepts, and nothing from any registry."""
        version = satisfying(self.project.terraform.get("aws_provider_version"))
        (self.scratch / "tofurc").write_text("", encoding="utf-8")
        platform = self._tofu_platform()
        mirror = self.scratch / "providers"
        package = mirror / PROVIDER_ADDRESS / version / platform
        package.mkdir(parents=True)
        shutil.copy2(self.options.provider, package / f"terraform-provider-aws_v{version}")
        (self.scratch / "tofurc").write_text(
            "# tfgen rehearse: hashicorp/aws is tfgen's stand-in; nothing comes from a registry.\n"
            "provider_installation {\n"
            "  filesystem_mirror {\n"
            f"    path    = {json.dumps(str(mirror))}\n"
            f"    include = [{json.dumps(PROVIDER_ADDRESS)}]\n"
            "  }\n"
            "}\n",
            encoding="utf-8",
        )
        self.report.notes.append(f"provider: tfgen's stand-in hashicorp/aws as version {version} ({platform})")
        (self.scratch / "aws").mkdir(exist_ok=True)
        for name in ("config", "credentials"):
            (self.scratch / "aws" / name).write_text("", encoding="utf-8")

    def _tofu_platform(self) -> str:
        platform: str = json.loads(
            subprocess.run(
                [self.options.tofu, "version", "-json"],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
                env=self.env(),
            ).stdout
        )["platform"]
        return platform

    def _write_real_cli_config(self, real: real_provider.RealProvider) -> None:
        """An OpenTofu CLI configuration that installs the real hashicorp/aws from the
        mirror (both registry hosts linked to its packages) or its registry, and the
        stand-ins of the providers no mirror holds."""
        (self.scratch / "tofurc").write_text("", encoding="utf-8")
        mirror = self.scratch / "providers"
        versions = dict(real_provider.STANDIN_VERSIONS)
        self.report.notes += real_provider.build_mirror(
            mirror, real.mirror, real.standins, versions, self._tofu_platform()
        )
        if real.mirror is None:
            self.report.notes.append("provider: the real hashicorp/aws from its registry (network)")
        text = real_provider.cli_config(mirror, from_registry=real.mirror is None)
        (self.scratch / "tofurc").write_text(text, encoding="utf-8")
        (self.scratch / "aws").mkdir(exist_ok=True)
        for name in ("config", "credentials"):
            (self.scratch / "aws" / name).write_text("", encoding="utf-8")

    def env(self) -> dict[str, str]:
        """A clean environment: the user's AWS, Terraform and Terragrunt settings are
        dropped; dummy credentials and every AWS endpoint point at the local server."""
        dropped = ("AWS_", "TF_", "TG_", "TERRAGRUNT_", "TERRAFORM_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        tools = os.path.dirname(self.options.tofu)
        env.update(
            {
                "PATH": os.pathsep.join([tools, env.get("PATH", "")]),
                "AWS_ACCESS_KEY_ID": "rehearsal",
                "AWS_SECRET_ACCESS_KEY": "rehearsal",
                "AWS_REGION": self._home_region(),
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_EC2_METADATA_DISABLED": "true",
                # Go trusts only the local S3's certificate: nothing else over TLS.
                "SSL_CERT_FILE": str(self.certificate),
                # The AWS provider's HTTP client reads its CA bundle from here, not SSL_CERT_FILE.
                "AWS_CA_BUNDLE": str(self.certificate),
                "SSL_CERT_DIR": str(self.scratch / "aws"),
                "AWS_CONFIG_FILE": str(self.scratch / "aws" / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.scratch / "aws" / "credentials"),
                "TF_CLI_CONFIG_FILE": str(self.scratch / "tofurc"),
                "TF_IN_AUTOMATION": "1",
                "CHECKPOINT_DISABLE": "1",
                "TG_TF_PATH": self.options.tofu,
                # Caches stay in the scratch directory: the stand-in provider must never
                # reach the user's provider cache (~/.cache/terragrunt) as hashicorp/aws.
                "XDG_CACHE_HOME": str(self.scratch / "cache"),
                "TG_NON_INTERACTIVE": "true",
                "TG_NO_COLOR": "true",
                standins.LOG_ENV: str(self.log),
                "TFGEN_REHEARSAL_PROVIDER_LOG": str(self.scratch / "provider.log"),
            }
        )
        return env

    def _home_region(self) -> str:
        region = str(self.project.state.get("region", "us-east-1"))
        return "us-east-1" if region == "{region}" else region

    def _queue(self) -> list[Unit]:
        """The units Terragrunt runs: those in scope and everything they depend on."""
        keys = {u.key for u in self.units}
        pending = list(self.units)
        while pending:
            unit = pending.pop()
            for wire in self.project.wiring.get(unit.key, ()):
                if wire.target.key not in keys:
                    keys.add(wire.target.key)
                    pending.append(wire.target)
        return [u for u in self.project.units if u.key in keys]

    def _run(self, args: Sequence[str], name: str) -> subprocess.CompletedProcess[str]:
        command = [self.options.terragrunt, *args]
        slug = re.sub(r"[^a-z0-9]+", "-", name)
        try:
            result = subprocess.run(
                command,
                cwd=self.tree,
                env=self.env(),
                capture_output=True,
                text=True,
                timeout=self.options.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:  # keep what ran: each unit's messages so far
            partial = [part.decode() if isinstance(part, bytes) else part or "" for part in (exc.stdout, exc.stderr)]
            (self.scratch / f"{slug}.log").write_text("".join(partial), encoding="utf-8")
            raise
        (self.scratch / f"{slug}.log").write_text(result.stdout + result.stderr, encoding="utf-8")
        return result

    def _queue_args(self, only: Sequence[Unit] | None = None) -> list[str]:
        if only is not None:
            return [*(a for u in only for a in ("--queue-include-dir", u.directory)), "--queue-strict-include"]
        if not self.options.scope.environments and not self.options.scope.regions and not self.options.scope.tenants:
            return []
        args = []
        for unit in self.in_queue:
            args += ["--queue-include-dir", unit.directory]
        return [*args, "--queue-strict-include"]

    def _terragrunt(
        self, name: str, tofu_args: list[str], log_before: str | None = None, *, updates: bool = False,
        queue: Sequence[str] = (), only: Sequence[Unit] | None = None,
    ) -> str:
        """Run `terragrunt run --all`. With *log_before*, no resource may be created or
        destroyed (the stand-ins' provisioners log both), and unless *updates* no unit
        may plan any change."""
        report_file = self.scratch / f"{re.sub(r'[^a-z0-9]+', '-', name)}.report.json"
        args = [
            "run",
            "--all",
            "--non-interactive",
            "--backend-bootstrap",
            "--no-auto-provider-cache-dir",
            "--parallelism",
            str(self.options.parallelism),
            "--report-file",
            str(report_file),
            "--report-format",
            "json",
            *self._queue_args(only),
            *queue,
            "--",
            *tofu_args,
        ]
        result = self._run(args, name)
        runs = self._read_report(report_file)
        failed = [r for r in runs if r.get("Result") not in ("succeeded", None)]
        destroy = tofu_args[0] == "destroy"
        protected = {u.directory for u in self.in_queue if u.key in self._expected_kept()}
        skipped = {queue[i + 1] for i, arg in enumerate(queue[:-1]) if arg == "--queue-exclude-dir"}
        for run in failed:
            directory = str(run.get("Name", ""))
            if destroy and run.get("Result") == "excluded" and directory in protected:
                continue  # prevent_destroy at work; checked in the protection step
            if run.get("Result") == "excluded" and (only is not None or directory in skipped):
                continue  # outside the units this run is limited to
            address = self._address(directory)
            self.report.failures.append(Failure(name, address, self._message(result, directory, run)))
        if result.returncode != 0 and not failed:
            self.report.failures.append(Failure(name, "", _tail(result.stderr or result.stdout)))
        if log_before is not None:  # apply again: nothing may change
            after = self.log.read_text(encoding="utf-8") if self.log.exists() else ""
            if after != log_before:
                lines = after[len(log_before) :].splitlines()
                what = "replaced or created" if updates else "created or destroyed"
                hint = " (a unit renamed or moved without previous: starts from an empty state)" if updates else ""
                self.report.failures.append(
                    Failure(name, "", f"{len(lines)} terraform_data {what}: {'; '.join(lines)}{hint}")
                )
            changed = self._changed_units(result.stdout + result.stderr)
            if updates and changed:
                self.report.notes.append(f"{name}: updated in place (inputs changed): {', '.join(changed)}")
            for address in [] if updates else changed:
                self.report.failures.append(Failure(name, address, "the second apply planned changes"))
        counts: dict[str, int] = {}
        for run in runs:
            counts[str(run.get("Result"))] = counts.get(str(run.get("Result")), 0) + 1
        listed = ", ".join(f"{n} {result_name}" for result_name, n in sorted(counts.items()))
        return f"{listed or 'no units'} (exit {result.returncode})"

    def _changed_units(self, text: str) -> list[str]:
        """Units whose second apply reported anything but 'no changes'."""
        changed = []
        for unit in self.in_queue:
            lines = [line for line in text.splitlines() if f"[{unit.directory}]" in line]
            if lines and not any(_NO_CHANGES.search(line) for line in lines):
                changed.append(unit.address)
        return changed

    def _read_report(self, path: Path) -> list[dict[str, Any]]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []

    def _address(self, directory: str) -> str:
        rel = os.path.relpath(directory, self.tree) if os.path.isabs(directory) else directory
        for unit in self.project.units:
            if unit.directory == rel:
                return unit.address
        return rel

    def _message(self, result: subprocess.CompletedProcess[str], directory: str, run: Mapping[str, Any]) -> str:
        if run.get("Result") == "early exit":
            return f"did not run: a unit it depends on failed ({run.get('Cause', '?')})"
        rel = os.path.relpath(directory, self.tree) if os.path.isabs(directory) else directory
        prefix = f"[{rel}]"
        lines = []
        for line in (result.stdout + result.stderr).splitlines():
            head, found, rest = line.partition(prefix)
            if found and ("ERROR" in head or "WARN" in head) and rest.strip():
                lines.append(rest.strip())
        reason = f"{run.get('Result')}: " if run.get("Result") else ""
        errors = tofu_errors(result.stdout + result.stderr, prefix)
        if errors:  # OpenTofu's and the provider's own diagnostics, not Terragrunt's tips
            return reason + " | ".join(errors)
        return reason + (" | ".join(lines[-8:]) if lines else _tail(result.stderr))

    def _terragrunt_failure(self, step: str, result: subprocess.CompletedProcess[str]) -> None:
        self.report.failures.append(Failure(step, "", _tail(result.stderr or result.stdout)))

    # --- checks ----------------------------------------------------------------------

    @staticmethod
    def _account(unit: Unit) -> str:
        """The account the unit deploys into: its tenant's, else its environment's."""
        return unit.tenant.account(unit.environment) if unit.tenant is not None else unit.environment.account_id

    def _role(self, unit: Unit) -> str | None:
        """The role the unit's backend and provider assume: its tenant's, else its environment's."""
        if unit.tenant is not None:
            return unit.tenant.role(unit.environment, self.project.name)
        return unit.environment.role_arn

    def _offboarded(self) -> tuple[str, list[Unit]] | None:
        """With two tenants or more in the queue: the first tenant and its units that
        Terragrunt may destroy (none protected), to destroy alone before the rest."""
        tenants = list(dict.fromkeys(u.tenant.name for u in self.in_queue if u.tenant is not None))
        if len(tenants) < 2:
            return None
        kept = self._expected_kept()
        units = [u for u in self.in_queue if u.tenant_name == tenants[0] and u.key not in kept]
        return (tenants[0], units) if units else None

    def _destroy_tenant(self, tenant: str, units: list[Unit]) -> str:
        """Destroy one tenant's units alone: their state keeps no resource, and every
        other unit (shared, and every other tenant's) keeps its state and resources."""
        outcome = self._terragrunt(
            f"destroy tenant {tenant}", ["destroy", "-auto-approve", "-input=false"], only=units
        )
        gone = {u.key for u in units}
        intact = 0
        for unit in self.in_queue:
            state = self.state.read_unit(self._result(unit).state_key)
            alive = bool(state and self.state.has_resource(state, standins.RESOURCE))
            if unit.key in gone and alive:
                self.report.failures.append(
                    Failure("tenant isolation", unit.address, f"tenant {tenant}'s destroy left it")
                )
            elif unit.key not in gone and not alive:
                whose = f"tenant {unit.tenant_name}'s" if unit.tenant is not None else "a shared"
                message = f"{whose} unit lost its resources when tenant {tenant} was destroyed"
                self.report.failures.append(Failure("tenant isolation", unit.address, message))
            elif unit.key not in gone:
                intact += 1
        return f"tenant {tenant}: {len(units)} units destroyed ({outcome}); the other {intact} units intact"

    def _check_provider(self) -> str:
        """Every unit configured the AWS provider for its own region and account."""
        seen: dict[str, list[dict[str, Any]]] = {}
        log = self.scratch / "provider.log"
        for line in log.read_text(encoding="utf-8").splitlines() if log.exists() else []:
            entry = json.loads(line)
            rel = os.path.relpath(str(entry.get("dir", "")), self.tree)
            unit = next((u for u in self.in_queue if rel == u.directory or rel.startswith(u.directory + "/")), None)
            if unit is not None:
                seen.setdefault(unit.address, []).append(entry.get("config") or {})
        for unit in self.in_queue:
            configs = seen.get(unit.address)
            if not configs:
                self.report.failures.append(Failure("provider", unit.address, "the AWS provider was never configured"))
                continue
            config = configs[0]
            tags = ((config.get("default_tags") or [{}])[0] or {}).get("tags") or {}
            expected: dict[str, tuple[Any, Any]] = {
                "region": (config.get("region"), unit.region.name),
                "allowed_account_ids": (config.get("allowed_account_ids"), [self._account(unit)]),
                "default_tags Environment": (tags.get("Environment"), unit.environment.name),
            }
            if unit.tenant is not None and unit.tenant.tags:
                for name, value in unit.tenant.tags.items():
                    expected[f"default_tags {name}"] = (tags.get(name), value)
            if self._role(unit):
                role = ((config.get("assume_role") or [{}])[0] or {}).get("role_arn")
                expected["assume_role role_arn"] = (role, self._role(unit))
            for name, (got, want) in expected.items():
                if got != want:
                    self.report.failures.append(
                        Failure("provider", unit.address, f"provider {name} is {got!r}, expected {want!r}")
                    )
        return f"{len(seen)} units configured the AWS provider for their own region and account"

    def _check_state(self) -> str:
        seen: dict[tuple[str, str], str] = {}
        placed: dict[str, tuple[str, str]] = {}  # bucket -> (unit, region it must be in)
        for unit in self.in_queue:
            backend = self._backend(unit)
            bucket, key = str(backend.get("bucket", "")), str(backend.get("key", ""))
            placed.setdefault(bucket, (unit.address, str(backend.get("region", ""))))
            where = (bucket, key)
            if where in seen:
                self.report.failures.append(
                    Failure("state", unit.address, f"shares its state object s3://{bucket}/{key} with {seen[where]}")
                )
            seen[where] = unit.address
            state = self.state.read(bucket, key)
            result = self._result(unit)
            result.state_key = f"s3://{bucket}/{key}"
            if state is None:
                self.report.failures.append(Failure("state", unit.address, f"no state object at s3://{bucket}/{key}"))
                continue
            result.state_found = True
            if not self.state.has_resource(state, standins.RESOURCE):
                self.report.failures.append(Failure("state", unit.address, f"{standins.RESOURCE} is not in its state"))
        for bucket, (address, region) in sorted(placed.items()):
            location = self.state.location(bucket)
            if location != region:
                self.report.failures.append(
                    Failure("state", address, f"bucket {bucket} is in {location}, not in {region} as configured")
                )
        self.report.notes.append(
            "state placement: " + ", ".join(f"{b} in {r}" for b, (_a, r) in sorted(placed.items()))
        )
        roles = self._roles()
        # Server access logs of the state buckets (state.access_logging_bucket) are not state.
        log_buckets = {
            str(config["accesslogging_bucket_name"])
            for config in map(self._backend, self.in_queue)
            if config.get("accesslogging_bucket_name")
        }
        found = self.state.objects(roles)
        self.report.state_objects = [o for o in found if o.split("/", 3)[2] not in log_buckets]
        if log_buckets:
            existing = {b for role in roles for b in self.state.buckets(role)}
            for bucket in sorted(log_buckets - existing):
                self.report.failures.append(Failure("state", "", f"access-logging bucket {bucket} was not created"))
            logs = len(found) - len(self.report.state_objects)
            self.report.notes.append(f"access logs: {logs} objects in {', '.join(sorted(log_buckets))}")
        owned = {f"s3://{bucket}/{key}" for bucket, key in seen}
        for orphan in sorted(set(self.report.state_objects) - owned):
            if orphan.endswith(".tfstate"):
                self.report.failures.append(
                    Failure("state", "", f"{orphan} belongs to no unit: its infrastructure would be orphaned")
                )
        self._check_accounts()
        locks = [o for o in self.report.state_objects if o.endswith(".tflock")]
        for lock in locks:
            self.report.failures.append(Failure("state", "", f"a lock was left behind: {lock}"))
        places = sorted(
            {(self._role(u), str(self._backend(u).get("region", ""))) for u in self.in_queue},
            key=str,
        )
        note, problem = self.state.lock_check(self.project.state, self.server_log, places)
        self.report.notes.append(note)
        if problem:
            self.report.failures.append(Failure("state", "", problem))
        return f"{len(seen)} state objects, one per unit"

    def _backend(self, unit: Unit) -> dict[str, Any]:
        """The S3 backend settings Terragrunt evaluated for *unit* (empty when it has none)."""
        config: dict[str, Any] = (self.rendered.get(unit.address, {}).get("remote_state") or {}).get("config") or {}
        return config

    def _roles(self) -> list[str | None]:
        """The credentials the tree runs with: each environment's role, else the default."""
        roles = sorted({role for u in self.in_queue if (role := self._role(u))})
        return list(roles) or [None]

    def _check_accounts(self) -> None:
        """With a role per environment, each state bucket was created in its
        environment's account (by Terragrunt's bootstrap, under the assumed role)."""
        if self._roles() == [None]:
            return
        default = set(self.state.buckets())
        # one place per environment and per tenant with its own account there
        places: dict[tuple[str, str | None], list[Unit]] = {}
        for unit in self.in_queue:
            own = unit.tenant_name if unit.tenant is not None and unit.tenant.account_id is not None else None
            places.setdefault((unit.environment.name, own), []).append(unit)
        for (env_name, tenant), units in sorted(places.items(), key=str):
            who = f"{env_name} (tenant {tenant})" if tenant else env_name
            role, wanted = self._role(units[0]), self._account(units[0])
            mine = {str(self._backend(u).get("bucket")) for u in units}
            account = self.state.account(role)
            if account != wanted:
                self.report.failures.append(Failure("state", who, f"its role {role} acts in account {account}"))
            missing = mine - set(self.state.buckets(role))
            for bucket in sorted(missing):
                self.report.failures.append(Failure("state", who, f"bucket {bucket} is not in account {account}"))
            for bucket in sorted(mine & default):
                self.report.failures.append(
                    Failure("state", who, f"bucket {bucket} was created with the default credentials")
                )
            if not missing:
                self.report.notes.append(f"credentials: {who} assumed {role}; its state is in {account}")

    def _reading(self, unit: Unit) -> list[Wiring]:
        """The unit's dependencies that Terragrunt reads outputs from: those rendered as
        `dependency` blocks (an order-only one is a `dependencies` path)."""
        blocks = self.rendered.get(unit.address, {}).get("dependency") or {}
        return [w for w in self.project.wiring.get(unit.key, ()) if w.dependency.name in blocks]

    def _check_flows(self) -> str:
        for unit in self.in_queue:
            target_state = self.state.read_unit(self._result(unit).state_key)
            inputs = self.state.resource_input(target_state, standins.RESOURCE) if target_state else None
            for wire in self._reading(unit):
                source = self.state.read_unit(self._result(wire.target).state_key)
                outputs = self.state.outputs(source) if source else {}
                # Outputs the catalog wires into inputs the unit does not override (an
                # override replaces the wired expression, so that output need not arrive).
                wired = {
                    o
                    for input_name, v in wire.dependency.outputs.items()
                    if input_name not in unit.overrides
                    for o in (v if isinstance(v, tuple) else (v,))
                }
                for name in sorted(wire.dependency.mock_outputs):
                    if name not in outputs:
                        self.report.failures.append(
                            Failure("flows", wire.target.address, f"output {name} is not in its state")
                        )
                        continue
                    part, path = _find_output(inputs, outputs[name]) if inputs is not None else ("", None)
                    flow = Flow(wire.target.address, name + part, unit.address, path or "", path is not None)
                    if path is None and name not in wired:
                        self.report.notes.append(
                            f"{unit.address}: dependency {wire.dependency.name} mocks output {name}, no input reads it"
                        )
                        continue
                    self.report.flows.append(flow)
                    if path is None:
                        message = f"{wire.target.address} output {name} did not reach its inputs"
                        self.report.failures.append(Failure("flows", unit.address, message))
        return f"{sum(f.ok for f in self.report.flows)} outputs flowed from state into inputs"

    def _check_protection(self) -> str:
        expected = self._expected_kept()
        for unit in self.in_queue:
            result = self._result(unit)
            state = self.state.read_unit(result.state_key)
            result.kept = bool(state and self.state.has_resource(state, standins.RESOURCE))
            if result.kept and unit.key not in expected:
                self.report.failures.append(Failure("protection", unit.address, "not destroyed"))
            if not result.kept and unit.key in expected:
                why = "prevent_destroy" if unit.deletion_protection else "a protected unit needs it"
                self.report.failures.append(Failure("protection", unit.address, f"destroyed despite {why}"))
        kept = sum(1 for u in self.in_queue if self._result(u).kept)
        return f"{kept} units kept by prevent_destroy, {len(self.in_queue) - kept} destroyed"

    def _expected_kept(self) -> set[tuple[str, str, str]]:
        """Protected units and, transitively, what they depend on (Terragrunt does not
        destroy a dependency of a unit that stays)."""
        kept = {u.key for u in self.in_queue if u.deletion_protection}
        pending = list(kept)
        while pending:
            key = pending.pop()
            for wire in self.project.wiring.get(key, ()):
                if wire.target.key not in kept:
                    kept.add(wire.target.key)
                    pending.append(wire.target.key)
        return kept

    def _check_order(self) -> str:
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        applied: dict[str, int] = {}
        destroyed: dict[str, int] = {}
        for line in lines:
            verb, _, address = line.partition(" ")
            target = applied if verb == "apply" else destroyed
            target.setdefault(address, len(target) + 1)
        for unit in self.in_queue:
            result = self._result(unit)
            result.applied_at = applied.get(identity(unit))
            result.destroyed_at = destroyed.get(identity(unit))
            for wire in self.project.wiring.get(unit.key, ()):
                mine, theirs = applied.get(identity(unit)), applied.get(identity(wire.target))
                if mine is not None and theirs is not None and mine < theirs:
                    self.report.order_problems.append(f"{unit.address} was applied before {wire.target.address}")
                mine, theirs = destroyed.get(identity(unit)), destroyed.get(identity(wire.target))
                if theirs is not None and (mine is None or theirs < mine):
                    self.report.order_problems.append(f"{wire.target.address} was destroyed before {unit.address}")
        for problem in self.report.order_problems:
            self.report.failures.append(Failure("order", "", problem))
        self.report.units.sort(key=lambda u: (u.applied_at is None, u.applied_at or 0, u.address))
        return "every unit ran after its dependencies and was destroyed before them"

    def _result(self, unit: Unit) -> UnitResult:
        for result in self.report.units:
            if result.address == unit.address:
                return result
        waves = {u.key: i for i, wave in enumerate(self._waves(), 1) for u in wave}
        result = UnitResult(unit.address, unit.directory, waves.get(unit.key, 0), unit.deletion_protection)
        self.report.units.append(result)
        return result

    def _waves(self) -> list[list[Unit]]:
        cached: list[list[Unit]] | None = self.__dict__.get("_waves_cache")
        if cached is None:
            cached = select(self.project, Scope(tuple(sorted({u.environment.name for u in self.in_queue})))).waves()
            self.__dict__["_waves_cache"] = cached
        return cached


def identity(unit: Unit) -> str:
    """What a unit's resources are known by: env/region/NAME of the unit as its state
    was created, so a renamed or moved unit (previous:) is the same infrastructure
    (env/region/TENANT/NAME for a tenant's instance)."""
    tenant = f"{unit.tenant.name}/" if unit.tenant is not None else ""
    return f"{unit.environment.name}/{unit.region.name}/{tenant}{unit.state_directory.rsplit('/', 1)[-1]}"


def _find_output(inputs: Any, output: Any) -> tuple[str, str | None]:
    """Where an output's value arrived in the inputs: the whole value, or else the first
    string inside it that did (an input may read one attribute of a map output, as
    `target_groups["app"].arn`). Returns the part of the output (`["app"].arn`, or "")
    and the input path (None when nothing of it arrived)."""
    whole = _find(inputs, output)
    if whole is not None or not isinstance(output, dict | list):
        return "", whole
    for part, leaf in _leaves(output):
        found = _find(inputs, leaf)
        if found is not None:
            return part, found
    return "", None


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """The non-empty strings inside a structured value, with their paths (`["app"].arn`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f'{path}["{key}"]' if path == "" else f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif isinstance(value, str) and value:
        yield path, value


def _find(haystack: Any, needle: Any, path: str = "") -> str | None:
    """Where *needle* occurs in *haystack* (equal, or inside a string), as an input path."""
    if haystack == needle:
        return path
    if isinstance(needle, str) and isinstance(haystack, str) and needle in haystack:
        return path
    if isinstance(haystack, dict):
        for key, item in haystack.items():
            found = _find(item, needle, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    if isinstance(haystack, list):
        for index, item in enumerate(haystack):
            found = _find(item, needle, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def state_object(remote_state: Any) -> str | None:
    """Where an evaluated ``remote_state`` keeps the state, as a URL-like name (None: no
    remote state). S3 and GCS by bucket and key (prefix), local by absolute path; another
    backend by its whole configuration."""
    if not isinstance(remote_state, dict):
        return None
    backend = str(remote_state.get("backend") or "")
    config = remote_state.get("config") or {}
    if not backend or not isinstance(config, dict):
        return None
    if backend == "s3":
        return f"s3://{config.get('bucket', '')}/{config.get('key', '')}"
    if backend == "gcs":
        return f"gs://{config.get('bucket', '')}/{config.get('prefix', '')}"
    if backend == "local":  # a relative path is in each unit's own directory
        path = str(config.get("path") or "")
        return f"local:{path}" if os.path.isabs(path) else None
    return f"{backend}:{json.dumps(config, sort_keys=True)}"


_BOX = re.compile(r"^[\s\u2502\u2577\u2575\u251c\u2500]*")


def tofu_errors(text: str, prefix: str) -> list[str]:
    """The error diagnostics OpenTofu printed on standard error for the unit whose
    Terragrunt log lines carry *prefix* (``[dir]``), one string each: ``Error: summary
    detail (with ADDRESS, on FILE line N)``. The provider's own message is the summary
    and detail."""
    errors: list[str] = []
    current: list[str] | None = None
    where: list[str] = []
    for line in [*text.splitlines(), None]:
        if line is not None:
            head, found, rest = line.partition(prefix)
            if not found or "STDERR" not in head:
                continue
            rest = rest.strip()
            line = _BOX.sub("", rest.split("tofu: ", 1)[1] if rest.startswith("tofu: ") else rest).rstrip()
        if line is None or line.startswith(("Error: ", "Warning: ")):
            if current:
                errors.append(_diagnostic(current, where))
            current = [line] if line is not None and line.startswith("Error: ") else None
            where = []
        elif current is None or not line or re.match(r"^\d+:", line) or line.startswith("exit status"):
            continue
        elif line.startswith(("with ", "on ")) and len(where) < 2:
            where.append(line.rstrip(",:"))
        else:
            current.append(line)
    return list(dict.fromkeys(errors))


def _diagnostic(lines: list[str], where: list[str]) -> str:
    text = " ".join(part.strip() for part in lines if part.strip())
    return f"{text} ({', '.join(where)})" if where else text


def _tail(text: str, lines: int = 8) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) if kept else "(no output)"
