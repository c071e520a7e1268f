"""The SPARQL 1.1 Service Description and the VoID description of the dataset.

Clients discover what the endpoint offers (query and update languages, result formats,
the default-graph semantics in force) and what the data is (graphs and their size)
without reading documentation. Both descriptions are plain triples built from the store,
with no HTTP: the SPARQL endpoint serves the service description on ``GET /sparql``, and
the VoID document reuses ``void_description``.

Statistics cost a few aggregate queries over the whole store, so the service keeps
descriptions in an etag-keyed cache (``graph.caching``, passed as ``cache``): any write
(which changes the etag) makes the next request recompute them, and nothing stale is
ever served. Without a cache they are computed on every call.

IRIs: ``base`` is the root URL the service is reached at (ending in ``/``); the dataset
is ``{base}.well-known/void#dataset`` (the VoID well-known location, RFC 5785) and the
service is ``{base}sparql#service``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolutions, Triple

from graph import ids, namespace
from graph.caching import EtagCache
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from graph.store.base import Store

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
DCTERMS_TITLE = NamedNode("http://purl.org/dc/terms/title")
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
ENTAILMENT = "http://www.w3.org/ns/entailment/"
W3C_FORMATS = "http://www.w3.org/ns/formats/"

#: format name (graph.formats) -> local name of its W3C format IRI
FORMAT_IRIS = {
    "json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML",
    "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV",
    "turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD",
    "rdfxml": "RDF_XML", "trig": "TriG", "nquads": "N-Quads",
}

UNION_COMMENT = ("The default graph of a query is the union of all named graphs "
                 "(setting default_graph_union = true).")
OWN_DEFAULT_COMMENT = ("The default graph of a query is the store's own default graph, "
                       "not the union of the named graphs (setting default_graph_union = "
                       "false); use GRAPH or FROM to reach named graphs.")


def sd(name: str) -> NamedNode:
    return NamedNode(SD + name)


def void(name: str) -> NamedNode:
    return NamedNode(VOID + name)


@dataclass(frozen=True)
class GraphStats:
    """VoID statistics of one graph (or of the whole dataset)."""

    triples: int = 0
    entities: int = 0
    classes: int = 0
    properties: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0

    def triples_about(self, node: NamedNode | BlankNode) -> list[Triple]:
        values = (("triples", self.triples), ("entities", self.entities),
                  ("classes", self.classes), ("properties", self.properties),
                  ("distinctSubjects", self.distinct_subjects),
                  ("distinctObjects", self.distinct_objects))
        return [Triple(node, void(name), Literal(str(value), datatype=_INTEGER))
                for name, value in values]


_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")

_MAIN = ("SELECT {g} (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) "
         "(COUNT(DISTINCT ?p) AS ?properties) (COUNT(DISTINCT ?o) AS ?objects) "
         "WHERE {{ {pattern} }} {group}")
_ENTITIES = ("SELECT {g} (COUNT(DISTINCT ?s) AS ?entities) WHERE {{ {pattern} FILTER(isIRI(?s)) }} "
             "{group}")
_CLASSES = ("SELECT {g} (COUNT(DISTINCT ?o) AS ?classes) WHERE {{ {pattern} "
            "FILTER(?p = <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>) }} {group}")

_SCOPES = {
    "named": ("GRAPH ?g { ?s ?p ?o }", True),
    "default": ("?s ?p ?o", False),
    "all": ("{ ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } }", False),
}


def _rows(store: Store, template: str, scope: str, union: bool) -> list[Any]:
    pattern, grouped = _SCOPES[scope]
    text = template.format(g="?g" if grouped else "", pattern=pattern,
                           group="GROUP BY ?g" if grouped else "")
    result = store.query(text, union_default=union)
    assert isinstance(result, QuerySolutions)
    return list(result)


def _int(solution: Any, name: str) -> int:
    term = solution[name]
    return int(term.value) if term is not None else 0


def statistics(store: Store, scope: str, union: bool = False) -> dict[str, GraphStats]:
    """Statistics per named graph (``scope="named"``), of the default graph as queries see
    it (``"default"``, union or not) or of every quad (``"all"``); keys are graph IRIs,
    ``""`` for the ungrouped scopes."""
    key = (lambda s: s["g"].value) if scope == "named" else (lambda _s: "")
    found: dict[str, dict[str, int]] = {}
    for solution in _rows(store, _MAIN, scope, union):
        if _int(solution, "triples"):
            found[key(solution)] = {
                "triples": _int(solution, "triples"),
                "distinct_subjects": _int(solution, "subjects"),
                "properties": _int(solution, "properties"),
                "distinct_objects": _int(solution, "objects")}
    for template, name in ((_ENTITIES, "entities"), (_CLASSES, "classes")):
        for solution in _rows(store, template, scope, union):
            if key(solution) in found:
                found[key(solution)][name] = _int(solution, name)
    return {graph: GraphStats(**values) for graph, values in found.items()}


def dataset_iri(base: str) -> NamedNode:
    return NamedNode(f"{base}.well-known/void#dataset")


def graph_node(graph: str) -> BlankNode:
    """A stable blank node for the description of ``graph`` (shared by SD and VoID)."""
    return BlankNode("g" + hashlib.sha1(graph.encode("utf-8")).hexdigest()[:16])


def _void(store: Store, base: str, uri_space: str) -> list[Triple]:
    dataset = dataset_iri(base)
    triples = [
        Triple(dataset, RDF_TYPE, void("Dataset")),
        Triple(dataset, DCTERMS_TITLE, Literal("BorderKG", language="en")),
        Triple(dataset, void("sparqlEndpoint"), NamedNode(base + "sparql")),
        Triple(dataset, void("uriSpace"), Literal(uri_space + "id/")),
        Triple(dataset, void("vocabulary"), NamedNode(uri_space + "def/")),
    ]
    total = statistics(store, "all").get("", GraphStats())
    triples += total.triples_about(dataset)
    for graph, stats in sorted(statistics(store, "named").items()):
        node = graph_node(graph)
        triples += [Triple(dataset, void("subset"), node),
                    Triple(node, RDF_TYPE, void("Dataset")),
                    Triple(node, RDF_TYPE, sd("Graph")),
                    Triple(node, sd("name"), NamedNode(graph))]
        triples += stats.triples_about(node)
    return triples


def _service(store: Store, base: str, union: bool, uri_space: str) -> list[Triple]:
    endpoint = NamedNode(base + "sparql")
    service = NamedNode(base + "sparql#service")
    dataset = dataset_iri(base)
    default = BlankNode("defaultgraph")
    triples = [
        Triple(service, RDF_TYPE, sd("Service")),
        Triple(service, sd("endpoint"), endpoint),
        Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        Triple(service, sd("supportedLanguage"), sd("SPARQL11Update")),
        Triple(service, sd("defaultEntailmentRegime"), NamedNode(ENTAILMENT + "Simple")),
        Triple(service, sd("defaultDataset"), dataset),
        Triple(service, RDFS_COMMENT, Literal(UNION_COMMENT if union else OWN_DEFAULT_COMMENT,
                                              language="en")),
    ]
    triples += [Triple(service, sd("resultFormat"), NamedNode(W3C_FORMATS + FORMAT_IRIS[f.name]))
                for f in (*RESULT_FORMATS, *GRAPH_FORMATS)]
    triples += [Triple(service, sd("inputFormat"), NamedNode(W3C_FORMATS + FORMAT_IRIS[f.name]))
                for f in GRAPH_FORMATS]
    if union:
        triples.append(Triple(service, sd("feature"), sd("UnionDefaultGraph")))
    triples += [Triple(dataset, RDF_TYPE, sd("Dataset")),
                Triple(dataset, sd("defaultGraph"), default),
                Triple(default, RDF_TYPE, sd("Graph"))]
    triples += statistics(store, "default", union).get("", GraphStats()).triples_about(default)
    for graph in store.named_graphs():
        named = BlankNode("n" + graph_node(graph).value)
        triples += [Triple(dataset, sd("namedGraph"), named),
                    Triple(named, RDF_TYPE, sd("NamedGraph")),
                    Triple(named, sd("name"), NamedNode(graph)),
                    Triple(named, sd("graph"), graph_node(graph))]
    return triples + _void(store, base, uri_space)


def _cached(cache: EtagCache[list[Triple]] | None, key: Hashable,
            build: Callable[[], list[Triple]]) -> list[Triple]:
    return build() if cache is None else cache.get_or_build(key, build)


def void_description(store: Store, base: str, uri_space: str = ids.BASE,
                     cache: EtagCache[list[Triple]] | None = None) -> list[Triple]:
    """VoID triples for the dataset behind the service reached at ``base``: totals, and one
    ``void:subset`` per named graph with its own statistics. ``cache``: an etag cache over
    ``store`` to keep them in (the service's ``caches.descriptions``); the list is shared,
    not to be changed."""
    return _cached(cache, ("void", base, uri_space), lambda: _void(store, base, uri_space))


def service_description(store: Store, base: str, union_default: bool,
                        uri_space: str = ids.BASE,
                        cache: EtagCache[list[Triple]] | None = None) -> list[Triple]:
    """SPARQL 1.1 Service Description triples for the endpoint ``{base}sparql``, with the
    default dataset (default graph semantics, named graphs) and its VoID statistics;
    ``cache`` as for :func:`void_description`."""
    return _cached(cache, ("sd", base, union_default, uri_space),
                   lambda: _service(store, base, union_default, uri_space))


#: the service description and VoID are serialised with the project's prefix table
PREFIXES = namespace.prefixes()
