"""The disk store with an in-memory copy (``graph.store.mirror``): the copy holds what the disk
holds, whatever was written while it filled and after; the service answers from the disk
while it fills and from the copy after; acknowledged writes survive ``kill -9``.

Every expected answer comes from an oracle: a plain ``OxigraphStore`` opened on the same
directory once the mirrored store (or the server) is closed, or the disk engine itself.
"""
from __future__ import annotations

import io
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat

from graph.errors import BorderKGError, ConfigError
from graph.store import union as ug
from graph.store.mirror import MirroredStore
from graph.store.oxigraph import OxigraphStore
from tests.conftest import TOKEN, LiveServer, report_family

EX = "http://example.org/mirror/"
KILLS = int(os.environ.get("BORDERKG_KILL_LOOPS", "8"))
EXAMPLES = int(os.environ.get("BORDERKG_MIRROR_EXAMPLES", "15"))
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Accept": "application/sparql-results+json"}


# -- data and comparison -------------------------------------------------------------------
def generated(count: int) -> list[Quad]:
    """``count`` quads: 1 % in the default graph, 1 % in a small named graph, the rest in
    three large ones; triples repeated across graphs, so the merge is a set, not a bag."""
    graphs = [NamedNode(f"{EX}gen{g}") for g in range(4)]
    quads = []
    for i in range(count):
        kind = i % 100
        graph = DefaultGraph() if kind == 0 else graphs[0] if kind == 1 else graphs[1 + i % 3]
        quads.append(Quad(NamedNode(f"{EX}s{i // 2}"), NamedNode(f"{EX}p{i % 7}"),
                          Literal(str(i // 3)), graph))
    return quads


def load_generated(path: Path, count: int) -> None:
    """A disk store at ``path`` holding ``generated(count)`` (merge included)."""
    store = OxigraphStore(path)
    try:
        store.bulk_extend(generated(count))
    finally:
        store.close()


#: quads of the stores whose copy takes seconds to fill
LARGE = 120_000
#: quads of the live server's store: its copy must still be filling after a few queries
LIVE = 300_000


@pytest.fixture(scope="module")
def large_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed disk store of ``LARGE`` generated quads, made once and copied per test."""
    path = tmp_path_factory.mktemp("mirror-template") / "store"
    load_generated(path, LARGE)
    return path


def copy_of(template: Path, path: Path) -> Path:
    """``template`` (and its journal, when there is one) copied to ``path``."""
    shutil.copytree(template, path)
    journal = template.with_name(template.name + ".journal")
    if journal.exists():
        shutil.copy2(journal, path.with_name(path.name + ".journal"))
    return path


def by_graph(store: OxigraphStore) -> dict[str, set[tuple[Any, Any, Any]]]:
    """Every real graph of ``store`` (through its own reading path) as a set of triples."""
    graphs: dict[str, set[tuple[Any, Any, Any]]] = {"": set()}
    for g in store.named_graphs():
        graphs[g] = set()
    for q in store.quads():
        name = "" if isinstance(q.graph_name, DefaultGraph) else q.graph_name.value
        graphs.setdefault(name, set()).add((q.subject, q.predicate, q.object))
    return graphs


AGGREGATES = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT (COUNT(DISTINCT ?s) AS ?n) (COUNT(DISTINCT ?o) AS ?m) WHERE { ?s ?p ?o }",
    "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    f"SELECT (SUM(xsd:integer(?o)) AS ?n) WHERE {{ ?s <{EX}p3> ?o }}".replace(
        "xsd:integer", "<http://www.w3.org/2001/XMLSchema#integer>"),
)


def aggregates(store: OxigraphStore) -> list[set[tuple[Any, ...]]]:
    out = []
    for text in AGGREGATES:
        result = store.query(text, union_default=True)
        names = [v.value for v in result.variables]  # type: ignore[union-attr]
        out.append({tuple(row[n] for n in names) for row in result})  # type: ignore[union-attr]
    return out


def engine_quads(engine: Any, graph: Any = None, hidden: bool = False) -> set[Quad]:
    """Quads of a pyoxigraph engine: the real ones, or with ``hidden`` the merge's."""
    if hidden:
        return set(engine.quads_for_pattern(None, None, None, ug.UNION))
    return {q for q in engine.quads_for_pattern(None, None, None, graph)
            if not ug.is_hidden(q.graph_name)}


def copy_triples(store: MirroredStore) -> set[tuple[Any, Any, Any]]:
    """The triples the memory copy holds (it has a default graph only)."""
    assert store._copy is not None
    engine = store._copy.engine
    assert not list(engine.named_graphs()), "the copy holds named graphs"
    return {(q.subject, q.predicate, q.object)
            for q in engine.quads_for_pattern(None, None, None, None)}


def merge_of(graphs: dict[str, set[tuple[Any, Any, Any]]]) -> set[tuple[Any, Any, Any]]:
    """The union default graph by its definition: the set union of every graph's triples."""
    return set().union(*graphs.values())


def wait_ready(store: MirroredStore, timeout: float = 120) -> None:
    """Until the copy is ready or its filling ended without it (a failure, logged)."""
    deadline = time.monotonic() + timeout
    while not store.ready.is_set() and time.monotonic() < deadline:
        filling = store._filling
        if filling is None:
            break
        filling.join(0.1)
        if not filling.is_alive() and store._filling is filling:
            break
    assert store.ready.is_set(), f"the memory copy is not ready: {store.progress}"


# -- 1. writes made while the copy fills ---------------------------------------------------
def nt(lines: list[tuple[str, str, str]]) -> bytes:
    return "".join(f"<{EX}{s}> <{EX}{p}> {o} .\n" for s, p, o in lines).encode()


def adding_round(store: MirroredStore, r: int) -> None:
    """Writes that add, or drop whole graphs, with IRIs of round ``r``."""
    g = lambda name: f"{EX}{name}{r}"  # noqa: E731
    store.update(f"""INSERT DATA {{ <{EX}r{r}> <{EX}p1> "round {r}" , _:b .
      _:b <{EX}p2> {r} .
      GRAPH <{g('ins')}> {{ <{EX}r{r}> <{EX}p1> "round {r}" . <{EX}x{r}> <{EX}p0> <{EX}y> }}
      GRAPH <{EX}gen1> {{ <{EX}extra{r}> <{EX}p5> "1" . <{EX}s{r}> <{EX}p{r % 7}> "{r}" }}
      }}""")
    store.extend([Quad(NamedNode(f"{EX}e{r}-{i}"), NamedNode(f"{EX}p{i % 7}"), Literal(str(i)),
                       NamedNode(g("ext")) if i % 2 else DefaultGraph()) for i in range(50)])
    store.load(f"<{EX}t{r}> <{EX}p2> [ <{EX}p3> {r} ] ; <{EX}p4> <{EX}s1> .".encode(),
               RdfFormat.TURTLE, graph=g("gsp"))
    # reads graphs made while filling (from the disk): its quads reach the copy as listed
    store.update(f"INSERT {{ GRAPH <{g('derived')}> {{ ?s ?p ?o }} }} "
                 f"WHERE {{ GRAPH <{g('ext')}> {{ ?s ?p ?o FILTER(?o < \"3\") }} }}")
    store.update(f"DROP GRAPH <{g('ins')}>")
    store.update(f"CLEAR GRAPH <{g('ext')}>")
    store.drop_graph(g("gsp"))
    if r == 1:
        store.update("CLEAR DEFAULT")  # the generated quads there too, and the merge's
        store.update(f"DROP GRAPH <{EX}gen0>")


def removing_round(store: MirroredStore, r: int) -> None:
    """Writes that remove quads one by one, a bulk load and a clear of everything."""
    g = lambda name: f"{EX}{name}{r}"  # noqa: E731
    adding_round(store, r)
    store.update(f"DELETE WHERE {{ GRAPH <{EX}gen{1 + r % 3}> {{ <{EX}s{r * 11}> ?p ?o }} }}")
    store.update(f"DELETE DATA {{ GRAPH <{EX}gen1> {{ <{EX}extra{r}> <{EX}p5> \"1\" }} }}")
    store.bulk_load([io.BytesIO(nt([(f"b{r}-{i}", "p6", f'"{i}"') for i in range(200)])),
                     io.BytesIO(nt([(f"c{r}-{i}", "p6", f'"{i}"') for i in range(200)]))],
                    RdfFormat.N_TRIPLES, graph=g("bulk"))
    store.update(f"INSERT {{ GRAPH <{g('copied')}> {{ ?s ?p ?o }} }} "
                 f"WHERE {{ GRAPH <{g('bulk')}> {{ ?s ?p ?o FILTER(?o < \"5\") }} }} ; "
                 f"DROP GRAPH <{g('later')}x>")
    if r == 2:
        store.clear()


def writes_while_filling(template: Path, tmp_path: Path,
                         write: Callable[[MirroredStore, int], None]) -> None:
    """Rounds of ``write`` while the copy of ``LARGE`` quads fills; then the copy's answers
    are those of the disk store opened plainly after closing."""
    path = copy_of(template, tmp_path / "store")
    store = MirroredStore(path)
    store.start_filling()
    rounds = 0
    try:
        while not store.ready.is_set() and rounds < 8:
            write(store, rounds)
            rounds += 1
        overlapped = rounds >= 2
        wait_ready(store)
        assert store._copy is not None  # the union queries below are answered by the copy
        held, copy_aggregates = copy_triples(store), aggregates(store)
    finally:
        store.close()
    assert overlapped, f"the copy was ready after {rounds} round(s): too few writes overlapped"
    oracle = OxigraphStore(path)
    try:
        assert held == merge_of(by_graph(oracle)), "the copy is not the merge of the graphs"
        assert copy_aggregates == aggregates(oracle)
    finally:
        oracle.close()


def test_adding_writes_while_filling_are_in_the_copy(large_store: Path, tmp_path: Path) -> None:
    writes_while_filling(large_store, tmp_path, adding_round)


def test_removing_writes_while_filling_are_in_the_copy(large_store: Path,
                                                      tmp_path: Path) -> None:
    writes_while_filling(large_store, tmp_path, removing_round)


def settled(store: MirroredStore, timeout: float = 120) -> None:
    """Until no filling runs any more (a second one may have been started) and the copy
    is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        filling = store._filling
        if filling is not None and filling.is_alive():
            filling.join(0.2)
        elif store._filling is filling:
            break
    assert store.ready.is_set(), f"the memory copy is not ready: {store.progress}"


TRIPLE_TERM = (f"INSERT DATA {{ <{EX}q> <{EX}says> <<( <{EX}c> <{EX}d> <{EX}e> )>> }}")


def test_engine_update_while_filling_keeps_copy_and_disk_equal(large_store: Path,
                                                               tmp_path: Path) -> None:
    path = copy_of(large_store, tmp_path / "store")
    store = MirroredStore(path)
    store.start_filling()
    try:
        deadline = time.monotonic() + 30
        while store.progress[1] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the checkpoint is taken: the first filling copies
        store.update(TRIPLE_TERM)
        i = 0
        while (store._filling is not None and store._filling.is_alive()) and i < 3000:
            store.update(f"INSERT DATA {{ GRAPH <{EX}during> {{ <{EX}w{i}> <{EX}p> {i} }} }}")
            if store.ready.is_set():  # what the store answers now includes every write
                assert bool(store.query(f"ASK {{ <{EX}q> <{EX}says> ?t }}")), \
                    "the ready copy lacks the engine-run update"
                assert store.serves_from_copy(f"ASK {{ <{EX}w{i}> ?p ?o }}")
                assert bool(store.query(f"ASK {{ <{EX}w{i}> ?p ?o }}")), \
                    f"the ready copy lacks insert {i}"
            i += 1
            time.sleep(0.02)  # until every filling ended: some writes fall between them
        settled(store)
        store.update(f"INSERT DATA {{ <{EX}last> <{EX}p> 1 }}")
        same_on_both(store, f"an engine-run update and {i} inserts while filling")
    finally:
        store.close()


# -- 2. differential once the copy is ready ------------------------------------------------
IRIS = [f"{EX}{n}" for n in ("a", "b", "c")]
GRAPHS = [f"{EX}G{i}" for i in range(3)]
TERMS = [f"<{i}>" for i in IRIS] + ['"1"', '"x"@en', "2"]


@st.composite
def triple_text(draw: Any) -> str:
    return (f"{draw(st.sampled_from(TERMS[:3]))} {draw(st.sampled_from(TERMS[:2]))} "
            f"{draw(st.sampled_from(TERMS))}")


@st.composite
def data_block(draw: Any) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["", *GRAPHS]))
        t = draw(triple_text())
        parts.append(f"GRAPH <{where}> {{ {t} }}" if where else f"{t} .")
    return " ".join(parts)


@st.composite
def update_text(draw: Any) -> str:
    g, h = draw(st.sampled_from(GRAPHS)), draw(st.sampled_from(GRAPHS))
    kind = draw(st.integers(0, 10))
    if kind == 0:
        return f"INSERT DATA {{ {draw(data_block())} }}"
    if kind == 1:
        return f"DELETE DATA {{ {draw(data_block())} }}"
    if kind == 2:
        return f"DELETE WHERE {{ GRAPH <{g}> {{ ?s <{IRIS[0]}> ?o }} }}"
    if kind == 3:
        return f"INSERT {{ GRAPH <{h}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    if kind == 4:
        return f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
    if kind == 5:
        return f"DROP SILENT GRAPH <{g}>"
    if kind == 6:
        return draw(st.sampled_from([f"CLEAR GRAPH <{g}>", "CLEAR DEFAULT", "CLEAR NAMED",
                                     "DROP ALL"]))
    if kind == 7:
        return draw(st.sampled_from([f"ADD <{g}> TO <{h}>", f"MOVE SILENT <{g}> TO <{h}>",
                                     f"COPY <{g}> TO DEFAULT"]))
    if kind == 8:
        return f"INSERT {{ GRAPH <{g}> {{ ?s <{IRIS[1]}> _:n }} }} WHERE {{ ?s ?p ?o }}"
    if kind == 9:
        return (f"INSERT DATA {{ {draw(data_block())} }} ; "
                f"DELETE WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
    return f"INSERT DATA {{ _:x <{IRIS[0]}> _:y . GRAPH <{g}> {{ _:x <{IRIS[1]}> 2 }} }}"


def quad_of(draw: Any) -> Quad:
    g = draw(st.sampled_from(["", *GRAPHS]))
    return Quad(NamedNode(draw(st.sampled_from(IRIS))), NamedNode(draw(st.sampled_from(IRIS))),
                draw(st.sampled_from([NamedNode(IRIS[2]), Literal("1"), BlankNode("k")])),
                NamedNode(g) if g else DefaultGraph())


@st.composite
def operation(draw: Any) -> tuple[str, Any]:
    kind = draw(st.sampled_from(["update", "update", "update", "union-update", "extend",
                                 "load", "bulk_load", "drop_graph", "clear"]))
    if kind in ("update", "union-update"):
        return kind, draw(update_text())
    if kind == "extend":
        return kind, [quad_of(draw) for _ in range(draw(st.integers(1, 4)))]
    if kind in ("load", "bulk_load"):
        graph = draw(st.sampled_from(["", *GRAPHS]))
        body = " ".join(f"{draw(triple_text())} ." for _ in range(draw(st.integers(1, 3))))
        return kind, (body, graph)
    if kind == "drop_graph":
        return kind, draw(st.sampled_from(["", *GRAPHS]))
    return kind, None


def apply(store: MirroredStore, op: tuple[str, Any]) -> None:
    kind, arg = op
    try:
        if kind in ("update", "union-update"):
            store.update(arg, union_default=kind == "union-update")
        elif kind == "extend":
            store.extend(arg)
        elif kind == "load":
            store.load(arg[0].encode(), RdfFormat.TURTLE, graph=arg[1] or None)
        elif kind == "bulk_load":
            store.bulk_load([io.BytesIO(arg[0].encode())], RdfFormat.TURTLE,
                            graph=arg[1] or None)
        elif kind == "drop_graph":
            store.drop_graph(arg)
        else:
            store.clear()
    except BorderKGError:
        pass  # refused (MOVE of a missing graph...): all or nothing, on both engines


def same_on_both(store: MirroredStore, after: str) -> None:
    """The copy holds the disk's merge, which is the merge of the disk's real graphs."""
    held = copy_triples(store)
    disk_merge = {(q.subject, q.predicate, q.object)
                  for q in engine_quads(store._disk, hidden=True)}
    assert held == disk_merge, f"the copy is not the disk's merge after {after}"
    assert held == merge_of(by_graph(store)), f"the merge is not the graphs' after {after}"


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(ops=st.lists(operation(), min_size=1, max_size=12))
def test_copy_and_disk_agree_after_every_write(ops: list[tuple[str, Any]]) -> None:
    root = Path(tempfile.mkdtemp(prefix="mirror-diff-"))
    path = root / "store"
    load_generated(path, 40)
    store = MirroredStore(path)
    store.start_filling()
    wait_ready(store, 30)
    try:
        for i, op in enumerate(ops):
            apply(store, op)
            same_on_both(store, f"operation {i} {op!r}")
        copy_graphs = by_graph(store)
        copy_aggregates = aggregates(store)
    finally:
        store.close()
    oracle = OxigraphStore(path)
    try:
        assert copy_graphs == by_graph(oracle)
        assert copy_aggregates == aggregates(oracle)
    finally:
        oracle.close()
        shutil.rmtree(root, ignore_errors=True)


# -- 3. the live server ----------------------------------------------------------------------
def health(server: LiveServer) -> dict[str, Any]:
    answer = requests.get(server.url + "/healthz", timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def select(url: str, text: str) -> set[tuple[str, ...]]:
    answer = requests.get(url + "/sparql", params={"query": text}, headers=JSON, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    names = body["head"]["vars"]
    return {tuple(row.get(n, {}).get("value", "") for n in names)
            for row in body["results"]["bindings"]}


def oracle_select(store: OxigraphStore, text: str) -> set[tuple[str, ...]]:
    result = store.query(text, union_default=True)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return {tuple(row[n].value if row[n] is not None else "" for n in names)
            for row in result}  # type: ignore[union-attr]


def server_queries(tag: str) -> list[str]:
    """A count, a lookup and a graph's subjects, then two grouped aggregates; ``tag``
    names their variables, so no answer of one phase comes from the result cache of
    another."""
    return [f"SELECT (COUNT(*) AS ?{tag}) WHERE {{ ?s ?p ?o }}",
            f"SELECT ?p ?{tag} WHERE {{ <{EX}s7> ?p ?{tag} }}",
            f"SELECT ?{tag} WHERE {{ GRAPH <{EX}live> {{ ?{tag} ?p ?o }} }}",
            f"SELECT ?g (COUNT(*) AS ?{tag}) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g",
            f"SELECT ?p (COUNT(DISTINCT ?s) AS ?{tag}) WHERE {{ ?s ?p ?o }} GROUP BY ?p"]


def post_update(url: str, text: str, timeout: float = 30) -> int:
    return requests.post(url + "/sparql", data={"update": text}, headers=AUTH,
                         timeout=timeout).status_code


def open_plain(path: Path, timeout: float = 30) -> OxigraphStore:
    """The store opened plainly, once the killed server's processes let go of its lock."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return OxigraphStore(path)
        except ConfigError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_live_server_answers_while_filling_and_after(start_server: Callable[..., LiveServer],
                                                     tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    load_generated(data_dir / "store", LIVE)  # a copy that takes seconds to fill
    server = start_server(store="disk", data_dir=data_dir)
    first = health(server)
    assert first["store"] == "disk"
    assert first["memory_copy"]["state"] == "filling", first
    counted = time.monotonic() + 60
    while health(server)["memory_copy"]["of"] == 0 and time.monotonic() < counted:
        time.sleep(0.05)  # the merge is counted on the checkpoint, in the background
    assert health(server)["memory_copy"]["of"] >= LIVE  # the merge's triples, the seed's too
    filling = [select(server.url, q) for q in server_queries("a")[:3]]
    assert post_update(server.url, f"INSERT DATA {{ GRAPH <{EX}live> {{ <{EX}w1> <{EX}p> 1 }} }}"
                                   f" ; INSERT DATA {{ <{EX}s7> <{EX}p9> 9 }}") == 204
    written = [select(server.url, q) for q in server_queries("b")[:3]]
    still = health(server)
    assert still["memory_copy"]["state"] == "filling", \
        f"the copy was ready before the queries ended: {still}"
    states = {still["memory_copy"]["state"]}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = health(server)["memory_copy"]
        states.add(now["state"])
        if now["state"] == "ready":
            assert now["quads"] == now["of"]
            break
        time.sleep(0.2)
    assert states == {"filling", "ready"}, states
    ready = [select(server.url, q) for q in server_queries("d")[:3]]
    assert post_update(server.url, f"INSERT DATA {{ GRAPH <{EX}live> {{ <{EX}w2> <{EX}p> 2 }} }}"
                       ) == 204
    after = [select(server.url, q) for q in server_queries("c")]
    server.stop()
    oracle = open_plain(data_dir / "store")
    try:
        assert after == [oracle_select(oracle, q) for q in server_queries("c")]
    finally:
        oracle.close()
    # what the disk answered while filling, the write included, the copy answers once ready
    assert ready == written
    assert written[2] == {(f"{EX}w1",)} and filling[2] == set()
    assert written[1] == filling[1] | {(f"{EX}p9", "9")}
    assert after[2] == {(f"{EX}w1",), (f"{EX}w2",)}


# -- 4. kill -9 while writing ----------------------------------------------------------------
class Writer(threading.Thread):
    """Sends two-operation updates, each with unique triples, to whichever server is up."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.url: str | None = None
        self.sent: set[int] = set()
        self.acknowledged: set[int] = set()
        self.stop = threading.Event()
        self.counter = 0

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            url = self.url
            if url is None:
                time.sleep(0.02)
                continue
            i, self.counter = self.counter, self.counter + 1
            text = (f"INSERT DATA {{ GRAPH <{EX}k1> {{ <{EX}a{i}> <{EX}p> {i} }} }} ;\n"
                    f"INSERT DATA {{ GRAPH <{EX}k2> {{ <{EX}b{i}> <{EX}p> {i} }} "
                    f"<{EX}c{i}> <{EX}p> {i} . }}")
            self.sent.add(i)
            try:
                status = session.post(url + "/sparql", data={"update": text}, headers=AUTH,
                                      timeout=10).status_code
            except requests.RequestException:
                session = requests.Session()
                time.sleep(0.02)
                continue
            if status == 204:
                self.acknowledged.add(i)


def numbers(store: OxigraphStore, graph: str | None, prefix: str) -> set[int]:
    where = f"GRAPH <{graph}> {{ ?s <{EX}p> ?n }}" if graph else f"?s <{EX}p> ?n"
    rows = store.query(f"SELECT ?s ?n WHERE {{ {where} FILTER(STRSTARTS(STR(?s), "
                       f"\"{EX}{prefix}\")) }}", union_default=False)
    return {int(row["n"].value) for row in rows}  # type: ignore[union-attr]


def test_acknowledged_writes_survive_kill_9_loop(start_server: Callable[..., LiveServer],
                                                 large_store: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    copy_of(large_store, data_dir / "store")  # a copy that takes seconds to fill
    rng = random.Random(int(os.environ.get("BORDERKG_KILL_SEED", "0")) or None)
    writer = Writer()
    writer.start()
    during_filling = left_behind = 0
    checkpoints = data_dir / "store.copy"  # where fillings take their checkpoints
    try:
        for kill in range(KILLS):
            server = start_server(store="disk", data_dir=data_dir)
            writer.url = server.url
            # every other kill early (the copy most likely filling), the others once the
            # copy is ready (writes then reach the disk and the copy)
            if kill % 2:
                time.sleep(rng.uniform(0.02, 0.3))
            else:
                ready_by = time.monotonic() + 60
                while health(server)["memory_copy"]["state"] != "ready" \
                        and time.monotonic() < ready_by:
                    time.sleep(0.05)
                time.sleep(rng.uniform(0.1, 1.0))
            if health(server)["memory_copy"]["state"] == "filling":
                during_filling += 1
            server.stop(signal.SIGKILL)
            writer.url = None
            left_behind += checkpoints.is_dir() and any(checkpoints.iterdir())
        final = start_server(store="disk", data_dir=data_dir)
        wait = time.monotonic() + 60
        while health(final)["memory_copy"]["state"] != "ready" and time.monotonic() < wait:
            time.sleep(0.1)
        # a filling killed leaves its checkpoint; the next process to hold the store
        # removes it (hard links that would keep compacted files alive), and its own
        # filling removes its checkpoint when done
        leftovers = sorted(p.name for p in checkpoints.iterdir())
        served = {int(n) for (n,) in select(final.url, f"SELECT ?n WHERE {{ GRAPH <{EX}k1> "
                                                       f"{{ ?s <{EX}p> ?n }} }}")}
        final.stop(signal.SIGKILL)
    finally:
        writer.stop.set()
        writer.join(15)
    oracle = open_plain(data_dir / "store")
    try:
        first, second = numbers(oracle, f"{EX}k1", "a"), numbers(oracle, f"{EX}k2", "b")
        third = numbers(oracle, None, "c")
    finally:
        oracle.close()
    lost = writer.acknowledged - first
    half = (first ^ second) | (first ^ third)
    report_family(f"mirror kill -9 loop: {KILLS} kills ({during_filling} while the copy "
                  f"filled), {len(writer.sent)} updates sent, {len(writer.acknowledged)} "
                  f"acknowledged, {len(lost)} acknowledged lost, {len(half)} half applied, "
                  f"{left_behind} checkpoints left by a kill, {len(leftovers)} after restart")
    assert writer.acknowledged, "no update was acknowledged"
    assert 0 < during_filling < KILLS, "the kills did not fall in both phases of the copy"
    assert not lost, f"acknowledged updates lost: {sorted(lost)[:20]}"
    assert not half, f"updates half applied: {sorted(half)[:20]}"
    assert first <= writer.sent
    assert served == first  # the restarted server's copy holds what the disk holds
    assert left_behind, "no kill fell while a checkpoint was held"
    assert not leftovers, f"checkpoints left behind after a restart: {leftovers}"


def test_graceful_stop_while_filling_stops_the_filling_and_cleans_up(
        start_server: Callable[..., LiveServer], large_store: Path, tmp_path: Path) -> None:
    """SIGTERM while the copy fills, sent to the server process (as ``kill`` does) and to
    its whole process group (as a service manager does): the worker closes the service
    (the filling stops at its next chunk rather than running on, minutes at 10 M quads,
    past granian's kill timeout), and leaves neither the filling's checkpoint nor the
    query workers' snapshots behind."""
    data_dir = tmp_path / "data"
    copy_of(large_store, data_dir / "store")  # a copy that takes seconds to fill
    checkpoints, snapshots = data_dir / "store.copy", data_dir / "snapshots"
    for group in (False, True):
        server = start_server(store="disk", data_dir=data_dir)
        deadline = time.monotonic() + 30
        while not (checkpoints.is_dir() and any(checkpoints.iterdir())) \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        assert health(server)["memory_copy"]["state"] == "filling"
        assert server.process is not None
        select(server.url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")  # snapshot workers
        assert snapshots.is_dir()
        began = time.monotonic()
        if group:
            os.killpg(server.process.pid, signal.SIGTERM)
        else:
            server.process.send_signal(signal.SIGTERM)
        server.process.wait(30)
        took = time.monotonic() - began
        log = server.log()
        assert "filling stopped, the store is closing" in log, log[-2000:]
        assert took < 5, f"the server took {took:.1f} s to stop"
        assert not any(checkpoints.iterdir()), sorted(p.name for p in checkpoints.iterdir())
        assert not snapshots.exists()


def test_a_filling_asked_for_as_the_store_closes_never_starts(
        large_store: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A write that needs the copy made anew (a large drop, a text only the disk runs) and
    ends while ``close`` waits for the write lock must not start a filling over the
    closing store: it would take a checkpoint of it and fail on the closed store."""
    path = copy_of(large_store, tmp_path / "store")
    store = MirroredStore(path)
    store.start_filling().join(120)
    assert store.ready.is_set()
    inside, release = threading.Event(), threading.Event()

    def write_needing_a_refill() -> None:
        with store.write_lock:
            inside.set()
            release.wait(30)
            store.start_filling()

    writer = threading.Thread(target=write_needing_a_refill)
    writer.start()
    inside.wait(10)
    closer = threading.Thread(target=store.close)
    with caplog.at_level("INFO", logger="borderkg"):
        closer.start()
        time.sleep(0.3)  # close() has begun and waits for the write lock
        release.set()
        writer.join(30)
        closer.join(60)
        for thread in threading.enumerate():
            if thread.name == "borderkg-memory-copy":
                thread.join(60)
    assert not closer.is_alive()
    assert "failed" not in caplog.text, caplog.text
    assert not any(store.checkpoints.iterdir())


def test_reload_hands_the_store_from_the_old_worker_to_the_new(
        start_server: Callable[..., LiveServer], large_store: Path, tmp_path: Path) -> None:
    """SIGHUP: granian starts the new worker, then stops the old one, which holds the
    embedded store until it has closed the service. The new worker waits for it instead
    of failing on the store's lock (which stopped the whole server), and serves the
    acknowledged writes of the old one."""
    data_dir = tmp_path / "data"
    copy_of(large_store, data_dir / "store")
    server = start_server(store="disk", data_dir=data_dir,
                          env={"BORDERKG_QUERY_TIMEOUT": "4"})
    assert server.process is not None
    for n in range(3):
        assert post_update(server.url, f"INSERT DATA {{ GRAPH <{EX}hup> {{ <{EX}h{n}> "
                                       f"<{EX}p> {n} }} }}") == 204
    # a query that runs to its time limit keeps the old worker (and the store) busy for
    # seconds after the new worker has started
    runaway: dict[str, int] = {}

    def run_away() -> None:
        answer = requests.get(server.url + "/sparql", headers=JSON, timeout=60, params={
            "query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"})
        runaway["status"] = answer.status_code

    slow = threading.Thread(target=run_away)
    slow.start()
    time.sleep(0.5)
    server.process.send_signal(signal.SIGHUP)
    deadline, answered = time.monotonic() + 60, None
    while time.monotonic() < deadline and answered is None:
        assert server.process.poll() is None, server.log()[-3000:]
        if "Stopped old worker" in server.log():
            try:
                answered = select(server.url, f"SELECT ?s WHERE {{ GRAPH <{EX}hup> "
                                              f"{{ ?s ?p ?o }} }}")
            except requests.RequestException:
                pass
        time.sleep(0.1)
    slow.join(60)
    assert runaway.get("status") == 503  # its time limit, answered by the old worker
    assert answered == {(f"{EX}h{n}",) for n in range(3)}, server.log()[-3000:]
    assert "waiting for it to stop" in server.log()
    assert "cannot open store" not in server.log()
    assert server.process.poll() is None


def test_stop_while_the_worker_starts_is_graceful(tmp_path: Path) -> None:
    """SIGTERM right after granian has started the worker, while it is still loading
    (importing, opening the store, building the seed): granian's handlers are installed
    only once the app is loaded, and the one inherited from the main process swallowed
    the signal, so the worker was killed after the stop timeout with nothing closed."""
    from tests.conftest import ARTICLE
    from tests.peers import ServerProcess, free_port

    data_dir, log_path = tmp_path / "data", tmp_path / "server.log"
    args = [sys.executable, "-m", "server.cli", "serve", "--port", str(free_port()),
            "--store", "disk", "--data-dir", str(data_dir), "--article", str(ARTICLE)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    server = ServerProcess("borderkg serve", args, log_path, env=env, group=True,
                           cwd=Path(__file__).resolve().parents[2])
    try:
        deadline = time.monotonic() + 30
        while "Spawning worker-1" not in server.log_tail(100_000) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)  # the main process, as `kill` does
        server.process.wait(30)
        took = time.monotonic() - began
    finally:
        server.stop(signal.SIGKILL)
    text = log_path.read_text()
    assert "stopped (SIGTERM) while starting" in text, text[-3000:]
    assert "refused to gracefully stop" not in text, text[-3000:]
    assert took < 5, f"{took:.1f} s"
    assert not (data_dir / "snapshots").exists()
    assert not (data_dir / "store.copy").exists() or not any((data_dir / "store.copy").iterdir())
