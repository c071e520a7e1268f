"""``GET /search?q=``: ranked search with facets, as JSON or an HTML page.

Filters ``type=`` (an IRI or a prefixed name such as ``bkg:Country``) and ``graph=`` may
be repeated; a resource passes when it has one of the types and a match in one of the
graphs. The blueprint also points the SPARQL functions ``bkgfn:matches``/``bkgfn:score``
at the service's store when it is registered, before any query worker is forked.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, jsonify, render_template, request
from flask.blueprints import BlueprintSetupState

from graph.documents.search import SearchIndex, attach, index_for
from graph.errors import BadParameter
from graph.service import Service

from .context import service
from .linked_data import HTML, PREFIXES, compact, local_url, negotiate

bp = Blueprint("search", __name__)
MAX_LIMIT = 100
MAX_QUERY = 200
#: ``format=`` names for the media types offered
FORMATS = {"json": "application/json", "html": HTML}


def index_directory(svc: Service) -> Path | None:
    """Where the index file lives: the data directory for the disk store; None (in
    memory) otherwise."""
    return svc.settings.data_path if svc.store.backend == "disk" else None


def current_index(svc: Service) -> SearchIndex:
    """The index of the service's store as it is now."""
    return index_for(svc.store, svc.extras, index_directory(svc))


@bp.record_once
def _attach_functions(state: BlueprintSetupState) -> None:
    svc: Service = state.app.extensions["borderkg"]
    attach(svc.store, svc.extras, index_directory(svc))


def _limit() -> int:
    text = request.args.get("limit", "20")
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(f"limit must be an integer from 1 to {MAX_LIMIT}", parameter="limit")
    return int(text)


def expand(name: str) -> str:
    """The IRI of a type given as an IRI or as a prefixed name of the prefix table."""
    prefix, colon, local = name.partition(":")
    if colon and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return name


@bp.get("/search")
def search() -> Any:
    """Resources whose labels or sentence text match ``q``, with facets by type and graph."""
    query = request.args.get("q", "")
    if len(query) > MAX_QUERY:
        raise BadParameter(f"q must be at most {MAX_QUERY} characters", parameter="q")
    limit = _limit()
    types = [expand(t) for t in request.args.getlist("type") if t]
    graphs = [g for g in request.args.getlist("graph") if g]
    media = negotiate(list(FORMATS.values()), request.args.get("format"), FORMATS)
    svc = service()
    result = current_index(svc).search(query, limit, types, graphs) if query.strip() else None
    if media == HTML:
        return render_template("search.html", query=query, search_query=query, result=result,
                               types=types, graphs=graphs, facet_url=facet_url,
                               local_url=local_url, compact=compact)
    body: dict[str, Any] = result.to_dict() if result else {
        "query": query, "total": 0, "corrections": {}, "results": [],
        "facets": {"type": [], "graph": []}}
    for hit in body["results"]:
        hit["url"] = local_url(hit["iri"])
    return jsonify({**body, "filters": {"type": types, "graph": graphs}})


def facet_url(query: str, types: list[str], graphs: list[str], name: str, value: str) -> str:
    """The search page with facet ``name`` set to ``value`` (or cleared when it is set)."""
    chosen = {"type": list(types), "graph": list(graphs)}
    chosen[name] = [] if value in chosen[name] else [value]
    pairs = [("q", query)] + [(k, v) for k in ("type", "graph") for v in chosen[k]]
    return "/search?" + urlencode(pairs)
