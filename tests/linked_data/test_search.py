"""Search: ranking, typo tolerance, facets, freshness after writes, the CLI and SPARQL.

Facet counts are checked against SPARQL counts computed here, over the same texts;
freshness and the SPARQL functions run through real servers (memory and disk stores).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from graph.documents.search import SearchIndex
from tests.conftest import TOKEN
from tests.test_cli import borderkg

ICE = "https://w3id.org/borderkg/id/org/ice"
BKG = "https://w3id.org/borderkg/def/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROLOGUE = ("PREFIX bkgfn: <https://w3id.org/borderkg/def/fn#>\n"
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n")
TEXTS = ("VALUES ?p { rdfs:label <http://www.w3.org/2004/02/skos/core#prefLabel> "
         "<http://www.w3.org/2004/02/skos/core#altLabel> <https://schema.org/name> } ?r ?p ?t")
SENTENCE = f"?r a <{BKG}Sentence> ; <{BKG}text> ?t"
PLACE = "https://w3id.org/borderkg/id/place/test-quorvex"
GRAPH = "https://w3id.org/borderkg/graph/test-search"


def select(url: str, text: str) -> list[dict[str, Any]]:
    response = requests.get(url + "/sparql", params={"query": PROLOGUE + text}, timeout=30,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def update(url: str, text: str) -> None:
    response = requests.post(url + "/sparql", data={"update": text}, headers=AUTH, timeout=30)
    assert response.status_code in (200, 204), response.text


def search(url: str, query: str, **params: str) -> dict[str, Any]:
    response = requests.get(url + "/search", params={"q": query, **params}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_label_match_ranks_above_a_sentence_only_match(seed_store: Any) -> None:
    hits = SearchIndex.build(seed_store).search("immigration customs").hits
    assert hits[0].iri == ICE and hits[0].kind == "label"
    sentences = [h for h in hits if h.kind == "sentence"]
    assert sentences and all(hits.index(h) > 0 for h in sentences)
    assert hits[0].score > 0 and all(h.kind != "alt-label" for h in sentences)


def test_misspelt_words_find_the_right_resources(seed_store: Any) -> None:
    seed_store.update(f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{PLACE}> <{RDFS_LABEL}> "Guatemala" '
                      f'; a <{BKG}Country> }} }}')
    index = SearchIndex.build(seed_store)
    found = index.search("Guatamala")
    assert [h.iri for h in found.hits] == [PLACE] and found.hits[0].match == "fuzzy"
    assert found.corrections == {"guatamala": ["guatemala"]}
    deportation = index.search("deportaton")
    assert deportation.hits and all("deportation" in h.text.lower() for h in deportation.hits)
    assert index.search("Imigration and Custom Enforcment").hits[0].iri == ICE
    assert index.search("zzqxv").hits == []


def _sparql_count(client: Any, where: str) -> dict[str, int]:
    query = (PROLOGUE + f"SELECT ?v (COUNT(DISTINCT ?r) AS ?n) WHERE {{ {where} }} GROUP BY ?v")
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(True)
    return {b["v"]["value"]: int(b["n"]["value"]) for b in response.json["results"]["bindings"]}


def test_facet_counts_equal_sparql_counts(client: Any) -> None:
    body = client.get("/search?q=china&limit=1").json
    matching = f'{{ {TEXTS} }} UNION {{ {SENTENCE} }} FILTER(REGEX(?t, "\\\\bchina", "i"))'
    by_type = _sparql_count(client, f"{{ {matching} }} ?r a ?v")
    by_graph = _sparql_count(client, f"{{ SELECT DISTINCT ?r WHERE {{ {matching} }} }} "
                             f"GRAPH ?v {{ {{ {TEXTS} }} UNION {{ ?r <{BKG}text> ?t }} "
                             'FILTER(REGEX(?t, "\\\\bchina", "i")) }')
    facets = body["facets"]
    assert {f["value"]: f["count"] for f in facets["type"]} == by_type
    assert {f["value"]: f["count"] for f in facets["graph"]} == by_graph
    assert body["total"] == _sparql_count(client, f'{matching} BIND("all" AS ?v)')["all"]
    assert len(body["results"]) == 1 and by_type[BKG + "Country"] >= 1


def test_filters_narrow_hits_and_keep_the_other_facet(client: Any) -> None:
    everything = client.get("/search?q=china&limit=100").json
    countries = client.get("/search?q=china&limit=100&type=bkg:Country").json
    assert countries["total"] == {f["value"]: f["count"] for f in
                                  everything["facets"]["type"]}[BKG + "Country"]
    assert all(BKG + "Country" in h["types"] for h in countries["results"])
    assert countries["facets"]["type"] == everything["facets"]["type"]
    background = "https://w3id.org/borderkg/graph/background"
    only = client.get("/search", query_string={"q": "china", "graph": background}).json
    assert only["results"] and only["total"] < everything["total"]
    page = client.get("/search?q=china&type=bkg:Country", headers={"Accept": "text/html"})
    html = page.get_data(True)
    assert 'data-facet="type"' in html and 'class="chosen"' in html


@pytest.mark.parametrize("store", ["memory", "disk", "disk-without-copy"])
def test_the_index_follows_writes_and_sparql_can_search(start_server: Any, store: str,
                                                        tmp_path: Path) -> None:
    """Also on the disk store without its memory copy, where snapshot workers evaluate."""
    without_copy = store == "disk-without-copy"
    server = start_server(store="disk" if without_copy else store, data_dir=tmp_path,
                          env={"BORDERKG_MEMORY_COPY": "false"} if without_copy else None)
    found = select(server.url, "SELECT ?r WHERE { ?r rdfs:label ?l "
                   'FILTER(bkgfn:matches(?r, "immigration customs")) }')
    assert ICE in [b["r"]["value"] for b in found]
    assert search(server.url, "quorvex")["results"] == []
    update(server.url, f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{PLACE}> <{RDFS_LABEL}> '
           '"Quorvex border post" } }')
    assert [r["iri"] for r in search(server.url, "quorvex")["results"]] == [PLACE]
    scored = select(server.url, f'SELECT ?s WHERE {{ BIND(bkgfn:score(<{PLACE}>, "quorvex") '
                    'AS ?s) }')
    assert float(scored[0]["s"]["value"]) > 0
    update(server.url, f"DELETE WHERE {{ GRAPH <{GRAPH}> {{ <{PLACE}> ?p ?o }} }}")
    assert search(server.url, "quorvex")["results"] == []
    assert select(server.url, f'SELECT ?r WHERE {{ VALUES ?r {{ <{PLACE}> }} '
                  'FILTER(bkgfn:matches(?r, "quorvex")) }') == []
    if store == "disk":
        assert (tmp_path / "search-index.sqlite").is_file()


def test_cli_search(tmp_path: Path) -> None:
    from tests.conftest import ARTICLE

    assert borderkg("build", "--article", str(ARTICLE), data_dir=tmp_path).returncode == 0
    result = borderkg("search", "immigration customs", "--format", "json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["results"][0]["iri"] == ICE
    assert {f["value"] for f in body["facets"]["type"]} >= {BKG + "GovernmentAgency"}
    typed = borderkg("search", "china", "--type", "bkg:Country", data_dir=tmp_path)
    assert typed.returncode == 0, typed.stderr
    assert "China" in typed.stdout and "by type:" in typed.stdout
    fuzzy = borderkg("search", "deportaton", data_dir=tmp_path)
    assert "read 'deportaton' as deportation" in fuzzy.stdout
