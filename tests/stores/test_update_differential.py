"""BorderKG's update evaluator against the engine's own SPARQL Update.

Without the union default graph (``union_default=False``) the evaluator in
``graph.store.updates`` must change the dataset exactly as ``pyoxigraph.Store.update`` does.
Hypothesis generates starting datasets (default graph and named graphs, no blank nodes)
and requests of 1-4 operations: INSERT DATA / DELETE DATA with and without GRAPH,
DELETE/INSERT ... WHERE with GRAPH ?g, WITH, USING / USING NAMED, DELETE WHERE,
CLEAR/DROP of GRAPH/DEFAULT/NAMED/ALL, ADD/MOVE/COPY, CREATE, SILENT or not, OPTIONAL
leaving template variables unbound, literals reaching a subject or graph position through a
variable, template blank nodes fresh per solution. The request runs on a raw pyoxigraph
store (the oracle) and on a BorderKG store (memory and disk) holding the same quads; the
real quads must then be equal (blank nodes compared by count per shape), as must the named
graphs the engine records. When the engine refuses a request, BorderKG must raise a
``BorderKGError`` and leave the dataset, merge included, as it was.

Differences accounted for (each counted in the summary line):

* ``drop-missing``: a ``DROP``/``CLEAR`` of a graph without triples succeeds in BorderKG
  (an empty graph), where the engine fails it without ``SILENT`` (documented): the oracle
  is then the engine running the request with ``SILENT`` on those operations;

``ADD``/``MOVE``/``COPY`` from a named graph that does not exist behave as in the engine
(``ADD`` changes nothing, ``COPY`` and ``MOVE SILENT`` empty the target, ``MOVE`` fails),
and so does the record of a ``MOVE``/``COPY`` target: no difference is accounted for.

For requests where a difference applies, the oracle is the engine running the operations
one at a time with BorderKG's behaviour substituted for those operations; for every other
request it is the engine running the request as it is.

With ``union_default=True`` the WHERE clauses see the merge: the oracle is the engine
running each DELETE/INSERT operation with ``USING`` a graph that holds the merge of the
moment and ``USING NAMED`` the named graphs of the moment (a later operation sees what an
earlier one made), templates writing to the default graph as always.

``BORDERKG_FUZZ_EXAMPLES`` scales the number of examples (default 150);
``BORDERKG_DIFF_RANDOM=1`` draws new requests on each run (derandomised otherwise).
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import DefaultGraph, NamedNode, Quad
from pyoxigraph import Store as Engine

from graph.errors import BorderKGError
from graph.store import union as ug
from graph.store.oxigraph import OxigraphStore
from tests.conftest import report_family

from .dataset_oracle import (
    EX,
    PREFIX,
    assert_merge,
    canonical,
    engine_real_quads,
    literal_int,
    real_quads,
)

EXAMPLES = int(os.environ.get("BORDERKG_FUZZ_EXAMPLES", "150"))
SCALE = EXAMPLES / 150
MERGE = "urn:x-oracle:merge"
#: ``BORDERKG_DIFF_RANDOM=1``: new random requests each run; otherwise derandomised
RANDOM = os.environ.get("BORDERKG_DIFF_RANDOM") == "1"

# -- data ----------------------------------------------------------------------------------

NODES = ["ex:a", "ex:b", "ex:c"]
OBJECTS = [*NODES, "ex:d", "1", "2", '"x"']
LINKS = ["ex:p", "ex:q", "ex:v"]
DATA_GRAPHS = ["", "ex:g1", "ex:g2", "ex:g3"]
#: graphs an operation may name: g4 never holds data at the start
GRAPHS = ["ex:g1", "ex:g2", "ex:g3", "ex:g4"]


def _iri(name: str) -> NamedNode:
    return NamedNode(EX + name.removeprefix("ex:"))


def _object(text: str) -> Any:
    if text.startswith("ex:"):
        return _iri(text)
    if text.startswith('"'):
        from pyoxigraph import Literal

        return Literal(text.strip('"'))
    return literal_int(int(text))


ground = st.tuples(st.sampled_from(NODES), st.sampled_from(LINKS), st.sampled_from(OBJECTS))


@st.composite
def datasets(draw: Any) -> list[Quad]:
    entries = draw(st.lists(st.tuples(ground, st.sets(st.sampled_from(DATA_GRAPHS),
                                                      min_size=1)), max_size=12))
    quads = {Quad(_iri(s), _iri(p), _object(o), _iri(g) if g else DefaultGraph())
             for (s, p, o), graphs in entries for g in graphs}
    return sorted(quads, key=str)


# -- operations ----------------------------------------------------------------------------
# An operation is text with two optional slots: {SD} (before the graph of a DROP/CLEAR that
# was generated without SILENT) and {SA} (the same for ADD/COPY). They render empty, or
# SILENT when the oracle of a documented difference forces it.

def _triple(t: tuple[str, str, str]) -> str:
    return f"{t[0]} {t[1]} {t[2]} ."


@st.composite
def data_block(draw: Any) -> str:
    items = []
    for t, graph in draw(st.lists(st.tuples(ground, st.sampled_from(["", *GRAPHS])),
                                  min_size=1, max_size=4)):
        items.append(_triple(t) if not graph else f"GRAPH {graph} {{ {_triple(t)} }}")
    return " ".join(items)


#: DELETE/INSERT ... WHERE templates; {G}/{H} are graph IRIs; ``bnode``: whether the
#: template makes blank nodes (never with two USING graphs, whose solutions the engine
#: counts as a bag and BorderKG as a set)
MODIFY = [
    "DELETE { ?s ex:p ?o } INSERT { GRAPH {G} { ?s ex:q ?o } } WHERE { ?s ex:p ?o }",
    "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o FILTER(?o = ex:b) } }",
    "INSERT { GRAPH ?g { ?o ex:back ?s } } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "INSERT { GRAPH ?o { ?s ?p ?o } } WHERE { ?s ?p ?o }",
    "INSERT { ?o ex:p ?s } WHERE { ?s ex:v ?o }",
    "INSERT { ?s ex:q ?x } WHERE { ?s ex:p ?o OPTIONAL { ?o ex:q ?x } }",
    "INSERT { GRAPH ?g { ?s ex:copy ?o } } WHERE { ?s ex:p ?o OPTIONAL { GRAPH ?g { ?o ?r ?x } } }",
    "WITH {G} DELETE { ?s ?p ?o } INSERT { ?s ex:moved ?o } WHERE { ?s ?p ?o }",
    "WITH {G} INSERT { ?s ex:q ?s } WHERE { ?s ex:p ?o }",
    "WITH {G} DELETE { ?s ex:v ?o } WHERE { ?s ex:v ?o FILTER(?o > 1) }",
    "DELETE { ?s ex:p ?o } INSERT { ?o ex:p ?s } USING {G} USING {H} WHERE { ?s ex:p ?o }",
    "INSERT { ?s ex:in ?g } USING NAMED {G} WHERE { GRAPH ?g { ?s ?p ?o } }",
    "INSERT { GRAPH ?g { ?s ex:q ex:d } } USING {H} USING NAMED {G} WHERE "
    "{ ?s ?p ?o OPTIONAL { GRAPH ?g { ?s ?p ?o } } }",
    "WITH {G} INSERT { ?s ex:w ?o } USING {H} WHERE { ?s ?p ?o }",
    "DELETE WHERE { ?s ex:p ?o }",
    "DELETE WHERE { GRAPH {G} { ?s ?p ?o } }",
    "DELETE WHERE { GRAPH ?g { ?s ex:v ?o } }",
    "DELETE WHERE { ?s ex:q ?o . ?o ex:p ?x }",
    "INSERT { ?s ex:b _:n . _:n ex:v ?o } WHERE { ?s ex:v ?o }",
    "INSERT { GRAPH ?g { [] ex:seen ?s } } WHERE { GRAPH ?g { ?s ex:p ?o } }",
    "INSERT { GRAPH {G} { ?s ex:b [ ex:v ?o ] } } WHERE { ?s ex:v ?o }",
    "DELETE { ?s ?p ?o } INSERT { GRAPH {G} { ?s ?p ?o } } WHERE { ?s ?p ?o "
    "FILTER NOT EXISTS { GRAPH {H} { ?s ?p ?o } } }",
    "INSERT { GRAPH ?g { ?s ex:n ?n } } WHERE { { SELECT ?g ?s (COUNT(*) AS ?n) "
    "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?s } }",
    "INSERT { ?s ex:q ?t } WHERE { ?s ex:p ?o BIND(IF(?o = ex:b, ex:d, 3) AS ?t) }",
    "INSERT { GRAPH ?h { ?s ex:p ex:c } } WHERE { VALUES ?h { {G} {H} } ?s ex:q ?o }",
]


@st.composite
def operations(draw: Any) -> str:
    kind = draw(st.sampled_from(["insert data", "delete data", "modify", "modify", "modify",
                                 "clear", "drop", "transfer", "create"]))
    if kind == "insert data":
        return f"INSERT DATA {{ {draw(data_block())} }}"
    if kind == "delete data":
        return f"DELETE DATA {{ {draw(data_block())} }}"
    if kind == "modify":
        op = draw(st.sampled_from(MODIFY))
        return op.replace("{G}", draw(st.sampled_from(GRAPHS))).replace(
            "{H}", draw(st.sampled_from(GRAPHS)))
    silent = draw(st.booleans())
    if kind in ("clear", "drop"):
        target = draw(st.sampled_from(["GRAPH {g}", "GRAPH {g}", "DEFAULT", "NAMED", "ALL"]))
        target = target.format(g=draw(st.sampled_from(GRAPHS)))
        return f"{kind.upper()} {'SILENT ' if silent else '{SD}'}{target}"
    if kind == "create":
        return f"CREATE {'SILENT ' if silent else ''}GRAPH {draw(st.sampled_from(GRAPHS))}"
    word = draw(st.sampled_from(["ADD", "MOVE", "COPY"]))
    ends = st.sampled_from([*GRAPHS, "DEFAULT"])
    slot = "SILENT " if silent else "" if word == "MOVE" else "{SA}"
    return f"{word} {slot}{draw(ends)} TO {draw(ends)}"


requests = st.lists(operations(), min_size=1, max_size=4)


def render(ops: list[str], silent_drops: bool = False, silent_adds: bool = False) -> str:
    body = " ;\n".join(ops).replace("{SD}", "SILENT " if silent_drops else "").replace(
        "{SA}", "SILENT " if silent_adds else "")
    return PREFIX + body


# -- running both --------------------------------------------------------------------------

def engine_of(quads: list[Quad]) -> Engine:
    engine = Engine()
    engine.extend(quads)
    return engine


def engine_outcome(quads: list[Quad], text: str) -> tuple[Engine, Exception | None]:
    engine = engine_of(quads)
    try:
        engine.update(text)
    except (SyntaxError, ValueError, RuntimeError, OSError) as exc:
        return engine, exc
    return engine, None


def records(engine: Engine) -> set[str]:
    """The named graphs an engine records (with or without quads), hidden ones left out."""
    return {g.value for g in ug.real_named_graphs(engine)}


def state(store: OxigraphStore) -> tuple[Counter[str], set[str]]:
    return canonical(real_quads(store)), records(store.engine)


def engine_state(engine: Engine) -> tuple[Counter[str], set[str]]:
    return canonical(engine_real_quads(engine)), records(engine)


def bkg_outcome(store: OxigraphStore, text: str, union: bool = False) -> BorderKGError | None:
    try:
        store.update(text, union_default=union)
    except BorderKGError as exc:
        return exc
    return None


TALLY: Counter[str] = Counter()


class Stores:
    """A fresh BorderKG store per example: memory, or one disk store emptied by ``clear``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.disk: OxigraphStore | None = None

    def get(self, backend: str, quads: list[Quad]) -> OxigraphStore:
        if backend == "memory":
            store = OxigraphStore(None)
        else:
            if self.disk is None:
                self.disk = OxigraphStore(self.root / "store")
            store = self.disk
            store.clear()
        store.extend(quads)
        assert real_quads(store) == set(quads)
        return store

    def close(self) -> None:
        if self.disk is not None:
            self.disk.close()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stores]:
    opened = Stores(tmp_path_factory.mktemp("update-differential"))
    yield opened
    opened.close()


def _transfer_source(op: str) -> tuple[str, bool] | None:
    """The source graph of an ADD/MOVE/COPY operation and whether it is SILENT."""
    words = op.replace("{SA}", "").split()
    if words[0] not in ("ADD", "MOVE", "COPY"):
        return None
    silent = words[1] == "SILENT"
    return words[2 if silent else 1], silent


def simulate(quads: list[Quad], ops: list[str]) -> tuple[Engine | None, set[str]]:
    """The engine running ``ops`` one at a time with BorderKG's differences applied: a
    DROP/CLEAR of a graph without triples succeeds (``drop-missing``). Returns the final
    engine (None: the request fails) and which differences applied."""
    engine, events = engine_of(quads), set[str]()
    for op in ops:
        try:
            engine.update(render([op]))
        except RuntimeError as exc:
            if "{SD}" not in op or "does not exist" not in str(exc):
                return None, events
            events.add("drop-missing")
            engine.update(render([op], silent_drops=True))
    return engine, events


def check_request(store: OxigraphStore, quads: list[Quad], ops: list[str]) -> str:
    """Run ``ops`` on the oracle and on ``store`` (holding ``quads``); the class of the
    outcome: ``same``, ``refused`` (both fail), or the differences that applied."""
    text = render(ops)
    before = state(store)
    oracle, failure = engine_outcome(quads, text)
    error = bkg_outcome(store, text)
    journal = store.journal
    assert journal is None or not journal.path.exists(), "journal left behind"
    assert_merge(store, f"after {text!r}")
    expected, events = simulate(quads, ops)
    if not events:
        # the simulation is the engine itself here: check the oracle, then BorderKG
        assert (expected is None) == (failure is not None), (text, failure)
        if failure is not None:
            assert error is not None, (text, failure, "BorderKG succeeded")
            assert state(store) == before, (text, "changed by a refused request")
            return "refused"
        assert expected is not None and engine_state(expected) == engine_state(oracle)
        assert error is None, (text, error)
        assert state(store) == engine_state(oracle), text
        return "same"
    if expected is None:
        assert error is not None, (text, events, "BorderKG succeeded")
        assert state(store) == before, (text, "changed by a refused request")
        return "refused, " + "+".join(sorted(events))
    assert error is None, (text, events, error)
    assert state(store) == engine_state(expected), (text, events)
    return "+".join(sorted(events))


@pytest.mark.parametrize("backend", ["memory", "disk"])
def test_updates_change_the_dataset_as_the_engine_does(backend: str, stores: Stores) -> None:
    share = 1.0 if backend == "memory" else 0.5
    tally: Counter[str] = Counter()

    @settings(max_examples=max(10, int(200 * SCALE * share)), deadline=None,
              suppress_health_check=[HealthCheck.too_slow], database=None,
              derandomize=not RANDOM)
    @given(quads=datasets(), ops=requests)
    def check(quads: list[Quad], ops: list[str]) -> None:
        store = stores.get(backend, quads)
        tally[check_request(store, quads, ops)] += 1

    check()
    TALLY.update(tally)
    report_family(f"update differential ({backend}): {sum(tally.values())} requests, "
                  + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    assert tally["same"] > 0


def test_refused_request_is_all_or_nothing(stores: Stores) -> None:
    """A request whose last operation fails leaves nothing of the earlier ones."""
    quads = [Quad(_iri("a"), _iri("p"), _iri("b"), _iri("g1")),
             Quad(_iri("a"), _iri("p"), _iri("b"), DefaultGraph())]
    ops = ["INSERT DATA { ex:c ex:p ex:d . GRAPH ex:g2 { ex:a ex:p ex:b } }",
           "DELETE WHERE { ?s ex:p ?o }", "DROP GRAPH ex:g1",
           "INSERT { GRAPH ex:g3 { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
           "CREATE GRAPH ex:g3"]
    for backend in ("memory", "disk"):
        store = stores.get(backend, quads)
        assert check_request(store, quads, ops) == "refused"
        assert real_quads(store) == set(quads)


# -- the union default graph ---------------------------------------------------------------

def _split_modify(op: str) -> tuple[str, str] | None:
    """``(head, where)`` of a DELETE/INSERT operation without WITH or USING (the text before
    WHERE, and the WHERE block); DELETE WHERE as its long form."""
    if op.startswith("DELETE WHERE "):
        block = op[len("DELETE WHERE "):]
        return f"DELETE {block}", block
    if op.startswith(("DELETE {", "INSERT {")) and " WHERE " in op and "USING" not in op:
        head, _, where = op.partition(" WHERE ")
        return head, where
    return None


def union_oracle(quads: list[Quad], ops: list[str]) -> Engine:
    """The engine applying ``ops`` one by one, each DELETE/INSERT's WHERE over a default
    graph holding the merge of the moment and the named graphs of the moment."""
    engine = engine_of(quads)
    for op in ops:
        parts = _split_modify(op)
        if parts is None:
            engine.update(render([op]))
            continue
        engine.update(f"INSERT {{ GRAPH <{MERGE}> {{ ?s ?p ?o }} }} WHERE {{ {{ ?s ?p ?o }} "
                      f"UNION {{ GRAPH ?g {{ ?s ?p ?o }} }} }}")
        named = " ".join(f"USING NAMED <{g}>" for g in sorted(records(engine) - {MERGE}))
        engine.update(f"{render([f'{parts[0]} USING <{MERGE}> {named} WHERE {parts[1]}'])} ;"
                      f" DROP SILENT GRAPH <{MERGE}>")
    return engine


UNION_MODIFY = [op for op in MODIFY if _split_modify(op) is not None
                and "[" not in op and "_:" not in op]


@st.composite
def union_operations(draw: Any) -> str:
    kind = draw(st.sampled_from(["modify", "modify", "modify", "insert data", "other"]))
    if kind == "insert data":
        return f"INSERT DATA {{ {draw(data_block())} }}"
    if kind == "other":
        g, h = draw(st.sampled_from(GRAPHS)), draw(st.sampled_from(GRAPHS))
        return draw(st.sampled_from([f"DROP SILENT GRAPH {g}", f"CREATE SILENT GRAPH {g}",
                                     f"COPY SILENT {g} TO {h}", f"MOVE SILENT DEFAULT TO {g}",
                                     "CLEAR SILENT DEFAULT"]))
    op = draw(st.sampled_from(UNION_MODIFY))
    return op.replace("{G}", draw(st.sampled_from(GRAPHS))).replace(
        "{H}", draw(st.sampled_from(GRAPHS)))


@pytest.mark.parametrize("backend", ["memory", "disk"])
def test_union_mode_updates_see_the_merge(backend: str, stores: Stores) -> None:
    share = 1.0 if backend == "memory" else 0.5
    differs = Counter[bool]()

    @settings(max_examples=max(10, int(100 * SCALE * share)), deadline=None,
              suppress_health_check=[HealthCheck.too_slow], database=None,
              derandomize=not RANDOM)
    @given(quads=datasets(), ops=st.lists(union_operations(), min_size=1, max_size=4))
    def check(quads: list[Quad], ops: list[str]) -> None:
        store = stores.get(backend, quads)
        text = render(ops)
        assert bkg_outcome(store, text, union=True) is None, text
        assert_merge(store, text)
        expected = union_oracle(quads, ops)
        assert canonical(real_quads(store)) == canonical(engine_real_quads(expected)), text
        differs[canonical(engine_real_quads(expected)) !=
                canonical(engine_real_quads(engine_outcome(quads, text)[0]))] += 1

    check()
    report_family(f"update differential, union mode ({backend}): {sum(differs.values())} "
                  f"requests, {differs[True]} where the merge changed the outcome")
    assert differs[True] > 0, "no generated request depended on the union default graph"


def _named_only() -> list[Quad]:
    g1, g2 = _iri("g1"), _iri("g2")
    return [Quad(_iri("a"), _iri("p"), _iri("b"), g1), Quad(_iri("a"), _iri("p"), _iri("b"), g2),
            Quad(_iri("b"), _iri("p"), _iri("c"), g2), Quad(_iri("c"), _iri("q"), _iri("a"),
                                                            DefaultGraph())]


@pytest.mark.parametrize("backend", ["memory", "disk"])
def test_union_where_reads_named_graphs_and_writes_the_default_graph(backend: str,
                                                                    stores: Stores) -> None:
    quads = _named_only()
    ops = ["INSERT { ?s ex:copied ?o } WHERE { ?s ex:p ?o }"]
    store = stores.get(backend, quads)
    store.update(render(ops), union_default=True)
    expected = union_oracle(quads, ops)
    assert real_quads(store) == engine_real_quads(expected)
    added = real_quads(store) - set(quads)
    assert added and all(isinstance(q.graph_name, DefaultGraph) for q in added)
    # the same request without the union default graph finds nothing to copy
    plain = stores.get(backend, quads)
    plain.update(render(ops), union_default=False)
    assert real_quads(plain) == set(quads)
    # a DELETE without GRAPH only deletes from the default graph
    store = stores.get(backend, quads)
    ops = ["DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"]
    store.update(render(ops), union_default=True)
    assert real_quads(store) == engine_real_quads(union_oracle(quads, ops))
    assert real_quads(store) == {q for q in quads if not isinstance(q.graph_name, DefaultGraph)}
    assert_merge(store)


@pytest.mark.parametrize("backend", ["memory", "disk"])
@pytest.mark.parametrize("union", [True, False])
def test_graph_made_earlier_in_the_request_is_seen_later(backend: str, union: bool,
                                                         stores: Stores) -> None:
    quads = _named_only()
    ops = ["INSERT DATA { GRAPH ex:g9 { ex:d ex:p ex:a } }",
           "INSERT { ?s ex:in ?g } WHERE { GRAPH ?g { ?s ex:p ?o } }",
           "INSERT { GRAPH ex:g8 { ?o ex:q ?s } } WHERE { ?s ex:p ?o }",
           "INSERT { ?s ex:later ?g } WHERE { GRAPH ?g { ?s ex:q ?o } }"]
    store = stores.get(backend, quads)
    store.update(render(ops), union_default=union)
    expected = union_oracle(quads, ops) if union else engine_outcome(quads, render(ops))[0]
    assert real_quads(store) == engine_real_quads(expected)
    in_g9 = Quad(_iri("d"), _iri("in"), _iri("g9"), DefaultGraph())
    assert in_g9 in real_quads(store)
    assert_merge(store)


# -- blank node property lists and collections in templates --------------------------------

@pytest.mark.parametrize("template", [
    "INSERT DATA { ex:a ex:p [ ex:q 1 ] }",
    "INSERT DATA { ex:a ex:p ( 1 2 ) }",
    "INSERT { ?s ex:b [ ex:v ?o ] } WHERE { ?s ex:v ?o }",
    "INSERT { [] ex:seen ?s } WHERE { ?s ex:v ?o }",
])
def test_blank_node_syntax_in_default_graph_templates(template: str) -> None:
    quads = [Quad(_iri("a"), _iri("v"), literal_int(1), DefaultGraph()),
             Quad(_iri("b"), _iri("v"), literal_int(2), _iri("g1"))]
    store = OxigraphStore(None)
    store.extend(quads)
    assert check_request(store, quads, [template]) == "same"
