"""The query page (YASGUI, served by the app) in a real headless Chromium that cannot
reach any host but loopback (``tests.browser``): it loads, completes prefixes, reopens
permalinks, runs queries, shows errors with their position and pages 50,000 rows."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser import LOOPBACK, chromium, requested_hosts, wait_for
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

#: 50,000 rows from five nested VALUES, none of the query text longer than a line
FIFTY_THOUSAND = """SELECT ?i WHERE {
  VALUES ?a { 0 1 2 3 4 5 6 7 8 9 } VALUES ?b { 0 1 2 3 4 5 6 7 8 9 }
  VALUES ?c { 0 1 2 3 4 5 6 7 8 9 } VALUES ?d { 0 1 2 3 4 5 6 7 8 9 }
  VALUES ?e { 0 1 2 3 4 }
  BIND(?a * 10000 + ?b * 1000 + ?c * 100 + ?d * 10 + ?e AS ?i)
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def fresh_page(browser: Any, url: str) -> None:
    """Open ``url`` with YASGUI's stored tabs and history forgotten."""
    browser.get(url)
    browser.execute_script("localStorage.clear();")
    browser.get("about:blank")
    browser.get(url)
    wait_for(browser, lambda d: d.execute_script(
        "return !!(window.borderkgYasgui && borderkgYasgui.getTab().getYasqe());"))


def set_query(browser: Any, text: str) -> None:
    browser.execute_script("borderkgYasgui.getTab().getYasqe().setValue(arguments[0]);", text)


def run_query(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()


def editor_value(browser: Any) -> str:
    return browser.execute_script("return borderkgYasgui.getTab().getYasqe().getValue();")


def test_static_assets_are_served(server: LiveServer) -> None:
    for name in ("yasgui/yasgui.min.js", "yasgui/yasgui.min.css", "query.js", "style.css"):
        assert requests.get(f"{server.url}/static/{name}", timeout=30).status_code == 200


def test_editor_loads_with_nothing_but_the_app(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    browser.get_log("performance")
    fresh_page(browser, server.url + "/sparql")
    assert "SPARQL" in browser.title
    assert browser.find_elements(By.CSS_SELECTOR, ".yasgui .CodeMirror")
    assert "PREFIX schema: <https://schema.org/>" in editor_value(browser)
    assert browser.execute_script(
        "return borderkgYasgui.getTab().getEndpoint();") == server.url + "/sparql"
    run_query(browser)
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                                ".tabPanel.active .yasr tbody tr td a"))
    hosts = requested_hosts(browser)
    assert hosts and hosts <= LOOPBACK, hosts


def test_run_an_example_and_see_rows(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    fresh_page(browser, server.url + "/")
    example = next(b for b in browser.find_elements(By.CSS_SELECTOR, "button.example")
                   if b.text == "Agencies and hierarchy")
    example.click()
    run_query(browser)
    rows = wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable tbody tr"))
    assert len(rows) >= 3
    headers = [th.text for th in browser.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable thead th")]
    assert headers[1:] == ["agency", "label", "parent", "parentLabel"]
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr td a")
                if a.text == "bkg:GovernmentAgency" or "ice" in (a.get_attribute("href") or ""))
    assert link is not None
    ice = next(a for a in browser.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr td a")
               if (a.get_attribute("href") or "").endswith("/id/org/ice"))
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('mouseover', "
                           "{bubbles: true}));", ice)
    assert ice.get_attribute("href") == server.url + "/id/org/ice"
    downloads = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a")]
    assert downloads == ["json", "xml", "csv", "tsv"]
    csv = requests.get(browser.find_element(By.CSS_SELECTOR, "#downloads a[download$=csv]")
                       .get_attribute("href"), timeout=30)
    assert csv.status_code == 200 and csv.text.startswith("agency,label,parent,parentLabel")


def test_errors_are_shown_with_their_position(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    fresh_page(browser, server.url + "/")
    set_query(browser, "SELECT * WHERE {\n  ?s ?p\n}")
    run_query(browser)
    error = wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .borderkg-error"))[0]
    assert "line 3" in error.find_element(By.CLASS_NAME, "position").text
    assert error.find_element(By.CLASS_NAME, "message").text


def test_autocomplete_offers_the_store_prefixes(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    fresh_page(browser, server.url + "/")
    set_query(browser, "")
    browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .CodeMirror").click()
    browser.switch_to.active_element.send_keys("PREFIX bk")
    browser.switch_to.active_element.send_keys(Keys.CONTROL, Keys.SPACE)
    hints = wait_for(browser, lambda d: [li.text for li in d.find_elements(
        By.CSS_SELECTOR, ".CodeMirror-hints li")])
    assert "bkg: <https://w3id.org/borderkg/def/>" in hints
    set_query(browser, "")
    browser.switch_to.active_element.send_keys("PREFIX sch")
    browser.switch_to.active_element.send_keys(Keys.CONTROL, Keys.SPACE)
    hints = wait_for(browser, lambda d: [li.text for li in d.find_elements(
        By.CSS_SELECTOR, ".CodeMirror-hints li")])
    assert hints == ["schema: <https://schema.org/>"]


def test_a_permalink_reopens_the_query(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    text = "SELECT ?country WHERE {\n  ?country a <https://w3id.org/borderkg/def/Country>\n}"
    fresh_page(browser, server.url + "/sparql")
    set_query(browser, text)
    browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_share").click()
    link = wait_for(browser, lambda d: d.find_element(
        By.CSS_SELECTOR, ".yasqe_sharePopup input").get_attribute("value"))
    assert link.startswith(server.url + "/sparql")
    for url in (link, server.url + "/?" + requests.compat.urlencode({"query": text})):
        browser.execute_script("localStorage.clear();")
        browser.get("about:blank")
        browser.get(url)
        wait_for(browser, lambda d: d.execute_script(
            "return !!(window.borderkgYasgui && borderkgYasgui.getTab().getYasqe());"))
        assert editor_value(browser) == text
        rows = wait_for(browser, lambda d: d.find_elements(
            By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable tbody tr"))
        assert rows


def test_fifty_thousand_rows_show_their_first_page_fast(browser: Any,
                                                         server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    fresh_page(browser, server.url + "/")
    set_query(browser, FIFTY_THOUSAND)
    browser.execute_script("""
        window.timing = {};
        var tab = borderkgYasgui.getTab();
        borderkgYasgui.on("queryResponse", function () { timing.response = performance.now(); });
        tab.getYasr().on("drawn", function () { timing.drawn = performance.now(); });""")
    started = time.monotonic()
    run_query(browser)
    timing = wait_for(browser, lambda d: d.execute_script(
        "return timing.drawn && timing;"), timeout=60)
    assert timing["drawn"] - timing["response"] < 2000, timing
    rows = browser.find_elements(By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable tbody tr")
    page_size = browser.execute_script(
        "return borderkgYasgui.getTab().getYasr().plugins.table.dataTable.page.len();")
    assert 0 < len(rows) <= page_size <= 100
    sizes = wait_for(browser, lambda d: d.execute_script(
        "var o = document.querySelectorAll('.tabPanel.active .tableSizer option');"
        "return o.length && Array.prototype.map.call(o, function (x) { return x.value; });"),
        timeout=10)
    assert "-1" not in sizes and all(int(size) > 0 for size in sizes), sizes  # never "All"
    chip = browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasr_response_chip").text
    assert chip.startswith("50000 results"), chip
    print(f"\n50,000 rows: first page drawn {timing['drawn'] - timing['response']:.0f} ms "
          f"after the response, {time.monotonic() - started:.1f} s from the click")


def test_an_update_from_the_editor_carries_the_typed_token(browser: Any,
                                                           server: LiveServer) -> None:
    """Without the token the update is refused (401) and nothing changes; with the token
    typed into the page it is applied."""
    from selenium.webdriver.common.by import By

    from tests.conftest import TOKEN

    marker = f"urn:x-test:editor-update-{time.monotonic_ns()}"
    # in a graph of its own: the module's server is shared, and other tests count graphs
    update = f"INSERT DATA {{ GRAPH <{marker}> {{ <{marker}> <urn:x-test:p> 1 }} }}"
    ask = {"query": f"ASK {{ GRAPH <{marker}> {{ <{marker}> ?p ?o }} }}"}

    def stored() -> bool:
        answer = requests.get(server.url + "/sparql", params=ask,
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        return bool(answer.json()["boolean"])

    fresh_page(browser, server.url + "/")
    set_query(browser, update)
    run_query(browser)
    error = wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .borderkg-error"), timeout=30)[0]
    assert "Bearer" in error.text and not stored(), error.text
    browser.find_element(By.ID, "update-token").send_keys(TOKEN)
    set_query(browser, update)
    run_query(browser)
    wait_for(browser, lambda _driver: stored(), timeout=30)


def test_chart_view_draws_the_numeric_column(browser: Any, server: LiveServer) -> None:
    """The chart view draws one bar per row (the first 50), each as long as its value
    relative to the largest, labelled by the other column."""
    from selenium.webdriver.common.by import By

    query = ("SELECT ?name ?n WHERE { VALUES (?name ?n) { "
             + " ".join(f'("row{i}" {i * 7 % 23 + 1})' for i in range(60)) + " } }")
    expected = [i * 7 % 23 + 1 for i in range(60)][:50]
    fresh_page(browser, server.url + "/")
    set_query(browser, query)
    run_query(browser)
    wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable tbody tr"), timeout=30)
    browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasr .select_chart").click()
    bars = wait_for(browser, lambda d: d.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .borderkg-chart rect"), timeout=30)
    values = [float(bar.get_attribute("data-value")) for bar in bars]
    widths = [float(bar.get_attribute("width")) for bar in bars]
    assert values == expected
    assert all(abs(w / max(widths) - v / max(values)) < 1e-6
               for w, v in zip(widths, values, strict=True))
    labels = browser.find_elements(By.CSS_SELECTOR, ".tabPanel.active .borderkg-chart text")
    assert labels[0].text == "row0"
    caption = browser.find_element(By.CSS_SELECTOR, ".tabPanel.active .chart-caption").text
    assert "first 50 of 60" in caption
