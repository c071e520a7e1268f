"""Evaluation where no network socket can be opened: a seccomp filter, and forked work.

The engine (Oxigraph) runs ``SERVICE`` calls with its own HTTP client, in Rust, where no
Python hook sees them. The query policy (``graph.sparql.policy``) refuses them by reading the text
exactly as the engine does; this module is the second wall, for the day the two disagree:
a thread or process that called :func:`deny_network` cannot create an Internet socket at
all, so whatever the engine is tricked into trying fails inside the kernel.

The filter is a classic-BPF seccomp program installed with ``prctl``. It answers
``socket()`` for every address family but ``AF_UNIX`` with ``EACCES`` (Unix sockets stay:
the pipes to the parent are socket pairs), refuses ``io_uring_setup`` (its operations can
open sockets without the ``socket`` system call), and refuses every system call made
through another architecture's entry point (the 32-bit ``socketcall`` path). Everything
else is allowed. A filter applies to the calling thread and to the threads and processes
it starts afterwards, and can never be removed, so it is installed only in worker
processes and in threads dedicated to evaluation.

:func:`run_forked` runs one function in a forked child under the filter with a deadline:
the child is killed when the deadline passes, and its death (a crash included) is a clean
error in the parent, never the parent's death.
"""
from __future__ import annotations

import ctypes
import errno
import os
import pickle
import platform
import select
import signal
import struct
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from graph import errors
from graph.errors import BorderKGError, ConfigError, Forbidden, QueryTimeout, ServiceUnavailable

T = TypeVar("T")

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_AF_UNIX = 1
#: (audit architecture, socket, io_uring_setup, first number of the x32 ABI or None)
_ARCHES = {"x86_64": (0xC000003E, 41, 425, 0x40000000),
           "aarch64": (0xC00000B7, 198, 425, None)}

_local = threading.local()


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def _program(machine: str) -> list[tuple[int, int, int, int]]:
    """The BPF instructions for ``machine`` (see the module docstring for what they do)."""
    arch, nr_socket, nr_uring, x32 = _ARCHES[machine]
    deny_all = _RET_ERRNO | errno.EPERM
    refuse = _RET_ERRNO | errno.EACCES
    code = [
        (_LD_W_ABS, 0, 0, 4),              # 0: A = architecture
        (_JEQ_K, 1, 0, arch),              # 1: native? skip the next
        (_RET_K, 0, 0, deny_all),          # 2: another entry point: refuse everything
        (_LD_W_ABS, 0, 0, 0),              # 3: A = system call number
    ]
    if x32 is not None:
        code.append((_JGE_K, 0, 1, x32))   # x32 ABI numbers: refuse
        code.append((_RET_K, 0, 0, deny_all))
    code += [
        (_JEQ_K, 3, 0, nr_socket),         # socket(): on to the family check below
        (_JEQ_K, 0, 1, nr_uring),          # io_uring_setup(): refuse
        (_RET_K, 0, 0, refuse),
        (_RET_K, 0, 0, _RET_ALLOW),        # anything else
        (_LD_W_ABS, 0, 0, 16),             # A = low word of the first argument (family)
        (_JEQ_K, 0, 1, _AF_UNIX),
        (_RET_K, 0, 0, _RET_ALLOW),
        (_RET_K, 0, 0, refuse),
    ]
    return code


def supported() -> bool:
    """Whether this machine can install the filter (Linux on x86_64 or aarch64)."""
    return platform.system() == "Linux" and platform.machine() in _ARCHES


def deny_network() -> None:
    """Install the no-network filter on the calling thread (and all it starts later).

    Idempotent per thread. Raises ``ConfigError`` when the kernel refuses: evaluation
    must not silently run unprotected.
    """
    if getattr(_local, "sandboxed", False):
        return
    if not supported():
        raise ConfigError(f"the evaluation sandbox needs Linux on x86_64 or aarch64, not "
                          f"{platform.system()} on {platform.machine()}")
    code = _program(platform.machine())
    filters = (_Filter * len(code))(*(_Filter(*instruction) for instruction in code))
    program = _Program(len(code), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        code_ = ctypes.get_errno()
        raise ConfigError(f"cannot install the evaluation sandbox: {os.strerror(code_)}")
    _local.sandboxed = True


def check_available() -> None:
    """Raise ``ConfigError`` unless this machine can install the filter: tried once on a
    short-lived thread (a filter never outlives its thread), so a service that could not
    sandbox its workers stops at start-up instead of evaluating unprotected."""
    if getattr(check_available, "ok", False):
        return
    failure: list[ConfigError] = []

    def probe() -> None:
        try:
            deny_network()
        except ConfigError as exc:
            failure.append(exc)

    thread = threading.Thread(target=probe, name="borderkg-sandbox-probe")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    check_available.ok = True  # type: ignore[attr-defined]


def network_refused(exc: OSError) -> Forbidden:
    """The error for an evaluation whose attempt to open a socket the filter refused."""
    return Forbidden("the query engine tried to open a network connection, which "
                     "evaluation is never allowed to do (SERVICE is refused unless its host "
                     f"is in allowed_service_hosts): {exc}", setting="allowed_service_hosts")


def sandboxed() -> bool:
    """Whether the calling thread runs under :func:`deny_network`."""
    return bool(getattr(_local, "sandboxed", False))


class SandboxedThreads:
    """A small thread pool whose threads run under :func:`deny_network`.

    For work that must happen in this process (an update changes the store this process
    holds) yet must not reach the network.
    """

    def __init__(self, threads: int = 1, name: str = "borderkg-sandboxed") -> None:
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix=name,
                                        initializer=deny_network)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on a sandboxed thread; its exceptions are re-raised."""
        return self._pool.submit(fn, *args, **kwargs).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


# -- one function in a forked child ------------------------------------------------------

def close_inherited_fds(keep: set[int]) -> None:
    """Close every descriptor but stdio and ``keep``: a forked child must not hold the
    parent's listening socket or client connections open (a client would then never see
    its connection close)."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _child(write_fd: int, fn: Callable[..., Any], args: tuple[Any, ...],
           sandbox: bool) -> None:
    status = 0
    try:
        close_inherited_fds({write_fd})
        if sandbox:
            deny_network()
        try:
            payload = pickle.dumps(("ok", fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except BorderKGError as exc:
            payload = pickle.dumps(("error", type(exc).__name__, exc.message, exc.details))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, raised there
            payload = pickle.dumps(("crash", f"{type(exc).__name__}: {exc}"))
        view = memoryview(struct.pack("!Q", len(payload)) + payload)
        while view:
            view = view[os.write(write_fd, view):]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        status = 1
    finally:
        os._exit(status)


def run_forked(fn: Callable[..., T], *args: Any, timeout: float, sandbox: bool = True,
               what: str = "evaluation") -> T:
    """``fn(*args)`` in a forked child (copy-on-write: the child sees this process's data
    without copying it), under the no-network filter, killed after ``timeout`` seconds.

    The result comes back pickled. A ``BorderKGError`` raised in the child is raised here
    with its status; the child's death by a signal is a ``ServiceUnavailable`` (503) for
    this call only; past the deadline, ``QueryTimeout`` (503).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(read_fd)
        _child(write_fd, fn, args, sandbox)
    os.close(write_fd)
    try:
        data = _read_until(read_fd, time.monotonic() + timeout)
    except QueryTimeout:
        _kill(pid)
        raise QueryTimeout(f"{what} stopped after its time limit of {timeout:.3g} s",
                           limit_seconds=timeout) from None
    finally:
        os.close(read_fd)
    status = _reap(pid)
    if len(data) < 8:
        raise ServiceUnavailable(f"the {what} process stopped ({_describe(status)}); "
                                 "this request failed, the service goes on")
    result: T = _unpack(pickle.loads(data[8:]))  # what fn returned, unpickled
    return result


def _read_until(fd: int, at: float) -> bytes:
    chunks: list[bytes] = []
    while True:
        remaining = at - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout("deadline")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            raise QueryTimeout("deadline")
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _reap(pid)


def _reap(pid: int) -> int:
    try:
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return 0


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _unpack(message: tuple[Any, ...]) -> Any:
    if message[0] == "ok":
        return message[1]
    if message[0] == "error":
        _, name, text, details = message
        cls = getattr(errors, name, None)
        if not (isinstance(cls, type) and issubclass(cls, BorderKGError)):
            cls = errors.StoreError
        raise cls(text, **details)
    raise RuntimeError(f"forked {message[1]}")
