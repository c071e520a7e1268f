"""The knowledge of the sources: the founding article and authored background as RDF.

* :mod:`.article`, :mod:`.seed`, :mod:`.build` -- the article's sentences, the seed
  dataset (ontology, background, claims) and building it into a store;
* :mod:`.checks`, :mod:`.validate` -- the figures' consistency checks and SHACL validation;
* :mod:`.entailment` -- RDFS / OWL 2 RL entailment into its own graph;
* :mod:`.ingest`, :mod:`.sources`, :mod:`.text_spans` -- drafting and building curated
  sources.

Hand-authored knowledge ships here as package data:

* ``article.trig`` -- what the founding article states, one named graph per sentence;
* ``background.trig`` -- reference facts the article presupposes, with their sources.

``graph.knowledge.seed`` reads them; nothing is read at import time.
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
