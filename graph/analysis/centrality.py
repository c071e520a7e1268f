"""Who is central: degree, betweenness, PageRank, eigenvector and closeness centrality.

Measures and the graph they run on:

* ``degree``: distinct neighbours / (n - 1), undirected.
* ``betweenness``: normalised shortest-path betweenness, undirected. Exact up to
  ``EXACT_BETWEENNESS_MAX`` nodes (1,000 with networkx, 5,000 with igraph: exact
  betweenness is O(n·m) and took 282 s with igraph on the 42,700-node graph of the CBP
  table); above, or when ``k`` is given, estimated from ``k`` (default 32, at most
  ``MAX_SAMPLES`` = 256) source nodes drawn with ``random.Random(seed)`` from the
  IRI-sorted nodes (networkx's own sampling, reproduced for igraph so both backends use
  the same sources). A ``k`` of at least the node count means exact.
* ``pagerank``: directed (subject → object), damping 0.85, dangling mass spread evenly,
  tolerance 1e-10 so that networkx and igraph agree to ~1e-9.
* ``eigenvector``: undirected, on the largest connected component (elsewhere 0: the
  measure is not meaningful across components), unit Euclidean norm.
* ``closeness``: undirected, Wasserman–Faust scaled for disconnected graphs; O(n·m) in
  networkx, so refused above ``CLOSENESS_MAX`` (2,000) nodes.

Scores are ranked by score, ties by IRI; at most ``MAX_LIMIT`` (1,000) are returned. The
caps are checked by :func:`check_scores` before any work (see :mod:`.limits`).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from graph.errors import BadParameter

from .backend import choose_backend, seeded_igraph, to_igraph
from .limits import CLOSENESS_MAX, EXACT_BETWEENNESS_MAX, MAX_LIMIT, MAX_SAMPLES, check_range
from .projection import Projection

__all__ = ["CLOSENESS_MAX", "EXACT_BETWEENNESS_MAX", "MEASURES", "CentralityResult",
           "centrality", "check_centrality", "check_scores", "pagerank", "scores"]

MEASURES = ("degree", "betweenness", "pagerank", "eigenvector", "closeness")
DEFAULT_SAMPLES = 32
PAGERANK_TOL = 1e-10
DAMPING = 0.85


@dataclass(frozen=True)
class CentralityResult:
    """The top scores of one measure, how they were computed, and over which graph."""

    measure: str
    backend: str
    parameters: dict[str, Any]
    ranking: list[tuple[str, float]]
    nodes: int
    all_scores: dict[str, float] = field(repr=False, default_factory=dict)

    def to_dict(self, projection: Projection) -> dict[str, Any]:
        return {"measure": self.measure, "backend": self.backend,
                "parameters": self.parameters, "nodes": self.nodes,
                "scores": [dict(projection.node_dict(iri), score=score, rank=i + 1)
                           for i, (iri, score) in enumerate(self.ranking)]}


def centrality(projection: Projection, measure: str = "pagerank", limit: int = 20,
               backend: str = "auto", k: int | None = None, seed: int = 0) -> CentralityResult:
    """The ``limit`` most central nodes by ``measure``.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> result = centrality(project(tiny_store()), "degree", limit=2)
    >>> [(p.split("/")[-1], round(s, 2)) for p, s in result.ranking]
    [('dhs', 0.75), ('flight', 0.75)]
    """
    check_centrality(projection, measure, limit, backend, k)
    used, parameters, values = scores(projection, measure, backend, k, seed)
    ranking = sorted(values.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return CentralityResult(measure, used, parameters, ranking,
                            projection.graph.number_of_nodes(), values)


def check_centrality(projection: Projection, measure: str, limit: int = 20,
                     backend: str = "auto", k: int | None = None) -> None:
    """Refuse, before any work, what :func:`centrality` would refuse or could not finish.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> check_centrality(project(tiny_store()), "betweenness", k=100_000)
    Traceback (most recent call last):
    ...
    graph.errors.BadParameter: k must be between 1 and 256 (betweenness source ...), got 100000
    """
    check_range(limit, 1, MAX_LIMIT, "limit", "rows of the ranking")
    check_scores(projection, measure, backend, k)


def check_scores(projection: Projection, measure: str, backend: str = "auto",
                 k: int | None = None) -> None:
    """The caps of :func:`scores`: a known measure and backend, ``k`` at most
    ``MAX_SAMPLES``, closeness only up to ``CLOSENESS_MAX`` nodes."""
    if measure not in MEASURES:
        raise BadParameter(f"measure must be one of {', '.join(MEASURES)}", parameter="measure")
    choose_backend(projection, backend)
    if k is not None:
        check_range(k, 1, MAX_SAMPLES, "k", "betweenness source nodes sampled; exact up to "
                    f"{EXACT_BETWEENNESS_MAX['networkx']} nodes with networkx, "
                    f"{EXACT_BETWEENNESS_MAX['igraph']} with igraph")
    n = projection.graph.number_of_nodes()
    if measure == "closeness" and n > CLOSENESS_MAX:
        raise BadParameter(f"closeness is O(n·m): refused above {CLOSENESS_MAX} nodes "
                           f"(this graph has {n})", parameter="measure", limit=CLOSENESS_MAX)


def scores(projection: Projection, measure: str, backend: str = "auto", k: int | None = None,
           seed: int = 0) -> tuple[str, dict[str, Any], dict[str, float]]:
    """Every node's score: ``(backend used, parameters, {iri: score})``."""
    check_scores(projection, measure, backend, k)
    used = choose_backend(projection, backend)
    if projection.graph.number_of_nodes() == 0:
        return used, {}, {}
    if measure == "betweenness":
        return _betweenness(projection, used, k, seed)
    compute = _IGRAPH[measure] if used == "igraph" and measure in _IGRAPH else _NX[measure]
    parameters = {"damping": DAMPING, "tol": PAGERANK_TOL} if measure == "pagerank" else {}
    return (used if compute is _IGRAPH.get(measure) else "networkx", parameters,
            compute(projection))


def _nx_degree(p: Projection) -> dict[str, float]:
    return nx.degree_centrality(p.undirected()) if len(p.graph) > 1 else dict.fromkeys(p.graph, 0.0)


def _ig_degree(p: Projection) -> dict[str, float]:
    g, names = to_igraph(p)
    scale = 1 / (len(names) - 1) if len(names) > 1 else 0.0
    return {n: d * scale for n, d in zip(names, g.degree(), strict=True)}


def pagerank(g: nx.DiGraph, alpha: float = DAMPING, tol: float = PAGERANK_TOL,
             max_iter: int = 1000) -> dict[str, float]:
    """PageRank by power iteration, as networkx defines it, without numpy/scipy.

    networkx's ``pagerank`` needs scipy; this is its pure-Python algorithm (uniform
    teleport, dangling mass spread evenly), so the two agree to the tolerance.

    Examples
    --------
    >>> ranks = pagerank(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a")]))
    >>> [round(ranks[n], 4) for n in "abc"]
    [0.3333, 0.3333, 0.3333]
    """
    n = g.number_of_nodes()
    x = dict.fromkeys(g, 1.0 / n)
    out = {u: g.out_degree(u) for u in g}
    dangling = [u for u, d in out.items() if d == 0]
    for _ in range(max_iter):
        last = x
        x = dict.fromkeys(last, 0.0)
        spread = (alpha * sum(last[u] for u in dangling) + (1 - alpha)) / n
        for u in last:
            if out[u]:
                share = alpha * last[u] / out[u]
                for w in g.successors(u):
                    x[w] += share
        for u in x:
            x[u] += spread
        if sum(abs(x[u] - last[u]) for u in x) < n * tol:
            return x
    raise nx.PowerIterationFailedConvergence(max_iter)


def _nx_pagerank(p: Projection) -> dict[str, float]:
    return pagerank(p.directed())


def _ig_pagerank(p: Projection) -> dict[str, float]:
    g, names = to_igraph(p, directed=True)
    return dict(zip(names, g.pagerank(directed=True, damping=DAMPING), strict=True))


def _largest_component(p: Projection) -> set[str]:
    """The largest component; among equals, the one with the smallest IRI."""
    return min(nx.connected_components(p.undirected()), key=lambda c: (-len(c), min(c)))


def _nx_eigenvector(p: Projection) -> dict[str, float]:
    component = _largest_component(p)
    values = dict.fromkeys(p.graph, 0.0)
    if len(component) > 1:
        values.update(nx.eigenvector_centrality(p.undirected().subgraph(component),
                                                max_iter=1000, tol=1e-10))
    return values


def _ig_eigenvector(p: Projection) -> dict[str, float]:
    g, names = to_igraph(p)
    component = min(g.connected_components(), key=lambda c: (-len(c), min(c)))
    sub = g.subgraph(component)
    with seeded_igraph(0):
        raw = sub.eigenvector_centrality(directed=False, scale=True)
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    values = dict.fromkeys(names, 0.0)
    values.update({names[v]: x / norm for v, x in zip(sorted(component), raw, strict=True)})
    return values


def _nx_closeness(p: Projection) -> dict[str, float]:
    values: dict[str, float] = nx.closeness_centrality(p.undirected())  # networkx is untyped
    return values


def _betweenness(p: Projection, used: str, k: int | None,
                 seed: int) -> tuple[str, dict[str, Any], dict[str, float]]:
    n = p.graph.number_of_nodes()
    if k is None and n > EXACT_BETWEENNESS_MAX[used]:
        k = DEFAULT_SAMPLES
    sampled = k is not None and k < n
    parameters: dict[str, Any] = ({"sampled_sources": k, "seed": seed} if sampled
                                  else {"exact": True})
    g = p.undirected()
    if used == "networkx":
        values = (nx.betweenness_centrality(g, k=k, seed=seed) if sampled
                  else nx.betweenness_centrality(g))
        return used, parameters, values
    ig, names = to_igraph(p)
    sources = random.Random(seed).sample(list(g), k) if sampled and k is not None else None
    index = {name: i for i, name in enumerate(names)}
    raw = ig.betweenness(directed=False, sources=[index[s] for s in sources]
                         if sources else None)
    if not sampled:
        # igraph counts each unordered pair once; networkx normalises over ordered pairs
        scale = 2.0 / ((n - 1) * (n - 2)) if n > 2 else 0.0
        return used, parameters, {name: x * scale for name, x in zip(names, raw, strict=True)}
    # networkx >= 3.5 rescales sampled sources and the other nodes differently
    # (a source cannot lie on its own paths): reproduced so both backends agree
    assert k is not None  # sampled: a number of sources was chosen
    chosen = set(sources or ())
    inside = 1 / ((k - 1) * (n - 2)) if k > 1 and n > 2 else 0.0
    outside = 1 / (k * (n - 2)) if n > 2 else 0.0
    # igraph halves undirected counts even for a subset of sources
    return used, parameters, {name: 2 * x * (inside if name in chosen else outside)
                              for name, x in zip(names, raw, strict=True)}


_NX = {"degree": _nx_degree, "pagerank": _nx_pagerank, "eigenvector": _nx_eigenvector,
       "closeness": _nx_closeness}
_IGRAPH = {"degree": _ig_degree, "pagerank": _ig_pagerank, "eigenvector": _ig_eigenvector}
