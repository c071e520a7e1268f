"""ICE removals by country of citizenship, by fiscal year, as RDF Data Cube observations.

ICE Enforcement and Removal Operations publishes, in its annual report, a table with one
row per country of citizenship and one column per fiscal year (``CountryOfCitizenship,
2017, 2018``; counts may carry spaces). Each cell becomes one ``qb:Observation`` in
``graph/ice-removals`` with ``bkg:fiscalYear`` and ``sdmx-dimension:refPeriod`` (the
fiscal year: the table has no months), ``bkg:citizenship`` and the measure
``bkg:removalCount``.

Removals are not encounters: a different measure on its own data set, so no query that
sums ``bkg:encounterCount`` can add them in. Citizenship values are the CBP importer's
resources (the seed's country where there is one, ``CHINA`` is ``id/country/CHN``, else
an ``id/citizenship/<slug>`` concept), and the fiscal years are the shared ones: both are
described in ``graph/reference`` (``graph.imports.reference``), never in this graph.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from graph import ids
from graph.namespace import bkg
from graph.store.base import Store

from .common import (
    QB,
    RDF_TYPE,
    SDMX_DIMENSION,
    Component,
    Importer,
    ImportReport,
    integer,
    open_table,
    row_error,
    row_hash,
    structure_quads,
    table_rows,
)
from .progress import ImportProgress, Observer
from .reference import Citizenships, period_quads
from .steps import ReadTable, Target, import_table

GRAPH = ids.graph("ice-removals")
DATASET = ids.thing("dataset", "ice-removals-by-citizenship")
TITLE = "ICE removals by country of citizenship"
#: raise the version whenever the quads made from the same file change
IMPORTER = Importer("ice-removals", 2)
CITIZENSHIP_COLUMN = "CountryOfCitizenship"
COMPONENTS = [Component("dimension", bkg.fiscalYear, 1),
              Component("dimension", SDMX_DIMENSION + "refPeriod", 2),
              Component("dimension", bkg.citizenship, 3),
              Component("measure", bkg.removalCount)]
_YEAR = re.compile(r"(?:FY\s*)?(\d{4})")


class Table:
    """The checked rows of one file as quads, with the periods and citizenships they
    use (for the shared graph) and the names seen (a country twice is refused)."""

    def __init__(self, path: Path) -> None:
        from graph.intervals import fiscal_year_iri  # rdflib: only when rows are read

        self.path, self.fiscal_year_iri = path, fiscal_year_iri
        self.quads: list[Quad] = []
        self.periods: set[str] = set()
        self.citizenships = Citizenships()
        self.seen: dict[str, int] = {}
        self.graph, self.dataset = NamedNode(GRAPH), NamedNode(DATASET)
        self.p = {name: NamedNode(iri) for name, iri in (
            ("type", RDF_TYPE.value), ("dataSet", QB + "dataSet"),
            ("fiscalYear", bkg.fiscalYear), ("refPeriod", SDMX_DIMENSION + "refPeriod"),
            ("citizenship", bkg.citizenship), ("removalCount", bkg.removalCount))}

    @property
    def rows(self) -> int:
        return len(self.seen)

    def add(self, years: list[int], values: list[str], line: int) -> None:
        """One checked row: an observation per fiscal year."""
        name = values[0].strip()
        if not name:
            raise row_error(self.path, line, "no country of citizenship")
        if name.upper() in self.seen:
            raise row_error(self.path, line,
                            f"{name} again (first on line {self.seen[name.upper()]})")
        self.seen[name.upper()] = line
        citizenship = self.citizenships.node(name)
        for year, text in zip(years, values[1:], strict=True):
            count, fy = _count(text, self.path, line, year), self.fiscal_year_iri(year)
            self.periods.add(fy)
            obs = NamedNode(ids.thing("observation", "ice-removals/"
                                      + row_hash(str(year), name.upper())))
            self.quads += [Quad(obs, self.p[prop], value, self.graph) for prop, value in (
                ("type", NamedNode(QB + "Observation")), ("dataSet", self.dataset),
                ("fiscalYear", NamedNode(fy)), ("refPeriod", NamedNode(fy)),
                ("citizenship", citizenship), ("removalCount", integer(count)))]


def fiscal_years(header: list[str], path: Path) -> list[int]:
    """The fiscal year of each column after the first; a header that is not the ICE
    table's is refused."""
    names = [h.strip() for h in header]
    years = [_YEAR.fullmatch(name) for name in names[1:]]
    if not names or names[0] != CITIZENSHIP_COLUMN or not years or None in years:
        raise row_error(path, 1, f"not an ICE removals table (expected {CITIZENSHIP_COLUMN} "
                        "then one column per fiscal year, e.g. 2017)")
    return [int(match[1]) for match in years if match]


def _count(text: str, path: Path, line: int, year: int) -> int:
    value = text.strip().replace(",", "")
    if not value.isdigit():
        raise row_error(path, line, f"removals in FY{year} {text!r} is not a non-negative "
                        "integer")
    return int(value)


def read_table(path: Path, progress: ImportProgress | None = None) -> Table:
    """Every row checked and turned into observation quads (nothing is written here)."""
    table = Table(path)
    with open_table(path, progress.read if progress else None) as handle:
        reader = csv.reader(handle)
        lines = table_rows(reader, path)
        header = next(lines, None)
        if header is None:
            raise row_error(path, 1, "the file is empty")
        years = fiscal_years(header, path)
        for values in lines:
            if not values:
                continue
            if len(values) != len(header):
                raise row_error(path, reader.line_num,
                                f"{len(values)} fields, expected {len(header)}")
            table.add(years, values, reader.line_num)
    if progress is not None:
        progress.rows(table.rows)
    return table


def import_ice_removals(store: Store, path: Path, progress: bool | None = None,
                        observe: Observer | None = None) -> ImportReport:
    """Import the ICE removals-by-citizenship table into ``graph/ice-removals``; a file
    this importer version imported before is answered from the provenance record, and
    ``progress``/``observe`` are as for :func:`graph.imports.cbp.import_cbp`."""

    def read(bars: ImportProgress) -> ReadTable:
        table = read_table(Path(path), bars)
        quads = [*table.quads, *structure_quads(DATASET, TITLE, COMPONENTS, NamedNode(GRAPH)),
                 *table.citizenships.quads(), *period_quads(table.periods)]
        return ReadTable(quads, table.rows, len(table.quads) // 6,
                         {"fiscal_years": len(table.periods)})

    return import_table(store, path, Target(IMPORTER, DATASET, GRAPH), read, progress, observe)
