"""Running a query under the service's limits: row cap, time limit, result format.

The HTTP layer hands a ``QueryRequest`` (text, dataset, negotiated format, limits) to an
executor and streams back the ``ExecutedQuery`` body. Executors differ in how they
enforce the time limit:

* ``InProcessExecutor`` evaluates in the calling thread. Lazy results are cut at the
  deadline while iterating; a blocking operator (ORDER BY, GROUP BY, a cross product
  under COUNT) inside the engine cannot be interrupted from Python (pyoxigraph
  offers no cancellation), so on the memory backend the deadline is cooperative
  only. It is used for the memory and remote backends (a remote server applies its own
  time limit, and the HTTP client its request timeout).
* ``SnapshotPoolExecutor`` evaluates in worker processes that query
  read-only snapshots of the on-disk store; a query past its limit is ended by killing
  its worker. It is the service default.

Both refuse texts that would overrun the engine's parser recursion (``guard.check_shape``)
before evaluating: such a text crashes the process that parses it.
"""
from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, cast

from pyoxigraph import QueryBoolean, QuerySolutions, QueryTriples, RdfFormat
from pyoxigraph import Store as _OxStore

from graph import errors
from graph.documents import search
from graph.errors import BorderKGError, ConfigError, QueryTimeout, ServiceUnavailable, StoreError
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS, Format, by_name
from graph.store.base import Store, Substitutions
from graph.store.oxigraph import OxigraphStore

from . import policy as guard
from . import results
from .sandbox import deny_network, network_refused

log = logging.getLogger("borderkg.executor")


@dataclass(frozen=True)
class QueryRequest:
    """Everything needed to evaluate and serialise one query."""

    text: str
    result_format: Format  # negotiated for SELECT/ASK
    graph_format: Format  # negotiated for CONSTRUCT/DESCRIBE
    union_default: bool = True
    default_graphs: Sequence[str] | None = None
    named_graphs: Sequence[str] | None = None
    substitutions: Substitutions | None = None
    base_iri: str | None = None
    max_rows: int = 100_000
    timeout: float = 10.0
    #: who asked (the client's address): what one client may hold is bounded
    client: str | None = None
    #: whether evaluation may open sockets (only for SERVICE to allowed hosts)
    network: bool = False


@dataclass
class ExecutedQuery:
    """A query's answer: its form, the chosen format, and the body as byte chunks."""

    form: str  # "select", "ask" or "graph"
    format: Format
    body: Iterator[bytes]
    truncated: bool = False
    rows: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class Executor(Protocol):
    """What answers a query request: each executor here, and each wrapper around one
    (result cache, per-client gate, network router); ``kind`` and ``close`` are optional
    and read with ``getattr``."""

    def run(self, request: QueryRequest) -> ExecutedQuery: ...


class Deadline:
    """A point in time after which work must stop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise QueryTimeout(f"query stopped after its time limit of {self.seconds:.3g} s",
                               limit_seconds=self.seconds)


def _capped(items: Iterator[Any], limit: int, deadline: Deadline) -> tuple[list[Any], bool]:
    """Up to ``limit`` items, checking the deadline; whether more were available."""
    taken: list[Any] = []
    for item in itertools.islice(items, limit + 1):
        taken.append(item)
        if len(taken) % 256 == 0:
            deadline.check()
    deadline.check()
    truncated = len(taken) > limit
    return taken[:limit], truncated


def materialise(result: Any, request: QueryRequest, deadline: Deadline) -> ExecutedQuery:
    """Turn an engine result into an ``ExecutedQuery`` honouring the row cap."""
    if isinstance(result, QueryBoolean):
        fmt = request.result_format
        return ExecutedQuery("ask", fmt, iter([results.boolean(bool(result), fmt.name)]))
    if isinstance(result, QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _capped(iter(result), request.max_rows, deadline)
        fmt = request.result_format
        body = results.SOLUTION_WRITERS[fmt.name](variables, rows)
        return ExecutedQuery("select", fmt, body, truncated, len(rows))
    assert isinstance(result, QueryTriples)
    triples, truncated = _capped(iter(result), request.max_rows, deadline)
    fmt = request.graph_format
    engine = cast(RdfFormat, fmt.engine)  # a graph format's engine is an RdfFormat
    return ExecutedQuery("graph", fmt, results.graph_chunks(triples, engine), truncated,
                         len(triples))


class InProcessExecutor:
    """Evaluate in the caller's thread; the deadline is enforced between result rows."""

    kind = "in-process"

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, request: QueryRequest) -> ExecutedQuery:
        deadline = Deadline(request.timeout)
        guard.check_shape(request.text)
        result = self.store.query(request.text, union_default=request.union_default,
                                  default_graphs=request.default_graphs,
                                  named_graphs=request.named_graphs,
                                  substitutions=request.substitutions,
                                  base_iri=request.base_iri)
        return materialise(result, request, deadline)

    def close(self) -> None:
        """Nothing to release."""


# -- the killable executor --------------------------------------------------------------
#
# Parent (the HTTP process)                     Worker (forked from a clean forkserver)
#   take a snapshot when store.version moved      open the snapshot read-only (cached)
#   send (snapshot, request) to an idle worker -> evaluate, cap rows, serialise
#   receive header + chunks until the deadline <- ("header", ...), ("chunk", b), ("end",)
#   past the deadline: SIGKILL, replace, 503
#
# The whole body is received before ``run`` returns (spooled to disk above
# SPOOL_BYTES): the 503 can only be sent before the response headers, so evaluation *and*
# serialisation must both finish inside the limit, and a slow HTTP client never holds a
# worker.

SPOOL_BYTES = 8 << 20
READY_SECONDS = 120.0
#: a worker ends itself this long after its query's limit if the parent failed to kill it
WORKER_GRACE_SECONDS = 10.0


class _Reported(Exception):
    """A typed error the worker reported cleanly (the worker is still usable)."""

    def __init__(self, error: BorderKGError) -> None:
        super().__init__(error.message)
        self.error = error


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, ctx: Any, ident: int, sandbox: bool = True) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, sandbox), daemon=True,
                                   name=f"borderkg-query-{ident}")
        self.process.start()
        child.close()
        self.snapshot: Path | None = None

    def wait_ready(self, seconds: float) -> bool:
        try:
            return bool(self.conn.poll(seconds)) and self.conn.recv() == ("ready",)
        except (EOFError, OSError):
            return False

    def idle_and_alive(self) -> bool:
        """Whether this idle worker can take a query.

        An idle worker never writes, so a readable pipe means its end was closed: the
        process died. That shows as soon as the kernel closes its files, before the
        forkserver reaps it (which is when ``is_alive`` would turn false).
        """
        try:
            return not self.conn.poll(0) and self.process.is_alive()
        except (OSError, EOFError):
            return False

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class SnapshotPoolExecutor:
    """Evaluate queries in killable worker processes over snapshots of the on-disk store.

    Each write moves ``store.version``; the next query takes a new snapshot (hard links,
    milliseconds, once per version under a lock) and workers switch to it as they pick up
    work, so a client always reads its own writes. Snapshots no worker uses any more are
    deleted. Workers start in the background: ``serve`` is not slowed, and the first
    queries wait (within their limit) for a worker to be ready.
    """

    kind = "snapshot-pool"

    def __init__(self, store: Store, workers: int = 2, snapshot_dir: Path | None = None,
                 sandbox: bool = True) -> None:
        path = getattr(store, "path", None)
        if path is None or not hasattr(store, "snapshot"):
            raise ConfigError("the snapshot pool needs the on-disk store")
        self.store = store
        self.size = max(1, int(workers))
        self.sandbox = sandbox
        self.root = Path(snapshot_dir or Path(path).parent /
                         ("snapshots" if sandbox else "snapshots-network"))
        shutil.rmtree(self.root, ignore_errors=True)  # leftovers of an earlier run
        self.root.mkdir(parents=True, exist_ok=True)
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload([__name__])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._snapshot_lock = threading.Lock()
        self._snapshot: tuple[int, Path] | None = None
        self._pins: Counter[Path] = Counter()  # snapshots in use by requests (or being made)
        self._closed = False
        self._started = itertools.count(1)
        self.timeouts = self.restarts = 0
        for _ in range(self.size):
            self._spawn_soon()

    # -- public ------------------------------------------------------------------------
    def run(self, request: QueryRequest) -> ExecutedQuery:
        deadline = Deadline(request.timeout)
        guard.check_shape(request.text)
        snapshot = self._current_snapshot()  # pinned until this query is answered
        try:
            while True:
                worker = self._acquire(deadline)
                clean = False
                try:
                    executed = self._exchange(worker, snapshot, request, deadline)
                    clean = True
                    return executed
                except _Reported as reported:
                    clean = True
                    raise reported.error from None
                except BrokenPipeError:
                    continue  # the worker died while idle: replaced below, try another
                finally:
                    self._release(worker, clean)
        finally:
            self._unpin(snapshot)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.kill()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- workers -----------------------------------------------------------------------
    def _spawn_soon(self) -> None:
        threading.Thread(target=self._spawn, daemon=True, name="borderkg-spawn").start()

    def _spawn(self) -> None:
        if self._closed:
            return
        worker = _Worker(self._ctx, next(self._started), self.sandbox)
        if not worker.wait_ready(READY_SECONDS):
            if not self._closed:
                log.error("query worker %s did not start", worker.process.name)
            worker.kill()
            return
        with self._lock:
            if self._closed:
                worker.kill()
                return
            self._workers.add(worker)
        self._idle.put(worker)

    def _acquire(self, deadline: Deadline) -> _Worker:
        """An idle, living worker; one that died while idle is replaced, not handed out.

        Sending to a dead worker's pipe can still succeed (the bytes sit in the buffer),
        so the query would fail only at the reply; checking first keeps an idle death
        from costing a client its query.
        """
        while True:
            remaining = deadline.at - time.monotonic()
            try:
                worker = self._idle.get(timeout=max(remaining, 0.001))
            except queue.Empty:
                raise QueryTimeout(f"no query worker became free within the time limit of "
                                   f"{deadline.seconds:.3g} s; the service is busy",
                                   limit_seconds=deadline.seconds) from None
            if worker.idle_and_alive():
                return worker
            log.warning("idle query worker %s died (exit %s); replacing it",
                        worker.process.name, worker.process.exitcode)
            self._release(worker, clean=False)

    def _release(self, worker: _Worker, clean: bool) -> None:
        if clean and not self._closed:
            self._idle.put(worker)
            return
        with self._lock:
            self._workers.discard(worker)
        worker.kill()
        self.restarts += 1
        self._collect()
        self._spawn_soon()

    # -- snapshots ---------------------------------------------------------------------
    def _current_snapshot(self) -> Path:
        """The snapshot of the store's current version, taken now if it is stale; pinned
        for the caller, who unpins it when done (``_unpin``).

        Why pins: ``_collect`` runs in other request threads and deletes every snapshot
        that is neither current nor open in a worker. Without a pin it could delete a
        snapshot while it is being written, or one handed to a request whose worker has
        not opened it yet (a newer write made it stale in between).
        """
        with self._snapshot_lock:
            if self._snapshot and self._snapshot[0] == self.store.version:
                self._pin(self._snapshot[1])
                return self._snapshot[1]
            with self.store.write_lock:  # version and contents must match exactly
                version = self.store.version
                target = self.root / f"v{version}-{uuid.uuid4().hex[:8]}"
                self._pin(target)
                try:
                    self.store.snapshot(target)
                except OSError as exc:
                    self._unpin(target)
                    shutil.rmtree(target, ignore_errors=True)
                    raise StoreError(f"cannot snapshot the store: {exc}") from None
            self._snapshot = (version, target)
        self._collect()
        return target

    def _pin(self, snapshot: Path) -> None:
        with self._lock:
            self._pins[snapshot] += 1

    def _unpin(self, snapshot: Path) -> None:
        with self._lock:
            self._pins[snapshot] -= 1
            if self._pins[snapshot] <= 0:
                del self._pins[snapshot]

    def _collect(self) -> None:
        """Delete snapshots that are neither current, nor open in a worker, nor pinned."""
        with self._lock:
            keep = {w.snapshot for w in self._workers} | set(self._pins)
            current = self._snapshot[1] if self._snapshot else None
        keep.add(current)
        for entry in self.root.iterdir():
            # a snapshot being written may sit in "<name>.tmp" until it is complete
            if entry not in keep and entry.with_suffix("") not in keep:
                shutil.rmtree(entry, ignore_errors=True)

    # -- one query ---------------------------------------------------------------------
    def _exchange(self, worker: _Worker, snapshot: Path, request: QueryRequest,
                  deadline: Deadline) -> ExecutedQuery:
        switched = worker.snapshot != snapshot
        worker.snapshot = snapshot
        worker.conn.send(("query", str(snapshot), _payload(request)))
        if switched:
            self._collect()
        return collect_answer(lambda: self._receive(worker, deadline), request)

    def _timed_out(self) -> None:
        self.timeouts += 1

    def _receive(self, worker: _Worker, deadline: Deadline) -> tuple[Any, ...]:
        try:
            message = receive_before(worker.conn, deadline, self._timed_out)
        except (EOFError, ConnectionResetError):
            log.warning("query worker %s died (exit %s)", worker.process.name,
                        worker.process.exitcode)
            raise ServiceUnavailable("the query engine process stopped while evaluating "
                                     "this query; this request failed, the service goes on; "
                                     "if it happens again for this query, simplify it") from None
        if message[0] == "crash":
            raise _Reported(ServiceUnavailable(f"the query failed in its worker: "
                                               f"{message[1].strip().splitlines()[-1]}"))
        return message


def receive_before(conn: Any, deadline: Deadline,
                   timed_out: Callable[[], None]) -> tuple[Any, ...]:
    """The worker's next message, or ``QueryTimeout`` (after ``timed_out()``, which counts
    it) when the deadline passes first."""
    remaining = deadline.at - time.monotonic()
    if remaining <= 0 or not conn.poll(remaining):
        timed_out()
        raise QueryTimeout(f"query stopped after its time limit of {deadline.seconds:.3g} s",
                           limit_seconds=deadline.seconds)
    return conn.recv()  # type: ignore[no-any-return]


def collect_answer(receive: Callable[[], tuple[Any, ...]],
                   request: QueryRequest) -> ExecutedQuery:
    """A worker's answer, read message by message with ``receive``: the header (or a
    reported error), then the chunks, spooled so the whole body is in before the
    response starts (a 503 can only be sent before that)."""
    header = receive()
    if header[0] == "error":
        raise _Reported(_rebuild_error(header))
    _, form, truncated, rows = header
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    while (message := receive())[0] != "end":
        spool.write(message[1])
    spool.seek(0)
    fmt = request.graph_format if form == "graph" else request.result_format
    return ExecutedQuery(form, fmt, _spooled(spool), truncated, rows)


def _payload(request: QueryRequest) -> dict[str, Any]:
    return {"text": request.text, "union_default": request.union_default,
            "default_graphs": _list_or_none(request.default_graphs),
            "named_graphs": _list_or_none(request.named_graphs),
            "substitutions": request.substitutions, "base_iri": request.base_iri,
            "result_format": request.result_format.name,
            "graph_format": request.graph_format.name,
            "max_rows": request.max_rows, "timeout": request.timeout}


def _list_or_none(values: Sequence[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def _rebuild_error(message: tuple[Any, ...]) -> BorderKGError:
    _, name, text, details = message
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, BorderKGError)):
        cls = StoreError
    return cls(text, **details)


def _spooled(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(1 << 16):
            yield chunk


# -- worker side --------------------------------------------------------------------------

class _SnapshotStore(OxigraphStore):
    """A read-only view of one snapshot directory (same query semantics as the store)."""

    def __init__(self, path: str) -> None:
        Store.__init__(self)
        self.path = Path(path)
        self.backend = "snapshot"
        self.journal = None
        try:
            self._store = _OxStore.read_only(path)
        except OSError as exc:
            raise StoreError(f"cannot open store snapshot: {exc}") from None
        self._writes = []
        self._caches()

    def close(self) -> None:
        del self._store


class _WorkerState:
    """What a worker's watchdog needs: when the current query must have ended."""

    must_end: float | None = None


def _watchdog(parent: int, state: _WorkerState) -> None:
    """End the worker when its parent is gone or its query overran the parent's kill."""
    while True:
        time.sleep(0.5)
        overran = state.must_end is not None and time.monotonic() > state.must_end
        if os.getppid() != parent or overran:
            os._exit(3)


def _worker_main(conn: Any, sandbox: bool = True) -> None:
    # the parent ends its workers; a Ctrl-C to the terminal's process group must not
    # print a traceback from each of them
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    state = _WorkerState()
    if sandbox:
        deny_network()  # before any query: nothing it evaluates can open a socket
    threading.Thread(target=_watchdog, args=(os.getppid(), state), daemon=True).start()
    try:
        conn.send(("ready",))
        _serve(conn, state)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the parent is gone: nothing left to answer


def _serve(conn: Any, state: _WorkerState) -> None:
    snapshot: _SnapshotStore | None = None
    while True:
        _, path, payload = conn.recv()
        state.must_end = time.monotonic() + payload["timeout"] + WORKER_GRACE_SECONDS
        try:
            if snapshot is None or str(snapshot.path) != path:
                if snapshot is not None:
                    snapshot.close()
                snapshot = None
                snapshot = _SnapshotStore(path)
                # bkgfn: search functions search this snapshot (an index built on first use)
                search.attach(snapshot, {}, None)
            _evaluate(conn, snapshot, payload)
        except BorderKGError as exc:
            conn.send(("error", type(exc).__name__, exc.message, exc.details))
        except Exception:  # noqa: BLE001 - reported to the parent, which raises it there
            conn.send(("crash", traceback.format_exc()))
        state.must_end = None


def _evaluate(conn: Any, store: _SnapshotStore, payload: dict[str, Any]) -> None:
    request = QueryRequest(
        payload["text"], by_name(RESULT_FORMATS, payload["result_format"]),  # type: ignore[arg-type]
        by_name(GRAPH_FORMATS, payload["graph_format"]),  # type: ignore[arg-type]
        payload["union_default"], payload["default_graphs"], payload["named_graphs"],
        payload["substitutions"], payload["base_iri"], payload["max_rows"], payload["timeout"])
    deadline = Deadline(request.timeout)
    try:
        result = store.query(request.text, union_default=request.union_default,
                             default_graphs=request.default_graphs,
                             named_graphs=request.named_graphs,
                             substitutions=request.substitutions, base_iri=request.base_iri)
        executed = materialise(result, request, deadline)
    except PermissionError as exc:
        raise network_refused(exc) from None
    conn.send(("header", executed.form, executed.truncated, executed.rows))
    for chunk in executed.body:
        conn.send(("chunk", chunk))
    conn.send(("end",))
