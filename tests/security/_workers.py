"""The policy fuzzer's worker processes: the policy and a bare engine, away from the test.

Each worker decides a case with the policy (``graph.sparql.policy.admit``, or another entry
point) and, when the policy admits it, runs the text with a bare pyoxigraph ``Store``:
no BorderKG sandbox, no timeout, the same base IRI, so the policy is all that stands
between the text and the engine. The policy runs here too, not in the test's process,
because it may call the engine itself (to parse a refused update) and a segmentation
fault must kill a worker, not the test. A dead or stuck worker is replaced and its case
kept as the cause.

Run as ``python -m tests.security._workers NAMESPACE BASE`` this module is a worker: it
reads length-prefixed JSON requests on stdin and answers each with one or two frames.
"""
from __future__ import annotations

import itertools
import json
import os
import queue
import select
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, QueryBoolean, RdfFormat, Store

from graph.errors import BorderKGError
from graph.settings import load_settings
from graph.sparql import policy as guard
from graph.store.oxigraph import OxigraphStore

from ._watchers import names_other_host

ROOT = Path(__file__).resolve().parents[2]
#: exceptions the engine raises for a text it rejects or cannot evaluate (a Rust panic is
#: pyo3's PanicException, a BaseException: abnormal)
NORMAL_ERRORS = (SyntaxError, OSError, ValueError, RuntimeError)
#: rows read from a result: enough to make every lazy SERVICE call happen
MAX_ROWS = 1_000
#: seconds one case may take before its worker is killed (counted as a hang); the
#: generated texts run in milliseconds on the workers' few triples
CASE_TIMEOUT = 10.0
#: the host the ``allow-localhost`` settings let SERVICE call
ALLOWED_HOST = "localhost"
_HEADER = struct.Struct(">I")


@dataclass(frozen=True)
class Verdict:
    """The policy's decision on a case."""

    admitted: bool
    #: why it was refused, or the unexpected exception the policy raised
    detail: str = ""
    #: the policy raised something other than its own errors (a 500 in the service)
    unexpected: bool = False
    #: the text the engine runs, when the policy rewrote the request ("" when it did not)
    rewritten: str = ""


@dataclass(frozen=True)
class Outcome:
    """What the engine did with an admitted text (or why it was not run)."""

    status: str  # answer, error, abnormal, crash, hang, or not-run (detail: why)
    detail: str = ""


@dataclass(frozen=True)
class Reply:
    """A worker's answer: the verdict (None if the worker died deciding) and the outcome
    (None when the text was refused or not run)."""

    verdict: Verdict | None
    outcome: Outcome | None


class _Worker:
    """One worker process, replaced when it dies or hangs."""

    def __init__(self, namespace: str, base: str) -> None:
        self._args = [sys.executable, "-m", "tests.security._workers", namespace, base]
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._args, cwd=ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def run(self, request: dict[str, Any], timeout: float) -> Reply:
        """Send one request and read its frames; a dead or stuck worker is replaced."""
        assert self.process.stdin is not None
        body = json.dumps(request).encode()
        deadline = time.monotonic() + timeout
        verdict: Verdict | None = None
        try:
            self.process.stdin.write(_HEADER.pack(len(body)) + body)
            self.process.stdin.flush()
            while (frame := self._read_frame(deadline)) is not None:
                if "outcome" in frame:
                    return Reply(verdict, _outcome(frame["outcome"]))
                verdict = Verdict(**frame["verdict"])
                if not verdict.admitted:
                    return Reply(verdict, None)
                if frame["held"]:
                    return Reply(verdict, Outcome("not-run", frame["held"]))
        except (BrokenPipeError, EOFError):
            return Reply(verdict, self._replace("crash"))
        return Reply(verdict, self._replace("hang"))

    def _read_frame(self, deadline: float) -> dict[str, Any] | None:
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


def _outcome(frame: dict[str, str]) -> Outcome:
    return Outcome(frame["status"], frame.get("detail", ""))


Done = Callable[[Reply], None]
_Item = tuple[dict[str, Any], Any, Done, Callable[[], bool]]


class WorkerPool:
    """Two workers fed from one queue, so that generating texts (the test's process) and
    deciding and running them (the workers) overlap on two cores.

    A connection or an open is seen some time after the case that caused it was sent, and
    two cases run at once: every case sent shortly before one becomes a *suspect*, which
    the judge runs again alone to find the culprit.
    """

    def __init__(self, namespace: str, base: str, size: int = 2,
                 timeout: float = CASE_TIMEOUT) -> None:
        self.timeout = timeout
        self._workers = [_Worker(namespace, base) for _ in range(size)]
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=4 * size)
        self._recent: deque[Any] = deque(maxlen=8)
        self._lock = threading.Lock()
        self.suspects: list[Any] = []
        self._threads = [threading.Thread(target=self._serve, args=(w,), daemon=True,
                                          name=f"fuzz-worker-{i}")
                         for i, w in enumerate(self._workers)]
        for thread in self._threads:
            thread.start()

    def suspect_recent(self) -> None:
        """Hook for the listener and the canary: the cases sent lately are suspects."""
        with self._lock:
            self.suspects.extend(c for c in self._recent if c not in self.suspects)

    def submit(self, request: dict[str, Any], case: Any, done: Done,
               runs: Callable[[], bool] = lambda: True) -> None:
        """Queue ``request`` (about ``case``); ``done`` gets the reply, from a pool thread.
        ``runs()``, asked when a worker is free, says whether an admitted text may run."""
        self._queue.put((request, case, done, runs))

    def control(self, op: str, text: str = "") -> Outcome | None:
        """Run one control request (``query``/``update`` with no policy, ``open`` a path,
        ``crash``) and wait for it: the checks that prove the watchers see things."""
        replies: list[Reply] = []
        self.submit({"op": op, "text": text}, None, replies.append)
        self.drain()
        return replies[0].outcome

    def drain(self) -> None:
        """Wait until every submitted request has its reply."""
        self._queue.join()

    def _serve(self, worker: _Worker) -> None:
        while (item := self._queue.get()) is not None:
            request, case, done, runs = item
            if case is not None:
                with self._lock:
                    self._recent.append(case)
            done(worker.run({**request, "runs": runs()}, self.timeout))
            self._queue.task_done()
        self._queue.task_done()

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(10)
        for worker in self._workers:
            worker.close()


# --- inside the worker process ------------------------------------------------------------

def base_quads(namespace: str) -> list[Quad]:
    """The engine's data: a few triples in the default graph and one named graph, so that
    patterns around a SERVICE match and the engine goes on to call it."""
    s, p, o = (NamedNode(namespace + name) for name in ("s", "p", "o"))
    graphs = (DefaultGraph(), NamedNode(namespace + "graph/one"))
    return [Quad(s, p, obj, graph) for graph in graphs for obj in (o, Literal("x"), s)]


class _Process:
    """What one worker holds: the policy's settings and store, and the engine's data."""

    def __init__(self, namespace: str, base: str) -> None:
        self.base, self.origin = base, base.rsplit("/", 1)[0]
        self.quads = base_quads(namespace)
        self.engine = Store()
        self.engine.extend(self.quads)
        self.store = OxigraphStore(None)  # the graphs the policy looks up: graph/one
        self.store.load(f"<{namespace}s> <{namespace}p> <{namespace}o> "
                        f"<{namespace}graph/one> .\n", RdfFormat.N_QUADS)
        common = {"store": "memory", "iri_base": namespace + "own/"}
        self.profiles = {
            "default": load_settings(common, environ={}),
            "allow-localhost": load_settings({**common, "allowed_service_hosts": [ALLOWED_HOST]},
                                             environ={}),
        }

    def decide(self, request: dict[str, Any]) -> Verdict:
        policy = {"admit": guard.admit, "admit_request": getattr(guard, "admit_request", None),
                  "open": None}[request["policy"]]
        if request["policy"] == "open":
            return Verdict(True)
        if policy is None:
            return Verdict(False, f"graph.sparql.policy has no {request['policy']}",
                           unexpected=True)
        try:
            decision = policy(request["text"], request["kind"],
                              self.profiles[request["profile"]], self.store, base_iri=self.base)
        except BorderKGError as exc:
            return Verdict(False, f"{type(exc).__name__}: {exc.message[:200]}")
        except Exception as exc:  # noqa: BLE001 - any other exception is a policy bug (a 500)
            return Verdict(False, f"{type(exc).__name__}: {str(exc)[:200]}", unexpected=True)
        rewritten = getattr(decision, "text", None)  # an entry point may hand back what to run
        if isinstance(rewritten, str) and rewritten != request["text"]:
            return Verdict(True, rewritten=rewritten)
        return Verdict(True)

    def evaluate(self, kind: str, text: str) -> Outcome:
        """Run ``text`` with the bare engine: queries on the shared data (every row read),
        updates on a fresh copy of it."""
        try:
            if kind == "query":
                result = self.engine.query(text, base_iri=self.base)
                if not isinstance(result, QueryBoolean):
                    for _ in itertools.islice(result, MAX_ROWS):
                        pass
            else:
                fresh = Store()
                fresh.extend(self.quads)
                fresh.update(text, base_iri=self.base)
        except BaseException as exc:  # noqa: BLE001 - sorted into normal and abnormal below
            status = "error" if isinstance(exc, NORMAL_ERRORS) else "abnormal"
            return Outcome(status, f"{type(exc).__name__}: {str(exc)[:200]}")
        return Outcome("answer")

    def control(self, request: dict[str, Any]) -> Outcome:
        if request["op"] == "crash":
            os.kill(os.getpid(), 11)
        if request["op"] == "open":
            with open(request["text"], "rb"):
                return Outcome("answer")
        return self.evaluate(request["op"], request["text"])


def _send(frame: dict[str, Any]) -> None:
    body = json.dumps(frame).encode()
    sys.stdout.buffer.write(_HEADER.pack(len(body)) + body)
    sys.stdout.buffer.flush()


def _serve(namespace: str, base: str) -> None:
    """Answer requests until stdin closes. A case gets a verdict frame, sent before the
    engine runs (so a crash is known to be the engine's), then an outcome frame."""
    process = _Process(namespace, base)
    stdin = sys.stdin.buffer
    while header := stdin.read(_HEADER.size):
        request = json.loads(stdin.read(_HEADER.unpack(header)[0]))
        if request["op"] != "case":
            _send({"outcome": process.control(request).__dict__})
            continue
        verdict = process.decide(request)
        run = verdict.rewritten or request["text"]
        held = "" if request["runs"] else "held back"
        if not held and names_other_host(run, process.origin):
            held = "names another host"  # never sent: the fuzzer talks to its listener only
        _send({"verdict": verdict.__dict__, "held": held})
        if verdict.admitted and not held:
            _send({"outcome": process.evaluate(request["kind"], run).__dict__})


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
