"""What a query or update *is*, before the engine sees it: form, prologue, dataset clauses,
``SERVICE`` targets and ``LOAD`` sources.

The engine (Oxigraph) parses and evaluates in Rust, including ``SERVICE`` calls, and
exposes no parse-only API; rdflib's parser costs milliseconds and is not thread-safe.
Policy decisions need far less than a parse tree, and a token stream that agrees with the
engine's about where every token begins and ends (``graph.sparql.lexer``) gives it: SPARQL
keywords cannot hide inside IRIs, strings, comments or prefixed names once those end
where the engine ends them.

Relative IRIs are resolved as the engine resolves them (``graph.sparql.iri``), against the base
IRI the engine is given and then each ``BASE`` in turn (itself resolved against the base
before it); a ``PREFIX`` IRI is resolved when declared. Prefixed names expand to the
namespace plus the local name with its ``\\`` escapes removed and ``%XX`` kept, as the
engine expands them.

The report is fail-closed for the guard: whatever looks like a ``SERVICE`` or ``LOAD``
keyword is reported, even in a text the engine would later reject, and so is every reading
the engine may give a keyword run together with a prefixed name (``SERVICE:a``,
``FROMx:g``, ``PREFIXx: <...>``), when the prefix it would then use is declared.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from . import iri as iris
from .lexer import (
    CLOSERS,
    OPENERS,
    Token,
    glued_keywords,
    lex,
    string_value,
    tokens,
    unescape_codepoints,
)
from .text_cache import TextCache, digest

__all__ = ["FORMS", "Kind", "SparqlText", "Token", "add_using", "analyse", "analyse_tokens",
           "lex", "string_value", "tokens", "unescape_codepoints"]

Kind = Literal["query", "update"]

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

_PN_LOCAL_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


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
    #: whether a ``GRAPH`` keyword may occur: fail-closed, any keyword or prefix of a
    #: prefixed name that contains the word counts (the engine reads ``GRAPHx:g`` and
    #: ``trueGRAPHx:g`` as ``GRAPH x:g`` after the prefix is found undeclared)
    graph_patterns: bool = False
    #: the IRIs written just before a ``(``: every function the text calls, by IRI (and
    #: a predicate followed by a collection, harmlessly); ``""`` for a prefixed name the
    #: report cannot resolve (run together with a keyword, as ``FILTERx:f(...)``)
    calls: tuple[str, ...] = ()

    def reads_named_graphs(self) -> bool:
        """Whether the text may read a named graph: a ``GRAPH`` pattern or a dataset
        clause (``FROM``/``FROM NAMED``) or, for an update, ``USING``/``WITH``."""
        return self.graph_patterns or bool(self.dataset)

    def dataset_keywords(self) -> set[str]:
        return {keyword for keyword, _ in self.dataset}

    def size_estimate(self) -> int:
        """Bytes this report holds, roughly (what a cache entry for it costs)."""
        strings = [*self.prefixes, *self.prefixes.values(), self.base or "",
                   *(s for pair in self.dataset for s in pair), *(s or "" for s in self.services),
                   *self.loads, *self.calls]
        return 400 + sum(sys.getsizeof(s) + 32 for s in strings)


_ANALYSES: TextCache[SparqlText] = TextCache()


def analyse(text: str, kind: Kind, base: str | None = None) -> SparqlText:
    """Lex ``text`` and report its form, prologue, dataset clauses, SERVICE and LOAD;
    ``base`` is the base IRI the engine is given (relative IRIs resolve against it).

    Cached by a digest of the text in a cache bounded in bytes.
    """
    key = (digest(text), kind, base)
    info = _ANALYSES.get(key)
    if info is None:
        info = analyse_tokens(lex(text), kind, base)
        _ANALYSES.put(key, info, info.size_estimate() + len(base or ""))
    return info


def analyse_tokens(toks: Sequence[Token], kind: Kind, base: str | None = None) -> SparqlText:
    """``analyse`` on tokens already lexed (so one lexing serves every check of a text)."""
    return _Analysis(toks, kind, base).run()


class _Resolver:
    """Turns IRI and prefixed-name tokens into absolute IRIs using PREFIX/BASE seen so far."""

    def __init__(self, base: str | None) -> None:
        self.prefixes: dict[str, str] = {}
        self.base = base

    def iri(self, token: Token) -> str | None:
        if token.kind == "iri":
            return iris.resolve(self.base, unescape_codepoints(token.text[1:-1]))
        if token.kind == "pname":
            return self.pname(token.text)
        return None

    def pname(self, text: str) -> str | None:
        prefix, _, local = text.partition(":")
        namespace = self.prefixes.get(prefix)
        return None if namespace is None else namespace + _PN_LOCAL_ESCAPE.sub(r"\1", local)


class _Analysis:
    """One walk over the tokens, collecting what ``SparqlText`` reports."""

    def __init__(self, toks: Sequence[Token], kind: Kind, base: str | None) -> None:
        self.toks, self.kind = toks, kind
        self.resolver = _Resolver(base)
        self.form: str | None = None
        self.dataset: list[tuple[str, str]] = []
        self.services: list[str | None] = []
        self.loads: list[str] = []
        self.graph_patterns = False
        self.function_calls: list[str] = []

    def run(self) -> SparqlText:
        toks, i, depth, prologue = self.toks, 0, 0, True
        while i < len(toks):
            consumed = self._declaration(i, prologue)
            if consumed:
                i += consumed
                continue
            token, prologue = toks[i], False
            if token.kind == "punct":
                depth += (token.text in OPENERS) - (token.text in CLOSERS and depth > 0)
                prologue = token.text == ";" and depth == 0 and self.kind == "update"
            elif token.kind == "word":
                self._keyword(i)
            elif token.kind == "pname":
                self._run_together(i)
                self.graph_patterns |= "GRAPH" in token.text[:token.text.index(":")].upper()
            if token.kind in ("iri", "pname") and self._is_call(i):
                self.function_calls.append(self.resolver.iri(token) or "")
            i += 1
        return SparqlText(self.kind, self.form, dict(self.resolver.prefixes),
                          self.resolver.base, tuple(self.dataset), tuple(self.services),
                          tuple(self.loads), self.graph_patterns,
                          tuple(dict.fromkeys(self.function_calls)))

    def _is_call(self, i: int) -> bool:
        following = self.toks[i + 1] if i + 1 < len(self.toks) else None
        return following is not None and following.kind == "punct" and following.text == "("

    def _declaration(self, i: int, prologue: bool) -> int:
        """How many tokens a PREFIX/BASE/VERSION declaration at ``i`` takes (0: none)."""
        toks = self.toks
        word, following = toks[i].upper, toks[i + 1:i + 3]
        kinds = [t.kind for t in following]
        if word == "PREFIX" and kinds == ["pname", "iri"] and following[0].text.endswith(":"):
            self._declare(following[0].text[:-1], following[1])
            return 3
        if word == "BASE" and kinds[:1] == ["iri"]:
            self.resolver.base = self.resolver.iri(following[0])
            return 2
        if word == "VERSION" and kinds[:1] == ["string"]:
            return 2
        if prologue and toks[i].kind == "pname" and kinds[:1] == ["iri"] \
                and toks[i].text.endswith(":"):
            for keyword, rest in glued_keywords(toks[i].text):
                if keyword == "PREFIX" and rest.count(":") == 1:
                    self._declare(rest[:-1], following[0])  # PREFIXx: <...> is PREFIX x:
                    return 2
        return 0

    def _declare(self, prefix: str, iri: Token) -> None:
        namespace = self.resolver.iri(iri)
        if namespace is not None:
            self.resolver.prefixes[prefix] = namespace

    def _keyword(self, i: int) -> None:
        word = self.toks[i].upper
        self.graph_patterns |= "GRAPH" in word
        if self.kind == "query" and self.form is None and word in FORMS:
            self.form = word.lower()
        elif word in ("FROM", "USING"):
            named = self._upper(i + 1) == "NAMED"
            iri = self._target(i + 2 if named else i + 1)
            self.dataset.append((word + (" NAMED" if named else ""), iri or ""))
        elif word == "WITH":
            self.dataset.append(("WITH", self._target(i + 1) or ""))
        elif word == "SERVICE":
            self.services.append(self._target(i + 1))
        elif word == "LOAD":
            self.loads.append(self._target(i + 1) or "")

    def _upper(self, i: int) -> str:
        return self.toks[i].upper if i < len(self.toks) else ""

    def _target(self, i: int) -> str | None:
        """The IRI at ``toks[i]`` (SILENT skipped); None for a variable. A prefixed name
        with an undeclared prefix is reported as written, and refused downstream."""
        if self._upper(i) == "SILENT":
            i += 1
        if i >= len(self.toks):
            return None
        token = self.toks[i]
        resolved = self.resolver.iri(token)
        if resolved is None and token.kind == "pname":
            resolved = token.text
        return resolved

    def _run_together(self, i: int) -> None:
        """Report what the engine may read in a prefixed name that starts with a keyword:
        ``SERVICEx:a`` as ``SERVICE x:a``, ``FROMNAMEDx:g`` as ``FROM NAMED x:g``, and so
        on, whenever the prefix that reading uses is declared (else the engine cannot)."""
        before = self._upper(i - 1) if i else ""
        for keyword, rest in glued_keywords(self.toks[i].text):
            clause, named, optional = keyword, False, _OPTIONAL_AFTER.get(keyword)
            if keyword == "SILENT" and before in ("SERVICE", "LOAD"):
                clause = before
            elif keyword == "NAMED" and before in ("FROM", "USING"):
                clause, named = before, True
            elif keyword not in ("SERVICE", "LOAD", "FROM", "USING", "WITH"):
                continue
            readings = [(rest, named)]
            if optional:
                readings += [(after, optional == "NAMED") for k, after in glued_keywords(rest)
                             if k == optional]
            for name, is_named in readings:
                iri = self.resolver.pname(name)
                if iri is not None:
                    self._report(clause, iri, is_named)

    def _report(self, clause: str, iri: str, named: bool) -> None:
        if clause == "SERVICE":
            self.services.append(iri)
        elif clause == "LOAD":
            self.loads.append(iri)
        else:
            self.dataset.append((clause + (" NAMED" if named else ""), iri))


#: the keyword that may follow each clause keyword before its IRI
_OPTIONAL_AFTER = {"SERVICE": "SILENT", "LOAD": "SILENT", "FROM": "NAMED", "USING": "NAMED"}


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
    for offset in reversed(_modify_where_offsets(lex(text))):
        text = text[:offset] + clauses + text[offset:]
    return text
