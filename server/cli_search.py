"""``borderkg search``: the search of ``/search`` from the command line."""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from graph.settings import Settings

from .cli_options import STORE_SETTINGS, open_configured_store, with_settings

if TYPE_CHECKING:
    from graph.documents.search import SearchResult


def _table(result: SearchResult) -> None:
    click.echo(f"{result.total} result{'' if result.total == 1 else 's'} for {result.query!r}")
    for word, near in result.corrections.items():
        click.echo(f"  (read {word!r} as {' or '.join(near)})")
    for hit in result.hits:
        click.echo(f"{hit.score:>9.3f}  {hit.kind:<9}  {hit.label}  <{hit.iri}>")
    for name, facet in (("type", result.types), ("graph", result.graphs)):
        click.echo(f"by {name}: " + ", ".join(f"{f.value} ({f.count})" for f in facet))


@click.command()
@click.argument("words")
@click.option("--type", "types", multiple=True, metavar="IRI",
              help="Only resources of this type (IRI or prefixed name such as bkg:Country); "
              "repeatable.")
@click.option("--graph", "graphs", multiple=True, metavar="IRI",
              help="Only resources matched in this graph; repeatable.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100),
              help="Most results.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@with_settings(*STORE_SETTINGS)
def search(settings: Settings, words: str, types: tuple[str, ...], graphs: tuple[str, ...],
           limit: int, fmt: str) -> None:
    """Search labels and sentences (ranked, typos tolerated), with facets by type and graph."""
    from graph.documents.search import index_for

    from .search_api import expand

    store = open_configured_store(settings)
    try:
        directory = settings.data_path if store.backend == "disk" else None
        index = index_for(store, {}, directory)
        result = index.search(words, limit, [expand(t) for t in types], list(graphs))
    finally:
        store.close()
    if fmt == "json":
        json.dump(result.to_dict(), sys.stdout, indent=2, ensure_ascii=False)
        click.echo()
    else:
        _table(result)
