"""Liveness: ``/healthz`` answers when the store answers, and says how much of the seed
it holds (``seed``: complete, article missing, none), so a deployment can tell that the
article's sentences are still to be added; on the disk store with its memory copy,
``memory_copy`` says whether queries of the union default graph read the copy yet
(``ready``) or the disk while it fills (``filling``, with the merge's triples copied of
the total, which is 0 until it is counted)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from graph.store.mirror import MirroredStore

from .context import service

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    from .pages import seed_state

    svc = service()
    store = svc.store
    body: dict[str, Any] = {"status": "ok", "store": store.backend, "version": store.etag,
                            "seed": seed_state(store, store.etag)}
    if isinstance(store, MirroredStore):
        done, total = store.progress
        body["memory_copy"] = {"state": "ready" if store.ready.is_set() else "filling",
                               "quads": done, "of": total}
    return jsonify(body)
