"""The Data Cube side index (``graph.sparql.cube_index``) against SPARQL, per claimed named query.

For each data set — the seed plus the real CBP table by state, imported; the synthetic 1 M
quad sets ``bench/work/synth-1m-s7.nq`` and ``synth-10m-s7.nq`` when they exist
(``bench/generate.py 1m``, ``bench/generate.py 10m``) — in an
in-memory store: the index build time (median of ``--builds``), then for each claimed
named query p50/p90 over ``--repeats`` runs of the SPARQL query (every row read) and of
the index's answer (every row read), both with the same parameters and paging. Each index
answer is checked equal to the SPARQL one before it is timed.

    .venv/bin/python bench/cube_index_bench.py [--repeats 15] [--builds 3] [--sizes cbp,1m,10m]
"""
from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from pyoxigraph import RdfFormat  # noqa: E402

from graph.caching import EtagCache  # noqa: E402
from graph.sparql import cube_index  # noqa: E402
from graph.sparql.named_queries import prepare  # noqa: E402
from graph.store.base import solutions  # noqa: E402
from graph.store.oxigraph import OxigraphStore  # noqa: E402

SHARED = HERE.parent.parent / "shared"
CBP = SHARED / "data" / "cbp-nationwide-encounters-fy20-fy23-state.csv"
ARTICLE = SHARED / "seed" / "000_e1eaba6903481a9d.txt"


def synth_path(size: str) -> Path:
    """The synthetic set of ``size`` (``1m``, ``10m``) written by ``bench/generate.py``."""
    return HERE / "work" / f"synth-{size}-s7.nq"
LIMIT = 100


def cbp_store() -> tuple[OxigraphStore, dict[str, dict[str, str]]]:
    from graph.imports.cbp import import_cbp
    from graph.knowledge.seed import seed_nquads

    store = OxigraphStore(None)
    store.load(seed_nquads(ARTICLE), RdfFormat.N_QUADS)
    import_cbp(store, CBP, progress=False)
    return store, {name: {} for name in cube_index.CLAIMED}  # the queries' defaults


def synth_store(path: Path) -> tuple[OxigraphStore, dict[str, dict[str, str]]]:
    store = OxigraphStore(None)
    with open(path, "rb") as handle:
        store.load(handle, RdfFormat.N_QUADS)
    manifest = json.loads(path.with_suffix(".json").read_text())
    citizenship = f"<{manifest['citizenships'][0]}>"
    year = manifest["fiscal_years"][1]
    months = manifest["months"]
    dataset = f"<{manifest['dataset']}>"
    common = {"citizenship": citizenship, "dataset": dataset}
    return store, {
        "encounters-by-fiscal-year": common,
        "encounters-by-demographic": {**common, "year": year.rsplit("fy", 1)[1]},
        "monthly-encounters": common,
        "monthly-change": {**common, "from": f"<{months[12]}>", "to": f"<{months[0]}>"},
        "top-citizenships": {"fiscalYear": f"<{year}>", "dataset": dataset},
        "year-over-year-growth": common,
    }


def timed(run: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """p50 and p90 in milliseconds of ``run`` (its rows read), after one warm-up run."""
    run()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1,
                                                   round(0.9 * (len(samples) - 1)))]


def table(result: Any) -> tuple[list[str], list[tuple[str | None, ...]]]:
    names = [v.value for v in result.variables]
    return names, [tuple(None if r[n] is None else str(r[n]) for n in names) for r in result]


def read_sparql(store: OxigraphStore, text: str, substitutions: Any) -> list[Any]:
    return list(solutions(store.query(text, substitutions=substitutions)))


def read_index(store: OxigraphStore, query: Any, substitutions: Any,
               cache: EtagCache[cube_index.CubeIndex]) -> list[Any]:
    return list(cube_index.answer(store, query, substitutions, LIMIT, 0, cache=cache) or ())


def bench(label: str, store: OxigraphStore, params: dict[str, dict[str, str]],
          repeats: int, builds: int) -> list[str]:
    build_times = []
    for _ in range(builds):
        started = time.perf_counter()
        index = cube_index.CubeIndex.build(store)
        build_times.append(time.perf_counter() - started)
    lines = [f"### {label}: {store.count():,} quads, {len(index):,} observations",
             "", f"Index build (one SELECT, median of {builds}): "
             f"{statistics.median(build_times):.2f} s; usable: {index.usable}", "",
             "| query | rows | SPARQL p50 ms | SPARQL p90 ms | index p50 ms | index p90 ms "
             "| speed-up (p50) |", "|---|---:|---:|---:|---:|---:|---:|"]
    cache: EtagCache[cube_index.CubeIndex] = EtagCache.for_store(store, 1)  # as the service's
    cube_index.index_for(store, cache)
    for name in cube_index.CLAIMED:
        query, text, substitutions = prepare(name, params[name], LIMIT, 0)
        oracle = table(store.query(text, substitutions=substitutions))
        fast = cube_index.answer(store, query, substitutions, LIMIT, 0, cache=cache)
        if fast is None:
            lines.append(f"| {name} | {len(oracle[1])} | | | declined | | |")
            continue
        assert table(fast) == oracle, name
        sparql = timed(functools.partial(read_sparql, store, text, substitutions), repeats)
        indexed = timed(functools.partial(read_index, store, query, substitutions, cache),
                        repeats)
        lines.append(f"| {name} | {len(oracle[1])} | {sparql[0]:.1f} | {sparql[1]:.1f} "
                     f"| {indexed[0]:.2f} | {indexed[1]:.2f} | {sparql[0] / indexed[0]:.0f}x |")
        print(lines[-1], flush=True)
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--builds", type=int, default=3)
    parser.add_argument("--sizes", default="cbp,1m")
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    out: list[str] = []
    if "cbp" in sizes:
        store, params = cbp_store()
        out += bench("seed + real CBP table by state (defaults of each query)", store, params,
                     args.repeats, args.builds)
        del store
    for size in (s for s in sizes if s != "cbp"):
        path = synth_path(size)
        if not path.exists():
            out.append(f"{path} not found: `bench/generate.py {size}` makes it.")
            continue
        started = time.perf_counter()
        store, params = synth_store(path)
        print(f"{path.name} loaded in {time.perf_counter() - started:.0f} s", flush=True)
        out += bench(f"synthetic {path.name} (manifest's top citizenship, a fiscal "
                     "year and two months)", store, params, args.repeats, args.builds)
        del store
    print("\n".join(out))


if __name__ == "__main__":
    main()
