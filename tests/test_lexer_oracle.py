"""The lexer against the engine: generated SPARQL, run through both, must split the same.

The query-safety policy is only as good as the lexer's agreement with Oxigraph about
where every token begins and ends. These tests make the engine the oracle: hypothesis
builds texts from the risky material (names from every PN_CHARS range, astral plane
included, with ``\\'`` ``\\"`` ``\\{`` escapes and percent escapes; the four string forms
with escapes, embedded quotes, braces and ``#``; comments; IRIs with odd characters;
numbers; variables; blank nodes; ``<`` between operands), plants it in a query, and checks:

* where the engine accepts a text, the lexer accepts it too, and the terms planted come
  back identical (count and values): the same boundaries;
* where the engine would call a planted ``SERVICE`` (it is pointed at a loopback port that
  refuses connections, so the call is an immediate error and never leaves the machine), the
  lexer reports that SERVICE or refuses the text; where the engine would evaluate a planted
  call nested 150 deep, the shape check refuses the text.

2,000 examples run by default, in about ten seconds. ``BORDERKG_FUZZ_EXAMPLES``
scales every count: the project default 150 gives the default, 1500 ten times as many.
"""
from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pyoxigraph import Literal, NamedNode, Store

from graph.errors import BadRequest, QuerySyntaxError
from graph.sparql import iri as iris
from graph.sparql.policy import check_shape
from graph.sparql.text import Token, analyse, lex, string_value, unescape_codepoints

SCALE = int(os.environ.get("BORDERKG_FUZZ_EXAMPLES", "150")) / 150


def examples(count: int) -> Any:
    return settings(max_examples=max(10, round(count * SCALE)), deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


XSD = "http://www.w3.org/2001/XMLSchema#"
PREFIXES = {"p": "http://e/", "xsd": XSD, "h": "urn:oracle:"}
PROLOGUE = "PREFIX p: <http://e/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> " \
           "PREFIX h: <urn:oracle:> "
BASE = "http://b/dir/q"
HIT = "urn:oracle:hit"
SAME = "urn:oracle:same"  # returns its argument: a call that changes nothing
DEEP = 150  # deeper than the guard's MAX_NESTING, far below the engine's crash depth


# -- the engine as oracle --------------------------------------------------------------------
@dataclass
class Outcome:
    """What the engine did with a text: parsed and answered, refused, or called out."""

    status: str  # "ok", "syntax", "service" (tried the planted SERVICE), "error"
    rows: list[list[Any]]
    hits: int


class Engine:
    """An empty store, a loopback port that refuses connections, a call counter."""

    def __init__(self) -> None:
        self.store = Store()
        self.closed = socket.socket()
        self.closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self.service = f"http://127.0.0.1:{self.closed.getsockname()[1]}/"
        self.hits = 0
        self.functions = {NamedNode(HIT): self._hit, NamedNode(SAME): lambda term: term}

    def _hit(self, *_args: Any) -> Literal:
        self.hits += 1
        return Literal("hit")

    def run(self, text: str, base: str | None = BASE) -> Outcome:
        outcome = self._run(text, base)
        event(f"engine: {outcome.status}{' (called)' if outcome.hits else ''}")
        return outcome

    def _run(self, text: str, base: str | None) -> Outcome:
        self.hits = 0
        try:
            result = self.store.query(text, base_iri=base, custom_functions=self.functions)
            rows = [list(row) for row in result]  # type: ignore[union-attr]
        except SyntaxError:
            return Outcome("syntax", [], self.hits)
        except OSError as error:
            refused = isinstance(error, ConnectionRefusedError) or "refused" in str(error)
            return Outcome("service" if refused else "error", [], self.hits)
        except RuntimeError:  # parsed, then failed: an unknown function, say
            return Outcome("error", [], self.hits)
        return Outcome("ok", rows, self.hits)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    oracle = Engine()
    yield oracle
    oracle.closed.close()


def lexed(text: str) -> tuple[Token, ...] | None:
    try:
        toks = lex(text)
    except QuerySyntaxError:
        event("lexer: refused")
        return None
    event("lexer: accepted")
    return toks


# -- material ---------------------------------------------------------------------------------
BASE_RANGES = [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x2FF),
               (0x370, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D), (0x2070, 0x218F),
               (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD),
               (0x10000, 0xEFFFF)]
EXTRA_RANGES = [(0x2D, 0x2D), (0x30, 0x39), (0xB7, 0xB7), (0x300, 0x36F), (0x203F, 0x2040)]
#: just outside the name ranges, or characters \\w and PN_CHARS disagree on
NEAR_MISSES = "\u00d7\u00f7\u037e\u2000\u200b\u200e\u2190\u2ff0\u3000\ufdd0\ufffe\u0482\u2100" \
              "\u2e80\ufe10\U000f0000\u00a0"


def _in_ranges(ranges: list[tuple[int, int]]) -> st.SearchStrategy[str]:
    ends = [chr(c) for lo, hi in ranges for c in (lo, hi)]
    inner = st.sampled_from(ranges).flatmap(lambda r: st.integers(*r)).map(chr)
    return st.one_of(st.sampled_from(ends), inner)


name_base = _in_ranges(BASE_RANGES)
name_char = st.one_of(name_base, _in_ranges(EXTRA_RANGES), st.just("_"))
LOCAL_ESCAPES = list("_~.-!$&'()*+,;=/?#@%")
name_piece = st.one_of(
    name_char, name_char, name_char,
    st.sampled_from([":", ".", ".."]),
    st.sampled_from(LOCAL_ESCAPES).map(lambda c: "\\" + c),
    st.sampled_from(['\\"', "\\{", "\\<", "\\\\", "\\u0041", "\\ ", "\\"]),
    st.sampled_from(["%41", "%e9", "%4", "%g1", "%"]),
    st.sampled_from(NEAR_MISSES),
    st.sampled_from(["'", '"', "#", "{", "}"]),
)
local_name = st.lists(name_piece, min_size=1, max_size=8).map("".join)

string_piece = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=4),
    st.sampled_from(["'", '"', "''", '""', "{", "}", "#", "<", ">", " SERVICE ", "\n", "\r"]),
    st.sampled_from([r"\t", r"\b", r"\n", r"\r", r"\f", r"\"", r"\'", r"\\"]),
    st.sampled_from([r"\u0027", r"\u0022", r"\u005C", r"\u000A", r"\U0001F600", r"\u00e9",
                     r"\uD800", r"\U00110000", r"\q", "\\"]),
)
QUOTES = ["'", '"', "'''", '"""']


@st.composite
def string_literal(draw: Any) -> str:
    quote = draw(st.sampled_from(QUOTES))
    body = "".join(draw(st.lists(string_piece, max_size=6)))
    suffix = draw(st.sampled_from(["", "", "@en", "@EN-us", "@en--ltr", "^^xsd:string",
                                   f"^^<{XSD}string>"]))
    return quote + body + quote + suffix


iri_piece = st.one_of(
    st.sampled_from(list("abc/.#?=&;:@!$'()*+,-_~%") + ["..", "%41", "%zz"]),
    st.sampled_from([r"\u0041", r"\u00e9", r"\u003E", r"\u0020", r"\uD800", r"\U0001F600"]),
    st.sampled_from(["é", "\u00a0", "\ue000", " ", "{", "|", "^", "`", '"', "\\", "<"]),
)


@st.composite
def iri_literal(draw: Any) -> str:
    head = draw(st.sampled_from(["http://e/", "", "//h/", "urn:x:", "/", "../"]))
    return "<" + head + "".join(draw(st.lists(iri_piece, max_size=6))) + ">"


number = st.one_of(
    st.integers(0, 10 ** 6).map(str),
    st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 999), st.integers(0, 999)),
    st.builds(lambda b: f".{b}", st.integers(0, 999)),
    st.builds(lambda a, e, s: f"{a}{e}{s}", st.sampled_from(["1", "1.", "1.5", ".5", "12"]),
              st.sampled_from(["e", "E"]), st.sampled_from(["5", "+5", "-05", ""])),
    st.sampled_from(["1.", "01", "1..2", "1.2.3"]),
)
value = st.one_of(string_literal(), string_literal(), iri_literal(),
                  local_name.map(lambda n: "p:" + n), number,
                  st.sampled_from(["true", "false", "UNDEF"]))
separator = st.sampled_from([" ", "\n", "\t", "  ", " #c ' \" { SERVICE\n",
                             "#'''\n", "\r\n"])


# -- reading the lexer's terms back -------------------------------------------------------------
def terms(toks: tuple[Token, ...], start: int) -> tuple[list[Any], int]:
    """The VALUES terms from ``toks[start]`` (just after ``{``) to the closing ``}``."""
    out: list[Any] = []
    i = start
    while toks[i].text != "}" or toks[i].kind != "punct":
        token = toks[i]
        if token.kind == "string":
            text, lang, datatype = string_value(token.text), None, XSD + "string"
            if i + 1 < len(toks) and toks[i + 1].kind == "langtag":
                lang, i = toks[i + 1].text[1:].lower().replace("--", " "), i + 1
            elif i + 1 < len(toks) and toks[i + 1].text == "^^":
                datatype, i = expand(toks[i + 2]), i + 2
            out.append(("literal", text, lang, None if lang else datatype))
        elif token.kind in ("iri", "pname"):
            out.append(("iri", expand(token)))
        elif token.kind == "number":
            out.append(("number", *numeric(token.text)))
        elif token.text in "+-" and token.kind == "punct" and toks[i + 1].kind == "number":
            # a signed number is two tokens to the lexer, one term to the engine
            datatype, value = numeric(toks[i + 1].text)
            out.append(("number", datatype, -value if token.text == "-" else value))
            i += 1
        elif token.upper in ("TRUE", "FALSE"):
            out.append(("literal", token.text, None, XSD + "boolean"))
        elif token.upper == "UNDEF":
            out.append(None)
        else:
            out.append(("other", token.text))
        i += 1
    return out, i


def expand(token: Token) -> str:
    if token.kind == "iri":
        return iris.resolve(BASE, unescape_codepoints(token.text[1:-1]))
    prefix, _, local = token.text.partition(":")
    return PREFIXES[prefix] + re.sub(r"\\(.)", r"\1", local)


def numeric(text: str) -> tuple[str, Any]:
    if "e" in text.lower():
        return XSD + "double", float(text)
    if "." in text:
        return XSD + "decimal", Decimal(text)
    return XSD + "integer", int(text)


def engine_term(term: Any) -> Any:
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return ("iri", term.value)
    datatype = term.datatype.value
    if datatype in (XSD + "double", XSD + "decimal", XSD + "integer"):
        return ("number", datatype, numeric_value(datatype, term.value))
    language = term.language and " ".join(filter(None, (term.language, str(term.direction or "")
                                                        )))
    return ("literal", term.value, language, None if term.language else datatype)


def numeric_value(datatype: str, text: str) -> Any:
    """The value of a number the engine returns. A sign and its digits are two tokens
    with whitespace (even a comment) between them allowed, and the engine keeps that
    whitespace in the lexical form (``"- 0"``): the value is what is compared."""
    kind = {XSD + "double": float, XSD + "decimal": Decimal, XSD + "integer": int}[datatype]
    return kind(re.sub(r"\s+|#[^\n\r]*", "", text))


# -- families ---------------------------------------------------------------------------------
@examples(350)
@given(st.lists(value, min_size=1, max_size=5), st.lists(separator, min_size=6, max_size=6))
def test_values_come_back_identical(engine: Engine, values: list[str], gaps: list[str]) -> None:
    """Strings, IRIs, names and numbers planted in VALUES: same count, same values."""
    body = "".join(gap + v for gap, v in zip(gaps, values, strict=False))
    text = PROLOGUE + "SELECT ?x { VALUES ?x {" + body + " } }"
    outcome, toks = engine.run(text), lexed(text)
    if outcome.status != "ok":
        return
    assert toks is not None, f"the engine parses what the lexer refuses: {text!r}"
    opening = next(i for i, t in enumerate(toks) if t.text == "{" and t.kind == "punct")
    planted, _ = terms(toks, opening + 4)  # after ``{ VALUES ?x {``
    assert planted == [engine_term(row[0]) for row in outcome.rows], text


@examples(250)
@given(local_name)
def test_prefixed_names_expand_as_the_engine_expands_them(engine: Engine, local: str) -> None:
    text = PROLOGUE + f"SELECT (p:{local} AS ?x) {{}}"
    outcome, toks = engine.run(text), lexed(text)
    if outcome.status != "ok":
        return
    assert toks is not None, f"the engine parses what the lexer refuses: {text!r}"
    opening = next(i for i, t in enumerate(toks) if t.text == "(")
    names = [t for t in toks[opening:] if t.kind == "pname"]
    if not outcome.rows or outcome.rows[0][0] is None:
        # the engine read an expression (``p: - 0``), so the lexer must not see one name
        assert [t.text for t in names] != [f"p:{local}"], text
        return
    assert [t.text for t in names] == [f"p:{local}"], text
    assert expand(names[0]) == outcome.rows[0][0].value


hidden_material = st.one_of(value, local_name.map(lambda n: "p:" + n),
                            st.sampled_from(["'", '"', "'''", '"""', "#", "\\", "\\'", "<",
                                             "p:a.b.", "_:b\\'", "?v\\'"]))
#: closers for a string the planted material may have opened (in the lexer's view or the
#: engine's): a quote in a comment, a bare quote, or a quote that leaves the text valid
tails = st.sampled_from(["", " #'", ' #"', " '", ' "', " '''", ' """', " #'''\n'''",
                         " # '\n'", " }'", " } #'", "' } }", '" } }', "''' } }", '""" } }',
                         " #' } }"])
#: what opens such a string: quotes, and names ending in an escaped quote whose other
#: characters are PN_CHARS that Python's \w does not match (the reported attack)
openers = st.sampled_from(["'", '"', "'''", '"""', "p:a\\'", "p:\u2100\\'", "p:a\u00b7\\'",
                           "p:a\u0300\\'", "p:\u3001\\'", "p:\u200c\\'", "p:\u00c0\\'",
                           "p:\u037f\\'", "p:a\\\"", "#"])


@examples(300)
@given(st.lists(st.one_of(hidden_material, openers), min_size=1, max_size=4), tails)
def test_a_service_the_engine_calls_is_never_hidden(engine: Engine, planted: list[str],
                                                    tail: str) -> None:
    text = (PROLOGUE + "SELECT * { VALUES ?y { 1 " + " ".join(planted) + " } SERVICE <"
            + engine.service + "> { } }" + tail)
    outcome = engine.run(text)
    try:
        services = analyse(text, "query", BASE).services
    except QuerySyntaxError:
        return  # refused before the engine: nothing is hidden
    if outcome.status == "service":
        assert engine.service in services, f"SERVICE hidden from the lexer: {text!r}"
    elif outcome.status == "ok":
        assert engine.service not in services, f"the lexer sees a SERVICE the engine " \
                                               f"does not: {text!r}"


@examples(250)
@given(st.lists(st.one_of(hidden_material, openers), min_size=1, max_size=4), tails)
def test_nesting_the_engine_evaluates_is_never_hidden(engine: Engine, planted: list[str],
                                                      tail: str) -> None:
    deep = "{" * DEEP + f"BIND(<{HIT}>() AS ?h)" + "}" * DEEP
    text = PROLOGUE + "SELECT * { VALUES ?y { 1 " + " ".join(planted) + " } " + deep + " }" \
        + tail
    outcome = engine.run(text)
    if outcome.hits == 0:
        return
    with pytest.raises(BadRequest):
        check_shape(text)


dotted_piece = st.one_of(st.sampled_from(["a", "b", "1", "x-y", "\u00e9", "a\\'", "a%41", "_"]),
                         local_name)


@examples(250)
@given(st.lists(dotted_piece, min_size=1, max_size=3), st.sampled_from([".", "..", "\\."]),
       st.sampled_from(["SERVICE", "p:c", "xsd:c", "b"]))
def test_names_in_triples_end_where_the_engine_ends_them(
        engine: Engine, pieces: list[str], dots: str, last: str) -> None:
    """A local name with several runs of dots, as a triple's object: the engine ends it
    after the first run (``p:a.b.SERVICE <x> {}`` is ``p:a.b . SERVICE <x> {}``), and a
    SERVICE that ending exposes is called. The store holds the object for every place the
    name could end (and a match for what may follow), so the triple matches whichever
    ending the engine picks, and the subject found says which it was."""
    name = "p:" + ".".join(pieces) + dots + last
    follow = f" <{engine.service}> {{ }} }}" if last == "SERVICE" else " <urn:p> ?o }"
    text = PROLOGUE + f"SELECT ?s {{ ?s <urn:p> {name}" + follow
    ends = {}  # subject -> the object IRI of one place the name could end
    data = [f"<{PREFIXES[p]}c> <urn:p> <urn:o>" for p in ("p", "xsd")]
    for cut in [i for i, c in enumerate(name) if c == "."] + [len(name)]:
        ends[f"urn:s{cut}"] = PREFIXES["p"] + re.sub(r"\\(.)", r"\1", name[2:cut])
        data.append(f"<urn:s{cut}> <urn:p> <{ends[f'urn:s{cut}']}>")
    engine.store.clear()
    for triple in data:
        try:
            engine.store.update(f"INSERT DATA {{ {triple} }}")
        except (SyntaxError, ValueError):
            pass
    outcome = engine.run(text)
    engine.store.clear()
    toks = lexed(text)
    if outcome.status == "service":
        assert toks is not None and engine.service in analyse(text, "query", BASE).services, \
            f"SERVICE hidden from the lexer: {text!r}"
    if outcome.status == "ok" and outcome.rows:
        assert toks is not None, f"the engine parses what the lexer refuses: {text!r}"
        planted = [t for t in toks if t.kind == "pname"][3]  # after the three PREFIX names
        assert expand(planted) == ends[outcome.rows[0][0].value], text


atom = st.one_of(st.sampled_from(["?a", "?b", "1", "2.5", "'x'", "'>'", "\"<\"", "true",
                                  "<http://e/>", "p:a", "(?a)", "((1))", "'a'@en", "1e0"]),
                 st.just(f"<{HIT}>(1)"), string_literal(), iri_literal())
arithmetic = st.sampled_from(["+", "-", "*", "/", " + ", "-"])
relation = st.sampled_from(["<", ">", "<=", ">=", "=", "!=", " < ", " > ", "<<", ">>"])
logical = st.sampled_from(["&&", "||", " && ", " || "])


@st.composite
def operand(draw: Any) -> str:
    parts = [draw(atom)]
    for _ in range(draw(st.integers(0, 2))):
        parts += [draw(arithmetic), draw(atom)]
    return "".join(parts)


@st.composite
def expression(draw: Any) -> str:
    """Comparisons joined by ``&&``/``||``, mostly without spaces: ``?a<(...)&&?b>0`` is the
    shape where ``<`` ... ``>`` also reads as an IRI."""
    comparisons = []
    for _ in range(draw(st.integers(1, 3))):
        comparison = draw(operand())
        if draw(st.booleans()):
            comparison += draw(relation) + draw(operand())
        comparisons.append(comparison)
    joints = [draw(logical) for _ in comparisons[1:]]
    return comparisons[0] + "".join(j + c for j, c in zip(joints, comparisons[1:], strict=True))


#: how the expression is filtered on: bracketed, through a call, through a call run
#: together with FILTER (which the engine reads as ``FILTER h:same(...)``)
filters = st.sampled_from(["FILTER({})", f"FILTER <{SAME}>({{}})", "FILTER h:same({})",
                           "FILTERh:same({})", "FILTER(h:same({}))"])


@examples(300)
@given(expression(), st.booleans(), filters)
def test_less_than_and_iris_split_as_in_the_engine(engine: Engine, expr: str, deep: bool,
                                                   wrapper: str) -> None:
    """``<`` between operands is the operator; a call hidden in what looks like an IRI
    (``?a<(<urn:oracle:hit>(1))&&?b>0``) is seen, and so is the nesting around it."""
    if deep:
        expr = expr.replace(f"<{HIT}>(1)", "(" * DEEP + f"<{HIT}>(1)" + ")" * DEEP)
    text = PROLOGUE + "SELECT * { VALUES (?a ?b) { (1 2) } " + wrapper.format(expr) + " }"
    outcome, toks = engine.run(text), lexed(text)
    if outcome.status not in ("ok", "error"):
        return
    assert toks is not None, f"the engine parses what the lexer refuses: {text!r}"
    if outcome.hits:
        assert any(t.kind == "iri" and t.text == f"<{HIT}>" for t in toks), text
        if deep:
            with pytest.raises(BadRequest):
                check_shape(text)


segment = st.sampled_from(["", ".", "..", "a", "b.c", "...", "g;x", "%2e", "x:y", "é"])


@st.composite
def reference(draw: Any) -> str:
    path = "/".join(draw(st.lists(segment, max_size=4)))
    head = draw(st.sampled_from(["", "", "/", "//h", "//h/", "http:", "x:", "./", "../"]))
    return head + path + draw(st.sampled_from(["", "?q", "#f", "?a/../b#c", "#"]))


bases = st.sampled_from(["http://a/b/c/d;p?q", "http://a", "http://a/b/../c", "https://h:8/x/",
                         "foo:bar", "foo:/bar", "urn:x:y", "tag:x/y/../z", "file:///etc/x",
                         "http://a//b/c", "http://a/b/./c?q#f"])


@examples(250)
@given(bases, reference(), st.one_of(st.none(), reference()))
def test_relative_iris_resolve_as_in_the_engine(engine: Engine, base: str, ref: str,
                                                 declared: str | None) -> None:
    """``FROM <ref>`` after an optional ``BASE <declared>``, on the engine's base IRI."""
    prologue = f"BASE <{declared}> " if declared is not None else ""
    outcome = engine.run(prologue + f"SELECT (<{ref}> AS ?x) {{}}", base)
    if outcome.status != "ok":
        return
    info = analyse(prologue + f"SELECT * FROM <{ref}> {{}}", "query", base)
    assert info.dataset == (("FROM", outcome.rows[0][0].value),)
    namespace = analyse(prologue + f"PREFIX n: <{ref}> SELECT * {{}}", "query", base)
    assert namespace.prefixes["n"] == outcome.rows[0][0].value


@examples(50)
@given(st.lists(name_char, min_size=1, max_size=6).map("".join),
       st.sampled_from(["?", "$"]), st.sampled_from(["", "_:"]))
def test_variables_and_blank_nodes_end_where_the_engine_ends_them(
        engine: Engine, name: str, sigil: str, blank: str) -> None:
    if blank:
        text = f"SELECT * {{ {blank}{name} ?p ?o }}"
        kind = "bnode"
    else:
        text = f"SELECT {sigil}{name} {{ BIND(1 AS {sigil}{name}) }}"
        kind = "var"
    outcome, toks = engine.run(text), lexed(text)
    if outcome.status != "ok":
        return
    assert toks is not None, f"the engine parses what the lexer refuses: {text!r}"
    assert [t.text for t in toks if t.kind == kind][0] == (blank or sigil) + name
