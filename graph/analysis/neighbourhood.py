"""The neighbourhood of an entity: everything within ``hops`` steps, as a subgraph.

"What surrounds the Laken Riley Act?" is the ball of radius ``hops`` around it in the
undirected projection, returned as nodes (with their distance) and every relationship
among them (with its sentences). Hubs can make a 2-hop ball huge, so the ball is cut at
``max_nodes``, nearest first (ties by IRI), and the answer says it was cut.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..errors import BadParameter
from .projection import Edge, Projection
from .resolve import resolve

__all__ = ["Neighbourhood", "neighbourhood"]

MAX_HOPS = 4
MAX_NODES = 2000


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
    if not 1 <= hops <= MAX_HOPS:
        raise BadParameter(f"hops must be between 1 and {MAX_HOPS}", parameter="hops")
    if not 1 <= max_nodes <= MAX_NODES:
        raise BadParameter(f"max_nodes must be between 1 and {MAX_NODES}",
                           parameter="max_nodes")
    centre = resolve(projection, entity)
    lengths = nx.single_source_shortest_path_length(projection.undirected(), centre,
                                                    cutoff=hops)
    ordered = sorted(lengths.items(), key=lambda item: (item[1], item[0]))
    kept = dict(ordered[:max_nodes])
    return Neighbourhood(centre, hops, kept, tuple(projection.edges_of(kept)),
                         len(ordered) > max_nodes)
