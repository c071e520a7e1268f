"""Real SPARQL clients against the live server: SPARQLWrapper in every result format and
for updates with the token, rdflib's SPARQLStore and SPARQLUpdateStore, and raw requests
for every media type of every table."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
import requests
from pyoxigraph import RdfFormat, parse
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from tests.conftest import TOKEN

from .conftest import ONTOLOGY_GRAPH

AGENCIES = """PREFIX bkg: <https://w3id.org/borderkg/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?agency ?label WHERE { ?agency a bkg:GovernmentAgency ; rdfs:label ?label }
ORDER BY ?agency"""
ONTOLOGY_TRIPLES = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{ ?s ?p ?o }} }}"


def wrapper(sparql: str, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(sparql)
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_json(sparql: str) -> None:
    result = wrapper(sparql, AGENCIES, JSON).queryAndConvert()
    agencies = {b["agency"]["value"] for b in result["results"]["bindings"]}
    assert "https://w3id.org/borderkg/id/org/ice" in agencies
    assert result["head"]["vars"] == ["agency", "label"]


def test_sparqlwrapper_xml_csv_tsv_agree_with_json(sparql: str) -> None:
    rows = wrapper(sparql, AGENCIES, JSON).queryAndConvert()["results"]["bindings"]
    expected = [(r["agency"]["value"], r["label"]["value"]) for r in rows]
    document = wrapper(sparql, AGENCIES, XML).queryAndConvert()
    ns = "{http://www.w3.org/2005/sparql-results#}"
    xml_rows = [tuple(b.childNodes[0].firstChild.data for b in r.getElementsByTagName("binding"))
                for r in document.getElementsByTagName("result")]
    assert xml_rows == expected, ns
    as_csv = wrapper(sparql, AGENCIES, CSV).queryAndConvert().decode("utf-8")
    assert [tuple(r) for r in csv.reader(io.StringIO(as_csv))][1:] == expected
    as_tsv = wrapper(sparql, AGENCIES, TSV).queryAndConvert().decode("utf-8").splitlines()
    assert as_tsv[0] == "?agency\t?label" and len(as_tsv) == len(expected) + 1
    assert as_tsv[1].startswith(f"<{expected[0][0]}>\t")


def test_sparqlwrapper_ask(sparql: str) -> None:
    ask = "ASK { <https://w3id.org/borderkg/id/org/ice> ?p ?o }"
    assert wrapper(sparql, ask, JSON).queryAndConvert()["boolean"] is True
    xml = wrapper(sparql, ask, XML).queryAndConvert()
    assert xml.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("fmt", [TURTLE, N3, JSONLD, RDFXML])
def test_sparqlwrapper_construct(sparql: str, fmt: str) -> None:
    client = wrapper(sparql, ONTOLOGY_TRIPLES, fmt)
    graph = client.queryAndConvert()
    if not isinstance(graph, Graph):  # SPARQLWrapper returns bytes for some formats
        parsed = Graph()
        parsed.parse(data=graph, format={TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld",
                                         RDFXML: "xml"}[fmt])
        graph = parsed
    assert len(graph) > 100
    assert (None, None, URIRef("http://www.w3.org/2002/07/owl#Class")) in graph


def test_sparqlwrapper_update_needs_and_uses_the_token(sparql: str, fresh_graph: str) -> None:
    triple = f'<{fresh_graph}> <http://example.org/p> "w"'
    text = f"INSERT DATA {{ GRAPH <{fresh_graph}> {{ {triple} }} }}"
    client = SPARQLWrapper(sparql, updateEndpoint=sparql)
    client.setMethod(POST)
    client.setQuery(text)
    with pytest.raises(Exception) as refused:  # SPARQLWrapper raises urllib's HTTPError
        client.query()
    assert "401" in str(refused.value)
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    assert client.query().response.status == 204
    check = f"ASK {{ GRAPH <{fresh_graph}> {{ ?s ?p \"w\" }} }}"
    assert wrapper(sparql, check, JSON).queryAndConvert()["boolean"] is True


def test_rdflib_sparqlstore_reads(sparql: str) -> None:
    graph = Graph(store=SPARQLStore(sparql, returnFormat="json"))
    rows = list(graph.query(AGENCIES))
    assert (URIRef("https://w3id.org/borderkg/id/org/ice"),) in [(r[0],) for r in rows]


def test_rdflib_sparqlupdatestore_writes(sparql: str, fresh_graph: str) -> None:
    store = SPARQLUpdateStore(sparql, sparql, auth=None, returnFormat="json",
                              headers={"Authorization": f"Bearer {TOKEN}"})
    graph = Graph(store=store, identifier=URIRef(fresh_graph))
    graph.add((URIRef(fresh_graph), URIRef("http://example.org/p"), Literal("via rdflib")))
    store.commit()
    values = {str(o) for o in graph.objects(URIRef(fresh_graph), URIRef("http://example.org/p"))}
    assert values == {"via rdflib"}
    graph.remove((URIRef(fresh_graph), None, None))
    assert len(graph) == 0


@pytest.mark.parametrize("media_type", [t for f in RESULT_FORMATS for t in f.media_types])
def test_every_result_media_type(sparql: str, media_type: str) -> None:
    response = requests.get(sparql, params={"query": AGENCIES}, headers={"Accept": media_type},
                            timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] in \
        next(f for f in RESULT_FORMATS if media_type in f.media_types).media_types
    body = response.content.decode("utf-8")
    if "json" in media_type:
        assert json.loads(body)["results"]["bindings"]
    elif "xml" in media_type:
        assert ET.fromstring(body).tag == "{http://www.w3.org/2005/sparql-results#}sparql"
    else:
        assert "ice" in body


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_every_graph_format_round_trips(sparql: str, fmt) -> None:  # type: ignore[no-untyped-def]
    answers = {}
    for name in ("ntriples", fmt.name):
        response = requests.get(sparql, params={"query": ONTOLOGY_TRIPLES, "format": name},
                                timeout=30)
        assert response.status_code == 200
        engine = next(f for f in GRAPH_FORMATS if f.name == name).engine
        answers[name] = {(q.subject, q.predicate, q.object)
                         for q in parse(response.content, engine)
                         if not str(q.subject).startswith("_:")}
    assert answers[fmt.name] == answers["ntriples"] and len(answers["ntriples"]) > 100
    assert engine != RdfFormat.N3
