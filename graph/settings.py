"""The one settings table.

Each setting is declared once, as a ``Setting(name, default, help)``; the CLI options of
``borderkg serve``, the ``BORDERKG_*`` environment variables, the optional config file,
the README's settings table and the service description are all derived from
``SETTINGS``. Resolution order (later wins): defaults, config file (TOML, given by
``--config`` or ``BORDERKG_CONFIG``), environment, explicit overrides (CLI or tests).
Nothing here runs at import time.
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

ENV_PREFIX = "BORDERKG_"


def default_data_dir() -> str:
    """Per-user data directory: ``$XDG_DATA_HOME/borderkg`` or ``~/.local/share/borderkg``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "borderkg")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected a boolean, got {value!r}")


def _list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _at_least(kind: Callable[[Any], Any], low: float,
              high: float | None = None) -> Callable[[Any], Any]:
    """A number converter that refuses values below ``low`` (or above ``high``): a zero or
    negative limit would silently refuse every request instead of bounding them."""
    def convert(value: Any) -> Any:
        number = kind(value)
        if number < low or (high is not None and number > high):
            bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
            raise ValueError(f"expected a number {bound}, got {value!r}")
        return number

    convert.__name__ = kind.__name__
    return convert


def _optional_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _choice(*options: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if str(value) not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {value!r}")
        return str(value)

    convert.__name__ = "|".join(options)
    return convert


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, default, converter and the help shown everywhere."""

    name: str
    default: Any
    help: str
    convert: Callable[[Any], Any] = str
    secret: bool = False

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", None, "Directory of the on-disk store, its journal, snapshots and "
            "the memory copy's checkpoint (default: $XDG_DATA_HOME/borderkg or "
            "~/.local/share/borderkg).", _optional_str),
    Setting("store", "disk", "Store backend: 'disk' (embedded Oxigraph on disk), 'memory' "
            "(embedded, in memory, lost on exit) or 'remote' (a SPARQL 1.1 endpoint).",
            _choice("disk", "memory", "remote")),
    Setting("memory_copy", True, "Disk store: queries that read only the union default "
            "graph (nearly every analyst query) read a copy of that graph in memory, filled "
            "in the background at start-up (until then they read the disk); every write "
            "reaches the disk first. The other queries read the disk.", _bool),
    Setting("load", [], "Comma-separated RDF files loaded into the memory store at start-up, "
            "before the first request (N-Triples/N-Quads in parts, each its own transaction, "
            "which keeps the peak near the data's own size). Memory store only: fill the "
            "disk store once with `borderkg load`.", _list),
    Setting("remote_query_url", None, "Remote backend: SPARQL query endpoint URL.", _optional_str),
    Setting("remote_update_url", None, "Remote backend: SPARQL update endpoint URL "
            "(default: the query URL).", _optional_str),
    Setting("remote_graph_store_url", None, "Remote backend: Graph Store Protocol URL, "
            "if the server offers one (used for fast bulk loads).", _optional_str),
    Setting("remote_user", None, "Remote backend: user name for HTTP authentication.",
            _optional_str),
    Setting("remote_password", None, "Remote backend: password for HTTP authentication.",
            _optional_str, secret=True),
    Setting("remote_auth", "basic", "Remote backend: HTTP authentication scheme: basic or "
            "digest (remote_user and remote_password), or bearer (remote_password is the "
            "token, e.g. another BorderKG's update_token).", _choice("basic", "digest", "bearer")),
    Setting("article", None, "Path of the founding article to build the seed graph from "
            "(default: ../shared/seed/000_e1eaba6903481a9d.txt next to the working "
            "directory or the checkout).", _optional_str),
    Setting("host", "127.0.0.1", "Address the HTTP server binds to."),
    Setting("port", 8000, "Port the HTTP server listens on.", int),
    Setting("workers", 1, "HTTP server worker processes (the embedded store allows one "
            "writer process; keep 1 unless the store is remote).", _at_least(int, 1)),
    Setting("http_server", "granian", "HTTP server: granian (reads whole requests before "
            "a thread runs them, so slow clients cannot hold threads) or gunicorn "
            "(threaded workers; put a buffering proxy in front).",
            _choice("granian", "gunicorn")),
    Setting("read_timeout", 30.0, "Seconds a client may take to send its request headers "
            "and body (408 after; granian only).", _at_least(float, 0.1)),
    Setting("threads", 8, "Request threads per worker.", _at_least(int, 1)),
    Setting("update_token", None, "Bearer token required for every write (SPARQL Update, "
            "Graph Store writes). Without it, writes are refused with 403.", _optional_str,
            secret=True),
    Setting("allow_anonymous_writes", False, "DANGER: accept writes without a token. "
            "For local testing only.", _bool),
    Setting("query_timeout", 10.0, "Seconds a query may run before it is stopped and "
            "answered 503.", _at_least(float, 0.1)),
    Setting("analysis_timeout", 10.0, "Seconds an analysis (/analyses/..., borderkg analyze) "
            "may compute, in a child process killed at the limit, before it is answered 503.",
            _at_least(float, 0.1)),
    Setting("query_workers", 2, "Processes that evaluate queries, sandboxed (no network) "
            "and killed at their time limit, for the disk and memory stores.", _at_least(int, 1)),
    Setting("client_queries", 1, "Queries one client (by address) may have evaluating at "
            "once; more wait briefly, then get 429 (0: no limit). Keeps one client's runaway "
            "queries from holding every query worker.", _at_least(int, 0)),
    Setting("max_rows", 100_000, "Most result rows (or triples) one response carries; a "
            "truncated result says so in the X-BorderKG-Truncated header.", _at_least(int, 1)),
    Setting("max_body_bytes", 16 * 1024 * 1024, "Largest request body accepted (413 above).",
            _at_least(int, 1024)),
    Setting("max_query_bytes", 1024 * 1024, "Largest SPARQL query or update text accepted, "
            "in UTF-8 bytes (413 above); bulk data goes through the Graph Store protocol.",
            _at_least(int, 1024)),
    Setting("default_graph_union", True, "When true, the default graph of a query is the "
            "union of all graphs; when false, only the store's own default graph.", _bool),
    Setting("allowed_service_hosts", [], "Comma-separated hosts that SERVICE may call. "
            "Empty (default): SERVICE is refused.", _list),
    Setting("allowed_load_hosts", [], "Comma-separated hosts that LOAD may fetch from "
            "(exact host match, http/https). Empty (default): LOAD is refused; LOAD SILENT "
            "succeeds without fetching.", _list),
    Setting("trusted_proxies", [], "Comma-separated addresses of reverse proxies whose "
            "X-Forwarded-For header names the client for the per-client limits (empty: "
            "every client is its socket's address).", _list),
    Setting("cors_origins", "*", "Origins allowed to read cross-origin ('*' for any, empty "
            "to disable CORS)."),
    Setting("public_base", None, "Base URL the service is reached at, when behind a proxy "
            "(default: taken from each request).", _optional_str),
    Setting("iri_base", "https://w3id.org/borderkg/", "Base of the IRIs minted by the "
            "project; IRIs under it dereference to this server's documents."),
    Setting("result_cache_size", 256, "Query results kept in memory (0 disables); entries "
            "are keyed by query, dataset and store version, so writes invalidate them.",
            _at_least(int, 0)),
    Setting("log_level", "info", "Log level: debug, info, warning, error.",
            _choice("debug", "info", "warning", "error")),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Resolved settings, one typed field per row of ``SETTINGS`` (same names, same order).

    The table stays the one place names, defaults and help are declared; the fields only
    give each value its type, so ``settings.query_timeout`` is a ``float`` to the type
    checker. A test keeps the two in step. Built by :func:`load_settings`, which converts
    every value first; frozen, because one resolution is shared by the whole process.
    """

    data_dir: str | None
    store: str
    memory_copy: bool
    load: list[str]
    remote_query_url: str | None
    remote_update_url: str | None
    remote_graph_store_url: str | None
    remote_user: str | None
    remote_password: str | None
    remote_auth: str
    article: str | None
    host: str
    port: int
    workers: int
    http_server: str
    read_timeout: float
    threads: int
    update_token: str | None
    allow_anonymous_writes: bool
    query_timeout: float
    analysis_timeout: float
    query_workers: int
    client_queries: int
    max_rows: int
    max_body_bytes: int
    max_query_bytes: int
    default_graph_union: bool
    allowed_service_hosts: list[str]
    allowed_load_hosts: list[str]
    trusted_proxies: list[str]
    cors_origins: str
    public_base: str | None
    iri_base: str
    result_cache_size: int
    log_level: str

    def get(self, name: str, default: Any = None) -> Any:
        """The value of the setting ``name`` (``default`` for a name not in the table).

        Read-by-name for the code that also takes a plain mapping of the few values it
        reads (the SPARQL policy, whose limits a caller may give as ``{"max_query_bytes":
        0}``)."""
        return getattr(self, name, default) if name in BY_NAME else default

    def public(self) -> dict[str, Any]:
        """Settings safe to show (secrets replaced by whether they are set)."""
        shown = {s.name: getattr(self, s.name) for s in SETTINGS}
        return {k: (bool(v) if BY_NAME[k].secret else v) for k, v in shown.items()}

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir or default_data_dir())


def _convert(setting: Setting, value: Any, origin: str) -> Any:
    if value is None:
        return None
    try:
        return setting.convert(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {setting.name} from {origin}: {exc}") from None


def _from_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None
    section = data.get("borderkg", data)
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: 'borderkg' must be a table of settings")
    unknown = set(section) - set(BY_NAME)
    if unknown:
        raise ConfigError(f"config file {path}: unknown settings {', '.join(sorted(unknown))}")
    return section


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None,
                  config_file: str | None = None) -> Settings:
    """Resolve every setting: defaults < config file < environment < overrides."""
    env = os.environ if environ is None else environ
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    unknown = set(overrides) - set(BY_NAME)
    if unknown:
        raise ConfigError(f"unknown settings: {', '.join(sorted(unknown))}")
    config_file = config_file or env.get(ENV_PREFIX + "CONFIG")
    from_file = _from_file(config_file) if config_file else {}
    resolved: dict[str, Any] = {}
    for setting in SETTINGS:
        value, origin = setting.default, "default"
        if setting.name in from_file:
            value, origin = from_file[setting.name], f"config file {config_file}"
        if setting.env in env:
            value, origin = env[setting.env], f"environment {setting.env}"
        if setting.name in overrides:
            value, origin = overrides[setting.name], "command line"
        resolved[setting.name] = _convert(setting, value, origin)
    return Settings(**resolved)


def settings_markdown() -> str:
    """The settings table as Markdown, for the README (a test keeps them in sync)."""
    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = "" if s.default in (None, []) else f"`{s.default}`"
        rows.append(f"| `{s.name}` | `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows)
