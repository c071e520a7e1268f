"""Differential fuzzing of the query-safety policy against the real engine.

Generated hostile queries and updates (``_sparql_gen.py``) go through
``graph.sparql.policy.admit`` in a worker process (``_workers.py``); whatever it admits is run
there by a bare pyoxigraph ``Store``, with the same base IRI and no other protection, and
judged (``_oracle.py``) by what the watchers (``_watchers.py``) saw. Every
``SERVICE``/``LOAD`` target the generators write points at a loopback listener or at
canary files, so the invariants are observable: no connection to the listener, no open of
a canary file, no crashed or hung worker, and every admitted text either answered or
refused by the engine with a normal error. A dangerous clause written where it is a real
clause (``FROM <file:...>``, ``LOAD``, a ``SERVICE`` before any string or comment) must
also not be admitted when the engine parses the text, even when the engine would not go
on to reach anything (Oxigraph never fetches a ``FROM`` graph or a ``file:`` IRI).

The generators aim at the places where two readings of one text can differ: prefixed
names with characters from every ``PN_CHARS_BASE``/``PN_CHARS_U``/``PN_CHARS`` range of
the SPARQL 1.1 grammar, ``PN_LOCAL_ESC`` and percent escapes, ``\\uXXXX`` escapes (the
engine decodes them only inside strings and IRIs), the four string forms, comments ended
by ``\\n``, ``\\r`` or nothing, IRIs with quotes and braces, keywords run together with
what follows, ``<`` as an IRI or an operator, and bracket nesting deep enough to crash
the engine's parser, hidden by those tricks. Six families: ``queries``, ``updates``,
``codepoint-escape`` and ``hidden-nesting`` through ``admit``; ``request-path`` through
``admit_request`` (what ``/sparql`` asks: it rewrites the SILENT calls it refuses, and the
engine runs the rewritten text); ``allow-list`` with SERVICE allowed to ``localhost``
only (the engine must call no other host).

``BORDERKG_POLICY_FUZZ_CASES`` sets the total number of cases over the families (default
10,000, each family its share of ``SHARES``: about 45 s on two cores); for example
``BORDERKG_POLICY_FUZZ_CASES=200000 .venv/bin/pytest -s tests/security/test_policy_fuzz.py``.
Each family prints one line (``policy fuzz <family>: N cases, A admitted, ...``).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from graph.sparql.text import Kind
from tests.conftest import report_family

from ._oracle import Judge, World
from ._sparql_gen import CODEPOINT_FORMS, Gen, Text, Vocabulary
from ._watchers import Canary, Listener
from ._workers import ALLOWED_HOST, WorkerPool, base_quads

TOTAL_CASES = int(os.environ.get("BORDERKG_POLICY_FUZZ_CASES", "10000"))
#: each family's share of TOTAL_CASES
SHARES = {"queries": 0.34, "updates": 0.25, "codepoint-escape": 0.23, "hidden-nesting": 0.06,
          "allow-list": 0.06, "request-path": 0.06}
#: the policy's entry point and settings for each family (by default ``admit``, SERVICE
#: and LOAD allowed nowhere): the service's /sparql asks ``admit_request``, which points
#: SERVICE SILENT and LOAD SILENT calls it would refuse at an unreachable IRI instead
ENTRY = {"allow-list": ("admit", "allow-localhost"), "request-path": ("admit_request", "default")}
#: pytest-timeout's limit for one family: generous for the default size, scaled for long runs
FAMILY_TIMEOUT = max(300, int(TOTAL_CASES * 0.05))


# --- the families' strategies -----------------------------------------------------------------

def queries(v: Vocabulary) -> st.SearchStrategy[Text]:
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        text = gen.query()
        return Text("query", text, gen.planted)

    return build()


def updates(v: Vocabulary) -> st.SearchStrategy[Text]:
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        text = gen.update()
        return Text("update", text, gen.planted)

    return build()


#: characters the codepoint family escapes most: quotes, brackets, '#', '\', ':', keywords'
ESCAPE_TARGETS = "'\"<>{}#\\:SELRVICOADFMNWTHUGP ."


def codepoint_escaped(v: Vocabulary) -> st.SearchStrategy[Text]:
    """A generated query or update with some characters written as \\u/\\U escapes: every
    occurrence of one character (a quote, a bracket, '#', a keyword's letter...) and a few
    characters anywhere."""
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        kind: Kind = "query" if draw(st.booleans()) else "update"
        text = gen.query() if kind == "query" else gen.update()
        with gen.decisions():
            if gen.chance(60):
                char = str(gen.pick(ESCAPE_TARGETS))
                text = text.replace(char, _codepoint(char, gen.number(0, 2)))
            for _ in range(gen.number(0, 8)):
                at = gen.number(0, len(text) - 1, detail=True)
                text = text[:at] + _codepoint(text[at], gen.number(0, 2)) + text[at + 1:]
        return Text(kind, text, gen.planted)

    return build()


def allow_list(v: Vocabulary) -> st.SearchStrategy[Text]:
    """SERVICE calls for a policy that allows ``localhost``: targets spelled so that the
    host the policy reads and the host the engine calls may differ (user information,
    ``#``/``?`` before an ``@``, case, a final dot, percent escapes, relative IRIs after a
    BASE on either host, prefixed names that assemble the authority)."""
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        with gen.decisions():
            base = gen.pick(("", f"BASE <http://{ALLOWED_HOST}:{v.port}/x/> ",
                             f"BASE <{v.origin}/x/> "))
            silent = gen.keyword("SILENT") + gen.joint() if gen.chance(40) else ""
            clause = (f"{gen.keyword('SERVICE')}{gen.joint()}{silent}"
                      f"{_allowed_target(gen, v)}{gen.ws()}{{ }}")
            wrapped = gen.pick((clause, f"{{ }} UNION {{ {clause} }}",
                                f"{{ SELECT * WHERE {{ {clause} }} }}"))
        prologue = (f"PREFIX l: <http://{ALLOWED_HOST}:{v.port}/> PREFIX h: <http:> "
                    f"PREFIX n: <http://{ALLOWED_HOST}:{v.port}> ")
        return Text("query", f"{prologue}{base}SELECT * WHERE {{ {wrapped} }}")

    return build()


def _allowed_target(gen: Gen, v: Vocabulary) -> str:
    port, host = v.port, ALLOWED_HOST
    if gen.chance(25):
        return str(gen.pick(("<../y>", "<y>", "<?q>", "<>", f"<//127.0.0.1:{port}/>",
                             f"<//{host}:{port}/>", "l:x", "l:", f"h:\\/\\/{host}:{port}\\/",
                             f"h:\\/\\/{host}\\@127.0.0.1:{port}\\/", "n:\\/x", "n:",
                             f"n:\\@127.0.0.1:{port}\\/", f"n:\\@127.0.0.1:{port}")))
    scheme = gen.pick(("http", "http", "HTTP", "hTtP"))
    user = gen.pick(("", "", f"{host}@", f"{host}:{port}@", "127.0.0.1@", "a:b@", "%40@"))
    name = gen.pick((host, host, "LOCALHOST", f"{host}.", "127.0.0.1", "local%68ost",
                     "\\u006Cocalhost", "127.0.0.1\\u0023"))
    after = gen.pick(("/", "/ok", "", f"#@{host}/", f"?@{host}/", "/../x/", "/.%2E/x",
                      "\\u0023@x/"))
    return f"<{scheme}://{user}{name}:{port}{after}>"


def _codepoint(char: str, form: int) -> str:
    return CODEPOINT_FORMS[form if ord(char) <= 0xFFFF else 2].format(ord(char))


def hidden_nesting(v: Vocabulary) -> st.SearchStrategy[Text]:
    """3,000-6,000 nested brackets, hidden or in the open, in queries and updates."""
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        with gen.decisions():
            return _nested(gen, draw(st.integers(3000, 6000)))

    return build()


def _nested(gen: Gen, n: int) -> Text:
    """Brackets ``n`` deep (groups, parentheses, blank nodes, subqueries, reified
    triples), behind a name's escaped quote, a long string, a codepoint-escaped quote, in
    a string or comment, in the open, after a comment ended by ``\\r``, or as codepoint
    escapes."""
    nest = gen.pick(("{" * n + "}" * n, "FILTER(" + "(" * n + "1" + ")" * n + ")",
                     "?s ns:p " + "[ ns:p " * n + "1" + " ]" * n + " .",
                     "{ SELECT * WHERE " * (n // 2) + "{ }" + " }" * (n // 2),
                     "?s ?p " + "<< ?s ?p " * n + "1" + " >>" * n + " ."))
    quote = gen.pick(("'", "'", "'", '"'))
    name = gen.boundary_name(quote)
    hide = gen.pick((f"?s ?p {name} . {nest} }} #{quote}\n",
                     f"?s {name}{quote * 2} .\n {nest}\n }} #{quote * 3}\n",
                     f"BIND({quote}a\\u{ord(quote):04X}{quote} AS ?h) {nest} }} #{quote}\n",
                     f"?s ?p {quote * 3}{nest}{quote * 3} }}", f"# {nest}\n }}",
                     f"{nest} }}", f"# x\r {nest} }}",
                     f"{nest} }}".replace("{", "\\u007B").replace("}", "\\u007D")))
    if gen.chance(30):
        return Text("update", f"{gen.prologue()} INSERT {{ ns:s ns:p 1 }} WHERE {{ {hide}")
    return Text("query", f"{gen.prologue()} SELECT * WHERE {{ {hide}")


# --- the world: listener, canary, engine workers, the policy's store -------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    listener = Listener()
    canary = Canary(tmp_path_factory.mktemp("policy-fuzz") / "canary")
    pool = WorkerPool(listener.origin + "/ns/", listener.origin + "/sparql")
    listener.hooks.append(pool.suspect_recent)
    canary.hooks.append(pool.suspect_recent)
    try:
        yield World(listener.origin + "/sparql", listener, canary, pool)
    finally:
        pool.close()
        canary.close()
        listener.close()


@pytest.fixture(scope="module")
def failures_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where a failing family writes its inputs whole (the assertion message names it)."""
    return tmp_path_factory.mktemp("policy-fuzz-failures")


@pytest.fixture(scope="module")
def vocabulary(world: World) -> Vocabulary:
    directory = world.canary.directory.as_uri() + "/"
    return Vocabulary(world.listener.origin, tuple(world.canary.iris), directory)


def run_family(world: World, family: str, strategy: st.SearchStrategy[Text], quota: int,
               policy: str = "admit", profile: str = "default") -> Judge:
    """Feed ``quota`` distinct texts from ``strategy`` to a judge of ``policy``.

    Hypothesis repeats a text when it varies a choice the text does not show; a repeat is
    not a case. It is skipped (not refused with ``assume``: hypothesis replays examples,
    and a replay that the first run accepted must be accepted again), and sessions run
    until the quota of distinct texts is met.
    """
    judge = Judge(world, family, policy, profile)
    seen: set[int] = set()

    def one(generated: Text) -> None:
        key = hash(generated.text)
        if key in seen or judge.cases >= quota:
            return
        seen.add(key)
        judge(generated.kind, generated.text, generated.planted)

    for _ in range(10):
        missing = quota - judge.cases
        if missing <= 0:
            break
        session = settings(max_examples=missing + missing // 2 + 10, deadline=None,
                           database=None, phases=[Phase.generate],
                           suppress_health_check=list(HealthCheck))
        session(given(strategy)(one))()
    judge.finish()
    assert judge.cases >= quota, f"only {judge.cases} of {quota} cases were generated"
    return judge


BUILDERS = {"queries": queries, "updates": updates, "codepoint-escape": codepoint_escaped,
            "hidden-nesting": hidden_nesting, "allow-list": allow_list,
            "request-path": lambda v: st.one_of(queries(v), updates(v))}


@pytest.mark.timeout(FAMILY_TIMEOUT)
@pytest.mark.parametrize("family", [f for f in SHARES if f != "allow-list"])
def test_policy_fuzz(world: World, vocabulary: Vocabulary, family: str,
                     failures_dir: Path) -> None:
    quota = max(1, round(TOTAL_CASES * SHARES[family]))
    policy, profile = ENTRY.get(family, ("admit", "default"))
    judge = run_family(world, family, BUILDERS[family](vocabulary), quota, policy, profile)
    report_family(judge.summary())
    assert judge.clean, judge.explain(failures_dir)


@pytest.mark.timeout(FAMILY_TIMEOUT)
def test_policy_fuzz_allow_list(world: World, vocabulary: Vocabulary,
                                failures_dir: Path) -> None:
    """With ``allowed_service_hosts = localhost``, the engine calls localhost and nothing
    else: a call whose ``Host`` is another host (127.0.0.1 here) is a hit."""
    world.listener.allowed = {ALLOWED_HOST}
    try:
        quota = max(1, round(TOTAL_CASES * SHARES["allow-list"]))
        judge = run_family(world, "allow-list", allow_list(vocabulary), quota,
                           *ENTRY["allow-list"])
    finally:
        world.listener.allowed = set()
    report_family(judge.summary())
    assert judge.clean, judge.explain(failures_dir)
    assert world.listener.allowed_hits > 0, "no SERVICE call to the allowed host was made"


# --- the detectors themselves, and the known attacks ------------------------------------------

def test_detectors_see_the_engine_reach_out(world: World) -> None:
    """Unguarded, the engine does connect to the listener, a worker's open of a canary file
    is counted and a segmentation fault is a crash: the invariants can fail."""
    hits, opens = world.listener.hits, world.canary.opens
    origin = world.listener.origin
    service = world.pool.control("query", f"SELECT * {{ SERVICE <{origin}/> {{}} }}")
    load = world.pool.control("update", f"LOAD <{origin}/data.ttl>")
    assert [o and o.status for o in (service, load)] == ["error", "error"], (service, load)
    assert world.listener.hits == hits + 2
    world.pool.control("open", str(world.canary.directory / "canary.ttl"))
    world.canary.settle()
    assert world.canary.opens == opens + 1
    crash, after = world.pool.control("crash"), world.pool.control("query", "ASK {}")
    assert [o and o.status for o in (crash, after)] == ["crash", "answer"]  # replaced


def test_the_judge_catches_what_an_open_policy_lets_through(world: World) -> None:
    """Without the guard, SERVICE and LOAD reach the listener, deep nesting crashes a worker
    and a planted FROM is reported: each invariant can fail, and names its input."""
    origin, canary = world.listener.origin, world.canary.iris[0]
    judge = Judge(world, "open policy", "open")
    judge("query", f"SELECT * {{ SERVICE <{origin}/open> {{ }} }}")
    judge("update", f"LOAD <{origin}/open.ttl>")
    judge("query", "SELECT * WHERE " + "{" * 5000 + "}" * 5000)
    judge("query", f"SELECT * FROM <{canary}> WHERE {{ }}", f"FROM <{canary}>")
    judge("query", "SELECT * WHERE { ?s ?p ?o }")
    judge.finish()
    assert (judge.hits, judge.outcomes.get("crash")) == (2, 1), judge.explain()
    reached = "the engine connected to the listener or opened a canary file"
    assert sorted(f.what.split(" (")[0].split(" <")[0] for f in judge.failures) == [
        "admitted 'FROM", "engine crash", reached, reached], judge.explain()


def test_the_listener_tells_the_allowed_host_from_others(world: World) -> None:
    """A call to the allowed host is counted apart; one to 127.0.0.1 is still a hit."""
    port = world.listener.port
    judge = Judge(world, "open policy, allowed host", "open")
    world.listener.allowed = {ALLOWED_HOST}
    try:
        judge("query", f"SELECT * {{ SERVICE <http://{ALLOWED_HOST}:{port}/> {{ }} }}")
        judge("query", f"SELECT * {{ SERVICE <http://{ALLOWED_HOST}@127.0.0.1:{port}/> {{ }} }}")
        judge.finish()
    finally:
        world.listener.allowed = set()
    assert judge.hits == 1 and "1 calls to the allowed host" in judge.summary(), \
        judge.explain()


def test_the_generators_write_attacks_that_work(world: World, vocabulary: Vocabulary) -> None:
    """Generated queries and updates, run without the guard, do reach the listener and do
    plant clauses the engine parses: the fuzz families test something."""
    for family in ("queries", "updates"):
        judge = run_family(world, f"open {family}", BUILDERS[family](vocabulary), 150,
                           policy="open")
        planted = [f for f in judge.failures if f.what.startswith("admitted")]
        assert judge.hits > 10 and len(planted) > 10, judge.explain()


def known_attacks(origin: str, canary: str) -> dict[str, tuple[Kind, str, str]]:
    """name: (kind, text, clause planted in a real position)."""
    ns = f"PREFIX ex: <{origin}/ns/> PREFIX lo: <{origin}/> "
    service = f"SERVICE <{origin}/hidden> {{ }}"
    attacks: dict[str, tuple[Kind, str, str]] = {
        f"name-{name}": ("query", f"{ns}SELECT * WHERE {{ {{ ?s ?p ex:{name}\\' }} UNION "
                                  f"{{ {service} }} #'\n}}", service)
        for name in ("\u00c0", "\u00c0\u00b7", "a\u00b7", "\u00c0\u0300", "\u00c0\u203f",
                     "\u00c0\u3001", "\u00c0\u1680", "\u00c0\u200c", "\u00c0\ufdfc")}
    nest = "{" * 5000 + "}" * 5000
    attacks.update({
        "nesting-5000-\u00c0": ("query", f"{ns}SELECT * WHERE {{ ?s ?p ex:\u00c0\\' . {nest} }}"
                                         " #'\n", ""),
        "nesting-5000-\u00c0\u00b7": ("query", f"{ns}SELECT * WHERE {{ ?s ?p ex:\u00c0\u00b7\\' ."
                                               f" {nest} }} #'\n", ""),
        "base-relative": ("query", f"BASE <{origin}/x/> SELECT * {{ SERVICE <../y> {{}} }}",
                          "SERVICE <../y>"),
        "string-codepoint-quote": ("query", f"SELECT * {{ {{ BIND('a\\u0027' AS ?x) }} UNION "
                                            f"{{ {service} }} #'\n}}", service),
        "update-name-load": ("update", f"{ns}INSERT DATA {{ ex:s ex:p ex:a\u00b7\\' }} ; "
                                       f"LOAD <{origin}/data.ttl> #'\n", ""),
        "name-\u00c0-join": ("query", f"{ns}SELECT * WHERE {{ {{ ?s ?p ex:\u00c0\\' }} "
                                      f"SERVICE <{origin}/> {{ }} #'\n}}", "SERVICE"),
        "run-together": ("query", f"{ns}SELECT * {{ SERVICElo:x {{ }} }}", "SERVICElo:x"),
        "run-together-silent": ("query", f"{ns}SELECT * {{ SERVICESILENTlo:x {{ }} }}",
                                "SERVICESILENTlo:x"),
        "comment-cr": ("query", f"SELECT * {{ # x\r SERVICE <{origin}/cr> {{ }} }}", "SERVICE"),
        "from-file": ("query", f"SELECT * FROM <{canary}> WHERE {{ }}", "FROM <file:...>"),
        "load-file": ("update", f"LOAD <{canary}>", "LOAD <file:...>"),
        "using-file-run-together": ("update", f"PREFIX fs: <{canary.rsplit('/', 1)[0]}/> "
                                              "INSERT { <urn:s> <urn:p> 1 } USINGfs:canary.ttl "
                                              "WHERE { }", "USING fs:"),
    })
    return attacks


ATTACK_NAMES = list(known_attacks("http://127.0.0.1:1", "file:///canary.ttl"))


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_known_attack(world: World, name: str) -> None:
    kind, text, planted = known_attacks(world.listener.origin, world.canary.iris[0])[name]
    judge = Judge(world, f"known {name}")
    judge(kind, text, planted)
    judge.finish()
    assert judge.clean, judge.explain()


def test_the_request_path_runs_silent_calls_without_reaching_out(world: World) -> None:
    """``admit_request`` admits SERVICE SILENT and LOAD SILENT to a refused target by
    rewriting them; the engine runs the rewritten text and reaches nothing."""
    origin = world.listener.origin
    judge = Judge(world, "request path", "admit_request")
    judge("query", f"SELECT * {{ SERVICE SILENT <{origin}/s> {{ }} }}", "SERVICE SILENT")
    judge("update", f"LOAD SILENT <{origin}/d.ttl>", "LOAD SILENT")
    judge.finish()
    assert (judge.admitted, judge.rewritten) == (2, 2) and judge.clean, judge.explain()


def test_the_worker_data_matches_the_policy_store(world: World) -> None:
    """FROM/USING of the one graph both hold is admitted and answered, so an admitted
    dataset clause reaches the engine as it would in the service."""
    graph = world.listener.origin + "/ns/graph/one"
    judge = Judge(world, "own graph")
    judge("query", f"SELECT * FROM <{graph}> WHERE {{ ?s ?p ?o }}")
    judge.finish()
    assert (judge.admitted, judge.outcomes) == (1, {"answer": 1}), judge.explain()
    assert any(str(q.graph_name) == f"<{graph}>" for q in base_quads(world.listener.origin
                                                                     + "/ns/"))
