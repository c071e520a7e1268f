"""The engine alone: pyoxigraph in process against ``oxigraph serve`` over HTTP.

Why: on analyst queries whose parameters never repeat (the ``analyst-distinct`` mix),
BorderKG's best configuration runs the same engine as ``oxigraph serve`` and nothing can be
reused, so its ceiling is what pyoxigraph itself achieves. This measures that ceiling: the
same twelve distinct analyst queries (bench/workload.py, seed 7) over the same data, each
timed three times in process (query + JSON serialisation, no HTTP at all) and three times
through ``oxigraph serve --union-default-graph`` over HTTP, interleaved. In process, the
data is held twice: filled by ``Store.bulk_load`` and filled the way ``serve --load`` does
(parts, one transaction each) — the engine answers at different speeds from the two.

    .venv/bin/python bench/engine_bench.py [--size 1m]   # data from bench/generate.py

Prints each query's medians and the median ratio (serve time / in-process time; below 1
means the native server is faster even with HTTP on top).
"""
from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--queries", type=int, default=12)
    args = parser.parse_args()
    synth = WORK / f"synth-{args.size}-s7"
    files = [WORK / "seed.nq", synth.with_suffix(".nq")]
    manifest = Manifest.read(WORK / "seed.json").merged(Manifest.read(synth.with_suffix(".json")))
    # the same data loaded two ways: the engine's query speed depends on how it was loaded
    from graph.store.loading import load_file
    from graph.store.oxigraph import OxigraphStore

    bulk = ox.Store()
    for path in files:
        bulk.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    parts = OxigraphStore(None)
    for path in files:
        load_file(parts, path, bulk=True, progress=False)
    stores = {"bulk_load": bulk, "serve --load": parts.engine}
    server = start_oxigraph(WORK / "engine-bench-oxigraph.log", union_default_graph=True,
                            interval=0.1)
    try:
        base = server.base
        for path in files:
            with open(path, "rb") as body:
                requests.post(base + "/store", data=body, timeout=3600,
                              headers={"Content-Type": "application/n-quads"}).raise_for_status()
        draws = Draws(Domains.from_manifest(manifest), "analyst", "distinct", 7)
        requests_ = list(itertools.islice(draws.for_client(0), args.queries))
        ratios: dict[str, list[float]] = {name: [] for name in stores}
        for request in requests_:
            text = parse_qs(urlparse(request.path).query)["query"][0]
            local: dict[str, list[float]] = {name: [] for name in stores}
            remote = []
            for _ in range(3):
                for name, store in stores.items():
                    began = time.perf_counter()
                    store.query(text, use_default_graph_as_union=True).serialize(
                        format=ox.QueryResultsFormat.JSON)
                    local[name].append(time.perf_counter() - began)
                began = time.perf_counter()
                requests.get(base + "/query", params={"query": text}, timeout=600,
                             headers={"Accept": "application/sparql-results+json"}
                             ).raise_for_status()
                remote.append(time.perf_counter() - began)
            remote_ms = statistics.median(remote) * 1000
            cells = []
            for name in stores:
                ratios[name].append(statistics.median(remote) / statistics.median(local[name]))
                cells.append(f"{name} {statistics.median(local[name]) * 1000:7.1f} ms")
            print(f"{request.cls:13} in process: {'   '.join(cells)}"
                  f"   oxigraph serve over HTTP {remote_ms:7.1f} ms")
        for name in stores:
            print(f"median ratio (serve / in process, store filled by {name}): "
                  f"{statistics.median(ratios[name]):.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
