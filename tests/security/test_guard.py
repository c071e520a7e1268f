"""The query-safety policy, called directly: every syntax variant of SERVICE, LOAD and
dataset clauses that would reach outside is refused, and the word SERVICE where it is not
a keyword is not; graphs without triples are empty graphs on the embedded stores; SILENT
calls that are not allowed are skipped; the attacks once reported against the lexer stay
refused (a few over HTTP too)."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from pyoxigraph import Store

from graph.errors import BadRequest, Forbidden, QuerySyntaxError
from graph.settings import load_settings
from graph.sparql.policy import (
    MAX_ELEMENTS,
    MAX_NESTING,
    admit,
    admit_request,
    check_graph_iris,
    check_query,
    check_shape,
    check_update,
)
from graph.sparql.silent import SKIPPED
from graph.sparql.text import analyse
from graph.store.oxigraph import OxigraphStore

from ._oracle import Listener
from .conftest import Endpoint, error_of

OWN = "https://w3id.org/borderkg/graph/background"
P = "<http://example.org/p>"

REFUSED_QUERIES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
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
    "SELECT * FROM <FILE:///etc/passwd> WHERE { ?s ?p ?o }",
    "PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }",
    # a name ended one character early once let \\' open a "string" hiding the SERVICE
    *(f"PREFIX p: <http://example.org/> SELECT * WHERE {{ ?s ?p p:a{c}\\' . "
      "SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } #'" for c in "\u00b7\u0300\u2100\u3001"),
    # keywords the engine reads run together with a prefixed name
    "PREFIX : <http://127.0.0.1/> SELECT * WHERE { SERVICE:sparql { ?s ?p ?o } }",
    "PREFIX loop: <http://127.0.0.1/> SELECT * WHERE { SERVICEloop:sparql { ?s ?p ?o } }",
    "PREFIX x: <http://127.0.0.1/> SELECT * WHERE { SERVICE SILENTx:sparql { ?s ?p ?o } }",
    "PREFIX f: <file:///etc/> SELECT * FROMf:passwd WHERE { ?s ?p ?o }",
    # ... and after a boolean object, which the engine reads first (``false SERVICE x:...``)
    "PREFIX x: <http://127.0.0.1/> SELECT * WHERE { ?s ?p falseSERVICEx:sparql { } }",
    "PREFIX x: <http://127.0.0.1/> SELECT * WHERE { ?s ?p TRUESERVICESILENTx:sparql { } }",
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
    "load <http://127.0.0.1:9/data.ttl>",
    "LOAD <https://example.org/data.ttl>",
    f"INSERT DATA {{ <http://a> {P} 1 }} ; LOAD <file:///etc/shadow>",
    f"INSERT {{ ?s {P} 1 }} WHERE {{ SERVICE <http://127.0.0.1/> {{ ?s ?p ?o }} }}",
    f"DELETE {{ ?s ?p ?o }} USING <{OWN}> WHERE {{ SERVICE ?x {{ ?s ?p ?o }} }}",
    f"WITH <{OWN}> DELETE {{ ?s ?p ?o }} WHERE {{ SERVICE <http://127.0.0.1/> {{ ?s ?p ?o }} }}",
    f"INSERT {{ ?s {P} 1 }} USING <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
    f"INSERT {{ ?s {P} 1 }} USING NAMED <file:///etc/passwd> WHERE {{ ?s ?p ?o }}",
    f"WITH <file:///etc/passwd> INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
    "PREFIX f: <file:///etc/> LOADf:passwd",
    # a SERVICE inside a skipped SERVICE SILENT group is still decided on
    f"INSERT {{ ?s {P} 1 }} WHERE {{ SERVICE SILENT <http://a.example/> "
    "{ SERVICE <http://127.0.0.1/> { ?s ?p ?o } } }",
]

#: refused as written (``admit``), skipped by ``admit_request``: SILENT calls not allowed
SKIPPED_QUERIES = [
    "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "select * where { service silent <http://localhost/> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <file:///etc/passwd> { ?s ?p ?o } }",
    "PREFIX loop: <http://127.0.0.1/> SELECT * WHERE { SERVICE SILENT loop:sparql { ?s ?p ?o } }",
    "BASE <http://169.254.169.254/> SELECT * WHERE { SERVICE SILENT <latest/meta-data> { } }",
    "SELECT * WHERE { ?s ?p ?o OPTIONAL { SERVICE SILENT <http://10.0.0.1/> { ?s ?p ?x } } }",
    "SELECT * WHERE { SERVICE SILENT # a comment\n <http://u@127.0.0.1/> { } }",
    "ASK { SERVICE SILENT <http://127.0.0.1/> { ?s ?p ?o } }",
]

SKIPPED_UPDATES = [
    "LOAD SILENT <file:///etc/passwd> INTO GRAPH <http://example.org/g>",
    "LOAD SILENT <http://127.0.0.1:9/data.ttl>",
    "PREFIX d: <http://127.0.0.1:9/> LOAD SILENT d:data.ttl INTO GRAPH d:g",
    f"INSERT {{ ?s {P} 1 }} WHERE {{ SERVICE SILENT <http://127.0.0.1/> {{ ?s ?p ?o }} }}",
]

#: graphs that are not in the store: empty graphs on the embedded stores, refused on the
#: remote store (whose engine may fetch them)
ABSENT_GRAPH_QUERIES = [
    "SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }",
    f"SELECT * FROM <{OWN}> FROM <http://example.org/elsewhere> WHERE {{ ?s ?p ?o }}",
    "SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "PREFIX x: <http://127.0.0.1/> SELECT * FROMx:g WHERE { ?s ?p ?o }",
    "SELECT * FROM <urn:x:empty> WHERE { ?s ?p ?o }",
]

ABSENT_GRAPH_UPDATES = [
    f"WITH <http://127.0.0.1/g> INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
    f"PREFIX x: <http://127.0.0.1/> WITHx:g INSERT {{ <http://a> {P} 1 }} WHERE {{ }}",
    f"INSERT {{ ?s {P} 1 }} USING <http://example.org/none> WHERE {{ ?s ?p ?o }}",
    f"INSERT {{ ?s {P} 1 }} USING NAMED <http://example.org/none> WHERE {{ GRAPH ?g {{ }} }}",
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
def settings() -> Any:
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
    check_graph_iris("default-graph-uri", [OWN, "http://example.org/none"], settings, store)
    with pytest.raises(Forbidden, match="file:"):
        check_graph_iris("named-graph-uri", [OWN, "file:///etc/passwd"], settings, store)
    with pytest.raises(Forbidden, match="remote store"):
        check_graph_iris("default-graph-uri", ["http://example.org/none"], settings,
                         _RemoteStore())


# -- graphs without triples ------------------------------------------------------------------
@pytest.mark.parametrize("text", ABSENT_GRAPH_QUERIES)
def test_a_graph_not_in_the_store_is_an_empty_graph(text: str, settings: Any,
                                                    store: Any) -> None:
    info = admit(text, "query", settings, store)
    assert info.dataset and not any(store.contains_graph(iri) for _, iri in info.dataset
                                    if iri != OWN)
    rows = list(store.query(text))  # the engine answers: nothing matches in them
    assert len(rows) == (1 if OWN in text else 0)  # (the one triple of OWN)


@pytest.mark.parametrize("text", ABSENT_GRAPH_UPDATES)
def test_an_update_may_name_a_graph_not_in_the_store(text: str, settings: Any) -> None:
    store = OxigraphStore(None)
    admit(text, "update", settings, store)
    store.update(text)  # the engine runs it: WITH <new> INSERT makes the graph


@pytest.mark.parametrize("text", ABSENT_GRAPH_QUERIES + ABSENT_GRAPH_UPDATES)
def test_the_remote_store_refuses_graphs_it_does_not_hold(text: str, settings: Any) -> None:
    """Another engine may fetch what a dataset clause names, so only its own graphs pass."""
    kind = "update" if text in ABSENT_GRAPH_UPDATES else "query"
    with pytest.raises(Forbidden, match="remote store") as caught:
        admit(text, kind, settings, _RemoteStore())
    assert caught.value.status == 403


def test_the_remote_store_takes_with_of_a_new_project_graph(settings: Any) -> None:
    admit(f"WITH <{OWN}/new> INSERT {{ <http://a> {P} 1 }} WHERE {{ }}", "update", settings,
          _RemoteStore())


def test_a_file_iri_the_store_holds_is_a_graph_name(settings: Any) -> None:
    store = OxigraphStore(None)
    store.update(f"INSERT DATA {{ GRAPH <file:///srv/g> {{ <http://a> {P} 1 }} }}")
    admit("SELECT * FROM <file:///srv/g> WHERE { ?s ?p ?o }", "query", settings, store)
    with pytest.raises(Forbidden, match="file:"):
        admit("SELECT * FROM <file:///srv/other> WHERE { ?s ?p ?o }", "query", settings, store)


@pytest.mark.parametrize("backend", ["memory", "disk"])
def test_a_dataset_iri_is_never_fetched(backend: str, settings: Any,
                                        tmp_path: Any) -> None:
    """FROM, FROM NAMED, USING and the protocol's graphs naming a loopback listener: the
    engine of both embedded stores answers from the (empty) graphs and never connects."""
    listener = Listener()
    store = OxigraphStore(None if backend == "memory" else tmp_path / "store")
    try:
        graph = listener.origin + "/x"
        query = f"SELECT * FROM <{graph}> FROM NAMED <{graph}/n> WHERE {{ ?s ?p ?o }}"
        admit(query, "query", settings, store)
        assert list(store.query(query)) == []
        assert list(store.query("SELECT * { ?s ?p ?o }", default_graphs=[graph],
                                named_graphs=[graph])) == []
        update = f"INSERT {{ <http://a> {P} 1 }} USING <{graph}> USING NAMED <{graph}> " \
                 "WHERE { }"
        admit(update, "update", settings, store)
        store.update(update)
        assert listener.hits == 0, listener.request_lines
    finally:
        store.close()
        listener.close()


def test_names_that_are_no_iri_are_400(settings: Any, store: Any) -> None:
    for text in ("ASK FROM <g> {}", "SELECT * FROM <http://h/g\\u003E> {}",
                 "SELECT * FROM <http://h/g> FROM NAMED <> {}"):
        with pytest.raises(BadRequest, match="absolute IRI") as caught:
            admit(text, "query", settings, store)
        assert caught.value.status == 400


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
    with pytest.raises(BadRequest, match="absolute IRI"):  # no base: the engine refuses it too
        admit("ASK FROM NAMED <g> {}", "query", settings, store)
    info = admit("ASK FROM NAMED <g> {}", "query", settings, store, base_iri="http://h/sparql")
    assert info.dataset == (("FROM NAMED", "http://h/g"),)
    with pytest.raises(BadRequest, match="absolute IRI"):  # decodes to a '>' inside the IRI
        admit("SELECT * FROM <http://h/g\\u003E> {}", "query", settings, store)


def test_a_relative_dataset_iri_over_http(endpoint: Endpoint) -> None:
    with endpoint.intact():
        response = endpoint.query("SELECT * FROM <g> WHERE { ?s ?p ?o }")
        assert response.status_code == 200, response.text
        assert response.json()["results"]["bindings"] == []
        refused = endpoint.query("SELECT * FROM <file:g> WHERE { ?s ?p ?o }")
        assert refused.status_code == 403, refused.text
        assert error_of(refused)["iri"] == "file:g"


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

    def contains_graph(self, graph: str) -> bool:  # noqa: ARG002 - the store's signature
        return False  # it holds no graph


@pytest.mark.parametrize("text", [
    r"SELECT * WHERE { ?s ?p 'a\u0027 } SERVICE <http://x/> {} #' }",
    r"ASK { <http://e/\u0073> ?p ?o }"])
def test_codepoint_escapes_are_refused_for_the_remote_store(text: str, settings: Any) -> None:
    """An engine that decodes escapes before parsing would read another text."""
    with pytest.raises(BadRequest, match="escapes are refused"):
        admit(text, "query", settings, _RemoteStore())


# -- SILENT calls, LOAD ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """A loopback HTTP listener counting every connection (the engine must make none)."""
    server = Listener()
    yield server
    server.close()


@pytest.mark.parametrize("text", SKIPPED_QUERIES)
def test_a_silent_service_that_is_not_allowed_is_skipped(text: str, settings: Any,
                                                         store: Any) -> None:
    with pytest.raises(Forbidden):  # as written, the call is refused
        admit(text, "query", settings, store)
    admitted = admit_request(text, "query", settings, store)
    assert len(admitted.skipped_services) == 1 and not admitted.skipped_loads
    assert admitted.info.services == (SKIPPED,) and not admitted.network
    assert f"<{SKIPPED}>" in admitted.text
    store.query(admitted.text)  # the engine parses and runs what the policy hands back


def test_a_skipped_service_is_the_join_identity(settings: Any, store: Any,
                                                listener: Listener) -> None:
    """``SERVICE SILENT`` that fails yields one empty solution: the rows around it stay."""
    hits = listener.hits
    text = (f"PREFIX l: <{listener.origin}/> SELECT ?x WHERE {{ VALUES ?x {{ 1 2 }} "
            "SERVICE SILENT l:sparql { ?x ?p ?o } }")
    admitted = admit_request(text, "query", settings, store)
    assert admitted.skipped_services == (f"{listener.origin}/sparql",)
    rows = [s["x"].value for s in store.query(admitted.text)]  # type: ignore[union-attr]
    assert sorted(rows) == ["1", "2"]
    assert listener.hits == hits


def test_a_skipped_service_group_is_still_parsed(settings: Any, store: Any) -> None:
    """Only the target is replaced: a syntax error inside the group stays the engine's."""
    text = "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p } }"
    admitted = admit_request(text, "query", settings, store)
    with pytest.raises(QuerySyntaxError):
        store.query(admitted.text)


def test_a_silent_service_to_an_allowed_host_is_called(store: Any) -> None:
    allowing = load_settings({"store": "memory", "allowed_service_hosts": "127.0.0.1"},
                             environ={})
    text = "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p ?o } }"
    admitted = admit_request(text, "query", allowing, store)
    assert admitted.text == text and admitted.network and not admitted.skipped_services


@pytest.mark.parametrize("text", ["SELECT * WHERE { SERVICE SILENT ?e { } }",
                                  "PREFIX x: <http://127.0.0.1/> SELECT * WHERE { "
                                  "SERVICE SILENTx:sparql { } }",
                                  "SELECT * WHERE { SERVICE SILENT u:x { } }"])
def test_what_silent_cannot_name_is_left_to_the_policy(text: str, settings: Any,
                                                       store: Any) -> None:
    """A variable endpoint, a run-together SILENT or an undeclared prefix is not skipped."""
    with pytest.raises(Forbidden):
        admit_request(text, "query", settings, store)


@pytest.mark.parametrize("text", SKIPPED_UPDATES)
def test_a_silent_load_that_is_not_allowed_is_skipped(text: str, settings: Any,
                                                      listener: Listener) -> None:
    store = OxigraphStore(None)
    hits = listener.hits
    admitted = admit_request(text.replace("http://127.0.0.1:9", listener.origin), "update",
                             settings, store)
    assert admitted.skipped_loads or admitted.skipped_services
    assert not admitted.network
    store.update(admitted.text)
    assert store.count() == 0 and listener.hits == hits


def test_load_needs_an_allowed_host(store: Any, listener: Listener) -> None:
    allowing = load_settings({"store": "memory", "allowed_load_hosts": "127.0.0.1"},
                             environ={})
    text = f"LOAD <{listener.origin}/data.ttl> INTO GRAPH <http://example.org/g>"
    admitted = admit_request(text, "update", allowing, store)
    assert admitted.text == text and admitted.network
    assert admit_request(f"LOAD SILENT <{listener.origin}/d>", "update", allowing,
                         store).network  # allowed: called, not skipped
    for source in ("http://sub.127.0.0.1/d", "http://u@127.0.0.1/d", "file:///etc/passwd",
                   "ftp://127.0.0.1/d", "http://localhost/d"):
        with pytest.raises(Forbidden, match="allowed_load_hosts|http and https|user"):
            admit(f"LOAD <{source}>", "update", allowing, store)
    with pytest.raises(Forbidden, match="allowed_service_hosts"):  # one list per keyword
        admit(f"SELECT * {{ SERVICE <{listener.origin}/> {{ }} }}", "query", allowing, store)


#: W3C syntax-update-1 texts with LOAD the engine cannot parse (tests 41, 47, 48, 49)
UNPARSABLE_LOADS = {
    "LOAD ;": (1, 7),
    "CREATE GRAPH <g>\nLOAD <remote> INTO GRAPH <g>": (2, 1),
    "CREATE GRAPH <g>\n;;\nLOAD <remote> INTO GRAPH <g>": (3, 5),
    "CREATE GRAPH <g>\n;\nLOAD <remote> INTO GRAPH <g>\n;;": (4, 3),
    "PREFIX : <http://example/> LOAD SILENT :x ; ;": (1, 46),
}
#: W3C syntax-update-1 texts with LOAD that parse (tests 1, 2, 3, 4, 37)
PARSABLE_LOADS = [
    "BASE <http://example/base#>\nPREFIX : <http://example/>\nLOAD <http://example.org/faraway>",
    "# Comment\nBASE <http://example/base#>\n# Comment\nPREFIX : <http://example/>\n# Comment\n"
    "LOAD <http://example.org/faraway>\n# Comment",
    "LOAD <http://example.org/faraway> ;",
    "LOAD <http://example.org/faraway> INTO GRAPH <localCopy>",
    "CREATE GRAPH <g> ;\nLOAD <remote> INTO GRAPH <g> ;",
]


@pytest.mark.parametrize("text", UNPARSABLE_LOADS)
def test_a_load_the_engine_cannot_parse_is_400(text: str, settings: Any, store: Any) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        admit_request(text, "update", settings, store, base_iri="http://example/")
    engine = Store()
    with pytest.raises(SyntaxError, match=r"at {}:{}:".format(*UNPARSABLE_LOADS[text])):
        engine.update(text, base_iri="http://example/")  # the engine's own location
    assert (caught.value.details["line"], caught.value.details["column"]) == \
        UNPARSABLE_LOADS[text]


@pytest.mark.parametrize("text", PARSABLE_LOADS)
def test_a_load_that_parses_is_refused(text: str, settings: Any, store: Any) -> None:
    with pytest.raises(Forbidden, match="LOAD is disabled") as caught:
        admit_request(text, "update", settings, store, base_iri="http://example/")
    assert caught.value.status == 403


def test_the_parse_check_runs_none_of_the_operations(settings: Any, listener: Listener) -> None:
    """A refused update is parsed by the engine, but none of its operations is run: no
    connection to the listener, no graph made in any store."""
    store = OxigraphStore(None)
    hits = listener.hits
    text = (f"INSERT DATA {{ <http://a> {P} 1 }} ; LOAD <{listener.origin}/x> ; "
            f"INSERT {{ <http://a> {P} 2 }} WHERE {{ SERVICE <{listener.origin}/s> {{ }} }}")
    with pytest.raises(Forbidden):
        admit_request(text, "update", settings, store)
    assert listener.hits == hits and store.count() == 0
