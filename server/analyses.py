"""``/analyses/...``: relationship analyses as JSON, pictures as SVG, results written as RDF.

A thin layer over ``graph.analysis``: each endpoint parses its parameters (a bad one is a
400 naming it), takes the cached projection of the current store, calls one function and
returns its ``to_dict()``. ``POST /analyses/write`` changes the store, so it needs the
same bearer token as every other write.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from graph.analysis import (
    centrality,
    communities,
    components,
    connectors,
    k_shortest_paths,
    neighbourhood,
    project,
    similar,
)
from graph.analysis.projection import INCLUDE_CHOICES, Projection, ProjectionOptions
from graph.analysis.rdf import write_analyses
from graph.analysis.render import render_svg, to_dot
from graph.errors import BadParameter

from .app import service
from .auth import require_write

bp = Blueprint("analyses", __name__, url_prefix="/analyses")


# -- parameters ---------------------------------------------------------------------------

def _int(name: str, default: int | None, low: int = 0, high: int = 10**9) -> Any:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be an integer, got {raw!r}", parameter=name) from None
    if not low <= value <= high:
        raise BadParameter(f"{name} must be between {low} and {high}", parameter=name)
    return value


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
    return project(service().store, options)


def _json(p: Projection, body: dict[str, Any]) -> Response:
    response = jsonify(dict(body, projection=p.summary()))
    response.headers["Cache-Control"] = "no-cache"
    return response


def _svg(data: bytes) -> Response:
    return Response(data, mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"})


# -- endpoints ----------------------------------------------------------------------------

def _path_result(p: Projection) -> Any:
    return k_shortest_paths(p, _required("from"), _required("to"), k=_int("k", 3, 1, 50),
                            max_length=_int("max_length", 4, 1, 8))


@bp.get("/path")
def path() -> Response:
    """``from``, ``to`` (IRIs or labels), ``k`` paths of at most ``max_length`` hops."""
    p = projection()
    return _json(p, _path_result(p).to_dict(p))


@bp.get("/path.svg")
def path_svg() -> Response:
    p = projection()
    result = _path_result(p)
    nodes = {n for path in result.paths for n in path.nodes} or {result.source, result.target}
    edges = {e for path in result.paths for hop in path.hops for e in hop.edges}
    return _svg(render_svg(to_dot(p, nodes, sorted(edges, key=lambda e: (
        e.subject, e.predicate, e.object)), {result.source, result.target})))


def _neighbourhood(p: Projection) -> Any:
    return neighbourhood(p, _required("entity"), hops=_int("hops", 1, 1, 4),
                         max_nodes=_int("max_nodes", 200, 1, 2000))


@bp.get("/neighbours")
def neighbours() -> Response:
    p = projection()
    return _json(p, _neighbourhood(p).to_dict(p))


@bp.get("/neighbours.svg")
def neighbours_svg() -> Response:
    p = projection()
    found = _neighbourhood(p)
    return _svg(render_svg(to_dot(p, found.distances, found.edges, {found.centre})))


@bp.get("/centrality")
def centrality_() -> Response:
    p = projection()
    result = centrality(p, request.args.get("measure", "pagerank"), limit=_int("limit", 20, 1),
                        backend=request.args.get("backend", "auto"), k=_int("k", None, 1),
                        seed=_int("seed", 0))
    return _json(p, result.to_dict(p))


@bp.get("/communities")
def communities_() -> Response:
    p = projection()
    found = communities(p, request.args.get("algorithm", "louvain"), seed=_int("seed", 0),
                        resolution=_float("resolution", 1.0),
                        backend=request.args.get("backend", "auto"))
    body = found.to_dict(p, members=_int("members", 20, 1))
    limit = _int("limit", 50, 1)
    body["communities"] = body["communities"][:limit]
    return _json(p, body)


@bp.get("/components")
def components_() -> Response:
    p = projection()
    found = components(p)
    limit, members = _int("limit", 20, 1), _int("members", 20, 1)
    return _json(p, {"count": len(found), "components": [
        {"id": i + 1, "size": len(c), "members": [p.node_dict(n) for n in c[:members]]}
        for i, c in enumerate(found[:limit])]})


@bp.get("/connectors")
def connectors_() -> Response:
    p = projection()
    return _json(p, connectors(p, limit=_int("limit", 50, 1)).to_dict(p))


@bp.get("/similar")
def similar_() -> Response:
    p = projection()
    entity = _required("entity")
    found = similar(p, entity, limit=_int("limit", 10, 1))
    from graph.analysis import resolve

    return _json(p, {"entity": p.node_dict(resolve(p, entity)), "measure": "jaccard",
                     "similar": [dict(p.node_dict(n), score=s) for n, s in found]})


@bp.post("/write")
def write() -> Response:
    """Compute and write scores and communities into the analyses graph (token needed)."""
    require_write()
    p = projection()
    measures = _list("measure") or ("pagerank", "betweenness", "degree")
    report = write_analyses(service().store, p, measures, community_seed=_int("seed", 0),
                            seed=_int("seed", 0), k=_int("k", None, 1),
                            backend=request.args.get("backend", "auto"))
    return _json(p, report.to_dict())
