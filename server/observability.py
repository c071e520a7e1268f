"""Request logging, Prometheus metrics, CORS and the body-size error, installed on the app.

``install(app)`` is called once by ``create_app``. It adds:

* one access-log line per request on the ``borderkg.access`` logger: method, path (never
  the query string, which may carry tokens or whole queries), status, milliseconds and
  bytes sent — counted as a streamed body leaves, so streaming answers are measured
  whole. The Authorization header is never logged.
* ``/metrics`` in the Prometheus text format: requests by route, method and status, a
  latency histogram by route, query timeouts, and the store's size. Each app has its
  own registry. Every HTTP worker process has its own registry too, so with
  ``workers > 1`` a scrape sees one worker's figures; the embedded store allows one
  worker, which is the default (for several workers, scrape each or use
  prometheus_client's multiprocess mode).
* CORS: reads are open to the origins in ``cors_origins`` (``*`` by default); preflight
  requests are answered and allow the Authorization header so a page on another origin
  can send writes with its token. Credentials (cookies) are never involved.
* 413 for bodies over ``max_body_bytes`` in the one error shape, whether the size was
  declared in Content-Length or found while reading a chunked upload.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from werkzeug.exceptions import MethodNotAllowed as WerkzeugMethodNotAllowed
from werkzeug.exceptions import RequestEntityTooLarge

from graph.caching import EtagCache
from graph.errors import MethodNotAllowed, PayloadTooLarge

from . import auth
from .context import error_response

log = logging.getLogger("borderkg.access")
bp = Blueprint("observability", __name__)

#: every response header the service sets that a browser script may need; CORS exposes
#: them all and ``/openapi.json`` documents them from this table
RESPONSE_HEADERS: dict[str, str] = {
    "ETag": "Version of the answer (the store's version and the format).",
    "Location": "Where a created graph or a redirect points.",
    "Link": "The document's other formats (rel=alternate).",
    "Retry-After": "Seconds to wait before asking again (503, 429).",
    "WWW-Authenticate": "The bearer challenge of a 401.",
    "Allow": "The methods a path accepts (405).",
    "Content-Disposition": "The file name of a download.",
    "X-Content-Media-Type": "The media type inside the gzip file of /dump.nq.gz.",
    "X-BorderKG-Truncated": "true when the answer was cut at the row limit.",
    "X-BorderKG-Row-Limit": "The row limit the answer was cut at.",
    "X-BorderKG-Cache": "hit when the answer came from the result cache.",
    "X-BorderKG-Service-Skipped": "SERVICE SILENT endpoints the policy skipped, as <IRI>s.",
    "X-BorderKG-Load-Skipped": "LOAD SILENT sources the policy skipped, as <IRI>s.",
    "X-BorderKG-Answered-By": "observation-index when a named Data Cube query was answered "
                              "from the observations' index (exactly the SPARQL answer).",
}
EXPOSED = ", ".join(RESPONSE_HEADERS)
ALLOWED_HEADERS = "Accept, Authorization, Content-Type, If-None-Match"
ALLOWED_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"


class Metrics:
    """The Prometheus collectors of one app."""

    def __init__(self, store: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("borderkg_http_requests", "HTTP requests by route, method "
                                "and status.", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("borderkg_http_request_seconds", "Time to the response "
                                 "headers, by route.", ["route"], registry=self.registry,
                                 buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30))
        self.timeouts = Counter("borderkg_query_timeouts", "Queries stopped at their time "
                                "limit.", registry=self.registry)
        self.quads = Gauge("borderkg_store_quads", "Quads in the store.",
                           registry=self.registry)
        self.quads.set_function(_QuadCount(store))


class _QuadCount:
    """The store's size, recounted only after writes (counting is a full scan)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.cache: EtagCache[float] = EtagCache.for_store(store, 1)

    def __call__(self) -> float:
        return self.cache.get_or_build("quads", lambda: float(self.store.count()))


def metrics() -> Metrics:
    collectors: Metrics = current_app.extensions["borderkg.metrics"]  # Flask's hold Any
    return collectors


def count_timeout() -> None:
    """Record a query stopped at its time limit."""
    metrics().timeouts.inc()


@bp.get("/metrics")
def metrics_page() -> Response:
    return Response(generate_latest(metrics().registry), content_type=CONTENT_TYPE_LATEST)


def recorder(app: Flask) -> Callable[[str, str, int, float, int], None]:
    """Count and log a request answered outside the app (``server.rsgi``'s cache hits),
    so /metrics and the access log see every request, wherever it was answered."""
    collectors: Metrics = app.extensions["borderkg.metrics"]

    def record(method: str, route: str, status: int, seconds: float, size: int) -> None:
        collectors.requests.labels(route, method, str(status)).inc()
        collectors.latency.labels(route).observe(seconds)
        if log.isEnabledFor(logging.INFO):
            log.info("%s %s %d %.1fms %dB", method, route, status, seconds * 1000, size)

    return record


def _route() -> str:
    """The route pattern (bounded label values), not the raw path."""
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def _counting(body: Iterable[bytes | str], tally: list[int]) -> Iterator[bytes | str]:
    for chunk in body:
        tally[0] += len(chunk.encode() if isinstance(chunk, str) else chunk)
        yield chunk


def _access_log(response: Response) -> Response:
    started = g.get("borderkg_started", time.perf_counter())
    method, path, status = request.method, request.path, response.status_code
    metrics().requests.labels(_route(), method, str(status)).inc()
    metrics().latency.labels(_route()).observe(time.perf_counter() - started)
    tally = [0]
    if response.is_streamed:
        response.response = _counting(response.response, tally)  # type: ignore[assignment]
    else:
        tally[0] = response.content_length or 0

    def write() -> None:
        ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %d %.1fms %dB", method, path, status, ms, tally[0])

    response.call_on_close(write)
    return response


def _cors(response: Response) -> Response:
    origins = [o.strip() for o in current_app.config["BORDERKG"].cors_origins.split(",")
               if o.strip()]
    origin = request.headers.get("Origin")
    if not origins or origin is None:
        return response
    if "*" in origins:
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.vary.add("Origin")
    else:
        return response
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def install(app: Flask) -> None:
    """Add logging, metrics, CORS, the 401 challenge and the 413 shape to ``app``."""
    app.extensions["borderkg.metrics"] = Metrics(app.extensions["borderkg"].store)
    app.register_blueprint(bp)
    auth.install(app)

    @app.before_request
    def _start() -> None:
        g.borderkg_started = time.perf_counter()

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge) -> Any:
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(PayloadTooLarge(
            f"the request body is larger than this server accepts ({limit} bytes; setting "
            "max_body_bytes)", limit_bytes=limit))

    @app.errorhandler(WerkzeugMethodNotAllowed)
    def _wrong_method(error: WerkzeugMethodNotAllowed) -> Any:
        allowed = sorted(set(error.valid_methods or ()))
        response = error_response(MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}; allowed: "
            f"{', '.join(allowed)}", allowed=allowed))
        response.headers["Allow"] = ", ".join(allowed)
        return response

    app.after_request(_cors)
    app.after_request(_access_log)
