"""Build the seed graph into a store: the ontology, the article's knowledge, background.

The seed quads come from ``graph.seed`` (authored TriG plus the article read as a
source); this module only decides *where* they go and makes the build idempotent: the
seed graphs are replaced in one SPARQL update, so building twice gives the same store and
a reader never sees a half-built seed.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import RdfFormat, parse

from . import ids
from .errors import NotFound
from .store import Store

ARTICLE_FILE = f"{ids.ARTICLE_ID}.txt"
SEED_GRAPHS = (ids.GRAPH_ONTOLOGY, ids.GRAPH_ARTICLE, ids.GRAPH_BACKGROUND)


@dataclass(frozen=True)
class BuildReport:
    """What a build did: quads per graph, and the article it read."""

    article: Path
    quads: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.quads.values())


def find_article(configured: str | None = None) -> Path:
    """The founding article: the configured path, else ``../shared/seed/`` beside the
    working directory or beside the checkout (where CI and developers keep it)."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise NotFound(f"article not found: {path}")
        return path
    checkout = Path(__file__).resolve().parents[1]
    for root in (Path.cwd(), checkout):
        candidate = root.parent / "shared" / "seed" / ARTICLE_FILE
        if candidate.is_file():
            return candidate
    raise NotFound(f"article {ARTICLE_FILE} not found in ../shared/seed/; "
                   "give its path with --article or BORDERKG_ARTICLE")


def build(store: Store, article: Path) -> BuildReport:
    """Replace the seed graphs of ``store`` with a fresh build from ``article``."""
    from .seed import seed_nquads  # the knowledge layer; imported here to keep start-up light

    nquads = seed_nquads(article)
    counts = {g: 0 for g in SEED_GRAPHS}
    for quad in parse(io.BytesIO(nquads.encode("utf-8")), RdfFormat.N_QUADS):
        counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
    drops = "".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in SEED_GRAPHS)
    store.update(f"{drops}INSERT DATA {{\n{_as_graph_blocks(nquads)}\n}}")
    return BuildReport(article=article, quads=counts)


def _as_graph_blocks(nquads: str) -> str:
    """N-Quads lines regrouped as ``GRAPH <g> { triples }`` blocks for INSERT DATA."""
    by_graph: dict[str, list[str]] = {}
    for line in nquads.splitlines():
        line = line.strip()
        if not line:
            continue
        body, _, graph = line.rstrip(" .").rpartition(" ")
        by_graph.setdefault(graph, []).append(body + " .")
    return "\n".join(f"GRAPH {g} {{\n" + "\n".join(lines) + "\n}" for g, lines in by_graph.items())


def is_built(store: Store) -> bool:
    """Whether the store already holds the article graph (``serve`` builds when not)."""
    return store.contains_graph(ids.GRAPH_ARTICLE)


def validate_store(store: Store, graphs: tuple[str, ...] = SEED_GRAPHS) -> Any:
    """SHACL-validate ``graphs`` of ``store`` (the seed by default).

    The graphs are copied out as N-Quads into rdflib for pyshacl; the imported statistics
    are left out by default because validating tens of thousands of observations with
    pyshacl takes minutes, and their importer checks each row as it builds it.
    """
    from rdflib import Graph

    from .validate import validate_graph

    data = Graph()
    for graph in graphs:
        buffer = io.BytesIO()
        store.dump(buffer, RdfFormat.N_TRIPLES, graph)
        data.parse(data=buffer.getvalue().decode("utf-8"), format="nt")
    return validate_graph(data)
