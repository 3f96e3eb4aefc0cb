"""The code's shape: data walk one way, and only the CLI knows click."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_ORDER = re.findall(r"^\| `kb/(\w+)\.py` \|", (ROOT / "README.md").read_text(), re.M)


def kb_imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "kb" / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kb."):
            found.add(node.module.split(".")[1])
    return found - {"__init__"} - {n for n in found if n.startswith("__")}


def test_readme_lists_every_module():
    modules = sorted(p.stem for p in (ROOT / "kb").glob("*.py") if p.stem != "__init__")
    assert modules == sorted(README_ORDER)


@pytest.mark.parametrize("module", README_ORDER)
def test_modules_import_only_those_above_them(module):
    above = set(README_ORDER[: README_ORDER.index(module)])
    assert set() == kb_imports(module) - above


@pytest.mark.parametrize("module", [m for m in README_ORDER if m != "cli"])
def test_only_the_cli_knows_click(module):
    source = (ROOT / "kb" / f"{module}.py").read_text()
    assert not re.search(r"^\s*(import click|from click)", source, re.M)


@pytest.mark.parametrize("module", [m for m in README_ORDER if m != "cli"])
def test_the_library_never_prints_or_exits(module):
    tree = ast.parse((ROOT / "kb" / f"{module}.py").read_text())
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert set() == calls & {"print", "sys.exit", "exit", "quit", "os._exit"}
