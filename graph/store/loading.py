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
  files larger than memory, into a store you can rebuild. A large N-Triples or N-Quads
  file without blank nodes is cut at line ends (``split_lines``): on disk into one part
  per core, written in turn with each quad's twin in the store's merge; in memory into
  parts of ``PART_BYTES``, one transaction each, so the peak stays near the data's own
  size (``OxigraphStore.bulk_load``).

Remote stores get the stream itself (``RemoteStore.load``: Graph Store POST or batched
INSERT DATA through staging graphs).
"""
from __future__ import annotations

import gzip
import io
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from graph.errors import BadParameter, BadRequest, NotFound
from graph.formats import ALL_RDF, by_name, for_path

from .base import Store
from .oxigraph import OxigraphStore
from .upload_safety import check_path

DATASET_FORMATS = (RdfFormat.N_QUADS, RdfFormat.TRIG)
LINE_FORMATS = (RdfFormat.N_QUADS, RdfFormat.N_TRIPLES)  # one statement per line
GZIP_MAGIC = b"\x1f\x8b"
#: a bulk-loaded line-based file is cut into parts of at least this many bytes
PART_BYTES = 16 << 20
BLOCK = 1 << 20


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


class CorruptFile(BadRequest):
    """The file's bytes cannot be read as what they claim to be (a broken gzip stream)."""

    code = "corrupt-file"


@contextmanager
def gzip_errors() -> Iterator[None]:
    """Turn a damaged gzip stream into :class:`CorruptFile`: ``gzip`` says ``EOFError``
    for a truncated file, which callers read as the end of input (click even takes it
    for Ctrl-D) rather than as the user's broken file."""
    try:
        yield
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptFile(f"not a valid gzip file ({exc})") from None


class Gunzipped(io.RawIOBase):
    """The decompressed bytes of a gzip stream; a damaged one raises :class:`CorruptFile`
    from whichever read meets the damage (pyoxigraph passes the exception through)."""

    def __init__(self, compressed: IO[bytes]) -> None:
        super().__init__()
        self.gzip = gzip.GzipFile(fileobj=compressed, mode="rb")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with gzip_errors():
            return self.gzip.readinto(buffer)

    def close(self) -> None:
        self.gzip.close()
        super().close()


def open_stream(path: Path, on_read: Callable[[int], None]) -> IO[bytes]:
    """``path`` as a binary stream, gunzipped when it starts with the gzip magic bytes."""
    try:
        raw = open(path, "rb")  # closed by the caller through the wrapper
    except OSError as exc:
        raise NotFound(f"cannot read {path}: {exc.strerror}") from None
    gzipped = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    counted = io.BufferedReader(CountingReader(raw, on_read), 1 << 20)
    if gzipped:
        return io.BufferedReader(Gunzipped(counted), BLOCK)
    return counted


#: what to do instead, by the argument :func:`check_iri` refuses
IRI_HINTS = {"graph": "name the graph in full (https://example.org/graph/1) or leave it out "
                      "to load into the default graph",
             "base": "give it in full, such as https://example.org/"}


def check_iri(value: str | None, what: str) -> None:
    """Refuse ``value`` unless it is an absolute IRI (or absent), before any file is
    read: pyoxigraph says only ``ValueError``, and only once the load has begun."""
    if not value:
        return
    try:
        NamedNode(value)
    except ValueError as exc:
        raise BadParameter(f"{what} {value!r} is not an absolute IRI ({exc}); "
                           f"{IRI_HINTS.get(what, 'write it in full')}",
                           **{what: value}) from None


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
              progress: bool | None = None, outcome: str | None = None) -> FileReport:
    """Load one file; all of it or (unless ``bulk``) nothing of it. ``outcome`` replaces
    what a syntax error's message says of the store (the default speaks of the file)."""
    engine_format = file_format(path, fmt)
    check_iri(graph, "graph")
    check_iri(base_iri, "base")
    if graph and engine_format in DATASET_FORMATS:
        raise BadParameter(f"{path.name} is a dataset format ({engine_format.name}); "
                           "--graph applies to triple formats only")
    size = path.stat().st_size if path.exists() else 0
    try:
        if path.exists():
            with gzip_errors():  # refuse DOCTYPEs, remote contexts, deep nesting
                check_path(path, engine_format)
        triples, seconds = _load_stream(store, path, engine_format, graph, base_iri, bulk,
                                        progress, size)
    except SyntaxError as exc:
        raise located_error(path, exc, bulk, outcome) from None
    except CorruptFile as exc:
        raise CorruptFile(f"{path}: {exc.message}; {outcome or _outcome(bulk)}",
                          file=str(path)) from None
    except BadRequest as exc:
        raise BadRequest(f"{path}: {exc.message}", file=str(path), **exc.details) from None
    return FileReport(str(path), engine_format.name, size, triples, seconds)


def _load_stream(store: Store, path: Path, fmt: RdfFormat, graph: str | None,
                 base_iri: str | None, bulk: bool, progress: bool | None,
                 size: int) -> tuple[int | None, float]:
    """Stream ``path`` into ``store`` with a progress bar: the triples added (``None``
    when the store cannot tell) and the seconds it took."""
    bar = Progress(path, size, progress)
    started = time.monotonic()
    stream = open_stream(path, bar.read)
    try:
        triples = _write(store, stream, fmt, graph, base_iri, bulk, bar, path)
    finally:
        stream.close()
        bar.close()
    return triples, time.monotonic() - started


def _write(store: Store, stream: IO[bytes], fmt: RdfFormat, graph: str | None,
           base_iri: str | None, bulk: bool, bar: Progress, path: Path) -> int | None:
    if not isinstance(store, OxigraphStore):
        before = store.count(graph)
        store.load(stream, fmt, graph=graph, base_iri=base_iri)
        return store.count(graph) - before
    if bulk:
        return _bulk(store, stream, fmt, graph, base_iri, bar, path)
    quads: Iterable[Quad] = parse(stream, fmt, base_iri=base_iri)
    if graph:
        target = NamedNode(graph)
        quads = (Quad(q.subject, q.predicate, q.object, target) for q in quads)
    store.extend(bar.counted(quads))
    return bar.triples


def _bulk(store: OxigraphStore, stream: IO[bytes], fmt: RdfFormat, graph: str | None,
          base_iri: str | None, bar: Progress, path: Path) -> int:
    """Bulk-load ``path`` (already open as ``stream``); the number of quads it added."""
    size = path.stat().st_size
    # disk: one part per core, loaded side by side; memory: parts of PART_BYTES in turn
    count = size // PART_BYTES if store.backend == "memory" else min(_cores(), size // PART_BYTES)
    spans = split_lines(path, fmt, count) if stream_is_plain(stream) else []
    parts: list[IO[bytes]] = [
        io.BufferedReader(RangeReader(path, start, end, bar.read), BLOCK)
        for start, end in spans] or [stream]
    before = store.count(None)
    try:
        store.bulk_load(parts, fmt, graph=graph, base_iri=base_iri)
    except SyntaxError as exc:
        part = getattr(exc, "part", 0)
        raise in_whole_file(exc, path, spans[part][0] if spans else 0) from None
    finally:
        if spans:  # the caller closes ``stream``
            for part in parts:
                part.close()
    return store.count(None) - before


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def stream_is_plain(stream: IO[bytes]) -> bool:
    """Whether ``stream`` reads the file's bytes as they are (not gunzipped)."""
    return not isinstance(getattr(stream, "raw", None), Gunzipped)


def split_lines(path: Path, fmt: RdfFormat, count: int) -> list[tuple[int, int]]:
    """Byte ranges of ``path`` cut at line ends into about ``count`` equal parts; ``[]``
    when the file should load as one part.

    One part when: ``count`` is under 2; the format is not line-based; or ``_:`` occurs
    anywhere (a blank node label is file-wide, but each part gives its labels fresh
    nodes — a literal that merely contains ``_:`` costs only the speed-up, never
    correctness).
    """
    size = path.stat().st_size
    if fmt not in LINE_FORMATS or count < 2 or _contains(path, b"_:"):
        return []
    cuts = [0]
    with open(path, "rb") as handle:
        for i in range(1, count):
            handle.seek(max(size * i // count - 1, cuts[-1]))
            handle.readline()  # to the start of the next line
            cuts.append(min(handle.tell(), size))
    cuts.append(size)
    return [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]


def _contains(path: Path, needle: bytes) -> bool:
    """Whether ``needle`` occurs in the file (read in blocks, overlapping by its length)."""
    tail = b""
    with open(path, "rb") as handle:
        while block := handle.read(16 * BLOCK):
            if needle in tail + block[:len(needle)] or needle in block:
                return True
            tail = block[-len(needle) + 1:]
    return False


class RangeReader(io.RawIOBase):
    """Bytes ``start`` to ``end`` of a file, reporting each read (one part of a file)."""

    def __init__(self, path: Path, start: int, end: int, on_read: Callable[[int], None]):
        super().__init__()
        self.handle = open(path, "rb", buffering=0)  # closed in close()
        self.handle.seek(start)
        self.left, self.on_read = end - start, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self.left)
        if wanted <= 0:
            return 0
        n = self.handle.readinto(memoryview(buffer)[:wanted]) or 0
        self.left -= n
        if n:
            self.on_read(n)
        return n

    def close(self) -> None:
        self.handle.close()
        super().close()


def in_whole_file(exc: SyntaxError, path: Path, start: int) -> SyntaxError:
    """``exc`` from a part starting at byte ``start``, with its line counted in the file."""
    if not start or not exc.lineno:
        return exc
    lines = _count_lines(path, start)
    message = str(exc.msg if hasattr(exc, "msg") else exc)
    message = re.sub(r"\bline (\d+)", lambda m: f"line {int(m.group(1)) + lines}", message, count=1)
    return SyntaxError(message, (str(path), exc.lineno + lines, exc.offset, None))


def _count_lines(path: Path, end: int) -> int:
    """Line ends in the first ``end`` bytes of the file."""
    lines = 0
    with open(path, "rb") as handle:
        while end > 0 and (block := handle.read(min(16 * BLOCK, end))):
            lines += block.count(b"\n")
            end -= len(block)
    return lines


def located_error(path: Path, exc: SyntaxError, bulk: bool = False,
                  outcome: str | None = None) -> BadRequest:
    """A 400 naming the file, line and column of an RDF syntax error."""
    message = str(exc.msg if hasattr(exc, "msg") else exc)
    where = f"line {exc.lineno}, column {exc.offset}" if exc.lineno else "unknown position"
    outcome = outcome or _outcome(bulk)
    return BadRequest(f"{path}: {where}: {message}; {outcome}",
                      file=str(path), line=exc.lineno, column=exc.offset)


def _outcome(bulk: bool) -> str:
    """What a failed load leaves in the store."""
    return ("--bulk: other parts of this file may stay loaded" if bulk
            else "nothing of this file was loaded")


def load_files(store: Store, paths: Iterable[Path], **options: Any) -> LoadReport:
    """Load each file in turn (each in its own transaction); stop at the first error."""
    report = LoadReport()
    for path in paths:
        report.files.append(load_file(store, Path(path), **options))
    return report
