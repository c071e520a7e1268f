"""The servers compared, each started on loopback with the same N-Quads files.

Every peer is a real server process started here and stopped by its process id:

* ``oxigraph``      ``oxigraph serve`` in memory, loaded through its ``/store`` POST — the
  reference every figure is a ratio to;
* ``virtuoso``      Virtuoso Open Source (``virtuoso-t``, temporary ini), bulk-loaded with
  ``ld_dir`` + ``rdf_loader_run`` through ``isql``; sent equivalent texts of the analyst
  queries it cannot run as written (:func:`virtuoso_text`, below);
* ``rdflib``        ``rdflib-endpoint serve`` (rdflib's in-memory store; small sizes only);
* ``bkg-default``   ``borderkg serve`` as shipped: disk store (loaded by ``borderkg load
  --bulk``), killable snapshot-pool executor, result cache of 256;
* ``bkg-best``      ``borderkg serve --store memory`` with 16 request threads and a result
  cache of 4096, loading the files at start-up (``--load``).

A peer reports its load time (files to queryable), its start-up time (process start to the
first answer) and its process tree's memory from ``/proc``.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(1, str(ROOT))

from workload import ANALYST, DIALECTS, Request  # noqa: E402

from tests.peers import (  # noqa: E402  (the peers' start-up, shared with the tests)
    ASK,
    BENCH_TUNING,
    BIN,
    ServerProcess,
    free_port,
    oxigraph_load,
    start_oxigraph,
    start_virtuoso,
)
from tests.peers import Virtuoso as VirtuosoServer  # noqa: E402

TOKEN = "bench-token-not-secret"
NQUADS = "application/n-quads"
JSON = "application/sparql-results+json"


def tree_pids(root: int) -> list[int]:
    """``root`` and every descendant, from ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


def memory_kib(root: int) -> dict[str, int]:
    """Resident set now and the sum of peaks (VmHWM) over the process tree, in KiB."""
    totals = {"rss": 0, "hwm": 0}
    for pid in tree_pids(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                totals["rss"] += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                totals["hwm"] += int(line.split()[1])
    return totals


@dataclass
class Peer:
    """One server under test."""

    name: str
    work: Path
    query_path: str = "/sparql"
    port: int = field(default_factory=free_port)
    server: ServerProcess | None = None
    load_seconds: float = float("nan")
    startup_seconds: float = float("nan")
    max_clients: int = 64
    baseline: dict[str, int] = field(default_factory=dict)  # memory once up, before loading

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.server.process if self.server else None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.query_path}"

    @property
    def log(self) -> Path:
        return self.work / f"{self.name}.log"

    def spawn(self, args: list[str], cwd: Path | None = None,
              env: dict[str, str] | None = None) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.server = ServerProcess(self.name, args, self.log, cwd=cwd, env=env)

    def wait_answer(self, timeout: float = 600) -> float:
        """Seconds until the endpoint answers ``ASK {}`` with 200."""
        assert self.server is not None
        return self.server.wait_http(self.base, params=ASK, headers={"Accept": JSON},
                                     timeout=timeout, request_timeout=5, interval=0.05)

    def start(self, files: list[Path]) -> None:
        raise NotImplementedError

    def memory(self) -> dict[str, int]:
        return memory_kib(self.server.pid) if self.server else {"rss": 0, "hwm": 0}

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop(grace=20)


class Oxigraph(Peer):
    def start(self, files: list[Path]) -> None:
        started = time.perf_counter()
        self.work.mkdir(parents=True, exist_ok=True)
        self.server = start_oxigraph(self.log, port=self.port, union_default_graph=True,
                                     name=self.name, wait=False).server
        self.startup_seconds = self.wait_answer()
        self.baseline = self.memory()
        began = time.perf_counter()
        for path in files:
            with open(path, "rb") as body:
                answer = requests.post(f"http://127.0.0.1:{self.port}/store", data=body,
                                       headers={"Content-Type": NQUADS}, timeout=3600)
            answer.raise_for_status()
        self.load_seconds = time.perf_counter() - began
        self.total_seconds = time.perf_counter() - started


def oxigraph_load_seconds(files: list[Path], work: Path) -> float:
    """``oxigraph load`` of ``files`` into a fresh on-disk store (the loading reference)."""
    location = work / "oxigraph-load"
    shutil.rmtree(location, ignore_errors=True)
    began = time.perf_counter()
    oxigraph_load(location, files)
    seconds = time.perf_counter() - began
    shutil.rmtree(location, ignore_errors=True)
    return seconds


def pyoxigraph_memory(files: list[Path]) -> dict[str, int]:
    """Peak RSS of a bare Python process holding ``files`` in a pyoxigraph memory store."""
    code = ("import sys, pyoxigraph as px\ns = px.Store()\n"
            "print('Before' + open('/proc/self/status').read().split('VmRSS:')[1].split()[0])\n"
            "for f in sys.argv[1:]: s.load(path=f, format=px.RdfFormat.N_QUADS)\n"
            "print(len(s)); print(open('/proc/self/status').read())")
    out = subprocess.run([sys.executable, "-c", code, *map(str, files)], check=True,
                         capture_output=True, text=True, timeout=3600).stdout
    values = {line.split(":")[0]: int(line.split()[1]) for line in out.splitlines()
              if line.startswith(("VmRSS:", "VmHWM:"))}
    before = next(int(line[6:]) for line in out.splitlines() if line.startswith("Before"))
    return {"rss": values["VmRSS"], "hwm": values["VmHWM"], "before": before}


class RdflibEndpoint(Peer):
    def start(self, files: list[Path]) -> None:
        started = time.perf_counter()
        self.spawn([str(BIN / "rdflib-endpoint"), "serve", *map(str, files),
                    "--host", "127.0.0.1", "--port", str(self.port)])
        self.load_seconds = self.startup_seconds = self.wait_answer(3600)
        self.total_seconds = time.perf_counter() - started


# Virtuoso 7.2 (Debian's 07.20.3229) answers five of the six analyst texts wrongly or not
# at all, so it is sent equivalent texts instead (same answers as oxigraph serve's, values
# and rows):
#
# * ``FILTER(COALESCE(?inRegion = ?region, true))`` with ``?region`` unbound (all regions)
#   keeps no row: Virtuoso makes ``=`` with an unbound side false instead of an error, so
#   ``COALESCE`` never falls back to ``true`` (by-year, monthly and top-n answered 200 with
#   no row whenever the region was left out). Sent as ``!BOUND(?region) || ?inRegion =
#   ?region``, the same filter for an IRI ``?region``;
# * ``IF`` over aggregates in the projection (month-change's ``?percentChange``) is refused:
#   500, ``SQ156: Internal Optimized compiler error : Bad dfe in sqlo_place_exp in
#   sqldf.c:2316``;
# * growth: a ``SUM`` over the ``BIND``-ed ``?shift`` after the ``time:intervalMeets?`` path
#   never answers (the request thread waits, using no CPU), and about
#   ``MaxQueryExecutionTime`` (120 s in ``BENCH_TUNING``) later the whole server stops
#   answering, ``ASK {}`` and isql alike — the bench's stalls and its point-lookup cell
#   with no answer; with the shift inlined, the growth of a group with no previous year
#   is ``SR083: Division by zero`` (22012), not an error that ``HAVING`` drops;
# * integer ``/`` truncates (``7/2`` is 3, SPARQL's is 3.5), so the per-cent figures would
#   differ: ``1000.0`` and ``10.0`` keep them decimal.
#
# month-change and growth are sent as an aggregating subquery (the sums, ``HAVING``) and
# an outer projection computing the per-cent from the sums; the parameters' VALUES row and
# the LIMIT are those of the text every other peer gets.
VIRTUOSO_REGION = ("FILTER(COALESCE(?inRegion = ?region, true))",
                   "FILTER(!BOUND(?region) || ?inRegion = ?region)")
VIRTUOSO_TEXTS = {
    "growth": """\
PREFIX bkg: <https://w3id.org/borderkg/def/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX time: <http://www.w3.org/2006/time#>

SELECT ?citizenship ?region ?dataset ?fiscalYear ?encounters ?previous
       (ROUND(1000.0 * (?encounters - ?previous) / ?previous) / 10.0 AS ?growth)
WHERE {
  { SELECT ?citizenship ?region ?dataset ?fiscalYear
           (SUM(IF(?fiscalYear = ?observedYear, ?count, 0)) AS ?encounters)
           (SUM(IF(?fiscalYear != ?observedYear, ?count, 0)) AS ?previous)
    WHERE {
      {values}
      ?obs a qb:Observation ;
           qb:dataSet ?dataset ;
           bkg:citizenship ?citizenship ;
           bkg:landBorderRegion ?inRegion ;
           bkg:fiscalYear ?observedYear ;
           bkg:encounterCount ?count .
      FILTER(!BOUND(?region) || ?inRegion = ?region)
      ?observedYear time:intervalMeets? ?fiscalYear .
    }
    GROUP BY ?citizenship ?region ?dataset ?fiscalYear
    HAVING (SUM(IF(?fiscalYear = ?observedYear, ?count, 0)) > 0
            && SUM(IF(?fiscalYear != ?observedYear, ?count, 0)) > 0) }
}
ORDER BY ?fiscalYear
""",
    "month-change": """\
PREFIX bkg: <https://w3id.org/borderkg/def/>
PREFIX qb: <http://purl.org/linked-data/cube#>

SELECT ?citizenship ?region ?dataset ?from ?to ?fromCount ?toCount ?change
       (IF(?fromCount > 0, ROUND(1000.0 * ?change / ?fromCount) / 10.0, "n/a")
        AS ?percentChange)
WHERE {
  { SELECT ?citizenship ?region ?dataset ?from ?to
           (SUM(IF(?month = ?from, ?count, 0)) AS ?fromCount)
           (SUM(IF(?month = ?to, ?count, 0)) AS ?toCount)
           (SUM(IF(?month = ?to, ?count, -?count)) AS ?change)
    WHERE {
      {values}
      ?obs a qb:Observation ;
           qb:dataSet ?dataset ;
           bkg:citizenship ?citizenship ;
           bkg:landBorderRegion ?inRegion ;
           bkg:month ?month ;
           bkg:encounterCount ?count .
      FILTER(?month = ?from || ?month = ?to)
      FILTER(!BOUND(?region) || ?inRegion = ?region)
    }
    GROUP BY ?citizenship ?region ?dataset ?from ?to }
}
""",
}
VALUES_ROW = re.compile(r"^\s*(VALUES \(.*\) \{ \(.*\) \})$", re.MULTILINE)
LIMIT = re.compile(r"\nLIMIT \d+\s*$")


def virtuoso_text(cls: str, text: str) -> str:
    """The analyst text of ``cls`` as Virtuoso is sent it (see above)."""
    if cls in VIRTUOSO_TEXTS:
        values, limit = VALUES_ROW.search(text), LIMIT.search(text)
        if values is None or limit is None:
            raise ValueError(f"{cls}: no VALUES row or LIMIT to carry over in {text!r}")
        return VIRTUOSO_TEXTS[cls].replace("{values}", values.group(1)) + limit.group(0)
    return text.replace(*VIRTUOSO_REGION)


def virtuoso_request(request: Request) -> Request:
    if request.cls not in ANALYST:
        return request
    text = parse_qs(request.path[1:])["query"][0]
    return replace(request, path="?" + urlencode({"query": virtuoso_text(request.cls, text)}))


class Virtuoso(Peer):
    def start(self, files: list[Path]) -> None:
        DIALECTS[self.base] = ("virtuoso", virtuoso_request)
        data = files[0].parent
        started = time.perf_counter()
        self.work.mkdir(parents=True, exist_ok=True)
        self.virtuoso: VirtuosoServer = start_virtuoso(
            self.work / "virtuoso", tuning=BENCH_TUNING, dirs_allowed=[data],
            http_port=self.port, log=self.log, name=self.name, wait=False)
        self.server = self.virtuoso.server
        self.startup_seconds = self.wait_answer()
        self.baseline = self.memory()
        began = time.perf_counter()
        statements = [f"ld_dir('{data}', '{path.name}', 'urn:bench:default');"
                      for path in files]
        statements += ["rdf_loader_run();", "checkpoint;"]
        self.isql(statements)
        self.load_seconds = time.perf_counter() - began
        self.total_seconds = time.perf_counter() - started

    def isql(self, statements: list[str]) -> str:
        return self.virtuoso.isql(statements)


class BorderKG(Peer):
    """``borderkg serve``; ``memory`` selects the best configuration."""

    memory_store: bool = False

    def command(self, data_dir: Path, *extra: str) -> list[str]:
        return [str(BIN / "borderkg"), "serve", "--data-dir", str(data_dir), "--port",
                str(self.port), "--host", "127.0.0.1", "--log-level", "warning", *extra]

    def start(self, files: list[Path]) -> None:
        data_dir = self.work / f"{self.name}-data"
        shutil.rmtree(data_dir, ignore_errors=True)
        if self.memory_store:
            self.start_memory(files, data_dir)
        else:
            self.start_disk(files, data_dir)

    def start_disk(self, files: list[Path], data_dir: Path) -> None:
        began = time.perf_counter()
        subprocess.run([str(BIN / "borderkg"), "load", "--bulk", "--data-dir", str(data_dir),
                        *map(str, files)], check=True, capture_output=True, timeout=3600,
                       cwd=ROOT)
        self.load_seconds = time.perf_counter() - began
        self.spawn(self.command(data_dir), cwd=ROOT)
        self.startup_seconds = self.wait_answer()
        self.total_seconds = self.load_seconds + self.startup_seconds

    def start_memory(self, files: list[Path], data_dir: Path) -> None:
        """Start-up and baseline memory from an empty server first; then the server that
        loads ``files`` at start-up (``--load``), timed from process start to its first
        answer."""
        options = ["--store", "memory", "--empty", "--threads", "16",
                   "--result-cache-size", "4096", "--update-token", TOKEN]
        self.spawn(self.command(data_dir, *options), cwd=ROOT)
        self.startup_seconds = self.wait_answer()
        self.baseline = self.memory()
        self.stop()
        began = time.perf_counter()
        self.spawn(self.command(data_dir, *options, "--load", ",".join(map(str, files))),
                   cwd=ROOT)
        self.wait_answer(3600)
        self.load_seconds = self.total_seconds = time.perf_counter() - began


class BorderKGBest(BorderKG):
    memory_store = True


PEERS: dict[str, type[Peer]] = {
    "oxigraph": Oxigraph,
    "virtuoso": Virtuoso,
    "rdflib": RdflibEndpoint,
    "bkg-default": BorderKG,
    "bkg-best": BorderKGBest,
}
QUERY_PATHS = {"oxigraph": "/query", "rdflib": "/", "virtuoso": "/sparql"}


def make_peer(name: str, work: Path) -> Peer:
    peer = PEERS[name](name, work, QUERY_PATHS.get(name, "/sparql"))
    if name == "rdflib":
        peer.max_clients = 4  # one event loop runs every query: more clients only queue
    return peer


def seed_cold_start(work: Path, built: bool) -> float:
    """``borderkg serve`` on the seed only: seconds from process start to the first answer,
    from an empty data directory (the seed is built first) or an already built one."""
    peer = BorderKG("bkg-seed", work)
    data_dir = work / "bkg-seed-data"
    if not built:
        shutil.rmtree(data_dir, ignore_errors=True)
    peer.spawn(peer.command(data_dir), cwd=ROOT)
    try:
        return peer.wait_answer()
    finally:
        peer.stop()
