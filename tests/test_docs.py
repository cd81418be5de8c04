"""The documentation site is true: every command in its pages runs, and prints what the
page says it prints.

A page is a script, read top to bottom, run in a fresh copy of one project:

- ``<!-- docs-test: project=PATH -->`` (once, anywhere on the page) names the project to
  copy, a directory of the repository (default: the reference project at the root). The
  copy is a git repository on branch ``main`` with everything committed, so ``git status``
  and ``tfgen affected --base main`` show what the page's steps changed.
- A ```` ```console ```` block holds ``$ COMMAND`` lines, each followed by what it prints
  (stdout and stderr as a terminal shows them). A line ``...`` stands for any number of
  lines; durations (``0.18 s``) match any duration. ``tfgen`` commands run in-process
  through click, anything else with bash in the project (``cd DIR`` moves the page there).
- ``<!-- docs-test: edit=FILE -->`` right before a ```` ```yaml ```` block applies the block
  to FILE (relative to the project) as an edit: each line that is in the file already is
  context (it locates what follows), a ``key: value`` line that replaces the key of that
  name under the same parent replaces it (with the lines under it), a key line with the
  comment ``# renamed from OLD`` replaces the line of key OLD (keeping the lines under
  it), and any other line is added after the block's previous key of the fragment, or at
  the end of its parent's block. So a guide shows the change as a reader would
  type it, with the keys around it, and the test makes exactly that change.
- ``<!-- docs-test: write=FILE -->`` right before a code block writes the block to FILE.
- ``<!-- docs-test: skip=REASON -->`` right before a ```` ```sh ```` block (a recipe to
  copy) says why its commands cannot run here (an AWS account, the module registry); a
  guide's other ```` ```sh ```` blocks show only tfgen commands its console blocks run.

``pytest tests/test_docs.py --update-golden`` rewrites the printed output of every
console block that has no ``...`` from a fresh run: review the diff.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .conftest import IN_CI, REPO

DOCS = REPO / "docs"
MARKER = re.compile(r"<!-- docs-test: (\w+)=(\S+) -->")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.S | re.M)
DURATION = re.compile(r" *\b\d+(?:\.\d+)? s\b")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "docs",
    "GIT_AUTHOR_EMAIL": "docs@example.com",
    "GIT_COMMITTER_NAME": "docs",
    "GIT_COMMITTER_EMAIL": "docs@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
}


# --- reading a page ------------------------------------------------------------------------


@dataclass
class Step:
    kind: str  # console, edit, write
    start: int  # offset of the block's body in the page
    body: str
    target: str = ""


@dataclass
class Script:
    page: Path
    project: str = "."
    steps: list[Step] = field(default_factory=list)


def read_page(page: Path) -> Script:
    text = page.read_text(encoding="utf-8")
    script = Script(page)
    for match in MARKER.finditer(text):
        if match.group(1) == "project":
            script.project = match.group(2)
    for block in BLOCK.finditer(text):
        before = text[: block.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.fullmatch(before.strip())
        if block.group(1) == "console":
            script.steps.append(Step("console", block.start(2), block.group(2)))
        elif marker and marker.group(1) in ("edit", "write"):
            script.steps.append(Step(marker.group(1), block.start(2), block.group(2), marker.group(2)))
    return script


def pages() -> list[Path]:
    found = [p for p in sorted(DOCS.rglob("*.md")) if "_hooks" not in p.parts]
    return [p for p in found if read_page(p).steps]


def commands(body: str) -> Iterator[tuple[str, list[str]]]:
    """(command, expected output lines) of a console block."""
    command: str | None = None
    expected: list[str] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            if command is not None:
                yield command, expected
            command, expected = line[2:], []
        elif command is None:
            raise AssertionError(f"console block output before any `$ ` command: {line!r}")
        else:
            expected.append(line)
    if command is not None:
        yield command, expected


# --- edits ---------------------------------------------------------------------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key(line: str) -> str | None:
    match = re.match(r"\s*([^\s#:'\"{}\[\]-][^:#{}]*?|'[^']*'|\"[^\"]*\"):(\s|$)", line)
    return match.group(1) if match else None


def _block_end(lines: list[str], parent: int) -> int:
    """The index after the last line under *parent* (-1: the document)."""
    if parent < 0:
        end = len(lines)
    else:
        level = _indent(lines[parent])
        end = parent + 1
        while end < len(lines) and (
            not lines[end].strip() or lines[end].lstrip().startswith("#") or _indent(lines[end]) > level
        ):
            end += 1
    while end - 1 > parent and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


RENAMED = re.compile(r"#\s*renamed from (\S+)")


def apply_edit(text: str, fragment: str) -> str:
    lines = text.splitlines()
    stack: list[tuple[int, int]] = []  # (indent, line index) of the keys above the current line
    for line in fragment.splitlines():
        if not line.strip():
            continue
        level = _indent(line)
        sibling = None  # the fragment's previous key at this level: a new key goes after it
        while stack and stack[-1][0] >= level:
            if stack[-1][0] == level:
                sibling = stack[-1][1]
            stack.pop()
        parent = stack[-1][1] if stack else -1
        first, end = parent + 1, _block_end(lines, parent)
        same = [i for i in range(first, end) if _indent(lines[i]) == level]
        exact = next((i for i in same if lines[i].rstrip() == line.rstrip()), None)
        key = _key(line)
        keyed = next((i for i in same if key is not None and _key(lines[i]) == key), None)
        renamed = RENAMED.search(line)
        old = next((i for i in same if renamed and _key(lines[i]) == renamed.group(1)), None)
        if exact is not None:
            at = exact
        elif old is not None:
            at = old
            lines[at] = line
        elif keyed is not None:
            at = keyed
            lines[at : _block_end(lines, at)] = [line]
        else:
            at = end if sibling is None else _block_end(lines, sibling)
            lines.insert(at, line)
        stack.append((level, at))
    return "\n".join(lines) + "\n"


def test_an_edit_adds_under_its_parent_and_replaces_a_key() -> None:
    text = "a:\n  b: 1\n  c:\n    d: 2\n# tail\nz: 0\n"
    assert apply_edit(text, "a:\n  c:\n    e: 3\n") == "a:\n  b: 1\n  c:\n    d: 2\n    e: 3\n# tail\nz: 0\n"
    assert apply_edit(text, "a:\n  c: {d: 4}\n") == "a:\n  b: 1\n  c: {d: 4}\n# tail\nz: 0\n"
    assert apply_edit(text, "y:\n  x: 1\n") == text + "y:\n  x: 1\n"
    renamed = "a:\n  b: 1\n  e:  # renamed from c\n    d: 2\n# tail\nz: 0\n"
    assert apply_edit(text, "a:\n  e:  # renamed from c\n") == renamed
    assert apply_edit(text, "a:\n  b: 1\n  f: 5\n") == "a:\n  b: 1\n  f: 5\n  c:\n    d: 2\n# tail\nz: 0\n"


# --- running a page ------------------------------------------------------------------------


def matches(expected: list[str], actual: list[str]) -> bool:
    pattern = "".join("(?:.*\n)*?" if line == "..." else re.escape(line) + "\n" for line in expected)
    return re.fullmatch(pattern, "".join(line + "\n" for line in actual)) is not None


def normalize(text: str) -> list[str]:
    lines = [DURATION.sub(" N s", line).rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def needs_tools(command: str) -> None:
    if not command.startswith("tfgen rehearse"):
        return
    from generator.rehearse import tools as tools_module
    from generator.rehearse.errors import CannotRehearse
    from generator.rehearse.server import available

    problems = [] if available() else ["moto[server] is not installed"]
    try:
        tools_module.find()
    except CannotRehearse as error:
        problems.append(str(error.diagnostics[0].message))
    if problems:
        message = f"{'; '.join(problems)}: run bash scripts/build-tools.sh"
        if IN_CI:
            pytest.fail(f"{message} (required under CI=true)")
        pytest.skip(message)


def run(command: str, cwd: Path) -> str:
    if command.startswith("tfgen ") and not re.search(r"[|&;<>$`]", command):
        previous = os.getcwd()
        os.chdir(cwd)
        try:
            result = CliRunner().invoke(main, shlex.split(command)[1:], prog_name="tfgen")
        finally:
            os.chdir(previous)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.output
    env = {**os.environ, **GIT_ENV, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        timeout=1800,
    )
    return done.stdout


def copy_project(script: Script, target: Path) -> Path:
    source = REPO / script.project
    if script.project == ".":
        target.mkdir()
        shutil.copy2(source / "environments.yaml", target / "environments.yaml")
        for name in ("catalog", "output", "templates"):
            if (source / name).is_dir():
                shutil.copytree(source / name, target / name)
    else:
        shutil.copytree(source, target)
    git = ["git", "-c", "init.defaultBranch=main"]
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the project as the docs start"]):
        subprocess.run([*git, *args], cwd=target, env=env, check=True, capture_output=True)
    return target


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_command_of_the_page_prints_what_it_says(page: Path, tmp_path: Path, update_golden: bool) -> None:
    script = read_page(page)
    cwd = copy_project(script, tmp_path / "project")
    text = page.read_text(encoding="utf-8")
    rewrites: list[tuple[int, int, str]] = []
    for step in script.steps:
        if step.kind == "edit":
            path = cwd / step.target
            path.write_text(apply_edit(path.read_text(encoding="utf-8"), step.body), encoding="utf-8")
            continue
        if step.kind == "write":
            (cwd / step.target).parent.mkdir(parents=True, exist_ok=True)
            (cwd / step.target).write_text(step.body, encoding="utf-8")
            continue
        offset = step.start
        for command, expected in commands(step.body):
            needs_tools(command)
            if command.startswith("cd "):
                cwd = (cwd / command[3:].strip()).resolve()
                output = ""
            else:
                output = run(command, cwd)
            actual = normalize(output)
            wanted = [DURATION.sub(" N s", line).rstrip() for line in expected]
            block_text = "\n".join(["$ " + command, *expected])
            if not matches(wanted, actual):
                if update_golden and "..." not in expected:
                    new = "\n".join(["$ " + command, *(line.rstrip() for line in output.rstrip("\n").splitlines())])
                    start = text.index(block_text, offset)
                    rewrites.append((start, start + len(block_text), new))
                else:
                    pytest.fail(
                        f"{page.relative_to(REPO)}: `{command}` printed:\n{output}\n"
                        f"the page says:\n" + "\n".join(expected)
                    )
            offset = text.index(block_text, offset) + len(block_text)
    for start, end, new in reversed(rewrites):
        text = text[:start] + new + text[end:]
    if rewrites:
        page.write_text(text, encoding="utf-8")


def test_every_tfgen_command_a_guide_shows_is_run() -> None:
    """A ```sh block of a guide (a recipe to copy) shows tfgen commands that a console block
    of the same page runs, unless a ``<!-- docs-test: skip=REASON -->`` says why it cannot
    run here (an AWS account, the module registry)."""
    unrun = []
    for guide in sorted((DOCS / "guides").glob("*.md")):
        text = guide.read_text(encoding="utf-8")
        run = {
            command for step in read_page(guide).steps if step.kind == "console" for command, _ in commands(step.body)
        }
        for block in BLOCK.finditer(text):
            before = text[: block.start()].rstrip("\n").rsplit("\n", 1)[-1].strip()
            if block.group(1) != "sh" or re.fullmatch(r"<!-- docs-test: skip=\S+ -->", before):
                continue
            for line in block.group(2).splitlines():
                for command in line.split("#", 1)[0].split("&&"):
                    command = command.strip()
                    if command.startswith("tfgen ") and command not in run:
                        unrun.append(f"{guide.name}: {command}")
    assert unrun == []


def test_every_guide_runs_a_command() -> None:
    """A guide (docs/guides/*.md) shows a task done: at least one console block."""
    guides = sorted((DOCS / "guides").glob("*.md"))
    assert guides
    assert [g.name for g in guides if not any(s.kind == "console" for s in read_page(g).steps)] == []


# --- the Python API page -------------------------------------------------------------------


def python_api_example() -> str:
    page = (DOCS / "reference" / "python-api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", page.split("<!-- generated:", 1)[0], re.S)
    assert len(blocks) == 1
    example: str = blocks[0]
    return example


def test_the_python_api_example_runs(reference_project: Path) -> None:
    shutil.rmtree(reference_project.parent / "output" / "environments" / "dev")
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(reference_project.parent)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(python_api_example(), "python-api.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = printed.getvalue().splitlines()
    assert re.fullmatch(r"\d+ units, 0 warnings", lines[0])
    assert any(line.startswith("created environments/dev/") for line in lines)
    assert "written: True" in lines
    assert lines[-1].startswith("scope.environments qa: no such environment")
    assert (reference_project.parent / "output" / "environments" / "dev" / "env.hcl").is_file()


# --- pages that name the code --------------------------------------------------------------


def test_the_init_sample_lists_every_file_init_writes(tmp_path: Path) -> None:
    page = (DOCS / "get-started" / "new-project.md").read_text(encoding="utf-8")
    body = re.findall(r"```console\n(.*?)```", page, re.S)[0]
    command, expected = next(commands(body))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = CliRunner().invoke(main, shlex.split(command)[1:])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(line.removeprefix("created ") for line in expected if line.startswith("created "))


def test_the_development_page_names_each_stage_once() -> None:
    section = (DOCS / "development.md").read_text(encoding="utf-8")
    stages = sorted(p.name for p in (REPO / "generator").iterdir() if (p / "__init__.py").is_file())
    assert [s for s in stages if f"`{s}/`" not in section] == []
    assert "`build/` (" not in section  # generator/build is generator/rendering now
    lines = [line.strip() for line in section.splitlines() if len(line.strip()) > 30]
    assert [line for line in set(lines) if lines.count(line) > 1] == []
