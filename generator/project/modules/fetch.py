"""Downloading a pinned module package: the Terraform module registry protocol, HTTP
archives and git.

Registry: service discovery (``GET https://HOST/.well-known/terraform.json`` ->
``modules.v1``), then ``GET <modules.v1>NAMESPACE/NAME/PROVIDER/VERSION/download``,
whose ``X-Terraform-Get`` header (204) or JSON body names the package: an archive URL
(``.tar.gz``, ``.tgz``, ``.zip``, or ``?archive=``), relative to the download URL,
or a ``git::`` URL. Git sources are cloned with the git client at their ref.

``hosts`` maps a registry host to the base URL that serves it (a mirror, or a test
server on 127.0.0.1); without an entry the host is reached over HTTPS.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .sources import ModuleSource, parse_source

TIMEOUT = 60.0
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024
#: Left out of a package's digest: not module code.
DIGEST_SKIPPED_DIRS = frozenset({"examples", "test", "tests", "docs", ".git", ".github"})


class FetchError(Exception):
    """A package that cannot be downloaded or unpacked (the message says why)."""


def _get(url: str) -> tuple[int, Mapping[str, str], bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": "tfgen", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read(MAX_ARCHIVE_BYTES + 1)
            if len(body) > MAX_ARCHIVE_BYTES:
                raise FetchError(f"{url}: larger than {MAX_ARCHIVE_BYTES} bytes")
            return response.status, dict(response.headers.items()), body
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {reason}") from None


def registry_base(host: str, hosts: Mapping[str, str]) -> str:
    return hosts.get(host, f"https://{host}").rstrip("/")


_DISCOVERED: dict[str, str] = {}


def discover_modules_url(host: str, hosts: Mapping[str, str]) -> str:
    """The registry's ``modules.v1`` endpoint, absolute (asked once per registry URL)."""
    base = registry_base(host, hosts)
    if base in _DISCOVERED:
        return _DISCOVERED[base]
    url = f"{base}/.well-known/terraform.json"
    _, _, body = _get(url)
    try:
        services = json.loads(body)
        endpoint = services["modules.v1"]
    except (ValueError, KeyError, TypeError):
        raise FetchError(f"{url}: not a Terraform service discovery document with modules.v1") from None
    if not isinstance(endpoint, str):
        raise FetchError(f"{url}: modules.v1 is not a string")
    found = _DISCOVERED[base] = urllib.parse.urljoin(url, endpoint if endpoint.endswith("/") else endpoint + "/")
    return found


def registry_download_url(source: ModuleSource, version: str, hosts: Mapping[str, str]) -> str:
    """Where the registry says the package of *source* at *version* is (X-Terraform-Get)."""
    modules = discover_modules_url(source.registry_host, hosts)
    url = urllib.parse.urljoin(modules, f"{source.address}/{urllib.parse.quote(version)}/download")
    _, headers, body = _get(url)
    lowered = {k.lower(): v for k, v in headers.items()}
    location = lowered.get("x-terraform-get")
    if not location and body:
        try:
            location = json.loads(body).get("location")
        except (ValueError, AttributeError):
            location = None
    if not location:
        raise FetchError(f"{url}: the registry named no package (no X-Terraform-Get)")
    if location.startswith(("git::", "git@")):
        return str(location)
    return urllib.parse.urljoin(url, location)


def _safe_member(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    return path


#: A downloaded package in memory: relative POSIX path -> file content.
Package = dict[str, bytes]


def unpack(data: bytes, url: str) -> Package:
    """The files of a tar.gz or zip archive, in memory; a single top directory
    (GitHub's ``name-1.2.3/``) is stripped. Nothing is written to disk."""
    members: dict[PurePosixPath, bytes] = {}
    kind = urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("archive", [""])[0]
    path = urllib.parse.urlparse(url).path
    try:
        if kind == "zip" or path.endswith(".zip") or data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    safe = _safe_member(info.filename)
                    if safe is not None and not info.is_dir():
                        members[safe] = archive.read(info)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                for member in archive.getmembers():
                    safe = _safe_member(member.name)
                    if safe is None or not member.isfile():
                        continue
                    handle = archive.extractfile(member)
                    if handle is not None:
                        members[safe] = handle.read()
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        raise FetchError(f"{url}: not a tar.gz or zip archive ({exc})") from None
    if not members:
        raise FetchError(f"{url}: the archive holds no files")
    tops = {p.parts[0] for p in members}
    strip = len(tops) == 1 and all(len(p.parts) > 1 for p in members)
    return {
        (PurePosixPath(*name.parts[1:]) if strip else name).as_posix(): content for name, content in members.items()
    }


def _git(*args: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}
    try:
        result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    except FileNotFoundError:
        raise FetchError("git is not installed: it is needed for git:: module sources") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["git failed"])[-1]
        raise FetchError(f"git {args[0]}: {last}")


def _read_tree(directory: Path) -> Package:
    """The regular files of a checkout (not .git, not symlinks), in memory."""
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in directory.rglob("*")
        if ".git" not in path.relative_to(directory).parts and path.is_file() and not path.is_symlink()
    }


def git_clone(url: str, ref: str | None) -> Package:
    """The files of *url* at *ref* (a tag, branch or commit). git clones into a scratch
    directory that is gone when this returns; tfgen itself writes nothing."""
    url = url.removeprefix("git::")
    with tempfile.TemporaryDirectory(prefix="tfgen-git-") as scratch:
        if ref:
            shallow = Path(scratch) / "shallow"
            try:
                _git("clone", "--quiet", "--depth", "1", "--branch", ref, "--", url, str(shallow))
                return _read_tree(shallow)
            except FetchError as exc:
                if "not installed" in str(exc):
                    raise
        full = Path(scratch) / "full"  # a commit: clone whole, then check out
        _git("clone", "--quiet", "--", url, str(full))
        if ref:
            _git("checkout", "--quiet", ref, cwd=full)
        return _read_tree(full)


def subdirectory(package: Package, subdir: str) -> Package:
    """The files below *subdir* of *package*, relative to it (empty if it has none)."""
    prefix = subdir.strip("/") + "/"
    return {name[len(prefix):]: content for name, content in package.items() if name.startswith(prefix)}


def fetch_location(location: str) -> Package:
    """The package at *location* (git:: URL or archive URL, maybe with a ``//subdir``
    that is then the package)."""
    parsed = parse_source(location)
    if parsed.kind == "git":
        package = git_clone(parsed.address, parsed.ref)
    else:
        query = urllib.parse.urlencode(parsed.query)
        url = parsed.address + (f"?{query}" if query else "")
        _, _, data = _get(url)
        package = unpack(data, url)
    if parsed.subdir:
        package = subdirectory(package, parsed.subdir)
        if not package:
            raise FetchError(f"{location}: the package has no directory {parsed.subdir}")
    return package


def fetch_package(source: ModuleSource, version: str | None, hosts: Mapping[str, str]) -> Package:
    """The package of *source* pinned at *version*."""
    if source.kind == "registry":
        if version is None:
            raise FetchError(f"{source.text}: a registry source needs a version to download")
        return fetch_location(registry_download_url(source, version, hosts))
    if source.kind == "git":
        return git_clone(source.address, version or source.ref)
    if source.kind == "http":
        return fetch_location(source.address)
    raise FetchError(f"{source.text}: a local path is read where it is, not downloaded")


def package_digest(package: Package) -> str:
    """``sha256:`` over every file's path and content, sorted by path components;
    examples, tests, docs and VCS directories left out, so that the digest names the
    module code whatever archive or clone carried it."""
    entries = []
    for name in sorted(package, key=lambda n: tuple(n.split("/"))):
        if any(p in DIGEST_SKIPPED_DIRS for p in name.split("/")):
            continue
        entries.append(f"{name}\0{hashlib.sha256(package[name]).hexdigest()}\n")
    return "sha256:" + hashlib.sha256("".join(entries).encode("utf-8")).hexdigest()
