"""Per-query overhead of the killable snapshot-pool executor against in-process evaluation.

Builds a synthetic on-disk store, then times the same point lookup (and a small
aggregate) through ``InProcessExecutor`` and ``SnapshotPoolExecutor`` (no result cache),
plus the cost of the first query after a write (a new snapshot is taken and a worker
reopens it) and the time from a query's limit to its 503.

    .venv/bin/python bench/executor_bench.py [--triples 100000] [--runs 500]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad

from graph.errors import QueryTimeout
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from graph.sparql.executor import InProcessExecutor, QueryRequest, SnapshotPoolExecutor
from graph.store.oxigraph import OxigraphStore

EX = "http://example.org/"
LOOKUP = f"SELECT ?o WHERE {{ <{EX}s4242> <{EX}p1> ?o }}"
AGGREGATE = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{EX}p2> ?o FILTER(?o < 500) }}"
CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def build(path: Path, triples: int) -> OxigraphStore:
    store = OxigraphStore(path)
    store.bulk_extend(Quad(NamedNode(f"{EX}s{i // 4}"), NamedNode(f"{EX}p{i % 4}"),
                           Literal(i % 1000) if i % 4 else NamedNode(f"{EX}s{i // 3}"))
                      for i in range(triples))
    return store


def request(text: str, timeout: float = 30.0) -> QueryRequest:
    return QueryRequest(text, RESULT_FORMATS[0], GRAPH_FORMATS[0], timeout=timeout)


def timed(func: Callable[[], Any], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def run_query(executor: Any, text: str) -> bytes:
    return b"".join(executor.run(request(text)).body)


def after_write(store: OxigraphStore, pool: SnapshotPoolExecutor, runs: int) -> list[float]:
    samples = []
    for i in range(runs):
        store.update(f"INSERT DATA {{ <{EX}w{i}> <{EX}p1> {i} }}")
        started = time.perf_counter()
        run_query(pool, LOOKUP)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def timeout_overrun(pool: SnapshotPoolExecutor, limit: float) -> float:
    started = time.monotonic()
    try:
        pool.run(request(CROSS, timeout=limit))
    except QueryTimeout:
        return time.monotonic() - started - limit
    raise RuntimeError("the cross product finished within its limit")


def line(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=20)
    return (f"| {name} | {statistics.median(samples):.3f} | {q[18]:.3f} | {len(samples)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = build(Path(tmp) / "store", args.triples)
        inproc, pool = InProcessExecutor(store), SnapshotPoolExecutor(store, workers=2)
        started = time.monotonic()
        run_query(pool, LOOKUP)
        first = time.monotonic() - started
        assert run_query(pool, LOOKUP) == run_query(inproc, LOOKUP)
        rows = []
        for name, text, runs in (("point lookup", LOOKUP, args.runs),
                                 ("aggregate", AGGREGATE, args.runs // 10)):
            for label, executor in (("in-process (disk)", inproc), ("snapshot pool", pool)):
                samples = timed(lambda e=executor, t=text: run_query(e, t), runs)
                rows.append(line(f"{name}, {label}", samples))
        rows.append(line("point lookup after a write, snapshot pool", after_write(store, pool, 30)))
        overruns = [timeout_overrun(pool, 2.0) for _ in range(3)]
        pool.close()
        store.close()
    print(f"{args.triples:,} triples on disk; first query while workers start: {first:.2f} s")
    print("| query | median ms | p95 ms | runs |\n|---|---|---|---|")
    print("\n".join(rows))
    print(f"503 after a 2 s limit, overrun beyond the limit: "
          f"{', '.join(f'{o * 1000:.0f} ms' for o in overruns)}")


if __name__ == "__main__":
    main()
