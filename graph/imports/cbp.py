"""CBP "Nationwide Encounters" tables as RDF Data Cube observations.

CBP publishes the table in two variants whose columns differ, told apart by the header:

* **by state**: ``Fiscal Year, Month Grouping, Month (abbv), Land Border Region, State,
  Demographic, Citizenship, Title of Authority, Encounter Count`` — counts summed over
  CBP's components (Border Patrol and the Office of Field Operations);
* **by area of responsibility**: ``Component`` and ``Area of Responsibility`` instead of
  ``State`` (plus ``AOR (Abbv)`` and ``Encounter Type``, which are kept out of the
  dimensions: the ontology has no term for them; rows differing only there are summed).

Each row becomes one ``qb:Observation`` in ``graph/cbp-encounters`` with the ontology's
dimension properties; fiscal year and calendar month are the OWL-Time interval IRIs of
``graph.intervals`` (the month's calendar year follows from the fiscal year: October to
December belong to the previous calendar year).

Citizenship values name country resources where the graph has one
(``CHINA, PEOPLES REPUBLIC OF`` is ``id/country/CHN``); the others become SKOS concepts
``id/citizenship/<slug>``, so nothing claims a country the graph does not describe. The
periods and those concepts are shared with the other tables: they are written to
``graph/reference`` (``graph.imports.reference``), never copied into this graph.
"""
from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad

from graph import ids
from graph.namespace import bkg
from graph.store.base import Store

from .common import (
    CONCEPT,
    PROVENANCE_GRAPH,
    QB,
    RDF_TYPE,
    RDFS_LABEL,
    SDMX_DIMENSION,
    SKOS,
    Component,
    Importer,
    ImportReport,
    NodeCache,
    already_imported,
    file_sha256,
    integer,
    open_table,
    previous_import,
    provenance_quads,
    row_error,
    row_hash,
    structure_quads,
    table_rows,
    term,
    timed,
    unchanged_report,
    write_import,
)
from .progress import ImportProgress, Observer
from .reference import Citizenships, drop_local_copies, period_quads

GRAPH = ids.graph("cbp-encounters")
#: raise the version whenever the quads made from the same file change
IMPORTER = Importer("cbp-encounters", 4)
MONTHS = {name: number for number, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
COMPONENTS = {"U.S. BORDER PATROL": "usbp", "USBP": "usbp", "OFFICE OF FIELD OPERATIONS": "ofo",
              "OFO": "ofo"}
COMMON_COLUMNS = ("Fiscal Year", "Month (abbv)", "Land Border Region", "Demographic",
                  "Citizenship", "Title of Authority", "Encounter Count")
STATE_COLUMNS = (*COMMON_COLUMNS, "State")
AOR_COLUMNS = (*COMMON_COLUMNS, "Area of Responsibility", "Component")
slug = lru_cache(maxsize=4096)(ids.slugify)  # a few hundred distinct codes, 200k look-ups
_YEAR = re.compile(r"\s*(?:FY\s*)?(\d{4})\b")


@dataclass(frozen=True)
class Variant:
    """One published layout of the table."""

    name: str
    columns: tuple[str, ...]
    title: str

    @property
    def dataset(self) -> str:
        return ids.thing("dataset", f"cbp-nationwide-encounters-{self.name}")


STATE = Variant("state", STATE_COLUMNS, "CBP Nationwide Encounters by state")
AOR = Variant("aor", AOR_COLUMNS, "CBP Nationwide Encounters by area of responsibility")


def detect_variant(header: list[str], path: Path) -> Variant:
    """The variant whose columns the header has (by-AOR when it has AOR columns)."""
    present = {h.strip() for h in header}
    for variant in (AOR, STATE):
        if set(variant.columns) <= present:
            return variant
    missing = sorted(set(STATE_COLUMNS) - present)
    raise row_error(path, 1, f"not a CBP Nationwide Encounters header (missing columns: "
                    f"{', '.join(missing)})")


def components(variant: Variant) -> list[Component]:
    place = ([Component("dimension", bkg.areaOfResponsibility, 4),
              Component("dimension", bkg.component, 5)] if variant is AOR
             else [Component("dimension", bkg.state, 4)])
    return [Component("dimension", bkg.fiscalYear, 1),
            Component("dimension", SDMX_DIMENSION + "refPeriod", 2),
            Component("dimension", bkg.landBorderRegion, 3), *place,
            Component("dimension", bkg.demographic, 6),
            Component("dimension", bkg.citizenship, 7),
            Component("dimension", bkg.titleOfAuthority, 8),
            Component("attribute", bkg.month),
            Component("measure", bkg.encounterCount)]


class Rows:
    """Turns checked rows into quads, minting each code's resource once."""

    def __init__(self, variant: Variant) -> None:
        # graph.intervals brings rdflib: imported only when rows are read, so a file
        # found unchanged is answered without loading it
        from graph.intervals import fiscal_year_iri, month_iri

        self.fiscal_year_iri, self.month_iri = fiscal_year_iri, month_iri
        self.variant = variant
        self.graph = NamedNode(GRAPH)
        self.nodes = NodeCache()
        self.minted: dict[str, list[Quad]] = {}
        self.citizenships = Citizenships()
        self.periods: set[str] = set()
        self.p = {name: NamedNode(bkg[name]) for name in (
            "fiscalYear", "month", "landBorderRegion", "state", "areaOfResponsibility",
            "component", "demographic", "citizenship", "titleOfAuthority", "encounterCount")}
        self.ref_period = NamedNode(SDMX_DIMENSION + "refPeriod")
        self.observation = NamedNode(QB + "Observation")
        self.dataset_p = NamedNode(QB + "dataSet")
        self.dataset = NamedNode(variant.dataset)

    def quads(self, row: dict[str, str], line: int, path: Path) -> list[Quad]:
        fy, month, count = self._period_and_count(row, line, path)
        region = self._code("region", row["Land Border Region"])
        demographic = self._concept("demographic", row["Demographic"])
        title = self._concept("title-of-authority", row["Title of Authority"])
        citizenship = self.citizenships.node(row["Citizenship"])
        dims = [("fiscalYear", fy), ("landBorderRegion", region), ("demographic", demographic),
                ("citizenship", citizenship), ("titleOfAuthority", title)]
        identity = [row[c].strip() for c in self.variant.columns if c != "Encounter Count"]
        if self.variant is AOR:
            dims.append(("areaOfResponsibility",
                         self._code("area-of-responsibility", row["Area of Responsibility"])))
            dims.append(("component", self._component(row["Component"], line, path)))
        else:
            dims.append(("state", self._code("us-state", row["State"])))
        obs = NamedNode(ids.thing("observation", f"cbp-encounters-{self.variant.name}/"
                                  + row_hash(*identity)))
        g = self.graph
        quads = [Quad(obs, RDF_TYPE, self.observation, g),
                 Quad(obs, self.dataset_p, self.dataset, g),
                 Quad(obs, self.p["month"], month, g), Quad(obs, self.ref_period, month, g),
                 Quad(obs, self.p["encounterCount"], integer(count), g)]
        quads += [Quad(obs, self.p[name], node, g) for name, node in dims]
        return quads

    def _period_and_count(self, row: dict[str, str], line: int,
                          path: Path) -> tuple[NamedNode, NamedNode, int]:
        year = _YEAR.match(row["Fiscal Year"] or "")
        month = MONTHS.get((row["Month (abbv)"] or "").strip().upper())
        count_text = (row["Encounter Count"] or "").strip().replace(",", "")
        if not year:
            raise row_error(path, line, f"fiscal year {row['Fiscal Year']!r} is not a year")
        if month is None:
            raise row_error(path, line, f"month {row['Month (abbv)']!r} is not a month "
                            "abbreviation (JAN..DEC)")
        if not count_text.isdigit():
            raise row_error(path, line, f"encounter count {row['Encounter Count']!r} is not "
                            "a non-negative integer")
        fy = int(year.group(1))
        calendar_year = fy - 1 if month >= 10 else fy
        fy_iri, month_node = self.fiscal_year_iri(fy), self.month_iri(calendar_year, month)
        self.periods.update((fy_iri, month_node))
        return self.nodes[fy_iri], self.nodes[month_node], int(count_text)

    def _code(self, kind: str, value: str) -> NamedNode:
        """A place code (region, state, area): ``id/<kind>/<slug>``, labelled once."""
        text = value.strip()
        iri = ids.thing(kind, slug(text) or "unknown")
        if iri not in self.minted and kind != "region":
            node = self.nodes[iri]
            self.minted[iri] = [Quad(node, RDFS_LABEL, Literal(text), self.graph),
                                Quad(node, term(SKOS + "notation"), Literal(text), self.graph)]
        return self.nodes[iri]

    def _concept(self, scheme: str, value: str) -> NamedNode:
        """A code-list concept of the ontology (``id/concept/<scheme>/<slug>``)."""
        return self.nodes[f"{CONCEPT}{scheme}/{slug(value.strip())}"]

    def _component(self, value: str, line: int, path: Path) -> NamedNode:
        key = COMPONENTS.get(value.strip().upper())
        if key is None:
            raise row_error(path, line, f"unknown component {value!r} (expected U.S. Border "
                            "Patrol or Office of Field Operations)")
        return self.nodes[ids.thing("org", key)]

    def extra_quads(self) -> Iterator[Quad]:
        """Minted codes, and the shared descriptions (citizenships, periods) in the
        reference graph."""
        for quads in self.minted.values():
            yield from quads
        yield from self.citizenships.quads()
        yield from period_quads(self.periods)


def read_header(path: Path) -> list[str]:
    """The first row of the table at ``path`` (refused when there is none)."""
    with open_table(path) as handle:
        header = next(table_rows(csv.reader(handle), path), None)
    if header is None:
        raise row_error(path, 1, "the file is empty")
    return header


class Reader:
    """The rows of one file, checked and turned into quads as they are read (streamed:
    a file far larger than the table CBP publishes needs no list of its quads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        header = read_header(path)
        self.variant = detect_variant(header, path)
        self.columns = [h.strip() for h in header]
        self.rows = Rows(self.variant)
        self.count = 0
        self.quads_written = 0

    def quads(self, progress: ImportProgress | None = None) -> Iterator[Quad]:
        width = len(self.columns)
        with open_table(self.path, progress.read if progress else None) as handle:
            reader = csv.reader(handle)
            rows = table_rows(reader, self.path)
            next(rows)
            for values in rows:
                if not values:
                    continue
                if len(values) != width:
                    raise row_error(self.path, reader.line_num, f"{len(values)} fields, "
                                    f"expected {width}")
                row = dict(zip(self.columns, values, strict=True))
                quads = self.rows.quads(row, reader.line_num, self.path)
                self.quads_written += len(quads)
                yield from quads
                self.count += 1
                if progress is not None and not self.count & 0x3FF:
                    progress.rows(self.count)
        if progress is not None:
            progress.rows(self.count)


def import_cbp(store: Store, path: Path, progress: bool | None = None,
               observe: Observer | None = None) -> ImportReport:
    """Import a CBP Nationwide Encounters CSV (either variant) into ``graph/cbp-encounters``.

    A file whose bytes this importer version imported before, into a graph that still
    holds its dataset, is answered from the provenance record without reading its rows.
    Otherwise the rows are streamed into one transaction; the structure, minted codes,
    periods and provenance (which needs the row count) follow them in the same
    transaction. ``progress`` shows the bars (None: on a terminal); ``observe`` gets
    their events (:mod:`graph.imports.progress`)."""
    path = Path(path)

    def run() -> ImportReport:
        variant, graph = detect_variant(read_header(path), path), NamedNode(GRAPH)
        details = {"variant": variant.name, "provenance_graph": PROVENANCE_GRAPH}
        sha = file_sha256(path)
        previous = previous_import(store, IMPORTER, sha, variant.dataset, GRAPH)
        if previous is not None:
            return unchanged_report(path, sha, variant.dataset, GRAPH, IMPORTER, previous,
                                    **details)
        reader = Reader(path)
        existed = already_imported(store, IMPORTER, sha)
        tail: list[Quad] = []

        def after_rows() -> Iterator[Quad]:
            tail.extend(structure_quads(variant.dataset, variant.title, components(variant),
                                        graph))
            tail.extend(reader.rows.extra_quads())
            tail.extend(provenance_quads(IMPORTER, path, sha, reader.count, variant.dataset,
                                         existed))
            yield from tail

        bars = ImportProgress(path, progress, observe)
        try:
            quads = bars.counted(itertools.chain(reader.quads(bars), after_rows()))
            with bars.ticking():
                write_import(store, quads)
            drop_local_copies(store, GRAPH)
            bars.written()
        finally:
            bars.close()
        return ImportReport(str(path), sha, variant.dataset, GRAPH, reader.count,
                            reader.count, reader.quads_written + len(tail), False,
                            details=details)

    return timed(run)
