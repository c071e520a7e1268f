"""Shared descriptions that importers reference: periods and citizenship codes.

Every fact has one home. The descriptions several tables share — the OWL-Time
description of a fiscal year or a month, the SKOS concept of a citizenship that the seed
graph describes no country for — live in one graph, ``graph/reference``, never as a copy
in each importer's graph (a triple stored in two graphs counts twice in every aggregate
over the union default graph).

The mechanism: those descriptions are pure functions of their IRI (``graph.intervals``
for periods, the published name for a citizenship), so any component may *add* the ones
it uses to ``graph/reference`` and no component drops that graph. The seed build writes
the periods the knowledge mentions; an importer writes the periods and citizenship codes
its rows use, in the same transaction as its observations. Adding a triple the graph
already holds changes nothing, so the build, every import and every re-import leave one
copy. Countries and agencies are the seed's (``graph/background``): importers only point
at them (:data:`COUNTRIES`).

A store filled by an earlier importer version kept those descriptions in the importer's
graph; :func:`drop_local_copies` removes them there once the import has written them here.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, NamedNode, Quad

from graph import ids
from graph.store.base import Store

from .common import RDF_TYPE, RDFS_LABEL, SKOS, english, term

GRAPH = ids.GRAPH_REFERENCE
TIME = "http://www.w3.org/2006/time#"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
CITIZENSHIP_SCHEME = ids.thing("citizenship", "scheme")
#: citizenship names in official tables for countries the seed graph describes
#: (ISO 3166 alpha-3): CBP's spelling and ICE's
COUNTRIES = {"CHINA, PEOPLES REPUBLIC OF": "CHN", "CHINA": "CHN", "UNITED STATES": "USA"}


def period_quads(periods: Iterable[str]) -> Iterator[Quad]:
    """The OWL-Time description of each period IRI (``graph.intervals``), in the
    reference graph."""
    from rdflib import Literal as RdfLiteral

    from graph.intervals import interval_triples

    graph = NamedNode(GRAPH)
    for period in sorted(set(periods)):
        for s, p, o in interval_triples(period):
            obj: Literal | NamedNode
            if isinstance(o, RdfLiteral):
                obj = (Literal(str(o), language=o.language) if o.language
                       else Literal(str(o), datatype=NamedNode(str(o.datatype or XSD_STRING))))
            else:
                obj = NamedNode(str(o))
            yield Quad(NamedNode(str(s)), NamedNode(str(p)), obj, graph)


class Citizenships:
    """Citizenship values as resources: the seed's country where it describes one, else
    a concept ``id/citizenship/<slug>`` described once in the reference graph."""

    def __init__(self) -> None:
        self.nodes: dict[str, NamedNode] = {}
        self.minted: dict[str, list[Quad]] = {}

    def node(self, value: str) -> NamedNode:
        """The resource for one published citizenship name."""
        text = value.strip()
        found = self.nodes.get(text)
        if found is None:
            found = self.nodes[text] = NamedNode(self._iri(text))
        return found

    def _iri(self, text: str) -> str:
        if text.upper() in COUNTRIES:
            return ids.thing("country", COUNTRIES[text.upper()])
        iri = ids.thing("citizenship", ids.slugify(text) or "unknown")
        if iri not in self.minted:
            node, g = NamedNode(iri), NamedNode(GRAPH)
            self.minted[iri] = [
                Quad(node, RDF_TYPE, term(SKOS + "Concept"), g),
                Quad(node, term(SKOS + "prefLabel"), english(text.title()), g),
                Quad(node, term(SKOS + "notation"), Literal(text), g),
                Quad(node, term(SKOS + "inScheme"), term(CITIZENSHIP_SCHEME), g)]
        return iri

    def quads(self) -> Iterator[Quad]:
        """The minted concepts and their scheme."""
        g = NamedNode(GRAPH)
        for quads in self.minted.values():
            yield from quads
        scheme = term(CITIZENSHIP_SCHEME)
        yield Quad(scheme, RDF_TYPE, term(SKOS + "ConceptScheme"), g)
        yield Quad(scheme, RDFS_LABEL, english("citizenships in official statistics"), g)


def drop_local_copies(store: Store, graph: str) -> None:
    """Remove from ``graph`` the period and citizenship descriptions an earlier importer
    version wrote there (the reference graph holds them now). Looked up by type, so a
    graph without such copies costs two index look-ups."""
    store.update(f"""PREFIX time: <{TIME}> PREFIX skos: <{SKOS}>
    DELETE {{ GRAPH <{graph}> {{ ?x ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{
      {{ ?x a time:ProperInterval }} UNION {{ ?i a time:ProperInterval ;
          time:hasBeginning|time:hasEnd ?x }}
      UNION {{ ?x skos:inScheme <{CITIZENSHIP_SCHEME}> }}
      UNION {{ VALUES ?x {{ <{CITIZENSHIP_SCHEME}> }} ?x a skos:ConceptScheme }}
      ?x ?p ?o }} }}""")
