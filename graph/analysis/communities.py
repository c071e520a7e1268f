"""Groups and key connectors: communities, components, bridges, articulation points, and
entities like a given one (neighbour similarity).

All on the simple undirected projection. Communities come from Louvain (seeded: the
same seed gives the same partition) or label propagation; above the igraph threshold
"louvain" runs in python-igraph as Leiden with the modularity objective (Louvain plus a
refinement step; igraph's own multilevel Louvain was 15-25x slower here), seeded through
a private ``random.Random``: its partition differs from networkx's for the same seed but
its modularity is comparable or higher, and the answer says which method ran. Every
list is sorted: communities by size then first IRI, members by IRI.

Caps (:mod:`.limits`), checked before any work: lists of at most ``MAX_LIMIT`` (1,000)
rows, ``resolution`` finite and at most ``MAX_RESOLUTION`` (100), and ``similar``
examines at most ``MAX_SIMILAR_CANDIDATES`` (1,000,000) neighbour-of-neighbour links.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx

from graph.errors import BadParameter

from .backend import choose_backend, seeded_igraph, to_igraph
from .limits import MAX_LIMIT, MAX_RESOLUTION, MAX_SIMILAR_CANDIDATES, check_range
from .projection import Edge, Projection
from .resolve import resolve

__all__ = ["ALGORITHMS", "Communities", "Connectors", "check_communities", "check_connectors",
           "check_similar", "communities", "components", "connectors", "similar"]

ALGORITHMS = ("louvain", "label_propagation")
LEIDEN_ITERATIONS = 5


@dataclass(frozen=True)
class Communities:
    """A partition of the nodes: groups (largest first), its modularity, how it was made."""

    algorithm: str
    backend: str
    parameters: dict[str, Any]
    groups: tuple[tuple[str, ...], ...]
    modularity: float

    def membership(self) -> dict[str, int]:
        """Node → community number (1 is the largest)."""
        return {n: i + 1 for i, group in enumerate(self.groups) for n in group}

    def to_dict(self, projection: Projection, members: int = 20,
                limit: int | None = None) -> dict[str, Any]:
        """The answer: every community (or the ``limit`` largest), ``members`` of each."""
        return {"algorithm": self.algorithm, "backend": self.backend,
                "parameters": self.parameters, "modularity": self.modularity,
                "count": len(self.groups),
                "communities": [{"id": i + 1, "size": len(g),
                                 "members": [projection.node_dict(n) for n in g[:members]]}
                                for i, g in enumerate(self.groups[:limit])]}


def _ordered(groups: Any) -> tuple[tuple[str, ...], ...]:
    sorted_groups = [tuple(sorted(g)) for g in groups if g]
    return tuple(sorted(sorted_groups, key=lambda g: (-len(g), g[0])))


def communities(projection: Projection, algorithm: str = "louvain", seed: int = 0,
                resolution: float = 1.0, backend: str = "auto") -> Communities:
    """Partition the entities into densely linked groups.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> found = communities(project(tiny_store()), seed=1)
    >>> sum(len(g) for g in found.groups), found.algorithm
    (5, 'louvain')
    """
    check_communities(projection, algorithm, resolution, backend)
    g = projection.undirected()
    used = choose_backend(projection, backend)
    if g.number_of_edges() == 0:
        return Communities(algorithm, used, {}, _ordered([{n} for n in g]), 0.0)
    if algorithm == "label_propagation":
        groups = _ordered(nx.community.label_propagation_communities(g))
        used, parameters = "networkx", {}
    elif used == "igraph":
        groups, quality = _igraph_louvain(projection, seed, resolution)
        return Communities(algorithm, used, {"seed": seed, "resolution": resolution,
                                             "method": "leiden (modularity objective, "
                                             f"{LEIDEN_ITERATIONS} iterations)"},
                           groups, quality)
    else:
        groups = _ordered(nx.community.louvain_communities(g, seed=seed, resolution=resolution))
        parameters = {"seed": seed, "resolution": resolution}
    quality = nx.community.modularity(g, groups, resolution=resolution)
    return Communities(algorithm, used, parameters, groups, quality)


def check_communities(projection: Projection, algorithm: str = "louvain",
                      resolution: float = 1.0, backend: str = "auto") -> None:
    """Refuse an unknown algorithm or backend, or a resolution that is not a positive
    number up to ``MAX_RESOLUTION`` (NaN would silently make every move look useless)."""
    if algorithm not in ALGORITHMS:
        raise BadParameter(f"algorithm must be one of {', '.join(ALGORITHMS)}",
                           parameter="algorithm")
    if not (math.isfinite(resolution) and 0 < resolution <= MAX_RESOLUTION):
        raise BadParameter(f"resolution must be positive and at most {MAX_RESOLUTION:g}, "
                           f"got {resolution}", parameter="resolution", limit=MAX_RESOLUTION)
    choose_backend(projection, backend)


def _igraph_louvain(projection: Projection, seed: int,
                    resolution: float) -> tuple[tuple[tuple[str, ...], ...], float]:
    """Groups and modularity from igraph (networkx's modularity is slow at this size)."""
    ig, names = to_igraph(projection)
    with seeded_igraph(seed):
        # igraph 0.11's multilevel took 27-47 s on 50,000-node graphs here; Leiden with
        # the modularity objective (the refinement of Louvain) took 2 s, modularity higher
        clusters = ig.community_leiden(objective_function="modularity",
                                       resolution=resolution, n_iterations=LEIDEN_ITERATIONS)
    quality = ig.modularity(clusters.membership, resolution=resolution)
    return _ordered([[names[v] for v in members] for members in clusters]), quality


def components(projection: Projection) -> tuple[tuple[str, ...], ...]:
    """Connected components (ignoring direction), largest first.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> [len(c) for c in components(project(tiny_store()))]
    [5]
    """
    if choose_backend(projection) == "igraph":
        ig, names = to_igraph(projection)
        return _ordered([[names[v] for v in c] for c in ig.connected_components()])
    return _ordered(nx.connected_components(projection.undirected()))


@dataclass(frozen=True)
class Connectors:
    """Key connectors: nodes and links whose removal splits a component."""

    articulation_points: tuple[tuple[str, int], ...]
    bridges: tuple[tuple[Edge, ...], ...]

    def to_dict(self, projection: Projection) -> dict[str, Any]:
        return {"articulation_points": [dict(projection.node_dict(n), degree=d)
                                        for n, d in self.articulation_points],
                "bridges": [[e.to_dict() for e in edges] for edges in self.bridges]}


def connectors(projection: Projection, limit: int = 50) -> Connectors:
    """Articulation points (most neighbours first) and bridges (between the best-connected
    nodes first), up to ``limit`` of each.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> found = connectors(project(tiny_store()))
    >>> [n.split("/")[-1] for n, _ in found.articulation_points]
    ['dhs', 'flight']
    """
    check_connectors(limit)
    g = projection.undirected()
    if choose_backend(projection) == "igraph":
        ig, names = to_igraph(projection)
        points = [names[v] for v in ig.articulation_points()]
        pairs = [(names[ig.es[e].source], names[ig.es[e].target]) for e in ig.bridges()]
    else:
        points = list(nx.articulation_points(g))
        pairs = list(nx.bridges(g))
    ranked = sorted(((n, g.degree(n)) for n in points), key=lambda x: (-x[1], x[0]))[:limit]
    bridges = sorted((tuple(sorted(pair)) for pair in pairs),
                     key=lambda b: (-(g.degree(b[0]) + g.degree(b[1])), b))[:limit]
    return Connectors(tuple(ranked),
                      tuple(tuple(projection.edges_between(a, b)) for a, b in bridges))


def check_connectors(limit: int = 50) -> None:
    """The cap of :func:`connectors`: ``limit`` at most ``MAX_LIMIT``."""
    check_range(limit, 1, MAX_LIMIT, "limit", "articulation points and bridges listed")


def similar(projection: Projection, entity: str, limit: int = 10) -> list[tuple[str, float]]:
    """Entities sharing neighbours with ``entity``, by Jaccard similarity of neighbour sets.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> [(n.split("/")[-1], round(s, 2)) for n, s in similar(project(tiny_store()), "ICE")]
    [('chn', 0.5), ('usa', 0.5), ('dhs', 0.25), ('flight', 0.25)]
    """
    node = check_similar(projection, entity, limit)
    g = projection.undirected()
    mine = set(g[node])
    candidates = {c for n in mine for c in g[n]} - {node}
    scored = []
    for other in candidates:
        theirs = g[other]
        shared = len(mine.intersection(theirs))
        # |A ∪ B| = |A| + |B| - |A ∩ B|: building the union would cost |A| per candidate,
        # quadratic for a hub whose neighbours reach every entity
        scored.append((other, shared / (len(mine) + len(theirs) - shared)))
    return sorted(scored, key=lambda x: (-x[1], x[0]))[:limit]


def check_similar(projection: Projection, entity: str, limit: int = 10) -> str:
    """The IRI ``entity`` names, after refusing a ``limit`` above ``MAX_LIMIT`` or an
    entity whose neighbours have more than ``MAX_SIMILAR_CANDIDATES`` links in all."""
    check_range(limit, 1, MAX_LIMIT, "limit", "similar entities listed")
    node = resolve(projection, entity)
    g = projection.undirected()
    reach = sum(g.degree(n) for n in g[node])
    if reach > MAX_SIMILAR_CANDIDATES:
        raise BadParameter(f"{projection.label(node)!r} is a hub: its neighbours have "
                           f"{reach:,} links, above the {MAX_SIMILAR_CANDIDATES:,} that "
                           "similar examines; narrow the projection (graph, predicate, "
                           "class, include)", parameter="entity", limit=MAX_SIMILAR_CANDIDATES)
    return node
