"""The query-safety policy, called directly: every syntax variant of SERVICE, LOAD and
dataset clauses is refused, and the word SERVICE where it is not a keyword is not."""
from __future__ import annotations

from typing import Any

import pytest

from graph.errors import BadRequest, Forbidden
from graph.guard import (
    MAX_ELEMENTS,
    MAX_NESTING,
    check_graph_iris,
    check_query,
    check_shape,
    check_update,
)
from graph.settings import load_settings
from graph.sparql_text import analyse
from graph.store import OxigraphStore

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
