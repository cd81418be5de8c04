"""The hclwrite.Format port: hclfmt's rules, then a differential test against hclfmt."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator import hclformat
from generator.hclformat import format_lines, format_source
from generator.textseg import columns

from .judges import hclfmt_text

#: (source, what hclfmt prints); each pair is what hclfmt v2.24.0 prints (the test checks).
RULES = [
    # indentation: one level per line that opens brackets, however many it opens
    ("terraform{\nsource = \"s\"\n}\n", 'terraform {\n  source = "s"\n}\n'),
    ("x = jsonencode({\na = 1\n})\n", "x = jsonencode({\n  a = 1\n})\n"),
    ("lo = [{\na = 1\n}, {\nb = 2\n}]\n", "lo = [{\n  a = 1\n  }, {\n  b = 2\n}]\n"),
    ("\t\tc\t=\t1\n", "c = 1\n"),
    # spacing inside a line
    ("a = b?c:d\n", "a = b ? c : d\n"),
    ("a = b==c&&d||!e\n", "a = b == c && d || !e\n"),
    ("a = b+c*d\n", "a = b + c * d\n"),
    ("a = x-1\n", "a = x-1\n"),  # "x-1" is one identifier
    ("a = x - -1\n", "a = x - -1\n"),
    ("a = [ -1 , -x ]\n", "a = [-1, -x]\n"),
    ("a = f ( \"x\" , 2 )\n", 'a = f("x", 2)\n'),
    ("a = l[0].b[*].c\n", "a = l[0].b[*].c\n"),
    ("a = f(l...)\n", "a = f(l...)\n"),
    ("a = [1,2,]\n", "a = [1, 2, ]\n"),
    ("a = {b=1,c=2}\n", "a = { b = 1, c = 2 }\n"),
    ("a = { }\n", "a = {}\n"),
    ('a = { "x": 1, y : 2 }\n', 'a = { "x" : 1, y : 2 }\n'),
    ("a = [for i in [1,2]: f(i)]\n", "a = [for i in [1, 2] : f(i)]\n"),
    ("a = {for k,v in m: k=>v if v!=null}\n", "a = { for k, v in m : k => v if v != null }\n"),
    ('a = "${ local.x }-%{ if y }z%{ endif }"\n', 'a = "${local.x}-%{if y}z%{endif}"\n'),
    ('a = "$${x} %%{y}"\n', 'a = "$${x} %%{y}"\n'),
    ('include   "root"   {\n}\n', 'include "root" {\n}\n'),
    # alignment of "=": runs of single-line attributes, broken by anything else
    ("a = 1\nbbb = 2\n# c\ncc = 3\n", "a   = 1\nbbb = 2\n# c\ncc = 3\n"),
    ("a = 1\nt = {\nx = 1\n}\nbb = 2\n", "a = 1\nt = {\n  x = 1\n}\nbb = 2\n"),
    ('x {\n"é" = 1\nab = 2\n}\n', 'x {\n  "é" = 1\n  ab  = 2\n}\n'),
    # a heredoc counts as one line: it joins the run before and after it
    ('g {\np = "x"\ncontents = <<EOF\n  keep  =  ${ me }\nEOF\nz = 1\n}\n',
     'g {\n  p        = "x"\n  contents = <<EOF\n  keep  =  ${me}\nEOF\n  z        = 1\n}\n'),
    # trailing comments align across consecutive lines
    ("a = 1 # x\nbbbb = \"xx\"   # y\nc = 3\n", 'a    = 1    # x\nbbbb = "xx" # y\nc    = 3\n'),
    ("l = [ # open\n\"x\", # x\n]\n", 'l = [  # open\n  "x", # x\n]\n'),
    # blank lines, trailing spaces and comments are kept
    ("\n\na = 1   \n\n\n# keep   \n", "\n\na = 1\n\n\n# keep   \n"),
    # provider-defined functions: "::" is one token (hcl >= 2.20)
    ("x = provider :: aws :: arn_parse( a )\n", "x = provider::aws::arn_parse(a)\n"),
    # columns are grapheme clusters of Unicode 15.0 (go-textseg v15): a Nag Mundari letter
    # with its combining mark is one column, so the comments line up one column earlier
    ('x = ["\U0001e4d0\U0001e4ec"] # c\nyy = [""] # d\n', 'x  = ["\U0001e4d0\U0001e4ec"] # c\nyy = [""]  # d\n'),
]


@pytest.mark.parametrize("source, expected", RULES)
def test_hclfmt_rules(source: str, expected: str) -> None:
    assert format_source(source) == expected
    assert format_lines(source) == expected
    assert format_source(expected) == expected


@pytest.mark.external
@pytest.mark.parametrize("source, expected", RULES)
def test_rule_table_is_what_hclfmt_prints(hclfmt: str, source: str, expected: str) -> None:
    assert hclfmt_text(hclfmt, source, check=False)[1] == expected


@pytest.mark.parametrize("text, width", [
    ("abc", 3), ("é", 1), ("e\u0301", 1), ("👍🏽", 1), ("🇫🇷", 1), ("日本", 2), ("\r\n", 1),
    ("क्ष", 2),  # one cluster since Unicode 15.1; two in go-textseg's Unicode 15.0, as hclfmt counts
    ("\U0001e4d0\U0001e4ec", 1),  # Nag Mundari and its combining mark, new in Unicode 15.0 (two in 13.0)
])
def test_columns_are_go_textseg_grapheme_clusters(text: str, width: int) -> None:
    assert columns(text) == width


def test_lexer_keeps_template_escapes_and_heredoc_bodies_literal() -> None:
    kinds = [t.kind for t in hclformat.lex('"$${a}%%{b}"').tokens]
    assert hclformat.INTERP not in kinds and hclformat.CONTROL not in kinds
    heredoc = hclformat.lex("x = <<EOT\n  a = {\nEOT\n").tokens
    assert [t.kind for t in heredoc][:5] == [
        hclformat.IDENT, hclformat.EQUAL, hclformat.OHEREDOC, hclformat.STRING_LIT, hclformat.CHEREDOC
    ]


def test_provider_function_namespaces_stay_together() -> None:
    assert format_source("x = provider :: aws :: arn_parse( a )\n") == "x = provider::aws::arn_parse(a)\n"


# --- differential tests against hclfmt ----------------------------------------------

WHITESPACE = st.sampled_from(["", "", " ", "  ", "\t"])
SOUP = [
    "a", "bb", "x-1", "local.x", "f", "(", ")", "[", "]", "{", "}", "=", "==", "!=", "!", "-", "+", "*", "/", "%",
    "?", ":", ",", "...", "=>", "for", "in", "if", "1", "2.5", "1e3", "1.", '"s"', '"a ${ b } c"',
    '"%{ if x }y%{ endif }"',
    '"$${x}"', ".", "&&", "||", "<", "<=", ">", ">=", "# c", "// d", "/* e */", "/* multi\n line */", "\n", "\n", "\n",
    '"é"', '"日本"', '"👍🏽" = 2', '"क्ष" = 1', '"\\""', "~", "~}", '"${ {a=1} }"', '"${x}${y}"',
    "<<EOF\nbody ${ x }\n  EOF\n", "<<-EOT\n    hi\n    EOT\n", '"', "\\", "$", "k = 1", "kk = [1, 2]", "kkk = {",
    "\r\n", "\r", '"unterminated', "<<EOF", "# tail   ", "in [a]", "a[0]", "-1", "\u00a0",
]
ATOMS = st.sampled_from([
    "1", "-1", "2.5", "true", "null", "local.x", "a[0]", "x-1", "var.y[*].id", '"s"', '"a ${ b } c"',
    '"%{ if x }y%{ endif }"', '"$${x}"', '"é"', "f(a...)",
])
KEYS = st.sampled_from(["a", "bb", "ccc", '"q k"', '"é"', '"日本"', "x-y", '"👍🏽"', "long_name_here"])
NEWLINES = st.sampled_from(["\n", "\n", "\n\n", " # c\n", " // d\n", "\n# full\n"])


def _compound(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pairs = st.tuples(KEYS, WHITESPACE, st.sampled_from(["=", ":"]), WHITESPACE, children).map("".join)
    return st.one_of(
        st.tuples(children, WHITESPACE, st.sampled_from(["+", "-", "*", "==", "!=", "&&", "||", "<", ">=", "%"]),
                  WHITESPACE, children).map("".join),
        st.tuples(children, children, children).map(lambda t: f"{t[0]}?{t[1]} : {t[2]}"),
        st.tuples(st.sampled_from(["!", "-"]), WHITESPACE, children).map("".join),
        st.lists(children, max_size=3).map(lambda items: "[" + " , ".join(items) + "]"),
        st.tuples(st.lists(children, max_size=3), NEWLINES).map(
            lambda t: "[\n" + "".join(f"{item},{t[1]}" for item in t[0]) + "]"
        ),
        st.lists(pairs, max_size=3).map(lambda items: "{" + ",".join(items) + "}"),
        st.tuples(st.lists(pairs, max_size=3), NEWLINES).map(lambda t: "{\n" + "".join(i + t[1] for i in t[0]) + "}"),
        st.lists(children, max_size=3).map(lambda items: "f ( " + ",".join(items) + " )"),
        st.tuples(children, children).map(lambda t: f"[for i, v in {t[0]}:{t[1]}]"),
        st.tuples(children, children).map(lambda t: f"{{for k, v in {t[0]}: k=>{t[1]} if v != null}}"),
    )


EXPRESSIONS = st.recursive(ATOMS, _compound, max_leaves=8)
ATTRIBUTE = st.tuples(WHITESPACE, KEYS.filter(lambda k: not k.startswith('"')), WHITESPACE, EXPRESSIONS, NEWLINES).map(
    lambda t: f"{t[0]}{t[1]}{t[2]}={t[2]}{t[3]}{t[4]}"
)
LINES = st.one_of(
    ATTRIBUTE,
    st.sampled_from(["\n", "# comment\n", 'contents = <<EOF\n  keep  ${ x }\nEOF\n', "x = <<-EOT\n    a\n    EOT\n"]),
    st.lists(ATTRIBUTE, max_size=4).map(lambda body: 'block "label"{\n' + "".join(body) + "}\n"),
)


@pytest.mark.external
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(LINES, max_size=8).map("".join), min_size=1, max_size=4).map("\n".join))
def test_format_agrees_with_hclfmt_on_generated_hcl(hclfmt: str, source: str) -> None:
    expected = hclfmt_text(hclfmt, source, check=False)[1]
    assert format_source(source) == expected
    assert format_lines(source) == expected


@pytest.mark.external
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(SOUP), WHITESPACE).map("".join), max_size=40).map("".join))
def test_format_agrees_with_hclfmt_on_token_soup(hclfmt: str, source: str) -> None:
    """Even broken input is laid out exactly as hclfmt lays it out."""
    expected = hclfmt_text(hclfmt, source, check=False)[1]
    assert format_source(source) == expected
    assert format_lines(source) == expected
