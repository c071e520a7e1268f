"""The query page in a real headless Chromium (Debian's chromium and chromedriver): it
loads, highlights, runs an example query against /sparql and shows the rows."""
from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip("needs Debian's /usr/bin/chromium and /usr/bin/chromedriver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver: Any, condition: Any, timeout: float = 20) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def test_static_assets_are_served(server: LiveServer) -> None:
    for name in ("highlight.js", "query.js", "style.css"):
        assert requests.get(f"{server.url}/static/{name}", timeout=30).status_code == 200


def test_run_an_example_and_see_rows(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/sparql")
    assert "SPARQL" in browser.title
    editor = browser.find_element(By.ID, "query")
    assert "PREFIX bkg: <https://w3id.org/borderkg/def/>" in editor.get_attribute("value")
    assert browser.find_elements(By.CSS_SELECTOR, "#highlight .tok-keyword")
    example = next(b for b in browser.find_elements(By.CSS_SELECTOR, "button.example")
                   if b.text == "Agencies and hierarchy")
    example.click()
    browser.find_element(By.ID, "run").click()
    rows = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR,
                                                       "#results table tbody tr"))
    assert len(rows) >= 3
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#results th")]
    assert headers == ["agency", "label", "parent", "parentLabel"]
    links = [a.get_attribute("href") for a in
             browser.find_elements(By.CSS_SELECTOR, "#results td a")]
    assert any(link.endswith("/id/org/ice") for link in links)
    assert "rows in" in browser.find_element(By.ID, "status").text
    downloads = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "#downloads a")]
    assert downloads == ["json", "xml", "csv", "tsv"]


def test_errors_are_shown(browser: Any, server: LiveServer) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/")
    browser.execute_script("document.getElementById('query').value = 'SELECT * WHERE { ?s ?p }';")
    browser.find_element(By.ID, "run").click()
    error = wait_for(browser, lambda d: d.find_element(By.ID, "error")
                     if d.find_element(By.ID, "error").is_displayed() else False)
    assert "syntax error" in error.text and "line 1" in error.text
