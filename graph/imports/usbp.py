"""U.S. Border Patrol monthly encounters by sector (FY2000–FY2020) as Data Cube observations.

The table (pipe-separated, usually gzip-compressed) has one row per month: ``month``
(calendar month number), one column per Border Patrol sector, the regional totals
``coastal_border``, ``northern_border``, ``southwest_border``, ``monthly_total``, and
``fy``/``cy``. Each (month, sector) cell becomes one observation in ``graph/usbp-monthly``
with ``bkg:borderPatrolSector``, ``bkg:month``/``sdmx-dimension:refPeriod``,
``bkg:fiscalYear``, ``bkg:component`` = U.S. Border Patrol and ``bkg:encounterCount``.
The regional and monthly totals are not stored: they are sums of the sectors
(``SUM`` in SPARQL gives them), and storing both would double-count in any aggregate.
The periods are described in the shared ``graph/reference`` (``graph.imports.reference``).
"""
from __future__ import annotations

import csv
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from graph import ids
from graph.namespace import bkg
from graph.store.base import Store

from .common import (
    QB,
    RDF_TYPE,
    RDFS_LABEL,
    SDMX_DIMENSION,
    SKOS,
    Component,
    Importer,
    ImportReport,
    NodeCache,
    integer,
    open_table,
    row_error,
    row_hash,
    structure_quads,
    table_rows,
    term,
)
from .progress import ImportProgress, Observer
from .reference import period_quads
from .steps import ReadTable, Target, import_table

GRAPH = ids.graph("usbp-monthly")
DATASET = ids.thing("dataset", "usbp-monthly-encounters-by-sector")
TITLE = "U.S. Border Patrol monthly encounters by sector"
#: raise the version whenever the quads made from the same file change
IMPORTER = Importer("usbp-monthly", 4)
TOTALS = {"coastal_border", "northern_border", "southwest_border", "monthly_total"}
PERIOD_COLUMNS = {"month", "fy", "cy"}
COMPONENTS = [Component("dimension", bkg.fiscalYear, 1),
              Component("dimension", SDMX_DIMENSION + "refPeriod", 2),
              Component("dimension", bkg.borderPatrolSector, 3),
              Component("attribute", bkg.month),
              Component("attribute", bkg.component),
              Component("measure", bkg.encounterCount)]


def sector_iri(column: str) -> str:
    return ids.thing("border-patrol-sector", ids.slugify(column.replace("_", " ")))


def _int(text: str, what: str, path: Path, line: int) -> int:
    value = text.strip().replace(",", "")
    if not value.isdigit():
        raise row_error(path, line, f"{what} {text!r} is not a non-negative integer")
    return int(value)


def _sector_quads(sectors: list[str], graph: NamedNode) -> list[Quad]:
    quads = []
    for column in sectors:
        node = NamedNode(sector_iri(column))
        label = column.replace("_", " ").title()
        quads += [Quad(node, RDF_TYPE, term(SKOS + "Concept"), graph),
                  Quad(node, RDFS_LABEL, Literal(f"{label} Sector", language="en"), graph),
                  Quad(node, term(SKOS + "notation"), Literal(column), graph)]
    return quads


def read_table(path: Path, progress: ImportProgress | None = None
               ) -> tuple[list[Quad], set[str], list[str], int]:
    """Observation quads, periods used, sector columns and row count; all rows checked."""
    from graph.intervals import fiscal_year_iri, month_iri  # rdflib: only when rows are read

    graph, nodes = NamedNode(GRAPH), NodeCache()
    p = {name: NamedNode(bkg[name]) for name in
         ("fiscalYear", "month", "borderPatrolSector", "component", "encounterCount")}
    ref_period, observation, dataset_p = (NamedNode(SDMX_DIMENSION + "refPeriod"),
                                          NamedNode(QB + "Observation"), NamedNode(QB + "dataSet"))
    dataset, usbp = NamedNode(DATASET), NamedNode(ids.thing("org", "usbp"))
    quads: list[Quad] = []
    periods: set[str] = set()
    with open_table(path, progress.read if progress else None) as handle:
        reader = csv.reader(handle, delimiter="|")
        lines = table_rows(reader, path)
        header = [h.strip() for h in next(lines, [])]
        if not PERIOD_COLUMNS <= set(header):
            raise row_error(path, 1, "not a USBP monthly table (needs month, fy, cy columns)")
        sectors = [h for h in header if h not in TOTALS | PERIOD_COLUMNS]
        rows = 0
        for values in lines:
            if not values:
                continue
            line = reader.line_num
            if len(values) != len(header):
                raise row_error(path, line, f"{len(values)} fields, expected {len(header)}")
            row = dict(zip(header, values, strict=False))
            month, fy = _int(row["month"], "month", path, line), _int(row["fy"], "fy", path, line)
            if not 1 <= month <= 12:
                raise row_error(path, line, f"month {month} is not 1..12")
            period = month_iri(fy - 1 if month >= 10 else fy, month)
            periods.update((period, fiscal_year_iri(fy)))
            month_node, fy_node = nodes[period], nodes[fiscal_year_iri(fy)]
            for sector in sectors:
                count = _int(row[sector], sector, path, line)
                obs = NamedNode(ids.thing("observation", "usbp-monthly/"
                                          + row_hash(period, sector)))
                quads += [Quad(obs, RDF_TYPE, observation, graph),
                          Quad(obs, dataset_p, dataset, graph),
                          Quad(obs, p["fiscalYear"], fy_node, graph),
                          Quad(obs, p["month"], month_node, graph),
                          Quad(obs, ref_period, month_node, graph),
                          Quad(obs, p["borderPatrolSector"], nodes[sector_iri(sector)], graph),
                          Quad(obs, p["component"], usbp, graph),
                          Quad(obs, p["encounterCount"], integer(count), graph)]
            rows += 1
            if progress is not None and not rows & 0x3FF:
                progress.rows(rows)  # the count beside the bytes, as the CBP reader shows it
    if progress is not None:
        progress.rows(rows)
    return quads, periods, sectors, rows


def import_usbp_monthly(store: Store, path: Path, progress: bool | None = None,
                        observe: Observer | None = None) -> ImportReport:
    """Import the USBP monthly-by-sector table into ``graph/usbp-monthly``; a file this
    importer version imported before is answered from the provenance record, and
    ``progress``/``observe`` are as for :func:`graph.imports.cbp.import_cbp`."""

    def read(bars: ImportProgress) -> ReadTable:
        quads, periods, sectors, rows = read_table(Path(path), bars)
        observations, graph = len(quads) // 8, NamedNode(GRAPH)
        quads += structure_quads(DATASET, TITLE, COMPONENTS, graph)
        quads += _sector_quads(sectors, graph)
        quads += period_quads(periods)
        return ReadTable(quads, rows, observations, {"sectors": len(sectors)})

    return import_table(store, path, Target(IMPORTER, DATASET, GRAPH), read, progress, observe)
