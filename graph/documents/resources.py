"""What the linked-data document of one resource says, gathered from the store.

A dereferenced IRI answers with a bounded, CBD-like description: the resource's outgoing
triples, the triples pointing at it, and the claims about it with the sentences that
state them (so a reader sees *who says so* next to every fact). The same ``Description``
feeds the RDF serialisations and the HTML page; pages also get labels for every IRI they
show, the ontology facts of classes and properties, and statistical series for charts.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple, Variable

from graph import ids
from graph.namespace import PREFIXES, bkg
from graph.store.base import Store, solutions

__all__ = ["ClaimSource", "Description", "Series", "Term", "describe", "labels", "series",
           "term_facts", "vocabulary"]

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
SKOS = PREFIXES["skos"]
PROV = PREFIXES["prov"]
DCTERMS = PREFIXES["dcterms"]
SCHEMA = PREFIXES["schema"]
BKG = ids.DEF
LABELS = (RDFS + "label", SKOS + "prefLabel", SCHEMA + "name", SKOS + "altLabel")
#: the concepts of ``bkg:support`` (stated, inferred, editorial)
SUPPORT = ids.ID + "concept/claim-support/"
SENTENCE_FACTS = (bkg.text, bkg.sentenceNumber, DCTERMS + "isPartOf", RDF + "type")
#: the most incoming triples a document carries (a country is the citizenship of thousands
#: of observations); the page and the RDF say when the list was cut
MAX_INCOMING = 200
MAX_OUTGOING = 2000


@dataclass
class ClaimSource:
    """One claim about the resource, the sentences stating it, and how they support it:
    ``support`` is ``stated``, ``inferred`` (by ``rule``) or ``editorial`` ("" when the
    claim does not say), ``qualifiers`` the sentence's words qualifying it."""

    claim: str
    subject: Any
    predicate: str
    object: Any
    sentences: list[dict[str, Any]] = field(default_factory=list)
    support: str = ""
    rule: str = ""
    qualifiers: list[str] = field(default_factory=list)


@dataclass
class Description:
    """The bounded description of one resource."""

    iri: str
    outgoing: list[Triple]
    incoming: list[Triple]
    claims: list[ClaimSource]
    extra: list[Triple]
    incoming_truncated: bool = False

    @property
    def types(self) -> list[str]:
        return [t.object.value for t in self.outgoing
                if t.predicate.value == RDF + "type" and isinstance(t.object, NamedNode)]

    def triples(self) -> list[Triple]:
        """Every triple of the document, without duplicates, in a stable order."""
        seen: dict[Triple, None] = {}
        for triple in (*self.outgoing, *self.incoming, *self.extra):
            seen.setdefault(triple, None)
        return list(seen)

    def is_empty(self) -> bool:
        return not self.outgoing and not self.incoming


def _distinct(quads: Iterable[Any], limit: int) -> tuple[list[Triple], bool]:
    seen: dict[Triple, None] = {}
    for quad in quads:
        seen.setdefault(quad.triple, None)
        if len(seen) > limit:
            return list(seen)[:limit], True
    return list(seen), False


def describe(store: Store, iri: str) -> Description:
    """The description of ``iri`` (empty when the store says nothing about it)."""
    node = NamedNode(iri)
    outgoing, _ = _distinct(store.quads(node, None, None, None), MAX_OUTGOING)
    incoming, cut = _distinct(store.quads(None, None, node, None), MAX_INCOMING)
    claims, extra = _claims(store, node)
    return Description(iri, outgoing, incoming, claims, extra, cut)


def _claims(store: Store, node: NamedNode) -> tuple[list[ClaimSource], list[Triple]]:
    claim_nodes: dict[Any, None] = {}
    for predicate in ("subject", "object"):
        for quad in store.quads(None, NamedNode(RDF + predicate), node, None):
            claim_nodes.setdefault(quad.subject, None)
    claims, extra, sentences = [], [], {}
    for claim in list(claim_nodes)[:MAX_INCOMING]:
        triples, _ = _distinct(store.quads(claim, None, None, None), 50)
        extra += triples
        facts = {t.predicate.value: t.object for t in triples}
        source = ClaimSource(claim.value, facts.get(RDF + "subject"),
                             getattr(facts.get(RDF + "predicate"), "value", ""),
                             facts.get(RDF + "object"))
        _support(source, triples)
        for t in triples:
            if t.predicate.value == PROV + "wasDerivedFrom":
                if t.object not in sentences:
                    sentences[t.object] = _sentence(store, t.object, extra)
                sentence = sentences[t.object]
                if sentence is not None:
                    source.sentences.append(sentence)
        source.sentences.sort(key=lambda s: s.get("number") or 0)
        claims.append(source)
    claims.sort(key=lambda c: (min((s.get("number") or 0 for s in c.sentences), default=0),
                               c.claim))
    return claims, extra


def _support(source: ClaimSource, triples: list[Triple]) -> None:
    """Fill in how the claim is supported, from its own triples."""
    for t in triples:
        name, value = t.predicate.value, t.object
        if name == bkg.support and isinstance(value, NamedNode):
            if value.value.startswith(SUPPORT):
                source.support = value.value[len(SUPPORT):]
        elif name == bkg.inferenceRule and isinstance(value, Literal):
            source.rule = value.value
        elif name == bkg.qualifier and isinstance(value, Literal):
            source.qualifiers.append(value.value)
    source.qualifiers.sort()


def _sentence(store: Store, node: Any, extra: list[Triple]) -> dict[str, Any] | None:
    facts: dict[str, Any] = {}
    for quad in store.quads(node, None, None, None):
        if quad.predicate.value in SENTENCE_FACTS:
            extra.append(quad.triple)
            facts.setdefault(quad.predicate.value, quad.object)
    if bkg.text not in facts:
        return None
    number = facts.get(bkg.sentenceNumber)
    document = facts.get(DCTERMS + "isPartOf")
    return {"iri": node.value, "text": facts[bkg.text].value,
            "number": int(number.value) if number is not None else None,
            "document": document.value if document is not None else None}


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """A display label for each IRI that has one (rdfs:label first, then SKOS, schema)."""
    wanted = sorted({i for i in iris if i})
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), 200):
        values = " ".join(str(NamedNode(i)) for i in wanted[start:start + 200])
        query = (f"SELECT ?s ?p ?l WHERE {{ VALUES ?s {{ {values} }} VALUES ?p "
                 f"{{ {' '.join(f'<{p}>' for p in LABELS)} }} ?s ?p ?l }}")
        for row in solutions(store.query(query)):
            rank, text = LABELS.index(row["p"].value), row["l"].value
            if row["s"].value not in found or rank < found[row["s"].value][0]:
                found[row["s"].value] = (rank, text)
    return {iri: text for iri, (_, text) in found.items()}


def term_facts(store: Store, description: Description) -> dict[str, Any] | None:
    """For an ontology class or property: what defines it and how much it is used."""
    types = set(description.types)
    is_class = bool(types & {OWL + "Class", RDFS + "Class"})
    is_property = any(t.endswith("Property") for t in types)
    if not (is_class or is_property):
        return None
    node = NamedNode(description.iri)
    out = {p: [t.object for t in description.outgoing if t.predicate.value == RDFS + p]
           for p in ("subClassOf", "subPropertyOf", "domain", "range", "comment")}
    facts: dict[str, Any] = {"kind": "class" if is_class else "property", **out}
    if is_class:
        facts["subclasses"] = [t.subject for t in description.incoming
                               if t.predicate.value == RDFS + "subClassOf"]
        facts["instances"] = _count(store, "SELECT ?term (COUNT(DISTINCT ?s) AS ?n) "
                                    "WHERE { ?s a ?term } GROUP BY ?term", node)
    else:
        facts["uses"] = _count(store, "SELECT ?term (COUNT(*) AS ?n) "
                               "WHERE { ?s ?term ?o } GROUP BY ?term", node)
    return facts


@dataclass(frozen=True)
class Term:
    """One class or property an ontology defines, as its page lists it."""

    iri: str
    kind: str
    label: str | None
    comment: str | None


#: the types that make a term a class or a property, as the ontology page groups them
TERM_KINDS = {OWL + "Class": "class", RDFS + "Class": "class",
              OWL + "ObjectProperty": "property", OWL + "DatatypeProperty": "property",
              OWL + "AnnotationProperty": "property", RDF + "Property": "property"}
_TERMS = f"""SELECT ?term ?type ?label ?comment ?namespace WHERE {{
  VALUES ?type {{ {' '.join(f'<{t}>' for t in TERM_KINDS)} }}
  ?term a ?type .
  FILTER(isIRI(?term) && STRSTARTS(STR(?term), STR(?namespace)))
  OPTIONAL {{ ?term <{RDFS}label> ?label }}
  OPTIONAL {{ ?term <{RDFS}comment> ?comment }}
}}"""


def vocabulary(store: Store, namespace: str) -> list[Term]:
    """The classes and properties under ``namespace``, classes first, by label.

    What the ontology's own document lists, so that a reader arriving from the site's
    logo sees the vocabulary rather than the ontology's few header triples. A term typed
    both ``owl:ObjectProperty`` and ``rdf:Property`` is listed once.
    """
    bind = {Variable("namespace"): NamedNode(namespace)}
    found: dict[str, Term] = {}
    for row in solutions(store.query(_TERMS, substitutions=bind)):
        iri = row["term"].value
        if iri not in found or found[iri].label is None:
            found[iri] = Term(iri, TERM_KINDS[row["type"].value],
                              _value(row["label"]),
                              _value(row["comment"]))
    return sorted(found.values(), key=lambda t: (t.kind, (t.label or t.iri).lower()))


def _value(term: Any) -> str | None:
    return None if term is None else str(term.value)


def _count(store: Store, query: str, node: NamedNode) -> int:
    """``?n`` of a one-row count query with ``?term`` bound to ``node``."""
    rows = list(solutions(store.query(query, substitutions={Variable("term"): node})))
    return int(rows[0]["n"].value) if rows else 0


@dataclass
class Series:
    """Values over periods, ready for a chart."""

    title: str
    kind: str  # "line" or "bar"
    points: list[tuple[str, float]]


_DIMENSIONS = " ".join(f"<{bkg[d]}>" for d in (
    "citizenship", "landBorderRegion", "state", "demographic", "titleOfAuthority", "component",
    "areaOfResponsibility")) + " <http://purl.org/linked-data/cube#dataSet>"



def _by_period(period: str, measure: str) -> str:
    """Totals of ``measure`` per data set and ``period`` (a ``bkg:`` property) over the
    observations that have ``?entity`` as a dimension value."""
    return f"""
PREFIX bkg: <{BKG}>
PREFIX qb: <http://purl.org/linked-data/cube#>
SELECT ?entity ?dataset ?period (SUM(?n) AS ?total) WHERE {{
  VALUES ?dim {{ {_DIMENSIONS} }}
  ?obs a qb:Observation ; ?dim ?entity ; qb:dataSet ?dataset ; bkg:{period} ?period ;
       bkg:{measure} ?n .
  FILTER NOT EXISTS {{ ?obs a bkg:StatedFigure }}  # stated figures have their own series
}} GROUP BY ?entity ?dataset ?period ORDER BY ?dataset ?period"""


_OBSERVED = _by_period("month", "encounterCount")
#: removals (ICE) are their own measure, by fiscal year: a series of their own, never
#: added to the encounters
_REMOVALS = _by_period("fiscalYear", "removalCount")

_STATED = f"""
PREFIX bkg: <{BKG}>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <{RDFS}>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
SELECT DISTINCT ?entity ?figure ?period ?label ?start ?n WHERE {{
  VALUES ?dim {{ {_DIMENSIONS} }}
  ?figure a bkg:StatedFigure ; ?dim ?entity ; sdmx-dimension:refPeriod ?period ;
          bkg:encounterCount ?n .
  OPTIONAL {{ ?period rdfs:label ?label }}
  OPTIONAL {{ ?period time:hasBeginning/time:inXSDDate ?start }}
}} ORDER BY ?start ?period"""


def series(store: Store, iri: str) -> list[Series]:
    """Monthly encounters of observations that have ``iri`` as a dimension value (one
    series per imported table), removals by fiscal year (one series per table: another
    measure, shown beside the encounters, never summed with them), and the figures
    sources state for it, by period."""
    bind = {Variable("entity"): NamedNode(iri)}
    found: list[Series] = []
    monthly: dict[str, list[tuple[str, float]]] = {}
    for row in solutions(store.query(_OBSERVED, substitutions=bind)):
        month = row["period"].value.rsplit("/", 1)[-1]
        monthly.setdefault(row["dataset"].value, []).append((month, float(row["total"].value)))
    names = labels(store, monthly)
    for dataset, points in monthly.items():
        name = names.get(dataset, dataset.rsplit("/", 1)[-1])
        found.append(Series(f"Monthly encounters — {name}", "line", points))
    found += _yearly(store, _REMOVALS, bind, "Removals by fiscal year")
    return found + _stated(store, bind)


#: the granularities of stated periods, each its own chart: a fiscal year's total and a
#: single month's count on one axis would invite a comparison they cannot bear
GRANULARITIES = (("fiscal-year", "by fiscal year"), ("month", "by month"),
                 ("other", "other periods"))


def granularity(period: str) -> str:
    """``fiscal-year``, ``month`` or ``other`` for a period IRI of ``graph.ids``.

    >>> granularity("https://w3id.org/borderkg/id/time/fy2023"), granularity(".../2024-06")
    ('fiscal-year', 'month')
    """
    local = period.rsplit("/", 1)[-1]
    if re.fullmatch(r"fy\d{4}", local):
        return "fiscal-year"
    return "month" if re.fullmatch(r"\d{4}-\d{2}", local) else "other"


def _stated(store: Store, bind: dict[Variable, NamedNode]) -> list[Series]:
    """The figures sources state, one bar chart per granularity of their periods."""
    by_kind: dict[str, list[tuple[str, float]]] = {}
    for row in solutions(store.query(_STATED, substitutions=bind)):
        if isinstance(row["n"], Literal):
            by_kind.setdefault(granularity(row["period"].value), []).append(
                (_period_label(row), float(row["n"].value)))
    return [Series(f"Encounter figures stated by the sources, {title}", "bar", by_kind[kind])
            for kind, title in GRANULARITIES if kind in by_kind]


def _yearly(store: Store, query: str, bind: dict[Variable, NamedNode],
            title: str) -> list[Series]:
    """One bar series per data set of a fiscal-year measure (``?dataset ?period ?total``)."""
    yearly: dict[str, list[tuple[str, float]]] = {}
    for row in solutions(store.query(query, substitutions=bind)):
        year = row["period"].value.rsplit("/", 1)[-1].upper()
        yearly.setdefault(row["dataset"].value, []).append((year, float(row["total"].value)))
    names = labels(store, yearly)
    return [Series(f"{title} — {names.get(dataset, dataset.rsplit('/', 1)[-1])}", "bar",
                   points) for dataset, points in yearly.items()]


def _period_label(row: Any) -> str:
    period: str = row["period"].value.rsplit("/", 1)[-1]
    return period.upper() if period.startswith("fy") else period
