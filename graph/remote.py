"""A ``Store`` backed by a remote SPARQL 1.1 endpoint (Oxigraph server, Virtuoso, Fuseki...).

The rest of BorderKG must not notice the difference, so every answer is turned back into
pyoxigraph's own result objects: SELECT/ASK results are parsed with
``pyoxigraph.parse_query_results``; CONSTRUCT/DESCRIBE results are read as N-Triples into
a throw-away in-memory pyoxigraph store and re-emitted as a real ``QueryTriples``.

Engines differ; the differences handled here (and documented in docs/backends.md):

* **Default graph.** Oxigraph server keeps a separate default graph and offers the
  ``union-default-graph`` query parameter; Virtuoso's default graph is always the union
  of all graphs and it has no separate default graph to write to; other engines get the
  union emulated by naming every graph in ``default-graph-uri``.
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
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import requests
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    RdfFormat,
    Variable,
    parse,
    parse_query_results,
    serialize,
)
from pyoxigraph import Store as _OxStore

from .errors import BadParameter, BadRequest, ConfigError, QuerySyntaxError, StoreError
from .sparql_text import analyse, tokens
from .store import QueryResult, Source, Store, Substitutions, open_source, solutions

STAGING = "urn:x-borderkg:staging:"
#: graphs Virtuoso creates for itself; never shown as data
VIRTUOSO_SYSTEM = ("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#",
                   "http://localuriqaserver/", "http://www.w3.org/2002/07/owl#")
#: an IRI that names no graph: the "default graph only" of an engine without one
EMPTY_DEFAULT = "urn:x-borderkg:no-default-graph"
RESULTS_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
GRAPH_ACCEPT = "application/n-triples, text/plain;q=0.9"
BATCH_QUADS = 5_000
#: Virtuoso's SPARQL parser runs out of stack ("memory exhausted") near 5,000 template triples
VIRTUOSO_BATCH_QUADS = 1_000
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

    @classmethod
    def from_settings(cls, settings: Any) -> RemoteStore:
        """The remote store the ``remote_*`` settings describe."""
        url = settings["remote_query_url"]
        if not url:
            raise ConfigError("store 'remote' needs remote_query_url")
        auth = None
        if settings["remote_user"]:
            kind = (requests.auth.HTTPDigestAuth if settings["remote_auth"] == "digest"
                    else requests.auth.HTTPBasicAuth)
            auth = kind(settings["remote_user"], settings["remote_password"] or "")
        return cls(url, settings["remote_update_url"], settings["remote_graph_store_url"],
                   auth, timeout=max(30.0, float(settings.get("query_timeout", 10)) * 3))

    # -- HTTP -------------------------------------------------------------------------
    @property
    def dialect(self) -> str:
        """``oxigraph``, ``virtuoso`` or ``generic``, from the endpoint's Server header."""
        if self._dialect is None:
            response = self._send("GET", self.query_url,
                                  params={"query": "ASK { ?s ?p ?o }"},
                                  headers={"Accept": RESULTS_ACCEPT})
            server = response.headers.get("Server", "").lower()
            self._dialect = next((d for d in ("oxigraph", "virtuoso") if d in server),
                                 "generic")
        return self._dialect

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
        form = analyse(sparql, "query").form
        if substitutions:
            sparql = bind_values(sparql, substitutions, form)
        if base_iri:
            sparql = f"BASE <{base_iri}>\n{sparql}"
        data = [("query", sparql), *self._dataset(sparql, union_default, default_graphs,
                                                  named_graphs)]
        graph_form = form in ("construct", "describe")
        response = self._send("POST", self.query_url, data=data,
                              headers={"Accept": GRAPH_ACCEPT if graph_form else RESULTS_ACCEPT})
        if graph_form:
            return _as_query_triples(response.content)
        return self._solutions(response, form)

    def _dataset(self, sparql: str, union_default: bool, default_graphs: Sequence[str] | None,
                 named_graphs: Sequence[str] | None) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if default_graphs is not None:
            if "" in default_graphs:
                raise BadParameter("a remote store cannot name its default graph in "
                                   "default-graph-uri; name graphs by IRI")
            params += [("default-graph-uri", g) for g in default_graphs]
        elif not analyse(sparql, "query").dataset_keywords() & {"FROM", "FROM NAMED"}:
            params += self._default_graph_params(union_default)
        params += [("named-graph-uri", g) for g in named_graphs or ()]
        return params

    def _default_graph_params(self, union_default: bool) -> list[tuple[str, str]]:
        dialect = self.dialect
        if dialect == "oxigraph":
            return [("union-default-graph", "")] if union_default else []
        if dialect == "virtuoso":
            if union_default:
                # every graph, Virtuoso's system graph included (docs/backends.md): naming
                # the data graphs instead would hide the staging graphs loads go through
                return []
            # no separate default graph: an empty one, with every graph still nameable
            return [("default-graph-uri", EMPTY_DEFAULT),
                    *(("named-graph-uri", g) for g in self.named_graphs())]
        if union_default:
            return [("default-graph-uri", g) for g in self.named_graphs()]
        return []

    def _solutions(self, response: requests.Response, form: str | None) -> QueryResult:
        kind = response.headers.get("Content-Type", "")
        fmt = QueryResultsFormat.XML if "xml" in kind else QueryResultsFormat.JSON
        try:
            result = parse_query_results(response.content, fmt)
        except SyntaxError as exc:
            raise StoreError(f"remote store sent unreadable results: {exc}") from None
        if form == "ask" and not isinstance(result, bool) and hasattr(result, "variables"):
            return _ask_from_rows(result)
        if _only_fake_column(result):
            return _without_columns(result)
        return result

    def _select(self, sparql: str) -> list[Any]:
        """Rows of an internal SELECT sent without dataset parameters (engine defaults)."""
        response = self._send("POST", self.query_url, data={"query": sparql},
                              headers={"Accept": RESULTS_ACCEPT})
        return list(solutions(self._solutions(response, "select")))

    def quads(self, subject: Any = None, predicate: Any = None, obj: Any = None,
              graph: Any = None) -> Iterator[Quad]:
        terms = [_term(subject, "?s"), _term(predicate, "?p"), _term(obj, "?o")]
        pattern = " ".join(terms)
        graph_term = graph.value if isinstance(graph, NamedNode) else graph
        if isinstance(graph_term, DefaultGraph) or graph_term == "":
            if self.dialect == "virtuoso":
                return iter(())
            rows = self._select(f"SELECT * WHERE {{ {pattern} }}")
            return (_quad(row, terms, DefaultGraph()) for row in rows)
        if graph_term is not None:
            rows = self._select(f"SELECT * WHERE {{ GRAPH <{graph_term}> {{ {pattern} }} }}")
            return (_quad(row, terms, NamedNode(graph_term)) for row in rows)
        named = f"{{ GRAPH ?g {{ {pattern} }} {self._hide_filter('?g')} }}"
        if self.dialect != "virtuoso":
            named = f"{{ {pattern} }} UNION {named}"
        rows = self._select(f"SELECT * WHERE {{ {named} }}")
        return (_quad(row, terms, row["g"] or DefaultGraph()) for row in rows)

    def _hide_filter(self, var: str) -> str:
        hidden = [STAGING, *(VIRTUOSO_SYSTEM if self.dialect == "virtuoso" else ())]
        tests = " && ".join(f'!STRSTARTS(STR({var}), "{prefix}")' for prefix in hidden)
        return f"FILTER({tests})"

    def named_graphs(self) -> list[str]:
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
                            f"{self._hide_filter('?g')} }}")
        return sorted(row["g"].value for row in rows)

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            named = f"{{ GRAPH ?g {{ ?s ?p ?o }} {self._hide_filter('?g')} }}"
            where = named if self.dialect == "virtuoso" else f"{{ ?s ?p ?o }} UNION {named}"
        elif graph == "":
            if self.dialect == "virtuoso":
                return 0
            where = "?s ?p ?o"
        else:
            where = f"GRAPH <{graph}> {{ ?s ?p ?o }}"
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0]["n"].value)

    def contains_graph(self, graph: str) -> bool:
        return bool(self.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))

    def dump(self, output: IO[bytes], fmt: RdfFormat, graph: str | None = None) -> None:
        if graph is None:
            serialize(self.quads(), output, fmt)
        else:
            triples = (q.triple for q in self.quads(graph=graph))
            serialize(triples, output, fmt)

    # -- writing ----------------------------------------------------------------------
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        if base_iri:
            sparql = f"BASE <{base_iri}>\n{sparql}"
        with self.write_lock:
            try:
                if self.dialect == "virtuoso" and _has_insert_data(sparql):
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
            data = _insert_data_body(operation)
            if data is None:
                pending.append(operation)
                continue
            if pending:
                self._send("POST", self.update_url,
                           data={"update": prologue + " ;\n".join(pending)})
                pending = []
            try:
                quads = parse(_trig_prefixes(prologue) + data, RdfFormat.TRIG, base_iri=base_iri)
                # quads with blank nodes first, so that they share a batch (and identities)
                self._insert(iter(sorted(quads, key=lambda q: not _has_blank(q))))
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
                data.close()  # type: ignore[union-attr]

    def _post_graph_store(self, data: Any, fmt: RdfFormat, graph: str | None,
                          base_iri: str | None) -> None:
        params = {"graph": graph} if graph else ({} if fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG)
                                                 else {"default": ""})
        with self.write_lock:
            try:
                self._send("POST", str(self.graph_store_url), params=params, data=data,
                           headers={"Content-Type": MEDIA_TYPES[fmt]})
            finally:
                self._bump()

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


def bind_values(sparql: str, substitutions: Mapping[Any, Any], form: str | None) -> str:
    """``sparql`` with a ``VALUES`` block binding ``substitutions`` at the start of its
    WHERE group: the remote equivalent of pyoxigraph's ``substitutions`` (parameters are
    bound as RDF terms, never spliced in as text)."""
    names = [k.value if isinstance(k, Variable) else str(k).lstrip("?$") for k in substitutions]
    values = " ".join(str(v) for v in substitutions.values())
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({values}) }} "
    at = _where_brace(sparql, form)
    return sparql[:at + 1] + block + sparql[at + 1:]


def _where_brace(sparql: str, form: str | None) -> int:
    depth, parens, skip_template = 0, 0, form == "construct"
    seen_form = False
    for token in tokens(sparql):
        if token.upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            seen_form = True
        if token.kind != "punct" or not seen_form:
            if skip_template and token.upper == "WHERE":
                skip_template = False
            continue
        if token.text == "(":
            parens += 1
        elif token.text == ")":
            parens -= 1
        elif token.text == "{" and parens == 0:
            if depth == 0 and not skip_template:
                return token.start
            depth += 1
        elif token.text == "}" and parens == 0:
            depth -= 1
            if depth == 0:
                skip_template = False
    raise QuerySyntaxError("query has no WHERE group to bind parameters in")


def split_update(sparql: str) -> tuple[str, list[str]]:
    """The prologue (PREFIX/BASE) of an update and the text of its operations."""
    toks = list(tokens(sparql))
    i, prologue_end = 0, 0
    while i < len(toks) and toks[i].upper in ("PREFIX", "BASE"):
        i += 3 if toks[i].upper == "PREFIX" else 2
        prologue_end = toks[i].start if i < len(toks) else len(sparql)
    depth, start, operations = 0, prologue_end, []
    for token in toks[i:]:
        if token.kind != "punct":
            continue
        if token.text == "{":
            depth += 1
        elif token.text == "}":
            depth -= 1
        elif token.text == ";" and depth == 0:
            operations.append(sparql[start:token.start].strip())
            start = token.start + 1
    operations.append(sparql[start:].strip())
    return sparql[:prologue_end], [op for op in operations if op]


def _has_insert_data(sparql: str) -> bool:
    words = [t.upper for t in tokens(sparql) if t.kind == "word"]
    return any(a == "INSERT" and b == "DATA" for a, b in itertools.pairwise(words))


def _insert_data_body(operation: str) -> str | None:
    """The quad data of an ``INSERT DATA { ... }`` operation, else None."""
    toks = list(tokens(operation))
    if len(toks) < 3 or (toks[0].upper, toks[1].upper) != ("INSERT", "DATA"):
        return None
    return operation[toks[2].start + 1:operation.rindex("}")]


def _has_blank(quad: Quad) -> bool:
    return isinstance(quad.subject, BlankNode) or isinstance(quad.object, BlankNode)


def _trig_prefixes(prologue: str) -> str:
    """SPARQL PREFIX/BASE declarations in TriG syntax (SPARQL-style is valid TriG too)."""
    return prologue + "\n"


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


def _only_fake_column(result: Any) -> bool:
    """Virtuoso answers ``SELECT *`` over a pattern without variables with a made-up
    ``_star_fake`` column; SPARQL says such a solution binds nothing."""
    variables = getattr(result, "variables", None)
    return variables is not None and [v.value for v in variables] == ["_star_fake"]


def _without_columns(result: Any) -> Any:
    """The same number of solutions, binding no variable."""
    rows = sum(1 for _ in result)
    bindings = ",".join(["{}"] * rows)
    body = '{"head":{"vars":[]},"results":{"bindings":[' + bindings + ']}}'
    return parse_query_results(body, QueryResultsFormat.JSON)


def _parse_term(text: str) -> Any:
    parsed = parse_query_results(f"?x\n{text}\n", QueryResultsFormat.TSV)
    return next(iter(solutions(parsed)))["x"]


def _as_query_triples(body: bytes) -> Any:
    """Graph results as a genuine ``QueryTriples``: loaded into a scratch in-memory store
    and re-emitted, so callers and serialisers see the same type as with embedded stores."""
    scratch = _OxStore()
    try:
        scratch.load(body, RdfFormat.N_TRIPLES)
    except SyntaxError as exc:
        raise StoreError(f"remote store sent unreadable triples: {exc}") from None
    return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")


def _ask_from_rows(rows: Any) -> Any:
    """Virtuoso answers ASK with one row ``__ASK_RETVAL`` = 1/0; make it a boolean again."""
    values = [row[0] for row in rows]
    truth = bool(values) and values[0] is not None and values[0].value not in ("0", "false")
    return parse_query_results('{"head":{},"boolean":%s}' % ("true" if truth else "false"),
                               QueryResultsFormat.JSON)
