"""A function the engine does not implement is an evaluation error: its value is unbound
and the query is answered (SPARQL 1.1 section 17.3), not refused as a whole."""
from __future__ import annotations

from pyoxigraph import Literal

from graph.store.base import solutions
from graph.store.oxigraph import OxigraphStore


def test_unknown_functions_leave_their_variables_unbound() -> None:
    store = OxigraphStore()
    store.update("INSERT DATA { <http://e/a> <http://e/v> 2 }")
    rows = list(solutions(store.query(
        "SELECT ?v (<http://e/fn>(?v + 1) AS ?f) (<http://e/other>() AS ?g) "
        "WHERE { ?s <http://e/v> ?v }")))
    assert len(rows) == 1
    assert rows[0]["v"] == Literal("2", datatype=rows[0]["v"].datatype)
    assert rows[0]["f"] is None and rows[0]["g"] is None


def test_a_filter_on_an_unknown_function_removes_the_row() -> None:
    store = OxigraphStore()
    store.update("INSERT DATA { <http://e/a> <http://e/v> 2 }")
    rows = list(solutions(store.query(
        "SELECT * WHERE { ?s ?p ?o FILTER(<http://e/fn>(?o)) }")))
    assert rows == []  # an error in FILTER is false


def test_known_functions_are_untouched() -> None:
    store = OxigraphStore()
    rows = list(solutions(store.query(
        "SELECT (<http://www.w3.org/2001/XMLSchema#integer>('7') AS ?n) {}")))
    assert rows[0]["n"].value == "7"
