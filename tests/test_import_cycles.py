"""No import cycles between the project's modules, however the import is written.

A cycle Python tolerates today (one side importing inside a function, or by a string) is
still a cycle: it decides which module may import which at module level, and it breaks
as soon as someone moves the import to the top. So the analyser reads every module of
the project's packages (with ``ast``; nothing is imported) and takes an edge for

* every ``import``/``from ... import`` at module level, inside functions and under
  ``if TYPE_CHECKING`` (relative ones resolved; ``from pkg import submodule`` is an edge
  to the submodule; an importer's own parent packages are not edges: Python has them
  loaded before the importer runs);
* every ``importlib.import_module("literal")`` call;
* every ``"module:attribute"`` string of a ``LAZY_COMMANDS`` table (``server.cli`` keeps
  its heavier commands lazy for start-up speed; lazy, they are imports all the same).

The graph must have no cycle, and ``graph`` (below HTTP) must never import Flask or the
server. The analyser itself is tested on a small package with one cycle of each kind, so
that a silent analyser cannot make the main test pass.
"""
from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("graph", "server", "client", "queries", "ontology")
#: what ``graph`` may never import, even inside a function
NOT_BELOW_HTTP = ("flask", "server")


# -- the analyser -----------------------------------------------------------------------------
def module_files(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of ``packages`` under ``root``."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def own_package(name: str, path: Path) -> str:
    """The package a relative import in module ``name`` starts from."""
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def absolute(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module name ``node`` imports from (``from ..x import y`` resolved)."""
    if not node.level:
        return node.module or ""
    base = own_package(name, path).split(".")
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imported_names(name: str, path: Path, tree: ast.AST) -> Iterator[tuple[str, int]]:
    """``(dotted name, line)`` of everything module ``name`` imports, at any depth, with
    ``from pkg import x`` given as ``pkg.x`` (left to :func:`project_module` to tell a
    submodule from an attribute)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = absolute(name, path, node)
            for alias in node.names:
                yield (f"{source}.{alias.name}" if alias.name != "*" else source), node.lineno
        elif isinstance(node, ast.Call) and _is_import_module(node.func):
            if node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                yield node.args[0].value, node.lineno
        elif isinstance(node, ast.Assign | ast.AnnAssign) and _is_lazy_table(node):
            for constant in ast.walk(node.value) if node.value else ():
                if isinstance(constant, ast.Constant) and isinstance(constant.value, str) \
                        and ":" in constant.value and " " not in constant.value:
                    yield constant.value.partition(":")[0], constant.lineno


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module"
            and isinstance(func.value, ast.Name) and func.value.id == "importlib") \
        or (isinstance(func, ast.Name) and func.id == "import_module")


def _is_lazy_table(node: ast.Assign | ast.AnnAssign) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(isinstance(t, ast.Name) and t.id == "LAZY_COMMANDS" for t in targets)


def project_module(dotted: str, modules: dict[str, Path]) -> str | None:
    """The project module ``dotted`` loads: itself, else its nearest enclosing module
    (``pkg.attr`` is ``pkg``), or None when it is not the project's."""
    while dotted and dotted not in modules:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def is_parent(target: str, importer: str) -> bool:
    return importer.startswith(target + ".")


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> nx.DiGraph:
    """Modules as nodes, imports as edges, each edge with the ``file:line`` it comes from."""
    modules = module_files(root, packages)
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for dotted, line in imported_names(name, path, tree):
            target = project_module(dotted, modules)
            if target is None or target == name or is_parent(target, name):
                continue
            where = f"{path.relative_to(root)}:{line}"
            if graph.has_edge(name, target):
                if where not in graph.edges[name, target]["where"]:
                    graph.edges[name, target]["where"].append(where)
            else:
                graph.add_edge(name, target, where=[where])
    return graph


def external_imports(root: Path, package: str) -> Iterator[tuple[str, str]]:
    """``(top-level name, file:line)`` of every absolute import in ``package``."""
    for name, path in module_files(root, (package,)).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for dotted, line in imported_names(name, path, tree):
            yield dotted.partition(".")[0], f"{path.relative_to(root)}:{line}"


def describe(graph: nx.DiGraph, cycle: list[str]) -> str:
    """A cycle as ``a -> b (file:line) -> ... -> a``, naming each import that closes it."""
    steps = [cycle[0]]
    for source, target in itertools.pairwise([*cycle, cycle[0]]):
        steps.append(f"{target}  ({', '.join(graph.edges[source, target]['where'])})")
    return "\n    -> ".join(steps)


def cycles(graph: nx.DiGraph, limit: int = 20) -> list[list[str]]:
    """Up to ``limit`` elementary cycles, shortest first (enough to see what to break)."""
    found = list(itertools.islice(nx.simple_cycles(graph), 200))
    return sorted(found, key=len)[:limit]


# -- the project ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def project() -> nx.DiGraph:
    return import_graph()


def test_the_project_has_no_import_cycle(project: nx.DiGraph) -> None:
    found = cycles(project)
    assert not found, "import cycles:\n  " + "\n  ".join(describe(project, c) for c in found)


def test_graph_never_imports_flask_or_the_server() -> None:
    bad = [f"{where}: {top}" for top, where in external_imports(ROOT, "graph")
           if top in NOT_BELOW_HTTP]
    assert not bad, "graph/ is below HTTP, yet imports:\n  " + "\n  ".join(bad)


@pytest.mark.parametrize(("source", "target"), [
    ("server.app", "server.sparql"),          # from . import (..., sparql, ...)
    ("server.sparql", "server.context"),      # from .context import ...
    ("server.cli", "server.cli_serve"),       # LAZY_COMMANDS "server.cli_serve:serve"
    ("server.sparql", "graph.sparql.policy"),  # from graph.sparql import policy as guard
])
def test_the_analyser_sees_the_project_imports(project: nx.DiGraph, source: str,
                                               target: str) -> None:
    assert project.has_edge(source, target), f"no edge {source} -> {target}"


def test_server_context_is_a_leaf_of_the_server(project: nx.DiGraph) -> None:
    """Every blueprint imports ``server.context``; it must import no server module back."""
    assert not [t for t in project.successors("server.context") if t.startswith("server")]


# -- the analyser on a package made for it ----------------------------------------------------
KINDS = {
    "module level": {"a.py": "from . import b\n", "b.py": "import pkg.a\n"},
    "function level": {"a.py": "from .b import f\n",
                       "b.py": "def f():\n    from pkg.a import g\n    return g\n"},
    "parent-relative": {"sub/__init__.py": "", "sub/c.py": "from ..a import x\n",
                        "a.py": "from .sub import c\n"},
    "import_module": {"a.py": "import importlib\nm = importlib.import_module('pkg.b')\n",
                      "b.py": "from pkg import a\n"},
    "LAZY_COMMANDS": {"a.py": "LAZY_COMMANDS = {'x': ('pkg.b:run', 'Help text.')}\n",
                      "b.py": "from .a import LAZY_COMMANDS\n"},
}


def made(tmp_path: Path, files: dict[str, str]) -> nx.DiGraph:
    for relative, text in {"__init__.py": "from . import a\n", **files}.items():
        path = tmp_path / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_graph(tmp_path, ("pkg",))


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_analyser_finds_a_cycle(tmp_path: Path, kind: str) -> None:
    graph = made(tmp_path, KINDS[kind])
    found = cycles(graph)
    assert found, f"the {kind} cycle was not seen"
    assert "pkg.a" in found[0]
    assert "pkg/" in describe(graph, found[0])


def test_a_parent_package_is_no_edge(tmp_path: Path) -> None:
    """``pkg/__init__`` imports ``pkg.a``, which imports ``pkg`` names: no cycle."""
    graph = made(tmp_path, {"a.py": "from pkg import b\nimport pkg\n", "b.py": ""})
    assert not cycles(graph)
    assert graph.has_edge("pkg.a", "pkg.b") and not graph.has_edge("pkg.a", "pkg")
