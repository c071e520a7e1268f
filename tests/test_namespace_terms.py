"""The checked namespace: the analyses' terms follow ``ontology/analysis.ttl``, the plain
and the rdflib views name the same terms, code names terms through them rather than
building IRI strings, and the service starts without importing rdflib."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

import ontology
from graph import namespace
from graph.namespace import ANALYSIS_TERMS, BKG, BKG_IRI, DOMAIN_TERMS, BKGAnalysis, bkg

ROOT = Path(__file__).resolve().parents[1]


def _defined(text: str) -> set[str]:
    graph = Graph().parse(data=text, format="turtle")
    return {str(s)[len(BKG_IRI):] for s in graph.subjects()
            if isinstance(s, URIRef) and str(s).startswith(BKG_IRI)}


def test_analysis_terms_match_their_turtle_both_ways() -> None:
    assert _defined(ontology.read_text("analysis.ttl")) == set(ANALYSIS_TERMS)
    assert set(BKGAnalysis.__annotations__) == set(ANALYSIS_TERMS)
    assert not set(ANALYSIS_TERMS) & set(DOMAIN_TERMS)


def test_plain_and_rdflib_views_name_the_same_iris() -> None:
    assert set(BKG.__annotations__) == set(DOMAIN_TERMS)
    for name in DOMAIN_TERMS:
        assert bkg[name] == getattr(bkg, name) == str(BKG[name]) == BKG_IRI + name
        assert type(getattr(bkg, name)) is str
    assert namespace.bkg_analysis.pageRank == str(BKGAnalysis.pageRank)
    assert bkg.Claim in bkg and BKG_IRI + "Cliam" not in bkg


@pytest.mark.parametrize("name", ["Cliam", "pageRank", "_private", "__wrapped__"])
def test_a_term_the_vocabulary_lacks_is_an_attribute_error(name: str) -> None:
    with pytest.raises(AttributeError):
        getattr(bkg, name)


def test_no_code_builds_bkg_terms_from_strings() -> None:
    """(``ids.DEF + "fn#"``, the namespace of the search functions, is no term.)"""
    pattern = re.compile(r'(?:\bBKG|ids\.DEF|BKG_IRI) \+ "\w+"|\{BKG\}\w')
    found = [f"{path.relative_to(ROOT)}:{number}"
             for folder in ("graph", "server", "client") for path in (ROOT / folder).rglob("*.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if pattern.search(line)]
    assert found == []


def test_the_service_starts_without_rdflib() -> None:
    code = ("import sys, server.cli_serve, server.app, server.linked_data, server.pages, "
            "server.sparql, server.queries_api, server.search_api, server.analyses; "
            "print('rdflib' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False", result.stderr
