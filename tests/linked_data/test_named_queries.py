"""The named-query library: headers, binding, validation and answers on real data."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from graph.errors import BadParameter, NotFound
from graph.sparql.named_queries import bind_params, get_query, paged_text, run_named
from queries import PARAM_TYPES, QueryFileError, list_queries, load_query, parse_query

from .conftest import china_totals

CHN = "https://w3id.org/borderkg/id/country/CHN"
NAMES = list_queries()


def test_library_has_at_least_fifteen_queries() -> None:
    assert len(NAMES) >= 15


@pytest.mark.parametrize("name", NAMES)
def test_header_is_complete(name: str) -> None:
    query = load_query(name)
    assert query.title and query.description
    for param in query.params:
        assert param.type in PARAM_TYPES and param.description
        assert param.default is not None or param.optional or param.example is not None


@pytest.mark.parametrize("name", NAMES)
def test_query_has_no_paging_of_its_own(name: str) -> None:
    body = "\n".join(line for line in load_query(name).text.splitlines()
                     if not line.lstrip().startswith("#"))
    assert not re.search(r"\b(LIMIT|OFFSET)\b", body, re.I)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("values", ["default", "example"])
def test_query_runs_with_defaults_and_examples(cbp_store: Any, name: str, values: str) -> None:
    query = load_query(name)
    params = {} if values == "default" else {
        p.name: p.example for p in query.params if p.example is not None}
    rows = list(run_named(cbp_store, name, params, limit=5))
    assert len(rows) <= 5
    for param in query.params:  # bound parameters come back as columns, with their value
        if param.name in params and rows:
            assert rows[0][param.name] is not None


def test_paging_is_appended_and_pages_do_not_overlap(cbp_store: Any) -> None:
    every = [r["month"].value for r in run_named(cbp_store, "monthly-encounters", limit=1000)]
    first = [r["month"].value for r in run_named(cbp_store, "monthly-encounters", limit=10)]
    second = [r["month"].value for r in run_named(cbp_store, "monthly-encounters", limit=10,
                                                   offset=10)]
    assert first + second == every[:20] and len(every) == 48
    assert paged_text(get_query("graphs-overview"), 5, 10).rstrip().endswith("LIMIT 5 OFFSET 10")


def test_encounters_by_fiscal_year_match_the_csv(cbp_store: Any, cbp_slice: Path) -> None:
    expected = {f"https://w3id.org/borderkg/id/time/fy{y}": n
                for y, n in china_totals(cbp_slice, "Fiscal Year").items()}
    rows = run_named(cbp_store, "encounters-by-fiscal-year", {"citizenship": CHN})
    assert {r["fiscalYear"].value: int(r["encounters"].value) for r in rows} == expected


def test_optional_region_restricts_the_sum(cbp_store: Any) -> None:
    def total(params: dict[str, str]) -> int:
        return sum(int(r["encounters"].value)
                   for r in run_named(cbp_store, "encounters-by-fiscal-year", params))
    regions = ("southwest-land-border", "northern-land-border", "other")
    parts = [total({"region": f"https://w3id.org/borderkg/id/region/{r}"}) for r in regions]
    assert all(parts) and sum(parts) == total({})


def test_monthly_change_computes_the_difference(cbp_store: Any) -> None:
    row = next(iter(run_named(cbp_store, "monthly-change", {})))
    before, after = int(row["fromCount"].value), int(row["toCount"].value)
    assert int(row["change"].value) == after - before
    assert float(row["percentChange"].value) == round(1000 * (after - before) / before) / 10


def test_laws_status_depends_on_the_date(seed_store: Any) -> None:
    def status(at: str) -> str:
        return next(iter(run_named(seed_store, "laws-status-at-date", {"at": at})))["status"].value
    assert status("2025-01-20").endswith("/in-progress")
    assert status("2025-02-01").endswith("/enacted")
    assert list(run_named(seed_store, "laws-status-at-date", {"at": "2024-01-01"})) == []


def test_organisation_chain_goes_up_in_order(seed_store: Any) -> None:
    chain = [r["organisation"].value.rsplit("/", 1)[-1]
             for r in run_named(seed_store, "organisation-chain", {})]
    assert chain == ["usbp", "cbp", "dhs", "us-federal-government"]


def test_claims_come_with_their_sentence(seed_store: Any) -> None:
    rows = list(run_named(seed_store, "claims-with-sources", {"entity": CHN}, limit=1000))
    texts = {r["text"].value for r in rows}
    assert any("recalcitrant countries" in t for t in texts)
    assert all(CHN in (r["subject"].value, r["object"].value) for r in rows)


def test_string_parameters_are_bound_not_spliced(seed_store: Any) -> None:
    hostile = 'x")) } UNION { ?entity ?p ?o } #'
    assert list(run_named(seed_store, "entities-by-label", {"text": hostile})) == []
    assert len(list(run_named(seed_store, "entities-by-label", {"text": "CHINA"}))) >= 3


@pytest.mark.parametrize(("name", "param", "value"), [
    ("monthly-encounters", "citizenship", "not an iri"),
    ("laws-status-at-date", "at", "2025-02-30"),
    ("encounters-by-demographic", "year", "20x3"),
    ("stated-figures", "minimum", "lots"),
    ("sentence-entities", "includeConcepts", "maybe"),
])
def test_bad_values_are_refused_naming_the_parameter(name: str, param: str, value: str) -> None:
    with pytest.raises(BadParameter) as caught:
        bind_params(get_query(name), {param: value})
    assert caught.value.details["parameter"] == param and param in caught.value.message


def test_unknown_parameter_and_query_are_refused() -> None:
    with pytest.raises(BadParameter, match="unknown parameter 'contry'"):
        bind_params(get_query("country-designations"), {"contry": "x"})
    with pytest.raises(NotFound):
        get_query("no-such-query")


def test_header_format_errors_are_caught() -> None:
    with pytest.raises(QueryFileError):
        parse_query("bad", "#+ param: x unknown-type\nSELECT * {}")
    with pytest.raises(QueryFileError):
        parse_query("bad", "#+ description: no title\nSELECT * {}")
    query = parse_query("ok", '#+ title: T\n#+ param: n integer default=3 "count"\nSELECT ?n {}')
    assert query.params[0].default == "3" and query.params[0].description == "count"


def test_monthly_series_matches_the_csv(cbp_store: Any, cbp_slice: Path) -> None:
    rows = run_named(cbp_store, "monthly-encounters", {"citizenship": CHN}, limit=1000)
    assert sum(int(r["encounters"].value) for r in rows) == sum(
        china_totals(cbp_slice, "Fiscal Year").values())


def test_top_citizenships_are_ranked(cbp_store: Any) -> None:
    fy2020 = {"fiscalYear": "https://w3id.org/borderkg/id/time/fy2020"}
    counts = [int(r["encounters"].value) for r in run_named(cbp_store, "top-citizenships", fy2020)]
    assert counts == sorted(counts, reverse=True) and len(counts) > 1
