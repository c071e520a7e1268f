"""Consistency checks run at build time, on the figures and periods the article states.

The article states both raw figures and a percentage derived from them, and states the
bounds of a fiscal year; either could be wrong (a typo, a rounding slip, a calendar-year
confusion). The checks recompute what can be recomputed and compare, at the precision the
source used: "-62 %" is a whole percent, so it agrees with any value in [-62.5, -61.5).

The percentage check is also run against the store by ``graph.imports.reconcile``, which writes
its result (the computed value as a ``bkg:DerivedValue``, never replacing the stated one)
into the reconciliation graph with the checks of the stated figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from rdflib import Dataset, URIRef
from rdflib.namespace import RDF, TIME
from rdflib.term import Node

from graph import ids, intervals
from graph.namespace import BKG

__all__ = [
    "CheckResult",
    "percent_change",
    "run_checks",
    "stated_tolerance",
]

STATUS = ids.ID + "concept/reconciliation-status/"
COMPUTED_PLACES = Decimal("0.0001")

Triple = tuple[Node, Node, Node]


@dataclass(frozen=True)
class CheckResult:
    """One check: what was checked, whether it passed, the values compared."""

    check: str
    subject: str
    ok: bool
    stated: str
    computed: str
    detail: str = ""


def percent_change(before: int, after: int) -> Decimal:
    """Change from ``before`` to ``after`` in percent, to four decimal places.

    >>> percent_change(2160, 820)
    Decimal('-62.0370')
    """
    if before == 0:
        raise ValueError("percentage change from zero is undefined")
    exact = (Decimal(after) - Decimal(before)) * 100 / Decimal(before)
    return exact.quantize(COMPUTED_PLACES, rounding=ROUND_HALF_EVEN)


def stated_tolerance(stated: Decimal) -> Decimal:
    """Half a unit in the last place the source wrote: 0.5 for "62", 0.05 for "62.0"."""
    exponent = stated.as_tuple().exponent
    assert isinstance(exponent, int)
    return Decimal(5).scaleb(exponent - 1)


def run_checks(ds: Dataset) -> list[CheckResult]:
    """All consistency checks over the article graph (and the periods of the background)."""
    return [*_percentage_checks(ds), *_fiscal_year_checks(ds)]


def _article(ds: Dataset):  # type: ignore[no-untyped-def]
    return ds.graph(URIRef(ids.GRAPH_ARTICLE))


def _percentage_checks(ds: Dataset) -> Iterator[CheckResult]:
    g = _article(ds)
    for change in sorted(g.subjects(RDF.type, BKG.PercentageChange)):
        stated = Decimal(str(g.value(change, BKG.statedPercentageChange)))
        before = int(g.value(g.value(change, BKG.fromObservation), BKG.encounterCount))
        after = int(g.value(g.value(change, BKG.toObservation), BKG.encounterCount))
        computed = percent_change(before, after)
        ok = abs(computed - stated) <= stated_tolerance(stated)
        yield CheckResult(
            "percentage-change",
            str(change),
            ok,
            str(stated),
            str(computed),
            f"{before} -> {after}; tolerance ±{stated_tolerance(stated)}",
        )


def _fiscal_year_checks(ds: Dataset) -> Iterator[CheckResult]:
    """Fiscal years described in the graph, and bounds the article states, against the calendar."""
    yield from _stated_bounds(ds)
    yield from _described_bounds(ds)


def _stated_bounds(ds: Dataset) -> Iterator[CheckResult]:
    g = _article(ds)
    for prop, side in ((TIME.intervalStartedBy, "first"), (TIME.intervalFinishedBy, "last")):
        for outer, inner in sorted(g.subject_objects(prop)):
            expected = getattr(intervals.interval_for_iri(str(outer)), side)
            found = getattr(intervals.interval_for_iri(str(inner)), side)
            yield CheckResult(
                f"fiscal-year-{side}-day",
                str(outer),
                expected == found,
                found.isoformat(),
                expected.isoformat(),
                f"{inner} vs {outer}",
            )


def _described_bounds(ds: Dataset) -> Iterator[CheckResult]:
    g = ds.graph(URIRef(ids.GRAPH_REFERENCE))
    for node in sorted(g.subjects(RDF.type, TIME.ProperInterval), key=str):
        local = str(node)[len(intervals.TIME_BASE) :]
        if not (local.startswith("fy") and local[2:].isdigit()):
            continue
        first, last = intervals.fiscal_year_bounds(int(local[2:]))
        begin = g.value(g.value(node, TIME.hasBeginning), TIME.inXSDDate)
        end = g.value(g.value(node, TIME.hasEnd), TIME.inXSDDate)
        described = f"{begin}..{end}"
        yield CheckResult(
            "fiscal-year-bounds",
            str(node),
            described == f"{first}..{last}",
            described,
            f"{first}..{last}",
        )
