"""Stores for the analysis tests: the seed graph, and small synthetic graphs as RDF."""
from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from pyoxigraph import NamedNode, Quad

from graph.ids import GRAPH_BACKGROUND

EX = "https://example.org/n/"
LINK = NamedNode("https://example.org/p/link")
LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
#: the graph :func:`write_nquads` puts its links in
SYNTHETIC_GRAPH = "https://example.org/graph/synthetic"


def store_of(g: nx.Graph) -> Any:
    """An in-memory store whose projection is ``g`` (nodes ``EX + name``, one predicate)."""
    from pyoxigraph import Literal

    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    graph = NamedNode(GRAPH_BACKGROUND)
    quads = [Quad(NamedNode(EX + str(n)), LABEL, Literal(f"node {n}"), graph) for n in g]
    quads += [Quad(NamedNode(EX + str(a)), LINK, NamedNode(EX + str(b)), graph)
              for a, b in g.edges]
    store.extend(quads)
    return store


def named(g: nx.Graph) -> nx.Graph:
    """``g`` with nodes renamed to the IRIs :func:`store_of` gives them."""
    return nx.relabel_nodes(g, {n: EX + str(n) for n in g})


@pytest.fixture
def synthetic() -> nx.DiGraph:
    """A random directed graph with hubs, leaves, bridges and two components."""
    g = nx.gnm_random_graph(120, 260, seed=7, directed=True)
    g = nx.relabel_nodes(g, {n: f"{n:03d}" for n in g})
    g.add_edges_from([("x1", "x2"), ("x2", "x3"), ("x3", "x1"), ("x3", "x4")])
    return g


def write_nquads(g: nx.Graph, path: Any) -> Any:
    """``g`` as an N-Quads file (the links of :func:`store_of`, in a graph of its own that
    the seed build leaves alone), for ``--load`` and ``borderkg load``: the servers and
    commands under test read it like any data."""
    graph = f"<{SYNTHETIC_GRAPH}>"
    with open(path, "w", encoding="utf-8") as out:
        for n in g:
            out.write(f'<{EX}{n}> <{LABEL.value}> "node {n}" {graph} .\n')
        for a, b in g.edges:
            out.write(f"<{EX}{a}> <{LINK.value}> <{EX}{b}> {graph} .\n")
    return path


@pytest.fixture(scope="session")
def dense_nquads(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """5,000 entities, 50,000 links: just under the exact-betweenness cap of python-igraph,
    and slow enough for it (~5 s here) to pass a short analysis time limit."""
    return write_nquads(nx.gnm_random_graph(5_000, 50_000, seed=3),
                        tmp_path_factory.mktemp("dense") / "dense.nq")
