"""The Flask application factory.

``create_app(settings)`` wires the thin HTTP layer onto a ``graph.service.Service``:
blueprints per area (SPARQL protocol, Graph Store, pages, named queries, analyses), one
error handler turning every ``BorderKGError`` into one JSON shape, gzip for large answers
(``server.compression``, around the whole app), and nothing done at import time.
"""
from __future__ import annotations

import importlib
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from graph.errors import BorderKGError
from graph.service import Service
from graph.settings import Settings, load_settings

from .context import error_response

#: modules exposing ``bp``, a Blueprint; registered in this order
BLUEPRINTS: tuple[str, ...] = (
    "server.health",
    "server.sparql", "server.graph_store", "server.pages",
    "server.reconciliation",
    "server.linked_data",
    "server.queries_api",
    "server.search_api",
    "server.openapi",
    "server.analyses",
    "server.admin",
)


def create_app(settings: Settings | dict[str, Any] | None = None,
               service: Service | None = None) -> Flask:
    """Build the app: resolve settings, start the service, register blueprints."""
    if not isinstance(settings, Settings):
        settings = load_settings(settings or {})
    app = Flask(__name__)
    app.config["BORDERKG"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["borderkg"] = service or Service.start(settings)
    for module in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module).bp)
    register_error_handlers(app)
    importlib.import_module("server.observability").install(app)
    importlib.import_module("server.compression").install(app)
    return app


def register_error_handlers(app: Flask) -> None:
    """One handler, one JSON shape, for our errors and Werkzeug's."""

    @app.errorhandler(BorderKGError)
    def _ours(error: BorderKGError) -> Any:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        ours = BorderKGError(error.description or error.name)
        ours.status, ours.code = error.code or 500, error.name.lower().replace(" ", "-")
        response = error_response(ours)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
