"""The SPARQL lexer finds forms, dataset clauses, SERVICE and LOAD wherever they hide, and
ends every token where the engine ends it (``tests/test_lexer_oracle.py`` checks that
against the engine on generated texts; these are the cases named one by one)."""
from __future__ import annotations

import time

import pytest

from graph.errors import QuerySyntaxError
from graph.sparql import lexer as sparql_lexer
from graph.sparql import policy as guard
from graph.sparql import text as sparql_text
from graph.sparql.iri import resolve
from graph.sparql.silent import silent_calls, skipping
from graph.sparql.text import add_using, analyse, lex, string_value
from graph.sparql.text_cache import deep_size

P = "PREFIX p: <http://e/> "


def kinds(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in lex(text)]


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
    from graph.store.oxigraph import OxigraphStore

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


# -- names -------------------------------------------------------------------------------
#: first and last code point of every PN_CHARS_BASE range of the grammar (BMP), and the
#: extra PN_CHARS; several are not matched by Python's \w (U+00B7, U+0300, U+200C, U+2100,
#: U+2E80, U+3001, U+FE10, U+203F), which once ended a name early
NAME_CHARS = ("AZaz\u00c0\u00d6\u00d8\u00f6\u00f8\u02ff\u0370\u037d\u037f\u1fff\u200c\u200d"
              "\u2070\u218f\u2c00\u2fef\u3001\ud7ff\uf900\ufdcf\ufdf0\ufffd\u2100\u2e80\ufe10")
EXTRA_CHARS = "-09\u00b7\u0300\u036f\u203f\u2040_"


@pytest.mark.parametrize("char", NAME_CHARS)
def test_prefixed_names_take_every_pn_chars_base_range(char: str) -> None:
    name = f"p:{char}a{EXTRA_CHARS}\\'b%41"
    assert kinds(f"{P}SELECT * {{ ?s ?p {name} }}")[-2] == ("pname", name)
    assert kinds(f"PREFIX {char}x: <http://e/> ASK {{}}")[1] == ("pname", f"{char}x:")
    assert kinds(f"SELECT ?{char}{EXTRA_CHARS[1:7]} {{}}")[1][0] == "var"


def test_names_take_no_character_from_the_astral_plane() -> None:
    """The grammar allows U+10000-U+EFFFF in names; Oxigraph 0.5 does not, nor do we."""
    for text in ("SELECT * { ?s ?p p:a\U00010000 }", "SELECT ?a\U00010000 {}",
                 "SELECT * { _:b\U00010000 ?p ?o }"):
        with pytest.raises(QuerySyntaxError):
            lex(text)


def test_a_local_name_has_one_run_of_inner_dots_as_in_the_engine() -> None:
    assert kinds("SELECT * { ?s ?p p:a.b.p:c ?d ?e }")[5:8] == [
        ("pname", "p:a.b"), ("punct", "."), ("pname", "p:c")]
    assert kinds("SELECT * { ?s ?p p:a..b }")[5] == ("pname", "p:a..b")
    assert kinds("SELECT * { ?s ?p p:a. }")[5:7] == [("pname", "p:a"), ("punct", ".")]
    assert kinds("SELECT * { ?s ?p p:\\.a\\.\\. }")[5] == ("pname", "p:\\.a\\.\\.")


def test_local_names_lose_their_backslashes_and_keep_percent_escapes() -> None:
    info = analyse(P + "SELECT * FROM p:a\\'b\\&c%41\\%42 {}", "query")
    assert info.dataset == (("FROM", "http://e/a'b&c%41%42"),)


@pytest.mark.parametrize("text", [
    'SELECT * { ?s ?p p:a\\" }', "SELECT * { ?s ?p p:a\\{ }", "SELECT * { ?s ?p p:a\\u0041 }",
    "SELECT * { ?s ?p \\u0053 }", "SELECT * { \\u0053ERVICE <http://h/> {} }",
    "SELECT * { ?s ?p ?o } \\",
])
def test_a_stray_backslash_is_a_syntax_error(text: str) -> None:
    with pytest.raises(QuerySyntaxError, match="backslash"):
        lex(text)


@pytest.mark.parametrize("text", ["SELECT * { ?s ?p ?o }\u00a0", "SELECT * {\x0b}",
                                  "SELECT * { ?s ?p `x` }", "SELECT * { ?s ?p ?o } $",
                                  "SELECT * { ?s ?p ?o FILTER(?o & ?s) }", "SELECT \ud800 {}"])
def test_characters_allowed_nowhere_are_syntax_errors(text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        lex(text)


@pytest.mark.parametrize("word", ["SERVICESILENT", "FROMNAMED", "LIMIT5", "FOO", "SELECTx"])
def test_a_bare_word_must_be_a_keyword(word: str) -> None:
    with pytest.raises(QuerySyntaxError, match="unknown keyword"):
        lex(f"SELECT * {{ {word} }}")


# -- strings -----------------------------------------------------------------------------
@pytest.mark.parametrize("literal, value", [
    ("'a\\u0027b'", "a'b"),  # an escaped quote is no quote: the engine decodes in place
    ('"a\\u0022 SERVICE <http://h/> {} \\u0022"', 'a" SERVICE <http://h/> {} "'),
    ("'a\\u005Cnb'", "a\\nb"),
    ("'''it's '' {#}'''", "it's '' {#}"),
    ('"""a""b\nc"""', 'a""b\nc'),
    ("'\\t\\b\\n\\r\\f\\\"\\'\\\\'", "\t\b\n\r\f\"'\\"),
    ("'\\U0001F600'", "\U0001F600"),
])
def test_the_four_string_forms_with_their_escapes(literal: str, value: str) -> None:
    toks = lex(f"SELECT * {{ ?s ?p {literal} }}")
    assert [t.kind for t in toks] == ["word", "punct", "punct", "var", "var", "string", "punct"]
    assert string_value(toks[5].text) == value


def test_a_long_string_ends_at_the_first_triple_quote() -> None:
    assert [t.text for t in lex("SELECT * { VALUES ?x { '''x'''' ' } }")][6:8] == [
        "'''x'''", "' '"]
    assert [t.text for t in lex("SELECT * { VALUES ?x { '''x' } }")][6:8] == ["''", "'x'"]


@pytest.mark.parametrize("text, column", [
    ("SELECT ('\\uD800' AS ?x) {}", 10), ("SELECT ('a\\U00110000' AS ?x) {}", 11),
    ("SELECT (<http://e/\\uDC00> AS ?x) {}", 19), ("SELECT ('\\q' AS ?x) {}", 10),
])
def test_escapes_naming_no_character_are_syntax_errors(text: str, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        lex(text)
    assert info.value.details["column"] == column


def test_an_escaped_backslash_is_no_codepoint_escape() -> None:
    assert string_value(lex("SELECT ('\\\\uD800' AS ?x) {}")[2].text) == "\\uD800"


def test_a_megabyte_literal_lexes_in_milliseconds() -> None:
    text = 'SELECT * { ?s ?p "' + "x\\n" * 350_000 + '" }'
    started = time.perf_counter()
    sparql_lexer._Lexer(text).run()
    assert time.perf_counter() - started < 0.25  # about 10 ms; quadratic would be minutes


# -- '<' -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("SELECT * { FILTER(?a<?b&&?c>?d) }", ["?a", "<", "?b", "&&", "?c", ">", "?d"]),
    ("SELECT * { FILTER(?a<((1))&&?b>0) }", ["?a", "<", "(", "(", "1", ")", ")", "&&", "?b",
                                             ">", "0"]),
    ("SELECT * { FILTER(?a<'>' ) }", ["?a", "<", "'>'"]),
    ("SELECT * { FILTER(?a<<http://x>) }", ["?a", "<", "<http://x>"]),
    ("SELECT * { FILTER(?a<=3) }", ["?a", "<=", "3"]),
    ("SELECT * { FILTER(<http://x><?a) }", ["<http://x>", "<", "?a"]),
    ("SELECT * { FILTER(?a = <http://x>) }", ["?a", "=", "<http://x>"]),
    ("SELECT * { FILTER(EXISTS { ?a <p> ?b }) }", ["EXISTS", "{", "?a", "<p>", "?b", "}"]),
])
def test_less_than_is_the_operator_after_an_operand_in_an_expression(
        text: str, expected: list[str]) -> None:
    assert [t.text for t in lex(text)][5:5 + len(expected)] == expected


@pytest.mark.parametrize("text, iri", [
    ("SELECT * { ?s <p'> ?o }", "<p'>"),
    ("SELECT * { ?s ?p (?a <b>) }", "<b>"),
    ("SELECT * { ?s a (<x> <y>) }", "<y>"),
    ("SELECT ?x { ?x ?p ?o } ORDER BY ?x <http://fn>(?x)", "<http://fn>"),
    ("DESCRIBE ?x <y>", "<y>"),
    ("SELECT * { ?s (<a>|<b>)/<c> ?o }", "<c>"),
    ("SELECT * { { SELECT ?x (<f>(?x) AS ?y) { ?x <p> <o> } } }", "<o>"),
])
def test_less_than_starts_an_iri_everywhere_else(text: str, iri: str) -> None:
    assert ("iri", iri) in kinds(text)


def test_a_call_run_together_with_filter_opens_an_expression() -> None:
    """The engine reads ``FILTERx:f(`` as ``FILTER x:f(``: ``<`` inside compares."""
    assert [t.text for t in lex("SELECT * { FILTERx:f(?a<(1)&&?b>0) }")][5:9] == [
        "?a", "<", "(", "1"]


def test_quoted_triples_nest_like_brackets() -> None:
    assert [t.text for t in lex("SELECT * { << ?s ?p <<( ?a ?b ?c )>> >> ?q ?o }")][3:] == [
        "<<", "?s", "?p", "<<", "(", "?a", "?b", "?c", ")", ">>", ">>", "?q", "?o", "}"]


@pytest.mark.parametrize("text", ["SELECT * { ?s < ?o }", "SELECT * { ?s <a b> ?o }",
                                  "SELECT * { ?s ?p ?o > }", "SELECT * { FILTER(< 3) }"])
def test_a_less_than_that_is_neither_iri_nor_operator_is_a_syntax_error(text: str) -> None:
    with pytest.raises(QuerySyntaxError):
        lex(text)


# -- what the engine reads into run-together keywords ------------------------------------
@pytest.mark.parametrize("text, field, expected", [
    ("PREFIX : <http://h/> SELECT * { SERVICE:a {} }", "services", ("http://h/a",)),
    ("PREFIX x: <http://h/> SELECT * { SERVICEx:a {} }", "services", ("http://h/a",)),
    ("PREFIX x: <http://h/> SELECT * { SERVICESILENTx:a {} }", "services", ("http://h/a",)),
    ("PREFIX x: <http://h/> SELECT * { SERVICE SILENTx:a {} }", "services",
     ("SILENTx:a", "http://h/a")),
    ("PREFIX x: <http://g/> SELECT * FROMx:a {}", "dataset", (("FROM", "http://g/a"),)),
    ("PREFIX : <http://g/> SELECT * FROM:a {}", "dataset", (("FROM", "http://g/a"),)),
    ("PREFIX x: <http://g/> SELECT * FROMNAMEDx:a {}", "dataset",
     (("FROM NAMED", "http://g/a"),)),
    ("PREFIX x: <http://a/> PREFIXx: <http://b/> SELECT * FROM x:g {}", "dataset",
     (("FROM", "http://b/g"),)),
    ("PREFIX service: <http://s/> SELECT * { service:a ?p ?o }", "services", ()),
])
def test_keywords_run_together_with_a_name_are_read_as_the_engine_may(
        text: str, field: str, expected: tuple[object, ...]) -> None:
    assert getattr(analyse(text, "query"), field) == expected


def test_update_keywords_run_together_with_a_name() -> None:
    info = analyse("PREFIX x: <http://g/> WITHx:a INSERT { <a> <b> 1 } WHERE {} ; LOADx:f",
                   "update")
    assert info.dataset == (("WITH", "http://g/a"),)
    assert info.loads == ("http://g/f",)


# -- IRIs ----------------------------------------------------------------------------------
def test_base_declarations_resolve_against_the_base_before_them() -> None:
    info = analyse("BASE <a/> BASE <../b/c/> PREFIX r: <d/> SELECT * FROM <e> FROM r:f {}",
                   "query", "http://h/x/y")
    assert info.base == "http://h/x/b/c/"
    assert info.prefixes == {"r": "http://h/x/b/c/d/"}
    assert info.dataset == (("FROM", "http://h/x/b/c/e"), ("FROM", "http://h/x/b/c/d/f"))


@pytest.mark.parametrize("base, reference, expected", [
    ("http://a/b/c/d;p?q", "../../g", "http://a/g"),
    ("http://a/b/c/d;p?q", "//g", "http://g"),
    ("http://a/b/../c", "x", "http://a/b/../x"),  # the engine keeps the base's dot segments
    ("http://allowed/", "http:evil/x", "http:evil/x"),  # urljoin makes this http://allowed/
    ("foo:a/", "b", "foo:a/b"),  # urljoin returns "b": it does not know foo:
    ("foo:/bar", "../a", "foo:a"),
])
def test_references_resolve_as_the_engine_resolves_them(base: str, reference: str,
                                                         expected: str) -> None:
    assert resolve(base, reference) == expected


# -- caches --------------------------------------------------------------------------------
def test_megabyte_texts_leave_the_caches_small() -> None:
    """Forty 2 MB texts through every cached entry point: the caches keep digests and
    small reports, never the texts."""
    caches = (sparql_lexer._LEXED, sparql_text._ANALYSES, guard._SHAPE_OK, guard._ADMITTED)
    for cache in caches:
        cache.clear()
    settings = {"max_query_bytes": 0}
    for i in range(40):
        text = f"SELECT * {{ ?s ?p '{i}{'x' * 2_000_000}' }}"
        analyse(text, "query")
        guard.check_shape(text)
        guard.admit(text, "query", settings, store=None)
    measured = sum(cache.measured_bytes() for cache in caches)
    assert measured < 64 * 1024, measured
    assert all(cache.weight <= cache.max_bytes for cache in caches)


def test_small_texts_are_lexed_once_for_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    runs = []
    real_run = sparql_lexer._Lexer.run

    def counted(self: sparql_lexer._Lexer) -> list[sparql_lexer.Token]:
        runs.append(self.text)
        return real_run(self)

    monkeypatch.setattr(sparql_lexer._Lexer, "run", counted)
    text = "SELECT * WHERE { ?s ?p ?o FILTER(?o < 3) } # lexed once " + str(time.time())
    guard.admit(text, "query", {"max_query_bytes": 0}, store=None, base_iri="http://h/")
    guard.check_shape(text)
    analyse(text, "query", "http://h/")
    assert runs == [text]
    info = analyse(text, "query")
    assert analyse(text, "query") is info and deep_size(info) < 4096


@pytest.mark.parametrize(("text", "graphs"), [
    ("SELECT * { ?s ?p ?o }", False),
    ("SELECT * { GRAPH ?g { ?s ?p ?o } }", True),
    ("select * { graph <http://g/> { ?s ?p ?o } }", True),
    ("PREFIX x: <http://x/> SELECT * { GRAPHx:g { ?s ?p ?o } }", True),
    ("SELECT ?graph { ?graph ?p 'GRAPH ?g { }' } # GRAPH", False),
])
def test_graph_patterns_are_reported_in_every_spelling(text: str, graphs: bool) -> None:
    assert analyse(text, "query").graph_patterns is graphs


def test_calls_are_the_iris_before_an_argument_list() -> None:
    text = ("PREFIX f: <http://f/> SELECT * { ?s ?p ?o "
            "FILTER(f:a(?s) && <http://f/b>(?o) && STRLEN(?o) > 1) }")
    assert analyse(text, "query").calls == ("http://f/a", "http://f/b")


def test_silent_calls_are_not_mixed_with_function_calls() -> None:
    text = "SELECT * { SERVICE SILENT <http://a/> { ?s ?p ?o } FILTER(<http://f/x>(?s)) }"
    calls = silent_calls(lex(text), "query", None)
    assert [(c.keyword, c.iri) for c in calls] == [("SERVICE", "http://a/")]
    assert skipping(text, calls).count("urn:borderkg:skipped") == 1


@pytest.mark.parametrize("text", [
    "PREFIX x: <http://x/> SELECT * { ?s ?p trueGRAPHx:g { ?s ?p ?o } }",
    "PREFIX : <http://x/> SELECT * { ?s ?p falseGRAPH:g { ?s ?p ?o } }",
    "PREFIX x: <http://x/> SELECT * { ?s ?p 1GRAPHx:g { ?s ?p ?o } }",
])
def test_graph_run_together_with_a_value_is_a_graph_pattern(text: str) -> None:
    assert analyse(text, "query").graph_patterns


@pytest.mark.parametrize("text", [
    "PREFIX x: <http://127.0.0.1/> SELECT * { ?s ?p falseSERVICEx:e { } }",
    "PREFIX x: <http://127.0.0.1/> SELECT * { ?s ?p trueSERVICESILENTx:e { } }",
    "PREFIX x: <http://127.0.0.1/> SELECT * { ?s ?p ?o , TrUeSERVICEx:e { } }",
])
def test_service_run_together_with_a_boolean_is_reported(text: str) -> None:
    assert analyse(text, "query").services == ("http://127.0.0.1/e",)


def test_a_call_run_together_with_a_keyword_is_an_unnamed_call() -> None:
    text = "PREFIX f: <http://f/> SELECT * { ?s ?p ?o } ORDER BYf:score(?s)"
    assert analyse(text, "query").calls == ("",)
