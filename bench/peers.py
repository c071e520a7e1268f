"""The servers compared, each started on loopback with the same N-Quads files.

Every peer is a real server process started here and stopped by its process id:

* ``oxigraph``      ``oxigraph serve`` in memory, loaded through its ``/store`` POST — the
  reference every figure is a ratio to;
* ``virtuoso``      Virtuoso Open Source (``virtuoso-t``, temporary ini), bulk-loaded with
  ``ld_dir`` + ``rdf_loader_run`` through ``isql``;
* ``rdflib``        ``rdflib-endpoint serve`` (rdflib's in-memory store; small sizes only);
* ``bkg-default``   ``borderkg serve`` as shipped: disk store (loaded by ``borderkg load
  --bulk``), killable snapshot-pool executor, result cache of 256;
* ``bkg-best``      ``borderkg serve --store memory`` with 16 request threads and a result
  cache of 4096, loading the files at start-up (``--load``).

A peer reports its load time (files to queryable), its start-up time (process start to the
first answer) and its process tree's memory from ``/proc``.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
VIRTUOSO, ISQL = "/usr/bin/virtuoso-t", "/usr/bin/isql-vt"
TOKEN = "bench-token-not-secret"
NQUADS = "application/n-quads"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    process: subprocess.Popen | None = None
    load_seconds: float = float("nan")
    startup_seconds: float = float("nan")
    max_clients: int = 64
    baseline: dict[str, int] = field(default_factory=dict)  # memory once up, before loading

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.query_path}"

    @property
    def log(self) -> Path:
        return self.work / f"{self.name}.log"

    def spawn(self, args: list[str], cwd: Path | None = None) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=out, cwd=cwd,
                                            start_new_session=True)

    def wait_answer(self, timeout: float = 600) -> float:
        """Seconds until the endpoint answers ``ASK {}`` with 200."""
        started, deadline = time.perf_counter(), time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                answer = requests.get(self.base, params={"query": "ASK {}"}, timeout=5,
                                      headers={"Accept": "application/sparql-results+json"})
                if answer.status_code == 200:
                    return time.perf_counter() - started
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not answer within {timeout} s")

    def start(self, files: list[Path]) -> None:
        raise NotImplementedError

    def memory(self) -> dict[str, int]:
        return memory_kib(self.process.pid) if self.process else {"rss": 0, "hwm": 0}

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class Oxigraph(Peer):
    def start(self, files: list[Path]) -> None:
        started = time.perf_counter()
        self.spawn([str(BIN / "oxigraph"), "serve", "--bind", f"127.0.0.1:{self.port}",
                    "--union-default-graph"])
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
    args = [str(BIN / "oxigraph"), "load", "--location", str(location)]
    for path in files:
        args += ["--file", str(path)]
    began = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, timeout=3600)
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


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
ServerThreads = 20
CheckpointInterval = 60
NumberOfBuffers = 170000
MaxDirtyBuffers = 130000
DirsAllowed = ., {d}, {data}
DefaultIsolation = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 20
ServerThreads = 20
EnabledDavVSP = 0
HTTPProxyEnabled = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


class Virtuoso(Peer):
    def start(self, files: list[Path]) -> None:
        root = self.work / "virtuoso"
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        data = files[0].parent
        self.sql_port = free_port()
        (root / "virtuoso.ini").write_text(VIRTUOSO_INI.format(
            d=root, data=data, sql_port=self.sql_port, http_port=self.port))
        started = time.perf_counter()
        self.spawn([VIRTUOSO, "+foreground", "+configfile", str(root / "virtuoso.ini")],
                   cwd=root)
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
        args = [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba"]
        args += [f"exec={s}" for s in statements]
        done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=3600)
        if "Error" in done.stdout or "Error" in done.stderr:
            raise RuntimeError(f"isql: {done.stdout[-1500:]} {done.stderr[-1500:]}")
        return done.stdout


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
