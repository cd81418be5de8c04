from __future__ import annotations

import pytest

from generator import hcl
from generator.loader import HclExpr


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
