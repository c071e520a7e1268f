"""``borderkg load``, ``borderkg import ...`` and ``borderkg reconcile``: data in, checks out.

Thin wrappers: each resolves the store settings, opens the store, calls ``graph`` and
prints a short report (progress bars go to stderr, on a terminal or with ``--progress``).
The embedded disk store opens in one process at a time, so beside a running server these
commands stop with one line saying which server holds it and what to do instead
(``graph.store.lock``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from graph.settings import Settings

from .cli_options import STORE_SETTINGS, with_settings

#: the lock's remedy for ``import``: statistics reach the store only through this command
IMPORT_REMEDY = "stop it, run this import, and start it again"
#: the lock's remedy for ``reconcile``: the running server reconciles too
RECONCILE_REMEDY = "stop it and run this command again, or ask the server: {url}/reconciliation"


def open_store(settings: Settings, remedy: str) -> Any:
    """The configured store; a disk store that a running server holds is one line
    naming the server and ``remedy``."""
    from graph.service import open_store_explained

    return open_store_explained(settings, remedy)


def load_remedy(path: Path, graph: str | None, fmt: str | None) -> str:
    """What to do instead of ``borderkg load`` beside a server: stop it, or hand the file
    to its Graph Store protocol (one POST per file, one transaction on the server)."""
    from urllib.parse import quote

    from graph.formats import ALL_RDF
    from graph.store.loading import DATASET_FORMATS, file_format

    engine = file_format(path, fmt)
    media = next(f.media_type for f in ALL_RDF if f.engine == engine)
    target = (f"?graph={quote(graph, safe=':/')}" if graph
              else "" if engine in DATASET_FORMATS else "?default")
    auth = '-H "Authorization: Bearer $BORDERKG_UPDATE_TOKEN"'
    send = (f"gunzip -c {path} | curl --data-binary @-" if path.suffix == ".gz"
            else f"curl --data-binary @{path}")
    return (f"stop it and run this command again, or send the file to it (one request per "
            f"file): {send} -X POST {auth} -H 'Content-Type: {media}' "
            f"'{{url}}/graph-store{target}'")


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
    from graph.store.loading import load_file

    store = open_store(settings, load_remedy(files[0], graph, fmt))
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


def _run_import(settings: Settings, func: Any, path: Path, fmt: str,
                progress: bool | None) -> None:
    store = open_store(settings, IMPORT_REMEDY)
    try:
        report = func(store, path, progress=progress)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps({**report.__dict__, "rows_per_second": report.rows_per_second},
                              indent=2))
    elif report.already_imported:
        click.echo(f"{path.name}: unchanged since its import at "
                   f"{report.details['imported_at']} (SHA-256 {report.sha256[:12]}..., "
                   f"importer {report.details['importer']}); nothing written to "
                   f"<{report.graph}>, in {report.seconds:.2f} s")
    else:
        click.echo(f"{path.name}: {report.rows:,} rows -> {report.observations:,} "
                   f"observations, {report.quads:,} quads in <{report.graph}> (imported) in "
                   f"{report.seconds:.2f} s, {report.rows_per_second:,.0f} rows/s")


FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                      show_default=True, help="Report format.")
FILE = click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
PROGRESS = click.option("--progress/--no-progress", default=None,
                        help="Show the reading and writing bars on stderr (default: only "
                        "when stderr is a terminal).")


@import_group.command("cbp-encounters")
@FILE
@FORMAT
@PROGRESS
@with_settings(*STORE_SETTINGS)
def cbp_encounters(settings: Settings, path: Path, fmt: str, progress: bool | None) -> None:
    """CBP Nationwide Encounters CSV (by state or by area of responsibility)."""
    from graph.imports.cbp import import_cbp

    _run_import(settings, import_cbp, path, fmt, progress)


@import_group.command("usbp-monthly")
@FILE
@FORMAT
@PROGRESS
@with_settings(*STORE_SETTINGS)
def usbp_monthly(settings: Settings, path: Path, fmt: str, progress: bool | None) -> None:
    """USBP monthly encounters by sector (pipe-separated, optionally gzip)."""
    from graph.imports.usbp import import_usbp_monthly

    _run_import(settings, import_usbp_monthly, path, fmt, progress)


@import_group.command("ice-removals")
@FILE
@FORMAT
@PROGRESS
@with_settings(*STORE_SETTINGS)
def ice_removals(settings: Settings, path: Path, fmt: str, progress: bool | None) -> None:
    """ICE removals by country of citizenship and fiscal year (CSV)."""
    from graph.imports.ice import import_ice_removals

    _run_import(settings, import_ice_removals, path, fmt, progress)


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="Output format.")
@click.option("--write", is_flag=True, help="Also write the results as RDF into the "
              "reconciliation graph (replacing the previous results).")
@with_settings(*STORE_SETTINGS)
def reconcile(settings: Settings, fmt: str, write: bool) -> None:
    """Check every figure the knowledge graph states against the official data loaded."""
    from graph.imports.reconcile import reconcile as run
    from graph.imports.reconcile import results_table, write_results

    store = open_store(settings, RECONCILE_REMEDY)
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
