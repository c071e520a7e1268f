"""Real stores for the contract tests: embedded (memory, disk) and remote servers.

The remote servers are started once per session on loopback and stopped at the end:
``oxigraph serve`` (PyPI ``oxigraph``), Virtuoso Open Source (Debian
``virtuoso-opensource-7-bin``) and BorderKG itself (``borderkg serve --store memory
--empty`` with an update token), the remote with no vendor quirks. ``remote-generic`` is
``oxigraph serve`` spoken to as an engine the remote store does not recognise, so the
protocol-only path (the union default graph emulated with dataset parameters) runs against
an engine that keeps a default graph of its own, as Fuseki and most engines do.
A missing Virtuoso is a failure, not a skip: the Makefile's ``system-deps`` target
installs it, and a skipped backend would hide a broken contract.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTICLE, TOKEN, LiveServer, free_port
from tests.peers import (
    TEST_TUNING,
    PeerError,
    oxigraph_binary,
    start_oxigraph,
    start_virtuoso,
    virtuoso_binaries,
)

REMOTES = ("remote-oxigraph", "remote-virtuoso", "remote-borderkg", "remote-generic")
BACKENDS = ("memory", "disk", *REMOTES)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``oxigraph serve`` on a free loopback port with an on-disk store."""
    try:
        oxigraph_binary()
    except PeerError as exc:
        pytest.fail(str(exc))
    root = tmp_path_factory.mktemp("oxigraph")
    server = start_oxigraph(root / "server.log", location=root / "db")
    try:
        yield {"query": server.query, "update": server.update, "store": server.store}
    finally:
        server.stop()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Virtuoso Open Source on free loopback ports; the anonymous SPARQL user is granted
    SPARQL_UPDATE through isql so that ``/sparql`` accepts updates."""
    try:
        virtuoso_binaries()
    except PeerError as exc:
        pytest.fail(str(exc))
    server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"), tuning=TEST_TUNING)
    try:
        server.isql(['GRANT SPARQL_UPDATE TO "SPARQL";'], timeout=60)
        yield {"query": server.sparql, "update": server.sparql, "auth_url": server.sparql_auth}
    finally:
        server.stop()


@pytest.fixture(scope="session")
def borderkg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``borderkg serve --store memory --empty`` on a free loopback port; writes need the
    bearer token ``TOKEN`` (``token`` below), as in production."""
    root = tmp_path_factory.mktemp("borderkg-remote")
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store",
            "memory", "--empty", "--data-dir", str(root), "--article", str(ARTICLE)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ["BORDERKG_UPDATE_TOKEN"] = TOKEN
    server = LiveServer(args, environ, port).start(root / "server.log")
    try:
        sparql = server.url + "/sparql"
        yield {"query": sparql, "update": sparql, "store": server.url + "/graph-store",
               "token": TOKEN}
    finally:
        server.stop()


#: the server fixture behind each remote backend, and the dialect forced on it (None: probed)
REMOTE_SERVERS = {"remote-oxigraph": ("oxigraph_server", None),
                  "remote-virtuoso": ("virtuoso_server", None),
                  "remote-borderkg": ("borderkg_server", None),
                  "remote-generic": ("oxigraph_server", "generic")}


def remote_store(backend: str, request: pytest.FixtureRequest,
                 graph_store: bool = True) -> Any:
    """A ``RemoteStore`` on ``backend``'s server (not cleared); ``graph_store=False``
    leaves the Graph Store URL out, as when the server offers none."""
    from graph.store.remote import BearerAuth, RemoteStore

    fixture, dialect = REMOTE_SERVERS[backend]
    urls = request.getfixturevalue(fixture)
    auth = BearerAuth(urls["token"]) if "token" in urls else None
    return RemoteStore(urls["query"], urls["update"], urls.get("store") if graph_store else None,
                       auth, dialect=dialect)


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty store of ``backend`` (remote ones are cleared first)."""
    from graph.store.oxigraph import OxigraphStore

    if backend == "memory":
        return OxigraphStore(None)
    if backend == "disk":
        return OxigraphStore(tmp_path / "store")
    store = remote_store(backend, request)
    store.clear()
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Every backend in turn, empty."""
    opened = make_store(request.param, request, tmp_path)
    yield opened
    opened.close()
