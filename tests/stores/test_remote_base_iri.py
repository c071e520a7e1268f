"""A load with a base IRI through the remote store's Graph Store path resolves relative IRIs
against that base, as the embedded store does.

The Graph Store Protocol has no parameter for a base IRI, and a peer resolves what it is
sent against its own request URL; so the remote store resolves the data itself before it is
posted. These tests load through ``oxigraph serve`` (with and without its dialect
recognised) and hold what it then holds to what the embedded store holds after the same load.
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import DefaultGraph, NamedNode, RdfFormat

from graph.errors import BadRequest
from graph.store.oxigraph import OxigraphStore

from .conftest import remote_store

BASE = "http://example.org/data/"
GRAPH = "http://example.org/g"
#: relative subject, object, prefix and a relative ``@base`` (resolved against BASE)
TURTLE = """@prefix v: <../vocab#> .
<alice> v:knows <bob> , <../people/carol> .
@base <more/> .
<dave> v:knows <#me> ; v:name "Dave" .
"""
RDF_XML = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:v="http://example.org/vocab#">
  <rdf:Description rdf:about="alice"><v:knows rdf:resource="bob"/></rdf:Description>
</rdf:RDF>
"""
TRIG = """<graphs/one> { <alice> <vocab#knows> <bob> . }
{ <bob> <vocab#knows> <alice> . }
"""
#: what TURTLE says, written out absolute
RESOLVED = {
    (BASE + "alice", "http://example.org/vocab#knows", BASE + "bob"),
    (BASE + "alice", "http://example.org/vocab#knows", "http://example.org/people/carol"),
    (BASE + "more/dave", "http://example.org/vocab#knows", BASE + "more/#me"),
    (BASE + "more/dave", "http://example.org/vocab#name", "Dave"),
}


@pytest.fixture(params=["remote-oxigraph", "remote-generic"])
def remote(request: pytest.FixtureRequest) -> Any:
    """The remote store on ``oxigraph serve``, with its Graph Store URL, emptied."""
    store = remote_store(request.param, request)
    assert store.graph_store_url, "these loads must go through the Graph Store Protocol"
    store.clear()
    yield store
    store.clear()
    store.close()


def held(store: Any, graph: Any = None) -> set[tuple[str, ...]]:
    """The quads of ``store`` (of ``graph``, all by default) as value tuples."""
    def name(g: Any) -> str:
        return "" if isinstance(g, DefaultGraph) else g.value

    return {(q.subject.value, q.predicate.value, q.object.value, name(q.graph_name))
            for q in store.quads(graph=graph)}


def embedded(data: bytes, fmt: RdfFormat, graph: str | None) -> set[tuple[str, ...]]:
    """What the embedded store holds after the same load."""
    store = OxigraphStore(None)
    try:
        store.load(data, fmt, graph=graph, base_iri=BASE)
        return held(store)
    finally:
        store.close()


def test_turtle_into_a_named_graph_is_resolved_against_the_base(remote: Any) -> None:
    remote.load(TURTLE.encode(), RdfFormat.TURTLE, graph=GRAPH, base_iri=BASE)
    found = held(remote, NamedNode(GRAPH))
    assert found == {(*triple, GRAPH) for triple in RESOLVED}
    assert held(remote) == embedded(TURTLE.encode(), RdfFormat.TURTLE, GRAPH)


def test_a_gzip_file_into_the_default_graph(remote: Any, tmp_path: Path) -> None:
    path = tmp_path / "people.ttl.gz"
    path.write_bytes(gzip.compress(TURTLE.encode()))
    remote.load(path, RdfFormat.TURTLE, base_iri=BASE)
    assert held(remote, DefaultGraph()) == {(*triple, "") for triple in RESOLVED}


@pytest.mark.parametrize(("data", "fmt"), [(RDF_XML, RdfFormat.RDF_XML), (TRIG, RdfFormat.TRIG)],
                         ids=["rdf-xml", "trig"])
def test_other_formats_hold_what_the_embedded_store_holds(remote: Any, data: str,
                                                          fmt: RdfFormat) -> None:
    graph = None if fmt is RdfFormat.TRIG else GRAPH
    remote.load(data.encode(), fmt, graph=graph, base_iri=BASE)
    found = held(remote)
    assert found == embedded(data.encode(), fmt, graph)
    assert all(value.startswith("http://example.org/") for quad in found
               for value in quad if value)


def test_a_syntax_error_with_a_base_loads_nothing(remote: Any) -> None:
    with pytest.raises(BadRequest):
        remote.load(b"<alice> <vocab#knows> .", RdfFormat.TURTLE, graph=GRAPH, base_iri=BASE)
    assert remote.count(None) == 0


def test_a_load_without_a_base_still_goes_to_the_peer_as_it_is(remote: Any) -> None:
    absolute = f"<{BASE}alice> <http://example.org/vocab#knows> <{BASE}bob> ."
    remote.load(absolute.encode(), RdfFormat.TURTLE, graph=GRAPH)
    assert held(remote) == {(BASE + "alice", "http://example.org/vocab#knows", BASE + "bob",
                             GRAPH)}
