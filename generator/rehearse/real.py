"""The pieces of a rehearsal with the real ``hashicorp/aws`` provider
(``tfgen rehearse --provider real``): where the provider comes from (a filesystem
mirror, or its registry), stand-ins for the providers no mirror holds, the provider
override that points every AWS service at the local server with credentials of each
environment's account, and a module registry on 127.0.0.1 serving the pinned module
packages from a directory.

The real provider validates arguments at plan time (character sets, name and prefix
lengths) and modules' ``for_each`` keys are checked by OpenTofu; the local server (moto)
answers what plan-time data sources ask and models most resources for ``apply``.
"""

from __future__ import annotations

import io
import json
import os
import re
import ssl
import tarfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from .errors import cannot
from .tools import STANDINS

#: Where the image of this project's machines keeps the real provider.
DEFAULT_MIRROR = Path("/opt/tf-plugins")
MIRROR_ENV = "TFGEN_PROVIDER_MIRROR"
#: The registry hosts a filesystem mirror may file hashicorp/aws under: Terraform's
#: and OpenTofu's (the tree runs on OpenTofu, which asks for the latter).
HOSTS = ("registry.opentofu.org", "registry.terraform.io")

#: Providers modules need that no mirror of this machine holds, served by tfgen's
#: stand-ins (rehearsal/NAME): name -> environment variable of the built binary. The rds
#: module needs random; the lambda module external (its package step), local and null;
#: cloudposse/ses (through iam-system-user) cloudposse/awsutils; EKS add-ons helm and
#: kubernetes (a catalog's providers: configures them, the 2.x provider blocks).
STANDIN_PROVIDERS = STANDINS
#: The registry namespace of a stand-in other than hashicorp.
STANDIN_NAMESPACES = {"awsutils": "cloudposse"}
#: The version each stand-in is filed under: one every module's constraint accepts
#: (terraform-aws-modules ask for random >= 2.0 or >= 3.1, external and local >= 1.0,
#: null >= 2.0; cloudposse awsutils >= 0.11; helm and kubernetes 2.x), above the real
#: provider's major so a lock file's range still matches.
STANDIN_VERSIONS = {"awsutils": "0.99.0", "external": "2.99.0", "local": "2.99.0", "null": "3.99.0",
                    "random": "3.99.0", "helm": "2.99.0", "kubernetes": "2.99.0"}


def standin_address(name: str) -> str:
    """NAMESPACE/NAME of a stand-in provider."""
    return f"{STANDIN_NAMESPACES.get(name, 'hashicorp')}/{name}"

#: Services whose endpoint the override points at the local server: every service the
#: reference project's modules and their data sources call, and the common neighbours.
#: Each is an argument of the provider's ``endpoints`` block (5.x); OpenTofu refuses an
#: unknown one, so the list is kept to names the provider has had since 5.0.
ENDPOINT_SERVICES = (
    "acm", "apigateway", "appautoscaling", "autoscaling", "backup", "cloudformation", "cloudfront",
    "cloudwatch", "dynamodb", "ec2", "ecr", "ecs", "efs", "eks", "elasticache", "elb", "elbv2",
    "events", "firehose", "iam", "kinesis", "kms", "lambda", "logs", "rds", "route53",
    "s3", "s3control", "scheduler", "secretsmanager", "servicediscovery", "ses", "sfn", "sns",
    "sqs", "ssm", "sts", "wafv2",
)

_TFR = re.compile(r"tfr://(?:registry\.terraform\.io|registry\.opentofu\.org)?/")


@dataclass(frozen=True)
class RealProvider:
    """How a real-provider rehearsal gets its providers and modules."""

    #: A filesystem mirror holding hashicorp/aws (under registry.terraform.io/ or
    #: registry.opentofu.org/); None: install it from its registry (needs network).
    mirror: Path | None
    #: Built stand-ins of the providers in STANDIN_PROVIDERS: name -> binary.
    standins: Mapping[str, str]
    #: Module packages served as a registry on 127.0.0.1: DIR/NAMESPACE/NAME/PROVIDER/VERSION/.
    modules: Path | None = None
    #: Stop after `plan` (no apply, no destroy).
    plan_only: bool = False


def find_mirror(given: Path | None) -> Path:
    """The mirror to install hashicorp/aws from: *given*, else $TFGEN_PROVIDER_MIRROR,
    else /opt/tf-plugins. Refused (exit 2) when it holds no hashicorp/aws."""
    mirror = given or (Path(os.environ[MIRROR_ENV]) if os.environ.get(MIRROR_ENV) else DEFAULT_MIRROR)
    if not aws_packages(mirror):
        where = " or ".join(f"{mirror}/{host}/hashicorp/aws/VERSION/PLATFORM/" for host in HOSTS)
        raise cannot(
            f"--provider real: the provider mirror {mirror} holds no hashicorp/aws (looked for {where})",
            "give a filesystem mirror with --provider-mirror DIR (or $TFGEN_PROVIDER_MIRROR), "
            "or let OpenTofu download it with --provider-registry on a machine with network",
        )
    return mirror


def aws_packages(mirror: Path) -> list[Path]:
    """The unpacked hashicorp/aws packages of a filesystem mirror (VERSION/PLATFORM dirs)."""
    found = []
    for host in HOSTS:
        base = mirror / host / "hashicorp" / "aws"
        if base.is_dir():
            found += [p for p in sorted(base.glob("*/*")) if p.is_dir() and any(p.glob("terraform-provider-aws*"))]
    return found


def build_mirror(target: Path, mirror: Path | None, standins: Mapping[str, str], versions: Mapping[str, str],
                 platform: str) -> list[str]:
    """A filesystem mirror in *target* for OpenTofu: the real hashicorp/aws packages of
    *mirror* linked under both registry hosts (OpenTofu asks for registry.opentofu.org),
    and each stand-in under the version *versions* names. Returns notes for the report."""
    notes = []
    if mirror is not None:
        for package in aws_packages(mirror):
            version, plat = package.parent.name, package.name
            binary = next(iter(sorted(package.glob("terraform-provider-aws*"))))
            for host in HOSTS:
                dest = target / host / "hashicorp" / "aws" / version / plat
                dest.mkdir(parents=True, exist_ok=True)
                link = dest / binary.name
                if not link.exists():
                    link.symlink_to(binary.resolve())
            notes.append(f"provider: the real hashicorp/aws {version} ({plat}) from the mirror {mirror}")
    for name, standin in sorted(standins.items()):
        version = versions[name]
        for host in HOSTS:
            dest = target / host / standin_address(name) / version / platform
            dest.mkdir(parents=True, exist_ok=True)
            (dest / f"terraform-provider-{name}_v{version}").symlink_to(Path(standin).resolve())
        notes.append(f"provider: {standin_address(name)} is tfgen's stand-in (rehearsal/{name}) as version "
                     f"{version}: no mirror holds it")
    return notes


def cli_config(mirror: Path, from_registry: bool) -> str:
    """The OpenTofu CLI configuration: providers from the scratch mirror, and with
    *from_registry* hashicorp/aws from its registry instead."""
    lines = ["# tfgen rehearse --provider real", "provider_installation {", "  filesystem_mirror {",
             f"    path = {json.dumps(str(mirror))}"]
    included = [f"{host}/{standin_address(name)}" for name in sorted(STANDIN_PROVIDERS) for host in HOSTS]
    if not from_registry:
        included += [f"{host}/hashicorp/aws" for host in HOSTS]
    lines += [f"    include = {json.dumps(included)}", "  }"]
    if from_registry:
        lines += ["  direct {", f"    include = {json.dumps([f'{host}/hashicorp/aws' for host in HOSTS])}", "  }"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def provider_override(endpoint: str, access_key: str, secret_key: str, aliases: Iterable[str] = ()) -> str:
    """The override file (``*_override.tf``) merged into the tree's ``provider "aws"``
    (and into each aliased aws configuration of the unit's providers.tf, *aliases*):
    credentials of the unit's account on the local server and every service's endpoint
    there. The tree's region, allowed_account_ids, assume_role and default_tags stay:
    the provider checks the account through the local STS."""
    return "".join(_provider_override(endpoint, access_key, secret_key, alias) for alias in (None, *aliases))


def _provider_override(endpoint: str, access_key: str, secret_key: str, alias: str | None) -> str:
    endpoints = "\n".join(f"    {name:<16} = {json.dumps(endpoint)}" for name in ENDPOINT_SERVICES)
    alias_line = f"  alias                       = {json.dumps(alias)}\n" if alias else ""
    return (
        "# tfgen rehearse --provider real: the AWS API is the local server.\n"
        'provider "aws" {\n'
        f"{alias_line}"
        f"  access_key                  = {json.dumps(access_key)}\n"
        f"  secret_key                  = {json.dumps(secret_key)}\n"
        # moto answers 500 for an action it has not implemented; the provider's default
        # of 25 retries with backoff would turn that into a hang instead of an error.
        "  max_retries                 = 2\n"
        "  skip_credentials_validation = true\n"
        "  skip_metadata_api_check     = true\n"
        "  s3_use_path_style           = true\n"
        "  endpoints {\n"
        f"{endpoints}\n"
        "  }\n"
        "}\n"
    )


GENERATE_NAME = "tfgen_rehearsal_provider"


def generate_block(contents: str) -> str:
    """A Terragrunt ``generate`` block that writes *contents* as an override file next
    to the tree's provider.tf (appended to the scratch copy of a unit only)."""
    if "${" in contents or "%{" in contents:  # a heredoc would interpolate them
        raise ValueError("the provider override may not hold template sequences")
    return (
        f'\n# tfgen rehearse --provider real\ngenerate "{GENERATE_NAME}" {{\n'
        f'  path      = "{GENERATE_NAME}_override.tf"\n'
        '  if_exists = "overwrite"\n'
        f"  contents  = <<EOT\n{contents}EOT\n}}\n"
    )


def seed_accounts(endpoint: str, certificate: Path, region: str, accounts: Iterable[str]) -> dict[str, tuple[str, str]]:
    """An IAM user with an access key in each account on the local server: moto tells
    the account of a request by its access key, so a unit signing with its account's
    key is in that account (GetCallerIdentity answers it, allowed_account_ids holds).
    Returns account -> (access key id, secret)."""
    import boto3

    keys = {}
    for account in sorted(set(accounts)):
        client = boto3.client(
            "iam", endpoint_url=endpoint, region_name=region, verify=str(certificate),
            aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal",
        )

        def in_account(request: Any, account: str = account, **_: Any) -> None:
            request.headers["x-moto-account-id"] = account

        client.meta.events.register("before-sign.iam.*", in_account)
        client.create_user(UserName="tfgen-rehearsal")
        key = client.create_access_key(UserName="tfgen-rehearsal")["AccessKey"]
        keys[account] = (str(key["AccessKeyId"]), str(key["SecretAccessKey"]))
    return keys


def rewrite_registry_sources(tree: Path, host: str) -> int:
    """Point every registry module source of the scratch tree (``tfr:///`` and the
    public registries) at the local registry *host* (``127.0.0.1:PORT``). Returns the
    number of files changed."""
    changed = 0
    for path in sorted(tree.rglob("*.hcl")):
        text = path.read_text(encoding="utf-8")
        new = _TFR.sub(f"tfr://{host}/", text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed += 1
    return changed


#: A registry module source in a module's own .tf files (a module calling another, as
#: cloudposse/ses calls cloudposse/label/null): NAMESPACE/NAME/PROVIDER[//SUBDIR] with an
#: optional public registry host. A provider source has two parts (or a host with dots
#: before them), a local path starts with "." and a go-getter source holds "::".
_NESTED_SOURCE = re.compile(
    r'(\bsource\s*=\s*")(?:registry\.terraform\.io/|registry\.opentofu\.org/)?'
    r'([A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9_-]*(?://[^"]*)?")'
)


def serve_nested_sources(text: str, host: str) -> str:
    """*text* (a .tf file) with every registry module source pointed at the local
    registry *host*: the modules a served module calls come from there too (OpenTofu
    would otherwise ask the public registry, which an offline machine cannot reach)."""
    return _NESTED_SOURCE.sub(lambda m: f"{m.group(1)}{host}/{m.group(2)}", text)


def _package(directory: Path, host: str) -> bytes:
    """A .tar.gz of a module directory (files only, sorted, no .git), its nested
    registry sources pointed at *host*."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path in sorted(directory.rglob("*")):
            relative = path.relative_to(directory)
            if ".git" in relative.parts or not path.is_file():
                continue
            if path.suffix == ".tf":
                data = serve_nested_sources(path.read_text(encoding="utf-8"), host).encode()
                info = archive.gettarinfo(str(path), arcname=relative.as_posix())
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.add(path, arcname=relative.as_posix(), recursive=False)
    return buffer.getvalue()


class ModuleRegistry:
    """The Terraform module registry protocol over TLS on 127.0.0.1 (Terragrunt's tfr://
    getter speaks only HTTPS), serving DIR/NAMESPACE/NAME/PROVIDER/VERSION/ directories
    as packages. ``with ModuleRegistry(dir, cert, key) as registry: registry.host``."""

    def __init__(self, directory: Path, certificate: Path, key: Path) -> None:
        self.directory = directory
        self.requests: list[str] = []
        self.missing: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # the report says what failed
                pass

            def do_GET(self) -> None:
                registry.requests.append(self.path)
                parts = self.path.split("?")[0].strip("/").split("/")
                if self.path == "/.well-known/terraform.json":
                    self.reply(200, b'{"modules.v1": "/v1/modules/"}', "application/json")
                elif parts[:2] == ["v1", "modules"] and len(parts) == 6 and parts[5] == "versions":
                    versions = registry.versions(parts[2], parts[3], parts[4])
                    body = {"modules": [{"versions": [{"version": v} for v in versions]}]}
                    self.reply(200 if versions else 404, json.dumps(body).encode(), "application/json")
                elif parts[:2] == ["v1", "modules"] and len(parts) == 7 and parts[6] == "download":
                    if registry.package_dir(*parts[2:6]) is None:
                        registry.missing.append("/".join(parts[2:6]))
                        self.reply(404, b'{"errors": ["Not Found"]}', "application/json")
                        return
                    self.send_response(204)
                    self.send_header("X-Terraform-Get", "/archives/" + "/".join(parts[2:6]) + ".tar.gz")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif parts[0] == "archives" and len(parts) == 5 and parts[4].endswith(".tar.gz"):
                    found = registry.package_dir(parts[1], parts[2], parts[3], parts[4].removesuffix(".tar.gz"))
                    if found is None:
                        self.reply(404, b"not found", "text/plain")
                    else:
                        self.reply(200, _package(found, registry.host), "application/gzip")
                else:
                    self.reply(404, b"not found", "text/plain")

            def reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(certificate), str(key))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def package_dir(self, namespace: str, name: str, provider: str, version: str) -> Path | None:
        if any(part in ("", ".", "..") or "/" in part for part in (namespace, name, provider, version)):
            return None
        found = self.directory / namespace / name / provider / version
        return found if found.is_dir() else None

    def versions(self, namespace: str, name: str, provider: str) -> list[str]:
        base = self.directory / namespace / name / provider
        return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    @property
    def host(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host!s}:{port}"

    def __enter__(self) -> ModuleRegistry:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
