"""References read on the real HCL lexer: string text, heredoc bodies and comments are
not code, interpolations are."""

from __future__ import annotations

from generator.hcl.references import function_calls, traversals


def test_string_text_is_not_code_but_interpolations_are() -> None:
    assert traversals('"a ${local.x} b" == local.y') == (("local", "x"), ("local", "y"))
    assert traversals('"\\"${x.y}" + "}"') == (("x", "y"),)
    assert traversals('"%{ if a.b }c%{ endif }"') == (("a", "b"),)
    assert traversals('{ a = "${b.c}" }') == (("b", "c"),)
    assert traversals('"local.env.z" == "$${local.env.y}"') == ()


def test_heredocs_are_read_like_strings() -> None:
    assert traversals("<<EOT\nlocal.x is ${local.env.y}\nEOT\n") == (("local", "env", "y"),)
    loop = "<<-EOT\n  %{ for z in local.region.azs }${z}%{ endfor }\n  EOT\n"
    assert traversals(loop) == (("local", "region", "azs"),)


def test_comments_are_not_code() -> None:
    assert traversals("local.a # local.b\n") == (("local", "a"),)
    assert traversals("/* local.c */ local.d") == (("local", "d"),)


def test_a_traversal_stops_at_an_index_splat_or_call_and_needs_an_attribute() -> None:
    assert traversals("local.region.azs[0]") == (("local", "region", "azs"),)
    assert traversals("local.env.list.*.name") == (("local", "env", "list"),)
    assert traversals("local") == ()
    assert traversals("foo[0].local.x") == ()  # an attribute of something else
    assert traversals("a-local.x") == (("a-local", "x"),)  # HCL names may hold '-'


def test_function_calls() -> None:
    assert function_calls('timestamp() + "uuid()" + x.bcrypt(1) + f (2)') == ("timestamp", "f")
    assert function_calls("provider::aws::arn_parse(x)") == ("arn_parse",)
