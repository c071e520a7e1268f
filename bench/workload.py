"""The benchmark workload: query classes, parameter draws, and a threaded load generator.

Query classes:

* **analyst** — the named queries of ``queries/*.rq`` an analyst runs (totals by fiscal
  year, a monthly series, top-N citizenships, year-over-year growth, the change between two
  months, a demographic split), with their parameters drawn from the data's domains;
* **point** — every triple of one entity (``SELECT ?p ?o``) and ``DESCRIBE`` of it;
* **path** — ``/analyses/path`` between two agencies/countries (BorderKG only);
* **floor** — ``ASK {}``: no data touched, so it measures the HTTP stack and the load
  generator itself — the ceiling no other class can pass.

Every peer is asked the *same SPARQL text* over the SPARQL protocol (GET ``?query=``).
Peers have no named-query API, so a query's parameters become a ``VALUES`` row at the start
of its outer ``WHERE`` — the protocol-level equivalent of BorderKG's bound substitutions.
The values are IRIs and literals from our own manifests, serialised by pyoxigraph.

Parameters are drawn either from a **Zipf** distribution with a seed (popular
citizenships, recent years and the main region come up most, so some requests repeat, as
on a dashboard), or **distinct**: every request of a run has a text no other request had
(parameter combinations enumerated in a seeded order; once exhausted, the ``LIMIT`` grows
so the text still differs).

The load generator uses one thread and one keep-alive ``http.client`` connection per client
(lighter than ``requests``: on two cores the client shares the CPU with the server, and
its own cost caps what the cheapest requests can show — measured as the client ceiling).
"""
from __future__ import annotations

import bisect
import http.client
import itertools
import random
import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from pyoxigraph import Literal, NamedNode

from queries import load_query

JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
XSD = "http://www.w3.org/2001/XMLSchema#"

#: class -> (named query, LIMIT); parameters are bound by the draw functions below
ANALYST: dict[str, tuple[str, int]] = {
    "by-year": ("encounters-by-fiscal-year", 100),
    "monthly": ("monthly-encounters", 500),
    "top-n": ("top-citizenships", 10),
    "growth": ("year-over-year-growth", 100),
    "month-change": ("monthly-change", 100),
    "demographic": ("encounters-by-demographic", 100),
}
POINT = ("lookup", "describe")
MIXES: dict[str, tuple[str, ...]] = {
    "analyst": tuple(ANALYST),
    "point": POINT,
    "path": ("path",),
    "floor": ("ask",),  # ASK {}: the HTTP stack and client alone, the ceiling of any mix
}


@dataclass(frozen=True)
class Request:
    """One HTTP request of the workload."""

    cls: str
    path: str  # path and query string
    accept: str


#: base URL -> (tag, rewrite): a peer that cannot run some of the texts as written
#: registers here the equivalent texts it is sent instead (``bench/peers.py``'s Virtuoso,
#: checked to give the same answers); every other peer gets the workload's texts unchanged
DIALECTS: dict[str, tuple[str, Callable[[Request], Request]]] = {}


def adapt(base: str, request: Request) -> Request:
    """``request`` as the peer at ``base`` is sent it (see :data:`DIALECTS`)."""
    dialect = DIALECTS.get(base)
    return dialect[1](request) if dialect else request


@dataclass
class Domains:
    """Parameter values present in the data (from a ``bench.generate.Manifest``)."""

    citizenships: list[str]
    fiscal_years: list[str]
    months: list[str]
    regions: list[str]
    entities: list[str]
    path_pairs: list[list[str]]
    dataset: str

    @classmethod
    def from_manifest(cls, manifest: Any) -> Domains:
        return cls(manifest.citizenships, manifest.fiscal_years, manifest.months,
                   manifest.regions, manifest.entities, manifest.path_pairs, manifest.dataset)


def bind(text: str, values: dict[str, Any]) -> str:
    """``text`` with one ``VALUES`` row for ``values`` at the start of its outer WHERE."""
    if not values:
        return text
    names = " ".join(f"?{name}" for name in values)
    terms = " ".join(str(term) for term in values.values())
    match = re.search(r"\bWHERE\s*\{", text)
    if match is None:
        raise ValueError("query has no WHERE clause to bind parameters in")
    return f"{text[:match.end()]}\n  VALUES ({names}) {{ ({terms}) }}{text[match.end():]}"


def analyst_text(cls: str, params: dict[str, Any], extra_limit: int = 0) -> str:
    """The named query of ``cls`` with ``params`` bound and its LIMIT."""
    name, limit = ANALYST[cls]
    return f"{bind(load_query(name).text.rstrip(), params)}\nLIMIT {limit + extra_limit}\n"


# -- parameter draws ---------------------------------------------------------------------------
class Zipf:
    """Seeded draws over a ranked list: rank r has weight 1 / r**s."""

    def __init__(self, items: list[Any], s: float = 1.1) -> None:
        self.items = items
        weights = [1.0 / (rank ** s) for rank in range(1, len(items) + 1)]
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> Any:
        x = rng.random() * self.cumulative[-1]
        return self.items[bisect.bisect_left(self.cumulative, x)]


def _params(cls: str, pick: Callable[[str], Any], dataset: str) -> dict[str, Any]:
    """The parameter row of ``cls``; ``pick(domain)`` chooses one value of a domain."""
    params: dict[str, Any] = {"dataset": NamedNode(dataset)}
    if cls == "top-n":
        params["fiscalYear"] = NamedNode(pick("fiscal_years"))
    else:
        params["citizenship"] = NamedNode(pick("citizenships"))
    if cls == "demographic":
        year = pick("fiscal_years").rsplit("fy", 1)[1]
        params["year"] = Literal(year, datatype=NamedNode(XSD + "gYear"))
        return params
    if cls == "month-change":
        first, second = pick("months"), pick("months")
        params["from"], params["to"] = NamedNode(min(first, second)), NamedNode(max(first, second))
    region = pick("region_or_all")
    if region:
        params["region"] = NamedNode(region)
    return params


class Draws:
    """Request factory for one mix, in Zipf or distinct mode."""

    def __init__(self, domains: Domains, mix: str, mode: str, seed: int, salt: int = 0) -> None:
        self.domains, self.mix, self.mode, self.seed = domains, mix, mode, seed
        self.salt = salt  # distinct mode: keeps texts distinct from other cells' too
        self.classes = MIXES[mix]
        lists = {"citizenships": domains.citizenships, "fiscal_years": domains.fiscal_years,
                 "months": domains.months, "region_or_all": ["", *domains.regions],
                 "entities": domains.entities}
        self.zipf = {name: Zipf(values) for name, values in lists.items() if values}
        self.counter = itertools.count()
        self._distinct = self._distinct_stream() if mode == "distinct" else None
        self._lock = threading.Lock()

    def for_client(self, client: int) -> Iterator[Request]:
        rng = random.Random(self.seed * 1000 + client)
        while True:
            if self._distinct is not None:
                with self._lock:
                    yield next(self._distinct)
            else:
                cls = self.classes[rng.randrange(len(self.classes))]
                yield self.request(cls, lambda d: self.zipf[d].draw(rng), rng, 0)

    def _distinct_stream(self) -> Iterator[Request]:
        """Rounds over every class; within a round no parameter row repeats; each round
        raises the LIMIT so a text never repeats across rounds either."""
        rng = random.Random(self.seed)
        for round_ in itertools.count():
            seen: dict[str, set[str]] = {cls: set() for cls in self.classes}
            for _ in range(2000):
                cls = self.classes[rng.randrange(len(self.classes))]
                uniform = lambda d: rng.choice(self.zipf[d].items)  # noqa: E731
                request = self.request(cls, uniform, rng, 1 + self.salt * 100 + round_)
                if request.path not in seen[cls]:
                    seen[cls].add(request.path)
                    yield request

    def request(self, cls: str, pick: Callable[[str], Any], rng: random.Random,
                extra: int) -> Request:
        d = self.domains
        if cls in ANALYST:
            text = analyst_text(cls, _params(cls, pick, d.dataset), extra)
            return Request(cls, "?" + urlencode({"query": text}), JSON)
        if cls == "path":
            source, target = d.path_pairs[rng.randrange(len(d.path_pairs))]
            return Request(cls, "/analyses/path?" + urlencode(
                {"from": source, "to": target, "k": 3, "max_length": 4}), "application/json")
        if cls == "ask":
            return Request(cls, "?" + urlencode({"query": "ASK {}"}), JSON)
        entity = pick("entities")
        if cls == "lookup":
            text = f"SELECT ?p ?o WHERE {{ <{entity}> ?p ?o }}" + (
                f" LIMIT {1000 + extra}" if extra else "")
            return Request(cls, "?" + urlencode({"query": text}), JSON)
        text = f"DESCRIBE <{entity}>" if not extra else \
            f"CONSTRUCT {{ <{entity}> ?p ?o }} WHERE {{ <{entity}> ?p ?o }} LIMIT {1000 + extra}"
        return Request(cls, "?" + urlencode({"query": text}), NTRIPLES)


# -- the load generator ------------------------------------------------------------------------
@dataclass
class Sample:
    cls: str
    seconds: float
    ok: bool
    status: int
    cached: bool = False  # answered from BorderKG's result cache (X-BorderKG-Cache: hit)


@dataclass
class CellResult:
    """What one cell (peer x mix x mode x clients) measured."""

    clients: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.ok]

    @property
    def qps(self) -> float:
        return len(self.ok) / self.seconds if self.seconds else 0.0

    @property
    def cache_hits(self) -> float:
        """Share of successful answers served from the result cache."""
        return sum(s.cached for s in self.ok) / len(self.ok) if self.ok else 0.0

    @property
    def errors(self) -> int:
        return len(self.samples) - len(self.ok)

    def latency(self, cls: str | None = None) -> dict[str, float]:
        """p50 and p99 in milliseconds (of successful requests)."""
        values = sorted(s.seconds for s in self.ok if cls is None or s.cls == cls)
        if not values:
            return {"p50": float("nan"), "p99": float("nan"), "n": 0}
        p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
        return {"p50": statistics.median(values) * 1000, "p99": p99 * 1000, "n": len(values)}

    def classes(self) -> list[str]:
        return sorted({s.cls for s in self.samples})

    def error_statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for s in self.samples:
            if not s.ok:
                counts[s.status] = counts.get(s.status, 0) + 1
        return counts


class Connection:
    """A keep-alive HTTP/1.1 connection to one base URL, reopened after failures.

    ``source`` is the local address to connect from: each client of a cell gets its own
    loopback address (the whole of 127.0.0.0/8 is local on Linux), so that a server which
    shares its workers out by client address (BorderKG's ``client_queries``) sees as many
    clients as the cell has, as it would see several analysts, and not one client sending
    several queries at once.
    """

    def __init__(self, base: str, timeout: float, source: str | None = None) -> None:
        parts = urlsplit(base)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path
        self.timeout = timeout
        self.source = (source, 0) if source else None
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str, accept: str) -> tuple[int, bool]:
        """GET ``prefix + path`` and read the whole body; the status (0 on a failure) and
        whether the answer came from a result cache."""
        target = self.prefix + path if not path.startswith("/analyses") else path
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout,
                                                       source_address=self.source)
            try:
                self.conn.request("GET", target, headers={"Accept": accept})
                response = self.conn.getresponse()
                response.read()
                if response.will_close:
                    self.close()
                return response.status, response.getheader("X-BorderKG-Cache") == "hit"
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    return 0, False
        return 0, False

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def client_address(base: str, client: int) -> str | None:
    """The loopback address client number ``client`` connects from (None: the system's
    choice, for a server that is not on this machine's loopback)."""
    host = urlsplit(base).hostname or ""
    return f"127.0.0.{10 + client}" if host.startswith("127.") else None


def run_cell(base: str, draws: Draws, clients: int, duration: float,
             timeout: float = 60.0) -> CellResult:
    """``clients`` threads send requests back to back for ``duration`` seconds; requests in
    flight at the end are waited for (up to ``timeout``) and counted."""
    results: list[list[Sample]] = [[] for _ in range(clients)]
    start = time.perf_counter()
    stop_at = start + duration

    def client(i: int) -> None:
        conn = Connection(base, timeout, client_address(base, i))
        stream, out = draws.for_client(i), results[i]
        try:
            while time.perf_counter() < stop_at:
                request = adapt(base, next(stream))
                began = time.perf_counter()
                status, cached = conn.get(request.path, request.accept)
                out.append(Sample(request.cls, time.perf_counter() - began, status == 200,
                                  status, cached))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(duration + timeout + 5)
    elapsed = time.perf_counter() - start
    return CellResult(clients, elapsed, [s for out in results for s in out])


def answer_rows(base: str, request: Request, timeout: float = 300.0) -> tuple[int, int]:
    """Status and size of one answer: solutions of a SELECT, lines of N-Triples."""
    import json

    request = adapt(base, request)
    conn = Connection(base, timeout)
    target = conn.prefix + request.path if not request.path.startswith("/analyses") \
        else request.path
    conn.conn = http.client.HTTPConnection(conn.host, conn.port, timeout=timeout)
    try:
        conn.conn.request("GET", target, headers={"Accept": request.accept})
        response = conn.conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status != 200:
        return response.status, -1
    if request.accept == JSON:
        return 200, len(json.loads(body)["results"]["bindings"])
    return 200, len([line for line in body.splitlines() if line.strip()])


def agreement(bases: dict[str, str], draws: Draws) -> dict[str, dict[str, list[int]]]:
    """Each class's first request answered by every peer: class -> peer -> [status, rows]."""
    rng, out = random.Random(draws.seed), {}
    for cls in draws.classes:
        request = draws.request(cls, lambda d: draws.zipf[d].items[0], rng, 0)
        out[cls] = {name: list(answer_rows(base, request)) for name, base in bases.items()}
    return out


def first_answers(base: str, draws: Draws, timeout: float = 120.0) -> dict[str, float]:
    """Cold latency: each class of the mix once, in order, right after start-up (ms)."""
    conn, rng, out = Connection(base, timeout), random.Random(draws.seed), {}
    for cls in draws.classes:
        request = adapt(base, draws.request(cls, lambda d: draws.zipf[d].items[0], rng, 0))
        began = time.perf_counter()
        status, _ = conn.get(request.path, request.accept)
        out[cls] = (time.perf_counter() - began) * 1000 if status == 200 else float("nan")
    conn.close()
    return out


# -- wrk, for the cheapest requests ----------------------------------------------------------
WRK_SCRIPT = __import__("pathlib").Path(__file__).resolve().parent / "wrk_paths.lua"


def wrk_file(work: Any, base: str, draws: Draws) -> Any:
    """The request file of ``draws`` for the peer at ``base`` in the directory ``work``
    (peers with the same query path share it, unless one has a dialect of its own)."""
    prefix = urlsplit(base).path.strip("/").replace("/", "_") or "root"
    if base in DIALECTS:
        prefix += "-" + DIALECTS[base][0]
    return work / f"wrk-{prefix}-{draws.mix}-{draws.mode}-{draws.seed}.txt"


def wrk_paths(base: str, draws: Draws, count: int, path: Any) -> None:
    """Write ``count`` requests of ``draws`` (client 0's stream, as the peer at ``base`` is
    sent them) as ``ACCEPT PATH`` lines."""
    prefix = urlsplit(base).path
    stream = draws.for_client(0)
    with open(path, "w", encoding="ascii") as out:
        for _ in range(count):
            request = adapt(base, next(stream))
            target = request.path if request.path.startswith("/") else prefix + request.path
            out.write(f"{request.accept} {target}\n")


def run_wrk(base: str, draws: Draws, clients: int, duration: float, work: Any,
            timeout: float = 30.0) -> dict[str, Any]:
    """The same kind of cell driven by ``wrk`` (one thread, ``clients`` connections): a C
    load generator whose own cost does not cap the cheapest requests as Python's does."""
    import json
    import subprocess

    paths = wrk_file(work, base, draws)
    if not paths.exists():
        wrk_paths(base, draws, 20_000, paths)
    parts = urlsplit(base)
    done = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration))}s",
                           f"--timeout={int(timeout)}s", "-s", str(WRK_SCRIPT),
                           f"http://{parts.hostname}:{parts.port}", "--", str(paths),
                           str(draws.seed)], capture_output=True, text=True,
                          timeout=duration + timeout + 30, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK "))
    figures = json.loads(line[4:])
    seconds = figures["duration_us"] / 1e6
    errors = figures["status_errors"] + figures["socket_errors"]
    ok = figures["requests"] - figures["status_errors"]
    latency = {"p50": figures["p50_us"] / 1000, "p99": figures["p99_us"] / 1000, "n": ok}
    return {"qps": ok / seconds if seconds else 0.0, "requests": figures["requests"],
            "errors": errors, "error_statuses": {}, "cache_hits": 0.0, "latency": latency,
            "classes": {f"{draws.mix} (wrk)": latency}}
