"""The disk store with an in-memory copy: durable writes, queries at memory speed.

RocksDB scans are several times slower than Oxigraph's memory store, and analysts wait for
first answers, which no cache helps. ``MirroredStore`` is the disk store (every write is
committed there first, journalled as ``OxigraphStore`` does) plus a full copy of it in
memory that queries read: ``graph.sparql.fork_pool`` evaluates them in children forked from this
process, which share the copy copy-on-write, so there is no second copy per worker.

Filling the copy reads every quad back from RocksDB (about 10 µs a quad here), so it runs
in the background after start-up, from a checkpoint of the store: until it is ready,
queries go to the snapshot workers on disk (``graph.sparql.executor``), and writes go to the disk
and are recorded (``_Recorder``) to be replayed on the copy, in order, once it is filled.
Every write after that goes to the disk first and then to the copy; a process killed
between the two loses nothing, since the copy is made anew from the disk at the next start.
"""
from __future__ import annotations

import itertools
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple
from pyoxigraph import Store as Engine

from . import union as ug
from .oxigraph import OxigraphStore

log = logging.getLogger("borderkg")

#: quads copied per engine call while filling: the engine keeps the GIL for a whole call,
#: so this bounds how long the server's request threads wait (a few tens of ms)
CHUNK = 5_000


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

    def replay(self, engine: Any) -> None:
        for method, args in self.calls:
            getattr(engine, method)(*args)


_WRITES = frozenset({"add", "remove", "extend", "bulk_extend", "update", "add_graph",
                     "remove_graph", "clear", "copy_graph"})


def _is_stream(value: Any) -> bool:
    """Whether ``value`` is quads to list now (a generator, a list), not one term or quad
    (pyoxigraph's quads and triples are iterable too)."""
    return isinstance(value, Iterable) and not isinstance(
        value, str | bytes | NamedNode | DefaultGraph | Quad | Triple)


class _Copy:
    """The in-memory engine, with the one write the disk engine lacks: taking a graph over
    from the disk as it is there now (after a bulk load, which only the disk saw)."""

    def __init__(self, disk: Engine) -> None:
        self.engine, self.disk = Engine(), disk

    def __getattr__(self, method: str) -> Any:
        return getattr(self.engine, method)

    def copy_graph(self, graph: NamedNode | DefaultGraph | None) -> None:
        graphs: list[NamedNode | DefaultGraph] = [graph] if graph is not None else [
            DefaultGraph(), *ug.real_named_graphs(self.disk)]
        for each in graphs:
            if isinstance(each, DefaultGraph):
                self.engine.clear_graph(each)
            elif self.engine.contains_named_graph(each):
                self.engine.remove_graph(each)
            self.engine.bulk_extend(self.disk.quads_for_pattern(None, None, None, each))


class MirroredStore(OxigraphStore):
    """The disk store whose queries read an in-memory copy (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path)
        self.backend = "disk"
        self._disk = self._store
        self._copy: _Copy | None = None
        self.ready = threading.Event()
        #: (quads copied, quads to copy) while filling; for /healthz and the log
        self.progress = (0, 0)
        self._filling: threading.Thread | None = None
        self._again = False

    def start_filling(self) -> threading.Thread:
        """Fill the copy in the background (queries read the disk until it is ready)."""
        with self.write_lock:
            if self._filling is not None and self._filling.is_alive():
                self._again = True  # a write the recording cannot repeat: fill anew
                return self._filling
            self.ready.clear()
            self._again = False
            self._store, self._writes = self._disk, [self._disk]
            self.progress = (0, ug.real_len(self._disk))
            self._filling = threading.Thread(target=self._fill, name="borderkg-memory-copy",
                                             daemon=True)
            self._filling.start()
            return self._filling

    def _fill(self) -> None:
        started = time.monotonic()
        try:
            while not self._fill_once():
                log.info("the store changed in a way the copy cannot follow: filling anew")
            log.info("memory copy of the store ready: %s quads in %.1f s",
                     f"{self.progress[1]:,}", time.monotonic() - started)
        except Exception:  # queries keep reading the disk; logged
            log.exception("the memory copy of the store failed; queries read the disk")
            with self.write_lock:
                self._writes = [self._disk]

    def _fill_once(self) -> bool:
        """One filling, from a checkpoint; False when it must start over (a write only
        the disk could run arrived meanwhile)."""
        checkpoint = Path(tempfile.mkdtemp(prefix="borderkg-copy-"))
        recorder = _Recorder()
        try:
            with self.write_lock:  # the checkpoint and the recording start together
                target = checkpoint / "store"
                self.snapshot(target)
                self._again = False
                self._writes = [self._disk, recorder]
            source = Engine.read_only(str(target))
            copy = _Copy(self._disk)
            self._copy_all(source, copy.engine)
            del source
            with self.write_lock:
                if self._again:
                    self._writes = [self._disk]
                    return False
                recorder.replay(copy)
                self._copy = copy
                self._store, self._writes = copy.engine, [self._disk, copy]
                self._caches()
                self._bump()  # new forked workers read the copy
                self.ready.set()
                return True
        finally:
            shutil.rmtree(checkpoint, ignore_errors=True)

    def _copy_all(self, source: Engine, copy: Engine) -> None:
        """Every real quad of ``source`` into ``copy``, then the merge made in memory."""
        total = ug.real_len(source)
        self.progress = (0, total)
        graphs: list[NamedNode | DefaultGraph] = [DefaultGraph(),
                                                  *ug.real_named_graphs(source)]
        for graph in graphs:
            quads = source.quads_for_pattern(None, None, None, graph)
            while chunk := list(itertools.islice(quads, CHUNK)):
                copy.bulk_extend(chunk)
                self.progress = (self.progress[0] + len(chunk), total)
                time.sleep(0)  # the engine holds the GIL per call: let requests run between
        copy.update(ug.fill_text(None))
        ug.mark_current(copy)

    # -- hooks of the writes only the disk engine sees --------------------------------------
    def _engine_updated(self) -> None:
        """The disk ran a text itself (one ``graph.store.updates`` does not take apart): its
        blank nodes cannot be repeated on the copy, so the copy is made anew (a filling
        under way starts over)."""
        self.start_filling()

    def _loaded_into_copies(self, target: NamedNode | DefaultGraph | None) -> None:
        for engine in self._writes[1:]:
            engine.copy_graph(target)

    def close(self) -> None:
        if self._filling is not None:
            self._filling.join(timeout=60)
        with self.write_lock:
            self._store, self._writes = self._disk, [self._disk]
            self._copy = None
        super().close()
        del self._disk


class MirrorExecutor:
    """Queries to ``disk`` (snapshot workers) until the store's copy is ready, then to
    workers made by ``memory`` (forked over the copy). The disk workers are closed a
    while after the switch, once the queries they were given have ended."""

    #: seconds the disk workers stay after the switch (longer than any query may run)
    RETIRE_AFTER = 120.0

    def __init__(self, store: MirroredStore, disk: Any, memory: Callable[[], Any]) -> None:
        self.store, self.disk, self._make_memory = store, disk, memory
        self.memory: Any = None
        self._lock = threading.Lock()

    @property
    def kind(self) -> str:
        return "memory copy" if self.store.ready.is_set() else "disk (memory copy filling)"

    def run(self, request: Any) -> Any:
        if not self.store.ready.is_set():
            return self.disk.run(request)
        with self._lock:
            if self.memory is None:
                self.memory = self._make_memory()
                timer = threading.Timer(self.RETIRE_AFTER, self._retire_disk)
                timer.daemon = True
                timer.start()
        return self.memory.run(request)

    def _retire_disk(self) -> None:
        if self.store.ready.is_set() and self.disk is not None:
            disk, self.disk = self.disk, _Waiting(self)
            disk.close()

    def close(self) -> None:
        for executor in (self.disk, self.memory):
            if executor is not None and hasattr(executor, "close"):
                executor.close()


class _Waiting:
    """Where disk queries go once the disk workers are retired: the copy is being made
    anew (after a text only the disk could run), so they wait for it."""

    def __init__(self, owner: MirrorExecutor) -> None:
        self.owner = owner

    def run(self, request: Any) -> Any:
        self.owner.store.ready.wait(timeout=float(getattr(request, "timeout", 30.0)))
        return self.owner.run(request)

    def close(self) -> None:
        """Nothing to release."""
