"""The ontology file: metadata, documentation of every term, alignment, namespace module."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

import ontology
from graph.namespace import BKG, BKG_IRI

QB = "http://purl.org/linked-data/cube#"
ONTOLOGY_IRI = URIRef("https://w3id.org/borderkg/def")


@pytest.fixture(scope="module")
def onto() -> Graph:
    return Graph().parse(ontology.ontology_path(), format="turtle")


def defined_terms(g: Graph) -> set[str]:
    return {
        str(s)[len(BKG_IRI) :]
        for s in g.subjects()
        if isinstance(s, URIRef) and str(s).startswith(BKG_IRI)
    }


def test_package_data_api() -> None:
    assert ontology.ontology_path().name == "borderkg.ttl"
    assert ontology.shapes_path().is_file()
    assert "owl:Ontology" in ontology.read_text("borderkg.ttl")


def test_ontology_metadata(onto: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    for prop in (DCTERMS.title, DCTERMS.description, OWL.versionInfo, DCTERMS.license):
        assert onto.value(ONTOLOGY_IRI, prop) is not None, prop
    assert (
        str(onto.value(ONTOLOGY_IRI, URIRef("http://purl.org/vocab/vann/preferredNamespacePrefix")))
        == "bkg"
    )
    assert (
        str(onto.value(ONTOLOGY_IRI, URIRef("http://purl.org/vocab/vann/preferredNamespaceUri")))
        == BKG_IRI
    )


def test_every_term_is_typed_labelled_and_commented(onto: Graph) -> None:
    for name in sorted(defined_terms(onto)):
        term = URIRef(BKG_IRI + name)
        assert onto.value(term, RDF.type) is not None, name
        assert onto.value(term, RDFS.label) is not None, f"{name} has no rdfs:label"
        assert onto.value(term, RDFS.comment) is not None, f"{name} has no rdfs:comment"


def test_every_concept_has_pref_label_and_scheme(onto: Graph) -> None:
    concepts = set(onto.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) > 30
    for concept in concepts:
        assert onto.value(concept, SKOS.prefLabel) is not None, concept
        assert (concept, SKOS.inScheme, None) in onto, concept


def test_namespace_module_matches_turtle_both_ways(onto: Graph) -> None:
    in_turtle = defined_terms(onto)
    in_module = set(BKG.__annotations__)
    assert in_turtle - in_module == set(), "terms missing from graph/namespace.py"
    assert in_module - in_turtle == set(), "graph/namespace.py names terms the ontology lacks"


def test_misspelt_term_is_an_error() -> None:
    with pytest.raises(AttributeError):
        BKG.Cliam  # noqa: B018


@pytest.mark.parametrize(
    ("sub", "sup"),
    [
        (BKG.GovernmentAgency, URIRef("http://www.w3.org/ns/org#Organization")),
        (BKG.GovernmentAgency, URIRef("https://schema.org/GovernmentOrganization")),
        (BKG.Claim, RDF.Statement),
        (BKG.Claim, URIRef("http://www.w3.org/ns/prov#Entity")),
        (BKG.StatedFigure, URIRef(QB + "Observation")),
        (BKG.Bill, URIRef("https://schema.org/Legislation")),
        (BKG.Country, URIRef("https://schema.org/Country")),
    ],
)
def test_classes_align_with_w3c_and_schema_org(onto: Graph, sub: URIRef, sup: URIRef) -> None:
    assert (sub, RDFS.subClassOf, sup) in onto


@pytest.mark.parametrize(
    "prop",
    [
        "citizenship",
        "landBorderRegion",
        "state",
        "demographic",
        "titleOfAuthority",
        "fiscalYear",
        "month",
        "borderPatrolSector",
        "areaOfResponsibility",
        "component",
    ],
)
def test_statistics_dimensions(onto: Graph, prop: str) -> None:
    assert (URIRef(BKG_IRI + prop), RDF.type, URIRef(QB + "DimensionProperty")) in onto


def test_encounter_count_is_an_integer_measure(onto: Graph) -> None:
    assert (BKG.encounterCount, RDF.type, URIRef(QB + "MeasureProperty")) in onto
    assert onto.value(BKG.encounterCount, RDFS.range) == URIRef(
        "http://www.w3.org/2001/XMLSchema#integer"
    )


def test_no_enacted_law_class(onto: Graph) -> None:
    """Enactment is a dated status, never a type."""
    classes = {str(c) for c in onto.subjects(RDF.type, OWL.Class)}
    assert not any("Enacted" in c or c.endswith("/Law") for c in classes)
