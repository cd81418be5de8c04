from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from generator.errors import InputError
from generator.project.loader import load, loads
from generator.project.values import HclExpr


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
    ("a: 012\n", "'012' has a leading zero: YAML 1.1 reads it as an octal number"),
    # 8 and 9 are no octal digits: YAML 1.1 reads a string, YAML 1.2 a number that drops the 0
    ("a: 080100000000\n", "'080100000000' has a leading zero: YAML 1.2 reads it as a number without it"),
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
    import generator.project.loader as loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 10)
    big = tmp_path / "big.yaml"
    big.write_text("a: 1234567890\n")
    with pytest.raises(InputError, match="the limit is 10"):
        load(big)


# --- hostile input: bounded time, memory and stack ------------------------------------


@pytest.mark.parametrize("text", [
    "a: " + "[" * 100_000 + "]" * 100_000 + "\n",  # crashed the C composer (a segfault) before
    "a: " + "{b: " * 50_000 + "c" + "}" * 50_000 + "\n",
    "a:\n" + "- " * 50_000 + "x\n",  # block sequences nest two characters at a time
])
def test_deep_nesting_is_refused_without_recursion(text: str) -> None:
    message = error_of(text)
    assert "YAML nesting is deeper than 200 levels" in message
    assert message.startswith("t.yaml:")


def test_nesting_limit_is_tfgens_whatever_libyaml_refuses_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML 6.0.4's libyaml refuses 1,000 flow levels itself, before events reach tfgen.

    Whatever limit the installed parser has, the refusal is tfgen's: its message, its
    rule and the position of the level that crossed tfgen's limit.
    """
    import yaml

    import generator.project.loader as loader

    class RefusingParser(yaml.SafeLoader):
        def check_event(self, *choices: Any) -> bool:
            mark = yaml.Mark("t.yaml", 0, 0, 1002, None, 0)
            raise yaml.scanner.ScannerError("while increasing flow level", mark, "exceeded maximum nesting depth", mark)

    monkeypatch.setattr(loader, "_base_loader", lambda: RefusingParser)
    with pytest.raises(InputError) as info:
        loader.loads("a: " + "[" * 1_000 + "]" * 1_000 + "\n", "t.yaml")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.rule == "yaml-depth"
    assert str(diagnostic).startswith("t.yaml:1:203: YAML nesting is deeper than 200 levels")


def test_alias_bomb_is_refused_in_bounded_memory() -> None:
    import tracemalloc

    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 12)]
    tracemalloc.start()
    try:
        message = error_of("\n".join(lines) + "\n")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "t.yaml:6:15: YAML aliases expand to too many nodes" in message  # 9**11 nodes if expanded
    assert peak < 20 * 1024 * 1024


def test_node_count_is_bounded_before_memory_is(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracemalloc

    import generator.project.loader as loader

    monkeypatch.setattr(loader, "MAX_NODES", 10_000)
    text = "items:\n" + "- item\n" * 500_000
    tracemalloc.start()
    try:
        message = error_of(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "t.yaml:9999:3: the file has more than 10000 YAML nodes" in message
    assert peak < 20 * 1024 * 1024, "loading stops at the limit instead of building everything first"


def test_the_limits_admit_a_large_real_project() -> None:
    """500,000 nodes and 8 MiB leave room for far more than the benchmark's 10,000 units."""
    import generator.project.loader as loader

    units = "".join(f"  u{i}: {{module: services/api, inputs: {{port: {i}, tags: [a, b]}}}}\n" for i in range(20_000))
    text = "units:\n" + units
    assert len(text.encode()) < loader.MAX_FILE_BYTES
    assert len(loads(text, "t.yaml").data["units"]) == 20_000


# --- structure ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, fragment", [
    ("a: 1\n---\nb: 2\n", "t.yaml:2:1: the file holds more than one YAML document"),
    ("a: *nowhere\n", "t.yaml:1:4: a: alias *nowhere is not defined before this point"),
    ("a: &self [1, *self]\n", "t.yaml:1:14: a[1]: alias *self refers to itself"),
    ("? [x, y]\n: 1\n", "t.yaml:1:3: a mapping key must be a plain string"),
    ("a: !hcl {b: 1}\n", "t.yaml:1:4: a: !hcl applies to a string, not a mapping"),
    ("a: !!set {b: null}\n", "t.yaml:1:4: a: unsupported YAML tag !!set"),
    ("a: !!binary aGVsbG8=\n", "unsupported YAML tag !!binary"),
    ("a: !!python/name:os.system ''\n", "unsupported YAML tag !!python/name:os.system"),
    ("!hcl k: v\n", "t.yaml:1:1: unsupported YAML tag !hcl on a key"),
    ("yes: 1\n", "t.yaml:1:1: yes: key 'yes' is a boolean in YAML 1.1 (quote it: \"yes\")"),
    ("a: OFF\n", "'OFF' is a boolean in YAML 1.1"),
    ("a: 1_000\n", "'1_000' is a number in YAML 1.1"),
    ("a: 0755\n", "'0755' has a leading zero"),
    ("a: {b: 1\nc: 2\n", "(while parsing a flow mapping at line 1)"),
    ("<<: 1\n", "t.yaml:1:5: a merge key (<<) needs a mapping or a list of mappings"),
])
def test_hostile_structures(text: str, fragment: str) -> None:
    assert fragment in error_of(text)


def test_every_problem_of_a_file_is_reported_together() -> None:
    message = error_of("a: yes\nb: 012\nc: !env X\na: 1\n")
    assert message.splitlines() == [
        "t.yaml:1:4: a: 'yes' is a boolean in YAML 1.1 and a string in YAML 1.2 "
        "(write true/false, or quote it (\"yes\") if you mean the string)",
        "t.yaml:2:4: b: '012' has a leading zero: YAML 1.1 reads it as an octal number "
        "(quote it (\"012\") if you mean the string)",
        "t.yaml:3:4: c: unsupported YAML tag !env (only !hcl is understood; YAML is never executed)",
        "t.yaml:4:1: a: duplicate key 'a' (first defined at line 1)",
    ]


def test_explicit_core_tags_and_quoting_make_strings() -> None:
    doc = loads("a: !!str 012\nb: '0755'\nc: ! yes\nd: !!int '12'\ne: \"no\"\nf: |\n  on\n", "t.yaml")
    assert doc.data == {"a": "012", "b": "0755", "c": "yes", "d": 12, "e": "no", "f": "on\n"}


def test_positions_inside_aliases_and_merges_point_at_what_the_user_wrote() -> None:
    text = (
        "base: &base\n"
        "  cidr: 10.0.0.0/16\n"
        "  zones: [a, b]\n"
        "dev:\n"
        "  <<: *base\n"
        "  zones: [c]\n"
        "prod: *base\n"
    )
    doc = loads(text, "t.yaml")
    assert doc.data["dev"] == {"cidr": "10.0.0.0/16", "zones": ["c"]}
    assert doc.data["prod"] == {"cidr": "10.0.0.0/16", "zones": ["a", "b"]}
    # a merged key points at its definition in the anchor; an explicit one at itself
    assert str(doc.locate(("dev", "cidr"))) == "t.yaml:2:9"
    assert str(doc.locate(("dev", "zones", 0))) == "t.yaml:6:11"
    # inside an alias: the anchored node's positions; the alias itself: where it is used
    assert str(doc.locate(("prod", "zones", 1))) == "t.yaml:3:14"
    assert str(doc.locate(("prod",))) == "t.yaml:7:7"


def test_merge_of_a_list_of_mappings_earlier_wins() -> None:
    doc = loads("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n", "t.yaml")
    assert doc.data["c"] == {"x": 1, "y": 1, "z": 3}
    assert str(doc.locate(("c", "y"))) == "t.yaml:1:17"


@pytest.mark.parametrize("raw, fragment", [
    (b"\xff\xfea\x00:\x00 \x001\x00\n\x00", "t.yaml:1:1: the file is UTF-16-encoded; tfgen reads UTF-8"),
    (b"a: 1\nb: \x00\n", "t.yaml:2:4: control character U+0000 in the file"),
    (b"a: 1\nb: \x1b[31m\n", "t.yaml:2:4: control character U+001B in the file"),
    (b"a: \xc3\x28\n", "t.yaml:1:4: not valid UTF-8 (byte 0xc3)"),
])
def test_bytes_that_are_not_utf8_text(raw: bytes, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(raw)
    with pytest.raises(InputError) as caught:
        load(path, "t.yaml")
    assert fragment in str(caught.value)


def test_bom_does_not_shift_positions(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: yes\n")
    with pytest.raises(InputError, match=r"^t.yaml:1:4: a: 'yes'"):
        load(path, "t.yaml")


def test_a_directory_or_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        load(tmp_path, "dir")
    with pytest.raises(InputError, match=r"missing\.yaml: file not found"):
        load(tmp_path / "missing.yaml", "missing.yaml")



def test_only_regular_files_are_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(InputError, match=r"pipe\.yaml: is not a regular file"):
        load(fifo, "pipe.yaml")
    if Path("/dev/zero").exists():  # endless bytes behind a size of 0
        with pytest.raises(InputError, match="is not a regular file"):
            load(Path("/dev/zero"))
