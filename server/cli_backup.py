"""``borderkg backup`` and ``borderkg restore``: online backups of the embedded store.

``backup`` opens the disk store itself when no other process holds it. While
``borderkg serve`` runs, RocksDB keeps every other process out of the store, so the
command asks the server instead (``POST /admin/backup`` on ``host``:``port`` with the
update token): the server writes the backup under its data directory and the command
moves it to the directory asked for, after checking the server is the one of this data
directory. The memory store lives only in the server's process, so it is always asked.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import click

from graph.errors import BadParameter, BorderKGError, ServiceUnavailable, StoreError
from graph.settings import Settings
from graph.store.backup import Manifest, back_up, backups_dir, open_unless_held, read_manifest
from graph.store.backup import restore as restore_backup

from .cli_options import with_settings

#: seconds the server may take to make a backup (a large memory store is dumped whole)
BACKUP_TIMEOUT = 3600.0
DESCRIBED = {"rocksdb": "disk store, a consistent RocksDB checkpoint",
             "nquads": "memory store, a consistent N-Quads dump"}


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@with_settings("data_dir", "store", "host", "port", "update_token")
def backup(settings: Settings, directory: Path) -> None:
    """Back the store up into DIRECTORY (new), also while the server runs and writes.

    Disk store: a RocksDB checkpoint (hard links on the same file system). Memory store:
    an N-Quads dump, made by the running server. Either way DIRECTORY/manifest.json says
    when, how many quads and which BorderKG version; it is written last."""
    embedded_only(settings, "backup")
    target = directory.absolute()
    if target.exists():
        raise BadParameter(f"{target} already exists; a backup goes into a new directory")
    store = open_unless_held(settings.data_path / "store") if settings.store == "disk" else None
    if store is not None:
        try:
            manifest = back_up(store, target)
        finally:
            store.close()
        by = "this command (no server holds the store)"
    else:
        manifest = fetch(ask_server(settings), target, settings)
        by = f"the server at {server_url(settings)}"
    click.echo(f"backup of {manifest.quads:,} quads ({DESCRIBED[manifest.kind]}) in {target}, "
               f"made by {by}")


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option("--keep-previous", is_flag=True,
              help="Keep the replaced store beside the new one (store.previous-...).")
@with_settings("data_dir", "store")
def restore(settings: Settings, directory: Path, keep_previous: bool) -> None:
    """Make the backup in DIRECTORY the disk store of the data directory.

    Refused while a server (or any process) holds the store, and for a directory that is
    not a complete backup. The current store stays until the restored one has been
    opened and holds the manifest's quads."""
    embedded_only(settings, "restore")
    if settings.store != "disk":
        raise BadParameter("restore fills the disk store; the memory store is filled at "
                           "start-up: borderkg serve --store memory --load "
                           f"{directory / 'dataset.nq'} (a backup of the memory store)")
    done = restore_backup(directory.absolute(), settings.data_path / "store", keep_previous)
    kept = f"; the previous store is at {done.previous}" if done.previous else ""
    click.echo(f"restored {done.manifest.quads:,} quads (backup of {done.manifest.created}, "
               f"BorderKG {done.manifest.borderkg}) into {done.store_path}{kept}")


def embedded_only(settings: Settings, what: str) -> None:
    if settings.store == "remote":
        raise BadParameter(f"{what} works on the embedded store (disk or memory); a remote "
                           "store is backed up with its own server's tools")


def server_url(settings: Settings) -> str:
    """The running server's own address (a wildcard bind is reached on loopback)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host,
                                                                        settings.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def ask_server(settings: Settings) -> dict[str, Any]:
    """``POST /admin/backup`` to the running server; the answer's ``backup`` object."""
    url = server_url(settings) + "/admin/backup"
    if not settings.update_token:
        raise BadParameter(f"{why_server(settings)}; asking it for a backup needs the update "
                           "token (BORDERKG_UPDATE_TOKEN or --update-token)")
    request = urllib.request.Request(url, data=b"", method="POST", headers={
        "Authorization": f"Bearer {settings.update_token}", "Accept": "application/json"})
    # straight to the local server: never through an HTTP proxy from the environment
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=BACKUP_TIMEOUT) as response:
            return dict(json.load(response)["backup"])
    except urllib.error.HTTPError as exc:
        raise StoreError(f"the server at {url} refused the backup: {http_reason(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ServiceUnavailable(f"{why_server(settings)}, but no BorderKG server answers at "
                                 f"{url} ({reason}): give the server's --host and --port"
                                 ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(f"the server at {url} answered something that is not a backup: "
                         f"{exc}") from None


def why_server(settings: Settings) -> str:
    if settings.store == "memory":
        return "the memory store lives in the server's process"
    return f"the store at {settings.data_path / 'store'} is open in another process"


def http_reason(exc: urllib.error.HTTPError) -> str:
    try:
        return str(json.load(exc)["error"]["message"])
    except (ValueError, KeyError, TypeError, OSError):
        return f"HTTP {exc.code} {exc.reason}"


def fetch(made: dict[str, Any], target: Path, settings: Settings) -> Manifest:
    """Move the server's backup to ``target``, once it is known to be this data
    directory's store and complete."""
    source = Path(str(made.get("path", "")))
    expected = backups_dir(settings.data_path).resolve()
    if source.parent.resolve() != expected or made.get("store") != settings.store:
        raise StoreError(f"the server at {server_url(settings)} is not the one of this data "
                         f"directory ({made.get('store')} store, backup at {source}); expected "
                         f"the {settings.store} store with backups in {expected}")
    read_manifest(source)
    move(source, target)
    return read_manifest(target)


def move(source: Path, target: Path) -> None:
    """Rename (same file system: the hard links stay); else copy beside ``target`` and
    rename, so ``target`` never holds a half copy."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise BorderKGError(f"cannot move the backup from {source} to {target}: "
                                f"{exc.strerror or exc}; it stays at {source}") from None
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(source, partial)
        read_manifest(partial)
        os.rename(partial, target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise BorderKGError(f"cannot copy the backup from {source} to {target}: "
                            f"{exc.strerror or exc}; it stays at {source}") from None
    shutil.rmtree(source, ignore_errors=True)
