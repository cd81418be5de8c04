"""Module sources, interfaces and the module lock (issue 12).

The registry is served on 127.0.0.1 by the test (archives built in the test), the git
repository is a bare repository made in the test: nothing reaches the internet.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.errors import InputError
from generator.project.modules.fetch import FetchError, fetch_location, package_digest, unpack
from generator.project.modules.interface import read_module_dir, read_module_files
from generator.project.modules.lockfile import LOCK_NAME, NO_LOCK_RULE, scaffold_lock
from generator.project.modules.sources import parse_source, pin_problems, pinned, promoted
from generator.project.modules.types import conversion_problem, parse_type
from generator.project.values import HclExpr

from ..conftest import IN_CI, REPO, ProjectFactory, need_tool
from ..module_registry import ModuleRegistry, tar_gz
from ..realclient import find_tool

# --- sources ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "address", "subdir", "ref"),
    [
        ("tfr:///terraform-aws-modules/vpc/aws", "registry", "terraform-aws-modules/vpc/aws", "", None),
        ("tfr:///terraform-aws-modules/ecs/aws//modules/service", "registry", "terraform-aws-modules/ecs/aws",
         "modules/service", None),
        ("tfr://registry.example.com/acme/net/aws?version=1.0.0", "registry", "acme/net/aws", "", None),
        ("git::https://example.com/modules.git//api?ref=v1.2.3", "git", "git::https://example.com/modules.git",
         "api", "v1.2.3"),
        ("git::ssh://git@example.com/infra/modules.git//net/vpc", "git", "git::ssh://git@example.com/infra/modules.git",
         "net/vpc", None),
        ("git@github.com:acme/modules.git//vpc?ref=abc123", "git", "git@github.com:acme/modules.git", "vpc", "abc123"),
        ("github.com/acme/terraform-aws-net", "git", "github.com/acme/terraform-aws-net", "", None),
        ("https://example.com/vpc-1.0.0.tar.gz//vpc", "http", "https://example.com/vpc-1.0.0.tar.gz", "vpc", None),
        ("./modules/app", "local", "./modules/app", "", None),
        ("../../modules/postgres", "local", "../../modules/postgres", "", None),
    ],
)
def test_sources_are_parsed_into_their_parts(text: str, kind: str, address: str, subdir: str, ref: str | None) -> None:
    source = parse_source(text)
    assert (source.kind, source.address, source.subdir, source.ref) == (kind, address, subdir, ref)


@pytest.mark.parametrize(
    ("source", "version", "expected"),
    [
        ("tfr:///terraform-aws-modules/vpc/aws", "5.17.0", "tfr:///terraform-aws-modules/vpc/aws?version=5.17.0"),
        ("git::https://example.com/modules.git//api", "v1.2.3", "git::https://example.com/modules.git//api?ref=v1.2.3"),
        ("tfr:///example/watcher/aws?foo=bar", "0.1.0", "tfr:///example/watcher/aws?foo=bar&version=0.1.0"),
        ("../../modules/postgres", None, "../../modules/postgres"),
        ("git::https://example.com/m.git?ref=v2", None, "git::https://example.com/m.git?ref=v2"),
    ],
)
def test_the_rendered_source_is_unchanged_where_it_was_right(source: str, version: str | None, expected: str) -> None:
    assert pinned(source, version) == expected


@pytest.mark.parametrize(
    ("source", "version", "fragment", "severity"),
    [
        ("git::https://example.com/m.git?ref=v1", "v2", "already carries ?ref=v1 and version is v2", "error"),
        ("tfr:///a/b/aws?version=1.0.0", "1.0.0", "(the same pin twice)", "error"),
        ("tfr:///a/b/aws?version=1.0.0&version=1.1.0", None, "carries ?version= 2 times", "error"),
        ("tfr:///a/b/aws?ref=v1", "1.0.0", "pinned with ?version=, not ?ref=", "error"),
        ("./modules/x", "1.0.0", "a local path cannot be pinned", "error"),
        ("./modules/x?ref=v1", None, "a local path takes no ?ref=", "error"),
        ("git::https://example.com/m.git", None, "the git source is not pinned", "warning"),
        ("tfr:///a/b/aws", None, "the registry source is not pinned", "warning"),
        ("tfr:///a/b/aws", "latest", "version 'latest' is not a pin", "warning"),
        ("tfr:///a/b/aws", "~>1.0", "not an exact version", "error"),
        ("https://example.com/net-1.0.0.tar.gz", "1.0.0", "an archive URL is pinned by the URL itself", "error"),
    ],
)
def test_conflicting_or_missing_pins_are_reported(source: str, version: str | None, fragment: str,
                                                  severity: str) -> None:
    problems = pin_problems(parse_source(source), version)
    assert [p.severity for p in problems if fragment in p.message] == [severity], problems


@pytest.mark.parametrize(
    ("source", "version", "expected"),
    [
        ("git::https://x/m.git//net?ref=v1", "v2", "git::https://x/m.git//net?ref=v2"),
        ("tfr:///a/b/aws?version=1.0.0", "1.1.0", "tfr:///a/b/aws?version=1.1.0"),
        ("tfr:///a/b/aws", "1.1.0", "tfr:///a/b/aws?version=1.1.0"),
        ("git::https://x/m.git?depth=1&ref=v1", "v2", "git::https://x/m.git?depth=1&ref=v2"),
    ],
)
def test_a_promoted_version_replaces_the_source_pin(source: str, version: str, expected: str) -> None:
    assert promoted(source, version) == expected


@pytest.mark.parametrize(
    ("source", "version"),
    [("tfr:///a/b/aws", "1.0.0"), ("git::https://x/m.git?ref=v1", None), ("git::https://x/m.git", "v1"),
     ("./local", None), ("https://example.com/net-1.0.0.zip", None)],
)
def test_good_pins_pass(source: str, version: str | None) -> None:
    assert pin_problems(parse_source(source), version) == []


# --- types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_text", "value", "problem"),
    [
        ("number", "3", None),
        ("number", "lots", "a string ('lots') cannot be a number"),
        ("number", True, "a bool (true) cannot be a number"),
        ("string", 5, None),
        ("string", True, None),
        ("string", [1], "a list cannot be a string"),
        ("bool", "true", None),
        ("bool", "yes", "a string ('yes') cannot be a bool"),
        ("list(string)", {"a": 1}, "a map cannot be a list"),
        ("list(number)", [1, "x"], "a string ('x') at [1] cannot be a number"),
        ("set(string)", ["a"], None),
        ("map(string)", {"a": "b", "c": 1}, None),
        ("map(number)", {"a": "b"}, "a string ('b') at a cannot be a number"),
        ("${map(list(string))}", {"a": "b"}, "a string ('b') at a cannot be a list"),
        ("object({ name = string, port = optional(number, 80) })", {"name": "x"}, None),
        ("object({ name = string, port = optional(number) })", {"port": 1},
         "lacks attribute 'name'"),
        ("object({ name = string })", {"name": "x", "extra": 1}, None),
        ("tuple([string, number])", ["a", 1], None),
        ("tuple([string, number])", ["a"], "a list of 1 cannot be a tuple of 2"),
        ("any", {"x": [1]}, None),
        ("list(string)", HclExpr("local.region.azs"), None),
        ("list(string)", [HclExpr("local.x")], None),
        ("some_future_type(string)", 1, None),
    ],
)
def test_literals_convert_as_terraform_converts(type_text: str, value: object, problem: str | None) -> None:
    found = conversion_problem(value, parse_type(type_text))
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


# --- the interface of a directory -------------------------------------------------------

VARIABLES = """\
variable "name" {
  type        = string
  description = "required"
}

variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "azs" {
  type    = list(string)
  default = []
}

variable "tags" {
  type     = map(string)
  default  = {}
  nullable = false
}

variable "anything" {}
"""
OUTPUTS = """\
output "vpc_id" {
  value = "x"
}

output "private_subnets" {
  value = []
}
"""


def test_variables_and_outputs_are_read_from_tf_files(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(VARIABLES)
    (tmp_path / "outputs.tf").write_text(OUTPUTS)
    (tmp_path / "README.md").write_text("not terraform\n")
    (tmp_path / "extra.tf.json").write_text('{"variable": {"ipv6": {"type": "bool", "default": false}}}\n')
    interface = read_module_dir(tmp_path)
    assert interface.outputs == ("private_subnets", "vpc_id")
    assert interface.variables["ipv6"].as_json() == {"type": "bool", "required": False, "default": False}
    as_json = interface.as_json()["variables"]
    assert as_json["name"] == {"type": "string", "required": True}
    assert as_json["cidr"] == {"type": "string", "required": False, "default": "10.0.0.0/16"}
    assert as_json["tags"] == {"type": "map(string)", "required": False, "default": {}, "nullable": False}
    assert as_json["anything"] == {"type": "any", "required": True}


# --- the lock, against a registry and a git repository made here -------------------------

PROJECT = """\
version: 1
project: {name: demo}
state: {bucket: "{project}-{account_id}-tfstate", region: us-east-1}
environments:
  dev:
    account_id: "111111111111"
    regions:
      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}
units:
  net: {module: networking/net}
  sub: {module: networking/sub}
"""
NET = """\
source: tfr:///acme/net/aws
version: 1.0.0
layer: 01-network
inputs:
  name: demo
  anything: [1, "two"]
  cidr: !hcl local.region.vpc_cidr
"""
SUB = """\
source: tfr:///acme/net/aws//modules/sub
version: 1.0.0
layer: 02-sub
dependencies:
  net:
    unit: net
    outputs:
      vpc_id: vpc_id
    mock_outputs:
      vpc_id: vpc-0
inputs:
  label: x
"""
SUB_VARIABLES = 'variable "vpc_id" {\n  type = string\n}\n\nvariable "label" {\n  type = string\n}\n'


def package(version: str, extra_variable: str = "") -> bytes:
    return tar_gz(
        {
            "variables.tf": VARIABLES + extra_variable,
            "outputs.tf": OUTPUTS,
            "modules/sub/variables.tf": SUB_VARIABLES,
            "modules/sub/outputs.tf": 'output "id" {\n  value = "x"\n}\n',
            "examples/complete/main.tf": f"# example of {version}\n",
        },
        top=f"terraform-aws-net-{version}",
    )


@pytest.fixture
def registry_project(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = make_project(
        {"environments.yaml": PROJECT, "catalog/networking/net.yaml": NET, "catalog/networking/sub.yaml": SUB}
    )
    monkeypatch.chdir(config.parent)
    return config


def lock_with(registry: ModuleRegistry, runner: CliRunner, *args: str) -> str:
    result = runner.invoke(main, ["modules", "lock", "--registry", f"registry.terraform.io={registry.url}", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_lock_round_trips_against_a_local_registry(registry_project: Path, runner: CliRunner) -> None:
    lock = registry_project.parent / "catalog" / LOCK_NAME
    packages = {("acme", "net", "aws", "1.0.0"): package("1.0.0")}
    with ModuleRegistry(packages) as registry:
        out = lock_with(registry, runner)
        assert "written: 2 module versions, 1 packages downloaded" in out
        # One package for both modules: discovery, download URL and archive once each.
        archives = [r for r in registry.requests if r.startswith("/archives/")]
        assert archives == ["/archives/acme-net-aws-1.0.0.tar.gz"]
        first = lock.read_bytes()
        again = lock_with(registry, runner)
        assert "unchanged" in again and lock.read_bytes() == first
    data = json.loads(first)
    assert [(m["module"], m["source"], m["version"]) for m in data["modules"]] == [
        ("networking/net", "tfr:///acme/net/aws", "1.0.0"),
        ("networking/sub", "tfr:///acme/net/aws//modules/sub", "1.0.0"),
    ]
    net, sub = data["modules"]
    assert net["digest"].startswith("sha256:") and net["digest"] == sub["digest"]
    assert net["outputs"] == ["private_subnets", "vpc_id"]
    assert sub["variables"] == {"label": {"required": True, "type": "string"},
                                "vpc_id": {"required": True, "type": "string"}}
    assert first.decode().endswith("}\n") and json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n" == \
        first.decode()

    # Offline from here: the registry is gone, validate reads the lock.
    valid = runner.invoke(main, ["validate", "--strict"])
    assert valid.exit_code == 0, valid.output
    assert runner.invoke(main, ["modules", "lock", "--check"]).exit_code == 0

    net_yaml = registry_project.parent / "catalog/networking/net.yaml"
    net_yaml.write_text(NET + "  cidrr: 10.0.0.0/16\n")
    typo = runner.invoke(main, ["validate"])
    assert typo.exit_code == 2
    assert ("catalog/networking/net.yaml:8:3: inputs.cidrr: networking/net 1.0.0 has no variable 'cidrr': "
            "Terraform would ignore this input (did you mean 'cidr'?)") in typo.stderr

    net_yaml.write_text(NET.replace("1.0.0", "1.1.0"))
    stale = runner.invoke(main, ["modules", "lock", "--check"])
    assert stale.exit_code == 1
    assert ("catalog/networking/net.yaml:2:10: version: networking/net 1.1.0 is not in "
            "catalog/.tfgen-modules.lock.json (locked: 1.0.0)") in stale.stderr
    warned = runner.invoke(main, ["validate"])
    assert warned.exit_code == 0 and "networking/net 1.1.0 is not in the module lock" in warned.stderr
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 2

    # The same version published again with other code: --refresh locks it, but says so out loud.
    net_yaml.write_text(NET)
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): package("1.0.0", 'variable "x" {}\n')}) as registry:
        republished = runner.invoke(main, ["modules", "lock", "--refresh",
                                           "--registry", f"registry.terraform.io={registry.url}"])
    assert republished.exit_code == 0
    assert "warning: networking/net 1.0.0 now downloads other code (sha256:" in republished.stderr
    assert "warning: networking/sub 1.0.0 now downloads other code" in republished.stderr
    net_yaml.write_text(NET.replace("1.0.0", "1.1.0"))

    packages[("acme", "net", "aws", "1.1.0")] = package("1.1.0", 'variable "cidrr" {\n  default = null\n}\n')
    with ModuleRegistry(packages) as registry:
        lock_with(registry, runner)
    assert runner.invoke(main, ["modules", "lock", "--check"]).exit_code == 0
    versions = [(m["module"], m["version"]) for m in json.loads(lock.read_text())["modules"]]
    assert versions == [("networking/net", "1.1.0"), ("networking/sub", "1.0.0")]


def test_modules_lock_prints_the_one_json_envelope(registry_project: Path, runner: CliRunner) -> None:
    """--format json: the result, and a download failure, in the envelope every command prints."""
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): package("1.0.0")}) as registry:
        args = ["modules", "lock", "--format", "json", "--registry", f"registry.terraform.io={registry.url}"]
        written = runner.invoke(main, args)
    assert written.exit_code == 0, written.output
    document = json.loads(written.stdout)
    assert {k: document[k] for k in ("command", "ok", "exit_code", "errors")} == {
        "command": "modules lock", "ok": True, "exit_code": 0, "errors": []}
    assert document["result"] == {
        "mode": "lock", "lock": "catalog/.tfgen-modules.lock.json", "changed": True, "downloaded": 1,
        "already_locked": 0,
        "modules": [{"module": "networking/net", "source": "tfr:///acme/net/aws", "version": "1.0.0"},
                    {"module": "networking/sub", "source": "tfr:///acme/net/aws//modules/sub", "version": "1.0.0"}]}
    lock = registry_project.parent / "catalog" / LOCK_NAME
    assert not [p for p in lock.parent.iterdir() if p.name.startswith(f".{LOCK_NAME}.")]  # no temporary left

    (registry_project.parent / "catalog/networking/net.yaml").write_text(NET.replace("1.0.0", "1.1.0"))
    stale = runner.invoke(main, ["modules", "lock", "--check", "--format", "json"])
    assert stale.exit_code == 1
    document = json.loads(stale.stdout)
    assert (document["ok"], document["result"]["in_sync"]) == (False, False)
    assert document["errors"] and {e["rule"] for e in document["errors"]} == {"module-lock-stale"}

    before = lock.read_bytes()
    with ModuleRegistry({}) as registry:
        failed = runner.invoke(main, ["modules", "lock", "--format", "json", "--registry",
                                      f"registry.terraform.io={registry.url}"])
    assert failed.exit_code == 2
    document = json.loads(failed.stdout)
    assert (document["command"], document["exit_code"], document["result"]) == ("modules lock", 2, None)
    # networking/sub 1.0.0 is locked: only networking/net 1.1.0 is downloaded, and fails.
    assert [(e["file"], e["rule"]) for e in document["errors"]] == [("catalog/networking/net.yaml", "module-download")]
    assert lock.read_bytes() == before  # a failed download leaves the lock as it was


def test_a_missing_module_version_fails_with_one_line(registry_project: Path, runner: CliRunner) -> None:
    with ModuleRegistry({}) as registry:
        result = runner.invoke(main, ["modules", "lock", "--registry", f"registry.terraform.io={registry.url}"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "catalog/networking/net.yaml:2:10: version: cannot download tfr:///acme/net/aws 1.0.0: " in result.stderr
    assert "HTTP 404" in result.stderr
    assert not (registry_project.parent / "catalog" / LOCK_NAME).exists()


def test_without_a_lock_validate_says_so_once_naming_the_command(registry_project: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0
    notes = [line for line in result.stderr.splitlines() if "no interface is known" in line]
    assert notes == [
        "catalog/.tfgen-modules.lock.json: warning: inputs are not checked against module variables: no interface "
        "is known for networking/net, networking/sub (run `tfgen modules lock` to record them in "
        "catalog/.tfgen-modules.lock.json)"
    ]
    # Informational: --strict does not fail a project for having no lock yet.
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 0
    check = runner.invoke(main, ["modules", "lock", "--check"])
    assert check.exit_code == 1 and "no module lock: 2 remote module versions" in check.stderr


def test_a_broken_lock_is_a_located_error(registry_project: Path, runner: CliRunner) -> None:
    (registry_project.parent / "catalog" / LOCK_NAME).write_text('{"format": 1,\n  "modules": [}\n')
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("catalog/.tfgen-modules.lock.json:2:15: the module lock is not valid")


def git(*args: str, cwd: Path) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(cwd), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_the_lock_reads_a_git_source_at_its_tag_and_commit(make_project: ProjectFactory, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, runner: CliRunner) -> None:
    if shutil.which("git") is None:
        (pytest.fail if IN_CI else pytest.skip)("git is needed for git module sources")
    bare = tmp_path / "modules.git"
    work = tmp_path / "work"
    git("init", "--quiet", "--bare", str(bare), cwd=tmp_path)
    git("init", "--quiet", str(work), cwd=tmp_path)
    (work / "net").mkdir()
    (work / "net" / "variables.tf").write_text(VARIABLES)
    (work / "net" / "outputs.tf").write_text(OUTPUTS)
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "v1", cwd=work)
    git("tag", "v1.0.0", cwd=work)
    (work / "net" / "variables.tf").write_text(VARIABLES + 'variable "ipv6" {\n  type = bool\n  default = false\n}\n')
    git("commit", "--quiet", "-am", "v2", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    git("push", "--quiet", str(bare), "HEAD:refs/heads/main", "--tags", cwd=work)

    url = f"git::file://{bare}//net"
    environments = PROJECT.replace("  sub: {module: networking/sub}\n", "")
    config = make_project({"environments.yaml": environments,
                           "catalog/networking/net.yaml": NET.replace("tfr:///acme/net/aws", url).replace(
                               "1.0.0", "v1.0.0") + "  ipv6: true\n"})
    monkeypatch.chdir(config.parent)
    assert runner.invoke(main, ["modules", "lock"]).exit_code == 0
    entry = json.loads((config.parent / "catalog" / LOCK_NAME).read_text())["modules"][0]
    assert (entry["source"], entry["version"]) == (url, "v1.0.0")
    assert "ipv6" not in entry["variables"]
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2 and "networking/net v1.0.0 has no variable 'ipv6'" in result.stderr

    (config.parent / "catalog/networking/net.yaml").write_text(
        NET.replace("tfr:///acme/net/aws", url).replace("1.0.0", commit) + "  ipv6: true\n")
    assert runner.invoke(main, ["modules", "lock"]).exit_code == 0
    entry = json.loads((config.parent / "catalog" / LOCK_NAME).read_text())["modules"][0]
    assert entry["version"] == commit and entry["variables"]["ipv6"]["type"] == "bool"
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 0

    # The catalog pins the tag in the source itself; dev promotes the commit, which
    # replaces that ?ref= (one pin in the rendered source, each checked on its own).
    (config.parent / "catalog/networking/net.yaml").write_text(
        NET.replace("tfr:///acme/net/aws\nversion: 1.0.0", f"{url}?ref=v1.0.0"))
    zone = "      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}\n"
    promotion = f'    units:\n      net: {{version: "{commit}", inputs: {{ipv6: true}}}}\n'
    config.write_text(environments.replace(zone, zone + promotion))
    assert runner.invoke(main, ["modules", "lock"]).exit_code == 0
    versions = [m["version"] for m in json.loads((config.parent / "catalog" / LOCK_NAME).read_text())["modules"]]
    assert versions == [commit, "v1.0.0"] or versions == ["v1.0.0", commit]
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 0
    assert runner.invoke(main, ["render"]).exit_code == 0
    leaf = (config.parent / "output/environments/dev/us-east-1/01-network/net/terragrunt.hcl").read_text()
    assert f'source = "{url}?ref={commit}"' in leaf


def test_a_local_module_is_read_where_terragrunt_finds_it(make_project: ProjectFactory,
                                                          monkeypatch: pytest.MonkeyPatch, runner: CliRunner) -> None:
    # From output/environments/dev/us-east-1/01-network/net/ six levels up is the project.
    local = NET.replace("tfr:///acme/net/aws\nversion: 1.0.0", "../../../../../../modules/net") + "  cidrr: x\n"
    config = make_project({"environments.yaml": PROJECT.replace("  sub: {module: networking/sub}\n", ""),
                           "catalog/networking/net.yaml": local,
                           "modules/net/variables.tf": VARIABLES, "modules/net/outputs.tf": OUTPUTS})
    monkeypatch.chdir(config.parent)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2
    assert "catalog/networking/net.yaml:7:3: inputs.cidrr: networking/net has no variable 'cidrr'" in result.stderr
    assert not (config.parent / "catalog" / LOCK_NAME).exists()


@pytest.mark.parametrize(
    ("source", "hint"),
    [
        # Written relative to the project: Terragrunt looks below the unit's directory.
        ("./modules/net", "modules/net exists: from a unit's directory it is ../../../../../../modules/net"),
        ("../../modules/nowhere", "write the path relative to a unit's directory"),
    ],
)
def test_a_local_module_terragrunt_would_not_find_is_named(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch, runner: CliRunner, source: str, hint: str
) -> None:
    local = NET.replace("tfr:///acme/net/aws\nversion: 1.0.0", source)
    config = make_project({"environments.yaml": PROJECT.replace("  sub: {module: networking/sub}\n", ""),
                           "catalog/networking/net.yaml": local,
                           "modules/net/variables.tf": VARIABLES, "modules/net/outputs.tf": OUTPUTS})
    monkeypatch.chdir(config.parent)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 0, result.output
    (line,) = [x for x in result.stderr.splitlines() if "local module" in x]
    assert line.startswith(f"catalog/networking/net.yaml:1:9: source: warning: local module {source} is not found "
                           "where Terragrunt looks for it, from each unit's directory (output/environments/dev/"), line
    assert "its inputs are not checked" in line and hint in line
    strict = runner.invoke(main, ["validate", "--strict"])
    assert strict.exit_code == 2 and "local module" in strict.stderr


# --- packages ---------------------------------------------------------------------------


def test_archives_are_unpacked_safely_and_digested_by_content(tmp_path: Path) -> None:
    data = tar_gz({"main.tf": "# x\n", "../escape.tf": "# no\n", "examples/a/main.tf": "# e\n"}, top="")
    first = unpack(data, "http://127.0.0.1/x.tar.gz")
    assert sorted(first) == ["examples/a/main.tf", "main.tf"]  # ../escape.tf is dropped
    second = unpack(tar_gz({"main.tf": "# x\n"}, top="pkg-1.0.0"), "http://127.0.0.1/y.tgz")
    assert sorted(second) == ["main.tf"]  # the single top directory is stripped
    # examples/ is not module code: the two packages hold the same code, so one digest.
    assert package_digest(first) == package_digest(second)
    assert package_digest(first) != package_digest({"main.tf": b"# y\n"})
    with pytest.raises(FetchError, match=r"not a tar\.gz or zip"):
        unpack(b"not an archive", "http://127.0.0.1/z.tar.gz")
    assert list(tmp_path.iterdir()) == []  # unpacking writes nothing


# --- the reference project ---------------------------------------------------------------


def test_the_reference_lock_matches_the_catalog_and_validates_strictly(reference_project: Path) -> None:
    lock = json.loads((REPO / "catalog" / LOCK_NAME).read_text())
    pinned_versions = {(m["module"], m["version"]) for m in lock["modules"]}
    assert pinned_versions == {
        ("data/rds", "6.10.0"), ("networking/vpc", "5.17.0"), ("services/ecs-capacity", "7.6.0"),
        ("services/ecs-cluster", "5.11.4"), ("services/ecs-service", "5.11.4"),
        ("data/rds-replica", "6.10.0"), ("edge/alb", "9.11.2"), ("security/sg-alb", "5.3.0"),
        ("security/sg-service", "5.3.0"), ("security/sg-database", "5.3.0"), ("security/sg-ecs-instances", "5.3.0"),
        ("monitoring/alerts", "6.1.2"), ("monitoring/metric-alarm", "5.6.1"), ("monitoring/events", "3.11.0"),
        ("security/kms-rds", "3.1.1"), ("edge/certificate", "5.2.0"),
    }
    assert api.modules_lock_check(reference_project) == []
    result = api.validate(reference_project, strict=True)
    assert result.warnings == []
    assert not [w for w in result.warnings if w.rule == NO_LOCK_RULE]
    # The lock holds real interfaces: the reference's wiring is among them.
    by_module = {m["module"]: m for m in lock["modules"]}
    assert "database_subnet_group_name" in by_module["networking/vpc"]["outputs"]
    assert by_module["data/rds"]["variables"]["identifier"]["required"] is True
    assert len(by_module["networking/vpc"]["variables"]) > 200


def test_the_reference_typos_of_the_issue_are_caught(reference_project: Path) -> None:
    rds = reference_project.parent / "catalog/data/rds.yaml"
    rds.write_text(rds.read_text().replace("  deletion_protection:", "  deletion_protecton:"))
    text = reference_project.read_text()
    reference_project.write_text(text.replace("inputs: { manage_master_user_password: false }",
                                              "inputs: { manage_master_user_pasword: false }")
                                 .replace("      nat_gateway: per_az", "      nat_gatway: per_az"))
    with pytest.raises(InputError) as caught:
        api.validate(reference_project, strict=True)
    messages = "\n".join(str(d) for d in caught.value.diagnostics)
    assert "has no variable 'deletion_protecton'" in messages
    assert "has no variable 'manage_master_user_pasword'" in messages
    assert "setting 'nat_gatway' is read by no module placed in environment prod" in messages


def test_the_docs_document_the_lock_command() -> None:
    guide = (REPO / "docs" / "guides" / "promote.md").read_text()
    assert "tfgen modules lock" in guide
    assert "# Module interfaces: `tfgen modules lock`" in (REPO / "docs" / "reference" / "modules-lock.md").read_text()


# --- promotion -----------------------------------------------------------------------------

PROMOTION = """\
version: 1
project: {name: demo}
state: {bucket: "{project}-{account_id}-tfstate", region: us-east-1}
environments:
  dev:
    account_id: "111111111111"
    regions:
      us-east-1: {vpc_cidr: 10.10.0.0/16, azs: [a, b]}
    units:
      net: {version: 1.1.0, inputs: {cidrr: wide}}
  prod:
    account_id: "444444444444"
    deletion_protection: true
    regions:
      us-east-1: {vpc_cidr: 10.40.0.0/16, azs: [a, b]}
units:
  net: {module: networking/net}
"""


def test_a_version_promoted_to_one_environment_is_locked_checked_rendered_and_explained(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    config = make_project({"environments.yaml": PROMOTION, "catalog/networking/net.yaml": NET})
    monkeypatch.chdir(config.parent)
    packages = {
        ("acme", "net", "aws", "1.0.0"): package("1.0.0"),
        ("acme", "net", "aws", "1.1.0"): package("1.1.0", 'variable "cidrr" {\n  type = string\n  default = null\n}\n'),
    }
    with ModuleRegistry(packages) as registry:
        out = lock_with(registry, runner)
    assert "2 module versions, 2 packages downloaded" in out
    valid = runner.invoke(main, ["validate", "--strict"])
    assert valid.exit_code == 0, valid.output

    # Each placement is checked against the version it deploys: prod is still on 1.0.0.
    config.write_text(PROMOTION.replace("      us-east-1: {vpc_cidr: 10.40.0.0/16, azs: [a, b]}\n",
                                        "      us-east-1: {vpc_cidr: 10.40.0.0/16, azs: [a, b]}\n"
                                        "    units:\n      net: {inputs: {cidrr: wide}}\n"))
    refused = runner.invoke(main, ["validate"])
    assert refused.exit_code == 2
    assert "environments.yaml:17:22: environments.prod.units.net.inputs.cidrr: networking/net 1.0.0 has no " \
           "variable 'cidrr'" in refused.stderr
    config.write_text(PROMOTION)

    diff = runner.invoke(main, ["render", "--diff"])
    assert diff.exit_code == 0
    assert '+  source = "tfr:///acme/net/aws?version=1.1.0"' in diff.stdout
    assert runner.invoke(main, ["render"]).exit_code == 0
    output = config.parent / "output"
    dev_leaf = (output / "environments/dev/us-east-1/01-network/net/terragrunt.hcl").read_text()
    prod_leaf = (output / "environments/prod/us-east-1/01-network/net/terragrunt.hcl").read_text()
    assert "# Promoted: dev/us-east-1 deploys networking/net 1.1.0, not the catalog's 1.0.0." in dev_leaf
    assert 'source = "tfr:///acme/net/aws?version=1.1.0"' in dev_leaf
    assert "terraform {" not in prod_leaf
    envcommon = (output / "_envcommon/networking/net.hcl").read_text()
    assert 'source = "tfr:///acme/net/aws?version=1.0.0"' in envcommon

    explained = runner.invoke(main, ["explain", "dev/us-east-1/net"])
    assert ("Source: tfr:///acme/net/aws?version=1.1.0 (version 1.1.0 promoted at environments.yaml:10:22; "
            "the catalog pins 1.0.0)") in explained.stdout
    as_json = json.loads(runner.invoke(main, ["explain", "prod/us-east-1/net", "--format", "json"]).stdout)["result"]
    assert (as_json["source"], as_json["module_version"], as_json["promoted_at"]) == (
        "tfr:///acme/net/aws?version=1.0.0", "1.0.0", None)


def test_a_version_promoted_on_a_local_module_is_refused(make_project: ProjectFactory,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    local = NET.replace("tfr:///acme/net/aws\nversion: 1.0.0", "./modules/net")
    config = make_project({"environments.yaml": PROMOTION, "catalog/networking/net.yaml": local})
    monkeypatch.chdir(config.parent)
    with pytest.raises(InputError) as caught:
        api.validate(config)
    assert [str(d) for d in caught.value.diagnostics if d.severity == "error"] == [
        "environments.yaml:10:22: environments.dev.units.net.version: a local path cannot be pinned: version 1.1.0 "
        "would be appended as ?ref= (remove version: a local module is the code beside the catalog)"]


def test_the_scaffold_lock_is_the_reference_lock_for_the_same_versions() -> None:
    reference = {(m["source"], m["version"]): m for m in json.loads((REPO / "catalog" / LOCK_NAME).read_text())[
        "modules"]}
    shipped = json.loads(scaffold_lock())["modules"]
    assert [(m["module"], m["version"]) for m in shipped] == [("data/postgres", "6.10.0"), ("networking/vpc", "5.17.0")]
    for entry in shipped:
        same = reference[(entry["source"], entry["version"])]
        assert {k: v for k, v in entry.items() if k != "module"} == {k: v for k, v in same.items() if k != "module"}


def test_a_broken_lock_is_repaired_by_modules_lock(registry_project: Path, runner: CliRunner) -> None:
    lock = registry_project.parent / "catalog" / LOCK_NAME
    lock.write_text("{not json\n")
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): package("1.0.0")}) as registry:
        lock_with(registry, runner)
    assert json.loads(lock.read_text())["format"] == 1
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 0


def test_an_archive_location_with_a_subdirectory_is_that_package() -> None:
    data = tar_gz({"wrapper/net/variables.tf": VARIABLES, "other.tf": "# not this\n"}, top="repo-1.0.0")
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): data}) as registry:
        package = fetch_location(f"{registry.url}/archives/acme-net-aws-1.0.0.tar.gz//wrapper/net")
        with pytest.raises(FetchError, match="the package has no directory nowhere"):
            fetch_location(f"{registry.url}/archives/acme-net-aws-1.0.0.tar.gz//nowhere")
    assert sorted(package) == ["variables.tf"]
    assert "cidr" in read_module_files(package, "net 1.0.0").variables


def test_an_archive_url_source_is_locked_from_its_url(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch,
                                                      runner: CliRunner) -> None:
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): package("1.0.0")}) as registry:
        url = f"{registry.url}/archives/acme-net-aws-1.0.0.tar.gz"
        config = make_project({"environments.yaml": PROJECT.replace("  sub: {module: networking/sub}\n", ""),
                               "catalog/networking/net.yaml": NET.replace("tfr:///acme/net/aws\nversion: 1.0.0", url)})
        monkeypatch.chdir(config.parent)
        assert runner.invoke(main, ["modules", "lock"]).exit_code == 0
    entry = json.loads((config.parent / "catalog" / LOCK_NAME).read_text())["modules"][0]
    assert (entry["source"], entry["version"], entry["outputs"]) == (url, None, ["private_subnets", "vpc_id"])
    assert runner.invoke(main, ["validate", "--strict"]).exit_code == 0
    assert runner.invoke(main, ["modules", "lock", "--check"]).exit_code == 0


def test_terragrunt_deploys_the_promoted_version_and_the_catalog_one_elsewhere(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch, runner: CliRunner, tmp_path: Path
) -> None:
    """The real client decides: the leaf's terraform.source wins over the envcommon one."""
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    config = make_project({"environments.yaml": PROMOTION.replace(", inputs: {cidrr: wide}", ""),
                           "catalog/networking/net.yaml": NET})
    monkeypatch.chdir(config.parent)
    assert runner.invoke(main, ["render"]).exit_code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TG_", "TERRAGRUNT_"))}
    env.update({"TG_NON_INTERACTIVE": "true", "HOME": str(tmp_path)})
    sources = {}
    for name in ("dev", "prod"):
        unit = config.parent / "output" / "environments" / name / "us-east-1" / "01-network" / "net"
        done = subprocess.run([terragrunt, "render", "--json"], cwd=unit, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        sources[name] = json.loads(done.stdout)["terraform"]["source"]
    assert sources == {"dev": "tfr:///acme/net/aws?version=1.1.0", "prod": "tfr:///acme/net/aws?version=1.0.0"}


@pytest.mark.parametrize(
    ("expression", "flagged"),
    [
        ("var.count * 2", ["var"]),
        ("'module.vpc.vpc_id'", ["module"]),
        ("'\"${data.aws_region.current.name}-x\"'", ["data"]),
        ("'[for data in local.region.azs : data.name]'", []),
        ("'{ for each, v in local.env.settings : each => v }'", []),
        ("'\"var.count is only text\"'", []),
        ("path_relative_to_include()", []),
        ("terraform.workspace", ["terraform"]),
    ],
)
def test_terraform_only_namespaces_are_refused_in_hcl(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch,
                                                      expression: str, flagged: list[str]) -> None:
    config = make_project({"environments.yaml": PROJECT.replace("  sub: {module: networking/sub}\n", ""),
                           "catalog/networking/net.yaml": NET + f"  probe: !hcl {expression}\n"})
    monkeypatch.chdir(config.parent)
    try:
        found = api.validate(config).warnings
    except InputError as error:
        found = error.diagnostics
    namespaces = [d.message.split(".")[0] for d in found if d.rule == "hcl-namespace"]
    assert namespaces == flagged


def test_version_overrides_merge_unit_then_environment_then_region(make_project: ProjectFactory) -> None:
    text = PROMOTION.replace("  net: {module: networking/net}", "  net: {module: networking/net, version: 1.2.0}")
    text = text.replace("      us-east-1: {vpc_cidr: 10.40.0.0/16, azs: [a, b]}\n",
                        "      us-east-1:\n        vpc_cidr: 10.40.0.0/16\n        azs: [a, b]\n"
                        "        units: {net: {version: 1.0.0}}\n")
    config = make_project({"environments.yaml": text, "catalog/networking/net.yaml": NET})
    project = api.validate(config).project
    pins = {u.environment.name: (u.pin, u.version, u.source_url) for u in project.units}
    assert pins == {
        "dev": ("1.1.0", "1.1.0", "tfr:///acme/net/aws?version=1.1.0"),  # the environment's wins over the unit's
        "prod": ("1.0.0", None, "tfr:///acme/net/aws?version=1.0.0"),  # the region's: the catalog's own, so none
    }


def test_zip_archives_are_unpacked() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("net-1.0.0/variables.tf", VARIABLES)
        archive.writestr("net-1.0.0/outputs.tf", OUTPUTS)
    package = unpack(buffer.getvalue(), "http://127.0.0.1/x?archive=zip")
    assert read_module_files(package, "net 1.0.0").outputs == ("private_subnets", "vpc_id")


def downloads(registry: ModuleRegistry) -> list[str]:
    """The package versions *registry* was asked for (its download URLs)."""
    return [r.split("/")[-2] for r in registry.requests if r.endswith("/download")]


def test_only_versions_missing_from_the_lock_are_downloaded(registry_project: Path, runner: CliRunner) -> None:
    net_yaml = registry_project.parent / "catalog/networking/net.yaml"
    packages = {("acme", "net", "aws", "1.0.0"): package("1.0.0"),
                ("acme", "net", "aws", "1.1.0"): package("1.1.0", 'variable "wide" {\n  default = null\n}\n')}
    with ModuleRegistry(packages) as registry:
        lock_with(registry, runner)
        assert downloads(registry) == ["1.0.0"]
    net_yaml.write_text(NET.replace("1.0.0", "1.1.0"))  # networking/sub stays on 1.0.0
    with ModuleRegistry(packages) as registry:
        out = lock_with(registry, runner)
        assert downloads(registry) == ["1.1.0"]  # 1.0.0 is locked: not requested
    assert "written: 2 module versions, 1 packages downloaded (1 module versions already locked)" in out
    lock = json.loads((registry_project.parent / "catalog" / LOCK_NAME).read_text())
    locked = {m["module"]: m for m in lock["modules"]}
    assert (locked["networking/net"]["version"], locked["networking/sub"]["version"]) == ("1.1.0", "1.0.0")
    assert "wide" in locked["networking/net"]["variables"]

    # --refresh downloads every version again.
    with ModuleRegistry(packages) as registry:
        out = lock_with(registry, runner, "--refresh")
        assert sorted(downloads(registry)) == ["1.0.0", "1.1.0"]
    assert "unchanged: 2 module versions, 2 packages downloaded (0 module versions already locked)" in out


def test_a_complete_lock_needs_no_network(registry_project: Path, runner: CliRunner) -> None:
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): package("1.0.0")}) as registry:
        lock_with(registry, runner)
        url = registry.url
    lock = registry_project.parent / "catalog" / LOCK_NAME
    before = lock.read_bytes()
    # The registry is gone: any request would fail (connection refused).
    offline = runner.invoke(main, ["modules", "lock", "--registry", f"registry.terraform.io={url}"])
    assert offline.exit_code == 0, offline.output
    assert "unchanged: 2 module versions, 0 packages downloaded (2 module versions already locked)" in offline.stdout
    assert lock.read_bytes() == before
    with ModuleRegistry({}) as registry:
        assert runner.invoke(main, ["modules", "lock", "--registry",
                                    f"registry.terraform.io={registry.url}"]).exit_code == 0
        assert registry.requests == []


def test_module_names_limit_the_lock_to_those_modules(registry_project: Path, runner: CliRunner) -> None:
    root = registry_project.parent
    packages = {("acme", "net", "aws", "1.0.0"): package("1.0.0"), ("acme", "net", "aws", "1.1.0"): package("1.1.0")}
    with ModuleRegistry(packages) as registry:
        lock_with(registry, runner)
    (root / "catalog/networking/net.yaml").write_text(NET.replace("1.0.0", "1.1.0"))
    (root / "catalog/networking/sub.yaml").write_text(SUB.replace("1.0.0", "1.1.0"))
    lock = root / "catalog" / LOCK_NAME
    with ModuleRegistry(packages) as registry:
        lock_with(registry, runner, "networking/net")
        assert downloads(registry) == ["1.1.0"]
    versions = {m["module"]: m["version"] for m in json.loads(lock.read_text())["modules"]}
    assert versions == {"networking/net": "1.1.0", "networking/sub": "1.0.0"}  # sub: kept as it was
    with ModuleRegistry(packages) as registry:
        lock_with(registry, runner, "--refresh", "networking/net", "networking/sub")
        assert downloads(registry) == ["1.1.0"]  # one package for both
    versions = {m["module"]: m["version"] for m in json.loads(lock.read_text())["modules"]}
    assert versions == {"networking/net": "1.1.0", "networking/sub": "1.1.0"}
    assert runner.invoke(main, ["modules", "lock", "--check"]).exit_code == 0


def test_an_unknown_module_name_is_refused_with_the_closest(registry_project: Path, runner: CliRunner) -> None:
    with ModuleRegistry({("acme", "net", "aws", "1.0.0"): package("1.0.0")}) as registry:
        result = runner.invoke(main, ["modules", "lock", "networking/nett", "--registry",
                                      f"registry.terraform.io={registry.url}"])
        assert registry.requests == []
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr == ("tfgen modules lock: module networking/nett: no such module in the catalog "
                             "(did you mean 'networking/net'?)\n")
    assert not (registry_project.parent / "catalog" / LOCK_NAME).exists()
    as_json = runner.invoke(main, ["modules", "lock", "nope/x", "--format", "json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.stdout)["errors"][0]["rule"] == "unknown-module"
