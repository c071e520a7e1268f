"""``/graph-store``: the SPARQL 1.1 Graph Store HTTP Protocol.

Graphs are identified two ways (protocol section 4):

* **indirectly**: ``/graph-store?default`` (the store's own default graph — never the
  union that queries see) and ``/graph-store?graph=<IRI>`` (any named graph);
* **directly**: ``/graph-store/<path>`` names the graph ``{iri_base}graph/<path>``, so
  ``/graph-store/ontology`` is ``https://w3id.org/borderkg/graph/ontology``. BorderKG's
  graph IRIs dereference to this server, and this keeps the mapping one prefix swap.
  Given as ``?graph=``, such a URL of this service names the same graph as the path.

``/graph-store`` with neither parameter is the whole dataset: GET dumps every quad (TriG,
N-Quads or JSON-LD), PUT replaces everything, POST of a dataset format adds quads, and
POST of a graph format creates a new graph ``{iri_base}graph/uploads/<id>`` (201 with its
Location, ``/graph-store/uploads/<id>``), as the protocol's "POST to the graph store"
requires; ``GET <Location>`` and ``GET ?graph=<Location>`` both return it.

GET streams: the store writes the graph on a thread of its own (``graph.sparql.results.pushed``)
as fast as the client reads it, so a large graph is never held whole in memory; a graph
of one chunk leaves whole, with its Content-Length. ``If-None-Match`` compares weakly,
so the weak ETag of a gzip-encoded answer (``server.compression``) revalidates too.

Writes need the bearer token (``server.auth``). Every upload is checked
(``graph.store.upload_safety``) and parsed completely before anything is written, so a syntax
error (400 with line and column) writes nothing; PUT drops and inserts in one SPARQL
update, so a failure leaves the old graph intact and readers never see it half replaced.
"""
from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from flask import Blueprint, Response, request
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, RdfFormat, parse
from werkzeug.formparser import FormDataParser

from graph.errors import BadRequest, NotFound, UnsupportedMediaType
from graph.formats import DATASET_FORMATS, GRAPH_FORMATS, Format, by_media_type, for_path
from graph.service import Service
from graph.sparql.results import pushed, whole_or_resumed
from graph.store import upload_safety as rdf_safety

from . import negotiation
from .auth import require_write
from .context import public_root, service
from .negotiation import empty
from .sparql import parse_params, read_body

bp = Blueprint("graph_store", __name__)

TRIPLE_FORMATS = GRAPH_FORMATS[:4]
METHODS = ["GET", "PUT", "POST", "DELETE"]


@dataclass(frozen=True)
class Target:
    """What a request addresses: the default graph, one named graph, or the dataset."""

    kind: str  # "default", "named" or "dataset"
    iri: str = ""

    @property
    def description(self) -> str:
        return {"default": "the default graph", "dataset": "the dataset"}.get(
            self.kind, f"graph <{self.iri}>")

    @property
    def formats(self) -> tuple[Format, ...]:
        return DATASET_FORMATS if self.kind == "dataset" else TRIPLE_FORMATS


def _service() -> Service:
    return service()


def direct_iri(path: str) -> str:
    """The graph a ``/graph-store/<path>`` request names, or a 400 when it is no IRI."""
    iri = _service().settings.iri_base + "graph/" + path
    problem = iri_problem(iri)
    if problem:
        raise BadRequest(f"the path names the graph {_shown(iri)}, which is not a valid IRI: "
                         f"{problem}; percent-encode the path as the graph's IRI needs, "
                         "then once more for the URL", path=_shown(path))
    return iri


def location(iri: str) -> str:
    """The URL of the Graph Store resource for ``iri`` (direct when under our base)."""
    prefix = _service().settings.iri_base + "graph/"
    if iri.startswith(prefix):
        return public_root() + "graph-store/" + quote(iri[len(prefix):], safe="/")
    return public_root() + "graph-store?graph=" + quote(iri, safe="")


def target(path: str | None) -> Target:
    """The target of this request, from its path or its query string."""
    params = parse_params(request.query_string, "the query string")
    if path is not None:
        if "graph" in params or "default" in params:
            raise BadRequest("a directly identified graph takes no 'graph' or 'default' "
                             "parameter")
        return Target("named", direct_iri(path))
    if "graph" in params and "default" in params:
        raise BadRequest("give either 'default' or 'graph', not both")
    if "default" in params:
        return Target("default")
    if "graph" in params:
        values = params["graph"]
        if len(values) != 1:
            raise BadRequest("exactly one 'graph' parameter is allowed", parameter="graph")
        return Target("named", _identified(_absolute(values[0])))
    return Target("dataset")


def _identified(iri: str) -> str:
    """The graph ``?graph=<iri>`` names: ``iri``, unless ``iri`` is one of this service's
    own ``/graph-store/<path>`` URLs, which names the graph that path identifies.

    The ``Location`` of a graph made by POST is such a URL, and the protocol has clients
    use it as the graph's IRI (``GET ?graph=<Location>``) as well as its URL (``GET
    <Location>``); read this way, both identifications of a graph agree. A URL with a
    query or fragment is no direct identification and is taken as it is.
    """
    own = public_root() + "graph-store/"
    rest = iri[len(own):] if iri.startswith(own) else ""
    if not rest or "?" in rest or "#" in rest:
        return iri
    return direct_iri(unquote(rest))


def _absolute(iri: str) -> str:
    problem = iri_problem(iri)
    if problem:
        raise BadRequest(f"'graph' must be an absolute IRI, got {_shown(iri)}: {problem}",
                         parameter="graph")
    return iri


#: what SPARQL's IRIREF production excludes; a graph IRI must never hold one of these
_NOT_IN_IRIREF = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def iri_problem(iri: str) -> str | None:
    """Why ``iri`` cannot name a graph, or None when it can.

    Two checks that must both pass: the engine's own IRI parser (an absolute IRI, valid
    percent-escapes, no lone surrogates) and SPARQL's IRIREF grammar, so that no graph IRI
    accepted here could ever end an IRI early in a SPARQL text or an RDF document.
    """
    bad = _NOT_IN_IRIREF.search(iri)
    if bad:
        return f"it holds {bad.group()!r}, which no IRI may contain unescaped"
    try:
        NamedNode(iri)
    except ValueError as exc:  # UnicodeEncodeError (a lone surrogate) is a ValueError
        reason = "it holds a lone surrogate" if isinstance(exc, UnicodeError) else str(exc)
        return reason[:200]
    return None


def _shown(value: str) -> str:
    """``value`` for a message: escaped (control characters, surrogates) and bounded."""
    shown = ascii(value)
    return shown if len(shown) <= 200 else shown[:197] + "..."


def _exists(store: Any, where: Target) -> bool:
    return where.kind != "named" or store.contains_graph(where.iri)


def _missing(where: Target) -> NotFound:
    return NotFound(f"no {where.description} in the store", graph=where.iri)


# -- reading ---------------------------------------------------------------------------------
def get(where: Target) -> Response:
    store = _service().store
    if not _exists(store, where):
        raise _missing(where)
    params = parse_params(request.query_string, "the query string")
    fmt, media_type = negotiation.negotiate(where.formats, request.headers.get("Accept"),
                                            params["format"][0] if "format" in params else None)
    etag = hashlib.sha256(f"{store.etag}\x00{where}\x00{fmt.name}".encode()).hexdigest()[:32]
    if request.if_none_match.contains_weak(etag):
        response = empty(304)
    else:
        graph = None if where.kind == "dataset" else where.iri
        engine = fmt.engine
        assert isinstance(engine, RdfFormat)  # a target's formats are the graph/dataset ones
        chunks = pushed(lambda output: store.dump(output, engine, graph), "borderkg-graph")
        response = Response(whole_or_resumed(chunks),
                            content_type=negotiation.content_type(media_type))
    response.set_etag(etag)
    response.headers["Vary"] = "Accept"
    return response


# -- parsing uploads -------------------------------------------------------------------------
@dataclass
class Payload:
    """One uploaded document: its bytes, format and a name for messages."""

    data: bytes
    format: Format
    name: str


def _format_of(media_type: str | None, filename: str | None, allowed: tuple[Format, ...],
               what: str) -> Format:
    fmt = by_media_type(allowed, media_type) if media_type else None
    if fmt is None and filename and (not media_type or media_type in (
            "application/octet-stream", "text/plain")):
        guessed = for_path(filename)
        fmt = guessed if guessed in allowed else None
    if fmt is None:
        offered = ", ".join(f.media_type for f in allowed)
        raise UnsupportedMediaType(f"{what}: Content-Type {media_type or '(none)'} is not an "
                                   f"RDF format accepted here; use one of {offered}",
                                   offered=[f.media_type for f in allowed])
    return fmt


def payloads(allowed: tuple[Format, ...]) -> list[Payload]:
    """The uploaded documents: the body, or each file of a multipart/form-data POST."""
    if request.mimetype == "multipart/form-data":
        data = read_body()
        _, _, parts = FormDataParser().parse(io.BytesIO(data), request.mimetype, len(data),
                                             request.mimetype_params)
        files = [f for key in parts for f in parts.getlist(key)]
        if not files:
            raise BadRequest("the multipart/form-data body holds no file parts")
        return [Payload(f.read(), _format_of(f.mimetype, f.filename, allowed,
                                             f"part {f.filename or f.name!r}"),
                        f.filename or f.name or "part") for f in files]
    fmt = _format_of(request.mimetype, None, allowed, "the request body")
    return [Payload(read_body(), fmt, "the request body")]


def parse_payload(payload: Payload, graph: str | None, base_iri: str) -> list[Quad]:
    """Every quad of ``payload`` (triples go to ``graph``: ``""`` default, None as parsed),
    or a 400 with line and column; nothing is written here."""
    rdf_safety.check_upload(payload.data, payload.format)
    node = None if graph is None else (NamedNode(graph) if graph else DefaultGraph())
    try:
        engine = payload.format.engine
        quads = list(parse(payload.data, engine, base_iri=base_iri))  # type: ignore[arg-type]
    except SyntaxError as exc:
        details = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], tuple) else ()
        line, column = (details[1], details[2]) if len(details) > 2 else (None, None)
        raise BadRequest(f"{payload.name} is not valid {payload.format.name}: {exc.msg}",
                         line=line, column=column, format=payload.format.name) from None
    if node is None:
        return quads
    return [Quad(q.subject, q.predicate, q.object, node) for q in quads]


# -- writing ---------------------------------------------------------------------------------
def _term_block(quads: Iterable[Quad]) -> str:
    """Quads as INSERT DATA content: default-graph triples, then GRAPH blocks.

    Every term is written by pyoxigraph (``str`` of a term is its N-Triples form, escaped
    as SPARQL reads it), never spliced from request text.
    """
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        if isinstance(q.graph_name, BlankNode):
            raise BadRequest("a dataset replaced by PUT cannot have graphs named by blank "
                             "nodes (SPARQL cannot write them); name each graph with an IRI")
        key = "" if isinstance(q.graph_name, DefaultGraph) else str(q.graph_name)
        by_graph.setdefault(key, []).append(f"{q.subject} {q.predicate} {q.object} .")
    blocks = ["\n".join(by_graph.pop("", []))]
    blocks += [f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items()]
    return "\n".join(blocks)


def _drop(where: Target) -> str:
    """The DROP that empties the target; a named graph's IRI is written by pyoxigraph."""
    if where.kind == "named":
        return f"DROP SILENT GRAPH {NamedNode(where.iri)}"
    return "DROP SILENT DEFAULT" if where.kind == "default" else "DROP SILENT ALL"


def replace(where: Target, quads: list[Quad]) -> None:
    """Drop the target and insert ``quads`` in one SPARQL update: all or nothing.

    A SPARQL update is the one all-or-nothing write every backend offers (a remote store
    has nothing else), so the text is built here, from pyoxigraph's terms only.
    """
    _service().store.update(f"{_drop(where)} ;\nINSERT DATA {{\n{_term_block(quads)}\n}}")


def put(where: Target) -> Response:
    require_write()
    store = _service().store
    existed = _exists(store, where)
    base = where.iri or _service().settings.iri_base
    graph = None if where.kind == "dataset" else where.iri
    quads = [q for p in payloads(where.formats) for q in parse_payload(p, graph, base)]
    replace(where, quads)
    return empty(204 if existed else 201)


def post(where: Target) -> Response:
    require_write()
    store = _service().store
    if where.kind == "dataset":
        return _post_to_dataset()
    existed = _exists(store, where)
    base = where.iri or _service().settings.iri_base
    quads = [q for p in payloads(where.formats) for q in parse_payload(p, where.iri, base)]
    store.extend(quads)
    if existed:
        return empty(204)
    return _created(where.iri)


def _post_to_dataset() -> Response:
    """Dataset formats add their quads; graph formats become one new graph (201)."""
    settings = _service().settings
    uploads = payloads((*DATASET_FORMATS, *TRIPLE_FORMATS))
    new_graph = f"{settings.iri_base}graph/uploads/{uuid.uuid4().hex}"
    quads: list[Quad] = []
    creates = False
    for payload in uploads:
        as_graph = payload.format not in DATASET_FORMATS
        creates = creates or as_graph
        quads += parse_payload(payload, new_graph if as_graph else None,
                               new_graph if as_graph else settings.iri_base)
    _service().store.extend(quads)
    return _created(new_graph) if creates else empty(204)


def _created(iri: str) -> Response:
    response = empty(201)
    response.headers["Location"] = location(iri)
    return response


def delete(where: Target) -> Response:
    require_write()
    store = _service().store
    if where.kind == "dataset":
        raise BadRequest("DELETE needs a graph: '?default', '?graph=<IRI>' or a graph path; "
                         "to empty the whole store send the SPARQL update DROP ALL")
    if not store.drop_graph(where.iri) and where.kind == "named":
        raise _missing(where)
    return empty(204)


HANDLERS = {"GET": get, "HEAD": get, "PUT": put, "POST": post, "DELETE": delete}


@bp.route("/graph-store", methods=METHODS)
def indirect() -> Response:
    return HANDLERS[request.method](target(None))


@bp.route("/graph-store/<path:path>", methods=METHODS)
def direct(path: str) -> Response:
    return HANDLERS[request.method](target(path))
