"""The ``borderkg`` command.

Commands are thin: they resolve settings, open the store and call ``graph``. Heavier
command groups live in their own modules and are imported only when used, so
``borderkg query`` starts fast and never pays for Flask or networkx.
"""
from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from graph.errors import BadParameter, BorderKGError, ConfigError, QuerySyntaxError
from graph.settings import ENV_PREFIX, SETTINGS, Setting, Settings, load_settings

#: command name -> "module:attribute", imported on first use
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("server.cli_serve:serve", "Run the HTTP service (SPARQL endpoint, pages, API)."),
    "ingest": ("server.cli_ingest:ingest", "Draft a new source's TriG for a curator."),
    "load": ("server.cli_data:load", "Load RDF files into the store."),
    "import": ("server.cli_data:import_group", "Import official statistics."),
    "reconcile": ("server.cli_data:reconcile", "Check the article's figures against data."),
    "entail": ("server.cli_entail:entail", "Materialise RDFS / OWL 2 RL entailments."),
    "analyze": ("server.cli_analyze:analyze", "Relationship analyses (paths, centrality...)."),
    "search": ("server.cli_search:search", "Search labels and sentences, with facets."),
    "backup": ("server.cli_backup:backup", "Back the store up, also while the server runs."),
    "restore": ("server.cli_backup:restore", "Restore a backup into the data directory."),
}


class LazyGroup(click.Group):
    """A group whose heavier subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in LAZY_COMMANDS:
            module, _, attr = LAZY_COMMANDS[name][0].partition(":")
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, LAZY_COMMANDS[n][1] if n in LAZY_COMMANDS
                 else (self.commands[n].get_short_help_str(60))) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def setting_option(setting: Setting) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option for a setting; its value overrides config file and environment."""
    flag = "--" + setting.name.replace("_", "-")
    if setting.default is False or setting.default is True:
        return click.option(flag, setting.name, is_flag=True, default=None, help=setting.help)
    return click.option(flag, setting.name, default=None,
                        help=setting.help + f" [env {setting.env}]")


def with_settings(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add options for the named settings plus ``--config``; pass ``settings`` to the command."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(config: str | None, **kwargs: Any) -> Any:
            overrides = {n: kwargs.pop(n) for n in names}
            settings = resolve_settings(overrides, config)
            if "data_dir" in names and settings.store == "disk":
                check_data_dir(settings)
            return func(settings=settings, **kwargs)

        wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
        for setting in reversed([s for s in SETTINGS if s.name in names]):
            wrapper = setting_option(setting)(wrapper)
        return click.option("--config", default=None, help="TOML config file "
                            "[env BORDERKG_CONFIG].")(wrapper)

    return decorate


def resolve_settings(overrides: dict[str, Any], config: str | None) -> Settings:
    """:func:`load_settings`, with a config file that is not UTF-8 text (TOML must be)
    reported as a :class:`ConfigError` rather than a decoding traceback."""
    try:
        return load_settings(overrides, config_file=config)
    except UnicodeDecodeError:
        path = config or os.environ.get(ENV_PREFIX + "CONFIG")
        raise ConfigError(f"config file {path} is not UTF-8 text (TOML must be)") from None


def check_data_dir(settings: Settings) -> None:
    """Create the disk store's directory now, so an unusable ``data_dir`` (under a
    read-only file system such as /proc, below a regular file, or a file itself) is one
    clear line naming the setting, not an ``OSError`` from deep inside the store."""
    target = settings.data_path / "store"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason = "a regular file is in the way"
        raise ConfigError(f"cannot use data directory {settings.data_path} (--data-dir, "
                          f"{ENV_PREFIX}DATA_DIR): cannot create {target}: {reason}") from None


STORE_SETTINGS = ("data_dir", "store", "remote_query_url", "remote_update_url",
                  "remote_graph_store_url", "remote_user", "remote_password", "remote_auth")


def open_configured_store(settings: Settings) -> Any:
    """The configured store; a disk store a running server holds is one line naming it."""
    from graph.service import open_store_explained

    return open_store_explained(settings)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="borderkg")
def cli() -> None:
    """BorderKG: a linked-data knowledge graph of U.S. immigration enforcement and removal
    cooperation, with a SPARQL 1.1 endpoint, linked-data pages and analyses."""


@cli.command()
@click.option("--source", "sources", multiple=True, metavar="PATH",
              type=click.Path(exists=True, path_type=Path),
              help="A curated source's TriG file, or a directory of them (*.trig), built "
              "into its own graph; repeatable.")
@with_settings(*STORE_SETTINGS, "article")
def build(settings: Settings, sources: tuple[Path, ...]) -> None:
    """Build (or rebuild) the seed graph from the founding article, and any curated
    sources given; idempotent. Every source is checked before anything is written."""
    from graph.knowledge.build import build as build_seed
    from graph.knowledge.build import find_article
    from graph.knowledge.sources import build_sources, read_sources

    curated = read_sources(sources)
    article = find_article(settings.article)
    store = open_configured_store(settings)
    try:
        report = build_seed(store, article)
        built = build_sources(store, curated)
    finally:
        store.close()
    for graph, count in report.quads.items():
        click.echo(f"{count:>7} quads  {graph}")
    click.echo(f"{report.total:>7} quads  built from {report.article}")
    for source in curated:
        click.echo(f"{built[source.graph]:>7} quads  {source.graph}  from {source.path}")


@cli.command()
@with_settings(*STORE_SETTINGS)
def validate(settings: Settings) -> None:
    """Check the store's seed graphs against the SHACL shapes; exit 1 when they fail."""
    from graph.knowledge.build import validate_store

    store = open_configured_store(settings)
    result = validate_store(store)
    store.close()
    click.echo(result.report)
    if not result.conforms:
        sys.exit(1)


@cli.command()
@click.argument("sparql", required=False)
@click.option("--file", "-f", "path", type=click.Path(exists=True, dir_okay=False),
              help="Read the query from a file.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json", "xml",
                                                     "turtle", "ntriples", "jsonld"]),
              default="table", show_default=True, help="Output format.")
@with_settings(*STORE_SETTINGS, "default_graph_union")
def query(settings: Settings, sparql: str | None, path: str | None, fmt: str) -> None:
    """Run a SPARQL query (a string, or --file) against the store."""
    from graph.sparql.output import write_result

    if bool(sparql) == bool(path):
        raise click.UsageError("give a query string or --file, not both and not neither")
    text = read_query_file(Path(path)) if path else str(sparql)
    store = open_configured_store(settings)
    try:
        admit_query(text, settings, store)
        result = store.query(text, union_default=settings.default_graph_union)
        check_result_format(result, fmt)
        write_result(result, fmt, sys.stdout)
    finally:
        store.close()


def read_query_file(path: Path) -> str:
    """The query text of ``path``; SPARQL is UTF-8 by definition, so another encoding
    is refused with the offending byte's position rather than guessed."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadParameter(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                           f"{exc.start}); SPARQL files must be UTF-8") from None


def admit_query(text: str, settings: Settings, store: Any) -> None:
    """The same policy as /sparql, after one check of the command line's own: it has no
    base IRI to resolve relative IRIs against (the endpoint uses the request's URL), so
    a relative FROM/FROM NAMED IRI names no graph and is refused as the query's fault."""
    from pyoxigraph import NamedNode

    from graph.sparql.policy import admit
    from graph.sparql.text import analyse

    for keyword, iri in analyse(text, "query").dataset:
        try:
            NamedNode(iri) if iri else None
        except ValueError as exc:
            raise QuerySyntaxError(f"SPARQL query: {keyword} <{iri}>: {exc}; the command "
                                   "line has no base IRI, so write absolute IRIs",
                                   iri=iri) from None
    admit(text, "query", settings, store)


def check_result_format(result: Any, fmt: str) -> None:
    """Refuse a graph format for an ASK answer (it has no triples to write) before
    anything is printed, as :func:`graph.sparql.output.write_result` does for SELECT."""
    from pyoxigraph import QueryBoolean

    if isinstance(result, QueryBoolean) and fmt in GRAPH_FORMATS:
        raise BadParameter(f"format {fmt} is for graphs; an ASK answer is written as "
                           "table, json, xml, csv or tsv")


#: the ``query --format`` choices that serialise RDF graphs (CONSTRUCT, DESCRIBE)
GRAPH_FORMATS = frozenset({"turtle", "ntriples", "jsonld"})


def main(argv: list[str] | None = None) -> int:
    """Entry point: every user mistake becomes one line on stderr, ``borderkg: error:
    ...``, and a non-zero exit (2 for a misused command line, as click does; 1 for the
    rest), so scripts can read the reason from the last line and never see a traceback.

    A group called without a subcommand still prints its help (exit 2): that is a
    request for help, not an error to explain."""
    try:
        cli.main(args=argv, prog_name="borderkg", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(error_line(click_message(exc)), err=True)
        return exc.exit_code
    except BorderKGError as exc:
        click.echo(error_line(exc.message), err=True)
        return 1
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def click_message(exc: click.ClickException) -> str:
    """Click's message, pointing a usage error at the command's help (click prints the
    usage and the hint on lines of their own)."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message = message[:-1] if message.endswith(".") and message[-2:] != ".." else message
        message = f"{message} (see '{ctx.command_path} --help')"
    return message


def error_line(message: str) -> str:
    """``message`` as the one error line; a message of several lines (a parser's
    report, an OS error) is joined, since a script reads the reason from one line."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    return f"borderkg: error: {text or 'failed'}"


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
