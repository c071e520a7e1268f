"""Loading RDF files into a store: streamed, transactional per file, with progress.

Why not just ``Store.load``: users load files of every RDF syntax, often gzip-compressed
and larger than is comfortable to read into memory, and want to see progress and a
clear, located error. So each file is opened as a stream (gunzipped on the fly when it
is gzip), read through a byte counter that drives the progress bar, parsed by
pyoxigraph's streaming parser and written:

* by default in **one transaction per file** (``Store.extend``): a syntax error at line
  90,000 leaves nothing of that file in the store. The transaction holds the file's
  quads until commit, so memory grows with the file;
* with ``bulk=True`` through pyoxigraph's bulk loader: constant memory and faster, but
  **not transactional** — a failure half-way leaves part of the file loaded. Use it for
  files larger than memory, into a store you can rebuild.

Remote stores get the stream itself (``RemoteStore.load``: Graph Store POST or batched
INSERT DATA through staging graphs).
"""
from __future__ import annotations

import gzip
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from .errors import BadParameter, BadRequest, NotFound
from .formats import ALL_RDF, by_name, for_path
from .rdf_safety import check_path
from .store import OxigraphStore, Store

DATASET_FORMATS = (RdfFormat.N_QUADS, RdfFormat.TRIG)
GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class FileReport:
    """What loading one file did."""

    path: str
    format: str
    bytes: int
    triples: int | None
    seconds: float

    @property
    def triples_per_second(self) -> float | None:
        return None if self.triples is None else self.triples / max(self.seconds, 1e-9)


@dataclass
class LoadReport:
    """The files loaded, in order."""

    files: list[FileReport] = field(default_factory=list)

    @property
    def triples(self) -> int:
        return sum(f.triples or 0 for f in self.files)


class CountingReader(io.RawIOBase):
    """A read-only stream that reports how many bytes were read from ``raw``."""

    def __init__(self, raw: IO[bytes], on_read: Callable[[int], None]) -> None:
        super().__init__()
        self.raw, self.on_read = raw, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self.raw.readinto(buffer)  # type: ignore[attr-defined]
        if n:
            self.on_read(n)
        return n or 0

    def close(self) -> None:
        self.raw.close()
        super().close()


def file_format(path: Path, name: str | None) -> RdfFormat:
    """The RDF format of ``path``: the explicit ``name`` or the file extension."""
    fmt = by_name(ALL_RDF, name) if name else for_path(path.name)
    if fmt is None:
        choices = ", ".join(f.name for f in ALL_RDF)
        what = f"unknown format {name!r}" if name else f"cannot tell the format of {path.name}"
        raise BadParameter(f"{what}; give --format ({choices})")
    return fmt.engine  # type: ignore[return-value]


def open_stream(path: Path, on_read: Callable[[int], None]) -> IO[bytes]:
    """``path`` as a binary stream, gunzipped when it starts with the gzip magic bytes."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller through the wrapper
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    gzipped = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    counted = io.BufferedReader(CountingReader(raw, on_read), 1 << 20)
    return gzip.GzipFile(fileobj=counted, mode="rb") if gzipped else counted  # type: ignore[return-value]


class Progress:
    """A tqdm bar of bytes read with a triples-per-second figure; silent off a TTY."""

    def __init__(self, path: Path, total: int, enabled: bool | None = None) -> None:
        from tqdm import tqdm

        enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                        desc=path.name, disable=not enabled, leave=True, file=sys.stderr)
        self.started = time.monotonic()
        self.triples = 0

    def read(self, n: int) -> None:
        self.bar.update(n)

    def counted(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        for quad in quads:
            self.triples += 1
            if not self.triples & 0xFFFF:
                rate = self.triples / max(time.monotonic() - self.started, 1e-9)
                self.bar.set_postfix_str(f"{self.triples:,} triples, {rate:,.0f} triples/s")
            yield quad

    def close(self) -> None:
        self.bar.close()


def load_file(store: Store, path: Path, *, graph: str | None = None, fmt: str | None = None,
              base_iri: str | None = None, bulk: bool = False,
              progress: bool | None = None) -> FileReport:
    """Load one file; all of it or (unless ``bulk``) nothing of it."""
    engine_format = file_format(path, fmt)
    if graph and engine_format in DATASET_FORMATS:
        raise BadParameter(f"{path.name} is a dataset format ({engine_format.name}); "
                           "--graph applies to triple formats only")
    size = path.stat().st_size if path.exists() else 0
    if path.exists():
        check_path(path, engine_format)  # refuse DOCTYPEs, remote contexts, deep nesting
    bar = Progress(path, size, progress)
    started = time.monotonic()
    stream = open_stream(path, bar.read)
    try:
        triples = _write(store, stream, engine_format, graph, base_iri, bulk, bar)
    except SyntaxError as exc:
        raise located_error(path, exc, bulk) from None
    except BadRequest as exc:
        raise BadRequest(f"{path}: {exc.message}", file=str(path), **exc.details) from None
    finally:
        stream.close()
        bar.close()
    return FileReport(str(path), engine_format.name, size, triples,
                      time.monotonic() - started)


def _write(store: Store, stream: IO[bytes], fmt: RdfFormat, graph: str | None,
           base_iri: str | None, bulk: bool, bar: Progress) -> int | None:
    if not isinstance(store, OxigraphStore):
        before = store.count(graph)
        store.load(stream, fmt, graph=graph, base_iri=base_iri)
        return store.count(graph) - before
    quads: Iterable[Quad] = parse(stream, fmt, base_iri=base_iri)
    if graph:
        target = NamedNode(graph)
        quads = (Quad(q.subject, q.predicate, q.object, target) for q in quads)
    counted = bar.counted(quads)
    if bulk:
        store.bulk_extend(counted)
    else:
        store.extend(counted)
    return bar.triples


def located_error(path: Path, exc: SyntaxError, bulk: bool = False) -> BadRequest:
    """A 400 naming the file, line and column of an RDF syntax error."""
    message = str(exc.msg if hasattr(exc, "msg") else exc)
    where = f"line {exc.lineno}, column {exc.offset}" if exc.lineno else "unknown position"
    outcome = ("--bulk: the part before the error stays loaded" if bulk
               else "nothing of this file was loaded")
    return BadRequest(f"{path}: {where}: {message}; {outcome}",
                      file=str(path), line=exc.lineno, column=exc.offset)


def load_files(store: Store, paths: Iterable[Path], **options: Any) -> LoadReport:
    """Load each file in turn (each in its own transaction); stop at the first error."""
    report = LoadReport()
    for path in paths:
        report.files.append(load_file(store, Path(path), **options))
    return report
