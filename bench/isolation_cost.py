"""What isolation costs per query on the memory store: evaluation in the request thread
(``InProcessExecutor``, unsandboxed, unstoppable) against forked, sandboxed, killable
children (``ForkPoolExecutor``), on the same store in the same run.

Prints medians (ms) and ratios for a point lookup and an aggregate, and the cost of the
first query after a write (a fresh child is forked for the new store version).

    .venv/bin/python bench/isolation_cost.py --quads 100000 --repeats 200
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from pyoxigraph import Literal, NamedNode, Quad

from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from graph.sparql.executor import InProcessExecutor, QueryRequest
from graph.sparql.fork_pool import ForkPoolExecutor
from graph.store.oxigraph import OxigraphStore

EX = "http://example.org/"
POINT = f"SELECT ?o WHERE {{ <{EX}s17> <{EX}p1> ?o }}"
AGGREGATE = "SELECT ?p (COUNT(*) AS ?n) (SUM(?v) AS ?t) WHERE { ?s ?p ?v } GROUP BY ?p"


def fill(quads: int) -> OxigraphStore:
    store = OxigraphStore()
    store.engine.bulk_extend(
        Quad(NamedNode(f"{EX}s{i % (quads // 10 or 1)}"), NamedNode(f"{EX}p{i % 7}"),
             Literal(str(i), datatype=NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
             NamedNode(f"{EX}g{i % 5}"))
        for i in range(quads))
    return store


def timed(run: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def answer(executor: object, text: str) -> bytes:
    request = QueryRequest(text, RESULT_FORMATS[0], GRAPH_FORMATS[0], timeout=60)
    return b"".join(executor.run(request).body)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quads", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    store = fill(args.quads)
    inline, forked = InProcessExecutor(store), ForkPoolExecutor(store, 2)
    answer(forked, POINT)  # the first child
    print(f"memory store, {len(store.engine):,} quads; medians of {args.repeats} runs")
    print("| query | in the request thread (ms) | forked, sandboxed child (ms) | ratio |")
    print("|---|---|---|---|")
    for name, text, repeats in (("point lookup", POINT, args.repeats),
                                ("aggregate", AGGREGATE, max(5, args.repeats // 20))):
        a = timed(lambda t=text: answer(inline, t), repeats)  # type: ignore[misc]
        b = timed(lambda t=text: answer(forked, t), repeats)  # type: ignore[misc]
        print(f"| {name} | {a:.3f} | {b:.3f} | {b / a:.2f}x |")
    firsts = []
    for i in range(10):
        store.update(f"INSERT DATA {{ <{EX}w{i}> <{EX}p> {i} }}")
        began = time.perf_counter()
        answer(forked, POINT)
        firsts.append(time.perf_counter() - began)
    print(f"\nfirst query after a write (forks a child for the new version): median "
          f"{statistics.median(firsts) * 1000:.1f} ms over {len(firsts)} writes")
    forked.close()


if __name__ == "__main__":
    main()
