"""No import cycles at module level (issue #29): every import a module makes when it is loaded
(not inside a function, not for the type checker) leads down, never back round to it.
A cycle broken on purpose imports inside the function that needs it."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import grimp

PACKAGES = ("snowbot", "storage", "handlers", "web")


def _loaded_lines(path: Path) -> set[int]:
    """The lines of the imports a module runs when it is loaded."""
    lines: set[int] = set()

    def walk(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    walk(node.body)
                walk(node.orelse)
            elif isinstance(node, ast.Try):
                for part in (node.body, node.orelse, node.finalbody):
                    walk(part)
                for handler in node.handlers:
                    walk(handler.body)

    walk(ast.parse(path.read_text(encoding="utf-8")).body)
    return lines


def _loaded_imports() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES)
    edges: dict[str, set[str]] = {}
    for importer in graph.modules:
        spec = importlib.util.find_spec(importer)
        assert spec is not None and spec.origin is not None
        lines = _loaded_lines(Path(spec.origin))
        edges[importer] = {
            imported
            for imported in graph.find_modules_directly_imported_by(importer)
            if any(
                detail["line_number"] in lines
                for detail in graph.get_import_details(importer=importer, imported=imported)
            )
        }
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of more than one module (Tarjan), or a module importing
    itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in edges.get(module, ()):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == module:
                    break
            if len(part) > 1 or module in edges.get(module, ()):
                found.append(sorted(part))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles_at_module_level() -> None:
    assert _cycles(_loaded_imports()) == []


def test_a_cycle_is_seen() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"a"}}) == [["a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
