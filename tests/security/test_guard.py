"""The query-safety policy, called directly: every syntax variant of SERVICE, LOAD and
dataset clauses is refused, and the word SERVICE where it is not a keyword is not; the
attacks once reported against the lexer stay refused (a few over HTTP too)."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import Store

from graph.errors import BadRequest, Forbidden, QuerySyntaxError
from graph.guard import (
    MAX_ELEMENTS,
    MAX_NESTING,
    admit,
    check_graph_iris,
    check_query,
    check_shape,
    check_update,
)
from graph.settings import load_settings
from graph.sparql_text import analyse
from graph.store import OxigraphStore

from .conftest import Endpoint, error_of

OWN = "https://w3id.org/borderkg/graph/background"
P = "<http://example.org/p>"

REFUSED_QUERIES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "select * where { service <http://localhost/> { ?s ?p ?o } }",
    "SELECT * WHERE { SeRvIcE <file:///etc/passwd> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT $endpoint { ?s ?p ?o } }",
    "PREFIX loop: <http://127.0.0.1/> SELECT * WHERE { SERVICE loop:sparql { ?s ?p ?o } }",
    "BASE <http://169.254.169.254/> SELECT * WHERE { SERVICE <latest/meta-data> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE <http://10.0.0.1/> { ?s ?p ?x } } }",
    "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <http://[::1]/> { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT ?s WHERE { { SELECT ?s WHERE { SERVICE <http://127.1/> "
    "{ ?s ?p ?o } } } } } }",
    "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { SERVICE <http://127.0.0.1/> { ?s ?p ?o } } }",
    "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <http://127.0.0.1/> { ?s ?p ?o } } }",
    "SELECT * WHERE {\n  SERVICE # a comment between keyword and IRI\n <http://127.0.0.1/> {} }",
    "ASK { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }",
    "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }",
    "DESCRIBE ?s WHERE { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }",
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <file:///etc/passwd> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }",
    f"SELECT * FROM <{OWN}> FROM <http://example.org/elsewhere> WHERE {{ ?s ?p ?o }}",
    "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }",
    # a name ended one character early once let \\' open a "string" hiding the SERVICE
    *(f"PREFIX p: <http://example.org/> SELECT * WHERE {{ ?s ?p p:a{c}\\' . "
      "SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } #'" for c in "\u00b7\u0300\u2100\u3001"),
    # keywords the engine reads run together with a prefixed name
    "PREFIX : <http://127.0.0.1/> SELECT * WHERE { SERVICE:sparql { ?s ?p ?o } }",
    "PREFIX loop: <http://127.0.0.1/> SELECT * WHERE { SERVICEloop:sparql { ?s ?p ?o } }",
    "PREFIX x: <http://127.0.0.1/> SELECT * WHERE { SERVICE SILENTx:sparql { ?s ?p ?o } }",
    "PREFIX f: <file:///etc/> SELECT * FROMf:passwd WHERE { ?s ?p ?o }",
    "PREFIX f: <file:///etc/> SELECT * FROM NAMEDf:passwd WHERE { ?s ?p ?o }",
    "PREFIX g: <https://w3id.org/borderkg/graph/> PREFIXg: <file:///etc/> "
    "SELECT * FROM g:background WHERE { ?s ?p ?o }",
    # the engine ends a local name after its first run of dots
    "PREFIX p: <http://example.org/> SELECT * WHERE { ?s ?p p:a.b.SERVICE <http://127.0.0.1/> "
    "{ ?s ?p ?o } }",
    # relative SERVICE IRIs, resolved as the engine resolves them
    "BASE <http://example.org/a/> SELECT * WHERE { SERVICE <//127.0.0.1/sparql> { } }",
    "BASE <http://example.org/a/> SELECT * WHERE { SERVICE <http:127.0.0.1/sparql> { } }",
]

REFUSED_UPDATES = [
    "LOAD <file:///etc/passwd>",
    "LOAD SILENT <file:///etc/passwd> INTO GRAPH <http://example.org/g>",
    "load <http://127.0.0.1:9/data.ttl>",
    "LOAD <https://example.org/data.ttl>",
    f"INSERT DATA {{ <http://a> {P} 1 }} ; LOAD <file:///etc/shadow>",
    f"INSERT {{ ?s {P} 1 }} WHERE {{ SERVICE <http://127.0.0.1/> {{ ?s ?p ?o }} }}",
    f"DELETE {{ ?s ?p ?o }} USING <{OWN}> WHERE {{ SERVICE ?x {{ ?s ?p ?o }} }}",
    f"WITH <{OWN}> DELETE {{ ?s ?p ?o }} WHERE {{ SERVICE <http://127.0.0.1/> {{ ?s ?p ?o }} }}",
    f"INSERT {{ ?s {P} 1 }} USING <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
    f"INSERT {{ ?s {P} 1 }} USING NAMED <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
    f"WITH <file:///etc/passwd> INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
    f"WITH <http://127.0.0.1/g> INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
    "PREFIX f: <file:///etc/> LOADf:passwd",
    f"PREFIX x: <http://127.0.0.1/> WITHx:g INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
]

ALLOWED_QUERIES = [
    "SELECT * WHERE { ?s ?p 'SERVICE <http://127.0.0.1/>' }",
    'SELECT * WHERE { ?s ?p """LOAD <file:///etc/passwd>\nSERVICE ?x""" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1/> and LOAD <file:///x>",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:SERVICE ?service }",
    "SELECT ?service WHERE { ?service a <http://example.org/Service> }",
    "SELECT * WHERE { <http://example.org/SERVICE> ?p ?o }",
    f"SELECT * FROM <{OWN}> WHERE {{ ?s ?p ?o }}",
    f"SELECT * FROM NAMED <{OWN}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    "SELECT * WHERE { GRAPH <file:///etc/passwd> { ?s ?p ?o } }",  # matches, never fetches
    "PREFIX service: <http://example.org/s/> SELECT * WHERE { service:x ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o FILTER(?o<3&&?o>1) }",
    "PREFIX p: <http://example.org/> SELECT * WHERE { ?s ?p p:a\u00b7\\'b }",
    "SELECT * WHERE { ?s ?p 'it\\u0027s SERVICE <http://127.0.0.1/>' }",
]

ALLOWED_UPDATES = [
    f"INSERT DATA {{ <http://a> {P} 'SERVICE <http://127.0.0.1/> LOAD <file:///x>' }}",
    f"WITH <{OWN}> INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
    "WITH <https://w3id.org/borderkg/graph/scratch> INSERT { <http://a> <http://b> 1 } "
    "WHERE { }",
    f"INSERT {{ ?s {P} 1 }} USING <{OWN}> WHERE {{ ?s ?p ?o }}",
    "CLEAR SILENT GRAPH <http://example.org/g>",
]


@pytest.fixture(scope="module")
def store() -> Any:
    s = OxigraphStore(None)
    s.update(f"INSERT DATA {{ GRAPH <{OWN}> {{ <http://a> {P} 1 }} }}")
    return s


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return load_settings({"store": "memory"}, environ={})


@pytest.mark.parametrize("text", REFUSED_QUERIES)
def test_query_refused(text: str, settings: Any, store: Any) -> None:
    with pytest.raises(Forbidden) as caught:
        check_query(analyse(text, "query"), settings, store, text=text)
    assert caught.value.status == 403
    assert "refused" in caught.value.message


@pytest.mark.parametrize("text", REFUSED_UPDATES)
def test_update_refused(text: str, settings: Any, store: Any) -> None:
    with pytest.raises(Forbidden) as caught:
        check_update(analyse(text, "update"), settings, store, text=text)
    assert caught.value.status == 403


@pytest.mark.parametrize("text", ALLOWED_QUERIES)
def test_query_allowed(text: str, settings: Any, store: Any) -> None:
    check_query(analyse(text, "query"), settings, store, text=text)
    store.query(text)  # and the engine accepts it: the text is real SPARQL


@pytest.mark.parametrize("text", ALLOWED_UPDATES)
def test_update_allowed(text: str, settings: Any, store: Any) -> None:
    check_update(analyse(text, "update"), settings, store, text=text)


def test_allow_list_is_exact_host_match(store: Any) -> None:
    settings = load_settings({"store": "memory", "allowed_service_hosts": "Query.Example.org"},
                             environ={})
    ok = "SELECT * WHERE { SERVICE <https://query.example.org/sparql> { ?s ?p ?o } }"
    check_query(analyse(ok, "query"), settings, store)
    for host in ("https://sub.query.example.org/", "https://query.example.org.evil/",
                 "https://evil@query.example.org/", "ftp://query.example.org/",
                 "https://127.0.0.1/"):
        text = f"SELECT * WHERE {{ SERVICE <{host}> {{ ?s ?p ?o }} }}"
        with pytest.raises(Forbidden):
            check_query(analyse(text, "query"), settings, store)
    variable = "SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }"
    with pytest.raises(Forbidden, match="variable"):
        check_query(analyse(variable, "query"), settings, store)


def test_protocol_dataset_parameters(settings: Any, store: Any) -> None:
    check_graph_iris("default-graph-uri", [OWN], settings, store)
    with pytest.raises(Forbidden, match="never fetches"):
        check_graph_iris("named-graph-uri", [OWN, "file:///etc/passwd"], settings, store)


@pytest.mark.parametrize("text", [
    "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
    "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "SELECT * WHERE { ?s ?p ?o FILTER(" + " || ".join(["true"] * 10_000) + ") }",
    "SELECT * WHERE { " + " UNION ".join(["{?s ?p ?o}"] * 10_000) + " }",
    "SELECT * WHERE { " + " . ".join(f"?s <http://p> ?o{i}" for i in range(10_000)) + " }",
    "SELECT * WHERE { ?s " + "/".join(["<http://p>"] * 10_000) + " ?o }",
    "SELECT * WHERE { ?s ?p " + "[ <http://p> " * 10_000 + "?o" + " ]" * 10_000 + " }",
])
def test_shapes_that_crash_the_engine_are_refused(text: str) -> None:
    """Each of these crashed a Python process running Oxigraph (segmentation fault)."""
    with pytest.raises(BadRequest, match="too complex") as caught:
        check_shape(text)
    assert caught.value.status == 400


def test_flat_lists_are_not_limited() -> None:
    rows = " ".join(f"({i} {i})" for i in range(30_000))
    check_shape(f"SELECT * WHERE {{ VALUES (?a ?b) {{ {rows} }} }}")
    data = " ".join(f"<http://s{i}> <http://p> {i} ." for i in range(30_000))
    check_shape(f"INSERT DATA {{ {data} }}")
    check_shape("SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" +
                ",".join(str(i) for i in range(30_000)) + ")) }")
    check_shape("SELECT * WHERE " + "{" * MAX_NESTING + "}" * MAX_NESTING)
    assert MAX_ELEMENTS >= 1000


# -- the reported attacks ------------------------------------------------------------------
#: PN_CHARS that Python's \\w does not match, and the ranges named in the report
NAME_CHARS = "\u00b7\u0300\u036f\u200c\u200d\u203f\u2100\u2e80\u3001\ufe10\u00c0\u00d6\u037f"
HIDDEN = ("PREFIX p: <http://example.org/> SELECT * WHERE {{ VALUES ?v {{ 1 }} "
          "OPTIONAL {{ ?s ?p p:a{char}\\' }} {hidden} }} #'")
DEEP = "{" * 5_000 + "}" * 5_000
DEEP_CALLS = ["SELECT * WHERE { BIND(1 AS ?a) FILTER(?a<" + "(" * 5_000 + "1" + ")" * 5_000
              + "&&?a>0) }",
              "PREFIX x: <urn:x:> SELECT * WHERE { FILTERx:f(?a<" + "(" * 5_000 + "1"
              + ")" * 5_000 + "&&?a>0) }"]


@pytest.fixture(scope="module")
def refusing_port() -> Iterator[int]:
    """A loopback port bound and never listening: a SERVICE call to it fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.parametrize("char", NAME_CHARS)
def test_a_service_after_a_name_with_an_escaped_quote_is_seen(
        char: str, settings: Any, store: Any, refusing_port: int) -> None:
    text = HIDDEN.format(char=char, hidden=f"SERVICE <http://127.0.0.1:{refusing_port}/> {{ }}")
    with pytest.raises(Forbidden, match="SERVICE"):
        admit(text, "query", settings, store)
    with pytest.raises(ConnectionRefusedError):  # the engine reads (and calls) it as well
        list(Store().query(text))  # type: ignore[arg-type]


@pytest.mark.parametrize("char", NAME_CHARS)
def test_nesting_after_a_name_with_an_escaped_quote_is_refused(char: str, settings: Any,
                                                               store: Any) -> None:
    with pytest.raises(BadRequest, match="too complex") as caught:
        admit(HIDDEN.format(char=char, hidden=DEEP), "query", settings, store)
    assert caught.value.status == 400


@pytest.mark.parametrize("text", DEEP_CALLS)
def test_nesting_between_less_than_and_greater_than_is_refused(text: str, settings: Any,
                                                               store: Any) -> None:
    """``<`` ... ``>`` around 5,000 brackets is a comparison for the engine, not an IRI."""
    with pytest.raises(BadRequest, match="too complex"):
        admit(text, "query", settings, store)


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1/> { ?s ?p ?o } }",
    "PREFIX p: <http://example.org/> SELECT * WHERE { ?s ?p p:a\\\" . SERVICE "
    "<http://127.0.0.1/> {} } #\"",
    "SELECT * WHERE { ?s ?p 'a\\uD800' }",
    "SELECT * WHERE { ?s ?p ?o } SERVICESILENT <http://127.0.0.1/> { }",
])
def test_what_cannot_be_lexed_with_certainty_is_a_syntax_error(text: str, settings: Any,
                                                                store: Any) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        admit(text, "query", settings, store)
    assert caught.value.status == 400 and caught.value.details["line"] == 1


def test_relative_service_iris_resolve_before_the_allow_list(store: Any) -> None:
    settings = load_settings({"store": "memory", "allowed_service_hosts": "allowed.example"},
                             environ={})
    allowed = ["BASE <http://allowed.example/a/> SELECT * WHERE { SERVICE <../sparql> { } }",
               "SELECT * WHERE { SERVICE <sparql> { } }"]
    for text in allowed:
        admit(text, "query", settings, store, base_iri="http://allowed.example/b/c")
    refused = ["BASE <http://allowed.example/> SELECT * WHERE { SERVICE <http:evil.example/> "
               "{ } }",
               "BASE <http://allowed.example/> SELECT * WHERE { SERVICE <//evil.example/> { } }",
               "BASE <//evil.example/> SELECT * WHERE { SERVICE <sparql> { } }",
               "BASE <x-foo://allowed.example/> SELECT * WHERE { SERVICE <sparql> { } }",
               "PREFIX e: <//evil.example/> SELECT * WHERE { SERVICE e:sparql { } }"]
    for text in refused:
        with pytest.raises(Forbidden, match="refused"):
            admit(text, "query", settings, store, base_iri="http://allowed.example/b/c")


def test_a_relative_dataset_iri_is_refused_or_resolved(settings: Any) -> None:
    store = OxigraphStore(None)
    store.update("INSERT DATA { GRAPH <http://h/g> { <http://a> <http://b> 1 } }")
    with pytest.raises(Forbidden, match="refused"):  # no base: the engine refuses <g> too
        admit("ASK FROM NAMED <g> {}", "query", settings, store)
    info = admit("ASK FROM NAMED <g> {}", "query", settings, store, base_iri="http://h/sparql")
    assert info.dataset == (("FROM NAMED", "http://h/g"),)
    with pytest.raises(Forbidden, match="refused"):  # decodes to a '>' inside the IRI
        admit("SELECT * FROM <http://h/g\\u003E> {}", "query", settings, store)


def test_a_relative_dataset_iri_over_http(endpoint: Endpoint) -> None:
    with endpoint.intact():
        response = endpoint.query("ASK FROM NAMED <g> {}")
        assert response.status_code == 403, response.text
        assert error_of(response)["iri"] == endpoint.url + "/g"


def test_hidden_nesting_is_refused_over_http_before_the_engine(endpoint: Endpoint) -> None:
    """5,000 nested groups crash the engine's parser; the guard answers 400 first."""
    with endpoint.intact():
        for text in [HIDDEN.format(char="\u00b7", hidden=DEEP), *DEEP_CALLS]:
            response = endpoint.query(text)
            assert response.status_code == 400, response.text
            assert "too complex" in error_of(response)["message"]


class _RemoteStore:
    """What the policy asks of a remote store: its kind, and which graphs it has."""

    backend = "remote"

    def contains_graph(self, graph: str) -> bool:
        return False


@pytest.mark.parametrize("text", [
    r"SELECT * WHERE { ?s ?p 'a\u0027 } SERVICE <http://x/> {} #' }",
    r"ASK { <http://e/\u0073> ?p ?o }"])
def test_codepoint_escapes_are_refused_for_the_remote_store(text: str, settings: Any) -> None:
    """An engine that decodes escapes before parsing would read another text."""
    with pytest.raises(BadRequest, match="escapes are refused"):
        admit(text, "query", settings, _RemoteStore())
