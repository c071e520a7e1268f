"""Which library computes an analysis: networkx, or python-igraph on large graphs.

networkx is the reference (readable, what the tests check against) but pure Python: on
a 5,000-node, 20,000-edge benchmark graph its exact betweenness took 475 s and Louvain
9 s on this 2-core machine (bench/results/analysis.md). Above ``IGRAPH_THRESHOLD`` (500)
nodes, ``backend="auto"`` switches to python-igraph (C), which computes the same
measures with the same normalisation; the
copy of the projection igraph needs is built once per projection and cached on it.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graph.errors import BadParameter

from .projection import Projection

__all__ = ["BACKENDS", "IGRAPH_THRESHOLD", "choose_backend", "seeded_igraph", "to_igraph"]

BACKENDS = ("auto", "networkx", "igraph")
#: node count above which ``auto`` uses python-igraph
IGRAPH_THRESHOLD = 500


def choose_backend(projection: Projection, backend: str = "auto") -> str:
    """``"networkx"`` or ``"igraph"`` for this projection and request."""
    if backend not in BACKENDS:
        raise BadParameter(f"backend must be one of {', '.join(BACKENDS)}", parameter="backend")
    if backend != "auto":
        return backend
    return "igraph" if projection.graph.number_of_nodes() > IGRAPH_THRESHOLD else "networkx"


def to_igraph(projection: Projection, directed: bool = False) -> tuple[Any, list[str]]:
    """An igraph copy of the simple (un)directed view and its vertex names (sorted IRIs)."""

    def build() -> tuple[Any, list[str]]:
        import igraph

        view = projection.directed() if directed else projection.undirected()
        names = list(view.nodes)
        index = {n: i for i, n in enumerate(names)}
        g = igraph.Graph(n=len(names), edges=[(index[a], index[b]) for a, b in view.edges],
                         directed=directed)
        return g, names

    return projection.cached(f"igraph-{'directed' if directed else 'undirected'}", build)


@contextmanager
def seeded_igraph(seed: int) -> Iterator[None]:
    """python-igraph's one process-wide generator, seeded for the block, then restored.

    Leiden draws from it, and so does ARPACK's start vector for eigenvector centrality:
    unseeded, the same request gave scores differing in the 15th digit from one call to
    the next.
    """
    import igraph

    igraph.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        igraph.set_random_number_generator(random)
