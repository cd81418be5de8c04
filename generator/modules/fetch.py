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
import shutil
import subprocess
import tarfile
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


def unpack(data: bytes, url: str, destination: Path) -> None:
    """Unpack a tar.gz or zip archive into *destination*; a single top directory
    (GitHub's ``name-1.2.3/``) is stripped."""
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
    for name, content in members.items():
        relative = PurePosixPath(*name.parts[1:]) if strip else name
        target = destination.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _git(*args: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "/bin/false"}
    result = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["git failed"])[-1]
        raise FetchError(f"git {args[0]}: {last}")


def git_clone(url: str, ref: str | None, destination: Path) -> None:
    """Clone *url* at *ref* (a tag, branch or commit) into *destination*."""
    if shutil.which("git") is None:
        raise FetchError("git is not installed: it is needed for git:: module sources")
    url = url.removeprefix("git::")
    if ref:
        try:
            _git("clone", "--quiet", "--depth", "1", "--branch", ref, "--", url, str(destination))
            return
        except FetchError:
            shutil.rmtree(destination, ignore_errors=True)  # a commit: clone whole, then check out
    _git("clone", "--quiet", "--", url, str(destination))
    if ref:
        _git("checkout", "--quiet", ref, cwd=destination)


def fetch_location(location: str, destination: Path) -> None:
    """Bring the package at *location* (git:: URL or archive URL, maybe with a
    ``//subdir`` that is then the package) into *destination*."""
    parsed = parse_source(location)
    target = destination / ".package" if parsed.subdir else destination
    if parsed.kind == "git":
        git_clone(parsed.address, parsed.ref, target)
    else:
        query = urllib.parse.urlencode(parsed.query)
        url = parsed.address + (f"?{query}" if query else "")
        _, _, data = _get(url)
        unpack(data, url, target)
    if parsed.subdir:
        inner = target.joinpath(*parsed.subdir.split("/"))
        if not inner.is_dir():
            raise FetchError(f"{location}: the package has no directory {parsed.subdir}")
        for child in inner.iterdir():
            shutil.move(str(child), str(destination / child.name))
        shutil.rmtree(target)


def fetch_package(source: ModuleSource, version: str | None, destination: Path, hosts: Mapping[str, str]) -> None:
    """Download the package of *source* pinned at *version* into *destination*."""
    destination.mkdir(parents=True, exist_ok=True)
    if source.kind == "registry":
        if version is None:
            raise FetchError(f"{source.text}: a registry source needs a version to download")
        fetch_location(registry_download_url(source, version, hosts), destination)
    elif source.kind == "git":
        git_clone(source.address, version or source.ref, destination)
    elif source.kind == "http":
        fetch_location(source.address, destination)
    else:
        raise FetchError(f"{source.text}: a local path is read where it is, not downloaded")


def package_digest(directory: Path) -> str:
    """``sha256:`` over every file's path and content, sorted; examples, tests, docs and
    VCS directories left out, so that the digest names the module code whatever archive
    or clone carried it."""
    entries = []
    for path in sorted(directory.rglob("*")):
        relative = path.relative_to(directory)
        if not path.is_file() or path.is_symlink() or any(p in DIGEST_SKIPPED_DIRS for p in relative.parts):
            continue
        entries.append(f"{relative.as_posix()}\0{hashlib.sha256(path.read_bytes()).hexdigest()}\n")
    return "sha256:" + hashlib.sha256("".join(entries).encode("utf-8")).hexdigest()
