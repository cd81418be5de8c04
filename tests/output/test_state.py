"""The manifest on its own: format, round trip, corruption, old formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import generator
from generator import _version
from generator.errors import OutputError
from generator.output import state
from generator.output.state import MANIFEST, Manifest, digest, read_manifest

from ..conftest import REPO


def test_manifest_bytes_do_not_depend_on_insertion_order() -> None:
    a = Manifest({"b": digest(b"1"), "a": digest(b"2")}, ("prod", "uat"))
    b = Manifest({"a": digest(b"2"), "b": digest(b"1")}, ("uat", "prod"))
    assert a.to_bytes() == b.to_bytes()
    assert a.to_bytes().endswith(b"}\n")


def test_manifest_bytes_depend_on_the_tree_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The manifest is committed beside output/: it records files, hashes and protection,
    nothing about the tfgen that wrote it (a tfgen_version line changed it, and failed the
    comparison of a fresh render with the committed tree, in commits that changed no
    rendered byte), and nothing of the machine or the time."""
    config = REPO / "environments.yaml"
    generator.render(config, output=tmp_path / "a")
    monkeypatch.setattr(_version, "__version__", "99.0.0")
    monkeypatch.setattr(state, "__version__", "99.0.0", raising=False)
    generator.render(config, output=tmp_path / "b")
    first, second = ((tmp_path / d / MANIFEST).read_bytes() for d in ("a", "b"))
    assert first == second == (REPO / "output" / MANIFEST).read_bytes()
    assert set(json.loads(first)) == {"generator", "format", "protected", "files"}


def test_a_manifest_an_older_tfgen_wrote_is_in_sync_until_the_tree_changes(tmp_path: Path) -> None:
    """An upgrade is not drift: a manifest with the tfgen_version older tfgens wrote is
    kept while what it records is the same, and rewritten without it at the next change."""
    config = REPO / "environments.yaml"
    out = tmp_path / "out"
    generator.render(config, output=out)
    body = json.loads((out / MANIFEST).read_text())
    old = {"generator": "tfgen", "format": 1, "tfgen_version": "0.0.9", **body}
    (out / MANIFEST).write_text(json.dumps(old, indent=1) + "\n")
    before = (out / MANIFEST).read_bytes()
    assert generator.check(config, output=out).in_sync
    generator.render(config, output=out)
    assert (out / MANIFEST).read_bytes() == before
    body["files"].pop("root.hcl")  # what it records differs: written again, without the version
    (out / MANIFEST).write_text(json.dumps({**old, "files": body["files"]}, indent=1) + "\n")
    assert not generator.check(config, output=out).in_sync
    generator.render(config, output=out)
    assert (out / MANIFEST).read_bytes() == (REPO / "output" / MANIFEST).read_bytes()


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
def test_manifest_that_could_mislead_deletion_is_corrupt(tmp_path: Path, files: object, reason: str) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps({"generator": "tfgen", "files": files}))
    with pytest.raises(OutputError) as caught:
        read_manifest(tmp_path)
    assert reason in str(caught.value)
    assert caught.value.exit_code == 1


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
