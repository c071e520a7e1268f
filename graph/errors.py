"""Typed errors that carry their HTTP status.

Raised anywhere below the HTTP layer (``graph/`` never imports Flask); the server turns
every one of them into the same JSON shape with one handler, and the CLI turns them into
one line on stderr and a non-zero exit. ``status`` is the HTTP status the protocol
requires for the situation, so the decision is made where the knowledge is.
"""
from __future__ import annotations

import re
from typing import Any


class BorderKGError(Exception):
    """Base class: a user-facing failure with an HTTP status and a stable error code."""

    status: int = 500
    code: str = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape: ``{"error": {"status", "code", "message", ...details}}``."""
        body: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        body.update(self.details)
        return {"error": body}


class BadRequest(BorderKGError):
    status, code = 400, "bad-request"


class QuerySyntaxError(BadRequest):
    """A SPARQL query or update that does not parse; carries line and column when known."""

    code = "syntax-error"


class BadParameter(BadRequest):
    code = "bad-parameter"


class Unauthorized(BorderKGError):
    status, code = 401, "unauthorized"


class Forbidden(BorderKGError):
    status, code = 403, "forbidden"


class NotFound(BorderKGError):
    status, code = 404, "not-found"


class MethodNotAllowed(BorderKGError):
    status, code = 405, "method-not-allowed"


class NotAcceptable(BorderKGError):
    status, code = 406, "not-acceptable"


class RequestTimeout(BorderKGError):
    """The client did not send its whole request in time (slow clients are cut off)."""

    status, code = 408, "request-timeout"


class PayloadTooLarge(BorderKGError):
    status, code = 413, "payload-too-large"


class UnsupportedMediaType(BorderKGError):
    status, code = 415, "unsupported-media-type"


class TooManyRequests(BorderKGError):
    """The client already holds its share of the query workers; others must not wait."""

    status, code = 429, "too-many-requests"


class QueryTimeout(BorderKGError):
    status, code = 503, "query-timeout"


class ServiceUnavailable(BorderKGError):
    status, code = 503, "unavailable"


class StoreError(BorderKGError):
    """The store (local or remote) failed for a reason that is not the client's fault."""

    status, code = 502, "store-error"


class BadGateway(BorderKGError):
    """A server called on the request's behalf (a SERVICE endpoint the policy allowed)
    failed or answered something unreadable: the request was fine, the remote was not."""

    status, code = 502, "bad-gateway"


class ConfigError(BorderKGError):
    """A setting has an invalid value; raised at start-up, never per request."""

    status, code = 500, "config-error"


_WHERE = re.compile(r"at (\d+):(\d+)")
_EXPECTED = re.compile(r"expected (.*)", re.S)


def syntax_error(exc: SyntaxError | ValueError, what: str = "query") -> QuerySyntaxError:
    """A ``QuerySyntaxError`` with line/column parsed from Oxigraph's message when present."""
    message = str(exc)
    details: dict[str, Any] = {}
    where = _WHERE.search(message)
    if where:
        details["line"], details["column"] = int(where.group(1)), int(where.group(2))
    expected = _EXPECTED.search(message)
    if expected:
        details["expected"] = expected.group(1).strip()[:500]
    return QuerySyntaxError(f"SPARQL {what} syntax error: {message.splitlines()[0][:300]}",
                            **details)
