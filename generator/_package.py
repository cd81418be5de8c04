"""tfgen's own files, as a render depends on them: the built-in templates, and one digest
of the code and libraries that turn a project into a tree. Imports nothing heavy: the
fast path of a no-op render (output/fingerprint.py) runs without Jinja."""

from __future__ import annotations

import functools
import hashlib
import os
from importlib import metadata
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
    an absent *root* feeds a marker of its own. Directories of :data:`SKIPPED` are left out."""
    if not os.path.isdir(root):
        digest.update(b"\0absent\0" if not os.path.lexists(root) else b"\0not-a-directory\0")
        return
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED)
        relative = os.path.relpath(directory, root)
        digest.update(f"\0dir\0{relative}\0{len(names)}\0".encode("utf-8", "surrogateescape"))
        for name in sorted(names):
            hash_file(digest, os.path.join(directory, name), name)


def hash_file(digest: hashlib._Hash, path: str, name: str) -> None:
    """Feed *digest* the file's name and bytes (or a marker when it cannot be read)."""
    digest.update(f"\0file\0{name}\0".encode("utf-8", "surrogateescape"))
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        digest.update(f"\0unreadable {exc.errno}\0".encode())
        return
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


@functools.lru_cache(maxsize=1)
def code_identity() -> str:
    """A digest of what tfgen renders with: its version, every file of the package and of
    the built-in templates, and the installed versions of :data:`LIBRARIES`. Any change
    to tfgen's code (released or not) changes it."""
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
