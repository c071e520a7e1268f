"""No input is answered 500: Graph Store IRIs and engine failures after the policy.

* A graph IRI that is not an IRI — from ``/graph-store/<path>`` or ``?graph=`` — is 400
  in the one JSON error shape, for every method, before anything reaches the engine.
* A SERVICE call the policy allowed that fails (the port is closed, the endpoint answers
  garbage or an error status) is 502 ``bad-gateway`` naming the endpoint, and the
  service keeps answering.
* A Hypothesis family sends random paths and parameters (control characters, lone
  surrogates, percent-encoded bytes that are not UTF-8) with every method: never a 5xx,
  and without a valid token the data never changes. ``BORDERKG_FUZZ_EXAMPLES`` sets the
  examples (default 300).
"""
from __future__ import annotations

import http.client
import http.server
import json
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.errors import BadGateway, BadRequest, QuerySyntaxError, StoreError
from graph.store.oxigraph import OxigraphStore, engine_error
from tests.conftest import ARTICLE, TOKEN, LiveServer, free_port

from .conftest import Endpoint, error_of, summary

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NT = {"Content-Type": "application/n-triples"}
TRIPLE = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"
BASE = "https://w3id.org/borderkg/graph/"
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]

#: direct-identification paths (as sent, percent-encoded) whose graph IRI is no IRI;
#: every one of them was answered 500 with a traceback in the log
BAD_PATHS = ["%3E", "a%3Cb", "a%20b", "%22", "%7B%7D", "a%7Cb", "a%5Eb", "a%60b", "a%5Cb",
             "%00", "%0A", "a%09b", "%7F", "%FF", "%C0%AF", "%ED%A0%80", "%F0%28%8C%28",
             "a%25zz", "%25"]
#: ``?graph=`` values that are no absolute IRI (sent percent-encoded)
BAD_GRAPHS = ["http://a/>", "http://a/ b", 'http://a/"', "http://a/{}", "http://a/\\",
              "http://a/\x00", "http://a/\n", "http://a/|", "http://a/^", "http://a/`",
              "http://a/\x7f", "relative/iri", "", "http://a/%zz"]


def assert_error(response: requests.Response, status: int) -> dict[str, Any]:
    """``response`` has ``status`` and, unless it answers HEAD, the one JSON error shape."""
    assert response.status_code == status, response.text[:500]
    if response.request.method == "HEAD":
        assert response.content == b""
        return {}
    return assert_shape(error_of(response), status)


def assert_shape(error: dict[str, Any], status: int) -> dict[str, Any]:
    assert error["status"] == status
    assert isinstance(error["code"], str) and isinstance(error["message"], str)
    return error


# -- graph IRIs ------------------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", BAD_PATHS)
def test_direct_path_that_is_no_iri_is_400(endpoint: Endpoint, path: str, method: str) -> None:
    url = endpoint.graph_store() + "/" + path
    with endpoint.intact():  # the token is valid: only the IRI check stands in the way
        response = requests.request(method, url, data=TRIPLE, headers={**AUTH, **NT},
                                    timeout=30)
        error = assert_error(response, 400)
    if method != "HEAD":
        assert error["code"] == "bad-request"
        assert "not a valid IRI" in error["message"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("value", BAD_GRAPHS)
def test_graph_parameter_that_is_no_iri_is_400(endpoint: Endpoint, value: str,
                                               method: str) -> None:
    url = endpoint.graph_store() + "?graph=" + quote(value, safe="")
    with endpoint.intact():
        response = requests.request(method, url, data=TRIPLE, headers={**AUTH, **NT},
                                    timeout=30)
        error = assert_error(response, 400)
    if method != "HEAD":
        assert error["parameter"] == "graph"


@pytest.mark.parametrize("raw", ['a|b', 'a"b', "a{b}", "a\\b", "a^b"])
def test_unencoded_characters_in_the_path_are_400(endpoint: Endpoint, raw: str) -> None:
    """Characters HTTP carries unencoded but no IRI may hold (requests would encode them)."""
    connection = http.client.HTTPConnection("127.0.0.1", endpoint.server.port, timeout=30)
    with endpoint.intact():
        connection.request("PUT", "/graph-store/" + raw, body=TRIPLE, headers={**AUTH, **NT})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 400, body
        assert_shape(json.loads(body)["error"], 400)
    connection.close()


def test_unusual_but_valid_graph_iris_round_trip(endpoint: Endpoint) -> None:
    """The check refuses no IRI: non-ASCII, escapes, a query part; PUT writes the terms
    exactly (a literal holding quotes, a newline and ``>``)."""
    url = endpoint.graph_store()
    body = b'<http://example.org/s> <http://example.org/p> "a \\"q\\" >\\n} ;" .\n'
    for address, params, iri in [
            (url + "/fuzz-caf%C3%A9%2520x%3Fq=1", None, BASE + "fuzz-café%20x?q=1"),
            (url, {"graph": "http://example.org/a%20b#frag"}, "http://example.org/a%20b#frag")]:
        put = requests.put(address, params=params, data=body, headers={**AUTH, **NT},
                           timeout=30)
        assert put.status_code == 201, put.text
        got = requests.get(address, params=params, headers={"Accept": "application/n-triples"},
                           timeout=30)
        assert got.status_code == 200 and got.content == body, got.text
        listed = endpoint.query(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
        assert listed.json()["boolean"] is True
        assert requests.delete(address, params=params, headers=AUTH, timeout=30).status_code == 204
        assert requests.get(address, params=params, timeout=30).status_code == 404


def test_put_of_a_dataset_with_blank_node_graph_names_is_400(endpoint: Endpoint) -> None:
    trig = b"_:g { <http://example.org/s> <http://example.org/p> <http://example.org/o> }"
    with endpoint.intact():
        response = requests.put(endpoint.graph_store(), data=trig, timeout=30,
                                headers={**AUTH, "Content-Type": "application/trig"})
        assert "blank nodes" in assert_error(response, 400)["message"]


# -- random paths and parameters -------------------------------------------------------------
EXAMPLES = int(os.environ.get("BORDERKG_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
#: characters left unencoded: none, the path separator, or what HTTP carries as it is
SAFE = ["", "/", "/:@!$&'()*+,;=|^{}\"\\[]"]
#: any code point: control characters, and lone surrogates (which st.characters leaves out)
TEXT = st.text(st.characters(min_codepoint=0) | st.characters(
    min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]), max_size=40)


@st.composite
def encoded(draw: Any) -> str:
    """Random text as UTF-8 (lone surrogates as the invalid bytes they would be), or
    random bytes, percent-encoded."""
    if draw(st.booleans()):
        raw = draw(TEXT).encode("utf-8", "surrogatepass")
    else:
        raw = draw(st.binary(max_size=24))
    return quote(raw, safe=draw(st.sampled_from(SAFE)))


PARAMS = st.lists(st.tuples(st.sampled_from(["graph", "default", "format", ""]) | encoded(),
                            st.none() | encoded()), max_size=3)
TOKENS = st.sampled_from([None, "", TOKEN + "x", TOKEN[:-1], TOKEN])


def _url(base: str, path: str | None, params: list[tuple[str, str | None]]) -> str:
    query = "&".join(name if value is None else f"{name}={value}" for name, value in params)
    return base + ("" if path is None else "/" + path) + ("?" + query if params else "")


def test_fuzz_graph_store_paths_and_parameters(endpoint: Endpoint) -> None:
    base = endpoint.graph_store()
    tried, failures = [0], []
    before = endpoint.count()

    @FUZZ
    @given(st.sampled_from(METHODS), st.none() | encoded(), PARAMS, TOKENS)
    def one(method: str, path: str | None, params: list[Any], token: str | None) -> None:
        tried[0] += 1
        if token == TOKEN:  # authorised writes only ever reach scratch graphs
            path = "fuzz-" + (path or "")
        request = requests.Request(method, "http://127.0.0.1/", data=TRIPLE,
                                   headers={**NT, **({"Authorization": f"Bearer {token}"}
                                                     if token is not None else {})})
        prepared = request.prepare()
        prepared.url = _url(base, path, params)  # as built: requests would re-encode it
        counted = endpoint.count() if token != TOKEN else None
        response = requests.Session().send(prepared, timeout=30, allow_redirects=False)
        problem = _problem(response)
        if problem:
            failures.append((method, prepared.url, token, response.status_code, problem))
        if counted is not None and endpoint.count() != counted:
            failures.append((method, prepared.url, token, response.status_code, "data changed"))
        if token == TOKEN and response.status_code < 300 and method in ("PUT", "POST"):
            requests.delete(prepared.url.partition("?")[0], headers=AUTH, timeout=30)

    one()
    summary("fuzz graph store paths and parameters", tried[0], len(failures))
    assert not failures, failures[:5]
    assert endpoint.healthy()
    assert endpoint.count() == before


def _problem(response: requests.Response) -> str | None:
    """What is wrong with a Graph Store answer, or None."""
    if response.status_code >= 500:
        return response.text[:300]
    if response.status_code < 400 or response.request.method == "HEAD":
        return None
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"not the JSON error shape: {response.text[:200]!r}"
    if error.get("status") != response.status_code or not error.get("message"):
        return f"error shape is wrong: {error!r}"
    return None


# -- SERVICE endpoints that fail -------------------------------------------------------------
class _Remote(http.server.BaseHTTPRequestHandler):
    """A loopback SPARQL endpoint that fails on purpose, by path."""

    protocol_version = "HTTP/1.1"
    ANSWERS = {
        "/garbage": (200, "application/sparql-results+json", b"{not json"),
        "/error": (500, "text/plain", b"the remote broke"),
        "/ok": (200, "application/sparql-results+json",
                b'{"head":{"vars":["s"]},"results":{"bindings":'
                b'[{"s":{"type":"uri","value":"http://example.org/remote"}}]}}'),
        "/garbage.ttl": (200, "text/turtle", b"<http://a> <http://b> is not turtle"),
    }

    def do_GET(self) -> None:  # the name http.server calls
        self._answer()

    def do_POST(self) -> None:  # the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        status, media_type, body = self.ANSWERS.get(self.path.partition("?")[0],
                                                    (404, "text/plain", b"no"))
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet: the test says what went wrong."""


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    """The base URL of a failing loopback endpoint, served from a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module", params=["disk", "memory"])
def allowing(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A server whose policy lets SERVICE call 127.0.0.1."""
    data_dir = tmp_path_factory.mktemp(f"service-{request.param}")
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port),
            "--store", request.param, "--data-dir", str(data_dir), "--article", str(ARTICLE)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    env.update(BORDERKG_UPDATE_TOKEN=TOKEN, BORDERKG_ALLOWED_SERVICE_HOSTS="127.0.0.1")
    server = LiveServer(args, env, port).start(data_dir / "server.log")
    yield Endpoint(server)
    server.stop()


def _endpoints(remote: str) -> dict[str, str]:
    closed = f"http://127.0.0.1:{free_port()}/sparql"  # nothing listens there
    return {"closed": closed, "garbage": remote + "/garbage", "error": remote + "/error"}


FORMS = {"select": "SELECT * WHERE {{ SERVICE <{}> {{ ?s ?p ?o }} }}",
         "ask": "ASK {{ SERVICE <{}> {{ ?s ?p ?o }} }}",
         "construct": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o OPTIONAL {{ "
                      "SERVICE <{}> {{ ?s ?x ?y }} }} }}"}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("failure", ["closed", "garbage", "error"])
def test_failing_service_is_502(allowing: Endpoint, remote: str, failure: str,
                                form: str) -> None:
    url = _endpoints(remote)[failure]
    response = allowing.query(FORMS[form].format(url),
                              Accept="application/sparql-results+json, text/turtle")
    error = assert_error(response, 502)
    assert error["code"] == "bad-gateway"
    assert f"SERVICE <{url}>" in error["message"] and error["endpoints"] == [url]
    assert allowing.healthy()
    assert allowing.query("ASK { ?s ?p ?o }").json()["boolean"] is True


def test_service_that_answers_is_not_refused(allowing: Endpoint, remote: str) -> None:
    """The 502s above are about the failures: the same route answers when the remote does."""
    response = allowing.query(FORMS["select"].format(remote + "/ok"))
    assert response.status_code == 200, response.text
    [row] = response.json()["results"]["bindings"]
    assert row["s"]["value"] == "http://example.org/remote"


# -- the store's mapping, without a policy in front ------------------------------------------
def test_store_maps_engine_failures(remote: str) -> None:
    """The store has no policy (the HTTP layer refuses LOAD), so here LOAD shows how a
    fetch that fails would be answered if it were ever allowed."""
    store = OxigraphStore(None)
    closed = f"http://127.0.0.1:{free_port()}/data.ttl"
    for source in (closed, remote + "/garbage.ttl", remote + "/error"):
        with pytest.raises(BadGateway) as failed:
            store.update(f"LOAD <{source}>")
        assert failed.value.message.startswith(f"LOAD <{source}>")
    store.update("CREATE GRAPH <http://example.org/g>")
    with pytest.raises(BadRequest, match="already exists") as twice:
        store.update("CREATE GRAPH <http://example.org/g>")
    assert twice.value.status == 400
    with pytest.raises(QuerySyntaxError) as syntax:
        store.update(f"LOAD <{closed}> ; INSERT DATA {{ <http://a> <http://b> }}")
    assert syntax.value.details["line"] == 1
    with pytest.raises(BadRequest):
        store.query("SELECT * WHERE { ?s ?p ?o }", base_iri="not an IRI")
    failure = engine_error(OSError(28, "No space left on device"), "SELECT * {}", "query")
    assert isinstance(failure, StoreError) and failure.status == 502
    assert failure.code == "store-error"
