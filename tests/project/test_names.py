"""The name patterns have one owner in Python; the JSON Schemas, which editors read
without tfgen, spell the same patterns."""

from __future__ import annotations

import json
from typing import Any

from generator.project import schema
from generator.project.names import MODULE_ID, NAME, PROJECT_NAME, looks_like_production


def _patterns(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["pattern"]} if isinstance(value.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_patterns(v) for v in value))
    return set()


def test_the_schemas_use_the_same_name_patterns() -> None:
    environments = _patterns(json.loads(schema.schema_text(schema.ENVIRONMENTS)))
    catalog = _patterns(json.loads(schema.schema_text(schema.CATALOG)))
    guard = "(?!\\n)"  # the schemas add it: a JSON Schema "$" would accept a final newline
    assert {NAME.pattern + guard, PROJECT_NAME.pattern + guard, MODULE_ID.pattern + guard} <= environments
    assert NAME.pattern + guard in catalog


def test_production_like_names_are_one_rule() -> None:
    assert [n for n in ("prod", "prod-eu", "eu-prod2", "live", "production", "prd", "products") if
            looks_like_production(n)] == ["prod", "prod-eu", "eu-prod2", "live", "production", "prd"]
