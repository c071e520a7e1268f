"""The VoID description of the dataset: what it contains and where to get it.

Linked-data crawlers and catalogues read ``/.well-known/void`` to find the SPARQL
endpoint, the data dump, the IRI space and the size of each named graph. Built from the
store at request time (counts change with imports) as a list of pyoxigraph triples.
"""
from __future__ import annotations

from pyoxigraph import Literal, NamedNode, Triple

from .store import Store

__all__ = ["void_description"]

VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DCTERMS = "http://purl.org/dc/terms/"
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")


def void_description(store: Store, public_base: str, iri_base: str) -> list[Triple]:
    """VoID triples for the dataset served at ``public_base`` with IRIs under ``iri_base``."""
    dataset = NamedNode(public_base + ".well-known/void#dataset")
    v = {name: NamedNode(VOID + name) for name in (
        "Dataset", "sparqlEndpoint", "dataDump", "uriSpace", "vocabulary", "triples",
        "subset", "uriLookupEndpoint", "exampleResource", "rootResource")}
    triples = [
        Triple(dataset, RDF_TYPE, v["Dataset"]),
        Triple(dataset, NamedNode(DCTERMS + "title"), Literal("BorderKG", language="en")),
        Triple(dataset, NamedNode(DCTERMS + "description"), Literal(
            "Knowledge graph on U.S. immigration enforcement and removal cooperation: a news "
            "article's claims with their sentences, background facts and official statistics.",
            language="en")),
        Triple(dataset, v["sparqlEndpoint"], NamedNode(public_base + "sparql")),
        Triple(dataset, v["dataDump"], NamedNode(public_base + "dump.nq.gz")),
        Triple(dataset, v["uriSpace"], Literal(iri_base)),
        Triple(dataset, v["vocabulary"], NamedNode(iri_base + "def/")),
        Triple(dataset, v["uriLookupEndpoint"], NamedNode(public_base + "search?q=")),
        Triple(dataset, v["rootResource"], NamedNode(iri_base + "def")),
        Triple(dataset, v["exampleResource"], NamedNode(iri_base + "id/country/CHN")),
        Triple(dataset, v["triples"], Literal(str(store.count()), datatype=XSD_INTEGER)),
    ]
    for graph in store.named_graphs():
        subset = NamedNode(graph)
        triples += [Triple(dataset, v["subset"], subset),
                    Triple(subset, RDF_TYPE, v["Dataset"]),
                    Triple(subset, v["triples"], Literal(str(store.count(graph)),
                                                         datatype=XSD_INTEGER))]
    return triples
