"""The direct links of a resource the projection leaves out (a claim, a sentence, a
figure), so its page still has a picture: the resource in the middle, the resources it
names and those naming it around it, labelled from the store."""
from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode, Variable

from graph.store.base import Store, solutions

from .projection import Edge, local_name

__all__ = ["Star", "star"]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LINKS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?centre ?s ?p ?o ?sl ?pl ?ol WHERE {
  { ?centre ?p ?o BIND(?centre AS ?s) FILTER(isIRI(?o)) }
  UNION { ?s ?p ?centre BIND(?centre AS ?o) FILTER(isIRI(?s)) }
  FILTER(?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>)
  OPTIONAL { ?s rdfs:label ?sl } OPTIONAL { ?p rdfs:label ?pl } OPTIONAL { ?o rdfs:label ?ol }
} ORDER BY ?s ?p ?o LIMIT 200"""


@dataclass(frozen=True)
class Star:
    """A resource, its direct links, and the labels of everything drawn."""

    centre: str
    edges: list[Edge]
    labels: dict[str, str]

    def label(self, iri: str) -> str:
        return self.labels.get(iri) or local_name(iri)

    @property
    def nodes(self) -> set[str]:
        return {self.centre} | {e.subject for e in self.edges} | {e.object for e in self.edges}


def star(store: Store, iri: str, max_nodes: int = 40) -> Star:
    """The links of ``iri`` to and from other resources, at most ``max_nodes`` drawn."""
    labels: dict[str, str] = {}
    edges: list[Edge] = []
    nodes = {iri}
    for row in solutions(store.query(_LINKS, substitutions={Variable("centre"): NamedNode(iri)})):
        s, p, o = row["s"].value, row["p"].value, row["o"].value
        other = o if s == iri else s
        if other not in nodes and len(nodes) >= max_nodes:
            continue
        nodes.add(other)
        names = [row[v].value if row[v] is not None else "" for v in ("sl", "pl", "ol")]
        labels.update({k: v for k, v in zip((s, p, o), names, strict=True) if v})
        edges.append(Edge(s, p, o, names[0] or local_name(s), names[1] or local_name(p),
                          names[2] or local_name(o), ()))
    return Star(iri, edges, labels)
