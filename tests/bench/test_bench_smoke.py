"""The benchmark's smoke run: data generator and harness end to end, in seconds.

Speed is not asserted (that is what ``make bench`` reports); this checks that the generator
is deterministic and writes loadable CBP-shaped data the analyst queries answer over, and
that the harness starts a real BorderKG server, drives it, and writes a results table with
non-zero throughput.
"""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pyoxigraph import RdfFormat, Store

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"


def bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_generator_is_deterministic_and_answers_the_named_queries(tmp_path: Path) -> None:
    generate = bench_module("generate")
    first = generate.generate(2000, 11, tmp_path / "a" / "synth.nq")
    second = generate.generate(2000, 11, tmp_path / "b" / "synth.nq")
    other = generate.generate(2000, 12, tmp_path / "c" / "synth.nq")
    data = (tmp_path / "a" / "synth.nq").read_bytes()
    assert data == (tmp_path / "b" / "synth.nq").read_bytes()
    assert data != (tmp_path / "c" / "synth.nq").read_bytes()
    assert first.quads == second.quads and other.citizenships == first.citizenships
    store = Store()
    store.load(data, RdfFormat.N_QUADS)
    assert len(store) == first.quads
    top = first.citizenships[0]
    workload = bench_module("workload")
    text = workload.analyst_text("by-year", {"citizenship": f"<{top}>",
                                             "dataset": f"<{first.dataset}>"})
    rows = list(store.query(text, use_default_graph_as_union=True))
    assert rows and all(row["citizenship"].value == top for row in rows)
    assert sum(int(row["encounters"].value) for row in rows) > 0


@pytest.mark.timeout(120)
def test_harness_smoke_run_writes_a_table_with_throughput(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCH / "run.py"), "--smoke", "--out",
                           str(tmp_path / "out"), "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=110, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "out" / "performance.json").read_text())
    cells = results["sizes"][0]["cells"]
    assert {c["peer"] for c in cells} == {"bkg-best"}
    assert all(c["qps"] > 0 and c["errors"] == 0 for c in cells)
    table = (tmp_path / "out" / "performance.md").read_text()
    rows = re.findall(r"^\| (analyst-zipf|point-zipf) \| (\d+) \| ([\d.,]+)", table, re.M)
    assert len(rows) == 4 and all(float(qps.replace(",", "")) > 0 for *_, qps in rows)
    assert (tmp_path / "out" / "performance.svg").read_text().lstrip().startswith("<?xml")
