"""The judge of the policy fuzzer: what the engine does with the texts the policy admits.

The query-safety policy (``graph.sparql.policy.admit``) is a static check of the text; Oxigraph
parses the text again, by its own rules, and runs ``SERVICE`` and ``LOAD`` with its own
HTTP client, where no Python hook can see it. So whether a text is safe is decided by
what the engine does with it, observed from outside (``_watchers.py``): a loopback
listener that every ``SERVICE``/``LOAD`` target points at, canary files that every
``file:`` target points at, and worker processes (``_workers.py``) that decide and run
each case, so that a segmentation fault kills a worker and is counted.

A ``Judge`` is one fuzz family: every text is decided and, when admitted, run; every
connection, open, crash, hang or unexpected exception is attributed to the input that
caused it, and the family's summary line says how many of each there were.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from graph.sparql.text import Kind

from ._watchers import Canary, Listener
from ._workers import Outcome, Reply, WorkerPool

#: crashes, and hangs, per family after which admitted texts are no longer run: each costs
#: a worker restart (a hang also its timeout), and the first one already fails the family
MAX_CRASHES, MAX_HANGS = 20, 2
#: suspects of a connection or an open that are run again alone to find the culprit
MAX_CONFIRMATIONS = 40


@dataclass(frozen=True)
class Case:
    """One generated text and what it claims to be."""

    family: str
    kind: Kind
    text: str
    #: a dangerous clause the generator wrote in a real position ("" when none): if the
    #: engine parses the text unchanged, the policy must not have admitted it
    planted: str = ""
    #: the text the engine ran, when the policy rewrote ``text``
    rewritten: str = ""


@dataclass(frozen=True)
class Failure:
    """An input that broke an invariant, and how."""

    what: str
    case: Case

    def __str__(self) -> str:
        shown = f"{self.what} [{self.case.family} {self.case.kind}]: {_short(self.case.text)}"
        if self.case.rewritten:
            shown += f"\n      run as: {_short(self.case.rewritten)}"
        return shown


def _short(text: str) -> str:
    return repr(text if len(text) <= 400 else text[:300] + f"... ({len(text):,} chars)")


@dataclass
class World:
    """What every family shares: the base IRI, the watchers and the workers."""

    base: str
    listener: Listener
    canary: Canary
    pool: WorkerPool


@dataclass
class Judge:
    """One fuzz family: every text through the policy, admitted ones through the engine."""

    world: World
    family: str
    #: the policy's entry point: ``admit``, ``admit_request``, or ``open`` (admits all)
    policy: str = "admit"
    #: the settings the policy decides with: ``default`` or ``allow-localhost``
    profile: str = "default"
    cases: int = 0
    admitted: int = 0
    refused: int = 0
    #: listener hits, calls to an allowed host and canary opens during the family
    hits: int = 0
    allowed_calls: int = 0
    opens: int = 0
    #: admitted texts the policy rewrote before the engine ran them
    rewritten: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._start = (self.world.listener.hits, self.world.listener.allowed_hits,
                       self.world.canary.opens)
        self.world.pool.suspects.clear()

    def __call__(self, kind: Kind, text: str, planted: str = "") -> None:
        self.cases += 1
        case = Case(self.family, kind, text, planted)
        self.world.pool.submit(self._request(case), case, lambda r: self._done(case, r),
                               self._worth_running)

    def _request(self, case: Case) -> dict[str, str]:
        return {"op": "case", "kind": case.kind, "text": case.text, "policy": self.policy,
                "profile": self.profile}

    def _worth_running(self) -> bool:
        return (self.outcomes.get("crash", 0) < MAX_CRASHES
                and self.outcomes.get("hang", 0) < MAX_HANGS)

    def _done(self, case: Case, reply: Reply) -> None:
        with self._lock:
            if reply.verdict is None:  # the worker died or hung while the policy decided
                self._count(reply.outcome or Outcome("abnormal"))
                self._fail(f"policy {self._what(reply.outcome)}", case)
            elif not reply.verdict.admitted:
                self.refused += 1
                if reply.verdict.unexpected:
                    self._fail(f"the policy raised {reply.verdict.detail}", case)
            else:
                self.admitted += 1
                self._judge(replace(case, rewritten=reply.verdict.rewritten), reply.outcome)

    def _judge(self, case: Case, outcome: Outcome | None) -> None:
        """An admitted case: the engine must have answered or refused it normally, and a
        planted clause must not have been parsed."""
        outcome = outcome or Outcome("abnormal", "no outcome")
        self._count(outcome)
        if case.rewritten:
            self.rewritten += 1
        if outcome.status == "not-run":
            return
        if outcome.status not in ("answer", "error"):
            self._fail(f"engine {self._what(outcome)}", case)
        elif case.planted and not case.rewritten and not outcome.detail.startswith("SyntaxError"):
            self._fail(f"admitted {case.planted!r}, which the engine parsed as a real clause",
                       case)

    def _count(self, outcome: Outcome) -> None:
        key = outcome.status if outcome.status != "not-run" else f"not run ({outcome.detail})"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    @staticmethod
    def _what(outcome: Outcome | None) -> str:
        return f"{outcome.status} ({outcome.detail})" if outcome else "gave no answer"

    def _fail(self, what: str, case: Case) -> None:
        failure = Failure(what, case)
        if failure not in self.failures:
            self.failures.append(failure)

    def finish(self) -> str:
        """Wait for the workers, find who caused each connection and open, and return the
        family's summary line."""
        self.world.pool.drain()
        self.world.canary.settle()
        hits, allowed, opens = self._start
        self.hits = self.world.listener.hits - hits
        self.allowed_calls = self.world.listener.allowed_hits - allowed
        self.opens = self.world.canary.opens - opens
        if self.hits or self.opens:
            self._confirm([c for c in self.world.pool.suspects if c.family == self.family])
        return self.summary()

    def _confirm(self, suspects: list[Case]) -> None:
        """Run each suspect alone: first the policy only (which may call the engine
        itself), then the policy and the engine."""
        found = False
        for case in suspects[:MAX_CONFIRMATIONS]:
            for runs, who in ((False, "the policy"), (True, "the engine")):
                if self._reaches_out(case, runs):
                    found = True
                    self._fail(f"{who} connected to the listener or opened a canary file",
                               case)
                    break
        if not found:
            for case in suspects:
                self._fail("sent shortly before an unattributed connection or open", case)

    def _reaches_out(self, case: Case, runs: bool) -> bool:
        before = self.world.listener.hits, self.world.canary.opens
        self.world.pool.submit(self._request(case), case, lambda _reply: None, lambda: runs)
        self.world.pool.drain()
        self.world.canary.settle()
        return (self.world.listener.hits, self.world.canary.opens) != before

    def summary(self) -> str:
        line = (f"policy fuzz {self.family}: {self.cases} cases, {self.admitted} admitted, "
                f"{self.refused} refused, {self.hits} listener hits, {self.opens} canary "
                f"opens, {self.outcomes.get('crash', 0)} crashes")
        extras = {"calls to the allowed host": self.allowed_calls,
                  "rewritten by the policy": self.rewritten,
                  "hangs": self.outcomes.get("hang", 0),
                  "abnormal errors": self.outcomes.get("abnormal", 0),
                  **{key: n for key, n in self.outcomes.items() if key.startswith("not run")}}
        return line + "".join(f", {n} {what}" for what, n in extras.items() if n)

    @property
    def clean(self) -> bool:
        return not (self.failures or self.hits or self.opens)

    def explain(self, directory: Path | None = None) -> str:
        """The family's summary and its first failures, for an assertion message; with
        ``directory``, every failing input is also written there whole, one JSON object
        a line (the message shows long texts cut)."""
        shown = "\n".join(f"  {failure}" for failure in self.failures[:12])
        more = len(self.failures) - 12
        text = f"{self.summary()}\n{shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        if directory is not None and self.failures:
            text += f"\n  every failing input: {self._save(directory)}"
        return text

    def _save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / (re.sub(r"[^\w.-]+", "-", self.family) + ".jsonl")
        with path.open("w", encoding="utf-8") as out:
            for failure in self.failures:
                out.write(json.dumps({"what": failure.what, **asdict(failure.case)}) + "\n")
        return path
