"""Reconciliation: every figure the knowledge graph states, checked against official data.

A *claim* is a statistical figure stated by a source: a resource in an article graph with
``bkg:encounterCount``, ``bkg:citizenship``, ``bkg:landBorderRegion``, a period
(``sdmx-dimension:refPeriod``) and usually ``bkg:measuredBy``. For each one we look for
official ``qb:Observation``s (from ``borderkg import``) that measure *the same thing*:

* the same citizenship and land border region (same IRIs);
* the same period: a month claim is matched on ``bkg:month``, a fiscal-year claim on
  ``bkg:fiscalYear``; every other dimension (demographic, title of authority, state,
  area) is summed over;
* the same measure: a figure credited to DHS or CBP is compared with counts over all CBP
  components (the by-state table, which has no ``bkg:component``); one credited to the
  Border Patrol (USBP) or OFO only with observations of that component.

Outcomes: **consistent** (difference within the tolerance), **inconsistent** (with the
difference and ratio), or **unverifiable** — never consistent by default: no loaded data
for the period, a fiscal year with fewer than 12 months loaded, or only a broader measure
available. The tolerance is half a unit of the stated figure's last significant digit
(2,176 → 0.5; 820 → 5, read as rounded to tens). See docs/reconciliation.md.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from graph import ids, namespace
from graph.namespace import bkg
from graph.store.base import Store, solutions

BKG = ids.DEF
QB = namespace.PREFIXES["qb"]
REF_PERIOD = namespace.PREFIXES["sdmx-dimension"] + "refPeriod"
PROV = namespace.PREFIXES["prov"]
RDF = namespace.PREFIXES["rdf"]
RDFS = namespace.PREFIXES["rdfs"]
XSD = namespace.PREFIXES["xsd"]
GRAPH = ids.graph("reconciliation")
STATUS = ids.ID + "concept/reconciliation-status/"
ARTICLE_GRAPHS = ids.GRAPH + "article/"
#: agencies whose figures are one CBP component; any other agency's (DHS, CBP) are CBP-wide
COMPONENT_OF = {ids.thing("org", "usbp"): ids.thing("org", "usbp"),
                ids.thing("org", "ofo"): ids.thing("org", "ofo")}
_FY = re.compile(r"fy(\d{4})$")
_MONTH = re.compile(r"\d{4}-\d{2}$")

#: the prologue of the queries below, from the project's prefix table
PREFIXES = namespace.prologue("bkg", "qb")
OFFICIAL = (f'FILTER(!STRSTARTS(STR(?g), "{ARTICLE_GRAPHS}") && ?g != <{GRAPH}>)')


@dataclass
class Result:
    """The outcome of checking one claim."""

    claim: str
    label: str | None
    citizenship: str
    region: str
    period: str
    measured_by: str | None
    claimed: int | float
    tolerance: float
    status: str = "unverifiable"
    official: int | float | None = None
    difference: int | float | None = None
    ratio: float | None = None
    observations: int = 0
    datasets: list[str] = field(default_factory=list)
    reason: str = ""
    #: "figure" (a stated count against official observations) or "percentage-change"
    #: (a stated change against the change computed from the two figures it links)
    kind: str = "figure"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tolerance_for(value: int) -> float:
    """Half a unit of the last significant digit: trailing zeros are read as rounding."""
    zeros = len(str(abs(value))) - len(str(abs(value)).rstrip("0")) if value else 0
    return 0.5 * float(10 ** zeros)  # int ** int is typed Any: a negative power is a float


def claims(store: Store) -> list[Result]:
    """Every stated figure in the article graphs, as unchecked results."""
    query = PREFIXES + f"""SELECT ?fig ?label ?c ?r ?p ?n ?agency WHERE {{
      GRAPH ?g {{ ?fig bkg:encounterCount ?n ; bkg:citizenship ?c ; bkg:landBorderRegion ?r ;
                  <{REF_PERIOD}> ?p .
        OPTIONAL {{ ?fig bkg:measuredBy ?agency }} OPTIONAL {{ ?fig <{RDFS}label> ?label }} }}
      FILTER(STRSTARTS(STR(?g), "{ARTICLE_GRAPHS}"))
    }} ORDER BY ?p ?fig"""
    found: dict[str, Result] = {}
    for row in store.query(query, union_default=False):  # type: ignore[union-attr]
        claimed = int(row["n"].value)
        found.setdefault(row["fig"].value, Result(
            row["fig"].value, row["label"].value if row["label"] else None, row["c"].value,
            row["r"].value, row["p"].value, row["agency"].value if row["agency"] else None,
            claimed, tolerance_for(claimed)))
    return list(found.values())


def _component_filter(agency: str | None) -> tuple[str, str]:
    """The SPARQL restriction for the claim's measure, and what it means in words."""
    if agency in COMPONENT_OF:
        return f"?o bkg:component <{COMPONENT_OF[agency]}> .", "that component only"
    return "FILTER NOT EXISTS { ?o bkg:component ?any }", "all CBP components"


def _period(result: Result) -> tuple[str, int] | None:
    """The dimension property for the claim's period and the months it must cover."""
    local = result.period.rsplit("/", 1)[-1]
    if _FY.match(local):
        return "bkg:fiscalYear", 12
    if _MONTH.match(local):
        return "bkg:month", 1
    return None


def check(store: Store, result: Result) -> Result:
    """Fill in ``result`` by comparing it with the official observations loaded."""
    period = _period(result)
    if period is None:
        result.reason = "the claim's period is neither a month nor a fiscal year"
        return result
    prop, months_needed = period
    restriction, measure = _component_filter(result.measured_by)
    months = _months_loaded(store, prop, result.period, restriction)
    if months < months_needed:
        broader = _months_loaded(store, prop, result.period, _component_filter(None)[0])
        result.reason = (f"no official data loaded for {result.period.rsplit('/', 1)[-1]}"
                         if not broader else
                         "only counts over all CBP components (Border Patrol + OFO) are loaded "
                         "for this period; the claim credits one component")
        if months and months < months_needed:
            result.reason = f"only {months} of 12 months loaded for this fiscal year"
        return result
    total, count, datasets = _official_total(store, prop, result, restriction)
    result.official, result.observations, result.datasets = total, count, datasets
    result.difference = result.claimed - total
    result.ratio = round(result.claimed / total, 4) if total else None
    agrees = abs(result.difference) <= result.tolerance
    result.status = "consistent" if agrees else "inconsistent"
    result.reason = (f"sum of {count} official observations ({measure}); stated "
                     f"{result.claimed:,}, official {total:,}")
    return result


def _months_loaded(store: Store, prop: str, period: str, restriction: str) -> int:
    query = PREFIXES + f"""SELECT (COUNT(DISTINCT ?m) AS ?months) WHERE {{
      GRAPH ?g {{ ?o a qb:Observation ; {prop} <{period}> ; bkg:month ?m . {restriction} }}
      {OFFICIAL} }}"""
    return int(next(iter(solutions(store.query(query, union_default=False))))["months"].value)


def _official_total(store: Store, prop: str, result: Result,
                    restriction: str) -> tuple[int, int, list[str]]:
    """Sum of the matching observations of one data set (the one with most observations:
    two data sets measuring the same thing must not be added together)."""
    query = PREFIXES + f"""SELECT ?ds (SUM(?n) AS ?total) (COUNT(?o) AS ?count) WHERE {{
      GRAPH ?g {{ ?o a qb:Observation ; qb:dataSet ?ds ; {prop} <{result.period}> ;
                  bkg:citizenship <{result.citizenship}> ;
                  bkg:landBorderRegion <{result.region}> ; bkg:encounterCount ?n . {restriction} }}
      {OFFICIAL} }} GROUP BY ?ds ORDER BY DESC(?count) ?ds"""
    rows = list(solutions(store.query(query, union_default=False)))
    if not rows or rows[0]["ds"] is None:
        return 0, 0, []
    return int(rows[0]["total"].value), int(rows[0]["count"].value), [rows[0]["ds"].value]


def changes(store: Store) -> list[Result]:
    """Every stated percentage change in the article graphs, checked against the change
    computed from the two stated figures it links (at the precision the source used:
    "-62 %" agrees with any value in [-62.5, -61.5])."""
    from decimal import Decimal

    from graph.knowledge.checks import percent_change, stated_tolerance

    query = PREFIXES + f"""SELECT ?change ?label ?stated ?from ?to ?a ?b ?c ?r ?agency WHERE {{
      GRAPH ?g {{ ?change a bkg:PercentageChange ; bkg:statedPercentageChange ?stated ;
                  bkg:fromObservation ?from ; bkg:toObservation ?to .
        ?from bkg:encounterCount ?a ; bkg:citizenship ?c ; bkg:landBorderRegion ?r .
        ?to bkg:encounterCount ?b .
        OPTIONAL {{ ?change <{RDFS}label> ?label }} OPTIONAL {{ ?from bkg:measuredBy ?agency }} }}
      FILTER(STRSTARTS(STR(?g), "{ARTICLE_GRAPHS}"))
    }} ORDER BY ?change"""
    found = []
    for row in solutions(store.query(query, union_default=False)):
        stated, before, after = (Decimal(row["stated"].value), int(row["a"].value),
                                 int(row["b"].value))
        computed, tolerance = percent_change(before, after), stated_tolerance(stated)
        agrees = abs(computed - stated) <= tolerance
        found.append(Result(
            row["change"].value, row["label"].value if row["label"] else None,
            row["c"].value, row["r"].value,
            f"{row['from'].value.rsplit('/', 1)[-1]}--{row['to'].value.rsplit('/', 1)[-1]}",
            row["agency"].value if row["agency"] else None, float(stated), float(tolerance),
            "consistent" if agrees else "inconsistent", float(computed),
            float(stated - computed), None, 0, [row["from"].value, row["to"].value],
            f"change computed from the stated figures {before:,} -> {after:,}: "
            f"{computed} %, stated {stated} % (tolerance ±{tolerance})", "percentage-change"))
    return found


def reconcile(store: Store) -> list[Result]:
    """Check every stated figure (ordered by period, then claim), then every stated
    percentage change."""
    return [*(check(store, result) for result in claims(store)), *changes(store)]


def results_table(results: list[Result]) -> str:
    """A plain-text table for the terminal."""
    header = f"{'status':<13} {'period':<9} {'stated':>8} {'official':>9} {'diff':>8}  claim"
    lines = [header, "-" * len(header)]
    for r in results:
        official = "-" if r.official is None else f"{r.official:,}"
        diff = "-" if r.difference is None else f"{r.difference:+,}"
        lines.append(f"{r.status:<13} {r.period.rsplit('/', 1)[-1]:<9} {r.claimed:>8,} "
                     f"{official:>9} {diff:>8}  {r.claim.rsplit('/', 1)[-1]}")
        lines.append(f"{'':<13} {r.reason}")
    return "\n".join(lines)


def result_iri(result: Result) -> str:
    return ids.thing("reconciliation", result.claim.rsplit("/", 1)[-1])



def result_ntriples(results: list[Result], now: datetime | None = None) -> list[str]:
    """The results as N-Triples lines (for one INSERT DATA into the reconciliation graph)."""
    when = (now or datetime.now(UTC)).replace(microsecond=0).isoformat()
    lines: list[str] = []
    for r in results:
        node, name = f"<{result_iri(r)}>", r.claim.rsplit("/", 1)[-1]
        lines += [f"{node} <{RDF}type> <{bkg.ReconciliationResult}> .",
                  f"{node} <{RDFS}label> {_string(r.status + ': ' + name)} .",
                  f"{node} <{RDFS}comment> {_string(r.reason)} .",
                  f"{node} <{bkg.reconciles}> <{r.claim}> .",
                  f"{node} <{bkg.reconciliationStatus}> <{STATUS}{r.status}> .",
                  f'{node} <{bkg.tolerance}> "{r.tolerance}"^^<{XSD}decimal> .',
                  f"{node} <{PROV}wasDerivedFrom> <{r.claim}> .",
                  f'{node} <{PROV}generatedAtTime> "{when}"^^<{XSD}dateTime> .']
        lines += [f"{node} <{PROV}wasDerivedFrom> <{ds}> ." for ds in r.datasets]
        base = result_iri(r)
        # the stated value is quoted from the claim, not derived: a plain prov:Entity
        lines += _value_node(node, base, "claimed", r.claimed, "stated figure",
                             f"<{r.claim}>", PROV + "used", PROV + "Entity")
        if r.official is not None:
            sources = " , ".join(f"<{ds}>" for ds in r.datasets) or None
            lines += _value_node(node, base, "official", r.official,
                                 "official total" if r.kind == "figure" else
                                 "percentage change computed from the stated figures",
                                 sources, bkg.comparedWith, bkg.DerivedValue)
            lines += _value_node(node, base, "difference", r.difference,
                                 "stated minus official", None, bkg.computedValue,
                                 bkg.DerivedValue)
    return lines


def _value_node(node: str, base: str, name: str, value: Any, label: str,
                derived_from: str | None, link: str, kind: str) -> list[str]:
    value_node = f"<{base}/{name}>"
    lines = [f"{node} <{link}> {value_node} .",
             f"{value_node} <{RDF}type> <{kind}> .",
             f"{value_node} <{RDFS}label> {_string(label)} .",
             f'{value_node} <{RDF}value> "{value}"^^<{XSD}{_datatype(value)}> .']
    if derived_from:
        lines.append(f"{value_node} <{PROV}wasDerivedFrom> {derived_from} .")
    return lines


def _datatype(value: Any) -> str:
    """A count is an integer; a percentage (or its difference) a decimal."""
    return "integer" if isinstance(value, int) else "decimal"


def _string(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"@en'


def write_results(store: Store, results: list[Result]) -> int:
    """Replace the reconciliation graph with ``results`` in one update; returns triples."""
    lines = result_ntriples(results)
    body = "\n".join(lines)
    store.update(f"DROP SILENT GRAPH <{GRAPH}> ;\nINSERT DATA {{ GRAPH <{GRAPH}> {{\n{body}\n}} }}")
    return len(lines)
