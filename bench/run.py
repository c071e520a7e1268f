"""BorderKG's performance benchmark: every peer, the same data, the same requests.

For each data size the harness writes (or reuses) the data in ``bench/work/``, starts every
peer on loopback with it (timing the load and the start-up), takes each query class's first
answer cold, then runs every cell — mix x parameter mode x concurrent clients — for a fixed
time, repeating the whole sweep ``--repeats`` times with the peers interleaved so that the
shared machine's noise falls on all of them alike. Figures are medians over the repeats and
ratios to ``oxigraph serve`` measured in the same run.

    make bench                                   # 100k and 1M, every peer, 3 repeats
    make bench BENCH_ARGS="--sizes 100k,1m,10m"  # 10M too (long; CI never runs it)
    .venv/bin/python bench/run.py --smoke --out /tmp/smoke   # seconds, BorderKG only

Raw results go to ``<out>/performance.json``, the report to ``<out>/performance.md`` and
the chart to ``<out>/performance.svg``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import generate  # noqa: E402
import peers as peer_module  # noqa: E402
import report  # noqa: E402
from workload import Domains, Draws, agreement, first_answers, run_cell, run_wrk  # noqa: E402

CBP_CSV = HERE.parent.parent / "shared" / "data" / "cbp-nationwide-encounters-fy20-fy23-state.csv"
ALL_PEERS = ("oxigraph", "virtuoso", "rdflib", "bkg-default", "bkg-best")
#: rdflib-endpoint holds the data in rdflib's memory store: beyond this it takes minutes
RDFLIB_MAX_QUADS = 200_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m",
                        help="comma-separated: 2k, 100k, 1m, 10m (generated) or cbp (the real "
                        "CBP table); each with the seed graph")
    parser.add_argument("--peers", default=",".join(ALL_PEERS))
    parser.add_argument("--mixes", default="analyst-zipf,analyst-distinct,point-zipf,path-zipf,"
                        "floor-zipf,point-zipf-wrk,floor-zipf-wrk",
                        help="mix-mode[-wrk]: analyst|point|path|floor - zipf|distinct; "
                        "-wrk drives the cell with wrk instead of Python threads")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=generate.WORK)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--cbp-csv", type=Path, default=CBP_CSV)
    parser.add_argument("--no-references", action="store_true",
                        help="skip the oxigraph-load, pyoxigraph-memory and seed start-up "
                        "references")
    parser.add_argument("--smoke", action="store_true",
                        help="2k quads, BorderKG (best configuration) only, ~2 s of load")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.peers, args.clients = "2k", "bkg-best", "1,4"
        args.mixes, args.duration, args.repeats = "analyst-zipf,point-zipf", 1.0, 1
        args.no_references = True
    return args


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def start_peers(names: list[str], files: list[Path], quads: int, work: Path) -> list[Any]:
    """Start every applicable peer; one that fails is reported and left out."""
    started = []
    for name in names:
        if name == "rdflib" and quads > RDFLIB_MAX_QUADS:
            continue
        peer = peer_module.make_peer(name, work)
        print(f"  starting {name} ...", flush=True)
        try:
            peer.start(files)
        except (RuntimeError, OSError, ValueError) as exc:
            print(f"  {name} failed to start: {exc}", flush=True)
            peer.failure = str(exc)[:300]
            peer.stop()
            continue
        print(f"  {name}: load {peer.load_seconds:.1f} s, first answer after "
              f"{peer.startup_seconds:.2f} s", flush=True)
        started.append(peer)
    return started


def cold_answers(peers: list[Any], domains: Domains, seed: int) -> dict[str, dict[str, float]]:
    """Each class's first answer right after loading, before anything warmed a cache."""
    cold: dict[str, dict[str, float]] = {}
    for peer in peers:
        cold[peer.name] = {}
        for mix in ("analyst", "point", "path"):
            if mix == "path" and not peer.name.startswith("bkg"):
                continue
            cold[peer.name].update(first_answers(peer.base, Draws(domains, mix, "zipf", seed)))
    return cold


def answers_agree(peers: list[Any], domains: Domains, seed: int) -> dict[str, Any]:
    """The same request of each class to every peer: status and size of each answer, so a
    peer that is fast because it answers less (or fails) shows in the report."""
    bases = {peer.name: peer.base for peer in peers}
    return {**agreement(bases, Draws(domains, "analyst", "zipf", seed)),
            **agreement(bases, Draws(domains, "point", "zipf", seed))}


def cell_summary(peer: str, mix: str, clients: int, repeat: int, cell: Any) -> dict[str, Any]:
    return {"peer": peer, "mix": mix, "clients": clients, "repeat": repeat,
            "qps": cell.qps, "requests": len(cell.samples), "errors": cell.errors,
            "cache_hits": cell.cache_hits,
            "error_statuses": cell.error_statuses(), "latency": cell.latency(),
            "classes": {cls: cell.latency(cls) for cls in cell.classes()}}


def applicable(peer: Any, mix: str, clients: int) -> bool:
    if mix.startswith("path") and not peer.name.startswith("bkg"):
        return False
    return clients <= peer.max_clients


def run_cells(peers: list[Any], domains: Domains, args: argparse.Namespace) -> list[dict]:
    """Every cell, the sweep repeated with the peers' order rotated each time."""
    cells, salt = [], 0
    for repeat in range(args.repeats):
        order = peers[repeat % len(peers):] + peers[:repeat % len(peers)]
        for mix in _split(args.mixes):
            kind, mode, *driver = mix.split("-")
            for clients in map(int, _split(args.clients)):
                salt += 1
                for peer in order:
                    if not applicable(peer, mix, clients):
                        continue
                    draws = Draws(domains, kind, mode, args.seed + repeat, salt)
                    if driver == ["wrk"]:
                        summary = {"peer": peer.name, "mix": mix, "clients": clients,
                                   "repeat": repeat, **run_wrk(peer.base, draws, clients,
                                                               args.duration, peer.work)}
                    else:
                        cell = run_cell(peer.base, draws, clients, args.duration)
                        summary = cell_summary(peer.name, mix, clients, repeat, cell)
                    cells.append(summary)
                    print(f"  r{repeat} {mix:17} c={clients:<2} {peer.name:12} "
                          f"{summary['qps']:9.1f} req/s  p99 {summary['latency']['p99']:8.1f} "
                          f"ms  errors {summary['errors']}", flush=True)
    return cells


def run_size(label: str, args: argparse.Namespace) -> dict[str, Any]:
    manifest = generate.dataset_files(label, args.seed, args.work, args.cbp_csv)
    files = [args.work / name for name in manifest.files]
    domains = Domains.from_manifest(manifest)
    print(f"{label}: {manifest.quads:,} quads in {', '.join(manifest.files)}", flush=True)
    peers = start_peers(_split(args.peers), files, manifest.quads, args.work / label)
    result: dict[str, Any] = {"label": label, "quads": manifest.quads, "files": manifest.files}
    try:
        result["peers"] = {p.name: {"load_seconds": p.load_seconds,
                                    "startup_seconds": p.startup_seconds,
                                    "memory_before_load": p.baseline,
                                    "memory_after_load": p.memory()} for p in peers}
        result["cold"] = cold_answers(peers, domains, args.seed)
        result["agreement"] = answers_agree(peers, domains, args.seed)
        result["cells"] = run_cells(peers, domains, args)
        for peer in peers:
            result["peers"][peer.name]["memory_at_end"] = peer.memory()
    finally:
        for peer in peers:
            peer.stop()
    if not args.no_references:
        result["references"] = references(files, args.work / label)
    return result


def references(files: list[Path], work: Path) -> dict[str, Any]:
    """Loading and memory references outside the servers."""
    print("  references: oxigraph load, pyoxigraph memory", flush=True)
    return {"oxigraph_load_seconds": peer_module.oxigraph_load_seconds(files, work),
            "pyoxigraph_memory": peer_module.pyoxigraph_memory(files)}


def seed_start(work: Path) -> dict[str, float]:
    """The seed service's start-up to first answer: from empty (builds) and already built."""
    return {"empty": peer_module.seed_cold_start(work, built=False),
            "built": peer_module.seed_cold_start(work, built=True)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = "bench/run.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    run: dict[str, Any] = {"command": command, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "machine": machine(), "args": {k: str(v) for k, v in vars(args).items()},
                           "sizes": []}
    if not args.no_references:
        run["seed_start"] = [seed_start(args.work / "seed-start") for _ in range(args.repeats)]
    for label in _split(args.sizes):
        run["sizes"].append(run_size(label, args))
    run["machine_after"] = machine()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "performance.json").write_text(json.dumps(run, indent=1, default=str))
    (args.out / "performance.md").write_text(report.markdown(run), encoding="utf-8")
    report.chart(run, args.out / "performance.svg")
    print(f"results: {args.out / 'performance.md'}")
    return 0


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_average": os.getloadavg(),
            "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())
