"""Build the seed graph into a store: the ontology, the article's knowledge, background.

The seed quads come from ``graph.knowledge.seed`` (authored TriG plus the article read as a
source); this module only decides *where* they go and makes the build idempotent: the
seed graphs are replaced in one SPARQL update, so building twice gives the same store and
a reader never sees a half-built seed. The reference graph (periods) is the exception:
importers add to it too, so the build adds its periods there without dropping it (see
``graph.imports.reference``; a period's description depends only on its IRI, so what is
already there is never stale).

A service must start on a machine that lacks the article's file (a fresh clone), so
:func:`ensure_seed` builds what the project alone provides and says once, at start-up,
what is missing. Such a seed is marked by its document having no SHA-256 (only the file
gives one); :func:`seed_state` reads the mark, so the first start that finds the file
completes the seed.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pyoxigraph import NamedNode, RdfFormat, parse

from graph import ids
from graph.errors import NotFound
from graph.namespace import bkg
from graph.store.base import Store

ARTICLE_FILE = f"{ids.ARTICLE_ID}.txt"
SEED_GRAPHS = (ids.GRAPH_ONTOLOGY, ids.GRAPH_ARTICLE, ids.GRAPH_BACKGROUND, ids.GRAPH_REFERENCE)
#: the seed graphs only the build writes, replaced whole by each build
REPLACED_GRAPHS = (ids.GRAPH_ONTOLOGY, ids.GRAPH_ARTICLE, ids.GRAPH_BACKGROUND)
#: the article's document resource, as ``graph.knowledge.article.document_iri`` mints it (spelt out
#: here so that checking a built store needs no rdflib at start-up)
DOCUMENT = ids.thing("source", ids.ARTICLE_ID)
SHA256 = bkg.sha256
#: "complete": seed with the article; "article missing": seed whose sentences have no
#: text; "none": no seed (an empty store, or one filled with ``--empty``)
SeedState = Literal["complete", "article missing", "none"]

log = logging.getLogger("borderkg")


class ArticleNotFound(NotFound):
    """The founding article's file is not where it was looked for."""

    code = "article-not-found"

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message, path=str(path))
        self.path = path


@dataclass(frozen=True)
class BuildReport:
    """What a build did: quads per graph, and the article it read (None: built without)."""

    article: Path | None
    quads: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.quads.values())


def find_article(configured: str | None = None) -> Path:
    """The founding article: the configured path, else ``../shared/seed/`` beside the
    working directory or beside the checkout (where CI and developers keep it)."""
    checkout = Path(__file__).resolve().parents[1]
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ArticleNotFound(f"article not found: {path}", path)
        return path
    for root in (Path.cwd(), checkout):
        candidate = root.parent / "shared" / "seed" / ARTICLE_FILE
        if candidate.is_file():
            return candidate
    raise ArticleNotFound(f"article {ARTICLE_FILE} not found in ../shared/seed/; "
                          "give its path with --article or BORDERKG_ARTICLE",
                          checkout.parent / "shared" / "seed" / ARTICLE_FILE)


def missing_article_notice(looked_for: Path | str) -> str:
    """The one line saying what a seed built without the article lacks, and the remedy."""
    return (f"article {looked_for} not found: the article's claims are served without "
            "their quoted sentences until --article names the file (setting article, "
            "BORDERKG_ARTICLE)")


def ensure_seed(store: Store, configured: str | None = None) -> BuildReport | None:
    """Build the seed into ``store`` unless it holds a complete one; what a start does.

    Without the article's file, a store without a seed gets the seed without the
    sentences' text, and a store that already holds that one is left as it is; either
    way the notice is logged, once per start. With the file, any incomplete seed is
    rebuilt whole. A file that is not the article is still an error (it is refused
    before anything is written)."""
    state = seed_state(store)
    if state == "complete":
        return None
    try:
        article: Path | None = find_article(configured)
    except ArticleNotFound as exc:
        article = None
        log.warning("%s", missing_article_notice(exc.path))
        if state == "article missing":
            return None
    report = build(store, article)
    if article is not None:
        log.info("built seed graph: %d quads from %s", report.total, article)
    return report


def build(store: Store, article: Path | None) -> BuildReport:
    """Replace the seed graphs of ``store`` with a fresh build from ``article`` (None:
    without the article's text; see :func:`ensure_seed`); the periods are added to the
    shared reference graph."""
    from .seed import seed_nquads  # the knowledge layer; imported here to keep start-up light

    nquads = seed_nquads(article)
    counts = {g: 0 for g in SEED_GRAPHS}
    for quad in parse(io.BytesIO(nquads.encode("utf-8")), RdfFormat.N_QUADS):
        counts[quad.graph_name.value] = counts.get(quad.graph_name.value, 0) + 1
    drops = "".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in REPLACED_GRAPHS)
    store.update(f"{drops}INSERT DATA {{\n{_as_graph_blocks(nquads)}\n}}")
    graph, checks = _reconcile(store)
    counts[graph] = checks
    return BuildReport(article=article, quads=counts)


def _reconcile(store: Store) -> tuple[str, int]:
    """Refresh the reconciliation graph: the stated figures and changes just built are
    checked (against the official data loaded, if any) where every check lives. Returns
    that graph and its size, which the build reports with the graphs it wrote."""
    from graph.imports.reconcile import GRAPH, reconcile, write_results

    write_results(store, reconcile(store))
    return GRAPH, store.count(GRAPH)


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


def seed_state(store: Store) -> SeedState:
    """How much of the seed ``store`` holds (see :data:`SeedState`)."""
    if not store.contains_graph(ids.GRAPH_ARTICLE):
        return "none"
    digest = store.quads(NamedNode(DOCUMENT), NamedNode(SHA256), None, ids.GRAPH_ARTICLE)
    return "complete" if next(iter(digest), None) is not None else "article missing"


def is_built(store: Store) -> bool:
    """Whether the store holds the whole seed, the article's sentences included (a seed
    built without the article is not: the first start with the file completes it)."""
    return seed_state(store) == "complete"


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
