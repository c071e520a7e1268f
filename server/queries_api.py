"""``/queries``: the named-query library over HTTP.

``GET /queries`` lists the library (JSON, or HTML for browsers); ``GET /queries/<name>``
runs one with its parameters from the query string, through the service's executor (so
the time limit, the row cap and the result cache apply), answering SPARQL JSON, CSV, TSV,
XML or an HTML table, by ``Accept`` or ``format=``. ``limit`` (default 100) and ``offset``
page through the rows.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, stream_with_context
from markupsafe import Markup
from pyoxigraph import Literal, NamedNode

from graph import formats
from graph.documents.resources import labels
from graph.errors import BadParameter
from graph.sparql import cube_index
from graph.sparql.executor import Deadline, ExecutedQuery, QueryRequest, materialise
from graph.sparql.named_queries import check_paging, prepare
from queries import NamedQuery, list_queries, load_query

from .context import service
from .linked_data import HTML, local_url, negotiate, term_html

bp = Blueprint("queries", __name__)
RESERVED = ("limit", "offset", "format")
ALIASES = {"html": HTML} | {n: f.media_type for f in formats.RESULT_FORMATS
                            for n in (f.name, *f.extensions)}


def describe_query(query: NamedQuery) -> dict[str, Any]:
    """The library entry of ``query`` as JSON (also the source of its OpenAPI operation)."""
    return {"name": query.name, "title": query.title, "description": query.description,
            "url": f"/queries/{query.name}",
            "params": [{"name": p.name, "type": p.type, "description": p.description,
                        "default": p.default, "example": p.example, "required": p.required}
                       for p in query.params]}


@bp.get("/queries")
def index() -> Any:
    """Every named query with its title, description and parameters."""
    media = negotiate(["application/json", HTML], request.args.get("format"),
                      {"json": "application/json", "html": HTML})
    library = [load_query(name) for name in list_queries()]
    if media == HTML:
        return render_template("queries.html", queries=library)
    return jsonify({"queries": [describe_query(q) for q in library]})


def _integer(name: str) -> int | None:
    text = request.args.get(name)
    if text is None:
        return None
    if not text.strip().lstrip("-").isdigit():
        raise BadParameter(f"{name} must be an integer, got {text!r}", parameter=name)
    return int(text)


@bp.get("/queries/<name>")
def run(name: str) -> Any:
    """Run the named query ``name`` with the parameters given in the query string."""
    svc = service()
    values = {k: v for k, v in request.args.items() if k not in RESERVED}
    limit, offset = _integer("limit"), _integer("offset")
    query, text, substitutions = prepare(name, values, limit, offset, svc.settings.max_rows)
    # JSON first: clients without a preference get data; browsers ask for text/html
    offers = [*(f.media_type for f in formats.RESULT_FORMATS), HTML]
    media = negotiate(offers, request.args.get("format"), ALIASES)
    fmt = formats.by_media_type(formats.RESULT_FORMATS,
                                "application/sparql-results+json" if media == HTML else media)
    assert fmt is not None  # negotiate() only returns what was offered
    request_ = QueryRequest(
        text=text, result_format=fmt, graph_format=formats.GRAPH_FORMATS[0],
        union_default=svc.settings.default_graph_union, substitutions=substitutions,
        max_rows=svc.settings.max_rows, timeout=svc.settings.query_timeout)
    executed = _from_index(svc, query, request_, limit, offset) or svc.executor.run(request_)
    headers = {"Vary": "Accept", **executed.headers}
    if executed.truncated:
        headers["X-BorderKG-Truncated"] = "true"
    if media == HTML:
        table = json.loads(b"".join(executed.body))
        return Response(_page(query, values, table, limit, offset), mimetype=HTML,
                        headers=headers)
    return Response(stream_with_context(executed.body), mimetype=fmt.media_type,
                    headers=headers)


def _from_index(svc: Any, query: NamedQuery, request_: QueryRequest, limit: int | None,
                offset: int | None) -> ExecutedQuery | None:
    """The answer of a Data Cube query from the observations' index (``graph.sparql.cube_index``:
    exactly the SPARQL answer, or nothing), when the store is local, its default graph is
    the union the index was read from, and the index is current (a stale one is rebuilt in
    the background while the executor answers)."""
    if svc.store.backend == "remote" or not svc.settings.default_graph_union:
        return None
    paging = check_paging(limit, offset, svc.settings.max_rows)
    solutions = cube_index.answer(svc.store, query, request_.substitutions or {}, *paging,
                                  wait=False, cache=svc.caches.observations)
    if solutions is None:
        return None
    executed = materialise(solutions, request_, Deadline(request_.timeout))
    executed.headers["X-BorderKG-Answered-By"] = "observation-index"
    return executed


#: a literal this long is prose (a quoted sentence): its column gets room to wrap in
LONG_TEXT = 80


def _cell(term: dict[str, Any] | None, names: dict[str, str]) -> dict[str, Any]:
    """One table cell: its HTML (labels for IRIs where known) and whether it is prose."""
    if term is None:
        return {"html": Markup(""), "prose": False}
    if term["type"] == "uri":
        return {"html": term_html(NamedNode(term["value"]), names), "prose": False}
    datatype = term.get("datatype")
    literal = (Literal(term["value"], language=term["xml:lang"]) if "xml:lang" in term else
               Literal(term["value"], datatype=NamedNode(datatype)) if datatype else
               Literal(term["value"]))
    return {"html": term_html(literal), "prose": len(term["value"]) >= LONG_TEXT}


def _rows(variables: list[str], bindings: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The table's cells, IRIs shown by their labels (one lookup for the whole page)."""
    iris = {b[v]["value"] for b in bindings for v in variables
            if b.get(v, {}).get("type") == "uri"}
    names = labels(service().store, iris)
    return [[_cell(b.get(v), names) for v in variables] for b in bindings]


def _page(query: NamedQuery, values: dict[str, str], table: dict[str, Any],
          limit: int | None, offset: int | None) -> str:
    variables = table["head"]["vars"]
    rows = _rows(variables, table["results"]["bindings"])
    limit, offset = limit or 100, offset or 0
    pages = {"next": urlencode({**values, "limit": limit, "offset": offset + limit})
             if len(rows) == limit else None,
             "previous": urlencode({**values, "limit": limit, "offset": max(0, offset - limit)})
             if offset else None,
             "csv": urlencode({**values, "limit": limit, "offset": offset, "format": "csv"}),
             "json": urlencode({**values, "limit": limit, "offset": offset, "format": "json"})}
    return render_template("named_query.html", query=query, values=values, variables=variables,
                           rows=rows, pages=pages, local_url=local_url)
