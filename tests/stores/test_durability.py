"""Durability of the on-disk store: acknowledged writes survive ``kill -9``; an import
killed half-way leaves all of it or nothing of it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from graph.imports.cbp import GRAPH
from graph.store.oxigraph import OxigraphStore
from tests.conftest import CBP_STATE_CSV, TOKEN

EX = "http://example.org/durable/"


def ask(server: Any, query: str) -> bool:
    response = requests.get(server.url + "/sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def test_acknowledged_updates_survive_kill_9(start_server: Any, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = start_server(store="disk", data_dir=data_dir)
    for i in range(20):
        response = requests.post(server.url + "/sparql", timeout=30,
                                 data={"update": f"INSERT DATA {{ GRAPH <{EX}g> {{ "
                                                 f"<{EX}s{i}> <{EX}p> {i} }} }}"},
                                 headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code in (200, 204), response.text
    server.stop(signal.SIGKILL)  # no shutdown, no flush: the process group is killed
    restarted = start_server(store="disk", data_dir=data_dir)
    for i in (0, 19):
        assert ask(restarted, f"ASK {{ GRAPH <{EX}g> {{ <{EX}s{i}> <{EX}p> {i} }} }}")
    count = requests.get(restarted.url + "/sparql", timeout=30,
                         params={"query": f"SELECT (COUNT(*) AS ?n) "
                                          f"{{ GRAPH <{EX}g> {{ ?s ?p ?o }} }}"},
                         headers={"Accept": "application/sparql-results+json"}).json()
    assert int(count["results"]["bindings"][0]["n"]["value"]) == 20


IMPORT_SCRIPT = """
import sys
from pathlib import Path
from graph.imports import cbp
from graph.store.oxigraph import OxigraphStore

store = OxigraphStore(Path(sys.argv[1]))
real_write = cbp.write_import

def announced(store, quads):
    print("writing", flush=True)
    real_write(store, quads)
    print("written", flush=True)

cbp.write_import = announced
cbp.import_cbp(store, Path(sys.argv[2]), progress=False)
store.close()
"""


def observations(path: Path) -> int:
    store = OxigraphStore(path)
    try:
        query = (f"SELECT (COUNT(?o) AS ?n) WHERE {{ GRAPH <{GRAPH}> "
                 "{ ?o a <http://purl.org/linked-data/cube#Observation> } }")
        return int(next(iter(store.query(query)))["n"].value)
    finally:
        store.close()


def test_import_killed_half_way_leaves_all_or_nothing(tmp_path: Path) -> None:
    # the first 12,000 rows of the real table (kept in tmp_path, never in the project)
    rows = 12_000
    table = tmp_path / "cbp-part.csv"
    with open(CBP_STATE_CSV, encoding="utf-8") as source:
        table.write_text("".join(next(source) for _ in range(rows + 1)), encoding="utf-8")
    store_dir = tmp_path / "store"
    process = subprocess.Popen([sys.executable, "-c", IMPORT_SCRIPT, str(store_dir),
                                str(table)], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("writing"), line
    time.sleep(1.0)  # inside the one transaction that reads the rows and writes ~130,000 quads
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
    assert observations(store_dir) in (0, rows)
    # and the store is usable: the same import completes and is then complete
    done = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, str(store_dir), str(table)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert observations(store_dir) == rows


def test_old_engine_logs_are_pruned_at_each_open(tmp_path: Path) -> None:
    """RocksDB writes a new information log at every open and keeps the old ones (up to a
    thousand): a server restarted often would pile them up in the store directory. The
    newest few are kept; the store itself is untouched."""
    from graph.store.oxigraph import KEPT_ENGINE_LOGS

    path = tmp_path / "store"
    for n in range(KEPT_ENGINE_LOGS + 4):
        store = OxigraphStore(path)
        store.update(f"INSERT DATA {{ <urn:x:s{n}> <urn:x:p> {n} }}")
        store.close()
        del store
    logs = sorted(p.name for p in path.glob("LOG.old.*"))
    assert 0 < len(logs) <= KEPT_ENGINE_LOGS, logs
    store = OxigraphStore(path)
    try:
        rows = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s <urn:x:p> ?o }")
        assert int(next(iter(rows))["n"].value) == KEPT_ENGINE_LOGS + 4  # type: ignore[index]
    finally:
        store.close()
