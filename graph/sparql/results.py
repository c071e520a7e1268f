"""Streaming serialisers for query results.

Rows arrive as an iterator and leave as an iterator of byte chunks, so a large result is
never held twice (once as terms, once as text). SELECT/ASK results are written here
(the row cap means we stop the engine's iterator ourselves, which rules out pyoxigraph's
whole-result ``serialize``); graphs use pyoxigraph's native RDF serialisers chunk by chunk.
Whole graphs and the whole dataset go through :func:`pushed`, which turns a serialiser
that writes to a file (``Store.dump``) into chunks with bounded memory.
"""
from __future__ import annotations

import io
import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

CHUNK_ROWS = 1000
#: bytes a pushing serialiser writes before they are handed on as one chunk
PUSH_CHUNK_BYTES = 64 << 10
#: chunks that may wait for the reader: all a slow reader makes a producer hold
PUSH_WINDOW = 4
#: how often a producer waiting for room looks whether its reader is gone
PUSH_POLL_SECONDS = 0.25

log = logging.getLogger("borderkg.results")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


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
                 prefixes: Mapping[str, str] | None = None) -> Iterator[bytes]:
    """Triples serialised natively by pyoxigraph, in chunks of ``CHUNK_ROWS`` triples.

    Line-based formats stream chunk by chunk; Turtle, JSON-LD, RDF/XML and TriG need one
    document, so they are serialised in one pass over the (already capped) triples, with
    ``prefixes`` (the project's table, ``graph.namespace.PREFIXES``, or entries of it) when
    given: CONSTRUCT answers are written without, as the engine gives them.
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
    serialize(list(triples), buffer, fmt, prefixes=dict(prefixes) if prefixes else None)
    yield buffer.getvalue()


# -- push to pull --------------------------------------------------------------------------
class Abandoned(Exception):
    """Raised inside a pushing serialiser's ``write`` when nobody reads any more."""


class _End:
    """The producer finished."""


class _Relay:
    """The file a pushing serialiser writes to: bytes become chunks on a bounded queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(PUSH_WINDOW)
        self.stop = threading.Event()
        self.buffer = bytearray()

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= PUSH_CHUNK_BYTES:
            self.put(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        """Nothing: chunks leave when full, and at the end."""

    def put(self, item: Any) -> None:
        """Queue ``item``, waiting for room, or :class:`Abandoned` once the reader left."""
        while True:
            if self.stop.is_set():
                raise Abandoned("the reader is gone")
            try:
                self.queue.put(item, timeout=PUSH_POLL_SECONDS)
                return
            except queue.Full:
                continue

    def run(self, produce: Callable[[IO[bytes]], None]) -> None:
        """The producer's thread: run ``produce``, then hand on its end or its error."""
        try:
            produce(self)  # type: ignore[arg-type]
            if self.buffer:
                self.put(bytes(self.buffer))
            self.put(_End())
        except Abandoned:
            return
        except Exception as exc:  # noqa: BLE001 - any failure is handed to the reader, who raises it
            try:
                self.put(exc)
            except Abandoned:
                log.info("serialiser failed after its reader left: %s", exc)


def pushed(produce: Callable[[IO[bytes]], None], name: str = "borderkg-serialiser"
           ) -> Iterator[bytes]:
    """The bytes ``produce(output)`` writes to ``output``, as chunks, made on a thread
    of their own.

    Why: pyoxigraph's fastest serialisers write to a file (``Store.dump`` of the CBP
    graph takes a fifth of the time of iterating its quads into Python and serialising
    them in batches), and its iterators are bound to the thread that created them. The
    whole ``produce`` call runs on one new thread, so no engine object ever changes
    threads, and its writes reach the reader through a queue of ``PUSH_WINDOW`` chunks:
    a slow reader makes the producer wait instead of the answer piling up in memory.
    Closing the iterator (the client went away) makes the producer's next write raise
    :class:`Abandoned`, which ends it. An error of ``produce`` is raised to the reader.

    >>> b"".join(pushed(lambda out: out.write(b"<a> <b> <c> .\\n") and None))
    b'<a> <b> <c> .\\n'
    """
    relay = _Relay()
    thread = threading.Thread(target=relay.run, args=(produce,), name=name, daemon=True)
    thread.start()
    try:
        while not isinstance(item := relay.queue.get(), _End):
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        relay.stop.set()
        thread.join(PUSH_POLL_SECONDS * 4)


class Resumed:
    """Chunks of which the first were already taken, still closable as a WSGI body."""

    def __init__(self, taken: Sequence[bytes], rest: Iterator[bytes]) -> None:
        self.taken, self.rest = taken, rest

    def __iter__(self) -> Iterator[bytes]:
        yield from self.taken
        yield from self.rest

    def close(self) -> None:
        close = getattr(self.rest, "close", None)
        if close is not None:
            close()


def started(chunks: Iterator[bytes]) -> Resumed:
    """The chunks, the first one already taken (so its failure is raised here)."""
    return Resumed((next(chunks, b""),), chunks)


def whole_or_resumed(chunks: Iterator[bytes]) -> bytes | Resumed:
    """The body as bytes when it is one chunk, else a closable stream of its chunks.

    Taking the first chunk before the response starts means a failure of the producer
    still gets its own status, and a small answer leaves with a Content-Length; the
    stream stays closable so that a reader who leaves stops the producer at once.
    """
    first = next(chunks, b"")
    second = next(chunks, None)
    if second is None:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        return first
    return Resumed((first, second), chunks)
