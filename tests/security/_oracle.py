"""The judge of the policy fuzzer: what the raw engine does with the texts the policy admits.

The query-safety policy (``graph.guard.admit``) is a static check of the text; Oxigraph
parses the text again, by its own rules, and runs ``SERVICE`` and ``LOAD`` with its own
HTTP client, where no Python hook can see it. So whether a text is safe is decided by
what the engine does with it, observed from outside:

* ``Listener``: a loopback HTTP server that every ``SERVICE``/``LOAD`` target of the
  fuzzer points at; it counts every connection it accepts.
* ``Canary``: a directory of files the ``file:`` targets point at; every open of them
  or of the directory, by any process, is counted with inotify.
* ``EnginePool``: two worker processes, each a bare pyoxigraph ``Store`` with no BorderKG
  sandbox around it, so the policy is all that stands between a text and the engine. A
  segmentation fault kills one worker, not the test; it is counted, the input kept and
  the worker replaced.
* ``Judge``: one fuzz family: admit each text, run what is admitted, and attribute every
  connection, open, crash, hang or unexpected exception to the input that caused it.

Run as ``python -m tests.security._oracle NAMESPACE BASE`` this module is a worker: it
reads length-prefixed JSON requests on stdin and answers each on stdout.
"""
from __future__ import annotations

import ctypes
import itertools
import json
import os
import queue
import re
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, QueryBoolean, Store

from graph.errors import BorderKGError
from graph.guard import admit
from graph.sparql_text import Kind

ROOT = Path(__file__).resolve().parents[2]
#: exceptions the engine raises for a text it rejects or cannot evaluate (a Rust panic is
#: pyo3's PanicException, a BaseException: abnormal)
NORMAL_ERRORS = (SyntaxError, OSError, ValueError, RuntimeError)
#: rows read from a result: enough to make every lazy SERVICE call happen
MAX_ROWS = 1_000
#: seconds one evaluation may take before its worker is killed (counted as a hang); the
#: generated texts run in milliseconds on the workers' few triples
CASE_TIMEOUT = 10.0
#: crashes, and hangs, per family after which admitted texts are no longer run: each costs
#: a worker restart (a hang also its timeout), and the first one already fails the family
MAX_CRASHES, MAX_HANGS = 20, 2
#: suspects of a connection or an open that are re-run alone to find the culprit
MAX_CONFIRMATIONS = 40

_IN_OPEN, _IN_NONBLOCK, _IN_CLOEXEC = 0x20, 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_HEADER = struct.Struct(">I")


class Listener:
    """A loopback HTTP listener that counts every connection it accepts.

    A connection counts as a *hit* unless its request names one of the ``allowed`` hosts
    in its ``Host`` header (empty by default: every connection is a hit); those are
    counted apart, as ``allowed_hits``, for a policy configured to allow a host. Every
    answer is a 500, so an engine that connects gets an error back at once.
    """

    def __init__(self) -> None:
        self._sockets = [socket.create_server(("127.0.0.1", 0), backlog=64)]
        self.port: int = self._sockets[0].getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.hits = self.allowed_hits = 0
        self.allowed: set[str] = set()
        self.request_lines: list[bytes] = []
        self.hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        try:  # localhost may resolve to ::1 first: listen there on the same port too
            self._sockets.append(socket.create_server(("::1", self.port), backlog=64,
                                                      family=socket.AF_INET6))
        except OSError:
            pass  # no IPv6 loopback: a client falls back to 127.0.0.1
        for listening in self._sockets:
            threading.Thread(target=self._serve, args=(listening,), name="fuzz-listener",
                             daemon=True).start()

    def _serve(self, listening: socket.socket) -> None:
        while True:
            try:
                connection, _ = listening.accept()
            except OSError:
                return  # closed
            with connection, self._lock:
                self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        """Read the request head, count it, answer 500 (the engine waits meanwhile, so
        the case that connected is still in flight when the hooks run)."""
        head = _read_request(connection)
        self.request_lines.append(head.split(b"\r\n", 1)[0])
        if _host(head) in self.allowed:
            self.allowed_hits += 1
        else:
            self.hits += 1
            for hook in self.hooks:
                hook()
        try:
            connection.sendall(b"HTTP/1.1 500 Refused\r\nContent-Length: 0\r\n"
                               b"Connection: close\r\n\r\n")
        except OSError:
            pass  # the client gave up

    def close(self) -> None:
        for listening in self._sockets:
            listening.close()


def _read_request(connection: socket.socket) -> bytes:
    """The request's head, after reading its whole body: answering before the body is in
    would reset the connection, and a client may then send the request again."""
    connection.settimeout(2)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 1 << 20:
            chunk = connection.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"^content-length:[ \t]*(\d+)", head, re.IGNORECASE | re.MULTILINE)
        missing = min(int(length.group(1)), 1 << 20) - len(body) if length else 0
        while missing > 0 and (chunk := connection.recv(min(missing, 65536))):
            missing -= len(chunk)
        return head
    except OSError:
        return data  # the client stopped sending: counted all the same


def _host(head: bytes) -> str:
    """The host a request's ``Host`` header names, lower-cased, without port or final dot."""
    match = re.search(rb"^host:[ \t]*([^\r\n]*)", head, re.IGNORECASE | re.MULTILINE)
    value = match.group(1).decode("latin-1").strip().lower() if match else ""
    return value.rsplit(":", 1)[0].rstrip(".") if not value.startswith("[") else value


class Canary:
    """Files no engine may open; every open of them, by any process, is counted.

    inotify reports each ``open`` of a watched directory's entries (and of the directory
    itself) however the file is opened, blocking or not, read or write, so a single open
    cannot slip between two polls. ``settle`` waits until every event so far is counted.
    """

    NAMES = ("canary.ttl", "canary.nt", "canary.rdf", "canary")
    _SENTINEL = "settle"

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        for name in self.NAMES:
            (directory / name).write_text("<urn:canary:s> <urn:canary:p> <urn:canary:o> .\n")
        (directory / self._SENTINEL).write_text("")
        self.opens = 0
        self.hooks: list[Callable[[], None]] = []
        self._settled = threading.Event()
        self._closed = False
        self._fd = _inotify_watch(directory)
        self._thread = threading.Thread(target=self._watch, name="fuzz-canary", daemon=True)
        self._thread.start()

    @property
    def iris(self) -> list[str]:
        """``file:`` IRIs of the canary files and of their directory."""
        return [(self.directory / name).as_uri() for name in self.NAMES] + \
            [self.directory.as_uri() + "/"]

    def settle(self, timeout: float = 5.0) -> None:
        """Return once every open made before this call has been counted."""
        self._settled.clear()
        with open(self.directory / self._SENTINEL, "rb"):
            pass
        if not self._settled.wait(timeout):
            raise RuntimeError("the canary watch stopped reporting opens")

    def _watch(self) -> None:
        while not self._closed:
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self._fd, 65536)
            except OSError:
                return  # closed
            self._count(data)

    def _count(self, data: bytes) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            _, mask, _, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size:offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            if not mask & _IN_OPEN:
                continue
            if name == self._SENTINEL.encode():
                self._settled.set()
                continue
            self.opens += 1
            for hook in self.hooks:
                hook()

    def close(self) -> None:
        self._closed = True
        self._thread.join(1)
        os.close(self._fd)


def _inotify_watch(directory: Path) -> int:
    """An inotify descriptor reporting every open in ``directory`` (Linux only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(directory), _IN_OPEN) < 0:
        raise OSError(ctypes.get_errno(), "inotify is needed to watch the canary files")
    return int(fd)


@dataclass(frozen=True)
class Case:
    """One generated text and what it claims to be."""

    family: str
    kind: str  # "query" or "update"
    text: str
    #: a dangerous clause the generator wrote in a real position ("" when none): if the
    #: engine parses the text, the policy must not have admitted it
    planted: str = ""
    #: the text the engine runs, when the policy rewrote ``text`` ("" when it did not)
    rewritten: str = ""

    @property
    def run(self) -> str:
        return self.rewritten or self.text


@dataclass(frozen=True)
class Outcome:
    """What the engine did with an admitted text."""

    status: str  # answer, error, abnormal, crash or hang
    detail: str = ""


class _Worker:
    """One engine process, replaced when it dies or hangs."""

    def __init__(self, namespace: str, base: str) -> None:
        self._args = [sys.executable, "-m", "tests.security._oracle", namespace, base]
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._args, cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def run(self, request: dict[str, str], timeout: float) -> Outcome:
        """Send one request and wait for its answer; a dead or stuck worker is replaced."""
        assert self.process.stdin is not None
        body = json.dumps(request).encode()
        try:
            self.process.stdin.write(_HEADER.pack(len(body)) + body)
            self.process.stdin.flush()
            reply = self._read_reply(time.monotonic() + timeout)
        except (BrokenPipeError, EOFError):
            return self._replace("crash")
        if reply is None:
            return self._replace("hang")
        return Outcome(reply["status"], reply.get("detail", ""))

    def _read_reply(self, deadline: float) -> dict[str, str] | None:
        header = self._read(_HEADER.size, deadline)
        if header is None:
            return None
        body = self._read(_HEADER.unpack(header)[0], deadline)
        return None if body is None else json.loads(body)

    def _read(self, size: int, deadline: float) -> bytes | None:
        assert self.process.stdout is not None
        fd, chunks, missing = self.process.stdout.fileno(), [], size
        while missing:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(fd, missing)
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _replace(self, status: str) -> Outcome:
        if status == "hang":
            self.process.kill()
        code = self.process.wait()
        self.process = self._start()
        if status == "crash" and code >= 0:
            status = "abnormal"  # exited without a signal: still not a normal answer
        return Outcome(status, f"worker exit code {code}")

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


Done = Callable[[Case, Outcome], None]
_Item = tuple[dict[str, str], Case | None, Done, Callable[[], bool]]


class EnginePool:
    """Two engine workers fed from one queue, so generation and evaluation overlap.

    A connection or an open is seen some time after the text that caused it was sent, and
    two texts run at once; every case sent shortly before a connection or an open becomes
    a *suspect*, and ``confirm`` runs suspects again one at a time to find the culprit.
    """

    def __init__(self, namespace: str, base: str, size: int = 2,
                 timeout: float = CASE_TIMEOUT) -> None:
        self.timeout = timeout
        self._workers = [_Worker(namespace, base) for _ in range(size)]
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=4 * size)
        self._recent: deque[Case] = deque(maxlen=8)
        self._lock = threading.Lock()
        self.suspects: list[Case] = []
        self._threads = [threading.Thread(target=self._serve, args=(w,), daemon=True,
                                          name=f"fuzz-engine-{i}")
                         for i, w in enumerate(self._workers)]
        for thread in self._threads:
            thread.start()

    def suspect_recent(self) -> None:
        """Hook for the listener and the canary: the cases sent lately are suspects."""
        with self._lock:
            self.suspects.extend(c for c in self._recent if c not in self.suspects)

    def submit(self, case: Case, done: Done, wanted: Callable[[], bool] = lambda: True) -> None:
        """Queue ``case`` for the engine; ``done`` gets its outcome (from a pool thread),
        or an outcome ``skipped`` when ``wanted()`` says no by the time a worker is free."""
        self._queue.put(({"op": case.kind, "text": case.run}, case, done, wanted))

    def control(self, op: str, text: str = "") -> Outcome:
        """Run one control request (``query``/``update`` unguarded, ``open`` a path,
        ``crash``) and wait for it: the checks that prove the detectors see things."""
        outcomes: list[Outcome] = []
        self._queue.put(({"op": op, "text": text}, None, lambda _c, o: outcomes.append(o),
                         lambda: True))
        self.drain()
        return outcomes[0]

    def drain(self) -> None:
        """Wait until every submitted case has its outcome."""
        self._queue.join()

    def _serve(self, worker: _Worker) -> None:
        while (item := self._queue.get()) is not None:
            request, case, done, wanted = item
            if case is not None:
                with self._lock:
                    self._recent.append(case)
            outcome = worker.run(request, self.timeout) if wanted() else Outcome("skipped")
            done(case or Case("control", request["op"], request["text"]), outcome)
            self._queue.task_done()
        self._queue.task_done()

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(10)
        for worker in self._workers:
            worker.close()


@dataclass
class World:
    """Everything a family needs: the policy's inputs and the engine's observers."""

    settings: Any
    store: Any  # graph.store.OxigraphStore the policy looks graphs up in
    base: str
    listener: Listener
    canary: Canary
    pool: EnginePool


@dataclass
class Failure:
    """An input that broke an invariant, and how."""

    what: str
    case: Case

    def __str__(self) -> str:
        shown = f"{self.what} [{self.case.family} {self.case.kind}]: {_short(self.case.text)}"
        if self.case.rewritten:
            shown += f"\n      run as: {_short(self.case.rewritten)}"
        return shown


def _short(text: str) -> str:
    return repr(text if len(text) <= 400 else text[:300] + f"... ({len(text):,} chars)")


@dataclass
class Judge:
    """One fuzz family: every text through the policy, admitted ones through the engine."""

    world: World
    family: str
    #: the policy under test; the judge's own tests swap in one that admits everything
    policy: Callable[..., object] = admit
    cases: int = 0
    #: listener hits, calls to an allowed host and canary opens during the family
    hits: int = 0
    allowed_calls: int = 0
    opens: int = 0
    admitted: int = 0
    refused: int = 0
    skipped: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._hits = self.world.listener.hits
        self._allowed_hits = self.world.listener.allowed_hits
        self._opens = self.world.canary.opens
        self.world.pool.suspects.clear()

    def __call__(self, kind: Kind, text: str, planted: str = "") -> None:
        self.cases += 1
        case = Case(self.family, kind, text, planted)
        try:
            decision = self.policy(text, kind, self.world.settings, self.world.store,
                                   base_iri=self.world.base)
        except BorderKGError:
            self.refused += 1
            return
        except Exception as exc:  # noqa: BLE001 - any other exception is a policy bug (a 500)
            self.refused += 1
            self._fail(f"the policy raised {type(exc).__name__}: {exc}", case)
            return
        self.admitted += 1
        rewritten = getattr(decision, "text", None)  # a policy may hand back what to run
        if isinstance(rewritten, str) and rewritten != text:
            case = replace(case, rewritten=rewritten)
        if names_other_host(case.run, self.world.listener.origin):
            self.skipped += 1  # never sent: the fuzzer only talks to its own listener
        else:
            self.world.pool.submit(case, self._done, self._worth_running)

    def _worth_running(self) -> bool:
        return (self.outcomes.get("crash", 0) < MAX_CRASHES
                and self.outcomes.get("hang", 0) < MAX_HANGS)

    def _done(self, case: Case, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes[outcome.status] = self.outcomes.get(outcome.status, 0) + 1
        if outcome.status == "skipped":
            return
        if outcome.status not in ("answer", "error"):
            self._fail(f"engine {outcome.status} ({outcome.detail})", case)
        elif case.planted and not outcome.detail.startswith("SyntaxError"):
            self._fail(f"admitted {case.planted!r}, which the engine parsed as a real clause",
                       case)

    def _fail(self, what: str, case: Case) -> None:
        failure = Failure(what, case)
        with self._lock:
            if failure not in self.failures:
                self.failures.append(failure)

    def finish(self) -> str:
        """Wait for the engine, find who caused each connection and open, and return the
        family's summary line."""
        self.world.pool.drain()
        self.world.canary.settle()
        self.hits = self.world.listener.hits - self._hits
        self.allowed_calls = self.world.listener.allowed_hits - self._allowed_hits
        self.opens = self.world.canary.opens - self._opens
        if self.hits or self.opens:
            self._confirm([c for c in self.world.pool.suspects if c.family == self.family])
        return self.summary()

    def _confirm(self, suspects: list[Case]) -> None:
        found = False
        for case in suspects[:MAX_CONFIRMATIONS]:
            hits, opens = self.world.listener.hits, self.world.canary.opens
            self.world.pool.submit(case, lambda _c, _o: None)
            self.world.pool.drain()
            self.world.canary.settle()
            if self.world.listener.hits > hits:
                found = True
                self._fail("the engine connected to the listener", case)
            if self.world.canary.opens > opens:
                found = True
                self._fail("the engine opened a canary file", case)
        if not found:
            for case in suspects:
                self._fail("sent shortly before an unattributed connection or open", case)

    def summary(self) -> str:
        crashes = self.outcomes.get("crash", 0)
        line = (f"policy fuzz {self.family}: {self.cases} cases, {self.admitted} admitted, "
                f"{self.refused} refused, {self.hits} listener hits, {self.opens} canary "
                f"opens, {crashes} crashes")
        extras = {"calls to the allowed host": self.allowed_calls,
                  "hangs": self.outcomes.get("hang", 0),
                  "abnormal errors": self.outcomes.get("abnormal", 0),
                  "not run (names another host)": self.skipped,
                  "not run (after too many crashes or hangs)": self.outcomes.get("skipped", 0)}
        return line + "".join(f", {n} {what}" for what, n in extras.items() if n)

    @property
    def clean(self) -> bool:
        return not (self.failures or self.hits or self.opens)

    def explain(self) -> str:
        """The family's summary and its first failures, for an assertion message."""
        shown = "\n".join(f"  {failure}" for failure in self.failures[:12])
        more = len(self.failures) - 12
        return f"{self.summary()}\n{shown}" + (f"\n  ... and {more} more" if more > 0 else "")


def names_other_host(text: str, origin: str) -> bool:
    """True when ``text`` could name a network host other than the listener.

    The fuzzer's generators only write IRIs on the listener or ``file:`` IRIs, but a
    mutated text could resolve to another host, and an engine that then connects would
    send traffic off this machine. Every ``//`` (after the escapes the grammar allows) must
    start ``///`` or an authority on the listener's port whose host is ``127.0.0.1`` or
    ``localhost`` (user information before it is allowed: it does not change the host).
    """
    flat = _CODEPOINT.sub(_decoded, text).replace("\\", "")
    port = origin.rsplit(":", 1)[1]
    loopback = re.compile(rf"//(?:[^/@\s<>]*@)?(?:127\.0\.0\.1|localhost\.?):{port}(?=[/?#>])",
                          re.IGNORECASE)
    return any(not (flat.startswith("/", match.end()) or loopback.match(flat, match.start()))
               for match in re.finditer("//", flat))


def _decoded(match: re.Match[str]) -> str:
    """A codepoint escape's character, leniently (this check must not raise on any text)."""
    code = int(match.group(1) or match.group(2), 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group()


# --- the worker process ------------------------------------------------------------------

def base_quads(namespace: str) -> list[Any]:
    """The worker's data: a few triples in the default graph and one named graph, so that
    patterns around a SERVICE match and the engine goes on to call it."""
    s, p, o = (NamedNode(namespace + name) for name in ("s", "p", "o"))
    graphs = (DefaultGraph(), NamedNode(namespace + "graph/one"))
    return [Quad(s, p, obj, graph) for graph in graphs for obj in (o, Literal("x"), s)]


def _evaluate(store: Any, quads: list[Any], request: dict[str, str], base: str) -> Outcome:
    op, text = request["op"], request["text"]
    if op == "crash":
        os.kill(os.getpid(), 11)
    if op == "open":
        with open(text, "rb"):
            return Outcome("answer")
    try:
        if op == "query":
            result = store.query(text, base_iri=base)
            if not isinstance(result, QueryBoolean):
                for _ in itertools.islice(result, MAX_ROWS):
                    pass
        else:
            fresh = Store()
            fresh.extend(quads)
            fresh.update(text, base_iri=base)
    except BaseException as exc:  # noqa: BLE001 - sorted into normal and abnormal below
        status = "error" if isinstance(exc, NORMAL_ERRORS) else "abnormal"
        return Outcome(status, f"{type(exc).__name__}: {str(exc)[:200]}")
    return Outcome("answer")


def _worker(namespace: str, base: str) -> None:
    """Answer requests until stdin closes: one Store for queries, a fresh one per update."""
    quads = base_quads(namespace)
    store = Store()
    store.extend(quads)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while header := stdin.read(_HEADER.size):
        request = json.loads(stdin.read(_HEADER.unpack(header)[0]))
        outcome = _evaluate(store, quads, request, base)
        body = json.dumps({"status": outcome.status, "detail": outcome.detail}).encode()
        stdout.write(_HEADER.pack(len(body)) + body)
        stdout.flush()


if __name__ == "__main__":
    _worker(sys.argv[1], sys.argv[2])
