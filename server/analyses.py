"""``/analyses/...``: relationship analyses as JSON, pictures as SVG, results written as RDF.

A thin layer over ``graph.analysis``: each endpoint parses its parameters (a bad one is a
400 naming it), takes the cached projection of the current store, calls one function and
returns its ``to_dict()``. ``POST /analyses/write`` changes the store, so it needs the
same bearer token as every other write.

Every analysis is bounded twice (``graph.analysis.bounded``): parameters past a cap
(``graph.analysis.limits``; each route's docstring lists its own) are a 400 naming the
parameter and the cap before any work, and the computation runs in a child process
killed after ``analysis_timeout`` seconds (503 ``query-timeout``), so a slow analysis
holds one request thread, waiting, and never the other clients.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from pyoxigraph import NamedNode, Variable

from graph.analysis import bounded, project, resolve
from graph.analysis.limits import MAX_LIMIT, MAX_MEMBERS, check_range
from graph.analysis.projection import INCLUDE_CHOICES, Projection, ProjectionOptions
from graph.analysis.render import MAX_RENDER_NODES, draw_svg
from graph.analysis.resolve import UnknownEntity
from graph.analysis.star import star
from graph.errors import BadParameter
from graph.sparql.admission import QUEUE_SECONDS

from . import result_pages
from .auth import require_write
from .clients import client_address
from .context import service

bp = Blueprint("analyses", __name__, url_prefix="/analyses")


@bp.before_request
def _take_slot() -> None:
    """One analysis at a time per client (four in all): each holds a request thread and a
    child process until its limit, so one client must not be able to hold them all."""
    client = client_address()
    service().analysis_slots.enter(client, wait=QUEUE_SECONDS)
    g.analysis_slot = client


@bp.teardown_request
def _give_slot(_error: BaseException | None) -> None:
    client = g.pop("analysis_slot", None)
    if client is not None:
        service().analysis_slots.leave(client)


# -- parameters ---------------------------------------------------------------------------

def _int(name: str, default: int | None, low: int | None = None,
         high: int | None = None) -> Any:
    """An integer parameter; its caps are the analysis' own (``graph.analysis.limits``),
    checked there, so the HTTP API, the CLI and Python callers share them."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be an integer, got {raw!r}", parameter=name) from None
    if low is not None and high is not None and not low <= value <= high:
        raise BadParameter(f"{name} must be between {low} and {high}", parameter=name)
    return value


def _seed() -> int:
    """The random seed: a non-negative integer below 2**32 (what every generator takes)."""
    return int(_int("seed", 0, 0, 2**32 - 1))


def _float(name: str, default: float) -> float:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a number, got {raw!r}", parameter=name) from None


def _required(name: str) -> str:
    value = request.args.get(name, "").strip()
    if not value:
        raise BadParameter(f"missing parameter {name}", parameter=name)
    return value


def _bool(name: str) -> bool:
    raw = request.args.get(name, "false").lower()
    if raw not in {"true", "false", "1", "0", "yes", "no"}:
        raise BadParameter(f"{name} must be true or false", parameter=name)
    return raw in {"true", "1", "yes"}


def _list(name: str) -> tuple[str, ...]:
    return tuple(x.strip() for raw in request.args.getlist(name) for x in raw.split(",")
                 if x.strip())


def projection() -> Projection:
    """The cached projection for the request's ``graph``, ``predicate``, ``class``,
    ``include`` and ``collapse_observations`` parameters."""
    graphs = _list("graph") or ("all",)
    choice: str | tuple[str, ...] = graphs[0] if len(graphs) == 1 and ":" not in graphs[0] \
        else graphs
    include = frozenset(_list("include"))
    if include - set(INCLUDE_CHOICES):
        raise BadParameter(f"include must name some of {', '.join(INCLUDE_CHOICES)}",
                           parameter="include")
    options = ProjectionOptions(graphs=choice, predicates=_list("predicate") or None,
                                classes=_list("class") or None, include=include,
                                collapse_observations=_bool("collapse_observations"))
    return project(service().store, options, cache=service().caches.projections)


def _timeout() -> float:
    """Seconds an analysis may compute (the ``analysis_timeout`` setting)."""
    return float(service().settings.analysis_timeout)


def _backend() -> str:
    return request.args.get("backend", "auto")


def _listing(name: str, default: int, cap: int, what: str) -> int:
    """A list-length parameter (``limit``, ``members``), capped like every list answer."""
    value = _int(name, default)
    check_range(value, 1, cap, name, what)
    return int(value)


def _json(p: Projection, body: dict[str, Any]) -> Response:
    """The answer: JSON, or a page when a browser asks (``server.result_pages``)."""
    answer = dict(body, projection=p.summary())
    if request.method == "GET" and result_pages.wants_html():
        response = Response(_page(answer), mimetype="text/html")
    else:
        response = jsonify(answer)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept")
    return response


def _page(answer: dict[str, Any]) -> str:
    from .openapi import ANALYSES

    name = request.path.removeprefix("/analyses/")
    facts, tables = result_pages.sections(answer)
    query = request.args.to_dict(flat=False)
    links = [("JSON", "?" + urlencode({**query, "format": "json"}, doseq=True))]
    if any(rule.rule == request.path + ".svg" for rule in current_app.url_map.iter_rules()):
        links.append(("picture", request.path + ".svg?" + urlencode(query, doseq=True)))
    return render_template("analysis.html", title=ANALYSES.get(name, (name,))[0],
                           facts=facts, tables=tables, links=result_pages.link_list(links),
                           parameters=[(k, ", ".join(v)) for k, v in query.items()
                                       if k != "format"])


def _svg(data: bytes) -> Response:
    return Response(data, mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"})


# -- endpoints ----------------------------------------------------------------------------

def _path_result(p: Projection) -> Any:
    return bounded.k_shortest_paths(p, _required("from"), _required("to"), k=_int("k", 3),
                                    max_length=_int("max_length", 4), timeout=_timeout())


@bp.get("/path")
def path() -> Response:
    """``from``, ``to`` (IRIs or labels), ``k`` paths of at most ``max_length`` hops.

    Caps: ``k`` at most 50, ``max_length`` at most 8.
    """
    p = projection()
    return _json(p, _path_result(p).to_dict(p))


@bp.get("/path.svg")
def path_svg() -> Response:
    """The paths of ``/analyses/path`` as a picture (same parameters and caps)."""
    p = projection()
    result = _path_result(p)
    nodes = {n for path in result.paths for n in path.nodes} or {result.source, result.target}
    edges = {e for path in result.paths for hop in path.hops for e in hop.edges}
    return _svg(draw_svg(p, nodes, sorted(edges, key=lambda e: (
        e.subject, e.predicate, e.object)), {result.source, result.target}))


def _neighbourhood(p: Projection) -> Any:
    return bounded.neighbourhood(p, _required("entity"), hops=_int("hops", 1),
                                 max_nodes=_int("max_nodes", 200), timeout=_timeout())


@bp.get("/neighbours")
def neighbours() -> Response:
    """Entities within ``hops`` of ``entity`` and the relationships among them.

    Caps: ``hops`` at most 4, ``max_nodes`` at most 2,000 (150 for the picture).
    """
    p = projection()
    return _json(p, _neighbourhood(p).to_dict(p))


@bp.get("/neighbours.svg")
def neighbours_svg() -> Response:
    """The neighbourhood of ``/analyses/neighbours`` as a picture (at most 150 nodes)."""
    p = projection()
    try:
        found = _neighbourhood(p)
    except UnknownEntity:
        return _svg(_star_svg(_required("entity")))
    return _svg(draw_svg(p, found.distances, found.edges, {found.centre}))


def _star_svg(iri: str) -> bytes:
    """The picture of a resource the projection leaves out (a claim, a sentence...):
    its direct links, so that its page too has a picture; still 404 for an IRI the
    store does not know."""
    store = service().store
    try:
        node = NamedNode(iri)
    except ValueError:
        node = None
    if node is None or not store.query("ASK { ?s ?p ?o }", substitutions={Variable("s"): node}):
        raise UnknownEntity(f"no entity named {iri!r}", parameter="entity")
    links = star(store, iri, max_nodes=min(_int("max_nodes", 40), MAX_RENDER_NODES))
    return draw_svg(links, links.nodes, links.edges, {iri})


@bp.get("/centrality")
def centrality_() -> Response:
    """The ``limit`` most central entities by ``measure`` (degree, betweenness, pagerank,
    eigenvector, closeness), computed by ``backend`` (auto, networkx, igraph).

    Caps: ``limit`` at most 1,000; betweenness ``k`` (sampled sources) at most 256, and
    betweenness is exact only up to 1,000 nodes (networkx) or 5,000 (igraph), sampled
    from 32 sources above; closeness only up to 2,000 nodes.
    """
    p = projection()
    result = bounded.centrality(p, request.args.get("measure", "pagerank"),
                                limit=_int("limit", 20), backend=_backend(), k=_int("k", None),
                                seed=_seed(), timeout=_timeout())
    return _json(p, result.to_dict(p))


@bp.get("/communities")
def communities_() -> Response:
    """Communities by ``algorithm`` (louvain, label_propagation), ``seed``, ``resolution``.

    Caps: ``limit`` (communities listed) at most 1,000, ``members`` (per community) at most
    1,000, ``resolution`` positive and at most 100.
    """
    p = projection()
    limit = _listing("limit", 50, MAX_LIMIT, "communities listed")
    members = _listing("members", 20, MAX_MEMBERS, "members listed per community")
    found = bounded.communities(p, request.args.get("algorithm", "louvain"),
                                seed=_seed(), resolution=_float("resolution", 1.0),
                                backend=_backend(), timeout=_timeout())
    return _json(p, found.to_dict(p, members=members, limit=limit))


@bp.get("/components")
def components_() -> Response:
    """Connected components, largest first.

    Caps: ``limit`` (components listed) and ``members`` (per component) at most 1,000.
    """
    p = projection()
    limit = _listing("limit", 20, MAX_LIMIT, "components listed")
    members = _listing("members", 20, MAX_MEMBERS, "members listed per component")
    found = bounded.components(p, timeout=_timeout())
    return _json(p, {"count": len(found), "components": [
        {"id": i + 1, "size": len(c), "members": [p.node_dict(n) for n in c[:members]]}
        for i, c in enumerate(found[:limit])]})


@bp.get("/connectors")
def connectors_() -> Response:
    """Articulation points and bridges, best connected first. Cap: ``limit`` at most 1,000."""
    p = projection()
    found = bounded.connectors(p, limit=_int("limit", 50), timeout=_timeout())
    return _json(p, found.to_dict(p))


@bp.get("/similar")
def similar_() -> Response:
    """Entities sharing neighbours with ``entity`` (Jaccard).

    Caps: ``limit`` at most 1,000; refused for a hub whose neighbours have more than
    1,000,000 links in all (narrow the projection instead).
    """
    p = projection()
    entity = _required("entity")
    found = bounded.similar(p, entity, limit=_int("limit", 10), timeout=_timeout())
    return _json(p, {"entity": p.node_dict(resolve(p, entity)), "measure": "jaccard",
                     "similar": [dict(p.node_dict(n), score=s) for n, s in found]})


@bp.post("/write")
def write() -> Response:
    """Compute and write scores and communities into the analyses graph (token needed).

    The caps of ``/analyses/centrality`` apply to each ``measure``; the computation has the
    analysis time limit, the write itself is one update.
    """
    require_write()
    p = projection()
    measures = _list("measure") or ("pagerank", "betweenness", "degree")
    report = bounded.write_analyses(service().store, p, measures,
                                    community_seed=_seed(), seed=_seed(),
                                    k=_int("k", None), backend=_backend(),
                                    timeout=_timeout())
    return _json(p, report.to_dict())
