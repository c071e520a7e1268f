"""Content negotiation as tables: Accept parsing, q-values, wildcards, ``format=``."""
from __future__ import annotations

import pytest

from graph.errors import NotAcceptable
from graph.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS
from server.negotiation import choose, negotiate, parse_accept


def test_parse_accept_reads_quality_parameters_and_skips_garbage() -> None:
    ranges = parse_accept('text/turtle;q=0.5, application/ld+json;profile="x", bogus, */*;q=abc')
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "turtle", 0.5), ("application", "ld+json", 1.0), ("*", "*", 0.0)]
    assert ranges[1].params == (("profile", "x"),) and ranges[1].specificity == 3


@pytest.mark.parametrize("accept, expected", [
    (None, "json"),
    ("", "json"),
    ("*/*", "json"),
    ("application/sparql-results+xml", "xml"),
    ("application/json", "json"),
    ("text/xml", "xml"),
    ("text/*", "csv"),
    ("text/*, text/tab-separated-values", "tsv"),
    ("text/csv;q=0.5, application/sparql-results+xml", "xml"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.4", "csv"),
    ("*/*;q=0.1, text/tab-separated-values;q=0.2", "tsv"),
    ("application/sparql-results+json;q=0, */*", "xml"),
    ("text/csv, text/tab-separated-values", "csv"),
    ("text/tab-separated-values, text/csv", "tsv"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "xml"),
])
def test_results_table(accept: str | None, expected: str) -> None:
    assert negotiate(RESULT_FORMATS, accept)[0].name == expected


@pytest.mark.parametrize("accept, expected, media_type", [
    ("*/*", "turtle", "text/turtle"),
    ("application/*", "ntriples", "application/n-triples"),
    ("text/plain", "ntriples", "text/plain"),
    ("application/rdf+xml, text/turtle;q=0.9", "rdfxml", "application/rdf+xml"),
    ("application/x-turtle", "turtle", "application/x-turtle"),
    ("application/ld+json", "jsonld", "application/ld+json"),
])
def test_graph_table_answers_with_the_type_asked_for(accept: str, expected: str,
                                                     media_type: str) -> None:
    fmt, chosen = negotiate(GRAPH_FORMATS, accept)
    assert (fmt.name, chosen) == (expected, media_type)


def test_more_specific_range_sets_the_quality() -> None:
    # text/turtle is excluded by its own range even though text/* accepts it
    assert choose(["text/turtle", "application/n-triples"],
                  "text/*;q=1, text/turtle;q=0, */*;q=0.5") == "application/n-triples"


@pytest.mark.parametrize("value, expected", [
    ("json", "json"), ("XML", "xml"), ("csv", "csv"), ("tsv", "tsv"), ("srj", "json"),
    ("application/sparql-results+xml", "xml"),
])
def test_format_parameter_overrides_accept(value: str, expected: str) -> None:
    assert negotiate(RESULT_FORMATS, "text/csv", value)[0].name == expected


def test_format_parameter_names_graph_formats() -> None:
    names = ["turtle", "ntriples", "jsonld", "rdfxml", "trig", "nquads"]
    assert [negotiate(GRAPH_FORMATS, None, n)[0].name for n in names] == names
    assert negotiate(DATASET_FORMATS, None, "nq")[0].name == "nquads"


def test_nothing_acceptable_lists_what_is_offered() -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate(RESULT_FORMATS, "image/png, text/turtle")
    assert caught.value.details["offered"] == [f.media_type for f in RESULT_FORMATS]
    assert "text/csv" in caught.value.message


def test_unknown_format_parameter_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable) as caught:
        negotiate(RESULT_FORMATS, None, "turtle")
    assert caught.value.details["parameter"] == "format"


def test_query_endpoint_uses_the_tables(client) -> None:  # type: ignore[no-untyped-def]
    ask = client.get("/sparql", query_string={"query": "ASK {}"},
                     headers={"Accept": "text/tab-separated-values"})
    assert ask.status_code == 200 and ask.content_type.startswith("text/tab-separated-values")
    assert ask.data == b"?_askResult\ntrue\n"
    refused = client.get("/sparql", query_string={"query": "ASK {}"},
                         headers={"Accept": "text/turtle"})
    assert refused.status_code == 406
    assert "application/sparql-results+json" in refused.get_json()["error"]["offered"]


@pytest.mark.parametrize("value, expected", [("json-ld", "jsonld"), ("rdf+xml", "rdfxml"),
                                             ("n3", "turtle"), ("json", "jsonld")])
def test_client_format_names_for_graphs(value: str, expected: str) -> None:
    assert negotiate(GRAPH_FORMATS, "*/*", value)[0].name == expected
