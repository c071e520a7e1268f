"""A columnar side index of the RDF Data Cube observations, for the named analyst queries.

The named queries over the CBP encounter observations (``queries/encounters-by-*.rq``,
``monthly-*.rq``, ``top-citizenships.rq``, ``year-over-year-growth.rq``) group tens of
thousands of observations per request. This module keeps the observations as numpy arrays
(one column of term codes per dimension, one of counts), built from the store with one
SPARQL SELECT and keyed to the store's ``etag``: the first answer after a write rebuilds it.

It answers a named query only when the answer is exactly the SPARQL answer:

* the query's text is the text the answer was written for (a hash of each file);
* every parameter the query needs is bound (an unbound one changes what the query means);
* the observations are regular: each has at most one value per dimension, the values are
  IRIs and the counts are ``xsd:integer`` (otherwise the index declines every query);
* the order is fully determined (ties under ``ORDER BY DESC(?encounters)`` alone decline),
  and every label a row would carry is the only label of its resource (``SAMPLE`` of one).

The rows, paged, are handed back as the solutions of a ``VALUES`` query on an empty
in-memory engine; the per-cent figures are computed there with the named query's own
expressions, so datatypes and rounding are the engine's. Anything else returns ``None``
and the caller runs the SPARQL query unchanged. ``BORDERKG_CUBE_INDEX=0`` turns it off, and
so does a missing numpy (not among the install requirements).
"""
from __future__ import annotations

import hashlib
import logging
import os
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode, QuerySolutions
from pyoxigraph import Store as _Engine

from graph.caching import EtagCache
from graph.namespace import PREFIXES, bkg
from graph.store.base import Store, solutions
from queries import NamedQuery

try:  # numpy is not among the install requirements: without it SPARQL answers
    import numpy as np
except ImportError:  # pragma: no cover - numpy is in the test and bench environments
    np = None  # type: ignore[assignment]

__all__ = ["CLAIMED", "CubeIndex", "answer", "enabled", "index_for"]

BKG = PREFIXES["bkg"]
QB = PREFIXES["qb"]
XSD_INTEGER = PREFIXES["xsd"] + "integer"
RDFS_LABEL = PREFIXES["rdfs"] + "label"
SKOS_PREF = PREFIXES["skos"] + "prefLabel"
MEETS = PREFIXES["time"] + "intervalMeets"
FY_PREFIX = "https://w3id.org/borderkg/id/time/fy"

#: observation property -> column
COLUMNS = {QB + "dataSet": "dataset", bkg.citizenship: "citizenship",
           bkg.landBorderRegion: "region", bkg.fiscalYear: "fiscalYear",
           bkg.month: "month", bkg.demographic: "demographic",
           bkg.titleOfAuthority: "title"}
COUNT = bkg.encounterCount

PROPERTIES = (*COLUMNS, COUNT)
#: one SELECT: a row per observation with its dimension values and count (a second row
#: for one observation means a property with two values), the labels of the resources
#: and the links between consecutive fiscal years
BUILD = f"""
SELECT ?s {" ".join(f"?v{i}" for i in range(len(PROPERTIES)))} ?p ?o WHERE {{
  {{ ?s a <{QB}Observation>
     {" ".join(f"OPTIONAL {{ ?s <{p}> ?v{i} }}" for i, p in enumerate(PROPERTIES))} }}
  UNION
  {{ ?s ?p ?o . VALUES ?p {{ <{RDFS_LABEL}> <{SKOS_PREF}> }} }}
  UNION
  {{ ?s <{MEETS}> ?o . BIND(<{MEETS}> AS ?p) }}
}}
"""

#: sha256 of each claimed query's text: an edited file is no longer claimed
CLAIMED = {
    "encounters-by-fiscal-year":
        "cbea22834b2937a00533299d06e54b82c9ce9bf0e642e178c542839f144e2923",
    "encounters-by-demographic":
        "36eb400cadb7023ed1f3096b82b77dbb6cbbe0e839444a1e7102275f9f7ccb0a",
    "monthly-encounters":
        "da381569244ada9e3caf3504bee9b24431723d61a54d9bbcfd58d68bc9d40920",
    "monthly-change":
        "1cdaa750719911132b6d7bfca4ff332791f631fcc26eef62be84b42e1924ebb6",
    "top-citizenships":
        "c833495cb96aea7d7ece4324c0c0a6fdbf0268ca9470382d6df4c328373b4d0f",
    "year-over-year-growth":
        "5669981e0afd39ece87637ff7e53c93d9fff6c69fd6a15eb08596920866333be",
}

_AMBIGUOUS = object()
_EMPTY = _Engine()

log = logging.getLogger("borderkg")


def enabled() -> bool:
    """Whether the fast path is on (``BORDERKG_CUBE_INDEX=0`` turns it off; it needs numpy)."""
    setting = os.environ.get("BORDERKG_CUBE_INDEX", "1").strip().lower()
    return np is not None and setting not in ("0", "false", "no", "off")


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class CubeIndex:
    """The observations of one store version, column by column."""

    etag: str
    #: False when the observations are not regular enough to answer exactly
    usable: bool = True
    reason: str = ""
    terms: list[Any] = field(default_factory=list)
    codes: dict[Any, int] = field(default_factory=dict)
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    period_labels: dict[int, Any] = field(default_factory=dict)
    citizenship_labels: dict[int, Any] = field(default_factory=dict)
    meets: dict[int, set[int]] = field(default_factory=dict)
    meets_usable: bool = True

    def __len__(self) -> int:
        return len(self.counts)

    @property
    def nbytes(self) -> int:
        """What the columns hold (the terms and labels come on top: a few per value)."""
        return int(self.counts.nbytes + sum(column.nbytes for column in self.columns.values()))

    def code(self, term: Any) -> int:
        """The code of ``term`` (-2 when no observation names it: matches nothing)."""
        return self.codes.get(term, -2)

    def term(self, code: int) -> Any:
        return self.terms[code]

    @classmethod
    def build(cls, store: Store) -> CubeIndex:
        index = cls(etag=store.etag)
        codes, terms = index.codes, index.terms

        def code_of(term: Any) -> int:
            found = codes.get(term)
            if found is None:
                found = codes[term] = len(terms)
                terms.append(term)
            return found

        seen: set[Any] = set()
        kept: list[tuple[Any, ...]] = []
        labels: dict[Any, dict[str, set[Any]]] = {}
        meets: dict[Any, set[Any]] = {}
        width = len(PROPERTIES)
        for row in solutions(store.query(BUILD)):
            s, *values, p, o = tuple(row)
            if p is not None:
                if p.value == MEETS:
                    meets.setdefault(s, set()).add(o)
                else:
                    labels.setdefault(s, {}).setdefault(p.value, set()).add(o)
                continue
            if s in seen:
                index._decline(f"observation {s} has a property with two values")
                continue
            seen.add(s)
            count = values[width - 1]
            if count is None or values[0] is None or values[1] is None:
                continue  # every claimed query needs the data set, citizenship and count
            if not isinstance(count, Literal) or count.datatype.value != XSD_INTEGER:
                index._decline(f"observation {s} has a count that is not an xsd:integer")
                continue
            try:
                int(count.value)
            except ValueError:
                index._decline(f"observation {s} has an ill-formed count")
                continue
            if any(v is not None and not isinstance(v, NamedNode) for v in values[:-1]):
                index._decline(f"observation {s} has a dimension value that is not an IRI")
                continue
            kept.append(tuple(values))
        if not index.usable:
            return index
        size = len(kept)
        for position, name in enumerate(COLUMNS.values()):
            column = np.full(size, -1, dtype=np.int32)
            for i, observed in enumerate(kept):
                value = observed[position]
                if value is not None:
                    column[i] = code_of(value)
            index.columns[name] = column
        counts = [int(observed[width - 1].value) for observed in kept]
        if counts and (max(counts) > 2**40 or min(counts) < -(2**40) or size > 2**20):
            index._decline("counts too large for exact int64 sums")
        index.counts = np.array(counts, dtype=np.int64)
        for subject, by_predicate in labels.items():
            if subject not in codes:
                continue
            code = codes[subject]
            periods = by_predicate.get(RDFS_LABEL, set())
            if periods:
                index.period_labels[code] = next(iter(periods)) if len(periods) == 1 \
                    else _AMBIGUOUS
            names = periods | by_predicate.get(SKOS_PREF, set())
            if names:
                index.citizenship_labels[code] = next(iter(names)) if len(names) == 1 \
                    else _AMBIGUOUS
        for subject, targets in meets.items():
            if subject not in codes:
                continue
            if any(not isinstance(t, NamedNode) for t in targets):
                index.meets_usable = False
            index.meets[codes[subject]] = {code_of(t) for t in targets
                                           if isinstance(t, NamedNode)}
        return index

    def _decline(self, reason: str) -> None:
        if self.usable:
            self.usable, self.reason = False, reason

    # -- selection and grouping ---------------------------------------------------------
    def select(self, equal: Mapping[str, int], present: tuple[str, ...] = ()) -> np.ndarray:
        """The mask of observations whose columns equal ``equal`` and have ``present``."""
        mask = np.ones(len(self), dtype=bool)
        for name, code in equal.items():
            mask &= self.columns[name] == code
        for name in present:
            mask &= self.columns[name] >= 0
        return mask

    def sums(self, mask: np.ndarray, by: str) -> dict[int, int]:
        """Sum of counts under ``mask`` per code of column ``by`` (present values only)."""
        keys = self.columns[by][mask]
        if not len(keys):
            return {}
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = np.zeros(len(unique), dtype=np.int64)
        np.add.at(sums, inverse, self.counts[mask])
        return {int(k): int(v) for k, v in zip(unique, sums, strict=True)}


# -- the answers ---------------------------------------------------------------------------
@dataclass
class Answer:
    """Rows in the query's order (before paging) and how to project them."""

    variables: list[str]
    rows: list[tuple[Any, ...]]
    #: extra projected expressions, ``(expression, variable)``, appended after ``variables``
    expressions: tuple[tuple[str, str], ...] = ()


Handler = Callable[[CubeIndex, Mapping[str, Any]], Answer | None]


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=NamedNode(XSD_INTEGER))


def _region_filter(index: CubeIndex, bound: Mapping[str, Any],
                   equal: dict[str, int]) -> tuple[str, ...]:
    """``FILTER(COALESCE(?inRegion = ?region, true))`` over a required ``?inRegion``."""
    region = bound.get("region")
    if region is None:
        return ("region",)
    equal["region"] = index.code(region)
    return ()


def _needs(bound: Mapping[str, Any], *names: str) -> bool:
    return all(isinstance(bound.get(n), NamedNode) for n in names)


def _by_period(period: str, label_var: str) -> Handler:
    """encounters-by-fiscal-year and monthly-encounters: a series ordered by period IRI."""
    def handle(index: CubeIndex, bound: Mapping[str, Any]) -> Answer | None:
        if not _needs(bound, "citizenship", "dataset"):
            return None
        equal = {"dataset": index.code(bound["dataset"]),
                 "citizenship": index.code(bound["citizenship"])}
        present = _region_filter(index, bound, equal)
        totals = index.sums(index.select(equal, (*present, period)), period)
        rows = []
        for code, total in totals.items():
            label = index.period_labels.get(code)
            if label is _AMBIGUOUS:
                return None
            rows.append((bound["citizenship"], bound.get("region"), bound["dataset"],
                         index.term(code), label, _integer(total)))
        rows.sort(key=lambda r: r[3].value)
        return Answer(["citizenship", "region", "dataset", period, label_var, "encounters"],
                      rows)
    return handle


def _by_demographic(index: CubeIndex, bound: Mapping[str, Any]) -> Answer | None:
    year = bound.get("year")
    if not _needs(bound, "citizenship", "dataset") or not isinstance(year, Literal):
        return None
    equal = {"dataset": index.code(bound["dataset"]),
             "citizenship": index.code(bound["citizenship"]),
             "fiscalYear": index.code(NamedNode(FY_PREFIX + year.value))}
    mask = index.select(equal, ("demographic", "title"))
    if not mask.any():
        return Answer(["citizenship", "year", "dataset", "demographic", "titleOfAuthority",
                       "encounters"], [])
    demographic, title = index.columns["demographic"][mask], index.columns["title"][mask]
    pairs = demographic.astype(np.int64) * len(index.terms) + title
    unique, inverse = np.unique(pairs, return_inverse=True)
    sums = np.zeros(len(unique), dtype=np.int64)
    np.add.at(sums, inverse, index.counts[mask])
    if len(set(sums.tolist())) != len(sums):
        return None  # ORDER BY DESC(?encounters) leaves ties in the engine's order
    width = len(index.terms)
    rows = [(bound["citizenship"], year, bound["dataset"], index.term(int(k) // width),
             index.term(int(k) % width), _integer(int(v)))
            for k, v in zip(unique, sums, strict=True)]
    rows.sort(key=lambda r: -int(r[5].value))
    return Answer(["citizenship", "year", "dataset", "demographic", "titleOfAuthority",
                   "encounters"], rows)


def _monthly_change(index: CubeIndex, bound: Mapping[str, Any]) -> Answer | None:
    if not _needs(bound, "citizenship", "dataset", "from", "to"):
        return None
    equal = {"dataset": index.code(bound["dataset"]),
             "citizenship": index.code(bound["citizenship"])}
    present = _region_filter(index, bound, equal)
    totals = index.sums(index.select(equal, (*present, "month")), "month")
    first, second = index.code(bound["from"]), index.code(bound["to"])
    matched = [m for m in totals if m in (first, second)]
    variables = ["citizenship", "region", "dataset", "from", "to", "fromCount", "toCount",
                 "change"]
    expressions = (('IF(?fromCount > 0, ROUND(1000 * ?change / ?fromCount) / 10, "n/a")',
                    "percentChange"),)
    if not matched:
        return Answer(variables, [], expressions)
    from_count = sum(totals[m] for m in matched if m == first)
    to_count = sum(totals[m] for m in matched if m == second)
    change = sum(totals[m] if m == second else -totals[m] for m in matched)
    row = (bound["citizenship"], bound.get("region"), bound["dataset"], bound["from"],
           bound["to"], _integer(from_count), _integer(to_count), _integer(change))
    return Answer(variables, [row], expressions)


def _top_citizenships(index: CubeIndex, bound: Mapping[str, Any]) -> Answer | None:
    if not _needs(bound, "fiscalYear", "dataset"):
        return None
    equal = {"dataset": index.code(bound["dataset"]),
             "fiscalYear": index.code(bound["fiscalYear"])}
    present = _region_filter(index, bound, equal)
    totals = index.sums(index.select(equal, present), "citizenship")
    rows = []
    for code, total in totals.items():
        label = index.citizenship_labels.get(code)
        if label is _AMBIGUOUS:
            return None
        rows.append((bound["fiscalYear"], bound.get("region"), bound["dataset"],
                     index.term(code), label, _integer(total)))
    rows.sort(key=lambda r: (-int(r[5].value), r[3].value))
    return Answer(["fiscalYear", "region", "dataset", "citizenship", "label", "encounters"],
                  rows)


def _growth(index: CubeIndex, bound: Mapping[str, Any]) -> Answer | None:
    if not _needs(bound, "citizenship", "dataset") or not index.meets_usable:
        return None
    equal = {"dataset": index.code(bound["dataset"]),
             "citizenship": index.code(bound["citizenship"])}
    present = _region_filter(index, bound, equal)
    totals = index.sums(index.select(equal, (*present, "fiscalYear")), "fiscalYear")
    own: dict[int, int] = {}
    previous: dict[int, int] = {}
    for year, total in totals.items():
        # ?observedYear time:intervalMeets? ?fiscalYear: the year itself and each it meets
        for target in {year} | index.meets.get(year, set()):
            if target == year:
                own[target] = own.get(target, 0) + total
            else:
                previous[target] = previous.get(target, 0) + total
    rows = [(bound["citizenship"], bound.get("region"), bound["dataset"], index.term(year),
             _integer(own.get(year, 0)), _integer(previous.get(year, 0)))
            for year in set(own) | set(previous)
            if own.get(year, 0) > 0 and previous.get(year, 0) > 0]
    rows.sort(key=lambda r: r[3].value)
    return Answer(["citizenship", "region", "dataset", "fiscalYear", "encounters", "previous"],
                  rows, (("ROUND(1000 * (?encounters - ?previous) / ?previous) / 10",
                          "growth"),))


HANDLERS: dict[str, Handler] = {
    "encounters-by-fiscal-year": _by_period("fiscalYear", "fiscalYearLabel"),
    "encounters-by-demographic": _by_demographic,
    "monthly-encounters": _by_period("month", "monthLabel"),
    "monthly-change": _monthly_change,
    "top-citizenships": _top_citizenships,
    "year-over-year-growth": _growth,
}


# -- the index of each store ---------------------------------------------------------------
#: where an index is kept in its cache (one per store: the cache is the store's)
INDEX_KEY = "observations"
_lock = threading.Lock()
#: caches whose index is being built by a background thread (at most one build each)
_building: weakref.WeakSet[EtagCache[CubeIndex]] = weakref.WeakSet()


def index_for(store: Store, cache: EtagCache[CubeIndex] | None = None,
              wait: bool = True) -> CubeIndex | None:
    """The index of ``store``'s current version; ``None`` when a write arrived while it
    was being built (then SPARQL answers).

    ``cache`` (the service's, over ``store``'s etag) keeps it between calls; without one
    every call builds a new index. With ``wait=False`` (a request thread) a stale index is
    not built by the caller: one background thread builds it into ``cache`` while SPARQL
    answers, so no request waits for a build."""
    if cache is not None:
        index = cache.get(INDEX_KEY)
        if index is not None:
            return index
        if not wait:
            with _lock:
                if cache not in _building:
                    _building.add(cache)
                    threading.Thread(target=_build_in_background, args=(store, cache),
                                     daemon=True, name="borderkg-cube-index").start()
            return None
    with _lock:
        if cache is not None:
            index = cache.get(INDEX_KEY)
            if index is not None:
                return index
        index = CubeIndex.build(store)  # reads the etag before its SELECT
        if index.etag != store.etag:
            return None
        if cache is not None:
            cache.put(INDEX_KEY, index, index.etag, size=index.nbytes)
        return index


def _build_in_background(store: Store, cache: EtagCache[CubeIndex]) -> None:
    try:
        index_for(store, cache)
    except Exception:  # SPARQL keeps answering; the next request retries
        log.exception("the observations' index could not be built")
    finally:
        with _lock:
            _building.discard(cache)


def _sparql_term(term: Any) -> str:
    return "UNDEF" if term is None else str(term)


def _solutions(answer: Answer, limit: int, offset: int) -> QuerySolutions:
    rows = answer.rows[offset:offset + limit]
    names = " ".join(f"?{v}" for v in answer.variables)
    projection = names + "".join(f" ({expr} AS ?{var})" for expr, var in answer.expressions)
    values = "\n".join("(" + " ".join(_sparql_term(t) for t in row) + ")" for row in rows)
    result = _EMPTY.query(f"SELECT {projection} WHERE {{ VALUES ({names}) {{\n{values}\n}} }}")
    assert isinstance(result, QuerySolutions)
    return result


def answer(store: Store, query: NamedQuery, substitutions: Mapping[Any, Any], limit: int,
           offset: int, wait: bool = True,
           cache: EtagCache[CubeIndex] | None = None) -> QuerySolutions | None:
    """The solutions of the named ``query`` from the index, or ``None`` when it cannot give
    exactly the SPARQL answer (then the caller runs the query); ``wait`` and ``cache`` as
    ``index_for``."""
    handler = HANDLERS.get(query.name)
    if handler is None or not enabled() or CLAIMED.get(query.name) != text_hash(query.text):
        return None
    index = index_for(store, cache, wait)
    if index is None or not index.usable:
        return None
    bound = {getattr(k, "value", str(k)): v for k, v in substitutions.items()}
    result = handler(index, bound)
    if result is None:
        return None
    return _solutions(result, limit, offset)
