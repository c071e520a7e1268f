"""IRIs the projection and the analyses rely on, as plain strings.

The namespaces are those of the project's prefix table (``graph.namespace.PREFIXES``), the
BorderKG terms the namespace's checked ones (``graph.namespace.bkg``), as plain strings
rather than rdflib terms because the projection works on pyoxigraph terms and compares
``.value`` strings in tight loops.
"""
from __future__ import annotations

from graph import ids
from graph.namespace import PREFIXES, bkg, bkg_analysis

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
SKOS = PREFIXES["skos"]
FOAF = PREFIXES["foaf"]
PROV = PREFIXES["prov"]
DCTERMS = PREFIXES["dcterms"]
QB = PREFIXES["qb"]
TIME = PREFIXES["time"]
SCHEMA = PREFIXES["schema"]
XSD = PREFIXES["xsd"]
BKG = ids.DEF

RDF_TYPE = RDF + "type"
RDFS_LABEL = RDFS + "label"
SUBCLASS_OF = RDFS + "subClassOf"

#: label properties, best first: the first one found names a node in results
DISPLAY_LABELS = (RDFS_LABEL, SKOS + "prefLabel", FOAF + "name", SKOS + "notation")
#: every property whose value an analyst may type to name an entity
LOOKUP_LABELS = (*DISPLAY_LABELS, SKOS + "altLabel", SKOS + "hiddenLabel")

#: edges that describe the schema, the provenance or the document, not the world
SCHEMA_PREDICATES = frozenset({
    RDF_TYPE, SUBCLASS_OF, RDFS + "subPropertyOf", RDFS + "domain", RDFS + "range",
    RDFS + "isDefinedBy", RDFS + "seeAlso", OWL + "sameAs", SCHEMA + "sameAs",
    OWL + "equivalentClass", OWL + "equivalentProperty", OWL + "inverseOf",
    SKOS + "inScheme", SKOS + "topConceptOf", SKOS + "hasTopConcept",
    QB + "structure", QB + "dataSet", QB + "component",
    DCTERMS + "source", DCTERMS + "isPartOf", PROV + "wasDerivedFrom",
    PROV + "wasGeneratedBy", PROV + "used", FOAF + "homepage",
    bkg.makesClaim, bkg.reportsStatement,
    RDF + "subject", RDF + "predicate", RDF + "object",
})

CLAIM_CLASSES = frozenset({bkg.Claim, RDF + "Statement"})
SENTENCE_CLASSES = frozenset({bkg.Sentence})
DOCUMENT_CLASSES = frozenset({FOAF + "Document", SCHEMA + "NewsArticle", SCHEMA + "CreativeWork",
                              QB + "DataSet", QB + "DataStructureDefinition"})
TIME_CLASSES = frozenset({TIME + "TemporalEntity", TIME + "Interval", TIME + "ProperInterval",
                          TIME + "Instant", TIME + "DateTimeInterval"})
OBSERVATION_CLASSES = frozenset({QB + "Observation"})
#: BorderKG's own computed checks and analysis runs: results about the graph, not entities
DERIVED_CLASSES = frozenset({bkg.ReconciliationResult, bkg.DerivedValue,
                             bkg_analysis.AnalysisRun, bkg_analysis.Community})

#: the vocabulary namespaces whose terms are never nodes (classes, properties, code lists
#: of W3C vocabularies); BorderKG's own code-list concepts live under ``id/`` and are nodes
VOCABULARY_PREFIXES = tuple(PREFIXES[name] for name in (
    "rdf", "rdfs", "owl", "xsd", "qb", "time", "prov", "bkg", "skos", "foaf", "schema"))

GRAPH_ANALYSES = ids.graph("analyses")
#: graphs that are never projected: the schema, and the analyses' own output
UNPROJECTED_GRAPHS = frozenset({ids.GRAPH_ONTOLOGY, GRAPH_ANALYSES})

# Collapsed observations: (from dimension, to dimension, derived predicate). The first
# rule whose two dimensions an observation has gives its edge.
MEASURED_BY = bkg.measuredBy
COMPONENT = bkg.component
CITIZENSHIP = bkg.citizenship
LAND_BORDER_REGION = bkg.landBorderRegion
STATE = bkg.state
MEASURED_ENCOUNTERS_OF = bkg_analysis.measuredEncountersOf
MEASURED_ENCOUNTERS_IN = bkg_analysis.measuredEncountersIn
HAD_ENCOUNTERS_OF = bkg_analysis.hadEncountersOf
COLLAPSE_RULES: tuple[tuple[str, str, str], ...] = (
    (MEASURED_BY, CITIZENSHIP, MEASURED_ENCOUNTERS_OF),
    (COMPONENT, CITIZENSHIP, MEASURED_ENCOUNTERS_OF),
    (MEASURED_BY, LAND_BORDER_REGION, MEASURED_ENCOUNTERS_IN),
    (COMPONENT, LAND_BORDER_REGION, MEASURED_ENCOUNTERS_IN),
    (LAND_BORDER_REGION, CITIZENSHIP, HAD_ENCOUNTERS_OF),
    (STATE, CITIZENSHIP, HAD_ENCOUNTERS_OF),
)
COLLAPSED_LABELS = {
    MEASURED_ENCOUNTERS_OF: "measured encounters of citizens of",
    MEASURED_ENCOUNTERS_IN: "measured encounters in",
    HAD_ENCOUNTERS_OF: "had encounters of citizens of",
}
