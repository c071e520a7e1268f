"""``/openapi.json`` describes the app that serves it: every route Flask knows with its
methods, no path it does not serve, the analyses' maxima as the analyses enforce them,
and every response header the service sets exposed to cross-origin scripts."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from queries import list_queries
from server.observability import EXPOSED, RESPONSE_HEADERS

ROOT = Path(__file__).resolve().parents[2]
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered for every GET / every path by Flask


@pytest.fixture
def doc(client: Any) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def template(rule: str) -> str:
    """A Flask rule or an OpenAPI path with its variables blanked: ``/doc/{}``."""
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", rule)


def flask_routes(app: Any) -> set[tuple[str, str]]:
    """(path template, method) for every rule, a ``/queries/<name>`` rule standing for
    each named query (the document has one operation per query, with its parameters)."""
    routes = set()
    for rule in app.url_map.iter_rules():
        paths = ([f"/queries/{name}" for name in list_queries()]
                 if rule.rule == "/queries/<name>" else [template(rule.rule)])
        for method in rule.methods - IGNORED_METHODS:
            routes.update((path, method.lower()) for path in paths)
    return routes


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(template(path), method) for path, item in doc["paths"].items()
            for method in item if method.upper() not in IGNORED_METHODS}


def test_every_route_is_documented(app: Any, doc: dict[str, Any]) -> None:
    missing = flask_routes(app) - documented(doc)
    assert not missing, sorted(missing)


def test_nothing_is_documented_that_is_not_served(app: Any, doc: dict[str, Any]) -> None:
    phantom = documented(doc) - flask_routes(app)
    assert not phantom, sorted(phantom)


def test_updates_are_documented_on_post_sparql(doc: dict[str, Any]) -> None:
    post = doc["paths"]["/sparql"]["post"]
    body = post["requestBody"]["content"]
    assert {"application/sparql-update", "application/sparql-query",
            "application/x-www-form-urlencoded"} <= set(body)
    assert "update" in body["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert {"bearer": []} in post["security"] and "204" in post["responses"]


#: what an analysis needs besides the parameter tested (centrality's k is betweenness')
BASE = {"path": {"from": "China", "to": "U.S. Department of Homeland Security"},
        "neighbours": {"entity": "China"}, "similar": {"entity": "China"},
        "centrality": {"measure": "betweenness"}}


def analysis_maxima(doc: dict[str, Any]) -> list[tuple[str, str, Any]]:
    return [(path, p["name"], p["schema"]["maximum"])
            for path, item in doc["paths"].items() if path.startswith("/analyses/")
            for op in item.values() if "get" in item and op is item["get"]
            for p in op["parameters"] if "maximum" in p["schema"]]


def test_analysis_maxima_are_the_enforced_caps(client: Any, doc: dict[str, Any]) -> None:
    maxima = analysis_maxima(doc)
    assert {name for _, name, _ in maxima} >= {"k", "max_length", "hops", "max_nodes",
                                               "limit", "members", "seed", "resolution"}
    for path, name, maximum in maxima:
        if path.endswith(".svg"):
            continue  # the same parameters as the JSON analysis, and drawing caps apart
        base = BASE.get(path.removeprefix("/analyses/"), {})
        over = maximum + (1 if isinstance(maximum, int) else 0.5)
        refused = client.get(path, query_string={**base, name: over})
        assert refused.status_code == 400, (path, name, over)
        assert refused.get_json()["error"].get("parameter") == name, refused.get_json()
        at_cap = client.get(path, query_string={**base, name: maximum})
        error = at_cap.get_json().get("error", {}) if at_cap.status_code >= 400 else {}
        assert error.get("parameter") != name, (path, name, maximum, error)


def test_every_response_header_set_is_exposed_to_cors() -> None:
    written = set()
    for folder in ("server", "graph"):
        for source in (ROOT / folder).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            written.update(re.findall(r"\bX-BorderKG-[A-Za-z-]+\b", text))
            written.update(re.findall(r"headers\[\"([A-Za-z-]+)\"\]\s*=", text))
    safelisted = {"Content-Type", "Cache-Control", "Content-Length", "Vary"}
    sent = {"Authorization", "Accept"}  # what the remote store's client sends upstream
    cors_own = {h for h in written if h.startswith("Access-Control-")}
    missing = written - set(RESPONSE_HEADERS) - safelisted - sent - cors_own
    assert not missing, sorted(missing)
    assert EXPOSED.split(", ") == list(RESPONSE_HEADERS)


def test_the_skipped_service_header_reaches_cross_origin_scripts(client: Any,
                                                                  doc: dict[str, Any]) -> None:
    query = "SELECT * WHERE { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } }"
    response = client.post("/sparql", data={"query": query},
                           headers={"Origin": "http://example.com",
                                    "Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.headers["X-BorderKG-Service-Skipped"] == "<http://example.org/sparql>"
    exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
    assert "X-BorderKG-Service-Skipped" in exposed
    headers = doc["paths"]["/sparql"]["get"]["responses"]["200"]["headers"]
    assert "X-BorderKG-Service-Skipped" in headers
    assert set(doc["components"]["headers"]) <= set(exposed)
