from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import api
from generator.cli import main
from generator.hcl import literal as hcl
from generator.project.values import HclExpr

from ..conftest import ProjectFactory
from ..judges import hclfmt_text


@pytest.mark.parametrize("value, expected", [
    ("plain", '"plain"'),
    ('say "hi"', r'"say \"hi\""'),
    ("back\\slash", r'"back\\slash"'),
    ("a\nb\tc\r", r'"a\nb\tc\r"'),
    ("${var.x}", '"$${var.x}"'),
    ("%{if x}", '"%%{if x}"'),
    ("$${x}", '"$$${x}"'),
    ("\x01\x7f", r'"\u0001\u007f"'),
    ("café ✓", '"café ✓"'),
    ("$ and % alone", '"$ and % alone"'),
])
def test_string_literals_escape_every_special_sequence(value: str, expected: str) -> None:
    assert hcl.string(value) == expected


@pytest.mark.parametrize("value, expected", [
    (None, "null"), (True, "true"), (False, "false"), (0, "0"), (-7, "-7"),
    (12345678901234567890, "12345678901234567890"), (0.25, "0.25"), (1e20, "1e+20"), (3.0, "3"),
    (1.5e300, "1.5e+300"), ([], "[]"), ({}, "{}"), (["a", 1, None], '["a", 1, null]'),
    (HclExpr("local.env.name"), "local.env.name"),
])
def test_literals(value: object, expected: str) -> None:
    assert hcl.literal(value) == expected


def test_keys_are_bare_only_when_safe() -> None:
    assert hcl.key("name") == "name"
    assert hcl.key("with-dash") == "with-dash"
    assert hcl.key("with space") == '"with space"'
    assert hcl.key("1starts-with-digit") == '"1starts-with-digit"'
    assert hcl.key("for") == '"for"' and hcl.key("null") == '"null"'
    assert hcl.key("name\n") == '"name\\n"'  # "$" would match before a final newline


def test_format_aligns_runs_and_indents() -> None:
    source = 'locals {\na = 1\nlonger = "x"\n\nmap = {\nk = 1\nkk = 2\n}\nz = [\n1,\n]\n}\n'
    assert hcl.format_hcl(source) == (
        'locals {\n  a      = 1\n  longer = "x"\n\n  map = {\n    k  = 1\n    kk = 2\n  }\n'
        '  z = [\n    1,\n  ]\n}\n'
    )


def test_format_leaves_heredoc_bodies_alone_and_keeps_them_in_the_run() -> None:
    source = 'g "p" {\npath = "x"\ncontents = <<EOF\n  keep  =  me\nEOF\n}\n'
    assert hcl.format_hcl(source) == 'g "p" {\n  path     = "x"\n  contents = <<EOF\n  keep  =  me\nEOF\n}\n'


def test_format_counts_graphemes_for_alignment() -> None:
    formatted = hcl.format_hcl('x {\n"é" = 1\nab = 2\n}\n')
    assert formatted == 'x {\n  "é" = 1\n  ab  = 2\n}\n'


def test_format_ignores_brackets_inside_strings_and_comments() -> None:
    source = 'x {\na = "{[("\nb = "${f("}")}" # {\n}\n'
    assert hcl.format_hcl(source) == 'x {\n  a = "{[("\n  b = "${f("}")}" # {\n}\n'


def test_format_lays_out_hand_written_expressions() -> None:
    source = "x {\nsum = a+b\nobj = {a=1,b=2}\nc = cond?x:y\nl = [ 1 , 2 ]\n}\n"
    assert hcl.format_hcl(source) == (
        "x {\n  sum = a + b\n  obj = { a = 1, b = 2 }\n  c   = cond ? x : y\n  l   = [1, 2]\n}\n"
    )


def test_format_keeps_one_blank_line_outside_heredocs_only() -> None:
    source = '\n\nlocals {\n\n\na = 1\nb = <<EOT\n\n\nkeep\nEOT\n}\n\n\n'
    assert hcl.format_hcl(source) == 'locals {\n\n  a = 1\n  b = <<EOT\n\n\nkeep\nEOT\n}\n'


def test_expression_list_items_keep_their_comma_outside_comments_and_heredocs() -> None:
    commented = [HclExpr("local.a # first"), HclExpr("local.b")]
    assert hcl.literal(commented) == "[\nlocal.a, # first\nlocal.b,\n]"
    heredoc = [HclExpr("<<EOT\nbody\nEOT")]
    assert hcl.literal(heredoc) == "[\n<<EOT\nbody\nEOT\n,\n]"
    assert hcl.literal([HclExpr('"#"'), HclExpr("a /* b */")]) == '["#", a /* b */]'


def test_expression_list_items_parse_and_stay_canonical(pygohcl: Any, hclfmt: str) -> None:
    items = [HclExpr("local.a # first"), HclExpr("<<EOT\nbody ${x}\nEOT"), HclExpr("[\n1,\n2\n]"), "s"]
    text = hcl.format_hcl(f"x = {hcl.literal(items)}\n")
    assert pygohcl.loads(text, keep_interpolations=True)["x"][1:] == ["body ${x}\n", [1, 2], "s"]
    assert hclfmt_text(hclfmt, text) == (0, text, "")


def test_comment_text_cannot_end_the_comment() -> None:
    assert hcl.comment_text("a\nb = 1\r\nc\u2028d\x85e\x00f  ") == "a b = 1 c d e f"


def test_numbers_keep_their_value() -> None:
    assert [hcl.number(n) for n in (10**30, -10**30, 1e-7, -2.5e300, 0.1, 2.0)] == [
        str(10**30), str(-10**30), "1e-07", "-2.5e+300", "0.1", "2"
    ]


def test_keys_that_hcl_would_merge_are_found() -> None:
    value = {"é": 1, "nested": [{"e\u0301": 2, "é": 3}]}
    assert list(hcl.key_collisions(value)) == [(("nested", 0), "e\u0301", "é")]


PROJECT = {
    "environments.yaml": """
        version: 1
        project: {name: demo}
        state: {bucket: "{project}-state", region: us-east-1}
        environments:
          dev: {account_id: "123456789012", regions: {us-east-1: {vpc_cidr: 10.0.0.0/16, azs: [a]}}}
        units: {app: {module: apps/app}}
    """,
}


def _validate(runner: CliRunner, make_project: ProjectFactory, catalog: str) -> list[str]:
    config = make_project({**PROJECT, "catalog/apps/app.yaml": catalog})
    result = runner.invoke(main, ["validate", "-c", str(config)])
    assert "Traceback" not in result.output
    # ./m is not on disk: the warning that says so is tested in test_modules.py.
    lines = result.stderr.splitlines()
    return [line for line in lines if "catalog/apps/app.yaml" in line and "local module" not in line]


def test_expressions_are_checked_at_their_yaml_line(runner: CliRunner, make_project: ProjectFactory) -> None:
    errors = _validate(runner, make_project, """
        source: ./m
        layer: apps
        inputs:
          fine: !hcl 'a+b'
          broken: !hcl 'a +'
          two: !hcl "a\\nb = 1"
          block: !hcl |
            [
              1,
              2 +
            ]
    """)
    assert len(errors) == 3, errors
    assert ":5:11: inputs.broken: !hcl expression does not parse:" in errors[0]
    assert "(at column 4 of the expression)" in errors[0] and "tmp.hcl" not in errors[0]
    assert ":6:8: inputs.two: !hcl expression does not parse: more than one expression" in errors[1]
    assert ":7:10: inputs.block:" in errors[2] and "(at line 4, column 1 of the expression)" in errors[2]


def test_keys_equal_under_nfc_are_refused(runner: CliRunner, make_project: ProjectFactory) -> None:
    errors = _validate(runner, make_project, """
        source: ./m
        layer: apps
        inputs:
          tags: {"é": 1, "e\\u0301": 2}
    """)
    expected = 'inputs.tags["e\\u0301"]: keys \'é\' and \'e\u0301\' are the same key in HCL'
    assert len(errors) == 1 and expected in errors[0]


def test_yaml_dates_stay_strings(pygohcl: Any, make_project: ProjectFactory, tmp_path: Path) -> None:
    config = make_project({**PROJECT, "catalog/apps/app.yaml": """
        source: ./m
        layer: apps
        inputs: {released: 2024-01-02, at: 2024-01-02T10:00:00Z, version: 1.10}
    """})
    assert api.load(config).project.modules["apps/app"].inputs["released"] == "2024-01-02"
    api.render(config, output=tmp_path / "out")
    inputs = pygohcl.loads((tmp_path / "out/_envcommon/apps/app.hcl").read_text())["inputs"]
    assert inputs == {"released": "2024-01-02", "at": "2024-01-02T10:00:00Z", "version": 1.1}


def test_a_description_cannot_inject_hcl(pygohcl: Any, make_project: ProjectFactory, tmp_path: Path) -> None:
    config = make_project({**PROJECT, "catalog/apps/app.yaml": """
        description: "x\\ninjected = true\\r\\nz\\u2028w"
        source: ./m
        layer: apps
        inputs: {a: 1}
    """})
    api.render(config, output=tmp_path / "out")
    text = (tmp_path / "out/_envcommon/apps/app.hcl").read_text()
    assert "# apps/app: x injected = true z w\n" in text
    assert "injected" not in pygohcl.loads(text)
