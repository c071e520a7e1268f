"""Checks on uploaded RDF before a parser sees it.

Two formats can make a parser do far more than read the bytes it was given:

* **RDF/XML** may carry a DOCTYPE with entity declarations. Oxigraph expands internal
  entities: a 1 kB "billion laughs" document expanded to 10^9 characters in 7 s and a
  gigabyte of memory. External entities are not resolved, but nothing in RDF needs a
  DOCTYPE at all, so any DOCTYPE or entity declaration is refused (400) — fail closed.
* **JSON-LD** may name remote contexts (``"@context": "http://..."``, ``@import``).
  Oxigraph never fetches them (it fails with "No LoadDocumentCallback has been set"),
  so nothing leaks; the check turns that into a clear 400 naming the context, before any
  parsing work is done.

Both parsers also recurse on nesting: JSON-LD nested 5,000 objects deep crashed the
process (segmentation fault) and RDF/XML nested 30,000 elements deep took 13 s, so
nesting deeper than ``MAX_DEPTH`` is refused too. Turtle, TriG, N-Triples and N-Quads
parse iteratively and need no check.

400 rather than 415: the media type is supported; this particular body is not accepted.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO, Any, cast
from xml.parsers import expat

from pyoxigraph import RdfFormat

from graph.errors import BadRequest

#: deepest element/object nesting accepted in RDF/XML and JSON-LD
MAX_DEPTH = 256


class UnsafeUpload(BadRequest):
    """An RDF body refused because parsing it could fetch, expand or recurse without bound."""

    code = "unsafe-rdf"


def check_upload(data: bytes, fmt: Any) -> None:
    """Raise ``UnsafeUpload`` (400) when ``data`` in format ``fmt`` must not be parsed.

    ``fmt`` is a pyoxigraph ``RdfFormat`` or a ``graph.formats.Format``.
    """
    engine = _engine(fmt)
    if engine == RdfFormat.RDF_XML:
        _check_xml(lambda parser: parser.Parse(data, True))
    elif engine == RdfFormat.JSON_LD:
        _check_jsonld(data)


def check_path(path: Path, fmt: Any) -> None:
    """``check_upload`` for a file (gzipped or not), streaming RDF/XML."""
    engine = _engine(fmt)
    if engine not in (RdfFormat.RDF_XML, RdfFormat.JSON_LD):
        return
    with _open(path) as stream:
        if engine == RdfFormat.RDF_XML:
            _check_xml(lambda parser: parser.ParseFile(stream))
        else:
            _check_jsonld(stream.read())


def _engine(fmt: Any) -> Any:
    return getattr(fmt, "engine", fmt)


def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb") if gzipped else open(path, "rb"))


# -- RDF/XML ----------------------------------------------------------------------------

def _check_xml(feed: Any) -> None:
    """Run expat over the document: refuse DOCTYPE/entities, bound the nesting depth."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = [0]

    def doctype(name: str, *_: Any) -> None:
        raise UnsafeUpload(f"RDF/XML with a DOCTYPE (<!DOCTYPE {name}>) is refused: "
                           "entity declarations can expand without bound or read files, "
                           "and RDF does not need them", line=parser.CurrentLineNumber)

    def entity(name: str, *_: Any) -> None:
        raise UnsafeUpload(f"RDF/XML entity declaration {name!r} refused",
                           line=parser.CurrentLineNumber)

    def start(*_: Any) -> None:
        depth[0] += 1
        if depth[0] > MAX_DEPTH:
            raise UnsafeUpload(f"RDF/XML nested deeper than {MAX_DEPTH} elements is refused",
                               line=parser.CurrentLineNumber, limit_depth=MAX_DEPTH)

    def end(*_: Any) -> None:
        depth[0] -= 1

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        feed(parser)
    except expat.ExpatError as exc:
        raise BadRequest(f"RDF/XML is not well-formed XML: {expat.errors.messages[exc.code]}",
                         line=exc.lineno, column=exc.offset + 1) from None


# -- JSON-LD ----------------------------------------------------------------------------

def _check_jsonld(data: bytes) -> None:
    try:
        document = json.loads(data)
    except RecursionError:
        raise UnsafeUpload(f"JSON-LD nested deeper than {MAX_DEPTH} levels is refused",
                           limit_depth=MAX_DEPTH) from None
    except ValueError as exc:  # JSONDecodeError and undecodable bytes
        raise BadRequest(f"JSON-LD is not valid JSON: {exc}") from None
    _walk_jsonld(document)


def _walk_jsonld(document: Any) -> None:
    """Refuse remote contexts anywhere (top level, embedded, scoped, ``@import``)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UnsafeUpload(f"JSON-LD nested deeper than {MAX_DEPTH} levels is refused",
                               limit_depth=MAX_DEPTH)
        if isinstance(node, dict):
            _check_context(node.get("@context"))
            if isinstance(node.get("@import"), str):
                _refuse_context(node["@import"])
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)


def _check_context(context: Any) -> None:
    items = context if isinstance(context, list) else [context]
    for item in items:
        if isinstance(item, str):
            _refuse_context(item)


def _refuse_context(iri: str) -> None:
    raise UnsafeUpload(f"JSON-LD remote context {iri!r} refused: BorderKG never fetches "
                       "documents; embed the context in the upload instead", context=iri)
