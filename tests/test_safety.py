"""What `tfgen render` promises the people who own the rendered tree: --check/--diff/
--dry-run show a change before it happens and write nothing; tfgen deletes only stale
files it wrote, never a file it did not write; hand edits are not overwritten without
--force; protected infrastructure is not orphaned without --allow-orphan; --env/--region
touch and report only their subtrees."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from generator.output.state import JOURNAL, MANIFEST

from .conftest import REPO, tree
from .safety_project import DEV_CACHE, DEV_DB, DEV_ENV, PROD_ENV, PROD_EU, edit, tfgen, write_project

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The small project, rendered once: returns its environments.yaml."""
    config = write_project(tmp_path / "project")
    result = tfgen(config)
    assert result.exit_code == 0, result.output
    return config


def out(config: Path) -> Path:
    return config.parent / "output"


def manifest_files(config: Path) -> dict[str, str]:
    files: dict[str, str] = json.loads((out(config) / MANIFEST).read_text())["files"]
    return files


def mixed_change(config: Path) -> None:
    """One of each: dev input changed, cache unit removed (stale), queue unit added."""
    edit(config, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    edit(config, "  cache: {module: data/db, environments: [dev]}\n",
         "  queue: {module: data/db, environments: [dev]}\n")


# --- 1. check, diff, dry-run, json -------------------------------------------------


def test_check_exits_0_when_in_sync(project: Path) -> None:
    result = tfgen(project, "--check")
    assert result.exit_code == 0, result.output
    assert re.search(r"^checked 15 files: 0 created, 0 changed, 0 stale, 0 hand-edited, 15 unchanged in \d+\.\d\d s$",
                     result.stdout, re.M)


def test_check_lists_every_kind_of_drift_exits_1_and_writes_nothing(project: Path) -> None:
    mixed_change(project)
    (out(project) / PROD_ENV).write_text((out(project) / PROD_ENV).read_text() + "# tweak\n")
    before = tree(out(project))
    result = tfgen(project, "--check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "created      environments/dev/us-east-1/02-data/queue/terragrunt.hcl" in lines
    assert "changed      environments/dev/env.hcl" in lines
    assert f"stale        {DEV_CACHE}" in lines
    assert any(line.startswith(f"hand-edited  {PROD_ENV}  (edited by hand;") for line in lines)
    assert not any(PROD_EU in line for line in lines)
    assert "1 created, 2 changed, 1 stale, 1 hand-edited, 11 unchanged" in result.stdout
    assert "is not in sync with environments.yaml: run `tfgen render`" in result.stderr
    assert tree(out(project)) == before


@pytest.mark.parametrize("flag", ["--dry-run", "--diff"])
def test_dry_run_and_diff_write_nothing_and_exit_0(project: Path, flag: str) -> None:
    mixed_change(project)
    before = tree(out(project))
    result = tfgen(project, flag)
    assert result.exit_code == 0, result.output
    assert tree(out(project)) == before
    if flag == "--dry-run":
        assert f"stale        {DEV_CACHE}" in result.stdout.splitlines()


def test_diff_is_a_unified_diff_of_disk_against_render(project: Path) -> None:
    mixed_change(project)
    result = tfgen(project, "--diff")
    diff = result.stdout
    assert f"--- a/{DEV_ENV}\n+++ b/{DEV_ENV}\n@@ " in diff
    assert re.search(r"^-    backup_retention_days = 7$", diff, re.M)
    assert re.search(r"^\+    backup_retention_days = 9$", diff, re.M)
    assert "--- /dev/null\n+++ b/environments/dev/us-east-1/02-data/queue/terragrunt.hcl\n" in diff
    assert f"--- a/{DEV_CACHE}\n+++ /dev/null\n" in diff
    assert not ANSI.search(diff), "no colour when not on a terminal"
    assert "checked" in result.stderr and "checked" not in result.stdout  # stdout stays a clean patch
    # the diff applies: `git apply` (outside a repository it works like patch(1)) turns
    # the old tree into the new one
    patched = out(project).parent / "patched"
    shutil.copytree(out(project), patched)
    applied = subprocess.run(["git", "apply", "-p1", "-"], cwd=patched, input=diff, text=True,
                             capture_output=True, check=False)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    tfgen(project)
    rendered = {p: b for p, b in tree(out(project)).items() if p != MANIFEST}
    assert {p: b for p, b in tree(patched).items() if p != MANIFEST and b} == rendered


def test_diff_colour_always_and_never(project: Path) -> None:
    mixed_change(project)
    coloured = tfgen(project, "--diff", "--color", "always").stdout
    assert "\x1b[32m+    backup_retention_days = 9" in coloured
    assert "\x1b[31m-    backup_retention_days = 7" in coloured
    assert not ANSI.search(tfgen(project, "--diff", "--color", "never").stdout)


def _diff_on_a_terminal(config: Path, no_color: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color is not None:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "generator", "render", "-c", str(config), "--diff"],
                               stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(30)
    os.close(leader)
    return b"".join(chunks).decode()


def test_diff_colours_a_terminal_unless_no_color(project: Path) -> None:
    edit(project, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    assert "\x1b[32m" in _diff_on_a_terminal(project, None)
    plain = _diff_on_a_terminal(project, "1")
    assert "+    backup_retention_days = 9" in plain and not ANSI.search(plain)
    assert "\x1b[32m" in _diff_on_a_terminal(project, ""), "an empty NO_COLOR does not disable colour"


def test_json_report(project: Path) -> None:
    mixed_change(project)
    (out(project) / PROD_ENV).write_text((out(project) / PROD_ENV).read_text() + "# tweak\n")
    result = tfgen(project, "--check", "--format", "json")
    assert result.exit_code == 1
    envelope = json.loads(result.stdout)
    assert envelope["format"] == 1 and envelope["command"] == "render" and envelope["exit_code"] == 1
    assert envelope["ok"] is False and envelope["errors"] == []
    report = envelope["result"]
    assert report["mode"] == "check"
    assert report["in_sync"] is False and report["written"] is False
    assert report["manifest"] == "changed" and report["interrupted"] is False
    assert report["counts"] == {"created": 1, "changed": 2, "stale": 1, "hand-edited": 1, "unowned": 0,
                                "unchanged": 11, "deleted": 0}
    files = {f["path"]: f for f in report["files"]}
    assert files[DEV_CACHE] == {"path": DEV_CACHE, "status": "stale", "action": "delete", "environment": "dev",
                                "read_by_every_environment": False,
                                "input_changed": True, "protected": False, "refused": False}
    assert files[PROD_ENV]["status"] == "hand-edited" and files[PROD_ENV]["refused"] is True
    assert files[PROD_ENV]["input_changed"] is False
    assert "diff" not in files[DEV_ENV]
    with_diff = json.loads(tfgen(project, "--diff", "--format", "json").stdout)
    assert with_diff["ok"] is True and with_diff["result"]["mode"] == "diff"
    assert "+    backup_retention_days = 9" in {f["path"]: f for f in with_diff["result"]["files"]}[DEV_ENV]["diff"]
    refused = tfgen(project, "--format", "json")
    assert refused.exit_code == 1
    document = json.loads(refused.stdout)
    assert document["ok"] is False and document["errors"][0]["rule"] == "hand-edited"
    assert document["result"]["written"] is False  # the comparison that was refused


def test_ci_checks_the_reference_output_with_tfgen() -> None:
    script = (REPO / ".ci" / "run").read_text()
    assert ".venv/bin/tfgen render --check" in script
    assert "git status --porcelain" not in script


def test_check_on_the_reference_project_sees_a_one_line_change(reference_project: Path) -> None:
    assert tfgen(reference_project, "--check").exit_code == 0
    edit(reference_project, "      backup_retention_days: 30\n", "      backup_retention_days: 35\n")
    result = tfgen(reference_project, "--check")
    assert result.exit_code == 1
    assert "changed      environments/prod/env.hcl" in result.stdout.splitlines()


# --- 2. manifest and ownership ------------------------------------------------------


def test_stale_files_are_deleted_with_their_empty_directories(project: Path) -> None:
    edit(project, "  cache: {module: data/db, environments: [dev]}\n", "")
    result = tfgen(project)
    assert result.exit_code == 0, result.output
    assert "rendered 14 files: 0 created, 0 changed, 1 deleted, 14 unchanged" in result.stdout
    assert not (out(project) / DEV_CACHE).parent.exists()
    assert (out(project) / DEV_DB).is_file()
    assert DEV_CACHE not in manifest_files(project)


def test_files_tfgen_did_not_write_are_never_deleted(project: Path) -> None:
    unit_dir = (out(project) / DEV_CACHE).parent
    (unit_dir / "README.md").write_text("notes\n")
    (unit_dir / ".terraform.lock.hcl").write_text("# lock\n")
    (out(project) / "environments" / "dev" / "us-east-1" / "notes.txt").write_text("mine\n")
    edit(project, "  cache: {module: data/db, environments: [dev]}\n", "")
    result = tfgen(project)
    assert result.exit_code == 0, result.output
    assert not (out(project) / DEV_CACHE).exists()
    assert (unit_dir / "README.md").read_text() == "notes\n"
    assert (unit_dir / ".terraform.lock.hcl").read_text() == "# lock\n"
    assert (out(project) / "environments" / "dev" / "us-east-1" / "notes.txt").is_file()
    assert "environments/dev/us-east-1/02-data/cache: kept: it holds files tfgen did not write" in result.stderr
    assert tfgen(project, "--check").exit_code == 0, "user files are not drift"


def test_a_file_tfgen_did_not_write_is_not_overwritten_without_force(project: Path) -> None:
    edit(project, "  cache: {module: data/db, environments: [dev]}\n",
         "  cache: {module: data/db, environments: [dev]}\n  queue: {module: data/db, environments: [dev]}\n")
    queue = out(project) / "environments/dev/us-east-1/02-data/queue/terragrunt.hcl"
    queue.parent.mkdir(parents=True)
    queue.write_text("# written by a colleague\n")
    before = tree(out(project))
    check = tfgen(project, "--check")
    assert check.exit_code == 1
    assert any(line.startswith("unowned      environments/dev/us-east-1/02-data/queue/terragrunt.hcl")
               for line in check.stdout.splitlines())
    result = tfgen(project)
    assert result.exit_code == 1
    assert "queue/terragrunt.hcl: exists but tfgen did not write it" in result.stderr
    assert "-# written by a colleague" in result.stderr
    assert tree(out(project)) == before
    assert tfgen(project, "--force").exit_code == 0
    assert queue.read_text().startswith("# Generated by tfgen")
    assert "environments/dev/us-east-1/02-data/queue/terragrunt.hcl" in manifest_files(project)


def test_an_identical_file_tfgen_did_not_record_is_adopted(project: Path, tmp_path: Path) -> None:
    edit(project, "  cache: {module: data/db, environments: [dev]}\n",
         "  cache: {module: data/db, environments: [dev]}\n  queue: {module: data/db, environments: [dev]}\n")
    elsewhere = tmp_path / "elsewhere"
    assert tfgen(project, "-o", str(elsewhere)).exit_code == 0
    path = "environments/dev/us-east-1/02-data/queue/terragrunt.hcl"
    (out(project) / path).parent.mkdir(parents=True)
    (out(project) / path).write_bytes((elsewhere / path).read_bytes())
    result = tfgen(project)
    assert result.exit_code == 0, result.output
    assert "0 created, 0 changed, 0 deleted, 16 unchanged" in result.stdout
    assert path in manifest_files(project)
    assert (out(project) / MANIFEST).read_bytes() == (elsewhere / MANIFEST).read_bytes()


def test_manifest_records_version_hashes_and_protection(project: Path) -> None:
    body = json.loads((out(project) / MANIFEST).read_text())
    assert body["generator"] == "tfgen" and "tfgen_version" not in body
    assert body["protected"] == ["prod"]
    assert body["files"][DEV_ENV].startswith("sha256:")
    assert sorted(body["files"]) == sorted(p for p in tree(out(project)) if p != MANIFEST)


def test_a_manifest_pointing_outside_the_output_is_corrupt(project: Path) -> None:
    victim = project.parent / "precious.txt"
    victim.write_text("keep me\n")
    body = json.loads((out(project) / MANIFEST).read_text())
    body["files"]["../precious.txt"] = body["files"][DEV_ENV]
    (out(project) / MANIFEST).write_text(json.dumps(body))
    before = tree(out(project))
    result = tfgen(project)
    assert result.exit_code == 1
    assert "the manifest is corrupt (unsafe path '../precious.txt')" in result.stderr
    assert tree(out(project)) == before
    assert tfgen(project, "--force").exit_code == 0
    assert victim.read_text() == "keep me\n"


# --- 3. hand edits ----------------------------------------------------------------


def test_hand_edit_is_refused_with_its_diff_and_nothing_is_written(project: Path) -> None:
    target = out(project) / PROD_ENV
    target.write_text(target.read_text().replace("= 30", "= 31"))
    edit(project, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    before = tree(out(project))
    result = tfgen(project)
    assert result.exit_code == 1
    assert f"output/{PROD_ENV}: edited by hand since tfgen wrote it; not overwritten" in result.stderr
    assert "--force" in result.stderr
    assert f"--- a/{PROD_ENV}" in result.stderr
    assert "-    backup_retention_days = 31" in result.stderr
    assert "+    backup_retention_days = 30" in result.stderr
    assert "render refused: nothing was written" in result.stderr
    assert tree(out(project)) == before, "the dev change is not applied either"


def test_check_tells_hand_edits_from_input_changes(project: Path) -> None:
    target = out(project) / PROD_ENV
    target.write_text(target.read_text() + "# mine\n")
    edit(project, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    lines = tfgen(project, "--check").stdout.splitlines()
    assert "changed      environments/dev/env.hcl" in lines
    assert f"hand-edited  {PROD_ENV}  (edited by hand; render refuses to overwrite it without --force)" in lines


def test_hand_edit_and_input_change_on_one_file(project: Path) -> None:
    target = out(project) / PROD_ENV
    target.write_text(target.read_text() + "# mine\n")
    edit(project, "settings: {backup_retention_days: 30}", "settings: {backup_retention_days: 45}")
    check = tfgen(project, "--check")
    assert (f"hand-edited  {PROD_ENV}  (edited by hand, and the input changed too; render refuses to overwrite "
            "it without --force)") in check.stdout.splitlines()
    report = json.loads(tfgen(project, "--check", "--format", "json").stdout)["result"]
    entry = next(f for f in report["files"] if f["path"] == PROD_ENV)
    assert entry["status"] == "hand-edited" and entry["input_changed"] is True
    result = tfgen(project)
    assert result.exit_code == 1 and "(and the input changed it too)" in result.stderr
    assert "+    backup_retention_days = 45" in result.stderr and "-# mine" in result.stderr
    assert tfgen(project, "--force").exit_code == 0
    assert "backup_retention_days = 45" in target.read_text() and "# mine" not in target.read_text()
    assert tfgen(project, "--check").exit_code == 0


def test_a_hand_edited_stale_file_is_not_deleted_without_force(project: Path) -> None:
    cache = out(project) / DEV_CACHE
    cache.write_text(cache.read_text() + "# tuned\n")
    edit(project, "  cache: {module: data/db, environments: [dev]}\n", "")
    result = tfgen(project)
    assert result.exit_code == 1
    assert "edited by hand since tfgen wrote it, and no longer rendered; not deleted" in result.stderr
    assert cache.is_file()
    assert tfgen(project, "--force").exit_code == 0
    assert not cache.exists()


def test_missing_manifest_deletes_nothing_and_is_reported(project: Path) -> None:
    (out(project) / MANIFEST).unlink()
    edit(project, "  cache: {module: data/db, environments: [dev]}\n", "")
    check = tfgen(project, "--check")
    assert check.exit_code == 1
    assert "no manifest: tfgen cannot tell which files it wrote" in check.stderr
    assert "created      .tfgen-manifest.json" in check.stdout
    result = tfgen(project)
    assert result.exit_code == 0, result.output
    assert (out(project) / DEV_CACHE).is_file(), "unknown to the (missing) manifest: never deleted"
    assert DEV_CACHE not in manifest_files(project)
    assert DEV_DB in manifest_files(project), "identical files are adopted"


def test_missing_manifest_refuses_to_overwrite_differing_files(project: Path) -> None:
    (out(project) / MANIFEST).unlink()
    edit(project, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    result = tfgen(project)
    assert result.exit_code == 1
    assert f"{DEV_ENV}: exists but tfgen did not write it" in result.stderr
    assert tfgen(project, "--force").exit_code == 0


@pytest.mark.parametrize("garbage", [b"{not json", b"[]", b'{"generator": "tfgen", "files": {"x": "md5:1"}}'])
def test_corrupt_manifest_is_reported_and_changes_nothing(
    project: Path, garbage: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    (out(project) / MANIFEST).write_bytes(garbage)
    edit(project, "  cache: {module: data/db, environments: [dev]}\n", "")
    before = tree(out(project))
    for args in ((), ("--check",)):
        result = tfgen(project, *args)
        assert result.exit_code == 1
        assert result.stderr.startswith("output/.tfgen-manifest.json: the manifest is corrupt")
        assert "Traceback" not in result.output
        assert tree(out(project)) == before
    forced = tfgen(project, "--force")
    assert forced.exit_code == 0, forced.output
    assert (out(project) / DEV_CACHE).is_file(), "--force never deletes files the manifest cannot vouch for"


# --- 4. deletion policy -------------------------------------------------------------


def test_removing_a_protected_region_fails_without_deleting(project: Path) -> None:
    edit(project, "      eu-west-1: {vpc_cidr: 10.50.0.0/16, azs: [a, b]}\n", "")
    before = tree(out(project))
    result = tfgen(project)
    assert result.exit_code == 1
    assert f"output/{PROD_EU}: removed from the YAML, but environment prod has deletion_protection: true" in (
        result.stderr)
    assert "orphan" in result.stderr and "--allow-orphan" in result.stderr and "destroy" in result.stderr
    assert len([line for line in result.stderr.splitlines() if "deletion_protection: true" in line]) == 1
    assert tree(out(project)) == before
    check = tfgen(project, "--check")
    assert check.exit_code == 1 and "protected environment prod" in check.stdout
    allowed = tfgen(project, "--allow-orphan")
    assert allowed.exit_code == 0, allowed.output
    assert not (out(project) / PROD_EU).exists()


def test_removing_a_protected_environment_from_the_yaml_is_still_protected(project: Path) -> None:
    text = project.read_text()
    start = text.index("  prod:\n")
    project.write_text(text[:start] + text[text.index("units:\n"):])
    before = tree(out(project))
    result = tfgen(project)
    assert result.exit_code == 1
    assert "output/environments/prod: removed from the YAML, but environment prod has deletion_protection" in (
        result.stderr)
    assert tree(out(project)) == before
    assert tfgen(project, "--allow-orphan").exit_code == 0
    assert not (out(project) / "environments" / "prod").exists()
    assert json.loads((out(project) / MANIFEST).read_text())["protected"] == []


def test_unprotecting_and_removing_in_one_change_is_refused(project: Path) -> None:
    edit(project, "    deletion_protection: true\n", "    deletion_protection: false\n")
    edit(project, "      eu-west-1: {vpc_cidr: 10.50.0.0/16, azs: [a, b]}\n", "")
    assert tfgen(project).exit_code == 1, "the live infrastructure was deployed protected"
    us_east = "      us-east-1: {vpc_cidr: 10.40.0.0/16, azs: [a, b]}\n"
    edit(project, us_east, us_east + "      eu-west-1: {vpc_cidr: 10.50.0.0/16, azs: [a, b]}\n")
    assert tfgen(project).exit_code == 0  # step 1: render it unprotected (then destroy it)
    edit(project, "      eu-west-1: {vpc_cidr: 10.50.0.0/16, azs: [a, b]}\n", "")
    result = tfgen(project)  # step 2: remove it
    assert result.exit_code == 0, result.output
    assert not (out(project) / PROD_EU).exists()


def test_a_manifest_without_protection_record_protects_removed_environments(project: Path) -> None:
    body = json.loads((out(project) / MANIFEST).read_text())
    del body["protected"]
    (out(project) / MANIFEST).write_text(json.dumps(body, indent=1) + "\n")
    text = project.read_text()
    project.write_text(text.replace(text[text.index("  dev:\n"):text.index("  prod:\n")], "")
                       .replace("  cache: {module: data/db, environments: [dev]}\n", ""))
    result = tfgen(project)
    assert result.exit_code == 1 and "environment dev has deletion_protection" in result.stderr


# --- 5. scope -------------------------------------------------------------------------


def test_env_scope_neither_touches_nor_reports_other_environments(project: Path) -> None:
    prod = out(project) / PROD_ENV
    prod.write_text(prod.read_text() + "# hand edit\n")
    edit(project, "settings: {backup_retention_days: 30}", "settings: {backup_retention_days: 45}")
    edit(project, "      eu-west-1: {vpc_cidr: 10.50.0.0/16, azs: [a, b]}\n", "")
    edit(project, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    recorded = manifest_files(project)
    check = tfgen(project, "--check", "--env", "dev")
    assert check.exit_code == 1
    assert "environments/prod" not in check.stdout
    assert "changed      environments/dev/env.hcl" in check.stdout
    result = tfgen(project, "--env", "dev")
    assert result.exit_code == 0, result.output
    assert prod.read_text().endswith("# hand edit\n")
    assert (out(project) / PROD_EU / "region.hcl").is_file(), "prod is out of scope: not pruned"
    after = manifest_files(project)
    assert {p: h for p, h in after.items() if p.startswith("environments/prod/")} == {
        p: h for p, h in recorded.items() if p.startswith("environments/prod/")}
    assert after[DEV_ENV] != recorded[DEV_ENV]
    assert tfgen(project, "--check", "--env", "dev").exit_code == 0
    assert tfgen(project, "--check").exit_code == 1


def test_env_scope_includes_the_shared_files_it_uses(project: Path) -> None:
    root = out(project) / "root.hcl"
    root.write_text(root.read_text() + "# edited\n")
    lines = tfgen(project, "--check", "--env", "dev").stdout.splitlines()
    assert any(line.startswith("hand-edited  root.hcl") for line in lines)


def test_region_scope_prunes_only_that_region(project: Path) -> None:
    edit(project, "  db: {module: data/db}\n", "")
    edit(project, "  vpc: {module: networking/vpc}\n", "  vpc: {module: networking/vpc}\n  db: {module: data/db, "
         "regions: [us-east-1]}\n")
    edit(project, "settings: {backup_retention_days: 7}", "settings: {backup_retention_days: 9}")
    result = tfgen(project, "--region", "us-east-1")
    assert result.exit_code == 0, result.output
    assert (out(project) / PROD_EU / "02-data/db/terragrunt.hcl").is_file()
    check = tfgen(project, "--check", "--region", "us-east-1")
    assert check.exit_code == 0, check.output
    full = tfgen(project, "--check")
    assert full.exit_code == 1 and f"stale        {PROD_EU}/02-data/db/terragrunt.hcl" in full.stdout


# --- 8. reviewability ---------------------------------------------------------------


def test_every_render_ends_with_a_summary_line(project: Path) -> None:
    mixed_change(project)
    result = tfgen(project)
    assert re.fullmatch(r"rendered 15 files: 1 created, 2 changed, 1 deleted, 12 unchanged in \d+\.\d\d s\n",
                        result.stdout)


def test_pre_commit_hook_runs_the_check() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "tfgen-check")
    assert hook["entry"] == "tfgen render --check"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    for path in ("environments.yaml", "infra/environments.yaml", "catalog/data/rds.yaml",
                 "templates/env.hcl.j2", "output/root.hcl", "output/.tfgen-manifest.json"):
        assert files.search(path), path
    for path in ("README.md", "generator/cli.py", "docs/catalog.md"):
        assert not files.search(path), path
    # the entry is a real command that passes on the committed reference project
    entry = hook["entry"].split()
    assert entry[0] == "tfgen"
    result = subprocess.run([sys.executable, "-m", "generator", *entry[1:]], cwd=REPO, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_leftover_journal_means_check_fails(project: Path) -> None:
    (out(project) / JOURNAL).write_text('{"generator": "tfgen", "files": {}}\n')
    check = tfgen(project, "--check")
    assert check.exit_code == 1 and "a previous render was interrupted" in check.stderr
    assert tfgen(project).exit_code == 0
    assert not (out(project) / JOURNAL).exists()
    assert tfgen(project, "--check").exit_code == 0


def test_an_unwritable_output_is_a_clear_error(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    result = tfgen(project, "-o", str(blocker / "out"))
    assert result.exit_code == 2
    assert f"{blocker / 'out'}: cannot write: not a directory" in result.stderr
    assert "Traceback" not in result.output
