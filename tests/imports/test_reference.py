"""One home per fact: the build and every importer together store each triple once."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from graph import ids, intervals
from graph.imports.cbp import import_cbp
from graph.imports.ice import import_ice_removals
from graph.imports.reference import GRAPH as REFERENCE
from graph.imports.usbp import GRAPH as USBP_GRAPH
from graph.imports.usbp import import_usbp_monthly
from graph.knowledge.build import build
from graph.store.oxigraph import OxigraphStore
from tests.conftest import ARTICLE, CBP_STATE_CSV, SHARED, USBP_MONTHLY

ICE_CSV = SHARED / "data" / "ice-removals-by-citizenship-fy2017-fy2018.csv"

#: a triple in two graphs; HAVING repeats the aggregate because a SELECT alias is not in
#: scope there (SPARQL 1.1, 18.2.4: HAVING is evaluated before the projection)
IN_TWO_GRAPHS = """SELECT ?s ?p ?o (COUNT(DISTINCT ?g) AS ?n)
WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?s ?p ?o HAVING (COUNT(DISTINCT ?g) > 1)"""
TIME = "http://www.w3.org/2006/time#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"


def import_everything(store: Any) -> None:
    """Every official table the project imports, into ``store``."""
    import_cbp(store, CBP_STATE_CSV, progress=False)
    import_usbp_monthly(store, USBP_MONTHLY, progress=False)
    import_ice_removals(store, ICE_CSV, progress=False)


@pytest.fixture(scope="module")
def everything() -> Any:
    """A memory store with the full build and every import."""
    store = OxigraphStore(None)
    build(store, ARTICLE)
    import_everything(store)
    return store


def test_no_triple_is_stored_in_two_graphs(everything: Any) -> None:
    rows = list(everything.query(IN_TWO_GRAPHS, union_default=False))
    assert [(r["s"].value, r["p"].value, str(r["o"])) for r in rows[:5]] == []


def test_the_duplicate_query_does_find_a_copy(everything: Any) -> None:
    # the same check must fail when a period is copied into an importer's graph
    fy = NamedNode(intervals.fiscal_year_iri(2021))
    label = next(everything.quads(fy, "http://www.w3.org/2000/01/rdf-schema#label", None,
                                  REFERENCE))
    copy = Quad(fy, label.predicate, label.object, NamedNode(USBP_GRAPH))
    everything.extend([copy])
    try:
        rows = list(everything.query(IN_TWO_GRAPHS, union_default=False))
        assert [(r["s"], int(r["n"].value)) for r in rows] == [(fy, 2)]
    finally:
        everything.update(f"DELETE DATA {{ GRAPH <{USBP_GRAPH}> {{ {fy} {label.predicate} "
                          f"{label.object} }} }}")


def test_every_period_used_is_described_in_the_reference_graph(everything: Any) -> None:
    query = f"""PREFIX bkg: <{ids.DEF}> SELECT DISTINCT ?period WHERE {{
      ?obs bkg:fiscalYear|bkg:month ?period
      FILTER NOT EXISTS {{ GRAPH <{REFERENCE}> {{ ?period a <{TIME}ProperInterval> }} }} }}"""
    assert list(everything.query(query)) == []


def test_rebuild_keeps_the_periods_importers_added(everything: Any) -> None:
    fy2000 = intervals.fiscal_year_iri(2000)  # only the USBP table reaches back to FY2000
    build(everything, ARTICLE)
    assert next(everything.quads(fy2000, None, None, REFERENCE), None) is not None


def test_an_import_removes_copies_an_earlier_version_left(tmp_path: Path) -> None:
    store = OxigraphStore(None)
    with gzip.open(USBP_MONTHLY, "rt", newline="") as handle:
        head = [next(handle) for _ in range(3)]
    path = tmp_path / "usbp-head.csv"
    path.write_text("".join(head))
    fy = NamedNode(intervals.fiscal_year_iri(2000))
    begins = NamedNode(fy.value + "/beginning")
    graph = NamedNode(USBP_GRAPH)
    stale = [Quad(fy, NamedNode(RDF_TYPE), NamedNode(TIME + "ProperInterval"), graph),
             Quad(fy, NamedNode(TIME + "hasBeginning"), begins, graph),
             Quad(begins, NamedNode(TIME + "inXSDDate"),
                  Literal("1999-10-01", datatype=NamedNode(XSD + "date")), graph)]
    store.extend(stale)
    import_usbp_monthly(store, path, progress=False)
    kept = set(store.quads(None, None, None, USBP_GRAPH))
    assert [q for q in stale if q in kept] == []
    assert {Quad(q.subject, q.predicate, q.object, NamedNode(REFERENCE)) for q in stale} <= set(
        store.quads(None, None, None, REFERENCE))


def test_year_over_year_growth_follows_interval_meets(everything: Any) -> None:
    import csv

    from graph.sparql.named_queries import bind_params, get_query

    query = get_query("year-over-year-growth")
    rows = list(everything.query(query.text, substitutions=bind_params(query, {})))
    totals: dict[int, int] = {}
    with open(CBP_STATE_CSV, newline="", encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            if r["Citizenship"] == "CHINA, PEOPLES REPUBLIC OF":
                year = int(r["Fiscal Year"][:4])
                totals[year] = totals.get(year, 0) + int(r["Encounter Count"])
    found = {r["fiscalYear"].value: (int(r["encounters"].value), int(r["previous"].value))
             for r in rows}
    assert found == {intervals.fiscal_year_iri(y): (totals[y], totals[y - 1])
                     for y in sorted(totals)[1:]}


def test_dates_are_xsd_dates_that_take_day_arithmetic_on_disk(tmp_path: Path) -> None:
    # xsd:date + xsd:dayTimeDuration is defined; a gYearMonth or a string would leave
    # the sum unbound (the BIND must sit in the group that binds ?d: inside an OPTIONAL
    # of its own it sees no ?d and is unbound for any datatype)
    store = OxigraphStore(tmp_path / "store")
    try:
        build(store, ARTICLE)
        import_ice_removals(store, ICE_CSV, progress=False)
        query = f"""PREFIX xsd: <{XSD}> SELECT ?d ?next WHERE {{
          ?i <{TIME}inXSDDate>|<{ids.DEF}statusDate>|<http://purl.org/dc/terms/date> ?d
          BIND(?d + "P1D"^^xsd:dayTimeDuration AS ?next) }}"""
        rows = list(store.query(query))
        assert rows and all(r["d"].datatype.value == XSD + "date" for r in rows)
        assert [r["d"] for r in rows if r["next"] is None] == []
    finally:
        store.close()
