"""What an !hcl expression reads: local.* and dependency outputs."""

from __future__ import annotations

from generator.project.values import HclExpr, dependency_expression, dependency_reads, local_references, locals_used


def test_local_references_ignore_string_text() -> None:
    assert local_references('"${local.env.a}-${local.region.b.c}" == "local.env.z"') == (
        ("env", "a"),
        ("region", "b", "c"),
    )
    assert locals_used("local.project.name == local.nope.x && local.env") == frozenset({"project", "env"})


def test_dependency_reads_and_expressions_agree() -> None:
    expr = dependency_expression("vpc", ("a", "b"))
    assert expr == HclExpr("[dependency.vpc.outputs.a, dependency.vpc.outputs.b]")
    assert dependency_reads(expr.text) == (("vpc", "a"), ("vpc", "b"))
    assert dependency_reads("dependency.vpc.mock_outputs.x") == ()
