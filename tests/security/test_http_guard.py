"""SERVICE, LOAD and dataset clauses over HTTP: refused with 403 in every syntax variant
that would reach outside, the data unchanged and the service still up; the word SERVICE
elsewhere is not refused; SILENT calls that are not allowed are skipped and say so; graphs
without triples are empty graphs, never fetched, on the disk and the memory store."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import TOKEN

from ._oracle import Listener
from .conftest import Endpoint, error_of, start
from .test_guard import (
    ABSENT_GRAPH_QUERIES,
    ALLOWED_QUERIES,
    PARSABLE_LOADS,
    REFUSED_QUERIES,
    REFUSED_UPDATES,
    SKIPPED_QUERIES,
    SKIPPED_UPDATES,
    UNPARSABLE_LOADS,
)

OWN = "https://w3id.org/borderkg/graph/background"


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("text", REFUSED_QUERIES)
def test_refused_query(endpoint: Endpoint, text: str, method: str) -> None:
    with endpoint.intact():
        response = endpoint.query(text, method=method)
        assert response.status_code == 403, response.text
        error = error_of(response)
        assert error["status"] == 403 and "refused" in error["message"]


@pytest.mark.parametrize("text", REFUSED_UPDATES)
def test_refused_update(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.update(text)
        assert response.status_code == 403, response.text
        assert "refused" in error_of(response)["message"]


@pytest.mark.parametrize("text", ALLOWED_QUERIES)
def test_service_word_elsewhere_is_not_refused(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.query(text)
        assert response.status_code == 200, response.text
        assert "results" in response.json()


def test_load_without_token_is_refused_before_policy(endpoint: Endpoint) -> None:
    with endpoint.intact():
        response = endpoint.update("LOAD <file:///etc/passwd>", token=None)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        wrong = endpoint.update("LOAD <file:///etc/passwd>", token=TOKEN + "x")
        assert wrong.status_code == 401 and "not valid" in wrong.json()["error"]["message"]
        assert wrong.headers["WWW-Authenticate"].startswith("Bearer")


def test_protocol_dataset_parameters_are_checked(endpoint: Endpoint) -> None:
    with endpoint.intact():
        query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
        for parameter in ("default-graph-uri", "named-graph-uri"):
            response = endpoint.session.get(endpoint.url + "/sparql", params={
                "query": query, parameter: "file:///etc/passwd"}, timeout=30)
            assert response.status_code == 403, (parameter, response.text)
        allowed = endpoint.session.get(endpoint.url + "/sparql", params={
            "query": query, "default-graph-uri": OWN}, timeout=30)
        assert allowed.status_code == 200, allowed.text


def test_allowed_with_clause_writes_only_inside(endpoint: Endpoint) -> None:
    graph = "https://w3id.org/borderkg/graph/security-scratch"
    before = endpoint.count()
    response = endpoint.update(f"WITH <{graph}> INSERT {{ <http://example.org/a> "
                               "<http://example.org/b> 1 } WHERE { }")
    assert response.status_code in (200, 204), response.text
    assert endpoint.count() > before
    assert endpoint.update(f"DROP GRAPH <{graph}>").status_code in (200, 204)
    assert endpoint.count() == before


# -- SILENT ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", SKIPPED_QUERIES)
def test_a_silent_service_that_is_not_allowed_is_skipped(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.query(text)
        assert response.status_code == 200, response.text
        assert response.headers["X-BorderKG-Service-Skipped"].startswith("<")
        # the answer is that of the text with the clause replaced by the join identity
        identity = endpoint.query(re.sub(r"SERVICE SILENT[^{]*\{[^{}]*\}", "{}", text,
                                         flags=re.IGNORECASE))
        assert identity.status_code == 200, identity.text
        assert "X-BorderKG-Service-Skipped" not in identity.headers
        body, expected = response.json(), identity.json()
        assert body.get("boolean") == expected.get("boolean")
        if "results" in body:
            assert len(body["results"]["bindings"]) == len(expected["results"]["bindings"])


def test_a_skipped_service_keeps_the_rows_around_it(endpoint: Endpoint) -> None:
    response = endpoint.query("SELECT ?x WHERE { VALUES ?x { 1 2 } "
                              "SERVICE SILENT <http://127.0.0.1:9/sparql> { ?x ?p ?o } }")
    assert response.status_code == 200, response.text
    assert response.headers["X-BorderKG-Service-Skipped"] == "<http://127.0.0.1:9/sparql>"
    assert sorted(b["x"]["value"] for b in response.json()["results"]["bindings"]) == ["1", "2"]
    plain = endpoint.query("SELECT ?x WHERE { VALUES ?x { 1 2 } }")
    assert "X-BorderKG-Service-Skipped" not in plain.headers


@pytest.mark.parametrize("text", SKIPPED_UPDATES)
def test_a_silent_load_that_is_not_allowed_is_skipped(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.update(text)
        assert response.status_code == 204, response.text
        skipped = {h for h in ("X-BorderKG-Load-Skipped", "X-BorderKG-Service-Skipped")
                   if h in response.headers}
        assert skipped


@pytest.mark.parametrize("text", UNPARSABLE_LOADS)
def test_a_load_the_engine_cannot_parse_is_400(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.update(text)
        assert response.status_code == 400, response.text
        assert error_of(response)["code"] == "syntax-error"


@pytest.mark.parametrize("text", PARSABLE_LOADS)
def test_a_load_that_parses_is_403(endpoint: Endpoint, text: str) -> None:
    with endpoint.intact():
        response = endpoint.update(text)
        assert response.status_code == 403, response.text
        assert error_of(response)["setting"] == "allowed_load_hosts"


# -- graphs without triples ------------------------------------------------------------------
def test_drop_and_clear_of_a_graph_without_triples_succeed(endpoint: Endpoint) -> None:
    with endpoint.intact():
        for text in ("DROP GRAPH <http://example.org/none>",
                     "CLEAR GRAPH <http://example.org/none>",
                     "DROP GRAPH <http://example.org/none> ; CLEAR GRAPH <http://example.org/n2>"):
            response = endpoint.update(text)
            assert response.status_code == 204, (text, response.text)
        moved = endpoint.update("MOVE <http://example.org/none> TO <http://example.org/n2>")
        assert moved.status_code == 400, moved.text  # a missing source stays an error


def test_an_update_after_a_drop_of_a_missing_graph_runs_once(endpoint: Endpoint) -> None:
    graph = "https://w3id.org/borderkg/graph/security-drop"
    response = endpoint.update(f"DROP GRAPH <{graph}> ; INSERT DATA {{ GRAPH <{graph}> {{ "
                               "<http://example.org/a> <http://example.org/b> 1 } }")
    assert response.status_code == 204, response.text
    rows = endpoint.query(f"SELECT * WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").json()
    assert len(rows["results"]["bindings"]) == 1
    assert endpoint.update(f"DROP GRAPH <{graph}>").status_code == 204


@pytest.fixture(scope="module")
def memory_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    """A memory-store server (the hostile-input server is on disk)."""
    root = tmp_path_factory.mktemp("security-memory")
    server = start(root / "data", root / "server.log", ["--store", "memory", "--empty"])
    try:
        yield Endpoint(server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.mark.parametrize("store", ["disk", "memory"])
def test_dataset_iris_are_empty_graphs_never_fetched(
        store: str, endpoint: Endpoint, memory_endpoint: Endpoint, listener: Listener) -> None:
    """FROM, FROM NAMED, the protocol's graphs, USING and WITH naming a loopback listener:
    answered from empty graphs; the listener sees no connection."""
    server = endpoint if store == "disk" else memory_endpoint
    graph = listener.origin + "/x"
    hits = listener.hits
    with server.intact():
        for text in [*ABSENT_GRAPH_QUERIES,
                     f"SELECT * FROM <{graph}> FROM NAMED <{graph}> WHERE {{ ?s ?p ?o }}",
                     f"ASK FROM <{graph}> {{ ?s ?p ?o }}"]:
            response = server.query(text)
            assert response.status_code == 200, (text, response.text)
        for parameter in ("default-graph-uri", "named-graph-uri"):
            response = server.session.get(server.url + "/sparql", params={
                "query": "SELECT * WHERE { ?s ?p ?o }", parameter: graph}, timeout=30)
            assert response.status_code == 200, (parameter, response.text)
            assert response.json()["results"]["bindings"] == []
        used = server.update(f"INSERT {{ <http://example.org/a> <http://example.org/b> 1 }} "
                             f"USING <{graph}> USING NAMED <{graph}/n> WHERE {{ ?s ?p ?o }}")
        assert used.status_code == 204, used.text
    made = server.update(f"WITH <{graph}/new> INSERT {{ <http://example.org/a> "
                         "<http://example.org/b> 1 } WHERE { }")
    assert made.status_code == 204, made.text
    rows = server.query(f"SELECT * FROM <{graph}/new> WHERE {{ ?s ?p ?o }}").json()
    assert len(rows["results"]["bindings"]) == 1  # WITH <new> INSERT made the graph
    assert server.update(f"DROP GRAPH <{graph}/new>").status_code == 204
    assert listener.hits == hits, listener.request_lines


def test_using_graph_uri_of_a_graph_the_update_makes(endpoint: Endpoint) -> None:
    """The protocol's update dataset tests: the request's own INSERT DATA makes the graph
    its WHERE then reads through using-graph-uri."""
    graph = "http://example.org/security-using"
    text = (f"PREFIX e: <http://example.org/> INSERT DATA {{ GRAPH <{graph}> {{ e:s e:p 1 }} }} ;"
            " INSERT { GRAPH <http://example.org/security-copy> { ?s ?p ?o } } WHERE { ?s ?p ?o }")
    response = requests.post(endpoint.url + "/sparql", timeout=30, data={
        "update": text, "using-graph-uri": graph}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 204, response.text
    rows = endpoint.query("SELECT * WHERE { GRAPH <http://example.org/security-copy> "
                          "{ ?s ?p ?o } }").json()["results"]["bindings"]
    assert len(rows) == 1
    endpoint.update(f"DROP GRAPH <{graph}> ; DROP GRAPH <http://example.org/security-copy>")


def test_load_from_an_allowed_host_fetches(tmp_path: Path, listener: Listener) -> None:
    """With allowed_load_hosts, LOAD reaches that host (here: the listener, which answers
    500, so the LOAD fails with 502 and LOAD SILENT succeeds)."""
    server = start(tmp_path / "data", tmp_path / "server.log",
                   ["--store", "memory", "--empty", "--allowed-load-hosts", "127.0.0.1"])
    try:
        client = Endpoint(server)
        hits = listener.hits
        failed = client.update(f"LOAD <{listener.origin}/data.ttl>")
        assert failed.status_code == 502, failed.text
        assert client.update(f"LOAD SILENT <{listener.origin}/data.ttl>").status_code == 204
        assert listener.hits == hits + 2
        refused = client.update("LOAD <http://localhost:9/data.ttl>")
        assert refused.status_code == 403, refused.text
    finally:
        server.stop()
