"""Reconciliation of the article's figures with the official CBP data."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import RdfFormat

from graph import ids
from graph.imports.cbp import GRAPH as CBP_GRAPH
from graph.imports.reconcile import GRAPH, reconcile, tolerance_for, write_results
from graph.knowledge.checks import percent_change
from graph.store.oxigraph import OxigraphStore
from tests.conftest import ARTICLE, CBP_STATE_CSV

STAT = ids.ID + "statistic/"
CHINA = "CHINA, PEOPLES REPUBLIC OF"
RDF_VALUE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#value"
PROV = "http://www.w3.org/ns/prov#"


@pytest.fixture(scope="module")
def official_fy_totals() -> dict[str, int]:
    """Southwest border, China, by fiscal year: summed here from the CSV."""
    totals: dict[str, int] = {}
    with open(CBP_STATE_CSV, newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["Citizenship"] == CHINA and r["Land Border Region"] == "Southwest Land Border":
                year = r["Fiscal Year"]
                totals[year] = totals.get(year, 0) + int(r["Encounter Count"])
    return totals


@pytest.fixture(scope="module")
def loaded(seed_nquads: str, cbp_store: Any) -> Any:
    """Seed graph plus the real CBP observations (copied once from the session import)."""
    store = OxigraphStore(None)
    store.load(seed_nquads, RdfFormat.N_QUADS)
    store.extend(cbp_store.quads(graph=CBP_GRAPH))
    return store


@pytest.fixture
def full_store(loaded: Any, seed_nquads: str) -> Iterator[Any]:
    """The loaded store; the article and result graphs are restored after each test."""
    yield loaded
    loaded.drop_graph(ids.GRAPH_ARTICLE)
    loaded.drop_graph(GRAPH)
    loaded.load(seed_nquads, RdfFormat.N_QUADS)


def by_claim(results: list[Any]) -> dict[str, Any]:
    return {r.claim.rsplit("/", 1)[-1]: r for r in results}


def figures(results: list[Any]) -> list[Any]:
    return [r for r in results if r.kind == "figure"]


def test_without_official_data_no_figure_is_consistent(seed_store: Any) -> None:
    results = figures(reconcile(seed_store))
    assert len(results) == 5
    assert {r.status for r in results} == {"unverifiable"}
    assert all(r.official is None for r in results)


def test_stated_change_is_checked_in_the_reconciliation_graph() -> None:
    from graph.knowledge.build import build
    from graph.knowledge.checks import percent_change

    store = OxigraphStore(None)
    build(store, ARTICLE)
    change = STAT + "chn-swb-encounters-2024-06-to-2024-12"
    rows = list(store.query(f"""PREFIX bkg: <{ids.DEF}> PREFIX prov: <{PROV}>
      SELECT ?status ?computed ?a ?b ?fromFigure ?toFigure WHERE {{
        GRAPH <{ids.GRAPH_ARTICLE}> {{ <{change}> bkg:fromObservation ?fromFigure ;
            bkg:toObservation ?toFigure . ?fromFigure bkg:encounterCount ?a .
            ?toFigure bkg:encounterCount ?b }}
        GRAPH <{GRAPH}> {{ ?r bkg:reconciles <{change}> ; bkg:reconciliationStatus ?status ;
            bkg:comparedWith ?value . ?value <{RDF_VALUE}> ?computed ;
            prov:wasDerivedFrom ?fromFigure, ?toFigure }} }}""", union_default=False))
    assert len(rows) == 1
    row = rows[0]
    assert row["status"].value.endswith("/consistent")
    expected = percent_change(int(row["a"].value), int(row["b"].value))
    assert float(row["computed"].value) == pytest.approx(float(expected))
    assert any(r.claim == change and r.kind == "percentage-change"
               for r in reconcile(store))


def test_a_wrong_stated_change_is_inconsistent(seed_store: Any) -> None:
    change = STAT + "chn-swb-encounters-2024-06-to-2024-12"
    stated = ids.DEF + "statedPercentageChange"
    seed_store.update(f"""DELETE {{ GRAPH ?g {{ <{change}> <{stated}> ?v }} }}
        INSERT {{ GRAPH ?g {{ <{change}> <{stated}> -60 }} }}
        WHERE {{ GRAPH ?g {{ <{change}> <{stated}> ?v }} }}""")
    result = by_claim(reconcile(seed_store))["chn-swb-encounters-2024-06-to-2024-12"]
    assert (result.status, result.claimed, result.tolerance) == ("inconsistent", -60.0, 0.5)


def test_with_cbp_data(full_store: Any, official_fy_totals: dict[str, int]) -> None:
    results = by_claim(reconcile(full_store))
    fy22, fy23 = results["chn-swb-encounters-fy2022"], results["chn-swb-encounters-fy2023"]
    assert (fy22.status, fy22.official) == ("consistent", official_fy_totals["2022"])
    assert (fy23.status, fy23.official) == ("consistent", official_fy_totals["2023"])
    assert fy22.difference == 0 and fy22.claimed == 2_176
    for outside in ("chn-swb-encounters-2024-06", "chn-swb-encounters-2024-12",
                    "chn-swb-encounters-fy2024"):
        assert results[outside].status == "unverifiable", outside
        assert "no official data" in results[outside].reason


def test_a_wrong_figure_is_inconsistent(full_store: Any,
                                        official_fy_totals: dict[str, int]) -> None:
    claim = STAT + "chn-swb-encounters-fy2022"
    count = ids.DEF + "encounterCount"
    full_store.update(f"""DELETE {{ GRAPH ?g {{ <{claim}> <{count}> ?n }} }}
        INSERT {{ GRAPH ?g {{ <{claim}> <{count}> 2100 }} }}
        WHERE {{ GRAPH ?g {{ <{claim}> <{count}> ?n }} }}""")
    result = by_claim(reconcile(full_store))["chn-swb-encounters-fy2022"]
    assert result.status == "inconsistent"
    assert result.difference == 2100 - official_fy_totals["2022"] and result.tolerance == 50
    assert result.ratio == round(2100 / official_fy_totals["2022"], 4)


def test_border_patrol_figure_needs_border_patrol_data(full_store: Any) -> None:
    # a monthly figure credited to the Border Patrol, for a month the CBP-wide file covers
    claim = STAT + "test-usbp-2022-06"
    full_store.update(f"""PREFIX bkg: <{ids.DEF}>
        INSERT DATA {{ GRAPH <{ids.GRAPH_ARTICLE}> {{ <{claim}> bkg:encounterCount 100 ;
          bkg:citizenship <{ids.ID}country/CHN> ;
          bkg:landBorderRegion <{ids.ID}region/southwest-land-border> ;
          <http://purl.org/linked-data/sdmx/2009/dimension#refPeriod> <{ids.ID}time/2022-06> ;
          bkg:measuredBy <{ids.ID}org/usbp> }} }}""")
    result = by_claim(reconcile(full_store))["test-usbp-2022-06"]
    assert result.status == "unverifiable"
    assert "Border Patrol + OFO" in result.reason


def test_partial_fiscal_year_is_unverifiable(seed_store: Any) -> None:
    from graph.imports.cbp import import_cbp

    import_cbp(seed_store, Path(__file__).parent / "data" / "cbp-state-partial.csv",
               progress=False)
    result = by_claim(reconcile(seed_store))["chn-swb-encounters-fy2022"]
    assert result.status == "unverifiable"
    assert "only 2 of 12 months" in result.reason


def test_tolerance_reads_trailing_zeros_as_rounding() -> None:
    assert (tolerance_for(2176), tolerance_for(820), tolerance_for(2160),
            tolerance_for(38000)) == (0.5, 5, 5, 500)


def test_results_written_as_rdf(full_store: Any) -> None:
    write_results(full_store, reconcile(full_store))
    write_results(full_store, reconcile(full_store))  # replaces, does not accumulate
    rows = list(full_store.query(f"""PREFIX bkg: <{ids.DEF}>
        SELECT ?claim ?status ?official WHERE {{ GRAPH <{GRAPH}> {{
          ?r a bkg:ReconciliationResult ; bkg:reconciles ?claim ; bkg:reconciliationStatus ?status ;
             <http://www.w3.org/ns/prov#generatedAtTime> ?t .
          OPTIONAL {{ ?r bkg:comparedWith/<{RDF_VALUE}> ?official }}
        }} }}"""))
    assert len(rows) == 6  # five figures and the stated change
    statuses = {r["claim"].value.rsplit("/", 1)[-1]: r["status"].value.rsplit("/", 1)[-1]
                for r in rows}
    assert statuses["chn-swb-encounters-fy2023"] == "consistent"
    assert statuses["chn-swb-encounters-fy2024"] == "unverifiable"
    assert statuses["chn-swb-encounters-2024-06-to-2024-12"] == "consistent"
    assert sorted(float(r["official"].value) for r in rows if r["official"]) == [
        float(percent_change(2160, 820)), 2_176, 24_314]


def test_http_reconciliation(client: Any) -> None:
    response = client.get("/reconciliation")
    assert response.status_code == 200
    body = response.get_json()
    assert body["summary"] == {"consistent": 1, "inconsistent": 0, "unverifiable": 5}
    assert {r["claimed"] for r in body["results"]} == {2160, 820, 2176, 24314, 38246, -62}
    change = next(r for r in body["results"] if r["kind"] == "percentage-change")
    assert change["status"] == "consistent" and change["claim"].endswith("-2024-06-to-2024-12")
    bad = client.get("/reconciliation?status=maybe")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad-parameter"


def test_cli_reconcile(tmp_path: Path) -> None:
    base = [sys.executable, "-m", "server.cli"]
    store = ["--store", "disk", "--data-dir", str(tmp_path)]
    for args in (["build", *store, "--article", str(ARTICLE)],
                 ["import", "cbp-encounters", str(Path(__file__).parent / "data" /
                                                  "cbp-state-partial.csv"), *store]):
        done = subprocess.run(base + args, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    done = subprocess.run([*base, "reconcile", "--format", "json", "--write", *store],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [r["status"] for r in results if r["kind"] == "figure"] == ["unverifiable"] * 5
    written = OxigraphStore(tmp_path / "store")
    assert written.count(GRAPH) > 0
