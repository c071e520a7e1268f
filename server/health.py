"""Liveness: ``/healthz`` answers when the store answers."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    from .app import service

    svc = service()
    return jsonify({"status": "ok", "store": svc.store.backend, "version": svc.store.etag})
