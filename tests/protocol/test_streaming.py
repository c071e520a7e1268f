"""Large answers over real HTTP: streamed whole, held back for slow readers, stopped for
readers who leave, gzipped by Accept-Encoding, revalidated by weak ETags.

Two servers: the protocol package's seed server for the header rules, and a memory
store loaded (``--load``) with the real CBP table (~470,000 quads, N-Quads written once
per session by the project's importer) for size. Every CBP test ends by checking that
the HTTP worker is the one that started (a panic in a stream used to kill it, and
granian silently started another).
"""
from __future__ import annotations

import csv
import gzip
import http.client
import io
import json
import re
import socket
import subprocess
import time
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast
from urllib.parse import urlencode, urlsplit

import pytest
import rdflib
import requests
from pyoxigraph import RdfFormat, parse

from tests.conftest import CBP_STATE_CSV, LiveServer

from .conftest import serve

CBP_GRAPH = "https://w3id.org/borderkg/graph/cbp-encounters"
NQUADS = "application/n-quads"
ALL_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
CBP_TRIPLES = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{CBP_GRAPH}> {{ ?s ?p ?o }} }}"
#: a SELECT of the seed server whose JSON answer is one chunk of ~40 KB: answered whole
ROWS = 150
SOME_ROWS = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} ORDER BY ?s ?p ?o LIMIT {ROWS}"
MIB = 1 << 20


# -- helpers ---------------------------------------------------------------------------------
def count(sparql: str, query: str) -> int:
    response = requests.get(sparql, params={"query": query}, timeout=60,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def raw_get(url: str, headers: dict[str, str], method: str = "GET"
            ) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request with exactly ``headers`` (no Accept-Encoding unless given), body as sent."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                            timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def sparql_url(base: str, query: str) -> str:
    return f"{base}/sparql?{urlencode({'query': query})}"


def vary(headers: Any) -> set[str]:
    return {v.strip().lower() for v in (headers.get("Vary") or "").split(",") if v.strip()}


def opaque(etag: str) -> str:
    """The quoted tag without its weakness marker."""
    return etag.removeprefix("W/")


def lines_of(chunks: Iterator[bytes]) -> int:
    return sum(chunk.count(b"\n") for chunk in chunks)


# -- the seed server: the rules ---------------------------------------------------------------
@pytest.mark.parametrize(("accept_encoding", "coding"), [
    ("gzip", "gzip"), ("gzip, deflate, br, zstd", "gzip"), ("x-gzip", "gzip"), ("*", "gzip"),
    ("identity;q=0, gzip;q=0.1", "gzip"), ("br;q=1, gzip;q=0.8", "gzip"),
    ("*;q=0.3, identity;q=0.2", "gzip"),
    (None, None), ("identity", None), ("gzip;q=0", None), ("gzip;q=0, *", None),
    ("br", None), ("deflate, gzip;q=0.5, identity", None), ("*;q=0, identity", None),
])
def test_accept_encoding_decides_the_coding(server: LiveServer, accept_encoding: str | None,
                                            coding: str | None) -> None:
    headers = {"Accept": "application/sparql-results+json"}
    if accept_encoding is not None:
        headers["Accept-Encoding"] = accept_encoding
    status, answer, body = raw_get(sparql_url(server.url, SOME_ROWS), headers)
    assert status == 200
    assert answer.get("Content-Encoding") == coding
    assert "accept-encoding" in vary(answer) and "accept" in vary(answer)
    assert int(answer["Content-Length"]) == len(body)  # whole: compressed whole
    assert answer["ETag"].startswith("W/") == (coding == "gzip")
    text = gzip.decompress(body) if coding else body
    assert len(json.loads(text)["results"]["bindings"]) == ROWS
    if coding:
        assert len(body) * 5 < len(text)


def test_small_answers_are_sent_as_they_are(server: LiveServer) -> None:
    status, answer, body = raw_get(sparql_url(server.url, "ASK {}"),
                                   {"Accept-Encoding": "gzip"})
    assert status == 200 and answer.get("Content-Encoding") is None
    assert "accept-encoding" not in vary(answer) and not answer["ETag"].startswith("W/")
    assert json.loads(body)["boolean"] is True


def test_a_streamed_answer_is_gzipped_as_it_streams(server: LiveServer) -> None:
    query = "SELECT * WHERE { ?s ?p ?o VALUES ?k { 1 2 } } LIMIT 3000"
    response = requests.get(server.url + "/sparql", params={"query": query}, timeout=60,
                            headers={"Accept": "text/csv", "Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.headers
    assert len(list(csv.reader(io.StringIO(response.text)))) == 3001


def _probes(base: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (sparql_url(base, SOME_ROWS), {"Accept": "application/sparql-results+json"}),
        (sparql_url(base, "SELECT * WHERE { ?s ?p ?o VALUES ?k { 1 2 } } LIMIT 3000"),
         {"Accept": "text/csv"}),
        (base + "/graph-store", {"Accept": NQUADS}),
        (base + "/graph-store/ontology", {"Accept": "text/turtle"}),
        (base + "/dump.nq.gz", {"Accept": NQUADS}),
        (base + "/dump.nq.gz", {}),
        (base + "/doc/id/country/CHN", {"Accept": "text/turtle"}),
    ]


@pytest.mark.parametrize("probe", range(7))
def test_head_answers_the_headers_of_get(server: LiveServer, probe: int) -> None:
    url, headers = _probes(server.url)[probe]
    headers = {**headers, "Accept-Encoding": "gzip"}
    got_status, got, body = raw_get(url, headers)
    head_status, head, head_body = raw_get(url, headers, method="HEAD")
    assert got_status == head_status == 200 and body and head_body == b""
    for name in ("Content-Type", "Content-Encoding", "Vary", "ETag"):
        assert head.get(name) == got.get(name), name


def test_the_gzip_file_is_never_compressed_again(server: LiveServer) -> None:
    for accept in ("*/*", "application/gzip", "text/html,application/xhtml+xml,*/*;q=0.8"):
        status, answer, body = raw_get(server.url + "/dump.nq.gz",
                                       {"Accept": accept, "Accept-Encoding": "gzip"})
        assert status == 200 and answer["Content-Type"] == "application/gzip"
        assert answer.get("Content-Encoding") is None
        assert answer["Content-Disposition"] == 'attachment; filename="borderkg.nq.gz"'
        assert gzip.decompress(body).startswith(b"<")  # one gzip layer, then N-Quads


def test_rdf_clients_get_nquads_with_gzip_as_a_coding(server: LiveServer, sparql: str) -> None:
    status, answer, body = raw_get(server.url + "/dump.nq.gz",
                                   {"Accept": NQUADS, "Accept-Encoding": "gzip"})
    assert status == 200 and answer["Content-Type"] == NQUADS
    assert answer["Content-Encoding"] == "gzip" and {"accept", "accept-encoding"} <= vary(answer)
    quads = list(parse(gzip.decompress(body), RdfFormat.N_QUADS))
    assert len(quads) == count(sparql, ALL_QUADS)
    plain_status, plain, plain_body = raw_get(server.url + "/dump.nq.gz", {"Accept": NQUADS})
    assert plain_status == 200 and plain.get("Content-Encoding") is None
    assert plain_body == gzip.decompress(body)


def test_rdflib_reads_the_dump(server: LiveServer, sparql: str) -> None:
    """rdflib fetching the URL itself (urllib: identity), and reading the gzip coding."""
    expected = count(sparql, ALL_QUADS)
    fetched = rdflib.Dataset()
    fetched.parse(server.url + "/dump.nq.gz", format="nquads")
    request = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    request.request("GET", "/dump.nq.gz", headers={"Accept": NQUADS,
                                                   "Accept-Encoding": "gzip"})
    response = request.getresponse()
    assert response.headers["Content-Encoding"] == "gzip"
    coded = rdflib.Dataset()
    coded.parse(cast(IO[bytes], gzip.GzipFile(fileobj=response)), format="nquads")
    request.close()
    assert len(list(fetched.quads())) == len(list(coded.quads())) == expected


def _revalidated(url: str, headers: dict[str, str]) -> None:
    status, answer, _ = raw_get(url, {**headers, "Accept-Encoding": "gzip"})
    assert status == 200, url
    tag = opaque(answer["ETag"])
    for sent in (f"W/{tag}", tag, "*", f'"other", W/{tag}'):
        again, revalidated, body = raw_get(url, {**headers, "If-None-Match": sent,
                                                 "Accept-Encoding": "gzip"})
        assert again == 304 and body == b"", (url, sent)
        assert opaque(revalidated["ETag"]) == tag
    changed, _, _ = raw_get(url, {**headers, "If-None-Match": 'W/"not-this-one"'})
    assert changed == 200, url


def test_weak_etags_get_their_304(server: LiveServer) -> None:
    base = server.url
    _revalidated(sparql_url(base, SOME_ROWS), {"Accept": "application/sparql-results+json"})
    _revalidated(sparql_url(base, "ASK {}"), {})
    _revalidated(base + "/doc/id/country/CHN", {"Accept": "text/turtle"})
    _revalidated(base + "/graph-store/ontology", {"Accept": "text/turtle"})
    _revalidated(base + "/graph-store", {"Accept": NQUADS})
    _revalidated(base + "/dump.nq.gz", {"Accept": NQUADS})
    _revalidated(base + "/dump.nq.gz", {})


def test_the_304_to_a_weak_tag_echoes_it(server: LiveServer) -> None:
    url = sparql_url(server.url, SOME_ROWS)
    _, first, _ = raw_get(url, {"Accept-Encoding": "gzip"})
    assert first["ETag"].startswith("W/")
    status, again, _ = raw_get(url, {"Accept-Encoding": "gzip", "If-None-Match": first["ETag"]})
    assert status == 304 and again["ETag"] == first["ETag"]


def test_the_response_cache_keeps_codings_apart(server: LiveServer) -> None:
    query = f"{SOME_ROWS} # {uuid.uuid4().hex}"
    url = sparql_url(server.url, query)
    accept = {"Accept": "application/sparql-results+json"}
    answers = []
    for coding in ("gzip", "identity", "gzip", "identity"):
        status, answer, body = raw_get(url, {**accept, "Accept-Encoding": coding})
        assert status == 200
        assert answer.get("Content-Encoding") == (None if coding == "identity" else "gzip")
        answers.append((answer, gzip.decompress(body) if coding == "gzip" else body))
    assert answers[0][0].get("X-BorderKG-Cache") is None  # the first, computed
    assert [a.get("X-BorderKG-Cache") for a, _ in answers[2:]] == ["hit", "hit"]
    assert len({body for _, body in answers}) == 1
    assert answers[2][0]["ETag"] == answers[0][0]["ETag"]


# -- the CBP server: size ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def cbp_nquads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real CBP table imported by the project's importer, written as N-Quads once."""
    from graph.imports.cbp import import_cbp
    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    import_cbp(store, CBP_STATE_CSV, progress=False)
    path = tmp_path_factory.mktemp("cbp") / "cbp.nq"
    with path.open("wb") as output:
        store.dump(output, RdfFormat.N_QUADS)
    store.close()
    return path


@dataclass
class Cbp:
    """The CBP server, its HTTP worker, and what its store holds."""

    server: LiveServer
    worker: int
    quads: int
    triples: int

    @property
    def sparql(self) -> str:
        return self.server.url + "/sparql"

    def assert_alive(self) -> None:
        """Still answering, from the worker that started, which never panicked."""
        assert requests.get(self.server.url + "/healthz", timeout=10).status_code == 200
        assert count(self.sparql, CBP_TRIPLES) == self.triples
        assert http_worker(self.server) == self.worker
        log = self.server.log()
        assert "panicked" not in log and "Unexpected exit" not in log


def http_worker(server: LiveServer) -> int:
    """The granian worker process serving requests (the largest child of the server)."""
    assert server.process is not None
    main = server.process.pid
    children = [int(pid) for pid in
                Path(f"/proc/{main}/task/{main}/children").read_text().split()]
    return max(children, key=rss_mib)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.fixture(scope="module")
def cbp(tmp_path_factory: pytest.TempPathFactory, cbp_nquads: Path) -> Iterator[Cbp]:
    live = serve(tmp_path_factory.mktemp("streaming"), "--empty", "--load", str(cbp_nquads),
                 "--max-rows", "1000000", "--query-timeout", "60", "--query-workers", "4",
                 "--client-queries", "0", "--log-level", "info")
    sparql = live.url + "/sparql"
    yield Cbp(live, http_worker(live), count(sparql, ALL_QUADS), count(sparql, CBP_TRIPLES))
    live.stop()


def test_the_whole_dump_three_times(cbp: Cbp) -> None:
    url = cbp.server.url + "/dump.nq.gz"
    assert cbp.quads > 450_000
    as_file = requests.get(url, timeout=120)
    assert as_file.headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in as_file.headers
    nquads = gzip.decompress(as_file.content)
    assert nquads.count(b"\n") == cbp.quads and nquads.endswith(b" .\n")
    with requests.get(url, stream=True, timeout=120,
                      headers={"Accept": NQUADS, "Accept-Encoding": "gzip"}) as coded:
        assert coded.headers["Content-Type"] == NQUADS
        assert coded.headers["Content-Encoding"] == "gzip"
        inflate = zlib.decompressobj(31)
        wire = lines = 0
        while chunk := coded.raw.read(MIB, decode_content=False):
            wire += len(chunk)
            lines += inflate.decompress(chunk).count(b"\n")
        assert inflate.eof and lines == cbp.quads
    with requests.get(url, stream=True, timeout=120,
                      headers={"Accept": NQUADS, "Accept-Encoding": "identity"}) as plain:
        assert plain.headers["Content-Type"] == NQUADS
        assert "Content-Encoding" not in plain.headers
        size = lines = 0
        for chunk in plain.iter_content(MIB):
            size += len(chunk)
            lines += chunk.count(b"\n")
        assert lines == cbp.quads
    assert wire * 10 < size
    cbp.assert_alive()


def test_a_slow_reader_holds_the_producer_back(cbp: Cbp) -> None:
    url = cbp.server.url + "/graph-store/cbp-encounters"
    before = peak = rss_mib(cbp.worker)
    with requests.get(url, stream=True, timeout=60, headers={
            "Accept": "application/n-triples", "Accept-Encoding": "identity"}) as response:
        assert response.status_code == 200
        assert response.headers["Transfer-Encoding"] == "chunked"
        chunks = response.raw.stream(64 << 10)
        lines = size = 0
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            chunk = next(chunks)
            lines, size = lines + chunk.count(b"\n"), size + len(chunk)
            time.sleep(0.5)
            peak = max(peak, rss_mib(cbp.worker))
            other = requests.get(cbp.sparql, params={"query": "ASK {}"}, timeout=5)
            assert other.status_code == 200
        assert size < 2 * MIB
        for chunk in chunks:
            lines, size = lines + chunk.count(b"\n"), size + len(chunk)
    assert lines == cbp.triples and size > 80 * MIB
    assert peak - before < size / MIB / 4, (before, peak, size)
    cbp.assert_alive()


def _access_lines(log: str, path: str) -> list[int]:
    """Bytes of each access-log line for ``path`` (what the app sent before it closed)."""
    return [int(size) for size in re.findall(
        rf"GET {re.escape(path)} 200 [\d.]+ms (\d+)B", log)]


def test_a_client_that_leaves_mid_dump_stops_it(cbp: Cbp) -> None:
    seen = len(_access_lines(cbp.server.log(), "/dump.nq.gz"))
    with socket.create_connection(("127.0.0.1", cbp.server.port), timeout=30) as connection:
        connection.sendall(b"GET /dump.nq.gz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Accept: application/n-quads\r\nAccept-Encoding: identity\r\n\r\n")
        received = 0
        while received < MIB:
            received += len(connection.recv(64 << 10))
    deadline = time.monotonic() + 10
    while len(sizes := _access_lines(cbp.server.log(), "/dump.nq.gz")) == seen:
        assert time.monotonic() < deadline, "the dump did not stop after its client left"
        time.sleep(0.2)
    assert sizes[-1] < 40 * MIB  # of ~112 MiB: stopped, not run to the end
    assert "response stream ended early: the client went away" in cbp.server.log()
    cbp.assert_alive()


def _fetch(cbp: Cbp, query: str, accept: str) -> requests.Response:
    response = requests.post(cbp.sparql, data={"query": query}, timeout=120,
                             headers={"Accept": accept, "Accept-Encoding": "gzip"})
    assert response.status_code == 200, response.text[:500]
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Transfer-Encoding"] == "chunked"
    assert "X-BorderKG-Truncated" not in response.headers
    return response


def test_large_query_results_stream_whole(cbp: Cbp) -> None:
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{CBP_GRAPH}> {{ ?s ?p ?o }} }}"
    rows = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{CBP_GRAPH}> {{ ?s ?p ?o }} }} LIMIT 100000"
    asked = {"construct": (construct, "application/n-triples"), "csv": (rows, "text/csv"),
             "tsv": (rows, "text/tab-separated-values"),
             "json": (rows, "application/sparql-results+json")}
    with ThreadPoolExecutor(len(asked)) as pool:
        answers = {name: pool.submit(_fetch, cbp, query, accept)
                   for name, (query, accept) in asked.items()}
        got = {name: future.result() for name, future in answers.items()}
    assert got["construct"].content.count(b"\n") == cbp.triples
    assert len(list(csv.reader(io.StringIO(got["csv"].text)))) == 100_001
    assert got["tsv"].content.count(b"\n") == 100_001
    assert len(got["json"].json()["results"]["bindings"]) == 100_000
    cbp.assert_alive()


def test_graph_store_get_of_the_cbp_graph(cbp: Cbp) -> None:
    url = cbp.server.url + "/graph-store/cbp-encounters"
    with requests.get(url, stream=True, timeout=60,
                      headers={"Accept": "application/n-triples"}) as ntriples:
        assert ntriples.headers["Content-Encoding"] == "gzip"
        assert lines_of(ntriples.iter_content(MIB)) == cbp.triples
    turtle = requests.get(url, headers={"Accept": "text/turtle"}, timeout=60)
    assert turtle.status_code == 200 and turtle.headers["Content-Encoding"] == "gzip"
    assert sum(1 for _ in parse(turtle.content, RdfFormat.TURTLE)) == cbp.triples
    cbp.assert_alive()


def test_curl_compressed_reads_the_dump(cbp: Cbp, tmp_path: Path) -> None:
    url = cbp.server.url + "/dump.nq.gz"
    headers = tmp_path / "headers"
    curl = subprocess.Popen(["curl", "-sS", "--compressed", "-D", str(headers),
                             "-H", f"Accept: {NQUADS}", url], stdout=subprocess.PIPE)
    assert curl.stdout is not None
    lines = lines_of(iter(lambda: curl.stdout.read(MIB), b""))  # type: ignore[union-attr]
    assert curl.wait(60) == 0 and lines == cbp.quads
    assert "content-encoding: gzip" in headers.read_text().lower()
    cbp.assert_alive()
