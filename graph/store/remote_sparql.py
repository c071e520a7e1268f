"""SPARQL texts the remote store writes, and the engine answers it puts right.

Parameters are bound by text here (a ``VALUES`` block), so the text is built from terms'
own N-Triples forms, never from strings; Virtuoso's update and answer quirks (blank nodes
in ``INSERT DATA``, ``SELECT *`` with a made-up column, ASK as a one-row SELECT) are
repaired here so that ``graph.store.remote`` keeps to the store contract.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from pyoxigraph import (
    BlankNode,
    Quad,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    Variable,
    parse_query_results,
)

from graph.errors import QuerySyntaxError
from graph.sparql.text import tokens


def bind_values(sparql: str, substitutions: Mapping[Any, Any], form: str | None) -> str:
    """``sparql`` with a ``VALUES`` block binding ``substitutions`` at the start of its
    WHERE group: the remote equivalent of pyoxigraph's ``substitutions`` (parameters are
    bound as RDF terms, never spliced in as text)."""
    names = [k.value if isinstance(k, Variable) else str(k).lstrip("?$") for k in substitutions]
    values = " ".join(str(v) for v in substitutions.values())
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({values}) }} "
    at = _where_brace(sparql, form)
    return sparql[:at + 1] + block + sparql[at + 1:]


def _where_brace(sparql: str, form: str | None) -> int:
    depth, parens, skip_template = 0, 0, form == "construct"
    seen_form = False
    for token in tokens(sparql):
        if token.upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            seen_form = True
        if token.kind != "punct" or not seen_form:
            if skip_template and token.upper == "WHERE":
                skip_template = False
            continue
        if token.text == "(":
            parens += 1
        elif token.text == ")":
            parens -= 1
        elif token.text == "{" and parens == 0:
            if depth == 0 and not skip_template:
                return token.start
            depth += 1
        elif token.text == "}" and parens == 0:
            depth -= 1
            if depth == 0:
                skip_template = False
    raise QuerySyntaxError("query has no WHERE group to bind parameters in")


def split_update(sparql: str) -> tuple[str, list[str]]:
    """The prologue (PREFIX/BASE) of an update and the text of its operations."""
    toks = list(tokens(sparql))
    i, prologue_end = 0, 0
    while i < len(toks) and toks[i].upper in ("PREFIX", "BASE"):
        i += 3 if toks[i].upper == "PREFIX" else 2
        prologue_end = toks[i].start if i < len(toks) else len(sparql)
    depth, start, operations = 0, prologue_end, []
    for token in toks[i:]:
        if token.kind != "punct":
            continue
        if token.text == "{":
            depth += 1
        elif token.text == "}":
            depth -= 1
        elif token.text == ";" and depth == 0:
            operations.append(sparql[start:token.start].strip())
            start = token.start + 1
    operations.append(sparql[start:].strip())
    return sparql[:prologue_end], [op for op in operations if op]


def has_insert_data(sparql: str) -> bool:
    words = [t.upper for t in tokens(sparql) if t.kind == "word"]
    return any(a == "INSERT" and b == "DATA" for a, b in itertools.pairwise(words))


def insert_data_body(operation: str) -> str | None:
    """The quad data of an ``INSERT DATA { ... }`` operation, else None."""
    toks = list(tokens(operation))
    if len(toks) < 3 or (toks[0].upper, toks[1].upper) != ("INSERT", "DATA"):
        return None
    return operation[toks[2].start + 1:operation.rindex("}")]


def has_blank(quad: Quad) -> bool:
    return isinstance(quad.subject, BlankNode) or isinstance(quad.object, BlankNode)


def trig_prefixes(prologue: str) -> str:
    """SPARQL PREFIX/BASE declarations in TriG syntax (SPARQL-style is valid TriG too)."""
    return prologue + "\n"


def only_fake_column(result: Any) -> bool:
    """Virtuoso answers ``SELECT *`` over a pattern without variables with a made-up
    ``_star_fake`` column; SPARQL says such a solution binds nothing."""
    variables = getattr(result, "variables", None)
    return variables is not None and [v.value for v in variables] == ["_star_fake"]


def without_columns(result: Any) -> QuerySolutions | QueryBoolean:
    """The same number of solutions, binding no variable."""
    rows = sum(1 for _ in result)
    bindings = ",".join(["{}"] * rows)
    body = '{"head":{"vars":[]},"results":{"bindings":[' + bindings + ']}}'
    return parse_query_results(body, QueryResultsFormat.JSON)


def ask_from_rows(rows: Any) -> QuerySolutions | QueryBoolean:
    """Virtuoso answers ASK with one row ``__ASK_RETVAL`` = 1/0; make it a boolean again."""
    values = [row[0] for row in rows]
    truth = bool(values) and values[0] is not None and values[0].value not in ("0", "false")
    return parse_query_results('{"head":{},"boolean":%s}' % ("true" if truth else "false"),
                               QueryResultsFormat.JSON)
