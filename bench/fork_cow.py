"""What a query worker forked over an in-memory pyoxigraph store costs in memory and time.

The memory copy and the memory store evaluate queries in children forked from the
process that holds the store, on the premise that a child shares the store's pages with
its parent copy-on-write. That holds only for pages nobody writes. This benchmark forks a
child per query over a store of ``--triples`` triples and reads, from
``/proc/<pid>/smaps_rollup``, the pages the child made its own (``Private_Dirty``) by
running one query, against the store's own size; and it times the same query twice in one
fresh child (the first run pays the copies' page faults, the second does not).

    .venv/bin/python bench/fork_cow.py --triples 500000 --repeats 5

Prints a Markdown report (and writes it with ``--out``).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad
from pyoxigraph import Store as Engine

QUERIES = {
    "point lookup": "SELECT ?p ?o WHERE { <http://example.org/s5> ?p ?o }",
    "count of every triple": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "group by predicate": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "filtered scan of one predicate": (
        "SELECT (SUM(?v) AS ?n) WHERE { ?s <http://example.org/p3> ?o "
        "BIND(xsd:integer(?o) AS ?v) }").replace(
            "xsd:integer", "<http://www.w3.org/2001/XMLSchema#integer>"),
}


def rollup(pid: int | str = "self") -> dict[str, int]:
    """``smaps_rollup``'s figures in KiB."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as lines:
        for line in lines:
            key, _, value = line.partition(":")
            parts = value.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0])
    return out


def store_of(triples: int) -> Engine:
    engine = Engine()
    engine.bulk_extend(
        Quad(NamedNode(f"http://example.org/s{i}"), NamedNode(f"http://example.org/p{i % 7}"),
             Literal(str(i))) for i in range(triples))
    return engine


def in_child(engine: Engine, text: str) -> dict[str, float]:
    """Fork; in the child run ``text`` twice; report its dirtied KiB and both times."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            before = rollup()["Private_Dirty"]
            started = time.perf_counter()
            list(engine.query(text))
            first = time.perf_counter() - started
            after = rollup()["Private_Dirty"]
            started = time.perf_counter()
            list(engine.query(text))
            second = time.perf_counter() - started
            os.write(write, json.dumps({"dirtied_kib": after - before, "first": first,
                                        "second": second}).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        data = answer.read()
    os.waitpid(pid, 0)
    return dict(json.loads(data))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    base = rollup()["Private_Dirty"]
    engine = store_of(args.triples)
    gc.collect()
    gc.freeze()  # the child's own Python objects are not what is measured
    store_kib = rollup()["Private_Dirty"] - base
    rows: list[tuple[str, Any, Any, Any, Any]] = []
    for name, text in QUERIES.items():
        runs = [in_child(engine, text) for _ in range(args.repeats)]
        dirtied = statistics.median(r["dirtied_kib"] for r in runs)
        first = statistics.median(r["first"] for r in runs)
        second = statistics.median(r["second"] for r in runs)
        rows.append((name, f"{dirtied / 1024:,.1f} MiB", f"{dirtied / store_kib:.0%}",
                     f"{first * 1000:,.1f} ms", f"{second * 1000:,.1f} ms"))
    command = ".venv/bin/python bench/fork_cow.py " + " ".join(argv or sys.argv[1:])
    lines = [
        "# Query workers forked over an in-memory store: pages they make their own", "",
        f"Command: `{command}`", "",
        f"Store: {args.triples:,} triples in pyoxigraph's memory store, "
        f"{store_kib / 1024:,.1f} MiB of the parent's private memory. One child forked per "
        f"run, {args.repeats} runs per query, medians. Machine: Python "
        f"{platform.python_version()}, {os.cpu_count()} shared cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.", "",
        "| query | pages the child made its own | of the store | first run in the child "
        "| second run |",
        "|---|---|---|---|---|",
        *(f"| {' | '.join(row)} |" for row in rows), "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
