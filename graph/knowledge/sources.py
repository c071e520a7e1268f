"""Curated sources: checked, completed with their provenance, built into their own graphs.

A curated source is a TriG file that began as ``borderkg ingest``'s draft
(``graph.knowledge.ingest``) and that a curator finished. Each goes into one named graph,
``graph/article/{source}``, beside the founding article's, so a query can always tell
which source says what, and rebuilding one never touches another or the seed.

The file is checked whole before anything is written, because a half-curated source
served as knowledge would be worse than none: one named graph of the right form, no
``bkg:curationStatus "draft"`` left, a curation date, and every ``bkg:Claim`` complete
(one subject, predicate and object) and derived from a sentence of the source's own
document. The build then adds what the graph must say in any case: that it was derived
from the document (``prov:wasDerivedFrom``, ``dcterms:source``), and each claim's triple
itself, asserted in the source's graph as the founding article's claims are in theirs.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, parse

from graph import ids
from graph.errors import BadParameter
from graph.namespace import BKG
from graph.store.base import Store

from .ingest import check_source_id

__all__ = ["CuratedSource", "SourceError", "build_sources", "read_source", "read_sources",
           "source_files"]

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDF_SUBJECT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#subject")
RDF_PREDICATE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#predicate")
RDF_OBJECT = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#object")
DERIVED_FROM = NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
DC_SOURCE = NamedNode("http://purl.org/dc/terms/source")
DATE_ACCEPTED = NamedNode("http://purl.org/dc/terms/dateAccepted")
IS_PART_OF = NamedNode("http://purl.org/dc/terms/isPartOf")
XSD_DATE = NamedNode("http://www.w3.org/2001/XMLSchema#date")
CLAIM, SENTENCE = NamedNode(str(BKG.Claim)), NamedNode(str(BKG.Sentence))
CURATION_STATUS = NamedNode(str(BKG.curationStatus))
SOURCE_GRAPHS = ids.GRAPH + "article/"
#: how many offending resources an error names before it says "and N more"
SHOWN = 5

Index = dict[tuple[str, str], list[object]]


class SourceError(BadParameter):
    """A curated source file that cannot be built as it is."""

    code = "bad-source"


@dataclass(frozen=True)
class CuratedSource:
    """A checked curated source: its file, id, graph and every quad to build."""

    path: Path
    source_id: str
    graph: str
    quads: tuple[Quad, ...]


def source_files(paths: Iterable[Path]) -> list[Path]:
    """The files ``paths`` name: a file as itself, a directory as its ``*.trig`` files."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.trig")) if path.is_dir() else [path])
    return files


def read_sources(paths: Iterable[Path]) -> list[CuratedSource]:
    """Every source of ``paths`` checked; two files for one source are refused."""
    sources: dict[str, CuratedSource] = {}
    for path in source_files(paths):
        source = read_source(path)
        if source.graph in sources:
            raise SourceError(f"{path} and {sources[source.graph].path} are both source "
                              f"{source.source_id}", path=str(path))
        sources[source.graph] = source
    return list(sources.values())


def read_source(path: Path) -> CuratedSource:
    """Parse and check one curated source file (see the module's docstring)."""
    quads = _parse(path)
    graph, source_id = _only_graph(path, quads)
    index = _index(quads)
    _check_no_blank_nodes(path, quads)
    _check_no_drafts(path, index)
    _check_curation_date(path, index, graph)
    document = ids.thing("source", source_id)
    sentences = _sentences(index, document)
    if not sentences:
        raise SourceError(f"{path}: no bkg:Sentence is part of the document <{document}>",
                          path=str(path))
    claims = [_claim(path, index, claim, sentences, graph) for claim in _claims(index)]
    added = _provenance(graph, document) + claims
    return CuratedSource(path, source_id, graph, tuple(dict.fromkeys([*quads, *added])))


def _parse(path: Path) -> list[Quad]:
    try:
        return list(parse(path=str(path), format=RdfFormat.TRIG))
    except SyntaxError as exc:
        raise SourceError(f"{path}: not TriG: {exc}", path=str(path)) from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}", path=str(path)) from None


def _only_graph(path: Path, quads: list[Quad]) -> tuple[str, str]:
    """The one named graph the file fills, and the source id its IRI ends with."""
    names = {q.graph_name for q in quads}
    graphs = sorted(n.value for n in names if isinstance(n, NamedNode))
    if len(names) != 1 or len(graphs) != 1 or not graphs[0].startswith(SOURCE_GRAPHS):
        shown = ", ".join(f"<{g}>" for g in graphs) or "none"
        raise SourceError(f"{path}: a source fills exactly one named graph "
                          f"<{SOURCE_GRAPHS}ID> and no other (found: {shown}"
                          f"{', and the default graph' if len(names) > len(graphs) else ''})",
                          path=str(path))
    try:
        source_id = check_source_id(graphs[0][len(SOURCE_GRAPHS):])
    except BadParameter as exc:
        raise SourceError(f"{path}: graph <{graphs[0]}>: {exc.message}", path=str(path)) from None
    return graphs[0], source_id


def _index(quads: Iterable[Quad]) -> Index:
    """(subject, predicate) -> objects, for the checks' look-ups."""
    index: Index = defaultdict(list)
    for q in quads:
        index[(str(q.subject), q.predicate.value)].append(q.object)
    return index


def _values(index: Index, subject: str, predicate: NamedNode) -> list[object]:
    return index.get((f"<{subject}>", predicate.value), [])


def _subjects(index: Index, predicate: NamedNode, obj: object) -> list[str]:
    return sorted(s[1:-1] for (s, p), objs in index.items()
                  if p == predicate.value and obj in objs and s.startswith("<"))


def _check_no_blank_nodes(path: Path, quads: list[Quad]) -> None:
    """Claims and their subjects must keep their IRIs from one build to the next."""
    blank = [q for q in quads if isinstance(q.subject, BlankNode) or isinstance(q.object,
                                                                                  BlankNode)]
    if blank:
        raise SourceError(f"{path}: {len(blank)} triples with a blank node (first: "
                          f"{blank[0].triple}); name every resource", path=str(path))


def _check_no_drafts(path: Path, index: Index) -> None:
    drafts = _subjects(index, CURATION_STATUS, Literal("draft"))
    if drafts:
        raise SourceError(f'{path}: still a draft: bkg:curationStatus "draft" on '
                          f"{_some(drafts)}; finish curating them (docs/curation.md)",
                          path=str(path), drafts=drafts)


def _some(iris: list[str]) -> str:
    shown = ", ".join(f"<{i}>" for i in iris[:SHOWN])
    return shown + (f" and {len(iris) - SHOWN} more" if len(iris) > SHOWN else "")


def _check_curation_date(path: Path, index: Index, graph: str) -> None:
    dates = _values(index, graph, DATE_ACCEPTED)
    if not any(isinstance(d, Literal) and d.datatype == XSD_DATE for d in dates):
        raise SourceError(f'{path}: <{graph}> has no curation date: add dcterms:dateAccepted '
                          '"YYYY-MM-DD"^^xsd:date', path=str(path))


def _sentences(index: Index, document: str) -> set[str]:
    """The sentences of ``document`` the file describes."""
    typed = set(_subjects(index, RDF_TYPE, SENTENCE))
    return typed & set(_subjects(index, IS_PART_OF, NamedNode(document)))


def _claims(index: Index) -> list[str]:
    return _subjects(index, RDF_TYPE, CLAIM)


def _claim(path: Path, index: Index, claim: str, sentences: set[str], graph: str) -> Quad:
    """The triple ``claim`` reifies, in ``graph``, once it is complete and derived from a
    sentence."""
    parts = [_values(index, claim, p) for p in (RDF_SUBJECT, RDF_PREDICATE, RDF_OBJECT)]
    if [len(p) for p in parts] != [1, 1, 1] or not isinstance(parts[0][0], NamedNode):
        raise SourceError(f"{path}: claim <{claim}> needs exactly one rdf:subject (an IRI), "
                          "rdf:predicate and rdf:object", path=str(path), claim=claim)
    origins = {str(o)[1:-1] for o in _values(index, claim, DERIVED_FROM)}
    if not origins & sentences:
        raise SourceError(f"{path}: claim <{claim}> is not prov:wasDerivedFrom a sentence of "
                          "this source", path=str(path), claim=claim)
    return Quad(parts[0][0], cast(NamedNode, parts[1][0]),
                cast(Any, parts[2][0]), NamedNode(graph))


def _provenance(graph: str, document: str) -> list[Quad]:
    node, doc = NamedNode(graph), NamedNode(document)
    return [Quad(node, DERIVED_FROM, doc, node), Quad(node, DC_SOURCE, doc, node)]


def build_sources(store: Store, sources: Iterable[CuratedSource]) -> dict[str, int]:
    """Replace each source's graph in ``store`` with its checked quads, in one update
    (a reader sees all the sources rebuilt or none); quads written per graph."""
    sources = list(sources)
    if not sources:
        return {}
    drops = "".join(f"DROP SILENT GRAPH <{s.graph}> ;\n" for s in sources)
    blocks = "\n".join(_graph_block(s) for s in sources)
    store.update(f"{drops}INSERT DATA {{\n{blocks}\n}}")
    return {s.graph: len(s.quads) for s in sources}


def _graph_block(source: CuratedSource) -> str:
    return f"GRAPH <{source.graph}> {{\n" + "\n".join(_triple_lines(source.quads)) + "\n}"


def _triple_lines(quads: Iterable[Quad]) -> Iterator[str]:
    for q in quads:
        yield f"{q.subject} {q.predicate} {q.object} ."
