"""Full-text search over labels, alternative labels and the article's sentences.

SPARQL ``CONTAINS`` is neither ranked nor tolerant of typing mistakes, and scanning every
literal per keystroke is wasteful; the texts worth searching are few, so they are folded
into a SQLite FTS5 index (``graph.documents.search_index``) kept next to the store's ``etag``.

Matching: every word of the query must start a word of the text (accents, case and
punctuation ignored). A query word no indexed word starts with is replaced by the indexed
words nearest to it (one edit for a short word, two for a long one, found through a
trigram table), so "deportaton" finds "deportation" and "Guatamala" "Guatemala".

Ranking, best first: label matches (``rdfs:label``, ``skos:prefLabel``, ``schema:name``,
``skos:altLabel``) before sentence matches; within them a text equal to the query; then
bm25; then preferred labels before alternatives. One hit per resource, its best text.

Facets count matched resources by type and by graph (a resource counts in each graph
where one of its matching texts is). Each facet is counted with the other facet's filter
applied but not its own, so picking a type still shows what the other types would give.

Freshness: the index records the etag it was built at, and the next search after a write
(any write changes the etag) rebuilds it. A rebuild reads only the texts and, through
``VALUES``, the types of their resources, so an imported table's observations cost
almost nothing: on disk with the seed graph and the CBP state table imported
(``borderkg import cbp-encounters``, 471,421 quads, 444 indexed texts) a rebuild takes
0.07-0.15 s and the file is 0.3 MB; the seed alone, 0.02 s in memory. For the disk store
the index is a file in the data directory (``search-index.sqlite``, written beside it
and moved into place); for the memory store a connection in this process, which forked
query workers inherit and read.

The same search is in SPARQL: ``bkgfn:matches(?r, "words")`` is true when ``?r`` is a
hit, ``bkgfn:score(?r, "words")`` its bm25 relevance (higher is better) or unbound.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from graph import ids
from graph.store.base import Store
from graph.store.oxigraph import CUSTOM_FUNCTIONS

from .search_index import TIERS, create, fold, has_word_prefix, near_words

__all__ = ["FN", "INDEX_FILE", "Facet", "Hit", "SearchIndex", "SearchResult", "attach",
           "fold", "index_for"]

#: namespace of BorderKG's own SPARQL functions
FN = ids.DEF + "fn#"
INDEX_FILE = "search-index.sqlite"
#: most candidate rows read for one query (a word in every sentence stays cheap)
MAX_ROWS = 5000


@dataclass(frozen=True)
class Hit:
    """One result: the resource, the text that matched it and how well."""

    iri: str
    label: str
    kind: str  # "label", "alt-label" or "sentence"
    text: str
    graph: str
    score: float
    match: str  # "exact", "words" or "fuzzy"
    types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "label": self.label, "kind": self.kind, "text": self.text,
                "graph": self.graph, "score": self.score, "match": self.match,
                "types": list(self.types)}


@dataclass(frozen=True)
class Facet:
    """One value of a facet and how many matched resources have it."""

    value: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """The hits of one query, its facets, and the corrections made to misspelt words."""

    query: str
    hits: list[Hit]
    total: int
    types: list[Facet] = field(default_factory=list)
    graphs: list[Facet] = field(default_factory=list)
    corrections: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "corrections": self.corrections,
                "results": [h.to_dict() for h in self.hits],
                "facets": {"type": [vars(f) for f in self.types],
                           "graph": [vars(f) for f in self.graphs]}}


@dataclass
class _Best:
    """A resource's best matching row so far, and the graphs its matches are in."""

    key: tuple[int, bool, float, int]
    row: tuple[Any, ...]
    graphs: set[str]


class SearchIndex:
    """The index of one version of the store: an SQLite connection and its etag."""

    def __init__(self, conn: sqlite3.Connection, etag: str, path: Path | None = None,
                 seconds: float = 0.0) -> None:
        self.conn, self.etag, self.path, self.seconds = conn, etag, path, seconds
        self.pid = os.getpid()
        self._matching: dict[str, dict[str, float]] = {}

    @classmethod
    def build(cls, store: Store, path: Path | None = None) -> SearchIndex:
        """Index ``store`` now: in memory, or in the file ``path`` (written beside it
        and moved into place, so a reader never sees half an index)."""
        started, etag = time.perf_counter(), store.etag
        if path is None:
            conn = _connect(":memory:")
            create(conn, store, etag)
            return cls(conn, etag, None, time.perf_counter() - started)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=path.name + ".", dir=path.parent)
        os.close(fd)
        try:
            building = sqlite3.connect(name)
            create(building, store, etag)
            building.close()
            os.replace(name, path)
        finally:
            if os.path.exists(name):
                os.unlink(name)
        return cls(_connect(path), etag, path, time.perf_counter() - started)

    @classmethod
    def open(cls, path: Path) -> SearchIndex | None:
        """The index in ``path``, or None when there is none (or it is unreadable)."""
        if not path.is_file():
            return None
        try:
            conn = _connect(path)
            (etag,) = conn.execute("SELECT value FROM meta WHERE key = 'etag'").fetchone()
        except (sqlite3.DatabaseError, TypeError):
            return None
        return cls(conn, etag, path)

    def usable_here(self) -> bool:
        """Whether this process may use the connection: a file's connection is not
        carried across a fork (SQLite's rule), an in-memory one is only read."""
        return self.path is None or self.pid == os.getpid()

    # -- searching ---------------------------------------------------------------------
    def search(self, text: str, limit: int = 20, types: Iterable[str] = (),
               graphs: Iterable[str] = ()) -> SearchResult:
        """The best ``limit`` resources for ``text``, with facets, optionally only those
        of one of ``types`` and with a match in one of ``graphs``."""
        with _LOCK:
            expression, corrections, exact = self._expression(text)
            best = self._best(expression, fold(text)) if expression else {}
            return self._result(text, best, set(types), set(graphs), limit, corrections,
                                exact)

    def matching(self, text: str) -> dict[str, float]:
        """Score of every resource matching ``text`` (what the SPARQL functions ask)."""
        with _LOCK:
            if text not in self._matching:
                if len(self._matching) > 256:
                    self._matching.clear()
                expression, _, _ = self._expression(text)
                best = self._best(expression, fold(text)) if expression else {}
                self._matching[text] = {iri: -b.key[2] for iri, b in best.items()}
            return self._matching[text]

    def _expression(self, text: str) -> tuple[str, dict[str, list[str]], bool]:
        """The FTS5 query for ``text``, the corrections made, and whether every word was
        found as typed (else the hits are "fuzzy")."""
        parts, corrections = [], {}
        for term in fold(text).split():
            if has_word_prefix(self.conn, term):
                parts.append(f'"{term}"*')
                continue
            near = near_words(self.conn, term)
            if not near:
                return "", {}, True
            corrections[term] = near
            parts.append("(" + " OR ".join(f'"{w}"' for w in near) + ")")
        return " AND ".join(parts), corrections, not corrections

    def _best(self, expression: str, query: str) -> dict[str, _Best]:
        best: dict[str, _Best] = {}
        rows = self.conn.execute(
            "SELECT iri, graph, kind, tier, text, folded, bm25(texts) FROM texts "
            "WHERE texts MATCH ? ORDER BY tier, rank LIMIT ?", (expression, MAX_ROWS))
        for iri, graph, kind, tier, text, folded, bm25 in rows:
            key = (int(tier) // TIERS["sentence"], folded != query, round(bm25, 9), int(tier))
            found = best.get(iri)
            if found is None:
                best[iri] = _Best(key, (kind, text, graph, bm25), {graph})
                continue
            found.graphs.add(graph)
            if key < found.key:
                found.key, found.row = key, (kind, text, graph, bm25)
        return best

    def _result(self, text: str, best: dict[str, _Best], types: set[str], graphs: set[str],
                limit: int, corrections: dict[str, list[str]], exact: bool) -> SearchResult:
        typed = self._types(list(best))
        in_graphs = {i for i, b in best.items() if not graphs or b.graphs & graphs}
        of_types = {i for i in best if not types or set(typed.get(i, ())) & types}
        kept = sorted(in_graphs & of_types, key=lambda i: (best[i].key, i))
        type_facet = Counter(t for i in in_graphs for t in typed.get(i, ()))
        graph_facet = Counter(g for i in of_types for g in best[i].graphs)
        labels = self._labels(kept[:limit])
        hits = [self._hit(i, best[i], labels, typed, exact) for i in kept[:limit]]
        return SearchResult(text, hits, len(kept), _facets(type_facet), _facets(graph_facet),
                            corrections)

    def _hit(self, iri: str, best: _Best, labels: dict[str, str],
             typed: dict[str, tuple[str, ...]], exact: bool) -> Hit:
        kind, text, graph, bm25 = best.row
        match = "exact" if not best.key[1] else ("words" if exact else "fuzzy")
        return Hit(iri, labels.get(iri, iri if kind == "sentence" else text), kind, text,
                   graph, round(-bm25, 6), match, typed.get(iri, ()))

    def _types(self, iris: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for iri, kind in self._in("SELECT iri, type FROM types WHERE iri IN", iris):
            found.setdefault(iri, []).append(kind)
        return {iri: tuple(sorted(kinds)) for iri, kinds in found.items()}

    def _labels(self, iris: list[str]) -> dict[str, str]:
        return dict(self._in("SELECT iri, label FROM labels WHERE iri IN", iris))

    def _in(self, select: str, iris: list[str]) -> list[tuple[str, str]]:
        """Rows of ``select ... IN (iris)``, in batches SQLite's variable limit allows."""
        rows: list[tuple[str, str]] = []
        for start in range(0, len(iris), 500):
            batch = iris[start:start + 500]
            marks = ", ".join("?" * len(batch))
            rows.extend(self.conn.execute(f"{select} ({marks})", batch))
        return rows


def _facets(counts: Counter[str]) -> list[Facet]:
    return [Facet(v, n) for v, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _connect(path: Path | str) -> sqlite3.Connection:
    """A connection any thread may use: every use holds ``_LOCK``."""
    target = ":memory:" if path == ":memory:" else Path(path).resolve().as_uri() + "?mode=ro"
    return sqlite3.connect(target, uri=target != ":memory:", check_same_thread=False)


#: serialises building and reading indexes; held across ``fork`` (below) so a forked
#: query worker never inherits a connection in the middle of a statement
_LOCK = threading.RLock()
os.register_at_fork(before=_LOCK.acquire, after_in_parent=_LOCK.release,
                    after_in_child=_LOCK.release)


def index_for(store: Store, holder: dict[str, Any], directory: Path | None = None
              ) -> SearchIndex:
    """The index of the store's current contents, kept in ``holder`` (the service's
    extras); rebuilt when the store's etag moved since it was built. With ``directory``
    the index is the file ``INDEX_FILE`` there (another process may have built it)."""
    with _LOCK:
        index: SearchIndex | None = holder.get("search_index")
        etag = store.etag
        if index is not None and index.etag == etag and index.usable_here():
            return index
        path = directory / INDEX_FILE if directory is not None else None
        found = SearchIndex.open(path) if path is not None else None
        index = found if found is not None and found.etag == etag else \
            SearchIndex.build(store, path)
        holder["search_index"] = index
        return index


#: the store the SPARQL functions search: set by ``attach`` in the serving process and
#: inherited by its forked query workers
_ATTACHED: dict[str, Any] = {}


def attach(store: Store, holder: dict[str, Any], directory: Path | None = None) -> None:
    """Make ``bkgfn:matches`` and ``bkgfn:score`` search ``store`` (as ``index_for``)."""
    with _LOCK:
        _ATTACHED.update(store=store, holder=holder, directory=directory)


def _attached_scores(resource: Any, text: Any) -> dict[str, float] | None:
    if not _ATTACHED or not isinstance(resource, NamedNode) or not isinstance(text, Literal):
        return None
    index = index_for(_ATTACHED["store"], _ATTACHED["holder"], _ATTACHED["directory"])
    return index.matching(text.value)


def _matches(resource: Any, text: Any) -> Literal | None:
    """``bkgfn:matches(?r, "words")``: whether ``?r`` is a search hit for the words."""
    scores = _attached_scores(resource, text)
    return None if scores is None else Literal(resource.value in scores)


def _score(resource: Any, text: Any) -> Literal | None:
    """``bkgfn:score(?r, "words")``: the hit's bm25 relevance, unbound for a non-hit."""
    scores = _attached_scores(resource, text)
    if scores is None or resource.value not in scores:
        return None
    return Literal(float(scores[resource.value]))


CUSTOM_FUNCTIONS[NamedNode(FN + "matches")] = _matches
CUSTOM_FUNCTIONS[NamedNode(FN + "score")] = _score
