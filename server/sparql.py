"""``/sparql``: the SPARQL 1.1 Protocol (query and update operations), to the letter.

Query: ``GET ?query=``, ``POST`` form (``application/x-www-form-urlencoded``) or ``POST``
direct (``application/sparql-query``). Update: ``POST`` form or direct
(``application/sparql-update``). The protocol's dataset parameters (``default-graph-uri``,
``named-graph-uri`` for queries; ``using-graph-uri``, ``using-named-graph-uri`` for
updates) are honoured: for queries they override FROM/FROM NAMED; for updates they may
not be combined with USING/USING NAMED/WITH in the text (400, as section 2.2.3 says).

``GET /sparql`` without a query answers with the Service Description to RDF clients and
with the query page to browsers.

Parameters are decoded strictly as UTF-8 from the raw bytes (Werkzeug's own form parsing
replaces undecodable bytes silently, which would run a different query than was sent).
"""
from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from flask import Blueprint, Response, request
from pyoxigraph import NamedNode
from werkzeug.exceptions import RequestEntityTooLarge

from graph.documents import description
from graph.errors import BadRequest, NotAcceptable, QueryTimeout, UnsupportedMediaType
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS, Format
from graph.sparql import policy as guard
from graph.sparql.cache import reusable
from graph.sparql.executor import ExecutedQuery, QueryRequest
from graph.sparql.policy import Admitted
from graph.sparql.results import graph_chunks
from graph.sparql.text import add_using, analyse

from . import negotiation, observability, pages
from .auth import require_write
from .clients import client_address
from .context import endpoint_url, public_root, service
from .negotiation import empty

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"
UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
QUERY_DATASET = ("default-graph-uri", "named-graph-uri")
UPDATE_DATASET = ("using-graph-uri", "using-named-graph-uri")
HTML = "text/html"


@dataclass
class Operation:
    """A protocol request reduced to what it asks: one query or update and its dataset."""

    kind: str | None  # "query", "update" or None (no operation: describe the service)
    text: str = ""
    params: dict[str, list[str]] = field(default_factory=dict)

    @property
    def format(self) -> str | None:
        """The ``format`` parameter, which overrides Accept."""
        values = self.params.get("format")
        return values[0] if values else None

    def graphs(self, name: str) -> list[str]:
        values = self.params.get(name, [])
        for value in values:
            _check_iri(name, value)
        return values


def _check_iri(parameter: str, value: str) -> None:
    try:
        NamedNode(value)
    except ValueError:
        raise BadRequest(f"{parameter} must be an absolute IRI, got {value!r}",
                         parameter=parameter) from None
    if ":" not in value:
        raise BadRequest(f"{parameter} must be an absolute IRI, got {value!r}",
                         parameter=parameter)


def decode_utf8(raw: bytes, what: str) -> str:
    """``raw`` as UTF-8, or a 400 saying where the first invalid byte is."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{what} is not valid UTF-8 (invalid byte at offset {exc.start}); "
                         "the SPARQL protocol requires UTF-8", offset=exc.start) from None


def parse_params(raw: bytes, what: str) -> dict[str, list[str]]:
    """Form/URL parameters from raw bytes, percent-decoded strictly as UTF-8."""
    text = decode_utf8(raw, what)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"{what} contains percent-encoded bytes that are not valid UTF-8; "
                         "the SPARQL protocol requires UTF-8") from None
    params: dict[str, list[str]] = {}
    for name, value in pairs:
        params.setdefault(name, []).append(value)
    return params


def read_body() -> bytes:
    """The whole request body, refusing (413) one over ``max_body_bytes`` even when it
    arrives chunked without a Content-Length: Werkzeug stops reading at the limit
    without complaint, so whether more was sent is checked by reading one byte more."""
    data = request.get_data(cache=False)
    limit = request.max_content_length
    if limit is not None and len(data) >= limit and request.content_length is None:
        if request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()
    return data


def _check_charset() -> None:
    charset = request.mimetype_params.get("charset")
    if charset is not None and charset.strip().lower() not in UTF8_NAMES:
        raise BadRequest(f"the body is declared as charset={charset}; the SPARQL protocol "
                         "requires UTF-8", parameter="charset")


def _body(what: str) -> str:
    _check_charset()
    return decode_utf8(read_body(), what)


def read_operation() -> Operation:
    """Which operation the request carries, enforcing the protocol's request shapes."""
    url_params = parse_params(request.query_string, "the query string")
    if request.method in ("GET", "HEAD"):
        if "update" in url_params:
            raise BadRequest("SPARQL Update must be sent by POST (form or "
                             f"{UPDATE}), never by GET", parameter="update")
        return _one_operation(url_params, allow_none=True)
    mimetype = request.mimetype
    if not mimetype:
        raise UnsupportedMediaType(f"POST to /sparql needs a Content-Type: {FORM}, {QUERY} "
                                   f"or {UPDATE}")
    if mimetype == FORM:
        _check_charset()
        body = parse_params(read_body(), "the form body")
        for name, values in url_params.items():
            body.setdefault(name, []).extend(values)
        return _one_operation(body, allow_none=False)
    if mimetype in (QUERY, UPDATE):
        kind = "query" if mimetype == QUERY else "update"
        for name in ("query", "update"):
            if name in url_params:
                raise BadRequest(f"with Content-Type {mimetype} the {kind} is the body; a "
                                 f"'{name}' parameter in the URL is not allowed",
                                 parameter=name)
        return Operation(kind, _body(f"the {kind} body"), url_params)
    raise UnsupportedMediaType(f"Content-Type {mimetype} is not a SPARQL protocol request; "
                               f"use {FORM}, {QUERY} or {UPDATE}")


def _one_operation(params: dict[str, list[str]], allow_none: bool) -> Operation:
    queries, updates = params.get("query", []), params.get("update", [])
    if queries and updates:
        raise BadRequest("a request carries either a query or an update, not both")
    for name, values in (("query", queries), ("update", updates)):
        if len(values) > 1:
            raise BadRequest(f"exactly one '{name}' parameter is allowed, got {len(values)}",
                             parameter=name)
    if queries:
        return Operation("query", queries[0], params)
    if updates:
        return Operation("update", updates[0], params)
    if allow_none:
        return Operation(None, "", params)
    raise BadRequest("the request has neither a 'query' nor an 'update' parameter")


def _refuse_foreign(op: Operation, names: tuple[str, ...], kind: str) -> None:
    for name in names:
        if name in op.params:
            raise BadRequest(f"{name} applies to SPARQL {('updates', 'queries')[kind == 'update']}"
                             f", not to a {kind}", parameter=name)


# -- policy -----------------------------------------------------------------------------------
def _guard(kind: str, text: str, params: dict[str, list[str]]) -> Admitted:
    """The query-safety policy (``graph.sparql.policy.admit_request``): size, shape, SERVICE, LOAD
    and dataset IRIs, decided on the same base IRI the engine is given; the answer holds
    the text the engine must run (SILENT calls the policy skipped pointed away)."""
    svc = service()
    dataset: dict[str, list[str]] = {}
    for name in (*QUERY_DATASET, *UPDATE_DATASET):
        if name in params:
            for value in params[name]:
                _check_iri(name, value)
            dataset[name] = params[name]
    return guard.admit_request(text, kind, svc.settings, svc.store,  # type: ignore[arg-type]
                               base_iri=endpoint_url(), dataset_params=dataset)


def skipped_headers(admitted: Admitted) -> dict[str, str]:
    """Response headers naming the SILENT calls the policy skipped, so a client can tell
    a skipped call's empty answer from a real one. Each IRI is written as ``<IRI>``, its
    non-ASCII characters percent-encoded (a header holds ASCII only)."""
    headers = {}
    for name, iris in (("X-BorderKG-Service-Skipped", admitted.skipped_services),
                       ("X-BorderKG-Load-Skipped", admitted.skipped_loads)):
        if iris:
            headers[name] = ", ".join(f"<{quote(iri, safe=_IRI_ASCII)}>" for iri in iris)
    return headers


#: ASCII characters an IRI may hold, kept as they are in a header
_IRI_ASCII = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '<>"{}|^`\\')


# -- queries ----------------------------------------------------------------------------------
def _negotiated(table: tuple[Format, ...], required: bool,
                op: Operation) -> tuple[Format, str]:
    """Negotiate in ``table``; when not ``required`` (the form is another), never fail."""
    try:
        return negotiation.negotiate(table, request.headers.get("Accept"), op.format)
    except NotAcceptable:
        if required:
            raise
        return table[0], table[0].media_type


def _etag(op: Operation, media_type: str, store_etag: str, union: bool) -> str:
    parts = [store_etag, op.text, media_type, str(union)]
    for name in QUERY_DATASET:
        parts += [name, *op.params.get(name, [])]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:32]


def run_query(op: Operation) -> Response:
    svc = service()
    began = time.monotonic()  # the policy's own work counts inside the time limit
    _refuse_foreign(op, UPDATE_DATASET, "query")
    admitted = _guard("query", op.text, op.params)
    info = admitted.info
    result_fmt, result_type = _negotiated(RESULT_FORMATS, info.form in ("select", "ask"), op)
    graph_fmt, graph_type = _negotiated(GRAPH_FORMATS, info.form in ("construct", "describe"),
                                     op)
    chosen = graph_type if info.form in ("construct", "describe") else result_type
    union = svc.settings.default_graph_union
    etag = _etag(op, chosen, svc.store.etag, union) \
        if request.method in ("GET", "HEAD") and reusable(op.text) else None
    if etag and request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    defaults, named = op.graphs("default-graph-uri"), op.graphs("named-graph-uri")
    protocol_dataset = "default-graph-uri" in op.params or "named-graph-uri" in op.params
    query = QueryRequest(admitted.text, result_fmt, graph_fmt, union_default=union,
                         default_graphs=defaults if protocol_dataset else None,
                         named_graphs=named if protocol_dataset else None,
                         base_iri=endpoint_url(), max_rows=svc.settings.max_rows,
                         timeout=_remaining(svc.settings.query_timeout, began),
                         client=client_address(), network=admitted.network)
    try:
        executed = svc.executor.run(query)
    except QueryTimeout:
        observability.count_timeout()
        raise
    media = result_type if executed.format is result_fmt else \
        graph_type if executed.format is graph_fmt else executed.format.media_type
    response = _answer(executed, media, etag, svc.settings.max_rows)
    response.headers.update(skipped_headers(admitted))
    return response


def _remaining(limit: float, began: float) -> float:
    """What is left of the time limit after the policy's checks (503 when nothing)."""
    left = limit - (time.monotonic() - began)
    if left <= 0:
        raise QueryTimeout(f"query stopped after its time limit of {limit:g} s (spent "
                           "checking the text)", limit_seconds=limit)
    return left


def _not_modified(etag: str) -> Response:
    response = empty(304)
    response.set_etag(etag)
    response.headers["Vary"] = "Accept"
    return response


def whole_or_streamed(body: Iterator[bytes]) -> bytes | Iterator[bytes]:
    """The body as bytes when it is one chunk, else a stream of its chunks.

    Most answers are a single chunk: sent whole they get a ``Content-Length`` and leave in
    one write instead of three chunked ones. Taking the first chunk before the response
    starts also means an error while producing it still gets its proper status.
    """
    first = next(body, b"")
    second = next(body, None)
    if second is None:
        return first
    return itertools.chain((first, second), body)


def _answer(executed: ExecutedQuery, media_type: str, etag: str | None,
            max_rows: int) -> Response:
    response = Response(whole_or_streamed(executed.body),
                        content_type=negotiation.content_type(media_type))
    response.headers["Vary"] = "Accept"
    if etag:
        response.set_etag(etag)
    if executed.truncated:
        response.headers["X-BorderKG-Truncated"] = "true"
        response.headers["X-BorderKG-Row-Limit"] = str(max_rows)
    response.headers.update(executed.headers)
    return response


# -- updates ----------------------------------------------------------------------------------
def run_update(op: Operation) -> Response:
    svc = service()
    require_write()
    _refuse_foreign(op, QUERY_DATASET, "update")
    info = analyse(op.text, "update")  # the clash with using-* is a 400 before any 403
    defaults, named = op.graphs("using-graph-uri"), op.graphs("using-named-graph-uri")
    clash = info.dataset_keywords() & {"USING", "USING NAMED", "WITH"}
    if (defaults or named) and clash:
        raise BadRequest("using-graph-uri/using-named-graph-uri may not be combined "
                         f"with {', '.join(sorted(clash))} in the update text "
                         "(SPARQL 1.1 Protocol section 2.2.3)", conflict=sorted(clash))
    admitted = _guard("update", op.text, op.params)
    text = admitted.text
    if defaults or named:
        text = add_using(text, defaults, named)
    svc.update(text, base_iri=endpoint_url(), network=admitted.network)
    response = empty(204)
    response.headers.update(skipped_headers(admitted))
    return response


# -- service description -----------------------------------------------------------------------
def describe_service(op: Operation) -> Response:
    """The Service Description to RDF clients, the query page to browsers."""
    offers = [*negotiation.offered(GRAPH_FORMATS), HTML]
    format_param = op.format
    if format_param:
        media = "text/html" if format_param.lower() == "html" else None
    else:
        media = negotiation.choose(offers, request.headers.get("Accept"))
    if media == HTML:
        return pages.query_page()
    fmt, media_type = negotiation.negotiate(GRAPH_FORMATS, request.headers.get("Accept"),
                                            format_param)
    svc = service()
    triples = description.service_description(svc.store, public_root(),
                                              svc.settings.default_graph_union,
                                              svc.settings.iri_base, cache=svc.caches.descriptions)
    body = graph_chunks(triples, fmt.engine, description.PREFIXES)  # type: ignore[arg-type]
    response = Response(body, content_type=negotiation.content_type(media_type))
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def sparql() -> Any:
    op = read_operation()
    if op.kind == "query":
        return run_query(op)
    if op.kind == "update":
        return run_update(op)
    return describe_service(op)
