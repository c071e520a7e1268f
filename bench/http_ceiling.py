"""How many point lookups per second each layer of the HTTP stack allows, against ``oxigraph
serve``: the ceiling a Python service answering through Flask can reach on this machine.

Every server is a real process on loopback, driven by ``wrk`` (4 connections, 2 threads)
with the same file of distinct requests (``SELECT ?p ?o WHERE { <s_i> ?p ?o }`` for
distinct subjects ``s_i``), so no answer can come from a cache:

* ``rsgi-noop``     a granian RSGI handler that answers a constant body without reading the
  query (the floor of any Python handler under granian);
* ``flask-noop``    a one-route Flask app under granian's WSGI interface that answers a
  constant body (the floor of any Flask service);
* ``bkg-memory``    ``borderkg serve --store memory --load`` on the same data;
* ``bkg-default``   ``borderkg serve`` as shipped (disk store, memory copy) on the same data;
* ``oxigraph``      ``oxigraph serve`` in memory, loaded through ``/store`` (the reference).

Cells are interleaved and rotated per repeat; the figures are medians of the repeats, and
ratios are to ``oxigraph`` in the same run. Results go to ``bench/results/http-ceiling.md``.

    .venv/bin/python bench/http_ceiling.py --subjects 50000 --repeats 3 --duration 5
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

from tests.peers import BIN, ServerProcess, free_port, start_oxigraph  # noqa: E402

WRK_SCRIPT = ROOT / "bench" / "wrk_paths.lua"
RESULTS = ROOT / "bench" / "results" / "http-ceiling.md"
EX = "http://example.org/ceiling/"
JSON = "application/sparql-results+json"
EMPTY = b'{"head":{"vars":["p","o"]},"results":{"bindings":[]}}'

RSGI_NOOP = f"""
async def app(scope, proto):
    proto.response_bytes(200, [("content-type", "{JSON}")], {EMPTY!r})
"""
FLASK_NOOP = f"""
from flask import Flask
app = Flask(__name__)

@app.get("/sparql")
def sparql():
    return {EMPTY!r}, 200, {{"content-type": "{JSON}"}}
"""


def write_data(path: Path, subjects: int) -> None:
    """``subjects`` subjects with four triples each, as N-Triples."""
    with path.open("w") as out:
        for i in range(subjects):
            s = f"<{EX}s{i}>"
            out.write(f'{s} <{EX}name> "subject {i}" .\n{s} <{EX}n> "{i}"^^'
                      f"<http://www.w3.org/2001/XMLSchema#integer> .\n"
                      f"{s} <{EX}next> <{EX}s{(i + 1) % subjects}> .\n"
                      f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Thing> .\n")


def write_requests(path: Path, subjects: int, count: int, route: str) -> None:
    """``count`` distinct point lookups (subjects drawn without repeating while they last)
    at ``route`` (``/sparql``; ``oxigraph serve`` answers queries at ``/query``)."""
    with path.open("w") as out:
        for i in range(count):
            query = f"SELECT ?p ?o WHERE {{ <{EX}s{(i * 7919) % subjects}> ?p ?o }}"
            if i >= subjects:  # more requests than subjects: vary the text, not the answer
                query += f" LIMIT {1000 + i}"
            out.write(f"{JSON} {route}?query={urllib.parse.quote(query)}\n")


class Server:
    """One server process on a free port, stopped with its process group."""

    def __init__(self, name: str, work: Path) -> None:
        self.name, self.work, self.port = name, work, free_port()
        self.server: ServerProcess | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.work / f"{self.name}.log"

    def spawn(self, args: list[str], cwd: Path | None = None,
              env: dict[str, str] | None = None) -> None:
        self.server = ServerProcess(self.name, args, self.log, cwd=cwd,
                                    env={**os.environ, **(env or {})}, group=True)

    def wait(self, ready: Callable[[], bool], timeout: float = 300) -> None:
        assert self.server is not None
        self.server.wait_until(ready, timeout=timeout, interval=0.2)

    def answers(self) -> bool:
        probe = f"SELECT ?o WHERE {{ <{EX}s0> <{EX}name> ?o }}"
        route = "/query" if self.name == "oxigraph" else "/sparql"
        reply = requests.get(self.base + route, params={"query": probe},
                             headers={"Accept": JSON}, timeout=5)
        return reply.status_code == 200

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=20)


def start(name: str, work: Path, data: Path) -> Server:
    server = Server(name, work)
    granian = [str(BIN / "granian"), "--host", "127.0.0.1", "--port", str(server.port)]
    if name == "rsgi-noop":
        (work / "rsgi_noop.py").write_text(RSGI_NOOP)
        server.spawn([*granian, "--interface", "rsgi", "rsgi_noop:app"], cwd=work)
    elif name == "flask-noop":
        (work / "flask_noop.py").write_text(FLASK_NOOP)
        server.spawn([*granian, "--interface", "wsgi", "flask_noop:app"], cwd=work)
    elif name == "oxigraph":
        server.server = start_oxigraph(server.log, port=server.port, name=name,
                                       wait=False).server
        server.wait(lambda: requests.get(server.base + "/query", params={"query": "ASK{}"},
                                         timeout=5).ok)
        with data.open("rb") as body:
            requests.post(server.base + "/store", data=body, timeout=600,
                          headers={"Content-Type": "application/n-triples"}).raise_for_status()
    elif name == "bkg-memory":
        server.spawn([str(BIN / "borderkg"), "serve", "--store", "memory", "--load", str(data),
                      "--port", str(server.port), "--data-dir", str(work / "bkg-memory")],
                     cwd=ROOT)
    elif name == "bkg-default":
        data_dir = work / "bkg-default"
        subprocess.run([str(BIN / "borderkg"), "load", "--bulk", "--data-dir", str(data_dir),
                        str(data)], check=True, cwd=ROOT, capture_output=True)
        server.spawn([str(BIN / "borderkg"), "serve", "--port", str(server.port),
                      "--data-dir", str(data_dir)], cwd=ROOT)
        server.wait(server.answers)
        server.wait(lambda: requests.get(server.base + "/healthz", timeout=5).json()
                    .get("memory_copy", {}).get("state") in ("ready", None))
    else:
        raise ValueError(name)
    server.wait(server.answers)
    return server


def wrk(server: Server, work: Path, duration: int, offset: int) -> dict[str, float]:
    """One wrk cell: requests per second and latency percentiles, errors counted."""
    requests_file = work / ("requests-query.txt" if server.name == "oxigraph"
                            else "requests-sparql.txt")
    out = subprocess.run(["wrk", "-t2", "-c4", f"-d{duration}s", "-s", str(WRK_SCRIPT),
                          server.base, "--", str(requests_file), str(offset)],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK "))
    figures = json.loads(line[4:])
    seconds = figures["duration_us"] / 1e6
    return {"rps": figures["requests"] / seconds, "p50_ms": figures["p50_us"] / 1000,
            "p99_ms": figures["p99_us"] / 1000,
            "errors": figures["status_errors"] + figures["socket_errors"]}


def table(cells: dict[str, list[dict[str, float]]]) -> list[str]:
    med = {name: {k: statistics.median(c[k] for c in runs) for k in runs[0]}
           for name, runs in cells.items()}
    reference = med["oxigraph"]["rps"]
    rows = ["| server | point lookups, req/s (× oxigraph) | p50 | p99 | errors |",
            "|---|---|---|---|---|"]
    for name, m in med.items():
        rows.append(f"| {name} | {m['rps']:,.0f} ({m['rps'] / reference:.2f}×) | "
                    f"{m['p50_ms']:.2f} ms | {m['p99_ms']:.2f} ms | {m['errors']:.0f} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subjects", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--servers", default="rsgi-noop,flask-noop,bkg-memory,bkg-default,"
                        "oxigraph")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    args = parser.parse_args()
    names = args.servers.split(",")
    work = Path(tempfile.mkdtemp(prefix="http-ceiling-"))
    data = work / "data.nt"
    write_data(data, args.subjects)
    for route in ("/sparql", "/query"):
        write_requests(work / f"requests-{route[1:]}.txt", args.subjects, 400_000, route)
    servers = {}
    try:
        for name in names:
            servers[name] = start(name, work, data)
        cells: dict[str, list[dict[str, float]]] = {name: [] for name in names}
        for repeat in range(args.repeats):
            order = names[repeat % len(names):] + names[:repeat % len(names)]
            for name in order:
                cells[name].append(wrk(servers[name], work, args.duration, repeat * 100_003))
        rows = table(cells)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = [
        "# HTTP stack ceiling on point lookups",
        "",
        "Command:",
        "",
        f"    .venv/bin/python bench/http_ceiling.py --subjects {args.subjects} "
        f"--repeats {args.repeats} --duration {args.duration}",
        "",
        f"Data: {args.subjects:,} subjects, {4 * args.subjects:,} triples. wrk with 2 threads "
        "and 4 connections over distinct point lookups; medians of "
        f"{args.repeats} repeats, cells interleaved and rotated.",
        f"Machine: Python {platform.python_version()} on {os.cpu_count()} shared cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
        f"{os.getloadavg()[0]:.1f}.",
        "",
        *rows,
        "",
    ]
    print("\n".join(report))
    if not args.no_write:
        RESULTS.write_text("\n".join(report))


if __name__ == "__main__":
    main()
