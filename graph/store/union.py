"""The union default graph as a set: a merge of every graph, materialised and kept in step.

SPARQL defines the union default graph as the *merge* of the dataset's graphs, so a triple
stored in two graphs is one triple. Oxigraph 0.5 evaluates its own union default graph as
a bag (one solution per quad), so a sum over a triple that two graphs hold counts it twice.
The embedded store therefore keeps the merge itself, in a hidden graph ``UNION``: every
write that adds a quad adds its triple there, and a removal takes the triple out once no
graph holds it any more. Queries over the union default graph read ``UNION`` as their one
default graph (set semantics by construction, at the engine's speed), with the real named
graphs as the named graphs.

``META`` holds the state of ``UNION``: ``built`` once it is the merge, ``stale`` while a
write that is not one transaction (a bulk load) may leave it behind. A store opened without
``built`` (made before the merge existed) or with ``stale`` (a bulk load that did not end)
gets ``UNION`` rebuilt from the graphs, once.

Neither hidden graph is ever shown: not in ``GRAPH ?g``, dumps, counts or the Graph Store.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import cast

from pyoxigraph import Literal, NamedNode, Quad, QuerySolutions
from pyoxigraph import Store as Engine

log = logging.getLogger("borderkg")

UNION = NamedNode("urn:x-borderkg:union")
META = NamedNode("urn:x-borderkg:meta")
#: graphs the store keeps for itself
HIDDEN = frozenset({UNION.value, META.value})

_STATE = NamedNode("urn:x-borderkg:union-state")
BUILT = Quad(UNION, _STATE, Literal("built"), META)
STALE = Quad(UNION, _STATE, Literal("stale"), META)

_REBUILD = f"""
DROP SILENT GRAPH <{UNION.value}> ;
INSERT {{ GRAPH <{UNION.value}> {{ ?s ?p ?o }} }} WHERE {{
  {{ ?s ?p ?o }} UNION
  {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g NOT IN (<{UNION.value}>, <{META.value}>)) }}
}}"""


def is_hidden(graph: object) -> bool:
    """Whether ``graph`` (a graph name term or an IRI string) is one of the hidden graphs."""
    value = graph.value if isinstance(graph, NamedNode) else graph
    return isinstance(value, str) and value in HIDDEN


def twin(quad: Quad) -> Quad:
    """``quad``'s triple in the merge."""
    return Quad(quad.subject, quad.predicate, quad.object, UNION)


def with_twins(quads: Iterable[Quad]) -> Iterator[Quad]:
    """Each quad followed by its triple in the merge (adding a present quad is no change)."""
    for quad in quads:
        yield quad
        yield twin(quad)


def has_home(engine: Engine, quad: Quad) -> bool:
    """Whether some real graph (the default graph or a named one) holds ``quad``'s triple."""
    for found in engine.quads_for_pattern(quad.subject, quad.predicate, quad.object, None):
        if not is_hidden(found.graph_name):
            return True
    return False


def orphans(engine: Engine, removed: Iterable[Quad]) -> list[Quad]:
    """The merge's triples of ``removed`` quads that no real graph holds any more."""
    out: dict[Quad, None] = {}
    for quad in removed:
        gone = twin(quad)
        if gone not in out and not has_home(engine, quad) and gone in engine:
            out[gone] = None
    return list(out)


def drop_text(graph: str) -> str:
    """An update that takes out of the merge the triples only ``graph`` holds (``""``:
    the default graph); run in one transaction with the graph's own removal."""
    hidden = f"<{UNION.value}>, <{META.value}>"
    if not graph:
        return (f"DELETE {{ GRAPH <{UNION.value}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o "
                f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER(?h NOT IN ({hidden})) }} }}")
    return (f"DELETE {{ GRAPH <{UNION.value}> {{ ?s ?p ?o }} }} WHERE {{ "
            f"GRAPH <{graph}> {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
            f"FILTER(?h NOT IN (<{graph}>, {hidden})) }} "
            f"FILTER NOT EXISTS {{ ?s ?p ?o }} }}")


def fill_text(graph: str | None) -> str:
    """An update adding the triples of ``graph`` (``""`` default, None every graph) to the
    merge (after a bulk load, which is not one transaction)."""
    if graph is None:
        return _REBUILD
    where = "?s ?p ?o" if not graph else f"GRAPH <{graph}> {{ ?s ?p ?o }}"
    return f"INSERT {{ GRAPH <{UNION.value}> {{ ?s ?p ?o }} }} WHERE {{ {where} }}"


def is_current(engine: Engine) -> bool:
    """Whether the merge is complete and no bulk write is half done."""
    return BUILT in engine and STALE not in engine


def mark_stale(engine: Engine) -> None:
    """Record that a write which is not one transaction is under way."""
    engine.add(STALE)


def mark_current(engine: Engine) -> None:
    engine.extend([BUILT])
    engine.remove(STALE)


def rebuild(engine: Engine, on_disk: bool = False) -> None:
    """Make the merge anew from the graphs: in memory in one transaction; on disk through
    the bulk writer, which RocksDB takes about three times faster than one transaction
    (the store stays marked stale until it is done, so an interrupted rebuild is redone)."""
    started = time.monotonic()
    if on_disk:
        mark_stale(engine)
        engine.remove_graph(UNION)
        engine.bulk_extend(twin(q) for q in engine.quads_for_pattern(None, None, None, None)
                           if not is_hidden(q.graph_name))
    else:
        engine.update(_REBUILD)
    mark_current(engine)
    log.info("union default graph rebuilt in %.1f s", time.monotonic() - started)


def ensure_current(engine: Engine, on_disk: bool = False) -> None:
    """Rebuild the merge if the store was made without it or a bulk write did not end."""
    if not is_current(engine):
        rebuild(engine, on_disk)


_HIDDEN_COUNT = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                 f"VALUES ?g {{ <{UNION.value}> <{META.value}> }} }}")


_MERGE_COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{UNION.value}> {{ ?s ?p ?o }} }}"


def _counted(engine: Engine, text: str) -> int:
    """The ``?n`` of a one-row COUNT query."""
    row = next(iter(cast(QuerySolutions, engine.query(text))))
    return int(row["n"].value)


def real_len(engine: Engine) -> int:
    """The number of quads in the real graphs (the engine's count less the hidden ones)."""
    return len(engine) - _counted(engine, _HIDDEN_COUNT)


def merge_len(engine: Engine) -> int:
    """The number of triples in the merge (the union default graph as a set)."""
    return _counted(engine, _MERGE_COUNT)


def real_named_graphs(engine: Engine) -> list[NamedNode]:
    """The store's named graphs, without the hidden ones."""
    return [g for g in engine.named_graphs()
            if isinstance(g, NamedNode) and g.value not in HIDDEN]

