"""Paths and shared, cached builds for the knowledge tests (kept out of conftest.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rdflib import Dataset

TESTS = Path(__file__).resolve().parent
DATA = TESTS / "data"
ARTICLE_PATH = (
    Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "000_e1eaba6903481a9d.txt"
)


@lru_cache(maxsize=1)
def seed_dataset() -> Dataset:
    """The seed dataset, built once per test session (tests must not modify it)."""
    from graph.knowledge.seed import build_seed_dataset

    return build_seed_dataset(ARTICLE_PATH)


@lru_cache(maxsize=1)
def seed_nquads() -> str:
    from graph.knowledge.seed import seed_nquads as build

    return build(ARTICLE_PATH)
