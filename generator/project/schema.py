"""The packaged JSON Schemas and the mapping of their violations to YAML positions."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from ..errors import Diagnostic, KeyPath
from .loader import Document
from .names import name_problem
from .suggest import closest
from .values import HclExpr

ENVIRONMENTS = "environments.schema.json"
CATALOG = "catalog.schema.json"


def schema_text(name: str = ENVIRONMENTS) -> str:
    return resources.files("generator.project").joinpath("schemas").joinpath(name).read_text(encoding="utf-8")


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """*schema* with each local ``{"$ref": "#/$defs/X"}`` replaced by X itself: the
    validator then follows no reference (half its time on a large environments.yaml).
    A reference's siblings are only descriptions, which validation does not read; a
    definition that refers to itself, directly or not, stays a reference."""
    defs = schema.get("$defs") or {}

    def inline(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/") and set(node) <= {"$ref", "description"}:
                name = ref.removeprefix("#/$defs/")
                if name in defs and name not in seen:
                    return inline(defs[name], seen | {name})
            return {key: inline(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value, seen) for value in node]
        return node

    return {key: value if key == "$defs" else inline(value, frozenset()) for key, value in schema.items()}


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = _inlined(json.loads(schema_text(name)))
    base = jsonschema.Draft202012Validator
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


Message = tuple[str, KeyPath, bool, str]  # (message, key path, point at the key, hint)


def unknown_key_hint(key: str, allowed: list[str]) -> str:
    """"did you mean 'x'?" for the closest allowed key, else the list of allowed keys."""
    close = closest(key, allowed)
    if not close:  # a case or separator slip: deletion-protection, Deletion_Protection
        folded = {a.replace("-", "_").lower(): a for a in allowed}
        match = folded.get(key.replace("-", "_").lower())
        close = [match] if match else []
    if close:
        return f"did you mean '{close[0]}'?"
    return f"allowed keys: {', '.join(allowed)}" if allowed else ""


def _messages(error: ValidationError) -> list[Message]:
    """One message per problem: an additionalProperties error names each unknown key."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        path: KeyPath = tuple(error.absolute_path)
        allowed = sorted((schema.get("properties") or {}).keys())
        return [
            (f"unknown key '{key}'", (*path, key), True, unknown_key_hint(str(key), allowed))
            for key in error.instance
            if key not in allowed
        ]
    return [_message(error)]


def _quote_hint(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f'quote it: "{text}"'


def _message(error: ValidationError) -> Message:
    """(message, key path, point at the key rather than the value, hint)."""
    path: KeyPath = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        wanted = (schema.get("properties") or {}).get(missing)
        hint = str(wanted.get("x-missing", "")) if isinstance(wanted, dict) else ""
        return f"missing required key '{missing}'", path, True, hint
    if kind == "type":
        hint = ""
        if schema.get("type") == "string" and isinstance(error.instance, (int, float, bool)):
            hint = _quote_hint(error.instance)
        message = f"expected {_expected_types(error.validator_value)}, got {_describe(error.instance)}"
        if schema.get("x-message"):
            message += f": {schema['x-message']}"
        return message, path, False, hint
    if kind == "pattern":
        text = schema.get("x-message") or f"must match {error.validator_value}"
        return f"{error.instance!r}: {text}", path, False, ""
    if kind == "enum":
        choices = list(error.validator_value) if isinstance(error.validator_value, list) else []
        options = ", ".join(json.dumps(o) for o in choices)
        close = closest(str(error.instance), [str(o) for o in choices])
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
    if kind == "maxLength":  # the value is not echoed: it may be megabytes long
        size = len(error.instance) if isinstance(error.instance, str) else 0
        limit = schema.get("x-message") or f"at most {error.validator_value} characters"
        return f"{_shortened(error.instance)} is {size:,} characters long: {limit}", path, False, ""
    if kind == "minLength":
        if error.validator_value == 1:
            return "must not be empty", path, False, ""
        return f"must be at least {error.validator_value} characters long", path, False, ""
    return error.message, path, False, ""


def _shortened(value: object, limit: int = 40) -> str:
    """*value* quoted, cut to *limit* characters: a message names a value, never pastes it."""
    text = str(value)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _alternative_fits(errors: list[ValidationError]) -> bool:
    """An alternative "fits" when the instance has its type: its errors are deeper."""
    return not any(e.validator in ("type", "const") and not e.relative_path for e in errors)


def _root_expectation(errors: list[ValidationError]) -> str | None:
    """What one alternative expects of the value itself ("a mapping", "false")."""
    for e in errors:
        if not e.relative_path and e.validator == "type":
            return _expected_types(e.validator_value)
        if not e.relative_path and e.validator == "const":
            return json.dumps(e.validator_value)
    return None


def _no_alternative_fits(error: ValidationError, branches: list[list[ValidationError]]) -> Message:
    """oneOf/anyOf where the value has none of the alternatives' types: name them all."""
    expected = list(dict.fromkeys(e for errs in branches if (e := _root_expectation(errs))))
    hint = ""
    if "a string" in expected and isinstance(error.instance, (int, float, bool)):
        hint = _quote_hint(error.instance)
    message = f"expected {' or '.join(expected)}, got {_describe(error.instance)}"
    return message, tuple(error.absolute_path), False, hint


def _leaf_errors(error: ValidationError) -> list[ValidationError | Message]:
    """For oneOf/anyOf keep the best-matching alternative's errors, not the whole wall."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        by_branch: dict[int, list[ValidationError]] = {}
        for sub in error.context:
            by_branch.setdefault(int(sub.schema_path[0]), []).append(sub)
        fitting = [errs for errs in by_branch.values() if _alternative_fits(errs)]
        if len(fitting) == 1:
            return [leaf for sub in fitting[0] for leaf in _leaf_errors(sub)]
        if not fitting:
            return [_no_alternative_fits(error, list(by_branch.values()))]
        return _leaf_errors(best_match(error.context))
    return [error]


def _is_name_error(error: ValidationError) -> bool:
    return "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path


def validate_document(doc: Document, schema_name: str = ENVIRONMENTS) -> list[Diagnostic]:
    """All schema violations of *doc*, each at the YAML position of the key or value."""
    diagnostics: list[Diagnostic] = []
    for error in _validator(schema_name).iter_errors(doc.data):
        for leaf in _leaf_errors(error):
            path: KeyPath
            if isinstance(leaf, tuple):
                message, path, at_key, hint = leaf
                diagnostics.append(Diagnostic(message, doc.locate(path, key=at_key), path, rule="schema", hint=hint))
                continue
            if _is_name_error(leaf):
                path = (*leaf.absolute_path, str(leaf.instance))
                text = leaf.schema.get("x-message") if isinstance(leaf.schema, dict) else None
                what = leaf.schema.get("x-what") if isinstance(leaf.schema, dict) else None
                if what:  # not a name that becomes a path: only the schema's own rule applies
                    size = len(str(leaf.instance))
                    message = f"invalid {what} {_shortened(leaf.instance)} ({size:,} characters): {text}"
                    where = doc.locate(path, key=True)
                    diagnostics.append(Diagnostic(message, where, path, rule="schema"))
                    continue
                why = name_problem(str(leaf.instance))
                message = f"invalid name {leaf.instance!r}: {why or text or 'not allowed here'}"
                where = doc.locate(path, key=True)
                diagnostics.append(Diagnostic(message, where, path, rule="schema", hint=(text or "") if why else ""))
                continue
            # An unknown key does not change what the model reads: semantic rules can still run.
            rule = "unknown-key" if leaf.validator == "additionalProperties" else "schema"
            for message, path, at_key, hint in _messages(leaf):
                diagnostics.append(Diagnostic(message, doc.locate(path, key=at_key), path, rule=rule, hint=hint))
    return diagnostics
