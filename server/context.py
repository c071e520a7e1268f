"""What every blueprint needs from the running app: its service, the error shape, its URLs.

A leaf module: it imports Flask and ``graph`` only, never another ``server`` module, so
any of them can import it at module level (as the Flask tutorial's ``flaskr/db.py``
serves its blueprints) without the application factory, which imports them all, closing
an import cycle.

* :func:`service` -- the ``graph.service.Service`` of the current app;
* :func:`error_response` -- the one JSON shape of an error (``BorderKGError.to_dict``);
* :func:`public_root` and :func:`endpoint_url` -- the URLs clients reach the service at,
  for every link, ``Location``, base IRI and self-description it writes.
"""
from __future__ import annotations

from flask import Response, current_app, jsonify, request

from graph.errors import BorderKGError
from graph.service import Service


def service() -> Service:
    """The ``Service`` of the current app (``create_app`` puts it in the extensions)."""
    svc: Service = current_app.extensions["borderkg"]  # Flask's extensions hold Any
    return svc


def error_response(error: BorderKGError) -> Response:
    """``error`` as its JSON body and status; a 503 (and any error naming a
    ``retry_after``) says when to retry, so clients back off instead of hammering."""
    response = jsonify(error.to_dict())
    response.status_code = error.status
    retry = error.details.get("retry_after")
    if retry is not None or error.status == 503:
        response.headers["Retry-After"] = str(retry if retry is not None else 1)
    return response


def public_root() -> str:
    """The root URL clients reach this service at, ending in ``/``: the ``public_base``
    setting when set (behind a proxy), else the request's own root. X-Forwarded-* headers
    are not trusted: a client could otherwise make the service describe itself at any
    address."""
    base = service().settings.public_base
    if base:
        return base if base.endswith("/") else base + "/"
    # what request.url_root gives, without its IRI round trip (a third of a cheap request)
    return f"{request.scheme}://{request.host}{request.script_root}/"


def endpoint_url() -> str:
    """The SPARQL endpoint's URL, also the base IRI its queries and updates resolve against."""
    return public_root() + "sparql"
