"""``GET /reconciliation``: the article's figures checked against the official data, as JSON.

The same computation as ``borderkg reconcile`` (``graph.reconcile``), evaluated on the
current store at request time; ``?status=`` keeps one outcome.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, jsonify, request

from graph.errors import BadParameter
from graph.reconcile import GRAPH, reconcile

from .app import service

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
    response = jsonify({"results": shown, "summary": {s: counts.get(s, 0) for s in STATUSES},
                        "graph": GRAPH})
    response.headers["Cache-Control"] = "no-cache"
    return response
