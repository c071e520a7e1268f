"""OWL-Time intervals for the periods BorderKG talks about: fiscal years, months, years, ranges.

Statistics from the article and from CBP's files must land on the *same* period IRIs to be
comparable, so the IRIs are made here and only here. Each interval is a
``time:ProperInterval`` whose beginning and end are ``time:Instant``s carrying the first and
the last *day* of the period (``time:inXSDDate``; day granularity, both days included).
Instants are named after their interval (``.../beginning``, ``.../end``) rather than after
the date, because the start of one day and the end of another are different instants.

The US federal fiscal year N runs from 1 October N-1 to 30 September N (31 U.S.C. 1102).
A fiscal year is also a ``bkg:FiscalYear`` and ``time:intervalMeets`` the next one.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, TIME, XSD

from . import ids
from .namespace import bkg

__all__ = [
    "Interval",
    "calendar_year_iri",
    "date_range_iri",
    "fiscal_year_bounds",
    "fiscal_year_iri",
    "fiscal_years_iri",
    "interval_for_iri",
    "interval_triples",
    "month_iri",
]

TIME_BASE = ids.ID + "time/"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

Triple = tuple[URIRef, URIRef, URIRef | Literal]


@dataclass(frozen=True)
class Interval:
    """A period: its IRI, first and last day (inclusive), label, and enclosing fiscal year."""

    iri: str
    first: date
    last: date
    label: str
    during: str | None = None
    #: the interval that begins the day after this one ends (consecutive fiscal years)
    meets: str | None = None
    #: a class beyond ``time:ProperInterval`` (``bkg:FiscalYear``)
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(
                f"interval {self.iri} ends ({self.last}) before it begins ({self.first})"
            )


def fiscal_year_of(day: date) -> int:
    """The US federal fiscal year ``day`` falls in (October starts the next one)."""
    return day.year + 1 if day.month >= 10 else day.year


def fiscal_year_bounds(fy: int) -> tuple[date, date]:
    """First and last day of US fiscal year ``fy``: 1 October ``fy-1`` .. 30 September ``fy``.

    >>> fiscal_year_bounds(2022)
    (datetime.date(2021, 10, 1), datetime.date(2022, 9, 30))
    """
    return date(fy - 1, 10, 1), date(fy, 9, 30)


def fiscal_year_iri(fy: int) -> str:
    """IRI of US fiscal year ``fy``, e.g. ``.../id/time/fy2022``."""
    return f"{TIME_BASE}fy{fy:04d}"


def fiscal_years_iri(first: int, last: int) -> str:
    """IRI of the run of fiscal years ``first`` to ``last``, e.g. ``.../id/time/fy2022--fy2024``."""
    return f"{TIME_BASE}fy{first:04d}--fy{last:04d}"


def month_iri(year: int, month: int) -> str:
    """IRI of a calendar month, e.g. ``.../id/time/2024-06``."""
    if not 1 <= month <= 12:
        raise ValueError(f"no month {month}")
    return f"{TIME_BASE}{year:04d}-{month:02d}"


def calendar_year_iri(year: int) -> str:
    """IRI of a calendar year, e.g. ``.../id/time/2020``."""
    return f"{TIME_BASE}{year:04d}"


def date_range_iri(first: date, last: date) -> str:
    """IRI of the days ``first`` to ``last``, both included.

    For example ``.../id/time/2025-01-06--2025-01-10`` (ISO 8601-2's ``--`` range separator).
    """
    return f"{TIME_BASE}{first.isoformat()}--{last.isoformat()}"


def _fiscal_year(fy: int) -> Interval:
    first, last = fiscal_year_bounds(fy)
    label = f"fiscal year {fy} ({_day(first)} – {_day(last)})"
    return Interval(fiscal_year_iri(fy), first, last, label, meets=fiscal_year_iri(fy + 1),
                    kind=bkg.FiscalYear)


def _fiscal_years(fy1: int, fy2: int) -> Interval:
    if fy2 <= fy1:
        raise ValueError(f"fiscal-year run must go forward: {fy1}..{fy2}")
    first, last = fiscal_year_bounds(fy1)[0], fiscal_year_bounds(fy2)[1]
    return Interval(fiscal_years_iri(fy1, fy2), first, last, f"fiscal years {fy1}–{fy2}")


def _month(year: int, month: int) -> Interval:
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return Interval(
        month_iri(year, month),
        first,
        last,
        f"{_MONTHS[month - 1]} {year}",
        during=fiscal_year_iri(fiscal_year_of(first)),
    )


def _year(year: int) -> Interval:
    return Interval(
        calendar_year_iri(year), date(year, 1, 1), date(year, 12, 31), f"calendar year {year}"
    )


def _range(first: date, last: date) -> Interval:
    return Interval(date_range_iri(first, last), first, last, f"{_day(first)} – {_day(last)}")


def _day(d: date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Interval]], ...] = (
    (re.compile(r"fy(\d{4})--fy(\d{4})"), lambda m: _fiscal_years(int(m[1]), int(m[2]))),
    (re.compile(r"fy(\d{4})"), lambda m: _fiscal_year(int(m[1]))),
    (re.compile(r"(\d{4})-(\d{2})"), lambda m: _month(int(m[1]), int(m[2]))),
    (re.compile(r"(\d{4})"), lambda m: _year(int(m[1]))),
    (
        re.compile(r"(\d{4}-\d{2}-\d{2})--(\d{4}-\d{2}-\d{2})"),
        lambda m: _range(date.fromisoformat(m[1]), date.fromisoformat(m[2])),
    ),
)


def interval_for_iri(iri: str) -> Interval:
    """The interval an IRI made by this module names; ``ValueError`` for any other IRI.

    Lets the seed build emit the OWL-Time description of every period the knowledge
    mentions, without a hand-kept list that could drift from the IRIs used.
    """
    if iri.startswith(TIME_BASE):
        local = iri[len(TIME_BASE) :]
        for pattern, make in _PATTERNS:
            match = pattern.fullmatch(local)
            if match:
                return make(match)
    raise ValueError(f"not a BorderKG interval IRI: {iri}")


def interval_triples(interval: Interval | str) -> Iterator[Triple]:
    """The OWL-Time triples describing ``interval`` (an :class:`Interval` or its IRI)."""
    if isinstance(interval, str):
        interval = interval_for_iri(interval)
    node = URIRef(interval.iri)
    yield node, RDF.type, TIME.ProperInterval
    yield node, RDFS.label, Literal(interval.label, lang="en")
    for role, prop, day in (
        ("beginning", TIME.hasBeginning, interval.first),
        ("end", TIME.hasEnd, interval.last),
    ):
        instant = URIRef(f"{interval.iri}/{role}")
        yield node, prop, instant
        yield instant, RDF.type, TIME.Instant
        yield instant, TIME.inXSDDate, Literal(day.isoformat(), datatype=XSD.date)
    if interval.during:
        yield node, TIME.intervalDuring, URIRef(interval.during)
    if interval.kind:
        yield node, RDF.type, URIRef(interval.kind)
    if interval.meets:
        # a year-over-year comparison joins on this link instead of parsing IRIs
        yield node, TIME.intervalMeets, URIRef(interval.meets)
