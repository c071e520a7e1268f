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
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ARTICLE, TOKEN, LiveServer, free_port

REMOTES = ("remote-oxigraph", "remote-virtuoso", "remote-borderkg", "remote-generic")
BACKENDS = ("memory", "disk", *REMOTES)
VIRTUOSO = "/usr/bin/virtuoso-t"
ISQL = "/usr/bin/isql-vt"


class Server:
    """A server process on loopback, stopped by its process id."""

    def __init__(self, args: list[str], log: Path, cwd: Path | None = None) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=out, cwd=cwd,
                                            start_new_session=True)

    def wait_http(self, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if requests.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """``oxigraph serve`` on a free loopback port with an on-disk store."""
    binary = Path(sys.executable).with_name("oxigraph")
    if not binary.exists():
        pytest.fail(f"oxigraph CLI not found at {binary}: pip install -e '.[test]'")
    root = tmp_path_factory.mktemp("oxigraph")
    port = free_port()
    server = Server([str(binary), "serve", "--location", str(root / "db"), "--bind",
                     f"127.0.0.1:{port}"], root / "server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        server.wait_http(base + "/query")
        yield {"query": base + "/query", "update": base + "/update", "store": base + "/store"}
    finally:
        server.stop()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
ServerThreads = 10
CheckpointInterval = 60
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = ., {d}
DefaultIsolation = 4

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 8
ServerThreads = 8
EnabledDavVSP = 0
HTTPProxyEnabled = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Virtuoso Open Source on free loopback ports; the anonymous SPARQL user is granted
    SPARQL_UPDATE through isql so that ``/sparql`` accepts updates."""
    for binary in (VIRTUOSO, ISQL):
        if not shutil.which(binary):
            pytest.fail(f"{binary} not found: install virtuoso-opensource-7-bin "
                        "(make system-deps)")
    root = tmp_path_factory.mktemp("virtuoso")
    sql_port, http_port = free_port(), free_port()
    ini = root / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=root, sql_port=sql_port, http_port=http_port))
    server = Server([VIRTUOSO, "+foreground", "+configfile", str(ini)], root / "server.log",
                    cwd=root)
    base = f"http://127.0.0.1:{http_port}"
    try:
        server.wait_http(base + "/sparql")
        subprocess.run([ISQL, f"127.0.0.1:{sql_port}", "dba", "dba",
                        'exec=GRANT SPARQL_UPDATE TO "SPARQL";'], check=True,
                       capture_output=True, timeout=60)
        yield {"query": base + "/sparql", "update": base + "/sparql",
               "auth_url": base + "/sparql-auth"}
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
