"""Who may hold the query workers, and which kind of worker a query gets.

Two small executor wrappers, between the result cache and the worker pools:

* ``ClientGate`` bounds how many queries one client (by address) evaluates at once, and
  how many queries all clients together may have evaluating or waiting: a waiting query
  holds a request thread, and some threads must stay free for pages and ``/healthz``
  (beyond that bound: 503 at once, with ``Retry-After``). The
  pools are small (a worker per core); without a bound, one client sending a few runaway
  queries holds every worker until their time limit, and everyone else waits. Beyond its
  share a client's request waits for one of its own queries to finish, within a short
  wait (``QUEUE_SECONDS``, never past its own time limit), then is answered 429 with
  ``Retry-After``: its own load slows only itself.
* ``NetworkRouter`` sends a query to a worker that may open sockets only when the policy
  allowed every SERVICE call in it (``QueryRequest.network``); every other query goes to
  the sandboxed pool, where no socket can be opened at all.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from graph.errors import ServiceUnavailable, TooManyRequests

from .executor import ExecutedQuery, Executor, QueryRequest

#: longest a request waits for its own client's earlier queries before a 429
QUEUE_SECONDS = 2.0


class ClientLimiter:
    """At most ``per_client`` slots per client, and ``total`` for all clients together.

    ``enter`` waits up to ``wait`` seconds for one of the client's own slots (429 after);
    when every slot of the service is taken it answers 503 at once: a waiting request
    holds a request thread, and some threads must stay free for pages and ``/healthz``.
    """

    def __init__(self, per_client: int, total: int | None = None, what: str = "queries") -> None:
        self.per_client = max(1, int(per_client))
        self.total = total
        self.what = what
        self._held: Counter[str] = Counter()
        self._cond = threading.Condition()

    def enter(self, client: str, wait: float) -> None:
        until = time.monotonic() + wait
        with self._cond:
            if self.total is not None and sum(self._held.values()) >= self.total:
                raise ServiceUnavailable(
                    f"the service is busy: {self.total} {self.what} are running or waiting; "
                    "try again shortly", retry_after=1, limit=self.total)
            while self._held[client] >= self.per_client:
                remaining = until - time.monotonic()
                if remaining <= 0:
                    raise TooManyRequests(
                        f"this client already has {self.per_client} {self.what} running; "
                        "wait for them to finish before sending more", retry_after=1,
                        limit=self.per_client)
                self._cond.wait(remaining)
            self._held[client] += 1

    def leave(self, client: str) -> None:
        with self._cond:
            self._held[client] -= 1
            if self._held[client] <= 0:
                del self._held[client]
            self._cond.notify_all()

    @contextmanager
    def hold(self, client: str | None, wait: float = QUEUE_SECONDS) -> Iterator[None]:
        """A slot for ``client`` while the block runs (none needed when it is unknown)."""
        if client is None:
            yield
            return
        self.enter(client, wait)
        try:
            yield
        finally:
            self.leave(client)


class ClientGate:
    """An executor wrapper: at most ``per_client`` queries of one client evaluate at once
    (see :class:`ClientLimiter`)."""

    def __init__(self, inner: Executor, per_client: int, total: int | None = None) -> None:
        self.inner = inner
        self.limiter = ClientLimiter(per_client, total)

    @property
    def kind(self) -> str:
        return getattr(self.inner, "kind", "executor")

    def run(self, request: QueryRequest) -> ExecutedQuery:
        began = time.monotonic()
        with self.limiter.hold(request.client, min(QUEUE_SECONDS, request.timeout)):
            waited = time.monotonic() - began
            if waited > 0.001:
                request = _with_timeout(request, max(request.timeout - waited, 0.001))
            return self.inner.run(request)

    def close(self) -> None:
        _close(self.inner)


class NetworkRouter:
    """Sandboxed workers for every query; networked ones, made on first need, for
    queries whose SERVICE calls the policy allowed."""

    def __init__(self, sandboxed: Executor, networked: Callable[[], Executor]) -> None:
        self.sandboxed = sandboxed
        self._make_networked = networked
        self._networked: Executor | None = None
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return getattr(self.sandboxed, "kind", "executor")

    def run(self, request: QueryRequest) -> ExecutedQuery:
        if not request.network:
            return self.sandboxed.run(request)
        with self._lock:
            if self._networked is None:
                self._networked = self._make_networked()
        return self._networked.run(request)

    def close(self) -> None:
        _close(self.sandboxed)
        if self._networked is not None:
            _close(self._networked)


def _with_timeout(request: QueryRequest, timeout: float) -> QueryRequest:
    return replace(request, timeout=timeout)


def _close(executor: Any) -> None:
    close = getattr(executor, "close", None)
    if close:
        close()
