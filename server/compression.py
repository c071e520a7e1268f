"""gzip for large answers, when the request's ``Accept-Encoding`` allows it.

A WSGI middleware around the Flask app, so it serves granian and gunicorn alike and
compresses a streamed answer as it streams (one chunk in, its compressed bytes out,
pulled by whoever pulls the app's chunks). Query results, RDF documents, Graph Store
graphs and the N-Quads dump are text that gzip shrinks five- to thirty-fold (the CBP
table's 112 MB of N-Quads become 3.3 MB), which is the difference between seconds and
minutes for a remote analyst.

What is compressed (the rule is nginx's, so it is decided from the response headers
alone and a HEAD gets the headers its GET would):

* a ``2xx`` answer other than 204/206 whose media type is text (``text/*``, JSON, XML,
  the RDF syntaxes, SPARQL results: see :data:`COMPRESSIBLE`);
* whose ``Content-Length`` is at least :data:`MINIMUM_BYTES`, or which has none (a
  streamed answer, which the app streams only when it is large);
* which has no ``Content-Encoding`` yet (never twice: the gzip file of ``/dump.nq.gz``
  is ``application/gzip`` and passes through) and no ``Cache-Control: no-transform``.

Such an answer says ``Vary: Accept-Encoding`` whether or not this request got gzip,
since another request may. A compressed answer's ``ETag`` is made weak (``"x"`` becomes
``W/"x"``, again as nginx does): its bytes differ from the identity answer's, which a
strong tag would deny, while a revalidation with the weak tag still matches the app's
tag under the weak comparison ``If-None-Match`` uses. The 304 to such a revalidation
echoes the weak form the client holds.

``Accept-Encoding`` is read with its q-values (RFC 9110 section 12.5.3): gzip when
``gzip`` (or ``x-gzip``, or ``*``) has a non-zero quality, at least that of
``identity`` if the header names it; no header means identity, as clients that send
none often cannot decode anything else (Python's urllib sends ``identity``). When even
identity is refused (``identity;q=0`` without gzip) the identity answer is sent all the
same, which RFC 9110 allows instead of a 406.
"""
from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]

#: answers smaller than this are sent as they are: gzip would save too little to pay
MINIMUM_BYTES = 8 << 10
#: a whole answer up to this size is compressed whole (and keeps a Content-Length);
#: larger ones are compressed as a stream
WHOLE_MAX_BYTES = 16 << 20
#: level 3: N-Quads of the CBP table 34x smaller at ~200 MB/s; gzip's default level 6
#: is 9 % smaller at a third of the speed, which makes gzip, not the store, the
#: bottleneck of a dump (measured with ``Store.dump`` of 470,000 quads)
LEVEL = 3
GZIP = "gzip"
IDENTITY = "identity"

#: content codings this server can apply, by the names clients give them
CODINGS: dict[str, str] = {"gzip": GZIP, "x-gzip": GZIP}

#: media types worth compressing, besides every ``text/*`` and ``+json``/``+xml`` type
COMPRESSIBLE = frozenset({
    "application/json", "application/xml", "application/javascript",
    "application/n-triples", "application/n-quads", "application/trig",
    "application/x-turtle", "application/sparql-query", "application/sparql-update",
})


def _quality(text: str) -> float:
    try:
        return min(max(float(text), 0.0), 1.0)
    except ValueError:
        return 0.0


def parse_accept_encoding(header: str) -> dict[str, float]:
    """The codings of an Accept-Encoding header and their qualities (names lower-cased).

    >>> parse_accept_encoding("gzip;q=0.5, identity, *;q=0")
    {'gzip': 0.5, 'identity': 1.0, '*': 0.0}
    """
    codings: dict[str, float] = {}
    for element in header.split(","):
        name, *params = (part.strip() for part in element.split(";"))
        if not name:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                q = _quality(value.strip())
        codings[name.lower()] = q
    return codings


def preferred_coding(header: str | None) -> str:
    """``"gzip"`` when the request accepts gzip, and at least as well as an identity it
    names, else ``"identity"``.

    Identity that is not named is acceptable but not preferred: ``br, gzip;q=0.8``
    asks for compression, even though it rates gzip below 1.

    >>> preferred_coding("gzip, deflate, br"), preferred_coding("identity")
    ('gzip', 'identity')
    >>> preferred_coding("gzip;q=0, *"), preferred_coding("*;q=0.3, identity;q=0.2")
    ('identity', 'gzip')
    >>> preferred_coding("gzip;q=0.5, identity"), preferred_coding("br, gzip;q=0.8")
    ('identity', 'gzip')
    """
    if not header:
        return IDENTITY
    codings = parse_accept_encoding(header)
    named = [q for name, q in codings.items() if CODINGS.get(name) == GZIP]
    gzip_q = max(named) if named else codings.get("*", 0.0)
    identity_q = codings.get(IDENTITY, 0.0)
    return GZIP if gzip_q > 0 and gzip_q >= identity_q else IDENTITY


def compressible(content_type: str | None) -> bool:
    """Whether a media type is text that gzip shrinks (``application/gzip`` is not)."""
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return (kind.startswith("text/") or kind in COMPRESSIBLE
            or kind.endswith(("+json", "+xml")))


def _header(headers: Headers, name: str) -> str | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _without(headers: Headers, *names: str) -> Headers:
    return [(key, value) for key, value in headers if key.lower() not in names]


def eligible(status: int, headers: Headers) -> bool:
    """Whether this answer is one that gzip would be applied to (see the module doc)."""
    if not 200 <= status < 300 or status in (204, 206):
        return False
    if _header(headers, "content-encoding") is not None:
        return False
    if "no-transform" in (_header(headers, "cache-control") or "").lower():
        return False
    if not compressible(_header(headers, "content-type")):
        return False
    length = _header(headers, "content-length")
    return length is None or not length.isdigit() or int(length) >= MINIMUM_BYTES


def with_vary(headers: Headers) -> Headers:
    """``headers`` with ``Accept-Encoding`` added to ``Vary`` (once)."""
    vary = _header(headers, "vary")
    if vary is None:
        return [*headers, ("Vary", "Accept-Encoding")]
    names = {name.strip().lower() for name in vary.split(",")}
    if "accept-encoding" in names or "*" in names:
        return headers
    return [*_without(headers, "vary"), ("Vary", f"{vary}, Accept-Encoding")]


def weakened(headers: Headers) -> Headers:
    """``headers`` with a strong ``ETag`` made weak: the compressed bytes are another
    representation, equivalent but not byte-identical."""
    etag = _header(headers, "etag")
    if etag is None or etag.startswith("W/"):
        return headers
    return [*_without(headers, "etag"), ("ETag", "W/" + etag)]


def _echo_weak(environ: dict[str, Any], headers: Headers) -> Headers:
    """A 304's ETag in the weak form when that is the form the client sent."""
    etag = _header(headers, "etag")
    sent = environ.get("HTTP_IF_NONE_MATCH", "")
    if etag is None or etag.startswith("W/") or f"W/{etag}" not in sent:
        return headers
    return with_vary(weakened(headers))


class _Start:
    """What the app gave ``start_response``, held until the middleware decides."""

    __slots__ = ("called", "status", "headers", "exc_info")

    def __init__(self) -> None:
        self.called = False
        self.status = "500 INTERNAL SERVER ERROR"
        self.headers: Headers = []
        self.exc_info: Any = None

    def __call__(self, status: str, headers: Headers, exc_info: Any = None
                 ) -> Callable[[bytes], None]:
        self.called, self.status, self.headers, self.exc_info = True, status, headers, exc_info
        return _no_write

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])


def _no_write(_data: bytes) -> None:
    raise RuntimeError("the WSGI write() callable is not supported; return an iterable")


class Compression:
    """WSGI middleware: gzip the answers :func:`eligible` picks, for requests that take it."""

    def __init__(self, app: WSGIApp, minimum: int = MINIMUM_BYTES, level: int = LEVEL) -> None:
        self.app = app
        self.minimum = minimum
        self.level = level

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        start = _Start()
        result: Iterable[bytes] = self.app(environ, start)
        if not start.called:  # the app starts inside its iterable: let it
            result = _primed(result)
        headers = start.headers
        if start.code == 304:
            start_response(start.status, _echo_weak(environ, headers), start.exc_info)
            return result
        if not eligible(start.code, headers):
            start_response(start.status, headers, start.exc_info)
            return result
        headers = with_vary(headers)
        if preferred_coding(environ.get("HTTP_ACCEPT_ENCODING")) != GZIP:
            start_response(start.status, headers, start.exc_info)
            return result
        headers = weakened(_without(headers, "content-length"))
        headers.append(("Content-Encoding", GZIP))
        return self._compressed(environ, start, headers, result, start_response)

    def _compressed(self, environ: dict[str, Any], start: _Start, headers: Headers,
                    result: Iterable[bytes], start_response: Callable[..., Any]
                    ) -> Iterable[bytes]:
        """The gzip body: none for HEAD, whole when small enough to hold, else a stream."""
        length = _header(start.headers, "content-length")
        if environ.get("REQUEST_METHOD") == "HEAD":
            _close(result)
            start_response(start.status, headers, start.exc_info)
            return []
        if length is not None and length.isdigit() and int(length) <= WHOLE_MAX_BYTES:
            try:
                body = gzip_bytes(b"".join(result), self.level)
            finally:
                _close(result)
            start_response(start.status, [*headers, ("Content-Length", str(len(body)))],
                           start.exc_info)
            return [body]
        start_response(start.status, headers, start.exc_info)
        return GzipStream(result, self.level)


def gzip_bytes(data: bytes, level: int = LEVEL) -> bytes:
    """``data`` in one gzip member."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    return compressor.compress(data) + compressor.flush()


class GzipWriter:
    """A file that gzips what is written to it into ``output`` (``close`` ends the member).

    For serialisers that write (``Store.dump``): writes are gathered into blocks of
    ``block`` bytes first, since zlib is several times slower on the 8 KiB pieces
    pyoxigraph writes than on larger ones.
    """

    def __init__(self, output: Any, level: int = LEVEL, block: int = 64 << 10) -> None:
        self.output = output
        self.block = block
        self.buffer = bytearray()
        self.compressor: zlib._Compress = zlib.compressobj(level, zlib.DEFLATED, 31)

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= self.block:
            self._emit(self.compressor.compress(self.buffer))
            self.buffer.clear()
        return len(data)

    def flush(self) -> None:
        """Nothing: compressed blocks leave when full, and at ``close``."""

    def close(self) -> None:
        self._emit(self.compressor.compress(self.buffer) + self.compressor.flush())
        self.buffer.clear()

    def _emit(self, data: bytes) -> None:
        if data:
            self.output.write(data)


class GzipStream:
    """A WSGI body compressed as it is pulled; ``close`` closes the body it wraps.

    Every chunk it yields is non-empty: zlib holds small inputs back until it has a
    block, and a reader that sees an empty chunk may take it for the end.
    """

    def __init__(self, body: Iterable[bytes], level: int = LEVEL) -> None:
        self.body = body
        self.chunks = iter(body)
        self.compressor: zlib._Compress | None = zlib.compressobj(level, zlib.DEFLATED, 31)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        while self.compressor is not None:
            chunk = next(self.chunks, None)
            if chunk is None:
                out, self.compressor = self.compressor.flush(), None
                return out
            out = self.compressor.compress(chunk)
            if out:
                return out
        raise StopIteration

    def close(self) -> None:
        _close(self.body)


def _close(body: Iterable[bytes]) -> None:
    close = getattr(body, "close", None)
    if close is not None:
        close()


class _Primed:
    """A body whose first chunk was pulled early (to make the app call start_response)."""

    def __init__(self, first: bytes | None, body: Iterable[bytes], chunks: Iterator[bytes]
                 ) -> None:
        self.first, self.body, self.chunks = first, body, chunks

    def __iter__(self) -> Iterator[bytes]:
        if self.first is not None:
            yield self.first
        yield from self.chunks

    def close(self) -> None:
        _close(self.body)


def _primed(body: Iterable[bytes]) -> _Primed:
    chunks = iter(body)
    return _Primed(next(chunks, None), body, chunks)


def install(app: Any) -> None:
    """Wrap a Flask app's WSGI callable in :class:`Compression`."""
    app.wsgi_app = Compression(app.wsgi_app)
