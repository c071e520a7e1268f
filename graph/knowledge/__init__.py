"""Hand-authored knowledge, shipped as package data.

* ``article.trig`` -- what the founding article states, one named graph per sentence;
* ``background.trig`` -- reference facts the article presupposes, with their sources.

``graph.seed`` reads them; nothing is read at import time.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["ARTICLE_TRIG", "BACKGROUND_TRIG", "knowledge_path"]

ARTICLE_TRIG = "article.trig"
BACKGROUND_TRIG = "background.trig"


def knowledge_path(name: str) -> Path:
    """Path of the knowledge file ``name`` (e.g. ``"article.trig"``)."""
    return Path(str(resources.files(__name__).joinpath(name)))
