"""Analyses through the forked, time-limited path answer exactly what they answer directly."""
from __future__ import annotations

import dataclasses
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from graph import ids
from graph.analysis import (
    bounded,
    centrality,
    communities,
    components,
    connectors,
    k_shortest_paths,
    neighbourhood,
    project,
    similar,
)
from graph.analysis.centrality import CentralityResult
from graph.analysis.projection import Projection
from graph.analysis.rdf import compute_analyses, write_analyses
from graph.analysis.resolve import AmbiguousEntity, UnknownEntity
from graph.caching import EtagCache
from graph.errors import QueryTimeout, ServiceUnavailable

TIMEOUT = 30.0


def _ranked(result: CentralityResult) -> CentralityResult:
    """A centrality result as the forked path returns it: the ranking, not every score."""
    assert result.all_scores, "computed directly, every node has its score"
    return dataclasses.replace(result, all_scores={})


#: (name, direct call, the same call through graph.analysis.bounded)
CASES: list[tuple[str, Callable[[Projection], Any], Callable[[Projection], Any]]] = [
    ("path", lambda p: k_shortest_paths(p, "ICE", "China", k=5, max_length=4),
     lambda p: bounded.k_shortest_paths(p, "ICE", "China", k=5, max_length=4,
                                        timeout=TIMEOUT)),
    ("neighbours", lambda p: neighbourhood(p, "Laken Riley Act", hops=2, max_nodes=30),
     lambda p: bounded.neighbourhood(p, "Laken Riley Act", hops=2, max_nodes=30,
                                     timeout=TIMEOUT)),
    *[(f"centrality {m} {b}", lambda p, m=m, b=b: _ranked(centrality(p, m, limit=50, backend=b)),
       lambda p, m=m, b=b: bounded.centrality(p, m, limit=50, backend=b, timeout=TIMEOUT))
      for m in ("degree", "betweenness", "pagerank", "eigenvector", "closeness")
      for b in ("networkx", "igraph")],
    ("centrality betweenness sampled",
     lambda p: _ranked(centrality(p, "betweenness", backend="igraph", k=20, seed=4)),
     lambda p: bounded.centrality(p, "betweenness", backend="igraph", k=20, seed=4,
                                  timeout=TIMEOUT)),
    *[(f"communities {a} {b}", lambda p, a=a, b=b: communities(p, a, seed=2, backend=b),
       lambda p, a=a, b=b: bounded.communities(p, a, seed=2, backend=b, timeout=TIMEOUT))
      for a in ("louvain", "label_propagation") for b in ("networkx", "igraph")],
    ("components", components, lambda p: bounded.components(p, timeout=TIMEOUT)),
    ("connectors", lambda p: connectors(p, limit=10),
     lambda p: bounded.connectors(p, limit=10, timeout=TIMEOUT)),
    ("similar", lambda p: similar(p, "ICE", limit=10),
     lambda p: bounded.similar(p, "ICE", limit=10, timeout=TIMEOUT)),
]


@pytest.mark.parametrize("direct,forked", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_forked_results_are_the_direct_results(seed_store: Any,
                                               direct: Callable[[Projection], Any],
                                               forked: Callable[[Projection], Any]) -> None:
    assert bounded.isolated(), "this machine can fork sandboxed children"
    p = project(seed_store)
    through_child = forked(p)
    assert through_child == direct(p)
    if hasattr(through_child, "to_dict"):
        assert through_child.to_dict(p) == direct(p).to_dict(p)


def test_written_results_are_the_direct_results(seed_store: Any) -> None:
    p = project(seed_store)
    measures = ("pagerank", "betweenness", "degree", "eigenvector", "closeness")
    direct = compute_analyses(p, measures, community_seed=3, seed=3)
    report = bounded.write_analyses(seed_store, p, measures, community_seed=3, seed=3,
                                    timeout=TIMEOUT)
    assert report.measures == measures and report.communities == len(direct.communities.groups)
    written = {row["e"].value: float(row["r"].value) for row in seed_store.query(
        "SELECT ?e ?r WHERE { GRAPH <https://w3id.org/borderkg/graph/analyses> "
        "{ ?e <https://w3id.org/borderkg/def/betweennessCentrality> ?r } }")}
    assert written == direct.results["betweenness"][2]
    again = write_analyses(seed_store, project(seed_store), measures, community_seed=3, seed=3)
    assert again.triples == report.triples


def test_the_analysis_runs_in_another_process(seed_store: Any) -> None:
    p = project(seed_store)
    assert bounded.run(lambda _: os.getpid(), p, timeout=TIMEOUT) != os.getpid()
    assert bounded.run(lambda _: os.getpid(), p, timeout=TIMEOUT, fork=False) == os.getpid()


def test_the_views_are_built_and_kept_in_this_process(seed_store: Any) -> None:
    cache = EtagCache.for_store(seed_store, entries=4)
    p = project(seed_store, cache=cache)
    bounded.centrality(p, "pagerank", backend="igraph", timeout=TIMEOUT)
    bounded.communities(p, backend="igraph", timeout=TIMEOUT)
    assert {"undirected", "directed", "igraph-directed", "igraph-undirected"} <= set(p._views)
    assert project(seed_store, cache=cache) is p


def test_errors_come_back_with_their_class_and_details(seed_store: Any) -> None:
    p = project(seed_store)
    with pytest.raises(UnknownEntity) as unknown:
        bounded.run(lambda q: similar(q, "Chinna"), p, timeout=TIMEOUT)
    assert unknown.value.status == 404 and unknown.value.code == "unknown-entity"
    assert ids.thing("country", "CHN") in [s["iri"] for s in unknown.value.details["suggestions"]]
    with pytest.raises(AmbiguousEntity):
        bounded.run(lambda _q: _raise(AmbiguousEntity("two", parameter="entity",
                                                     candidates=[])), p, timeout=TIMEOUT)


def _raise(error: Exception) -> None:
    raise error


def test_a_child_past_its_deadline_is_killed(seed_store: Any) -> None:
    p = project(seed_store)
    began = time.monotonic()
    with pytest.raises(QueryTimeout) as stopped:
        bounded.run(lambda _: time.sleep(60), p, timeout=0.5)
    assert time.monotonic() - began < 5
    assert stopped.value.status == 503 and stopped.value.details == {"limit_seconds": 0.5}
    assert "analysis stopped after its time limit of 0.5 s" in stopped.value.message


def test_a_child_that_dies_costs_this_call_only(seed_store: Any) -> None:
    p = project(seed_store)
    with pytest.raises(ServiceUnavailable) as died:
        bounded.run(lambda _: os.kill(os.getpid(), signal.SIGKILL), p, timeout=TIMEOUT)
    assert died.value.status == 503 and "SIGKILL" in died.value.message
    assert bounded.components(p, timeout=TIMEOUT) == components(p)


def test_the_child_cannot_open_a_network_socket(seed_store: Any) -> None:
    import socket

    def connect(_: Projection) -> str:
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
        except PermissionError as exc:
            return f"refused: {exc.strerror}"
        return "opened"

    assert bounded.run(connect, project(seed_store), timeout=TIMEOUT).startswith("refused")
