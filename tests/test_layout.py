"""The package's layers: imports flow one way, from the command line down to the shared leaves."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gemma_mcp_cli"

# Each subsystem may import only those below it (and itself). The shared leaves import nothing of ours
# but each other; `__init__` (the library surface) and `__main__` sit above everything.
LAYERS: dict[str, int] = {
    "leaf": 0,
    "config": 1,
    "state": 2,
    "client": 3,
    "sessions": 4,
    "interop": 4,
    "cli": 5,
    "plugin": 6,
    "servers": 1,
}
LEAVES = {
    "errors",
    "enums",
    "names",
    "arguments",
    "_simple_schema",
    "sanitize",
    "answers",
    "_collection",
    "_version",
}


def subsystem(module: str) -> str:
    """Return the layer a dotted module of the package belongs to."""
    first = module.split(".")[1] if "." in module else ""
    return "leaf" if first in LEAVES else first


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module of the package that this file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gemma_mcp_cli"):
            for alias in node.names:  # `from pkg import module` names a module too
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                    PACKAGE.parent / candidate.replace(".", "/")
                ).is_dir()
                found.add(candidate if is_module else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("gemma_mcp_cli")}
    return found


SOURCES = sorted(
    p
    for p in PACKAGE.rglob("*.py")
    if p.relative_to(PACKAGE).as_posix() not in {"__init__.py", "__main__.py"}
)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_subsystem_and_the_layers_below(path: Path) -> None:
    here = module_name(path)
    mine = subsystem(here)
    wrong = [
        target
        for target in sorted(imports_of(path))
        if target != "gemma_mcp_cli"
        and subsystem(target) != mine
        and LAYERS[subsystem(target)] >= LAYERS[mine]
    ]
    assert not wrong, f"{here} ({mine}) imports upwards or sideways: {wrong}"


def test_no_two_modules_import_each_other_in_a_circle() -> None:
    graph = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}
    state: dict[str, int] = {}  # 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == 1:
                raise AssertionError("import circle: " + " -> ".join([*path, node, target]))
            if target not in state:
                visit(target, [*path, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state and module != "gemma_mcp_cli":
            visit(module, [])


def test_every_subsystem_says_what_it_owns_in_one_line() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and "\n" not in doc.strip(), f"{init.parent.name}/__init__.py needs a one-line docstring"
