"""The steps an importer of a table read whole takes, in one place (USBP, ICE).

Check that the file exists, answer "unchanged" from the provenance record when these
bytes were imported by this importer version, else read and check every row, then write
the rows' quads and the provenance record in one transaction, with the progress bars,
and tidy what an earlier version left in the importer's graph
(:func:`graph.imports.reference.drop_local_copies`). The CBP importer streams its rows
instead (its table is large) and keeps its own loop.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Quad

from graph.store.base import Store

from .common import (
    Importer,
    ImportReport,
    already_imported,
    file_sha256,
    open_table,
    previous_import,
    provenance_quads,
    timed,
    unchanged_report,
    write_import,
)
from .progress import ImportProgress, Observer
from .reference import drop_local_copies


@dataclass
class ReadTable:
    """What reading a whole table gave: every quad to write but the provenance record."""

    quads: list[Quad]
    rows: int
    observations: int
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """Where an importer writes: its data set, in its own named graph."""

    importer: Importer
    dataset: str
    graph: str


def import_table(store: Store, path: Path, target: Target,
                 read: Callable[[ImportProgress], ReadTable], progress: bool | None = None,
                 observe: Observer | None = None) -> ImportReport:
    """Import ``path`` with ``read`` (which gets the bars and checks every row before
    anything is written); ``progress``/``observe`` are as for
    :func:`graph.imports.cbp.import_cbp`."""
    path = Path(path)

    def run() -> ImportReport:
        open_table(path).close()  # a missing file is refused before its digest is taken
        sha = file_sha256(path)
        previous = previous_import(store, target.importer, sha, target.dataset, target.graph)
        if previous is not None:
            return unchanged_report(path, sha, target.dataset, target.graph, target.importer,
                                    previous)
        bars = ImportProgress(path, progress, observe)
        try:
            table = read(bars)
            existed = already_imported(store, target.importer, sha)
            quads = [*table.quads, *provenance_quads(target.importer, path, sha, table.rows,
                                                     target.dataset, existed)]
            with bars.ticking():
                write_import(store, bars.counted(quads))
            drop_local_copies(store, target.graph)
            bars.written()
        finally:
            bars.close()
        return ImportReport(str(path), sha, target.dataset, target.graph, table.rows,
                            table.observations, len(quads), False, details=table.details)

    return timed(run)
