"""Entailment materialised into graph/entailment: checked against RDFS computed here.

The expected triples are not listed by hand: a few lines of Python compute the
``rdfs:subClassOf`` / ``rdfs:subPropertyOf`` closures and apply ``rdfs:domain`` and
``rdfs:range`` over the real seed, independently of owlrl, and the entailment graph must
hold exactly what that computation finds and no other graph holds already.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Triple

from graph import ids
from graph.errors import BadParameter, NotFound
from graph.knowledge import entailment
from graph.knowledge.entailment import GRAPH, entail
from graph.store.oxigraph import OxigraphStore
from tests.conftest import ARTICLE, LiveServer

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
VOCABULARY = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#", RDFS,
              "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2001/XMLSchema#")
SEED_SOURCES = {ids.GRAPH_ONTOLOGY, ids.GRAPH_ARTICLE, ids.GRAPH_BACKGROUND, ids.GRAPH_REFERENCE}

Spo = tuple[Any, Any, Any]


def text(term: Any) -> str:
    """A term's IRI or lexical form (an RDF-star triple term: its N-Triples text)."""
    return str(term) if isinstance(term, Triple) else str(term.value)


def fresh_store(seed_nquads: str) -> OxigraphStore:
    store = OxigraphStore(None)
    store.load(seed_nquads, RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="module")
def entailed(seed_nquads: str) -> tuple[OxigraphStore, entailment.EntailmentReport]:
    """One seed store, entailed once (RDFS), shared by the read-only tests."""
    store = fresh_store(seed_nquads)
    return store, entail(store)


def triples(store: OxigraphStore, graph: str | None = None) -> set[Triple]:
    return {q.triple for q in store.quads(None, None, None, graph)}


def stored_elsewhere(store: OxigraphStore) -> set[Triple]:
    return {q.triple for q in store.quads() if q.graph_name != NamedNode(GRAPH)}


def closure(pairs: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Reflexive-transitive closure of a relation given as (narrower, broader) pairs."""
    up: dict[str, set[str]] = defaultdict(set)
    for narrow, broad in pairs:
        up[narrow].add(broad)
    changed = True
    while changed:
        changed = False
        for above in up.values():
            more = set().union(*(up.get(a, set()) for a in above)) - above
            if more:
                above |= more
                changed = True
    return defaultdict(set, {t: {t} | above for t, above in up.items()})


def iri_pairs(spo: set[Triple], predicate: str) -> list[tuple[str, str]]:
    return [(t.subject.value, t.object.value) for t in spo
            if t.predicate.value == predicate and isinstance(t.subject, NamedNode)
            and isinstance(t.object, NamedNode)]


def rdfs_expected(data: set[Triple]) -> set[Triple]:
    """What RDFS rules 2, 3, 5, 7, 9 and 11 derive from ``data`` (subjects that are
    IRIs), computed without owlrl."""
    sub_class = closure(iri_pairs(data, RDFS + "subClassOf"))
    sub_prop = closure(iri_pairs(data, RDFS + "subPropertyOf"))
    out = {Triple(NamedNode(narrow), NamedNode(RDFS + relation), NamedNode(broad))
           for relation, up in (("subClassOf", sub_class), ("subPropertyOf", sub_prop))
           for narrow, above in up.items() for broad in above if broad != narrow}
    domain, range_ = defaultdict(set), defaultdict(set)
    for p, c in iri_pairs(data, RDFS + "domain"):
        domain[p].add(c)
    for p, c in iri_pairs(data, RDFS + "range"):
        range_[p].add(c)
    for t in data:
        if not isinstance(t.subject, NamedNode):
            continue
        for q in sub_prop.get(t.predicate.value, {t.predicate.value}):
            out.add(Triple(t.subject, NamedNode(q), t.object))
            classes = {c for d in domain[q] for c in sub_class.get(d, {d})}
            out |= {Triple(t.subject, NamedNode(RDF_TYPE), NamedNode(c)) for c in classes}
            if isinstance(t.object, NamedNode):
                classes = {c for r in range_[q] for c in sub_class.get(r, {r})}
                out |= {Triple(t.object, NamedNode(RDF_TYPE), NamedNode(c)) for c in classes}
    types = {(t.subject, t.object.value) for t in out | data if t.predicate.value == RDF_TYPE
             and isinstance(t.subject, NamedNode) and isinstance(t.object, NamedNode)}
    out |= {Triple(s, NamedNode(RDF_TYPE), NamedNode(c)) for s, cls in types
            for c in sub_class.get(cls, {cls})}
    return {t for t in out if not text(t.subject).startswith(VOCABULARY)} - data


def source_data(store: OxigraphStore) -> set[Triple]:
    return set().union(*(triples(store, g) for g in SEED_SOURCES))


def entailed_only(store: OxigraphStore) -> set[Triple]:
    """The entailment graph without its own provenance record."""
    record = {NamedNode(GRAPH), *(q.object for q in store.quads(
        NamedNode(GRAPH), NamedNode(PROV + "wasGeneratedBy"), None, GRAPH))}
    record |= {q.object for s in list(record) for q in store.quads(
        s, NamedNode(PROV + "wasAssociatedWith"), None, GRAPH)}
    return {t for t in triples(store, GRAPH) if t.subject not in record}


def is_class_outside_vocabulary(t: Triple) -> bool:
    return t.predicate.value == RDF_TYPE and not text(t.object).startswith(VOCABULARY)


def test_types_from_subclass_domain_and_range_are_entailed(entailed: Any) -> None:
    store, _ = entailed
    expected = rdfs_expected(source_data(store)) - stored_elsewhere(store)
    got = entailed_only(store)
    expected_types = {t for t in expected if is_class_outside_vocabulary(t)}
    assert len(expected_types) > 100
    assert expected_types <= got, sorted(map(str, expected_types - got))[:10]
    extra = {t for t in got if is_class_outside_vocabulary(t)} - expected_types
    assert not extra, sorted(map(str, extra))[:10]


def test_agencies_are_organisations_by_subclass(entailed: Any) -> None:
    store, _ = entailed
    dhs = NamedNode(ids.thing("org", "dhs"))
    assert Triple(dhs, NamedNode(RDF_TYPE), NamedNode(ORG + "Organization")) in triples(
        store, GRAPH)


def test_super_property_triples_are_entailed(entailed: Any) -> None:
    store, _ = entailed
    expected = rdfs_expected(source_data(store)) - stored_elsewhere(store)
    by_super = {t for t in expected if t.predicate.value != RDF_TYPE
                and not t.predicate.value.startswith(VOCABULARY)}
    assert any(isinstance(t.object, Literal) for t in by_super)
    assert any(t.predicate.value == PROV + "wasAttributedTo" for t in by_super)
    got = entailed_only(store)
    assert by_super <= got, sorted(map(str, by_super - got))[:10]
    extra = {t for t in got if t.predicate.value != RDF_TYPE} - expected
    assert not extra, sorted(map(str, extra))[:10]


def test_only_new_triples_about_iris_are_written(entailed: Any) -> None:
    store, report = entailed
    written = triples(store, GRAPH)
    assert not written & stored_elsewhere(store)
    for t in written:
        assert isinstance(t.subject, NamedNode) and not t.subject.value.startswith(VOCABULARY)
        assert not isinstance(t.object, BlankNode)
    no_resource = NamedNode(RDFS + "Resource")
    assert not any(t.object == no_resource for t in written)
    assert report.entailed == len(entailed_only(store))
    assert report.input_triples == len(source_data(store))


def test_triples_stored_in_other_graphs_are_not_repeated(seed_nquads: str) -> None:
    """A graph entailment does not read (and the default graph) may already state an
    entailed triple: it is left out, the rest still written."""
    store = fresh_store(seed_nquads)
    expected = sorted(rdfs_expected(source_data(store)), key=str)
    organisation = next(t for t in expected if t.object == NamedNode(ORG + "Organization"))
    other = next(t for t in expected if t.predicate.value == PROV + "wasAttributedTo")
    store.extend([Quad(*organisation, NamedNode("https://example.org/other")),
                  Quad(*other)])
    entail(store)
    written = triples(store, GRAPH)
    assert organisation not in written and other not in written
    assert len(written & set(expected)) == len(expected) - 2


def test_literals_keep_their_datatype(entailed: Any) -> None:
    """A sentence numbered 1 is not also numbered ``true`` (owlrl's value comparison)."""
    store, _ = entailed
    data = source_data(store)
    for t in entailed_only(store):
        if isinstance(t.object, Literal):
            assert any(d.subject == t.subject and d.object == t.object for d in data), t


def test_provenance_names_owlrl_the_profile_and_the_sources(entailed: Any) -> None:
    store, report = entailed
    rows = list(store.query(f"""
        PREFIX prov: <{PROV}> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX rdfs: <{RDFS}>
        SELECT ?used ?label ?created ?agent WHERE {{ GRAPH <{GRAPH}> {{
          <{GRAPH}> a prov:Entity ; prov:wasGeneratedBy ?a ; dcterms:created ?created .
          ?a a prov:Activity ; rdfs:label ?label ; prov:used ?used ;
             prov:wasAssociatedWith ?agent . ?agent a prov:SoftwareAgent }} }}"""))
    assert {r["used"].value for r in rows} == SEED_SOURCES == set(report.sources)
    label = rows[0]["label"].value
    assert "owlrl" in label and "rdfs" in label
    assert datetime.fromisoformat(rows[0]["created"].value).isoformat() == report.created


def test_rerun_replaces_the_graph_whole(seed_nquads: str) -> None:
    store = fresh_store(seed_nquads)
    first = entail(store)
    before = entailed_only(store)
    stale = Quad(NamedNode("https://example.org/stale"), NamedNode(RDF_TYPE),
                 NamedNode("https://example.org/Stale"), NamedNode(GRAPH))
    store.extend([stale])
    second = entail(store)
    assert entailed_only(store) == before
    assert stale.triple not in triples(store, GRAPH)
    assert second.entailed == first.entailed
    assert store.count(GRAPH) == first.entailed + len(entailment.provenance(
        "rdfs", first.sources, first.created))


def test_owl_rl_profile_is_named_and_stays_new(seed_nquads: str) -> None:
    store = fresh_store(seed_nquads)
    report = entail(store, "owl-rl")
    assert report.profile == "owl-rl" and report.entailed > 0
    assert not triples(store, GRAPH) & stored_elsewhere(store)
    labels = [text(q.object) for q in store.quads(None, NamedNode(RDFS + "label"), None, GRAPH)
              if "owlrl" in text(q.object)]
    assert any("owl-rl" in label and "OWLRL_Semantics" in label for label in labels)


def test_unknown_profile_oversized_input_and_unbuilt_store_are_refused(
        seed_nquads: str) -> None:
    store = fresh_store(seed_nquads)
    with pytest.raises(BadParameter, match="unknown entailment profile"):
        entail(store, "owl-dl")
    with pytest.raises(BadParameter, match="more than 100 triples"):
        entail(store, max_triples=100)
    assert not store.contains_graph(GRAPH)
    with pytest.raises(NotFound, match="no ontology graph"):
        entail(OxigraphStore(None))


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ["BORDERKG_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def cli_entailed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A disk store built and entailed by the real ``borderkg`` command."""
    data_dir = tmp_path_factory.mktemp("entail-cli")
    built = run_cli("build", "--article", str(ARTICLE), data_dir=data_dir)
    assert built.returncode == 0, built.stderr
    result = run_cli("entail", "--format", "json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir, json.loads(result.stdout)


def test_cli_entails_and_reports_counts(cli_entailed: Any) -> None:
    data_dir, report = cli_entailed
    assert report["profile"] == "rdfs" and set(report["sources"]) == SEED_SOURCES
    count = run_cli("query", f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}",
                    "--format", "json", data_dir=data_dir)
    n = int(json.loads(count.stdout)["results"]["bindings"][0]["n"]["value"])
    assert report["entailed"] < n < report["entailed"] + 40
    text = run_cli("entail", data_dir=data_dir)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith(f"{report['entailed']:,} entailed triples (rdfs) in <{GRAPH}>")


@pytest.mark.parametrize("args, message", [
    (("--profile", "owl-dl"), "Invalid value for '--profile'"),
    (("--max-triples", "10"), "more than 10 triples"),
])
def test_cli_errors_are_one_line(cli_entailed: Any, args: tuple[str, ...], message: str) -> None:
    data_dir, _ = cli_entailed
    result = run_cli("entail", *args, data_dir=data_dir)
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("borderkg: error: ") and message in lines[0]


def test_cli_refuses_an_unbuilt_store(tmp_path: Path) -> None:
    result = run_cli("entail", data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "no ontology graph" in result.stderr


def select(server: LiveServer, text: str) -> list[dict[str, Any]]:
    response = requests.get(server.url + "/sparql", params={"query": text}, timeout=30,
                            headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_live_server_answers_from_the_entailment_graph(
        cli_entailed: Any, start_server: Callable[..., LiveServer]) -> None:
    data_dir, _ = cli_entailed
    server = start_server(store="disk", data_dir=data_dir)
    prefixes = f"PREFIX org: <{ORG}> PREFIX rdfs: <{RDFS}>\n"
    found = {r["x"]["value"] for r in select(server, prefixes + f"""
        SELECT ?x WHERE {{ GRAPH <{GRAPH}> {{ ?x a org:Organization }} }}""")}
    implied = {r["x"]["value"] for r in select(server, prefixes + f"""
        SELECT DISTINCT ?x WHERE {{
          GRAPH ?g {{ ?x a ?c }} FILTER(?g != <{GRAPH}>)
          GRAPH <{ids.GRAPH_ONTOLOGY}> {{ ?c rdfs:subClassOf+ org:Organization }}
          FILTER NOT EXISTS {{ GRAPH ?h {{ ?x a org:Organization }} FILTER(?h != <{GRAPH}>) }}
        }}""")}
    assert ids.thing("org", "dhs") in implied
    assert found == implied
    union = select(server, prefixes + f"SELECT ?x WHERE {{ <{ids.thing('org', 'dhs')}> a ?x }}")
    assert ORG + "Organization" in {r["x"]["value"] for r in union}
