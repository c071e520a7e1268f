"""``borderkg load``, ``borderkg import ...`` and ``borderkg reconcile``: data in, checks out.

Thin wrappers: each resolves the store settings, opens the store, calls ``graph`` and
prints a short report (progress bars go to stderr, only on a terminal).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from graph.settings import Settings

from .cli import STORE_SETTINGS, open_configured_store, with_settings


@click.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", "graph", default=None, metavar="IRI",
              help="Named graph for triples (default: the default graph). Not for TriG/N-Quads.")
@click.option("--format", "fmt", default=None, metavar="F",
              help="turtle, ntriples, nquads, trig, rdfxml or jsonld (default: from the "
              "file extension, ignoring .gz).")
@click.option("--base", "base_iri", default=None, metavar="IRI", help="Base IRI for relative IRIs.")
@click.option("--bulk", is_flag=True, help="Bulk loader: faster, constant memory, but NOT "
              "transactional (a failure leaves part of the file loaded).")
@with_settings(*STORE_SETTINGS)
def load(settings: Settings, files: tuple[Path, ...], graph: str | None, fmt: str | None,
         base_iri: str | None, bulk: bool) -> None:
    """Load RDF files (optionally gzip-compressed), each file all-or-nothing."""
    from graph.loading import load_file

    store = open_configured_store(settings)
    try:
        for path in files:
            report = load_file(store, path, graph=graph, fmt=fmt, base_iri=base_iri, bulk=bulk)
            rate = report.triples_per_second
            triples = "?" if report.triples is None else f"{report.triples:,}"
            click.echo(f"{path}: {triples} triples ({report.format}) in {report.seconds:.2f} s"
                       + (f", {rate:,.0f} triples/s" if rate else ""))
    finally:
        store.close()


@click.group("import")
def import_group() -> None:
    """Import official statistics as RDF Data Cube observations."""


def _run_import(settings: Settings, func: Any, path: Path, fmt: str) -> None:
    store = open_configured_store(settings)
    try:
        report = func(store, path)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({**report.__dict__, "rows_per_second": report.rows_per_second},
                              indent=2))
        return
    state = "already imported; nothing changed" if report.already_imported else "imported"
    click.echo(f"{path.name}: {report.rows:,} rows -> {report.observations:,} observations, "
               f"{report.quads:,} quads in <{report.graph}> ({state}) in {report.seconds:.2f} s, "
               f"{report.rows_per_second:,.0f} rows/s")


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="Report format.")
FILE = click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))


@import_group.command("cbp-encounters")
@FILE
@FORMAT
@with_settings(*STORE_SETTINGS)
def cbp_encounters(settings: Settings, path: Path, fmt: str) -> None:
    """CBP Nationwide Encounters CSV (by state or by area of responsibility)."""
    from graph.imports.cbp import import_cbp

    _run_import(settings, import_cbp, path, fmt)


@import_group.command("usbp-monthly")
@FILE
@FORMAT
@with_settings(*STORE_SETTINGS)
def usbp_monthly(settings: Settings, path: Path, fmt: str) -> None:
    """USBP monthly encounters by sector (pipe-separated, optionally gzip)."""
    from graph.imports.usbp import import_usbp_monthly

    _run_import(settings, import_usbp_monthly, path, fmt)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--write", is_flag=True, help="Also write the results as RDF into the "
              "reconciliation graph (replacing the previous results).")
@with_settings(*STORE_SETTINGS)
def reconcile(settings: Settings, fmt: str, write: bool) -> None:
    """Check every figure the knowledge graph states against the official data loaded."""
    from graph.reconcile import reconcile as run
    from graph.reconcile import results_table, write_results

    store = open_configured_store(settings)
    try:
        results = run(store)
        if write:
            write_results(store, results)
    finally:
        store.close()
    if fmt == "json":
        json.dump([r.to_dict() for r in results], sys.stdout, indent=2, ensure_ascii=False)
        click.echo()
    else:
        click.echo(results_table(results))
