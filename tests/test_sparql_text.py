"""The SPARQL lexer finds forms, dataset clauses, SERVICE and LOAD wherever they hide."""
from __future__ import annotations

import pytest

from graph.errors import QuerySyntaxError
from graph.sparql_text import add_using, analyse


@pytest.mark.parametrize("text, form", [
    ("SELECT * WHERE { ?s ?p ?o }", "select"),
    ("prefix ex: <http://ex/> ask { ?s ?p ?o }", "ask"),
    ("CONSTRUCT WHERE { ?s ?p ?o }", "construct"),
    ("DESCRIBE <http://ex/a>", "describe"),
    ("# SELECT in a comment\nASK {}", "ask"),
])
def test_form(text: str, form: str) -> None:
    assert analyse(text, "query").form == form


@pytest.mark.parametrize("text, services", [
    ("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", ("http://127.0.0.1:9/",)),
    ("select * { service silent <http://127.0.0.1/> { } }", ("http://127.0.0.1/",)),
    ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", (None,)),
    ("PREFIX x: <http://127.0.0.1/> SELECT * { SERVICE x:sparql {} }", ("http://127.0.0.1/sparql",)),
    ("SELECT * { { SELECT * { OPTIONAL { SERVICE<http://h/>{} } } } }", ("http://h/",)),
    ("SELECT * { ?s ?p 'SERVICE <http://h/>' }", ()),
    ('SELECT * { ?s ?p """SERVICE\n<http://h/>""" }', ()),
    ("SELECT * { ?s ?p ?o } # SERVICE <http://h/>", ()),
    ("SELECT ?service { ?service <http://ex/SERVICE> ?o }", ()),
    ("SELECT * { FILTER(?a<?b) SERVICE <http://h/> {} }", ("http://h/",)),
])
def test_services(text: str, services: tuple[str | None, ...]) -> None:
    assert analyse(text, "query").services == services


def test_dataset_clauses_resolve_prefixes_and_base() -> None:
    info = analyse("BASE <http://b/> PREFIX g: <http://g/> SELECT * FROM <x> FROM NAMED g:y "
                   "WHERE {}", "query")
    assert info.dataset == (("FROM", "http://b/x"), ("FROM NAMED", "http://g/y"))


def test_update_clauses_and_load() -> None:
    info = analyse("WITH <http://g/> DELETE { ?s ?p ?o } USING NAMED <http://n/> WHERE {} ;"
                   " LOAD SILENT <file:///etc/passwd>", "update")
    assert info.form is None
    assert info.dataset == (("WITH", "http://g/"), ("USING NAMED", "http://n/"))
    assert info.loads == ("file:///etc/passwd",)


def test_add_using_only_touches_modify_operations() -> None:
    text = ("INSERT { ?s <p> 1 } WHERE { ?s ?p ?o } ; DELETE WHERE { ?s ?p ?o } ; "
            "INSERT DATA { <a> <b> <c> }")
    out = add_using(text, ["http://d/"], ["http://n/"])
    assert out == ("INSERT { ?s <p> 1 } USING <http://d/> USING NAMED <http://n/> WHERE "
                   "{ ?s ?p ?o } ; DELETE WHERE { ?s ?p ?o } ; INSERT DATA { <a> <b> <c> }")
    assert add_using(text, [], []) == text


def test_add_using_result_is_valid_for_the_engine() -> None:
    from graph.store import OxigraphStore

    store = OxigraphStore()
    store.update("INSERT DATA { GRAPH <http://d/> { <http://a> <http://p> 1 } }")
    store.update(add_using("INSERT { GRAPH <http://out/> { ?s ?p 2 } } WHERE { ?s ?p 1 }",
                           ["http://d/"], []))
    assert store.count("http://out/") == 1


def test_codepoint_escapes_outside_strings_and_iris_are_syntax_errors() -> None:
    """The engine decodes \\u only inside strings and IRIs; elsewhere it is no keyword."""
    with pytest.raises(QuerySyntaxError) as info:
        analyse(r"SELECT * { \u0053ERVICE <http://h/> {} }", "query")
    assert info.value.details["column"] == 12


def test_unterminated_string_is_a_syntax_error_with_position() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        analyse("SELECT * {\n ?s ?p 'abc }", "query")
    assert info.value.details["line"] == 2
    assert info.value.details["column"] == 8
