"""Import progress tells the truth, and an unchanged file is answered from its record.

The bars are held to the store's actual state: the writing phase reaches 100 % only when
the store holds every quad, and the bars together cover the import's time. A second
import of the same bytes is a look-up in the provenance graph."""
from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from graph.imports.cbp import GRAPH, IMPORTER, import_cbp
from graph.imports.common import Importer, previous_import
from graph.imports.usbp import import_usbp_monthly
from graph.store.oxigraph import OxigraphStore
from tests.conftest import CBP_STATE_CSV, USBP_MONTHLY

DATA = Path(__file__).parent / "data"
OBSERVATIONS = (f"SELECT (COUNT(?o) AS ?n) WHERE {{ GRAPH <{GRAPH}> "
                "{ ?o a <http://purl.org/linked-data/cube#Observation> } }")
#: rows of the real table the observer test imports
ROWS = 5_000
#: "[00:25<00:00" in a tqdm line: the bar's elapsed minutes and seconds
ELAPSED = re.compile(r"\[(\d+):(\d\d)<")


def borderkg(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    return subprocess.run([sys.executable, "-m", "server.cli", *args, "--data-dir",
                           str(data_dir)], env=env, capture_output=True, text=True,
                          timeout=600)


def observations(store: Any) -> int:
    return int(next(iter(store.query(OBSERVATIONS)))["n"].value)


def test_writing_reaches_100_percent_only_when_the_store_holds_every_quad(
        tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "store")
    events: list[tuple[str, int, int, int | None]] = []

    def observe(phase: str, done: int, total: int) -> None:
        held = store.count() if phase == "writing" else None
        events.append((phase, done, total, held))

    # the real table's first rows (the whole table is imported by the CLI test below)
    sample = tmp_path / "cbp-head.csv"
    with CBP_STATE_CSV.open(encoding="utf-8") as source:
        head = itertools.islice(source, ROWS + 1)
        sample.write_text("".join(head), encoding="utf-8")
    try:
        report = import_cbp(store, sample, progress=False, observe=observe)
        reading = [e for e in events if e[0] == "reading"]
        writing = [e for e in events if e[0] == "writing"]
        size = sample.stat().st_size
        assert events.index(writing[0]) == len(reading)  # all reading, then all writing
        assert [done for _, done, _, _ in reading] == sorted(done for _, done, _, _ in reading)
        assert reading[-1][1:3] == (size, size) and {e[2] for e in reading} == {size}
        # 0 while the transaction runs (nothing held yet), 100 % once every quad is held
        assert writing == [("writing", 0, report.quads, 0),
                           ("writing", report.quads, report.quads, report.quads)]
        assert observations(store) == report.rows == ROWS
    finally:
        store.close()


def bar_states(stderr: str, phase: str) -> list[str]:
    return [line for line in re.split(r"[\r\n]", stderr) if f": {phase}" in line]


def elapsed(line: str) -> int:
    minutes, seconds = ELAPSED.search(line).groups()  # type: ignore[union-attr]
    return int(minutes) * 60 + int(seconds)


def test_the_cli_bars_cover_the_import_and_an_unchanged_file_is_quick(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = borderkg("import", "cbp-encounters", str(CBP_STATE_CSV), "--progress",
                     "--format", "json", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["already_imported"] is False and report["rows"] == 42_532
    reading, writing = bar_states(first.stderr, "reading"), bar_states(first.stderr, "writing")
    assert reading and writing and "100%" in reading[-1] and " 0%" in writing[0]
    complete = ["100%" in line for line in writing]
    assert complete == sorted(complete) and complete[-1]  # 0 % until it is 100 %
    last = [line for line in re.split(r"[\r\n]", first.stderr) if "%|" in line][-1]
    assert last == writing[-1]  # the last word of the bars is the commit's 100 %
    covered = elapsed(reading[-1]) + elapsed(writing[-1])
    print(f"\nfirst import {report['seconds']:.1f} s; bars: reading {elapsed(reading[-1])} s "
          f"+ writing {elapsed(writing[-1])} s")
    assert covered >= 0.8 * report["seconds"] - 2  # tqdm shows whole seconds

    started = time.perf_counter()
    second = borderkg("import", "cbp-encounters", str(CBP_STATE_CSV), data_dir=data_dir)
    wall = time.perf_counter() - started
    assert second.returncode == 0, second.stderr
    assert "unchanged since its import at" in second.stdout
    assert f"importer {IMPORTER.name} {IMPORTER.version}" in second.stdout
    print(f"second import (unchanged): {wall:.2f} s wall, command included")
    assert wall < 5
    assert second.stderr == ""  # no bars off a terminal without --progress


def test_the_same_bytes_under_another_name_are_unchanged(tmp_path: Path) -> None:
    store = OxigraphStore(None)
    first = import_cbp(store, DATA / "cbp-aor-sample.csv", progress=False)
    renamed = tmp_path / "renamed.csv"
    shutil.copy(DATA / "cbp-aor-sample.csv", renamed)
    quads = sorted(map(str, store.quads()))
    again = import_cbp(store, renamed, progress=False)
    assert (first.already_imported, again.already_imported) == (False, True)
    assert (again.rows, again.observations, again.quads) == (6, 0, 0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|\+00:00)",
                        again.details["imported_at"])
    assert sorted(map(str, store.quads())) == quads


def test_a_dropped_graph_or_a_new_importer_version_imports_again() -> None:
    store = OxigraphStore(None)
    path = DATA / "cbp-aor-sample.csv"
    first = import_cbp(store, path, progress=False)
    dataset = first.dataset
    assert previous_import(store, IMPORTER, first.sha256, dataset, GRAPH) is not None
    newer = Importer(IMPORTER.name, IMPORTER.version + 1)
    assert previous_import(store, newer, first.sha256, dataset, GRAPH) is None
    store.drop_graph(GRAPH)
    assert previous_import(store, IMPORTER, first.sha256, dataset, GRAPH) is None
    again = import_cbp(store, path, progress=False)
    assert not again.already_imported and observations(store) == 6
    # the import time stays the first one: one activity, one end
    ends = list(store.query("SELECT ?t WHERE { ?a <http://www.w3.org/ns/prov#endedAtTime> ?t }"))
    assert len(ends) == 1


def test_usbp_unchanged_and_its_progress() -> None:
    store = OxigraphStore(None)
    events: list[tuple[str, int, int]] = []
    first = import_usbp_monthly(store, USBP_MONTHLY, progress=False,
                                observe=lambda *event: events.append(event))
    assert events[-1] == ("writing", first.quads, first.quads)
    assert ("reading", USBP_MONTHLY.stat().st_size, USBP_MONTHLY.stat().st_size) in events
    started = time.perf_counter()
    second = import_usbp_monthly(store, USBP_MONTHLY, progress=False)
    assert second.already_imported and time.perf_counter() - started < 1
