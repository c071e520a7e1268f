"""Concurrency soak: readers never see half an update.

Writers insert batches of ``BATCH`` triples in one SPARQL update; readers count the soak
graph and must always see a multiple of ``BATCH``. Runs ``BORDERKG_SOAK_SECONDS``
(default 20) against a disk-backed server and prints throughput.
"""
from __future__ import annotations

import itertools
import os
import threading
import time

import requests

from tests.conftest import TOKEN

from .conftest import Endpoint, summary

SECONDS = float(os.environ.get("BORDERKG_SOAK_SECONDS", "20"))
WRITERS, READERS, BATCH = 2, 4, 10
GRAPH = "https://w3id.org/borderkg/graph/soak"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"


def test_soak_no_half_updates(endpoint: Endpoint) -> None:
    before = endpoint.count()
    stop = time.monotonic() + SECONDS
    batches = itertools.count()
    acknowledged, reads, problems = [0], [0], []
    lock = threading.Lock()

    def writer() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            n = next(batches)
            triples = " ".join(f"<http://example.org/soak/{n}/{i}> <http://example.org/p> {i} ."
                               for i in range(BATCH))
            response = session.post(endpoint.url + "/sparql", timeout=60,
                                    data=f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {triples} }} }}",
                                    headers={"Content-Type": "application/sparql-update",
                                             "Authorization": f"Bearer {TOKEN}"})
            with lock:
                if response.status_code in (200, 204):
                    acknowledged[0] += 1
                else:
                    problems.append(("write", response.status_code, response.text[:200]))

    def reader() -> None:
        session = requests.Session()
        while time.monotonic() < stop:
            response = session.post(endpoint.url + "/sparql", data=COUNT, timeout=60,
                                    headers={"Content-Type": "application/sparql-query",
                                             "Accept": "application/sparql-results+json"})
            with lock:
                reads[0] += 1
                if response.status_code != 200:
                    problems.append(("read", response.status_code, response.text[:200]))
                    continue
                n = int(response.json()["results"]["bindings"][0]["n"]["value"])
                if n % BATCH:
                    problems.append(("half update seen", n, ""))

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)] + \
              [threading.Thread(target=reader) for _ in range(READERS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    in_graph = int(endpoint.query(COUNT).json()["results"]["bindings"][0]["n"]["value"])
    summary("soak", acknowledged[0] + reads[0], len(problems),
            f"; {acknowledged[0] / elapsed:.1f} writes/s ({BATCH} triples each), "
            f"{reads[0] / elapsed:.1f} reads/s over {elapsed:.1f} s")
    assert not problems, problems[:5]
    assert in_graph == acknowledged[0] * BATCH
    assert endpoint.update(f"DROP GRAPH <{GRAPH}>").status_code in (200, 204)
    assert endpoint.count() == before and endpoint.healthy()
