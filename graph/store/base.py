"""One store interface, several backends.

``Store`` is what the rest of BorderKG talks to: the endpoint, the named queries, the
analyses, the build and the importers. Results are always pyoxigraph's result objects
(``QuerySolutions``, ``QueryBoolean``, ``QueryTriples``), whatever the backend, so the
serialisers and the HTTP layer have one shape to handle.

Backends:

* ``OxigraphStore(None)``  embedded Oxigraph in memory (tests, benchmarks' best case);
* ``OxigraphStore(path)``  embedded Oxigraph on disk (RocksDB; the service default);
* ``RemoteStore``          any SPARQL 1.1 Query/Update endpoint (``graph.remote``).

Every write bumps ``version``; caches (results, the networkx projection, ETags) key on
it, so a write can never be followed by a stale answer from this process.
"""
from __future__ import annotations

import gzip
import itertools
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from pyoxigraph import (
    Quad,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Variable,
)

QueryResult = QuerySolutions | QueryBoolean | QueryTriples
Source = bytes | str | IO[bytes] | Path
#: values bound to a query's variables before evaluation (pyoxigraph's ``substitutions``)
Substitutions = Mapping[Variable, Any]


def solutions(result: QueryResult) -> QuerySolutions:
    """``result`` of a SELECT query as its solutions (``Store.query`` returns any form)."""
    if not isinstance(result, QuerySolutions):
        raise TypeError(f"expected the solutions of a SELECT query, got {type(result).__name__}")
    return result


class Store(ABC):
    """What BorderKG needs from a quad store."""

    backend: str = "abstract"

    def __init__(self) -> None:
        self._version = 0
        self._boot = uuid.uuid4().hex[:8]
        self.write_lock = threading.RLock()

    # -- versioning -------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Monotonic counter of writes made through this object."""
        return self._version

    @property
    def etag(self) -> str:
        """A validator for HTTP caching: changes on every write and on every restart."""
        return f"{self._boot}-{self._version}"

    def _bump(self) -> None:
        self._version += 1

    # -- reading ----------------------------------------------------------------------
    @abstractmethod
    def query(self, sparql: str, *, union_default: bool = True,
              default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None,
              substitutions: Substitutions | None = None,
              base_iri: str | None = None) -> QueryResult:
        """Evaluate a SPARQL query; dataset arguments override FROM/FROM NAMED."""

    @abstractmethod
    def quads(self, subject: Any = None, predicate: Any = None, obj: Any = None,
              graph: Any = None) -> Iterator[Quad]:
        """Quads matching a pattern (``None`` is a wildcard)."""

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """IRIs of the named graphs that hold at least one quad (or were created)."""

    @abstractmethod
    def count(self, graph: str | None = None) -> int:
        """Number of quads in ``graph`` (``""`` is the default graph, ``None`` all)."""

    def contains_graph(self, graph: str) -> bool:
        return graph in set(self.named_graphs())

    @abstractmethod
    def dump(self, output: IO[bytes], fmt: RdfFormat, graph: str | None = None) -> None:
        """Serialise one graph (``""`` default, IRI named) or, with ``None``, the dataset."""

    # -- writing ----------------------------------------------------------------------
    @abstractmethod
    def update(self, sparql: str, *, base_iri: str | None = None,
               union_default: bool = False) -> None:
        """Run a SPARQL update, all or nothing; with ``union_default`` its WHERE clauses
        see the union default graph, as queries do."""

    @abstractmethod
    def load(self, source: Source, fmt: RdfFormat, graph: str | None = None,
             base_iri: str | None = None) -> None:
        """Add the triples/quads of ``source`` in one transaction (``graph``: target graph,
        ``""``/None for triples into the default graph)."""

    @abstractmethod
    def extend(self, quads: Iterable[Quad]) -> None:
        """Add quads in one transaction."""

    @abstractmethod
    def drop_graph(self, graph: str) -> bool:
        """Remove a graph entirely; returns whether it existed. ``""`` clears the default."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every quad."""

    def close(self) -> None:  # noqa: B027 - optional for backends without resources
        """Release resources (files, connections)."""


def open_source(source: Source) -> IO[bytes] | bytes:
    """Bytes or a binary stream for ``source``, transparently gunzipping ``*.gz`` paths."""
    if isinstance(source, str):
        return source.encode("utf-8")
    if isinstance(source, Path):
        opener = gzip.open if source.suffix == ".gz" else open
        return opener(source, "rb")  # type: ignore[return-value]
    return source


def take(iterable: Iterable[Any], n: int) -> list[Any]:
    """The first ``n`` items of ``iterable``."""
    return list(itertools.islice(iterable, n))
