"""Run the WSGI app under granian's RSGI interface, so slow clients never hold a thread.

Why not granian's own WSGI interface, or gunicorn: both hand the connection to a Python
thread before the request body has arrived, and the thread then blocks reading it. A
client that drips its body one byte at a time holds that thread; as many such clients as
there are threads stop the service for everyone (slowloris). Here the request line,
headers (granian, in Rust) *and* body (this adapter, awaiting on the event loop) are read
without a thread; only a complete request takes one from the pool to run the Flask app.

The body is read up to ``max_body_bytes + 1`` bytes: beyond that the app sees a body over
its limit and answers its usual 413, so the error shape stays the app's. A request whose
body does not arrive within ``read_timeout`` seconds is answered 408 here.

Responses the app returns whole go out in one write; streamed ones (large query results)
are pulled chunk by chunk in the pool and sent as they come, so a large result still does
not have to sit in memory twice.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from graph.errors import RequestTimeout

from .response_cache import ResponseCache

log = logging.getLogger("borderkg.http")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}


class _Started:
    """What ``start_response`` was given."""

    __slots__ = ("status", "headers")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> Callable[[bytes], None]:
        self.status = int(status.split(" ", 1)[0])
        self.headers = headers
        return _no_write


def _no_write(data: bytes) -> None:
    raise RuntimeError("the WSGI write() callable is not supported; return an iterable")


class RSGIAdapter:
    """An RSGI application (``__rsgi__``) that serves a WSGI app from a thread pool."""

    def __init__(self, app: WSGIApp, threads: int, max_body_bytes: int,
                 read_timeout: float, cache: ResponseCache | None = None,
                 record: Callable[[str, str, int, float, int], None] | None = None) -> None:
        self.app = app
        self.cache = cache
        self.record = record
        self.max_body = max_body_bytes
        self.read_timeout = read_timeout
        self.pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="borderkg-http")
        self.base_environ: dict[str, Any] = {
            "SCRIPT_NAME": "", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.input_terminated": True, "SERVER_SOFTWARE": "borderkg (granian)",
        }

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian's per-worker start hook (nothing to prepare)."""

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian's per-worker stop hook: let requests in the pool finish."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        cache = self.cache
        key = cache.key(scope) if cache is not None else None
        if cache is not None and key is not None:
            if self._from_cache(cache, key, scope, proto):
                return
            etag = cache.etag()  # before the app computes: a racing write makes it stale
        body = await self._read_body(scope, proto)
        if body is None:
            return
        loop = asyncio.get_running_loop()
        started, chunks, ready = await loop.run_in_executor(
            self.pool, self._start, self._environ(scope, body))
        if chunks is not None:
            await self._stream(proto, started, chunks, ready, loop)
            return
        whole = b"".join(ready)
        proto.response_bytes(started.status, started.headers, whole)
        if cache is not None and key is not None:
            cache.put(key, etag, scope.query_string, started.status, started.headers, whole)

    def _from_cache(self, cache: ResponseCache, key: Any, scope: Any, proto: Any) -> bool:
        """Answer from the response cache on the event loop, if it holds the answer."""
        began = time.perf_counter()
        answer = cache.get(key)
        if answer is None:
            return False
        proto.response_bytes(answer.status, answer.headers, answer.body)
        if self.record is not None:
            self.record(scope.method, scope.path, answer.status,
                        time.perf_counter() - began, len(answer.body))
        return True

    async def _read_body(self, scope: Any, proto: Any) -> bytes | None:
        """The body, or None when the request was answered (408) or abandoned."""
        try:
            return await asyncio.wait_for(self._body(scope, proto), self.read_timeout)
        except TimeoutError:
            error = RequestTimeout(f"the request body did not arrive within "
                                   f"{self.read_timeout:g} s", limit_seconds=self.read_timeout)
            proto.response_bytes(error.status, [("content-type", "application/json"),
                                                ("connection", "close")],
                                 json.dumps(error.to_dict()).encode())
        except Exception:  # the client went away while sending
            pass
        return None

    # -- request -------------------------------------------------------------------------
    async def _body(self, scope: Any, proto: Any) -> bytes:
        """The whole body, or its first ``max_body + 1`` bytes when it is larger."""
        headers = scope.headers
        length = headers.get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = 0  # the app rejects the header itself
            if declared <= 0 or declared > self.max_body:
                return b""  # nothing to read, or the app answers 413 from the header
            return bytes(await proto())
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            return b""
        received = bytearray()
        async for chunk in proto:
            received += chunk
            if len(received) > self.max_body:
                break
        return bytes(received)

    def _environ(self, scope: Any, body: bytes) -> dict[str, Any]:
        environ = dict(self.base_environ)
        # RSGI's path is already percent-decoded text; WSGI wants its UTF-8 bytes as latin-1
        path = scope.path.encode("utf-8", "surrogateescape").decode("latin-1")
        host, _, port = scope.server.rpartition(":")
        client, _, client_port = scope.client.rpartition(":")
        environ.update({
            "REQUEST_METHOD": scope.method, "PATH_INFO": path,
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": host, "SERVER_PORT": port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client.strip("[]"), "REMOTE_PORT": client_port,
            "wsgi.url_scheme": scope.scheme, "wsgi.input": io.BytesIO(body),
        })
        for name, value in scope.headers.items():
            key = _SPECIAL_HEADERS.get(name) or "HTTP_" + name.upper().replace("-", "_")
            if key in environ and key.startswith("HTTP_"):
                environ[key] += "," + value
            else:
                environ[key] = value
        if "CONTENT_LENGTH" not in environ and body:
            environ["CONTENT_LENGTH"] = str(len(body))  # a chunked body, now counted
        return environ

    # -- response ------------------------------------------------------------------------
    def _start(self, environ: dict[str, Any]
               ) -> tuple[_Started, _Chunks | None, tuple[bytes, ...]]:
        """Call the app and pull up to two chunks (``start_response`` has run by then).

        A response of at most one chunk is closed here and sent whole (one write, with
        its Content-Length); a longer one is returned open, to be streamed.
        """
        started = _Started()
        chunks = _Chunks(self.app(environ, started))
        ready: list[bytes] = []
        for chunk in chunks:
            ready.append(chunk)
            if len(ready) == 2:
                return started, chunks, tuple(ready)
        chunks.close()
        return started, None, tuple(ready)

    async def _stream(self, proto: Any, started: _Started, chunks: _Chunks,
                      ready: tuple[bytes, ...], loop: asyncio.AbstractEventLoop) -> None:
        transport = proto.response_stream(started.status, started.headers)
        try:
            for chunk in ready:
                await transport.send_bytes(chunk)
            while chunk := await loop.run_in_executor(self.pool, next, chunks, b""):
                await transport.send_bytes(chunk)
        except Exception as exc:  # the client hung up, or the producer failed: stop
            log.info("response stream ended early: %s", exc)
        finally:
            await loop.run_in_executor(self.pool, chunks.close)


class _Chunks:
    """Non-empty chunks of a WSGI response; ``close`` as PEP 3333 requires."""

    def __init__(self, result: Iterable[bytes]) -> None:
        self.result = result
        self.iterator = iter(result)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        while True:
            chunk = next(self.iterator)
            if chunk:
                return bytes(chunk)

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        if close is not None:
            close()
