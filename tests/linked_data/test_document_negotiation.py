"""Entity documents are negotiated as ``/sparql`` negotiates, checked against a real
server: what RDF clients send (rdflib's Accept for each format, parameters, wildcards)
gets the syntax they asked for from both."""
from __future__ import annotations

from typing import Any

import pytest
import requests
from rdflib import Graph, URIRef

CHN = "https://w3id.org/borderkg/id/country/CHN"
CONSTRUCT = f"CONSTRUCT {{ <{CHN}> ?p ?o }} WHERE {{ <{CHN}> ?p ?o }}"

#: Accept header -> the syntax both answer in (by its Content-Type's media type)
ACCEPT = [
    ("text/plain, */*", "text/plain"),
    ("text/plain, */*;q=0.1", "text/plain"),
    ("application/n-triples", "application/n-triples"),
    ("text/n3", "text/n3"),
    ("text/n3, */*;q=0.1", "text/n3"),
    ("text/turtle;charset=utf-8", "text/turtle"),
    ("text/turtle; q=0.9, application/ld+json", "application/ld+json"),
    ("application/rdf+xml;q=1.0, text/turtle;q=0.5", "application/rdf+xml"),
]


def media(response: requests.Response) -> str:
    return response.headers["Content-Type"].split(";")[0].strip()


@pytest.mark.parametrize(("accept", "expected"), ACCEPT)
def test_documents_and_sparql_agree(live_server: Any, accept: str, expected: str) -> None:
    headers = {"Accept": accept}
    doc = requests.get(f"{live_server.url}/doc/id/country/CHN", headers=headers, timeout=30)
    sparql = requests.post(f"{live_server.url}/sparql", data={"query": CONSTRUCT},
                           headers=headers, timeout=30)
    assert doc.status_code == sparql.status_code == 200, (doc.text[:300], sparql.text[:300])
    assert media(doc) == media(sparql) == expected


@pytest.mark.parametrize("fmt", ["nt", "n3", "turtle", "xml", "json-ld"])
def test_rdflib_reads_a_document_in_each_format(live_server: Any, fmt: str) -> None:
    graph = Graph().parse(f"{live_server.url}/doc/id/country/CHN", format=fmt)
    assert (URIRef(CHN), None, None) in graph
    assert len(graph) > 5


def test_browsers_still_get_the_page(live_server: Any) -> None:
    browser = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
               "image/webp,*/*;q=0.8")
    for accept in (browser, "*/*", None):
        response = requests.get(f"{live_server.url}/doc/id/country/CHN", timeout=30,
                                headers={"Accept": accept} if accept else {})
        assert media(response) == "text/html"


def test_nothing_acceptable_is_406(live_server: Any) -> None:
    response = requests.get(f"{live_server.url}/doc/id/country/CHN", timeout=30,
                            headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.json()["error"]["code"]
