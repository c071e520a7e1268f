"""How the W3C runner judges answers and rewrites texts, pinned on small cases (no server).

The suite's verdicts are only as good as these rules, and they must be the same for every
server, so they are tested on their own.
"""
from __future__ import annotations

import re

import pytest

from tests.w3c.manifest import load_cases
from tests.w3c.results import Solutions, compare_solutions, literal, parse_csv
from tests.w3c.texts import outbound_to_loopback, top_level_order

pytestmark = pytest.mark.w3c

XSD = "http://www.w3.org/2001/XMLSchema#"
DEAD = "http://127.0.0.1:9"


def rows(*solutions: dict[str, tuple[str, ...]]) -> Solutions:
    return Solutions(("x", "y"), tuple(tuple(sorted(s.items())) for s in solutions))


def test_blank_nodes_match_by_one_bijection_over_the_whole_answer() -> None:
    expected = rows({"x": ("B", "a"), "y": ("I", "u")}, {"x": ("B", "b"), "y": ("I", "v")})
    renamed = rows({"x": ("B", "q"), "y": ("I", "v")}, {"x": ("B", "p"), "y": ("I", "u")})
    merged = rows({"x": ("B", "p"), "y": ("I", "v")}, {"x": ("B", "p"), "y": ("I", "u")})
    assert compare_solutions(expected, renamed) == ""
    assert compare_solutions(expected, merged) != ""


def test_solutions_are_a_multiset() -> None:
    once = rows({"x": ("I", "u")})
    twice = rows({"x": ("I", "u")}, {"x": ("I", "u")})
    assert compare_solutions(once, twice) != ""


def test_numbers_compare_by_value_within_their_datatype_strings_by_term() -> None:
    assert literal("1.0", XSD + "decimal") == literal("1", XSD + "decimal")
    assert literal("3.0E4", XSD + "double") == literal("30000", XSD + "double")
    assert literal("1", XSD + "decimal") != literal("1", XSD + "integer")
    assert literal("01", XSD + "string") != literal("1", XSD + "string")
    assert literal("a", lang="EN") == literal("a", lang="en")


def test_order_is_checked_on_the_order_by_keys_only() -> None:
    expected = rows({"x": ("I", "1"), "y": ("I", "a")}, {"x": ("I", "1"), "y": ("I", "b")},
                    {"x": ("I", "2"), "y": ("I", "c")})
    tie_swapped = Solutions(expected.variables, (expected.rows[1], expected.rows[0],
                                                 expected.rows[2]))
    reversed_keys = Solutions(expected.variables, expected.rows[::-1])
    assert compare_solutions(expected, tie_swapped, ["x"]) == ""
    assert compare_solutions(expected, tie_swapped, True) != ""
    assert compare_solutions(expected, reversed_keys, ["x"]) != ""


def test_only_a_top_level_order_by_orders_the_answer() -> None:
    assert top_level_order("SELECT * { ?s ?p ?o } ORDER BY ?s DESC(?o) LIMIT 2") == ["s", "o"]
    assert top_level_order("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 1 } }") \
        is False
    assert top_level_order("SELECT * { ?s ?p ?o } ORDER BY (?o + 1)") is True
    assert top_level_order('SELECT * { ?s ?p "ORDER BY" } # ORDER BY ?s') is False


def test_service_and_load_never_leave_loopback() -> None:
    base = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/x/q.rq"
    names = {"http://example.org/sparql": "http://127.0.0.1:5000/query"}
    text = ("SELECT * { SERVICE <http://example.org/sparql> {} SERVICE SILENT <g> {} "
            "SERVICE <http://127.0.0.1:7/sparql> {} } LOAD <http://example.org/faraway>")
    targets = re.findall(r"(?:SERVICE(?:\s+SILENT)?|LOAD)\s*<([^>]*)>",
                         outbound_to_loopback(text, base, names, DEAD))
    assert targets[0] == "http://127.0.0.1:5000/query"
    assert targets[2] == "http://127.0.0.1:7/sparql"
    assert targets[1].startswith(DEAD) and targets[3].startswith(DEAD)


def test_csv_keeps_only_text_and_blank_node_labels() -> None:
    answer = parse_csv(b"x,y\r\n_:b0,1\r\n")
    assert answer.rows == ((("x", ("B", "b0")), ("y", ("C", "1"))),)


def test_the_suite_has_its_625_tests_with_distinct_names() -> None:
    cases = load_cases()
    assert len(cases) == 625
    assert len({c.id for c in cases}) == 625
