"""Killable, sandboxed evaluation over a store held in this process's memory.

The memory store cannot be handed to another process, and evaluating in the request
thread can neither be stopped (the engine has no cancellation) nor kept off the network
(the engine makes ``SERVICE`` calls itself). So queries run in *forked* children: a
child sees the store as it was at the fork, copy-on-write, without a second copy; it
installs the no-network filter (``graph.sparql.sandbox``) before its first query; a query past
its limit is ended by killing the child; a child that crashes costs one request.

Children live as long as the store's version they were forked at: each serves many
queries over a pipe. After a write the next query forks a fresh child, so a client
always reads its own writes, and old children are ended as they come back idle. A fork
happens while the store's write lock is held, so no write is ever half-applied in a
child's copy.

Parent (holds the store)                        Child (forked at version v)
  no idle child of the current version:           close inherited sockets, deny network
    fork one (under the write lock)
  send ("query", None, payload)              ->   evaluate, cap rows, serialise
  receive header + chunks until the deadline <-   ("header", ...), ("chunk", b), ("end",)
  past the deadline: SIGKILL, 503
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import Any

from graph.errors import BorderKGError, QueryTimeout, ServiceUnavailable
from graph.store.base import Store

from .executor import (
    WORKER_GRACE_SECONDS,
    Deadline,
    ExecutedQuery,
    QueryRequest,
    _evaluate,
    _payload,
    _Reported,
    _watchdog,
    _WorkerState,
    collect_answer,
    receive_before,
)
from .policy import check_shape
from .sandbox import close_inherited_fds, deny_network

log = logging.getLogger("borderkg.executor")


class _ForkedWorker:
    """One child forked from this process at one store version, and its pipe."""

    def __init__(self, store: Store, sandbox: bool) -> None:
        self.conn, child = multiprocessing.Pipe()
        with store.write_lock:  # no write is half-applied in the child's copy
            self.version = store.version
            pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            _child_main(child, self.conn, store, sandbox)
        child.close()
        self.pid = pid
        self.dead = False

    def idle_and_alive(self) -> bool:
        """An idle child never writes: a readable pipe means it died."""
        try:
            return not self.dead and not self.conn.poll(0) and \
                os.waitpid(self.pid, os.WNOHANG) == (0, 0)
        except (OSError, EOFError):
            return False

    def kill(self) -> None:
        if not self.dead:
            self.dead = True
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
        self.conn.close()


def _child_main(conn: Any, parent_end: Any, store: Store, sandbox: bool) -> None:
    """The child's life: drop what it inherited, close the network, answer queries."""
    status = 0
    try:
        parent_end.close()  # closed properly, so no later clean-up closes a reused number
        close_inherited_fds({conn.fileno()})
        if sandbox:
            deny_network()
        state = _WorkerState()
        threading.Thread(target=_watchdog, args=(os.getppid(), state), daemon=True).start()
        _serve(conn, store, state)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent went away or ended this child
    except BaseException:  # noqa: BLE001 - nothing may escape into the parent's code
        status = 1
    finally:
        os._exit(status)


def _serve(conn: Any, store: Store, state: _WorkerState) -> None:
    while True:
        _, _, payload = conn.recv()
        state.must_end = time.monotonic() + payload["timeout"] + WORKER_GRACE_SECONDS
        try:
            _evaluate(conn, store, payload)  # type: ignore[arg-type]
        except BorderKGError as exc:
            conn.send(("error", type(exc).__name__, exc.message, exc.details))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, raised there
            conn.send(("crash", f"{type(exc).__name__}: {exc}"))
        state.must_end = None


class ForkPoolExecutor:
    """Evaluate queries in forked, sandboxed, killable children of this process.

    At most ``workers`` children evaluate at once; a request waits (within its own time
    limit) for one to be free. ``sandbox=False`` is for queries whose every SERVICE call
    the policy allowed: only they may open sockets.
    """

    kind = "fork-pool"

    def __init__(self, store: Store, workers: int = 2, sandbox: bool = True) -> None:
        self.store = store
        self.size = max(1, int(workers))
        self.sandbox = sandbox
        self._cond = threading.Condition()
        self._idle: list[_ForkedWorker] = []
        self._count = 0
        self._closed = False
        self.timeouts = self.restarts = 0

    def run(self, request: QueryRequest) -> ExecutedQuery:
        deadline = Deadline(request.timeout)
        check_shape(request.text)
        worker = self._acquire(deadline)
        clean = False
        try:
            executed = self._exchange(worker, request, deadline)
            clean = True
            return executed
        except _Reported as reported:
            clean = True
            raise reported.error from None
        finally:
            self._release(worker, clean)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()

    # -- children ------------------------------------------------------------------------
    def _acquire(self, deadline: Deadline) -> _ForkedWorker:
        stale: list[_ForkedWorker] = []
        try:
            with self._cond:
                while True:
                    version = self.store.version
                    for worker in list(self._idle):
                        if worker.version != version or not worker.idle_and_alive():
                            self._idle.remove(worker)
                            self._count -= 1
                            stale.append(worker)
                    if self._idle:
                        return self._idle.pop()
                    if self._count < self.size:
                        self._count += 1
                        break
                    remaining = deadline.at - time.monotonic()
                    if remaining <= 0:
                        raise QueryTimeout(
                            f"no query worker became free within the time limit of "
                            f"{deadline.seconds:.3g} s; the service is busy",
                            limit_seconds=deadline.seconds)
                    self._cond.wait(remaining)
        finally:
            for worker in stale:
                worker.kill()
        return self._fork()

    def _fork(self) -> _ForkedWorker:
        try:
            worker = _ForkedWorker(self.store, self.sandbox)
        except OSError as exc:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise ServiceUnavailable(f"cannot start a query worker: {exc}") from None
        return worker

    def _release(self, worker: _ForkedWorker, clean: bool) -> None:
        with self._cond:
            keep = clean and not self._closed and worker.version == self.store.version
            if keep:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._cond.notify()
        if not keep:
            if not clean:
                self.restarts += 1
            worker.kill()

    # -- one query -----------------------------------------------------------------------
    def _exchange(self, worker: _ForkedWorker, request: QueryRequest,
                  deadline: Deadline) -> ExecutedQuery:
        try:
            worker.conn.send(("query", None, _payload(request)))
        except (BrokenPipeError, ConnectionResetError, OSError):
            raise _died(worker) from None
        return collect_answer(lambda: self._receive(worker, deadline), request)

    def _timed_out(self) -> None:
        self.timeouts += 1

    def _receive(self, worker: _ForkedWorker, deadline: Deadline) -> tuple[Any, ...]:
        try:
            message = receive_before(worker.conn, deadline, self._timed_out)
        except (EOFError, ConnectionResetError, OSError):
            raise _died(worker) from None
        if message[0] == "crash":
            raise _Reported(ServiceUnavailable(f"the query failed in its worker: {message[1]}"))
        return message


def _died(worker: _ForkedWorker) -> ServiceUnavailable:
    """The error for a request whose child died under it (a crash, or killed)."""
    status = "unknown"
    try:
        pid, raw = os.waitpid(worker.pid, 0)
        worker.dead = True
        if pid and os.WIFSIGNALED(raw):
            status = f"killed by {signal.Signals(os.WTERMSIG(raw)).name}"
        elif pid:
            status = f"exit status {os.waitstatus_to_exitcode(raw)}"
    except ChildProcessError:
        pass
    log.warning("query worker %d died (%s)", worker.pid, status)
    return ServiceUnavailable(f"the query engine process stopped while evaluating this "
                              f"query ({status}); this request failed, the service goes on; "
                              "if it happens again for this query, simplify it")
