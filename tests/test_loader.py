from __future__ import annotations

import time
from pathlib import Path

import pytest

from generator.errors import InputError
from generator.loader import HclExpr, load, loads


def error_of(text: str) -> str:
    with pytest.raises(InputError) as caught:
        loads(text, "t.yaml")
    return str(caught.value)


def test_positions_of_keys_and_values_are_one_based() -> None:
    doc = loads("a:\n  b: 1\n  c: [x, y]\n", "t.yaml")
    assert doc.data == {"a": {"b": 1, "c": ["x", "y"]}}
    assert doc.key_marks[("a", "b")] == (2, 3)
    assert doc.value_marks[("a", "c", 1)] == (3, 10)
    assert str(doc.locate(("a", "c", 1))) == "t.yaml:3:10"
    # an unknown path falls back to its nearest known ancestor
    assert str(doc.locate(("a", "missing", "deeper"))) == "t.yaml:2:3"


def test_hcl_tag_becomes_an_expression_not_a_string() -> None:
    doc = loads("x: !hcl local.env.name\n", "t.yaml")
    assert doc.data["x"] == HclExpr("local.env.name")
    assert not isinstance(doc.data["x"], str)


def test_core_schema_scalars() -> None:
    doc = loads("a: true\nb: null\nc: 12\nd: -1.5\ne: 2024-01-01\nf: '012'\ng: 0x1f\nh: ~\ni: 1e3\n", "t.yaml")
    assert doc.data == {"a": True, "b": None, "c": 12, "d": -1.5, "e": "2024-01-01", "f": "012", "g": 31,
                        "h": None, "i": 1000.0}


@pytest.mark.parametrize("text, fragment", [
    ("a: no\n", "t.yaml:1:4: a: 'no' is a boolean in YAML 1.1"),
    ("on: 1\n", "t.yaml:1:1: on: key 'on' is a boolean in YAML 1.1"),
    ("a: 012\n", "'012' has a leading zero"),
    ("a: 1:30\n", "sexagesimal"),
    ("a: 1\na: 2\n", "t.yaml:2:1: a: duplicate key 'a' (first defined at line 1)"),
    ("a: !!python/object/apply:os.system [ls]\n", "unsupported YAML tag"),
    ("a: !custom x\n", "unsupported YAML tag !custom"),
    ("a:\n\tb: 1\n", "t.yaml:2:1: a tab character in the indentation"),
    ("a: [1\n", "YAML syntax error"),
    ("a: .inf\n", "has no HCL literal"),
])
def test_hostile_yaml_is_reported_with_position(text: str, fragment: str) -> None:
    assert fragment in error_of(text)


def test_empty_file() -> None:
    assert "t.yaml:1:1: the file is empty" in error_of("# only a comment\n")


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.perf_counter()
    assert "alias bomb" in error_of("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 10


def test_merge_keys_explicit_keys_win() -> None:
    doc = loads("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", "t.yaml")
    assert doc.data["derived"] == {"x": 1, "y": 3}


def test_non_utf8_bytes_and_bom(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InputError, match=r"bad.yaml:2:7: not valid UTF-8"):
        load(bad)
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert load(bom).data == {"a": 1}


def test_oversized_file_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.loader as loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 10)
    big = tmp_path / "big.yaml"
    big.write_text("a: 1234567890\n")
    with pytest.raises(InputError, match="the limit is 10"):
        load(big)
