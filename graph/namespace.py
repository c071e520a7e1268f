"""The BorderKG vocabulary as Python names: a misspelt term is an ``AttributeError``.

Kept in step with ``ontology/borderkg.ttl`` by ``tests/test_ontology.py`` (both directions),
so code that builds triples cannot mint a term the ontology does not define.
"""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

BKG_IRI = "https://w3id.org/borderkg/def/"


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
