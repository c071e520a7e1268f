"""The README's SPARQL example answers on the seed graph, with sentence text."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def test_readme_provenance_example_returns_sentences(seed_store: Any) -> None:
    text = (ROOT / "README.md").read_text()
    query = re.search(r"```sparql\n(.*?)```", text, re.S)
    assert query, "README has no SPARQL example"
    rows = list(seed_store.query(query.group(1)))
    predicates = {row["p"].value for row in rows}
    assert "https://w3id.org/borderkg/def/assistedBy" in predicates
    assert all("fifth large-scale deportation" in row["text"].value for row in rows
               if row["p"].value.endswith("assistedBy"))
