"""The service on a remote store: seed build, SPARQL endpoint, updates, import,
reconciliation — the same answers as on the embedded store."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ARTICLE, CBP_STATE_CSV, TOKEN

BKG = "https://w3id.org/borderkg/def/"


SERVERS = {"remote-oxigraph": "oxigraph_server", "remote-virtuoso": "virtuoso_server",
           "remote-borderkg": "borderkg_server"}


@pytest.fixture(params=list(SERVERS))
def remote_app(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    from graph.service import Service
    from graph.settings import load_settings
    from graph.store.remote import RemoteStore
    from server.app import create_app

    urls = request.getfixturevalue(SERVERS[request.param])
    auth = {"remote_auth": "bearer", "remote_password": urls["token"]} if "token" in urls \
        else {}
    settings = load_settings({"store": "remote", "remote_query_url": urls["query"],
                              "remote_update_url": urls["update"],
                              "remote_graph_store_url": urls.get("store"),
                              "data_dir": str(tmp_path), "article": str(ARTICLE),
                              "update_token": TOKEN, **auth}, environ={})
    RemoteStore.from_settings(settings).clear()
    service = Service.start(settings)
    yield create_app(settings, service)
    service.store.clear()
    service.close()


def test_service_on_remote_store(remote_app: Any, tmp_path: Any) -> None:
    from graph.imports.cbp import import_cbp

    client = remote_app.test_client()
    query = f"SELECT (COUNT(?f) AS ?n) WHERE {{ ?f a <{BKG}StatedFigure> }}"
    answer = client.get("/sparql", query_string={"query": query},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["results"]["bindings"][0]["n"]["value"] == "5"
    update = client.post("/sparql", data={"update": "INSERT DATA { GRAPH <http://example.org/g> "
                                          "{ <http://example.org/a> <http://example.org/b> 1 } }"},
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert update.status_code in (200, 204), update.get_data(as_text=True)
    # a slice of the real table: Chinese citizens in FY2022 (every month of it), so FY2022
    # can be reconciled and FY2023 cannot
    table = tmp_path / "fy2022.csv"
    with open(CBP_STATE_CSV, encoding="utf-8") as source:
        header, *rows = source.readlines()
    table.write_text(header + "".join(r for r in rows if r.startswith("2022,")
                                      and '"CHINA, PEOPLES REPUBLIC OF"' in r))
    store = remote_app.extensions["borderkg"].store
    import_cbp(store, table, progress=False)
    body = client.get("/reconciliation").get_json()
    statuses = {r["claim"].rsplit("/", 1)[-1]: (r["status"], r["official"])
                for r in body["results"]}
    assert statuses["chn-swb-encounters-fy2022"] == ("consistent", 2_176)
    assert statuses["chn-swb-encounters-fy2023"][0] == "unverifiable"


def test_virtuoso_digest_auth_endpoint(virtuoso_server: dict[str, str]) -> None:
    from graph.errors import StoreError
    from graph.settings import load_settings
    from graph.store.remote import RemoteStore

    def store(password: str) -> RemoteStore:
        return RemoteStore.from_settings(load_settings(
            {"store": "remote", "remote_query_url": virtuoso_server["query"],
             "remote_update_url": virtuoso_server["auth_url"], "remote_user": "dba",
             "remote_password": password, "remote_auth": "digest"}, environ={}))

    good = store("dba")
    graph = "http://example.org/digest"
    good.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{graph}#a> <{graph}#b> _:x }} }}")
    assert good.count(graph) == 1
    good.drop_graph(graph)
    with pytest.raises(StoreError) as info:
        store("wrong").update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{graph}#a> <{graph}#b> 1 }} }}")
    assert info.value.status == 502 and "401" in info.value.message
    assert good.count(graph) == 0


def test_bearer_token_for_a_remote_borderkg(borderkg_server: dict[str, str]) -> None:
    from graph.errors import ConfigError, StoreError
    from graph.settings import load_settings
    from graph.store.remote import RemoteStore

    def store(token: str | None) -> RemoteStore:
        return RemoteStore.from_settings(load_settings(
            {"store": "remote", "remote_query_url": borderkg_server["query"],
             "remote_auth": "bearer", "remote_password": token}, environ={}))

    good = store(borderkg_server["token"])
    graph = "http://example.org/bearer"
    good.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <{graph}#a> <{graph}#b> 1 }} }}")
    assert good.count(graph) == 1
    with pytest.raises(StoreError) as info:
        store("wrong-token").update(f"DROP GRAPH <{graph}>")
    assert info.value.status == 502 and "401" in info.value.message
    assert good.count(graph) == 1
    good.drop_graph(graph)
    assert good.count(graph) == 0
    with pytest.raises(ConfigError):
        store(None)
