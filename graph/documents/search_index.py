"""The search index's tables in SQLite: what is folded into it and how it is matched.

One row per (resource, text, graph) in an FTS5 table ranked by bm25; the words of every
text in a plain table (exact and prefix look-ups) and in an FTS5 trigram table, so a
misspelt word can be replaced by the indexed words nearest to it before the real
match. SQLite ships with Python and FTS5 with SQLite, so the index costs no dependency.
"""
from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pyoxigraph import NamedNode

from graph.namespace import PREFIXES, bkg
from graph.store.base import Store, solutions

RDFS = PREFIXES["rdfs"]
SKOS = PREFIXES["skos"]
SENTENCE_TEXT = bkg.text
SENTENCE = bkg.Sentence
#: property -> kind of text it holds; kinds rank in this order (labels first)
KINDS = {RDFS + "label": "label", SKOS + "prefLabel": "label",
         "https://schema.org/name": "label", SKOS + "altLabel": "alt-label",
         SENTENCE_TEXT: "sentence"}
TIERS = {"label": 0, "alt-label": 1, "sentence": 2}
_NON_WORD = re.compile(r"[^0-9a-z]+")

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE VIRTUAL TABLE texts USING fts5(folded, iri UNINDEXED, graph UNINDEXED,
    kind UNINDEXED, tier UNINDEXED, text UNINDEXED, tokenize='unicode61');
CREATE TABLE labels(iri TEXT PRIMARY KEY, label TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE types(iri TEXT NOT NULL, type TEXT NOT NULL, PRIMARY KEY(iri, type))
    WITHOUT ROWID;
CREATE TABLE words(word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE word_grams USING fts5(word, tokenize='trigram');
"""


def fold(text: str) -> str:
    """The searchable form of ``text``: accents, case and punctuation removed, so that
    "Béijing", "BEIJING" and "Beijing" are one word and "U.S." matches "u s".

    >>> fold("Béijing, U.S.-China")
    'beijing u s china'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NON_WORD.sub(" ", bare).strip()


@dataclass(frozen=True)
class Row:
    """One indexed text of one resource in one graph (``""``: the default graph)."""

    iri: str
    graph: str
    kind: str
    text: str


def _props() -> str:
    return " ".join(f"<{p}>" for p in KINDS if p != SENTENCE_TEXT)


def _text_query() -> str:
    """Labels and sentence texts with their graph; the default graph's too (``?g``
    unbound), since a store may keep triples there."""
    labels = f"VALUES ?p {{ {_props()} }} ?s ?p ?o"
    sentences = (f"?s <{SENTENCE_TEXT}> ?o BIND(<{SENTENCE_TEXT}> AS ?p)")
    return ("SELECT ?s ?p ?o ?g WHERE { "
            f"{{ GRAPH ?g {{ {labels} }} }} UNION {{ {labels} }} UNION "
            f"{{ GRAPH ?g {{ {sentences} }} GRAPH ?g2 {{ ?s a <{SENTENCE}> }} }} UNION "
            f"{{ {sentences} ?s a <{SENTENCE}> }} "
            "FILTER(isIRI(?s) && isLiteral(?o)) }")


def read_rows(store: Store) -> Iterator[Row]:
    """Every text worth searching, read from ``store`` with each quad's own graph."""
    for row in solutions(store.query(_text_query(), union_default=False)):
        graph = row["g"].value if row["g"] is not None else ""
        yield Row(row["s"].value, graph, KINDS[row["p"].value], row["o"].value)


def read_types(store: Store, iris: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(resource, type) for the resources that have a text: only those, named in
    ``VALUES`` so the engine never walks the many typed observations of a table."""
    ordered = sorted(set(iris))
    for start in range(0, len(ordered), 500):
        values = " ".join(str(NamedNode(iri)) for iri in ordered[start:start + 500])
        query = (f"SELECT DISTINCT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s a ?t "
                 "FILTER(isIRI(?t)) }")
        for row in solutions(store.query(query)):
            yield row["s"].value, row["t"].value


def create(conn: sqlite3.Connection, store: Store, etag: str) -> int:
    """Fill an empty database with the texts of ``store`` and the types of their
    resources; returns the rows written."""
    conn.executescript(SCHEMA)
    rows = list(read_rows(store))
    seen: set[Row] = set()
    labels: dict[str, tuple[int, str]] = {}
    words: set[str] = set()
    for row in rows:
        if row in seen:
            continue
        seen.add(row)
        folded, tier = fold(row.text), TIERS[row.kind]
        conn.execute("INSERT INTO texts VALUES (?, ?, ?, ?, ?, ?)",
                     (folded, row.iri, row.graph, row.kind, tier, row.text))
        words.update(folded.split())
        if tier < TIERS["sentence"] and (row.iri not in labels or tier < labels[row.iri][0]):
            labels[row.iri] = (tier, row.text)
    conn.executemany("INSERT INTO labels VALUES (?, ?)",
                     [(iri, text) for iri, (_, text) in labels.items()])
    conn.executemany("INSERT OR IGNORE INTO types VALUES (?, ?)",
                     read_types(store, (row.iri for row in seen)))
    conn.executemany("INSERT INTO words VALUES (?)", [(w,) for w in sorted(words)])
    conn.executemany("INSERT INTO word_grams VALUES (?)",
                     [(w,) for w in sorted(words) if len(w) >= 3])
    conn.execute("INSERT INTO meta VALUES ('etag', ?)", (etag,))
    conn.commit()
    return len(seen)


def has_word_prefix(conn: sqlite3.Connection, term: str) -> bool:
    """Whether some indexed word starts with ``term``."""
    found = conn.execute("SELECT 1 FROM words WHERE word >= ? AND word < ? LIMIT 1",
                         (term, term + "\U0010ffff")).fetchone()
    return found is not None


def near_words(conn: sqlite3.Connection, term: str, limit: int = 200) -> list[str]:
    """The indexed words nearest to a misspelt ``term`` (at most one edit for a short
    word, two for a long one), found among those sharing most of its trigrams."""
    grams = sorted({term[i:i + 3] for i in range(len(term) - 2)})
    if not grams:
        return []
    expression = " OR ".join(f'"{g}"' for g in grams)
    candidates = [w for (w,) in conn.execute(
        "SELECT word FROM word_grams WHERE word_grams MATCH ? ORDER BY rank LIMIT ?",
        (expression, limit))]
    allowed = 1 if len(term) <= 6 else 2
    scored = [(distance(term, w, allowed), w) for w in candidates]
    best = min((d for d, _ in scored), default=allowed + 1)
    return sorted(w for d, w in scored if d == best and d <= allowed)


def distance(a: str, b: str, cap: int) -> int:
    """Edit distance (insertions, deletions, substitutions, adjacent swaps) between
    ``a`` and ``b``, or ``cap + 1`` as soon as it must exceed ``cap``.

    >>> distance("deportaton", "deportation", 2), distance("guatamala", "guatemala", 2)
    (1, 1)
    """
    if abs(len(a) - len(b)) > cap:
        return cap + 1
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > cap:
            return cap + 1
        before, previous = previous, current
    return previous[-1] if previous[-1] <= cap else cap + 1
