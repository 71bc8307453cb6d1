"""The local stack's modules import one another without a circle (one layer over another)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

PACKAGES = ("photoflow_local",)
# A sub-package counts as one node here: its modules' circles among themselves are its own
# business; a circle through it and the rest is not.
UNITS = ("photoflow_local.patches",)


def unit(module: str) -> str:
    return next((u for u in UNITS if module == u or module.startswith(f"{u}.")), module)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT / "src").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, known: set[str]) -> set[str]:
    """The package's modules ``path`` imports, wherever in the file (a function's
    deferred import too): ``from a import b`` counts as a.b when a.b is a module."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path.parent)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    paths = [p for package in PACKAGES for p in (ROOT / "src" / package).rglob("*.py")]
    known = {module_name(p) for p in paths}
    graph: dict[str, set[str]] = {}
    for path in paths:
        module = unit(module_name(path))
        # a package's __init__ is imported on the way to each of its modules: not an edge
        graph.setdefault(module, set()).update(
            unit(i) for i in imported(path, known) if not module.startswith(f"{i}.")
        )
        graph[module].discard(module)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each once, as the modules along it."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target in path:
                circle = path[path.index(target) :]
                if frozenset(circle) not in seen:
                    seen.add(frozenset(circle))
                    found.append([*circle, target])
            elif len(path) < 12:
                visit(target, [*path, target])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_circle_finder_finds_a_circle_and_nothing_else() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    assert circles(graph) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_deferred_and_relative_imports() -> None:
    graph = import_graph()

    assert "photoflow_local.demo" in graph["photoflow_local.cli"]  # imported in a command
    assert "photoflow_local.timeline_view" in graph["photoflow_local.demo"]
    assert "photoflow_local.patches" in graph["photoflow_local.stack"]


def test_no_module_of_the_local_stack_imports_itself_through_others() -> None:
    assert circles(import_graph()) == []
