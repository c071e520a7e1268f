"""One prefix table (``graph.namespace.PREFIXES``): the query page, its prologue, the
Turtle documents, VoID, the service description, ingest drafts and the reconciliation's
queries all take their prefixes from it, so a prefix means one namespace everywhere."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from graph import namespace
from graph.namespace import PREFIXES

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "tests" / "data" / "sources" / "removal-flight-2025-03.txt"


def _turtle_prefixes(text: str) -> dict[str, str]:
    """The ``@prefix`` declarations of a Turtle or TriG text."""
    return dict(re.findall(r"^@prefix\s+([\w-]*):\s*<([^>]*)>\s*\.", text, re.MULTILINE))


def test_schema_is_https_and_bkg_is_the_ontology() -> None:
    assert PREFIXES["schema"] == "https://schema.org/"
    assert PREFIXES["bkg"] == namespace.BKG_IRI == str(namespace.BKG._NS)


def test_helpers_give_the_table_or_its_entries() -> None:
    assert namespace.prefixes() == dict(PREFIXES)
    assert namespace.prefixes("qb", "bkg") == {"qb": PREFIXES["qb"], "bkg": PREFIXES["bkg"]}
    assert namespace.prologue("bkg") == f"PREFIX bkg: <{PREFIXES['bkg']}>\n"
    assert namespace.prologue().splitlines() == [
        f"PREFIX {name}: <{iri}>" for name, iri in PREFIXES.items()]
    with pytest.raises(KeyError):
        namespace.prefixes("nope")


def _page_data(client: Any) -> dict[str, Any]:
    html = client.get("/", headers={"Accept": "text/html"}).get_data(as_text=True)
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html,
                      re.DOTALL)
    assert found, html[:500]
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def test_the_query_editor_gets_the_table_from_the_server(client: Any) -> None:
    data = _page_data(client)
    assert data["prefixes"] == dict(PREFIXES)
    assert data["prologue"] == namespace.prologue()


def test_the_query_page_form_starts_with_the_prologue(client: Any) -> None:
    html = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert namespace.prologue().replace("<", "&lt;").replace(">", "&gt;") in html


def test_no_script_or_template_hard_codes_a_namespace() -> None:
    """The editor's script and the templates hold no table of their own."""
    files = [ROOT / "server" / "static" / "query.js",
             *sorted((ROOT / "server" / "templates").glob("*.html"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        for name, iri in PREFIXES.items():
            assert iri not in text, (path.name, name)


@pytest.mark.parametrize("path", ["/sparql", "/.well-known/void", "/doc/id/country/CHN"])
def test_turtle_answers_declare_the_table(client: Any, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert _turtle_prefixes(response.get_data(as_text=True)) == dict(PREFIXES)


def test_the_linked_data_pages_compact_with_the_table() -> None:
    from server import linked_data, search_api

    assert linked_data.PREFIXES is PREFIXES
    assert search_api.expand("schema:NewsArticle") == "https://schema.org/NewsArticle"
    assert search_api.expand("sd:Service") == PREFIXES["sd"] + "Service"


def test_ingest_drafts_declare_entries_of_the_table() -> None:
    from graph.knowledge.ingest import draft_source, draft_trig

    draft = draft_source(ARTICLE, "prefix-table-test", {})
    declared = _turtle_prefixes(draft_trig(draft))
    shared = {name: iri for name, iri in declared.items() if name in PREFIXES}
    assert shared == {name: PREFIXES[name] for name in shared}
    assert {"bkg", "nif", "schema", "prov", "xsd"} <= set(shared)


def test_the_reconciliation_and_the_analyses_use_the_table() -> None:
    from graph.analysis import vocab
    from graph.documents import description
    from graph.imports import reconcile

    assert reconcile.PREFIXES == namespace.prologue("bkg", "qb")
    assert set(vocab.VOCABULARY_PREFIXES) <= set(PREFIXES.values())
    assert description.PREFIXES == dict(PREFIXES)
