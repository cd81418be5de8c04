"""How comparing classifies each path: statuses, pruning, journals, misplaced directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import OutputError
from generator.output.diff import compare

from .helpers import by_path, put, state


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
