"""The packaged JSON Schemas and the mapping of their violations to YAML positions."""

from __future__ import annotations

import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from .errors import Diagnostic, KeyPath
from .loader import Document, HclExpr

ENVIRONMENTS = "environments.schema.json"
CATALOG = "catalog.schema.json"


def schema_text(name: str = ENVIRONMENTS) -> str:
    return resources.files("generator").joinpath("schemas").joinpath(name).read_text(encoding="utf-8")


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads(schema_text(name))
    base = jsonschema.Draft202012Validator
    base.check_schema(schema)
    # !hcl expressions are neither strings nor objects: only schemas that accept any
    # value accept them, so a typed key (account_id, sizing, ...) rejects them.
    checker = base.TYPE_CHECKER.redefine("string", lambda _checker, value: isinstance(value, str))
    cls = jsonschema.validators.extend(base, type_checker=checker)  # type: ignore[no-untyped-call]
    return cls(schema)  # type: ignore[no-any-return]


def _describe(value: Any) -> str:
    if isinstance(value, HclExpr):
        return f"an !hcl expression ({value.text})"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_TYPE_WORDS = {
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "number": "a number",
    "integer": "a whole number",
    "null": "null",
}


def _expected_types(expected: Any) -> str:
    if isinstance(expected, list):
        return " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in expected)
    return _TYPE_WORDS.get(expected, str(expected))


def _message(error: ValidationError) -> tuple[str, KeyPath, bool, str]:
    """(message, key path, point at the key rather than the value, hint)."""
    path: KeyPath = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted((schema.get("properties") or {}).keys())
        extras = [k for k in error.instance if k not in allowed]
        key = extras[0] if extras else "?"
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else (f"allowed keys: {', '.join(allowed)}" if allowed else "")
        return f"unknown key '{key}'", (*path, key), True, hint
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"missing required key '{missing}'", path, True, ""
    if kind == "type":
        hint = ""
        if (
            schema.get("type") == "string"
            and isinstance(error.instance, (int, float))
            and not isinstance(error.instance, bool)
        ):
            hint = "quote it to make it a string"
        return f"expected {_expected_types(error.validator_value)}, got {_describe(error.instance)}", path, False, hint
    if kind == "pattern":
        text = schema.get("x-message") or f"must match {error.validator_value}"
        return f"{error.instance!r}: {text}", path, False, ""
    if kind == "enum":
        choices = list(error.validator_value) if isinstance(error.validator_value, list) else []
        options = ", ".join(json.dumps(o) for o in choices)
        close = difflib.get_close_matches(str(error.instance), [str(o) for o in choices], n=1)
        return (
            f"{_describe(error.instance)} is not one of {options}",
            path,
            False,
            f"did you mean '{close[0]}'?" if close else "",
        )
    if kind == "const":
        return f"must be {json.dumps(error.validator_value)}, got {_describe(error.instance)}", path, False, ""
    if kind in ("minProperties", "minItems"):
        return "must not be empty", path, False, ""
    if kind == "uniqueItems":
        return "items must be unique", path, False, ""
    if kind == "minLength":
        if error.validator_value == 1:
            return "must not be empty", path, False, ""
        return f"must be at least {error.validator_value} characters long", path, False, ""
    return error.message, path, False, ""


def _alternative_fits(errors: list[ValidationError]) -> bool:
    """An alternative "fits" when the instance has its type: its errors are deeper."""
    return not any(e.validator in ("type", "const") and not e.relative_path for e in errors)


def _leaf_errors(error: ValidationError) -> list[ValidationError]:
    """For oneOf/anyOf keep the best-matching alternative's errors, not the whole wall."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        by_branch: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            by_branch.setdefault(int(sub.schema_path[0]), []).append(sub)
        fitting = [errs for errs in by_branch.values() if _alternative_fits(errs)]
        if len(fitting) == 1:
            return [leaf for sub in fitting[0] for leaf in _leaf_errors(sub)]
        return _leaf_errors(best_match(error.context))
    return [error]


def _is_name_error(error: ValidationError) -> bool:
    return "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path


def validate_document(doc: Document, schema_name: str = ENVIRONMENTS) -> list[Diagnostic]:
    """All schema violations of *doc*, each at the YAML position of the key or value."""
    diagnostics: list[Diagnostic] = []
    for error in _validator(schema_name).iter_errors(doc.data):
        for leaf in _leaf_errors(error):
            if _is_name_error(leaf):
                path: KeyPath = (*leaf.absolute_path, str(leaf.instance))
                text = leaf.schema.get("x-message") if isinstance(leaf.schema, dict) else None
                message = f"invalid name {leaf.instance!r}" + (f": {text}" if text else "")
                diagnostics.append(Diagnostic(message, doc.locate(path, key=True), path, rule="schema"))
                continue
            message, path, at_key, hint = _message(leaf)
            diagnostics.append(Diagnostic(message, doc.locate(path, key=at_key), path, rule="schema", hint=hint))
    return diagnostics
