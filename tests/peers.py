"""Real peer servers on loopback, started and stopped in one place for tests and benchmarks.

* :class:`ServerProcess` — any server process: started in a session of its own with its
  output in a log file, waited for until an HTTP probe answers (the log's tail in the error
  when it exits or never answers), and stopped by its own process id (or process group);
* :func:`start_oxigraph` — ``oxigraph serve`` (PyPI ``oxigraph``, installed beside this
  interpreter) on a free port, in memory or on a ``--location``;
* :func:`start_virtuoso` — Virtuoso Open Source (``virtuoso-t`` with a temporary ini, Debian
  ``virtuoso-opensource-7-bin``) on free SQL and HTTP ports, with :meth:`Virtuoso.isql`.

The test fixtures (``LiveServer``, ``tests/stores``, ``tests/w3c``, ``tests/linked_data``)
and the benchmarks (``bench/peers.py``, ``mirror_bench``, ``engine_bench``, ``http_ceiling``,
``analysis_limits``) all start their servers through these; a benchmark puts the repository
root on ``sys.path`` and imports ``tests.peers``.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

BIN = Path(sys.executable).parent
OXIGRAPH = BIN / "oxigraph"
VIRTUOSO, ISQL = "/usr/bin/virtuoso-t", "/usr/bin/isql-vt"
ASK = {"query": "ASK {}"}


class PeerError(RuntimeError):
    """A peer server could not be started (or is missing); the message carries its log."""


def free_port() -> int:
    """A TCP port nothing listens on at 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A server process on loopback, its output in ``log``, stopped by its own id.

    ``group=True`` stops the whole process group the server leads (a server that forks
    workers); otherwise only the process itself is signalled, as a peer expects."""

    def __init__(self, name: str, args: Sequence[str], log: Path, *, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None, group: bool = False) -> None:
        self.name, self.args, self.log, self.group = name, list(args), log, group
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.process: subprocess.Popen[bytes] = subprocess.Popen(
                self.args, stdout=out, stderr=out, cwd=cwd,
                env=dict(env) if env is not None else None, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-size:]
        except OSError:
            return ""

    def wait_until(self, ready: Callable[[], bool], *, timeout: float = 90,
                   interval: float = 0.2, what: str = "answer") -> float:
        """Seconds until ``ready()`` is true (a :class:`requests.RequestException` counts as
        not yet); :class:`PeerError` with the log's tail when the process exits first or
        ``timeout`` passes (the process is left running: the caller stops it)."""
        started, deadline = time.perf_counter(), time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise PeerError(f"{self.name} exited with status {self.process.returncode}: "
                                f"{self.log_tail()}")
            try:
                if ready():
                    return time.perf_counter() - started
            except requests.RequestException:
                pass
            time.sleep(interval)
        raise PeerError(f"{self.name} did not {what} within {timeout} s: {self.log_tail()}")

    def wait_http(self, url: str, *, params: Mapping[str, str] | None = ASK,
                  headers: Mapping[str, str] | None = None, timeout: float = 90,
                  request_timeout: float = 2, interval: float = 0.2) -> float:
        """Seconds until ``GET url`` answers 200 (see :meth:`wait_until`)."""
        def answers() -> bool:
            return requests.get(url, params=params, headers=headers,
                                timeout=request_timeout).status_code == 200

        return self.wait_until(answers, timeout=timeout, interval=interval,
                               what=f"answer {url}")

    def stop(self, sig: int = signal.SIGTERM, grace: float = 20) -> None:
        """Signal the server (its group with ``group``), wait ``grace`` seconds, then kill."""
        if not self.running():
            return
        self._signal(sig)
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.process.wait(10)

    def _signal(self, sig: int) -> None:
        try:
            if self.group:
                os.killpg(self.process.pid, sig)
            else:
                self.process.send_signal(sig)
        except ProcessLookupError:
            pass


# -- oxigraph serve ---------------------------------------------------------------------------

@dataclass
class Oxigraph:
    """A started ``oxigraph serve``: its endpoints and its process."""

    server: ServerProcess
    port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def query(self) -> str:
        return self.base + "/query"

    @property
    def update(self) -> str:
        return self.base + "/update"

    @property
    def store(self) -> str:
        return self.base + "/store"

    def stop(self) -> None:
        self.server.stop()


def oxigraph_binary() -> Path:
    if not OXIGRAPH.exists():
        raise PeerError(f"oxigraph CLI not found at {OXIGRAPH}: pip install -e '.[test]'")
    return OXIGRAPH


def oxigraph_load(location: Path, files: Sequence[Path], timeout: float = 3600) -> None:
    """``oxigraph load`` of ``files`` into the on-disk store at ``location``."""
    location.parent.mkdir(parents=True, exist_ok=True)
    args = [str(oxigraph_binary()), "load", "--location", str(location)]
    for path in files:
        args += ["--file", str(path)]
    subprocess.run(args, check=True, capture_output=True, timeout=timeout)


def start_oxigraph(log: Path, *, location: Path | None = None, union_default_graph: bool = False,
                   port: int | None = None, name: str = "oxigraph serve", wait: bool = True,
                   timeout: float = 90, interval: float = 0.2) -> Oxigraph:
    """``oxigraph serve`` on ``port`` (a free one by default), in memory or on ``location``,
    answering ``ASK {}`` on ``/query`` when this returns (unless ``wait=False``); stopped
    again if it never answers."""
    port = port or free_port()
    args = [str(oxigraph_binary()), "serve"]
    if location is not None:
        args += ["--location", str(location)]
    args += ["--bind", f"127.0.0.1:{port}"]
    if union_default_graph:
        args.append("--union-default-graph")
    peer = Oxigraph(ServerProcess(name, args, log), port)
    if wait:
        try:
            peer.server.wait_http(peer.query, timeout=timeout, interval=interval)
        except BaseException:
            peer.stop()
            raise
    return peer


# -- Virtuoso ---------------------------------------------------------------------------------

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
ServerThreads = {t.server_threads}
CheckpointInterval = 60
NumberOfBuffers = {t.buffers}
MaxDirtyBuffers = {t.dirty_buffers}
DirsAllowed = {dirs}
DefaultIsolation = {t.isolation}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = {t.http_clients}
ServerThreads = {t.http_threads}
EnabledDavVSP = 0
HTTPProxyEnabled = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = {t.max_query_seconds}
{sparql_extra}"""


@dataclass(frozen=True)
class VirtuosoTuning:
    """The ini's sizing: small for the contract tests, large for the benchmark's loads."""

    server_threads: int = 10
    buffers: int = 10000
    dirty_buffers: int = 6000
    isolation: int = 4  # serializable: the contract tests check isolation
    http_clients: int = 8
    http_threads: int = 8
    max_query_seconds: int = 60
    cost_estimation: bool = True  # False: MaxQueryCostEstimationTime = 0 (never refuse)


TEST_TUNING = VirtuosoTuning()
BENCH_TUNING = VirtuosoTuning(server_threads=20, buffers=170000, dirty_buffers=130000,
                              isolation=2, http_clients=20, http_threads=20,
                              max_query_seconds=120, cost_estimation=False)


@dataclass
class Virtuoso:
    """A started Virtuoso: its SPARQL endpoints, its SQL port and its process."""

    server: ServerProcess
    root: Path
    sql_port: int
    http_port: int

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"

    @property
    def sparql_auth(self) -> str:
        return self.base + "/sparql-auth"

    def isql(self, statements: Sequence[str], timeout: float = 3600) -> str:
        """Run SQL ``statements`` through ``isql`` as ``dba``; an ``Error`` in its output
        raises :class:`PeerError`."""
        args = [ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba"]
        args += [f"exec={s}" for s in statements]
        done = subprocess.run(args, check=True, capture_output=True, text=True, timeout=timeout)
        if "Error" in done.stdout or "Error" in done.stderr:
            raise PeerError(f"isql: {done.stdout[-1500:]} {done.stderr[-1500:]}")
        return done.stdout

    def stop(self) -> None:
        self.server.stop()


def virtuoso_binaries() -> None:
    for binary in (VIRTUOSO, ISQL):
        if not shutil.which(binary):
            raise PeerError(f"{binary} not found: install virtuoso-opensource-7-bin "
                            "(make system-deps)")


def start_virtuoso(root: Path, *, tuning: VirtuosoTuning = TEST_TUNING,
                   dirs_allowed: Sequence[Path] = (), http_port: int | None = None,
                   log: Path | None = None, name: str = "virtuoso", wait: bool = True,
                   timeout: float = 90, interval: float = 0.2) -> Virtuoso:
    """Virtuoso with a fresh database in ``root`` (emptied first) on free ports, its
    ``/sparql`` answering ``ASK {}`` when this returns (unless ``wait=False``); stopped
    again if it never answers. ``dirs_allowed``: directories ``ld_dir`` may read; the
    server's output goes to ``log`` (``root/server.log`` by default)."""
    virtuoso_binaries()
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    sql_port, http_port = free_port(), http_port or free_port()
    ini = root / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(
        d=root, sql_port=sql_port, http_port=http_port, t=tuning,
        dirs=", ".join([".", str(root), *map(str, dirs_allowed)]),
        sparql_extra="" if tuning.cost_estimation else "MaxQueryCostEstimationTime = 0\n"))
    peer = Virtuoso(ServerProcess(name, [VIRTUOSO, "+foreground", "+configfile", str(ini)],
                                  log or root / "server.log", cwd=root),
                    root, sql_port, http_port)
    if wait:
        try:
            peer.server.wait_http(peer.sparql, timeout=timeout, interval=interval)
        except BaseException:
            peer.stop()
            raise
    return peer
