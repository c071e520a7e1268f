"""How the figures grow from 100 k to 1 M to 10 M quads, across separate benchmark runs.

Why a separate step: the 10 M run is made on its own (`--sizes 10m`, longer cells, two
peers), so no single ``performance.json`` holds every size. This reads the runs' JSON files,
takes each size once (the first file that has it), and writes one table per figure with the
value at each size and, in brackets, the ratio to ``oxigraph serve`` at that size. Cells are
compared at one client count (4, measured at every size); each run's own command is in its
``performance.md``.

    .venv/bin/python bench/growth.py bench/results/performance.json \\
        bench/results/10m/performance.json --out bench/results/growth.md
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import PEER_ORDER, REFERENCE, _fmt, medians  # noqa: E402

CLIENTS = 4


def sizes_from(paths: list[Path]) -> list[dict[str, Any]]:
    """Every size measured, once, smallest first."""
    found: dict[str, dict[str, Any]] = {}
    for path in paths:
        for size in json.loads(path.read_text())["sizes"]:
            size["source"] = str(path.resolve())
            found.setdefault(size["label"], size)
    return sorted(found.values(), key=lambda s: s["quads"])


def _qps(mix: str) -> Callable[[dict[str, Any], str], float]:
    def figure(size: dict[str, Any], peer: str) -> float:
        cell = medians(size.get("cells", [])).get((peer, mix, CLIENTS))
        return cell["qps"] if cell else math.nan
    return figure


def _load(size: dict[str, Any], peer: str) -> float:
    seconds = size["peers"][peer].get("load_seconds")
    return size["quads"] / seconds if seconds else math.nan


def _bytes_per_quad(size: dict[str, Any], peer: str) -> float:
    p = size["peers"][peer]
    net = p["memory_after_load"]["hwm"] - p.get("memory_before_load", {}).get("rss", 0)
    return net * 1024 / size["quads"]


FIGURES: tuple[tuple[str, Callable[[dict[str, Any], str], float]], ...] = (
    (f"analyst-zipf req/s (c={CLIENTS})", _qps("analyst-zipf")),
    (f"analyst-distinct req/s (c={CLIENTS})", _qps("analyst-distinct")),
    (f"point-zipf-wrk req/s (c={CLIENTS})", _qps("point-zipf-wrk")),
    ("load quads/s (files to first answer)", _load),
    ("peak bytes/quad after loading (net of the empty server)", _bytes_per_quad),
)


def table(sizes: list[dict[str, Any]], title: str,
          figure: Callable[[dict[str, Any], str], float]) -> list[str]:
    peers = [p for p in PEER_ORDER if all(p in s.get("peers", {}) for s in sizes)]
    lines = [f"### {title}", "", "| peer | " + " | ".join(
        f"{s['label']} ({s['quads']:,} quads)" for s in sizes) + " |",
        "|---|" + "---:|" * len(sizes)]
    for peer in peers:
        cells = []
        for size in sizes:
            value = figure(size, peer)
            reference = figure(size, REFERENCE) if REFERENCE in size["peers"] else math.nan
            ratio = value / reference if reference and not math.isnan(reference) else math.nan
            cells.append("–" if math.isnan(value) else
                         _fmt(value) + ("" if math.isnan(ratio) else f" ({ratio:.2f}×)"))
        lines.append(f"| {peer} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "growth.md")
    args = parser.parse_args()
    sizes = sizes_from(args.runs)
    lines = ["# Growth from size to size", "",
             "Values at each size; in brackets the ratio to `oxigraph serve` at that size. "
             f"Cells at {CLIENTS} clients, medians of each run's repeats. Sources: "
             + ", ".join(f"{s['label']} from `{Path(s['source']).relative_to(HERE.parent)}`"
                         for s in sizes) + " (each file's `performance.md` gives its command; "
             "cell lengths differ between runs, so caches see more requests in longer "
             "cells).", ""]
    for title, figure in FIGURES:
        lines += table(sizes, title, figure)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
