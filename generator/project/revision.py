"""A project as it was at a git revision: environments.yaml, catalog/ and templates/
read out of git into memory (output/disk.py lays them out in a temporary directory,
so that the normal loader reads them).

Only those three inputs decide the rendered tree; ``output/`` at the revision is not
read (the tree is rendered afresh, in memory). Git runs as a subprocess with a fixed
environment; nothing in the working tree or the index changes.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path, PurePosixPath

from ..errors import Diagnostic, InputError, Location

#: The inputs of a render, relative to the directory of environments.yaml.
INPUT_DIRECTORIES = ("catalog", "templates")


def _git(directory: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"})
    try:
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise _error(directory, "git is not installed; `tfgen affected` reads revisions with git") from None


def _error(where: Path | str, message: str) -> InputError:
    return InputError([Diagnostic(message, Location(str(where)), rule="revision")])


def _stderr(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[-1] if text else f"git exited {result.returncode}"


def project_prefix(directory: Path) -> tuple[Path, str]:
    """The repository's top directory and *directory* relative to it (posix, '' at the top)."""
    result = _git(directory, "rev-parse", "--show-toplevel", "--show-prefix")
    if result.returncode != 0:
        raise _error(directory, f"not inside a git repository ({_stderr(result)})")
    lines = result.stdout.decode("utf-8").splitlines()
    top = Path(lines[0])
    prefix = lines[1].rstrip("/") if len(lines) > 1 else ""
    return top, prefix


def repository_root(directory: Path) -> Path | None:
    """The top directory of the git repository holding *directory*; None when there is
    none (or git is not installed)."""
    try:
        top, _prefix = project_prefix(directory)
    except InputError:
        return None
    return top


def resolve(directory: Path, ref: str) -> str:
    """The commit id of *ref*; InputError when it names no commit."""
    if not ref or ref.startswith("-"):
        raise _error(directory, f"{ref!r} is not a git revision")
    result = _git(directory, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if result.returncode != 0:
        raise _error(directory, f"unknown git revision {ref!r}")
    return result.stdout.decode("ascii").strip()


def _safe_member(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\0" in name:
        return None
    return path


def read(config: Path, ref: str) -> dict[str, bytes] | None:
    """The project's config file as it was at *ref*, with its catalog/ and templates/:
    posix paths relative to the config file's directory -> bytes. None when the file
    did not exist at *ref*. Links and odd member names are never followed."""
    directory = config.resolve().parent
    top, prefix = project_prefix(directory)
    commit = resolve(directory, ref)
    tree = f"{commit}:{prefix}" if prefix else f"{commit}:"
    listing = _git(top, "ls-tree", "-z", "--name-only", tree)
    if listing.returncode != 0:  # the project directory did not exist yet
        return None
    present = set(listing.stdout.decode("utf-8", "surrogateescape").split("\0"))
    wanted = [n for n in (config.name, *INPUT_DIRECTORIES) if n in present]
    if config.name not in wanted:
        return None
    archive = _git(top, "archive", "--format=tar", tree, "--", *wanted)
    if archive.returncode != 0:
        raise _error(config, f"cannot read {ref}: {_stderr(archive)}")
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        for member in tar.getmembers():
            path = _safe_member(member.name)
            if path is None or not member.isfile():
                continue  # directories are implied; links and odd names are never followed
            source = tar.extractfile(member)
            if source is not None:
                files[path.as_posix()] = source.read()
    return files
