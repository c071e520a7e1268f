"""The BorderKG ontology and SHACL shapes, shipped as package data.

Read through ``importlib.resources`` so the files are found the same way from a checkout,
an editable install or a wheel, and nothing is read at import time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["ontology_path", "read_text", "shapes_path"]

ONTOLOGY_FILE = "borderkg.ttl"
SHAPES_FILE = "shapes.ttl"


def _path(name: str) -> Path:
    return Path(str(resources.files(__name__).joinpath(name)))


def ontology_path() -> Path:
    """Path of the OWL ontology in Turtle."""
    return _path(ONTOLOGY_FILE)


def shapes_path() -> Path:
    """Path of the SHACL shapes the built graph must satisfy."""
    return _path(SHAPES_FILE)


def read_text(name: str) -> str:
    """Text of the package data file ``name`` (e.g. ``"borderkg.ttl"``)."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
