"""Paths, neighbourhoods, similar entities and name resolution on the seed graph.

Expected answers worked out by hand from graph/knowledge/article.trig and background.trig.
"""
from __future__ import annotations

from typing import Any

import pytest
from pyoxigraph import NamedNode, Quad

from graph import ids
from graph.analysis import (
    AmbiguousEntity,
    UnknownEntity,
    k_shortest_paths,
    neighbourhood,
    project,
    resolve,
    shortest_path,
    similar,
)
from graph.errors import BadParameter

ICE = ids.thing("org", "ice")
CHN = ids.thing("country", "CHN")
FLIGHT = ids.thing("flight", "chn-removal-5")
LAW = ids.thing("law", "laken-riley-act")
BKG = ids.DEF


def test_ice_to_china_goes_through_the_fifth_removal_flight(seed_store: Any) -> None:
    p = project(seed_store)
    path = shortest_path(p, "ICE", "China", max_length=3)
    assert path is not None and path.nodes == (ICE, FLIGHT, CHN)
    first, second = path.hops
    assert [(e.predicate, e.subject, e.object) for e in first.edges] == [
        (BKG + "assistedBy", FLIGHT, ICE)]
    assert first.to_dict()["edges"][0]["direction"] == "backward"  # ICE ← flight
    assert [e.predicate for e in second.edges] == [BKG + "citizenship", BKG + "destination"]
    assert second.to_dict()["edges"][0]["direction"] == "forward"
    assert {s.number for hop in path.hops for e in hop.edges for s in e.sentences} == {1}
    assert path.explanation().startswith(
        "fifth large-scale removal of Chinese nationals since June 2024 assisted by "
        "U.S. Immigration and Customs Enforcement [sentence 1]; ")
    assert "destination China [sentence 1]" in path.explanation()


def test_k_shortest_paths_are_ordered_bounded_and_deterministic(seed_store: Any) -> None:
    p = project(seed_store)
    result = k_shortest_paths(p, ICE, CHN, k=5, max_length=3)
    lengths = [path.length for path in result.paths]
    assert lengths[0] == 2 and lengths == sorted(lengths) and max(lengths) <= 3
    assert len({path.nodes for path in result.paths}) == len(result.paths)  # simple, distinct
    # ICE → DHS (background) → the flight (conducted by DHS, sentence 1) → China
    assert (ICE, ids.thing("org", "dhs"), FLIGHT, CHN) in [path.nodes for path in result.paths]
    again = k_shortest_paths(project(seed_store, graphs="all"), "ice", "china", k=5,
                             max_length=3)
    assert [x.nodes for x in again.paths] == [x.nodes for x in result.paths]


def test_article_only_paths_lose_the_background_links(seed_store: Any) -> None:
    p = project(seed_store, graphs="article")
    result = k_shortest_paths(p, ICE, CHN, k=10, max_length=3)
    assert all(ids.GRAPH_BACKGROUND not in e.graphs
               for path in result.paths for hop in path.hops for e in hop.edges)


def test_no_path_within_the_bound_is_an_empty_answer(seed_store: Any) -> None:
    result = k_shortest_paths(project(seed_store), ICE, CHN, k=3, max_length=1)
    assert result.paths == ()


@pytest.mark.parametrize("k,max_length,name", [(0, 3, "k"), (51, 3, "k"), (1, 0, "max_length"),
                                                (1, 9, "max_length")])
def test_bad_bounds_name_the_parameter(seed_store: Any, k: int, max_length: int,
                                       name: str) -> None:
    with pytest.raises(BadParameter) as raised:
        k_shortest_paths(project(seed_store), ICE, CHN, k=k, max_length=max_length)
    assert raised.value.details["parameter"] == name


def test_what_surrounds_the_laken_riley_act(seed_store: Any) -> None:
    found = neighbourhood(project(seed_store), "laken riley act", hops=1)
    status = LAW + "/status/"
    assert set(found.distances) == {
        LAW, ids.thing("group", "us-lawmakers"), ids.thing("concept", "topic/immigration-law"),
        ids.thing("concept", "characterisation/stricter"), status + "2025-01-10",
        status + "2025-01-29", LAW + "/effect/state-suits",
        ids.thing("issue", "international-cooperation-on-us-removals")}
    assert found.distances[LAW] == 0 and not found.truncated
    advanced = [e for e in found.edges if e.predicate == BKG + "advancedBy"]
    assert [s.number for s in advanced[0].sentences] == [17]
    cut = neighbourhood(project(seed_store), LAW, hops=2, max_nodes=5)
    assert cut.truncated and len(cut.distances) == 5 and cut.distances[LAW] == 0


def test_similar_to_ice(seed_store: Any) -> None:
    found = similar(project(seed_store), "ICE", limit=3)
    # ICE's neighbours: DHS and the flight; the DHS announcement's: DHS and the flight too
    assert found[0] == (ids.thing("statement", "dhs-announcement-2025-01-10"), 1.0)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_resolution_by_iri_path_label_and_alt_label(seed_store: Any) -> None:
    p = project(seed_store)
    assert resolve(p, ICE) == ICE
    assert resolve(p, "org/ice") == ICE
    assert resolve(p, "u.s. immigration and customs ENFORCEMENT") == ICE
    assert resolve(p, "Beijing") == ids.thing("org", "government-of-china")


def test_unknown_names_get_suggestions(seed_store: Any) -> None:
    with pytest.raises(UnknownEntity) as raised:
        resolve(project(seed_store), "Chinaa")
    error = raised.value
    assert error.status == 404
    assert CHN in [s["iri"] for s in error.details["suggestions"]]


def test_ambiguous_names_list_the_candidates(seed_store: Any) -> None:
    label = NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")
    from pyoxigraph import Literal

    seed_store.extend([Quad(NamedNode(ids.thing("org", "cbp")), label, Literal("Border Agency"),
                            NamedNode(ids.GRAPH_BACKGROUND)),
                       Quad(NamedNode(ids.thing("org", "usbp")), label,
                            Literal("border agency"), NamedNode(ids.GRAPH_BACKGROUND))])
    with pytest.raises(AmbiguousEntity) as raised:
        resolve(project(seed_store), "Border Agency")
    assert raised.value.status == 400
    assert [c["iri"] for c in raised.value.details["candidates"]] == [
        ids.thing("org", "cbp"), ids.thing("org", "usbp")]
