"""The code's shape, as the package map of the developers' guide draws it: the data walk one way,
each package imports only what its row allows, and only the CLI knows click."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAP = (ROOT / "docs" / "developers" / "packages.md").read_text()
MAP_ORDER = re.findall(r"^\| `kb/(\w+)(?:\.py|/)` \|", MAP, re.M)
# Each row's last cell: the packages it may import ('—' for none).
MAY_IMPORT = {name: set(re.findall(r"`(\w+)`", cell)) for name, cell in
              re.findall(r"^\| `kb/(\w+)(?:\.py|/)` \|[^|]*\|([^|]*)\|$", MAP, re.M)}


def sources(module: str) -> list[Path]:
    """A module's file, or every file of a package (``kb/report/``)."""
    package = ROOT / "kb" / module
    return sorted(package.rglob("*.py")) if package.is_dir() else [ROOT / "kb" / f"{module}.py"]


def kb_imports(module: str) -> set[str]:
    """The modules of ``kb`` that ``module`` imports (a package's own parts not counted)."""
    found = set()
    for path in sources(module):
        depth = len(path.relative_to(ROOT / "kb").parts)  # kb/x.py: 1, kb/report/x.py: 2
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level == depth:  # from the kb package itself
                found |= ({node.module.split(".")[0]} if node.module
                          else {a.name for a in node.names})
            elif 0 < node.level < depth:  # within the package
                found.add(module)
            elif (node.module or "").startswith("kb."):
                found.add(node.module.split(".")[1])
    return found - {"__init__", module} - {n for n in found if n.startswith("__")}


def test_the_map_lists_every_module():
    modules = sorted([p.stem for p in (ROOT / "kb").glob("*.py") if p.stem != "__init__"]
                     + [p.parent.name for p in (ROOT / "kb").glob("*/__init__.py")])
    assert modules == sorted(MAP_ORDER)


@pytest.mark.parametrize("module", MAP_ORDER)
def test_modules_import_only_those_above_them(module):
    above = set(MAP_ORDER[: MAP_ORDER.index(module)])
    assert set() == kb_imports(module) - above


@pytest.mark.parametrize("module", [m for m in MAP_ORDER if m != "cli"])
def test_modules_import_only_what_their_row_allows(module):
    assert set() == kb_imports(module) - MAY_IMPORT[module]
    assert MAY_IMPORT[module] <= set(MAP_ORDER[: MAP_ORDER.index(module)])


@pytest.mark.parametrize("module", [m for m in MAP_ORDER if m != "cli"])
def test_only_the_cli_knows_click(module):
    for path in sources(module):
        assert not re.search(r"^\s*(import click|from click)", path.read_text(), re.M), path


@pytest.mark.parametrize("module", [m for m in MAP_ORDER if m != "cli"])
def test_the_library_never_prints_or_exits(module):
    for path in sources(module):
        tree = ast.parse(path.read_text())
        calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        assert set() == calls & {"print", "sys.exit", "exit", "quit", "os._exit"}, path


LIBRARY = sorted(p for p in (ROOT / "kb").rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_of_the_library_is_over_800_lines():
    assert [] == [f"{p.relative_to(ROOT)}: {n}" for p in LIBRARY
                  if (n := p.read_text().count("\n")) > 800]


def test_a_function_over_80_lines_says_why_in_its_docstring():
    long = []
    for path in LIBRARY:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and node.end_lineno - node.lineno + 1 > 80 \
                    and "Long on purpose:" not in (ast.get_docstring(node) or ""):
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert [] == long
