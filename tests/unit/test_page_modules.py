"""The page's ES modules import one another without a circle: shared state and the callbacks that
cross the parts (refresh, render, show a new job) live in state.js, and app.js only wires them.
A circle works in a browser until a module uses an import at its top level before the module that
exports it has run; then the page is blank, and no test of a feature says why."""

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "functions" / "api" / "static"
IMPORT = re.compile(r"""^import\s[^;]*?\sfrom\s+["']\./([\w-]+\.js)["']""", re.MULTILINE)


def _imports() -> dict[str, set[str]]:
    return {path.name: set(IMPORT.findall(path.read_text())) for path in STATIC.glob("*.js")}


def _circle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if found := visit(imported):
                return found
        path.pop()
        return None

    return visit(start)


def test_the_page_reads_its_imports():
    graph = _imports()
    assert "state.js" in graph["app.js"] and "api.js" in graph["job-list.js"]
    assert all((STATIC / name).exists() for imported in graph.values() for name in imported)


def test_no_module_of_the_page_imports_one_that_imports_it_back():
    graph = _imports()
    circles = [circle for module in sorted(graph) if (circle := _circle_from(module, graph))]
    assert not circles, "import circles: " + "; ".join(" -> ".join(circle) for circle in circles)


def test_only_the_page_itself_loads_app_js():
    graph = _imports()
    assert not [module for module, imported in graph.items() if "app.js" in imported]
    assert '<script type="module" src="static/app.js"' in (STATIC / "index.html").read_text()
