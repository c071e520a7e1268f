"""How often a Zipf-drawn analyst request repeats an earlier one, by number of requests.

Why: on the ``analyst-zipf`` mix, what BorderKG can reuse is bounded by how many requests
of a run repeat an earlier request's text; that depends on the number of requests, which
at a fixed cell length falls as queries get slower with the data. This replays the
workload's own draws (bench/workload.py: four clients, a new seed per repeat, as
bench/run.py does) without any server and prints the share of repeats after N requests
for each data size's parameter domains.

    .venv/bin/python bench/repeat_share.py [--sizes 1m,10m]   # manifests from generate.py
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

from generate import WORK, Manifest  # noqa: E402
from workload import Domains, Draws  # noqa: E402

MARKS = (40, 100, 200, 400, 1000, 2000, 4000, 8000)


def repeat_shares(domains: Domains, clients: int = 4, seed: int = 7) -> dict[int, float]:
    """Share of requests whose text an earlier request had, after each of ``MARKS``."""
    seen: set[str] = set()
    hits = count = 0
    shares: dict[int, float] = {}
    repeat = 0
    while count < MARKS[-1]:
        streams = [Draws(domains, "analyst", "zipf", seed + repeat).for_client(i)
                   for i in range(clients)]
        for _ in range(100):
            for stream in streams:
                path = next(stream).path
                count += 1
                hits += path in seen
                seen.add(path)
                if count in MARKS:
                    shares[count] = hits / count
        repeat += 1
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,10m")
    args = parser.parse_args()
    print("| size | " + " | ".join(f"{n:,} requests" for n in MARKS) + " |")
    print("|---|" + "---:|" * len(MARKS))
    for size in args.sizes.split(","):
        manifest = Manifest.read(WORK / "seed.json").merged(
            Manifest.read(WORK / f"synth-{size}-s7.json"))
        shares = repeat_shares(Domains.from_manifest(manifest))
        print(f"| {size} | " + " | ".join(f"{shares[n]:.0%}" for n in MARKS) + " |")


if __name__ == "__main__":
    main()
