"""The layout's rules, checked on the source (ARCHITECTURE.md): imports run down the
pipeline and none hides inside a function, no exported name shadows a submodule, and
only output/disk.py writes files."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import generator

PACKAGE = Path(generator.__file__).parent
#: Each stage may import the stages below it (a lower rank) and its own modules.
RANK = {
    "_version": 0, "_package": 0.5, "errors": 0, "hcl": 1, "project": 2, "checks": 3, "rendering": 4, "output": 4,
    "features": 5, "importing": 5, "api": 6, "rehearse": 6.5, "cli": 7, "__init__": 8, "__main__": 9,
}


#: Modules that may be imported inside a function (or under ``if TYPE_CHECKING:``), so
#: that the commands that do not use them do not pay for importing them (issue 27):
#: validate does not import Jinja, no command but rehearse imports moto and boto3.
#: They still run down the pipeline.
#: A render or `render --check` that the manifest proves changes nothing (the fingerprint)
#: and `tfgen --version` import none of the model, the rules or the renderer; each
#: command imports the stages it runs (tests/cli/test_imports.py).
_STAGE = "a stage: imported by the commands that run it, not by a render proven unchanged nor --version"
LAZY = {
    "generator.rendering.render": "Jinja: imported to plan, not to validate",
    **{
        module: _STAGE
        for module in (
            "generator.checks",
            "generator.project.catalog",
            "generator.project.loader",
            "generator.project.model",
            "generator.project.moves",
            "generator.project.revision",
            "generator.project.schema",
            "generator.project.modules.interface",
            "generator.project.modules.lockfile",
            "generator.rendering.pipelines",
            "generator.rendering.stacks",
            "generator.features.affected",
            "generator.features.explain",
            "generator.features.graph",
            "generator.features.scaffold",
            "generator.features.stacks",
            "generator.importing.compare",
            "generator.importing.documents",
            "generator.importing.evaluate",
            "generator.importing.recover",
            "generator.importing.views",
        )
    },
    "generator.rehearse": "the rehearsal: imported by `tfgen rehearse` alone",
    "generator.rehearse.real": "the rehearsal: imported by `tfgen rehearse` alone",
    "generator.rehearse.rehearse": "the rehearsal: imported by `tfgen rehearse` alone",
    "generator.rehearse.text": "the rehearsal: imported by `tfgen rehearse` alone",
    "generator.rehearse.tools": "the rehearsal: imported by `tfgen rehearse` alone",
}


def modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p for p in sorted(PACKAGE.rglob("*.py"))}


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(tfgen module imported, line, at module level) for every import in *path*."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    top = {id(node) for node in tree.body} | {
        id(n) for node in tree.body if isinstance(node, ast.Try) for n in node.body + node.handlers}
    # imports for type checkers alone (`if TYPE_CHECKING:`) never run: they count as at the top
    top |= {
        id(n)
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for n in node.body
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            # `from .features import graph` imports the module generator.features.graph
            names = (
                [f"{target}.{a.name}" if _is_module(f"{target}.{a.name}") else target for a in node.names]
                if node.module
                else [f"{target}.{a.name}" for a in node.names]
            )
            found += [(name, node.lineno, id(node) in top) for name in names]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [(n, node.lineno, id(node) in top) for n in names if n.split(".")[0] == "generator"]
    return found


def test_imports_run_down_the_pipeline_and_none_hides_in_a_function() -> None:
    wrong = []
    for module, path in modules().items():
        own = stage(module)
        for target, line, at_top in imported(module, path):
            where = f"{path.relative_to(PACKAGE.parent)}:{line}: {target}"
            if not at_top and target not in LAZY:
                wrong.append(f"{where} is imported inside a function")
            other = stage(target)
            if other != own and RANK[other] >= RANK[own]:
                wrong.append(f"{where} runs up or across the pipeline ({own} -> {other})")
    assert not wrong, "\n".join(wrong)


def test_no_exported_name_shadows_a_submodule() -> None:
    for info in pkgutil.walk_packages(generator.__path__, "generator."):
        importlib.import_module(info.name)
    for name in generator.__all__:
        assert not (PACKAGE / f"{name}.py").exists() and not (PACKAGE / name).is_dir(), name
        assert getattr(generator, name) is getattr(importlib.import_module("generator"), name)
    assert callable(generator.render) and callable(generator.graph) and callable(generator.explain)


_WRITES = re.compile(
    r"(?<!disk)\.write_text\(|\.write_bytes\(|\bopen\([^)]*[\"'][wxa]b?[\"']|os\.(?:replace|rename|unlink|remove|rmdir|makedirs)\("
    r"|\.mkdir\(|\.unlink\(|\.touch\(|mkstemp\(|shutil\."
)


def test_only_output_disk_writes_files() -> None:
    writers = {m for m, p in modules().items() if _WRITES.search(p.read_text(encoding="utf-8"))}
    # The rehearsal writes its own scratch directory (never the output tree).
    assert {w for w in writers if not w.startswith("generator.rehearse.")} == {"generator.output.disk"}


def test_validate_and_version_import_neither_jinja_nor_the_rehearsal() -> None:
    """`tfgen validate` and `tfgen --version` run on every save and in pre-commit hooks:
    they must not pay for importing the renderer (Jinja) or the rehearsal (moto, boto3)."""
    import subprocess
    import sys

    reference = PACKAGE.parent / "environments.yaml"
    for args in (["validate", "-c", str(reference)], ["--version"]):
        probe = (
            "import sys\nfrom generator.cli import main\n"
            f"try:\n    main({args!r})\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        imported = set(done.stdout.split()[-1000:])
        assert "generator" in imported, done.stdout
        assert not imported & {"jinja2", "moto", "boto3", "botocore"}, (args, imported & {"jinja2", "moto", "boto3"})
