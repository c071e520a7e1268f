"""``borderkg serve``: the production HTTP server (granian by default, or gunicorn) around
the app factory."""
from __future__ import annotations

import atexit
import logging
import mmap
import multiprocessing.util
import os
import signal
import sys
import threading
import time
from typing import Any

import click

from graph.errors import BorderKGError, ConfigError
from graph.settings import SETTINGS, Settings

from .cli_options import with_settings

log = logging.getLogger("borderkg.serve")


def run_gunicorn(settings: Settings, build_if_empty: bool) -> None:
    """Serve with gunicorn's threaded workers, the app built once per worker."""
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError:  # an optional extra: granian, the default, needs nothing more
        raise ConfigError("http_server = gunicorn needs gunicorn: "
                          "pip install 'borderkg[gunicorn]'") from None

    from .app import create_app

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{settings.host}:{settings.port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("threads", settings.threads)
            self.cfg.set("worker_class", "gthread" if settings.threads > 1 else "sync")
            limit = max(settings.query_timeout, settings.analysis_timeout)
            self.cfg.set("timeout", max(30, int(limit * 3)))
            self.cfg.set("graceful_timeout", stop_timeout(settings))
            self.cfg.set("keepalive", 5)
            self.cfg.set("accesslog", None)  # server.observability logs each request
            # long GET queries: gunicorn's largest request line (its default is 4094)
            self.cfg.set("limit_request_line", 8190)
            self.cfg.set("loglevel", settings.log_level)

        def load(self) -> Any:
            service = start_service(settings, build_if_empty, StopWhileStarting())
            atexit.register(service.close)  # a gunicorn worker ends with sys.exit
            return create_app(settings, service)

    Application().run()


def run_granian(settings: Settings, build_if_empty: bool) -> None:
    """Serve with granian: Rust reads requests, Python threads run only complete ones.

    The app is wrapped in :class:`server.rsgi.RSGIAdapter` (see there for why), built in
    each worker process after it starts, like gunicorn's workers.
    """
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    # why a worker could not start, for this process to exit with: memory shared with the
    # forked worker (a file would be left behind by a main process killed with -9)
    failed = mmap.mmap(-1, START_FAILURE_BYTES)

    # granian installs a worker's own signal handlers only once its app is loaded; until
    # then the handler inherited from the main process swallows a SIGTERM, and the worker
    # is killed after the stop timeout with nothing closed. So a worker notes stops from
    # the moment it is forked (the hook runs in granian's workers, children of this
    # process, and not in the query workers they fork in turn) and from its loader on.
    stop, main = StopWhileStarting(), os.getpid()
    os.register_at_fork(after_in_child=lambda: os.getppid() == main and stop.catch())

    def load(_target: str) -> Any:
        stop.catch()
        from .app import create_app
        from .observability import recorder
        from .response_cache import ResponseCache
        from .rsgi import RSGIAdapter

        parent = os.getppid()
        follow_parent(parent)
        try:
            service = start_service(settings, build_if_empty, stop)
        except BorderKGError as exc:
            # one line, not a worker traceback; and the whole server stops: granian
            # respawns workers that die, which would retry a start that cannot succeed
            log.error("%s", exc.message)
            failed.write(exc.message.encode("utf-8")[:START_FAILURE_BYTES - 1])
            os.kill(parent, signal.SIGTERM)
            os._exit(3)
        app = create_app(settings, service)
        # a graceful stop (SIGTERM, or the parent gone) ends this worker through
        # multiprocessing's exit path, which runs its finalizers but not atexit's: the
        # service is closed there (query workers ended, their snapshots and a filling's
        # checkpoint removed, the store flushed), within granian's kill timeout
        multiprocessing.util.Finalize(None, service.close, exitpriority=100)
        stop.close_if_asked(service)
        responses = service.caches.responses
        cache = ResponseCache(responses) if responses is not None else None
        return RSGIAdapter(app, settings.threads, settings.max_body_bytes,
                           settings.read_timeout, cache=cache, record=recorder(app))

    header_ms = int(min(max(settings.read_timeout, 1), 60) * 1000)  # granian's bounds
    server = Server("borderkg", address=settings.host, port=settings.port,
                    interface=Interfaces.RSGI, workers=settings.workers, websockets=False,
                    http1_settings=HTTP1Settings(header_read_timeout=header_ms),
                    log_access=False, log_level=LogLevels(settings.log_level),
                    workers_kill_timeout=stop_timeout(settings), respawn_failed_workers=True,
                    respawn_interval=0.5)
    server.serve(target_loader=load)
    if failed[0]:
        sys.exit(3)  # the worker has said why, in one line


#: room for the one-line reason a worker could not start
START_FAILURE_BYTES = 4096


def stop_timeout(settings: Settings) -> int:
    """Seconds a stopping worker is given to finish its requests and close the service
    before it is killed: each request in flight is bounded by its time limit, so a stop
    lets the longest run out rather than cutting them off with nothing closed."""
    longest = max(settings.query_timeout, settings.analysis_timeout)
    return int(min(max(5.0, longest + 5.0), 60.0))


class StopWhileStarting:
    """SIGTERM and SIGINT while a worker starts: noted, and the service closed and the
    worker ended as soon as the start is over (a start cannot be cut short safely)."""

    def __init__(self) -> None:
        self.asked: int | None = None

    def catch(self) -> StopWhileStarting:
        """Note the signals from now on (granian; gunicorn's workers have their own
        handlers in place before the app is loaded)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._note)
        return self

    def _note(self, signum: int, _frame: Any) -> None:
        self.asked = signum

    def close_if_asked(self, service: Any) -> None:
        if self.asked is not None:
            log.info("stopped (%s) while starting", signal.Signals(self.asked).name)
            service.close()
            os._exit(0)


def start_service(settings: Settings, build_if_empty: bool, stop: StopWhileStarting) -> Any:
    """``Service.start``, waiting while the store is held by the worker this one replaces.

    A reload (SIGHUP to granian or gunicorn) starts the new worker first and only then
    stops the old one, which holds the embedded store (one process at a time) until its
    requests have finished and it has closed the service: the new one waits for it, up to
    the old one's stop timeout and a margin, instead of failing the whole server on the
    store's lock.
    """
    from graph.service import Service
    from graph.store.lock import LOCKED, held_by_sibling

    deadline = time.monotonic() + stop_timeout(settings) + 30
    waiting = False
    while True:
        try:
            return Service.start(settings, build_if_empty=build_if_empty)
        except ConfigError as exc:
            if not (settings.store == "disk" and LOCKED.search(exc.message)
                    and stop.asked is None
                    and time.monotonic() < deadline
                    and held_by_sibling(settings.data_path / "store")):
                raise
            if not waiting:
                log.info("the store is still open in the worker this one replaces; "
                         "waiting for it to stop")
                waiting = True
            time.sleep(0.1)


def follow_parent(parent: int, interval: float = 1.0) -> None:
    """End this worker process when the server process that started it is gone.

    Granian's workers outlive a ``kill -9`` of the main process and keep the port and
    the store's lock, so a restart would fail; gunicorn's workers watch their parent for
    the same reason. A graceful stop first (SIGTERM), then a hard one.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        log.warning("the server process %d is gone; this worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(10)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="borderkg-parent-watch").start()


SERVERS = {"granian": run_granian, "gunicorn": run_gunicorn}


@click.command()
@click.option("--empty", is_flag=True, help="Serve only what was loaded; do not build the "
              "seed graph into an empty store.")
@with_settings(*(s.name for s in SETTINGS))
def serve(settings: Settings, empty: bool) -> None:
    """Run the HTTP service (SPARQL endpoint, Graph Store, pages, API) with granian or gunicorn."""
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    check_workers(settings)
    check_load(settings)
    check_port(settings)
    if settings.allow_anonymous_writes:
        click.secho("WARNING: --allow-anonymous-writes: ANYONE who can reach "
                    f"{settings.host}:{settings.port} can change or delete the data.",
                    fg="red", err=True, bold=True)
    writes = ("open to anyone" if settings.allow_anonymous_writes else
              "with the bearer token" if settings.update_token else
              "disabled (set BORDERKG_UPDATE_TOKEN)")
    click.echo(f"BorderKG on http://{settings.host}:{settings.port}/sparql "
               f"(store: {settings.store}; writes: {writes})", err=True)
    SERVERS[settings.http_server](settings, build_if_empty=not empty)


def check_port(settings: Settings) -> None:
    """Refuse, before anything starts, an address the server could not own alone.

    Granian binds with ``SO_REUSEPORT``, so a second server on a taken port starts
    without complaint and the kernel shares the connections between the two processes:
    clients get answers from two different stores. A plain socket (``SO_REUSEADDR``
    only, which tolerates a closed server's lingering connections but not a listener)
    bound and closed here tells. Also refused here rather than as the server's
    traceback: a port outside 1-65535, an address that is not this machine's, and, for
    granian, a host that is not an IP address (it resolves no names)."""
    import errno
    import ipaddress
    import socket

    host, port = settings.host, settings.port
    if not 1 <= port <= 65535:
        raise click.UsageError(f"port {port} is not a TCP port (1-65535)")
    if settings.http_server == "granian":
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise click.UsageError(f"host {host!r} is not an IP address (granian binds "
                                   "addresses such as 127.0.0.1, 0.0.0.0 or ::1)") from None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as exc:
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise click.UsageError(f"{shown} is already in use: another process listens "
                                   "there; stop it or choose another --port") from None
        raise click.UsageError(f"cannot listen on {shown}: {exc.strerror or exc}") from None


def check_load(settings: Settings) -> None:
    """Refuse ``--load`` here, in the main process, rather than in a worker that the HTTP
    server would restart again and again: memory store only, files that exist."""
    from graph.service import load_problem

    problem = load_problem(settings.store, settings.load) if settings.load else None
    if problem:
        raise click.UsageError(problem)


def check_workers(settings: Settings) -> None:
    """The embedded store lives in one process: refuse several workers on disk (RocksDB
    opens once) and warn in memory (each worker would hold its own, diverging copy)."""
    if settings.workers <= 1 or settings.store == "remote":
        return
    if settings.store == "disk":
        raise click.UsageError("--workers > 1 needs --store remote: the on-disk store can "
                               "be opened by one process only (use --threads for concurrency)")
    click.secho(f"WARNING: --workers {settings.workers} with the memory store: every worker "
                "holds its own copy, so writes reach only one of them; /metrics also counts "
                "per worker.", fg="yellow", err=True)
