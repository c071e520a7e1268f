"""The embedded Oxigraph store, in memory or on disk (RocksDB).

``OxigraphStore(None)`` keeps everything in memory (tests, benchmarks' best case);
``OxigraphStore(path)`` keeps it on disk, the service default. Queries over the union
default graph read the merge of every graph (``graph.store.union``), and clients' updates
run through ``graph.store.updates`` so they see exactly the dataset queries see.
"""
from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    parse,
    serialize,
)
from pyoxigraph import Store as _OxStore

from graph.errors import (
    BadRequest,
    BorderKGError,
    ConfigError,
    Forbidden,
    QuerySyntaxError,
    StoreError,
    syntax_error,
)
from graph.sparql.outbound import remote_calls, remote_failure, settled
from graph.sparql.sandbox import network_refused, sandboxed
from graph.sparql.text import Kind, analyse

from . import union as ug
from . import updates
from .base import QueryResult, Source, Store, Substitutions, open_source, solutions


def _node(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    return NamedNode(value)


def _graph_node(graph: str | None) -> NamedNode | DefaultGraph:
    return DefaultGraph() if not graph else NamedNode(graph)


#: what pyoxigraph raises for a failed query or update (``engine_error`` says what it means)
ENGINE_FAILURES = (SyntaxError, ValueError, RuntimeError, OSError)


def engine_error(exc: BaseException, text: str, kind: Kind,
                 base_iri: str | None = None) -> BorderKGError:
    """The typed error for ``exc``, raised by the engine running ``text``.

    A failed SERVICE or LOAD call is 502 ``BadGateway`` (``graph.sparql.outbound``); otherwise a
    syntax error is 400 with its location, ``OSError`` is the store failing (502
    ``StoreError``), and the rest are evaluation errors the request caused (400).
    """
    if isinstance(exc, PermissionError) and sandboxed():
        return network_refused(exc)  # the evaluation sandbox refused a socket
    remote = remote_failure(exc, text, kind, base_iri)
    if remote is not None:
        return remote
    if isinstance(exc, SyntaxError):
        return syntax_error(exc, kind)
    if isinstance(exc, OSError):
        return StoreError(f"the store failed while running the {kind}: {exc}")
    return BadRequest(f"invalid query: {exc}" if kind == "query" else f"update failed: {exc}")


#: how the engine refuses a function IRI it does not implement
_UNKNOWN_FUNCTION = re.compile(r"The custom function <([^>]*)> is not supported")
#: most distinct unknown functions one query may call
MAX_UNKNOWN_FUNCTIONS = 32


def _no_value(*_args: Any) -> None:
    """An unknown function's value: none (an evaluation error, so the variable it would
    bind stays unbound, as SPARQL 1.1 section 17.3 prescribes)."""
    return None


#: functions BorderKG adds to SPARQL, by IRI: registered by the modules that define them
#: at import time (so query workers, which import those modules, have them too)
CUSTOM_FUNCTIONS: dict[NamedNode, Any] = {}


#: RocksDB's own information logs kept in the store directory (it starts a new one at
#: each open and, with the options the engine uses, keeps up to a thousand old ones)
KEPT_ENGINE_LOGS = 5


def _prune_engine_logs(path: Path) -> None:
    """Delete all but the newest ``KEPT_ENGINE_LOGS`` of RocksDB's old information logs
    (``LOG.old.<time>``): text for people reading them, never read back by the engine,
    and one more of them at every start. Called with the store open in this process, so
    no other process is writing there."""
    def started(log_file: Path) -> tuple[int, str]:  # the suffix is the time, in µs
        suffix = log_file.name.rsplit(".", 1)[-1]
        return (int(suffix) if suffix.isdigit() else 0, log_file.name)

    old = sorted(path.glob("LOG.old.*"), key=started, reverse=True)
    for log_file in old[KEPT_ENGINE_LOGS:]:
        log_file.unlink(missing_ok=True)


def _with_unknown_functions(run: Any, sparql: str, kwargs: dict[str, Any]) -> Any:
    """``run(sparql, **kwargs)`` with BorderKG's own functions (``CUSTOM_FUNCTIONS``); a
    call of a function IRI the engine does not implement is an evaluation error (unbound),
    not a refusal of the whole query as the engine makes it: each such IRI is given a
    function without a value and the query retried."""
    unknown: dict[NamedNode, Any] = dict(CUSTOM_FUNCTIONS)
    while True:
        try:
            if unknown:
                return run(sparql, **kwargs, custom_functions=unknown)
            return run(sparql, **kwargs)
        except RuntimeError as exc:
            match = _UNKNOWN_FUNCTION.fullmatch(str(exc))
            if match is None or len(unknown) >= MAX_UNKNOWN_FUNCTIONS:
                raise
            unknown[NamedNode(match.group(1))] = _no_value


def _text_dataset(sparql: str, base_iri: str | None) -> tuple[list[str], list[str]] | None:
    """The ``FROM`` and ``FROM NAMED`` IRIs of a query, or None when it has neither."""
    dataset = analyse(sparql, "query", base_iri).dataset
    if not dataset:
        return None
    return ([iri for keyword, iri in dataset if keyword == "FROM"],
            [iri for keyword, iri in dataset if keyword == "FROM NAMED"])


#: the engine's failure for an operation on a graph it has no record of
_MISSING_GRAPH = re.compile(r"^The graph .* does not exist$", re.S)


def _silent_drops(sparql: str) -> str | None:
    """``sparql`` with ``SILENT`` after each ``DROP``/``CLEAR`` keyword that lacks it, or
    None when there is none (or the text cannot be lexed: then it is left as it is)."""
    from graph.sparql.text import lex

    try:
        toks = lex(sparql)
    except QuerySyntaxError:
        return None
    at = [t.start + len(t.text) for i, t in enumerate(toks) if t.upper in ("DROP", "CLEAR")
          and (i + 1 == len(toks) or toks[i + 1].upper != "SILENT")]
    if not at:
        return None
    pieces = [sparql[start:end] for start, end in zip([0, *at], [*at, len(sparql)], strict=True)]
    return " SILENT".join(pieces)


class OxigraphStore(Store):
    """Embedded Oxigraph: in memory (``path=None``) or RocksDB on disk.

    Its union default graph is a set (``graph.store.union``): queries over it read the
    store's merge, and every write keeps the merge in step. Updates run through
    ``graph.store.updates``, over the dataset queries see; on disk with a journal beside the
    store, so a request a killed process left half done is undone when it next opens.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.path = Path(path) if path is not None else None
        self.journal: updates.Journal | None = None
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            try:
                self._store = _OxStore(str(self.path))
            except OSError as exc:
                raise ConfigError(f"cannot open store at {self.path}: {exc}") from None
            self.journal = updates.Journal(self.path.with_name(self.path.name + ".journal"))
            self.journal.recover(self._store)
            _prune_engine_logs(self.path)
        else:
            self._store = _OxStore()
        self.backend = "memory" if self.path is None else "disk"
        #: the engines every write goes to, in order: the durable one first
        self._writes: list[Any] = [self._store]
        self._caches()
        self._open_merge()

    def _caches(self) -> None:
        """Per-version answers the query path reuses (the real named graphs, overlaps)."""
        self._named: tuple[int, list[NamedNode]] | None = None
        self._overlaps: dict[tuple[int, tuple[str, ...]], bool] = {}

    def _open_merge(self) -> None:
        """Make the merge current (once, for a store made without it or after a bulk write
        that did not end)."""
        ug.ensure_current(self._store, on_disk=self.path is not None)

    @property
    def engine(self) -> _OxStore:
        """The pyoxigraph store itself, for fast paths (projection, bulk iteration). It
        holds the hidden graphs too (``graph.store.union.HIDDEN``)."""
        return self._store

    # -- reading ---------------------------------------------------------------------------
    def query(self, sparql: str, *, union_default: bool = True,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None,
              substitutions: Substitutions | None = None,
              base_iri: str | None = None) -> QueryResult:
        kwargs: dict[str, Any] = {"base_iri": base_iri, "substitutions": substitutions}
        engine = self._store
        try:
            default, named = self._dataset(sparql, union_default, default_graphs, named_graphs,
                                           base_iri)
            if default is not None and len(default) > 1 and self._overlap(default):
                engine, default, named = _merged(self._store, default, named), \
                    [DefaultGraph()], named
        except ENGINE_FAILURES as exc:
            raise engine_error(exc, sparql, "query", base_iri) from None
        if default is not None:
            kwargs["default_graph"] = default
        if named is not None:
            kwargs["named_graphs"] = named
        return self._evaluate(engine, sparql, kwargs)

    @staticmethod
    def _evaluate(engine: _OxStore, sparql: str, kwargs: dict[str, Any]) -> QueryResult:
        """``sparql`` evaluated by ``engine`` with BorderKG's functions, its failures typed."""
        base_iri = kwargs.get("base_iri")
        try:
            result = _with_unknown_functions(engine.query, sparql, kwargs)
            # SERVICE is called while rows are read: settle now, while a failure has a name
            return settled(result) if remote_calls(sparql, "query", base_iri) else result
        except ENGINE_FAILURES as exc:
            raise engine_error(exc, sparql, "query", base_iri) from None

    def _dataset(self, sparql: str, union_default: bool, default_graphs: Sequence[str] | None,
                 named_graphs: Sequence[str] | None, base_iri: str | None
                 ) -> tuple[list[Any] | None, list[NamedNode] | None]:
        """The default and named graphs to hand the engine (None: the engine's choice).

        Given lists (the protocol's, or an update's USING) win; then the query's
        ``FROM``/``FROM NAMED``, handed over only when a merge of several graphs must be
        a set; then the union default graph, which is the merge; named graphs are always
        the real ones, so ``GRAPH ?g`` never meets a hidden graph.
        """
        named = None if named_graphs is None else [NamedNode(g) for g in named_graphs]
        if default_graphs is not None:
            return [_graph_node(g) for g in default_graphs], \
                self._real_named() if named is None else named
        text_dataset = _text_dataset(sparql, base_iri)
        if text_dataset is not None:
            froms, from_named = text_dataset
            if len(froms) < 2:
                return None, named  # the engine reads one FROM graph as it is
            return [NamedNode(g) for g in froms], \
                [NamedNode(g) for g in from_named] if named is None else named
        default = [ug.UNION] if union_default else None
        return default, self._real_named() if named is None else named

    def _real_named(self) -> list[NamedNode]:
        """The real named graphs, listed once per store version."""
        if self._named is None or self._named[0] != self._version:
            self._named = (self._version, ug.real_named_graphs(self._store))
        return self._named[1]

    def _overlap(self, graphs: list[Any]) -> bool:
        """Whether two of ``graphs`` share a triple (then their merge is not their bag)."""
        key = (self._version, tuple(str(g) for g in graphs))
        if key not in self._overlaps:
            if len(self._overlaps) > 256:
                self._overlaps.clear()
            self._overlaps[key] = bool(self._store.query(
                _SHARED_TRIPLE, named_graphs=[g for g in graphs if isinstance(g, NamedNode)],
                default_graph=[g for g in graphs if isinstance(g, DefaultGraph)]))
        return self._overlaps[key]

    def quads(self, subject: Any = None, predicate: Any = None, obj: Any = None,
              graph: Any = None) -> Iterator[Quad]:
        g = _graph_node(graph) if isinstance(graph, str) else graph
        if g is not None and ug.is_hidden(g):
            return iter(())
        found = self._store.quads_for_pattern(_node(subject), _node(predicate), obj, g)
        if g is not None:
            return iter(found)
        return (q for q in found if not ug.is_hidden(q.graph_name))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._real_named())

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return ug.real_len(self._store)
        if ug.is_hidden(graph):
            return 0
        return self._count(_graph_node(graph))

    def _count(self, graph: NamedNode | DefaultGraph) -> int:
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, graph))

    def contains_graph(self, graph: str) -> bool:
        return not ug.is_hidden(graph) and self._store.contains_named_graph(NamedNode(graph))

    def dump(self, output: IO[bytes], fmt: RdfFormat, graph: str | None = None) -> None:
        if graph is None:
            serialize(self.quads(), output, fmt)
        elif not ug.is_hidden(graph):
            self._store.dump(output, fmt, from_graph=_graph_node(graph))

    # -- writing ---------------------------------------------------------------------------
    def update(self, sparql: str, *, base_iri: str | None = None,
               union_default: bool = False) -> None:
        """Run ``sparql`` over the dataset queries see (``union_default``: the merge)."""
        with self.write_lock:
            try:
                self._run_update(sparql, base_iri, union_default)
            except ENGINE_FAILURES as exc:
                raise engine_error(exc, sparql, "update", base_iri) from None
            finally:
                self._bump()

    def _run_update(self, sparql: str, base_iri: str | None, union_default: bool) -> None:
        """Parse-check ``sparql`` with the engine once, then run it: one ``CLEAR``/``DROP``
        of one graph as one engine transaction, a text ``graph.store.updates`` does not take
        apart by the engine, anything else through ``graph.store.updates``."""
        updates.check_syntax(sparql, base_iri)
        try:
            request = updates.take_apart(sparql, base_iri)
        except updates.Unsupported:
            self._engine_update(sparql, base_iri)
            return
        drop = updates.single_graph_drop(request)
        if drop is not None:
            keyword, graph = drop
            self._drop(graph, forget=keyword == "DROP")
            return
        updates.run(self._store, self._writes, self._select, request, union_default,
                    self.journal)

    def _select(self, text: str, **kwargs: Any) -> QuerySolutions:
        """An update's WHERE, evaluated as a query over the store as it is now (earlier
        operations of the request may have made graphs or shared triples)."""
        self._named = None
        self._overlaps.clear()
        kwargs.setdefault("union_default", False)
        return solutions(self.query(text, **kwargs))

    def _engine_update(self, sparql: str, base_iri: str | None) -> None:
        """Run ``sparql`` by the engine itself (a text ``graph.store.updates`` does not take
        apart), then rebuild the merge; a ``DROP``/``CLEAR`` of a graph without triples
        succeeds.

        A graph without triples is an empty graph, so dropping or clearing it changes
        nothing and is no failure (the engine fails it unless the store recorded the
        graph). The failed update changed nothing (updates are all or nothing), so it
        runs again with ``SILENT`` on its ``DROP``/``CLEAR`` operations; any other
        failure (``MOVE`` of a missing graph, ``CREATE`` of an existing one) stays.
        """
        durable = self._writes[0]
        try:
            durable.update(sparql, base_iri=base_iri)
        except RuntimeError as exc:
            silent = _silent_drops(sparql) if _MISSING_GRAPH.search(str(exc)) else None
            if silent is None:
                raise
            durable.update(silent, base_iri=base_iri)
        ug.rebuild(durable, on_disk=self.path is not None)
        self._engine_updated()

    def _engine_updated(self) -> None:
        """Hook: the durable engine ran a text itself (a copy must follow it)."""

    def _drop(self, graph: NamedNode | DefaultGraph, forget: bool) -> None:
        """Clear ``graph`` (and with ``forget`` drop its record) in one transaction, the
        merge's triples only it held going with it."""
        if isinstance(graph, NamedNode) and ug.is_hidden(graph):
            raise Forbidden(f"the graph <{graph.value}> is kept by BorderKG itself",
                            graph=graph.value)
        iri = "" if isinstance(graph, DefaultGraph) else graph.value
        target = "DEFAULT" if not iri else f"GRAPH <{iri}>"
        text = f"{ug.drop_text(iri)} ;\n{'DROP' if forget and iri else 'CLEAR'} SILENT {target}"
        self._writes[0].update(text)

    def load(self, source: Source, fmt: RdfFormat, graph: str | None = None,
             base_iri: str | None = None) -> None:
        """Parse ``source`` and add it, with its triples' place in the merge, in one
        transaction (blank nodes fresh, as the engine's own load makes them)."""
        self._writable(graph)
        target = _target_graph(graph, fmt)
        data = open_source(source)
        with self.write_lock:
            try:
                quads: Iterable[Quad] = _into(parse(data, fmt, base_iri=base_iri,
                                                    rename_blank_nodes=True), target)
                self._each("extend", quads)
            except SyntaxError as exc:
                raise BadRequest(f"RDF syntax error: {exc}",
                                 line=getattr(exc, "lineno", None),
                                 column=getattr(exc, "offset", None)) from None
            except (ValueError, EOFError, gzip.BadGzipFile) as exc:
                # a bad base IRI, or a source that is not the gzip its name says
                raise BadRequest(f"cannot load: {exc}") from None
            except OSError as exc:
                raise StoreError(f"the store failed while loading: {exc}") from None
            finally:
                self._bump()
                if hasattr(data, "close"):
                    data.close()

    def extend(self, quads: Iterable[Quad]) -> None:
        with self.write_lock:
            try:
                self._each("extend", self._checked(quads))
            finally:
                self._bump()

    def bulk_extend(self, quads: Iterable[Quad]) -> None:
        """Fast, non-transactional add for building stores from scratch."""
        with self.write_lock:
            self._mark(ug.mark_stale)
            try:
                self._each("bulk_extend", self._checked(quads))
                self._mark(ug.mark_current)
            finally:
                self._bump()

    def _each(self, method: str, quads: Iterable[Quad]) -> None:
        """``engine.<method>`` of ``quads`` with their place in the merge, on every engine
        writes go to (the quads listed once when there are several)."""
        if len(self._writes) > 1:
            quads = list(quads)
        for engine in self._writes:
            getattr(engine, method)(ug.with_twins(quads))

    def _mark(self, mark: Any) -> None:
        for engine in self._writes:
            mark(engine)

    def _checked(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        for quad in quads:
            if ug.is_hidden(quad.graph_name):
                raise Forbidden(f"the graph <{quad.graph_name}> is kept by BorderKG itself")
            yield quad

    def _writable(self, graph: str | None) -> None:
        if graph and ug.is_hidden(graph):
            raise Forbidden(f"the graph <{graph}> is kept by BorderKG itself and cannot be "
                            "written", graph=graph)

    def bulk_load(self, parts: Sequence[IO[bytes]], fmt: RdfFormat, *,
                  graph: str | None = None, base_iri: str | None = None) -> None:
        """Load ``parts`` of one document; not transactional as a whole.

        On disk, each part is parsed once and written by pyoxigraph's bulk writer with
        each quad's twin in the merge (reading the graph back to fill the merge costs
        about three times the load itself on RocksDB). In memory, the parts load one
        after another, each in its own transaction: there the bulk loader peaks higher
        than a transaction, and a transaction's undo log holds only its part, so the peak
        stays near the data's own size; the merge is filled from the loaded graph
        afterwards (all graphs, for a dataset without a target). Each call gives blank
        nodes fresh identities, so the caller only cuts files without blank nodes. A
        failing part raises its error with ``part`` set to its index; the parts before it
        stay loaded. Until the load ends the store is marked so that a start-up rebuilds
        the merge.
        """
        self._writable(graph)
        kwargs: dict[str, Any] = {"format": fmt, "base_iri": base_iri}
        target = _target_graph(graph, fmt)
        if target is not None:
            kwargs["to_graph"] = target
        errors: dict[int, BaseException] = {}
        in_memory = self.backend == "memory"
        durable = self._writes[0]

        def load(index: int, part: IO[bytes]) -> bool:
            try:
                if in_memory:
                    durable.load(part, **kwargs)
                else:  # parsed once, each quad written with its twin in the merge
                    durable.bulk_extend(ug.with_twins(_into(parse(
                        part, fmt, base_iri=base_iri, rename_blank_nodes=True), target)))
                return True
            except BaseException as exc:  # noqa: BLE001 - re-raised below, by the caller
                errors[index] = exc
                return False

        with self.write_lock:
            self._mark(ug.mark_stale)
            try:
                for index, part in enumerate(parts):
                    if not load(index, part):
                        break
                if in_memory:
                    fill = None if target is None else "" if isinstance(
                        target, DefaultGraph) else target.value
                    durable.update(ug.fill_text(fill))
                self._loaded_into_copies(target)
                self._mark(ug.mark_current)
            finally:
                self._bump()
        if errors:
            first = min(errors)
            failure = errors[first]
            failure.part = first  # type: ignore[attr-defined]
            raise failure

    def _loaded_into_copies(self, target: NamedNode | DefaultGraph | None) -> None:
        """Hook: a bulk load reached the durable engine only (a copy must follow it)."""

    def drop_graph(self, graph: str) -> bool:
        with self.write_lock:
            try:
                if not graph:
                    first = next(iter(self._store.quads_for_pattern(None, None, None,
                                                                    DefaultGraph())), None)
                    self._drop(DefaultGraph(), forget=False)
                    return first is not None
                node = NamedNode(graph)
                existed = not ug.is_hidden(graph) and self._store.contains_named_graph(node)
                if existed:
                    self._drop(node, forget=True)
                return existed
            finally:
                self._bump()

    def clear(self) -> None:
        with self.write_lock:
            for engine in self._writes:
                engine.clear()
            self._mark(ug.mark_current)
            self._bump()

    def snapshot(self, target: Path) -> Path:
        """A consistent, independent copy of the on-disk store (hard links, milliseconds)."""
        if self.path is None:
            raise ConfigError("only the on-disk store can be snapshotted")
        self._writes[0].flush()
        self._writes[0].backup(str(target))
        return target

    def flush(self) -> None:
        """Write the durable engine's buffers out (on disk; nothing in memory)."""
        if self.path is not None:
            self._writes[0].flush()

    def close(self) -> None:
        self.flush()
        del self._store, self._writes


#: whether two of the named graphs (and the default graph, when listed) share a triple
_SHARED_TRIPLE = """ASK {
  { GRAPH ?a { ?s ?p ?o } GRAPH ?b { ?s ?p ?o } FILTER(?a != ?b) }
  UNION { ?s ?p ?o GRAPH ?b { ?s ?p ?o } }
}"""


def _merged(engine: _OxStore, default: list[Any], named: list[NamedNode] | None) -> _OxStore:
    """A scratch store whose default graph is the merge of ``default`` and whose named
    graphs are ``named``: a query over it sees each shared triple once. Built per query,
    only for graphs that do share triples (a cost proportional to their size)."""
    scratch = _OxStore()
    for graph in default:
        scratch.extend(Quad(q.subject, q.predicate, q.object, DefaultGraph())
                       for q in engine.quads_for_pattern(None, None, None, graph))
    for graph in named or ():
        scratch.extend(engine.quads_for_pattern(None, None, None, graph))
    return scratch


def _target_graph(graph: str | None, fmt: RdfFormat) -> NamedNode | DefaultGraph | None:
    """The graph a load writes to: ``graph``; the default graph for a triples format; None
    (each quad's own) for a dataset format without a target."""
    if graph or fmt not in (RdfFormat.N_QUADS, RdfFormat.TRIG):
        try:
            return _graph_node(graph)
        except ValueError as exc:
            raise BadRequest(f"cannot load into graph {graph!r}: {exc}") from None
    return None


def _into(items: Iterable[Any], target: NamedNode | DefaultGraph | None) -> Iterator[Quad]:
    """Parsed triples and quads as quads, in ``target`` when there is one."""
    for item in items:
        if target is not None:
            yield Quad(item.subject, item.predicate, item.object, target)
        elif ug.is_hidden(item.graph_name):
            raise Forbidden(f"the graph <{item.graph_name.value}> is kept by BorderKG itself")
        else:
            yield item
