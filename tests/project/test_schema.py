from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import format_key_path
from generator.project import schema
from generator.project.loader import loads

from ..conftest import tree

VALID = """\
version: 1
project: {name: demo, tags: {Team: platform}}
terraform: {required_version: ">= 1.6.0"}
state: {bucket: "{project}-{account_id}", region: us-east-1}
defaults: {deletion_protection: false}
environments:
  dev:
    account_id: "111111111111"
    regions:
      us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a, b]}
    units:
      vpc: {inputs: {x: 1}}
units:
  vpc: {module: networking/vpc, inputs: {y: 2}}
"""

CATALOG = """\
source: tfr:///terraform-aws-modules/vpc/aws
version: 5.17.0
layer: 01-network
dependencies:
  network:
    unit: vpc
    outputs: {vpc_id: vpc_id}
inputs: {}
"""


def messages(text: str, name: str = schema.ENVIRONMENTS) -> list[str]:
    return [str(d) for d in sorted(schema.validate_document(loads(text, "t.yaml"), name), key=lambda d: d.sort_key())]


def test_the_valid_documents_are_valid() -> None:
    assert messages(VALID) == []
    assert messages(CATALOG, schema.CATALOG) == []


@pytest.mark.parametrize("old, new, expected", [
    ("version: 1", "verison: 1", "t.yaml:1:1: verison: unknown key 'verison' (did you mean 'version'?)"),
    ("name: demo", "nmae: demo", "t.yaml:2:11: project.nmae: unknown key 'nmae' (did you mean 'name'?)"),
    ("required_version:", "required_versoin:", "t.yaml:3:13: terraform.required_versoin: unknown key "
                                               "'required_versoin' (did you mean 'required_version'?)"),
    ("region: us-east-1}", "region: us-east-1, encypt: true}", "t.yaml:4:62: state.encypt: unknown key 'encypt' "
                                                               "(did you mean 'encrypt'?)"),
    ("{deletion_protection: false}", "{deletion-protection: false}",
     "t.yaml:5:12: defaults.deletion-protection: unknown key 'deletion-protection' "
     "(did you mean 'deletion_protection'?)"),
    ('    account_id: "111111111111"', '    acount_id: "111111111111"',
     "t.yaml:8:5: environments.dev.acount_id: unknown key 'acount_id' (did you mean 'account_id'?)"),
    ("azs: [a, b]}", "azs: [a, b], rolle: dr}", "t.yaml:10:55: environments.dev.regions.us-east-1.rolle: unknown "
                                                "key 'rolle' (did you mean 'role'?)"),
    ("vpc: {inputs: {x: 1}}", "vpc: {input: {x: 1}}", "t.yaml:12:13: environments.dev.units.vpc.input: unknown key "
                                                      "'input' (did you mean 'inputs'?)"),
    ("{module: networking/vpc,", "{modul: networking/vpc,", "t.yaml:14:9: units.vpc.modul: unknown key 'modul' "
                                                            "(did you mean 'module'?)"),
])
def test_unknown_keys_suggest_the_closest_key_at_every_level(old: str, new: str, expected: str) -> None:
    assert old in VALID
    assert expected in messages(VALID.replace(old, new, 1))


@pytest.mark.parametrize("old, new, expected", [
    ("layer:", "layr:", "t.yaml:3:1: layr: unknown key 'layr' (did you mean 'layer'?)"),
    ("    unit: vpc", "    units: vpc", "t.yaml:6:5: dependencies.network.units: unknown key 'units' "
                                       "(did you mean 'unit'?)"),
    ("outputs:", "output:", "t.yaml:7:5: dependencies.network.output: unknown key 'output' (did you mean 'outputs'?)"),
])
def test_unknown_keys_in_catalog_files(old: str, new: str, expected: str) -> None:
    found = messages(CATALOG.replace(old, new, 1), schema.CATALOG)
    assert expected in found


def test_every_unknown_key_of_a_mapping_is_reported() -> None:
    found = messages(VALID.replace("{name: demo,", "{name: demo, colour: blue, size: big,"))
    assert [m.split(": ")[1] for m in found] == ["project.colour", "project.size"]


def test_an_unlike_key_lists_the_allowed_keys() -> None:
    found = messages(VALID.replace("version: 1", "version: 1\nzzz: 1"))
    assert found == ["t.yaml:2:1: zzz: unknown key 'zzz' (allowed keys: $schema, aws_regions, ci, defaults, "
                     "environments, layer_order, output_extra_files, project, settings_schema, sizing, stacks, state, "
                     "style, tenants, terraform, units, version)"]


def test_unknown_keys_are_marked_as_not_blocking_the_model() -> None:
    doc = loads(VALID.replace("version: 1", "version: 1\nverison: 1"), "t.yaml")
    assert [d.rule for d in schema.validate_document(doc)] == ["unknown-key"]
    doc = loads(VALID.replace("version: 1", "version: 2"), "t.yaml")
    assert [d.rule for d in schema.validate_document(doc)] == ["schema"]


@pytest.mark.parametrize("override, expected", [
    ("vpc: {inptus: {x: 1}}", "environments.dev.units.vpc.inptus: unknown key 'inptus' (did you mean 'inputs'?)"),
    ("vpc: true", "environments.dev.units.vpc: expected false or a mapping, got a boolean (true)"),
    ("vpc: [x]", "environments.dev.units.vpc: expected false or a mapping, got a list"),
    ("vpc: {inputs: [1]}", "environments.dev.units.vpc.inputs: expected a mapping, got a list"),
])
def test_one_of_shows_the_best_alternative_not_a_wall(override: str, expected: str) -> None:
    found = messages(VALID.replace("vpc: {inputs: {x: 1}}", override))
    assert len(found) == 1
    assert expected in found[0]


def test_one_of_in_catalog_outputs() -> None:
    found = messages(CATALOG.replace("{vpc_id: vpc_id}", "{vpc_id: 42, subnets: [1abc]}"), schema.CATALOG)
    assert found == [
        "t.yaml:7:23: dependencies.network.outputs.vpc_id: expected a string or a list, got a number (42) "
        '(quote it: "42")',
        "t.yaml:7:37: dependencies.network.outputs.subnets[0]: '1abc': an output name is an HCL identifier",
    ]


def test_account_id_as_a_number_says_to_quote_it() -> None:
    found = messages(VALID.replace('"111111111111"', "111111111111"))
    assert found == [
        "t.yaml:8:17: environments.dev.account_id: expected a string, got a number (111111111111): an AWS account "
        'id is exactly 12 digits, written as a quoted string (quote it: "111111111111")'
    ]
    short = messages(VALID.replace('"111111111111"', '"1111"'))
    assert short == ["t.yaml:8:17: environments.dev.account_id: '1111': an AWS account id is exactly 12 digits, "
                     "written as a quoted string"]


@pytest.mark.parametrize("name, reason", [
    ('".."', "'..' refers to a directory, not a name of its own"),
    ('"a/b"', "contains a path separator"),
    ('"/abs"', "contains a path separator"),
    ('"a\\\\b"', "contains a path separator"),
    ('"x\\0"', "contains a NUL or control character"),
    ("Dev", "contains uppercase letters; names are lowercase so that two cannot differ only by case"),
    ('"dev."', "ends with a dot or a space"),
    ('"a:b"', "contains ':', which Windows does not allow"),
    ("-dev", "names are 1-63 lowercase letters, digits"),
])
def test_invalid_names_say_why(name: str, reason: str) -> None:
    found = messages(VALID.replace("  dev:", f"  {name}:"))
    assert len(found) == 1
    assert found[0].startswith("t.yaml:7:3: environments")
    assert "invalid name" in found[0] and reason in found[0]


def test_region_names_of_other_partitions_fit_the_pattern() -> None:
    assert messages(VALID.replace("us-east-1: {vpc", "eusc-de-east-1: {vpc")) == []
    assert "an AWS region name looks like us-east-1" in messages(VALID.replace("us-east-1: {vpc", "useast1: {vpc"))[0]


def test_key_paths_quote_keys_that_are_not_plain_words() -> None:
    assert format_key_path(("environments", "prod", "regions", "us-east-1", "azs", 2)) == \
        "environments.prod.regions.us-east-1.azs[2]"
    assert format_key_path(("units", "a/../b")) == 'units["a/../b"]'
    assert format_key_path(("environments", "dev\x00")) == 'environments["dev\\u0000"]'
    assert format_key_path(("project", "tags", "Cost Center")) == 'project.tags["Cost Center"]'


def test_the_published_schema_is_draft_2020_12_and_closed() -> None:
    for name in (schema.ENVIRONMENTS, schema.CATALOG):
        document = json.loads(schema.schema_text(name))
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert document["additionalProperties"] is False


@pytest.mark.parametrize("name", [schema.ENVIRONMENTS, schema.CATALOG])
def test_packaged_schemas_are_valid_draft_2020_12(name: str) -> None:
    """tfgen does not re-check its own schemas on every run; this test does."""
    import jsonschema

    document = json.loads(schema.schema_text(name))
    assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("tags, expected", [
    ("{Team: " + "v" * 257 + "}",
     "project.tags.Team: 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv...' is 257 characters long: an AWS tag value is at "
     "most 256 characters"),
    ("{" + "K" * 129 + ": v}",
     "invalid tag key 'KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK...' (129 characters): an AWS tag key is 1 to 128 "
     "characters and does not start with aws: (reserved by AWS)"),
    ("{'AWS:team': v}", "invalid tag key 'AWS:team' (8 characters): an AWS tag key is 1 to 128 characters"),
    ("{'': v}", "invalid tag key '' (0 characters)"),
])
def test_tags_are_held_to_aws_limits(tags: str, expected: str) -> None:
    found = messages(VALID.replace("tags: {Team: platform}", f"tags: {tags}"))
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith("t.yaml:2:")  # located at the tag


def test_the_longest_tags_aws_takes_pass() -> None:
    assert messages(VALID.replace("tags: {Team: platform}", "tags: {" + "K" * 128 + ": " + "v" * 256 + "}")) == []


def test_a_megabyte_tag_value_is_refused_before_any_rendering(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 5 MB tag value took 21 s to render into every unit's files; the schema refuses it
    first, located, without pasting it into the message."""
    text = reference_project.read_text()
    reference_project.write_text(text.replace("  tags:\n", "  tags:\n    Notes: " + "x" * 5_000_000 + "\n", 1))
    monkeypatch.chdir(reference_project.parent)
    before = tree(reference_project.parent / "output")
    started = time.perf_counter()
    result = runner.invoke(main, ["render"])
    seconds = time.perf_counter() - started
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("environments.yaml:8:12: project.tags.Notes: 'xxxx")
    assert "is 5,000,000 characters long: an AWS tag value is at most 256 characters" in result.stderr
    assert len(result.stderr) < 500
    assert tree(reference_project.parent / "output") == before
    assert seconds < 10, seconds  # no render: it took 21 s to render before the limit
