"""The engine alone: pyoxigraph in process against ``oxigraph serve`` over HTTP.

Why: on analyst queries whose parameters never repeat (the ``analyst-distinct`` mix),
BorderKG's best configuration runs the same engine as ``oxigraph serve`` and nothing can be
reused, so its ceiling is what pyoxigraph itself achieves. This measures that ceiling: the
same twelve distinct analyst queries (bench/workload.py, seed 7) over the same data, each
timed three times in process (query + JSON serialisation, no HTTP at all) and three times
through ``oxigraph serve --union-default-graph`` over HTTP, interleaved.

    .venv/bin/python bench/engine_bench.py [--size 1m]   # data from bench/generate.py

Prints each query's medians and the median ratio (serve time / in-process time; below 1
means the native server is faster even with HTTP on top).
"""
from __future__ import annotations

import argparse
import itertools
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyoxigraph as ox
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import WORK, Manifest  # noqa: E402
from workload import Domains, Draws  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--queries", type=int, default=12)
    args = parser.parse_args()
    synth = WORK / f"synth-{args.size}-s7"
    files = [WORK / "seed.nq", synth.with_suffix(".nq")]
    manifest = Manifest.read(WORK / "seed.json").merged(Manifest.read(synth.with_suffix(".json")))
    store = ox.Store()
    for path in files:
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
    port = free_port()
    server = subprocess.Popen([str(BIN / "oxigraph"), "serve", "--bind", f"127.0.0.1:{port}",
                               "--union-default-graph"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/query", params={"query": "ASK {}"}, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        for path in files:
            with open(path, "rb") as body:
                requests.post(base + "/store", data=body, timeout=3600,
                              headers={"Content-Type": "application/n-quads"}).raise_for_status()
        draws = Draws(Domains.from_manifest(manifest), "analyst", "distinct", 7)
        requests_ = list(itertools.islice(draws.for_client(0), args.queries))
        ratios = []
        for request in requests_:
            text = parse_qs(urlparse(request.path).query)["query"][0]
            local, remote = [], []
            for _ in range(3):
                began = time.perf_counter()
                store.query(text, use_default_graph_as_union=True).serialize(
                    format=ox.QueryResultsFormat.JSON)
                local.append(time.perf_counter() - began)
                began = time.perf_counter()
                requests.get(base + "/query", params={"query": text}, timeout=600,
                             headers={"Accept": "application/sparql-results+json"}
                             ).raise_for_status()
                remote.append(time.perf_counter() - began)
            ratios.append(statistics.median(remote) / statistics.median(local))
            local_ms, remote_ms = statistics.median(local) * 1000, statistics.median(remote) * 1000
            print(f"{request.cls:13} pyoxigraph in process {local_ms:7.1f} ms"
                  f"   oxigraph serve over HTTP {remote_ms:7.1f} ms")
        print(f"median ratio (serve / in process): {statistics.median(ratios):.2f}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
