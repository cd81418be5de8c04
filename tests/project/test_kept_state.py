"""A unit override's state: (bucket, key) keeps the unit's state object where it already
is (what tfgen import writes when the rendered layout cannot reproduce the old one)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from generator import api
from generator.errors import InputError
from generator.project import backend

MINIMAL_REGION = "      eu-central-1: { vpc_cidr: 10.0.0.0/16, azs: [a, b] }"


def _with_state(config: Path, state: str) -> None:
    text = config.read_text(encoding="utf-8")
    assert MINIMAL_REGION in text
    region = (
        "      eu-central-1:\n        vpc_cidr: 10.0.0.0/16\n        azs: [a, b]\n"
        f"        units:\n          vpc: {{ state: {state} }}"
    )
    config.write_text(text.replace(MINIMAL_REGION, region), encoding="utf-8")


@pytest.fixture
def minimal(copy_case: Callable[[str], Path]) -> Path:
    return copy_case("minimal")


def test_the_leaf_keeps_the_bucket_and_key(minimal: Path) -> None:
    _with_state(minimal, "{ bucket: old-bucket, key: live/dev/vpc/tf.tfstate }")
    loaded = api.load(minimal)
    files = {p: d.decode() for p, d in api.plan(loaded).desired.items()}
    leaf = files["environments/dev/eu-central-1/network/vpc/terragrunt.hcl"]
    assert "expose = true" in leaf
    assert (
        "remote_state = merge(include.root.remote_state, {\n"
        "  config = merge(include.root.remote_state.config, {\n"
        '    bucket = "old-bucket"\n'
        '    key    = "live/dev/vpc/tf.tfstate"\n'
    ) in leaf
    (unit,) = loaded.project.units
    settings = backend.config(loaded.project, unit)
    assert (settings["bucket"], settings["key"]) == ("old-bucket", "live/dev/vpc/tf.tfstate")


def test_a_key_alone_keeps_root_hcl_bucket(minimal: Path) -> None:
    _with_state(minimal, "{ key: old/vpc.tfstate }")
    files = {p: d.decode() for p, d in api.plan(api.load(minimal)).desired.items()}
    leaf = files["environments/dev/eu-central-1/network/vpc/terragrunt.hcl"]
    assert '    key = "old/vpc.tfstate"\n' in leaf and "bucket =" not in leaf


def test_a_bad_key_is_refused_where_it_is_written(minimal: Path) -> None:
    _with_state(minimal, "{ key: /absolute/key }")
    with pytest.raises(InputError) as caught:
        api.validate(minimal)
    (problem,) = caught.value.diagnostics
    assert "environments.dev.regions.eu-central-1.units.vpc.state.key" in str(problem)
    assert "no leading '/'" in str(problem)


def test_two_units_may_not_keep_one_state_object(minimal: Path) -> None:
    _with_state(minimal, "{ bucket: old-bucket, key: shared.tfstate }")
    text = minimal.read_text(encoding="utf-8")
    prod = (
        '  prod:\n    account_id: "210987654321"\n    regions:\n      eu-central-1:\n'
        "        vpc_cidr: 10.1.0.0/16\n        azs: [a, b]\n"
        "        units:\n          vpc: { state: { bucket: old-bucket, key: shared.tfstate } }\n"
    )
    minimal.write_text(text.replace("units:\n  vpc:", prod + "units:\n  vpc:"), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        api.validate(minimal)
    messages = [str(d) for d in caught.value.diagnostics]
    assert any(
        "prod/eu-central-1/vpc and dev/eu-central-1/vpc both keep the state object s3://old-bucket/shared.tfstate" in m
        or "dev/eu-central-1/vpc and prod/eu-central-1/vpc both keep" in m
        for m in messages
    ), messages


def test_the_stacks_style_refuses_rather_than_moving_the_state(minimal: Path) -> None:
    _with_state(minimal, "{ key: old/vpc.tfstate }")
    with pytest.raises(InputError) as caught:
        api.plan(api.load(minimal), style="stacks")
    (problem,) = caught.value.diagnostics
    assert "dev/eu-central-1/vpc keeps its state object (state:), which the stacks style cannot render" in str(problem)
    assert "environments.dev.regions.eu-central-1.units.vpc.state" in str(problem)
