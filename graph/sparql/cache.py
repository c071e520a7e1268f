"""A result cache in front of any executor.

Analysts repeat themselves: dashboards re-run the same named query, many people open the
same page. An answer is fully determined by the query text, its dataset, the negotiated
format, the row cap and the store's contents, so it is cached under exactly that key —
with ``store.etag`` standing for the contents: entries live in a
:class:`graph.caching.EtagCache`, tagged with the etag read before the query ran, so a
cached answer can never outlive the data it came from. Only small answers are kept
(bounded bytes per entry, and entries and bytes in all); large results stream through
untouched.

The remote backend cannot see writes made behind its back, so the service does not cache
for it (see ``graph.service``).
"""
from __future__ import annotations

import re
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from graph.caching import EtagCache
from graph.store.base import Store

from .executor import ExecutedQuery, Executor, QueryRequest

#: most bytes of one answer's body kept
MAX_ENTRY_BYTES = 1 << 20
#: all entries together, keys (query texts) included
MAX_TOTAL_BYTES = 64 << 20
#: longer query texts are never kept as keys (they would dominate the byte budget)
MAX_KEY_TEXT = 64 << 10
#: functions whose value changes from call to call: a query using one is never reused
#: (matched on the raw text, so a mention in a comment or literal also disables reuse)
VOLATILE = re.compile(r"\b(RAND|NOW|UUID|STRUUID|BNODE)\s*\(", re.IGNORECASE)


def reusable(text: str) -> bool:
    """Whether an answer to ``text`` may be given again while the data is unchanged."""
    return VOLATILE.search(text) is None


@dataclass(frozen=True)
class CachedResult:
    """A whole answer, as the executor gave it."""

    form: str
    format: Any
    body: bytes
    truncated: bool
    rows: int


def request_key(request: QueryRequest) -> Hashable:
    """Everything that determines an answer's bytes besides the store's contents (never
    the time limit)."""
    bound = (request.substitutions or {}).items()
    substitutions = tuple(sorted((str(k), str(v)) for k, v in bound))
    return (request.text, request.union_default, tuple(request.default_graphs or ()),
            request.default_graphs is None, tuple(request.named_graphs or ()),
            request.named_graphs is None, substitutions, request.base_iri,
            request.result_format.name, request.graph_format.name, request.max_rows)


def request_text(key: Hashable) -> str:
    """The query text inside a ``request_key`` (its first element)."""
    return str(key[0]) if isinstance(key, tuple) else ""


def result_cache(store: Store, entries: int,
                 max_entry_bytes: int = MAX_ENTRY_BYTES) -> EtagCache[CachedResult]:
    """A cache of ``entries`` answers over ``store``'s etag, ``MAX_TOTAL_BYTES`` in all.

    An entry counts its body and twice the query text of its key. ``max_entry_bytes``
    bounds the body (the executor stops collecting it past that, while it streams), so
    the cache's own per-entry limit leaves room for the text on top."""
    return EtagCache.for_store(store, entries, max_bytes=MAX_TOTAL_BYTES,
                               max_entry_bytes=max_entry_bytes + 2 * MAX_KEY_TEXT)


class CachingExecutor:
    """Wraps an executor; answers repeated requests from memory while the store is unchanged.

    The answers live in ``cache`` (by default a :func:`result_cache` of ``entries``); the
    service holds it as ``caches.results``.
    """

    def __init__(self, inner: Executor, store: Store, entries: int = 256,
                 max_entry_bytes: int = MAX_ENTRY_BYTES,
                 cache: EtagCache[CachedResult] | None = None) -> None:
        self.inner, self.store = inner, store
        self.max_entry_bytes = max_entry_bytes
        self.cache = cache if cache is not None else result_cache(store, entries,
                                                                  max_entry_bytes)

    @property
    def kind(self) -> str:
        return f"cached {getattr(self.inner, 'kind', 'executor')}"

    @property
    def hits(self) -> int:
        return self.cache.hits

    @property
    def misses(self) -> int:
        return self.cache.misses

    def run(self, request: QueryRequest) -> ExecutedQuery:
        if len(request.text) > MAX_KEY_TEXT or not reusable(request.text):
            return self.inner.run(request)
        key = request_key(request)
        etag = self.cache.etag()  # before the query runs: a racing write leaves it dead
        entry = self.cache.get(key)
        if entry is not None:
            return ExecutedQuery(entry.form, entry.format, iter([entry.body]), entry.truncated,
                                 entry.rows, {"X-BorderKG-Cache": "hit"})
        executed = self.inner.run(request)
        executed.body = self._recording(key, etag, executed, executed.body)
        return executed

    def _recording(self, key: Hashable, etag: str, executed: ExecutedQuery,
                   source: Iterator[bytes]) -> Iterator[bytes]:
        """Pass chunks through; remember the whole body if it completes and is small."""
        chunks: list[bytes] | None = []
        size = 0
        for chunk in source:
            if chunks is not None:
                size += len(chunk)
                if size <= self.max_entry_bytes:
                    chunks.append(chunk)
                else:
                    chunks = None
            yield chunk
        if chunks is not None:
            body = b"".join(chunks)
            entry = CachedResult(executed.form, executed.format, body, executed.truncated,
                           executed.rows)
            self.cache.put(key, entry, etag, size=len(body) + 2 * len(request_text(key)))

    @property
    def bytes(self) -> int:
        """What the entries hold, keys included (bounded by ``MAX_TOTAL_BYTES``)."""
        return self.cache.bytes

    def clear(self) -> None:
        self.cache.clear()

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()
