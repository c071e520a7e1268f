"""Whole HTTP answers to repeated SPARQL GETs, served without entering Flask.

Analysts repeat themselves (dashboards, shared links, the same named query reloaded),
and for a cheap query the Python web stack costs several times what the query does: in
process, Flask, Werkzeug and the checks before execution take ~0.5 ms of a point-lookup
request whose query and serialisation take ~0.06 ms. A repeated GET of ``/sparql`` whose
answer is already known is therefore answered by :class:`server.rsgi.RSGIAdapter` from
here, on granian's event loop, with the exact bytes and headers the app sent the first
time.

Never stale: the answers live in a :class:`graph.caching.EtagCache` (the service's
``caches.responses``), each kept under the store's ``etag`` read *before* the app computed
it and served only while the store still has that etag. A write moves the etag, so every
entry dies with it; a write racing the first computation leaves its answer tagged with
the older etag, never to be kept. The remote backend cannot see writes made behind its
back, so there is no cache for it (the service gives it no result cache either).

What is kept: GET and HEAD of ``/sparql`` with a query string and no conditional,
credential or cookie header; answers that are 200, whole and at most ``MAX_ENTRY_BYTES``;
queries without functions whose value changes per call (``RAND``, ``NOW``, ``UUID``...).
The key is everything else that shapes the answer: method, query string, Accept, Host (the
base IRI and service description come from it) and Origin (CORS headers).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from graph.caching import EtagCache
from graph.service import RESPONSE_ENTRY_BYTES, RESPONSE_TOTAL_BYTES
from graph.sparql.cache import reusable

MAX_ENTRY_BYTES = RESPONSE_ENTRY_BYTES
#: all bodies together: entries x MAX_ENTRY_BYTES could otherwise reach a gigabyte
MAX_TOTAL_BYTES = RESPONSE_TOTAL_BYTES
PATH = "/sparql"
#: request headers whose presence sends a request past the cache, to the app
BYPASS_HEADERS = ("if-none-match", "if-modified-since", "authorization", "cookie", "range")


@dataclass(frozen=True)
class CachedAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class ResponseCache:
    """An LRU of whole answers, valid while ``etag()`` returns what it did when they were made.

    The answers are kept in ``answers``: the service's ``caches.responses``, or a cache of
    its own from :meth:`bounded`.
    """

    def __init__(self, answers: EtagCache[CachedAnswer]) -> None:
        self.answers = answers

    @classmethod
    def bounded(cls, etag: Callable[[], str], entries: int) -> ResponseCache:
        """A response cache over ``etag`` with ``entries`` answers of its own, bounded as
        the service's (``MAX_ENTRY_BYTES`` each, ``MAX_TOTAL_BYTES`` of bodies in all)."""
        return cls(EtagCache(etag, entries, max_bytes=MAX_TOTAL_BYTES,
                             max_entry_bytes=MAX_ENTRY_BYTES))

    def etag(self) -> str:
        """The store's etag now: read it before the app computes an answer to ``put``."""
        return self.answers.etag()

    @staticmethod
    def key(scope: Any) -> Hashable | None:
        """The cache key of a request, or None when it must go to the app."""
        if scope.path != PATH or scope.method not in ("GET", "HEAD") or not scope.query_string:
            return None
        headers = scope.headers
        for name in BYPASS_HEADERS:
            if name in headers:
                return None
        return (scope.method, scope.query_string, headers.get("accept"),
                headers.get("host"), headers.get("origin"))

    def get(self, key: Hashable) -> CachedAnswer | None:
        return self.answers.get(key)

    def put(self, key: Hashable, etag: str, query_string: str, status: int,
            headers: list[tuple[str, str]], body: bytes) -> None:
        """Keep an answer the app gave, if it may be repeated (see the module docstring)."""
        if status != 200 or len(body) > MAX_ENTRY_BYTES:
            return
        if not reusable(unquote_plus(query_string)):
            return
        marked = [(k, v) for k, v in headers if k.lower() != "x-borderkg-cache"]
        answer = CachedAnswer(status, [*marked, ("X-BorderKG-Cache", "hit")], body)
        self.answers.put(key, answer, etag, size=len(body))
