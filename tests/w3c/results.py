"""Query results and graphs as plain values, and the comparisons SPARQL semantics require.

A term is a tuple: ``("I", iri)``, ``("B", label)``, ``("L", lexical, datatype, lang)``
(``("C", text)`` for a CSV cell, where the format has dropped the kind of term). Literals
are compared by term — lexical form, datatype, language — never by value: rdflib's own
result parsers normalise lexical forms (``"01"^^xsd:integer`` becomes ``"1"``), which would
hide a server that answers the wrong form, so solutions are read here and graphs are
built with ``normalize=False``.
"""
from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

Term = tuple[str, ...]
Row = tuple[tuple[str, Term], ...]

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_INTEGERS = frozenset({
    "integer", "long", "int", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "nonPositiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte"})
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@dataclass(frozen=True)
class Solutions:
    """A SELECT answer: variables and rows (each row its bound variables, sorted)."""

    variables: tuple[str, ...]
    rows: tuple[Row, ...]


Answer = Solutions | bool | Graph


def literal(lexical: str, datatype: str | None = None, lang: str | None = None) -> Term:
    """A literal term; a plain literal is an ``xsd:string`` (RDF 1.1), tags lower-cased,
    numbers and booleans in their canonical form (see :func:`canonical`)."""
    if lang:
        return ("L", lexical, RDF_LANG_STRING, lang.lower())
    datatype = datatype or XSD_STRING
    return ("L", canonical(lexical, datatype), datatype, "")


def canonical(lexical: str, datatype: str) -> str:
    """The canonical form of a well-formed number or boolean, any other lexical form as it is.

    SPARQL fixes the value and datatype of a computed number (``MIN``, ``SUM``, a cast),
    not how it is written, and stores may keep numbers as values: ``"1.0"^^xsd:decimal``
    and ``"1"^^xsd:decimal`` are one literal here, as they are in Oxigraph's own runner of
    this suite. The datatype still has to match exactly.
    """
    name = datatype.removeprefix(XSD)
    text = lexical.strip()
    if name in XSD_INTEGERS and re.fullmatch(r"[+-]?\d+", text):
        return str(int(text))
    if name == "decimal" and re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        written = format(Decimal(text).normalize(), "f")
        return ("0" if written in ("-0", "0") else written) + ("" if "." in written else ".0")
    if name in ("double", "float") and re.fullmatch(
            r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN", text):
        return repr(float(text.replace("INF", "inf")))
    if name == "boolean" and text in ("true", "false", "1", "0"):
        return "true" if text in ("true", "1") else "false"
    return lexical


def term_of(node: object) -> Term:
    """A pyoxigraph term as a plain term."""
    if isinstance(node, ox.NamedNode):
        return ("I", node.value)
    if isinstance(node, ox.BlankNode):
        return ("B", node.value)
    if isinstance(node, ox.Literal):
        return literal(node.value, node.datatype.value, node.language)
    raise ValueError(f"unsupported term in a result: {node!r}")


def row(bindings: Iterable[tuple[str, Term]]) -> Row:
    return tuple(sorted(bindings))


# -- reading answers ---------------------------------------------------------------------

def parse_xml(body: bytes) -> Solutions | bool:
    """SPARQL Query Results XML."""
    root = ET.fromstring(body)
    boolean = root.find(f"{SRX}boolean")
    if boolean is not None:
        return (boolean.text or "").strip() == "true"
    variables = tuple(v.get("name", "") for v in root.iter(f"{SRX}variable"))
    rows = [row((b.get("name", ""), _xml_term(b[0])) for b in r.iter(f"{SRX}binding"))
            for r in root.iter(f"{SRX}result")]
    return Solutions(variables, tuple(rows))


def _xml_term(node: ET.Element) -> Term:
    kind, text = node.tag.removeprefix(SRX), node.text or ""
    if kind == "uri":
        return ("I", text)
    if kind == "bnode":
        return ("B", text)
    return literal(text, node.get("datatype"),
                   node.get("{http://www.w3.org/XML/1998/namespace}lang"))


def parse_json(body: bytes) -> Solutions | bool:
    """SPARQL 1.1 Query Results JSON."""
    document = json.loads(body)
    if "boolean" in document:
        return bool(document["boolean"])
    rows = [row((name, _json_term(value)) for name, value in binding.items())
            for binding in document["results"]["bindings"]]
    return Solutions(tuple(document["head"].get("vars", ())), tuple(rows))


def _json_term(value: dict[str, str]) -> Term:
    kind = value["type"]
    if kind == "uri":
        return ("I", value["value"])
    if kind == "bnode":
        return ("B", value["value"])
    return literal(value["value"], value.get("datatype"), value.get("xml:lang"))


def parse_tsv(body: bytes) -> Solutions | bool:
    """SPARQL 1.1 TSV (terms in SPARQL syntax), read by pyoxigraph."""
    parsed = ox.parse_query_results(body, ox.QueryResultsFormat.TSV)
    if isinstance(parsed, ox.QueryBoolean):
        return bool(parsed)
    variables = tuple(v.value for v in parsed.variables)
    rows = [row((name, term_of(solution[name])) for name in variables
                if solution[name] is not None) for solution in parsed]
    return Solutions(variables, tuple(rows))


def parse_csv(body: bytes) -> Solutions:
    """SPARQL 1.1 CSV: only the text of each value survives; ``_:x`` is a blank node."""
    records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    if not records:
        return Solutions((), ())
    variables = tuple(records[0])
    rows = [row((name, ("B", cell[2:]) if cell.startswith("_:") else ("C", cell))
                for name, cell in zip(variables, record, strict=False) if cell != "")
            for record in records[1:]]
    return Solutions(variables, tuple(rows))


def to_graph(quads: Iterable[ox.Quad | ox.Triple]) -> Graph:
    """An rdflib graph of pyoxigraph triples, literals kept exactly as written."""
    graph = Graph()
    for quad in quads:
        graph.add((_node(quad.subject), _node(quad.predicate), _node(quad.object)))
    return graph


def _node(node: object) -> URIRef | BNode | Literal:
    kind, *rest = term_of(node)
    if kind == "I":
        return URIRef(rest[0])
    if kind == "B":
        return BNode(rest[0])
    lexical, datatype, lang = rest
    if lang:
        return Literal(lexical, lang=lang, normalize=False)
    return Literal(lexical, datatype=URIRef(datatype), normalize=False)


def result_set_of(quads: Sequence[ox.Quad]) -> Solutions | bool | None:
    """A result set written in RDF (the ``rs:`` vocabulary), or None if there is none."""
    by_subject: dict[Term, list[tuple[str, Term]]] = {}
    for quad in quads:
        by_subject.setdefault(term_of(quad.subject), []).append(
            (term_of(quad.predicate)[1], term_of(quad.object)))
    sets = [s for s, props in by_subject.items() if (RDF_TYPE, ("I", RS + "ResultSet")) in props]
    if not sets:
        return None
    props = by_subject[sets[0]]
    for predicate, value in props:
        if predicate == RS + "boolean":
            return value[1] == "true"
    variables = tuple(v[1] for p, v in props if p == RS + "resultVariable")
    index = {s: int(v[1]) for s, pairs in by_subject.items() for p, v in pairs
             if p == RS + "index"}
    solutions = sorted((v for p, v in props if p == RS + "solution"),
                       key=lambda s: index.get(s, 0))
    return Solutions(variables, tuple(_rs_row(by_subject, s) for s in solutions))


def _rs_row(by_subject: dict[Term, list[tuple[str, Term]]], solution: Term) -> Row:
    bindings = []
    for predicate, binding in by_subject.get(solution, []):
        if predicate == RS + "binding":
            props = dict(by_subject.get(binding, []))
            bindings.append((props[RS + "variable"][1], props[RS + "value"]))
    return row(bindings)


# -- comparing ---------------------------------------------------------------------------

def compare(expected: Answer, actual: Answer, order: list[str] | None | bool = False) -> str:
    """Why ``actual`` is not the answer ``expected`` ('' when it is).

    ``order`` is False for an unordered comparison, True when the rows must follow the
    expected order, or the ORDER BY variables whose values must follow it (rows that tie
    on them may come in any order).
    """
    if isinstance(expected, bool) or isinstance(actual, bool):
        return "" if expected is actual else f"expected boolean {expected}, got {_kind(actual)}"
    if isinstance(expected, Graph) or isinstance(actual, Graph):
        if not (isinstance(expected, Graph) and isinstance(actual, Graph)):
            return f"expected {_kind(expected)}, got {_kind(actual)}"
        if isomorphic(expected, actual):
            return ""
        return f"graphs differ: expected {len(expected)} triples, got {len(actual)}"
    return compare_solutions(expected, actual, order)


def _kind(answer: Answer) -> str:
    if isinstance(answer, bool):
        return f"boolean {answer}"
    return "a graph" if isinstance(answer, Graph) else f"{len(answer.rows)} solutions"


def compare_solutions(expected: Solutions, actual: Solutions,
                      order: list[str] | None | bool = False) -> str:
    """Solution multisets equal up to blank-node renaming (and in order when asked)."""
    if not rows_match(expected.rows, actual.rows):
        return (f"solutions differ: expected {len(expected.rows)}, got {len(actual.rows)}"
                f"; first expected {_show(expected.rows)}, first got {_show(actual.rows)}")
    if order is False:
        return ""
    keys = None if order is True else order
    projected = [[_project(r, keys) for r in rows] for rows in (expected.rows, actual.rows)]
    if _sequence_matches(*projected):
        return ""
    return f"solutions in the wrong order (ORDER BY {' '.join(keys or ['the whole row'])})"


def _show(rows: Sequence[Row]) -> str:
    return str(dict(rows[0])) if rows else "none"


def _project(values: Row, keys: list[str] | None) -> Row:
    return values if keys is None else tuple((k, t) for k, t in values if k in keys)


def _ground(values: Row) -> Row:
    return tuple((k, ("B",) if t[0] == "B" else t) for k, t in values)


def _has_blank(values: Row) -> bool:
    return any(t[0] == "B" for _, t in values)


def rows_match(expected: Sequence[Row], actual: Sequence[Row]) -> bool:
    """Equal multisets of rows, blank nodes matched by one bijection."""
    if Counter(map(_ground, expected)) != Counter(map(_ground, actual)):
        return False
    left = [r for r in expected if _has_blank(r)]
    right = [r for r in actual if _has_blank(r)]
    left.sort(key=lambda r: sum(1 for c in right if _ground(c) == _ground(r)))
    return _search(left, right, 0, {}, {}, set())


def _search(left: list[Row], right: list[Row], i: int, forward: dict[str, str],
            backward: dict[str, str], used: set[int]) -> bool:
    if i == len(left):
        return True
    for j, candidate in enumerate(right):
        if j in used or _ground(candidate) != _ground(left[i]):
            continue
        extended = _extend(left[i], candidate, forward, backward)
        if extended is None:
            continue
        used.add(j)
        if _search(left, right, i + 1, *extended, used):
            return True
        used.discard(j)
    return False


def _extend(a: Row, b: Row, forward: dict[str, str],
            backward: dict[str, str]) -> tuple[dict[str, str], dict[str, str]] | None:
    """The blank-node bijection extended so that row ``a`` maps onto row ``b``."""
    forward, backward = dict(forward), dict(backward)
    if [k for k, _ in a] != [k for k, _ in b]:
        return None
    for (_, x), (_, y) in zip(a, b, strict=True):
        if x[0] != "B":
            if x != y:
                return None
            continue
        if y[0] != "B" or forward.get(x[1], y[1]) != y[1] or backward.get(y[1], x[1]) != x[1]:
            return None
        forward[x[1]], backward[y[1]] = y[1], x[1]
    return forward, backward


def _sequence_matches(expected: list[Row], actual: list[Row]) -> bool:
    """Row i matches row i for every i, under one blank-node bijection."""
    if len(expected) != len(actual):
        return False
    maps: tuple[dict[str, str], dict[str, str]] | None = ({}, {})
    for a, b in zip(expected, actual, strict=True):
        maps = _extend(a, b, *maps) if maps else None
        if maps is None:
            return False
    return True


def rename(answer: Answer, names: dict[str, str]) -> Answer:
    """The same answer with some IRIs renamed (federated tests move endpoints to loopback)."""
    if not names or isinstance(answer, bool | Graph):
        return answer
    rows = tuple(tuple((k, ("I", names.get(t[1], t[1])) if t[0] == "I" else t) for k, t in r)
                 for r in answer.rows)
    return Solutions(answer.variables, rows)
