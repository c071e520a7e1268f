"""Where BorderKG's time goes under load: py-spy sampling the serving processes.

Starts ``borderkg serve`` (best and default configurations) on the benchmark data, drives
one mix at a time with the workload's load generator, and samples every process of the
server (``py-spy record --subprocesses``) meanwhile: a flame graph (SVG) per cell, and the
collapsed stacks grouped by layer — WSGI server, Flask/Werkzeug, negotiation, lexer and
guard, executor and its IPC, result cache, serialisation, the engine (time inside
pyoxigraph shows on the Python frame that called it) — into ``profile-tables.md``.

    .venv/bin/python bench/profile.py [--size 1m] [--duration 15] [--out bench/results]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import generate  # noqa: E402
import peers as peer_module  # noqa: E402
from workload import Domains, Draws, run_cell  # noqa: E402

#: (substring of a frame's file, layer); a sample goes to the first match from its leaf up
LAYERS: tuple[tuple[str, str], ...] = (
    ("graph/store/oxigraph.py", "engine (pyoxigraph query)"),
    ("pyoxigraph", "engine (pyoxigraph query)"),
    ("graph/sparql/results.py", "serialisation"),
    ("graph/sparql/executor.py", "executor (incl. lazy result iteration)"),
    ("multiprocessing", "executor IPC"),
    ("graph/sparql/cache.py", "result cache"),
    ("graph/sparql/text.py", "lexer (sparql_text)"),
    ("graph/sparql/policy.py", "guard"),
    ("server/negotiation.py", "negotiation"),
    ("graph/formats.py", "negotiation"),
    ("server/observability.py", "metrics and access log"),
    ("prometheus_client", "metrics and access log"),
    ("logging", "metrics and access log"),
    ("graph/documents/description.py", "service description"),
    ("server/sparql.py", "SPARQL handler (parsing, ETag)"),
    ("server/app.py", "SPARQL handler (parsing, ETag)"),
    ("graph/analysis", "analyses (projection, paths)"),
    ("server/analyses.py", "analyses (projection, paths)"),
    ("networkx", "analyses (projection, paths)"),
    ("igraph", "analyses (projection, paths)"),
    ("flask", "Flask"),
    ("werkzeug", "Werkzeug"),
    ("gunicorn", "WSGI server (gunicorn)"),
    ("server/rsgi", "HTTP adapter and response cache (granian)"),
    ("server/response_cache", "HTTP adapter and response cache (granian)"),
    ("granian", "HTTP server (granian)"),
)
CONFIGS = ("bkg-best", "bkg-default")
MIXES = (("point-zipf", 4), ("analyst-distinct", 4), ("analyst-zipf", 4), ("floor-zipf", 4))


def layer_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for needle, layer in LAYERS:
            if needle in frame:
                return layer
    return "other (interpreter, stdlib)"


def read_collapsed(path: Path) -> Counter[str]:
    """``stack count`` lines (py-spy's raw format) as a counter of stacks."""
    stacks: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def _process(stack: str) -> str:
    """Which process a sample is from, by its depth in the tree py-spy prefixes."""
    depth = 0
    for frame in stack.split(";"):
        if not frame.startswith("process "):
            break
        depth += 1
    return {1: "HTTP server main process", 2: "request worker"}.get(depth, "query worker")


def summarise(stacks: Counter[str]) -> list[str]:
    """Share of samples per layer, per process kind, and the hottest leaf frames."""
    total = sum(stacks.values()) or 1
    layers: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    processes: Counter[str] = Counter()
    for stack, count in stacks.items():
        layers[layer_of(stack)] += count
        leaves[stack.split(";")[-1][:110]] += count
        processes[_process(stack)] += count
    lines = [f"{total:,} samples; " + ", ".join(f"{name} {n / total:.0%}"
                                                 for name, n in processes.most_common()), "",
             "| layer | share of samples |", "|---|---:|"]
    lines += [f"| {layer} | {n / total:.1%} |" for layer, n in layers.most_common()]
    lines += ["", "Hottest leaf frames:", "", "| frame | share |", "|---|---:|"]
    lines += [f"| `{leaf}` | {n / total:.1%} |" for leaf, n in leaves.most_common(12)]
    return lines


def record(pid: int, seconds: float, raw: Path, gil: Path,
           svg: Path) -> list[subprocess.Popen]:
    """Three py-spy samplers over the server's process tree: collapsed stacks of every
    running thread, of the thread holding the GIL only (``--gil``: where the interpreter's
    one core goes), and a flame graph."""
    spy = str(Path(sys.executable).parent / "py-spy")
    common = ["--pid", str(pid), "--subprocesses", "--nonblocking", "--rate", "97",
              "--duration", str(int(seconds))]
    runs = (("raw", raw, []), ("raw", gil, ["--gil"]), ("flamegraph", svg, []))
    return [subprocess.Popen([spy, "record", *common, *extra, "--format", fmt, "-o", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for fmt, out, extra in runs]


def profile_cell(peer: Any, domains: Domains, mix: str, clients: int, seconds: float,
                 out: Path, work: Path, seed: int) -> tuple[list[str], float]:
    kind, mode = mix.split("-")
    raw = work / f"profile-{peer.name}-{mix}.txt"
    gil = work / f"profile-{peer.name}-{mix}-gil.txt"
    svg = out / f"profile-{peer.name}-{mix}.svg"
    spies = record(peer.process.pid, seconds, raw, gil, svg)
    result: dict[str, Any] = {}
    driver = threading.Thread(target=lambda: result.setdefault("cell", run_cell(
        peer.base, Draws(domains, kind, mode, seed, salt=900), clients, seconds - 1)))
    driver.start()
    driver.join()
    for spy in spies:
        spy.wait(120)
    qps = result["cell"].qps
    lines = ["Every running thread:", "", *summarise(read_collapsed(raw)), "",
             "The thread holding the GIL only:", "", *summarise(read_collapsed(gil))]
    return lines, qps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1m")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--work", type=Path, default=generate.WORK)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    manifest = generate.dataset_files(args.size, args.seed, args.work)
    files = [args.work / name for name in manifest.files]
    domains = Domains.from_manifest(manifest)
    args.out.mkdir(parents=True, exist_ok=True)
    doc = [f"# py-spy profiles at {args.size} ({manifest.quads:,} quads)", "",
           f"Command: `.venv/bin/python bench/profile.py {' '.join(argv or sys.argv[1:])}`",
           ""]
    for name in args.configs.split(","):
        peer = peer_module.make_peer(name, args.work / f"profile-{args.size}")
        peer.start(files)
        try:
            for mix, clients in MIXES:
                print(f"profiling {name} {mix} c={clients}", flush=True)
                lines, qps = profile_cell(peer, domains, mix, clients, args.duration,
                                          args.out, peer.work, args.seed)
                doc += [f"## {name}, {mix}, {clients} clients: {qps:,.1f} req/s", "",
                        f"Flame graph: `profile-{name}-{mix}.svg`", "", *lines, ""]
        finally:
            peer.stop()
    (args.out / "profile-tables.md").write_text("\n".join(doc) + "\n", encoding="utf-8")
    print(f"written {args.out / 'profile-tables.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
