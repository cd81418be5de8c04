"""Module sources as Terraform reads them: registry, git, HTTP archive or local path.

``parse_source`` splits a catalog ``source`` into its parts (registry host and
namespace/name/provider, git URL, ``//subdir``, ``?ref=`` / ``?version=``);
``pin_problems`` says what is wrong with joining it to a ``version`` (two pins, a pin
on a local path, no pin at all); ``pinned`` writes the one source Terragrunt gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from urllib.parse import parse_qsl

Kind = Literal["registry", "git", "http", "local"]

DEFAULT_REGISTRY = "registry.terraform.io"
_REGISTRY = re.compile(r"^tfr://(?P<host>[^/]*)/(?P<address>[^/?]+/[^/?]+/[^/?]+)(?P<rest>.*)$")
#: Terraform's shorthand registry addresses: namespace/name/provider, maybe host/ first.
_SHORT_REGISTRY = re.compile(r"^(?:(?P<host>[a-z0-9.-]+\.[a-z]+(?::\d+)?)/)?(?P<address>[A-Za-z0-9_-]+/[A-Za-z0-9_-]+/[a-z0-9]+)(?P<rest>(?://[^?]*)?(?:\?.*)?)$")
_GIT_SCP = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9.-]+:")
_SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class ModuleSource:
    """One module source, as written in the catalog (the pin kept separately)."""

    text: str  # as written
    kind: Kind
    address: str  # registry: namespace/name/provider; git/http: the URL; local: the path
    host: str = ""  # registry host ("" for the default registry)
    subdir: str = ""  # the part after //, without leading or trailing slashes
    query: tuple[tuple[str, str], ...] = field(default=())  # every ?key=value, in order

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.query if k == key]

    @property
    def ref(self) -> str | None:
        refs = self.values("ref")
        return refs[0] if refs else None

    @property
    def source_version(self) -> str | None:
        versions = self.values("version")
        return versions[0] if versions else None

    @property
    def pin_param(self) -> str:
        return "version" if self.kind == "registry" else "ref"

    @property
    def package(self) -> str:
        """The source without subdirectory and pin: what is downloaded once."""
        if self.kind == "registry":
            return f"tfr://{self.host}/{self.address}"
        return self.address

    @property
    def registry_host(self) -> str:
        return self.host or DEFAULT_REGISTRY


def _split_subdir(text: str) -> tuple[str, str]:
    """``https://host/x.git//modules/a`` -> (``https://host/x.git``, ``modules/a``); the
    ``//`` of a scheme (``https://``) is not a subdirectory."""
    start = text.find("://")
    search_from = start + 3 if start >= 0 else 0
    at = text.find("//", search_from)
    if at < 0:
        return text, ""
    return text[:at], text[at + 2 :].strip("/")


def _split_query(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    if "?" not in text:
        return text, ()
    base, _, query = text.partition("?")
    return base, tuple(parse_qsl(query, keep_blank_values=True))


def is_local(text: str) -> bool:
    return text.startswith(("./", "../", "/")) or text in (".", "..")


@lru_cache(maxsize=4096)
def parse_source(text: str) -> ModuleSource:
    """The parts of *text*; anything not recognised as registry, git or local is HTTP."""
    match = _REGISTRY.match(text)
    if match:
        rest, query = _split_query(match["rest"])
        subdir = rest[2:].strip("/") if rest.startswith("//") else rest.strip("/")
        return ModuleSource(text, "registry", match["address"], match["host"], subdir, query)
    if is_local(text):
        path, query = _split_query(text)
        return ModuleSource(text, "local", path, query=query)
    without_query, query = _split_query(text)
    base, subdir = _split_subdir(without_query)
    if base.startswith("git::") or _GIT_SCP.match(base) or base.endswith(".git"):
        return ModuleSource(text, "git", base, subdir=subdir, query=query)
    if base.startswith(("github.com/", "bitbucket.org/")):
        return ModuleSource(text, "git", base, subdir=subdir, query=query)
    short = _SHORT_REGISTRY.match(text)
    if short and "://" not in text:
        rest, query = _split_query(short["rest"])
        return ModuleSource(text, "registry", short["address"], short["host"] or "", rest.strip("/"), query)
    return ModuleSource(text, "http", base, subdir=subdir, query=query)


@dataclass(frozen=True)
class PinProblem:
    message: str
    hint: str
    severity: Literal["error", "warning"] = "error"
    on: Literal["source", "version"] = "source"


def pin_problems(source: ModuleSource, version: str | None) -> list[PinProblem]:
    """What is wrong with pinning *source* to *version* (either may carry the pin)."""
    problems: list[PinProblem] = []
    refs, versions = source.values("ref"), source.values("version")
    if source.kind == "local":
        if version is not None:
            problems.append(
                PinProblem(
                    f"a local path cannot be pinned: version {version} would be appended as ?ref=",
                    "remove version: a local module is the code beside the catalog",
                    on="version",
                )
            )
        if refs or versions:
            problems.append(
                PinProblem("a local path takes no ?ref= or ?version=", "remove the query: Terraform reads the files")
            )
        return problems
    if source.kind == "http":
        if version is not None:
            problems.append(
                PinProblem(
                    f"an archive URL is pinned by the URL itself: version {version} would be appended as ?ref=",
                    "remove version, or put the version in the archive's URL",
                    on="version",
                )
            )
        return problems
    param = source.pin_param
    own = source.values(param)
    other = "ref" if param == "version" else "version"
    if source.values(other):
        problems.append(
            PinProblem(
                f"a {source.kind} source is pinned with ?{param}=, not ?{other}=",
                f"write version: and drop ?{other}= from the source",
            )
        )
    if len(own) > 1:
        problems.append(
            PinProblem(f"the source carries ?{param}= {len(own)} times ({', '.join(own)})", f"keep one ?{param}=")
        )
    if own and version is not None:
        same = " (the same pin twice)" if own == [version] else ""
        problems.append(
            PinProblem(
                f"the source already carries ?{param}={own[0]} and version is {version}{same}: "
                f"it would render two pins",
                f"remove ?{param}= from the source, or remove version",
                on="version",
            )
        )
    pin = version if version is not None else (own[0] if own else None)
    if pin is None:
        problems.append(
            PinProblem(
                f"the {source.kind} source is not pinned: every init may fetch different code",
                f"set version: to a {'release' if source.kind == 'registry' else 'tag or commit'}",
                severity="warning",
            )
        )
    elif pin.lower() == "latest":
        problems.append(
            PinProblem(
                "version 'latest' is not a pin: every init may fetch different code",
                "pin a release such as 5.17.0",
                severity="warning",
                on="version" if version is not None else "source",
            )
        )
    elif source.kind == "registry" and not _SEMVER.match(pin):
        problems.append(
            PinProblem(
                f"registry version {pin!r} is not an exact version such as 5.17.0",
                "tfr:// sources need one exact version, not a constraint",
                on="version" if version is not None else "source",
            )
        )
    return problems


def pinned(text: str, version: str | None) -> str:
    """The source Terragrunt gets: *version* appended as ?version= (registry) or ?ref=.

    A source whose pins conflict is refused by validation before anything renders;
    a local path is never given a pin."""
    if not version:
        return text
    source = parse_source(text)
    if source.kind in ("local", "http"):
        return text
    separator = "&" if "?" in text else "?"
    return f"{text}{separator}{source.pin_param}={version}"


def without_pin(text: str) -> str:
    """*text* without its ``?ref=`` / ``?version=``: a promoted version replaces the
    source's own pin rather than adding a second one."""
    source = parse_source(text)
    if source.kind == "local" or "?" not in text:
        return text
    base, _, query = text.partition("?")
    kept = [part for part in query.split("&") if part.split("=", 1)[0] not in ("ref", "version")]
    return base + ("?" + "&".join(kept) if kept else "")


def promoted(text: str, version: str) -> str:
    """The source of a unit that deploys *version* instead of the catalog's pin."""
    return pinned(without_pin(text), version)


def pin_of(source: ModuleSource, version: str | None) -> str | None:
    """The version the source ends up at (the catalog's version or the source's own pin)."""
    if version is not None:
        return version
    return source.source_version if source.kind == "registry" else source.ref
