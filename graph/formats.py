"""Media types and file extensions for every format BorderKG reads or writes.

Three tables, one per kind of payload, as content negotiation needs them: SELECT/ASK
results, graphs (CONSTRUCT/DESCRIBE, Graph Store), and datasets (quads). Each entry maps
a media type to the pyoxigraph format; the first entry of a table is its default.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat


@dataclass(frozen=True)
class Format:
    """A named format: canonical media type, aliases, extensions and the engine format."""

    name: str
    media_type: str
    engine: RdfFormat | QueryResultsFormat
    aliases: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


RESULT_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", QueryResultsFormat.JSON,
           ("application/json",), ("srj", "json")),
    Format("xml", "application/sparql-results+xml", QueryResultsFormat.XML,
           ("application/xml", "text/xml"), ("srx", "xml")),
    Format("csv", "text/csv", QueryResultsFormat.CSV, (), ("csv",)),
    Format("tsv", "text/tab-separated-values", QueryResultsFormat.TSV, (), ("tsv",)),
)

GRAPH_FORMATS: tuple[Format, ...] = (
    # N3 is answered with Turtle, which every N3 parser reads (rdflib asks text/n3 for "n3")
    Format("turtle", "text/turtle", RdfFormat.TURTLE,
           ("application/x-turtle", "text/n3", "text/rdf+n3"), ("ttl",)),
    Format("ntriples", "application/n-triples", RdfFormat.N_TRIPLES, ("text/plain",), ("nt",)),
    Format("jsonld", "application/ld+json", RdfFormat.JSON_LD, (), ("jsonld",)),
    Format("rdfxml", "application/rdf+xml", RdfFormat.RDF_XML, (), ("rdf", "owl", "xml")),
    Format("trig", "application/trig", RdfFormat.TRIG, (), ("trig",)),
    Format("nquads", "application/n-quads", RdfFormat.N_QUADS, (), ("nq",)),
)

DATASET_FORMATS: tuple[Format, ...] = (
    GRAPH_FORMATS[4],
    GRAPH_FORMATS[5],
    GRAPH_FORMATS[2],
)

ALL_RDF = GRAPH_FORMATS


def by_name(table: tuple[Format, ...], name: str) -> Format | None:
    """The format called ``name`` (or with that extension or media type) in ``table``."""
    key = name.strip().lower()
    for fmt in table:
        if key == fmt.name or key in fmt.extensions or key in fmt.media_types:
            return fmt
    return None


def by_media_type(table: tuple[Format, ...], media_type: str) -> Format | None:
    """The format whose media type (ignoring parameters) is ``media_type``."""
    base = media_type.split(";", 1)[0].strip().lower()
    return next((f for f in table if base in f.media_types), None)


def for_path(path: str) -> Format | None:
    """Guess an RDF format from a file name, ignoring a trailing ``.gz``."""
    name = path.lower().removesuffix(".gz")
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return next((f for f in ALL_RDF if ext in f.extensions), None)
