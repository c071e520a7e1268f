"""The dataset a query runs on, through every backend: the union default graph, GRAPH ?g,
FROM/FROM NAMED and the protocol's dataset parameters (docs/backends.md, "Engine
differences").

The remote store asks each engine differently (``graph.store.remote_dataset``); these tests hold
the answers to the embedded store's, on real servers.
"""
from __future__ import annotations

from typing import Any

import pytest
from pyoxigraph import DefaultGraph, RdfFormat

from .conftest import REMOTES, remote_store

EX = "http://example.org/"
G1, G2 = EX + "g1", EX + "g2"
TRIG = f"""
@prefix ex: <{EX}> .
ex:g1 {{ ex:alice ex:knows ex:bob . ex:alice ex:name "Alice" . }}
ex:g2 {{ ex:bob ex:knows ex:carol . }}
"""
#: Virtuoso's own graphs, which its union default graph and GRAPH ?g also reach
VIRTUOSO_SYSTEM = ("http://www.openlinksw.com/", "http://localuriqaserver/",
                   "http://www.w3.org/ns/ldp#", "http://www.w3.org/2002/07/owl#")
#: where each ``?o`` of ``?s ex:knows ?o`` was found: "default" or the named graph
WHERE_FOUND = f"""PREFIX ex: <{EX}>
SELECT ?in ?o {{DATASET}} WHERE {{
  {{ ?s ex:knows ?o BIND("default" AS ?in) }}
  UNION {{ GRAPH ?g {{ ?s ex:knows ?o }} BIND(STR(?g) AS ?in) }}
}}"""


def virtuoso(store: Any) -> bool:
    return getattr(store, "dialect", "") == "virtuoso"


def union_by_default(store: Any) -> bool:
    """Whether a remote engine's default graph already is the union (Virtuoso, BorderKG)."""
    return store.backend == "remote" and store.engine.union_by_default


def emulated_union(store: Any) -> bool:
    """Whether the union is spelt out with dataset parameters (an unrecognised engine that
    keeps a default graph of its own)."""
    return store.backend == "remote" and store.dialect == "generic" and \
        not store.engine.union_by_default


@pytest.fixture
def filled(store: Any) -> Any:
    """G1 and G2, plus (where the engine has one) a triple in the store's own default
    graph, which no FROM or protocol dataset below names."""
    store.load(TRIG.encode(), RdfFormat.TRIG)
    if not virtuoso(store):
        store.update(f"INSERT DATA {{ <{EX}dan> <{EX}knows> <{EX}erin> }}")
    return store


def found(store: Any, dataset_clause: str = "", **dataset: Any) -> set[tuple[str, str]]:
    text = WHERE_FOUND.replace("{DATASET}", dataset_clause)
    return {(row["in"].value, row["o"].value.removeprefix(EX))
            for row in store.query(text, **dataset)}


@pytest.mark.parametrize("union", [True, False], ids=["union", "own-default"])
def test_graph_variable_finds_the_named_graphs(filled: Any, union: bool) -> None:
    graphs = {row["g"].value for row in filled.query(
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", union_default=union)}
    others = graphs - {G1, G2}
    assert {G1, G2} <= graphs
    if virtuoso(filled):  # documented: Virtuoso's system graphs are graphs too
        assert all(g.startswith(VIRTUOSO_SYSTEM) for g in others), others
    else:
        assert others == set()
    in_graphs = {(g, o) for g, o in found(filled, union_default=union) if g != "default"}
    assert in_graphs == {(G1, "bob"), (G2, "carol")}


def test_union_default_graph_with_graph_patterns(filled: Any) -> None:
    """The union and GRAPH ?g in one query: a union spelt out with ``default-graph-uri``
    alone would replace the dataset and leave GRAPH ?g nothing to match."""
    expected = {("default", "bob"), ("default", "carol"), (G1, "bob"), (G2, "carol")}
    if not virtuoso(filled):
        expected.add(("default", "erin"))  # the store's own default graph is in the union
    if emulated_union(filled):
        # documented: the emulated union names the named graphs; the protocol has no
        # IRI for the engine's own default graph
        expected.discard(("default", "erin"))
    assert found(filled) == expected


def test_own_default_graph_only(filled: Any) -> None:
    expected = {(G1, "bob"), (G2, "carol")}
    if not union_by_default(filled):
        expected.add(("default", "erin"))
    # documented: an engine whose default graph is the union (Virtuoso, BorderKG) gets an
    # empty default graph, since neither lets a request name its own default graph
    assert found(filled, union_default=False) == expected


@pytest.mark.parametrize("union", [True, False], ids=["union", "own-default"])
def test_from_and_from_named_are_the_whole_dataset(filled: Any, union: bool) -> None:
    both = found(filled, f"FROM <{G1}> FROM NAMED <{G2}>", union_default=union)
    assert both == {("default", "bob"), (G2, "carol")}
    only_default = found(filled, f"FROM <{G2}>", union_default=union)
    assert only_default == {("default", "carol")}
    only_named = found(filled, f"FROM NAMED <{G1}> FROM NAMED <{G2}>", union_default=union)
    assert only_named == {(G1, "bob"), (G2, "carol")}


def test_protocol_dataset_parameters(filled: Any) -> None:
    assert found(filled, default_graphs=[G1], named_graphs=[G2]) == {
        ("default", "bob"), (G2, "carol")}
    # as in the embedded store, naming only default graphs keeps every named graph
    assert found(filled, default_graphs=[G2]) == {
        ("default", "carol"), (G1, "bob"), (G2, "carol")}
    # and they replace the query's own FROM/FROM NAMED (Virtuoso adds them instead:
    # documented)
    replaced = found(filled, f"FROM <{G2}>", default_graphs=[G1], named_graphs=[G2])
    added = {("default", "carol")} if virtuoso(filled) else set()
    assert replaced == {("default", "bob"), (G2, "carol")} | added


@pytest.mark.parametrize("union", [True, False], ids=["union", "own-default"])
def test_union_default_graph_is_a_merge_on_borderkg(store: Any, union: bool,
                                                    request: pytest.FixtureRequest) -> None:
    """One triple in two graphs is one solution of ``?s ?p ?o`` in BorderKG's union
    default graph (the SPARQL merge: a set), embedded or serving as the remote; the other
    engines measured return it twice (a bag), as docs/backends.md says."""
    triple = f"<{EX}s> <{EX}p> <{EX}o>"
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ {triple} }} GRAPH <{G2}> {{ {triple} }} }}")
    rows = [row for row in store.query("SELECT * WHERE { ?s ?p ?o }", union_default=union)
            if row["s"].value == EX + "s"]  # Virtuoso's union also holds its system triples
    count = next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o "
                                  f"FILTER(?s = <{EX}s>) }}", union_default=union)))
    distinct = store.query(f"SELECT DISTINCT * WHERE {{ ?s ?p ?o FILTER(?s = <{EX}s>) }}",
                           union_default=union)
    merges = request.node.callspec.params["store"] in ("memory", "disk", "remote-borderkg")
    expected = (1 if merges else 2) if union else 0
    assert (len(rows), int(count["n"].value), len(list(distinct))) == (
        expected, expected, min(expected, 1))


@pytest.mark.parametrize("backend,dialect,union", [
    ("remote-oxigraph", "oxigraph", False), ("remote-virtuoso", "virtuoso", True),
    ("remote-borderkg", "generic", True), ("remote-generic", "generic", False)])
def test_engine_is_recognised(backend: str, dialect: str, union: bool,
                              request: pytest.FixtureRequest) -> None:
    """BorderKG embeds Oxigraph but is not ``oxigraph serve``: it must not get the
    ``union-default-graph`` parameter; its Service Description declares the union."""
    store = remote_store(backend, request)
    try:
        assert (store.engine.dialect, store.engine.union_by_default) == (dialect, union)
        assert store.dialect == dialect
    finally:
        store.close()


@pytest.mark.parametrize("graph_store", [True, False], ids=["graph-store", "sparql-only"])
def test_borderkg_own_default_graph(request: pytest.FixtureRequest, graph_store: bool) -> None:
    """A remote whose default graph is the union: its own default graph is read exactly
    through the Graph Store Protocol; with SPARQL alone, a triple that is also in a named
    graph is seen in the named graph only (documented)."""
    store = remote_store("remote-borderkg", request, graph_store=graph_store)
    store.clear()
    try:
        store.update(f"INSERT DATA {{ <{EX}only> <{EX}p> 1 . <{EX}both> <{EX}p> 2 . "
                     f"GRAPH <{G1}> {{ <{EX}both> <{EX}p> 2 }} }}")
        own = sorted(q.subject.value for q in store.quads(graph=""))
        every = sorted((q.subject.value, str(q.graph_name)) for q in store.quads())
        default = str(DefaultGraph())
        if graph_store:
            assert own == [EX + "both", EX + "only"] and store.count("") == 2
            assert every == sorted([(EX + "both", default), (EX + "both", f"<{G1}>"),
                                    (EX + "only", default)])
            assert store.count(None) == 3
        else:
            assert own == [EX + "only"] and store.count("") == 1
            assert every == sorted([(EX + "both", f"<{G1}>"), (EX + "only", default)])
            assert store.count(None) == 2
        assert [q.subject.value for q in store.quads(EX + "only", None, None, "")] == [
            EX + "only"]
        assert store.drop_graph("") is True and store.count("") == 0
        assert store.count(G1) == 1
    finally:
        store.clear()
        store.close()


@pytest.mark.parametrize("backend", REMOTES)
def test_graph_variable_without_any_default_graph_data(backend: str,
                                                       request: pytest.FixtureRequest) -> None:
    """Data only in named graphs and a query with GRAPH ?g and nothing else, on stores
    made the way the service makes them (no union asked for explicitly)."""
    store = remote_store(backend, request)
    store.clear()
    try:
        store.load(TRIG.encode(), RdfFormat.TRIG)
        rows = store.query(f"SELECT ?g ?o WHERE {{ GRAPH ?g {{ ?s <{EX}knows> ?o }} }}")
        assert sorted((r["g"].value, r["o"].value) for r in rows) == [
            (G1, EX + "bob"), (G2, EX + "carol")]
    finally:
        store.clear()
        store.close()


def test_remote_row_limit_is_an_error_for_reads_of_the_data(start_server: Any) -> None:
    """A BorderKG cuts answers at its ``max_rows``; ``quads()`` and ``dump()`` must then
    fail rather than return part of the data, while counts (one row) still work."""
    from graph.errors import StoreError
    from graph.store.remote import BearerAuth, RemoteStore
    from tests.conftest import TOKEN

    server = start_server(store="memory", extra=["--empty", "--max-rows", "3"])
    store = RemoteStore(server.url + "/sparql", auth=BearerAuth(TOKEN))
    try:
        triples = " ".join(f"<{EX}n{i}> <{EX}p> {i} ." for i in range(5))
        store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ {triples} }} }}")
        assert store.count(G1) == 5
        with pytest.raises(StoreError) as info:
            list(store.quads(graph=G1))
        assert info.value.status == 502 and "max_rows" in info.value.message
        assert len(list(store.quads(EX + "n1"))) == 1
    finally:
        store.close()
