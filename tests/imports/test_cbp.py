"""The CBP importer on the real file, checked against sums computed here from the CSV."""
from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from graph.errors import BadRequest
from graph.imports.cbp import GRAPH, import_cbp
from graph.imports.common import PROVENANCE_GRAPH
from graph.store.oxigraph import OxigraphStore
from tests.conftest import CBP_STATE_CSV

DATA = Path(__file__).parent / "data"
BKG = "https://w3id.org/borderkg/def/"
CHN = "https://w3id.org/borderkg/id/country/CHN"
SWB = "https://w3id.org/borderkg/id/region/southwest-land-border"
PREFIXES = f"PREFIX bkg: <{BKG}>\nPREFIX qb: <http://purl.org/linked-data/cube#>\n"


@pytest.fixture(scope="module")
def csv_rows() -> list[dict[str, str]]:
    with open(CBP_STATE_CSV, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def scalar(store: Any, query: str) -> int:
    row = next(iter(store.query(PREFIXES + query)))
    return int(row[0].value)


def test_one_observation_per_row(cbp_store: Any, csv_rows: list[dict[str, str]]) -> None:
    assert cbp_store.report.rows == len(csv_rows) == 42_532
    observations = scalar(cbp_store, f"SELECT (COUNT(?o) AS ?n) WHERE {{ GRAPH <{GRAPH}> "
                                     "{ ?o a qb:Observation } }")
    assert observations == len(csv_rows)


def test_total_count_matches_csv(cbp_store: Any, csv_rows: list[dict[str, str]]) -> None:
    expected = sum(int(r["Encounter Count"]) for r in csv_rows)
    query = "SELECT (SUM(?n) AS ?t) WHERE { ?o bkg:encounterCount ?n }"
    assert scalar(cbp_store, query) == expected


def test_southwest_china_by_fiscal_year(cbp_store: Any, csv_rows: list[dict[str, str]]) -> None:
    expected: Counter[str] = Counter()
    for r in csv_rows:
        if r["Citizenship"] == "CHINA, PEOPLES REPUBLIC OF" and \
                r["Land Border Region"] == "Southwest Land Border":
            expected[r["Fiscal Year"]] += int(r["Encounter Count"])
    query = f"""SELECT ?fy (SUM(?n) AS ?t) WHERE {{ ?o bkg:citizenship <{CHN}> ;
        bkg:landBorderRegion <{SWB}> ; bkg:fiscalYear ?fy ; bkg:encounterCount ?n }} GROUP BY ?fy"""
    found = {row["fy"].value.rsplit("fy", 1)[1]: int(row["t"].value)
             for row in cbp_store.query(PREFIXES + query)}
    assert found == dict(expected)
    assert found["2022"] == 2_176  # the figure the article states for FY2022


def test_calendar_month_of_fiscal_year(cbp_store: Any, csv_rows: list[dict[str, str]]) -> None:
    # October of FY2023 is October 2022
    expected = sum(int(r["Encounter Count"]) for r in csv_rows
                   if r["Fiscal Year"] == "2023" and r["Month (abbv)"] == "OCT")
    query = ("SELECT (SUM(?n) AS ?t) WHERE { ?o bkg:month "
             "<https://w3id.org/borderkg/id/time/2022-10> ; bkg:encounterCount ?n }")
    assert scalar(cbp_store, query) == expected


def test_structure_and_provenance(cbp_store: Any) -> None:
    ask = cbp_store.query(PREFIXES + f"""ASK {{ GRAPH <{GRAPH}> {{
        ?ds a qb:DataSet ; qb:structure ?dsd . ?dsd qb:component ?c .
        ?c qb:dimension bkg:citizenship .
        ?dsd qb:component ?m . ?m qb:measure bkg:encounterCount }} }}""")
    assert bool(ask)
    rows = list(cbp_store.query(f"""SELECT ?sha ?rows ?time WHERE {{ GRAPH <{PROVENANCE_GRAPH}> {{
        ?file <{BKG}sha256> ?sha ; <http://rdfs.org/ns/void#entities> ?rows .
        ?import <http://www.w3.org/ns/prov#used> ?file ;
                <http://www.w3.org/ns/prov#endedAtTime> ?time }} }}"""))
    assert len(rows) == 1
    assert rows[0]["sha"].value == cbp_store.report.sha256
    assert int(rows[0]["rows"].value) == 42_532


def test_citizenship_maps_to_countries_and_concepts(cbp_store: Any) -> None:
    query = f"""SELECT DISTINCT ?c WHERE {{ GRAPH <{GRAPH}> {{ ?o bkg:citizenship ?c }} }}"""
    values = {row["c"].value for row in cbp_store.query(PREFIXES + query)}
    assert CHN in values
    assert "https://w3id.org/borderkg/id/citizenship/mexico" in values
    assert "https://w3id.org/borderkg/id/citizenship/myanmar-burma" in values


def test_reimport_changes_nothing(tmp_path: Path) -> None:
    store = OxigraphStore(None)
    path = tmp_path / "aor.csv"
    shutil.copy(DATA / "cbp-aor-sample.csv", path)
    first = import_cbp(store, path, progress=False)
    quads = sorted(map(str, store.quads()))
    second = import_cbp(store, path, progress=False)
    assert (first.already_imported, second.already_imported) == (False, True)
    assert sorted(map(str, store.quads())) == quads


def test_aor_variant_detected() -> None:
    store = OxigraphStore(None)
    report = import_cbp(store, DATA / "cbp-aor-sample.csv", progress=False)
    assert report.details["variant"] == "aor" and report.rows == 6
    query = """SELECT ?component (SUM(?n) AS ?t) WHERE { ?o bkg:component ?component ;
        bkg:areaOfResponsibility ?aor ; bkg:encounterCount ?n } GROUP BY ?component"""
    totals = {row["component"].value.rsplit("/", 1)[1]: int(row["t"].value)
              for row in store.query(PREFIXES + query)}
    assert totals == {"usbp": 120 + 45 + 7 + 11, "ofo": 30 + 3}
    # "2024 (FYTD)" is fiscal year 2024, and February of FY2024 is February 2024
    assert scalar(store, "SELECT (SUM(?n) AS ?t) WHERE { ?o bkg:fiscalYear "
                  "<https://w3id.org/borderkg/id/time/fy2024> ; bkg:month "
                  "<https://w3id.org/borderkg/id/time/2024-02> ; bkg:encounterCount ?n }") == 3


def test_malformed_row_rejects_everything() -> None:
    store = OxigraphStore(None)
    with pytest.raises(BadRequest) as info:
        import_cbp(store, DATA / "cbp-state-malformed.csv", progress=False)
    assert info.value.details["line"] == 4
    assert "line 4" in info.value.message and "'many'" in info.value.message
    assert store.count(None) == 0


def test_wrong_header_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(BadRequest) as info:
        import_cbp(OxigraphStore(None), path, progress=False)
    assert "missing columns" in info.value.message
