"""The disk store with an in-memory copy of its union default graph: durable writes,
queries over that graph at memory speed.

RocksDB scans are several times slower than Oxigraph's memory store, and analysts wait for
first answers, which no cache helps. ``MirroredStore`` is the disk store (every write is
committed there first, journalled as ``OxigraphStore`` does) plus, in memory, the one graph
nearly every query reads: the merge of all graphs (``graph.store.union``), held as the
default graph of an engine that has nothing else. A query that reads only the union
default graph (no ``GRAPH`` pattern, no ``FROM``/``FROM NAMED``, no dataset given with the
request) is evaluated there, at the speed of the engine's own default graph and in about
half the memory of a copy of the whole store (an engine's scans slow down with the number
of quads it holds, so a copy of every quad and the merge beside them is 1.3-1.8x slower
than one holding the merge alone). Every other query, and every read of quads with their
graphs (dumps, counts, the Graph Store), reads the disk.

``graph.sparql.fork_pool`` evaluates the copy's queries in children forked from this
process, which share the copy copy-on-write (until their scans make the pages they read
their own: the engine writes while it reads); ``MirrorExecutor`` sends the others to the
snapshot workers (``graph.sparql.executor``), since a forked child must never touch the
parent's RocksDB handle.

Filling the copy reads the merge back from a checkpoint of the store, in the background:
until it is ready, every query reads the disk, and writes go to the disk and are recorded
(``_Recorder``) to be replayed on the copy, in order, once it is filled. Every write after
that goes to the disk first and then to the copy, which keeps only the merge's share of
it; a process killed between the two loses nothing, since the copy is made anew from the
disk at the next start.
"""
from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple
from pyoxigraph import Store as Engine

from graph.errors import StoreError
from graph.sparql.text import analyse

from . import union as ug
from .base import QueryResult, Substitutions
from .oxigraph import CUSTOM_FUNCTIONS, OxigraphStore

log = logging.getLogger("borderkg")

#: quads copied per engine call while filling: the engine keeps the GIL for a whole call,
#: so this bounds how long the server's request threads wait (a few tens of ms)
CHUNK = 5_000

#: a dropped graph up to this many quads is followed on the copy triple by triple (the
#: triples it held are listed before the drop); a larger one has the copy made anew
FOLLOW_DROP_LIMIT = 200_000

#: the ``reason`` of the error a forked worker gives for a query the copy cannot answer
#: (the copy was dropped by a write as the worker was forked): the query goes to the disk
NOT_IN_COPY = "not-in-memory-copy"


def reads_merge_only(sparql: str, *, union_default: bool = True,
                     default_graphs: Sequence[str] | None = None,
                     named_graphs: Sequence[str] | None = None,
                     base_iri: str | None = None) -> bool:
    """Whether a query reads the union default graph and nothing else, so the merge alone
    answers it exactly: no dataset given with the request, no ``FROM``/``FROM NAMED``, no
    ``GRAPH`` (the lexer's report is fail-closed: a doubtful text reads the disk)."""
    if not union_default or default_graphs is not None or named_graphs is not None:
        return False
    return not analyse(sparql, "query", base_iri).reads_named_graphs()


def calls_custom_functions(sparql: str, base_iri: str | None = None) -> bool:
    """Whether a query may call one of BorderKG's own functions (the search functions read
    the store's texts with their graphs, so they are evaluated where the disk can be read);
    a call the lexer's report cannot name counts as one."""
    return any(not iri or _is_custom(iri) for iri in analyse(sparql, "query", base_iri).calls)


def _is_custom(iri: str) -> bool:
    try:
        return NamedNode(iri) in CUSTOM_FUNCTIONS
    except ValueError:
        return True  # not an IRI the engine takes: the engine refuses the text anyway


class _Closing(Exception):
    """The store is closing: the filling under way stops where it is."""


def _finished() -> threading.Thread:
    """A thread that has already ended, for callers that join the filling."""
    thread = threading.Thread(target=lambda: None, daemon=True)
    thread.start()
    return thread


class _Recorder:
    """Stands in for the copy while it fills: records the writes made to the disk, to be
    replayed on the copy in the same order (the engine calls writes make, with their
    quads listed)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, method: str) -> Callable[..., None]:
        if method not in _WRITES:
            raise AttributeError(method)

        def record(*args: Any) -> None:
            self.calls.append((method, tuple(list(a) if _is_stream(a) else a for a in args)))
        return record

    def replay(self, copy: _MergeCopy) -> None:
        for method, args in self.calls:
            getattr(copy, method)(*args)


#: the engine calls a write makes on the engines after the durable one
_WRITES = frozenset({"add", "remove", "extend", "bulk_extend", "add_graph", "remove_graph",
                     "clear", "copy_graph"})


def _is_stream(value: Any) -> bool:
    """Whether ``value`` is quads to list now (a generator, a list), not one term or quad
    (pyoxigraph's quads and triples are iterable too)."""
    return isinstance(value, Iterable) and not isinstance(
        value, str | bytes | NamedNode | DefaultGraph | Quad | Triple)


def _add_triples(engine: Engine, quads: Iterable[Quad]) -> Iterator[int]:
    """Add the triples of ``quads`` to ``engine``'s default graph, ``CHUNK`` per engine
    call; yields each call's count (between calls, request threads may run)."""
    triples = (Quad(q.subject, q.predicate, q.object) for q in quads)
    while chunk := list(itertools.islice(triples, CHUNK)):
        engine.bulk_extend(chunk)
        yield len(chunk)


def _merge_part(quads: Iterable[Quad]) -> Iterator[Quad]:
    """The merge's triples among quads written to the disk (each real quad is written with
    its twin in ``UNION``), as default-graph quads."""
    union = ug.UNION
    for quad in quads:
        if quad.graph_name == union:
            yield Quad(quad.subject, quad.predicate, quad.object)


class _MergeCopy:
    """The merge as the default graph of an in-memory engine with no named graphs.

    It takes the calls the disk engine's writes make (real quads with their twins in the
    merge, the bookkeeping graph's marks) and keeps the twins only; graphs' records are
    not kept, since nothing here reads named graphs.
    """

    def __init__(self, disk: Engine) -> None:
        self.engine, self.disk = Engine(), disk

    def add(self, quad: Quad) -> None:
        for triple in _merge_part((quad,)):
            self.engine.add(triple)

    def remove(self, quad: Quad) -> None:
        for triple in _merge_part((quad,)):
            self.engine.remove(triple)

    def extend(self, quads: Iterable[Quad]) -> None:
        self.engine.extend(_merge_part(quads))

    def bulk_extend(self, quads: Iterable[Quad]) -> None:
        self.engine.bulk_extend(_merge_part(quads))

    def add_graph(self, graph: NamedNode) -> None:
        """A graph's record: not kept here."""

    def remove_graph(self, graph: NamedNode) -> None:
        """A graph's record: not kept here."""

    def clear(self) -> None:
        self.engine.clear()

    def copy_graph(self, graph: NamedNode | DefaultGraph | None) -> None:
        """Take into the merge the triples ``graph`` holds on the disk now, after a bulk
        load that only the disk saw (present triples stay one); None, a load of a dataset
        into every graph: the disk's merge itself, which the load wrote with it."""
        for _ in _add_triples(self.engine, self.disk.quads_for_pattern(
                None, None, None, ug.UNION if graph is None else graph)):
            pass


class MirroredStore(OxigraphStore):
    """The disk store whose union default graph is copied to memory for the queries that
    read only it (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.backend = "disk"
        self._disk = self._store
        self._copy: _MergeCopy | None = None
        self.ready = threading.Event()
        #: (triples copied, triples to copy) while filling; for /healthz and the log
        self.progress = (0, 0)
        self._filling: threading.Thread | None = None
        #: whether a filling is under way and has not installed its copy yet (its thread
        #: may live on a moment after, logging): a refill asked for then starts a new one
        self._active = False
        self._again = False
        self._owner = os.getpid()
        #: where fillings take their checkpoints: beside the store, on its file system, so
        #: a checkpoint is hard links (elsewhere, a temporary directory on another file
        #: system or in RAM, it would be a full copy); this process holds the store, so
        #: whatever is there was left by one killed while filling, and holds disk space
        #: (its links keep files the store has since compacted away)
        self.checkpoints = Path(path).with_name(Path(path).name + ".copy")
        shutil.rmtree(self.checkpoints, ignore_errors=True)
        #: set by ``close``: a filling under way stops at its next chunk (a stop must not
        #: wait for minutes of filling, and its checkpoint is removed as it ends)
        self._closing = threading.Event()

    # -- reading ---------------------------------------------------------------------------
    def serves_from_copy(self, sparql: str, *, union_default: bool = True,
                         default_graphs: Sequence[str] | None = None,
                         named_graphs: Sequence[str] | None = None,
                         base_iri: str | None = None) -> bool:
        """Whether ``query`` would evaluate this query on the copy now."""
        return self._copy is not None and reads_merge_only(
            sparql, union_default=union_default, default_graphs=default_graphs,
            named_graphs=named_graphs, base_iri=base_iri)

    def query(self, sparql: str, *, union_default: bool = True,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None,
              substitutions: Substitutions | None = None,
              base_iri: str | None = None) -> QueryResult:
        copy = self._copy
        if copy is not None and reads_merge_only(
                sparql, union_default=union_default, default_graphs=default_graphs,
                named_graphs=named_graphs, base_iri=base_iri):
            return self._evaluate(copy.engine, sparql,
                                  {"base_iri": base_iri, "substitutions": substitutions})
        if os.getpid() != self._owner:  # the copy went (a write) as this child was forked
            raise StoreError("a query worker forked over the memory copy cannot read the "
                             "disk store", reason=NOT_IN_COPY)
        return super().query(sparql, union_default=union_default,
                             default_graphs=default_graphs, named_graphs=named_graphs,
                             substitutions=substitutions, base_iri=base_iri)

    # -- filling ---------------------------------------------------------------------------
    def start_filling(self) -> threading.Thread:
        """Fill the copy in the background (queries read the disk until it is ready)."""
        with self.write_lock:
            if self._closing.is_set():  # a write that ended as close() began: no new one
                return self._filling or _finished()
            if self._active and self._filling is not None:
                self._again = True  # a write the recording cannot repeat: fill anew
                return self._filling
            self.ready.clear()
            self._active, self._again = True, False
            self._copy, self._writes = None, [self._disk]
            self.progress = (0, 0)
            self._filling = threading.Thread(target=self._fill, name="borderkg-memory-copy",
                                             daemon=True)
            self._filling.start()
            return self._filling

    def _fill(self) -> None:
        started = time.monotonic()
        try:
            while not self._fill_once():
                log.info("the store changed in a way the copy cannot follow: filling anew")
            log.info("memory copy of the union default graph ready: %s triples in %.1f s",
                     f"{self.progress[1]:,}", time.monotonic() - started)
        except Exception:  # queries keep reading the disk; logged
            if self._closing.is_set():  # stopped at a chunk, or the store went from under it
                log.info("memory copy: filling stopped, the store is closing")
                return
            log.exception("the memory copy of the store failed; queries read the disk")
            with self.write_lock:
                self._copy, self._writes, self._active = None, [self._disk], False

    def _fill_once(self) -> bool:
        """One filling, from a checkpoint; False when it must start over (a write only
        the disk could run arrived meanwhile)."""
        if self._closing.is_set():
            raise _Closing
        self.checkpoints.mkdir(exist_ok=True)
        checkpoint = Path(tempfile.mkdtemp(dir=self.checkpoints))
        recorder = _Recorder()
        try:
            with self.write_lock:  # the checkpoint and the recording start together
                target = checkpoint / "store"
                self.snapshot(target)
                self._again = False
                self._writes = [self._disk, recorder]
            source = Engine.read_only(str(target))
            copy = _MergeCopy(self._disk)
            self._copy_merge(source, copy.engine)
            del source
            with self.write_lock:
                if self._again:
                    self._writes = [self._disk]
                    return False
                recorder.replay(copy)
                self._copy, self._writes = copy, [self._disk, copy]
                self._active = False
                self._caches()
                self._bump()  # new forked workers read the copy
                self.ready.set()
                return True
        finally:
            shutil.rmtree(checkpoint, ignore_errors=True)

    def _copy_merge(self, source: Engine, copy: Engine) -> None:
        """The merge of ``source`` into ``copy``'s default graph (from the real graphs, in
        the unexpected case of a checkpoint whose merge is not current)."""
        current = ug.is_current(source)
        total = ug.merge_len(source) if current else ug.real_len(source)
        self.progress = (0, total)
        quads = source.quads_for_pattern(None, None, None, ug.UNION if current else None)
        for added in _add_triples(copy, (q for q in quads
                                         if current or not ug.is_hidden(q.graph_name))):
            if self._closing.is_set():
                raise _Closing
            self.progress = (self.progress[0] + added, total)
            time.sleep(0)  # the engine holds the GIL per call: let requests run between
        self.progress = (total, total)

    # -- hooks of the writes only the disk engine sees --------------------------------------
    def _engine_updated(self) -> None:
        """The disk ran a text itself (one ``graph.store.updates`` does not take apart): its
        blank nodes cannot be repeated on the copy, so the copy is made anew (a filling
        under way starts over)."""
        self.start_filling()

    def _loaded_into_copies(self, target: NamedNode | DefaultGraph | None) -> None:
        for copy in self._writes[1:]:
            copy.copy_graph(target)

    def _drop(self, graph: NamedNode | DefaultGraph, forget: bool) -> None:
        """The disk's drop, then the copy loses the triples no graph holds any more: those
        the graph held are listed first, up to ``FOLLOW_DROP_LIMIT`` (a larger graph has
        the copy made anew)."""
        if len(self._writes) == 1 or (isinstance(graph, NamedNode) and ug.is_hidden(graph)):
            super()._drop(graph, forget)
            return
        held = list(itertools.islice(self._disk.quads_for_pattern(None, None, None, graph),
                                     FOLLOW_DROP_LIMIT + 1))
        super()._drop(graph, forget)
        if len(held) > FOLLOW_DROP_LIMIT:
            self.start_filling()
            return
        gone = [twin for twin in dict.fromkeys(ug.twin(q) for q in held)
                if twin not in self._disk]
        for copy in self._writes[1:]:
            for twin in gone:
                copy.remove(twin)

    def close(self) -> None:
        self._closing.set()
        if self._filling is not None:
            self._filling.join(timeout=60)
        with self.write_lock:
            self._copy, self._writes = None, [self._disk]
        super().close()
        del self._disk


class MirrorExecutor:
    """Queries the copy answers (``reads_merge_only``, no BorderKG function) to workers
    made by ``memory`` (forked over the copy) once it is ready; every other query, and
    all of them while the copy fills, to ``disk`` (snapshot workers)."""

    def __init__(self, store: MirroredStore, disk: Any, memory: Callable[[], Any]) -> None:
        self.store, self.disk, self._make_memory = store, disk, memory
        self.memory: Any = None
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return "memory copy of the union default graph, disk for the rest" \
            if self.store.ready.is_set() else "disk (memory copy filling)"

    def for_copy(self, request: Any) -> bool:
        """Whether ``request`` goes to the workers forked over the copy."""
        return self.store.ready.is_set() and self.store.serves_from_copy(
            request.text, union_default=request.union_default,
            default_graphs=request.default_graphs, named_graphs=request.named_graphs,
            base_iri=request.base_iri) and not calls_custom_functions(request.text,
                                                                      request.base_iri)

    def run(self, request: Any) -> Any:
        if not self.for_copy(request):
            return self.disk.run(request)
        with self._lock:
            if self.memory is None:
                self.memory = self._make_memory()
        try:
            return self.memory.run(request)
        except StoreError as exc:
            if exc.details.get("reason") != NOT_IN_COPY:
                raise
            return self.disk.run(request)

    def close(self) -> None:
        for executor in (self.disk, self.memory):
            if executor is not None and hasattr(executor, "close"):
                executor.close()
