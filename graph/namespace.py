"""The BorderKG vocabulary as Python names, and the project's one prefix table.

The terms are checked: ``bkg.Claim`` is the IRI of ``bkg:Claim`` and a misspelt term is an
``AttributeError``. ``DOMAIN_TERMS`` is kept in step with ``ontology/borderkg.ttl`` by
``tests/test_ontology.py`` (both directions), ``ANALYSIS_TERMS`` with
``ontology/analysis.ttl`` (the analyses' results, kept apart from the domain), so code
cannot mint a term the ontology does not define. Two views of the same names:

* ``bkg`` and ``bkg_analysis`` give plain ``str`` IRIs, for code that compares ``.value``
  strings or builds pyoxigraph terms; importing them costs nothing;
* ``BKG`` and ``BKGAnalysis`` are rdflib ``DefinedNamespace``s (``URIRef`` terms, which
  compare unequal to plain strings), for code that builds rdflib graphs. They are made on
  first use, so the service starts without importing rdflib.

``PREFIXES`` names every vocabulary the project writes or shows: Turtle documents and the
service description are serialised with it, pages compact IRIs with it, the query page's
prologue and prefix completion are it, and SPARQL the service runs itself declares its
prefixes from it (``prologue``). One table, so a prefix means the same namespace
everywhere (``schema:`` is ``https://schema.org/``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rdflib.namespace import DefinedNamespace

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


#: the classes (and the data structure definition StatedFiguresStructure) and the
#: properties and other terms of ``ontology/borderkg.ttl``
DOMAIN_TERMS: tuple[str, ...] = (
    "Agreement", "Announcement", "BilateralRelation", "Bill", "BorderRegion", "Claim", "Concern",
    "Country", "CountryDesignation", "DerivedValue", "Figure", "FiscalYear", "GovernmentAgency",
    "Intention", "LegislativeStatus", "Mention", "NationalGovernment", "Obstacle",
    "PercentageChange", "PolicyIssue", "PolicyMeasure", "PolicyObjective", "ProspectiveEffect",
    "ReconciliationResult", "RemovalFlight", "RemovalOperation", "RemovalSeries", "Sentence",
    "StatedFigure", "StatedFiguresStructure", "Statement", "Trend",
    "advancedBy", "allowsToSue", "appliesToFlightType", "areaOfResponsibility", "assignedTitle",
    "assistedBy", "beginIndex", "between", "borderPatrolSector", "characterisation", "citizenship",
    "comparedWith", "complicates", "component", "computedValue", "concurrentWith", "conductedBy",
    "continuing", "couldBeMoreSevereThan", "curationStatus", "defendant", "demographic",
    "designatedBy", "designatedCountry", "designationReason", "designationType", "destination",
    "disagreementTopic", "drivenBy", "durationLessThan", "encounterCount", "endIndex",
    "figureKind", "fiscalYear", "flightType", "fromObservation", "governmentOf",
    "hasLegislativeStatus", "headsOrganization", "implementedBy", "inferenceRule", "intendedBy",
    "iso3166Alpha2", "iso3166Alpha3", "issueFor", "landBorderRegion", "laysFoundationFor",
    "longStanding", "makesClaim", "maximumDuration", "measuredBy", "month", "numberOfCountries",
    "numberOfOperations", "obstructs", "ofPost", "ordinal", "paragraphNumber", "partOfSeries",
    "party", "promptedBy", "qualifier", "quotedPhrase", "reachedUnderLeadershipOf", "reconciles",
    "reconciliationStatus", "removalCount", "reportsStatement", "requestsCooperationFrom",
    "resumedDuring", "sentenceNumber", "servesObjective", "sha256", "soughtRelief", "state",
    "statedPercentageChange", "statusCode", "statusDate", "support", "targetPopulation",
    "targetsDesignationType", "text", "timeframe", "titleOfAuthority", "toObservation",
    "tolerance", "trendDirection", "wording", "wouldHaveEffect",
)

#: the terms of ``ontology/analysis.ttl``: analysis runs, communities, measures
ANALYSIS_TERMS: tuple[str, ...] = (
    "AnalysisRun", "Community", "analysisParameters", "betweennessCentrality",
    "closenessCentrality", "community", "degreeCentrality", "eigenvectorCentrality",
    "hadEncountersOf", "measuredEncountersIn", "measuredEncountersOf", "pageRank",
)


class Vocabulary:
    """The terms of one vocabulary as plain IRIs: ``vocabulary.term`` or
    ``vocabulary["term"]``; a name the vocabulary lacks is an ``AttributeError``."""

    __slots__ = ("_names", "_namespace")

    def __init__(self, namespace: str, names: Iterable[str]) -> None:
        self._namespace = namespace
        self._names = frozenset(names)

    def __getattr__(self, name: str) -> str:
        if name.startswith("_") or name not in self._names:
            raise AttributeError(f"term {name!r} not in namespace {self._namespace!r}")
        return self._namespace + name

    def __getitem__(self, name: str) -> str:
        return self.__getattr__(name)

    def __contains__(self, iri: object) -> bool:
        """Whether ``iri`` is one of the vocabulary's terms."""
        return (isinstance(iri, str) and iri.startswith(self._namespace)
                and iri[len(self._namespace):] in self._names)

    def __iter__(self) -> Any:
        return iter(sorted(self._namespace + name for name in self._names))


bkg = Vocabulary(BKG_IRI, DOMAIN_TERMS)
bkg_analysis = Vocabulary(BKG_IRI, ANALYSIS_TERMS)

if TYPE_CHECKING:
    BKG: type[DefinedNamespace]
    BKGAnalysis: type[DefinedNamespace]

_DEFINED = {"BKG": ("Classes and properties of the BorderKG ontology (``bkg:``).",
                    DOMAIN_TERMS),
            "BKGAnalysis": ("The terms of the relationship analyses' results "
                            "(``ontology/analysis.ttl``), in the ``bkg:`` namespace.",
                            ANALYSIS_TERMS)}


def __getattr__(name: str) -> Any:
    """``BKG`` and ``BKGAnalysis``, made (and kept) on first use: rdflib takes a while to
    import, and nothing on the service's start-up path needs rdflib terms."""
    if name not in _DEFINED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rdflib.namespace import DefinedNamespace, Namespace
    from rdflib.term import URIRef

    doc, names = _DEFINED[name]
    defined = type(name, (DefinedNamespace,), {
        "__doc__": doc, "__module__": __name__, "_NS": Namespace(BKG_IRI), "_fail": True,
        "__annotations__": {term: URIRef for term in names}})
    globals()[name] = defined
    return defined
