"""The SPARQL 1.1 Protocol over real HTTP: every request shape, the dataset parameters,
and the status each malformed request must get (protocol sections 2.1, 2.2 and 2.3)."""
from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import requests

from .conftest import AUTH, select, update

COUNT_CLASSES = ("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a "
                 "<http://www.w3.org/2002/07/owl#Class> }")
DIRECT_QUERY = {"Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json"}


def classes(response: requests.Response) -> int:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def error(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["status"] == status and body["message"]
    return body


# -- the three ways to send a query ----------------------------------------------------------
def test_query_by_get_post_form_and_post_direct_agree(sparql: str) -> None:
    by_get = classes(requests.get(sparql, params={"query": COUNT_CLASSES}, timeout=30))
    by_form = classes(requests.post(sparql, data={"query": COUNT_CLASSES}, timeout=30))
    direct = classes(requests.post(sparql, data=COUNT_CLASSES.encode(), headers=DIRECT_QUERY,
                                   timeout=30))
    assert by_get == by_form == direct > 10


def test_direct_post_with_utf8_charset_and_non_ascii_text(sparql: str) -> None:
    text = 'SELECT ?x WHERE { BIND("Décision — 决定" AS ?x) }'
    response = requests.post(sparql, data=text.encode("utf-8"), timeout=30, headers={
        "Content-Type": "application/sparql-query; charset=UTF-8"})
    assert response.json()["results"]["bindings"][0]["x"]["value"] == "Décision — 决定"


def test_head_of_a_get_query_has_headers_and_no_body(sparql: str) -> None:
    response = requests.head(sparql, params={"query": COUNT_CLASSES}, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/sparql-results+json"
    assert response.content == b""


# -- malformed requests ----------------------------------------------------------------------
def test_wrong_method_is_405_with_allow(sparql: str) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        response = requests.request(method, sparql, data=COUNT_CLASSES, timeout=30)
        body = error(response, 405)
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
        assert method in body["message"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json",
                                          "application/sparql-results+json"])
def test_post_without_a_protocol_content_type_is_415(sparql: str,
                                                     content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = requests.post(sparql, data=COUNT_CLASSES.encode(), headers=headers, timeout=30)
    if content_type is None:  # requests sends no Content-Type for raw bytes
        assert "Content-Type" not in response.request.headers
    body = error(response, 415)
    assert "application/sparql-query" in body["message"]


def test_several_query_parameters_are_400(sparql: str) -> None:
    twice = [("query", COUNT_CLASSES), ("query", "ASK {}")]
    body = error(requests.get(sparql, params=twice, timeout=30), 400)
    assert "exactly one 'query'" in body["message"]
    error(requests.post(sparql, data=twice, timeout=30), 400)


def test_query_in_url_of_a_direct_post_is_400(sparql: str) -> None:
    response = requests.post(sparql, params={"query": "ASK {}"}, data=b"ASK {}",
                             headers=DIRECT_QUERY, timeout=30)
    assert "is the body" in error(response, 400)["message"]


def test_query_and_update_together_are_400(sparql: str) -> None:
    response = requests.post(sparql, data={"query": "ASK {}", "update": "CLEAR ALL"},
                             headers=AUTH, timeout=30)
    assert "not both" in error(response, 400)["message"]
    assert select(sparql, COUNT_CLASSES)[0]["n"]["value"] != "0"


def test_update_by_get_is_refused(sparql: str) -> None:
    response = requests.get(sparql, params={"update": "CLEAR ALL"}, headers=AUTH, timeout=30)
    assert "POST" in error(response, 400)["message"]
    assert select(sparql, COUNT_CLASSES)[0]["n"]["value"] != "0"


@pytest.mark.parametrize("content_type, body", [
    ("application/sparql-query", 'ASK { ?s ?p "caf\xe9" }'.encode("latin-1")),
    ("application/sparql-query; charset=ISO-8859-1", 'ASK { ?s ?p "caf\xe9" }'.encode("latin-1")),
    ("application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16")),
    ("application/x-www-form-urlencoded", b"query=ASK%20%7B%3Fs%20%3Fp%20%22caf%E9%22%7D"),
    ("application/x-www-form-urlencoded", b'query=ASK {?s ?p "caf\xe9"}'),
])
def test_non_utf8_bodies_are_400(sparql: str, content_type: str, body: bytes) -> None:
    response = requests.post(sparql, data=body, headers={"Content-Type": content_type},
                             timeout=30)
    assert "UTF-8" in error(response, 400)["message"]


def test_non_utf8_query_string_is_400(sparql: str) -> None:
    response = requests.get(sparql + "?query=ASK%20%7B%22%E9%22%20%3Fp%20%3Fo%7D", timeout=30)
    assert "UTF-8" in error(response, 400)["message"]


def test_syntax_error_says_where_and_what_was_expected(sparql: str) -> None:
    text = "SELECT ?s\nWHERE {\n  ?s ?p \n}"
    body = error(requests.get(sparql, params={"query": text}, timeout=30), 400)
    assert body["code"] == "syntax-error"
    assert body["line"] == 4 and body["column"] in (1, 2)
    assert body["expected"]


def test_update_syntax_error_is_400(sparql: str) -> None:
    body = error(update(sparql, "INSERT DATA { <http://example.org/a> }"), 400)
    assert body["code"] == "syntax-error" and "line" in body


def test_neither_query_nor_update_in_a_post_is_400(sparql: str) -> None:
    error(requests.post(sparql, data={"other": "x"}, timeout=30), 400)


def test_dataset_parameters_must_be_iris(sparql: str) -> None:
    response = requests.get(sparql, params={"query": "ASK {}", "default-graph-uri": "not an iri"},
                            timeout=30)
    assert error(response, 400)["parameter"] == "default-graph-uri"


# -- the protocol's RDF dataset --------------------------------------------------------------
@pytest.fixture
def two_graphs(sparql: str, fresh_graph: str) -> tuple[str, str]:
    a, b = fresh_graph + "/a", fresh_graph + "/b"
    p = "<http://example.org/p>"
    response = update(sparql, f'INSERT DATA {{ GRAPH <{a}> {{ <{a}> {p} "in a" }}'
                              f' GRAPH <{b}> {{ <{b}> {p} "in b" }} }}')
    assert response.status_code == 204, response.text
    return a, b


def test_default_graph_uri_overrides_from(sparql: str, two_graphs: tuple[str, str]) -> None:
    a, b = two_graphs
    text = f"SELECT ?o FROM <{a}> WHERE {{ ?s <http://example.org/p> ?o }}"
    assert [r["o"]["value"] for r in select(sparql, text)] == ["in a"]
    overridden = select(sparql, text, **{"default-graph-uri": b})
    assert [r["o"]["value"] for r in overridden] == ["in b"]


def test_several_default_graph_uris_are_merged(sparql: str, two_graphs: tuple[str, str]) -> None:
    a, b = two_graphs
    rows = requests.post(sparql, timeout=30, data=[
        ("query", "SELECT ?o WHERE { ?s <http://example.org/p> ?o } ORDER BY ?o"),
        ("default-graph-uri", a), ("default-graph-uri", b)]).json()["results"]["bindings"]
    assert [r["o"]["value"] for r in rows] == ["in a", "in b"]


def test_named_graph_uri_sets_the_named_graphs_and_empties_the_default(
        sparql: str, two_graphs: tuple[str, str]) -> None:
    a, b = two_graphs
    named = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert [r["g"]["value"] for r in select(sparql, named, **{"named-graph-uri": b})] == [b]
    default = "SELECT ?s WHERE { ?s ?p ?o }"
    assert select(sparql, default, **{"named-graph-uri": b}) == []


def test_using_graph_uri_sets_the_update_dataset(sparql: str, two_graphs: tuple[str, str],
                                                 fresh_graph: str) -> None:
    a, _ = two_graphs
    target = fresh_graph + "/copy"
    text = f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    assert update(sparql, text, **{"using-graph-uri": a}).status_code == 204
    rows = select(sparql, f"SELECT ?o WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}")
    assert [r["o"]["value"] for r in rows] == ["in a"]


def test_using_named_graph_uri(sparql: str, two_graphs: tuple[str, str],
                               fresh_graph: str) -> None:
    _, b = two_graphs
    target = fresh_graph + "/names"
    text = (f"INSERT {{ GRAPH <{target}> {{ ?g <http://example.org/seen> true }} }} "
            "WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert update(sparql, text, **{"using-named-graph-uri": b}).status_code == 204
    rows = select(sparql, f"SELECT ?g WHERE {{ GRAPH <{target}> {{ ?g ?p ?o }} }}")
    assert [r["g"]["value"] for r in rows] == [b]


def test_update_where_sees_the_union_default_graph(sparql: str, two_graphs: tuple[str, str],
                                                   fresh_graph: str) -> None:
    a, b = two_graphs
    target = fresh_graph + "/union"
    text = (f"INSERT {{ GRAPH <{target}> {{ ?s <http://example.org/copied> ?o }} }} "
            f"WHERE {{ ?s <http://example.org/p> ?o FILTER(?s IN (<{a}>, <{b}>)) }}")
    assert update(sparql, text).status_code == 204
    rows = select(sparql, f"SELECT ?o WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }} ORDER BY ?o")
    assert [r["o"]["value"] for r in rows] == ["in a", "in b"]


@pytest.mark.parametrize("clause", ["USING <http://example.org/g>",
                                    "USING NAMED <http://example.org/g>"])
def test_using_in_text_with_using_graph_uri_is_400(sparql: str, clause: str) -> None:
    text = f"INSERT {{ ?s ?p ?o }} {clause} WHERE {{ ?s ?p ?o }}"
    for parameter in ("using-graph-uri", "using-named-graph-uri"):
        body = error(update(sparql, text, **{parameter: "http://example.org/other"}), 400)
        assert "may not be combined" in body["message"]


def test_with_in_text_with_using_graph_uri_is_400(sparql: str) -> None:
    text = "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    body = error(update(sparql, text, **{"using-graph-uri": "http://example.org/g"}), 400)
    assert body["conflict"] == ["WITH"]


def test_query_dataset_parameters_on_an_update_are_400(sparql: str) -> None:
    response = update(sparql, "CLEAR GRAPH <http://example.org/none>",
                      **{"default-graph-uri": "http://example.org/g"})
    assert error(response, 400)["parameter"] == "default-graph-uri"


def test_relative_iris_resolve_against_the_endpoint(sparql: str, fresh_graph: str) -> None:
    text = f'INSERT DATA {{ GRAPH <{fresh_graph}> {{ <relative> <p> "v" }} }}'
    assert update(sparql, text).status_code == 204
    rows = select(sparql, f"SELECT ?s ?p WHERE {{ GRAPH <{fresh_graph}> {{ ?s ?p ?o }} }}")
    base = sparql.rsplit("/", 1)[0]
    assert rows[0]["s"]["value"] == base + "/relative"


# -- caching headers ---------------------------------------------------------------------------
def test_etag_and_304_until_the_store_changes(sparql: str, fresh_graph: str) -> None:
    params = {"query": COUNT_CLASSES}
    first = requests.get(sparql, params=params, timeout=30)
    assert first.headers["Vary"] == "Accept" and first.headers["ETag"]
    again = requests.get(sparql, params=params, headers={"If-None-Match": first.headers["ETag"]},
                         timeout=30)
    assert again.status_code == 304 and again.content == b""
    as_csv = requests.get(sparql, params={**params, "format": "csv"}, timeout=30)
    assert as_csv.headers["ETag"] != first.headers["ETag"]
    update(sparql, f"INSERT DATA {{ GRAPH <{fresh_graph}> {{ <{fresh_graph}> a <x:y> }} }}")
    changed = requests.get(sparql, params=params, headers={"If-None-Match": first.headers["ETag"]},
                           timeout=30)
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]


def test_small_answers_have_a_content_length_and_large_ones_stream(sparql: str) -> None:
    small = requests.get(sparql, params={"query": "ASK {}"}, timeout=30,
                         headers={"Accept": "application/sparql-results+json"})
    assert small.headers["Content-Length"] == str(len(small.content))
    assert "chunked" not in small.headers.get("Transfer-Encoding", "")
    many = "SELECT * WHERE { ?s ?p ?o VALUES ?k { 1 2 } } LIMIT 3000"
    large = requests.get(sparql, params={"query": many}, timeout=60,
                         headers={"Accept": "text/csv"})
    assert large.status_code == 200
    assert large.headers.get("Transfer-Encoding") == "chunked"
    assert len(list(csv.reader(io.StringIO(large.text)))) == 3001


# -- graphs without triples, SILENT ------------------------------------------------------------
def test_dataset_parameters_may_name_graphs_without_triples(sparql: str,
                                                           fresh_graph: str) -> None:
    """A graph the store does not hold is an empty graph (SPARQL 1.1 Protocol 2.1.4)."""
    assert select(sparql, "SELECT * WHERE { ?s ?p ?o }",
                  **{"default-graph-uri": fresh_graph}) == []
    assert select(sparql, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                  **{"named-graph-uri": fresh_graph}) == []
    ask = requests.get(sparql, params={"query": "ASK { }", "default-graph-uri": fresh_graph},
                       headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert ask.status_code == 200 and ask.json()["boolean"] is True


def test_using_graph_uri_may_name_the_graph_the_update_makes(sparql: str,
                                                            fresh_graph: str) -> None:
    made, copy = fresh_graph + "/made", fresh_graph + "/copy"
    text = (f"INSERT DATA {{ GRAPH <{made}> {{ <{made}> <http://example.org/p> 1 }} }} ; "
            f"INSERT {{ GRAPH <{copy}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}")
    response = update(sparql, text, **{"using-graph-uri": made})
    assert response.status_code == 204, response.text
    assert len(select(sparql, f"SELECT * WHERE {{ GRAPH <{copy}> {{ ?s ?p ?o }} }}")) == 1


def test_drop_and_clear_of_a_graph_without_triples_are_204(sparql: str,
                                                           fresh_graph: str) -> None:
    for text in (f"DROP GRAPH <{fresh_graph}>", f"CLEAR GRAPH <{fresh_graph}>"):
        assert update(sparql, text).status_code == 204, text
    error(update(sparql, f"CREATE GRAPH <{fresh_graph}> ; CREATE GRAPH <{fresh_graph}>"), 400)
    assert update(sparql, f"DROP GRAPH <{fresh_graph}>").status_code == 204


def test_a_skipped_silent_service_says_so_from_the_cache_too(sparql: str) -> None:
    text = "SELECT ?x WHERE { BIND(1 AS ?x) SERVICE SILENT <http://192.0.2.1/s> { ?a ?b ?c } }"
    caches = []
    for _ in range(2):  # the second answer comes from the response cache
        response = requests.get(sparql, params={"query": text}, timeout=30,
                                headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.text
        caches.append(response.headers.get("X-BorderKG-Cache"))
        assert response.headers["X-BorderKG-Service-Skipped"] == "<http://192.0.2.1/s>"
        assert response.json()["results"]["bindings"] == [
            {"x": {"type": "literal", "value": "1",
                   "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]
    assert caches[1] == "hit", caches


def test_a_skipped_silent_load_is_204_and_says_so(sparql: str, fresh_graph: str) -> None:
    response = update(sparql, f"LOAD SILENT <http://192.0.2.1/d.ttl> INTO GRAPH <{fresh_graph}>")
    assert response.status_code == 204, response.text
    assert response.headers["X-BorderKG-Load-Skipped"] == "<http://192.0.2.1/d.ttl>"
    assert select(sparql, f"SELECT * WHERE {{ GRAPH <{fresh_graph}> {{ ?s ?p ?o }} }}") == []
    error(update(sparql, "LOAD <http://192.0.2.1/d.ttl>"), 403)
