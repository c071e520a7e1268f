"""``/queries`` over HTTP: listing, formats, paging, validation."""
from __future__ import annotations

import csv
import io
from typing import Any


def test_list_in_json_and_html(client: Any) -> None:
    listing = client.get("/queries").json["queries"]
    assert len(listing) >= 15 and {"name", "title", "params"} <= set(listing[0])
    page = client.get("/queries", headers={"Accept": "text/html"}).get_data(True)
    assert "Organisational chain of an agency" in page


def test_run_in_json_csv_and_html(client: Any) -> None:
    body = client.get("/queries/organisation-chain").json
    assert [b["level"]["value"] for b in body["results"]["bindings"]] == ["0", "1", "2", "3"]
    response = client.get("/queries/organisation-chain?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.get_data(True))))
    assert response.mimetype == "text/csv"
    assert rows[1]["label"] == "U.S. Customs and Border Protection"
    page = client.get("/queries/organisation-chain?agency=https://w3id.org/borderkg/id/org/ice",
                      headers={"Accept": "text/html,*/*;q=0.8"}).get_data(True)
    assert "U.S. Immigration and Customs Enforcement" in page and "<table" in page


def test_paging(client: Any) -> None:
    def names(query: str) -> list[str]:
        bindings = client.get(f"/queries/claims-with-sources?{query}").json["results"]["bindings"]
        return [b["claim"]["value"] for b in bindings]
    assert names("limit=3") + names("limit=3&offset=3") == names("limit=6")
    assert client.get("/queries/claims-with-sources?limit=-1").status_code == 400
    error = client.get("/queries/claims-with-sources?offset=x").json["error"]
    assert error["parameter"] == "offset"


def test_errors_name_the_parameter(client: Any) -> None:
    response = client.get("/queries/laws-status-at-date?at=yesterday")
    assert response.status_code == 400 and response.json["error"]["parameter"] == "at"
    assert client.get("/queries/laws-status-at-date?when=2025-01-01").status_code == 400
    assert client.get("/queries/missing").status_code == 404
    assert client.get("/queries/graphs-overview?format=pdf").status_code == 406
