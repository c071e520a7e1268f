"""What the policy fuzzer watches: a loopback listener and canary files.

Every ``SERVICE``/``LOAD`` target the fuzzer writes points at the ``Listener`` or at a
``Canary`` file, so an engine that reaches out is seen from outside, whatever process
it runs in and however it does it (Oxigraph's HTTP client lives in Rust, out of reach of
any Python hook).
"""
from __future__ import annotations

import ctypes
import os
import re
import select
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

_IN_OPEN, _IN_NONBLOCK, _IN_CLOEXEC = 0x20, 0o4000, 0o2000000
_EVENT = struct.Struct("iIII")
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class Listener:
    """A loopback HTTP listener that counts every connection it accepts.

    A connection counts as a *hit* unless its request names one of the ``allowed`` hosts
    in its ``Host`` header (empty by default: every connection is a hit); those are
    counted apart, as ``allowed_hits``, for a policy configured to allow a host. Every
    answer is a 500, so an engine that connects gets an error back at once.
    """

    def __init__(self) -> None:
        self._sockets = [socket.create_server(("127.0.0.1", 0), backlog=64)]
        self.port: int = self._sockets[0].getsockname()[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.hits = self.allowed_hits = 0
        self.allowed: set[str] = set()
        self.request_lines: list[bytes] = []
        self.hooks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        try:  # localhost may resolve to ::1 first: listen there on the same port too
            self._sockets.append(socket.create_server(("::1", self.port), backlog=64,
                                                      family=socket.AF_INET6))
        except OSError:
            pass  # no IPv6 loopback: a client falls back to 127.0.0.1
        for listening in self._sockets:
            threading.Thread(target=self._serve, args=(listening,), name="fuzz-listener",
                             daemon=True).start()

    def _serve(self, listening: socket.socket) -> None:
        while True:
            try:
                connection, _ = listening.accept()
            except OSError:
                return  # closed
            with connection, self._lock:
                self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        """Read the request head, count it, answer 500 (the engine waits meanwhile, so
        the case that connected is still in flight when the hooks run)."""
        head = _read_request(connection)
        self.request_lines.append(head.split(b"\r\n", 1)[0])
        if _host(head) in self.allowed:
            self.allowed_hits += 1
        else:
            self.hits += 1
            for hook in self.hooks:
                hook()
        try:
            connection.sendall(b"HTTP/1.1 500 Refused\r\nContent-Length: 0\r\n"
                               b"Connection: close\r\n\r\n")
        except OSError:
            pass  # the client gave up

    def close(self) -> None:
        for listening in self._sockets:
            listening.close()


def _read_request(connection: socket.socket) -> bytes:
    """The request's head, after reading its whole body: answering before the body is in
    would reset the connection, and a client may then send the request again."""
    connection.settimeout(2)
    data = b""
    try:
        while b"\r\n\r\n" not in data and len(data) < 1 << 20:
            chunk = connection.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"^content-length:[ \t]*(\d+)", head, re.IGNORECASE | re.MULTILINE)
        missing = min(int(length.group(1)), 1 << 20) - len(body) if length else 0
        while missing > 0 and (chunk := connection.recv(min(missing, 65536))):
            missing -= len(chunk)
        return head
    except OSError:
        return data  # the client stopped sending: counted all the same


def _host(head: bytes) -> str:
    """The host a request's ``Host`` header names, lower-cased, without port or final dot."""
    match = re.search(rb"^host:[ \t]*([^\r\n]*)", head, re.IGNORECASE | re.MULTILINE)
    value = match.group(1).decode("latin-1").strip().lower() if match else ""
    return value.rsplit(":", 1)[0].rstrip(".") if not value.startswith("[") else value


class Canary:
    """Files no engine may open; every open of them, by any process, is counted.

    inotify reports each ``open`` of a watched directory's entries (and of the directory
    itself) however the file is opened, blocking or not, read or write, so a single open
    cannot slip between two polls. ``settle`` waits until every event so far is counted.
    """

    NAMES = ("canary.ttl", "canary.nt", "canary.rdf", "canary")
    _SENTINEL = "settle"

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        for name in self.NAMES:
            (directory / name).write_text("<urn:canary:s> <urn:canary:p> <urn:canary:o> .\n")
        (directory / self._SENTINEL).write_text("")
        self.opens = 0
        self.hooks: list[Callable[[], None]] = []
        self._settled = threading.Event()
        self._closed = False
        self._fd = _inotify_watch(directory)
        self._thread = threading.Thread(target=self._watch, name="fuzz-canary", daemon=True)
        self._thread.start()

    @property
    def iris(self) -> list[str]:
        """``file:`` IRIs of the canary files and of their directory."""
        return [(self.directory / name).as_uri() for name in self.NAMES] + \
            [self.directory.as_uri() + "/"]

    def settle(self, timeout: float = 5.0) -> None:
        """Return once every open made before this call has been counted."""
        self._settled.clear()
        with open(self.directory / self._SENTINEL, "rb"):
            pass
        if not self._settled.wait(timeout):
            raise RuntimeError("the canary watch stopped reporting opens")

    def _watch(self) -> None:
        while not self._closed:
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self._fd, 65536)
            except OSError:
                return  # closed
            self._count(data)

    def _count(self, data: bytes) -> None:
        offset = 0
        while offset + _EVENT.size <= len(data):
            _, mask, _, length = _EVENT.unpack_from(data, offset)
            name = data[offset + _EVENT.size:offset + _EVENT.size + length].rstrip(b"\0")
            offset += _EVENT.size + length
            if not mask & _IN_OPEN:
                continue
            if name == self._SENTINEL.encode():
                self._settled.set()
                continue
            self.opens += 1
            for hook in self.hooks:
                hook()

    def close(self) -> None:
        self._closed = True
        self._thread.join(1)
        os.close(self._fd)


def _inotify_watch(directory: Path) -> int:
    """An inotify descriptor reporting every open in ``directory`` (Linux only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(directory), _IN_OPEN) < 0:
        raise OSError(ctypes.get_errno(), "inotify is needed to watch the canary files")
    return int(fd)


def names_other_host(text: str, origin: str) -> bool:
    """True when ``text`` could name a network host other than the listener.

    The fuzzer's generators only write IRIs on the listener or ``file:`` IRIs, but a
    mutated text could resolve to another host, and an engine that then connects would
    send traffic off this machine. Every ``//`` (after the escapes the grammar allows) must
    start ``///`` or an authority on the listener's port whose host is ``127.0.0.1`` or
    ``localhost`` (user information before it is allowed: it does not change the host).
    """
    flat = _CODEPOINT.sub(_decoded, text).replace("\\", "")
    port = origin.rsplit(":", 1)[1]
    loopback = re.compile(rf"//(?:[^/@\s<>]*@)?(?:127\.0\.0\.1|localhost\.?):{port}(?=[/?#>])",
                          re.IGNORECASE)
    return any(not (flat.startswith("/", match.end()) or loopback.match(flat, match.start()))
               for match in re.finditer("//", flat))


def _decoded(match: re.Match[str]) -> str:
    """A codepoint escape's character, leniently (this check must not raise on any text)."""
    code = int(match.group(1) or match.group(2), 16)
    return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else match.group()
