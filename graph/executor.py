"""Running a query under the service's limits: row cap, time limit, result format.

The HTTP layer hands a ``QueryRequest`` (text, dataset, negotiated format, limits) to an
executor and streams back the ``ExecutedQuery`` body. Executors differ in how they
enforce the time limit:

* ``InProcessExecutor`` evaluates in the calling thread. Lazy results are cut at the
  deadline while iterating; a blocking operator (ORDER BY, GROUP BY) inside the engine
  cannot be interrupted from Python (see FACTS: pyoxigraph has no cancellation).
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from pyoxigraph import QueryBoolean, QuerySolutions, QueryTriples

from . import results
from .errors import QueryTimeout
from .formats import Format
from .store import Store


@dataclass(frozen=True)
class QueryRequest:
    """Everything needed to evaluate and serialise one query."""

    text: str
    result_format: Format  # negotiated for SELECT/ASK
    graph_format: Format  # negotiated for CONSTRUCT/DESCRIBE
    union_default: bool = True
    default_graphs: Sequence[str] | None = None
    named_graphs: Sequence[str] | None = None
    substitutions: dict[str, Any] | None = None
    base_iri: str | None = None
    max_rows: int = 100_000
    timeout: float = 10.0


@dataclass
class ExecutedQuery:
    """A query's answer: its form, the chosen format, and the body as byte chunks."""

    form: str  # "select", "ask" or "graph"
    format: Format
    body: Iterator[bytes]
    truncated: bool = False
    rows: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class Deadline:
    """A point in time after which work must stop."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise QueryTimeout(f"query stopped after its time limit of {self.seconds:g} s",
                               limit_seconds=self.seconds)


def _capped(items: Iterator[Any], limit: int, deadline: Deadline) -> tuple[list[Any], bool]:
    """Up to ``limit`` items, checking the deadline; whether more were available."""
    taken: list[Any] = []
    for item in itertools.islice(items, limit + 1):
        taken.append(item)
        if len(taken) % 256 == 0:
            deadline.check()
    deadline.check()
    truncated = len(taken) > limit
    return taken[:limit], truncated


def materialise(result: Any, request: QueryRequest, deadline: Deadline) -> ExecutedQuery:
    """Turn an engine result into an ``ExecutedQuery`` honouring the row cap."""
    if isinstance(result, QueryBoolean):
        fmt = request.result_format
        return ExecutedQuery("ask", fmt, iter([results.boolean(bool(result), fmt.name)]))
    if isinstance(result, QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _capped(iter(result), request.max_rows, deadline)
        fmt = request.result_format
        body = results.SOLUTION_WRITERS[fmt.name](variables, rows)
        return ExecutedQuery("select", fmt, body, truncated, len(rows))
    assert isinstance(result, QueryTriples)
    triples, truncated = _capped(iter(result), request.max_rows, deadline)
    fmt = request.graph_format
    return ExecutedQuery("graph", fmt, results.graph_chunks(triples, fmt.engine), truncated,
                         len(triples))


class InProcessExecutor:
    """Evaluate in the caller's thread; the deadline is enforced between result rows."""

    kind = "in-process"

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, request: QueryRequest) -> ExecutedQuery:
        deadline = Deadline(request.timeout)
        result = self.store.query(request.text, union_default=request.union_default,
                                  default_graphs=request.default_graphs,
                                  named_graphs=request.named_graphs,
                                  substitutions=request.substitutions,
                                  base_iri=request.base_iri)
        return materialise(result, request, deadline)

    def close(self) -> None:
        """Nothing to release."""
