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


def store_of(g: nx.Graph) -> Any:
    """An in-memory store whose projection is ``g`` (nodes ``EX + name``, one predicate)."""
    from pyoxigraph import Literal

    from graph.store import OxigraphStore

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
