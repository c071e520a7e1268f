"""The ``borderkg`` command.

Commands are thin: they resolve settings, open the store and call ``graph``. Heavier
command groups live in their own modules and are imported only when used, so
``borderkg query`` starts fast and never pays for Flask or networkx.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import click

from graph.errors import BadParameter, BorderKGError, QuerySyntaxError
from graph.settings import Settings

from .cli_options import STORE_SETTINGS, open_configured_store, with_settings

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
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, LAZY_COMMANDS[n][1] if n in LAZY_COMMANDS
                 else (self.commands[n].get_short_help_str(60))) for n in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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


if __name__ == "__main__":
    sys.exit(main())
