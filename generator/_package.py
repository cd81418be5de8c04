"""tfgen's own files, as a render depends on them: the built-in templates, and one digest
of the code and libraries that turn a project into a tree. Imports nothing heavy: the
fast path of a no-op render (output/fingerprint.py) runs without Jinja."""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from pathlib import Path

from ._version import __version__

PACKAGE = Path(__file__).resolve().parent

#: The libraries whose behaviour is part of the bytes a render writes (parsing the YAML,
#: the schema's verdicts, the templates, the HCL parsers), by distribution name.
LIBRARIES = ("jinja2", "markupsafe", "pyyaml", "jsonschema", "pygohcl", "python-hcl2", "regex")

#: Directories that hold no input of a render, wherever they appear.
SKIPPED = frozenset({"__pycache__", ".git", ".terraform", ".terragrunt-cache", ".mypy_cache", ".ruff_cache"})


def builtin_templates() -> Path:
    """The templates shipped with tfgen: inside the wheel, or the repository's own."""
    packaged = PACKAGE / "templates"
    if packaged.is_dir():
        return packaged
    return PACKAGE.parent / "templates"


def hash_tree(digest: hashlib._Hash, root: str) -> None:
    """Feed *digest* every name and every file's bytes below *root*, in a fixed order;
    an absent *root* feeds a marker of its own. Directories of :data:`SKIPPED` are left
    out; linked directories are followed (a loader reads through them), each real
    directory once."""
    if not os.path.isdir(root):
        digest.update(b"\0absent\0" if not os.path.lexists(root) else b"\0not-a-directory\0")
        return
    seen: set[str] = set()
    pending = [(root, ".")]
    while pending:
        directory, relative = pending.pop()
        real = os.path.realpath(directory)
        if real in seen:
            digest.update(f"\0seen\0{relative}\0".encode("utf-8", "surrogateescape"))
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            digest.update(f"\0unlistable\0{relative}\0{exc.errno}\0".encode("utf-8", "surrogateescape"))
            continue
        files = [e for e in entries if not e.is_dir()]
        digest.update(f"\0dir\0{relative}\0{len(files)}\0".encode("utf-8", "surrogateescape"))
        for entry in files:
            hash_file(digest, entry.path, entry.name)
        subdirectories = [e for e in entries if e.is_dir() and e.name not in SKIPPED]
        pending += [(e.path, f"{relative}/{e.name}") for e in reversed(subdirectories)]


def hash_file(digest: hashlib._Hash, path: str, name: str) -> None:
    """Feed *digest* the file's name and bytes, read in chunks; a marker instead when it
    cannot be read or is not a regular file (a FIFO or a device would never end)."""
    digest.update(f"\0file\0{name}\0".encode("utf-8", "surrogateescape"))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        digest.update(f"\0unreadable {exc.errno}\0".encode())
        return
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            digest.update(b"\0not a file\0")
            return
        digest.update(info.st_size.to_bytes(8, "little"))
        while chunk := os.read(fd, 1 << 20):
            digest.update(chunk)
    except OSError as exc:
        digest.update(f"\0unreadable {exc.errno}\0".encode())
    finally:
        os.close(fd)


@functools.lru_cache(maxsize=1)
def code_identity() -> str:
    """A digest of what tfgen renders with: its version, every file of the package and of
    the built-in templates, and the installed versions of :data:`LIBRARIES`. Any change
    to tfgen's code (released or not) changes it."""
    from importlib import metadata  # 20-40 ms to import: not for `tfgen --version`

    digest = hashlib.sha256(f"tfgen {__version__}\0".encode())
    hash_tree(digest, str(PACKAGE))
    templates = builtin_templates()
    if not templates.is_relative_to(PACKAGE):
        hash_tree(digest, str(templates))
    for library in LIBRARIES:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = "absent"
        digest.update(f"\0{library} {version}".encode())
    return digest.hexdigest()
