"""Scores and communities written as RDF, sortable by SPARQL, with their provenance."""
from __future__ import annotations

import json
from typing import Any

from graph import ids
from graph.analysis import centrality, communities, project
from graph.analysis.rdf import GRAPH, write_analyses

PREFIXES = ("PREFIX bkg: <https://w3id.org/borderkg/def/> "
            "PREFIX prov: <http://www.w3.org/ns/prov#> ")


def test_pagerank_sorted_by_sparql_matches_the_analysis(seed_store: Any) -> None:
    p = project(seed_store)
    report = write_analyses(seed_store, p, ["pagerank", "degree"])
    rows = seed_store.query(PREFIXES + f"SELECT ?e ?r WHERE {{ GRAPH <{GRAPH}> "
                            "{ ?e bkg:pageRank ?r } } ORDER BY DESC(?r) ?e LIMIT 5")
    top = [r["e"].value for r in rows]
    assert top == [n for n, _ in centrality(project(seed_store), "pagerank", limit=5).ranking]
    assert report.communities == len(communities(p).groups)


def test_the_run_is_described_with_prov(seed_store: Any) -> None:
    write_analyses(seed_store, project(seed_store, graphs="article"), ["betweenness"], seed=4)
    rows = list(seed_store.query(PREFIXES + "SELECT ?run ?params ?start WHERE { GRAPH "
                                 f"<{GRAPH}> "
                                 "{ ?run a bkg:AnalysisRun, prov:Activity ; prov:startedAtTime "
                                 "?start ; bkg:analysisParameters ?params ; prov:used "
                                 f"<{ids.GRAPH_ARTICLE}> . <{GRAPH}> "
                                 "prov:wasGeneratedBy ?run } }"))
    assert len(rows) == 1
    params = json.loads(rows[0]["params"].value)
    assert params["measures"]["betweenness"]["exact"] is True
    assert params["projection"]["graphs"] == [ids.GRAPH_ARTICLE]
    labelled = seed_store.query(PREFIXES + "ASK { GRAPH <" + GRAPH + "> { bkg:pageRank "
                                "<http://www.w3.org/2000/01/rdf-schema#comment> ?c } }")
    assert bool(labelled)


def test_writing_replaces_the_previous_results(seed_store: Any) -> None:
    write_analyses(seed_store, project(seed_store), ["pagerank"])
    write_analyses(seed_store, project(seed_store), ["degree"])
    runs = seed_store.query(PREFIXES + f"SELECT (COUNT(?r) AS ?n) WHERE {{ GRAPH <{GRAPH}> "
                            "{ ?r a bkg:AnalysisRun } }")
    assert next(iter(runs))["n"].value == "1"
    ask = PREFIXES + f"ASK {{ GRAPH <{GRAPH}> {{ ?e bkg:pageRank ?r }} }}"
    assert not bool(seed_store.query(ask))
    # the analyses graph is not projected: results cannot feed back into themselves
    assert GRAPH not in project(seed_store).graphs
