"""The BorderKG vocabulary as Python names, and the project's one prefix table.

``BKG`` makes a misspelt term an ``AttributeError``; it is kept in step with
``ontology/borderkg.ttl`` by ``tests/test_ontology.py`` (both directions), so code that
builds triples cannot mint a term the ontology does not define.

``PREFIXES`` names every vocabulary the project writes or shows: Turtle documents and the
service description are serialised with it, pages compact IRIs with it, the query page's
prologue and prefix completion are it, and SPARQL the service runs itself declares its
prefixes from it (``prologue``). One table, so a prefix means the same namespace
everywhere (``schema:`` is ``https://schema.org/``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

BKG_IRI = "https://w3id.org/borderkg/def/"

#: prefix -> namespace IRI, in the order the query page declares them
PREFIXES: Mapping[str, str] = MappingProxyType({
    "bkg": BKG_IRI,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "org": "http://www.w3.org/ns/org#",
    "qb": "http://purl.org/linked-data/cube#",
    "time": "http://www.w3.org/2006/time#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
    "sdmx-measure": "http://purl.org/linked-data/sdmx/2009/measure#",
    "nif": "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#",
    "itsrdf": "http://www.w3.org/2005/11/its/rdf#",
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "formats": "http://www.w3.org/ns/formats/",
    "ent": "http://www.w3.org/ns/entailment/",
})


def prefixes(*names: str) -> dict[str, str]:
    """The table, or the entries ``names`` of it (a ``KeyError`` for a prefix it lacks),
    as serialisers take them: pyoxigraph's and rdflib's ``prefixes``/``bind``."""
    return {name: PREFIXES[name] for name in (names or PREFIXES)}


def prologue(*names: str) -> str:
    """SPARQL ``PREFIX`` lines for the table, or for its entries ``names``, one a line."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes(*names).items())


class BKG(DefinedNamespace):
    """Classes and properties of the BorderKG ontology (``bkg:``)."""

    _NS = Namespace(BKG_IRI)
    _fail = True

    # Classes, and the data structure definition StatedFiguresStructure
    Agreement: URIRef
    Announcement: URIRef
    BilateralRelation: URIRef
    Bill: URIRef
    BorderRegion: URIRef
    Claim: URIRef
    Concern: URIRef
    Country: URIRef
    CountryDesignation: URIRef
    DerivedValue: URIRef
    Figure: URIRef
    FiscalYear: URIRef
    GovernmentAgency: URIRef
    Intention: URIRef
    LegislativeStatus: URIRef
    Mention: URIRef
    NationalGovernment: URIRef
    Obstacle: URIRef
    PercentageChange: URIRef
    PolicyIssue: URIRef
    PolicyMeasure: URIRef
    PolicyObjective: URIRef
    ProspectiveEffect: URIRef
    ReconciliationResult: URIRef
    RemovalFlight: URIRef
    RemovalOperation: URIRef
    RemovalSeries: URIRef
    Sentence: URIRef
    StatedFigure: URIRef
    StatedFiguresStructure: URIRef
    Statement: URIRef
    Trend: URIRef

    # Properties and other terms
    advancedBy: URIRef
    allowsToSue: URIRef
    appliesToFlightType: URIRef
    areaOfResponsibility: URIRef
    assignedTitle: URIRef
    assistedBy: URIRef
    beginIndex: URIRef
    between: URIRef
    borderPatrolSector: URIRef
    characterisation: URIRef
    citizenship: URIRef
    comparedWith: URIRef
    complicates: URIRef
    component: URIRef
    computedValue: URIRef
    concurrentWith: URIRef
    conductedBy: URIRef
    continuing: URIRef
    couldBeMoreSevereThan: URIRef
    curationStatus: URIRef
    defendant: URIRef
    demographic: URIRef
    designatedBy: URIRef
    designatedCountry: URIRef
    designationReason: URIRef
    designationType: URIRef
    destination: URIRef
    disagreementTopic: URIRef
    drivenBy: URIRef
    durationLessThan: URIRef
    encounterCount: URIRef
    endIndex: URIRef
    figureKind: URIRef
    fiscalYear: URIRef
    flightType: URIRef
    fromObservation: URIRef
    governmentOf: URIRef
    hasLegislativeStatus: URIRef
    headsOrganization: URIRef
    implementedBy: URIRef
    inferenceRule: URIRef
    intendedBy: URIRef
    iso3166Alpha2: URIRef
    iso3166Alpha3: URIRef
    issueFor: URIRef
    landBorderRegion: URIRef
    laysFoundationFor: URIRef
    longStanding: URIRef
    makesClaim: URIRef
    maximumDuration: URIRef
    measuredBy: URIRef
    month: URIRef
    numberOfCountries: URIRef
    numberOfOperations: URIRef
    obstructs: URIRef
    ofPost: URIRef
    ordinal: URIRef
    paragraphNumber: URIRef
    partOfSeries: URIRef
    party: URIRef
    promptedBy: URIRef
    qualifier: URIRef
    quotedPhrase: URIRef
    reachedUnderLeadershipOf: URIRef
    reconciles: URIRef
    reconciliationStatus: URIRef
    removalCount: URIRef
    reportsStatement: URIRef
    requestsCooperationFrom: URIRef
    resumedDuring: URIRef
    sentenceNumber: URIRef
    servesObjective: URIRef
    sha256: URIRef
    soughtRelief: URIRef
    state: URIRef
    statedPercentageChange: URIRef
    statusCode: URIRef
    statusDate: URIRef
    support: URIRef
    targetPopulation: URIRef
    targetsDesignationType: URIRef
    text: URIRef
    timeframe: URIRef
    titleOfAuthority: URIRef
    toObservation: URIRef
    tolerance: URIRef
    trendDirection: URIRef
    wording: URIRef
    wouldHaveEffect: URIRef
