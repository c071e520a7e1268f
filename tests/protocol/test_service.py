"""Service-level behaviour over real HTTP: the service description, row cap, write
permissions, CORS, metrics, request logs, body limits, whole-dataset replacement, and
readers running while updates commit."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, Literal, Namespace, URIRef

from tests.conftest import TOKEN, LiveServer

from .conftest import ARTICLE_GRAPH, AUTH, select, serve, update

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = Namespace("http://rdfs.org/ns/void#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")


def description(url: str, accept: str = "text/turtle") -> Graph:
    response = requests.get(url + "/sparql", headers={"Accept": accept}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith(accept)
    return Graph().parse(data=response.text, format={"text/turtle": "turtle",
                                                     "application/rdf+xml": "xml"}[accept])


def test_service_description(server: LiveServer) -> None:
    sd = description(server.url)
    service = next(sd.subjects(SD.endpoint, URIRef(server.url + "/sparql")))
    assert set(sd.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query,
                                                               SD.SPARQL11Update}
    formats = set(sd.objects(service, SD.resultFormat))
    assert {FORMATS.SPARQL_Results_JSON, FORMATS.SPARQL_Results_CSV, FORMATS.Turtle,
            FORMATS["JSON-LD"], FORMATS["N-Quads"]} <= formats
    assert (service, SD.feature, SD.UnionDefaultGraph) in sd
    assert (service, SD.feature, SD.BasicFederatedQuery) not in sd
    dataset = sd.value(service, SD.defaultDataset)
    named = {sd.value(n, SD.name): sd.value(n, SD.graph) for n in sd.objects(dataset,
                                                                             SD.namedGraph)}
    article = named[URIRef(ARTICLE_GRAPH)]
    counted = select(server.url + "/sparql",
                     f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{ARTICLE_GRAPH}> {{ ?s ?p ?o }} }}")
    assert sd.value(article, VOID.triples) == Literal(int(counted[0]["n"]["value"]))
    for statistic in (VOID.entities, VOID.classes, VOID.properties, VOID.distinctSubjects,
                      VOID.distinctObjects):
        assert sd.value(article, statistic).toPython() > 0


def test_service_description_in_rdfxml_and_browsers_get_the_page(server: LiveServer) -> None:
    assert len(description(server.url, "application/rdf+xml")) > 20
    page = requests.get(server.url + "/sparql", timeout=30, headers={
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"})
    assert page.headers["Content-Type"].startswith("text/html") and "<textarea" in page.text


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """An empty server: row cap 2, 4 kB bodies, own default graph, a public base, no token,
    one CORS origin."""
    live = serve(tmp_path_factory.mktemp("small"), "--empty", "--max-rows", "2",
                 "--max-body-bytes", "4096", "--public-base", "https://kg.example.org/",
                 "--cors-origins", "https://app.example.org",
                 env={"BORDERKG_DEFAULT_GRAPH_UNION": "false"})
    yield live
    live.stop()


def test_row_cap_is_announced(small: LiveServer) -> None:
    query = "SELECT ?x WHERE { VALUES ?x { 1 2 3 } }"
    response = requests.get(small.url + "/sparql", params={"query": query, "format": "json"},
                            timeout=30)
    assert response.headers["X-BorderKG-Truncated"] == "true"
    assert response.headers["X-BorderKG-Row-Limit"] == "2"
    assert len(response.json()["results"]["bindings"]) == 2
    whole = requests.get(small.url + "/sparql", params={"query": query + " LIMIT 2"}, timeout=30)
    assert "X-BorderKG-Truncated" not in whole.headers


def test_description_follows_settings(small: LiveServer) -> None:
    sd = description(small.url)
    assert (None, SD.endpoint, URIRef("https://kg.example.org/sparql")) in sd
    assert (None, SD.feature, SD.UnionDefaultGraph) not in sd


def test_writes_refused_without_a_configured_token(small: LiveServer) -> None:
    response = update(small.url + "/sparql", "INSERT DATA { <http://a> <http://b> 1 }")
    assert response.status_code == 403
    assert "BORDERKG_UPDATE_TOKEN" in response.json()["error"]["message"]
    put = requests.put(small.url + "/graph-store?default", data="<http://a> <http://b> 1 .",
                       headers={**AUTH, "Content-Type": "application/n-triples"}, timeout=30)
    assert put.status_code == 403


def test_wrong_token_is_401(server: LiveServer) -> None:
    response = requests.post(server.url + "/sparql", data={"update": "CLEAR DEFAULT"},
                             headers={"Authorization": "Bearer wrong"}, timeout=30)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    basic = requests.post(server.url + "/sparql", data={"update": "CLEAR DEFAULT"},
                          auth=("user", TOKEN), timeout=30)
    assert basic.status_code == 401


def test_body_over_the_limit_is_413(small: LiveServer) -> None:
    big = "ASK { " + "# padding\n" * 1000 + "}"
    response = requests.post(small.url + "/sparql", data=big.encode(), timeout=30,
                             headers={"Content-Type": "application/sparql-query"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload-too-large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while reading
        yield b"ASK { "
        for _ in range(100):
            yield b"# padding padding padding padding padding padding padding padding\n"
        yield b"}"

    streamed = requests.post(small.url + "/sparql", data=chunks(), timeout=30,
                             headers={"Content-Type": "application/sparql-query"})
    assert streamed.status_code == 413


def test_cors(server: LiveServer, small: LiveServer) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    read = requests.get(server.url + "/sparql", params={"query": "ASK {}"}, headers=origin,
                        timeout=30)
    assert read.headers["Access-Control-Allow-Origin"] == "*"
    assert "X-BorderKG-Truncated" in read.headers["Access-Control-Expose-Headers"]
    preflight = requests.options(server.url + "/sparql", timeout=30, headers={
        **origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert preflight.status_code == 200
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    listed = requests.get(small.url + "/healthz", headers={"Origin": "https://app.example.org"},
                          timeout=30)
    assert listed.headers["Access-Control-Allow-Origin"] == "https://app.example.org"
    other = requests.get(small.url + "/healthz", headers=origin, timeout=30)
    assert "Access-Control-Allow-Origin" not in other.headers


def test_metrics_and_request_log(server: LiveServer) -> None:
    requests.get(server.url + "/sparql", params={"query": "ASK {}", "token": "secret-in-url"},
                 headers=AUTH, timeout=30)
    requests.get(server.url + "/sparql", params={"query": "SELECT"}, timeout=30)
    text = requests.get(server.url + "/metrics", timeout=30).text
    assert 'borderkg_http_requests_total{method="GET",route="/sparql",status="200"}' in text
    assert 'route="/sparql",status="400"' in text
    assert "borderkg_http_request_seconds_bucket" in text
    assert "borderkg_query_timeouts_total 0.0" in text
    quads = next(line for line in text.splitlines() if line.startswith("borderkg_store_quads "))
    assert float(quads.split()[1]) > 1000
    log = server.log()
    assert "GET /sparql 200 " in log and "GET /sparql 400 " in log
    assert TOKEN not in log and "secret-in-url" not in log


def test_put_replaces_the_whole_dataset(tmp_path: Path) -> None:
    live = serve(tmp_path, "--empty", env={"BORDERKG_UPDATE_TOKEN": TOKEN})
    try:
        url = live.url + "/graph-store"
        first = '<http://e/a> <http://e/p> "1" <http://e/g1> .\n<http://e/a> <http://e/p> "0" .\n'
        headers = {**AUTH, "Content-Type": "application/n-quads"}
        assert requests.put(url, data=first, headers=headers, timeout=30).status_code == 204
        second = '<http://e/b> <http://e/p> "2" <http://e/g2> .\n'
        assert requests.put(url, data=second, headers=headers, timeout=30).status_code == 204
        dump = requests.get(url, headers={"Accept": "application/n-quads"}, timeout=30).text
        assert dump.strip().splitlines() == [second.strip()]
        broken = requests.put(url, data="<http://e/c> <http://e/p> .", headers=headers, timeout=30)
        assert broken.status_code == 400
        dump = requests.get(url, headers={"Accept": "application/n-quads"}, timeout=30).text
        assert dump.strip().splitlines() == [second.strip()]
    finally:
        live.stop()


def test_readers_never_see_half_an_update(server: LiveServer, fresh_graph: str) -> None:
    """Each update moves a batch of 50 triples from one value to the next in one request;
    concurrent readers must always count 50 triples of a single value."""
    sparql = server.url + "/sparql"
    triples = " ".join(f"<{fresh_graph}/s{i}> <http://example.org/v> 0 ." for i in range(50))
    assert update(sparql, f"INSERT DATA {{ GRAPH <{fresh_graph}> {{ {triples} }} }}").ok
    count = (f"SELECT ?v (COUNT(*) AS ?n) WHERE {{ GRAPH <{fresh_graph}> "
             "{ ?s <http://example.org/v> ?v } } GROUP BY ?v")
    seen: list[list[tuple[str, str]]] = []
    done = threading.Event()
    failures: list[str] = []

    def reader() -> None:
        session = requests.Session()
        while not done.is_set():
            response = session.get(sparql, params={"query": count}, timeout=30,
                                   headers={"Accept": "application/sparql-results+json"})
            if response.status_code != 200:
                failures.append(response.text)
                return
            seen.append([(r["v"]["value"], r["n"]["value"])
                         for r in response.json()["results"]["bindings"]])

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for thread in readers:
        thread.start()
    try:
        for step in range(1, 21):
            move = (f"WITH <{fresh_graph}> DELETE {{ ?s <http://example.org/v> {step - 1} }} "
                    f"INSERT {{ ?s <http://example.org/v> {step} }} "
                    f"WHERE {{ ?s <http://example.org/v> {step - 1} }}")
            assert update(sparql, move).status_code == 204
    finally:
        done.set()
        for thread in readers:
            thread.join(30)
    assert not failures
    assert seen and all(len(rows) == 1 and rows[0][1] == "50" for rows in seen)
    assert len({rows[0][0] for rows in seen}) >= 2


def test_empty_serves_only_what_was_loaded(small: LiveServer) -> None:
    rows = select(small.url + "/sparql", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert rows[0]["n"]["value"] == "0"
    assert "writes: disabled (set BORDERKG_UPDATE_TOKEN)" in small.log()


@pytest.mark.parametrize("raw, iri_tail", [("x%2541", "x%41"), ("caf%C3%A9", "caf\u00e9")])
def test_paths_are_percent_decoded_once(server: LiveServer, raw: str, iri_tail: str) -> None:
    """The HTTP server hands the app the path decoded exactly once (``%2541`` is ``%41``)."""
    answer = requests.get(f"{server.url}/doc/id/org/{raw}", timeout=30)
    assert answer.status_code == 404
    assert answer.json()["error"]["iri"] == f"https://w3id.org/borderkg/id/org/{iri_tail}"
