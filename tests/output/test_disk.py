"""The writer on its own: manifest format, how each path is classified, atomic writes,
the lock, leftovers of killed renders."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from generator.errors import OutputError
from generator.output import disk as writer
from generator.output.diff import Change, compare
from generator.output.state import JOURNAL, MANIFEST, Manifest, State, digest, read_manifest, read_state


def state(files: dict[str, bytes] | None = None, journal: dict[str, set[bytes]] | None = None) -> State:
    manifest = Manifest({p: digest(b) for p, b in files.items()}) if files is not None else None
    recorded = {p: frozenset(digest(b) for b in v) for p, v in journal.items()} if journal is not None else None
    return State(manifest, recorded, ())


def put(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def by_path(changes: list[Change]) -> dict[str, Change]:
    return {c.path: c for c in changes}


# --- manifest ---------------------------------------------------------------------


def test_manifest_bytes_do_not_depend_on_insertion_order() -> None:
    a = Manifest({"b": digest(b"1"), "a": digest(b"2")}, ("prod", "uat"))
    b = Manifest({"a": digest(b"2"), "b": digest(b"1")}, ("uat", "prod"))
    assert a.to_bytes() == b.to_bytes()
    assert a.to_bytes().endswith(b"}\n")


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


def test_old_manifest_without_protection_record_reads_as_unknown(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text(json.dumps({"generator": "tfgen", "format": 1, "files": {}}))
    manifest = read_manifest(tmp_path)
    assert manifest is not None and manifest.protected is None


# --- classification -----------------------------------------------------------------


def test_each_status(tmp_path: Path) -> None:
    previous = {
        "same": b"same\n",
        "input": b"old\n",
        "edited": b"tfgen wrote this\n",
        "edited-and-input": b"tfgen wrote this\n",
        "gone": b"stale\n",
        "gone-edited": b"stale\n",
        "deleted-by-user": b"x\n",
        "environments/prod/eu-west-1/region.hcl": b"r\n",
    }
    put(tmp_path, previous)
    put(tmp_path, {"edited": b"someone changed this\n", "edited-and-input": b"someone changed this\n",
                   "gone-edited": b"tuned\n", "theirs": b"their file\n", "adopt": b"same bytes\n"})
    (tmp_path / "deleted-by-user").unlink()
    desired = {
        "same": b"same\n",
        "input": b"new\n",
        "edited": b"tfgen wrote this\n",
        "edited-and-input": b"new render\n",
        "theirs": b"tfgen's version\n",
        "adopt": b"same bytes\n",
        "new": b"new file\n",
    }
    survey = compare(tmp_path, desired, state(previous), protected=lambda env: env == "prod")
    changes = by_path(survey.changes)
    assert {p: c.status for p, c in changes.items()} == {
        "same": "unchanged",
        "input": "changed",
        "edited": "hand-edited",
        "edited-and-input": "hand-edited",
        "theirs": "unowned",
        "adopt": "unchanged",
        "new": "created",
        "gone": "stale",
        "gone-edited": "hand-edited",
        "environments/prod/eu-west-1/region.hcl": "stale",
    }
    assert not changes["edited"].input_changed and changes["edited-and-input"].input_changed
    assert changes["adopt"].adopted and not changes["same"].adopted
    assert changes["gone"].action == "delete" and changes["gone-edited"].action == "delete"
    assert changes["environments/prod/eu-west-1/region.hcl"].protected
    assert not changes["gone"].protected
    assert survey.vanished == ["deleted-by-user"]
    refused = {c.path for c in survey.refused()}
    assert refused == {"edited", "edited-and-input", "theirs", "gone-edited",
                       "environments/prod/eu-west-1/region.hcl"}
    assert {c.path for c in survey.refused(force=True)} == {"environments/prod/eu-west-1/region.hcl"}
    assert survey.refused(force=True, allow_orphan=True) == []


def test_prune_limits_stale_files_to_the_scope(tmp_path: Path) -> None:
    previous = {"environments/dev/env.hcl": b"d\n", "environments/prod/env.hcl": b"p\n"}
    put(tmp_path, previous)
    survey = compare(tmp_path, {}, state(previous), prune=lambda p: p.startswith("environments/dev/"))
    assert [c.path for c in survey.changes] == ["environments/dev/env.hcl"]


def test_without_manifest_nothing_is_stale_and_differing_files_are_unowned(tmp_path: Path) -> None:
    put(tmp_path, {"a": b"1\n", "b": b"2\n", "c": b"3\n"})
    survey = compare(tmp_path, {"a": b"1\n", "b": b"two\n"}, state(None))
    assert {c.path: c.status for c in survey.changes} == {"a": "unchanged", "b": "unowned"}


def test_journal_of_an_interrupted_render_counts_as_tfgen_s_own(tmp_path: Path) -> None:
    """Killed after writing `a` (new1) but before the manifest: the input then changed
    again (new2). `a` is tfgen's, not a hand edit."""
    put(tmp_path, {"a": b"new1\n", "b": b"old\n"})
    recorded = state({"a": b"old\n", "b": b"old\n"}, journal={"a": {b"new1\n"}, "b": {b"new1\n"}, "c": {b"c\n"}})
    put(tmp_path, {"c": b"c\n"})
    survey = compare(tmp_path, {"a": b"new2\n", "b": b"new2\n"}, recorded)
    assert {c.path: c.status for c in survey.changes} == {"a": "changed", "b": "changed", "c": "stale"}
    assert recorded.interrupted


def test_a_directory_where_a_file_belongs_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    with pytest.raises(OutputError, match="is not a regular file"):
        compare(tmp_path, {"a": b"x"}, state({}))


# --- writing ----------------------------------------------------------------------


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
