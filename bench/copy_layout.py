"""What the layout of an in-memory store costs the named analyst queries, in one process.

The memory copy behind the default configuration holds every real quad plus the merge of
all graphs (the union default graph as a set), so a store of N quads becomes one of about
2N. This measures the six named analyst queries of ``bench/workload.py`` (parameters
drawn from the data, bound as the benchmark binds them) over five layouts of the same
data, in the same process, queries interleaved across layouts:

* ``bag-union``       the data as loaded, ``use_default_graph_as_union`` (the engine's bag
  union; the reference);
* ``hidden+named``    the data plus the merge in a hidden named graph, queried with that
  graph as default graph and the real named graphs listed (what the copy does today);
* ``hidden-only``     the same store, the merge as default graph, no named-graph list;
* ``native-default``  the data's named graphs plus the merge as the store's default graph;
* ``merge-only``      a store holding only the merge, as its default graph.

Times are CPU seconds of the evaluating thread (``time.process_time``), which a loaded
machine disturbs far less than wall time; medians over the drawn queries and repeats.

    .venv/bin/python bench/copy_layout.py --data bench/work/synth-1m-s7.nq --repeats 2
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad, RdfFormat, Store

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from workload import ANALYST, _params, analyst_text  # noqa: E402

UNION = NamedNode("urn:x-borderkg:union")
RESULTS = ROOT / "bench" / "results" / "copy-layout.md"


def as_default(quads: Iterable[Quad]) -> Iterable[Quad]:
    return (Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in quads)


def in_graph(quads: Iterable[Quad], graph: NamedNode) -> Iterable[Quad]:
    return (Quad(q.subject, q.predicate, q.object, graph) for q in quads)


def layouts(source: Store) -> dict[str, Callable[[str], Any]]:
    """The five layouts of ``source``, each as a function running a query text."""
    def every() -> Iterable[Quad]:
        return source.quads_for_pattern(None, None, None, None)

    hidden = Store()
    hidden.bulk_extend(every())
    hidden.bulk_extend(in_graph(every(), UNION))  # a triple in two graphs merges once
    native = Store()
    native.bulk_extend(q for q in every() if not isinstance(q.graph_name, DefaultGraph))
    native.bulk_extend(as_default(every()))
    merge = Store()
    merge.bulk_extend(as_default(every()))
    named = [g for g in hidden.named_graphs() if g != UNION]
    return {
        "bag-union": lambda q: source.query(q, use_default_graph_as_union=True),
        "hidden+named": lambda q: hidden.query(q, default_graph=[UNION], named_graphs=named),
        "hidden-only": lambda q: hidden.query(q, default_graph=[UNION]),
        "native-default": lambda q: native.query(q),
        "merge-only": lambda q: merge.query(q),
    }


def draw_texts(manifest: dict[str, Any], per_class: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)

    def pick(domain: str) -> Any:
        if domain == "region_or_all":
            return rng.choice([None, *manifest["regions"]])
        return rng.choice(manifest[domain])

    return [(cls, analyst_text(cls, _params(cls, pick, manifest["dataset"])))
            for cls in ANALYST for _ in range(per_class)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "bench/work/synth-1m-s7.nq",
                        help="N-Quads written by bench/generate.py (its .json beside it)")
    parser.add_argument("--per-class", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    manifest = json.loads(args.data.with_suffix(".json").read_text())
    source = Store()
    source.bulk_load(path=str(args.data), format=RdfFormat.N_QUADS)
    runs = layouts(source)
    texts = draw_texts(manifest, args.per_class, args.seed)
    cpu: dict[str, dict[str, list[float]]] = {name: {} for name in runs}
    rows: dict[str, int] = {}
    for _ in range(args.repeats):
        for cls, text in texts:
            for name, run in runs.items():
                start = time.process_time()
                count = len(list(run(text)))
                cpu[name].setdefault(cls, []).append(time.process_time() - start)
                if name == "bag-union":
                    rows[cls] = rows.get(cls, 0) + count
    header = "| query | " + " | ".join(runs) + " |"
    lines = [header, "|---" * (len(runs) + 1) + "|"]
    for cls in ANALYST:
        ref = statistics.median(cpu["bag-union"][cls])
        cells = [f"{statistics.median(cpu[n][cls]) * 1000:.0f} ms "
                 f"({statistics.median(cpu[n][cls]) / ref:.2f}×)" for n in runs]
        lines.append(f"| {ANALYST[cls][0]} | " + " | ".join(cells) + " |")
    report = [
        "# Store layouts and the named analyst queries",
        "",
        "Command:",
        "",
        f"    .venv/bin/python bench/copy_layout.py --data {args.data.relative_to(ROOT)} "
        f"--per-class {args.per_class} --repeats {args.repeats}",
        "",
        f"Data: {len(source):,} quads in {len(list(source.named_graphs()))} named graph(s). "
        f"{args.per_class} drawn queries per class × {args.repeats} repeats, layouts "
        "interleaved per query; CPU time of the evaluating thread, medians, ratios to "
        "`bag-union`.",
        f"Machine: Python {platform.python_version()}, {os.cpu_count()} shared cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        *lines,
        "",
    ]
    print("\n".join(report))
    if not args.no_write:
        RESULTS.write_text("\n".join(report))


if __name__ == "__main__":
    main()
