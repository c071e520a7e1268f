"""A hostile-input world: a real disk-backed server with small limits, and helpers that
check the data is unchanged and the service alive after each attack."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ARTICLE, TOKEN, LiveServer, free_port, report_family

QUERY_TIMEOUT = 2.0
BODY_LIMIT = 1 << 20
COUNT_ALL = ("SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")
#: where the Graph Store protocol may be mounted (the first that answers is used)
GRAPH_STORE_PATHS = ("/rdf-graph-store", "/graph-store", "/store")


class Endpoint:
    """A client for one running server: SPARQL, Graph Store, counts, health."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.url = server.url
        self.session = requests.Session()

    def query(self, text: str, *, method: str = "POST", timeout: float = 30,
              **headers: str) -> requests.Response:
        headers = {"Accept": "application/sparql-results+json", **headers}
        if method == "GET":
            return self.session.get(self.url + "/sparql", params={"query": text},
                                    headers=headers, timeout=timeout)
        return self.session.post(self.url + "/sparql", data=text.encode("utf-8"),
                                 headers={"Content-Type": "application/sparql-query", **headers},
                                 timeout=timeout)

    def update(self, text: str, token: str | None = TOKEN,
               timeout: float = 30) -> requests.Response:
        headers = {"Content-Type": "application/sparql-update"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.session.post(self.url + "/sparql", data=text.encode("utf-8"),
                                 headers=headers, timeout=timeout)

    def count(self) -> int:
        response = requests.post(self.url + "/sparql", data=COUNT_ALL,
                                 headers={"Content-Type": "application/sparql-query",
                                          "Accept": "application/sparql-results+json"},
                                 timeout=30)
        assert response.status_code == 200, response.text
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    def healthy(self) -> bool:
        return requests.get(self.url + "/healthz", timeout=10).status_code == 200

    @contextlib.contextmanager
    def intact(self) -> Iterator[None]:
        """Assert that whatever happens inside changes no data and leaves the service up."""
        before = self.count()
        yield
        assert self.healthy(), "the service stopped answering /healthz"
        assert self.count() == before, "the data changed"

    def graph_store(self) -> str:
        for path in GRAPH_STORE_PATHS:
            response = requests.get(self.url + path, params={"default": ""}, timeout=10)
            if response.status_code != 404:
                return self.url + path
        pytest.skip("no Graph Store endpoint in this build yet")


def start(data_dir: Path, log: Path, extra: list[str] | None = None) -> LiveServer:
    """A disk-backed server with the security suite's limits."""
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", "disk",
            "--data-dir", str(data_dir), "--article", str(ARTICLE),
            "--query-timeout", str(QUERY_TIMEOUT), "--max-body-bytes", str(BODY_LIMIT),
            "--query-workers", "2", "--log-level", "debug", *(extra or [])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    env["BORDERKG_UPDATE_TOKEN"] = TOKEN
    return LiveServer(args, env, port).start(log)


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """One hostile-input server per module; skips until the SPARQL endpoint exists."""
    data_dir = tmp_path_factory.mktemp("security")
    server = start(data_dir / "data", data_dir / "server.log")
    try:
        client = Endpoint(server)
        probe = requests.get(server.url + "/sparql", params={"query": "ASK {}"}, timeout=30)
        assert probe.status_code == 200, probe.text  # a broken route fails, never skips
        yield client
    finally:
        server.stop()


def summary(family: str, tried: int, failures: int, extra: str = "") -> None:
    """The one-line summary each reliability family prints (repeated at the end of the run)."""
    report_family(f"{family}: {tried} inputs tried, {failures} failures{extra}")


def error_of(response: requests.Response) -> dict[str, Any]:
    """The error object of the one JSON error shape."""
    return response.json()["error"]
