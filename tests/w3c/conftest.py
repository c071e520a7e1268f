"""The servers the W3C suite runs against, all on loopback and all starting empty.

* ``borderkg serve --empty`` with ``default_graph_union = false`` (the W3C dataset:
  the default graph is only the default graph) and SERVICE and LOAD allowed to 127.0.0.1;
* ``borderkg serve --empty`` in its default configuration (union default graph, SERVICE
  refused), because that is what users get; ``BORDERKG_W3C_DEFAULT_CONFIG=0`` leaves it out;
* ``oxigraph serve`` (in memory, no union default graph), the reference;
* two more ``oxigraph serve`` that play the remote endpoints of the SERVICE tests.

Both BorderKG servers use the store ``BORDERKG_W3C_STORE`` names (default ``disk``, the
default store); writes carry the update token, as every client's must.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ARTICLE, TOKEN, LiveServer, free_port
from tests.peers import PeerError, oxigraph_binary, start_oxigraph
from tests.w3c.runner import Context, Target

STORE = os.environ.get("BORDERKG_W3C_STORE", "disk")
DEFAULT_CONFIG = os.environ.get("BORDERKG_W3C_DEFAULT_CONFIG", "1") != "0"
JUDGED = "BorderKG (union off)"
DEFAULT = "BorderKG default"
REFERENCE = "oxigraph serve"


@dataclass(frozen=True)
class Running:
    """A started server: where it answers and how to stop it (by its own process id)."""

    target: Target
    stop: Callable[[], None]


def borderkg(label: str, root: Path, env: dict[str, str]) -> Running:
    """``borderkg serve --empty`` on a free port, its environment only ``env``'s settings."""
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--empty", "--port", str(port),
            "--store", STORE, "--data-dir", str(root / "data"), "--article", str(ARTICLE)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ.update({"BORDERKG_UPDATE_TOKEN": TOKEN, **env})
    server = LiveServer(args, environ, port).start(root / "server.log")
    return Running(Target(label, server.url, "/sparql", "/sparql", "/graph-store", TOKEN),
                   server.stop)


def oxigraph(label: str, root: Path) -> Running:
    """``oxigraph serve`` in memory on a free port."""
    try:
        oxigraph_binary()
    except PeerError as exc:
        pytest.fail(str(exc))
    server = start_oxigraph(root / "server.log")
    return Running(Target(label, server.base, "/query", "/update", "/store"), server.stop)


def start_all(starts: dict[str, Callable[[], Running]]) -> dict[str, Running]:
    """Start the servers side by side; if one fails, stop the others and fail."""
    with ThreadPoolExecutor(len(starts)) as pool:
        futures = {name: pool.submit(start) for name, start in starts.items()}
        started = {name: f.result() for name, f in futures.items() if f.exception() is None}
        errors = [f.exception() for f in futures.values() if f.exception() is not None]
    if errors:
        for running in started.values():
            running.stop()
        raise RuntimeError(f"a server of the W3C suite did not start: {errors[0]}")
    return started


@pytest.fixture(scope="module")
def w3c_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[list[Target], Context]]:
    """The targets (judged BorderKG, default BorderKG, reference) and the shared context."""
    def root(name: str) -> Path:
        return tmp_path_factory.mktemp(f"w3c-{name}")

    strict = {"BORDERKG_DEFAULT_GRAPH_UNION": "false",
              "BORDERKG_ALLOWED_SERVICE_HOSTS": "127.0.0.1",
              "BORDERKG_ALLOWED_LOAD_HOSTS": "127.0.0.1"}
    starts: dict[str, Callable[[], Running]] = {
        JUDGED: lambda: borderkg(JUDGED, root("strict"), strict),
        REFERENCE: lambda: oxigraph(REFERENCE, root("oxigraph")),
        "endpoint-1": lambda: oxigraph("endpoint-1", root("endpoint1")),
        "endpoint-2": lambda: oxigraph("endpoint-2", root("endpoint2"))}
    if DEFAULT_CONFIG:
        # the default configuration, with the documented settings that turn SERVICE and
        # LOAD on (refused by default, which the suite would count as failures)
        starts[DEFAULT] = lambda: borderkg(DEFAULT, root("default"), {
            "BORDERKG_ALLOWED_SERVICE_HOSTS": "127.0.0.1",
            "BORDERKG_ALLOWED_LOAD_HOSTS": "127.0.0.1"})
    started = start_all(starts)
    try:
        targets = [started[name].target for name in (JUDGED, DEFAULT, REFERENCE)
                   if name in started]
        endpoints = [started[name].target for name in ("endpoint-1", "endpoint-2")]
        yield targets, Context(f"http://127.0.0.1:{free_port()}", endpoints)
    finally:
        for running in started.values():
            running.stop()
