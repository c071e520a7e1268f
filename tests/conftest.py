"""Shared fixtures: the article, stores, the app, and real servers on loopback.

Each test builds its own world: a fresh in-memory store with the seed graph, a Flask
test client over it, or a real ``borderkg serve`` process on a free port.
"""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.peers import ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ARTICLE = SHARED / "seed" / "000_e1eaba6903481a9d.txt"
CBP_STATE_CSV = SHARED / "data" / "cbp-nationwide-encounters-fy20-fy23-state.csv"
USBP_MONTHLY = SHARED / "data" / "usbp-monthly-encounters-fy2000-fy2020.csv.gz"
TOKEN = "test-token-7f3a9c"


@pytest.fixture(scope="session")
def article_path() -> Path:
    return ARTICLE


@pytest.fixture(scope="session")
def seed_nquads(article_path: Path) -> str:
    from graph.knowledge.seed import seed_nquads as build_nquads

    return build_nquads(article_path)


@pytest.fixture
def seed_store(seed_nquads: str) -> Any:
    """A fresh in-memory store holding the seed graph."""
    from pyoxigraph import RdfFormat

    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    store.load(seed_nquads, RdfFormat.N_QUADS)
    return store


@pytest.fixture
def settings(tmp_path: Path) -> Any:
    from graph.settings import load_settings

    return load_settings({"store": "memory", "data_dir": str(tmp_path), "article": str(ARTICLE),
                          "update_token": TOKEN}, environ={})


@pytest.fixture
def app(settings: Any, seed_store: Any) -> Any:
    from graph.service import Service, build_executor
    from server.app import create_app

    service = Service(settings, seed_store, build_executor(settings, seed_store))
    return create_app(settings, service)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


class _SourceAdapter(requests.adapters.HTTPAdapter):
    """Connections from one loopback source address: the server tells clients apart by
    address, so a test speaks as another client from 127.0.0.2, 127.0.0.3, ..."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_session(address: str) -> requests.Session:
    """A ``requests`` session whose connections come from loopback ``address``."""
    session = requests.Session()
    adapter = _SourceAdapter(address)
    session.mount("http://", adapter)
    return session


class LiveServer:
    """A real ``borderkg serve`` process on loopback (stopped with its process group: the
    server may fork workers)."""

    def __init__(self, args: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.args, self.env = args, env
        self.server: ServerProcess | None = None
        self.log_path: Path | None = None

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        return self.server.process if self.server else None

    def start(self, log_path: Path, timeout: float = 60) -> LiveServer:
        """Start the server and wait until ``/healthz`` answers; stopped again and the
        log's tail raised when it exits or never answers."""
        self.log_path = log_path
        self.server = ServerProcess("borderkg serve", self.args, log_path, env=self.env,
                                    group=True)
        try:
            self.server.wait_http(self.url + "/healthz", params=None, timeout=timeout,
                                  request_timeout=1, interval=0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, sig: int = 15) -> None:
        if self.server:
            self.server.stop(sig, grace=10)

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""


@pytest.fixture
def start_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``start_server(store="disk", data_dir=..., extra=[...], env={...})``."""
    servers: list[LiveServer] = []

    def start(*, store: str = "memory", data_dir: Path | None = None, token: str | None = TOKEN,
              extra: list[str] | None = None, env: dict[str, str] | None = None) -> LiveServer:
        data_dir = data_dir or tmp_path_factory.mktemp("data")
        port = free_port()
        args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port),
                "--store", store, "--data-dir", str(data_dir), "--article", str(ARTICLE),
                *(extra or [])]
        environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
        if token:
            environ["BORDERKG_UPDATE_TOKEN"] = token
        environ.update(env or {})
        server = LiveServer(args, environ, port)
        servers.append(server)
        return server.start(tmp_path_factory.mktemp("log") / "server.log")

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server (memory store, seed built, token ``TOKEN``) shared by a module."""
    port = free_port()
    data_dir = tmp_path_factory.mktemp("live")
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--store",
            "memory", "--data-dir", str(data_dir), "--article", str(ARTICLE)]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ["BORDERKG_UPDATE_TOKEN"] = TOKEN
    server = LiveServer(args, environ, port).start(data_dir / "server.log")
    yield server
    server.stop()


#: one line per reliability family (fuzzing, soak, crash recovery, differential...),
#: repeated at the end of the run so CI's log shows them even though pytest captures output
FAMILY_LINES: list[str] = []


def report_family(line: str) -> None:
    """Print a family's summary line now and again in the run's closing summary."""
    FAMILY_LINES.append(line)
    print(f"\n{line}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FAMILY_LINES:
        terminalreporter.section("reliability families")
        for line in FAMILY_LINES:
            terminalreporter.write_line(line)


# -- the unit run: ``pytest -m "not slow"`` -----------------------------------------------------
# A test is marked ``slow`` when any of these holds; the full run (no ``-m``) runs every test.

#: fixtures that start processes (servers, browsers, peer stores), by a part of their name
_PROCESS_FIXTURES = ("server", "endpoint", "browser", "driver", "remote", "proxied", "peer",
                     "virtuoso", "oxigraph", "chromium")
#: code that starts a process: a fixture's (whatever its name: ``live``, ``small``...) or
#: the test function's own
_STARTS_PROCESS = re.compile(r"\b(LiveServer|Popen|start_oxigraph|start_virtuoso|serve)\(|"
                             r"\bsubprocess\.(run|call|check_call|check_output)\(|"
                             r"\bstart_server\b")
#: session fixtures that build the seed from the article, import CBP data or generate large
#: graphs: seconds each, and every test that needs them (``seed_store``, ``app``, ``client``
#: ...) loads their output again
_DATA_FIXTURES = frozenset({"seed_nquads", "cbp_slice", "cbp_nquads", "cbp_store",
                            "cube_nquads", "dense_nquads"})
#: families that are slow by design (generators, kill loops, whole suites, the CLI run in
#: subprocesses case after case)
_SLOW_MODULES = ("test_policy_fuzz", "test_soak", "test_crash", "test_isolation",
                 "test_update_journal", "test_mirror", "test_lexer_oracle", "test_w3c_suite",
                 "test_differential", "test_backup", "test_start_anywhere", "test_cli",
                 "test_update_differential", "test_set_semantics", "test_entailment",
                 "test_sources", "test_ingest", "test_reference", "test_ice", "test_cbp",
                 "test_usbp", "test_progress", "test_cli_bad_input", "test_peers")
#: test functions measured at 0.5 s or more in the unit run (``--record-slow``), one
#: ``path::function`` a line
SLOW_LIST = Path(__file__).with_name("slow_tests.txt")
_SLOW_THRESHOLD = 0.5


def _measured_slow() -> frozenset[str]:
    try:
        lines = SLOW_LIST.read_text().splitlines()
    except OSError:
        return frozenset()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _function_id(item: pytest.Item) -> str:
    return item.nodeid.split("[", 1)[0]


def _starts_process(holder: Any, seen: dict[Any, bool]) -> bool:
    """Whether the code of ``holder`` (a fixture definition or a test function) starts a
    process, by :data:`_STARTS_PROCESS`."""
    func = getattr(holder, "func", holder)
    if func not in seen:
        try:
            seen[func] = bool(_STARTS_PROCESS.search(inspect.getsource(func)))
        except (OSError, TypeError):
            seen[func] = False
    return seen[func]


def slow_reason(item: pytest.Item, measured: frozenset[str],
                seen: dict[Any, bool] | None = None) -> str | None:
    """Why ``item`` is slow (None: it is a unit test): a slow module, a fixture that starts a
    process or builds data, its own code starting a process, a remote backend among its
    parameters, or its measured time."""
    seen = {} if seen is None else seen
    path = str(item.fspath)
    if Path(path).stem in _SLOW_MODULES or "/w3c/" in path:
        return "module"
    names = getattr(item, "fixturenames", ())
    if any(part in name for name in names for part in _PROCESS_FIXTURES):
        return "process fixture"
    if _DATA_FIXTURES.intersection(names):
        return "data fixture"
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        if any(_starts_process(fixturedef, seen) for fixturedef in defs):
            return "process fixture"
    function = getattr(item, "function", None)
    if function is not None and _starts_process(function, seen):
        return "process in the test"
    callspec = getattr(item, "callspec", None)
    if callspec and any(isinstance(value, str) and value.startswith("remote-")
                        for value in callspec.params.values()):
        return "remote backend"  # its store is a peer server, started on first use
    if _function_id(item) in measured:
        return "measured"
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--record-slow", action="store_true",
                     help=f"add the unit run's test functions that take {_SLOW_THRESHOLD} s "
                     f"or more (set-up, call and tear-down) to {SLOW_LIST.name}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test :func:`slow_reason` names, so ``pytest -m "not slow"`` is
    the quick unit run (in-process stores and apps, no seed build, no processes)."""
    measured, seen = _measured_slow(), {}
    for item in items:
        if slow_reason(item, measured, seen):
            item.add_marker(pytest.mark.slow)


_DURATIONS: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each test function's time over its phases and parameters, for ``--record-slow``."""
    function = report.nodeid.split("[", 1)[0]
    _DURATIONS[function] = _DURATIONS.get(function, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session) -> None:
    if not session.config.getoption("--record-slow", False):
        return
    found = {name for name, seconds in _DURATIONS.items() if seconds >= _SLOW_THRESHOLD}
    listed = _measured_slow() | found
    header = [line for line in (SLOW_LIST.read_text().splitlines() if SLOW_LIST.exists()
                                else []) if line.startswith("#")]
    SLOW_LIST.write_text("\n".join([*header, *sorted(listed)]) + "\n")
