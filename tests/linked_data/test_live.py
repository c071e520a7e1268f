"""Against real servers on loopback: the Python client, a headless browser, schemathesis."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client import BorderKG, BorderKGClientError
from tests.conftest import report_family
from tests.peers import oxigraph_load, start_oxigraph

CHN = "https://w3id.org/borderkg/id/country/CHN"


@pytest.fixture(scope="module")
def kg(live_server: Any) -> BorderKG:
    return BorderKG(live_server.url)


def test_client_named_query_and_errors(kg: BorderKG) -> None:
    rows = kg.named("organisation-chain", agency="https://w3id.org/borderkg/id/org/ice")
    assert [r["level"] for r in rows] == [0, 1, 2]
    assert rows[1]["label"] == "U.S. Department of Homeland Security"
    with pytest.raises(BorderKGClientError) as caught:
        kg.named("laws-status-at-date", at="not-a-date")
    assert caught.value.status == 400 and "'at'" in caught.value.message
    with pytest.raises(BorderKGClientError) as caught:
        kg.named("no-such-query")
    assert caught.value.status == 404


def test_client_describe_search_and_analysis(kg: BorderKG) -> None:
    graph = kg.describe(CHN)
    assert any("recalcitrant" in str(o) for o in graph.objects())
    assert kg.search("beijing")[0]["iri"].endswith("/org/government-of-china")
    result = kg.analysis("neighbours", entity=CHN)
    assert isinstance(result, dict) and result
    with pytest.raises(BorderKGClientError) as caught:
        kg.describe("https://w3id.org/borderkg/id/country/NOPE")
    assert caught.value.status == 404


def test_client_dataframe_explains_missing_pandas_or_works(kg: BorderKG) -> None:
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pandas"):
            kg.named_dataframe("organisation-chain")
    else:
        assert len(kg.named_dataframe("organisation-chain")) == 4


@pytest.fixture(scope="module")
def oxigraph_endpoint(seed_nquads: str, tmp_path_factory: pytest.TempPathFactory
                      ) -> Iterator[str]:
    """A stock ``oxigraph serve`` holding the seed: the client's generic SPARQL path."""
    folder = tmp_path_factory.mktemp("oxigraph-seed")
    (folder / "seed.nq").write_text(seed_nquads)
    oxigraph_load(folder / "db", [folder / "seed.nq"])
    server = start_oxigraph(folder / "server.log", location=folder / "db",
                            union_default_graph=True, interval=0.1)
    try:
        yield server.query
    finally:
        server.stop()


def test_client_sparql_on_any_endpoint(oxigraph_endpoint: str) -> None:
    kg = BorderKG(sparql_url=oxigraph_endpoint)
    figure = "https://w3id.org/borderkg/id/statistic/chn-swb-encounters-fy2023"
    rows = kg.sparql(f"SELECT ?n WHERE {{ <{figure}> "
                     "<https://w3id.org/borderkg/def/encounterCount> ?n }")
    assert rows == [{"n": 24314}]
    assert kg.sparql("ASK { ?s a <https://w3id.org/borderkg/def/Claim> }") == [{"boolean": True}]
    with pytest.raises(BorderKGClientError) as caught:
        kg.sparql("SELECT nonsense")
    assert caught.value.status == 400


@pytest.mark.browser
def test_entity_page_in_headless_chromium(live_server: Any, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options, service=DriverService("/usr/bin/chromedriver"))
    try:
        driver.get(live_server.url + "/id/country/CHN")  # follows the 303
        assert driver.current_url == live_server.url + "/doc/id/country/CHN"
        assert driver.find_element(By.TAG_NAME, "h1").text == "China"
        quotes = [q.text for q in driver.find_elements(By.CSS_SELECTOR, "blockquote.sentence")]
        assert any("designated 13 countries, including China" in q for q in quotes)
        bars = driver.find_elements(By.CSS_SELECTOR, "svg.chart-bar rect")
        assert len(bars) == 5 and all(b.size["height"] > 0 for b in bars)
        driver.find_element(By.NAME, "q").send_keys("recalcitrant\n")
        assert "/search?q=recalcitrant" in driver.current_url
        assert driver.find_elements(By.CSS_SELECTOR, "ol.results li")
    finally:
        driver.quit()


def test_openapi_conformance_with_schemathesis(live_server: Any) -> None:
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(live_server.url + "/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    skipped = ("/dump.nq.gz", "/analyses/communities", "/analyses/connectors",
               "/analyses/centrality")  # whole-graph work: covered by their own tests
    failures: list[str] = []
    tried = [0]
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in skipped:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            tried[0] += 1
            case.call_and_validate(checks=checks)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    report_family(f"schemathesis: {tried[0]} inputs tried over {operations} operations, "
                  f"{len(failures)} failures")
    assert not failures, "\n\n".join(failures)
