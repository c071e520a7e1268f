"""Named-query and entity pages in a real headless Chromium (``tests.browser``): what an
analyst reads — labels rather than IRIs, sentences that wrap, each sentence quoted once,
an empty search box — on a real server."""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium, wait_for

pytestmark = pytest.mark.browser

BASE = "https://w3id.org/borderkg/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as driver:
        yield driver


def no_sideways_scroll(browser: Any) -> bool:
    """Whether the page, images loaded, is no wider than the window."""
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight);")
    wait_for(browser, lambda d: d.execute_script(
        "return Array.from(document.images).every(function (i) { return i.complete; });"))
    return browser.execute_script(
        "var d = document.documentElement; return d.scrollWidth <= d.clientWidth;")


def search_box(browser: Any) -> str:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, "header input[name=q]").get_attribute("value")


def test_named_query_page_reads_as_a_table(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/queries/claims-with-sources?limit=50")
    assert search_box(browser) == ""
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.results td a")]
    assert links and not [text for text in links if text.startswith(("http:", "https:"))]
    assert "U.S. Immigration and Customs Enforcement" in links
    prose = browser.find_elements(By.CSS_SELECTOR, "table.results td.prose")
    assert prose
    for cell in prose[:5]:
        assert cell.size["width"] >= 250, cell.size
    assert no_sideways_scroll(browser)


def runnable_queries() -> list[str]:
    from queries import list_queries, load_query

    return [name for name in list_queries()
            if not any(p.required for p in load_query(name).params)]


@pytest.mark.parametrize("name", runnable_queries())
def test_every_named_query_page_fits_the_window(browser: Any, live_server: Any,
                                                name: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/queries/{name}")
    assert search_box(browser) == ""
    assert no_sideways_scroll(browser)
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "table.results td a")]
    assert not [text for text in links if text.startswith(BASE)]


def test_search_page_keeps_its_words_in_the_box(browser: Any, live_server: Any) -> None:
    browser.get(live_server.url + "/search?q=beijing")
    assert search_box(browser) == "beijing"


FLIGHT = "/doc/id/flight/chn-removal-5"
HASH = re.compile(r"\b[0-9a-f]{16}\b")


def test_entity_page_quotes_each_sentence_once(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + FLIGHT)
    quotes = [q.text
              for q in browser.find_elements(By.CSS_SELECTOR, "blockquote.sentence")]
    assert quotes and len(quotes) == len(set(quotes))
    body = browser.find_element(By.TAG_NAME, "body").text
    assert body.count("conducted the fifth large-scale deportation") == 1
    claims = browser.find_elements(By.CSS_SELECTOR, ".sentence-group li.triple")
    assert len(claims) >= 12
    assert all(c.find_element(By.CSS_SELECTOR, "a.claim-link").get_attribute("href")
               for c in claims)
    texts = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "main a")]
    assert not [t for t in texts if HASH.search(t) or t.startswith(BASE)]
    assert search_box(browser) == ""
    assert no_sideways_scroll(browser)


def test_a_claim_page_is_titled_by_what_it_claims(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + FLIGHT)
    browser.find_element(By.CSS_SELECTOR, "a.claim-link").click()
    title = browser.find_element(By.TAG_NAME, "h1").text
    assert title.startswith("Claim: ") and not HASH.search(title)


def test_the_logo_leads_to_the_ontology_and_its_terms(browser: Any, live_server: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/queries")
    browser.find_element(By.CSS_SELECTOR, "header a.brand").click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "BorderKG ontology"
    assert browser.title.startswith("BorderKG ontology")

    def rows(kind: str) -> dict[str, list[str]]:
        table = browser.find_elements(By.CSS_SELECTOR, f"#{kind}-terms tbody tr")
        return {r.find_elements(By.TAG_NAME, "td")[1].text:
                [td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in table}

    classes, properties = rows("class"), rows("property")
    assert len(classes) >= 20 and len(properties) >= 40
    assert classes["bkg:Claim"][0] == "claim" and "reified" in classes["bkg:Claim"][2]
    assert properties["bkg:destination"][0] == "destination"
    assert not set(classes) & set(properties)
    assert no_sideways_scroll(browser)


#: every GET analysis with what it needs, and a label its page must link
ANALYSIS_PAGES = [
    ("path?from=China&to=U.S.%20Department%20of%20Homeland%20Security&k=2",
     "U.S. Department of Homeland Security"),
    ("neighbours?entity=China", "China"),
    ("centrality?limit=5", "United States"),
    ("communities?limit=3&members=5", None),
    ("components?limit=3&members=5", None),
    ("connectors?limit=5", None),
    ("similar?entity=China&limit=5", None),
]


@pytest.mark.parametrize(("query", "label"), ANALYSIS_PAGES)
def test_analysis_answers_are_pages_for_a_browser(browser: Any, live_server: Any, query: str,
                                                  label: str | None) -> None:
    import requests
    from selenium.webdriver.common.by import By

    from server.openapi import ANALYSES

    url = f"{live_server.url}/analyses/{query}"
    assert requests.get(url, timeout=60).headers["Content-Type"] == "application/json"
    browser.get(url)
    name = query.split("?")[0]
    assert browser.find_element(By.TAG_NAME, "h1").text == ANALYSES[name][0]
    assert browser.find_elements(By.CSS_SELECTOR, "table.results tbody tr")
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "main a")]
    assert not [t for t in links if t.startswith(BASE)]
    if label:
        assert label in links
    assert "JSON" in links
    assert no_sideways_scroll(browser)


def test_reconciliation_is_a_table_for_a_browser(browser: Any, live_server: Any) -> None:
    import requests
    from selenium.webdriver.common.by import By

    answer = requests.get(live_server.url + "/reconciliation", timeout=60).json()
    browser.get(live_server.url + "/reconciliation")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.reconciliation tbody tr")
    assert len(rows) == len(answer["results"])
    figures = [r.find_element(By.CSS_SELECTOR, "td a").text for r in rows]
    assert figures == [r["label"] for r in answer["results"]]
    status, count = next((s, n) for s, n in answer["summary"].items() if n)
    browser.find_element(By.CSS_SELECTOR, f"a.status-{status}").click()
    kept = browser.find_elements(By.CSS_SELECTOR, "table.reconciliation tbody tr")
    assert len(kept) == count
    assert {r.get_attribute("class") for r in kept} == {f"status-{status}"}
    assert no_sideways_scroll(browser)
