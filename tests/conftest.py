"""Shared fixtures: a project builder, a CLI runner, golden-file helpers and the
external judges (hclfmt, pygohcl), which are required under CI=true."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from .realclient import HCL_VERSION, tools_dir

REPO = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "cases"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the expected trees of tests/cases/*/expected (and expected-stacks) from a fresh render.",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write a project from ``{relative path: text}``; returns its environments.yaml."""

    def factory(files: dict[str, str], base: Path | None = None) -> Path:
        root = base or tmp_path / "project"
        for name, text in files.items():
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return root / "environments.yaml"

    return factory


@pytest.fixture
def copy_case(tmp_path: Path) -> Callable[[str], Path]:
    """Copy tests/cases/<name> (without its expected tree) into tmp; returns its environments.yaml."""

    def factory(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(CASES / name, target, ignore=shutil.ignore_patterns("expected", "expected-*"))
        return target / "environments.yaml"

    return factory


@pytest.fixture
def reference_project(tmp_path: Path) -> Path:
    """A copy of the repository's reference project (environments.yaml, catalog/, output/)."""
    target = tmp_path / "reference"
    target.mkdir()
    shutil.copy2(REPO / "environments.yaml", target / "environments.yaml")
    shutil.copytree(REPO / "catalog", target / "catalog")
    shutil.copytree(REPO / "output", target / "output")
    if (REPO / "templates").is_dir():
        shutil.copytree(REPO / "templates", target / "templates")
    return target / "environments.yaml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def tree(root: Path) -> dict[str, bytes]:
    """Every file below *root* as {posix relative path: bytes}."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def without_fingerprint(files: dict[str, bytes]) -> dict[str, bytes]:
    """*files* (a tree) with the manifest's fingerprint (``inputs``) left out: it digests
    tfgen's own code too, so a committed tree keeps the fingerprint of the commit that
    rendered it until the next render; what the manifest records of the tree stays."""
    if ".tfgen-manifest.json" not in files:
        return files
    body = json.loads(files[".tfgen-manifest.json"])
    body.pop("inputs", None)
    return {**files, ".tfgen-manifest.json": json.dumps(body, indent=1).encode()}


def need_tool(name: str, path: str | None) -> str:
    """The path of an external judge; fail under CI, skip on a developer machine."""
    if path:
        return path
    message = f"{name} is not installed (run: bash scripts/build-tools.sh; pip install -e '.[test]')"
    if IN_CI:
        pytest.fail(f"{message}: it is required under CI=true")
    pytest.skip(message)


@pytest.fixture(scope="session")
def hclfmt() -> str:
    candidates = [os.environ.get("HCLFMT"), str(tools_dir() / f"hclfmt-{HCL_VERSION}" / "hclfmt")]
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    return need_tool("hclfmt", found)


@pytest.fixture(scope="session")
def pygohcl() -> Iterator[object]:
    try:
        import pygohcl as module
    except ImportError:
        need_tool("pygohcl", None)
        return
    yield module
