"""Figures for the projection and each analysis: seed, imported CBP data, ~1 M edges.

Run: ``.venv/bin/python bench/analysis_bench.py [--edges 1000000]``; prints a Markdown
table (seconds, one run each after a warm-up of the projection cache where stated).

The synthetic graph is generated deterministically (``random.Random(42)``): agencies,
countries, flights and people linked by a few predicates with a skewed (preferential)
choice of targets, so it has hubs like the real graph, each node typed and labelled.
networkx is measured where it finishes in interactive time; above the igraph threshold
``backend="auto"`` uses python-igraph, and those rows say so.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph import ids  # noqa: E402
from graph.analysis import (  # noqa: E402
    centrality,
    communities,
    components,
    connectors,
    k_shortest_paths,
    neighbourhood,
    project,
    similar,
)
from graph.analysis.projection import ProjectionOptions, build_projection  # noqa: E402
from graph.caching import EtagCache  # noqa: E402
from graph.store.oxigraph import OxigraphStore  # noqa: E402

ARTICLE = ROOT.parent / "shared" / "seed" / "000_e1eaba6903481a9d.txt"
CBP = ROOT.parent / "shared" / "data" / "cbp-nationwide-encounters-fy20-fy23-state.csv"
ROWS: list[tuple[str, str, str, str]] = []


def timed(dataset: str, what: str, func: Callable[[], Any], note: str = "") -> Any:
    start = time.perf_counter()
    result = func()
    seconds = time.perf_counter() - start
    ROWS.append((dataset, what, f"{seconds:.3f}", note))
    print(f"{dataset:10} {what:44} {seconds:8.3f} s  {note}", file=sys.stderr, flush=True)
    return result


def seed_store() -> OxigraphStore:
    from graph.knowledge.seed import seed_nquads

    store = OxigraphStore(None)
    store.load(seed_nquads(ARTICLE), RdfFormat.N_QUADS)
    return store


def synthetic_store(edges: int) -> OxigraphStore:
    """~``edges`` entity edges among ``edges // 4`` typed, labelled nodes."""
    rng = random.Random(42)
    graph = NamedNode(ids.GRAPH_BACKGROUND)
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    label = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    kinds = ["org", "country", "flight", "person", "issue"]
    n = max(edges // 4, 10)
    nodes = [NamedNode(ids.thing(kinds[i % 5], f"s{i}")) for i in range(n)]
    types = [NamedNode(ids.DEF + k.title()) for k in kinds]
    predicates = [NamedNode(ids.DEF + p) for p in ("assistedBy", "destination", "party",
                                                   "between", "servesObjective")]
    quads = [Quad(node, rdf_type, types[i % 5], graph) for i, node in enumerate(nodes)]
    quads += [Quad(node, label, Literal(f"synthetic {i}", language="en"), graph)
              for i, node in enumerate(nodes)]
    targets: list[int] = list(range(n))
    for i in range(edges):
        s = rng.randrange(n)
        o = rng.choice(targets) if rng.random() < 0.5 else rng.randrange(n)
        targets.append(o)  # preferential attachment: popular nodes get more links
        quads.append(Quad(nodes[s], predicates[i % 5], nodes[o], graph))
    store = OxigraphStore(None)
    store.bulk_extend(quads)
    return store


def run(dataset: str, store: OxigraphStore, source: str, target: str, entity: str,
        **options: Any) -> None:
    opts = ProjectionOptions(**options)
    timed(dataset, "projection (uncached)", lambda: build_projection(store, opts))
    cache: EtagCache[Any] = EtagCache.for_store(store, 4)
    project(store, opts, cache=cache)
    p = timed(dataset, "projection (cached, same store version)",
              lambda: project(store, opts, cache=cache))
    timed(dataset, f"size: {p.graph.number_of_nodes()} nodes, {p.graph.number_of_edges()} "
          "edges", lambda: None)
    timed(dataset, "undirected + directed views", lambda: (p.undirected(), p.directed()))
    timed(dataset, "path (k=3, max 4 hops)", lambda: k_shortest_paths(p, source, target, 3, 4))
    timed(dataset, "neighbours (2 hops, 200 nodes)", lambda: neighbourhood(p, entity, 2))
    for measure in ("degree", "pagerank", "betweenness"):
        result = timed(dataset, f"centrality {measure}", lambda m=measure: centrality(p, m))
        ROWS[-1] = (*ROWS[-1][:3], f"{result.backend} {result.parameters}")
    found = timed(dataset, "communities louvain", lambda: communities(p, seed=0))
    ROWS[-1] = (*ROWS[-1][:3], f"{found.backend}, {len(found.groups)} communities, "
                f"modularity {found.modularity:.3f}")
    timed(dataset, "components", lambda: components(p))
    timed(dataset, "connectors", lambda: connectors(p))
    timed(dataset, "similar (Jaccard)", lambda: similar(p, entity))


def run_networkx_large(dataset: str, store: OxigraphStore) -> None:
    """The same measures forced onto networkx, to show why the large graph uses igraph."""
    p = project(store)
    timed(dataset, "pagerank, networkx (pure Python)", lambda: centrality(p, "pagerank",
                                                                          backend="networkx"))
    timed(dataset, "betweenness k=16, networkx", lambda: centrality(
        p, "betweenness", backend="networkx", k=16))
    timed(dataset, "betweenness k=16, igraph (copy cached)", lambda: centrality(
        p, "betweenness", backend="igraph", k=16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--skip-networkx-large", action="store_true")
    args = parser.parse_args()
    run("seed", seed_store(), "ICE", "China", "Laken Riley Act")
    if CBP.exists():
        from graph.imports.cbp import import_cbp

        store = seed_store()
        timed("cbp", "import CBP by-state table (42,532 rows)",
              lambda: import_cbp(store, CBP, progress=False))
        run("cbp", store, "ICE", "China", "China", collapse_observations=True)
    store = timed("synthetic", f"generate + load {args.edges:,} edges",
                  lambda: synthetic_store(args.edges))
    run("synthetic", store, ids.thing("org", "s0"), ids.thing("flight", "s7"),
        ids.thing("country", "s1"))
    if not args.skip_networkx_large:
        run_networkx_large("synthetic", store)
    flags = " --skip-networkx-large" if args.skip_networkx_large else ""
    print(f"\nCommand: .venv/bin/python bench/analysis_bench.py --edges {args.edges}{flags}\n")
    print("| data | step | seconds | notes |\n| --- | --- | ---: | --- |")
    for row in ROWS:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
