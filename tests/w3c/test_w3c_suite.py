"""The official W3C SPARQL 1.1 test suite over HTTP: BorderKG beside ``oxigraph serve``.

Every test of ``../shared/w3c/sparql11/manifest-all.ttl`` runs against each server; the
table (groups x servers, pass/total) goes to the run's closing summary. BorderKG must pass
at least as many tests as the reference in every group, both in the configuration the
suite assumes (the default graph is only the default graph, SERVICE and LOAD may reach
loopback) and in its default configuration (union default graph; SERVICE and LOAD turned
on by their documented settings); entailment is reported only.

``-m w3c`` selects this module. ``BORDERKG_W3C_GROUPS`` (comma-separated group names)
runs part of the suite, ``BORDERKG_W3C_REPORT`` (a path) writes every outcome as JSON,
``BORDERKG_W3C_DEFAULT_CONFIG=0`` leaves out BorderKG's default configuration and
``BORDERKG_W3C_STORE`` picks BorderKG's store (default ``disk``).
"""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import report_family
from tests.w3c.conftest import DEFAULT, DEFAULT_CONFIG, JUDGED, REFERENCE
from tests.w3c.manifest import EXCLUDED_APPROVALS, GROUPS, REPORT_ONLY, Case, load_cases
from tests.w3c.runner import Context, Outcome, Target
from tests.w3c.suite import behind, passes, run_suite, runnable, table, write_report

pytestmark = [pytest.mark.w3c, pytest.mark.timeout(900)]

#: BorderKG as the suite assumes a server (union off, SERVICE to loopback) and as users get it
CONFIGURATIONS = [JUDGED, *([DEFAULT] if DEFAULT_CONFIG else [])]

SELECTED = {g.strip() for g in os.environ.get("BORDERKG_W3C_GROUPS", "").split(",") if g.strip()}
REPORT = os.environ.get("BORDERKG_W3C_REPORT")


@dataclass(frozen=True, repr=False)
class Run:
    """One run of the suite: the tests, every outcome, the servers' column labels."""

    cases: list[Case]
    outcomes: list[Outcome]
    labels: list[str]

    def __repr__(self) -> str:
        return f"Run({len(self.cases)} tests x {self.labels})"


@pytest.fixture(scope="module")
def suite_run(w3c_servers: tuple[list[Target], Context]) -> Run:
    """The whole suite, once per module, every server side by side."""
    targets, context = w3c_servers
    every = load_cases()
    cases = runnable(every, SELECTED or None)
    started = time.monotonic()
    outcomes = run_suite(cases, targets, context)
    labels = [t.label for t in targets]
    left_out = Counter(c.approval for c in every if c.approval in EXCLUDED_APPROVALS)
    report_family(f"W3C SPARQL 1.1 suite, pass/total ({len(cases)} tests, "
                  f"{time.monotonic() - started:.0f} s; left out: {dict(left_out) or 'none'})")
    for line in table(cases, outcomes, labels):
        report_family(line)
    for label in CONFIGURATIONS:
        lagging = [o for o in behind(outcomes, label, REFERENCE) if o.group not in REPORT_ONLY]
        report_family(f"{label}: {len(lagging)} failing where oxigraph serve passes")
    if REPORT:
        write_report(Path(REPORT), outcomes)
    return Run(cases, outcomes, labels)


def test_every_test_ran_on_every_server(suite_run: Run) -> None:
    ran = Counter(o.target for o in suite_run.outcomes)
    assert ran == {label: len(suite_run.cases) for label in suite_run.labels}


@pytest.mark.parametrize("label", CONFIGURATIONS)
@pytest.mark.parametrize("group", [g for g in GROUPS if g not in REPORT_ONLY])
def test_borderkg_passes_as_many_as_oxigraph(suite_run: Run, group: str, label: str) -> None:
    passed = passes(suite_run.outcomes)
    lagging = [o for o in behind(suite_run.outcomes, label, REFERENCE) if o.group == group]
    assert passed[group, label] >= passed[group, REFERENCE], (
        f"{group}: {label} {passed[group, label]}, oxigraph serve "
        f"{passed[group, REFERENCE]}; failing where oxigraph passes:\n"
        + "\n".join(f"  {o.case}: {o.reason}" for o in lagging))
