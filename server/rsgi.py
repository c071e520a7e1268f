"""Run the WSGI app under granian's RSGI interface, so slow clients never hold a thread.

Why not granian's own WSGI interface, or gunicorn: both hand the connection to a Python
thread before the request body has arrived, and the thread then blocks reading it. A
client that drips its body one byte at a time holds that thread; as many such clients as
there are threads stop the service for everyone (slowloris). Here the request line,
headers (granian, in Rust) *and* body (this adapter, awaiting on the event loop) are read
without a thread; only a complete request takes a thread to run the Flask app, and at
most ``threads`` requests run the app at once.

The body is read up to ``max_body_bytes + 1`` bytes: beyond that the app sees a body over
its limit and answers its usual 413, so the error shape stays the app's. A request whose
body does not arrive within ``read_timeout`` seconds is answered 408 here.

Responses the app returns whole (at most one chunk) go out in one write. Streamed ones
(a dump, a large graph or result) follow two rules:

* **One thread per response.** Every step of a response — calling the app, pulling each
  chunk, closing the body — runs on the same thread (a *lane*), never on whichever pool
  thread is free: pyoxigraph's iterators are bound to the thread that made them (pulling
  a dump's next chunk elsewhere was a Rust panic that took the worker down), and so are
  Flask's contexts. Lanes are reused between requests. A streaming response gives its
  ``threads`` slot back once its headers are out, so streams do not starve short
  requests; beyond ``STREAMS_PER_THREAD`` streams per thread a new stream keeps its slot.
* **Backpressure.** Granian's ``response_stream`` queues whatever is sent, without
  limit, so a slow reader would have the whole answer buffered in the server. A stream
  is therefore handed to granian as a named pipe (``response_file`` on a FIFO in the
  temporary directory, mode 0600 under a random name, unlinked as soon as both ends
  are open, so nothing is left to clean up): the lane blocks while the pipe is full,
  and granian reads it only as fast as the client takes the data, so what one reader
  makes the server hold is bounded by the pipe and the socket buffers (a slow reader of
  the 88 MB CBP graph grows the worker by no measurable amount; through granian's queue
  it grew by 105 MiB). A client that goes away closes granian's end; the lane's next
  write fails, or it sees the disconnect while waiting, and it stops and closes the
  body. A reader that takes nothing for ``STALL_SECONDS`` is abandoned.

The response cache keys each entry on whether the request accepts gzip, too: the app's
answer is compressed or not (``server.compression``) by Accept-Encoding, so one cached
body must never be replayed to a request that asked otherwise.
"""
from __future__ import annotations

import asyncio
import errno
import fcntl
import io
import itertools
import json
import logging
import os
import queue
import select
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from graph.errors import RequestTimeout

from .compression import preferred_coding
from .response_cache import ResponseCache

log = logging.getLogger("borderkg.http")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_SPECIAL_HEADERS = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}

#: streams that may run without holding a ``threads`` slot, per slot
STREAMS_PER_THREAD = 8
#: seconds a streamed response waits for granian to open its pipe before giving up
CONNECT_SECONDS = 10.0
#: seconds a reader may take no data at all before its response is abandoned
STALL_SECONDS = 300.0
#: how often a lane waiting for a reader looks whether the client is gone
POLL_SECONDS = 0.5
#: the pipe's buffer (Linux's default is 64 KiB): fewer wake-ups per megabyte sent
PIPE_BYTES = 256 << 10


class _Started:
    """What ``start_response`` was given."""

    __slots__ = ("status", "headers")

    def __init__(self) -> None:
        self.status = 500
        self.headers: list[tuple[str, str]] = []

    def __call__(self, status: str, headers: list[tuple[str, str]],
                 exc_info: Any = None) -> Callable[[bytes], None]:
        # nothing is sent before the app returns, so a call with exc_info (an error
        # after an earlier start_response) just replaces the status and headers
        del exc_info
        self.status = int(status.split(" ", 1)[0])
        self.headers = headers
        return _no_write


def _no_write(_data: bytes) -> None:
    raise RuntimeError("the WSGI write() callable is not supported; return an iterable")


class RSGIAdapter:
    """An RSGI application (``__rsgi__``) that serves a WSGI app from its own threads."""

    def __init__(self, app: WSGIApp, threads: int, max_body_bytes: int,
                 read_timeout: float, cache: ResponseCache | None = None,
                 record: Callable[[str, str, int, float, int], None] | None = None) -> None:
        self.app = app
        self.cache = cache
        self.record = record
        self.max_body = max_body_bytes
        self.read_timeout = read_timeout
        self.threads = max(1, threads)
        self.slots = asyncio.Semaphore(self.threads)
        self.lanes = _Lanes(keep=self.threads)
        self.max_streams = self.threads * STREAMS_PER_THREAD
        self.streams = 0
        self.base_environ: dict[str, Any] = {
            "SCRIPT_NAME": "", "wsgi.errors": sys.stderr, "wsgi.version": (1, 0),
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.input_terminated": True, "SERVER_SOFTWARE": "borderkg (granian)",
        }

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian's per-worker start hook (nothing to prepare)."""

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Granian's per-worker stop hook: end the idle lanes."""
        self.lanes.close()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        cache = self.cache
        key = self._cache_key(cache, scope)
        if cache is not None and key is not None:
            if self._from_cache(cache, key, scope, proto):
                return
            etag = cache.etag()  # before the app computes: a racing write makes it stale
        body = await self._read_body(scope, proto)
        if body is None:
            return
        lane = self.lanes.take()
        try:
            whole = await self._respond(proto, lane, self._environ(scope, body))
        finally:
            self.lanes.give_back(lane)
        if whole is not None and cache is not None and key is not None:
            cache.put(key, etag, scope.query_string, whole[0], whole[1], whole[2])

    @staticmethod
    def _cache_key(cache: ResponseCache | None, scope: Any) -> Hashable | None:
        """The cache's key, told apart by the content coding the request will get."""
        if cache is None:
            return None
        key = cache.key(scope)
        if key is None:
            return None
        return (key, preferred_coding(scope.headers.get("accept-encoding")))

    async def _respond(self, proto: Any, lane: _Lane, environ: dict[str, Any]
                       ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """Run the app on ``lane`` and send its answer; the answer when it was whole."""
        loop = asyncio.get_running_loop()
        async with self.slots:
            started, chunks, ready = await lane.run(loop, self._start, environ)
            if chunks is not None and self.streams >= self.max_streams:
                await self._stream(proto, lane, started, chunks, ready)  # slot kept
                return None
        if chunks is not None:
            await self._stream(proto, lane, started, chunks, ready)
            return None
        whole = b"".join(ready)
        proto.response_bytes(started.status, started.headers, whole)
        return started.status, started.headers, whole

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
        except (RuntimeError, OSError):
            pass  # the client went away while sending (granian raises RuntimeErrors)
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
        its Content-Length); a longer one is returned open, to be streamed from this
        same thread.
        """
        started = _Started()
        chunks = _Chunks(self.app(environ, started))
        ready: list[bytes] = []
        try:
            for chunk in chunks:
                ready.append(chunk)
                if len(ready) == 2:
                    return started, chunks, tuple(ready)
        except BaseException:
            chunks.close()
            raise
        chunks.close()
        return started, None, tuple(ready)

    async def _stream(self, proto: Any, lane: _Lane, started: _Started, chunks: _Chunks,
                      ready: tuple[bytes, ...]) -> None:
        """Send a streamed body through a pipe that ``lane`` fills (see the module doc)."""
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        self.streams += 1
        try:
            pipe = _Pipe()
        except OSError:
            self.streams -= 1
            await lane.run(loop, chunks.close)
            raise
        proto.response_file(started.status, started.headers, pipe.path)
        pumping = lane.run(loop, _pump, pipe, chunks, ready, stop)
        gone = asyncio.ensure_future(proto.client_disconnect())
        try:
            await asyncio.wait((pumping, gone), return_when=asyncio.FIRST_COMPLETED)
            if not pumping.done():
                stop.set()
                await pumping
        finally:
            stop.set()
            gone.cancel()
            self.streams -= 1


def _pump(pipe: _Pipe, chunks: _Chunks, ready: tuple[bytes, ...],
          stop: threading.Event) -> None:
    """A lane's second step: write every chunk into the pipe, then close the body."""
    try:
        pipe.connect(stop)
        for chunk in itertools.chain(ready, chunks):
            pipe.write(chunk, stop)
    except _Gone as gone:
        log.info("response stream ended early: %s", gone)
    except Exception:  # the headers are out: the answer can only be cut short, and said so
        log.exception("response stream failed; the answer was cut short")
    finally:
        pipe.close()
        chunks.close()


class _Gone(Exception):
    """The reader of a streamed response is gone (or never came)."""


class _Pipe:
    """A named pipe a streamed body goes through, from a lane to granian."""

    def __init__(self) -> None:
        # a name nobody else can hold: mkfifo never follows or replaces an existing
        # file, and the sticky temporary directory lets no other user remove ours
        self.path = os.path.join(tempfile.gettempdir(), f"borderkg-stream-{uuid.uuid4().hex}")
        os.mkfifo(self.path, 0o600)
        self.fd = -1

    def connect(self, stop: threading.Event) -> None:
        """Open the writing end once granian has opened the reading end, then unlink.

        Opening a FIFO for writing without blocking fails (ENXIO) until a reader has
        it open, which tells that granian took the response; a writer that blocked
        instead would wait forever for a client that left before its answer started.
        """
        deadline = time.monotonic() + CONNECT_SECONDS
        pause = 0.0002
        try:
            while self.fd < 0:
                try:
                    self.fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
                except OSError as exc:
                    if exc.errno != errno.ENXIO:
                        raise
                    if stop.is_set() or time.monotonic() > deadline:
                        raise _Gone("the response was never read") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.01)
        finally:
            os.unlink(self.path)
        set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
        if set_size is not None:
            try:
                fcntl.fcntl(self.fd, set_size, PIPE_BYTES)
            except OSError:  # over the system's limit: the default size still works
                pass

    def write(self, data: bytes, stop: threading.Event) -> None:
        """Write all of ``data``, waiting while the pipe is full (the backpressure)."""
        view = memoryview(data)
        waiting_since = time.monotonic()
        while view:
            if stop.is_set():
                raise _Gone("the client went away")
            try:
                view = view[os.write(self.fd, view):]
                waiting_since = time.monotonic()
            except BlockingIOError:
                self._wait(waiting_since)
            except BrokenPipeError:
                raise _Gone("the client went away") from None

    def _wait(self, since: float) -> None:
        if time.monotonic() - since > STALL_SECONDS:
            raise _Gone(f"the client took no data for {STALL_SECONDS:g} s")
        poller = select.poll()
        poller.register(self.fd, select.POLLOUT)
        poller.poll(POLL_SECONDS * 1000)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _Lane:
    """One thread that runs the steps of one response at a time, in order."""

    def __init__(self, name: str) -> None:
        self.jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.thread.start()

    def run(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any],
            *args: Any) -> asyncio.Future[Any]:
        """Run ``fn(*args)`` on this lane; its outcome arrives in the returned future."""
        future = loop.create_future()
        self.jobs.put((loop, future, fn, args))
        return future

    def stop(self) -> None:
        self.jobs.put(None)

    def _serve(self) -> None:
        while (job := self.jobs.get()) is not None:
            loop, future, fn, args = job
            try:
                outcome, failed = fn(*args), False
            except BaseException as exc:  # noqa: BLE001 - re-raised by the awaiting coroutine
                outcome, failed = exc, True
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, failed)
            except RuntimeError:  # the event loop is closed: nobody awaits the outcome
                pass


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.cancelled():
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class _Lanes:
    """Idle lanes kept for the next requests: starting a thread (0.1-0.4 ms) would cost a
    cheap request about as much again."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.idle: list[_Lane] = []
        self.made = 0
        self.closed = False

    def take(self) -> _Lane:
        if self.idle:
            return self.idle.pop()
        self.made += 1
        return _Lane(f"borderkg-http-{self.made}")

    def give_back(self, lane: _Lane) -> None:
        if self.closed or len(self.idle) >= self.keep:
            lane.stop()
        else:
            self.idle.append(lane)

    def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for lane in idle:
            lane.stop()
        for lane in idle:
            lane.thread.join(5)


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
