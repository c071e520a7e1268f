"""The real CBP file imported once per session into an in-memory store."""
from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import CBP_STATE_CSV


@pytest.fixture(scope="session")
def cbp_store() -> Any:
    """An in-memory store holding the real CBP by-state table (42,532 rows)."""
    from graph.imports.cbp import import_cbp
    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    store.report = import_cbp(store, CBP_STATE_CSV, progress=False)  # type: ignore[attr-defined]
    return store
