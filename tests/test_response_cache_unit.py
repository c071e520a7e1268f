"""The response cache's bookkeeping, without a server: bounded by entries and by bytes,
and valid only while the store's etag is unchanged."""
from __future__ import annotations

from typing import Any

from server import response_cache
from server.response_cache import ResponseCache


def fill(cache: ResponseCache, count: int, size: int, etag: str = "e1") -> None:
    for i in range(count):
        cache.put(("GET", f"query=q{i}"), etag, f"query=q{i}", 200, [], b"x" * size)


def test_bounded_by_entries_and_bytes(monkeypatch: Any) -> None:
    monkeypatch.setattr(response_cache, "MAX_TOTAL_BYTES", 10_000)
    cache = ResponseCache.bounded(lambda: "e1", entries=100)
    fill(cache, 50, 1_000)  # 50 kB offered, 10 kB allowed
    kept = [i for i in range(50) if cache.get(("GET", f"query=q{i}")) is not None]
    assert kept == list(range(40, 50))  # the most recent ten
    small = ResponseCache.bounded(lambda: "e1", entries=3)
    fill(small, 5, 10)
    assert [i for i in range(5) if small.get(("GET", f"query=q{i}"))] == [2, 3, 4]


def test_replacing_an_entry_keeps_the_byte_count(monkeypatch: Any) -> None:
    monkeypatch.setattr(response_cache, "MAX_TOTAL_BYTES", 3_000)
    cache = ResponseCache.bounded(lambda: "e1", entries=100)
    for _ in range(10):  # the same key again and again: one entry's bytes, not ten
        fill(cache, 1, 1_000)
    fill(cache, 3, 900)
    assert cache.get(("GET", "query=q0")) is not None


def test_a_new_etag_hides_every_entry() -> None:
    etag = ["e1"]
    cache = ResponseCache.bounded(lambda: etag[0], entries=10)
    fill(cache, 3, 10)
    assert cache.get(("GET", "query=q1")) is not None
    etag[0] = "e2"
    assert all(cache.get(("GET", f"query=q{i}")) is None for i in range(3))


def test_volatile_and_failed_answers_are_not_kept() -> None:
    cache = ResponseCache.bounded(lambda: "e1", entries=10)
    cache.put(("GET", "a"), "e1", "query=SELECT+(RAND()+AS+%3Fr)+{}", 200, [], b"1")
    cache.put(("GET", "b"), "e1", "query=ASK+{}", 400, [], b"bad")
    too_big = b"x" * (response_cache.MAX_ENTRY_BYTES + 1)
    cache.put(("GET", "c"), "e1", "query=ASK+{}", 200, [], too_big)
    assert cache.get(("GET", "a")) is None and cache.get(("GET", "b")) is None
    assert cache.get(("GET", "c")) is None
