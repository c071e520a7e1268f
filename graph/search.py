"""Search over labels and sentence text: an in-memory index, rebuilt when the store changes.

SPARQL ``CONTAINS`` is neither ranked nor accent-insensitive, and scanning every literal
per keystroke is wasteful; the texts worth searching (labels and the article's sentences)
are few, so they are folded once into an index kept next to the store's ``etag``.

Folding: Unicode NFKD, combining marks dropped, case-folded, runs of anything but letters
and digits to one space — so "Beijing", "BEIJING" and "Béijing" are the same, and "U.S."
matches "u s". Ranking, best first: exact, prefix of the text, prefix of a word, anywhere
in the text, every query word a word prefix (any order); labels before sentences; then
shorter texts first.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from . import ids
from .store import Store, solutions

__all__ = ["Hit", "SearchIndex", "fold", "index_for"]

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
LABEL_PROPERTIES = (RDFS + "label", SKOS + "prefLabel", SKOS + "altLabel",
                    "https://schema.org/name")
SENTENCE_TEXT = ids.DEF + "text"
SENTENCE = ids.DEF + "Sentence"
MATCHES = ("exact", "prefix", "word-prefix", "substring", "all-words")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """The searchable form of ``text``: accents, case and punctuation removed.

    >>> fold("Béijing, U.S.-China")
    'beijing u s china'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return _NON_WORD.sub(" ", bare).strip()


@dataclass(frozen=True)
class _Entry:
    iri: str
    kind: str  # "label" or "sentence"
    text: str
    folded: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Hit:
    """One search result: the resource, the text that matched and how it matched."""

    iri: str
    label: str
    kind: str
    text: str
    match: str
    types: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "label": self.label, "kind": self.kind, "text": self.text,
                "match": self.match, "types": list(self.types)}


def _match(entry: _Entry, query: str, terms: list[str]) -> int | None:
    """Index into ``MATCHES`` of how ``entry`` matches, or None."""
    text = entry.folded
    if text == query:
        return 0
    if text.startswith(query):
        return 1
    if f" {query}" in f" {text}":
        return 2
    if query in text:
        return 3
    if all(any(w.startswith(t) for w in entry.words) for t in terms):
        return 4
    return None


class SearchIndex:
    """Folded labels and sentences of one version of the store."""

    def __init__(self, entries: list[_Entry], types: dict[str, tuple[str, ...]],
                 etag: str) -> None:
        self.entries, self.types, self.etag = entries, types, etag
        self.labels: dict[str, str] = {}
        for entry in entries:
            if entry.kind == "label":
                self.labels.setdefault(entry.iri, entry.text)

    @classmethod
    def build(cls, store: Store) -> SearchIndex:
        etag = store.etag
        props = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
        entries: list[_Entry] = []
        seen: set[tuple[str, str]] = set()
        query = (f"SELECT ?s ?p ?o WHERE {{ {{ VALUES ?p {{ {props} }} ?s ?p ?o }} UNION "
                 f"{{ ?s a <{SENTENCE}> ; <{SENTENCE_TEXT}> ?o BIND(<{SENTENCE_TEXT}> AS ?p) }}"
                 " FILTER(isIRI(?s) && isLiteral(?o)) }")
        for row in solutions(store.query(query)):
            iri, text = row["s"].value, row["o"].value
            kind = "sentence" if row["p"].value == SENTENCE_TEXT else "label"
            if (iri, text) in seen:
                continue
            seen.add((iri, text))
            folded = fold(text)
            entries.append(_Entry(iri, kind, text, folded, tuple(folded.split())))
        # labels first, preferred labels (rdfs:label, skos:prefLabel) before alternatives
        entries.sort(key=lambda e: e.kind != "label")
        return cls(entries, _types(store, {e.iri for e in entries}), etag)

    def search(self, text: str, limit: int = 20) -> list[Hit]:
        """The best ``limit`` resources for ``text`` (one hit per resource)."""
        query = fold(text)
        if not query:
            return []
        terms = query.split()
        best: dict[str, tuple[tuple[int, int, int], _Entry, int]] = {}
        for entry in self.entries:
            rank = _match(entry, query, terms)
            if rank is None:
                continue
            key = (entry.kind != "label", rank, len(entry.folded))
            if entry.iri not in best or key < best[entry.iri][0]:
                best[entry.iri] = (key, entry, rank)
        ordered = sorted(best.values(), key=lambda item: (item[0], item[1].iri))[:limit]
        return [Hit(e.iri, self.labels.get(e.iri, e.text if e.kind == "label" else e.iri),
                    e.kind, e.text, MATCHES[rank], self.types.get(e.iri, ()))
                for _, e, rank in ordered]


def _types(store: Store, iris: set[str]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for row in solutions(store.query("SELECT ?s ?t WHERE { ?s a ?t FILTER(isIRI(?t)) }")):
        if row["s"].value in iris:
            found.setdefault(row["s"].value, []).append(row["t"].value)
    return {iri: tuple(sorted(set(types))) for iri, types in found.items()}


_LOCK = threading.Lock()


def index_for(store: Store, holder: dict[str, Any]) -> SearchIndex:
    """The index for the store's current contents, kept in ``holder`` (the service's
    extras) and rebuilt only when the store's etag has changed since it was built."""
    with _LOCK:
        index = holder.get("search_index")
        if index is None or index.etag != store.etag:
            index = SearchIndex.build(store)
            holder["search_index"] = index
        return index
