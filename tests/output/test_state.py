"""The manifest on its own: format, round trip, corruption, old formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import generator
from generator import _version
from generator.errors import OutputError
from generator.output import state
from generator.output.fingerprint import Record
from generator.output.state import MANIFEST, Manifest, digest, read_manifest

from ..conftest import REPO


def test_manifest_bytes_do_not_depend_on_insertion_order() -> None:
    a = Manifest({"b": digest(b"1"), "a": digest(b"2")}, ("prod", "uat"))
    b = Manifest({"a": digest(b"2"), "b": digest(b"1")}, ("uat", "prod"))
    assert a.to_bytes() == b.to_bytes()
    assert a.to_bytes().endswith(b"}\n")


def _tree_part(raw: bytes) -> dict[str, object]:
    body = json.loads(raw)
    return {k: v for k, v in body.items() if k != "inputs"}


def test_manifest_bytes_depend_on_the_tree_and_the_inputs_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The manifest is committed beside output/. What it records of the tree (files,
    hashes, protection) depends on the tree alone: a tfgen_version line once changed it
    and failed the comparison of a fresh render with the committed tree in commits that
    changed no rendered byte. Its fingerprint (``inputs``) depends on what the render
    read and on tfgen's code, never on the machine, the output directory or the time."""
    config = REPO / "environments.yaml"
    generator.render(config, output=tmp_path / "a")
    generator.render(config, output=tmp_path / "b")
    first, second = ((tmp_path / d / MANIFEST).read_bytes() for d in ("a", "b"))
    assert first == second
    assert _tree_part(first) == _tree_part((REPO / "output" / MANIFEST).read_bytes())
    assert set(json.loads(first)) == {"generator", "format", "protected", "files", "inputs"}
    monkeypatch.setattr(_version, "__version__", "99.0.0")
    monkeypatch.setattr(state, "__version__", "99.0.0", raising=False)
    monkeypatch.setattr("generator._package.__version__", "99.0.0")
    generator._package.code_identity.cache_clear()
    try:
        generator.render(config, output=tmp_path / "c")
    finally:
        generator._package.code_identity.cache_clear()
    third = (tmp_path / "c" / MANIFEST).read_bytes()
    assert _tree_part(third) == _tree_part(first)
    assert json.loads(third)["inputs"]["digest"] != json.loads(first)["inputs"]["digest"]
    assert generator.check(config, output=tmp_path / "c").in_sync  # another tfgen's record is not drift


def test_a_manifest_an_older_tfgen_wrote_is_in_sync_until_the_tree_changes(tmp_path: Path) -> None:
    """An upgrade is not drift: a manifest with the tfgen_version older tfgens wrote is
    in sync while what it records is the same; a render rewrites it without the version,
    with this tfgen's fingerprint."""
    config = REPO / "environments.yaml"
    out = tmp_path / "out"
    generator.render(config, output=out)
    fresh = (out / MANIFEST).read_bytes()
    body = json.loads(fresh)
    body.pop("inputs")
    old = {"generator": "tfgen", "format": 1, "tfgen_version": "0.0.9", **body}
    (out / MANIFEST).write_text(json.dumps(old, indent=1) + "\n")
    assert generator.check(config, output=out).in_sync
    result = generator.render(config, output=out)
    assert result.count("unchanged") == len(body["files"]) and result.manifest == "unchanged"
    assert (out / MANIFEST).read_bytes() == fresh
    body["files"].pop("root.hcl")  # what it records differs: not in sync, written again
    (out / MANIFEST).write_text(json.dumps({**old, "files": body["files"]}, indent=1) + "\n")
    assert not generator.check(config, output=out).in_sync
    generator.render(config, output=out)
    assert (out / MANIFEST).read_bytes() == fresh


def test_manifest_round_trip(tmp_path: Path) -> None:
    manifest = Manifest({"root.hcl": digest(b"x"), "environments/dev/env.hcl": digest(b"y")}, ("dev",))
    (tmp_path / MANIFEST).write_bytes(manifest.to_bytes())
    read = read_manifest(tmp_path)
    assert read is not None
    assert dict(read.files) == dict(manifest.files) and read.protected == ("dev",)
    assert read_manifest(tmp_path / "nowhere") is None


@pytest.mark.parametrize(
    ("files", "reason"),
    [
        ({"../etc/passwd": digest(b"")}, "unsafe path"),
        # outside the tree, only the workflow at the repository root's .github/workflows/
        ({"../.github/workflows/../../etc/passwd.yml": digest(b"")}, "unsafe path"),
        ({"../.github/workflows/deep/x.yml": digest(b"")}, "unsafe path"),
        ({"../.github/actions/x.yml": digest(b"")}, "unsafe path"),
        ({"../../.github/workflows/x.sh": digest(b"")}, "unsafe path"),
        ({"/etc/passwd": digest(b"")}, "unsafe path"),
        ({"a/./b": digest(b"")}, "unsafe path"),
        ({"a\\b": digest(b"")}, "unsafe path"),
        ({MANIFEST: digest(b"")}, "unsafe path"),
        ({"a": "sha1:abc"}, "bad hash"),
        ({"a": 3}, "bad hash"),
        ([], "'files' is not a mapping"),
    ],
)
@pytest.mark.parametrize("among", [0, 5000])
def test_manifest_that_could_mislead_deletion_is_corrupt(
    tmp_path: Path, files: object, reason: str, among: int
) -> None:
    if isinstance(files, dict) and among:  # one bad entry among many good ones
        files = {**{f"environments/dev/r/{n}/terragrunt.hcl": digest(b"") for n in range(among)}, **files}
    (tmp_path / MANIFEST).write_text(json.dumps({"generator": "tfgen", "files": files}))
    with pytest.raises(OutputError) as caught:
        read_manifest(tmp_path)
    assert reason in str(caught.value)
    assert caught.value.exit_code == 1


_PART = st.sampled_from(["a", "b.hcl", ".", "..", "...", "", ".github", "workflows", "x.yml", "c\\d", "e\0", "f\ng"])


@settings(max_examples=300, deadline=None)
@given(paths=st.lists(st.lists(_PART, min_size=1, max_size=4).map("/".join), max_size=6))
def test_a_manifest_is_read_exactly_when_every_path_is_safe(paths: list[str]) -> None:
    """Manifests are checked as a whole (one pattern over every path, for speed): the
    verdict is the one each path alone gets."""
    files = {path: digest(path.encode()) for path in paths}
    raw = json.dumps({"generator": "tfgen", "files": files}).encode()
    if all(state.is_safe_path(path) for path in files):
        assert dict(state.parse_manifest(raw, Path(MANIFEST)).files) == files
    else:
        with pytest.raises(OutputError, match="unsafe path"):
            state.parse_manifest(raw, Path(MANIFEST))


def test_the_workflow_at_the_repository_root_may_be_owned(tmp_path: Path) -> None:
    files = {"../../.github/workflows/terragrunt.yml": digest(b"x"), "root.hcl": digest(b"y")}
    (tmp_path / MANIFEST).write_text(json.dumps({"generator": "tfgen", "files": files}))
    manifest = read_manifest(tmp_path)
    assert manifest is not None and dict(manifest.files) == files


def test_old_manifest_without_protection_record_reads_as_unknown(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps({"generator": "tfgen", "format": 1, "files": {}}))
    manifest = read_manifest(tmp_path)
    assert manifest is not None and manifest.protected is None


# --- classification -----------------------------------------------------------------


#: Paths that JSON escapes: quotes, backslashes, control characters, non-ASCII, and a
#: path that spells the splice marker of state._dumps.
_AWKWARD = ('a"b', "c\\d", "tab\there", "é/ü.hcl", '"files": {}', "x/\u2028y", "z")


@pytest.mark.parametrize("protected", [(), ('"files": {}', "prod")])
@pytest.mark.parametrize("files", [{}, {"one": digest(b"1")}, {p: digest(p.encode()) for p in _AWKWARD}])
def test_manifest_bytes_are_those_of_json_dumps(files: dict[str, str], protected: tuple[str, ...]) -> None:
    """The manifest's large mapping is written without json.dumps's slow indented
    encoder: the bytes stay those json.dumps(indent=1) writes, with inputs or without."""
    record = Record("sha256:" + "0" * 64, ("environments.yaml",), ('"files": {}',), (), True, "sha256:" + "1" * 64)
    for inputs in (None, record):
        manifest = Manifest(files, protected, inputs)
        body: dict[str, object] = {
            "generator": "tfgen",
            "format": state.MANIFEST_FORMAT,
            "protected": sorted(protected),
            "files": dict(sorted(files.items())),
        }
        if inputs is not None:
            body["inputs"] = inputs.as_json()
        assert manifest.to_bytes() == (json.dumps(body, indent=1, ensure_ascii=True) + "\n").encode("utf-8")


@pytest.mark.parametrize(
    "files", [{}, {"one": [digest(b"1")]}, {p: [digest(b"2"), digest(p.encode())] for p in _AWKWARD}, {"none": []}]
)
def test_journal_bytes_are_those_of_json_dumps(files: dict[str, list[str]]) -> None:
    body = {"generator": "tfgen", "files": {p: sorted(set(h)) for p, h in sorted(files.items())}}
    assert state.journal_bytes(files) == (json.dumps(body, indent=1) + "\n").encode("utf-8")
