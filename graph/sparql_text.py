"""A small SPARQL lexer: what a query or update *is*, before the engine sees it.

The engine (Oxigraph) parses and evaluates in Rust, including ``SERVICE`` calls, and
exposes no parse-only API; rdflib's parser costs milliseconds and is not thread-safe
(FACTS.md). Policy decisions need far less than a parse tree: the query form, the dataset
clauses (``FROM``/``USING``/``WITH``), ``SERVICE`` targets and ``LOAD`` sources. A lexer
finds them reliably because SPARQL keywords cannot hide inside IRIs, strings, comments or
prefixed names once those are tokenised correctly, and it costs microseconds.

The lexer is fail-closed for the guard: whatever looks like a ``SERVICE`` or ``LOAD``
keyword token is reported, even in a query the engine would later reject.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal
from urllib.parse import urljoin

from .errors import QuerySyntaxError

Kind = Literal["query", "update"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][\w\u00B7\u0300-\u036F\u203F-\u2040]+)
  | (?P<bnode>_:[\w.\-]*)
  | (?P<pname>(?:[^\W\d_][\w.\-]*)?:(?:[\w\-:%.]|\\.)*)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<word>[^\W\d][\w]*)
  | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<unterminated>['"])
  | (?P<punct>.)
    """,
    re.VERBOSE | re.DOTALL,
)

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")


@dataclass(frozen=True)
class Token:
    """A lexical token: its kind, text and offset in the source."""

    kind: str
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class SparqlText:
    """What policy and protocol code need to know about a request's SPARQL text."""

    kind: Kind
    form: str | None
    prefixes: dict[str, str] = field(default_factory=dict)
    base: str | None = None
    dataset: tuple[tuple[str, str], ...] = ()
    services: tuple[str | None, ...] = ()
    loads: tuple[str, ...] = ()

    def dataset_keywords(self) -> set[str]:
        return {keyword for keyword, _ in self.dataset}


def tokens(text: str) -> Iterator[Token]:
    """Significant tokens of ``text`` (whitespace and comments dropped)."""
    line = 1
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind == "unterminated":
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - text.rfind("\n", 0, match.start())
            raise QuerySyntaxError(f"unterminated string starting at line {line}, "
                                   f"column {column}", line=line, column=column,
                                   expected="a closing quote")
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group(), match.start())


class _Resolver:
    """Turns IRI and prefixed-name tokens into absolute IRIs using PREFIX/BASE seen so far."""

    def __init__(self) -> None:
        self.prefixes: dict[str, str] = {}
        self.base: str | None = None

    def iri(self, token: Token) -> str | None:
        if token.kind == "iri":
            value = token.text[1:-1]
            return urljoin(self.base, value) if self.base else value
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            namespace = self.prefixes.get(prefix)
            return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
        return None


def _target(toks: Sequence[Token], i: int, resolver: _Resolver) -> tuple[str | None, int]:
    """The IRI (or None for a variable/unresolvable name) at ``toks[i]``, skipping SILENT."""
    if i < len(toks) and toks[i].upper == "SILENT":
        i += 1
    if i >= len(toks):
        return None, i
    token = toks[i]
    resolved = resolver.iri(token)
    if resolved is None and token.kind == "pname":
        resolved = token.text  # undeclared prefix: reported verbatim, refused downstream
    return resolved, i + 1


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def unescape_codepoints(text: str) -> str:
    """Apply SPARQL's ``\\uXXXX``/``\\UXXXXXXXX`` escapes, which the grammar processes
    before parsing (SPARQL 1.1 section 19.2) — so ``\\u0053ERVICE`` is ``SERVICE``."""
    def replace(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()

    return _CODEPOINT.sub(replace, text)


@lru_cache(maxsize=4096)
def analyse(text: str, kind: Kind, base: str | None = None) -> SparqlText:
    """Lex ``text`` and report its form, prologue, dataset clauses, SERVICE and LOAD;
    ``base`` is the base IRI the engine is given (relative IRIs resolve against it)."""
    toks = list(tokens(unescape_codepoints(text)))
    resolver = _Resolver()
    resolver.base = base
    form: str | None = None
    dataset: list[tuple[str, str]] = []
    services: list[str | None] = []
    loads: list[str] = []
    i = 0
    while i < len(toks):
        word = toks[i].upper
        if word == "PREFIX" and i + 2 < len(toks) and toks[i + 1].kind == "pname":
            namespace = resolver.iri(toks[i + 2])
            resolver.prefixes[toks[i + 1].text[:-1]] = namespace or toks[i + 2].text[1:-1]
            i += 3
            continue
        if word == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            resolver.base = resolver.iri(toks[i + 1])
            i += 2
            continue
        if kind == "query" and form is None and word in FORMS:
            form = word.lower()
        elif word in ("FROM", "USING"):
            named = i + 1 < len(toks) and toks[i + 1].upper == "NAMED"
            iri, _ = _target(toks, i + 2 if named else i + 1, resolver)
            dataset.append((word + (" NAMED" if named else ""), iri or ""))
        elif word == "WITH":
            iri, _ = _target(toks, i + 1, resolver)
            dataset.append(("WITH", iri or ""))
        elif word == "SERVICE":
            iri, _ = _target(toks, i + 1, resolver)
            services.append(iri)
        elif word == "LOAD":
            iri, _ = _target(toks, i + 1, resolver)
            loads.append(iri or "")
        i += 1
    return SparqlText(kind, form, dict(resolver.prefixes), resolver.base, tuple(dataset),
                      tuple(services), tuple(loads))


def _modify_where_offsets(toks: Sequence[Token]) -> list[int]:
    """Offsets of the ``WHERE`` keyword of each DELETE/INSERT ... WHERE operation."""
    depth, in_modify, offsets = 0, False, []
    for i, token in enumerate(toks):
        if token.text in "{(" and token.kind == "punct":
            depth += 1
        elif token.text in "})" and token.kind == "punct":
            depth -= 1
        elif depth == 0 and token.upper in ("DELETE", "INSERT") and not in_modify:
            following = toks[i + 1].upper if i + 1 < len(toks) else ""
            in_modify = following not in ("DATA", "WHERE")
        elif depth == 0 and token.upper == "WHERE" and in_modify:
            offsets.append(token.start)
            in_modify = False
        elif depth == 0 and token.kind == "punct" and token.text == ";":
            in_modify = False
    return offsets


def add_using(text: str, default_graphs: Sequence[str], named_graphs: Sequence[str]) -> str:
    """``text`` with USING/USING NAMED clauses for the protocol's ``using-graph-uri`` and
    ``using-named-graph-uri`` inserted before the WHERE of every DELETE/INSERT operation.

    Operations without a WHERE clause (INSERT DATA, DELETE DATA, DELETE WHERE, graph
    management) have no dataset to set and are left as they are.
    """
    clauses = "".join(f"USING <{g}> " for g in default_graphs) + \
        "".join(f"USING NAMED <{g}> " for g in named_graphs)
    if not clauses:
        return text
    for offset in reversed(_modify_where_offsets(list(tokens(text)))):
        text = text[:offset] + clauses + text[offset:]
    return text
