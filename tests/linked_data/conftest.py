"""Fixtures for the analyst surface: a seed store with a slice of the real CBP table."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CBP_STATE_CSV

CHINA = "CHINA, PEOPLES REPUBLIC OF"


@pytest.fixture(scope="session")
def cbp_slice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real CBP table's first 2,000 rows plus every row for China (a small, real import)."""
    target = tmp_path_factory.mktemp("cbp") / "cbp-slice.csv"
    with open(CBP_STATE_CSV, newline="", encoding="utf-8") as source, \
            open(target, "w", newline="", encoding="utf-8") as out:
        reader, writer = csv.reader(source), csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        citizenship = header.index("Citizenship")
        for number, row in enumerate(reader):
            if number < 2000 or row[citizenship] == CHINA:
                writer.writerow(row)
    return target


@pytest.fixture(scope="session")
def cbp_nquads(seed_nquads: str, cbp_slice: Path) -> bytes:
    """Seed plus the CBP slice, as N-Quads (built once; each test loads its own store)."""
    import io

    from pyoxigraph import RdfFormat

    from graph.imports.cbp import import_cbp
    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    store.load(seed_nquads, RdfFormat.N_QUADS)
    import_cbp(store, cbp_slice, progress=False)
    buffer = io.BytesIO()
    store.dump(buffer, RdfFormat.N_QUADS)
    return buffer.getvalue()


@pytest.fixture
def cbp_store(cbp_nquads: bytes) -> Any:
    from pyoxigraph import RdfFormat

    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    store.load(cbp_nquads, RdfFormat.N_QUADS)
    return store


@pytest.fixture
def cbp_app(settings: Any, cbp_store: Any) -> Any:
    from graph.service import Service, build_executor
    from server.app import create_app

    return create_app(settings, Service(settings, cbp_store, build_executor(settings, cbp_store)))


@pytest.fixture
def cbp_client(cbp_app: Any) -> Any:
    return cbp_app.test_client()


def china_totals(path: Path, by: str) -> dict[str, int]:
    """Encounters of Chinese citizens in the CSV at ``path``, summed by column ``by``."""
    totals: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Citizenship"] == CHINA:
                key = row[by]
                totals[key] = totals.get(key, 0) + int(row["Encounter Count"].replace(",", ""))
    return totals
