"""Operator endpoints: ``POST /admin/backup`` makes an online backup of the store.

RocksDB lets one process open the disk store, so while the server runs only it can take
a consistent checkpoint; ``borderkg backup`` asks it here. The backup goes into a new
directory under the server's data directory (``<data_dir>/backups/<name>``), never a
path the client names: a request cannot make the server write anywhere else. The
answer says where, with the manifest, and ``borderkg backup`` moves it from there.

Backups need the update token itself: ``allow_anonymous_writes`` does not open this
endpoint, since each backup takes disk space on the server and names its paths.
"""
from __future__ import annotations

import hmac
import threading
from typing import Any

from flask import Blueprint, jsonify, request

from graph.errors import Forbidden, ServiceUnavailable, Unauthorized
from graph.settings import Settings
from graph.store.backup import back_up, backups_dir, new_name

from .auth import bearer_token
from .context import service

bp = Blueprint("admin", __name__)


def check_token(settings: Settings, authorization: str | None) -> None:
    """Raise unless ``authorization`` carries the configured update token."""
    expected = settings.update_token
    if not expected:
        raise Forbidden("backups over HTTP are disabled on this server: set the update token "
                        "(BORDERKG_UPDATE_TOKEN or --update-token) and send it as "
                        "'Authorization: Bearer <token>'")
    given = bearer_token(authorization)
    if given is None:
        raise Unauthorized("a backup needs the update token: send 'Authorization: Bearer "
                           "<token>'")
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        raise Unauthorized("the bearer token is not valid")


@bp.post("/admin/backup")
def backup() -> Any:
    """Back the store up into a new directory under the data directory; 201 with where
    and the manifest. One backup at a time: a second request meanwhile gets 503."""
    svc = service()
    check_token(svc.settings, request.headers.get("Authorization"))
    lock: threading.Lock = svc.extras.setdefault("backup_lock", threading.Lock())
    if not lock.acquire(blocking=False):
        raise ServiceUnavailable("a backup is being made; ask again when it is done",
                                 retry_after=1)
    try:
        target = backups_dir(svc.settings.data_path) / new_name()
        manifest = back_up(svc.store, target)
    finally:
        lock.release()
    body = {"backup": {"name": target.name, "path": str(target.absolute()),
                       **manifest.to_dict()}}
    return jsonify(body), 201
