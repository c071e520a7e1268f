"""Reading the suite's RDF files and the servers' answers.

Data files are parsed here (with their W3C address as base) and sent to the servers as
N-Quads, so both servers receive exactly the same quads and no server has to guess a base
IRI. Each file's blank nodes get labels of their own: two files that both write ``_:a``
mean two different nodes (an RDF merge), which a plain concatenation would not give.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from tests.w3c.manifest import GraphFile, local_path
from tests.w3c.results import (
    Answer,
    parse_csv,
    parse_json,
    parse_tsv,
    parse_xml,
    result_set_of,
    to_graph,
)

Names = dict[str, str]
RESULT_PARSERS = {"application/sparql-results+xml": parse_xml,
                  "application/sparql-results+json": parse_json,
                  "text/tab-separated-values": parse_tsv, "text/csv": parse_csv}


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header, lower-cased."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _format_of(path: Path) -> ox.RdfFormat:
    found = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    if found is None:
        raise ValueError(f"no RDF format for {path}")
    return found


def _renamed(node: ox.NamedNode, names: Names) -> ox.NamedNode:
    return ox.NamedNode(names[node.value]) if node.value in names else node


def _term(node: Any, tag: str, names: Names) -> Any:
    if isinstance(node, ox.BlankNode):
        return ox.BlankNode(f"{tag}{node.value}")
    if isinstance(node, ox.NamedNode):
        return _renamed(node, names)
    return node


def file_quads(file: GraphFile, tag: str, names: Names | None = None) -> list[ox.Quad]:
    """The triples of one suite file, placed in its graph, blank nodes prefixed by ``tag``."""
    names = names or {}
    graph = ox.DefaultGraph() if file.graph is None else _renamed(ox.NamedNode(file.graph),
                                                                  names)
    return [ox.Quad(_term(q.subject, tag, names), _renamed(q.predicate, names),
                    _term(q.object, tag, names), graph)
            for q in ox.parse(path=file.path, format=_format_of(file.path), base_iri=file.iri)]


def dataset_quads(files: Sequence[GraphFile], names: Names | None = None) -> list[ox.Quad]:
    """The dataset several files make, each file's blank nodes apart from the others'."""
    return [q for n, file in enumerate(files) for q in file_quads(file, f"f{n}x", names)]


def nquads(quads: Iterable[ox.Quad]) -> bytes:
    return ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS) or b""


def by_graph(quads: Iterable[ox.Quad]) -> dict[str | None, Graph]:
    """The graphs of a dataset by name (``None``: the default graph); empty graphs are
    absent, as a dataset serialisation cannot show them."""
    parts: dict[str | None, list[ox.Quad]] = {}
    for quad in quads:
        name = None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        parts.setdefault(name, []).append(quad)
    return {name: to_graph(part) for name, part in parts.items()}


def parse_rdf(body: bytes, content_type: str | None, base: str | None = None) -> list[ox.Quad]:
    """RDF in whatever syntax a Content-Type names."""
    found = ox.RdfFormat.from_media_type(media_type(content_type))
    if found is None:
        raise ValueError(f"not an RDF media type: {content_type!r}")
    return list(ox.parse(body, format=found, base_iri=base))


def parse_answer(body: bytes, content_type: str | None) -> Answer:
    """A server's answer: a result set by its media type, else a graph."""
    parser = RESULT_PARSERS.get(media_type(content_type))
    if parser is not None:
        return parser(body)
    return to_graph(parse_rdf(body, content_type))


def read_answer(iri: str) -> Answer:
    """An expected answer file of the suite (result set or graph, by extension)."""
    path = local_path(iri)
    by_extension = {".srx": parse_xml, ".srj": parse_json, ".tsv": parse_tsv,
                    ".csv": parse_csv}
    if path.suffix in by_extension:
        return by_extension[path.suffix](path.read_bytes())
    quads = list(ox.parse(path=path, format=_format_of(path), base_iri=iri))
    results = result_set_of(quads)
    return to_graph(quads) if results is None else results
