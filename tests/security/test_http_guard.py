"""SERVICE, LOAD and dataset clauses over HTTP: refused with 403 in every syntax variant,
the data unchanged and the service still up; the word SERVICE elsewhere is not refused."""
from __future__ import annotations

import pytest

from tests.conftest import TOKEN

from .conftest import Endpoint, error_of
from .test_guard import ALLOWED_QUERIES, REFUSED_QUERIES, REFUSED_UPDATES

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
        assert response.status_code in (401, 403)
        wrong = endpoint.update("LOAD <file:///etc/passwd>", token=TOKEN + "x")
        assert wrong.status_code in (401, 403)


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
