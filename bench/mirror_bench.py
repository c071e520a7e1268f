"""The disk store with its in-memory copy (``memory_copy``, the default) against
``oxigraph serve`` in memory and on disk, and against the disk store without the copy.

Configurations, each a real server on loopback started through ``bench/peers.py``:

* ``bkg-default``   ``borderkg serve`` as shipped: disk store, memory copy filled at start;
* ``bkg-nocopy``    the same with ``BORDERKG_MEMORY_COPY=false`` (snapshot workers on disk);
* ``oxigraph``      ``oxigraph serve`` in memory, loaded through ``/store`` (the reference);
* ``oxigraph-disk`` ``oxigraph load --location`` then ``oxigraph serve --location``.

Per data set (the real CBP table with the seed, the synthetic 1 M set): start-up to the
first 200 on an analyst query (and, for ``bkg-default``, to ``memory_copy: ready``) over
``--startups`` restarts of an already loaded store; resident memory of the process tree
once ready (RSS summed, and PSS, which counts pages the forked children share once);
then the analyst mix with every request distinct at 1 and 4 clients (``bench/run.py``'s
``run_cells``, peers interleaved and rotated per repeat) and point lookups driven by wrk
at 4 clients over request files long enough that no request repeats. Figures are medians
over ``--repeats``; ratios are to ``oxigraph`` in the same run.

    .venv/bin/python bench/mirror_bench.py --sizes cbp,1m --repeats 3 --duration 6
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import generate  # noqa: E402
import peers as P  # noqa: E402
import run as R  # noqa: E402
from workload import JSON, Domains, Draws, agreement, wrk_file, wrk_paths  # noqa: E402

from tests.peers import oxigraph_load, start_oxigraph  # noqa: E402

NAMES = ("bkg-default", "bkg-nocopy", "oxigraph", "oxigraph-disk")
#: wrk requests written per file: more than any cell sends, so none repeats
WRK_REQUESTS = 250_000


def pss_kib(root: int) -> int:
    """Proportional set size of ``root``'s process tree (shared pages counted once)."""
    total = 0
    for pid in P.tree_pids(root):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in rollup.splitlines()
                       if line.startswith("Pss:")), 0)
    return total


class BorderKGEnv(P.BorderKG):
    """``borderkg serve`` on the disk store, with ``env`` on top of a clean environment."""

    env: dict[str, str] = {}

    def spawn(self, args: list[str], cwd: Path | None = None,
              env: dict[str, str] | None = None) -> None:
        del env  # the class's env, over a clean environment, stands in for it
        environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
        environ.update(self.env)
        self.last_command = args
        super().spawn(args, cwd, environ)

    def restart(self) -> None:
        self.stop()
        self.spawn(self.last_command, cwd=P.ROOT)


class NoCopy(BorderKGEnv):
    env = {"BORDERKG_MEMORY_COPY": "false"}


class OneWorker(BorderKGEnv):
    """The default with one query worker: each forked worker's scans give it its own copy
    of the pages they read, so the worker count bounds the memory."""

    env = {"BORDERKG_QUERY_WORKERS": "1"}


class OxigraphDisk(P.Peer):
    def start(self, files: list[Path]) -> None:
        self.location = self.work / "oxigraph-disk"
        shutil.rmtree(self.location, ignore_errors=True)
        began = time.perf_counter()
        oxigraph_load(self.location, files)
        self.load_seconds = time.perf_counter() - began
        self.serve()
        self.startup_seconds = self.wait_answer()

    def serve(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.server = start_oxigraph(self.log, location=self.location, port=self.port,
                                     union_default_graph=True, name=self.name,
                                     wait=False).server

    def restart(self) -> None:
        self.stop()
        self.serve()


def make(name: str, work: Path) -> P.Peer:
    if name == "bkg-default":
        return BorderKGEnv(name, work)
    if name == "bkg-nocopy":
        return NoCopy(name, work)
    if name == "bkg-1worker":
        return OneWorker(name, work)
    if name == "oxigraph-disk":
        return OxigraphDisk(name, work, "/query")
    return P.make_peer(name, work)


def copy_state(peer: P.Peer) -> str | None:
    try:
        body = requests.get(peer.base.rsplit("/", 1)[0] + "/healthz", timeout=5).json()
    except (requests.RequestException, ValueError):
        return None
    return (body.get("memory_copy") or {}).get("state", "none")


def timed_start(peer: Any, probe: str) -> dict[str, float]:
    """Restart ``peer`` over its loaded store: seconds from process start to the first 200
    on ``probe`` (an analyst query), and to the memory copy being ready (BorderKG)."""
    began = time.perf_counter()
    peer.restart()
    first = ready = float("nan")
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and first != first:
        if peer.process.poll() is not None:
            raise RuntimeError(f"{peer.name} exited: {peer.log.read_text()[-2000:]}")
        try:
            answer = requests.get(peer.base, params={"query": probe}, headers={"Accept": JSON},
                                  timeout=300)
            if answer.status_code == 200:
                first = time.perf_counter() - began
        except requests.RequestException:
            time.sleep(0.02)
    if has_copy(peer):
        while time.monotonic() < deadline and copy_state(peer) != "ready":
            time.sleep(0.05)
        ready = time.perf_counter() - began
    return {"first_answer": first, "ready": ready}


def has_copy(peer: P.Peer) -> bool:
    """Whether ``peer`` is BorderKG's disk store with its memory copy."""
    return isinstance(peer, BorderKGEnv) and not isinstance(peer, NoCopy)


def wait_ready(peer: P.Peer) -> None:
    if has_copy(peer):
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and copy_state(peer) != "ready":
            time.sleep(0.1)


def run_size(label: str, args: argparse.Namespace) -> dict[str, Any]:
    manifest = generate.dataset_files(label, args.seed, args.work, R.CBP_CSV)
    files = [args.work / name for name in manifest.files]
    domains = Domains.from_manifest(manifest)
    print(f"{label}: {manifest.quads:,} quads", flush=True)
    probe_draws = Draws(domains, "analyst", "distinct", args.seed, 999)
    probes = iter(probe_draws.for_client(0))
    peers = [make(name, args.work / label) for name in R._split(args.peers)]
    result: dict[str, Any] = {"label": label, "quads": manifest.quads, "peers": {}}
    try:
        for peer in peers:
            print(f"  starting {peer.name} ...", flush=True)
            peer.start(files)
            info: dict[str, Any] = {"load_seconds": peer.load_seconds,
                                    "startup_seconds_first": peer.startup_seconds}
            if peer.name == "oxigraph":  # holds nothing on disk: start-up includes its load
                probe = _query(next(probes).path)
                began = time.perf_counter()
                requests.get(peer.base, params={"query": probe}, headers={"Accept": JSON},
                             timeout=300).raise_for_status()
                info["startups"] = [{"first_answer": peer.total_seconds
                                     + time.perf_counter() - began, "ready": float("nan")}]
            elif not hasattr(peer, "restart"):  # Virtuoso: its first start, load excluded
                info["startups"] = [{"first_answer": peer.startup_seconds,
                                     "ready": float("nan")}]
            else:
                info["startups"] = [timed_start(peer, _query(next(probes).path))
                                    for _ in range(args.startups)]
            wait_ready(peer)
            info["memory_ready"] = {**peer.memory(), "pss": pss_kib(peer.process.pid)}
            result["peers"][peer.name] = info
            print(f"  {peer.name}: {json.dumps(info)}", flush=True)
        bases = {peer.name: peer.base for peer in peers}  # rows of each class's first request
        result["agreement"] = {**agreement(bases, Draws(domains, "analyst", "zipf", args.seed)),
                               **agreement(bases, Draws(domains, "point", "zipf", args.seed))}
        cells = R.run_cells(peers, domains, argparse.Namespace(
            mixes="analyst-distinct", clients="1,4", repeats=args.repeats, seed=args.seed,
            duration=args.duration))
        for peer in peers:  # request files no cell exhausts, disjoint across repeats
            for repeat in range(args.repeats):
                draws = Draws(domains, "point", "distinct", args.seed + repeat, 500 + repeat)
                path = wrk_file(peer.work, peer.base, draws)
                if not path.exists():
                    wrk_paths(peer.base, draws, WRK_REQUESTS, path)
        cells += R.run_cells(peers, domains, argparse.Namespace(
            mixes="point-distinct-wrk", clients="4", repeats=args.repeats, seed=args.seed,
            duration=args.duration))
        result["cells"] = cells
        for peer in peers:
            result["peers"][peer.name]["memory_end"] = {**peer.memory(),
                                                        "pss": pss_kib(peer.process.pid)}
    finally:
        for peer in peers:
            peer.stop()
    return result


def _query(path: str) -> str:
    from urllib.parse import parse_qs

    return parse_qs(path.lstrip("?"))["query"][0]


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def summary(size: dict[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, info in size["peers"].items():
        row: dict[str, float] = {}
        for mix, clients, key in (("analyst-distinct", 1, "a1"), ("analyst-distinct", 4, "a4"),
                                  ("point-distinct-wrk", 4, "pt")):
            cells = [c for c in size["cells"] if c["peer"] == name and c["mix"] == mix
                     and c["clients"] == clients]
            row[key] = median([c["qps"] for c in cells])
            row[key + "_p50"] = median([c["latency"]["p50"] for c in cells])
            row[key + "_p99"] = median([c["latency"]["p99"] for c in cells])
            row[key + "_errors"] = sum(c["errors"] for c in cells)
        row["start"] = median([s["first_answer"] for s in info["startups"]])
        row["ready"] = median([s["ready"] for s in info["startups"]])
        row["rss_mib"] = info["memory_ready"]["rss"] / 1024
        row["pss_mib"] = info["memory_ready"]["pss"] / 1024
        row["pss_end_mib"] = info["memory_end"]["pss"] / 1024
        row["rss_end_mib"] = info["memory_end"]["rss"] / 1024
        out[name] = row
    return out


def markdown(run: dict[str, Any]) -> str:
    lines = [f"Command: `{run['command']}`", "",
             f"Machine: {run['machine']['cpus']} cores (shared, noisy), load average at start "
             f"{', '.join(f'{x:.1f}' for x in run['machine']['load_average'])}; "
             f"started {run['started']}.", ""]
    for size in run["sizes"]:
        rows = summary(size)
        ref = rows.get("oxigraph", {})

        def ratio(row: dict[str, float], key: str, ref: dict[str, float] = ref) -> str:
            return f"{row[key] / ref[key]:.2f}×" if ref.get(key) else "–"

        lines += [f"### {size['label']} ({size['quads']:,} quads)", "",
                  "| configuration | analyst distinct, 1 client | 4 clients | point lookups "
                  "(wrk, 4 conn.) | start-up to first analyst answer | memory copy ready "
                  "| memory once ready, PSS (RSS summed) |", "|---|---|---|---|---|---|---|"]
        for name, row in rows.items():
            lines.append(
                f"| {name} | {row['a1']:.1f} req/s ({ratio(row, 'a1')}); p50 "
                f"{row['a1_p50']:.0f} / p99 {row['a1_p99']:.0f} ms | {row['a4']:.1f} req/s "
                f"({ratio(row, 'a4')}); p50 {row['a4_p50']:.0f} / p99 {row['a4_p99']:.0f} ms "
                f"| {row['pt']:,.0f} req/s ({ratio(row, 'pt')}); p99 {row['pt_p99']:.1f} ms "
                f"| {row['start']:.2f} s | "
                + (f"{row['ready']:.2f} s" if row['ready'] == row['ready'] else "–")
                + f" | {row['pss_mib']:,.0f} MiB ({row['rss_mib']:,.0f}); "
                f"{ratio(row, 'pss_mib')} |")
        errors = {n: int(r["a1_errors"] + r["a4_errors"] + r["pt_errors"])
                  for n, r in rows.items()}
        lines += ["", f"Errors (all cells): {errors}.", ""]
        differ = [f"{cls}: {name} {by_peer[name]}, oxigraph {by_peer['oxigraph']}"
                  for cls, by_peer in sorted(size.get("agreement", {}).items())
                  for name in by_peer if "oxigraph" in by_peer and name != "oxigraph"
                  and by_peer[name] != by_peer["oxigraph"]]
        if "agreement" in size:
            lines += [("Answers differing from oxigraph serve's (status, rows) on each class's "
                       "first request: " + "; ".join(differ) + ".") if differ else
                      "Every peer gave oxigraph serve's status and row count on each class's "
                      "first request.", ""]
        if "virtuoso" in rows:
            lines += ["Virtuoso is sent equivalent texts of the analyst queries it cannot run as "
                      "written (`bench/peers.py`, `virtuoso_text`): the all-regions filter as "
                      "`!BOUND(?region) || ?inRegion = ?region` in every class, and growth and "
                      "month-change as an aggregating subquery under the per-cent projection; "
                      "point lookups are sent unchanged.", ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="cbp,1m")
    parser.add_argument("--peers", default=",".join(NAMES))
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per cell")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--startups", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", type=Path, default=generate.WORK)
    parser.add_argument("--out", type=Path, default=Path("/tmp/mirror-bench-out"),
                        help="raw JSON and tables (bench/results/mirror.md is written from them)")
    args = parser.parse_args(argv)
    command = ".venv/bin/python bench/mirror_bench.py " + " ".join(
        shlex.quote(a) for a in (argv or sys.argv[1:]))
    run: dict[str, Any] = {"command": command, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                           "machine": R.machine(), "sizes": []}
    for label in R._split(args.sizes):
        run["sizes"].append(run_size(label, args))
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "mirror.json").write_text(json.dumps(run, indent=1, default=str))
    run["machine_after"] = R.machine()
    (args.out / "mirror.json").write_text(json.dumps(run, indent=1, default=str))
    (args.out / "mirror-tables.md").write_text(markdown(run), encoding="utf-8")
    print(markdown(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
