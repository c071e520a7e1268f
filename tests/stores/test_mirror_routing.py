"""Which queries the memory copy answers, and that its answers are the dataset's.

The copy of ``graph.store.mirror`` holds the union default graph alone, so a query may be
evaluated there only if it reads nothing else. Three checks:

* the routing rule on hand-written texts: ``GRAPH`` in every spelling the engine reads
  (run together with a prefixed name, any case) sends a query to the disk, the word in a
  string, an IRI, a comment or a variable does not; dataset clauses and parameters too;
* generated queries (the differential grammar, ``GRAPH ?g`` included) answered by a ready
  ``MirroredStore`` against pyoxigraph itself, given the dataset as SPARQL defines it: a
  default graph that is the set union of every graph's triples, the real named graphs
  beside it (built here from the data, not by BorderKG);
* the executor: the copy's queries go to workers forked over it, the others to the
  snapshot workers, and both give the oracle's answer; a worker forked while the copy is
  being made anew refuses with the reason that sends the query to the disk.
"""
from __future__ import annotations

import io
import json
import logging
import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import DefaultGraph, Quad, RdfFormat, parse
from pyoxigraph import Store as Engine

from graph.documents.search import FN
from graph.errors import BadRequest, StoreError
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS
from graph.sparql.executor import Deadline, QueryRequest, SnapshotPoolExecutor, materialise
from graph.sparql.fork_pool import ForkPoolExecutor
from graph.store.mirror import (
    NOT_IN_COPY,
    MirroredStore,
    MirrorExecutor,
    calls_custom_functions,
    reads_merge_only,
)
from tests.conftest import report_family

from .test_differential import DATA, EX, answer, query

EXAMPLES = int(os.environ.get("BORDERKG_MIRROR_ROUTING_EXAMPLES", "300"))

#: triples held by several graphs (and the default graph): a bag union would count them twice
SHARED = f"""
@prefix ex: <{EX}> .
ex:alice ex:age 42 ; ex:knows ex:bob .
ex:g2 {{ ex:alice ex:age 42 ; ex:knows ex:bob . ex:carol ex:age 29 . }}
ex:g3 {{ ex:carol ex:age 29 ; ex:name "Carol" . ex:bob ex:knows ex:carol . }}
"""


def dataset_quads() -> list[Quad]:
    return [*parse(DATA.encode(), RdfFormat.TRIG), *parse(SHARED.encode(), RdfFormat.TRIG)]


def oracle() -> Engine:
    """pyoxigraph holding the dataset by definition: the merge as its default graph."""
    engine = Engine()
    quads = dataset_quads()
    engine.extend(q for q in quads if not isinstance(q.graph_name, DefaultGraph))
    engine.extend(Quad(q.subject, q.predicate, q.object) for q in quads)
    return engine


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MirroredStore]:
    store = MirroredStore(tmp_path_factory.mktemp("mirror-routing") / "store")
    store.load(io.BytesIO(DATA.encode()), RdfFormat.TRIG)
    store.load(io.BytesIO(SHARED.encode()), RdfFormat.TRIG)
    store.start_filling().join(60)
    assert store.ready.is_set()
    yield store
    store.close()


# -- 1. the rule ------------------------------------------------------------------------------
P = f"PREFIX ex: <{EX}> PREFIX x: <{EX}x/> "
ROUTES = [
    ("SELECT * { ?s ?p ?o }", True),
    ("ASK { ?s ?p ?o }", True),
    (f"DESCRIBE <{EX}alice>", True),
    (f"{P}CONSTRUCT {{ ?s ex:graph ?o }} WHERE {{ ?s ex:knows ?o }}", True),
    (f"{P}SELECT ?graph {{ ?graph ex:name \"GRAPH ?g {{ }}\" }}", True),
    (f"SELECT * {{ <{EX}GRAPH> ?p ?o }} # GRAPH ?g {{ ?s ?p ?o }}", True),
    (f"{P}SELECT * {{ ?s ?p ?o FILTER(?o != 'graph') }}", True),
    ("SELECT * { GRAPH ?g { ?s ?p ?o } }", False),
    ("select * { graph ?g { ?s ?p ?o } }", False),
    ("SELECT * { GrApH ?g { ?s ?p ?o } }", False),
    (f"{P}SELECT * {{ GRAPHx:g {{ ?s ?p ?o }} }}", False),
    (f"{P}SELECT * {{ GRAPH ex:g1 {{ ?s ?p ?o }} }}", False),
    (f"{P}SELECT * {{ ?s ?p ?o FILTER EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }} }}", False),
    (f"{P}SELECT * {{ {{ SELECT ?s {{ GRAPH ?g {{ ?s ?p ?o }} }} }} }}", False),
    (f"SELECT * FROM <{EX}g1> {{ ?s ?p ?o }}", False),
    (f"SELECT * FROM NAMED <{EX}g1> {{ ?s ?p ?o }}", False),
    (f"{P}SELECT * FROMex:g1 {{ ?s ?p ?o }}", False),
    (f"{P}SELECT * {{ ?s ?p trueGRAPHx:g {{ ?c ?b ?d }} }}", False),
    (f"{P}SELECT * {{ ?s ?p 1GRAPHx:g {{ ?c ?b ?d }} }}", False),
]


@pytest.mark.parametrize(("text", "copy"), ROUTES)
def test_the_copy_answers_only_queries_of_the_union_default_graph(text: str,
                                                                   copy: bool) -> None:
    assert reads_merge_only(text) is copy


def test_dataset_parameters_and_union_off_read_the_disk() -> None:
    text = "SELECT * { ?s ?p ?o }"
    assert reads_merge_only(text)
    assert not reads_merge_only(text, union_default=False)
    assert not reads_merge_only(text, default_graphs=[f"{EX}g1"])
    assert not reads_merge_only(text, named_graphs=[f"{EX}g1"])
    assert not reads_merge_only(text, default_graphs=[], named_graphs=[])


def test_search_functions_are_found_however_they_are_written() -> None:
    written = [f"PREFIX f: <{FN}> SELECT ?r {{ ?r ?p ?o FILTER(f:matches(?r, 'ice')) }}",
               f"SELECT ?r {{ ?r ?p ?o BIND(<{FN}score>(?r, 'ice') AS ?s) }}"]
    written.append(f"PREFIX f: <{FN}> SELECT ?r {{ ?r ?p ?o }} ORDER BYf:score(?r, 'ice')")
    assert all(calls_custom_functions(text) for text in written)
    assert not calls_custom_functions(f"SELECT ?r {{ ?r ?p ?o FILTER(<{FN}other>(?r)) }}")
    assert not calls_custom_functions(f"PREFIX f: <{FN}> SELECT * {{ ?s ?p (1 2) }}")


# -- 2. generated queries against pyoxigraph given the dataset by definition ---------------
ROUTED: Counter[str] = Counter()


#: dataset clauses the generated queries may carry (one FROM at most: the engine reads
#: several as a bag, so pyoxigraph would be no oracle for their merge)
CLAUSES = ["", "", "", f"FROM <{EX}g2> ", f"FROM NAMED <{EX}g3> ",
           f"FROM <{EX}g3> FROM NAMED <{EX}g2> FROM NAMED <{EX}g1> "]


@st.composite
def routed_query(draw: Any) -> str:
    """A generated query, sometimes with dataset clauses."""
    text: str = draw(query())
    clause = draw(st.sampled_from(CLAUSES))
    return text.replace(" WHERE {", f" {clause}WHERE {{", 1)


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=routed_query())
def test_mirrored_store_answers_as_the_dataset_defines(mirrored: MirroredStore,
                                                      text: str) -> None:
    ROUTED["copy" if mirrored.serves_from_copy(text) else "disk"] += 1
    assert answer(mirrored, text) == answer(_Refusing(_ORACLE), text), text


_ORACLE = oracle()


class _Refusing:
    """The oracle engine with its refusals typed as the store types them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def query(self, text: str, **kwargs: Any) -> Any:
        try:
            return self.engine.query(text, **kwargs)
        except (SyntaxError, ValueError, RuntimeError) as exc:
            raise BadRequest(str(exc)) from None


def test_both_routes_were_taken() -> None:
    """Runs after the generated queries (file order): each route answered some of them."""
    report_family(f"mirror routing: {sum(ROUTED.values())} generated queries, "
                  f"{ROUTED['copy']} answered by the memory copy, {ROUTED['disk']} by the disk")
    assert ROUTED["copy"] > EXAMPLES // 10 and ROUTED["disk"] > EXAMPLES // 10, ROUTED


# -- 3. the executor -----------------------------------------------------------------------------
def request(text: str) -> QueryRequest:
    return QueryRequest(text, RESULT_FORMATS[0], GRAPH_FORMATS[0], timeout=20)


def rows(executed: Any) -> Counter[str]:
    """The JSON result's bindings as a multiset of their sorted renderings."""
    body = json.loads(b"".join(executed.body))
    return Counter(json.dumps(sorted(b.items()), sort_keys=True)
                   for b in body["results"]["bindings"])


def oracle_rows(text: str) -> Counter[str]:
    """The oracle's answer, serialised as the executor serialises."""
    return rows(materialise(_ORACLE.query(text), request(text), Deadline(20)))


EXECUTOR_QUERIES = [
    "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s",
    f"SELECT (SUM(?age) AS ?n) WHERE {{ ?s <{EX}age> ?age }}",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    f"SELECT ?s WHERE {{ GRAPH <{EX}g3> {{ ?s ?p ?o }} }}",
]


def test_executor_sends_each_query_where_it_can_be_answered(mirrored: MirroredStore
                                                           ) -> None:
    executor = MirrorExecutor(mirrored, SnapshotPoolExecutor(mirrored, 1),
                              lambda: ForkPoolExecutor(mirrored, 1))
    try:
        for text in EXECUTOR_QUERIES:
            assert executor.for_copy(request(text)) is ("GRAPH" not in text), text
            assert rows(executor.run(request(text))) == oracle_rows(text), text
        assert executor.memory is not None  # the copy's queries went to forked workers
        search = f"PREFIX f: <{FN}> SELECT ?r {{ ?r ?p ?o FILTER(f:matches(?r, 'alice')) }}"
        assert not executor.for_copy(request(search))
    finally:
        executor.close()


def test_worker_forked_without_the_copy_sends_the_query_to_the_disk(
        tmp_path: Path) -> None:
    store = MirroredStore(tmp_path / "store")
    store.load(io.BytesIO(SHARED.encode()), RdfFormat.TRIG)
    pool = ForkPoolExecutor(store, 1)  # the copy is not made: every worker lacks it
    try:
        with pytest.raises(StoreError) as refused:
            pool.run(request("SELECT * { GRAPH ?g { ?s ?p ?o } }"))
        assert refused.value.details.get("reason") == NOT_IN_COPY
    finally:
        pool.close()
        store.close()


# -- 4. the copy follows writes at the edges of its filling ---------------------------------
def copy_is_merge(store: MirroredStore) -> None:
    assert store._copy is not None
    held = {(q.subject, q.predicate, q.object)
            for q in store._copy.engine.quads_for_pattern(None, None, None, None)}
    merge = {(q.subject, q.predicate, q.object) for q in store.quads()}
    assert held == merge, f"copy {len(held)} triples, merge of the graphs {len(merge)}"


def test_a_dataset_bulk_loaded_into_every_graph_reaches_the_copy(tmp_path: Path) -> None:
    """Many graphs, one larger than a copying chunk: wherever the engine orders them
    beside the hidden merge, every one reaches the copy."""
    store = MirroredStore(tmp_path / "store")
    try:
        store.start_filling().join(60)
        lines = [f"<{EX}s{i}> <{EX}p> \"{i}\" <{EX}big> .\n" for i in range(12_000)]
        lines += [f"<{EX}t{g}-{i}> <{EX}p> \"{i}\" <{EX}g{g}> .\n"
                  for g in range(40) for i in range(5)]
        store.bulk_load([io.BytesIO("".join(lines).encode())], RdfFormat.N_QUADS)
        copy_is_merge(store)
    finally:
        store.close()


class _SlowReadyLog(logging.Handler):
    """Holds the filling thread on its "ready" message, after the copy is installed."""

    def emit(self, record: logging.LogRecord) -> None:
        if "ready" in record.getMessage():
            time.sleep(1.0)


def test_a_refill_asked_for_as_a_filling_ends_is_made(tmp_path: Path) -> None:
    store = MirroredStore(tmp_path / "store")
    store.load(io.BytesIO(SHARED.encode()), RdfFormat.TRIG)
    logger = logging.getLogger("borderkg")
    handler, level = _SlowReadyLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        filling = store.start_filling()
        assert store.ready.wait(30)
        assert filling.is_alive()  # installed, still logging
        # a triple term: the disk engine runs it itself, so the copy must be made anew
        store.update(f"INSERT DATA {{ <{EX}x> <{EX}p> <{EX}y> . "
                     f"<< <{EX}a> <{EX}p> <{EX}b> >> <{EX}said> <{EX}z> }}")
        deadline = time.monotonic() + 30
        while (store._filling is not filling and store._filling is not None
               and store._filling.is_alive() or not store.ready.is_set()) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store._filling is not filling, "no new filling was started"
        store._filling.join(30)
        copy_is_merge(store)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        store.close()


# -- 5. the real CBP table: every named query, against pyoxigraph ---------------------------
@pytest.fixture(scope="module")
def cbp_dataset(seed_nquads: str, tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[MirroredStore, _Refusing]]:
    """The seed and the real CBP table (imported by the project's importer) in a ready
    mirrored store, and pyoxigraph holding the same quads as the dataset by definition."""
    from graph.imports.cbp import import_cbp
    from graph.store.oxigraph import OxigraphStore
    from tests.conftest import CBP_STATE_CSV

    built = OxigraphStore(None)
    built.load(seed_nquads, RdfFormat.N_QUADS)
    import_cbp(built, CBP_STATE_CSV, progress=False)
    quads = list(built.quads())
    built.close()
    engine = Engine()
    engine.extend(q for q in quads if not isinstance(q.graph_name, DefaultGraph))
    engine.extend(Quad(q.subject, q.predicate, q.object) for q in quads)
    store = MirroredStore(tmp_path_factory.mktemp("mirror-cbp") / "store")
    store.bulk_extend(quads)
    store.start_filling().join(300)
    assert store.ready.is_set()
    yield store, _Refusing(engine)
    store.close()


def in_any_order(rows: Any, names: set[str]) -> Any:
    """``rows`` with the values of ``names`` (GROUP_CONCATs, whose order SPARQL leaves to
    the engine) as their space-separated parts in sorted order."""
    if not names or isinstance(rows, str):
        return rows
    out: Counter[tuple[Any, ...]] = Counter()
    for row, n in rows.items():
        out[tuple((name, (value[0], " ".join(sorted(value[1].split())), *value[2:]))
                  if name in names else (name, value) for name, value in row)] += n
    return out


def test_every_named_query_over_the_cbp_table_answers_as_the_dataset_defines(
        cbp_dataset: tuple[MirroredStore, _Refusing]) -> None:
    from graph.sparql.named_queries import bind_params
    from queries import list_queries, load_query

    store, oracle = cbp_dataset
    assert store.count() > 450_000
    from_copy = []
    for name in list_queries():
        named = load_query(name)
        substitutions = bind_params(named, {})
        if store.serves_from_copy(named.text):
            from_copy.append(name)
        ours = answer(store, named.text, substitutions=substitutions)
        theirs = answer(oracle, named.text, substitutions=substitutions)
        assert ours != "refused", name
        concatenated = set(re.findall(r"GROUP_CONCAT\(.*?\)\s+AS\s+\?(\w+)", named.text))
        assert in_any_order(ours, concatenated) == in_any_order(theirs, concatenated), name
    report_family(f"mirror routing, real CBP table: {len(list_queries())} named queries "
                  f"agree with pyoxigraph, {len(from_copy)} of them answered by the copy")
    # the Data Cube queries analysts send most read the union default graph only
    assert {"encounters-by-fiscal-year", "monthly-encounters", "top-citizenships",
            "year-over-year-growth", "monthly-change",
            "encounters-by-demographic"} <= set(from_copy)
