"""Limits over HTTP against a disk-backed server: timeouts kill only the slow query,
hostile shapes and sizes get precise 4xx answers, many and slow clients are served, and
the update token never reaches the log. Each test checks the data and /healthz after."""
from __future__ import annotations

import concurrent.futures
import json
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import TOKEN, client_session

from .conftest import BODY_LIMIT, QUERY_TIMEOUT, Endpoint, error_of, start

CROSS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def unique_ask() -> str:
    """A cheap query the result cache cannot have seen (comments are part of the key)."""
    return f"ASK {{ ?s ?p ?o }} # {uuid.uuid4()}"


def test_timeout_503_while_another_client_is_served(endpoint: Endpoint) -> None:
    with endpoint.intact():
        other: dict[str, float | int] = {}

        def simple() -> None:
            time.sleep(0.5)
            response = client_session("127.0.0.2").post(
                endpoint.url + "/sparql", data=unique_ask(), timeout=30,
                                     headers={"Content-Type": "application/sparql-query"})
            other.update(status=response.status_code, at=time.monotonic())

        thread = threading.Thread(target=simple)
        started = time.monotonic()
        thread.start()
        slow = endpoint.query(CROSS)
        ended = time.monotonic()
        thread.join()
        print(f"\n503 after {ended - started:.2f} s for a {QUERY_TIMEOUT:g} s limit")
        assert slow.status_code == 503, slow.text
        assert error_of(slow)["code"] == "query-timeout"
        assert other["status"] == 200 and other["at"] < ended  # served meanwhile
        assert ended - started < QUERY_TIMEOUT * 5  # killed, not run to completion
        assert endpoint.query(unique_ask()).status_code == 200


@pytest.mark.parametrize("text", [
    "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
    "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }",
    "SELECT * WHERE { ?s ?p ?o FILTER(" + "!" * 10_000 + "true) }",
    "SELECT * WHERE { " + " UNION ".join(["{?s ?p ?o}"] * 10_000) + " }",
], ids=["braces", "parentheses", "negations", "unions"])
def test_deeply_nested_query_is_400(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.query(text)
        assert response.status_code == 400, response.text[:300]


def test_deeply_nested_update_is_400(endpoint: Endpoint) -> None:
    with endpoint.intact():
        text = "INSERT { <http://a> <http://b> 1 } WHERE " + "{" * 10_000 + "}" * 10_000
        assert endpoint.update(text).status_code == 400


def test_huge_literal_within_the_body_limit(endpoint: Endpoint) -> None:
    big = "x" * (BODY_LIMIT - 4096)
    with endpoint.intact():
        response = endpoint.query(f'SELECT (STRLEN("{big}") AS ?n) WHERE {{ }}')
        assert response.status_code == 200, response.text[:300]
        assert response.json()["results"]["bindings"][0]["n"]["value"] == str(len(big))
    subject = "<http://example.org/security/huge>"
    before = endpoint.count()
    inserted = endpoint.update(f'INSERT DATA {{ {subject} <http://example.org/p> "{big}" }}')
    assert inserted.status_code in (200, 204), inserted.text[:300]
    assert endpoint.count() > before
    assert endpoint.update(f"DELETE WHERE {{ {subject} ?p ?o }}").status_code in (200, 204)
    assert endpoint.count() == before and endpoint.healthy()


@pytest.mark.parametrize("kind", ["query", "update"])
def test_oversize_body_is_413(endpoint: Endpoint, kind: str) -> None:
    big = "x" * (BODY_LIMIT + 1024)
    with endpoint.intact():
        if kind == "query":
            response = endpoint.query(f'ASK {{ FILTER("{big}") }}')
        else:
            response = endpoint.update(f'INSERT DATA {{ <http://a> <http://b> "{big}" }}')
        assert response.status_code == 413, response.text[:300]


def test_fifty_simultaneous_clients_all_answered(endpoint: Endpoint) -> None:
    def one(_: int) -> int:
        return requests.post(endpoint.url + "/sparql", data=unique_ask(), timeout=60,
                             headers={"Content-Type": "application/sparql-query"}).status_code

    with endpoint.intact():
        with concurrent.futures.ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(one, range(50)))
        assert statuses == [200] * 50


def slow_clients(url: str, count: int, seconds: float) -> list[threading.Thread]:
    """Clients that send request headers one byte every 0.2 s for ``seconds``."""
    host, port = url.removeprefix("http://").split(":")
    stop = time.monotonic() + seconds

    def drip() -> None:
        with socket.create_connection((host, int(port))) as sock:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 1000:
                if time.monotonic() > stop:
                    return
                try:
                    sock.send(bytes([byte]))
                except OSError:
                    return  # the server hung up on us: fine
                time.sleep(0.2)

    threads = [threading.Thread(target=drip, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def test_a_few_slow_clients_do_not_block_others(endpoint: Endpoint) -> None:
    with endpoint.intact():
        threads = slow_clients(endpoint.url, 3, 4)
        time.sleep(0.5)
        for _ in range(5):
            assert requests.get(endpoint.url + "/healthz", timeout=3).status_code == 200
        for thread in threads:
            thread.join()


def slow_bodies(url: str, count: int, seconds: float) -> list[threading.Thread]:
    """Clients that send complete headers, then their body one byte every 0.2 s."""
    host, port = url.removeprefix("http://").split(":")
    stop = time.monotonic() + seconds

    def drip() -> None:
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"application/sparql-query\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                if time.monotonic() > stop:
                    return
                try:
                    sock.send(b" ")
                except OSError:
                    return
                time.sleep(0.2)

    threads = [threading.Thread(target=drip, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


@pytest.mark.parametrize("attack", [slow_clients, slow_bodies], ids=["headers", "bodies"])
def test_more_slow_clients_than_threads_do_not_block_others(
        endpoint: Endpoint, attack: Any) -> None:
    with endpoint.intact():
        threads = attack(endpoint.url, 24, 5)  # the server runs 8 request threads
        time.sleep(1)
        try:
            for _ in range(5):
                answer = endpoint.query("ASK { ?s ?p ?o }", timeout=3)
                assert answer.status_code == 200 and answer.json()["boolean"] is True
        finally:
            for thread in threads:
                thread.join()


def test_a_body_that_stops_arriving_gets_408(tmp_path: Path) -> None:
    server = start(tmp_path / "data", tmp_path / "server.log", ["--read-timeout", "1"])
    try:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"application/sparql-query\r\nContent-Length: 100\r\n\r\nASK")
            began = time.monotonic()
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                reply += chunk
            waited = time.monotonic() - began
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), reply[:300]
        assert json.loads(body)["error"]["code"] == "request-timeout"
        assert 0.9 < waited < 5
        assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
    finally:
        server.stop()


def test_gunicorn_remains_selectable(tmp_path: Path) -> None:
    """The threaded alternative still serves (behind a buffering proxy, see SECURITY.md)."""
    server = start(tmp_path / "data", tmp_path / "server.log", ["--http-server", "gunicorn"])
    try:
        answer = requests.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=10)
        assert answer.status_code == 200 and answer.json()["boolean"] is True
        assert "gunicorn" in answer.headers.get("Server", "")
    finally:
        server.stop()


def test_token_never_logged(endpoint: Endpoint) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    endpoint.update("INSERT DATA { <http://a> <http://b> 1 } ; DELETE DATA { <http://a> "
                    "<http://b> 1 }")
    endpoint.update("LOAD <file:///etc/passwd>")
    endpoint.update("INSERT DATA { <http://a> <http://b> }")  # syntax error
    endpoint.update("DROP ALL", token=TOKEN[::-1])  # wrong token
    endpoint.query("SELECT * WHERE { ?s ?p }", **auth)
    endpoint.query(CROSS[:-1] + " } # " + str(uuid.uuid4()), **auth)
    requests.get(endpoint.url + "/no/such/page", headers=auth, timeout=10)
    requests.get(endpoint.url + "/healthz", headers=auth, timeout=10)
    time.sleep(0.5)
    log = endpoint.server.log()
    assert log, "the server wrote no log at all"
    assert TOKEN not in log and TOKEN[::-1] not in log
