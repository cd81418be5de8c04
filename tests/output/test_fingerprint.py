"""The fast path of a render that changes nothing (generator/output/fingerprint.py).

A render of everything records in the manifest the digest of every input it read; a
later render or ``--check`` whose inputs have that digest reads only the inputs and the
tree. The fast path is a proof only if the fingerprint misses no input and the answer
is the full render's: these tests hold both, the first by watching every file a render
opens or lists, the second by rendering random edits both ways.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import generator
from generator import _package, api
from generator.cli import main
from generator.output import fingerprint
from generator.output.fingerprint import TREE
from generator.output.state import MANIFEST, read_manifest
from generator.output.sync import RenderResult, UnsafeWriteError
from generator.project.layout import Scope

from ..conftest import REPO, tree

EXAMPLES = REPO / "examples"


def copy_project(source: Path, target: Path) -> Path:
    """A copy of a project (its YAML, catalog/, templates/, modules/ and output/)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("README.md", ".terragrunt-cache"))
    return target / "environments.yaml"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """Seed 000's example: local modules, a lock, warnings-free; rendered by the full path."""
    config = copy_project(EXAMPLES / "000-phased-tiers", tmp_path / "000")
    api.render(config)
    return config


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Turns the fast path off: the full render, to compare with."""

    def off() -> None:
        monkeypatch.setattr(api, "_unchanged", lambda *args, **kwargs: None)

    return off


def no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the project was loaded")

    monkeypatch.setattr(api, "load", refuse)


def summary(result: RenderResult) -> dict[str, Any]:
    """What a user sees of a render or a check."""
    return {
        "changes": [(c.path, c.status, c.action) for c in result.changes],
        "in_sync": result.in_sync,
        "manifest": result.manifest,
        "foreign": result.foreign,
        "warnings": [str(w) for w in result.warnings],
        "written": result.written,
        "interrupted": result.interrupted,
    }


def test_a_no_op_render_and_check_read_the_inputs_and_the_tree_only(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = example.parent / "output"
    before = {p: (os.stat(out / p).st_ino, os.stat(out / p).st_mtime_ns) for p in tree(out)}
    full_check = summary(api.check(example))
    no_loading(monkeypatch)
    check = api.check(example)
    assert check.in_sync and summary(check) == full_check
    noop = api.render(example)
    assert noop.written and noop.count("unchanged") == len(noop.changes) == len(before) - 1
    assert {p: (os.stat(out / p).st_ino, os.stat(out / p).st_mtime_ns) for p in tree(out)} == before


def test_the_manifest_records_what_the_render_read(example: Path) -> None:
    manifest = read_manifest(example.parent / "output")
    assert manifest is not None and manifest.inputs is not None
    assert manifest.inputs.read == (
        "environments.yaml",
        "catalog" + TREE,
        "templates" + TREE,
        "modules/cloudfront-certificate/",
    )
    assert manifest.inputs.warnings == () and not manifest.inputs.placed


# --- every input is in the fingerprint -------------------------------------------------

_WATCHING: list[list[tuple[str, str]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCHING or event not in ("open", "os.scandir", "os.listdir"):
        return
    target = args[0] if args else None
    if isinstance(target, bytes):
        target = os.fsdecode(target)
    if isinstance(target, str):
        _WATCHING[-1].append((event, os.path.abspath(target)))


@pytest.fixture
def watch() -> Iterator[list[tuple[str, str]]]:
    """Every file opened and directory listed while the fixture's list is watched.
    (An audit hook stays for the process: it records only inside this fixture.)"""
    if not getattr(sys, "_tfgen_fingerprint_audit", False):
        sys.addaudithook(_audit)
        sys._tfgen_fingerprint_audit = True  # type: ignore[attr-defined]
    seen: list[tuple[str, str]] = []
    _WATCHING.append(seen)
    try:
        yield seen
    finally:
        _WATCHING.remove(seen)


def covered(root: Path, path: str, read: tuple[str, ...]) -> bool:
    relative = Path(os.path.relpath(path, root)).as_posix()
    for entry in read:
        if entry.endswith(TREE):
            base = entry[: -len(TREE)]
            if relative == base or relative.startswith(base + "/"):
                return True
        elif entry.endswith("/"):
            if relative == entry.rstrip("/") or os.path.dirname(relative) == entry.rstrip("/"):
                return True
        elif relative == entry:
            return True
    return False


@pytest.mark.parametrize(
    "source", ["000-phased-tiers", "001-order-analytics", "002-client-platform", "003-layered-monorepo", "."]
)
def test_every_file_a_render_reads_is_in_its_fingerprint(
    source: str, tmp_path: Path, watch: list[tuple[str, str]]
) -> None:
    """A file the render reads and the fingerprint does not cover would let a no-op
    render miss its change: every file opened and every directory listed outside tfgen's
    own code and the output tree must be covered by the manifest's record."""
    origin = REPO if source == "." else EXAMPLES / source
    root = tmp_path / "project"
    root.mkdir()
    for name in ("environments.yaml", "catalog", "templates", "modules"):
        if (origin / name).is_dir():
            shutil.copytree(origin / name, root / name)
        elif (origin / name).is_file():
            shutil.copy2(origin / name, root / name)
    out = tmp_path / "tree"
    api.render(root / "environments.yaml", output=out)
    manifest = read_manifest(out)
    assert manifest is not None and manifest.inputs is not None
    own = (str(_package.PACKAGE), str(_package.builtin_templates()), str(out), sys.prefix, sys.base_prefix)
    read = [p for _event, p in watch if not p.startswith(own) and (p == str(root) or p.startswith(str(root) + "/"))]
    assert read, "the audit hook saw nothing: the test would pass whatever the render reads"
    missed = sorted({p for p in read if not covered(root, p, manifest.inputs.read)})
    assert missed == []


# --- random edits: the fast path answers what the full render answers ----------------------


def _yaml_comment(root: Path) -> None:
    with open(root / "environments.yaml", "a", encoding="utf-8") as handle:
        handle.write("# a comment changes no rendered byte\n")


def _yaml_value(root: Path) -> None:
    path = root / "environments.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("log_retention_days: 7", "log_retention_days: 14", 1)
                    if "log_retention_days: 7" in text else text + "\n# edited\n", encoding="utf-8")


def _catalog(root: Path) -> None:
    path = root / "catalog" / "storage" / "s3-bucket.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("object_ownership: BucketOwnerEnforced",
                                                             "object_ownership: ObjectWriter", 1), encoding="utf-8")


def _new_catalog_file(root: Path) -> None:
    target = root / "catalog" / "storage" / "unused-bucket.yaml"
    shutil.copy2(root / "catalog" / "storage" / "s3-bucket.yaml", target)


def _template(root: Path) -> None:
    target = root / "templates" / "region.hcl.j2"
    target.parent.mkdir(exist_ok=True)
    builtin = (_package.builtin_templates() / "region.hcl.j2").read_text(encoding="utf-8")
    target.write_text("{#- a project override #}\n" + builtin.replace("\n", "\n", 1), encoding="utf-8")
    with open(target, "a", encoding="utf-8") as handle:
        handle.write("# overridden by the project\n")


def _module(root: Path) -> None:
    path = root / "modules" / "cloudfront-certificate" / "main.tf"
    name = f"edited_{path.read_text(encoding='utf-8').count('variable')}"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f'\nvariable "{name}" {{\n  type    = string\n  default = "x"\n}}\n')


def _lock(root: Path) -> None:
    path = root / "catalog" / ".tfgen-modules.lock.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")  # the same entries, respelt


def _hand_edit(root: Path) -> None:
    path = root / "output" / "root.hcl"
    path.write_bytes(path.read_bytes() + b"# edited by hand\n")


def _foreign(root: Path) -> None:
    target = root / "output" / "environments" / "dev" / "extra.hcl"
    target.write_text("locals {}\n", encoding="utf-8")


def _deleted(root: Path) -> None:
    (root / "output" / "environments" / "dev" / "env.hcl").unlink()


EDITS: dict[str, Callable[[Path], None]] = {
    "comment": _yaml_comment,
    "value": _yaml_value,
    "catalog": _catalog,
    "new catalog file": _new_catalog_file,
    "template": _template,
    "local module": _module,
    "lock": _lock,
    "hand edit": _hand_edit,
    "foreign file": _foreign,
    "deleted file": _deleted,
    "nothing": lambda root: None,
}


def _answer(config: Path, write: bool, shown_as: Path | None = None) -> str:
    """What the render says, with the project's directory shown as *shown_as*'s."""
    try:
        result = api.render(config, write=write, force=False)
    except UnsafeWriteError as error:
        answer = "refused: " + "; ".join(sorted(str(d) for d in error.diagnostics))
    except generator.TfgenError as error:
        answer = "error: " + "; ".join(sorted(str(d) for d in error.diagnostics))
    else:
        answer = json.dumps(summary(result), sort_keys=True)
    return answer.replace(str(config.parent), str(shown_as or config.parent))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking re-renders for minutes
@given(edits=st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=4))
def test_random_edits_answer_as_the_full_render(
    edits: list[str], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each edit, ``--check`` and then ``render`` answer exactly as with the fast
    path turned off (same statuses, warnings, refusals), and the tree a render leaves is
    the tree a render from scratch writes."""
    base = tmp_path_factory.mktemp("edits")
    config = copy_project(EXAMPLES / "000-phased-tiers", base / "incremental")
    api.render(config)
    for edit in edits:
        EDITS[edit](config.parent)
        mirror = base / f"mirror-{edit.replace(' ', '-')}"
        shutil.rmtree(mirror, ignore_errors=True)
        shutil.copytree(config.parent, mirror, symlinks=True)
        with monkeypatch.context() as patch:
            patch.setattr(api, "_unchanged", lambda *args, **kwargs: None)
            expected_check = _answer(mirror / "environments.yaml", write=False, shown_as=config.parent)
            expected_render = _answer(mirror / "environments.yaml", write=True, shown_as=config.parent)
        assert _answer(config, write=False) == expected_check, edit
        assert _answer(config, write=True) == expected_render, edit
        assert tree(config.parent / "output") == tree(mirror / "output"), edit
        if expected_render.startswith("error"):
            continue  # nothing was written; the next edits render it
        if expected_render.startswith("refused"):  # put the tree back as tfgen wrote it
            api.render(config, force=True)
            api.render(mirror / "environments.yaml", force=True)
        scratch = base / f"scratch-{edit.replace(' ', '-')}"
        shutil.rmtree(scratch, ignore_errors=True)
        api.render(config, output=scratch)
        rendered = {p: b for p, b in tree(scratch).items() if p != MANIFEST}
        owned = read_manifest(config.parent / "output")
        assert owned is not None
        kept = {p: b for p, b in tree(config.parent / "output").items() if p in owned.files}
        assert kept == rendered, edit


# --- what the fast path must not change ------------------------------------------------------


def warned(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "warning:" in line]


def test_warnings_are_printed_as_the_full_render_prints_them(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = reference_project
    text = config.read_text(encoding="utf-8")
    # two environments with the same VPC range (staging's is dev's): a warning
    assert "vpc_cidr: 10.20.0.0/16" in text
    config.write_text(text.replace("vpc_cidr: 10.20.0.0/16", "vpc_cidr: 10.10.0.0/16"), encoding="utf-8")
    monkeypatch.chdir(config.parent)
    first = runner.invoke(main, ["render"])
    assert first.exit_code == 0 and "warning:" in first.stderr, first.output
    manifest = read_manifest(config.parent / "output")
    assert manifest is not None and manifest.inputs is not None and manifest.inputs.warnings
    loading = api.load
    no_loading(monkeypatch)
    for args in (["render"], ["render", "--check"]):
        again = runner.invoke(main, args)
        assert again.exit_code == 0, again.output
        assert warned(again.stderr) == warned(first.stderr)
    monkeypatch.chdir(tmp_path)  # paths are shown from where tfgen runs
    elsewhere = runner.invoke(main, ["render", "--check", "-c", str(config)])
    assert elsewhere.exit_code == 0
    assert warned(elsewhere.stderr) == ["reference/" + line for line in warned(first.stderr)]
    monkeypatch.setattr(api, "load", loading)
    strict = runner.invoke(main, ["render", "--check", "--strict", "-c", str(config)])
    assert strict.exit_code == 2, strict.output  # the full render, which makes the warnings errors


def test_a_render_of_part_of_the_project_keeps_the_record_only_for_the_same_inputs(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = example.parent / "output"
    recorded = read_manifest(out)
    assert recorded is not None and recorded.inputs is not None
    api.render(example, scope=Scope(("dev",)))
    kept = read_manifest(out)
    assert kept is not None and kept.inputs == recorded.inputs
    _yaml_value(example.parent)
    api.render(example, scope=Scope(("dev",)))
    dropped = read_manifest(out)
    assert dropped is not None and dropped.inputs is None  # prod's files were not rendered from these inputs
    api.render(example)
    again = read_manifest(out)
    assert again is not None and again.inputs is not None and again.inputs.digest != recorded.inputs.digest


def test_a_manifest_edited_by_hand_is_not_trusted(example: Path) -> None:
    out = example.parent / "output"
    body = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    removed = sorted(body["files"])[0]
    del body["files"][removed]
    (out / MANIFEST).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    result = api.render(example)  # the full render: it adopts the file again
    manifest = read_manifest(out)
    assert manifest is not None and removed in manifest.files
    assert [c.path for c in result.changes if c.adopted] == [removed]


def test_a_symbolic_link_in_the_tree_is_refused_as_before(example: Path, slow: Callable[[], None]) -> None:
    out = example.parent / "output"
    environment = out / "environments" / "dev"
    moved = example.parent / "elsewhere"
    shutil.move(environment, moved)
    environment.symlink_to(moved, target_is_directory=True)
    with pytest.raises(generator.OutputError) as fast:
        api.check(example)
    slow()
    with pytest.raises(generator.OutputError) as full:
        api.check(example)
    assert [str(d) for d in fast.value.diagnostics] == [str(d) for d in full.value.diagnostics]


def test_another_tfgen_renders_in_full_and_records_its_own_fingerprint(
    example: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tfgen's code is an input: a tree another tfgen (or another commit of tfgen)
    rendered is rendered again in full, and is in sync when the bytes are the same."""
    out = example.parent / "output"
    before = read_manifest(out)
    assert before is not None and before.inputs is not None
    monkeypatch.setattr(fingerprint, "code_identity", lambda: "another tfgen")
    loads: list[Path] = []
    loading = api.load

    def counted(config: Path, **kwargs: Any) -> api.ValidationResult:
        loads.append(config)
        return loading(config, **kwargs)

    monkeypatch.setattr(api, "load", counted)
    assert api.check(example).in_sync and len(loads) == 1
    result = api.render(example)
    assert result.count("unchanged") == len(result.changes) and len(loads) == 2
    after = read_manifest(out)
    assert after is not None and after.inputs is not None and after.inputs.digest != before.inputs.digest
    assert after.files == before.files
    api.render(example)
    assert len(loads) == 2  # its own record: the fast path again


def test_a_linked_catalog_directory_is_read_through(example: Path) -> None:
    """The loader reads a catalog category that is a link to a directory elsewhere: a
    change there is a change of the inputs."""
    category = example.parent / "catalog" / "storage"
    elsewhere = example.parent.parent / "shared-storage"
    shutil.move(category, elsewhere)
    category.symlink_to(elsewhere, target_is_directory=True)
    api.render(example)
    assert api.check(example).in_sync
    _catalog(example.parent)  # edits catalog/storage/s3-bucket.yaml, through the link
    assert not api.check(example).in_sync


def test_a_hostile_record_cannot_make_the_fast_path_hang(example: Path) -> None:
    """The manifest is a committed file anyone can edit: a record that names a FIFO (or
    a device) among the inputs costs a full render, never a read that does not end."""
    out = example.parent / "output"
    os.mkfifo(example.parent / "pipe")
    body = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    body["inputs"]["read"] += ["pipe", "/dev/zero", "../../../../../../dev/zero"]
    (out / MANIFEST).write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    result = api.check(example)  # the digest differs: the full render, which is in sync
    assert result.in_sync
