"""IRIs minted by BorderKG, in one place.

Every resource the project mints lives under one stable base so that linked-data
consumers can rely on it and the server can map it to documents:

* ``{BASE}def/...``   ontology terms (classes, properties, code lists)
* ``{BASE}id/...``    things (agencies, countries, flights, claims, sentences...)
* ``{BASE}graph/...`` named graphs (article, background, ontology, imports...)

Kept free of rdflib/pyoxigraph so every layer can use plain strings.
"""
from __future__ import annotations

import re
import unicodedata

BASE = "https://w3id.org/borderkg/"
DEF = BASE + "def/"
ID = BASE + "id/"
GRAPH = BASE + "graph/"

ARTICLE_ID = "000_e1eaba6903481a9d"

GRAPH_ONTOLOGY = GRAPH + "ontology"
GRAPH_ARTICLE = GRAPH + "article/" + ARTICLE_ID
GRAPH_BACKGROUND = GRAPH + "background"
#: periods and code lists that the seed and the importers share (one home per fact)
GRAPH_REFERENCE = GRAPH + "reference"


def thing(kind: str, slug: str) -> str:
    """IRI of a thing of ``kind`` (``org``, ``country``, ``flight``...) named ``slug``."""
    return f"{ID}{kind}/{slug}"


def graph(name: str) -> str:
    """IRI of the named graph ``name``."""
    return GRAPH + name


def slugify(text: str) -> str:
    """A stable, ASCII, lower-case slug: accents folded, runs of other characters to ``-``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
