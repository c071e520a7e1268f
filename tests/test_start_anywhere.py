"""The service starts without the founding article's file (a fresh clone has none), says so
once on the console and on every page, and completes the seed at the first start that
finds the file."""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from markupsafe import escape

from graph import ids
from graph.knowledge.build import ensure_seed, is_built, seed_state
from graph.service import Service, build_executor
from graph.settings import load_settings
from graph.store.oxigraph import OxigraphStore
from server.app import create_app
from server.pages import ARTICLE_NOTICE
from tests.conftest import ARTICLE, LiveServer, free_port

MISSING = "/nonexistent/path"
NOTICE_LINE = (f"article {MISSING} not found: the article's claims are served without their "
               "quoted sentences until --article names the file")
PREFIXES = ("PREFIX bkg: <https://w3id.org/borderkg/def/>\n"
            "PREFIX prov: <http://www.w3.org/ns/prov#>\n"
            "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n")
CLAIMS = "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a bkg:Claim ; prov:wasDerivedFrom ?s }"
TEXTS = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?c a bkg:Claim ; prov:wasDerivedFrom ?s . " \
        "?s bkg:text ?text }"
HTML = {"Accept": "text/html"}
#: the notice as the page's HTML spells it
SHOWN = str(escape(ARTICLE_NOTICE))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Path, str], LiveServer]]:
    """Start ``borderkg serve`` on a disk store in ``data_dir`` with ``--article``, in an
    environment without any BORDERKG_ variable (so nothing else names the article)."""
    servers: list[LiveServer] = []

    def start(data_dir: Path, article: str) -> LiveServer:
        port = free_port()
        args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store",
                "disk", "--data-dir", str(data_dir), "--article", article]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
        server = LiveServer(args, env, port)
        servers.append(server)
        return server.start(tmp_path / f"server-{len(servers)}.log")

    yield start
    for server in servers:
        server.stop()


def count(server: LiveServer, query: str) -> int:
    response = requests.get(server.url + "/sparql", params={"query": PREFIXES + query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def ask(server: LiveServer, query: str) -> bool:
    response = requests.get(server.url + "/sparql", params={"query": PREFIXES + query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def page(server: LiveServer, path: str) -> str:
    response = requests.get(server.url + path, headers=HTML, timeout=30)
    assert response.status_code == 200, response.text
    return response.text


def test_a_server_without_the_article_serves_the_rest_and_says_so(
        serve: Callable[[Path, str], LiveServer], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = serve(data_dir, MISSING)
    health = requests.get(server.url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["seed"] == "article missing"
    assert ask(server, f"ASK {{ GRAPH <{ids.GRAPH_ONTOLOGY}> {{ ?c a owl:Class }} }}")
    assert ask(server, f"ASK {{ GRAPH <{ids.GRAPH_BACKGROUND}> "
                       "{ <https://w3id.org/borderkg/id/org/ice> ?p ?o } }")
    claims = count(server, CLAIMS)
    assert claims > 100 and count(server, TEXTS) == 0
    for path in ("/", "/doc/id/org/ice"):
        assert SHOWN in page(server, path)
    [notice] = [line for line in server.log().splitlines() if NOTICE_LINE in line]
    assert "WARNING" in notice

    server.stop()
    complete = serve(data_dir, str(ARTICLE))
    assert requests.get(complete.url + "/healthz", timeout=10).json()["seed"] == "complete"
    assert count(complete, CLAIMS) == claims
    assert count(complete, TEXTS) == 19
    for path in ("/", "/doc/id/org/ice"):
        text = page(complete, path)
        assert SHOWN not in text and 'id="article-notice"' not in text
    assert "“" in page(complete, "/doc/id/org/ice")  # a quoted sentence on the page
    assert NOTICE_LINE not in complete.log()


def test_a_later_start_without_the_article_keeps_a_complete_seed(
        serve: Callable[[Path, str], LiveServer], tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    serve(data_dir, str(ARTICLE)).stop()
    again = serve(data_dir, MISSING)
    assert requests.get(again.url + "/healthz", timeout=10).json()["seed"] == "complete"
    assert count(again, TEXTS) == 19
    assert SHOWN not in page(again, "/")
    assert NOTICE_LINE not in again.log()


# -- in process: the seed's states, and the pages of an app over each ----------------------
def test_seed_states_and_what_each_start_does(caplog: pytest.LogCaptureFixture) -> None:
    store = OxigraphStore(None)
    assert seed_state(store) == "none" and not is_built(store)
    with caplog.at_level(logging.WARNING, logger="borderkg"):
        report = ensure_seed(store, MISSING)
    assert report is not None and report.article is None
    assert seed_state(store) == "article missing" and not is_built(store)
    assert [r.getMessage() for r in caplog.records if NOTICE_LINE in r.getMessage()]
    version = store.version
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="borderkg"):
        assert ensure_seed(store, MISSING) is None  # left as it is, and said again
    assert store.version == version and NOTICE_LINE in caplog.text
    completed = ensure_seed(store, str(ARTICLE))
    assert completed is not None and completed.article == ARTICLE
    assert seed_state(store) == "complete" and is_built(store) and store.version > version
    completed_at = store.version
    assert ensure_seed(store, MISSING) is None and store.version == completed_at


def app_over(store: Any, tmp_path: Path) -> Any:
    settings = load_settings({"store": "memory", "data_dir": str(tmp_path)}, environ={})
    return create_app(settings, Service(settings, store, build_executor(settings, store)))


def test_the_notice_is_on_pages_while_the_sentences_are_missing(tmp_path: Path) -> None:
    store = OxigraphStore(None)
    ensure_seed(store, MISSING)
    client = app_over(store, tmp_path).test_client()
    for path in ("/", "/doc/id/org/ice", "/queries", "/search?q=ice"):
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
        assert SHOWN in response.get_data(as_text=True), path
    assert client.get("/healthz").get_json()["seed"] == "article missing"
    ensure_seed(store, str(ARTICLE))
    for path in ("/", "/doc/id/org/ice"):
        assert SHOWN not in client.get(path, headers=HTML).get_data(as_text=True)
    assert client.get("/healthz").get_json()["seed"] == "complete"
