"""One home per fact: the build and every importer together store each triple once."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Literal, NamedNode, Quad

from graph import ids, intervals
from graph.build import build
from graph.imports.cbp import import_cbp
from graph.imports.ice import import_ice_removals
from graph.imports.reference import GRAPH as REFERENCE
from graph.imports.usbp import GRAPH as USBP_GRAPH
from graph.imports.usbp import import_usbp_monthly
from graph.store import OxigraphStore
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
