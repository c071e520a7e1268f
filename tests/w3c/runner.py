"""Running one test of the suite against one server, over HTTP only.

Every server is judged the same way: its dataset is replaced by the test's data (one
Graph Store PUT of the whole dataset, which also clears what the previous test left),
the query or update is sent as ``application/sparql-query`` / ``application/sparql-update``
and the answer is read back and compared as :mod:`tests.w3c.results` describes.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox
import requests
from rdflib import Graph

from tests.w3c.manifest import W3C_BASE, Case, GraphFile, local_path
from tests.w3c.rdf import (
    Names,
    by_graph,
    dataset_quads,
    media_type,
    nquads,
    parse_answer,
    parse_rdf,
    read_answer,
)
from tests.w3c.results import Answer, compare, rename
from tests.w3c.texts import (
    from_graphs,
    outbound_to_loopback,
    renamed,
    top_level_order,
    with_base,
)

TIMEOUT = 60
ACCEPT = {".srx": "application/sparql-results+xml", ".srj": "application/sparql-results+json",
          ".tsv": "text/tab-separated-values", ".csv": "text/csv"}
GRAPH_ACCEPT = "application/n-triples"
RESULTS_ACCEPT = "application/sparql-results+json"
#: a syntax test may be of any query form
ANY_ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9, */*;q=0.1"


class Failed(Exception):
    """A test did not pass; the message says why."""


@dataclass(frozen=True)
class Target:
    """Where one server answers: its SPARQL query and update endpoints and its Graph Store
    (whose bare path, without ``graph``/``default``, is the whole dataset)."""

    label: str
    base: str
    query: str
    update: str
    store: str
    token: str = ""

    def url(self, path: str) -> str:
        return self.base + path

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class Context:
    """What every lane shares: the address where nothing listens and the servers that play
    remote SERVICE endpoints (one federated test at a time may use them)."""

    dead: str
    endpoints: list[Target] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(frozen=True)
class Outcome:
    case: str
    group: str
    target: str
    passed: bool
    reason: str
    seconds: float


class Lane:
    """One server and a session to it; cases run one after the other (they share a store)."""

    def __init__(self, target: Target, context: Context) -> None:
        self.target, self.context = target, context
        self.session = requests.Session()

    def run(self, case: Case, judge: Callable[[Lane, Case], None]) -> Outcome:
        started = time.monotonic()
        try:
            judge(self, case)
            passed, reason = True, ""
        except Failed as failure:
            passed, reason = False, str(failure)
        except (requests.RequestException, ValueError, SyntaxError, KeyError) as error:
            passed, reason = False, f"{type(error).__name__}: {error}"
        return Outcome(case.id, case.group, self.target.label, passed, reason[:400],
                       time.monotonic() - started)

    # -- protocol helpers ---------------------------------------------------------------

    def put_dataset(self, quads: list[ox.Quad], target: Target | None = None) -> None:
        """Replace the whole dataset (an empty list clears it)."""
        target = target or self.target
        response = self.session.put(target.url(target.store), data=nquads(quads),
                                    headers={"Content-Type": "application/n-quads",
                                             **target.auth()}, timeout=TIMEOUT)
        if response.status_code >= 300:
            raise Failed(f"loading the test data: {response.status_code} {response.text[:200]}")

    def dump(self) -> list[ox.Quad]:
        """The whole dataset, read back through the Graph Store."""
        response = self.session.get(self.target.url(self.target.store), timeout=TIMEOUT,
                                    headers={"Accept": "application/n-quads",
                                             **self.target.auth()})
        if response.status_code != 200:
            raise Failed(f"reading the dataset back: {response.status_code}")
        return parse_rdf(response.content, response.headers.get("Content-Type"))

    def query(self, text: str | bytes, accept: str) -> requests.Response:
        return self.session.post(
            self.target.url(self.target.query), data=_utf8(text), timeout=TIMEOUT,
            headers={"Content-Type": "application/sparql-query", "Accept": accept})

    def update(self, text: str | bytes) -> requests.Response:
        return self.session.post(
            self.target.url(self.target.update), data=_utf8(text), timeout=TIMEOUT,
            headers={"Content-Type": "application/sparql-update", **self.target.auth()})


def _utf8(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _refusal(response: requests.Response) -> str:
    return f"{response.status_code} {' '.join(response.text.split())[:300]}"


def source_text(iri: str, dead: str, names: Names | None = None) -> str:
    """A test's query or update as sent: its own text, with BASE and loopback services."""
    text = local_path(iri).read_text(encoding="utf-8")
    text = renamed(text, names or {})
    return with_base(outbound_to_loopback(text, iri, names or {}, dead), iri)


# -- query and update evaluation ---------------------------------------------------------

def _dataset_files(case: Case, text: str) -> tuple[GraphFile, ...]:
    """The test's data, plus each FROM graph of the suite as a named graph of its own."""
    named = {f.graph for f in case.data}
    wanted = dict.fromkeys(from_graphs(text, case.query or ""))
    extra = tuple(GraphFile(iri, iri) for iri in wanted
                  if iri not in named and iri.startswith(W3C_BASE) and local_path(iri).is_file())
    return case.data + extra


def _answer(lane: Lane, text: str, expected_suffix: str, expected: Answer) -> Answer:
    accept = ACCEPT.get(expected_suffix) or (
        GRAPH_ACCEPT if isinstance(expected, Graph) else RESULTS_ACCEPT)
    response = lane.query(text, accept)
    if response.status_code != 200:
        raise Failed(f"query refused: {_refusal(response)}")
    try:
        return parse_answer(response.content, response.headers.get("Content-Type"))
    except (ValueError, SyntaxError, KeyError) as error:
        raise Failed(f"unreadable {media_type(response.headers.get('Content-Type'))} answer:"
                     f" {error}") from error


def evaluate_query(lane: Lane, case: Case, names: Names | None = None) -> None:
    """QueryEvaluationTest / CSVResultFormatTest: the answer must be the expected one."""
    assert case.query and case.result
    original = local_path(case.query).read_text(encoding="utf-8")
    lane.put_dataset(dataset_quads(_dataset_files(case, original), names))
    expected = rename(read_answer(case.result), names or {})
    actual = _answer(lane, source_text(case.query, lane.context.dead, names),
                     local_path(case.result).suffix, expected)
    problem = compare(expected, actual, top_level_order(original))
    if problem:
        raise Failed(problem)


def evaluate_federated(lane: Lane, case: Case) -> None:
    """A SERVICE test: each endpoint it names is played by a loopback server holding the
    endpoint's data, and the endpoint IRIs are renamed alike in query, data and answer."""
    with lane.context.lock:
        if len(case.service_data) > len(lane.context.endpoints):
            raise Failed("more SERVICE endpoints than the runner started")
        pairs = list(zip(case.service_data, lane.context.endpoints, strict=False))
        names = {iri: endpoint.url(endpoint.query) for (iri, _), endpoint in pairs}
        for (_, files), endpoint in pairs:
            lane.put_dataset(dataset_quads(files, names), endpoint)
        evaluate_query(lane, case, names)


def evaluate_update(lane: Lane, case: Case) -> None:
    """UpdateEvaluationTest: afterwards, every graph must be the expected one."""
    assert case.query
    lane.put_dataset(dataset_quads(case.data))
    response = lane.update(source_text(case.query, lane.context.dead))
    if response.status_code >= 300:
        raise Failed(f"update refused: {_refusal(response)}")
    expected, actual = by_graph(dataset_quads(case.result_data)), by_graph(lane.dump())
    if set(expected) != set(actual):
        raise Failed(f"graphs after the update: expected {_names(expected)}, "
                     f"got {_names(actual)}")
    for name, graph in expected.items():
        problem = compare(graph, actual[name])
        if problem:
            raise Failed(f"graph {name or 'DEFAULT'}: {problem}")


def _names(graphs: Mapping[str | None, object]) -> str:
    return str(sorted(name or "DEFAULT" for name in graphs))


# -- syntax ------------------------------------------------------------------------------

def check_syntax(lane: Lane, case: Case) -> None:
    """Positive tests must be accepted (a 5xx after parsing, e.g. an unreachable LOAD
    source, still accepts the text); negative ones refused with 400 Bad Request.

    The text is run, as a client's would be, on an empty dataset: over HTTP the answer
    to a text is the only sign of whether it parsed.
    """
    assert case.query
    lane.put_dataset([])
    text: str | bytes
    try:
        text = source_text(case.query, lane.context.dead)
    except UnicodeDecodeError:
        text = local_path(case.query).read_bytes()
    is_update = "Update" in case.kind
    response = lane.update(text) if is_update else lane.query(text, ANY_ACCEPT)
    if case.kind.startswith("Positive") and 400 <= response.status_code < 500:
        raise Failed(f"valid text refused: {_refusal(response)}")
    if case.kind.startswith("Negative") and response.status_code != 400:
        raise Failed(f"invalid text not refused with 400: {_refusal(response)}")
