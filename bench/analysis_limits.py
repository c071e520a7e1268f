"""The analysis caps and time limit on the CBP projection: each request's answer and time,
and how long another client waited for /healthz and a small ASK meanwhile.

Run: ``.venv/bin/python bench/analysis_limits.py [--data-dir DIR] [--timeout 10]``. It
builds a disk store with the seed and the CBP by-state table in ``DIR`` (once; ~30 s),
starts ``borderkg serve`` on a free loopback port with ``--analysis-timeout``, warms the
projection with observations included (~42,700 nodes, ~213,000 links), then sends each
request of ``REQUESTS`` while a second client (from 127.0.0.2) polls every 0.2 s. Prints
a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

from tests.peers import ServerProcess, free_port  # noqa: E402

ARTICLE = ROOT.parent / "shared" / "seed" / "000_e1eaba6903481a9d.txt"
CBP = ROOT.parent / "shared" / "data" / "cbp-nationwide-encounters-fy20-fy23-state.csv"
OBS = "include=observations&limit=3"
REQUESTS = [
    f"centrality?measure=betweenness&k=1000000&{OBS}",
    f"centrality?measure=betweenness&k=1000000&backend=igraph&{OBS}",
    f"centrality?measure=betweenness&k=256&backend=igraph&{OBS}",
    f"centrality?measure=betweenness&k=256&backend=networkx&{OBS}",
    f"centrality?measure=betweenness&{OBS}",
    f"centrality?measure=pagerank&backend=networkx&{OBS}",
    f"centrality?measure=closeness&{OBS}",
    "communities?include=observations&limit=3&members=3",
    f"similar?entity=ICE&{OBS}",
    "path?from=ICE&to=China&include=observations",
]


def borderkg(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "server.cli", *args], check=True, env=env, cwd=ROOT,
                   stdout=subprocess.DEVNULL)


def prepare(data: Path, env: dict[str, str]) -> None:
    """The seed and the CBP table in a disk store under ``data`` (skipped when there)."""
    if (data / ".cbp-imported").exists():
        return
    borderkg("build", "--article", str(ARTICLE), env=env)
    borderkg("import", "cbp-encounters", str(CBP), env=env)
    (data / ".cbp-imported").touch()


def serve(env: dict[str, str], port: int, timeout: float, log: Path) -> ServerProcess:
    server = ServerProcess(
        "borderkg serve",
        [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store", "disk",
         "--article", str(ARTICLE), "--analysis-timeout", str(timeout)],
        log, cwd=ROOT, env=env, group=True)
    try:
        server.wait_http(f"http://127.0.0.1:{port}/healthz", params=None, timeout=120,
                         request_timeout=1, interval=0.1)
    except BaseException:
        server.stop(grace=30)
        raise
    return server


class Poller(threading.Thread):
    """Another client: /healthz and ``ASK { ?s ?p ?o }`` every 0.2 s; keeps the longest."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop, self.longest = base, threading.Event(), 0.0
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter()
        adapter.init_poolmanager(10, 10, source_address=("127.0.0.2", 0))
        self.session.mount("http://", adapter)

    def run(self) -> None:
        while not self.stop.is_set():
            for path, params in (("/healthz", {}), ("/sparql", {"query": "ASK { ?s ?p ?o }"})):
                began = time.monotonic()
                self.session.get(self.base + path, params=params, timeout=600,
                                 headers={"Accept": "application/sparql-results+json"})
                self.longest = max(self.longest, time.monotonic() - began)
            time.sleep(0.2)


def measure(base: str, path: str) -> tuple[int, float, float, str]:
    poller = Poller(base)
    poller.start()
    time.sleep(0.5)
    began = time.monotonic()
    response = requests.get(f"{base}/analyses/{path}", timeout=900)
    took = time.monotonic() - began
    poller.stop.set()
    poller.join()
    body: Any = response.json()
    note = body["error"]["message"] if "error" in body else str(body.get("parameters", ""))
    return response.status_code, took, poller.longest, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "borderkg-bench-cbp")
    parser.add_argument("--timeout", type=float, default=10.0, help="--analysis-timeout")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    env["BORDERKG_DATA_DIR"] = str(args.data_dir)
    prepare(args.data_dir, env)
    port = free_port()
    server = serve(env, port, args.timeout, args.data_dir / "bench-server.log")
    base = f"http://127.0.0.1:{port}"
    try:
        print("| request | status | seconds | other client's longest wait (s) | answer |")
        print("| --- | ---: | ---: | ---: | --- |")
        for path in ["centrality?measure=degree&" + OBS, *REQUESTS]:
            status, took, waited, note = measure(base, path)
            print(f"| `{path}` | {status} | {took:.2f} | {waited:.3f} | {note[:90]} |",
                  flush=True)
    finally:
        server.stop(grace=30)


if __name__ == "__main__":
    main()
