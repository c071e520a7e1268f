"""The analyses with a time limit: each runs in a forked, sandboxed child, killed at its
deadline.

Computed in a request thread, an analysis ran as long as it liked, and python-igraph's C
code holds the interpreter lock for the whole call, so it also stopped every other
thread of the process: exact betweenness on the 42,700-node projection of the CBP table
took 282 s, and no other client was answered meanwhile. Here each analysis goes through
four steps:

1. its caps are checked (:mod:`.limits`): a request beyond one is a 400 before any work;
2. the views of the projection it needs (the simple undirected or directed graph, the
   python-igraph copy) are built *in this process*, where they stay cached on the
   projection for the next request;
3. it runs in a child forked from this process (:func:`graph.sparql.sandbox.run_forked`): the
   child sees the projection copy-on-write without copying it, cannot open a network
   socket, and is killed when ``timeout`` seconds have passed (``QueryTimeout``, 503).
   Holding the interpreter lock there stops nobody else;
4. the child returns only its result, pickled. An error the analysis raises on purpose
   (an unknown entity, 404 with suggestions; an ambiguous one, 400 with candidates) comes
   back as the same exception, class and details included; a child that dies (out of
   memory, a crash) is a 503 for this request only.

Where a child cannot be forked and sandboxed (not Linux), the analysis runs in the
calling thread, bounded by the caps only. Every function here takes the arguments of the
analysis of the same name, plus ``timeout``, and returns what that analysis returns.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import networkx as nx

from graph.errors import BadRequest, BorderKGError
from graph.sparql import sandbox
from graph.store.base import Store

from . import paths as _paths
from . import rdf as _rdf
from .backend import choose_backend, to_igraph
from .centrality import CentralityResult, check_centrality
from .centrality import centrality as _centrality
from .communities import Communities, Connectors, check_communities, check_connectors, check_similar
from .communities import communities as _communities
from .communities import components as _components
from .communities import connectors as _connectors
from .communities import similar as _similar
from .neighbourhood import Neighbourhood, centre
from .neighbourhood import neighbourhood as _neighbourhood
from .projection import Projection

__all__ = ["centrality", "communities", "components", "connectors", "isolated",
           "k_shortest_paths", "neighbourhood", "run", "similar", "warm", "write_analyses"]

T = TypeVar("T")


def isolated() -> bool:
    """Whether analyses run in a forked, sandboxed child here (Linux on x86_64/aarch64)."""
    return hasattr(os, "fork") and sandbox.supported()


def warm(projection: Projection, backend: str | None = None, directed: bool = False) -> None:
    """Build the views an analysis will use, in this process, so they are cached here
    (a view built in a child would be lost with it).

    ``backend`` is the analysis' backend choice (``None``: networkx only); ``directed``
    whether it walks the directed view (PageRank).

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> p = project(tiny_store())
    >>> warm(p, "igraph")
    >>> sorted(p._views)
    ['igraph-undirected', 'undirected']
    """
    projection.undirected()
    if directed:
        projection.directed()
    if backend is not None and choose_backend(projection, backend) == "igraph":
        to_igraph(projection, directed)


@dataclass(frozen=True)
class _Raised:
    """An error the analysis raised on purpose, carried back from the child as a value
    (the exception itself is pickled, so its class and details survive)."""

    error: BorderKGError


def _capture(compute: Callable[[Projection], Any], projection: Projection) -> Any:
    try:
        return _converged(compute, projection)
    except BorderKGError as exc:
        return _Raised(exc)


def _converged(compute: Callable[[Projection], T], projection: Projection) -> T:
    """``compute(projection)``, with an iterative measure that did not converge reported
    as the request's problem (400), not as a server failure."""
    try:
        return compute(projection)
    except nx.PowerIterationFailedConvergence as exc:
        raise BadRequest(f"the measure did not converge on this graph ({exc}); try "
                         "another measure or backend=igraph") from None


def run(compute: Callable[[Projection], T], projection: Projection, *, timeout: float,
        fork: bool | None = None) -> T:
    """``compute(projection)`` in a forked, sandboxed child killed after ``timeout``
    seconds (in this thread when ``fork`` is false, or when :func:`isolated` is not).

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> run(lambda p: (os.getpid(), p.graph.number_of_nodes()), project(tiny_store()),
    ...     timeout=10)[0] != os.getpid()
    True
    """
    if not (isolated() if fork is None else fork):
        return _converged(compute, projection)
    outcome = sandbox.run_forked(_capture, compute, projection, timeout=timeout, sandbox=True,
                                 what="analysis")
    if isinstance(outcome, _Raised):
        raise outcome.error
    return outcome  # type: ignore[no-any-return]


# -- the analyses ------------------------------------------------------------------------

def k_shortest_paths(projection: Projection, source: str, target: str, k: int = 3,
                     max_length: int = 4, *, timeout: float) -> _paths.PathResult:
    """:func:`.paths.k_shortest_paths` with a time limit."""
    _paths.endpoints(projection, source, target, k, max_length)
    warm(projection)
    return run(functools.partial(_paths.k_shortest_paths, source=source, target=target, k=k,
                                 max_length=max_length), projection, timeout=timeout)


def neighbourhood(projection: Projection, entity: str, hops: int = 1, max_nodes: int = 200,
                  *, timeout: float) -> Neighbourhood:
    """:func:`.neighbourhood.neighbourhood` with a time limit."""
    centre(projection, entity, hops, max_nodes)
    warm(projection)
    return run(functools.partial(_neighbourhood, entity=entity, hops=hops,
                                 max_nodes=max_nodes), projection, timeout=timeout)


def centrality(projection: Projection, measure: str = "pagerank", limit: int = 20,
               backend: str = "auto", k: int | None = None, seed: int = 0, *,
               timeout: float) -> CentralityResult:
    """:func:`.centrality.centrality` with a time limit, without ``all_scores``: only the
    ranking crosses back from the child (every node's score is what ``write_analyses``
    is for; pickling 42,700 of them cost ~40 ms a request)."""
    check_centrality(projection, measure, limit, backend, k)
    _warm_measures(projection, (measure,), backend)
    return run(functools.partial(_ranking, measure=measure, limit=limit, backend=backend, k=k,
                                 seed=seed), projection, timeout=timeout)


def _ranking(projection: Projection, **parameters: Any) -> CentralityResult:
    return dataclasses.replace(_centrality(projection, **parameters), all_scores={})


def communities(projection: Projection, algorithm: str = "louvain", seed: int = 0,
                resolution: float = 1.0, backend: str = "auto", *,
                timeout: float) -> Communities:
    """:func:`.communities.communities` with a time limit."""
    check_communities(projection, algorithm, resolution, backend)
    warm(projection, backend if algorithm == "louvain" else None)
    return run(functools.partial(_communities, algorithm=algorithm, seed=seed,
                                 resolution=resolution, backend=backend),
               projection, timeout=timeout)


def components(projection: Projection, *, timeout: float) -> tuple[tuple[str, ...], ...]:
    """:func:`.communities.components` with a time limit."""
    warm(projection, "auto")
    return run(_components, projection, timeout=timeout)


def connectors(projection: Projection, limit: int = 50, *,
               timeout: float) -> Connectors:
    """:func:`.communities.connectors` with a time limit."""
    check_connectors(limit)
    warm(projection, "auto")
    return run(functools.partial(_connectors, limit=limit), projection,
               timeout=timeout)


def similar(projection: Projection, entity: str, limit: int = 10, *,
            timeout: float) -> list[tuple[str, float]]:
    """:func:`.communities.similar` with a time limit."""
    check_similar(projection, entity, limit)
    warm(projection)
    return run(functools.partial(_similar, entity=entity, limit=limit),
               projection, timeout=timeout)


def write_analyses(store: Store, projection: Projection,
                   measures: Iterable[str] = ("pagerank", "betweenness", "degree"),
                   community_seed: int = 0, seed: int = 0, k: int | None = None,
                   backend: str = "auto", *, timeout: float) -> _rdf.WriteReport:
    """:func:`.rdf.write_analyses` with a time limit on the computation; the write itself
    happens here, in the process that owns the store (a child's writes would be lost)."""
    chosen = _rdf.check_measures(projection, measures, k, backend)
    _warm_measures(projection, chosen, backend)
    warm(projection, backend)
    computed = run(functools.partial(_rdf.compute_analyses, measures=chosen,
                                     community_seed=community_seed, seed=seed, k=k,
                                     backend=backend), projection, timeout=timeout)
    return _rdf.store_analyses(store, projection, computed)


def _warm_measures(projection: Projection, measures: Iterable[str], backend: str) -> None:
    """The views centrality ``measures`` use: PageRank the directed ones, closeness only
    networkx's."""
    for measure in measures:
        warm(projection, None if measure == "closeness" else backend,
             directed=measure == "pagerank")
