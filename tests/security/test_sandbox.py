"""The second wall: with the query policy out of the way, evaluation still cannot reach
the network.

These tests hand SERVICE and LOAD texts straight to the executors and the update thread,
below ``graph.sparql.policy`` (the policy is switched off by not calling it), with their targets
at a loopback listener that counts connections. The sandboxed workers of every local
store must make none; the one networked worker (for SERVICE calls the policy allowed)
does reach the listener, which shows the listener would have seen any attempt.
"""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.errors import Forbidden
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from graph.service import Service
from graph.settings import load_settings
from graph.sparql import sandbox
from graph.sparql.executor import QueryRequest, SnapshotPoolExecutor
from graph.sparql.fork_pool import ForkPoolExecutor
from graph.store.oxigraph import OxigraphStore

pytestmark = pytest.mark.skipif(not sandbox.supported(), reason="Linux x86_64/aarch64 only")


class Listener:
    """A loopback TCP listener that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.sock.close()


def request(text: str, network: bool = False) -> QueryRequest:
    return QueryRequest(text, RESULT_FORMATS[0], GRAPH_FORMATS[0], timeout=10,
                        network=network)


def service_query(listener: Listener) -> str:
    return f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"


@pytest.fixture(params=["memory", "disk"])
def pools(tmp_path: Path, request: Any) -> Iterator[tuple[Any, Any]]:
    """The sandboxed pool of a store and the networked one beside it."""
    if request.param == "memory":
        store = OxigraphStore()
        closed = ForkPoolExecutor(store, 1), ForkPoolExecutor(store, 1, sandbox=False)
    else:
        store = OxigraphStore(tmp_path / "store")
        closed = (SnapshotPoolExecutor(store, 1, tmp_path / "snap"),
                  SnapshotPoolExecutor(store, 1, tmp_path / "snap-net", sandbox=False))
    store.update("INSERT DATA { <http://e/s> <http://e/p> 1 }")
    yield closed
    for pool in closed:
        pool.close()
    store.close()


def test_sandboxed_worker_cannot_reach_the_listener(pools: tuple[Any, Any],
                                                   listener: Listener) -> None:
    sandboxed, _ = pools
    for text in (service_query(listener),
                 f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}",
                 f"ASK {{ SERVICE <http://localhost:{listener.port}/> {{ ?s ?p ?o }} }}"):
        try:
            executed = sandboxed.run(request(text))
            b"".join(executed.body)
        except Forbidden as exc:
            assert "network" in exc.message
    assert listener.hits == 0
    executed = sandboxed.run(request("ASK { <http://e/s> ?p ?o }"))
    assert b"true" in b"".join(executed.body)  # the worker still answers afterwards


def test_the_networked_worker_does_reach_it(pools: tuple[Any, Any],
                                           listener: Listener) -> None:
    """The control: the listener sees a worker that is allowed the network."""
    _, networked = pools
    with pytest.raises(Exception):  # noqa: B017 - the listener closes without answering
        b"".join(networked.run(request(service_query(listener), network=True)).body)
    assert listener.hits >= 1


def test_updates_cannot_reach_the_listener(listener: Listener) -> None:
    store = OxigraphStore()
    service = Service(load_settings(overrides={"store": "memory"}), store, None)
    try:
        for text in (f"LOAD <{listener.url}>", f"LOAD SILENT <{listener.url}>",
                     f"LOAD <{listener.url}> INTO GRAPH <http://e/g>",
                     f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{listener.url}> "
                     "{ ?s ?p ?o } }"):
            try:
                service.update(text)
            except Forbidden as exc:
                assert "network" in exc.message
        assert listener.hits == 0
        assert store.count() == 0
        service.update("INSERT DATA { <http://e/s> <http://e/p> 1 }")  # still works
        assert store.count() == 1
    finally:
        service.update_threads.close()


def test_a_sandboxed_thread_leaves_other_threads_free() -> None:
    """The filter is per thread: the HTTP server's own threads keep their sockets."""
    threads = sandbox.SandboxedThreads(1)
    try:
        assert threads.call(sandbox.sandboxed) is True
        with pytest.raises(PermissionError):
            threads.call(socket.socket)
        threads.call(socket.socketpair)  # Unix sockets stay: pipes to the parent
    finally:
        threads.close()
    with socket.socket() as sock:  # this thread is untouched
        sock.bind(("127.0.0.1", 0))
    assert not sandbox.sandboxed()


def test_run_forked_reports_crash_and_deadline() -> None:
    import os
    import signal
    import time

    from graph.errors import QueryTimeout, ServiceUnavailable

    assert sandbox.run_forked(lambda: 6 * 7, timeout=5) == 42
    with pytest.raises(ServiceUnavailable, match="SIGSEGV"):
        sandbox.run_forked(lambda: os.kill(os.getpid(), signal.SIGSEGV), timeout=5)
    began = time.monotonic()
    with pytest.raises(QueryTimeout):
        sandbox.run_forked(time.sleep, 30, timeout=0.5)
    assert time.monotonic() - began < 5
    with pytest.raises(RuntimeError, match="PermissionError"):
        sandbox.run_forked(socket.socket, timeout=5)
