"""The projection of the seed graph: what becomes a node, an edge, and its evidence."""
from __future__ import annotations

from typing import Any

import pytest
from pyoxigraph import NamedNode, Quad

from graph import ids
from graph.analysis import ProjectionOptions, project
from graph.analysis.vocab import MEASURED_ENCOUNTERS_OF
from graph.caching import EtagCache
from graph.errors import BadParameter

ICE = ids.thing("org", "ice")
DHS = ids.thing("org", "dhs")
USBP = ids.thing("org", "usbp")
CHN = ids.thing("country", "CHN")
FLIGHT = ids.thing("flight", "chn-removal-5")
BKG = ids.DEF


def test_entities_are_nodes_claims_sentences_and_times_are_not(seed_store: Any) -> None:
    p = project(seed_store)
    nodes = set(p.graph.nodes)
    assert {ICE, DHS, CHN, FLIGHT} <= nodes
    assert not any("/claim/" in n or "/sentence/" in n or "/time/" in n for n in nodes)
    assert not any(n.startswith(BKG) for n in nodes)  # no classes: rdf:type is left out
    assert p.graph.nodes[CHN]["label"] == "China"
    assert p.graph.nodes[ICE]["types"] == (BKG + "GovernmentAgency",)


def test_edges_keep_direction_and_carry_their_sentences(seed_store: Any) -> None:
    p = project(seed_store)
    assert p.graph.has_edge(FLIGHT, ICE, BKG + "assistedBy")
    assert not p.graph.has_edge(ICE, FLIGHT)
    edge = p.edge(FLIGHT, BKG + "assistedBy", ICE)
    assert [s.number for s in edge.sentences] == [1]
    assert "with the assistance of the U.S. Immigration and Customs Enforcement (ICE)" in \
        edge.sentences[0].text
    assert edge.predicate_label == "assisted by"
    background = p.edge(ICE, "http://www.w3.org/ns/org#subOrganizationOf", DHS)
    assert background.sentences == () and background.graphs == (ids.GRAPH_BACKGROUND,)
    assert background.citation() == "[background]"


def test_laken_riley_status_is_stated_by_two_sentences(seed_store: Any) -> None:
    p = project(seed_store)
    law = ids.thing("law", "laken-riley-act")
    edge = p.edge(law, BKG + "hasLegislativeStatus", law + "/status/2025-01-10")
    assert [s.number for s in edge.sentences] == [17, 18]


def test_graph_filters(seed_store: Any) -> None:
    article = project(seed_store, graphs="article")
    background = project(seed_store, graphs="background")
    assert article.graph.has_edge(FLIGHT, CHN) and FLIGHT not in background.graph
    assert background.graph.has_edge(ICE, DHS) and not article.graph.has_edge(ICE, DHS)
    assert article.graphs == (ids.GRAPH_ARTICLE,)
    with pytest.raises(BadParameter) as raised:
        ProjectionOptions(graphs="nowhere")
    assert raised.value.details["parameter"] == "graph"


def test_predicate_and_class_filters(seed_store: Any) -> None:
    only = project(seed_store, predicates=(BKG + "destination",))
    assert sorted(only.graph.edges(keys=True)) == [(FLIGHT, CHN, BKG + "destination")]
    agencies = project(seed_store, classes=("http://www.w3.org/ns/org#Organization",))
    assert {ICE, DHS, USBP} <= set(agencies.graph.nodes)
    assert CHN not in agencies.graph  # a country is not an organisation


def test_include_time_and_schema(seed_store: Any) -> None:
    with_time = project(seed_store, include=frozenset({"time"}))
    assert with_time.graph.has_edge(FLIGHT, ids.thing("time", "2025-01-06--2025-01-10"))
    with_schema = project(seed_store, include=frozenset({"schema"}))
    assert with_schema.graph.has_edge(ICE, BKG + "GovernmentAgency")


def test_collapsed_observations_become_measured_edges(seed_store: Any) -> None:
    p = project(seed_store, collapse_observations=True)
    # sentences 3 (two monthly figures, Border Patrol) and 11-12 (three fiscal years, DHS)
    assert p.graph.edges[USBP, CHN, MEASURED_ENCOUNTERS_OF]["observations"] == 2
    assert p.graph.edges[DHS, CHN, MEASURED_ENCOUNTERS_OF]["observations"] == 3
    assert p.edge(USBP, MEASURED_ENCOUNTERS_OF, CHN).predicate_label == \
        "measured encounters of citizens of"
    assert not project(seed_store).graph.has_edge(USBP, CHN)


def test_cached_until_the_store_changes(seed_store: Any) -> None:
    cache = EtagCache.for_store(seed_store, entries=4)
    first = project(seed_store, cache=cache)
    assert project(seed_store, cache=cache) is first
    assert project(seed_store) is not first  # no cache: built anew
    seed_store.extend([Quad(NamedNode(ICE), NamedNode(BKG + "destination"), NamedNode(CHN),
                            NamedNode(ids.GRAPH_BACKGROUND))])
    second = project(seed_store, cache=cache)
    assert second is not first and second.graph.has_edge(ICE, CHN)
