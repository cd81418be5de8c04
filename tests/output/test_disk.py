"""Writing on its own: atomic writes, permissions, apply, leftovers of killed renders, the lock."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from generator.errors import OutputError
from generator.output import disk as writer
from generator.output.diff import compare
from generator.output.state import JOURNAL, MANIFEST, Manifest, digest, read_manifest, read_state

from .helpers import put, state


def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "dir" / "file.hcl"
    writer.write_atomic(target, b"one\n")
    writer.write_atomic(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert os.listdir(target.parent) == ["file.hcl"]


def test_written_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        writer._file_mode.cache_clear()
        writer.write_atomic(tmp_path / "f", b"x")
    finally:
        os.umask(mask)
        writer._file_mode.cache_clear()
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o644


def test_a_render_writes_files_with_the_usual_permissions_and_no_leftovers(tmp_path: Path) -> None:
    """write_all names its temporary files itself (not tempfile's 0600 files): what it
    leaves has the mode a plain open() gives under the umask, and nothing else."""
    mask = os.umask(0o027)
    try:
        writer.write_all(tmp_path, [("a/one.hcl", b"1\n"), ("a/two.hcl", b"2" * 300_000), ("b/one.hcl", b"")])
    finally:
        os.umask(mask)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["a/one.hcl", "a/two.hcl", "b/one.hcl"]
    assert {stat.S_IMODE((tmp_path / p).stat().st_mode) for p in written} == {0o640}
    assert (tmp_path / "a/two.hcl").read_bytes() == b"2" * 300_000 and (tmp_path / "b/one.hcl").read_bytes() == b""


def test_apply_writes_deletes_prunes_directories_and_writes_manifest_last(tmp_path: Path) -> None:
    previous = {"keep": b"k\n", "a/b/old": b"o\n", "c/d/vanished": b"v\n"}
    put(tmp_path, previous)
    (tmp_path / "c/d/vanished").unlink()
    recorded = state(previous)
    desired = {"keep": b"k\n", "new/file": b"n\n"}
    survey = compare(tmp_path, desired, recorded)
    manifest = Manifest({p: digest(b) for p, b in desired.items()})
    writer.apply(tmp_path, survey, manifest, recorded)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        MANIFEST, "keep", "new", "new/file"]
    assert read_manifest(tmp_path) == Manifest(manifest.files, ())


def test_apply_removes_leftovers_of_a_killed_render(tmp_path: Path) -> None:
    put(tmp_path, {"x/.f.hcl.abc123.tfgen-tmp": b"partial", ".tfgen-manifest.json.q.tfgen-tmp": b"{",
                   "x/.user-file": b"mine", "x/f.hcl": b"f\n", JOURNAL: b'{"generator": "tfgen", "files": {}}'})
    recorded = read_state(tmp_path)
    assert recorded.interrupted and recorded.leftovers == (".tfgen-manifest.json.q.tfgen-tmp",)
    survey = compare(tmp_path, {"x/f.hcl": b"f\n"}, recorded)
    writer.apply(tmp_path, survey, Manifest({"x/f.hcl": digest(b"f\n")}), recorded)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        MANIFEST, "x/.user-file", "x/f.hcl"]


def test_kept_directories_names_the_top_most_directory_left_for_user_files(tmp_path: Path) -> None:
    put(tmp_path, {"env/region/unit/README.md": b"mine", "env/other/unit/t.hcl": b"t"})
    kept = writer.kept_directories(tmp_path, ["env/region/unit/t.hcl", "env/region/region.hcl"],
                                   ["env/other/unit/t.hcl"])
    assert kept == ["env/region"]


# --- locking ----------------------------------------------------------------------


def test_lock_is_exclusive_for_writers_and_times_out_clearly(tmp_path: Path) -> None:
    with writer.locked(tmp_path, exclusive=True):
        busy = "another tfgen is rendering into this directory"
        with pytest.raises(OutputError, match=busy) as caught, writer.locked(tmp_path, exclusive=True, timeout=0.1):
            pass
        assert caught.value.exit_code == 1
        with pytest.raises(OutputError), writer.locked(tmp_path, exclusive=False, timeout=0.1):
            pass
    with writer.locked(tmp_path, exclusive=False), writer.locked(tmp_path, exclusive=False, timeout=0.1):
        pass  # readers share
    assert os.listdir(tmp_path) == [], "the lock leaves no file behind"


def test_comparing_a_missing_directory_needs_no_lock(tmp_path: Path) -> None:
    with writer.locked(tmp_path / "absent", exclusive=False):
        pass
    assert not (tmp_path / "absent").exists()


def test_temporary_tree_lays_files_out_and_removes_them(tmp_path: Path) -> None:
    files = {"environments.yaml": b"version: 1\n", "catalog/data/rds.yaml": b"source: x\n"}
    with writer.temporary_tree(files) as root:
        assert {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()} == files
    assert not root.exists()
