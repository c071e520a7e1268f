"""Dereferencing, documents in every format, pages, VoID, the dump, search and charts."""
from __future__ import annotations

import gzip
from typing import Any
from xml.etree import ElementTree

import pytest
from rdflib import Graph, URIRef

from graph.documents.charts import bar_chart, line_chart
from graph.documents.search import SearchIndex, fold

CHN = "https://w3id.org/borderkg/id/country/CHN"
RDF_TYPES = {"text/turtle": "turtle", "application/n-triples": "nt",
             "application/ld+json": "json-ld", "application/rdf+xml": "xml"}


@pytest.mark.parametrize("path", ["/id/country/CHN", "/def/Claim", "/def",
                                  "/graph/background"])
def test_iris_answer_see_other_to_their_document(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/doc" + path.replace("/doc", "")


@pytest.mark.parametrize("media", sorted(RDF_TYPES))
def test_document_in_each_rdf_format(client: Any, media: str) -> None:
    response = client.get("/doc/id/country/CHN", headers={"Accept": media})
    assert response.status_code == 200 and response.mimetype == media
    graph = Graph().parse(data=response.data, format=RDF_TYPES[media])
    assert (URIRef(CHN), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), None) in graph
    texts = {str(o) for o in graph.objects(None, URIRef("https://w3id.org/borderkg/def/text"))}
    assert any("recalcitrant countries" in t for t in texts)  # the claims' sentences


@pytest.mark.parametrize(("suffix", "media"), [("ttl", "text/turtle"),
                                               ("nt", "application/n-triples"),
                                               ("jsonld", "application/ld+json"),
                                               ("rdf", "application/rdf+xml")])
def test_suffix_selects_the_format(client: Any, suffix: str, media: str) -> None:
    response = client.get(f"/doc/id/country/CHN.{suffix}", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == media


def test_page_shows_label_claims_sentences_and_chart(client: Any) -> None:
    page = client.get("/doc/id/country/CHN", headers={"Accept": "text/html"}).get_data(True)
    assert "<h1>China</h1>" in page
    assert "“In 2020, the United States designated 13 countries" in page
    assert 'href="http://localhost/doc/id/source/000_e1eaba6903481a9d/sentence/9"' in page
    assert 'href="http://www.wikidata.org/entity/Q148"' in page  # foreign IRIs link out
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bar"' in page
    assert "FY2023: 24,314" in page


def test_class_and_property_pages_document_the_ontology(client: Any) -> None:
    page = client.get("/doc/def/Claim", headers={"Accept": "text/html"}).get_data(True)
    assert "Ontology class" in page and '<dd class="count">236</dd>' in page
    page = client.get("/doc/def/designatedCountry", headers={"Accept": "text/html"}).get_data(True)
    assert "Ontology property" in page and ">range<" in page


def test_public_base_and_iri_base_are_mapped(seed_store: Any, settings: Any) -> None:
    from dataclasses import replace

    from graph.service import Service, build_executor
    from server.app import create_app

    settings = replace(settings, public_base="http://proxy.test/kg/")
    app = create_app(settings, Service(settings, seed_store, build_executor(settings, seed_store)))
    client = app.test_client()
    assert client.get("/id/org/ice").headers["Location"] == "http://proxy.test/kg/doc/id/org/ice"
    page = client.get("/doc/id/org/ice", headers={"Accept": "text/html"}).get_data(True)
    assert 'href="http://proxy.test/kg/doc/id/org/dhs"' in page


def test_unknown_resource_is_404_and_etag_revalidates(client: Any) -> None:
    assert client.get("/doc/id/country/XXX").status_code == 404
    first = client.get("/doc/id/country/CHN.ttl")
    again = client.get("/doc/id/country/CHN.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert client.get("/doc/id/country/CHN", headers={"Accept": "image/png"}).status_code == 406


def test_graph_document_counts_its_triples(client: Any, seed_store: Any) -> None:
    page = client.get("/doc/graph/background", headers={"Accept": "text/html"}).get_data(True)
    assert f"{seed_store.count('https://w3id.org/borderkg/graph/background'):,} triples" in page


def test_void_and_dump(client: Any, seed_store: Any) -> None:
    void = Graph().parse(data=client.get("/.well-known/void").data, format="turtle")
    triples = URIRef("http://rdfs.org/ns/void#triples")
    dataset = URIRef("http://localhost/.well-known/void#dataset")
    assert int(void.value(dataset, triples)) == seed_store.count()
    response = client.get("/dump.nq.gz")
    lines = gzip.decompress(response.data).decode().splitlines()
    assert len(lines) == seed_store.count() and response.headers["ETag"]
    assert client.get("/dump.nq.gz", headers={"If-None-Match": response.headers["ETag"]}
                      ).status_code == 304


def test_monthly_chart_from_imported_observations(cbp_client: Any) -> None:
    page = cbp_client.get("/doc/id/country/CHN", headers={"Accept": "text/html"}).get_data(True)
    assert "Monthly encounters" in page and 'class="chart chart-line"' in page


def test_charts_are_wellformed_svg() -> None:
    for chart in (line_chart([("a", 1), ("b", 3)], "T"), bar_chart([("x & y", 2.5)], "<T>")):
        root = ElementTree.fromstring(chart)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root.findall(".//{http://www.w3.org/2000/svg}title")) >= 2


def test_search_ranks_and_folds(seed_store: Any) -> None:
    index = SearchIndex.build(seed_store)
    hits = index.search("BÉIJING").hits
    assert hits[0].iri.endswith("/org/government-of-china") and hits[0].match == "exact"
    assert fold("Ünited  States!") == "united states"
    hits = index.search("recalc").hits
    groups = [h.kind == "sentence" for h in hits]
    assert groups == sorted(groups)  # labels before sentences
    assert any(h.kind == "sentence" and "recalcitrant" in h.text for h in hits)
    china = [h for h in index.search("china").hits if h.kind == "label"]
    assert china[0].match == "exact" and china[0].label == "China"
    assert [h.score for h in china[1:]] == sorted((h.score for h in china[1:]), reverse=True)


def test_search_index_follows_the_store(client: Any, seed_store: Any) -> None:
    assert client.get("/search?q=zanzibar").json["results"] == []
    seed_store.update('INSERT DATA { <https://w3id.org/borderkg/id/place/z> '
                      '<http://www.w3.org/2000/01/rdf-schema#label> "Zanzíbar" }')
    results = client.get("/search?q=zanzibar").json["results"]
    assert [r["iri"] for r in results] == ["https://w3id.org/borderkg/id/place/z"]
    assert client.get("/search?q=x&limit=0").status_code == 400
    page = client.get("/search?q=beijing", headers={"Accept": "text/html"}).get_data(True)
    assert "Government of the People&#39;s Republic of China" in page
