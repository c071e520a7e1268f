"""The human face of the endpoint: ``/`` and the SPARQL query page.

Browsers asking ``/sparql`` for ``text/html`` (and ``/``) get a page with a query editor
(syntax highlighting written here, no CDN), the project's prefixes filled in, example
queries over the seed graph, and results as a table with download links. Everything runs
against ``/sparql`` with ``fetch``, so the page is also a worked example of the protocol.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")


def query_page() -> Response:
    """The query page (also served by ``/sparql`` to browsers)."""
    return Response(render_template("query.html"), content_type="text/html; charset=utf-8")


@bp.get("/")
def index() -> Any:
    return query_page()
