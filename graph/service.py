"""The running service's state, independent of HTTP: settings, store, executor, caches.

The Flask app keeps one ``Service`` in ``app.extensions``; the CLI and tests can build
one without Flask. Start-up work (opening the store, building the seed, starting query
workers) happens here, once, never per request.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graph.caching import EtagCache
from graph.knowledge.build import SeedState, ensure_seed
from graph.sparql.admission import ClientGate, ClientLimiter, NetworkRouter
from graph.sparql.cache import CachingExecutor
from graph.sparql.executor import InProcessExecutor, SnapshotPoolExecutor
from graph.sparql.fork_pool import ForkPoolExecutor
from graph.sparql.sandbox import SandboxedThreads, check_available, network_refused
from graph.store.base import Store
from graph.store.loading import load_files
from graph.store.lock import LOCKED, held
from graph.store.mirror import MirroredStore, MirrorExecutor
from graph.store.oxigraph import OxigraphStore
from graph.store.remote import RemoteStore

from .errors import BorderKGError, ConfigError
from .settings import Settings, load_settings

if TYPE_CHECKING:  # the index module loads numpy: only queries that use it need it
    from graph.sparql.cube_index import CubeIndex

log = logging.getLogger("borderkg")

#: whole HTTP answers kept by ``server.response_cache``: each at most, and all together
#: (entries x the first could otherwise reach a gigabyte)
RESPONSE_ENTRY_BYTES = 256 << 10
RESPONSE_TOTAL_BYTES = 64 << 20
#: service descriptions and VoID documents (a few bases and default-graph choices)
DESCRIPTION_ENTRIES = 8
#: networkx projections (a few option sets: each can be the size of the store)
PROJECTION_ENTRIES = 4


@dataclass(frozen=True)
class Caches:
    """What the service keeps that is computed from the store's contents: one
    :class:`~graph.caching.EtagCache` per use, each over the store's etag, so no write
    is ever followed by a stale answer.

    ``results`` and ``responses`` are None where answers may not be reused (a remote
    store, which can change behind our back; ``result_cache_size`` 0).
    """

    #: SPARQL answers by query, dataset, format and row cap (``graph.sparql.cache``)
    results: EtagCache[Any] | None
    #: whole answers to repeated GETs of /sparql, served by ``server.rsgi`` (granian)
    responses: EtagCache[Any] | None
    #: service description and VoID triples (``graph.documents.description``)
    descriptions: EtagCache[Any]
    #: projections by options (``graph.analysis.projection``)
    projections: EtagCache[Any]
    #: how much of the seed the store holds (pages ask on every render)
    seed: EtagCache[SeedState]
    #: the observations' columnar index behind the named Data Cube queries
    #: (``graph.sparql.cube_index``): one, for the store's current version
    observations: EtagCache[CubeIndex]

    @classmethod
    def for_store(cls, settings: Settings, store: Store,
                  results: EtagCache[Any] | None = None) -> Caches:
        """The caches of a service over ``store``; ``results`` is its executor's result
        cache, if it has one (the response cache is kept only beside it)."""
        responses: EtagCache[Any] | None = None
        if results is not None:
            responses = EtagCache.for_store(store, settings.result_cache_size,
                                            max_bytes=RESPONSE_TOTAL_BYTES,
                                            max_entry_bytes=RESPONSE_ENTRY_BYTES)
        return cls(results=results, responses=responses,
                   descriptions=EtagCache.for_store(store, DESCRIPTION_ENTRIES),
                   projections=EtagCache.for_store(store, PROJECTION_ENTRIES),
                   seed=EtagCache.for_store(store, 1),
                   observations=EtagCache.for_store(store, 1))

    def clear(self) -> None:
        """Forget every entry of every cache."""
        for cache in (self.results, self.responses, self.descriptions, self.projections,
                      self.seed, self.observations):
            if cache is not None:
                cache.clear()


@dataclass
class Service:
    """Settings, store, executor and caches of one service process."""

    settings: Settings
    store: Store
    executor: Any
    extras: dict[str, Any] = field(default_factory=dict)
    #: where clients' updates run: threads that cannot open sockets
    update_threads: SandboxedThreads = field(default_factory=SandboxedThreads)
    #: how many analyses one client (and all together) may have computing at once
    analysis_slots: ClientLimiter = field(
        default_factory=lambda: ClientLimiter(1, total=4, what="analyses"))
    #: the etag-keyed caches; ``results`` is the executor's own result cache
    caches: Caches = field(init=False)

    def __post_init__(self) -> None:
        results = self.executor.cache if isinstance(self.executor, CachingExecutor) else None
        self.caches = Caches.for_store(self.settings, self.store, results)

    @classmethod
    def start(cls, settings: Settings | None = None, store: Store | None = None,
              build_if_empty: bool = True) -> Service:
        """Open the configured store (building the seed when empty) and its executor."""
        settings = settings or load_settings()
        store = store or open_service_store(settings)
        if settings.load:
            preload(store, settings.load)
        if build_if_empty:
            report = ensure_seed(store, settings.article)  # partial without the article
            if report is not None:
                log.info("built seed graph: %d quads from %s", report.total, report.article)
        return cls(settings, store, build_executor(settings, store))

    def update(self, text: str, base_iri: str | None = None, network: bool = False) -> None:
        """Run a client's SPARQL update, its WHERE clauses over the dataset queries see
        (the union default graph when ``default_graph_union`` is on): on a local store
        in a thread that cannot open sockets (the engine would make LOAD and SERVICE
        requests itself), so the policy
        is not the only wall between an update and the network. ``network`` is for an
        update whose every SERVICE call the policy allowed: it runs unfiltered."""
        union = self.settings.default_graph_union
        if self.store.backend == "remote" or network:
            self.store.update(text, base_iri=base_iri, union_default=union)
            return
        try:
            self.update_threads.call(self.store.update, text, base_iri=base_iri,
                                     union_default=union)
        except PermissionError as exc:
            raise network_refused(exc) from None

    @property
    def caches_results(self) -> bool:
        """Whether answers may be reused while the store's etag is unchanged (never for a
        remote store, which can change behind our back)."""
        return self.caches.results is not None

    def close(self) -> None:
        close = getattr(self.executor, "close", None)
        if close:
            close()
        self.update_threads.close()
        self.store.close()


def open_store(settings: Settings) -> Store:
    """The store chosen by the ``store`` setting."""
    kind = settings.store
    if kind == "memory":
        return OxigraphStore(None)
    if kind == "disk":
        return OxigraphStore(settings.data_path / "store")
    return RemoteStore.from_settings(settings)


def open_store_explained(settings: Settings, remedy: str = "stop it and run this command again"
                         ) -> Store:
    """:func:`open_store`, a held disk store reported as :class:`StoreHeld`
    (``remedy`` says what to do instead) rather than as RocksDB's lock error."""
    try:
        return open_store(settings)
    except ConfigError as exc:
        if settings.store != "disk" or not LOCKED.search(exc.message):
            raise
        raise held(settings.data_path / "store", settings, remedy) from None


def open_service_store(settings: Settings) -> Store:
    """The store a service serves: on disk with ``memory_copy``, the disk store whose
    union-default-graph queries read an in-memory copy (``graph.store.mirror``);
    otherwise ``open_store``'s. One-off commands (query, load, import) open the plain
    store: a copy would only cost them."""
    if settings.store == "disk" and settings.memory_copy:
        return MirroredStore(settings.data_path / "store")
    return open_store(settings)


def load_problem(backend: str, paths: list[str]) -> str | None:
    """Why the ``load`` setting cannot be used with ``backend`` and ``paths``, or None.

    Memory store only, because a disk store would get the files again at every start (and
    blank nodes anew); every file must exist.
    """
    if backend != "memory":
        return (f"--load fills the memory store at start-up; the {backend} store keeps its "
                "data: load it once with `borderkg load` instead")
    missing = [path for path in paths if not Path(path).is_file()]
    return f"--load: no such file: {', '.join(missing)}" if missing else None


def preload(store: Store, paths: list[str]) -> None:
    """Load ``paths`` before serving (the ``load`` setting)."""
    problem = load_problem(store.backend, paths)
    if problem:
        raise ConfigError(problem)
    try:
        report = load_files(store, [Path(path) for path in paths], bulk=True, progress=False,
                            outcome="the service does not start")
    except BorderKGError as exc:
        raise ConfigError(f"--load: {exc.message}") from None
    for done in report.files:
        log.info("loaded %s: %s quads in %.1f s", done.path, f"{done.triples:,}", done.seconds)


def build_executor(settings: Settings, store: Store) -> Any:
    """The store's executor: per-client bounds, then the result cache (none for remote
    stores, whose contents can change behind our back)."""
    executor = make_executor(settings, store)
    if store.backend != "remote" and settings.client_queries > 0:
        # two request threads always stay free of queries, for pages and /healthz
        executor = ClientGate(executor, settings.client_queries,
                              total=max(settings.query_workers, settings.threads - 2))
    if settings.result_cache_size > 0 and store.backend != "remote":
        return CachingExecutor(executor, store, settings.result_cache_size)
    return executor


def make_executor(settings: Settings, store: Store) -> Any:
    """The executor for this store: sandboxed, killable worker processes where the store
    is local, so a query past ``query_timeout`` is stopped (503) and no query can open a
    socket (``graph.sparql.sandbox``):

    * disk with ``memory_copy`` (the default): ``MirrorExecutor`` — children forked over
      the in-memory copy of the union default graph for the queries that read only it,
      once it is filled; snapshot workers for the others, and for all while it fills;
    * disk: ``SnapshotPoolExecutor`` — ``query_workers`` processes over snapshots
      (started in the background, so start-up is not slowed);
    * memory: ``ForkPoolExecutor`` — ``query_workers`` children forked from this process,
      which read the store copy-on-write;
    * both: queries whose SERVICE calls the policy allowed go to one worker that may use
      the network (made on first need);
    * remote: ``InProcessExecutor`` — the remote server evaluates and applies its own
      limits; the HTTP client gives up after the store's request timeout.
    """
    if store.backend in ("disk", "memory"):
        check_available()  # never evaluate a client's text unprotected
    if isinstance(store, MirroredStore):
        store.start_filling()
        return NetworkRouter(
            MirrorExecutor(store, SnapshotPoolExecutor(store, settings.query_workers),
                           lambda: ForkPoolExecutor(store, settings.query_workers)),
            lambda: SnapshotPoolExecutor(store, 1, sandbox=False))
    if store.backend == "disk":
        return NetworkRouter(
            SnapshotPoolExecutor(store, settings.query_workers),
            lambda: SnapshotPoolExecutor(store, 1, sandbox=False))
    if store.backend == "memory":
        return NetworkRouter(ForkPoolExecutor(store, settings.query_workers),
                             lambda: ForkPoolExecutor(store, 1, sandbox=False))
    return InProcessExecutor(store)
