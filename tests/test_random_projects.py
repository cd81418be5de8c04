"""Property test: whatever ``tfgen validate`` accepts, ``tfgen render`` writes, and
HashiCorp's parser reads back what the YAML said.

The strategy builds whole projects: environments.yaml with 1-4 environments (accounts,
sizing tiers and overrides, real AWS regions with their real zone letters and
non-overlapping CIDRs, settings and tags full of hostile strings) and a catalog of 1-4
modules (nested literal inputs, a ``!hcl`` expression, dependencies on earlier modules'
units, some in another region, with mock outputs, layers), with unit, defaults,
environment and region overrides (inputs, tags, ``false``), state per account or per
region, and sometimes ``style: stacks``. Projects are valid by construction, except for what the names' own rules
refuse (a Windows device name such as ``aux``): a refused project must be a clean
refusal, exit 2 with one located line per error and nothing written.

For an accepted project: render exits 0, every .hcl file and root.hcl's generated
contents parse with pygohcl, a second render changes nothing and ``render --check``
passes, the inputs, settings, sizing and tags Terragrunt would see equal the YAML's
(deep-merged as FORMAT.md says), and hclfmt finds every file already formatted.
"""

from __future__ import annotations

import posixpath
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from generator import api
from generator.checks.zones import ZONES
from generator.cli import main
from generator.errors import InputError

from .conftest import tree
from .judges import assert_same, hcl_files, hclfmt_check

EXAMPLES = 30
#: Projects of the acceptance-rate check (validate only, a fixed derandomized batch).
BATCH = 40
#: The share of generated projects validate must accept: the generator is meant to be
#: valid by construction, so a falling rate means it (or validate) drifted.
MIN_ACCEPTED = 0.8

#: Commercial-partition regions (the zone table's), in a fixed order.
REGIONS = sorted(r for r in ZONES if not r.startswith(("cn-", "us-gov-")))
HCL_SENTINEL = "@@tfgen-hcl-expression@@"
HCL_EXPRESSION = "local.region.aws_region"

FRAGMENTS = [
    '"', "\\", "\n", "\r\n", "\t", "${", "%{", "$${", "%%{", "$$${", "$", "%", "{", "}", "~}",
    "#", "//", "/*", "*/", "<<EOF", "EOF", "\x1b", "\x7f", "\u2028", "\ufeff", "é", "e\u0301",
    "👍🏽", "日本", " ", "\\n", "=", "a = 1",
]
# No NUL in values that reach a TF_VAR_ variable (validate refuses it: see
# tests/cases/invalid-input-nul); no surrogates (not UTF-8).
characters = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")
strings = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(characters, max_size=3)), max_size=5).map("".join)
#: Map keys: identifiers and a few hostile keys that stay distinct under NFC.
plain_keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,10}", fullmatch=True).filter(
    lambda k: not k.startswith(("dep_", "hcl_")) and k not in ("tags", "Environment", "ManagedByModule")
)
keys = st.one_of(plain_keys, st.sampled_from(["for", "null", "true", "1st", "a.b", "a b", "-x", "${x}", "日本", "é"]))
scalars = st.one_of(
    strings,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)
tag_maps = st.dictionaries(plain_keys, strings, max_size=3)
names = st.from_regex(r"[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,4})?", fullmatch=True)
identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@dataclass
class Generated:
    """A generated project: the documents to write, and what the render must say."""

    environments: dict[str, Any]
    catalog: dict[str, dict[str, Any]]  # module id -> document
    #: unit -> (module id, dependency input names)
    units: dict[str, tuple[str, list[str]]] = field(default_factory=dict)


class Dumper(yaml.SafeDumper):
    """PyYAML writes plain what its YAML 1.1 resolver reads as a string, such as
    ``080100000000`` or ``1e5``; tfgen reads YAML 1.2 numbers (and refuses what the two
    versions read differently). Quote every string that could start a number, a bool or
    a null, as a user would."""


#: What tfgen's loader reads as other than a string, or refuses, when it is plain
#: (generator/project/loader.py): nulls, bools of YAML 1.1 and 1.2, and numbers.
_NOT_PLAIN = re.compile(
    r"(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[-+]?[0-9][0-9_:]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|0[oxX][0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN))"
)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "'" if _NOT_PLAIN.fullmatch(value) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


Dumper.add_representer(str, _represent_str)


def dump(document: Mapping[str, Any]) -> str:
    # allow_unicode=False: PyYAML writes U+0085 raw inside single quotes, where YAML reads
    # a line break (see test_properties.py).
    text = yaml.dump(dict(document), Dumper=Dumper, allow_unicode=False, sort_keys=False)
    return text.replace(f"'{HCL_SENTINEL}'", f"!hcl {HCL_EXPRESSION}")


@st.composite
def projects(draw: st.DrawFn) -> Generated:
    project_name = draw(names)
    # --- catalog: modules and one unit each (sometimes two) -------------------------
    module_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    catalog: dict[str, dict[str, Any]] = {}
    unit_module: dict[str, str] = {}
    unit_deps: dict[str, list[str]] = {}
    depended: set[str] = set()
    unit_names: list[str] = []
    for index, module in enumerate(module_names):
        category = draw(st.sampled_from(["apps", "data", "net", "svc"]))
        module_id = f"{category}/{module}"
        source = draw(st.sampled_from(["tfr", "git", "local"]))
        entry: dict[str, Any] = {"description": draw(strings)}
        if source == "tfr":
            entry["source"] = f"tfr:///acme/{module}/aws"
            entry["version"] = draw(st.from_regex(r"[0-9]\.[0-9]{1,2}\.[0-9]", fullmatch=True))
        elif source == "git":
            entry["source"] = f"git::https://example.com/modules/{module}.git"
            entry["version"] = draw(st.from_regex(r"v[0-9]\.[0-9]\.[0-9]", fullmatch=True))
        else:
            entry["source"] = f"../../modules/{module}"
        entry["layer"] = draw(st.from_regex(r"[0-9]{2}-[a-z]{1,6}", fullmatch=True))
        inputs = draw(st.dictionaries(keys, values, max_size=4))
        if draw(st.booleans()):
            inputs["hcl_region"] = HCL_SENTINEL
        entry["inputs"] = inputs
        unit = f"u{index}-{module}"
        unit_names.append(unit)
        unit_module[unit] = module_id
        # Dependencies on the units of earlier modules: acyclic by construction.
        dependencies: dict[str, Any] = {}
        dep_inputs: list[str] = []
        earlier = unit_names[:-1]
        for target in draw(st.lists(st.sampled_from(earlier), unique=True, max_size=2)) if earlier else []:
            outputs = draw(st.lists(identifiers, min_size=1, max_size=3, unique=True))
            block = f"dep{len(dependencies)}_{target.replace('-', '_')}"
            wiring: dict[str, Any] = {}
            for n, output in enumerate(outputs):
                wiring[f"dep_{block}_{n}"] = output
            if len(outputs) > 1 and draw(st.booleans()):
                wiring[f"dep_{block}_list"] = outputs
            dep: dict[str, Any] = {"unit": target, "outputs": wiring}
            if draw(st.booleans()):
                dep["mock_outputs"] = {o: draw(values) for o in outputs}
            dependencies[block] = dep
            dep_inputs += list(wiring)
            depended.add(target)
        if dependencies:
            entry["dependencies"] = dependencies
        catalog[module_id] = entry
        unit_deps[unit] = dep_inputs

    # --- sizing tiers -----------------------------------------------------------------
    tier_keys = draw(st.lists(plain_keys, max_size=3, unique=True))
    tiers: dict[str, dict[str, Any]] = {}
    if tier_keys:
        scalar = st.one_of(strings, st.integers(-(10**6), 10**6), st.booleans())
        for tier in draw(st.lists(identifiers, min_size=1, max_size=3, unique=True)):
            tiers[tier] = {k: draw(scalar) for k in tier_keys}

    # --- environments -----------------------------------------------------------------
    env_names = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    networks = iter(draw(st.permutations(range(256))))
    environments: dict[str, Any] = {}
    for env in env_names:
        spec: dict[str, Any] = {"account_id": draw(st.from_regex(r"[0-9]{12}", fullmatch=True))}
        if tiers:
            spec["sizing"] = draw(st.sampled_from(sorted(tiers)))
            overrides = draw(st.lists(st.sampled_from(tier_keys), unique=True, max_size=2))
            if overrides:
                spec["sizing_overrides"] = {k: draw(st.one_of(strings, st.integers(0, 99))) for k in overrides}
        if draw(st.booleans()):
            spec["deletion_protection"] = draw(st.booleans())
        regions: dict[str, Any] = {}
        primary = False
        for region in draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)):
            azs = draw(st.lists(st.sampled_from(sorted(ZONES[region])), min_size=1, unique=True))
            prefix = draw(st.integers(16, 20))
            body: dict[str, Any] = {"vpc_cidr": f"10.{next(networks)}.0.0/{prefix}", "azs": sorted(azs)}
            role = draw(st.sampled_from([None, "dr"] if primary else [None, "dr", "primary"]))
            if role:
                body["role"] = role
                primary = primary or role == "primary"
            if draw(st.booleans()):
                body["settings"] = draw(st.dictionaries(keys, values, max_size=2))
            region_units = unit_overrides(draw, unit_names, depended)
            if region_units:
                body["units"] = region_units
            regions[region] = body
        spec["regions"] = regions
        if all(len(r["azs"]) >= 2 for r in regions.values()) and draw(st.booleans()):
            spec["multi_az"] = True
        if draw(st.booleans()):
            spec["settings"] = draw(st.dictionaries(keys, values, max_size=3))
        if draw(st.booleans()):
            spec["tags"] = draw(tag_maps)
        env_units = unit_overrides(draw, unit_names, depended)
        if env_units:
            spec["units"] = env_units
        environments[env] = spec

    # Some dependencies on a unit in another region: one that every environment has.
    common = sorted(set.intersection(*(set(e["regions"]) for e in environments.values())))
    for entry in catalog.values():
        for dep in entry.get("dependencies", {}).values():
            if common and draw(st.integers(0, 2)) == 0:
                dep["region"] = draw(st.sampled_from(common))

    # --- units --------------------------------------------------------------------------
    units: dict[str, Any] = {}
    for unit in unit_names:
        body = {"module": unit_module[unit]}
        if draw(st.booleans()):
            body["description"] = draw(strings)
        if draw(st.booleans()):
            body["inputs"] = draw(st.dictionaries(keys, values, max_size=3))
        if draw(st.integers(0, 3)) == 0:
            body["tags"] = draw(tag_maps)
        if unit not in depended and len(env_names) > 1 and draw(st.booleans()):
            body["environments"] = draw(st.lists(st.sampled_from(env_names), min_size=1, unique=True))
        units[unit] = body

    state_region = draw(st.sampled_from(["{region}", *REGIONS]))
    buckets = ["{project}-{env}-{account_id}-{region}"]
    if state_region != "{region}":
        buckets.append("{project}-{account_id}-tfstate")
    document: dict[str, Any] = {
        "version": 1,
        "project": {"name": project_name, "tags": draw(tag_maps)},
        "state": {"bucket": draw(st.sampled_from(buckets)), "region": state_region},
    }
    if draw(st.sampled_from(["classic", "classic", "classic", "stacks"])) == "stacks":
        document["style"] = "stacks"
    if draw(st.booleans()):
        document["state"]["lock"] = "dynamodb"
        document["state"]["dynamodb_table"] = f"{project_name}-locks"
    if draw(st.booleans()):
        document["terraform"] = {"required_version": ">= 1.11.0", "aws_provider_version": "~> 5.62"}
    if tiers:
        document["sizing"] = tiers
    defaults: dict[str, Any] = {}
    if draw(st.booleans()):
        defaults["settings"] = draw(st.dictionaries(keys, values, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        defaults["tags"] = draw(tag_maps)
    if draw(st.integers(0, 3)) == 0:
        defaults["units"] = unit_overrides(draw, unit_names, depended)
    if defaults:
        document["defaults"] = defaults
    document["environments"] = environments
    document["units"] = units
    generated = Generated(document, catalog)
    generated.units = {u: (unit_module[u], unit_deps[u]) for u in unit_names}
    return generated


def unit_overrides(draw: st.DrawFn, unit_names: list[str], depended: set[str]) -> dict[str, Any]:
    """Per-environment or per-region overrides: inputs of some units, ``false`` for a
    unit no other unit depends on."""
    found: dict[str, Any] = {}
    for unit in draw(st.lists(st.sampled_from(unit_names), unique=True, max_size=2)):
        if unit not in depended and draw(st.integers(0, 3)) == 0:
            found[unit] = False
        else:
            found[unit] = {"inputs": draw(st.dictionaries(keys, values, min_size=1, max_size=2))}
            if draw(st.integers(0, 3)) == 0:
                found[unit]["tags"] = draw(tag_maps)
    return found


def write(generated: Generated, root: Path) -> Path:
    (root / "environments.yaml").write_text(dump(generated.environments), encoding="utf-8")
    for module_id, document in generated.catalog.items():
        target = root / "catalog" / f"{module_id}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump(document), encoding="utf-8")
    return root / "environments.yaml"


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """FORMAT.md section 2, written again here so the test does not trust the model's own:
    maps merge deeply, lists and scalars are replaced."""
    merged = dict(base)
    for name, value in override.items():
        if isinstance(merged.get(name), Mapping) and isinstance(value, Mapping):
            merged[name] = deep_merge(merged[name], value)
        else:
            merged[name] = value
    return merged


LOCATED = re.compile(r"^\S[^\n]*:\d+:\d+: \S")
SUMMARY = re.compile(r"^\d+ errors?(, \d+ warnings?)?$")


def assert_clean_refusal(result: Any, before: dict[str, bytes], root: Path) -> None:
    """A refused project: exit 2, errors that each name file:line:col, no traceback,
    nothing written."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    # Every line but the warnings and the closing count is an error at file:line:col.
    errors = [line for line in result.output.splitlines()
              if line.strip() and ": warning: " not in line and not SUMMARY.match(line)]
    assert errors, result.output
    assert all(LOCATED.match(line) for line in errors), result.output
    assert tree(root) == before


def expected_inputs(generated: Generated, env: str, region: str, unit: str) -> dict[str, Any] | None:
    """The inputs of *unit* in env/region the YAML asks for (catalog < unit < environment
    < region, maps deeply), without the !hcl and dependency inputs; None when the unit is
    not deployed there."""
    document = generated.environments
    spec = document["units"][unit]
    env_spec = document["environments"][env]
    region_spec = env_spec["regions"][region]
    if "environments" in spec and env not in spec["environments"]:
        return None
    # defaults.units merge deeply under the environment's units (a `false` replaces).
    env_units = deep_merge(document.get("defaults", {}).get("units", {}), env_spec.get("units", {}))
    layers = [env_units.get(unit), region_spec.get("units", {}).get(unit)]
    if False in layers:
        return None
    module_id = spec["module"]
    merged = dict(generated.catalog[module_id].get("inputs", {}))
    tags: dict[str, str] = dict(spec.get("tags", {}))
    for layer in [spec, *layers]:
        if layer:
            merged = deep_merge(merged, layer.get("inputs", {}))
    for layer in layers:
        if layer:
            tags.update(layer.get("tags", {}))
    if tags:
        merged = deep_merge(merged, {"tags": {**tags, "ManagedByModule": module_id}})
    merged.pop("hcl_region", None)
    return merged


def loads(pygohcl: Any, text: str, where: str) -> Any:
    try:
        return pygohcl.loads(text, keep_interpolations=False)
    except Exception as error:  # pygohcl raises its own HCLParseError
        pytest.fail(f"{where} does not parse: {error}\n{text}")


@pytest.mark.external
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(projects())
def test_what_validate_accepts_render_writes_and_hcl_reads_back(
    tmp_path: Path, pygohcl: Any, hclfmt: str, generated: Generated
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    config = write(generated, root)
    note((root / "environments.yaml").read_text(encoding="utf-8"))
    runner = CliRunner()
    before = tree(root)
    validated = runner.invoke(main, ["validate", "-c", str(config)])
    if validated.exit_code != 0:
        event("refused by validate")
        note(validated.output)
        assert_clean_refusal(validated, before, root)
        rendered = runner.invoke(main, ["render", "-c", str(config)])
        assert_clean_refusal(rendered, before, root)
        return
    event("accepted by validate")

    rendered = runner.invoke(main, ["render", "-c", str(config)])
    assert rendered.exit_code == 0, (rendered.output, rendered.exception)
    out = root / "output"
    written = tree(out)
    files = hcl_files(out)
    assert files
    parsed = {p.relative_to(out).as_posix(): loads(pygohcl, p.read_text(encoding="utf-8"), str(p)) for p in files}
    assert hclfmt_check(hclfmt, files) == []

    # Idempotent: a second render writes nothing new, and --check agrees.
    again = runner.invoke(main, ["render", "-c", str(config)])
    assert again.exit_code == 0, again.output
    assert tree(out) == written
    check = runner.invoke(main, ["render", "--check", "-c", str(config)])
    assert check.exit_code == 0, check.output

    document = generated.environments
    if document.get("style") == "stacks":
        # The stacks tree (terragrunt.stack.hcl and _units/) is parsed, formatted and
        # idempotent; its values are Terragrunt's to assemble (tests/test_stacks.py).
        event("style: stacks")
        for env, spec in document["environments"].items():
            for region in spec["regions"]:
                placed = [u for u in generated.units if expected_inputs(generated, env, region, u) is not None]
                stack = f"environments/{env}/{region}/terragrunt.stack.hcl"
                assert (stack in parsed) == bool(placed), f"{stack}: units {placed}"
        return

    root_hcl = parsed["root.hcl"]
    for name, block in root_hcl["generate"].items():
        loads(pygohcl, block["contents"], f"root.hcl generate {name!r}")
    provider = loads(pygohcl, root_hcl["generate"]["provider"]["contents"], "provider")
    env_tags = {e: deep_merge(document.get("defaults", {}).get("tags", {}), s.get("tags", {}))
                for e, s in document["environments"].items()}
    if not any(env_tags.values()):
        rendered_tags = dict(provider["provider"]["aws"]["default_tags"]["tags"])
        rendered_tags.pop("Environment")
        assert_same(document["project"]["tags"], rendered_tags, "default_tags")

    # env.hcl and region.hcl: sizing, settings and tags as merged.
    for env, spec in document["environments"].items():
        env_locals = parsed[f"environments/{env}/env.hcl"]["locals"]
        assert env_locals["account_id"] == spec["account_id"]
        if "sizing" in spec:
            tier = {**document["sizing"][spec["sizing"]], **spec.get("sizing_overrides", {})}
            assert env_locals["sizing_tier"] == spec["sizing"]
            assert_same(tier, env_locals["sizing"], f"{env}.sizing")
        settings_ = deep_merge(document.get("defaults", {}).get("settings", {}), spec.get("settings", {}))
        assert_same(settings_, env_locals.get("settings", {}), f"{env}.settings")
        if any(env_tags.values()):
            assert_same(env_tags[env], env_locals["tags"], f"{env}.tags")
        for region, body in spec["regions"].items():
            region_locals = parsed[f"environments/{env}/{region}/region.hcl"]["locals"]
            assert region_locals["azs"] == [f"{region}{z}" for z in body["azs"]]
            assert region_locals["vpc_cidr"] == body["vpc_cidr"]
            merged_settings = deep_merge(settings_, body.get("settings", {}))
            assert_same(merged_settings, region_locals.get("settings", {}), f"{env}/{region}.settings")

    # Every unit: deployed where the YAML says, with the inputs the YAML says. Terragrunt
    # merges the envcommon include's inputs shallowly under the leaf's.
    compared = 0
    leaves = 0
    for unit, (module_id, dep_inputs) in generated.units.items():
        places = [(e, r) for e, spec in document["environments"].items() for r in spec["regions"]
                  if expected_inputs(generated, e, r, unit) is not None]
        if not places:  # deployed nowhere (validate warns): no _envcommon file
            continue
        envcommon = parsed[f"_envcommon/{module_id}.hcl"].get("inputs", {})
        catalog_inputs = generated.catalog[module_id].get("inputs", {})
        assert_same(
            {k: v for k, v in catalog_inputs.items() if k != "hcl_region"},
            {k: v for k, v in envcommon.items() if k != "hcl_region"},
            f"_envcommon/{module_id}.inputs",
        )
        if "hcl_region" in catalog_inputs:
            assert "hcl_region" in envcommon
        layer = generated.catalog[module_id]["layer"]
        for env, spec in document["environments"].items():
            for region in spec["regions"]:
                path = f"environments/{env}/{region}/{layer}/{unit}/terragrunt.hcl"
                expected = expected_inputs(generated, env, region, unit)
                if expected is None:
                    assert path not in parsed, f"{path}: the unit is not deployed there"
                    continue
                assert path in parsed, f"{path} is missing"
                leaves += 1
                leaf = parsed[path]
                leaf_inputs = dict(leaf.get("inputs", {}))
                for name in dep_inputs:
                    assert name in leaf_inputs, f"{path}: dependency input {name} is missing"
                    leaf_inputs.pop(name)
                effective = {**envcommon, **leaf_inputs}
                effective.pop("hcl_region", None)
                compared += assert_same(expected, effective, f"{path}.inputs")
                for block, dep in generated.catalog[module_id].get("dependencies", {}).items():
                    rendered_dep = leaf["dependency"][block]
                    target_module = generated.units[dep["unit"]][0]
                    target = (f"environments/{env}/{dep.get('region', region)}/"
                              f"{generated.catalog[target_module]['layer']}/{dep['unit']}")
                    config_path = posixpath.normpath(posixpath.join(posixpath.dirname(path),
                                                                    rendered_dep["config_path"]))
                    if "region" in dep:
                        event("a dependency on another region's unit")
                    assert config_path == target, f"{path}: dependency {block} points at {config_path}"
                    if "mock_outputs" in dep:
                        assert_same(dep["mock_outputs"], rendered_dep["mock_outputs"], f"{path}.{block}.mock_outputs")
    event(f"units placed: {'0' if not leaves else '1-9' if leaves < 10 else '10+'}")
    note(f"{leaves} leaves, {compared} input values compared")



def accepted(generated: Generated) -> bool:
    with tempfile.TemporaryDirectory() as directory:
        try:
            api.validate(write(generated, Path(directory)))
        except InputError:
            return False
    return True


def test_most_generated_projects_are_valid() -> None:
    """The strategy is meant to build valid projects: on a fixed batch, validate accepts
    most of them (a refusal there is allowed only as a clean one, tested above)."""
    outcomes: list[bool] = []

    @settings(max_examples=BATCH, derandomize=True, database=None, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(projects())
    def run(generated: Generated) -> None:
        outcomes.append(accepted(generated))

    run()
    assert len(outcomes) >= BATCH // 2
    rate = sum(outcomes) / len(outcomes)
    assert rate >= MIN_ACCEPTED, f"validate accepts {sum(outcomes)} of {len(outcomes)} generated projects"


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(projects(), st.sampled_from(["aux", "nul", "com1"]))
def test_a_random_project_with_one_bad_name_is_refused_cleanly(
    tmp_path: Path, generated: Generated, reserved: str
) -> None:
    """The refusal branch above, on purpose: one layer named after a Windows device."""
    next(iter(generated.catalog.values()))["layer"] = reserved
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    config = write(generated, root)
    before = tree(root)
    runner = CliRunner()
    for command in (["validate"], ["render"], ["render", "--check"]):
        result = runner.invoke(main, [*command, "-c", str(config)])
        assert_clean_refusal(result, before, root)
        assert f"layer name '{reserved}'" in result.output
