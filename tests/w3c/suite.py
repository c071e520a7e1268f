"""The whole suite against several servers at once, and the table of its results.

Each server gets one lane (a thread) that runs every test in manifest order, so a
server's store only ever sees one test at a time while the servers work side by side.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from tests.w3c.exchanges import describe_service, run_exchanges
from tests.w3c.manifest import EXCLUDED_APPROVALS, GROUPS, Case
from tests.w3c.runner import (
    Context,
    Lane,
    Outcome,
    Target,
    check_syntax,
    evaluate_federated,
    evaluate_query,
    evaluate_update,
)

Judge = Callable[[Lane, Case], None]


def judge_of(case: Case) -> Judge:
    """How a test is run, by its type."""
    if "Syntax" in case.kind:
        return check_syntax
    if case.kind in ("ProtocolTest", "GraphStoreProtocolTest"):
        return run_exchanges
    if case.kind == "ServiceDescriptionTest":
        return describe_service
    if case.kind == "UpdateEvaluationTest":
        return evaluate_update
    if case.directory == "service":
        return evaluate_federated
    if case.kind in ("QueryEvaluationTest", "CSVResultFormatTest"):
        return evaluate_query
    raise ValueError(f"no runner for {case.kind} ({case.id})")


def runnable(cases: Iterable[Case], groups: set[str] | None = None) -> list[Case]:
    """The tests that count: withdrawn and rejected ones are left out for every server."""
    return [c for c in cases if c.approval not in EXCLUDED_APPROVALS
            and (groups is None or c.group in groups)]


def run_lane(target: Target, context: Context, cases: Sequence[Case]) -> list[Outcome]:
    lane = Lane(target, context)
    return [lane.run(case, judge_of(case)) for case in cases]


def run_suite(cases: Sequence[Case], targets: Sequence[Target],
              context: Context) -> list[Outcome]:
    """Every case on every target, the targets in parallel."""
    with ThreadPoolExecutor(max_workers=len(targets)) as pool:
        lanes = [pool.submit(run_lane, target, context, cases) for target in targets]
        return [outcome for lane in lanes for outcome in lane.result()]


def passes(outcomes: Iterable[Outcome]) -> Counter[tuple[str, str]]:
    """Passed tests per (group, target)."""
    return Counter((o.group, o.target) for o in outcomes if o.passed)


def table(cases: Sequence[Case], outcomes: Sequence[Outcome], labels: Sequence[str]) -> list[str]:
    """The results as Markdown table rows: one row per group, pass/total per server."""
    totals = Counter(c.group for c in cases)
    passed = passes(outcomes)
    rows = ["| group | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for group in GROUPS:
        if totals[group]:
            cells = [f"{passed[group, label]}/{totals[group]}" for label in labels]
            rows.append(f"| {group} | " + " | ".join(cells) + " |")
    return rows


def behind(outcomes: Sequence[Outcome], ours: str, reference: str) -> list[Outcome]:
    """Our failures on tests the reference passes."""
    reference_passed = {o.case for o in outcomes if o.target == reference and o.passed}
    return [o for o in outcomes
            if o.target == ours and not o.passed and o.case in reference_passed]


def write_report(path: Path, outcomes: Sequence[Outcome]) -> None:
    """Every outcome as JSON, for reading a run afterwards."""
    path.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
