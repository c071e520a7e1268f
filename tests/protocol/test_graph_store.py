"""The Graph Store HTTP Protocol over real HTTP: every operation, direct and indirect
identification, the whole dataset, and the statuses the protocol gives."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
import requests
from pyoxigraph import RdfFormat, parse

from .conftest import AUTH, ONTOLOGY_GRAPH, select

ALICE = ('@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n'
         '<#alice> a foaf:Person ; foaf:name "Alice" .\n')
BOB = '<http://example.org/bob> <http://xmlns.com/foaf/0.1/name> "Bob" .\n'
TURTLE = {**AUTH, "Content-Type": "text/turtle"}
NTRIPLES = {**AUTH, "Content-Type": "application/n-triples"}


@pytest.fixture
def store_url(server) -> str:  # type: ignore[no-untyped-def]
    return server.url + "/graph-store"


@pytest.fixture
def direct(store_url: str) -> tuple[str, str]:
    """A fresh directly identified graph: its URL and its IRI."""
    name = f"test/{uuid.uuid4().hex}"
    return f"{store_url}/{name}", f"https://w3id.org/borderkg/graph/{name}"


def names(response: requests.Response) -> set[str]:
    assert response.status_code == 200, response.text
    fmt = {"text/turtle": RdfFormat.TURTLE, "application/n-triples": RdfFormat.N_TRIPLES}[
        response.headers["Content-Type"].split(";")[0]]
    return {q.object.value for q in parse(response.content, fmt)
            if q.predicate.value == "http://xmlns.com/foaf/0.1/name"}


def test_put_creates_then_replaces(direct: tuple[str, str], sparql: str) -> None:
    url, iri = direct
    created = requests.put(url, data=ALICE, headers=TURTLE, timeout=30)
    assert created.status_code == 201 and created.content == b""
    assert names(requests.get(url, timeout=30)) == {"Alice"}
    replaced = requests.put(url, data=BOB, headers=NTRIPLES, timeout=30)
    assert replaced.status_code == 204
    assert names(requests.get(url, timeout=30)) == {"Bob"}
    rows = select(sparql, f"SELECT ?n WHERE {{ GRAPH <{iri}> {{ ?s ?p ?n }} }}")
    assert [r["n"]["value"] for r in rows] == ["Bob"]


def test_relative_iris_resolve_against_the_graph(direct: tuple[str, str]) -> None:
    url, iri = direct
    requests.put(url, data=ALICE, headers=TURTLE, timeout=30)
    body = requests.get(url, headers={"Accept": "application/n-triples"}, timeout=30).text
    assert f"<{iri}#alice>" in body


def test_indirect_identification_and_get_negotiation(store_url: str, fresh_graph: str) -> None:
    params = {"graph": fresh_graph}
    created = requests.put(store_url, params=params, data=BOB, headers=NTRIPLES, timeout=30)
    assert created.status_code == 201
    for accept in ("text/turtle", "application/n-triples"):
        response = requests.get(store_url, params=params, headers={"Accept": accept}, timeout=30)
        assert response.headers["Content-Type"].startswith(accept)
        assert names(response) == {"Bob"}
    refused = requests.get(store_url, params=params, headers={"Accept": "text/csv"}, timeout=30)
    assert refused.status_code == 406 and "text/turtle" in refused.json()["error"]["message"]


def test_direct_and_indirect_name_the_same_graph(store_url: str) -> None:
    direct_get = requests.get(store_url + "/ontology", headers={"Accept": "application/n-triples"},
                              timeout=30)
    indirect_get = requests.get(store_url, params={"graph": ONTOLOGY_GRAPH},
                                headers={"Accept": "application/n-triples"}, timeout=30)
    assert direct_get.status_code == indirect_get.status_code == 200
    assert sorted(direct_get.text.splitlines()) == sorted(indirect_get.text.splitlines())


def test_post_merges_into_an_existing_graph(direct: tuple[str, str]) -> None:
    url, _ = direct
    requests.put(url, data=BOB, headers=NTRIPLES, timeout=30)
    merged = requests.post(url, data=ALICE, headers=TURTLE, timeout=30)
    assert merged.status_code == 204
    assert names(requests.get(url, timeout=30)) == {"Alice", "Bob"}


def test_post_to_a_new_graph_is_201_with_location(store_url: str, fresh_graph: str) -> None:
    response = requests.post(store_url, params={"graph": fresh_graph}, data=BOB,
                             headers=NTRIPLES, timeout=30)
    assert response.status_code == 201
    assert response.headers["Location"].endswith("graph-store?graph=" + quote(fresh_graph, safe=""))
    assert names(requests.get(response.headers["Location"], timeout=30)) == {"Bob"}


def test_post_to_the_graph_store_creates_a_graph(store_url: str) -> None:
    response = requests.post(store_url, data=ALICE, headers=TURTLE, timeout=30)
    assert response.status_code == 201
    location = response.headers["Location"]
    assert location.startswith(store_url + "/uploads/")
    assert names(requests.get(location, timeout=30)) == {"Alice"}
    # the Location is the graph's IRI for indirect identification too (GSP 5.5)
    indirect = requests.get(store_url, params={"graph": location}, timeout=30,
                            headers={"Accept": "text/turtle"})
    assert names(indirect) == {"Alice"}
    graph = "https://w3id.org/borderkg/graph/uploads/" + location.rsplit("/", 1)[1]
    assert names(requests.get(store_url, params={"graph": graph}, timeout=30)) == {"Alice"}


def test_own_graph_store_urls_name_the_graph_of_their_path(direct: tuple[str, str],
                                                            store_url: str) -> None:
    """``?graph=`` of this service's ``/graph-store/<path>`` URL is the graph of <path>, for
    every method; with a query string it is no such URL and names itself."""
    url, iri = direct
    put = requests.put(store_url, params={"graph": url}, data=BOB, headers=NTRIPLES, timeout=30)
    assert put.status_code == 201, put.text
    assert names(requests.get(url, timeout=30)) == {"Bob"}
    assert names(requests.get(store_url, params={"graph": iri}, timeout=30)) == {"Bob"}
    assert requests.head(store_url, params={"graph": url}, timeout=30).status_code == 200
    assert requests.get(store_url, params={"graph": url + "?x"}, timeout=30).status_code == 404
    deleted = requests.delete(store_url, params={"graph": url}, headers=AUTH, timeout=30)
    assert deleted.status_code == 204
    assert requests.get(url, timeout=30).status_code == 404


def test_multipart_post_with_several_files(direct: tuple[str, str]) -> None:
    url, _ = direct
    files = [("file", ("alice.ttl", ALICE, "text/turtle")),
             ("file", ("bob.nt", BOB, "application/octet-stream")),
             ("other", ("carol.nt", BOB.replace("bob", "carol").replace("Bob", "Carol"), ""))]
    response = requests.post(url, files=files, headers=AUTH, timeout=30)
    assert response.status_code == 201, response.text
    assert names(requests.get(url, timeout=30)) == {"Alice", "Bob", "Carol"}


def test_multipart_part_in_an_unknown_format_writes_nothing(direct: tuple[str, str]) -> None:
    url, _ = direct
    files = [("file", ("bob.nt", BOB, "application/n-triples")),
             ("file", ("notes.txt", "hello", "text/markdown"))]
    response = requests.post(url, files=files, headers=AUTH, timeout=30)
    assert response.status_code == 415 and "notes.txt" in response.json()["error"]["message"]
    assert requests.get(url, timeout=30).status_code == 404


def test_delete_then_404(direct: tuple[str, str]) -> None:
    url, _ = direct
    requests.put(url, data=BOB, headers=NTRIPLES, timeout=30)
    assert requests.delete(url, headers=AUTH, timeout=30).status_code == 204
    missing = requests.get(url, timeout=30)
    assert missing.status_code == 404 and "no graph <" in missing.json()["error"]["message"]
    assert requests.delete(url, headers=AUTH, timeout=30).status_code == 404


def test_head(direct: tuple[str, str]) -> None:
    url, _ = direct
    assert requests.head(url, timeout=30).status_code == 404
    requests.put(url, data=BOB, headers=NTRIPLES, timeout=30)
    head = requests.head(url, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"].startswith("text/turtle")


def test_parse_error_is_400_with_position_and_keeps_the_old_graph(direct: tuple[str, str]) -> None:
    url, _ = direct
    requests.put(url, data=BOB, headers=NTRIPLES, timeout=30)
    broken = ALICE + '<#carol> foaf:name "Carol" ;\n  foaf:knows .\n'
    for method in (requests.put, requests.post):
        response = method(url, data=broken, headers=TURTLE, timeout=30)
        error = response.json()["error"]
        assert response.status_code == 400 and error["line"] == 4 and error["column"]
        assert names(requests.get(url, timeout=30)) == {"Bob"}


def test_mismatched_payload_is_400(direct: tuple[str, str]) -> None:
    url, _ = direct
    rdfxml = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    response = requests.put(url, data=rdfxml, headers=TURTLE, timeout=30)
    assert response.status_code == 400


def test_unsupported_or_missing_content_type_is_415(direct: tuple[str, str]) -> None:
    url, _ = direct
    for headers in ({**AUTH, "Content-Type": "text/csv"}, AUTH):
        response = requests.put(url, data=BOB.encode(), headers=headers, timeout=30)
        assert response.status_code == 415
        assert "application/n-triples" in response.json()["error"]["message"]


def test_default_graph(store_url: str) -> None:
    params = {"default": ""}
    assert requests.get(store_url, params=params, timeout=30).status_code == 200
    assert requests.put(store_url, params=params, data=BOB, headers=NTRIPLES,
                        timeout=30).status_code == 204
    assert names(requests.get(store_url, params=params, timeout=30)) == {"Bob"}
    assert requests.delete(store_url, params=params, headers=AUTH, timeout=30).status_code == 204
    assert names(requests.get(store_url, params=params, timeout=30)) == set()


def test_ambiguous_targets_are_400(store_url: str) -> None:
    both = requests.get(store_url, params={"default": "", "graph": "http://example.org/g"},
                        timeout=30)
    assert both.status_code == 400
    bad = requests.get(store_url, params={"graph": "not an iri"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["parameter"] == "graph"
    assert requests.delete(store_url, headers=AUTH, timeout=30).status_code == 400


def test_writes_need_the_token(direct: tuple[str, str]) -> None:
    url, _ = direct
    for method in ("PUT", "POST", "DELETE"):
        response = requests.request(method, url, data=BOB, timeout=30,
                                    headers={"Content-Type": "application/n-triples"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.get(url, timeout=30).status_code == 404


def test_whole_dataset_get_in_dataset_formats(store_url: str) -> None:
    response = requests.get(store_url, headers={"Accept": "application/n-quads"}, timeout=30)
    assert response.status_code == 200
    graphs = {q.graph_name.value for q in parse(response.content, RdfFormat.N_QUADS)
              if hasattr(q.graph_name, "value")}
    assert ONTOLOGY_GRAPH in graphs
    trig = requests.get(store_url, headers={"Accept": "application/trig"}, timeout=30)
    assert trig.headers["Content-Type"] == "application/trig"
    assert requests.get(store_url, headers={"Accept": "text/turtle"}, timeout=30).status_code == 406


def test_whole_dataset_post_adds_quads(store_url: str, fresh_graph: str, sparql: str) -> None:
    quads = f'<http://example.org/q> <http://example.org/p> "quad" <{fresh_graph}> .\n'
    response = requests.post(store_url, data=quads, timeout=30,
                             headers={**AUTH, "Content-Type": "application/n-quads"})
    assert response.status_code == 204
    rows = select(sparql, f"SELECT ?o WHERE {{ GRAPH <{fresh_graph}> {{ ?s ?p ?o }} }}")
    assert [r["o"]["value"] for r in rows] == ["quad"]


def test_etag_304(direct: tuple[str, str]) -> None:
    url, _ = direct
    requests.put(url, data=BOB, headers=NTRIPLES, timeout=30)
    first = requests.get(url, timeout=30)
    again = requests.get(url, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304
