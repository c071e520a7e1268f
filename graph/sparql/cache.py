"""A result cache in front of any executor.

Analysts repeat themselves: dashboards re-run the same named query, many people open the
same page. An answer is fully determined by the query text, its dataset, the negotiated
format, the row cap and the store's contents, so it is cached under exactly that key —
with ``store.etag`` standing for the contents. Every write changes the etag, so a cached
answer can never outlive the data it came from. Only small answers are kept (bounded
bytes per entry and entries in all); large results stream through untouched.

The remote backend cannot see writes made behind its back, so the service does not cache
for it (see ``graph.service``).
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any

from graph.store.base import Store

from .executor import ExecutedQuery, QueryRequest

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
class _Entry:
    form: str
    format: Any
    body: bytes
    truncated: bool
    rows: int
    size: int = 0


def request_key(request: QueryRequest, etag: str) -> Hashable:
    """Everything that determines an answer's bytes (never the time limit)."""
    bound = (request.substitutions or {}).items()
    substitutions = tuple(sorted((str(k), str(v)) for k, v in bound))
    return (request.text, request.union_default, tuple(request.default_graphs or ()),
            request.default_graphs is None, tuple(request.named_graphs or ()),
            request.named_graphs is None, substitutions, request.base_iri,
            request.result_format.name, request.graph_format.name, request.max_rows, etag)


def request_text(key: Hashable) -> str:
    """The query text inside a ``request_key`` (its first element)."""
    return str(key[0]) if isinstance(key, tuple) else ""


class CachingExecutor:
    """Wraps an executor; answers repeated requests from memory while the store is unchanged."""

    def __init__(self, inner: Any, store: Store, entries: int = 256,
                 max_entry_bytes: int = MAX_ENTRY_BYTES) -> None:
        self.inner, self.store = inner, store
        self.entries, self.max_entry_bytes = entries, max_entry_bytes
        self._cache: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self.hits = self.misses = 0

    @property
    def kind(self) -> str:
        return f"cached {getattr(self.inner, 'kind', 'executor')}"

    def run(self, request: QueryRequest) -> ExecutedQuery:
        if len(request.text) > MAX_KEY_TEXT or not reusable(request.text):
            return self.inner.run(request)
        key = request_key(request, self.store.etag)
        with self._lock:
            entry = self._cache.get(key)
            if entry is not None:
                self._cache.move_to_end(key)
                self.hits += 1
        if entry is not None:
            return ExecutedQuery(entry.form, entry.format, iter([entry.body]), entry.truncated,
                                 entry.rows, {"X-BorderKG-Cache": "hit"})
        self.misses += 1
        executed = self.inner.run(request)
        executed.body = self._recording(key, executed, executed.body)
        return executed

    def _recording(self, key: Hashable, executed: ExecutedQuery,
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
            self._store(key, _Entry(executed.form, executed.format, body, executed.truncated,
                                    executed.rows, len(body) + 2 * len(request_text(key))))

    def _store(self, key: Hashable, entry: _Entry) -> None:
        with self._lock:
            replaced = self._cache.pop(key, None)
            self._bytes += entry.size - (replaced.size if replaced else 0)
            self._cache[key] = entry
            while len(self._cache) > self.entries or self._bytes > MAX_TOTAL_BYTES:
                _, evicted = self._cache.popitem(last=False)
                self._bytes -= evicted.size

    @property
    def bytes(self) -> int:
        """What the entries hold, keys included (bounded by ``MAX_TOTAL_BYTES``)."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._bytes = 0

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if close:
            close()
