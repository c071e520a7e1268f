"""Who may write: reads are open, every write needs the configured bearer token.

Writes are SPARQL Update and the Graph Store Protocol's PUT/POST/DELETE. The token is
compared in constant time (``hmac.compare_digest``) so its value cannot be guessed byte
by byte from response times. Without a configured token, writes are refused outright
(403) rather than accepted: a fresh install must never be writable by whoever can reach
it. ``allow_anonymous_writes`` exists for local experiments and is announced loudly by
``borderkg serve``.
"""
from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, Response, request

from graph.errors import Forbidden, Unauthorized
from graph.settings import Settings

from .context import service

CHALLENGE = 'Bearer realm="BorderKG"'


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def check_write(settings: Settings, authorization: str | None) -> None:
    """Raise unless a write with this Authorization header is allowed."""
    if settings.allow_anonymous_writes:
        return
    expected = settings.update_token
    if not expected:
        raise Forbidden("writes are disabled on this server: set the update token "
                        "(BORDERKG_UPDATE_TOKEN or --update-token) and send it as "
                        "'Authorization: Bearer <token>'")
    given = bearer_token(authorization)
    if given is None:
        raise Unauthorized("this request changes data: send 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized("the bearer token is not valid for writes")


def require_write() -> None:
    """``check_write`` for the current Flask request."""
    check_write(service().settings, request.headers.get("Authorization"))


def install(app: Flask) -> None:
    """Every 401 carries the challenge RFC 6750 requires, whatever raised it."""

    @app.after_request
    def _challenge(response: Response) -> Any:
        if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
            response.headers["WWW-Authenticate"] = CHALLENGE
        return response
