"""The Flask application factory.

``create_app(settings)`` wires the thin HTTP layer onto a ``graph.service.Service``:
blueprints per area (SPARQL protocol, Graph Store, pages, named queries, analyses), one
error handler turning every ``BorderKGError`` into one JSON shape, gzip for large answers
(``server.compression``, around the whole app), and nothing done at import time.

The blueprints are imported here, statically, and import nothing back: what they share
with the app (its service, the error shape, its URLs) is in the leaf ``server.context``.
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException

from graph.errors import BorderKGError
from graph.service import Service
from graph.settings import Settings, load_settings

from . import (
    admin,
    analyses,
    compression,
    graph_store,
    health,
    linked_data,
    observability,
    openapi,
    pages,
    queries_api,
    reconciliation,
    search_api,
    sparql,
)
from .context import error_response


def create_app(settings: Settings | dict[str, Any] | None = None,
               service: Service | None = None) -> Flask:
    """Build the app: resolve settings, start the service, register blueprints."""
    if not isinstance(settings, Settings):
        settings = load_settings(settings or {})
    app = Flask(__name__)
    app.config["BORDERKG"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.extensions["borderkg"] = service or Service.start(settings)
    register_blueprints(app)
    register_error_handlers(app)
    observability.install(app)
    compression.install(app)
    return app


def register_blueprints(app: Flask) -> None:
    """Every area's blueprint, registered in this order."""
    app.register_blueprint(health.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(graph_store.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(reconciliation.bp)
    app.register_blueprint(linked_data.bp)
    app.register_blueprint(queries_api.bp)
    app.register_blueprint(search_api.bp)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(analyses.bp)
    app.register_blueprint(admin.bp)


def register_error_handlers(app: Flask) -> None:
    """One handler, one JSON shape, for our errors and Werkzeug's."""

    @app.errorhandler(BorderKGError)
    def _ours(error: BorderKGError) -> Any:
        return error_response(error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Any:
        ours = BorderKGError(error.description or error.name)
        ours.status, ours.code = error.code or 500, error.name.lower().replace(" ", "-")
        return error_response(ours)
