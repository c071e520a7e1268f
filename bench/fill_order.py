"""Does the order a memory store is filled in change how fast it answers analyst queries?

Why: the memory copy of the default configuration is filled from the disk store's own
order (a checkpoint's union graph read subject by subject, subjects in the order of their
hashed ids), and the engine's speed on the same data is known to depend on how its store
was filled (``engine_bench.py``: bulk-loaded is slower than filled in parts). If another
order were faster on every data set, the copy could be filled in it. This fills one
in-memory store per order with the same distinct triples (the merge of every graph, as the
copy holds it) in chunks of 5,000, as the copy is filled, and times distinct analyst
queries on each, interleaved in a shuffled order per query, the second of two passes
counted; ``oxigraph serve`` in memory over HTTP, loaded with the files through ``/store``,
answers the same texts for scale. Orders:

* ``file``: as the triples come in the data files (the generator's or the CBP export's
  order: one subject's triples together, subjects in the order they were written);
* ``disk``: the store's own subject order, which is the order the copy is filled in;
* ``clustered``: subjects whose IRI-valued descriptions (their predicate-object pairs with
  an IRI object, sorted) sort together are placed together, so observations of one
  citizenship, year or region sit side by side;
* ``random``: shuffled (a lower bound).

    .venv/bin/python bench/fill_order.py --size cbp   # or 1m; data from bench/generate.py
"""
from __future__ import annotations

import argparse
import collections
import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyoxigraph as ox
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from generate import WORK, Manifest  # noqa: E402
from workload import Domains, Draws  # noqa: E402

from tests.peers import start_oxigraph  # noqa: E402

CHUNK = 5_000


def data_files(size: str) -> tuple[list[Path], Manifest]:
    extra = WORK / ("cbp" if size == "cbp" else f"synth-{size}-s7")
    files = [extra.with_suffix(".nq"), WORK / "seed.nq"]
    manifest = Manifest.read(extra.with_suffix(".json")).merged(
        Manifest.read(WORK / "seed.json"))
    return files, manifest


def distinct_triples(files: Sequence[Path]) -> list[ox.Quad]:
    """The merge of every graph of ``files``, as default-graph quads, in file order."""
    default = ox.DefaultGraph()
    return list(dict.fromkeys(ox.Quad(q.subject, q.predicate, q.object, default)
                              for path in files
                              for q in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS)))


def filled(quads: Sequence[ox.Quad]) -> ox.Store:
    store = ox.Store()
    for start in range(0, len(quads), CHUNK):
        store.extend(quads[start:start + CHUNK])
    return store


def clustered(quads: Sequence[ox.Quad]) -> list[ox.Quad]:
    by_subject: dict[object, list[ox.Quad]] = collections.defaultdict(list)
    for quad in quads:
        by_subject[quad.subject].append(quad)

    def key(subject: object) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((q.predicate.value, q.object.value) for q in by_subject[subject]
                            if isinstance(q.object, ox.NamedNode)))

    return [q for subject in sorted(by_subject, key=key) for q in by_subject[subject]]


def orders(quads: list[ox.Quad]) -> dict[str, list[ox.Quad]]:
    probe = filled(quads)
    disk = list(probe.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    del probe
    shuffled = quads[:]
    random.Random(1).shuffle(shuffled)
    return {"file": quads, "disk": disk, "clustered": clustered(quads), "random": shuffled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="cbp", help="cbp, or a generated size (1m)")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    files, manifest = data_files(args.size)
    quads = distinct_triples(files)
    print(f"{args.size}: {len(quads):,} distinct triples", flush=True)
    runners: dict[str, Callable[[str], object]] = {}
    for name, order in orders(quads).items():
        store = filled(order)
        runners[name] = lambda text, store=store: sum(1 for _ in store.query(text))
    server = start_oxigraph(WORK / "fill-order-oxigraph.log", union_default_graph=True,
                            interval=0.1)
    try:
        for path in files:
            with open(path, "rb") as body:
                requests.post(server.base + "/store", data=body, timeout=3600,
                              headers={"Content-Type": "application/n-quads"}
                              ).raise_for_status()
        session = requests.Session()

        def over_http(text: str) -> object:
            answer = session.post(server.base + "/query", data={"query": text}, timeout=600,
                                  headers={"Accept": "application/sparql-results+json"})
            answer.raise_for_status()
            return answer.content

        runners["oxigraph serve (HTTP)"] = over_http
        draws = Draws(Domains.from_manifest(manifest), "analyst", "distinct", args.seed)
        texts = [parse_qs(urlparse(r.path).query)["query"][0]
                 for r in itertools.islice(draws.for_client(0), args.queries)]
        times: dict[str, list[float]] = {name: [] for name in runners}
        for counted in (False, True):
            for i, text in enumerate(texts):
                names = list(runners)
                random.Random(i).shuffle(names)
                for name in names:
                    began = time.perf_counter()
                    runners[name](text)
                    if counted:
                        times[name].append(time.perf_counter() - began)
    finally:
        server.stop()
    reference = statistics.median(times["disk"])
    print("| order | p50 | mean | p50 / disk order |\n|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values) * 1000:.1f} ms | "
              f"{statistics.mean(values) * 1000:.1f} ms | "
              f"{statistics.median(values) / reference:.2f} |")


if __name__ == "__main__":
    main()
