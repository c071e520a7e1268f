"""The neighbourhood of an entity: everything within ``hops`` steps, as a subgraph.

"What surrounds the Laken Riley Act?" is the ball of radius ``hops`` around it in the
undirected projection, returned as nodes (with their distance) and every relationship
among them (with its sentences). Hubs can make a 2-hop ball huge, so the ball is cut at
``max_nodes`` (at most ``MAX_NODES``, 2,000), nearest first (ties by IRI), and the answer
says it was cut; ``hops`` is at most ``MAX_HOPS`` (4). The search itself is one
breadth-first search, linear in the graph.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from .limits import MAX_HOPS, MAX_NODES, check_range
from .projection import Edge, Projection
from .resolve import resolve

__all__ = ["MAX_HOPS", "MAX_NODES", "Neighbourhood", "centre", "neighbourhood"]


@dataclass(frozen=True)
class Neighbourhood:
    """The centre, the nodes reached with their distance, the edges among them."""

    centre: str
    hops: int
    distances: dict[str, int]
    edges: tuple[Edge, ...]
    truncated: bool

    def to_dict(self, projection: Projection) -> dict[str, Any]:
        return {"entity": projection.node_dict(self.centre), "hops": self.hops,
                "truncated": self.truncated,
                "nodes": [dict(projection.node_dict(n), distance=d)
                          for n, d in self.distances.items()],
                "edges": [e.to_dict() for e in self.edges]}


def neighbourhood(projection: Projection, entity: str, hops: int = 1,
                  max_nodes: int = 200) -> Neighbourhood:
    """Nodes within ``hops`` of ``entity`` (an IRI or a label) and the edges among them.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> n = neighbourhood(project(tiny_store()), "China", hops=1)
    >>> sorted(n.distances.values())
    [0, 1]
    >>> [e.predicate_label for e in n.edges]
    ['destination']
    """
    node = centre(projection, entity, hops, max_nodes)
    lengths = nx.single_source_shortest_path_length(projection.undirected(), node,
                                                    cutoff=hops)
    ordered = sorted(lengths.items(), key=lambda item: (item[1], item[0]))
    kept = dict(ordered[:max_nodes])
    return Neighbourhood(node, hops, kept, tuple(projection.edges_of(kept)),
                         len(ordered) > max_nodes)


def centre(projection: Projection, entity: str, hops: int = 1, max_nodes: int = 200) -> str:
    """The IRI ``entity`` names, after checking ``hops`` and ``max_nodes`` (no search)."""
    check_range(hops, 1, MAX_HOPS, "hops", "steps from the entity")
    check_range(max_nodes, 1, MAX_NODES, "max_nodes", "nodes returned")
    return resolve(projection, entity)
