"""Hypothesis fuzzing against a running disk-backed server.

Invariants for every input: no 5xx other than the documented 503 query timeout, the
service keeps answering, and requests without a valid token never change the data.
``BORDERKG_FUZZ_EXAMPLES`` sets the examples per family (default 150, ~30 s in all).
"""
from __future__ import annotations

import os
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import TOKEN

from .conftest import Endpoint, summary

EXAMPLES = int(os.environ.get("BORDERKG_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
SCRATCH = "https://w3id.org/borderkg/graph/fuzz-scratch"

FRAGMENTS = [
    "SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "[", "]", ".", ";",
    ",", "*", "?s", "?p", "?o", "$x", "<http://example.org/a>", "<file:///etc/passwd>",
    "SERVICE", "SILENT", "LOAD", "FROM", "NAMED", "GRAPH", "OPTIONAL", "UNION", "MINUS",
    "FILTER", "BIND", "AS", "VALUES", "GROUP BY", "ORDER BY", "LIMIT 5", "OFFSET 2", "COUNT",
    "PREFIX ex: <http://example.org/>", "ex:p", "BASE <http://b/>", '"lit"', "'x'@en",
    '"""long\nstring"""', "1", "2.5", "-3e4", "true", "a", "^^", "<<", ">>", "#comment\n",
    "\\u0053ERVICE", "INSERT DATA", "DELETE WHERE", "WITH", "USING", "DROP ALL", "CLEAR",
    "<http://127.0.0.1:1/>", "?", "\u00e9", "\x00", "\ud7ff", "REGEX(?o, \"(a+)+$\")",
]
SEEDS = [
    "SELECT * WHERE { ?s ?p ?o } LIMIT 3",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    "ASK { ?s a ?type }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2",
    "PREFIX bkg: <https://w3id.org/borderkg/def/> SELECT ?x WHERE { ?x a bkg:Agency }",
]
UPDATE_SEEDS = [
    "INSERT DATA { <http://example.org/a> <http://example.org/p> 1 }",
    "DELETE WHERE { ?s ?p ?o }",
    "DROP ALL",
    "CLEAR DEFAULT",
    "LOAD <file:///etc/passwd>",
]


def acceptable(response: requests.Response) -> bool:
    if response.status_code < 500:
        return True
    return response.status_code == 503 and "query-timeout" in response.text


def mutated(seeds: list[str]) -> st.SearchStrategy[str]:
    """A seed with random slices deleted, duplicated or replaced."""
    @st.composite
    def build(draw: Any) -> str:
        text = draw(st.sampled_from(seeds))
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(text)))
            j = draw(st.integers(i, min(len(text), i + 8)))
            text = text[:i] + draw(st.sampled_from(["", text[i:j] * 2, *FRAGMENTS])) + text[j:]
        return text

    return build()


SPARQL = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(" ".join),
    mutated(SEEDS),
    st.text(max_size=200),
)
UPDATES = st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(" ".join),
                    mutated(UPDATE_SEEDS), st.text(max_size=200))


def run_family(endpoint: Endpoint, family: str, strategy: st.SearchStrategy[Any],
               send: Any) -> None:
    tried, failures = [0], []

    @FUZZ
    @given(strategy)
    def one(value: Any) -> None:
        tried[0] += 1
        response = send(value)
        if not acceptable(response):
            failures.append((value, response.status_code, response.text[:300]))

    with endpoint.intact():
        one()
    summary(family, tried[0], len(failures))
    assert not failures, failures[:5]


def test_fuzz_queries(endpoint: Endpoint) -> None:
    run_family(endpoint, "fuzz sparql queries", st.tuples(SPARQL, st.booleans()),
               lambda v: endpoint.query(v[0], method="GET" if v[1] else "POST"))


def test_fuzz_updates_without_valid_token(endpoint: Endpoint) -> None:
    tokens = st.sampled_from([None, "", TOKEN + "x", TOKEN.upper(), "Bearer", TOKEN[:-1]])
    run_family(endpoint, "fuzz sparql updates (no valid token)", st.tuples(UPDATES, tokens),
               lambda v: endpoint.update(v[0], token=v[1]))


MEDIA_TYPES = ["text/turtle", "application/n-triples", "application/ld+json",
               "application/rdf+xml", "application/trig", "application/n-quads",
               "application/sparql-query", "application/sparql-update",
               "application/x-www-form-urlencoded", "multipart/form-data", "text/plain",
               "*/*", "", "text/turtle; charset=latin-1", "text/turtle; charset=utf-16",
               "application/sparql-results+json;q=0.5, text/csv;q=0.9", "garbage/;;;"]
BODIES = st.one_of(st.binary(max_size=300), st.sampled_from([
    b"<http://a> <http://b> <http://c> .", b"<http://a> <http://b> <http://c> <http://g> .",
    b'{"@id": "http://a", "http://b": "c"}', b'{"@context": "http://127.0.0.1:1/"}',
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "a">]><r>&a;</r>',
    b"@prefix : <http://e/> . :a :b ( ( ( :c ) ) ) .", "\ufeff<a> <b> <c> .".encode("utf-16"),
]))


def test_fuzz_graph_store_bodies(endpoint: Endpoint) -> None:
    url = endpoint.graph_store()
    tokens = st.sampled_from([None, TOKEN + "x", TOKEN])

    def send(value: Any) -> requests.Response:
        method, media_type, body, token = value
        headers = {"Content-Type": media_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = requests.request(method, url, params={"graph": SCRATCH}, data=body,
                                    headers=headers, timeout=30)
        if token == TOKEN and response.status_code < 300:  # keep the data unchanged
            requests.delete(url, params={"graph": SCRATCH}, timeout=30,
                            headers={"Authorization": f"Bearer {TOKEN}"})
        return response

    strategy = st.tuples(st.sampled_from(["PUT", "POST"]), st.sampled_from(MEDIA_TYPES),
                         BODIES, tokens)
    run_family(endpoint, "fuzz graph store bodies", strategy, send)


HEADER_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126),
                      max_size=60).map(str.strip)


def test_fuzz_headers(endpoint: Endpoint) -> None:
    def send(value: Any) -> requests.Response:
        accept, content_type, authorization, text = value
        headers = {"Accept": accept, "Content-Type": content_type,
                   "Authorization": authorization}
        return requests.post(endpoint.url + "/sparql", data=text.encode("utf-8"),
                             headers=headers, timeout=30)

    strategy = st.tuples(st.one_of(st.sampled_from(MEDIA_TYPES), HEADER_TEXT),
                         st.one_of(st.sampled_from(MEDIA_TYPES), HEADER_TEXT),
                         st.one_of(st.sampled_from(["", "Bearer", f"Basic {TOKEN}",
                                                    f"bearer {TOKEN}x"]), HEADER_TEXT),
                         st.one_of(st.sampled_from(SEEDS + UPDATE_SEEDS), SPARQL))
    run_family(endpoint, "fuzz headers", strategy, send)
