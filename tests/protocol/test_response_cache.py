"""Repeated GETs answered from the server's response cache (server.response_cache):
identical bytes and headers, never stale after a write, per-request variants kept apart,
and every request still counted and logged."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import TOKEN, LiveServer

from .conftest import AUTH, serve

JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = serve(tmp_path_factory.mktemp("response-cache"), "--log-level", "info",
                   "--cors-origins", "https://a.example.org,https://b.example.org",
                   env={"BORDERKG_UPDATE_TOKEN": TOKEN})
    yield server
    server.stop()


def get(live: LiveServer, query: str, **headers: str) -> requests.Response:
    return requests.get(live.url + "/sparql", params={"query": query},
                        headers={**JSON, **headers}, timeout=30)


def unique(query: str) -> str:
    return f"{query} # {uuid.uuid4().hex}"


def test_repeat_is_a_hit_with_the_same_answer(live: LiveServer) -> None:
    query = unique("SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } "
                   "ORDER BY ?l LIMIT 5")
    first, second = get(live, query), get(live, query)
    assert first.status_code == second.status_code == 200
    assert first.headers.get("X-BorderKG-Cache") != "hit"
    assert second.headers["X-BorderKG-Cache"] == "hit"
    assert second.content == first.content
    for name in ("Content-Type", "ETag", "Vary", "Content-Length"):
        assert second.headers[name] == first.headers[name]


def test_a_write_is_seen_at_once(live: LiveServer) -> None:
    graph = f"http://example.org/rc/{uuid.uuid4().hex}"
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"

    def count() -> int:
        return int(get(live, query).json()["results"]["bindings"][0]["n"]["value"])

    assert count() == 0 and count() == 0  # the second from the cache
    for expected in (1, 2, 3):
        done = requests.post(live.url + "/sparql", headers=AUTH, timeout=30, data={
            "update": f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:x:{expected}> <urn:p> 1 }} }}"})
        assert done.status_code == 204, done.text
        assert count() == expected


def test_variants_are_kept_apart(live: LiveServer) -> None:
    query = unique("ASK { ?s ?p ?o }")
    as_json = get(live, query)
    as_xml = get(live, query, Accept="application/sparql-results+xml")
    assert as_json.headers["Content-Type"].startswith("application/sparql-results+json")
    assert as_xml.headers["Content-Type"].startswith("application/sparql-results+xml")
    for origin in ("https://a.example.org", "https://b.example.org", "https://a.example.org"):
        answer = get(live, query, Origin=origin)
        assert answer.headers["Access-Control-Allow-Origin"] == origin
    plain = get(live, query)
    assert "Access-Control-Allow-Origin" not in plain.headers


def test_conditional_request_still_gets_304(live: LiveServer) -> None:
    query = unique("ASK { ?s ?p ?o }")
    first = get(live, query)
    get(live, query)
    again = get(live, query, **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_head_after_get_has_no_body(live: LiveServer) -> None:
    query = unique("ASK { ?s ?p ?o }")
    body = get(live, query).content
    for _ in range(2):
        head = requests.head(live.url + "/sparql", params={"query": query}, headers=JSON,
                             timeout=30)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["Content-Length"]) == len(body)


def test_volatile_functions_are_not_reused(live: LiveServer) -> None:
    query = unique("SELECT (RAND() AS ?r) (STRUUID() AS ?u) WHERE {}")
    answers = [get(live, query) for _ in range(3)]
    assert all(a.headers.get("X-BorderKG-Cache") != "hit" for a in answers)
    assert len({a.content for a in answers}) == 3
    assert all("ETag" not in a.headers for a in answers)  # no 304 for a changing answer


def test_hits_are_counted_and_logged(live: LiveServer) -> None:
    def served() -> float:
        text = requests.get(live.url + "/metrics", timeout=30).text
        pattern = r'borderkg_http_requests_total\{method="GET",route="/sparql",status="200"\} (\S+)'
        match = re.search(pattern, text)
        return float(match.group(1)) if match else 0.0

    query = unique("ASK { ?s ?p ?o }")
    before = served()
    for _ in range(4):
        get(live, query)
    assert served() - before == 4
    log = live.log()
    assert log.count("GET /sparql 200") >= 4
    assert query not in log and "query=" not in log  # the path only, as for other requests
