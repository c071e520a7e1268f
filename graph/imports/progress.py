"""What an import shows while it runs: reading the file, then writing its quads.

An import spends most of its time in the store's transaction, after the last row is
read (on disk, about nine tenths of it for the CBP table), so a bar of rows read alone
would stand at 100 % while the work goes on unseen. Two phases are shown instead, each
true to what is known:

* **reading** -- bytes of the file read, rows checked and turned into quads (the total is
  the file's size, compressed size for gzip);
* **writing** -- the quads, handed to the store in one transaction. What happens inside it
  cannot be seen, so the bar stays at 0 with its clock running and reaches 100 % when the
  transaction has committed and been flushed to disk, never before.

The same events go to an optional observer ``(phase, done, total)``, which is how the
tests hold the bars to the store's actual state.
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyoxigraph import Quad

#: ``(phase, done, total)``: phase "reading" (bytes) or "writing" (quads)
Observer = Callable[[str, int, int], None]
#: how often the writing bar's clock is redrawn while the transaction runs
TICK_SECONDS = 0.5


class ImportProgress:
    """The two bars of one import on stderr (by default only on a terminal)."""

    def __init__(self, path: Path, show: bool | None = None,
                 observe: Observer | None = None) -> None:
        from tqdm import tqdm

        self.path, self.observe = path, observe
        self.enabled = sys.stderr.isatty() if show is None else show
        self.total = path.stat().st_size
        self.done = 0
        self.quads = 0
        self.bar: Any = tqdm(total=self.total, unit="B", unit_scale=True, unit_divisor=1024,
                             desc=f"{path.name}: reading", disable=not self.enabled,
                             file=sys.stderr, leave=True, dynamic_ncols=True)

    def read(self, n: int) -> None:
        """``n`` more bytes of the file were read."""
        self.done += n
        self.bar.update(n)
        self._tell("reading", self.done, self.total)

    def rows(self, count: int) -> None:
        """Rows read so far, shown beside the bytes."""
        self.bar.set_postfix_str(f"{count:,} rows", refresh=False)

    def counted(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        """``quads`` passed through, counted; their end is the end of reading, when the
        store begins the transaction (it takes every quad before it writes)."""
        for quad in quads:
            self.quads += 1
            yield quad
        self.writing()

    def writing(self) -> None:
        """Reading is done: the bar of the transaction, at 0 of the quads counted."""
        from tqdm import tqdm

        self.bar.update(self.total - self.done)
        self._tell("reading", self.total, self.total)
        self.done = self.total
        self.bar.close()
        self.bar = tqdm(total=self.quads, unit=" quads", unit_scale=True,
                        desc=f"{self.path.name}: writing (one transaction)",
                        disable=not self.enabled, file=sys.stderr, leave=True,
                        dynamic_ncols=True)
        self._tell("writing", 0, self.quads)

    def written(self) -> None:
        """The transaction committed: the writing bar at 100 %."""
        self.bar.update(self.quads - self.bar.n)
        self._tell("writing", self.quads, self.quads)

    @contextmanager
    def ticking(self) -> Iterator[None]:
        """Redraw the current bar every :data:`TICK_SECONDS` while the caller waits on
        the store, so its clock tells how long the transaction has been running."""
        stop = threading.Event()

        def tick() -> None:
            while not stop.wait(TICK_SECONDS):
                self.bar.refresh()

        ticker = threading.Thread(target=tick, daemon=True, name="borderkg-import-progress")
        if self.enabled:
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker.is_alive():
                ticker.join()

    def close(self) -> None:
        self.bar.close()

    def _tell(self, phase: str, done: int, total: int) -> None:
        if self.observe is not None:
            self.observe(phase, done, total)
