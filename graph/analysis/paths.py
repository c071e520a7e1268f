"""Paths between two entities, each step explained by the relationships and sentences.

Traversal is undirected ("how is ICE connected to China?" does not care which way a
triple points) but every step reports the triples it rests on in their own direction, so
the explanation never inverts what a source said: "fifth removal flight assisted by ICE
[sentence 1]; fifth removal flight destination China [sentence 1]".

``k`` shortest simple paths come from networkx's ``shortest_simple_paths`` (Yen's
algorithm), bounded by ``max_length`` hops; paths of equal length are ordered by their
node IRIs, so the same graph and parameters always give the same answer. Yen's algorithm
runs one shortest-path search per hop of every path it finds, so ``k`` is at most
``MAX_K`` (50), ``max_length`` at most ``MAX_LENGTH`` (8), and ties at the k-th length
are collected up to ``10 k + 100`` paths (:mod:`.limits`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph.errors import BadParameter

from .limits import MAX_LENGTH, MAX_PATHS, check_range
from .projection import Edge, Projection
from .resolve import resolve

__all__ = ["Hop", "Path", "PathResult", "endpoints", "k_shortest_paths", "shortest_path"]

MAX_K = MAX_PATHS


@dataclass(frozen=True)
class Hop:
    """One step of a path: from ``source`` to ``target`` over one or more relationships."""

    source: str
    target: str
    edges: tuple[Edge, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target,
                "edges": [dict(e.to_dict(), direction="forward" if e.subject == self.source
                               else "backward") for e in self.edges]}


@dataclass(frozen=True)
class Path:
    """A simple path, its steps and a readable explanation."""

    nodes: tuple[str, ...]
    hops: tuple[Hop, ...]

    @property
    def length(self) -> int:
        return len(self.hops)

    def explanation(self) -> str:
        """Every relationship of the path as a short sentence with its citation."""
        return "; ".join(e.sentence_text() for hop in self.hops for e in hop.edges)

    def to_dict(self, projection: Projection) -> dict[str, Any]:
        return {"length": self.length,
                "nodes": [projection.node_dict(n) for n in self.nodes],
                "hops": [h.to_dict() for h in self.hops],
                "explanation": self.explanation()}


@dataclass(frozen=True)
class PathResult:
    source: str
    target: str
    paths: tuple[Path, ...]

    def to_dict(self, projection: Projection) -> dict[str, Any]:
        return {"from": projection.node_dict(self.source),
                "to": projection.node_dict(self.target),
                "found": len(self.paths),
                "paths": [p.to_dict(projection) for p in self.paths]}


def shortest_path(projection: Projection, source: str, target: str,
                  max_length: int = 4) -> Path | None:
    """The shortest path (ties broken by node IRIs), or ``None`` within ``max_length``.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> path = shortest_path(project(tiny_store()), "ICE", "China")
    >>> path.length
    2
    >>> print(path.explanation())
    fifth removal flight assisted by U.S. Immigration and Customs Enforcement [sentence 1];
    fifth removal flight destination China [sentence 1]
    """
    found = k_shortest_paths(projection, source, target, k=1, max_length=max_length)
    return found.paths[0] if found.paths else None


def k_shortest_paths(projection: Projection, source: str, target: str, k: int = 3,
                     max_length: int = 4) -> PathResult:
    """Up to ``k`` shortest simple paths of at most ``max_length`` hops, shortest first.

    ``source`` and ``target`` are IRIs or labels (see :func:`~.resolve.resolve`).

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> result = k_shortest_paths(project(tiny_store()), "ICE", "DHS", k=3)
    >>> [p.length for p in result.paths]
    [1, 2]
    """
    s, t = endpoints(projection, source, target, k, max_length)
    node_paths = _node_paths(projection.undirected(), s, t, k, max_length)
    return PathResult(s, t, tuple(_path(projection, nodes) for nodes in node_paths))


def endpoints(projection: Projection, source: str, target: str, k: int = 3,
              max_length: int = 4) -> tuple[str, str]:
    """The two IRIs a path request names, after checking its caps (no search yet)."""
    check_range(k, 1, MAX_K, "k", "paths returned")
    check_range(max_length, 1, MAX_LENGTH, "max_length", "hops per path")
    s = resolve(projection, source, "from")
    t = resolve(projection, target, "to")
    if s == t:
        raise BadParameter("from and to name the same entity", parameter="to")
    return s, t


def _node_paths(g: nx.Graph, s: str, t: str, k: int, max_length: int) -> list[list[str]]:
    """Yen's paths in length order, keeping every tie at the k-th length, then sorted."""
    found: list[list[str]] = []
    cap = 10 * k + 100  # bounds the ties collected in hub-heavy graphs
    try:
        for nodes in nx.shortest_simple_paths(g, s, t):
            hops = len(nodes) - 1
            if hops > max_length or (len(found) >= k and hops > len(found[k - 1]) - 1):
                break
            found.append(nodes)
            if len(found) >= cap:
                break
    except nx.NetworkXNoPath:
        return []
    return sorted(found, key=lambda p: (len(p), p))[:k]


def _path(projection: Projection, nodes: list[str]) -> Path:
    hops = tuple(Hop(a, b, tuple(projection.edges_between(a, b)))
                 for a, b in zip(nodes, nodes[1:], strict=False))
    return Path(tuple(nodes), hops)
