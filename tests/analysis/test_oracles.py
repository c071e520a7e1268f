"""Analyses on small synthetic graphs, checked against networkx (and igraph against both)."""
from __future__ import annotations

import networkx as nx
import pytest
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

from graph.analysis import centrality, communities, components, connectors, project, scores
from graph.analysis.projection import Projection

from .conftest import EX, named, store_of


def _projection(g: nx.DiGraph) -> Projection:
    return project(store_of(g))


def _close(a: dict[str, float], b: dict[str, float], tol: float) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) <= tol for k in a)


def test_projection_is_the_graph(synthetic: nx.DiGraph) -> None:
    p = _projection(synthetic)
    assert set(p.graph.nodes) == set(named(synthetic).nodes) - {
        EX + n for n in synthetic if synthetic.degree(n) == 0}
    assert set(p.directed().edges) == set(named(synthetic).edges)


@pytest.mark.parametrize("backend", ["networkx", "igraph"])
def test_degree_and_betweenness_match_networkx(synthetic: nx.DiGraph, backend: str) -> None:
    p = _projection(synthetic)
    g = p.undirected()
    assert _close(scores(p, "degree", backend)[2], nx.degree_centrality(g), 1e-12)
    assert _close(scores(p, "betweenness", backend)[2], nx.betweenness_centrality(g), 1e-12)
    sampled = scores(p, "betweenness", backend, k=20, seed=5)
    assert sampled[1] == {"sampled_sources": 20, "seed": 5}
    assert _close(sampled[2], nx.betweenness_centrality(g, k=20, seed=5), 1e-12)


@pytest.mark.parametrize("backend", ["networkx", "igraph"])
def test_pagerank_matches_networkx_to_the_tolerance(synthetic: nx.DiGraph, backend: str) -> None:
    p = _projection(synthetic)
    oracle = _pagerank_python(p.directed(), tol=1e-10)
    assert _close(scores(p, "pagerank", backend)[2], oracle, 1e-8)
    assert abs(sum(scores(p, "pagerank", backend)[2].values()) - 1) < 1e-9


@pytest.mark.parametrize("backend", ["networkx", "igraph"])
def test_eigenvector_on_the_largest_component(synthetic: nx.DiGraph, backend: str) -> None:
    p = _projection(synthetic)
    g = p.undirected()
    largest = max(nx.connected_components(g), key=len)
    oracle = nx.eigenvector_centrality(g.subgraph(largest), max_iter=1000, tol=1e-10)
    values = scores(p, "eigenvector", backend)[2]
    assert _close({n: values[n] for n in largest}, oracle, 1e-6)
    assert all(values[n] == 0 for n in set(g) - largest)


def test_closeness_matches_networkx(synthetic: nx.DiGraph) -> None:
    p = _projection(synthetic)
    assert _close(scores(p, "closeness")[2], nx.closeness_centrality(p.undirected()), 1e-12)


def test_ranking_breaks_ties_by_iri() -> None:
    star = nx.DiGraph([("hub", f"leaf{i}") for i in (3, 1, 2)])
    result = centrality(_projection(star), "degree", limit=4)
    assert [n for n, _ in result.ranking] == [EX + "hub", EX + "leaf1", EX + "leaf2",
                                               EX + "leaf3"]


def test_louvain_is_networkx_louvain_with_the_seed(synthetic: nx.DiGraph) -> None:
    p = _projection(synthetic)
    found = communities(p, seed=3)
    oracle = nx.community.louvain_communities(p.undirected(), seed=3)
    assert {frozenset(c) for c in found.groups} == {frozenset(c) for c in oracle}
    assert communities(p, seed=3).groups == found.groups  # reproducible
    assert found.modularity == pytest.approx(nx.community.modularity(p.undirected(), oracle))


def test_igraph_louvain_is_a_comparable_partition(synthetic: nx.DiGraph) -> None:
    p = _projection(synthetic)
    fast = communities(p, seed=3, backend="igraph")
    assert sorted(n for g in fast.groups for n in g) == sorted(p.graph.nodes)
    assert fast.groups == communities(p, seed=3, backend="igraph").groups
    assert fast.modularity > communities(p, seed=3).modularity - 0.05


def test_components_and_connectors_match_networkx(synthetic: nx.DiGraph) -> None:
    p = _projection(synthetic)
    g = p.undirected()
    assert {frozenset(c) for c in components(p)} == {
        frozenset(c) for c in nx.connected_components(g)}
    found = connectors(p, limit=1000)
    assert {n for n, _ in found.articulation_points} == set(nx.articulation_points(g))
    assert {frozenset((b[0].subject, b[0].object)) for b in found.bridges} == {
        frozenset(b) for b in nx.bridges(g)}
    assert EX + "x3" in {n for n, _ in found.articulation_points}
