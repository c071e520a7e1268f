"""Isolation over HTTP: dying workers, runaway queries and huge texts cost only their own
request, and one client cannot starve the others.

Each test starts a real ``borderkg serve`` (memory store: its queries run in forked
children of the HTTP worker) and speaks as several clients from different loopback
addresses (the server tells clients apart by address).
"""
from __future__ import annotations

import os
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import LiveServer, client_session, report_family

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JSON = "application/sparql-results+json"


def cheap() -> str:
    """A query the caches cannot have seen."""
    return f"ASK {{ ?s ?p ?o }} # {uuid.uuid4()}"


def post(session: requests.Session, server: LiveServer, text: str,
         timeout: float = 60) -> requests.Response:
    return session.post(server.url + "/sparql", data=text.encode("utf-8"), timeout=timeout,
                        headers={"Content-Type": "application/sparql-query", "Accept": JSON})


def descendants(pid: int) -> dict[int, int]:
    """Every living descendant of ``pid`` with its depth below it."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    depth, frontier, found = 1, [pid], {}
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found.update({child: depth for child in children})
        frontier, depth = children, depth + 1
    return found


def http_worker(server: LiveServer) -> int:
    """The granian worker process (the one holding the store)."""
    assert server.process is not None
    workers = [p for p, d in descendants(server.process.pid).items() if d == 1]
    assert len(workers) == 1, workers
    return workers[0]


def query_workers(server: LiveServer, store: str = "memory") -> list[int]:
    """The query workers: children of the HTTP worker (memory store, and disk store once
    its memory copy is ready), or of its forkserver (disk store without the copy)."""
    below = descendants(http_worker(server))
    if store == "disk-without-copy":
        return [p for p, d in below.items() if d == 2]
    # forked over the store: not multiprocessing's helpers (the snapshot pool's forkserver,
    # which the disk store keeps a while after its copy is ready, and its resource tracker)
    return [p for p, d in below.items() if d == 1 and b"multiprocessing" not in cmdline(p)]


def cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def copy_ready(server: LiveServer) -> None:
    """Wait until the disk store's memory copy is ready (queries then go to forks)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = requests.get(server.url + "/healthz", timeout=5).json()
        if health.get("memory_copy", {}).get("state") == "ready":
            return
        time.sleep(0.2)
    raise AssertionError("the memory copy never became ready")


class Load:
    """Clients at their own addresses sending cheap queries until stopped."""

    def __init__(self, server: LiveServer, addresses: list[str],
                 query: Callable[[], str] = cheap) -> None:
        self.server, self.query = server, query
        self.results: list[tuple[float, int, str]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(a,)) for a in addresses]

    def _run(self, address: str) -> None:
        session = client_session(address)
        while not self.stop.is_set():
            began = time.monotonic()
            response = post(session, self.server, self.query())
            code = response.json()["error"]["code"] if response.status_code != 200 else ""
            self.results.append((time.monotonic() - began, response.status_code, code))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def latencies(self) -> list[float]:
        return sorted(seconds for seconds, _, _ in self.results)


def p99(values: list[float]) -> float:
    return values[min(len(values) - 1, int(len(values) * 0.99))]


@pytest.fixture
def memory_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server(store="memory", extra=["--query-timeout", "3", "--query-workers", "2"])


@pytest.mark.parametrize("store", ["memory", "disk", "disk-without-copy"])
def test_killed_query_workers_cost_only_their_request(
        start_server: Callable[..., LiveServer], store: str) -> None:
    without_copy = store == "disk-without-copy"
    server = start_server(store="disk" if without_copy else store,
                          extra=["--query-timeout", "3"],
                          env={"BORDERKG_MEMORY_COPY": "false"} if without_copy else None)
    if store == "disk":
        copy_ready(server)
    before = http_worker(server)
    kills = 0
    with Load(server, ["127.0.0.2", "127.0.0.3", "127.0.0.4"]) as load:
        time.sleep(0.5)
        for sig in [signal.SIGSEGV, signal.SIGKILL] * 4:
            victims = query_workers(server, store)
            if victims:
                os.kill(victims[0], sig)
                kills += 1
            time.sleep(0.4)
        time.sleep(0.5)
    failed = [(status, code) for _, status, code in load.results if status != 200]
    report_family(f"worker kills under load ({store}): {len(load.results)} requests, "
                  f"{kills} workers killed (SIGSEGV/SIGKILL), {len(failed)} failed")
    assert kills >= 6
    assert len(failed) <= kills, failed
    assert all(status == 503 and code == "unavailable" for status, code in failed), failed
    assert http_worker(server) == before  # the HTTP worker itself never went down
    assert post(requests.Session(), server, cheap()).status_code == 200


def test_a_dead_http_worker_is_replaced(memory_server: LiveServer) -> None:
    server = memory_server
    first = http_worker(server)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if post(requests.Session(), server, cheap(), timeout=5).status_code == 200:
                break
        except requests.RequestException:
            pass
        time.sleep(0.2)
    else:
        pytest.fail("the server did not answer again after its worker was killed")
    assert server.process is not None and server.process.poll() is None
    assert http_worker(server) != first


def test_runaway_queries_of_one_client_do_not_starve_others(memory_server: LiveServer) -> None:
    server = memory_server
    attacker: list[int] = []

    def runaway() -> None:
        session = client_session("127.0.0.9")
        stop = time.monotonic() + 8
        while time.monotonic() < stop:
            attacker.append(post(session, server, RUNAWAY).status_code)

    threads = [threading.Thread(target=runaway) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    with Load(server, ["127.0.0.3", "127.0.0.4", "127.0.0.5"]) as load:
        time.sleep(6)
    for thread in threads:
        thread.join(60)
    latencies = load.latencies()
    statuses = {status for _, status, _ in load.results}
    report_family(f"fairness: 4 runaway queries of one client; {len(latencies)} cheap queries "
                  f"of 3 others: p50 {statistics.median(latencies) * 1000:.0f} ms, p99 "
                  f"{p99(latencies) * 1000:.0f} ms; the runaway client got "
                  f"{attacker.count(503)} x 503, {attacker.count(429)} x 429")
    assert statuses == {200}
    assert p99(latencies) < 1.0
    assert 503 in attacker and 429 in attacker  # stopped at the limit; extras refused


def test_runaway_queries_are_stopped_and_health_stays_up(memory_server: LiveServer) -> None:
    server = memory_server
    results: list[tuple[int, float]] = []

    def runaway(address: str) -> None:
        began = time.monotonic()
        response = post(client_session(address), server, RUNAWAY)
        results.append((response.status_code, time.monotonic() - began))

    threads = [threading.Thread(target=runaway, args=(f"127.0.0.{10 + i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    health: list[float] = []
    while any(thread.is_alive() for thread in threads):
        began = time.monotonic()
        assert requests.get(server.url + "/healthz", timeout=10).status_code == 200
        health.append(time.monotonic() - began)
        time.sleep(0.1)
    report_family(f"runaway COUNTs on the memory store: 8 stopped in at most "
                  f"{max(s for _, s in results):.1f} s (limit 3 s); /healthz max "
                  f"{max(health) * 1000:.0f} ms over {len(health)} checks")
    assert [status for status, _ in results] == [503] * 8
    assert max(seconds for _, seconds in results) < 3 + 5
    assert max(health) < 1.0
    assert post(requests.Session(), server, cheap()).status_code == 200


def test_huge_query_texts_are_refused_without_freezing_others(
        memory_server: LiveServer) -> None:
    server = memory_server
    health: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        session = client_session("127.0.0.6")
        while not stop.is_set():
            began = time.monotonic()
            session.get(server.url + "/healthz", timeout=10)
            health.append(time.monotonic() - began)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        huge = post(requests.Session(), server,
                    'ASK { ?s ?p "' + "x" * (10 << 20) + '" }')
        near = post(requests.Session(), server,
                    'ASK { ?s ?p "' + "y" * (900 << 10) + '" }')
    finally:
        stop.set()
        watcher.join()
    assert huge.status_code == 413, huge.text
    assert huge.json()["error"]["code"] == "payload-too-large"
    assert near.status_code == 200, near.text[:300]
    assert max(health) < 1.0, max(health)
