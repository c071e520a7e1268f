"""``borderkg entail``: materialise what the ontology entails into its own graph.

A thin wrapper over :func:`graph.knowledge.entailment.entail`: it opens the configured store, runs
owlrl over the ontology and the knowledge graphs, replaces ``graph/entailment`` and prints
the counts. Beside a running server the disk store is held, so the command stops with
the lock's one line (``graph.store.lock``).
"""
from __future__ import annotations

import json

import click

from graph.knowledge.entailment import MAX_TRIPLES, PROFILES
from graph.settings import Settings

from .cli_options import STORE_SETTINGS, open_configured_store, with_settings


@click.command()
@click.option("--profile", type=click.Choice(PROFILES), default="rdfs", show_default=True,
              help="Entailment rules: RDFS, or OWL 2 RL (slower, about twice).")
@click.option("--include-statistics", is_flag=True,
              help="Also read the imported statistics graphs (within --max-triples).")
@click.option("--max-triples", type=click.IntRange(min=0), default=MAX_TRIPLES,
              show_default=True, help="Refuse an input larger than this many triples.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format.")
@with_settings(*STORE_SETTINGS)
def entail(settings: Settings, profile: str, include_statistics: bool, max_triples: int,
           fmt: str) -> None:
    """Replace the entailment graph with the triples the ontology entails (RDFS by
    default) from the ontology and the knowledge graphs; idempotent."""
    from graph.knowledge.entailment import entail as run

    store = open_configured_store(settings)
    try:
        report = run(store, profile, include_statistics=include_statistics,
                     max_triples=max_triples)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    click.echo(f"{report.entailed:,} entailed triples ({report.profile}) in <{report.graph}> "
               f"from {report.input_triples:,} triples of {len(report.sources)} graphs "
               f"in {report.seconds:.2f} s")
