"""A real ``borderkg serve`` (granian, in-memory store with the seed graph, update token
``TOKEN``) shared by the protocol tests, and small helpers for them.

Tests that write use graphs of their own (``fresh_graph``) so they never disturb each
other or the seed; tests that need other settings start their own server.
"""
from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ARTICLE, TOKEN, LiveServer, free_port

AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTICLE_GRAPH = "https://w3id.org/borderkg/graph/article/000_e1eaba6903481a9d"
ONTOLOGY_GRAPH = "https://w3id.org/borderkg/graph/ontology"


def serve(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> LiveServer:
    """Start ``borderkg serve`` on a free loopback port with a memory store."""
    import os

    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store",
            "memory", "--data-dir", str(data_dir), "--article", str(ARTICLE), *extra]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ.update(env or {})
    return LiveServer(args, environ, port).start(data_dir / "server.log")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = serve(tmp_path_factory.mktemp("protocol"), env={"BORDERKG_UPDATE_TOKEN": TOKEN})
    yield live
    live.stop()


@pytest.fixture
def sparql(server: LiveServer) -> str:
    return server.url + "/sparql"


@pytest.fixture
def fresh_graph() -> str:
    """A graph IRI no other test uses."""
    return f"http://example.org/test/{uuid.uuid4().hex}"


def select(url: str, text: str, **params: Any) -> list[dict[str, Any]]:
    """Bindings of a SELECT sent by GET, asserting success."""
    response = requests.get(url, params={"query": text, **params}, timeout=30,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def update(url: str, text: str, **params: Any) -> requests.Response:
    return requests.post(url, data={"update": text, **params}, headers=AUTH, timeout=30)
