"""The result cache answers repeats and never serves an answer older than the data."""
from __future__ import annotations

from graph.formats import GRAPH_FORMATS, RESULT_FORMATS, by_name
from graph.sparql.cache import CachingExecutor
from graph.sparql.executor import InProcessExecutor, QueryRequest
from graph.store.oxigraph import OxigraphStore

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def request(text: str = COUNT, fmt: str = "json", max_rows: int = 100) -> QueryRequest:
    return QueryRequest(text, by_name(RESULT_FORMATS, fmt), GRAPH_FORMATS[0], max_rows=max_rows)


def body(executor: CachingExecutor, req: QueryRequest) -> tuple[bytes, dict[str, str]]:
    executed = executor.run(req)
    return b"".join(executed.body), executed.headers


def test_repeat_is_a_hit_and_a_write_invalidates() -> None:
    store = OxigraphStore()
    store.update("INSERT DATA { <http://a> <http://p> 1 }")
    cache = CachingExecutor(InProcessExecutor(store), store)
    first, headers = body(cache, request())
    assert b'"1"' in first and "X-BorderKG-Cache" not in headers
    again, headers = body(cache, request())
    assert again == first and headers["X-BorderKG-Cache"] == "hit"
    store.update("INSERT DATA { <http://b> <http://p> 2 }")
    fresh, headers = body(cache, request())
    assert b'"2"' in fresh and "X-BorderKG-Cache" not in headers
    assert (cache.hits, cache.misses) == (1, 2)


def test_format_and_row_cap_are_part_of_the_key() -> None:
    store = OxigraphStore()
    store.update("INSERT DATA { <http://a> <http://p> 1 }")
    cache = CachingExecutor(InProcessExecutor(store), store)
    as_json, _ = body(cache, request())
    as_csv, headers = body(cache, request(fmt="csv"))
    assert as_csv == b"n\r\n1\r\n" and as_json != as_csv
    assert "X-BorderKG-Cache" not in headers
    _, headers = body(cache, request(max_rows=5))
    assert "X-BorderKG-Cache" not in headers


def test_large_answers_stream_through_uncached() -> None:
    store = OxigraphStore()
    store.update("INSERT DATA { " + " ".join(f"<http://s{i}> <http://p> {i} ." for i in range(500))
                 + " }")
    cache = CachingExecutor(InProcessExecutor(store), store, max_entry_bytes=1000)
    text = "SELECT * WHERE { ?s ?p ?o }"
    first, _ = body(cache, request(text, max_rows=1000))
    second, headers = body(cache, request(text, max_rows=1000))
    assert first == second and len(first) > 1000
    assert "X-BorderKG-Cache" not in headers


def test_entries_are_bounded_least_recently_used_first() -> None:
    store = OxigraphStore()
    cache = CachingExecutor(InProcessExecutor(store), store, entries=2)
    for n in range(3):
        body(cache, request(f"ASK {{ <http://x{n}> ?p ?o }}"))
    _, headers = body(cache, request("ASK { <http://x0> ?p ?o }"))
    assert "X-BorderKG-Cache" not in headers
    _, headers = body(cache, request("ASK { <http://x2> ?p ?o }"))
    assert headers["X-BorderKG-Cache"] == "hit"
