"""Property tests: adversarial YAML values go through real templates and come back from
HashiCorp's parser unchanged, in files that hclfmt leaves as they are.

Strings mix the sequences that break naive HCL writers (quotes, backslashes, line
breaks, ``${``, ``%{``, ``$${``, comment and heredoc markers, control characters,
combining marks, emoji) with arbitrary Unicode; keys include keywords and non-identifiers;
numbers span big integers and every finite float. HCL normalises strings to Unicode NFC
(cty does), so strings are compared in NFC; maps whose keys would merge under NFC are
refused by ``tfgen validate`` (see test_hcl.py) and are not generated here.

Examples per run: EXAMPLES for the template property, PIPELINE_EXAMPLES for the
whole pipeline (YAML file -> loader -> model -> template).
"""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator import api
from generator.hcl import literal as hcl
from generator.hcl.format import format_source
from generator.rendering.plan import PlannedFile
from generator.rendering.render import Renderer

from .judges import assert_same, hclfmt_check, hclfmt_text

EXAMPLES = 150
PIPELINE_EXAMPLES = 40

FRAGMENTS = [
    '"', "\\", "\n", "\r", "\r\n", "\t", "${", "%{", "$${", "%%{", "$$${", "$", "%", "{", "}", "~}",
    "#", "//", "/*", "*/", "<<EOF", "<<-EOT", "EOF", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
    "\ufeff", "é", "e\u0301", "👍🏽", "🇫🇷", "क्ष", "日本", " ", "  ", "\\n", "\\u0041", "=", "a = 1",
]
characters = st.characters(exclude_categories=["Cs"])
strings = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(characters, max_size=4)), max_size=8).map("".join)
keys = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,12}", fullmatch=True),
    st.sampled_from(["for", "in", "if", "null", "true", "false", "endfor", "1st", "a.b", "a b", "-x", "x-", "", "a\n"]),
    strings,
)
scalars = st.one_of(
    strings,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
#: Tag keys AWS accepts (1 to 128 characters, not aws:); validate refuses the others
#: (tests/project/test_schema.py). Values stay within 256 characters by construction.
tag_keys = keys.filter(lambda k: 0 < len(k) <= 128 and not k.lower().startswith("aws:"))
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)


def has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def representable(value: Any) -> bool:
    return not any(True for _ in hcl.key_collisions(value))


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


@pytest.mark.external
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(values, min_size=1, max_size=6), st.booleans())
def test_values_round_trip_through_a_real_template(
    renderer: Renderer, pygohcl: Any, hclfmt: str, generated: list[Any], flat: bool
) -> None:
    """*flat*: style single-include's values file, plain attributes instead of locals."""
    assume(representable(generated))
    locals_ = {f"v{i}": value for i, value in enumerate(generated)}
    context = {"header": "# property test", "locals": locals_, "flat": flat}
    planned = PlannedFile("environments/t/env.hcl", "env.hcl.j2", context)
    text = renderer.render(planned).decode("utf-8")

    parsed = pygohcl.loads(text, keep_interpolations=False)
    assert_same(locals_, parsed if flat else parsed["locals"], "locals")

    status, formatted, errors = hclfmt_text(hclfmt, text)
    assert (status, errors) == (0, "")
    assert formatted == text
    assert format_source(text) == text


@pytest.mark.external
@settings(
    max_examples=PIPELINE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.dictionaries(keys, values, min_size=1, max_size=5), st.dictionaries(tag_keys, strings, max_size=3))
def test_catalog_inputs_round_trip_through_the_whole_pipeline(
    tmp_path: Path, pygohcl: Any, hclfmt: str, inputs: dict[str, Any], tags: dict[str, str]
) -> None:
    assume(representable(inputs) and representable(tags))
    assume(all(unicodedata.normalize("NFC", k) != "Environment" for k in tags))  # tfgen sets that tag itself
    # A NUL cannot travel in a TF_VAR_ environment variable: validate refuses it (tested
    # in tests/cases/invalid-input-nul); tags are rendered into files and may hold one.
    assume(not has_nul(inputs))
    # allow_unicode=False: with it, PyYAML writes U+0085 raw inside single quotes, where
    # YAML reads it as a line break. Raw UTF-8 in YAML is covered by tests/cases/hcl-fidelity.
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    (root / "catalog/apps").mkdir(parents=True)
    (root / "environments.yaml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "project": {"name": "prop", "tags": tags},
                "state": {"bucket": "{project}-state", "region": "us-east-1"},
                "environments": {
                    "dev": {
                        "account_id": "123456789012",
                        "regions": {"us-east-1": {"vpc_cidr": "10.0.0.0/16", "azs": ["a"]}},
                    }
                },
                "units": {"app": {"module": "apps/app"}},
            },
            allow_unicode=False,
        ),
        encoding="utf-8",
    )
    (root / "catalog/apps/app.yaml").write_text(
        yaml.safe_dump({"source": "./modules/app", "layer": "apps", "inputs": inputs}, allow_unicode=False),
        encoding="utf-8",
    )
    files = api.plan(api.load(root / "environments.yaml")).desired

    envcommon = files["_envcommon/apps/app.hcl"].decode("utf-8")
    assert_same(inputs, pygohcl.loads(envcommon, keep_interpolations=False)["inputs"], "inputs")
    root_hcl = pygohcl.loads(files["root.hcl"].decode("utf-8"), keep_interpolations=False)
    provider = pygohcl.loads(root_hcl["generate"]["provider"]["contents"], keep_interpolations=False)
    rendered_tags = provider["provider"]["aws"]["default_tags"]["tags"]
    rendered_tags.pop("Environment")
    assert_same(tags, rendered_tags, "tags")

    # The two files that hold the generated values, judged by one hclfmt run.
    judged = []
    for path in ("_envcommon/apps/app.hcl", "root.hcl"):
        target = root / "output" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[path])
        judged.append(target)
    assert hclfmt_check(hclfmt, judged) == []
