"""Regenerate the screenshots of this folder: a real server, headless Chromium, 1280 px.

Run from the repository root (not part of the test suite; needs Debian's chromium and
chromedriver, like ``tests/browser.py``)::

    .venv/bin/python docs/screenshots/make_screenshots.py

Each page is captured at its full height (up to ``MAX_HEIGHT``), after its pictures
and, for the query editor, the answer have loaded.
"""
from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser import chromium, wait_for  # noqa: E402
from tests.conftest import ARTICLE, CBP_STATE_CSV, LiveServer, free_port  # noqa: E402

HERE = Path(__file__).resolve().parent
WIDTH = 1280
MAX_HEIGHT = 4200
QUERY = """PREFIX bkg: <https://w3id.org/borderkg/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?agency ?label WHERE { ?agency a bkg:GovernmentAgency ; rdfs:label ?label }
ORDER BY ?label"""


def _images_loaded(driver: Any) -> bool:
    return bool(driver.execute_script(
        "return [...document.images].every(i => i.complete && i.naturalWidth > 0);"))


def _query_answer(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    wait_for(driver, lambda d: d.execute_script(
        "return !!(window.borderkgYasgui && borderkgYasgui.getTab().getYasqe());"))
    driver.execute_script("borderkgYasgui.getTab().getYasqe().setValue(arguments[0]);", QUERY)
    driver.find_element(By.CSS_SELECTOR, ".tabPanel.active .yasqe_queryButton").click()
    wait_for(driver, lambda d: d.find_elements(
        By.CSS_SELECTOR, ".tabPanel.active .yasr table.dataTable tbody tr"))


#: file name -> (path, what to wait for beyond the images)
SHOTS: dict[str, tuple[str, Callable[[Any], None] | None]] = {
    "query-editor.png": ("/sparql", _query_answer),
    "entity-china.png": ("/doc/id/country/CHN", None),
    "named-query.png": ("/queries/claims-with-sources", None),
    "reconciliation.png": ("/reconciliation", None),
    "search-facets.png": ("/search?q=china", None),
}


def _capture(driver: Any, url: str, ready: Callable[[Any], None] | None, target: Path) -> None:
    driver.set_window_size(WIDTH, 1000)
    driver.get(url)
    driver.execute_script("localStorage.clear();")
    driver.get(url)
    if ready is not None:
        ready(driver)
    driver.execute_script("document.querySelectorAll('img').forEach(i => i.loading = 'eager');")
    wait_for(driver, _images_loaded)
    height = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(WIDTH, min(int(height) + 140, MAX_HEIGHT))
    driver.execute_script("window.scrollTo(0, 0);")
    driver.save_screenshot(str(target))


def _server(data: Path) -> LiveServer:
    import subprocess

    subprocess.run([sys.executable, "-m", "server.cli", "build", "--store", "disk",
                    "--data-dir", str(data), "--article", str(ARTICLE)], check=True)
    if CBP_STATE_CSV.is_file():  # the China page's monthly chart
        subprocess.run([sys.executable, "-m", "server.cli", "import", "cbp-encounters",
                        "--store", "disk", "--data-dir", str(data), str(CBP_STATE_CSV)],
                       check=True)
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store",
            "disk", "--data-dir", str(data), "--article", str(ARTICLE)]
    return LiveServer(args, {"PATH": "/usr/bin:/bin"}, port).start(data / "server.log")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="borderkg-shots-") as tmp:
        server = _server(Path(tmp))
        try:
            with chromium() as driver:
                for name, (path, ready) in SHOTS.items():
                    _capture(driver, server.url + path, ready, HERE / name)
                    print(f"wrote {HERE / name}")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
