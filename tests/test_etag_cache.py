"""The one etag-keyed cache (graph.caching.EtagCache) and the caches the service holds:
bounded in entries and in bytes, never serving an entry older than the store's contents,
not even when a write races the computation."""
from __future__ import annotations

import functools
import threading
from typing import Any

from graph.caching import EtagCache
from graph.documents.description import service_description, void_description
from graph.service import RESPONSE_ENTRY_BYTES, Caches, Service
from graph.settings import load_settings
from graph.sparql.cache import CachingExecutor
from graph.sparql.executor import InProcessExecutor
from graph.store.oxigraph import OxigraphStore
from server.response_cache import ResponseCache

BASE = "http://service.test/"


def write(store: OxigraphStore, n: int = 0) -> None:
    store.update(f"INSERT DATA {{ <http://s{n}> <http://p> {n} }}")


def kept(cache: EtagCache[Any], keys: range) -> list[int]:
    return [k for k in keys if k in cache]


def test_bounded_in_entries_least_recently_used_first() -> None:
    cache: EtagCache[str] = EtagCache.for_store(OxigraphStore(), entries=3)
    etag = cache.etag()
    for k in range(3):
        assert cache.put(k, f"v{k}", etag)
    assert cache.get(0) == "v0"  # now the most recently used
    cache.put(3, "v3", etag)
    assert kept(cache, range(4)) == [0, 2, 3] and len(cache) == 3


def test_bounded_in_bytes_and_replacing_keeps_the_count() -> None:
    cache: EtagCache[Any] = EtagCache.for_store(OxigraphStore(), entries=100, max_bytes=1_000)
    etag = cache.etag()
    for k in range(25):
        cache.put(k, b"x" * 100, etag)  # sized by its length
    assert kept(cache, range(25)) == list(range(15, 25)) and cache.bytes == 1_000
    for _ in range(5):
        cache.put(24, b"y" * 50, etag)  # the same key again: its own bytes, not five times
    assert cache.bytes == 950 and 15 in cache
    cache.put("given", [1, 2, 3], etag, size=300)  # a size given, not computed
    assert cache.bytes <= 1_000 and "given" in cache and 15 not in cache


def test_an_entry_over_the_limit_is_not_kept() -> None:
    cache: EtagCache[bytes] = EtagCache.for_store(OxigraphStore(), entries=10, max_bytes=1_000,
                                                  max_entry_bytes=100)
    etag = cache.etag()
    assert cache.put("small", b"x" * 100, etag)
    assert not cache.put("big", b"x" * 101, etag)
    built = cache.get_or_build("built", lambda: b"x" * 500)
    assert built == b"x" * 500 and "built" not in cache
    assert "small" in cache and cache.bytes == 100
    whole: EtagCache[bytes] = EtagCache.for_store(OxigraphStore(), entries=10, max_bytes=1_000)
    assert not whole.put("more than all", b"x" * 1_001, whole.etag())


def test_a_write_makes_every_entry_stale_and_frees_it() -> None:
    store = OxigraphStore()
    write(store, 1)
    cache: EtagCache[int] = EtagCache.for_store(store, entries=10, max_bytes=10_000)
    assert cache.get_or_build("count", store.count) == 1
    assert cache.get_or_build("count", lambda: -1) == 1  # a hit: not built again
    write(store, 2)
    assert "count" not in cache and cache.get("count") is None
    assert len(cache) == 0 and cache.bytes == 0  # dropped on seeing the new etag
    assert cache.get_or_build("count", store.count) == 2
    assert (cache.hits, cache.misses) == (1, 3)


def test_a_value_made_before_a_write_is_never_kept() -> None:
    store = OxigraphStore()
    cache: EtagCache[int] = EtagCache.for_store(store, entries=10)
    before = cache.etag()
    old = store.count()
    write(store)
    assert not cache.put("count", old, before)
    assert cache.get_or_build("count", store.count) == 1


def test_a_write_racing_a_build_leaves_nothing_stale() -> None:
    store = OxigraphStore()
    cache: EtagCache[int] = EtagCache.for_store(store, entries=10)
    counting, written = threading.Event(), threading.Event()

    def slow_count() -> int:
        found = store.count()  # read before the write lands...
        counting.set()
        assert written.wait(10)
        return found  # ...and handed back after it

    got: list[int] = []
    builder = threading.Thread(target=lambda: got.append(cache.get_or_build("n", slow_count)))
    builder.start()
    assert counting.wait(10)
    write(store)
    written.set()
    builder.join(10)
    assert got == [0]  # the caller gets what it computed
    assert "n" not in cache and cache.get_or_build("n", store.count) == 1


def test_the_caller_may_give_the_etag_it_read_first() -> None:
    store = OxigraphStore()
    cache: EtagCache[str] = EtagCache.for_store(store, entries=10)
    etag = store.etag
    write(store)  # between the caller's read and the build
    assert cache.get_or_build("state", lambda: "after", etag=etag) == "after"
    assert "state" not in cache


def test_clear_forgets_entries_and_keeps_the_counts() -> None:
    cache: EtagCache[str] = EtagCache.for_store(OxigraphStore(), entries=10, max_bytes=100)
    cache.get_or_build("a", lambda: "aaaa")
    cache.get("a")
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0 and (cache.hits, cache.misses) == (1, 1)
    none: EtagCache[str] = EtagCache.for_store(OxigraphStore(), entries=0)
    assert none.put("a", "a", none.etag()) is False


def test_threads_keep_the_bounds() -> None:
    store = OxigraphStore()
    cache: EtagCache[bytes] = EtagCache.for_store(store, entries=20, max_bytes=2_000)

    def work(seed: int) -> None:
        for i in range(300):
            key = (seed * 7 + i) % 50
            cache.get_or_build(key, functools.partial(bytes, key * 3))
            if seed == 0 and i % 50 == 0:
                write(store, i)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(cache) <= 20 and cache.bytes <= 2_000
    assert cache.bytes == sum(entry.size for entry in cache._entries.values())


# -- the service's caches ----------------------------------------------------------------

def service_over(store: OxigraphStore, **settings: Any) -> Service:
    resolved = load_settings({"store": "memory", **settings}, environ={})
    executor = CachingExecutor(InProcessExecutor(store), store, resolved.result_cache_size)
    return Service(resolved, store, executor)


def test_the_service_holds_one_cache_per_use_sized_from_settings() -> None:
    store = OxigraphStore()
    service = service_over(store, result_cache_size=7)
    caches = service.caches
    assert caches.results is service.executor.cache and service.caches_results
    assert caches.responses is not None and caches.responses.entries == 7
    assert caches.responses.max_entry_bytes == RESPONSE_ENTRY_BYTES
    assert len({id(c) for c in (caches.results, caches.responses, caches.descriptions,
                                caches.projections, caches.seed, caches.observations)}) == 6
    answers = ResponseCache(caches.responses)
    answers.put(("GET", "q"), answers.etag(), "query=ASK+{}", 200, [], b"true")
    assert answers.get(("GET", "q")) == caches.responses.get(("GET", "q")) is not None
    caches.clear()
    assert answers.get(("GET", "q")) is None


def test_no_result_or_response_cache_without_a_caching_executor() -> None:
    store = OxigraphStore()
    service = Service(load_settings({"store": "memory"}, environ={}), store,
                      InProcessExecutor(store))
    assert service.caches.results is None and service.caches.responses is None
    assert not service.caches_results
    assert isinstance(Caches.for_store(service.settings, store).projections, EtagCache)


def test_descriptions_are_kept_in_the_cache_given_and_only_there() -> None:
    store = OxigraphStore()
    write(store, 1)
    cache = service_over(store).caches.descriptions
    first = service_description(store, BASE, True, cache=cache)
    assert service_description(store, BASE, True, cache=cache) is first
    assert service_description(store, BASE, False, cache=cache) is not first
    assert void_description(store, BASE) is not void_description(store, BASE)  # no cache
    void = void_description(store, BASE, cache=cache)
    assert void_description(store, BASE, cache=cache) is void
    write(store, 2)
    again = void_description(store, BASE, cache=cache)
    assert again is not void and again != void  # the triple count moved with the write


def test_the_app_uses_the_service_caches(client: Any) -> None:
    service = client.application.extensions["borderkg"]
    caches = service.caches
    for _ in range(2):
        assert client.get("/healthz").status_code == 200
        assert client.get("/.well-known/void").status_code == 200
        assert client.get("/analyses/components").status_code == 200
    assert caches.seed.hits >= 1 and len(caches.seed) == 1
    assert caches.descriptions.hits >= 1 and caches.projections.hits >= 1
