"""The USBP monthly-by-sector importer on the real file, checked against the file's own totals."""
from __future__ import annotations

import csv
import gzip
from pathlib import Path

import pytest

from graph.errors import BadRequest
from graph.imports.usbp import GRAPH, import_usbp_monthly
from graph.store.oxigraph import OxigraphStore
from tests.conftest import USBP_MONTHLY

BKG = "https://w3id.org/borderkg/def/"


def test_usbp_monthly_real_file() -> None:
    with gzip.open(USBP_MONTHLY, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="|"))
    store = OxigraphStore(None)
    report = import_usbp_monthly(store, USBP_MONTHLY)
    sectors = report.details["sectors"]
    assert report.rows == len(rows) and sectors == 21
    assert report.observations == len(rows) * sectors
    total = next(iter(store.query(f"SELECT (SUM(?n) AS ?t) WHERE {{ GRAPH <{GRAPH}> "
                                  f"{{ ?o <{BKG}encounterCount> ?n }} }}")))["t"]
    # the sectors add up to the file's own monthly totals
    assert int(total.value) == sum(int(r["monthly_total"]) for r in rows)
    june_2019 = next(r for r in rows if r["cy"] == "2019" and r["month"] == "6")
    query = f"""SELECT ?n WHERE {{ ?o <{BKG}borderPatrolSector>
        <https://w3id.org/borderkg/id/border-patrol-sector/rio-grande-valley> ;
        <{BKG}month> <https://w3id.org/borderkg/id/time/2019-06> ; <{BKG}encounterCount> ?n }}"""
    assert int(next(iter(store.query(query)))["n"].value) == int(june_2019["rio_grande_valley"])


def test_usbp_malformed_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("month|tucson|yuma|monthly_total|fy|cy\n10|1|2|3|2000|1999\n13|1|2|3|2000|2000\n")
    store = OxigraphStore(None)
    with pytest.raises(BadRequest) as info:
        import_usbp_monthly(store, path)
    assert info.value.details["line"] == 3
    assert store.count(None) == 0
