"""Cost caps: a request past one is a 400 naming the parameter and the cap, before any work."""
from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import pytest

from graph.analysis import bounded, project, scores, similar
from graph.analysis.limits import (
    CLOSENESS_MAX,
    EXACT_BETWEENNESS_MAX,
    MAX_HOPS,
    MAX_LENGTH,
    MAX_LIMIT,
    MAX_MEMBERS,
    MAX_NODES,
    MAX_PATHS,
    MAX_RESOLUTION,
    MAX_SAMPLES,
    MAX_SIMILAR_CANDIDATES,
)
from graph.errors import BadParameter
from server import analyses
from tests.conftest import TOKEN

from .conftest import store_of


def _refused(response: Any, parameter: str, cap: float) -> dict[str, Any]:
    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "bad-parameter" and error["parameter"] == parameter
    assert error["limit"] == cap and f"{cap:g}" in error["message"]
    return error


def test_huge_k_betweenness_is_refused_naming_the_cap(client: Any) -> None:
    response = client.get("/analyses/centrality?measure=betweenness&k=100000"
                          "&include=observations")
    error = _refused(response, "k", MAX_SAMPLES)
    assert "k must be between 1 and 256" in error["message"]
    assert "got 100000" in error["message"]


@pytest.mark.parametrize("path,params,parameter,cap", [
    ("centrality", {"limit": MAX_LIMIT + 1}, "limit", MAX_LIMIT),
    ("centrality", {"measure": "betweenness", "k": MAX_SAMPLES + 1}, "k", MAX_SAMPLES),
    ("path", {"from": "ICE", "to": "China", "k": MAX_PATHS + 1}, "k", MAX_PATHS),
    ("path", {"from": "ICE", "to": "China", "max_length": MAX_LENGTH + 1}, "max_length",
     MAX_LENGTH),
    ("path.svg", {"from": "ICE", "to": "China", "k": MAX_PATHS + 1}, "k", MAX_PATHS),
    ("neighbours", {"entity": "ICE", "hops": MAX_HOPS + 1}, "hops", MAX_HOPS),
    ("neighbours", {"entity": "ICE", "max_nodes": MAX_NODES + 1}, "max_nodes", MAX_NODES),
    ("communities", {"limit": MAX_LIMIT + 1}, "limit", MAX_LIMIT),
    ("communities", {"members": MAX_MEMBERS + 1}, "members", MAX_MEMBERS),
    ("communities", {"resolution": MAX_RESOLUTION * 2}, "resolution", MAX_RESOLUTION),
    ("communities", {"resolution": "nan"}, "resolution", MAX_RESOLUTION),
    ("communities", {"resolution": 0}, "resolution", MAX_RESOLUTION),
    ("components", {"limit": MAX_LIMIT + 1}, "limit", MAX_LIMIT),
    ("components", {"members": MAX_MEMBERS + 1}, "members", MAX_MEMBERS),
    ("connectors", {"limit": MAX_LIMIT + 1}, "limit", MAX_LIMIT),
    ("similar", {"entity": "ICE", "limit": MAX_LIMIT + 1}, "limit", MAX_LIMIT),
])
def test_every_cap_is_a_400_naming_it(client: Any, path: str, params: dict[str, Any],
                                      parameter: str, cap: float) -> None:
    _refused(client.get("/analyses/" + path, query_string=params), parameter, cap)


def test_writing_results_has_the_caps_of_centrality(client: Any) -> None:
    response = client.post("/analyses/write?measure=betweenness&k=1000",
                           headers={"Authorization": f"Bearer {TOKEN}"})
    _refused(response, "k", MAX_SAMPLES)


def test_the_largest_values_under_the_caps_are_answered(client: Any) -> None:
    assert client.get(f"/analyses/centrality?measure=betweenness&k={MAX_SAMPLES}"
                      f"&limit={MAX_LIMIT}").status_code == 200
    assert client.get(f"/analyses/path?from=ICE&to=China&k={MAX_PATHS}"
                      f"&max_length={MAX_LENGTH}").status_code == 200
    assert client.get(f"/analyses/communities?limit={MAX_LIMIT}&members={MAX_MEMBERS}"
                      f"&resolution={MAX_RESOLUTION}").status_code == 200


def test_closeness_is_refused_on_large_graphs_before_any_work() -> None:
    p = project(store_of(nx.path_graph(CLOSENESS_MAX + 1)))
    with pytest.raises(BadParameter) as raised:
        bounded.centrality(p, "closeness", timeout=5)
    assert raised.value.details == {"parameter": "measure", "limit": CLOSENESS_MAX}
    assert f"refused above {CLOSENESS_MAX} nodes (this graph has {CLOSENESS_MAX + 1})" in \
        raised.value.message
    assert p._views == {}, "a refused analysis built nothing"


def test_exact_betweenness_only_up_to_each_backends_threshold() -> None:
    p = project(store_of(nx.path_graph(EXACT_BETWEENNESS_MAX["networkx"] + 1)))
    assert scores(p, "betweenness", "networkx")[1] == {"sampled_sources": 32, "seed": 0}
    assert scores(p, "betweenness", "igraph")[1] == {"exact": True}
    p = project(store_of(nx.path_graph(EXACT_BETWEENNESS_MAX["igraph"] + 1)))
    assert scores(p, "betweenness", "igraph")[1] == {"sampled_sources": 32, "seed": 0}


def test_a_k_covering_every_node_is_exact() -> None:
    p = project(store_of(nx.path_graph(MAX_SAMPLES)))
    assert scores(p, "betweenness", "networkx", k=MAX_SAMPLES)[1] == {"exact": True}


def test_similar_is_jaccard_of_neighbour_sets_on_a_hub() -> None:
    g = nx.star_graph(300)
    g.add_edges_from((a, b) for a, b in itertools.combinations(range(1, 40), 2))
    p = project(store_of(g))
    u = p.undirected()
    hub = next(n for n in u if u.degree(n) == 300)
    expected = sorted(((o, len(set(u[hub]) & set(u[o])) / len(set(u[hub]) | set(u[o])))
                       for o in u if o != hub and set(u[hub]) & set(u[o])),
                      key=lambda x: (-x[1], x[0]))
    assert similar(p, hub, limit=MAX_LIMIT) == expected


def test_route_docstrings_state_the_caps() -> None:
    stated = {analyses.path: (MAX_PATHS, MAX_LENGTH), analyses.neighbours: (MAX_HOPS, MAX_NODES),
              analyses.centrality_: (MAX_LIMIT, MAX_SAMPLES, CLOSENESS_MAX,
                                     *EXACT_BETWEENNESS_MAX.values()),
              analyses.communities_: (MAX_LIMIT, MAX_MEMBERS, int(MAX_RESOLUTION)),
              analyses.components_: (MAX_LIMIT, MAX_MEMBERS),
              analyses.connectors_: (MAX_LIMIT,),
              analyses.similar_: (MAX_LIMIT, MAX_SIMILAR_CANDIDATES)}
    for route, caps in stated.items():
        for cap in caps:
            assert f"{cap:,}" in (route.__doc__ or ""), f"{route.__name__} does not say {cap:,}"
