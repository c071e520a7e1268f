"""Liveness: ``/healthz`` answers when the store answers, and says how much of the seed
it holds (``seed``: complete, article missing, none), so a deployment can tell that the
article's sentences are still to be added."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    from .app import service
    from .pages import seed_state

    svc = service()
    store = svc.store
    return jsonify({"status": "ok", "store": store.backend, "version": store.etag,
                    "seed": seed_state(store, store.etag)})
