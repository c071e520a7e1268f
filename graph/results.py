"""Streaming serialisers for query results.

Rows arrive as an iterator and leave as an iterator of byte chunks, so a large result is
never held twice (once as terms, once as text). SELECT/ASK results are written here
(the row cap means we stop the engine's iterator ourselves, which rules out pyoxigraph's
whole-result ``serialize``); graphs use pyoxigraph's native RDF serialisers chunk by chunk.
"""
from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

CHUNK_ROWS = 1000
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, Triple):
        return {"type": "triple", "value": {"subject": _json_term(term.subject),
                                            "predicate": _json_term(term.predicate),
                                            "object": _json_term(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def _rows(solutions: Iterable[Any], variables: Sequence[str]) -> Iterator[list[Any]]:
    for solution in solutions:
        yield [solution[v] for v in variables]


def _chunked(lines: Iterable[str], first: str = "", last: str = "") -> Iterator[bytes]:
    buffer = [first] if first else []
    for line in lines:
        buffer.append(line)
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer).encode("utf-8")
            buffer = []
    buffer.append(last)
    yield "".join(buffer).encode("utf-8")


def json_solutions(variables: Sequence[str], solutions: Iterable[Any]) -> Iterator[bytes]:
    """SPARQL 1.1 Query Results JSON."""
    head = json.dumps({"vars": list(variables)})
    def lines() -> Iterator[str]:
        sep = ""
        for row in _rows(solutions, variables):
            binding = {v: _json_term(t) for v, t in zip(variables, row, strict=True)
                       if t is not None}
            yield sep + json.dumps(binding, ensure_ascii=False)
            sep = ",\n"
    return _chunked(lines(), f'{{"head":{head},"results":{{"bindings":[\n', "\n]}}\n")


def _csv_field(term: Any) -> str:
    if term is None:
        return ""
    text = term.value if isinstance(term, (NamedNode, Literal)) else \
        f"_:{term.value}" if isinstance(term, BlankNode) else str(term)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_solutions(variables: Sequence[str], solutions: Iterable[Any]) -> Iterator[bytes]:
    """SPARQL 1.1 Query Results CSV (values only, RFC 4180 quoting, CRLF)."""
    lines = (",".join(_csv_field(t) for t in row) + "\r\n" for row in _rows(solutions, variables))
    return _chunked(lines, ",".join(variables) + "\r\n")


def _tsv_term(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, Triple):
        parts = (_tsv_term(term.subject), _tsv_term(term.predicate), _tsv_term(term.object))
        return f"<< {' '.join(parts)} >>"
    text = str(term)  # pyoxigraph's str() is the N-Triples/Turtle form
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def tsv_solutions(variables: Sequence[str], solutions: Iterable[Any]) -> Iterator[bytes]:
    """SPARQL 1.1 Query Results TSV (terms in Turtle syntax)."""
    lines = ("\t".join(_tsv_term(t) for t in row) + "\n" for row in _rows(solutions, variables))
    return _chunked(lines, "\t".join("?" + v for v in variables) + "\n")


def _xml_term(term: Any) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            datatype = quoteattr(term.datatype.value)
            return f"<literal datatype={datatype}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
                f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}"
                "</object></triple>")
    raise TypeError(f"not an RDF term: {term!r}")


XML_HEAD = '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'


def xml_solutions(variables: Sequence[str], solutions: Iterable[Any]) -> Iterator[bytes]:
    """SPARQL Query Results XML."""
    head = "".join(f"<variable name={quoteattr(v)}/>" for v in variables)
    def lines() -> Iterator[str]:
        for row in _rows(solutions, variables):
            cells = "".join(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                            for v, t in zip(variables, row, strict=True)
                            if t is not None)
            yield f"<result>{cells}</result>\n"
    return _chunked(lines(), f"{XML_HEAD}<head>{head}</head>\n<results>\n",
                    "</results>\n</sparql>\n")


SOLUTION_WRITERS = {"json": json_solutions, "xml": xml_solutions, "csv": csv_solutions,
                    "tsv": tsv_solutions}


def boolean(value: bool, fmt: str) -> bytes:
    """An ASK answer in ``fmt`` (json, xml, csv, tsv)."""
    word = "true" if value else "false"
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return f"{XML_HEAD}<head/>\n<boolean>{word}</boolean>\n</sparql>\n".encode()
    if fmt == "csv":
        return f"_askResult\r\n{word}\r\n".encode()
    return f"?_askResult\n{word}\n".encode()


def graph_chunks(triples: Iterable[Any], fmt: RdfFormat,
                 prefixes: dict[str, str] | None = None) -> Iterator[bytes]:
    """Triples serialised natively by pyoxigraph, in chunks of ``CHUNK_ROWS`` triples.

    Line-based formats stream chunk by chunk; Turtle, JSON-LD, RDF/XML and TriG need one
    document, so they are serialised in one pass over the (already capped) triples.
    """
    if fmt in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
        batch: list[Any] = []
        for triple in triples:
            batch.append(triple)
            if len(batch) >= CHUNK_ROWS:
                yield serialize(batch, format=fmt) or b""
                batch = []
        if batch:
            yield serialize(batch, format=fmt) or b""
        return
    buffer = io.BytesIO()
    serialize(list(triples), buffer, fmt, prefixes=prefixes or None)
    yield buffer.getvalue()
