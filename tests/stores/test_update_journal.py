"""Crash atomicity of updates on disk: a process killed in the middle of a request leaves,
once the store is opened again, the dataset entirely before or entirely after it.

A child process opens ``OxigraphStore(path)`` and runs one long request (five operations,
each adding or removing a few thousand quads: INSERT DATA into named graphs and the default
graph, DELETE WHERE, DELETE/INSERT WHERE), printing ``opened`` before and ``acknowledged``
after ``update`` returns. It is killed with SIGKILL at a different moment each round, from
just after opening to after the acknowledgement. The test process then opens the store
(which undoes a journalled request that did not finish) and checks: the real quads are
those before the request or those after it (the oracle: a plain pyoxigraph store running
the same request), after it whenever the child acknowledged it, the merge equals the set of
real triples, and no journal file is left.

``BORDERKG_CRASH_KILLS`` sets the number of kills (default 15).
"""
from __future__ import annotations

import gc
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pyoxigraph import Quad
from pyoxigraph import Store as Engine

from graph.store.oxigraph import OxigraphStore
from tests.conftest import ROOT, report_family

from .dataset_oracle import PREFIX, assert_merge, real_quads

KILLS = int(os.environ.get("BORDERKG_CRASH_KILLS", "15"))
SIZE = 500  # subjects per operation (each with one or two quads)

CHILD = """
import sys, time
from pathlib import Path
from graph.store.oxigraph import OxigraphStore
store = OxigraphStore(Path(sys.argv[1]))
text = Path(sys.argv[2]).read_text()
print("opened", flush=True)
store.update(text)
print("acknowledged", flush=True)
time.sleep(30)
"""


def request(round_: int) -> str:
    """Round ``round_``'s request: five operations, a few thousand quads each."""
    tag, prev = f"ex:r{round_}", f"ex:r{round_ - 1}"
    named = " ".join(f"ex:s{round_}_{k} ex:round {tag} ; ex:v {k} ." for k in range(SIZE // 2))
    # the same triples again in the default graph (the merge holds them once), and more
    default = " ".join(f"ex:s{round_}_{k} ex:round {tag} ; ex:v {k} ." for k in range(SIZE))
    other = " ".join(f"ex:t{round_}_{k} ex:w \"{k}\" ." for k in range(SIZE))
    return PREFIX + " ;\n".join([
        f"INSERT DATA {{ GRAPH ex:ga {{ {named} }} }}",
        f"INSERT DATA {{ {default} }}",
        f"DELETE WHERE {{ GRAPH ?g {{ ?s ex:round {prev} ; ?p ?o }} }}",
        f"DELETE {{ ?s ex:v ?o }} INSERT {{ GRAPH ex:gb {{ ?s ex:w ?o }} }} "
        f"WHERE {{ ?s ex:round {prev} ; ex:v ?o }}",
        f"INSERT DATA {{ GRAPH ex:gc {{ {other} }} }}",
    ])


def expected_after(before: set[Quad], text: str) -> set[Quad]:
    engine = Engine()
    engine.extend(before)
    engine.update(text)
    return set(engine)


class Child:
    """The child process running one request; its output lines are read as they come."""

    def __init__(self, path: Path, text_file: Path) -> None:
        self.lines: list[str] = []
        self.opened = threading.Event()
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), str(text_file)], cwd=ROOT,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.strip())
            if line.startswith("opened"):
                self.opened.set()

    def kill(self) -> bool:
        """SIGKILL the child; whether it had acknowledged its request."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        self.reader.join(10)
        stderr = self.process.stderr.read() if self.process.stderr else ""
        assert "Traceback" not in stderr, stderr[-2000:]
        return "acknowledged" in self.lines


def reopen_and_check(path: Path, before: set[Quad], after: set[Quad], acked: bool) -> str:
    """Open the store; its state (``before``/``after``), checked as the module says."""
    store = OxigraphStore(path)
    try:
        journal = path.with_name(path.name + ".journal")
        assert not journal.exists(), "journal left after opening"
        now = real_quads(store)
        assert now in (before, after), (
            f"between: {len(before)} before, {len(after)} after, {len(now)} now")
        if acked:
            assert now == after, "an acknowledged request was lost"
        assert_merge(store, "after a kill")
        return "after" if now == after else "before"
    finally:
        store.close()
        del store
        gc.collect()


def test_killed_update_is_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store"
    journal = path.with_name(path.name + ".journal")
    store = OxigraphStore(path)
    store.update(request(0))
    before = real_quads(store)
    store.close()
    del store
    gc.collect()

    # one run to the end: how long a request takes, and that the oracle agrees
    text_file = tmp_path / "request.ru"
    text_file.write_text(request(1))
    after = expected_after(before, request(1))
    child = Child(path, text_file)
    assert child.opened.wait(60), child.lines
    started = time.monotonic()
    while "acknowledged" not in child.lines:
        assert child.process.poll() is None, child.process.stderr.read()  # type: ignore[union-attr]
        assert time.monotonic() - started < 120, "the request did not finish"
        time.sleep(0.005)
    duration = time.monotonic() - started
    assert child.kill()
    assert reopen_and_check(path, before, after, True) == "after"
    before = after

    rng = random.Random(20261201)
    outcomes = {"before": 0, "after": 0}
    acked_count = journal_found = changed = 0
    for kill in range(KILLS):
        round_ = kill + 2
        text = request(round_)
        text_file.write_text(text)
        after = expected_after(before, text)
        assert len(after ^ before) >= 4 * SIZE
        changed = max(changed, len(after ^ before))
        # every other kill spread over the request and a little past its end (after the
        # acknowledgement), the others in its second half, where the journal is written
        share = 1.25 * kill / max(1, KILLS - 1) if kill % 2 == 0 else rng.uniform(0.45, 1.0)
        delay = duration * share * rng.uniform(0.9, 1.1)
        child = Child(path, text_file)
        assert child.opened.wait(60), child.lines
        time.sleep(delay)
        acked = child.kill()
        acked_count += acked
        journal_found += journal.exists()
        state = reopen_and_check(path, before, after, acked)
        outcomes[state] += 1
        if state == "after":
            before = after
    line = (f"update journal: {KILLS} kills of a {duration:.2f} s request "
            f"(changing up to {changed} quads): {outcomes['before']} rolled back to before, "
            f"{outcomes['after']} after ({acked_count} acknowledged, 0 lost), "
            f"{journal_found} with a journal to undo")
    report_family(line)
    # the kills must land both inside the request and after it for the test to mean much
    assert outcomes["before"] > 0 and outcomes["after"] > 0, line
    assert journal_found > 0, line

