"""A ``Store`` backed by a remote SPARQL 1.1 endpoint (Oxigraph server, Virtuoso, Fuseki...).

The rest of BorderKG must not notice the difference, so every answer is turned back into
pyoxigraph's own result objects: SELECT/ASK results are parsed with
``pyoxigraph.parse_query_results``; CONSTRUCT/DESCRIBE results are read as N-Triples into
a throw-away in-memory pyoxigraph store and re-emitted as a real ``QueryTriples``.

Engines differ; the differences handled here (and documented in docs/backends.md):

* **Default graph.** Oxigraph server keeps a separate default graph and offers the
  ``union-default-graph`` query parameter; Virtuoso's default graph is always the union
  of all graphs and it has no separate default graph to write to; any other engine is
  ``generic``: its Service Description says whether its default graph already is the
  union (BorderKG's is), and if not, the union is emulated with the protocol's dataset
  parameters (``graph.store.remote_dataset``). On an engine whose default graph is the union,
  the store's own default graph is read through the Graph Store Protocol (``?default``)
  when a Graph Store URL is configured.
* **Virtuoso** adds system graphs (``virtrdf#``...) that are hidden from listings and
  counts, refuses blank nodes in ``INSERT DATA`` (loads use ``INSERT {...} WHERE {}``),
  and answers ASK with a one-row SELECT (``__ASK_RETVAL``), turned back into a boolean.

``version`` counts the writes made *through this object*; writes made by other clients
of the same endpoint are not seen, so caches keyed on it can be stale for those.
"""
from __future__ import annotations

import io
import itertools
import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, cast

import requests
from pyoxigraph import (
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    parse,
    parse_query_results,
    serialize,
)
from pyoxigraph import Store as _OxStore

from graph.errors import BadRequest, ConfigError, QuerySyntaxError, StoreError
from graph.settings import Settings
from graph.sparql.text import add_using, analyse

from .base import QueryResult, Source, Store, Substitutions, open_source, solutions
from .remote_dataset import DESCRIPTION_ACCEPT, Engine, dataset_params, dialect_of, engine_of
from .remote_sparql import (
    ask_from_rows,
    bind_values,
    has_blank,
    has_insert_data,
    insert_data_body,
    only_fake_column,
    split_update,
    trig_prefixes,
    without_columns,
)

STAGING = "urn:x-borderkg:staging:"
#: graphs Virtuoso creates for itself; never shown as data
VIRTUOSO_SYSTEM = ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#",
                   "http://localuriqaserver/", "http://www.w3.org/2002/07/owl#")
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/plain;q=0.9"
BATCH_QUADS = 5_000
#: the header a BorderKG endpoint sets on an answer cut at its row limit
TRUNCATED = "X-BorderKG-Truncated"
#: Virtuoso's SPARQL parser runs out of stack ("memory exhausted") near 5,000 template triples
VIRTUOSO_BATCH_QUADS = 1_000
#: a Graph Store body resolved against a base IRI stays in memory up to this size
SPOOL_BYTES = 8 << 20
MEDIA_TYPES = {RdfFormat.N_TRIPLES: "application/n-triples", RdfFormat.N_QUADS:
               "application/n-quads", RdfFormat.TURTLE: "text/turtle", RdfFormat.TRIG:
               "application/trig", RdfFormat.RDF_XML: "application/rdf+xml",
               RdfFormat.JSON_LD: "application/ld+json"}


class RemoteStore(Store):
    """Any SPARQL 1.1 Query + Update endpoint, with the Graph Store Protocol if offered."""

    backend = "remote"

    def __init__(self, query_url: str, update_url: str | None = None,
                 graph_store_url: str | None = None, auth: Any = None,
                 timeout: float = 60.0, dialect: str | None = None) -> None:
        super().__init__()
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.graph_store_url = graph_store_url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = auth
        self._dialect = dialect
        self._engine: Engine | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteStore:
        """The remote store the ``remote_*`` settings describe."""
        url = settings.remote_query_url
        if not url:
            raise ConfigError("store 'remote' needs remote_query_url")
        return cls(url, settings.remote_update_url, settings.remote_graph_store_url,
                   remote_auth(settings),
                   timeout=max(30.0, settings.query_timeout * 3))

    # -- HTTP -------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``oxigraph``, ``virtuoso`` or ``generic`` (see ``graph.store.remote_dataset``)."""
        return self.engine.dialect

    @property
    def engine(self) -> Engine:
        """The endpoint's dialect and default graph, learnt from one ``GET`` of the query
        URL without a query: its ``Server`` header names the engine, and the body is the
        Service Description of engines that offer one."""
        if self._engine is None:
            self._engine = engine_of(*self._probe())
        return self._engine

    def _probe(self) -> tuple[str, tuple[bytes, str] | None]:
        if self._dialect in ("oxigraph", "virtuoso"):
            return self._dialect, None  # their default graph is known: nothing to ask
        try:
            response = self.session.get(self.query_url, timeout=(5, self.timeout),
                                        headers={"Accept": DESCRIPTION_ACCEPT})
        except requests.RequestException as exc:
            raise StoreError(f"remote store at {self.query_url} is unreachable: "
                             f"{type(exc).__name__}") from None
        dialect = self._dialect or dialect_of(response.headers.get("Server", ""))
        if not response.ok:
            return dialect, None
        return dialect, (response.content, response.headers.get("Content-Type", ""))

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, url, timeout=(5, self.timeout), **kwargs)
        except requests.Timeout:
            raise StoreError(f"remote store at {url} did not answer within "
                             f"{self.timeout:g} s") from None
        except requests.RequestException as exc:
            raise StoreError(f"remote store at {url} is unreachable: "
                             f"{type(exc).__name__}") from None
        if response.status_code >= 400:
            raise remote_error(response)
        return response

    # -- reading ----------------------------------------------------------------------
    def query(self, sparql: str, *, union_default: bool = True,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None,
              substitutions: Substitutions | None = None,
              base_iri: str | None = None) -> QueryResult:
        info = analyse(sparql, "query")
        form = info.form
        clauses = info.dataset_keywords() & {"FROM", "FROM NAMED"}
        if substitutions:
            sparql = bind_values(sparql, substitutions, form)
        if base_iri:
            sparql = f"BASE <{base_iri}>\n{sparql}"
        data = [("query", sparql), *dataset_params(
            self.engine, union=union_default, default_graphs=default_graphs,
            named_graphs=named_graphs, clauses=clauses, graphs=self.named_graphs)]
        graph_form = form in ("construct", "describe")
        response = self._send("POST", self.query_url, data=data,
                              headers={"Accept": GRAPH_ACCEPT if graph_form else RESULTS_ACCEPT})
        if graph_form:
            return _as_query_triples(response.content)
        return self._solutions(response, form)

    def _solutions(self, response: requests.Response, form: str | None) -> QueryResult:
        kind = response.headers.get("Content-Type", "")
        fmt = QueryResultsFormat.XML if "xml" in kind else QueryResultsFormat.JSON
        try:
            result = parse_query_results(response.content, fmt)
        except SyntaxError as exc:
            raise StoreError(f"remote store sent unreadable results: {exc}") from None
        if form == "ask" and not isinstance(result, bool) and hasattr(result, "variables"):
            return ask_from_rows(result)
        if only_fake_column(result):
            return without_columns(result)
        return result

    def _select(self, sparql: str, form: str = "select") -> Any:
        """An internal query sent without dataset parameters (the engine's defaults).

        These read the data itself (``quads()``, ``dump()``...), so an answer the remote
        says it cut short (a BorderKG's ``X-BorderKG-Truncated``, at its ``max_rows``) is
        an error rather than a silently partial dump.
        """
        response = self._send("POST", self.query_url, data={"query": sparql},
                              headers={"Accept": RESULTS_ACCEPT})
        if response.headers.get(TRUNCATED, "").lower() == "true":
            limit = response.headers.get("X-BorderKG-Row-Limit", "?")
            raise StoreError(f"remote store at {self.query_url} cut its answer at {limit} "
                             "rows (its max_rows): raise that limit to read the data whole")
        result = self._solutions(response, form)
        return bool(result) if form == "ask" else list(solutions(result))

    def quads(self, subject: Any = None, predicate: Any = None, obj: Any = None,
              graph: Any = None) -> Iterator[Quad]:
        terms = [_term(subject, "?s"), _term(predicate, "?p"), _term(obj, "?o")]
        pattern = " ".join(terms)
        graph_term = graph.value if isinstance(graph, NamedNode) else graph
        own = self._own_default_group(pattern)
        if isinstance(graph_term, DefaultGraph) or graph_term == "":
            if own is None:
                return iter(self._graph_store_default(subject, predicate, obj))
            rows = self._select(f"SELECT * WHERE {own}")
            return (_quad(row, terms, DefaultGraph()) for row in rows)
        if graph_term is not None:
            rows = self._select(f"SELECT * WHERE {{ GRAPH <{graph_term}> {{ {pattern} }} }}")
            return (_quad(row, terms, NamedNode(graph_term)) for row in rows)
        named = f"{{ GRAPH ?g {{ {pattern} }} {self._hide_filter('?g')} }}"
        where = named if own is None else f"{own} UNION {named}"
        rows = self._select(f"SELECT * WHERE {{ {where} }}")
        found = (_quad(row, terms, row["g"] or DefaultGraph()) for row in rows)
        if own is None:
            return itertools.chain(self._graph_store_default(subject, predicate, obj), found)
        return found

    def _own_default_group(self, pattern: str) -> str | None:
        """A group matching ``pattern`` in the store's own default graph under the engine's
        defaults, or None when SPARQL cannot reach that graph (``_graph_store_default``).

        Where the engine's default graph is its own (Oxigraph server, most engines) that
        is the pattern itself. Where it is the union of all graphs and no Graph Store URL
        is configured, the own default graph is approximated as the union's triples found
        in no named graph: a triple stored both in the default graph and in a named graph
        is then seen in the named graph only (docs/backends.md).
        """
        if not self.engine.union_by_default:
            return f"{{ {pattern} }}"
        if self.dialect == "virtuoso" or self.graph_store_url:
            return None
        return f"{{ {pattern} FILTER NOT EXISTS {{ GRAPH ?named {{ {pattern} }} }} }}"

    def _graph_store_default(self, subject: Any, predicate: Any, obj: Any) -> list[Quad]:
        """The own default graph's quads matching the pattern, read whole with the Graph
        Store Protocol's ``?default`` (nothing on Virtuoso, which has no such graph)."""
        if self.dialect == "virtuoso" or not self.graph_store_url:
            return []
        response = self._send("GET", self.graph_store_url, params={"default": ""},
                              headers={"Accept": GRAPH_ACCEPT})
        scratch = _scratch_store(response.content)
        return list(scratch.quads_for_pattern(_node(subject), _node(predicate), _node(obj),
                                              DefaultGraph()))

    def _hide_filter(self, var: str) -> str:
        hidden = [STAGING, *(VIRTUOSO_SYSTEM if self.dialect == "virtuoso" else ())]
        tests = " && ".join(f'!STRSTARTS(STR({var}), "{prefix}")' for prefix in hidden)
        return f"FILTER({tests})"

    def named_graphs(self) -> list[str]:
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                            f"{self._hide_filter('?g')} }}")
        return sorted(row["g"].value for row in rows)

    def count(self, graph: str | None = None) -> int:
        if graph:
            return self._count(f"GRAPH <{graph}> {{ ?s ?p ?o }}")
        own = self._own_default_group("?s ?p ?o")
        own_count = len(self._graph_store_default(None, None, None)) if own is None else 0
        if graph == "":
            return own_count if own is None else self._count(own)
        named = f"{{ GRAPH ?g {{ ?s ?p ?o }} {self._hide_filter('?g')} }}"
        return own_count + self._count(named if own is None else f"{own} UNION {named}")

    def _count(self, where: str) -> int:
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0]["n"].value)

    def contains_graph(self, graph: str) -> bool:
        return bool(self._select(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", "ask"))

    def dump(self, output: IO[bytes], fmt: RdfFormat, graph: str | None = None) -> None:
        if graph is None:
            serialize(self.quads(), output, fmt)
        else:
            triples = (q.triple for q in self.quads(graph=graph))
            serialize(triples, output, fmt)

    # -- writing ----------------------------------------------------------------------
    def update(self, sparql: str, *, base_iri: str | None = None,
               union_default: bool = False) -> None:
        """Send ``sparql``; with ``union_default``, operations without their own dataset
        get ``USING``/``USING NAMED`` for each named graph, so their WHERE matches the
        named graphs' merge (the endpoint's update has no union option)."""
        if union_default and not analyse(sparql, "update").dataset_keywords():
            graphs = self.named_graphs()
            sparql = add_using(sparql, graphs, graphs)
        if base_iri:
            sparql = f"BASE <{base_iri}>\n{sparql}"
        with self.write_lock:
            try:
                if self.dialect == "virtuoso" and has_insert_data(sparql):
                    self._virtuoso_update(sparql, base_iri)
                else:
                    self._send("POST", self.update_url, data={"update": sparql})
            finally:
                self._bump()

    def _virtuoso_update(self, sparql: str, base_iri: str | None) -> None:
        """Virtuoso refuses blank nodes in INSERT DATA and large update texts: each
        INSERT DATA operation is parsed here (its quad data is TriG) and sent in batches;
        the other operations are sent as they are, in order."""
        prologue, operations = split_update(sparql)
        pending: list[str] = []
        for operation in operations:
            data = insert_data_body(operation)
            if data is None:
                pending.append(operation)
                continue
            if pending:
                self._send("POST", self.update_url,
                           data={"update": prologue + " ;\n".join(pending)})
                pending = []
            try:
                quads = parse(trig_prefixes(prologue) + data, RdfFormat.TRIG, base_iri=base_iri)
                # quads with blank nodes first, so that they share a batch (and identities)
                self._insert(iter(sorted(quads, key=lambda q: not has_blank(q))))
            except SyntaxError as exc:
                raise QuerySyntaxError(f"update syntax error in INSERT DATA: {exc}") from None
        if pending:
            self._send("POST", self.update_url, data={"update": prologue + " ;\n".join(pending)})

    def load(self, source: Source, fmt: RdfFormat, graph: str | None = None,
             base_iri: str | None = None) -> None:
        data = open_source(source)
        try:
            if self.graph_store_url and self.dialect != "virtuoso":
                self._post_graph_store(data, fmt, graph, base_iri)
                return
            stream = io.BytesIO(data) if isinstance(data, bytes) else data
            try:
                quads = parse(stream, fmt, base_iri=base_iri)
                target = NamedNode(graph) if graph else None
                self._insert(q if target is None else Quad(q.subject, q.predicate, q.object,
                                                            target) for q in quads)
            except SyntaxError as exc:
                raise BadRequest(f"RDF syntax error: {exc}") from None
        finally:
            if hasattr(data, "close"):
                data.close()

    def _post_graph_store(self, data: Any, fmt: RdfFormat, graph: str | None,
                          base_iri: str | None) -> None:
        """POST ``data`` to the Graph Store; with a base IRI it is resolved here first,
        since the protocol has no way to pass one and the peer would resolve relative
        IRIs against its own request URL."""
        params = {"graph": graph} if graph else ({} if fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG)
                                                 else {"default": ""})
        body = None
        if base_iri is not None and fmt not in (RdfFormat.N_TRIPLES, RdfFormat.N_QUADS):
            body = data = _resolved(data, fmt, base_iri)
            fmt = RdfFormat.N_QUADS if fmt.supports_datasets else RdfFormat.N_TRIPLES
        try:
            with self.write_lock:
                try:
                    self._send("POST", str(self.graph_store_url), params=params,
                               data=_chunks(data), headers={"Content-Type": MEDIA_TYPES[fmt]})
                finally:
                    self._bump()
        finally:
            if body is not None:
                body.close()

    def extend(self, quads: Iterable[Quad]) -> None:
        self._insert(iter(quads))

    def _insert(self, quads: Iterator[Quad]) -> None:
        """Insert in batches; more than one batch goes through staging graphs so readers
        see all of it or nothing of it (the final ADD is one update)."""
        size = VIRTUOSO_BATCH_QUADS if self.dialect == "virtuoso" else BATCH_QUADS
        with self.write_lock:
            first = list(itertools.islice(quads, size))
            rest = list(itertools.islice(quads, size))
            try:
                if not rest:
                    if first:
                        self._send("POST", self.update_url,
                                   data={"update": self._insert_text(first)})
                    return
                self._staged_insert(itertools.chain([first, rest], _batches(quads, size)))
            finally:
                self._bump()

    def _staged_insert(self, batches: Iterable[list[Quad]]) -> None:
        run = STAGING + uuid.uuid4().hex + ":"
        staging: dict[str, str] = {}
        try:
            for batch in batches:
                moved = [Quad(q.subject, q.predicate, q.object,
                              NamedNode(staging.setdefault(_graph_key(q), run + str(len(staging)))))
                         for q in batch]
                self._send("POST", self.update_url, data={"update": self._insert_text(moved)})
            adds = [f"ADD <{s}> TO {'DEFAULT' if not g else f'<{g}>'}"
                    for g, s in staging.items()]
            self._send("POST", self.update_url, data={"update": " ;\n".join(adds)})
        finally:
            drops = " ;\n".join(f"DROP SILENT GRAPH <{s}>" for s in staging.values())
            if drops:
                self._send("POST", self.update_url, data={"update": drops})

    def _insert_text(self, quads: Sequence[Quad]) -> str:
        by_graph: dict[str, list[str]] = {}
        for q in quads:
            by_graph.setdefault(_graph_key(q), []).append(f"{q.subject} {q.predicate} {q.object} .")
        if "" in by_graph and self.dialect == "virtuoso":
            raise BadRequest("Virtuoso has no separate default graph: load into a named graph")
        blocks = "\n".join(("\n".join(lines) if not g else f"GRAPH <{g}> {{\n" + "\n".join(lines)
                            + "\n}") for g, lines in by_graph.items())
        if self.dialect == "virtuoso":
            # Virtuoso refuses blank nodes in INSERT DATA; a template with an empty WHERE
            # inserts the same triples (with fresh blank nodes, consistent within the batch).
            return f"INSERT {{\n{blocks}\n}} WHERE {{}}"
        return f"INSERT DATA {{\n{blocks}\n}}"

    def drop_graph(self, graph: str) -> bool:
        existed = self.count(graph) > 0 if graph else self.count("") > 0
        target = f"GRAPH <{graph}>" if graph else "DEFAULT"
        if graph or self.dialect != "virtuoso":
            self.update(f"DROP SILENT {target}")
        return existed

    def clear(self) -> None:
        # Never DROP ALL: on Virtuoso it would remove the server's own system graphs.
        drops = [f"DROP SILENT GRAPH <{g}>" for g in self.named_graphs()]
        if self.dialect != "virtuoso":
            drops.append("DROP SILENT DEFAULT")
        self.update(" ;\n".join(drops))

    def close(self) -> None:
        self.session.close()


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>``, as BorderKG's own endpoints expect for writes."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def remote_auth(settings: Settings) -> requests.auth.AuthBase | None:
    """The HTTP authentication the ``remote_*`` settings ask for, if any.

    ``basic`` and ``digest`` need ``remote_user``; ``bearer`` takes ``remote_password``
    as the token (another BorderKG's ``update_token``) and ignores the user name.
    """
    scheme, password = settings.remote_auth, settings.remote_password
    if scheme == "bearer":
        if not password:
            raise ConfigError("remote_auth = bearer needs the token in remote_password")
        return BearerAuth(password)
    if not settings.remote_user:
        return None
    kind = requests.auth.HTTPDigestAuth if scheme == "digest" else requests.auth.HTTPBasicAuth
    return kind(settings.remote_user, password or "")


def remote_error(response: requests.Response) -> StoreError | BadRequest:
    """The typed error for a remote failure: the client's fault (400) or the store's (502)."""
    message = response.text.strip()[:1000] or response.reason
    if response.status_code == 400:
        if _SYNTAX.search(message):
            where = _WHERE.search(message)
            details = {"line": int(where.group(1)), "column": int(where.group(2))} if where else {}
            return QuerySyntaxError(f"remote store: syntax error: {message}", **details)
        return BadRequest(f"remote store rejected the request: {message}")
    if response.status_code in (401, 403):
        return StoreError(f"remote store refused access ({response.status_code}): check "
                          f"remote_user/remote_password/remote_auth: {message}")
    return StoreError(f"remote store failed ({response.status_code}): {message}")


_SYNTAX = re.compile(r"syntax|parse|expected|\d+:\d+", re.I)
_WHERE = re.compile(r"(\d+):(\d+)")


def _chunks(data: bytes | IO[bytes]) -> bytes | Iterator[bytes]:
    """A file's bytes as a chunk iterator (sent chunked). Handing ``requests`` the file
    itself fails once authentication is set: it then measures the body, and reads a
    gzip file's ``mode`` (an int) as a string."""
    if isinstance(data, bytes):
        return data
    return iter(lambda: data.read(1 << 16), b"")


def _resolved(data: bytes | IO[bytes], fmt: RdfFormat, base_iri: str) -> IO[bytes]:
    """``data`` parsed against ``base_iri`` and written out again as N-Triples (N-Quads
    for a dataset format), which has no relative IRIs left to resolve; spooled to disk
    past :data:`SPOOL_BYTES`. A syntax error or a bad base IRI is refused here, before
    anything reaches the peer."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    out = RdfFormat.N_QUADS if fmt.supports_datasets else RdfFormat.N_TRIPLES
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # closed by the caller
    try:
        serialize(parse(stream, fmt, base_iri=base_iri, rename_blank_nodes=True), spool, out)
    except SyntaxError as exc:
        spool.close()
        raise BadRequest(f"RDF syntax error: {exc}") from None
    except ValueError as exc:
        spool.close()
        raise BadRequest(f"cannot load: {exc}") from None
    spool.seek(0)
    return cast(IO[bytes], spool)


def _batches(quads: Iterator[Quad], size: int) -> Iterator[list[Quad]]:
    while batch := list(itertools.islice(quads, size)):
        yield batch


def _graph_key(quad: Quad) -> str:
    return quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else ""


def _term(value: Any, var: str) -> str:
    if value is None:
        return var
    return f"<{value}>" if isinstance(value, str) else str(value)


def _quad(row: Any, terms: list[str], graph: Any) -> Quad:
    s, p, o = (row[t[1:]] if t.startswith("?") else _parse_term(t) for t in terms)
    return Quad(s, p, o, graph)


def _parse_term(text: str) -> Any:
    parsed = parse_query_results(f"?x\n{text}\n", QueryResultsFormat.TSV)
    return next(iter(solutions(parsed)))["x"]


def _scratch_store(body: bytes) -> _OxStore:
    """N-Triples from the remote in a throw-away in-memory store (its default graph)."""
    scratch = _OxStore()
    try:
        scratch.load(body, RdfFormat.N_TRIPLES)
    except SyntaxError as exc:
        raise StoreError(f"remote store sent unreadable triples: {exc}") from None
    return scratch


def _node(value: Any) -> Any:
    """A pattern term as a pyoxigraph term: an IRI string becomes a ``NamedNode``."""
    return NamedNode(value) if isinstance(value, str) else value


def _as_query_triples(body: bytes) -> QueryResult:
    """Graph results as a genuine ``QueryTriples``: loaded into a scratch in-memory store
    and re-emitted, so callers and serialisers see the same type as with embedded stores."""
    return _scratch_store(body).query("CONSTRUCT WHERE { ?s ?p ?o }")
