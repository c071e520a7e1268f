"""The killable snapshot-pool executor, called directly over a real on-disk store."""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from graph.errors import BadRequest, QuerySyntaxError, QueryTimeout, ServiceUnavailable
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from graph.sparql.executor import QueryRequest, SnapshotPoolExecutor
from graph.store.oxigraph import OxigraphStore

CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def request(text: str, timeout: float = 20.0, max_rows: int = 1000) -> QueryRequest:
    return QueryRequest(text, RESULT_FORMATS[0], GRAPH_FORMATS[1], timeout=timeout,
                        max_rows=max_rows)


def count(executor: SnapshotPoolExecutor) -> int:
    body = b"".join(executor.run(request(COUNT)).body)
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OxigraphStore]:
    s = OxigraphStore(tmp_path / "store")
    s.update("INSERT DATA { " + " ".join(f"<http://s{i}> <http://p> {i} ." for i in range(300))
             + " }")
    yield s
    s.close()


@pytest.fixture
def pool(store: OxigraphStore) -> Iterator[SnapshotPoolExecutor]:
    executor = SnapshotPoolExecutor(store, workers=2)
    yield executor
    executor.close()


def test_answers_and_reads_its_own_writes(store: OxigraphStore, pool: Any) -> None:
    assert count(pool) == 300
    for i in range(3):
        store.update(f"INSERT DATA {{ <http://new{i}> <http://p> {i} }}")
        assert count(pool) == 301 + i
    assert len(list(pool.root.iterdir())) <= 3  # current + at most one per worker


def test_row_cap_and_graph_results(pool: Any) -> None:
    executed = pool.run(request("SELECT * WHERE { ?s ?p ?o }", max_rows=10))
    assert (executed.form, executed.rows, executed.truncated) == ("select", 10, True)
    assert len(json.loads(b"".join(executed.body))["results"]["bindings"]) == 10
    graph = pool.run(request("CONSTRUCT WHERE { <http://s7> ?p ?o }"))
    assert graph.form == "graph"
    assert b"".join(graph.body) == (b'<http://s7> <http://p> "7"^^'
                                    b'<http://www.w3.org/2001/XMLSchema#integer> .\n')


def test_syntax_errors_keep_their_type(pool: Any) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        pool.run(request("SELECT * WHERE {\n  ?s ?p }"))
    assert caught.value.status == 400
    assert caught.value.details["line"] == 2
    assert count(pool) == 300  # the worker is still usable


def test_timeout_kills_only_the_slow_query(store: OxigraphStore, pool: Any) -> None:
    count(pool)  # workers ready
    answered: list[int] = []
    other = threading.Thread(target=lambda: (time.sleep(0.5), answered.append(count(pool))))
    other.start()
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as caught:
        pool.run(request(CROSS, timeout=2))
    elapsed = time.monotonic() - started
    other.join()
    print(f"timeout answered after {elapsed:.2f} s for a 2 s limit")
    assert caught.value.status == 503
    assert answered == [300]  # another query was answered meanwhile
    assert pool.restarts == 1
    assert count(pool) == 300 and store.count() == 300  # service and primary intact


def test_dead_worker_is_replaced(pool: Any) -> None:
    count(pool)

    killed = []

    def kill_busy_worker() -> None:
        time.sleep(0.5)
        for worker in list(pool._workers):
            if worker.snapshot is not None and worker.process.pid:
                os.kill(worker.process.pid, signal.SIGKILL)
                killed.append(worker)

    killer = threading.Thread(target=kill_busy_worker)
    killer.start()
    with pytest.raises(ServiceUnavailable, match="stopped while evaluating"):
        pool.run(request(CROSS, timeout=5))
    killer.join()
    for worker in killed:  # SIGKILL is asynchronous: let the kernel finish each one
        worker.process.join(5)
    assert count(pool) == 300


def test_idle_worker_death_costs_no_query(pool: Any) -> None:
    count(pool)
    for worker in list(pool._workers):
        os.kill(worker.process.pid, signal.SIGKILL)
        worker.process.join(5)
    assert count(pool) == 300  # both idle workers were dead: replaced, not handed the query
    assert pool.restarts >= 2


def test_shape_limit_applies_before_the_worker(pool: Any) -> None:
    with pytest.raises(BadRequest, match="too complex"):
        pool.run(request("SELECT * WHERE " + "{" * 10_000 + "}" * 10_000))
    assert pool.restarts == 0


def test_a_snapshot_handed_out_survives_until_its_query_is_done(store: OxigraphStore,
                                                                pool: Any) -> None:
    """Another request's clean-up must not delete a snapshot a request was given but whose
    worker has not opened it yet (a write made it stale in between), nor one being written
    (RocksDB writes a checkpoint as ``<name>.tmp`` first)."""
    handed = pool._current_snapshot()
    store.update("INSERT DATA { <http://late> <http://p> 1 }")
    newer = pool._current_snapshot()  # takes a new snapshot and cleans up
    assert newer != handed and handed.exists()
    in_progress = pool.root / "v999-cafe0123"
    pool._pin(in_progress)
    (pool.root / "v999-cafe0123.tmp").mkdir()
    pool._collect()
    assert (pool.root / "v999-cafe0123.tmp").exists()
    for snapshot in (handed, newer, in_progress):
        pool._unpin(snapshot)
    store.update("INSERT DATA { <http://later> <http://p> 2 }")
    assert count(pool) == 302
    assert not handed.exists() and not (pool.root / "v999-cafe0123.tmp").exists()
