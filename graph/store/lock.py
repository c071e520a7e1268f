"""Telling that another process (a running ``borderkg serve``) holds the on-disk store.

RocksDB lets one process at a time open a store: it takes a POSIX record lock on the
store's ``LOCK`` file, and a second opener gets an ``OSError`` whose text is RocksDB's
(``IO error: While lock file: .../LOCK: Resource temporarily unavailable``). That text
tells a user nothing about what to do, so the commands that open the store call
:func:`open_store_explained`, which turns it into one :class:`StoreHeld` line naming the
process that holds the store, the address it serves, and the way out.

The holder is read from ``/proc/locks`` (Linux) rather than asked with ``fcntl``: a
process that opens and closes the ``LOCK`` file loses every record lock it holds on it,
so probing from a process that has the store open would silently unlock it.
"""
from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path

from graph.errors import ConfigError
from graph.settings import Settings

#: what RocksDB says when the LOCK file is held, by another process or by this one
LOCKED = re.compile(r"While lock file|lock hold by current process|LOCK: Resource "
                    r"temporarily unavailable", re.I)
PROC = Path("/proc")


class StoreHeld(ConfigError):
    """The on-disk store is open in another process, which alone may use it."""

    code = "store-held"


def held(store_dir: Path, settings: Settings, remedy: str) -> StoreHeld:
    """The error for ``store_dir`` held by another process; ``remedy`` may name
    ``{url}``, the address of the server holding it."""
    pid = lock_holder(store_dir)
    if pid == os.getpid():
        return StoreHeld(f"the store at {store_dir} is already open in this process",
                         store=str(store_dir), pid=pid)
    if pid is not None and not is_server(pid):
        command = " ".join(_cmdline(pid)[:4]) or "unknown"
        return StoreHeld(f"the store at {store_dir} is open in another process (pid {pid}: "
                         f"{command}); let it finish or stop it, then run this command again",
                         store=str(store_dir), pid=pid)
    url = (listening_url(pid) if pid else None) or f"http://{_host(settings)}:{settings.port}"
    who = (f"a running borderkg serve (pid {pid}, {url})" if pid
           else f"another process, perhaps the borderkg serve at {url}")
    return StoreHeld(f"the store at {store_dir} is open in {who}; {remedy.format(url=url)}",
                     store=str(store_dir), pid=pid, url=url)


def lock_holder(store_dir: Path) -> int | None:
    """The pid of the process holding the lock on ``store_dir/LOCK``, when it can be told
    (``/proc/locks`` lists every lock by device and inode)."""
    try:
        info = os.stat(store_dir / "LOCK")
        table = (PROC / "locks").read_text()
    except OSError:
        return None
    wanted = f"{os.major(info.st_dev):02x}:{os.minor(info.st_dev):02x}:{info.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        # "1: POSIX  ADVISORY  WRITE 10807 fe:00:2154936 0 EOF"; "->" marks waiters
        if len(fields) >= 6 and fields[1] != "->" and fields[5] == wanted:
            return int(fields[4]) if fields[4].isdigit() else None
    return None


def held_by_sibling(store_dir: Path) -> bool:
    """Whether ``store_dir`` is held by another child of this process's parent (the
    worker that a server reload replaces with this one, which its server stops only after
    starting this one), or by no one any more (it let go since the caller failed to open
    it)."""
    pid = lock_holder(store_dir)
    return pid is None or (pid != os.getpid() and _parent(pid) == os.getppid())


def is_server(pid: int) -> bool:
    """Whether ``pid`` (or the process that started it: servers' workers hold the
    store) runs ``borderkg serve``."""
    for candidate in (pid, _parent(pid)):
        words = _cmdline(candidate) if candidate else []
        if "serve" in words and any("borderkg" in w or w == "server.cli" for w in words):
            return True
    return False


def listening_url(pid: int) -> str | None:
    """``http://host:port`` of a TCP socket ``pid`` listens on, from the socket inodes of
    its descriptors and the kernel's socket tables; None when they cannot be read."""
    try:
        links = [os.readlink(entry) for entry in (PROC / str(pid) / "fd").iterdir()]
    except OSError:
        return None
    inodes = {link[8:-1] for link in links if link.startswith("socket:[")}
    for table, family in (("tcp", 4), ("tcp6", 6)):
        try:
            rows = (PROC / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 9 and fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                return _address(fields[1], family)
    return None


def _address(field: str, family: int) -> str:
    """``http://host:port`` of a ``/proc/net/tcp`` address (hex, host byte order)."""
    hex_host, hex_port = field.split(":")
    port = int(hex_port, 16)
    if family == 4:
        host = ".".join(str(b) for b in reversed(bytes.fromhex(hex_host)))
        return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}"
    words = [bytes.fromhex(hex_host[i:i + 8])[::-1] for i in range(0, 32, 8)]
    host = str(ipaddress.IPv6Address(b"".join(words)))
    return f"http://[{'::1' if host == '::' else host}]:{port}"


def _host(settings: Settings) -> str:
    host = settings.host
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)


def _cmdline(pid: int) -> list[str]:
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [Path(word).name if "/" in word else word
            for word in raw.decode("utf-8", "replace").split("\0") if word]


def _parent(pid: int) -> int | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses
    fields = stat.rsplit(")", 1)[-1].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
