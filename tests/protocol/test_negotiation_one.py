"""One negotiator for every route: the same Accept header gets the same reading from
``/sparql``, the linked-data documents, the Graph Store, the named queries and search.

Parameters such as ``charset`` never stop a match, q-values and wildcards rank the same
way, and what nothing offered satisfies is the same 406, listing what the route offers.
Checked through the real Flask app over a seed store.
"""
from __future__ import annotations

from typing import Any

import pytest

from graph.formats import GRAPH_FORMATS, RESULT_FORMATS, by_media_type

CHN = "https://w3id.org/borderkg/id/country/CHN"
ONTOLOGY_GRAPH = "https://w3id.org/borderkg/graph/ontology"
CONSTRUCT = f"CONSTRUCT {{ <{CHN}> ?p ?o }} WHERE {{ <{CHN}> ?p ?o }}"
SELECT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"

#: routes answering a graph, each the same request but for its Accept header
GRAPH_ROUTES = {
    "document": lambda client, headers: client.get("/doc/id/country/CHN", headers=headers),
    "graph store": lambda client, headers: client.get(
        "/graph-store", query_string={"graph": ONTOLOGY_GRAPH}, headers=headers),
    "direct graph store": lambda client, headers: client.get("/graph-store/ontology",
                                                             headers=headers),
    "sparql construct": lambda client, headers: client.post(
        "/sparql", data={"query": CONSTRUCT}, headers=headers),
    "service description": lambda client, headers: client.get("/sparql", headers=headers),
}

#: routes answering SELECT results
RESULT_ROUTES = {
    "sparql select": lambda client, headers: client.get(
        "/sparql", query_string={"query": SELECT}, headers=headers),
    "named query": lambda client, headers: client.get("/queries/graphs-overview",
                                                      headers=headers),
}

#: Accept header -> the graph format every graph route answers in
GRAPH_ACCEPT = [
    ("text/turtle;charset=utf-8", "turtle"),
    ("text/turtle; charset=UTF-8; q=0.9, application/ld+json;q=0.5", "turtle"),
    ("text/turtle;q=0.5, application/ld+json", "jsonld"),
    ("application/rdf+xml;q=0.9, text/turtle;charset=utf-8;q=0.8", "rdfxml"),
    ("application/*", "ntriples"),
    ("application/*;q=0.2, text/turtle;q=0.1", "ntriples"),
    ("text/plain, */*;q=0.1", "ntriples"),
    ("application/n-triples;charset=utf-8", "ntriples"),
    ("text/n3", "turtle"),
    ('application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"', "jsonld"),
    ("image/png, text/turtle;q=0.1", "turtle"),
]

#: Accept header -> the results format every results route answers in
RESULT_ACCEPT = [
    ("text/csv;charset=utf-8", "csv"),
    ("application/sparql-results+json;charset=utf-8", "json"),
    ("application/json", "json"),
    ("text/xml;q=0.9, text/csv;q=0.5", "xml"),
    ("text/*", "csv"),
    ("*/*", "json"),
    ("application/*;q=0.5, text/tab-separated-values", "tsv"),
    ("application/sparql-results+json;q=0, */*", "xml"),
    ("text/tab-separated-values;charset=utf-8;q=0.3, text/csv;q=0.2", "tsv"),
]

UNKNOWN = ["image/png", "application/x-unknown;charset=utf-8", "text/turtle;q=0, image/*"]


def _media(response: Any) -> str:
    return response.headers["Content-Type"].split(";")[0].strip()


@pytest.mark.parametrize(("accept", "expected"), GRAPH_ACCEPT)
def test_graph_routes_agree(client: Any, accept: str, expected: str) -> None:
    for name, send in GRAPH_ROUTES.items():
        response = send(client, {"Accept": accept})
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
        fmt = by_media_type(GRAPH_FORMATS, _media(response))
        assert fmt is not None and fmt.name == expected, (name, _media(response))


@pytest.mark.parametrize(("accept", "expected"), RESULT_ACCEPT)
def test_result_routes_agree(client: Any, accept: str, expected: str) -> None:
    for name, send in RESULT_ROUTES.items():
        response = send(client, {"Accept": accept})
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
        fmt = by_media_type(RESULT_FORMATS, _media(response))
        assert fmt is not None and fmt.name == expected, (name, _media(response))


@pytest.mark.parametrize("path", ["/queries", "/search?q=china", "/doc/id/country/CHN",
                                  "/queries/graphs-overview"])
def test_a_page_asked_for_with_a_charset_is_the_page(client: Any, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html;charset=utf-8"})
    assert response.status_code == 200
    assert _media(response) == "text/html"


@pytest.mark.parametrize("path", ["/queries", "/search?q=china"])
def test_json_asked_for_with_a_charset_is_json(client: Any, path: str) -> None:
    response = client.get(path, headers={"Accept": "application/json;charset=utf-8"})
    assert response.status_code == 200
    assert _media(response) == "application/json"


#: what each route lists in its 406: the canonical media types of its table (and its page)
OFFERED = {
    "document": ["text/html", *(f.media_type for f in GRAPH_FORMATS[:4])],
    "graph store": [f.media_type for f in GRAPH_FORMATS[:4]],
    "direct graph store": [f.media_type for f in GRAPH_FORMATS[:4]],
    "sparql construct": [f.media_type for f in GRAPH_FORMATS],
    "service description": [f.media_type for f in GRAPH_FORMATS],
    "sparql select": [f.media_type for f in RESULT_FORMATS],
    "named query": [*(f.media_type for f in RESULT_FORMATS), "text/html"],
    "query library": ["application/json", "text/html"],
    "search": ["application/json", "text/html"],
}

ALL_ROUTES = {**GRAPH_ROUTES, **RESULT_ROUTES,
              "query library": lambda client, headers: client.get("/queries", headers=headers),
              "search": lambda client, headers: client.get("/search", query_string={"q": "x"},
                                                           headers=headers)}


@pytest.mark.parametrize("accept", UNKNOWN)
def test_nothing_acceptable_is_the_same_406_everywhere(client: Any, accept: str) -> None:
    for name, send in ALL_ROUTES.items():
        response = send(client, {"Accept": accept})
        assert response.status_code == 406, (name, response.get_data(as_text=True)[:300])
        error = response.get_json()["error"]
        assert set(error) == {"status", "code", "message", "offered"}, name
        assert (error["status"], error["code"]) == (406, "not-acceptable"), name
        assert error["message"].startswith(f"none of the acceptable media types ({accept})")
        assert error["offered"] == OFFERED[name], name


@pytest.mark.parametrize("path", ["/doc/id/country/CHN", "/graph-store?graph=" + ONTOLOGY_GRAPH,
                                  "/queries/graphs-overview", "/queries", "/search?q=x"])
def test_an_unknown_format_parameter_is_the_same_406(client: Any, path: str) -> None:
    joiner = "&" if "?" in path else "?"
    response = client.get(f"{path}{joiner}format=png")
    assert response.status_code == 406
    error = response.get_json()["error"]
    assert set(error) == {"status", "code", "message", "offered", "parameter"}
    assert error["parameter"] == "format"
    assert error["message"].startswith("format 'png' is not offered for this answer")
