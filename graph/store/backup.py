"""Backups of the embedded store, and putting one back.

A backup is a directory that says what it is. ``manifest.json`` records the time, the
number of quads, the BorderKG version and the size of every file, and it is written
last, atomically: a directory without one is a backup that was interrupted (the process
killed, the disk full) and is refused rather than restored half-made.

* **disk** store: a RocksDB checkpoint (``pyoxigraph.Store.backup``), taken while the
  store's write lock is held, so it holds every committed write and no part of one.
  On the store's own file system the checkpoint hard-links the immutable data files,
  so it costs milliseconds and almost no space.
* **memory** store: the dataset as one N-Quads file, ``dataset.nq``. Oxigraph reads
  the memory store through a snapshot, so writes go on meanwhile and the dump is still
  the store at one moment. ``borderkg serve --store memory --load DIR/dataset.nq``
  serves it again; ``restore`` loads it into a disk store.

RocksDB lets one process open a store, so while ``borderkg serve`` runs only that
process can take a consistent checkpoint: the server makes it (``POST /admin/backup``),
under its data directory, and the command line fetches it from there.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pyoxigraph import RdfFormat
from pyoxigraph import Store as _OxStore

from graph.errors import BadParameter, BadRequest, BorderKGError, ConfigError

from .base import Store
from .oxigraph import OxigraphStore
from .union import real_len

MANIFEST = "manifest.json"
FORMAT = "borderkg-backup"
FORMAT_VERSION = 1
NQUADS = "dataset.nq"
#: what RocksDB says when another process (or this one) holds a store's LOCK file
_LOCKED = re.compile(r"While lock file|lock hold by current process|LOCK: ", re.I)


class NotABackup(BadParameter):
    """A directory that is not a complete backup: none, interrupted, or changed since."""

    code = "not-a-backup"


class StoreInUse(BorderKGError):
    """The store is open in another process (a running server), so it cannot be replaced."""

    status, code = 409, "store-in-use"


@dataclass(frozen=True)
class Manifest:
    """What a backup directory holds, as recorded in its ``manifest.json``."""

    kind: str  # "rocksdb" (a checkpoint of the disk store) or "nquads" (a dump)
    created: str  # ISO 8601, UTC
    quads: int
    borderkg: str
    store: str  # the backend it was taken from
    files: dict[str, int]  # file name -> size in bytes

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "format_version": FORMAT_VERSION, **asdict(self)}


@dataclass(frozen=True)
class Restored:
    """The outcome of :func:`restore`."""

    manifest: Manifest
    store_path: Path
    previous: Path | None  # where the replaced store was kept, when asked to keep it


def borderkg_version() -> str:
    try:
        return version("borderkg")
    except PackageNotFoundError:
        return "unknown"


def backups_dir(data_path: Path) -> Path:
    """Where a server writes the backups it is asked for: beside its store, on the same
    file system (so checkpoints are hard links), and never a path a client names."""
    return data_path / "backups"


def new_name(now: datetime | None = None) -> str:
    """A fresh backup directory name that sorts by time: ``20250101T120000Z-1a2b3c``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{secrets.token_hex(3)}"


# -- making a backup -----------------------------------------------------------------------
def back_up(store: Store, target: Path) -> Manifest:
    """Back ``store`` up into the new directory ``target``; the manifest is written last."""
    if not isinstance(store, OxigraphStore):
        raise BadRequest("backups are of the embedded store (disk or memory); back a "
                         "remote store up with its own server's tools")
    if target.exists():
        raise BadParameter(f"{target} already exists; a backup goes into a new directory")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadParameter(f"cannot create {target.parent}: {exc.strerror or exc}") from None
    try:
        manifest = _make(store, target)
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)  # what a failed backup left is no backup
        raise BorderKGError(f"cannot back the store up into {target}: "
                            f"{exc.strerror or exc}") from None
    return manifest


def _make(store: OxigraphStore, target: Path) -> Manifest:
    if store.backend == "disk":
        kind, quads = "rocksdb", _checkpoint(store, target)
    else:
        kind, quads = "nquads", _dump(store, target)
    manifest = Manifest(kind, datetime.now(UTC).isoformat(timespec="seconds"), quads,
                        borderkg_version(), store.backend, _file_sizes(target))
    _write_manifest(target, manifest)
    return manifest


def _checkpoint(store: OxigraphStore, target: Path) -> int:
    """A RocksDB checkpoint of ``store`` in ``target``; returns its quad count.

    The write lock keeps every write out while the checkpoint is taken (milliseconds);
    the quads are counted afterwards in the checkpoint itself, opened read-only, so the
    count is the backup's and costs the server's writers nothing."""
    with store.write_lock:
        store.snapshot(target)
    return real_len(_OxStore.read_only(str(target)))


def _dump(store: OxigraphStore, target: Path) -> int:
    """The memory store as N-Quads in ``target``; returns the number of quads (lines:
    N-Quads writes one quad per line and escapes line breaks inside literals)."""
    target.mkdir()
    path = target / NQUADS
    with open(path, "wb") as output:
        store.dump(output, RdfFormat.N_QUADS)
        output.flush()
        os.fsync(output.fileno())
    lines = 0
    with open(path, "rb") as written:
        for block in iter(lambda: written.read(1 << 20), b""):
            lines += block.count(b"\n")
    return lines


def _file_sizes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(directory.iterdir()) if p.is_file()}


def _write_manifest(directory: Path, manifest: Manifest) -> None:
    """Write the manifest so that it is either absent or whole, and durable before the
    backup is reported made: temporary file, fsync, rename, fsync of the directory."""
    partial = directory / (MANIFEST + ".partial")
    with open(partial, "w", encoding="utf-8") as output:
        json.dump(manifest.to_dict(), output, indent=2)
        output.write("\n")
        output.flush()
        os.fsync(output.fileno())
    os.replace(partial, directory / MANIFEST)
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading one ---------------------------------------------------------------------------
def read_manifest(directory: Path) -> Manifest:
    """The manifest of the complete backup in ``directory``; :class:`NotABackup` when
    there is none (an interrupted backup has none), it is unreadable, or a file it lists
    is missing or has another size than when the backup was made."""
    if not directory.is_dir():
        raise NotABackup(f"{directory} is not a backup: no such directory")
    path = directory / MANIFEST
    if not path.is_file():
        raise NotABackup(f"{directory} is not a complete BorderKG backup: it has no "
                         f"{MANIFEST} (an interrupted backup has none)")
    manifest = _parse_manifest(path)
    for name, size in manifest.files.items():
        file = directory / name
        if not file.is_file() or file.stat().st_size != size:
            found = "missing" if not file.is_file() else f"{file.stat().st_size} bytes"
            raise NotABackup(f"{directory} is not a complete BorderKG backup: {name} is "
                             f"{found}, the manifest says {size} bytes")
    return manifest


def _parse_manifest(path: Path) -> Manifest:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"not a {FORMAT} version {FORMAT_VERSION} manifest")
        manifest = Manifest(str(data["kind"]), str(data["created"]), int(data["quads"]),
                            str(data["borderkg"]), str(data["store"]),
                            {str(k): int(v) for k, v in dict(data["files"]).items()})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NotABackup(f"{path} is not a BorderKG backup manifest: {exc}") from None
    if manifest.kind not in ("rocksdb", "nquads") or (
            manifest.kind == "nquads" and NQUADS not in manifest.files):
        raise NotABackup(f"{path}: unknown backup kind {manifest.kind!r}")
    return manifest


# -- the store's lock ----------------------------------------------------------------------
def open_unless_held(path: Path) -> OxigraphStore | None:
    """The disk store at ``path``, opened by this process; None when another process (a
    running server, a ``borderkg load``) holds it, which RocksDB tells by its LOCK file."""
    try:
        return OxigraphStore(path)
    except ConfigError as exc:
        if _LOCKED.search(exc.message):
            return None
        raise


# -- restoring -----------------------------------------------------------------------------
def restore(backup: Path, store_path: Path, keep_previous: bool = False) -> Restored:
    """Make the backup in ``backup`` the disk store at ``store_path``.

    The backup is copied (data files hard-linked when they can be: RocksDB never changes
    them) into a staging directory beside the store, opened, and its quads counted
    against the manifest; only then does it change places with the current store. The
    current store's lock is held throughout, so no server can start on it meanwhile.
    The backup itself is never opened for writing and can be restored again. The
    replaced store is removed unless ``keep_previous``."""
    manifest = read_manifest(backup)
    try:
        with _store_lock(store_path):
            staging = _staged(backup, manifest,
                              store_path.with_name(store_path.name + ".restoring"))
            _swap(staging, store_path)
        previous = store_path.with_name(f"{store_path.name}.previous-{new_name()}")
        os.rename(staging, previous)
        if not keep_previous:
            shutil.rmtree(previous)
    except OSError as exc:
        raise BorderKGError(f"cannot restore into {store_path}: {exc.strerror or exc} "
                            f"({exc.filename or store_path})") from None
    return Restored(manifest, store_path, previous if keep_previous else None)


@contextmanager
def _store_lock(store_path: Path) -> Iterator[None]:
    """Hold the lock RocksDB takes on a store (a POSIX record lock on its ``LOCK`` file).

    Taken on the file itself rather than by opening the store: RocksDB names its files
    by path, so a store left open while its directory is renamed would go on writing
    and deleting files in whatever directory then has that name."""
    store_path.mkdir(parents=True, exist_ok=True)
    fd = os.open(store_path / "LOCK", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise StoreInUse(f"the store at {store_path} is open in another process (a "
                             "running server?): stop it before restoring") from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _staged(backup: Path, manifest: Manifest, staging: Path) -> Path:
    """A store at ``staging`` filled from the backup and checked to hold its quads."""
    if staging.exists():
        shutil.rmtree(staging)  # left by an interrupted restore
    try:
        if manifest.kind == "rocksdb":
            staging.mkdir()
            for name in manifest.files:
                _link_or_copy(backup / name, staging / name)
        engine = _OxStore(str(staging))
        if manifest.kind == "nquads":
            engine.bulk_load(path=str(backup / NQUADS), format=RdfFormat.N_QUADS)
        found = real_len(engine)
        engine.flush()
        del engine
    except (OSError, SyntaxError, ValueError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise NotABackup(f"{backup} cannot be restored: {exc}") from None
    if found != manifest.quads:
        shutil.rmtree(staging, ignore_errors=True)
        raise NotABackup(f"{backup} is not a complete BorderKG backup: it holds {found} "
                         f"quads, the manifest says {manifest.quads}")
    return staging


def _link_or_copy(source: Path, target: Path) -> None:
    """Hard-link RocksDB's immutable table files, copy the rest (the store appends to its
    log and MANIFEST, which must not change the backup's)."""
    if source.suffix == ".sst":
        try:
            os.link(source, target)
            return
        except OSError:
            pass  # another file system, or links not allowed: copy
    shutil.copy2(source, target)


def _swap(staging: Path, store_path: Path) -> None:
    """Put ``staging`` at ``store_path`` and the old store at ``staging``: in one atomic
    exchange where the kernel offers it, so there is never a moment without a store (a
    server started then would create an empty one); else with two renames."""
    if not store_path.exists():
        os.rename(staging, store_path)
        return
    if _exchange(staging, store_path):
        return
    aside = staging.with_name(staging.name + ".old")
    os.rename(store_path, aside)
    os.rename(staging, store_path)
    os.rename(aside, staging)


def _exchange(first: Path, second: Path) -> bool:
    """Linux's ``renameat2(RENAME_EXCHANGE)``; False where the C library or the file
    system lacks it."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second),
                 rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))
