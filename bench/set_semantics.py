"""What the set-semantics union default graph costs: ``OxigraphStore`` (which keeps the merge
of every graph in the hidden graph ``graph.store.union.UNION``) against raw pyoxigraph on
the same file, in the same run, in memory and on disk.

    .venv/bin/python bench/set_semantics.py                       # 1 M quads, 3 repeats
    .venv/bin/python bench/set_semantics.py --sizes 100k          # a quick run

The data is ``bench/generate.py``'s CBP-shaped set (graph ``cbp-encounters``) plus: every
20th of its quads copied into ``bench-duplicates`` (5 %, so the union default graph as a
bag and as a set differ), two disjoint graphs ``bench-from-a``/``-b`` and two overlapping
ones ``bench-from-c``/``-d`` (~10 k quads each, half of ``-d`` in ``-c``) for FROM lists,
``bench-drop`` (~10 k) for DROP GRAPH and ``bench-update`` (50 observations) for
DELETE/INSERT WHERE. Those extra graphs' observations have subjects of their own.

Figures (each a median of ``--repeats`` runs, BorderKG and raw interleaved):

1. load: ``graph.store.loading.load_file`` (transactional and ``bulk``) vs ``Store.load`` /
   ``Store.bulk_load``, each in a fresh process;
2. size after that load: the engine's quads (``len``), RSS delta and peak
   (``/proc/self/status``), the directory on disk;
3. analyst aggregates over the union default graph: ``OxigraphStore.query(...,
   union_default=True)`` vs ``Store.query(..., use_default_graph_as_union=True)``, with the
   answers (set vs bag) side by side;
4. small updates: ``OxigraphStore.update(text, union_default=True)`` vs ``Store.update``;
5. ``FROM <g1> FROM <g2>``: disjoint graphs (overlap ASK, first after a write and cached)
   and overlapping ones (a scratch merge per query);
6. opening a store made without the merge (``graph.store.union.rebuild``, once).

The machine is shared and noisy: read the ratios, not the absolute times.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import generate  # noqa: E402
import pyoxigraph  # noqa: E402
from pyoxigraph import NamedNode, QuerySolutions, RdfFormat  # noqa: E402

from graph import ids  # noqa: E402
from graph.store import union as ug  # noqa: E402
from graph.store.loading import load_file  # noqa: E402
from graph.store.oxigraph import OxigraphStore  # noqa: E402

OUT = HERE / "results" / "set-semantics.md"
WORK = generate.WORK / "set-semantics"
BKG = ids.DEF
G_MAIN = generate.GRAPH
G_DUP = ids.graph("bench-duplicates")
G_A, G_B = ids.graph("bench-from-a"), ids.graph("bench-from-b")
G_C, G_D = ids.graph("bench-from-c"), ids.graph("bench-from-d")
G_DROP = ids.graph("bench-drop")
G_UPDATE = ids.graph("bench-update")
G_INSERT = ids.graph("bench-insert")
SLICE = 10_000  # quads in each extra graph (at most 1 % of the data)
UPDATE_OBSERVATIONS = 50

PREFIX = f"PREFIX bkg: <{BKG}>\n"
QUERIES = {
    "COUNT(*)": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "GROUP BY ?p COUNT": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "SUM encounterCount": PREFIX + "SELECT (SUM(?c) AS ?t) WHERE { ?o bkg:encounterCount ?c }",
    "join citizenship+count, COUNT": PREFIX + (
        "SELECT (COUNT(*) AS ?n) WHERE { ?o bkg:citizenship ?z ; bkg:encounterCount ?c }"),
}
FROM_COUNT = "SELECT (COUNT(*) AS ?n) FROM <{}> FROM <{}> WHERE {{ ?s ?p ?o }}"
UPDATE_TEXT = PREFIX + (
    f"DELETE {{ GRAPH <{G_UPDATE}> {{ ?o bkg:encounterCount ?c }} }}\n"
    f"INSERT {{ GRAPH <{G_UPDATE}> {{ ?o bkg:encounterCount ?d }} }}\n"
    f"WHERE {{ GRAPH <{G_UPDATE}> {{ ?o bkg:encounterCount ?c }} BIND(?c + 1 AS ?d) }}")


# -- measuring -------------------------------------------------------------------------------
def proc_status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def interleaved(runs: dict[str, Callable[[], Any]], repeats: int,
                setup: Callable[[str], None] | None = None) -> dict[str, float]:
    """Median seconds of each run, the runs interleaved (order reversed every other
    repeat); ``setup(name)`` runs untimed before each."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for repeat in range(repeats):
        for name in names if repeat % 2 == 0 else reversed(names):
            if setup is not None:
                setup(name)
            began = time.perf_counter()
            runs[name]()
            samples[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in samples.items()}


def rows(result: Any) -> list[tuple[Any, ...]]:
    """A SELECT's solutions as tuples of plain values, in order."""
    assert isinstance(result, QuerySolutions)
    return [tuple(None if term is None else term.value for term in row) for row in result]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def table(head: list[str], body: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


# -- data ------------------------------------------------------------------------------------
def dataset(label: str, seed: int) -> tuple[Path, dict[str, int]]:
    """The N-Quads file for ``label`` (made once into ``WORK``) and its graphs' sizes."""
    target = WORK / f"set-{label}-s{seed}.nq"
    info_path = target.with_suffix(".json")
    if info_path.exists() and target.exists():
        return target, json.loads(info_path.read_text(encoding="utf-8"))
    total = generate.parse_size(label)
    piece = max(100, min(SLICE, total // 100))
    extra = 5 * piece + UPDATE_OBSERVATIONS * 11
    base = WORK / f"base-{label}-s{seed}.nq"
    generate.generate(max(int((total - extra) / 1.05), 1000), seed, base)
    lines = base.read_text(encoding="utf-8").splitlines(keepends=True)
    tag = f"cbp-encounters-state/s{seed}-"
    observations = [line for line in lines if tag in line]
    tail = f" <{G_MAIN}> .\n"

    def moved(chunk: list[str], graph: str, name: str | None) -> list[str]:
        out = []
        for line in chunk:
            assert line.endswith(tail)
            if name is not None:
                line = line.replace(tag, f"cbp-encounters-state/{name}-")
            out.append(line[: -len(tail)] + f" <{graph}> .\n")
        return out

    def obs(start: int, count: int) -> list[str]:
        return observations[start:start + count]

    cuts = iter(range(0, len(observations), piece))
    graphs = {
        G_DUP: moved(lines[::20], G_DUP, None),
        G_A: moved(obs(next(cuts), piece), G_A, "bench-a"),
        G_B: moved(obs(next(cuts), piece), G_B, "bench-b"),
    }
    cd = next(cuts)
    graphs[G_C] = moved(obs(cd, piece), G_C, "bench-cd")
    graphs[G_D] = moved(obs(cd + piece // 2, piece), G_D, "bench-cd")
    next(cuts)
    graphs[G_DROP] = moved(obs(next(cuts), piece), G_DROP, "bench-drop")
    graphs[G_UPDATE] = moved(obs(next(cuts), UPDATE_OBSERVATIONS * 11), G_UPDATE, "bench-update")
    with open(target, "w", encoding="utf-8") as out:
        out.writelines(lines)
        for chunk in graphs.values():
            out.writelines(chunk)
    info = {G_MAIN: len(lines), **{g: len(chunk) for g, chunk in graphs.items()},
            "quads": len(lines) + sum(len(chunk) for chunk in graphs.values())}
    info_path.write_text(json.dumps(info, indent=1), encoding="utf-8")
    base.unlink()
    return target, info


# -- 1 and 2: loading, in a fresh process each ------------------------------------------------
LOADS = [  # (backend, BorderKG kind, raw kind)
    ("memory", "bkg-load", "raw-load"),
    ("memory", "bkg-bulk", "raw-bulk"),
    ("disk", "bkg-bulk", "raw-bulk"),
    ("disk", "bkg-load", "raw-load"),
]
KIND_TEXT = {"bkg-load": "`load_file`", "bkg-bulk": "`load_file(bulk=True)`",
             "raw-load": "`Store.load`", "raw-bulk": "`Store.bulk_load`"}


def child(kind: str, backend: str, path: Path) -> None:
    """Load ``path`` one way into a fresh store; print what it took as JSON."""
    work = Path(tempfile.mkdtemp(prefix="set-semantics-", dir=WORK))
    directory = work / "store"
    before = proc_status()
    began = time.perf_counter()
    if kind.startswith("bkg"):
        store = OxigraphStore(None if backend == "memory" else directory)
        load_file(store, path, bulk=kind == "bkg-bulk", progress=False)
        engine = store.engine
    else:
        engine = pyoxigraph.Store(None if backend == "memory" else str(directory))
        (engine.bulk_load if kind == "raw-bulk" else engine.load)(
            path=str(path), format=RdfFormat.N_QUADS)
    if backend == "disk":
        engine.flush()
    seconds = time.perf_counter() - began
    after = proc_status()
    figures = {"seconds": seconds, "quads": len(engine),
               "rss": after["VmRSS"] - before["VmRSS"], "peak": after["VmHWM"] - before["VmRSS"],
               "disk": dir_bytes(directory) if backend == "disk" else 0}
    print(json.dumps(figures))
    del engine
    shutil.rmtree(work, ignore_errors=True)


def loads(path: Path, repeats: int, only: str) -> tuple[str, str, dict[str, float]]:
    """The load and size tables; the medians of raw loads by backend and kind."""
    load_rows, size_rows, raw_seconds = [], [], {}
    for backend, ours, theirs in LOADS:
        if only not in ("all", backend):
            continue
        samples: dict[str, list[dict[str, float]]] = {ours: [], theirs: []}
        for repeat in range(repeats):
            for kind in (ours, theirs) if repeat % 2 == 0 else (theirs, ours):
                done = subprocess.run(
                    [sys.executable, __file__, "--child", kind, backend, str(path)],
                    check=True, capture_output=True, text=True)
                samples[kind].append(json.loads(done.stdout.strip().splitlines()[-1]))
        med = {kind: {key: statistics.median(s[key] for s in runs) for key in runs[0]}
               for kind, runs in samples.items()}
        a, b = med[ours], med[theirs]
        raw_seconds[f"{backend} {theirs}"] = b["seconds"]
        load_rows.append([backend, f"{KIND_TEXT[ours]} vs {KIND_TEXT[theirs]}",
                          f"{a['seconds']:.2f}", f"{b['seconds']:.2f}",
                          ratio(a["seconds"], b["seconds"]),
                          f"{a['quads'] / a['seconds']:,.0f}", f"{b['quads'] / b['seconds']:,.0f}"])
        mib = 1 << 20
        size_rows.append([backend, f"{KIND_TEXT[ours]} vs {KIND_TEXT[theirs]}",
                          f"{a['quads']:,.0f}", f"{b['quads']:,.0f}", ratio(a["quads"], b["quads"]),
                          f"{a['rss'] / mib:,.0f}", f"{b['rss'] / mib:,.0f}",
                          ratio(a["rss"], b["rss"]),
                          f"{a['peak'] / mib:,.0f}", f"{b['peak'] / mib:,.0f}",
                          ratio(a["peak"], b["peak"]),
                          *([f"{a['disk'] / mib:,.0f}", f"{b['disk'] / mib:,.0f}",
                             ratio(a["disk"], b["disk"])] if backend == "disk" else ["–"] * 3)])
    load_table = table(["store", "BorderKG vs raw", "BorderKG s", "raw s", "ratio",
                        "BorderKG quads/s (engine)", "raw quads/s"], load_rows)
    size_table = table(["store", "BorderKG vs raw", "engine quads BorderKG", "raw", "ratio",
                        "RSS Δ MiB BorderKG", "raw", "ratio", "peak Δ MiB BorderKG", "raw",
                        "ratio", "directory MiB BorderKG", "raw", "ratio"], size_rows)
    return load_table, size_table, raw_seconds


# -- 3 to 6: queries, updates, FROM lists, rebuild, on loaded stores --------------------------
def open_pair(backend: str, path: Path, work: Path) -> tuple[OxigraphStore, Any]:
    if backend == "memory":
        bkg, raw = OxigraphStore(None), pyoxigraph.Store()
        load_file(bkg, path, bulk=True, progress=False)
        raw.load(path=str(path), format=RdfFormat.N_QUADS)
    else:
        bkg, raw = OxigraphStore(work / "bkg"), pyoxigraph.Store(str(work / "raw"))
        load_file(bkg, path, bulk=True, progress=False)
        raw.bulk_load(path=str(path), format=RdfFormat.N_QUADS)
    return bkg, raw


def union_queries(bkg: OxigraphStore, raw: Any, repeats: int) -> str:
    body = []
    for name, text in QUERIES.items():
        set_answer = rows(bkg.query(text, union_default=True))  # warm both, keep the answers
        bag_answer = rows(raw.query(text, use_default_graph_as_union=True))
        med = interleaved({
            "bkg": lambda t=text: rows(bkg.query(t, union_default=True)),
            "raw": lambda t=text: rows(raw.query(t, use_default_graph_as_union=True)),
        }, repeats)
        same = sorted(set_answer, key=str) == sorted(bag_answer, key=str)
        if len(set_answer) == 1:
            shown = f"set {set_answer[0][0]} vs bag {bag_answer[0][0]}"
        else:
            sets, bags = dict(set_answer), dict(bag_answer)
            differ = sum(1 for k in sets.keys() | bags.keys() if sets.get(k) != bags.get(k))
            shown = f"{differ} of {len(sets)} groups differ"
        body.append([name, ms(med["bkg"]), ms(med["raw"]), ratio(med["bkg"], med["raw"]),
                     "same" if same else f"differ: {shown}"])
    return table(["query (union default graph)", "BorderKG ms", "raw ms", "ratio",
                  "answers (BorderKG set vs raw bag)"], body)


def small_updates(bkg: OxigraphStore, raw: Any, repeats: int) -> str:
    body = []
    made = {"bkg": 0, "raw": 0}
    texts: dict[str, str] = {}

    def next_insert(name: str) -> None:
        """The same texts for both stores in turn, each new quads (a real change)."""
        made[name] += 1
        quads = " ".join(f"<{ids.thing('bench-insert', f'{made[name]}-{k}')}> "
                         f"bkg:encounterCount {k} ." for k in range(10))
        texts[name] = PREFIX + f"INSERT DATA {{ GRAPH <{G_INSERT}> {{ {quads} }} }}"

    med = interleaved({"bkg": lambda: bkg.update(texts["bkg"], union_default=True),
                       "raw": lambda: raw.update(texts["raw"])}, repeats, next_insert)
    body.append(["INSERT DATA, 10 quads into a named graph", ms(med["bkg"]), ms(med["raw"]),
                 ratio(med["bkg"], med["raw"])])
    assert bkg.count(G_INSERT) == sum(1 for _ in raw.quads_for_pattern(
        None, None, None, NamedNode(G_INSERT))) == 10 * repeats

    med = interleaved({"bkg": lambda: bkg.update(UPDATE_TEXT, union_default=True),
                       "raw": lambda: raw.update(UPDATE_TEXT)}, repeats)
    body.append([f"DELETE/INSERT WHERE, {2 * UPDATE_OBSERVATIONS} quads changed",
                 ms(med["bkg"]), ms(med["raw"]), ratio(med["bkg"], med["raw"])])

    graph = NamedNode(G_DROP)
    quads = list(raw.quads_for_pattern(None, None, None, graph))

    def refill(name: str) -> None:
        if name == "bkg" and not bkg.contains_graph(G_DROP):
            bkg.extend(quads)
        if name == "raw" and not raw.contains_named_graph(graph):
            raw.extend(quads)

    drop = f"DROP GRAPH <{G_DROP}>"
    med = interleaved({"bkg": lambda: bkg.update(drop, union_default=True),
                       "raw": lambda: raw.update(drop)}, repeats, refill)
    body.append([f"DROP GRAPH of {len(quads):,} quads", ms(med["bkg"]), ms(med["raw"]),
                 ratio(med["bkg"], med["raw"])])
    refill("bkg")
    refill("raw")
    return table(["update", "BorderKG ms", "raw ms", "ratio"], body)


def from_lists(bkg: OxigraphStore, raw: Any, repeats: int,
               info: dict[str, int]) -> str:
    body = []
    for label, (g1, g2) in (("disjoint", (G_A, G_B)), ("overlapping", (G_C, G_D))):
        text = FROM_COUNT.format(g1, g2)
        set_answer = rows(bkg.query(text))[0][0]
        bag_answer = rows(raw.query(text))[0][0]

        def after_write(name: str) -> None:
            if name == "bkg":
                bkg.extend([])  # a write: a new store version, so the overlap is asked anew

        first = interleaved({"bkg": lambda t=text: rows(bkg.query(t)),
                             "raw": lambda t=text: rows(raw.query(t))}, repeats, after_write)
        rows(bkg.query(text))
        cached = interleaved({"bkg": lambda t=text: rows(bkg.query(t)),
                              "raw": lambda t=text: rows(raw.query(t))}, repeats)
        what = "overlap ASK" if label == "disjoint" else "overlap ASK + scratch merge"
        body.append([f"{label} ({info[g1]:,} + {info[g2]:,} quads), first after a write "
                     f"({what})",
                     ms(first["bkg"]), ms(first["raw"]), ratio(first["bkg"], first["raw"]),
                     f"set {set_answer} vs bag {bag_answer}"])
        what = "overlap cached" if label == "disjoint" else "overlap cached, scratch merge"
        body.append([f"{label}, again ({what})", ms(cached["bkg"]), ms(cached["raw"]),
                     ratio(cached["bkg"], cached["raw"]), ""])
    return table(["FROM <g1> FROM <g2>, COUNT(*)", "BorderKG ms", "raw ms", "ratio",
                  "answers"], body)


def rebuilds(backend: str, path: Path, work: Path, repeats: int,
             raw_seconds: dict[str, float]) -> list[Any]:
    """Opening a store made by raw pyoxigraph (no merge): the one-time rebuild."""
    samples = []
    if backend == "disk":
        made = work / "made-raw"
        engine = pyoxigraph.Store(str(made))
        engine.bulk_load(path=str(path), format=RdfFormat.N_QUADS)
        engine.flush()
        del engine
        opens = []
        for repeat in range(repeats):
            copy = work / f"open-{repeat}"
            shutil.copytree(made, copy)
            began = time.perf_counter()
            store = OxigraphStore(copy)
            samples.append(time.perf_counter() - began)
            store.close()
            began = time.perf_counter()
            plain = pyoxigraph.Store(str(copy))
            opens.append(time.perf_counter() - began)
            del plain
            shutil.rmtree(copy)
        what = "`OxigraphStore(path)` of a store `Store.bulk_load` made"
        base, base_text = raw_seconds.get("disk raw-bulk"), "raw `bulk_load`"
        plain_open = f"{ms(statistics.median(opens))} ms"
    else:
        engine = pyoxigraph.Store()
        engine.load(path=str(path), format=RdfFormat.N_QUADS)
        for _ in range(repeats):
            engine.update(f"DROP SILENT GRAPH <{ug.UNION.value}> ; "
                          f"DROP SILENT GRAPH <{ug.META.value}>")
            began = time.perf_counter()
            ug.rebuild(engine)
            samples.append(time.perf_counter() - began)
        what = "`graph.store.union.rebuild` of a memory store `Store.load` filled"
        base, base_text = raw_seconds.get("memory raw-load"), "raw `load`"
        plain_open = "–"
        del engine
    seconds = statistics.median(samples)
    return [backend, what, f"{seconds:.2f}", plain_open,
            f"{ratio(seconds, base)} of {base_text} ({base:.2f} s)" if base else "–"]


def backend_phase(backend: str, path: Path, info: dict[str, int], repeats: int, small: int,
                  raw_seconds: dict[str, float]) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"set-semantics-{backend}-", dir=WORK))
    try:
        bkg, raw = open_pair(backend, path, work)
        print(f"[{backend}] loaded: BorderKG engine {len(bkg.engine):,} quads, "
              f"raw {len(raw):,}", flush=True)
        queries = union_queries(bkg, raw, repeats)
        print(queries, "\n", flush=True)
        froms = from_lists(bkg, raw, small, info)
        print(froms, "\n", flush=True)
        updates = small_updates(bkg, raw, small)
        print(updates, "\n", flush=True)
        bkg.close()
        del bkg, raw
        rebuild = rebuilds(backend, path, work, repeats, raw_seconds)
        print(rebuild, "\n", flush=True)
        return {"queries": queries, "from": froms,
                "updates": updates, "rebuild": rebuild}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- the report ------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1m", help="comma-separated: 100k, 1m")
    parser.add_argument("--repeats", type=int, default=3, help="loads, queries, rebuilds")
    parser.add_argument("--small-repeats", type=int, default=9, help="updates, FROM lists")
    parser.add_argument("--backends", choices=("all", "memory", "disk"), default="all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child", nargs=3, metavar=("KIND", "BACKEND", "FILE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    command = " ".join([".venv/bin/python", "bench/set_semantics.py", *sys.argv[1:]])
    started = datetime.datetime.now(datetime.UTC)
    sections = [
        "# Set-semantics union default graph: what it costs",
        "",
        f"`{command}` — {started:%Y-%m-%d %H:%M} UTC, pyoxigraph {pyoxigraph.__version__}, "
        f"Python {platform.python_version()}, {os.cpu_count()} cores (shared), "
        f"{platform.machine()}.",
        "",
        "BorderKG is `graph.store.oxigraph.OxigraphStore`, which keeps the merge of every "
        "graph in the hidden graph `urn:x-borderkg:union` and answers the union default "
        "graph from it (a set); raw is `pyoxigraph.Store` on the same file, whose "
        "`use_default_graph_as_union=True` is a bag. Each figure is a median of repeats with "
        "BorderKG and raw interleaved in the same run (loads: a fresh process each); the "
        "machine is shared and noisy, so read the ratios. Data: `bench/generate.py`'s "
        "CBP-shaped set plus 5 % of its quads copied into a second graph and small graphs for "
        "FROM lists, DROP GRAPH and DELETE/INSERT (the module docstring of "
        "`bench/set_semantics.py`).",
    ]
    for label in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        path, info = dataset(label, args.seed)
        print(f"{label}: {info['quads']:,} quads in {path}", flush=True)
        load_table, size_table, raw_seconds = loads(path, args.repeats, args.backends)
        print(load_table, "\n\n", size_table, "\n", flush=True)
        phases = {backend: backend_phase(backend, path, info, args.repeats, args.small_repeats,
                                         raw_seconds)
                  for backend in ("memory", "disk") if args.backends in ("all", backend)}
        graphs = ", ".join(f"`{g.rsplit('/', 1)[1]}` {n:,}" for g, n in info.items()
                           if g != "quads")
        sections += [
            "", f"## {label}: {info['quads']:,} quads", "", f"Graphs: {graphs}.", "",
            f"### 1. Load ({args.repeats} repeats, a fresh process each)", "",
            "BorderKG writes every quad twice (its graph and the merge); "
            "`load_file(bulk=True)` on disk loads one part per core side by side and then "
            "fills the merge with one INSERT … WHERE; in memory it loads 16 MiB parts, one "
            "transaction each, then the same fill.", "", load_table, "",
            "### 2. Size after that load", "",
            "Engine quads include the hidden merge; RSS Δ is the process's resident memory "
            "after the load less before it, peak Δ its high-water mark less the same "
            "baseline (`/proc/self/status`); the directory is measured after `flush`.", "",
            size_table]
        for backend, phase in phases.items():
            sections += [
                "", f"### 3. Union default graph queries, {backend} ({args.repeats} repeats)",
                "", phase["queries"], "",
                f"### 4. Small updates, {backend} ({args.small_repeats} repeats)", "",
                "BorderKG: `update(text, union_default=True)` (effective changes applied with "
                "the merge's, journalled with fsync on disk); raw: `Store.update(text)`.", "",
                phase["updates"], "",
                f"### 5. FROM lists, {backend} ({args.small_repeats} repeats)", "",
                phase["from"]]
        if phases:
            sections += [
                "", f"### 6. A store without the merge ({args.repeats} repeats)", "",
                table(["store", "what", "BorderKG s", "raw open", "vs loading the file raw"],
                      [phase["rebuild"] for phase in phases.values()])]
    text = "\n".join(sections) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
