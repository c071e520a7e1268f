"""The /analyses endpoints on a real server: JSON answers, errors, pictures, writes."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests

from graph import ids
from tests.conftest import TOKEN

ICE = ids.thing("org", "ice")
CHN = ids.thing("country", "CHN")
FLIGHT = ids.thing("flight", "chn-removal-5")
SVG = "{http://www.w3.org/2000/svg}"


def get(server: Any, path: str, **params: Any) -> requests.Response:
    return requests.get(server.url + "/analyses/" + path, params=params, timeout=30)


def test_path_ice_to_china(live_server: Any) -> None:
    response = get(live_server, "path", **{"from": "ICE", "to": "china", "k": 2,
                                           "max_length": 3})
    assert response.status_code == 200
    body = response.json()
    first = body["paths"][0]
    assert [n["iri"] for n in first["nodes"]] == [ICE, FLIGHT, CHN]
    edge = first["hops"][0]["edges"][0]
    assert edge["predicate_label"] == "assisted by" and edge["direction"] == "backward"
    assert edge["sentences"][0]["number"] == 1
    assert "with the assistance of" in edge["sentences"][0]["text"]
    assert "[sentence 1]" in first["explanation"]
    assert len(body["paths"]) == 2 and body["paths"][1]["length"] == 3


@pytest.mark.parametrize("path,params,status,parameter", [
    ("path", {"from": "ICE"}, 400, "to"),
    ("path", {"from": "ICE", "to": "China", "k": "two"}, 400, "k"),
    ("path", {"from": "ICE", "to": "China", "graph": "elsewhere"}, 400, "graph"),
    ("path", {"from": "Chinna", "to": "ICE"}, 404, "from"),
    ("neighbours", {"entity": "ICE", "hops": 9}, 400, "hops"),
    ("centrality", {"measure": "fame"}, 400, "measure"),
    ("communities", {"algorithm": "magic"}, 400, "algorithm"),
    ("similar", {}, 400, "entity"),
])
def test_bad_parameters_are_named(live_server: Any, path: str, params: dict[str, Any],
                                  status: int, parameter: str) -> None:
    response = get(live_server, path, **params)
    assert response.status_code == status
    assert response.json()["error"]["parameter"] == parameter


def test_unknown_entity_suggests_labels(live_server: Any) -> None:
    error = get(live_server, "similar", entity="Chinna").json()["error"]
    assert error["code"] == "unknown-entity"
    assert CHN in [s["iri"] for s in error["suggestions"]]


def test_neighbours_centrality_communities_connectors(live_server: Any) -> None:
    around = get(live_server, "neighbours", entity="Laken Riley Act").json()
    assert len(around["nodes"]) == 8 and around["entity"]["label"] == "Laken Riley Act"
    top = get(live_server, "centrality", measure="betweenness", limit=3).json()
    assert top["parameters"] == {"exact": True}
    assert top["scores"][0]["iri"] == ids.thing("org", "dhs")
    groups = get(live_server, "communities", seed=1).json()
    assert groups["count"] >= 2 and groups["modularity"] > 0.3
    assert get(live_server, "communities", seed=1).json() == groups
    key = get(live_server, "connectors", limit=5).json()
    assert key["articulation_points"][0]["iri"] == ids.thing("org", "dhs")
    article_only = get(live_server, "centrality", graph="article", limit=1).json()
    assert article_only["projection"]["graphs"] == [ids.GRAPH_ARTICLE]


def _texts(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join((t.text or "") for t in root.iter(SVG + "text"))


def test_neighbourhood_picture_shows_its_labels(live_server: Any) -> None:
    response = get(live_server, "neighbours.svg", entity="ICE")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    words = _texts(response.content)
    for expected in ("U.S. Immigration and", "assisted by [sentence 1]", "sub organization of",
                     "U.S. Department of"):
        assert expected in words


def test_path_picture_shows_its_labels(live_server: Any) -> None:
    response = get(live_server, "path.svg", **{"from": "ICE", "to": "China", "k": 1})
    words = _texts(response.content)
    assert "China" in words and "destination [sentence 1]" in words and "fifth" in words


def test_write_needs_the_token(live_server: Any) -> None:
    url = live_server.url + "/analyses/write"
    missing = requests.post(url, timeout=30)
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert requests.post(url, headers={"Authorization": "Bearer wrong"},
                         timeout=30).status_code == 401
    done = requests.post(url, params={"measure": "pagerank"}, timeout=60,
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert done.status_code == 200
    body = done.json()
    assert body["graph"] == "https://w3id.org/borderkg/graph/analyses"
    assert body["measures"] == ["pagerank"] and body["triples"] > 82
