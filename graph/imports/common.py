"""What every statistics importer shares: terms, stable IRIs, provenance, the write.

An import turns one published table into RDF Data Cube observations in its own named
graph, plus a provenance record in ``graph/import-provenance``. Three promises hold for
every importer:

* **All or nothing.** The rows are read and checked completely before anything is
  written; a malformed row is reported with its line number and nothing is written.
  The quads then go to the store in one transaction (``Store.extend``).
* **Idempotent.** Observation IRIs are hashes of the row's dimension values and every
  other IRI is derived from names or the file's SHA-256, so importing the same file
  again adds nothing. The import time is recorded once per checksum and importer version.
* **Unchanged is quick.** The provenance record names the file's SHA-256 and the
  importer's version (:class:`Importer`); a file whose bytes were imported by this
  version, into a graph that still holds its dataset, is answered "unchanged" from the
  record in milliseconds (:func:`previous_import`), without reading a row. A new
  importer version imports the file again, since its output may differ.
* **Fast.** Quads are built directly as pyoxigraph terms (not rdflib), with the
  dimension values' nodes cached.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pyoxigraph import Literal, NamedNode, Quad

from graph import ids
from graph.errors import BadRequest, NotFound
from graph.namespace import PREFIXES, bkg
from graph.store.base import Store
from graph.store.loading import CountingReader
from graph.store.oxigraph import OxigraphStore

QB = PREFIXES["qb"]
SDMX_DIMENSION = PREFIXES["sdmx-dimension"]
PROV = PREFIXES["prov"]
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS = PREFIXES["skos"]
XSD = PREFIXES["xsd"]
DCTERMS = PREFIXES["dcterms"]
VOID = PREFIXES["void"]
DCAT = "http://www.w3.org/ns/dcat#"
SCHEMA = "http://schema.org/"
BKG = ids.DEF
CONCEPT = ids.ID + "concept/"

PROVENANCE_GRAPH = ids.graph("import-provenance")
XSD_INTEGER = NamedNode(XSD + "integer")


def term(iri: str) -> NamedNode:
    return NamedNode(iri)


def integer(value: int) -> Literal:
    return Literal(str(value), datatype=XSD_INTEGER)


def english(text: str) -> Literal:
    return Literal(text, language="en")


class NodeCache(dict[str, NamedNode]):
    """NamedNodes by IRI: most dimension values repeat on every row."""

    def __missing__(self, iri: str) -> NamedNode:
        node = self[iri] = NamedNode(iri)
        return node


def row_hash(*values: str) -> str:
    """A stable short digest of a row's dimension values (the observation's identity)."""
    return hashlib.sha256("\x1f".join(values).encode("utf-8")).hexdigest()[:24]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class RowError(BadRequest):
    """A malformed row: the import is rejected as a whole."""

    code = "malformed-row"


def row_error(path: Path, line: int, message: str) -> RowError:
    return RowError(f"{path.name}: line {line}: {message}; nothing was imported",
                    file=str(path), line=line)


@dataclass(frozen=True)
class Component:
    """One component of a data structure definition."""

    kind: str  # "dimension", "measure" or "attribute"
    property: str
    order: int | None = None


@dataclass
class ImportReport:
    """What an import did. ``already_imported``: the store held this very import, so
    nothing was written (``observations`` and ``quads`` are then 0)."""

    source: str
    sha256: str
    dataset: str
    graph: str
    rows: int
    observations: int
    quads: int
    already_imported: bool
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / max(self.seconds, 1e-9)


def unchanged_report(path: Path, sha256: str, dataset: str, graph: str, importer: Importer,
                     previous: PreviousImport, **details: Any) -> ImportReport:
    """The report of an import that found its file already imported: nothing written."""
    return ImportReport(str(path), sha256, dataset, graph, previous.rows, 0, 0, True,
                        details={**details, "importer": f"{importer.name} {importer.version}",
                                 "imported_at": previous.ended})


def structure_quads(dataset: str, title: str, components: Iterable[Component],
                    graph: NamedNode) -> Iterator[Quad]:
    """The qb:DataSet and its qb:DataStructureDefinition with IRI-named components (blank
    nodes would make every re-import add a new copy)."""
    ds, dsd = term(dataset), term(dataset + "/structure")
    yield Quad(ds, RDF_TYPE, term(QB + "DataSet"), graph)
    yield Quad(ds, RDFS_LABEL, english(title), graph)
    yield Quad(ds, term(QB + "structure"), dsd, graph)
    yield Quad(dsd, RDF_TYPE, term(QB + "DataStructureDefinition"), graph)
    yield Quad(dsd, RDFS_LABEL, english(f"structure of {title}"), graph)
    for index, component in enumerate(components, 1):
        spec = term(f"{dataset}/structure/component-{index}")
        yield Quad(dsd, term(QB + "component"), spec, graph)
        yield Quad(spec, RDF_TYPE, term(QB + "ComponentSpecification"), graph)
        yield Quad(spec, term(QB + component.kind), term(component.property), graph)
        if component.order is not None:
            yield Quad(spec, term(QB + "order"), integer(component.order), graph)


@dataclass(frozen=True)
class Importer:
    """An importer as its provenance names it: a name and a version, raised whenever a
    change makes its output for the same file differ (new quads, other IRIs)."""

    name: str
    version: int

    @property
    def agent(self) -> str:
        """IRI of this version of the importer, a ``prov:SoftwareAgent``."""
        return ids.thing("software", f"borderkg-importer-{self.name}-{self.version}")

    def activity(self, sha256: str) -> str:
        """IRI of the import of the file with digest ``sha256`` by this version."""
        return ids.thing("import", f"{sha256[:32]}-{self.name}-{self.version}")


@dataclass(frozen=True)
class PreviousImport:
    """What the provenance graph records of an earlier import of the same bytes."""

    rows: int
    ended: str


def already_imported(store: Store, importer: Importer, sha256: str) -> bool:
    """Whether this version imported a file with this checksum before (its import time
    is kept)."""
    return _first(store, importer.activity(sha256), PROV + "endedAtTime") is not None


def previous_import(store: Store, importer: Importer, sha256: str, dataset: str,
                    graph: str) -> PreviousImport | None:
    """The earlier import of these bytes by this importer version, if its data is still
    there (``graph`` holds the dataset's structure, which a dropped graph has lost);
    None when the file must be imported. Three look-ups by IRI: milliseconds."""
    ended = _first(store, importer.activity(sha256), PROV + "endedAtTime")
    if ended is None or _first(store, dataset, QB + "structure", graph) is None:
        return None
    rows = _first(store, ids.thing("source-file", sha256), VOID + "entities")
    return PreviousImport(int(rows.value) if rows is not None else 0, ended.value)


def _first(store: Store, subject: str, predicate: str,
           graph: str = PROVENANCE_GRAPH) -> Any:
    """The object of the first ``subject predicate ?o`` in ``graph``, or None."""
    return next((q.object for q in store.quads(subject, predicate, None, graph)), None)


def provenance_quads(importer: Importer, path: Path, sha256: str, rows: int, dataset: str,
                     existed: bool, now: datetime | None = None) -> list[Quad]:
    """The provenance record of importing ``path`` with ``importer``.

    The import time is written only the first time this version imports a checksum, so
    a re-import leaves the provenance graph exactly as it was."""
    graph = term(PROVENANCE_GRAPH)
    source = term(ids.thing("source-file", sha256))
    activity = term(importer.activity(sha256))
    agent = term(importer.agent)
    when = (now or datetime.now(UTC)).replace(microsecond=0)
    quads = [
        Quad(agent, RDF_TYPE, term(PROV + "SoftwareAgent"), graph),
        Quad(agent, RDFS_LABEL, english(f"BorderKG importer {importer.name}, version "
                                        f"{importer.version}"), graph),
        Quad(agent, term(SCHEMA + "softwareVersion"), Literal(str(importer.version)), graph),
        Quad(activity, term(PROV + "wasAssociatedWith"), agent, graph),
        Quad(source, RDF_TYPE, term(PROV + "Entity"), graph),
        Quad(source, RDFS_LABEL, Literal(path.name), graph),
        Quad(source, term(DCTERMS + "title"), Literal(path.name), graph),
        Quad(source, term(bkg.sha256), Literal(sha256, datatype=term(XSD + "hexBinary")),
             graph),
        Quad(source, term(VOID + "entities"), integer(rows), graph),
        Quad(source, term(DCAT + "byteSize"), integer(path.stat().st_size), graph),
        Quad(activity, RDF_TYPE, term(PROV + "Activity"), graph),
        Quad(activity, RDFS_LABEL, english(f"import of {path.name}"), graph),
        Quad(activity, term(PROV + "used"), source, graph),
        Quad(activity, term(PROV + "generated"), term(dataset), graph),
        Quad(term(dataset), term(PROV + "wasDerivedFrom"), source, graph),
        Quad(term(dataset), term(PROV + "wasGeneratedBy"), activity, graph),
    ]
    if not existed:
        quads.append(Quad(activity, term(PROV + "endedAtTime"),
                          Literal(when.isoformat(), datatype=term(XSD + "dateTime")), graph))
    return quads


def open_table(path: Path, on_read: Callable[[int], None] | None = None) -> IO[str]:
    """A text stream of a CSV file, gunzipped when compressed (by magic bytes);
    ``on_read`` is told how many bytes of the file each read took (for progress)."""
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    file = open(path, "rb")  # closed with the text stream
    raw = file if on_read is None else io.BufferedReader(CountingReader(file, on_read))
    gzipped = raw.peek(2)[:2] == b"\x1f\x8b"
    binary: Any = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
    return TableText(binary, raw)


class TableText(io.TextIOWrapper):
    """The table's text, which closes the file under it too (a ``GzipFile`` made from a
    file object leaves that open)."""

    def __init__(self, binary: IO[bytes], raw: IO[bytes]) -> None:
        super().__init__(binary, encoding="utf-8-sig", newline="")
        self.raw_file = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.raw_file.close()


def table_rows(reader: Any, path: Path) -> Iterator[list[str]]:
    """The rows of a ``csv.reader`` over ``path``, a file that is not a readable table
    reported as a :class:`RowError` (nothing is imported) rather than as the decoder's
    exception: not UTF-8 text (a binary file, a spreadsheet, another encoding), a line
    the CSV reader rejects, or a damaged gzip stream. Errors of the caller's own checks
    are not seen here: only reading is wrapped."""
    with table_errors(path, lambda: max(reader.line_num, 1)):
        yield from reader


@contextmanager
def table_errors(path: Path, line: Callable[[], int]) -> Iterator[None]:
    """See :func:`table_rows`; ``line`` tells the line being read. The decoder reads
    ahead in blocks, so a decoding error names no line: the reader's would be a guess."""
    try:
        yield
    except UnicodeDecodeError as exc:
        raise RowError(f"{path.name}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} "
                       "cannot start or continue a character); save the table as UTF-8 "
                       "CSV; nothing was imported", file=str(path)) from None
    except csv.Error as exc:
        raise row_error(path, line(), f"cannot be read as a table ({exc})") from None
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise row_error(path, line(), f"not a valid gzip file ({exc})") from None


def write_import(store: Store, quads: Iterable[Quad]) -> None:
    """All the quads of one import in one transaction. ``quads`` may be a generator that
    checks rows as it goes: an error raised from it aborts the transaction, so a
    malformed row at the end of a large file still leaves nothing written.

    On disk the store is flushed after the commit: closing it would flush anyway, and
    here that time is inside the import's progress rather than silent after it."""
    store.extend(quads)
    if isinstance(store, OxigraphStore) and store.path is not None:
        store.flush()


def timed(func: Callable[[], ImportReport]) -> ImportReport:
    started = time.perf_counter()
    report = func()
    report.seconds = time.perf_counter() - started
    return report
