"""Oracles for the embedded store's datasets: plain pyoxigraph stores built from the same
quads, and the views of a BorderKG store that the set-semantics and update tests compare.

The oracle of the union default graph is a pyoxigraph store whose *default graph* holds the
merge (the set of every graph's triples) and whose named graphs are the same named graphs:
a query evaluated there with the engine's ordinary semantics is what SPARQL says the union
default graph answers.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    Store,
    Triple,
)

from graph.store import union as ug

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIX = f"PREFIX ex: <{EX}>\nPREFIX xsd: <{XSD}>\n"

Spo = tuple[Any, Any, Any]


def spo(quad: Quad | Triple) -> Spo:
    return (quad.subject, quad.predicate, quad.object)


def real_quads(store: Any) -> set[Quad]:
    """The quads of the real graphs, read through the BorderKG store's own interface."""
    return set(store.quads())


def engine_real_quads(engine: Store) -> set[Quad]:
    """The quads of a raw engine, less BorderKG's hidden graphs (none in an oracle)."""
    return {q for q in engine if not ug.is_hidden(q.graph_name)}


def raw_merge(store: Any) -> set[Spo]:
    """The triples of the hidden merge graph, read from the raw engine."""
    result = store.engine.query(
        f"SELECT ?s ?p ?o {{ GRAPH <{ug.UNION.value}> {{ ?s ?p ?o }} }}")
    return {(row["s"], row["p"], row["o"]) for row in result}


def assert_merge(store: Any, context: str = "") -> None:
    """The hidden merge graph holds exactly the set of triples of the real quads."""
    expected = {spo(q) for q in real_quads(store)}
    found = raw_merge(store)
    assert found == expected, (
        f"merge out of step {context}: missing {sorted(map(str, expected - found))[:5]}, "
        f"extra {sorted(map(str, found - expected))[:5]}")
    assert ug.is_current(store.engine), f"merge not marked current {context}"


def oracle(default: Iterable[Spo], named: dict[str, Iterable[Spo]]) -> Store:
    """A plain pyoxigraph store: ``default`` in its default graph, ``named`` as named graphs."""
    engine = Store()
    engine.extend(Quad(s, p, o, DefaultGraph()) for s, p, o in set(default))
    for graph, triples in named.items():
        engine.extend(Quad(s, p, o, NamedNode(graph)) for s, p, o in set(triples))
    return engine


def graphs_of(quads: Iterable[Quad]) -> dict[str, set[Spo]]:
    """Triples per graph (``""``: the default graph)."""
    out: dict[str, set[Spo]] = {}
    for q in quads:
        name = "" if isinstance(q.graph_name, DefaultGraph) else q.graph_name.value
        out.setdefault(name, set()).add(spo(q))
    return out


def _term(term: Any) -> str | None:
    return None if term is None else str(term)


def answer(result: Any) -> Any:
    """A query result as something order-insensitive to compare: a multiset of rows
    (variable -> term) for SELECT, a multiset of triples for CONSTRUCT, the boolean for ASK."""
    if isinstance(result, QueryBoolean):
        return bool(result)
    if isinstance(result, QueryTriples):
        return Counter(str(t) for t in result)
    assert isinstance(result, QuerySolutions)
    names = [v.value for v in result.variables]
    return Counter(tuple((n, _term(row[n])) for n in names) for row in result)


def canonical(quads: Iterable[Quad]) -> Counter[str]:
    """Quads as a multiset of N-Quads lines with every blank node written ``_:b``: the
    quads without blank nodes compare exactly, those with them by count per shape."""
    def term(t: Any) -> str:
        return "_:b" if isinstance(t, BlankNode) else str(t)

    return Counter(" ".join(term(t) for t in (q.subject, q.predicate, q.object, q.graph_name))
                   for q in quads)


def literal_int(n: int) -> Literal:
    return Literal(str(n), datatype=NamedNode(XSD + "integer"))
