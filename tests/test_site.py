"""The documentation site builds strictly, its reference holds every schema key with its
description, and it works in a browser: headless Chromium (Debian's `chromium`) opens
the home page, a guide and the reference with their navigation, and the search finds
pages. Chromium is driven over the DevTools protocol on a pipe (no extra package): the
search runs in a web worker, which `--dump-dom` does not wait for."""

from __future__ import annotations

import functools
import html
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

import pytest

from .conftest import IN_CI, REPO


def _need(what: str, hint: str) -> None:
    message = f"{what} is not installed ({hint})"
    if IN_CI:
        pytest.fail(f"{message}: it is required under CI=true")
    pytest.skip(message)


def hooks() -> ModuleType:
    pytest.importorskip("mkdocs", reason="pip install -e '.[docs]'")
    spec = importlib.util.spec_from_file_location("docs_hooks", REPO / "docs" / "_hooks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the generated reference ---------------------------------------------------------------


def _keys(node: Any, defs: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every named key (a property) anywhere in a schema, with its node."""
    if isinstance(node, dict):
        for key, child in node.get("properties", {}).items():
            yield key, child
        for key, child in node.items():
            if key not in ("properties", "$defs"):
                yield from _keys(child, defs)
        for child in node.get("properties", {}).values():
            yield from _keys(child, defs)
    elif isinstance(node, list):
        for child in node:
            yield from _keys(child, defs)


@pytest.mark.parametrize("name", ["environments", "catalog"])
def test_every_schema_key_is_in_the_reference_with_its_description(name: str) -> None:
    module = hooks()
    schema = json.loads((REPO / "generator" / "project" / "schemas" / f"{name}.schema.json").read_text())
    page = module.schema_pages()[f"reference/{'environments-yaml' if name == 'environments' else 'catalog'}.md"]
    rows = [line for line in page.splitlines() if line.startswith("| <code>")]
    paths = [html.unescape(re.sub(r"<[^>]+>", "", row.split(" | ", 1)[0][2:])) for row in rows]
    defs = schema.get("$defs", {})
    keys = list(_keys(schema, defs)) + [k for d in defs.values() for k in _keys(d, defs)]
    assert keys
    missing = []
    for key, node in keys:
        if not any(path == key or path.endswith(f".{key}") for path in paths):
            missing.append(key)
        description = node.get("description")
        if description and not any(module._cell(description) in row for row in rows):
            missing.append(f"{key}: {description[:40]}")
    assert missing == []


def test_a_key_without_a_description_fails_the_build() -> None:
    module = hooks()
    from mkdocs.exceptions import PluginError

    schema = {"properties": {"described": {"type": "string", "description": "yes"}, "bare": {"type": "string"}}}
    with pytest.raises(PluginError, match="key bare has no description"):
        list(module.SchemaDoc(schema, "test.schema.json").rows("", schema))


def test_every_registered_rule_is_on_the_rules_page() -> None:
    page = hooks().rules_page()
    from generator.checks.base import CATALOG_RULES, RULES

    assert [f.__name__ for f in RULES + CATALOG_RULES if f"`{f.__name__}`" not in page] == []
    assert page.count("for example:") >= 30  # a real message for most rule ids
    ids = re.findall(r"^- `[a-z0-9-]+`", page, re.M)
    assert page.count("    ```text") == len(ids)  # and a message, real or as written, for each


def test_each_example_has_a_page_with_its_environment_table() -> None:
    from generator import api

    pages = hooks().example_pages()
    for readme in sorted((REPO / "examples").glob("*/README.md")):
        page = pages[f"examples/{readme.parent.name}.md"]
        environments = api.load(readme.parent / "environments.yaml").project.environments
        assert "| | " + " | ".join(e.name for e in environments) + " |" in page


# --- the built site in a browser -----------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The site built with `mkdocs build --strict`, served on 127.0.0.1."""
    pytest.importorskip("mkdocs", reason="pip install -e '.[docs]'")
    target = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    built = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(target)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    handler = functools.partial(_Quiet, directory=str(target))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Browser:
    """Headless Chromium over the DevTools protocol on fds 3 and 4 (--remote-debugging-pipe)."""

    def __init__(self, binary: str) -> None:
        to_chrome_r, self._write = os.pipe()
        self._read, from_chrome_w = os.pipe()

        def plumb() -> None:
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=plumb,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._id:
                    assert "error" not in answer, answer
                    return answer["result"]
            chunk = os.read(self._read, 1 << 16)
            assert chunk, "chromium closed the pipe"
            self._buffer += chunk

    def open(self, url: str) -> str:
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        session: str = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        loaded = f"location.href.startsWith({json.dumps(url.split('?')[0])}) && document.readyState === 'complete'"
        assert self.wait(session, loaded), f"{url} did not load"
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        return result["result"].get("value")

    def wait(self, session: str, expression: str, seconds: float = 60.0) -> Any:
        deadline = time.monotonic() + seconds
        while True:
            value = self.evaluate(session, expression)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self._write)
        os.close(self._read)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        _need("chromium", "apt-get install chromium")
    assert binary is not None
    opened = Browser(binary)
    try:
        yield opened
    finally:
        opened.close()


PAGE = """JSON.stringify({
  title: document.querySelector('article h1') && document.querySelector('article h1').textContent.trim(),
  nav: Array.from(document.querySelectorAll('nav.md-nav--primary .md-nav__link')).map(a => a.textContent.trim()),
  search: !!document.querySelector('input.md-search__input'),
  article: (document.querySelector('article') || {textContent: ''}).textContent.length,
})"""


@pytest.mark.parametrize(
    ("path", "title", "text"),
    [
        ("", "tfgen", "Where to go"),
        ("guides/add-region/", "Add a region", "docs-test"),
        ("reference/environments-yaml/", "environments.yaml keys", "state.bucket"),
    ],
)
def test_a_page_renders_with_its_navigation_and_search(
    site: str, browser: Browser, path: str, title: str, text: str
) -> None:
    session = browser.open(site + path)
    page = json.loads(browser.evaluate(session, PAGE))
    assert page["title"].rstrip("¶").strip() == title
    for section in ("Get started", "Guides", "Examples", "Reference", "Concepts"):
        assert section in page["nav"], page["nav"]
    assert "Add a region" in page["nav"] and "Validation rules" in page["nav"]
    assert page["search"]
    body = browser.evaluate(session, "document.querySelector('article').innerText")
    if text == "docs-test":  # the harness's markers are HTML comments: not shown
        assert "docs-test" not in body and "eu-west-1: { vpc_cidr: 10.21.0.0/16" in body
    else:
        assert text in body


def test_the_search_finds_pages(site: str, browser: Browser) -> None:
    session = browser.open(site + "?q=previous")
    count = browser.wait(session, "document.querySelectorAll('.md-search-result__item').length")
    assert count, browser.evaluate(session, "document.querySelector('.md-search-result__meta').textContent")
    links = browser.evaluate(
        session, "Array.from(document.querySelectorAll('.md-search-result__item a')).map(a => a.href)"
    )
    assert any("guides/rename-move/" in link for link in links), links
