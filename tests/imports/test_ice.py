"""The ICE removals importer on the real file, checked against the file's own rows."""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from graph import ids, intervals
from graph.imports.common import RowError
from graph.imports.ice import DATASET, GRAPH, import_ice_removals
from graph.imports.reference import GRAPH as REFERENCE
from graph.store.oxigraph import OxigraphStore
from tests.conftest import SHARED

ICE_CSV = SHARED / "data" / "ice-removals-by-citizenship-fy2017-fy2018.csv"
CHN = ids.thing("country", "CHN")
PREFIXES = f"""PREFIX bkg: <{ids.DEF}> PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX prov: <http://www.w3.org/ns/prov#>\n"""
CHINA_BY_YEAR = PREFIXES + f"""SELECT ?year ?n WHERE {{
  ?obs a qb:Observation ; qb:dataSet <{DATASET}> ; bkg:citizenship <{CHN}> ;
       bkg:fiscalYear ?year ; bkg:removalCount ?n }} ORDER BY ?year"""


@pytest.fixture(scope="module")
def table() -> dict[str, dict[int, int]]:
    """Removals by citizenship and fiscal year, read here from the CSV."""
    with open(ICE_CSV, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    years = [int(y) for y in rows[0][1:]]
    return {r[0].strip(): dict(zip(years, (int(v) for v in r[1:]), strict=True))
            for r in rows[1:] if r}


@pytest.fixture(scope="module")
def ice_store() -> Any:
    store = OxigraphStore(None)
    store.report = import_ice_removals(store, ICE_CSV, progress=False)  # type: ignore[attr-defined]
    return store


def china(rows: Any) -> dict[str, int]:
    return {r["year"].value: int(r["n"].value) for r in rows}


def expected_china(table: dict[str, dict[int, int]]) -> dict[str, int]:
    return {intervals.fiscal_year_iri(y): n for y, n in table["CHINA"].items()}


def test_one_observation_per_cell(ice_store: Any, table: dict[str, dict[int, int]]) -> None:
    cells = sum(len(years) for years in table.values())
    query = PREFIXES + f"""SELECT (COUNT(?o) AS ?n) (SUM(?v) AS ?total) WHERE {{ GRAPH <{GRAPH}> {{
      ?o a qb:Observation ; qb:dataSet <{DATASET}> ; bkg:removalCount ?v }} }}"""
    row = next(iter(ice_store.query(query)))
    assert int(row["n"].value) == cells == ice_store.report.observations
    assert ice_store.report.rows == len(table)
    assert int(row["total"].value) == sum(sum(y.values()) for y in table.values())


def test_totals_by_fiscal_year(ice_store: Any, table: dict[str, dict[int, int]]) -> None:
    query = PREFIXES + """SELECT ?year (SUM(?v) AS ?total) WHERE {
      ?o bkg:fiscalYear ?year ; bkg:removalCount ?v } GROUP BY ?year"""
    found = {r["year"].value: int(r["total"].value) for r in ice_store.query(query)}
    years = {y for row in table.values() for y in row}
    assert found == {intervals.fiscal_year_iri(y): sum(r[y] for r in table.values())
                     for y in years}


def test_china_is_the_seed_country(ice_store: Any, table: dict[str, dict[int, int]]) -> None:
    assert china(ice_store.query(CHINA_BY_YEAR)) == expected_china(table)


def test_shared_descriptions_are_in_the_reference_graph(ice_store: Any) -> None:
    fy = intervals.fiscal_year_iri(2017)
    assert next(ice_store.quads(fy, None, None, GRAPH), None) is None
    assert next(ice_store.quads(fy, None, None, REFERENCE), None) is not None
    mexico = ids.thing("citizenship", "mexico")
    assert next(ice_store.quads(mexico, None, None, REFERENCE), None) is not None
    assert next(ice_store.quads(mexico, None, None, GRAPH), None) is None


def test_structure_and_provenance(ice_store: Any) -> None:
    query = PREFIXES + f"""ASK {{ <{DATASET}> a qb:DataSet ; qb:structure ?dsd ;
        prov:wasDerivedFrom ?file ; prov:wasGeneratedBy ?activity .
      ?dsd qb:component/qb:measure bkg:removalCount .
      ?activity prov:used ?file ; prov:wasAssociatedWith ?agent ; prov:endedAtTime ?t .
      ?file bkg:sha256 ?sha FILTER(STR(?sha) = "{ice_store.report.sha256}") }}"""
    assert ice_store.query(query)


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    store = OxigraphStore(None)
    import_ice_removals(store, ICE_CSV, progress=False)
    before = set(store.quads())
    again = import_ice_removals(store, ICE_CSV, progress=False)
    assert again.already_imported and set(store.quads()) == before
    # with the record gone, the rows are read again and write the same quads
    store.drop_graph(GRAPH)
    store.extend(q for q in before if q.graph_name.value == GRAPH)
    renamed = tmp_path / "copy.csv"
    renamed.write_bytes(ICE_CSV.read_bytes())
    store.update(f"DELETE WHERE {{ GRAPH <{GRAPH}> {{ <{DATASET}> "
                 f"<http://purl.org/linked-data/cube#structure> ?d }} }}")
    assert not import_ice_removals(store, renamed, progress=False).already_imported
    assert {q for q in store.quads() if q.graph_name.value != ids.graph("import-provenance")} \
        == {q for q in before if q.graph_name.value != ids.graph("import-provenance")}


@pytest.mark.parametrize(("text", "message"), [
    ("CountryOfCitizenship,2017,2018\nMEXICO, 12, many\n",
     r"line 2: removals in FY2018 ' many' is not a non-negative integer"),
    ("Country,2017\nMEXICO, 12\n", r"line 1: not an ICE removals table"),
    ("CountryOfCitizenship,2017\nMEXICO, 12\nMEXICO, 3\n", r"line 3: MEXICO again"),
    ("CountryOfCitizenship,2017,2018\nMEXICO, 12\n", r"line 2: 2 fields, expected 3"),
])
def test_malformed_file_is_refused_whole(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    store = OxigraphStore(None)
    with pytest.raises(RowError, match=message):
        import_ice_removals(store, path, progress=False)
    assert store.count(None) == 0


def test_cli_malformed_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("CountryOfCitizenship,2017\nCHINA, -5\n")
    done = subprocess.run([sys.executable, "-m", "server.cli", "import", "ice-removals",
                           "--data-dir", str(tmp_path / "data"), str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0
    assert "bad.csv: line 2:" in done.stderr and "nothing was imported" in done.stderr


def test_running_service_answers_china_for_both_years(
        tmp_path: Path, start_server: Any, table: dict[str, dict[int, int]]) -> None:
    data = tmp_path / "data"
    base = [sys.executable, "-m", "server.cli", "import", "ice-removals", "--data-dir",
            str(data), "--store", "disk"]
    first = subprocess.run([*base, str(ICE_CSV)], capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert re.search(rf"{len(table)} rows -> ", first.stdout)
    again = subprocess.run([*base, str(ICE_CSV)], capture_output=True, text=True, timeout=120)
    assert "unchanged since its import" in again.stdout
    server = start_server(store="disk", data_dir=data)
    response = requests.post(server.url + "/sparql", data={"query": CHINA_BY_YEAR},
                             headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    assert {r["year"]["value"]: int(r["n"]["value"]) for r in rows} == expected_china(table)
    assert len(rows) == len(table["CHINA"]) == 2
    page = requests.get(server.url + "/doc/id/country/CHN", headers={"Accept": "text/html"},
                        timeout=30).text
    assert "Removals by fiscal year — ICE removals by country of citizenship" in page
    for year, count in table["CHINA"].items():
        assert f"<title>FY{year}: {count:,}</title>" in page


def test_china_page_shows_removals_as_their_own_series(
        client: Any, seed_store: Any, table: dict[str, dict[int, int]]) -> None:
    from graph.imports.cbp import import_cbp

    import_ice_removals(seed_store, ICE_CSV, progress=False)
    import_cbp(seed_store, Path(__file__).parent / "data" / "cbp-state-partial.csv",
               progress=False)
    page = client.get("/doc/id/country/CHN", headers={"Accept": "text/html"}).get_data(True)
    titles = re.findall(r'aria-label="([^"]*)"', page)
    assert "Removals by fiscal year — ICE removals by country of citizenship" in titles
    assert any(t.startswith("Monthly encounters — ") for t in titles)
    for year, count in table["CHINA"].items():
        assert f"<title>FY{year}: {count:,}</title>" in page
