"""One cache for whatever is computed from the store's contents: valid while its etag holds.

Answers, whole HTTP responses, descriptions, projections: each is determined by its
arguments and the store's contents, and the store's ``etag`` stands for the contents
(every write moves it, and so does every restart). An :class:`EtagCache` keeps each
entry with the etag read *before* the entry was computed and gives it back only while
the store still has that etag, so a write can never be followed by a stale answer: a
write that races a computation leaves its result tagged with the older etag, and it is
never kept. Etags only move forward, so the first call that sees a new one drops every
entry made under an older one.

Bounded twice, least recently used first out: in entries, and in bytes, each entry
counting the size its ``put`` gives (or the cache's ``sizer`` computes). An entry bigger
than the per-entry limit is not kept at all. Thread-safe; the value itself is shared
between callers, so it must not be changed by them.

The service holds one per use (``graph.service.Caches``); functions below the service
that cache take one as an optional argument and compute without caching when given none.
"""
from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

V = TypeVar("V")
D = TypeVar("D")

#: an entry's size in bytes, or how to compute it from the value
Size = int | Callable[[Any], int] | None


def byte_size(value: Any) -> int:
    """The default size of an entry: the length of bytes or text, else ``sys.getsizeof``
    (shallow: give a size to a cache of containers whose bytes are bounded)."""
    if isinstance(value, (bytes, bytearray, str)):
        return len(value)
    if isinstance(value, memoryview):
        return value.nbytes
    return sys.getsizeof(value)


@dataclass(frozen=True)
class _Entry(Generic[V]):
    etag: str
    value: V
    size: int


_MISSING: Any = object()


class EtagCache(Generic[V]):
    """An LRU of values valid while ``etag()`` returns what it did before they were made.

    ``entries``: most entries kept (0 keeps none). ``max_bytes``: most bytes all entries
    together may count (None: bounded in entries only; sizes are then not computed).
    ``max_entry_bytes``: an entry counting more is not kept (None: ``max_bytes``).

    Examples
    --------
    >>> from graph.store.oxigraph import OxigraphStore
    >>> store = OxigraphStore()
    >>> cache = EtagCache.for_store(store, entries=8, max_bytes=1000)
    >>> cache.get_or_build("count", lambda: store.count())
    0
    >>> cache.get("count"), cache.hits, cache.misses
    (0, 1, 1)
    >>> store.update("INSERT DATA { <http://a> <http://b> <http://c> }")
    >>> cache.get("count") is None  # the write moved the etag
    True
    >>> cache.put("big", b"x" * 1001, cache.etag())  # more than the limit: not kept
    False
    """

    def __init__(self, etag: Callable[[], str], entries: int, max_bytes: int | None = None,
                 max_entry_bytes: int | None = None,
                 sizer: Callable[[V], int] = byte_size) -> None:
        self._etag = etag
        self.entries = entries
        self.max_bytes = max_bytes
        limits = [n for n in (max_bytes, max_entry_bytes) if n is not None]
        self.max_entry_bytes: int | None = min(limits) if limits else None
        self.sizer = sizer
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()
        self._lock = threading.Lock()
        self._seen = ""  # the newest etag seen: entries under any other are dead
        self._bytes = 0
        self.hits = self.misses = 0

    @classmethod
    def for_store(cls, store: Any, entries: int, max_bytes: int | None = None,
                  max_entry_bytes: int | None = None,
                  sizer: Callable[[V], int] = byte_size) -> EtagCache[V]:
        """A cache over ``store``'s etag (anything with an ``etag`` attribute)."""
        return cls(lambda: store.etag, entries, max_bytes, max_entry_bytes, sizer)

    def etag(self) -> str:
        """The store's etag now. Read it *before* computing a value to ``put``."""
        return self._etag()

    @overload
    def get(self, key: Hashable) -> V | None: ...

    @overload
    def get(self, key: Hashable, default: D) -> V | D: ...

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value kept under ``key`` for the current etag, else ``default``."""
        etag = self._etag()
        with self._lock:
            self._follow(etag)
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return default
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value

    def put(self, key: Hashable, value: V, etag: str, size: Size = None) -> bool:
        """Keep ``value``, computed after ``etag`` was read; whether it was kept.

        Not kept when the store has moved on since ``etag`` (the value may predate a
        write), when it counts more than the per-entry limit, or when ``entries`` is 0.
        ``size`` is its size in bytes, or a function of the value (default: ``sizer``).
        """
        if self.entries <= 0:
            return False
        counted = self._size(value, size)
        if self.max_entry_bytes is not None and counted > self.max_entry_bytes:
            return False
        current = self._etag()
        with self._lock:
            self._follow(current)
            if etag != current:
                return False
            self._discard(key)
            self._entries[key] = _Entry(etag, value, counted)
            self._bytes += counted
            while len(self._entries) > self.entries or (
                    self.max_bytes is not None and self._bytes > self.max_bytes):
                self._discard(next(iter(self._entries)))
            return True

    def get_or_build(self, key: Hashable, build: Callable[[], V], size: Size = None,
                     etag: str | None = None) -> V:
        """The value under ``key``, or ``build()``'s, kept under the etag read before the
        build (or ``etag``, when the caller read it earlier): a write racing the build
        leaves nothing behind that could be served after it."""
        before = self._etag() if etag is None else etag
        found = self.get(key, _MISSING)
        if found is not _MISSING:
            return found
        value = build()
        self.put(key, value, before, size)
        return value

    def clear(self) -> None:
        """Forget every entry (the hit and miss counts stay)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def bytes(self) -> int:
        """What the entries count together (0 when sizes are not computed)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        """Whether ``key`` is held for the current etag (neither a hit nor a miss)."""
        etag = self._etag()
        with self._lock:
            entry = self._entries.get(key)
            return entry is not None and entry.etag == etag

    # -- under the lock ----------------------------------------------------------------
    def _follow(self, etag: str) -> None:
        """On a new etag, drop the entries made under older ones: they can never be
        served again (etags only move forward), and would only hold memory."""
        if etag == self._seen:
            return
        self._seen = etag
        for key in [k for k, e in self._entries.items() if e.etag != etag]:
            self._discard(key)

    def _discard(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def _size(self, value: V, size: Size) -> int:
        if self.max_bytes is None and self.max_entry_bytes is None:
            return 0 if size is None or callable(size) else size
        if size is None:
            return self.sizer(value)
        return size(value) if callable(size) else size
