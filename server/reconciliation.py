"""``GET /reconciliation``: the article's figures checked against the official data.

The same computation as ``borderkg reconcile`` (``graph.imports.reconcile``), evaluated on the
current store at request time; ``?status=`` keeps one outcome. JSON, or a table for a
browser (Accept preferring HTML, or ``format=html``).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request

from graph.documents.resources import labels
from graph.errors import BadParameter
from graph.imports.reconcile import GRAPH, reconcile

from . import result_pages
from .context import service

bp = Blueprint("reconciliation", __name__)
STATUSES = ("consistent", "inconsistent", "unverifiable")


@bp.get("/reconciliation")
def reconciliation() -> Any:
    """Every stated figure with its status, official value, difference and reason."""
    wanted = request.args.get("status")
    if wanted is not None and wanted not in STATUSES:
        raise BadParameter(f"status must be one of {', '.join(STATUSES)}", parameter="status")
    results = reconcile(service().store)
    counts = Counter(r.status for r in results)
    shown = [r.to_dict() for r in results if wanted is None or r.status == wanted]
    summary = {s: counts.get(s, 0) for s in STATUSES}
    if result_pages.wants_html():
        response = Response(_page(shown, summary, wanted), mimetype="text/html")
    else:
        response = jsonify({"results": shown, "summary": summary, "graph": GRAPH})
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Accept")
    return response


#: the IRI-valued fields of a result the page names by label
NAMED = ("claim", "period", "region", "citizenship", "measured_by")


def _page(shown: list[dict[str, Any]], summary: dict[str, int], wanted: str | None) -> str:
    """The results as a table, IRIs by their labels, with links keeping one outcome."""
    names = labels(service().store, {r[k] for r in shown for k in NAMED
                                     if str(r.get(k) or "").startswith(("http:", "https:"))})
    rows = [{**r, **{k: result_pages.cell(r.get(k), (r.get("label") if k == "claim" else None)
                                          or names.get(r.get(k) or ""))
                     for k in NAMED}} for r in shown]
    return render_template("reconciliation.html", rows=rows, summary=summary, wanted=wanted,
                           statuses=STATUSES, graph=GRAPH)
