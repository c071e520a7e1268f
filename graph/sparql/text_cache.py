"""A small LRU cache for facts about SPARQL texts, bounded in bytes, not in entries.

The lexer's verdicts (what a text is, whether its shape is safe) are asked for again and
again for the same text: by the policy, by the executor, by the store. ``functools.lru_cache``
keyed by the text itself kept up to 4,096 whole texts alive, which under a flood of
megabyte queries is gigabytes. Here the key is a SHA-256 digest of the text (32 bytes
whatever its length; a collision would need a second preimage), each entry is weighed, an
entry heavier than ``max_item_bytes`` is not kept at all, and the least recently used
entries go once the total passes ``max_bytes``.
"""
from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

#: what one entry costs besides its value: the key tuple, the digest, the dict slot
ENTRY_OVERHEAD = 200


def digest(text: str) -> bytes:
    """A fixed-size key standing for ``text``."""
    return digest_bytes(text.encode("utf-8", "surrogatepass"))


def digest_bytes(data: bytes) -> bytes:
    """``digest`` of a text already encoded as UTF-8."""
    return hashlib.sha256(data).digest()


class TextCache(Generic[V]):
    """Thread-safe LRU mapping of small keys to values, bounded by estimated bytes."""

    def __init__(self, max_bytes: int = 4 << 20, max_item_bytes: int = 16 << 10) -> None:
        self.max_bytes = max_bytes
        self.max_item_bytes = max_item_bytes
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: V, weight: int) -> None:
        """Keep ``value`` under ``key`` unless its ``weight`` (bytes) is too large."""
        weight += ENTRY_OVERHEAD
        if weight > self.max_item_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, weight)
            self._bytes += weight
            while self._bytes > self.max_bytes and self._items:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    @property
    def weight(self) -> int:
        """The estimated bytes held (what ``max_bytes`` bounds)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def measured_bytes(self) -> int:
        """Bytes actually held, measured object by object (for tests and diagnostics)."""
        with self._lock:
            items = list(self._items.items())
        total = sys.getsizeof(self._items)
        for key, (value, _) in items:
            total += deep_size(key) + deep_size(value)
        return total


def deep_size(value: object, _seen: set[int] | None = None) -> int:
    """``sys.getsizeof`` summed over containers, dataclass fields and their contents."""
    seen = _seen if _seen is not None else set()
    if id(value) in seen:
        return 0
    seen.add(id(value))
    size = sys.getsizeof(value)
    if isinstance(value, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in value.items())
    elif isinstance(value, (list, tuple, set, frozenset)):
        size += sum(deep_size(item, seen) for item in value)
    elif hasattr(value, "__dataclass_fields__"):
        size += sum(deep_size(getattr(value, name), seen)
                    for name in value.__dataclass_fields__)
    return size
