"""``GET /search?q=``: ranked search over labels and sentences, as JSON or an HTML page."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request

from graph.errors import BadParameter
from graph.search import index_for

from .app import service
from .linked_data import HTML, compact, local_url, negotiate

bp = Blueprint("search", __name__)
MAX_LIMIT = 100


def _limit() -> int:
    text = request.args.get("limit", "20")
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(f"limit must be an integer from 1 to {MAX_LIMIT}", parameter="limit")
    return int(text)


@bp.get("/search")
def search() -> Any:
    """Resources whose label or sentence text matches ``q`` (case and accents ignored)."""
    query = request.args.get("q", "")
    if len(query) > 200:
        raise BadParameter("q must be at most 200 characters", parameter="q")
    limit = _limit()
    media = negotiate(["application/json", HTML], request.args.get("format"),
                      {"json": "application/json", "html": HTML})
    svc = service()
    hits = index_for(svc.store, svc.extras).search(query, limit) if query.strip() else []
    if media == HTML:
        return render_template("search.html", query=query, search_query=query, hits=hits,
                               local_url=local_url, compact=compact)
    return jsonify({"query": query, "results": [
        {**h.to_dict(), "url": local_url(h.iri)} for h in hits]})
