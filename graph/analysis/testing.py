"""A tiny store for the analyses' docstring examples and quick experiments.

Five entities (ICE, DHS, a removal flight, China, the United States), five relationships,
two of them stated by a sentence through a reified claim, plus what the projection must
leave out: a time interval, the claim, the sentence and ``rdf:type`` edges.
"""
from __future__ import annotations

from pyoxigraph import RdfFormat

from graph.store.oxigraph import OxigraphStore

__all__ = ["TINY_TRIG", "tiny_store"]

TINY_TRIG = """
@prefix ex: <https://example.org/> .
@prefix bkg: <https://w3id.org/borderkg/def/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix prov: <http://www.w3.org/ns/prov#> .

<https://w3id.org/borderkg/graph/ontology> {
    bkg:assistedBy rdfs:label "assisted by"@en .
    bkg:destination rdfs:label "destination"@en .
    bkg:conductedBy rdfs:label "conducted by"@en .
    org:subOrganizationOf rdfs:label "sub-organization of"@en .
    bkg:RemovalFlight rdfs:subClassOf prov:Activity .
}
<https://w3id.org/borderkg/graph/background> {
    ex:ice a bkg:GovernmentAgency ; rdfs:label "U.S. Immigration and Customs Enforcement"@en ;
        skos:altLabel "ICE"@en ; org:subOrganizationOf ex:dhs .
    ex:dhs a bkg:GovernmentAgency ; rdfs:label "U.S. Department of Homeland Security"@en ;
        skos:altLabel "DHS"@en ; org:subOrganizationOf ex:usa .
    ex:chn a bkg:Country ; rdfs:label "China"@en .
    ex:usa a bkg:Country ; rdfs:label "United States"@en .
}
<https://w3id.org/borderkg/graph/article/tiny> {
    ex:flight a bkg:RemovalFlight ; rdfs:label "fifth removal flight"@en ;
        bkg:assistedBy ex:ice ; bkg:destination ex:chn ; bkg:conductedBy ex:dhs ;
        time:hasTime ex:week .
    ex:week a time:ProperInterval ; rdfs:label "a week"@en .
    ex:s1 a bkg:Sentence ; bkg:sentenceNumber 1 ; bkg:text "ICE assisted the flight to China." .
    ex:c1 a bkg:Claim ; rdf:subject ex:flight ; rdf:predicate bkg:assistedBy ;
        rdf:object ex:ice ; prov:wasDerivedFrom ex:s1 .
    ex:c2 a bkg:Claim ; rdf:subject ex:flight ; rdf:predicate bkg:destination ;
        rdf:object ex:chn ; prov:wasDerivedFrom ex:s1 .
}
"""


def tiny_store() -> OxigraphStore:
    """A fresh in-memory store holding :data:`TINY_TRIG`."""
    store = OxigraphStore(None)
    store.load(TINY_TRIG, RdfFormat.TRIG)
    return store
