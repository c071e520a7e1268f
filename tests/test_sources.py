"""``borderkg build --source``: curated sources in their own graphs, with provenance.

The builds are real ``borderkg build`` runs in subprocesses on disk stores; the stores are
then opened and queried with SPARQL. The curated source is
``tests/data/sources/removal-flight-2025-03.trig`` (see ``tests/data/README.md``).
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat
from rdflib import Graph
from rdflib.compare import IsomorphicGraph, to_isomorphic

from graph.knowledge.build import SEED_GRAPHS
from graph.knowledge.sources import SourceError, read_source, read_sources
from graph.store.oxigraph import OxigraphStore
from tests._paths import DATA
from tests.conftest import ARTICLE

CURATED = DATA / "sources" / "removal-flight-2025-03.trig"
SOURCE = "test-removal-flight-2025-03"
GRAPH = f"https://w3id.org/borderkg/graph/article/{SOURCE}"
DOC = f"https://w3id.org/borderkg/id/source/{SOURCE}"
FLIGHT = "https://w3id.org/borderkg/id/flight/test-chn-removal-2025-03"
PREFIXES = """PREFIX bkg: <https://w3id.org/borderkg/def/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""


def borderkg(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    return subprocess.run([sys.executable, "-m", "server.cli", *args, "--data-dir",
                           str(data_dir), "--article", str(ARTICLE)], env=environ,
                          capture_output=True, text=True, timeout=120)


def opened(data_dir: Path) -> Iterator[OxigraphStore]:
    store = OxigraphStore(data_dir / "store")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="module")
def default_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("default")
    result = borderkg("build", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.fixture(scope="module")
def sourced_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("sourced")
    result = borderkg("build", "--source", str(CURATED), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert f"  {GRAPH}  from {CURATED}" in result.stdout
    return data_dir


@pytest.fixture
def default_store(default_dir: Path) -> Iterator[OxigraphStore]:
    yield from opened(default_dir)


@pytest.fixture
def sourced_store(sourced_dir: Path) -> Iterator[OxigraphStore]:
    yield from opened(sourced_dir)


def graph_of(store: OxigraphStore, graph: str) -> IsomorphicGraph:
    """One graph of ``store``, compared up to blank-node labels (each load mints new ones)."""
    out = io.BytesIO()
    store.dump(out, RdfFormat.N_TRIPLES, graph)
    return to_isomorphic(Graph().parse(data=out.getvalue().decode("utf-8"), format="nt"))


def select(store: OxigraphStore, query: str) -> list[dict[str, str]]:
    result = store.query(PREFIXES + query)
    names = [v.value for v in result.variables]  # type: ignore[union-attr]
    return [{n: row[n].value for n in names if row[n] is not None}
            for row in result]  # type: ignore[union-attr]


def test_the_source_adds_its_own_graph(default_store: OxigraphStore,
                                       sourced_store: OxigraphStore) -> None:
    assert set(sourced_store.named_graphs()) == {*default_store.named_graphs(), GRAPH}
    assert GRAPH not in default_store.named_graphs()


def test_the_default_build_is_unchanged(default_store: OxigraphStore,
                                        sourced_store: OxigraphStore) -> None:
    """The seed graphs are the same with a source or without (graphs the build derives
    from the store, such as reconciliation results, may carry the time they were made)."""
    for graph in SEED_GRAPHS:
        assert default_store.count(graph) > 0, graph
        assert graph_of(sourced_store, graph) == graph_of(default_store, graph), graph


def test_claims_are_queryable_with_their_provenance(sourced_store: OxigraphStore) -> None:
    rows = select(sourced_store, f"""
        SELECT ?p ?o ?text ?n ?accepted WHERE {{
          GRAPH ?g {{
            ?claim a bkg:Claim ; rdf:subject <{FLIGHT}> ; rdf:predicate ?p ; rdf:object ?o ;
                   prov:wasDerivedFrom ?s .
            ?s bkg:text ?text ; bkg:sentenceNumber ?n ; dcterms:isPartOf ?doc .
            ?g prov:wasDerivedFrom ?doc ; dcterms:source ?doc ; dcterms:dateAccepted ?accepted .
          }}
        }} ORDER BY ?n ?p""")
    bkg = "https://w3id.org/borderkg/def/"
    assert [(r["p"], r["o"], r["n"]) for r in rows] == [
        (bkg + "conductedBy", "https://w3id.org/borderkg/id/org/ice", "1"),
        (bkg + "destination", "https://w3id.org/borderkg/id/country/CHN", "1"),
        (bkg + "ordinal", "3", "2"),
    ]
    assert rows[0]["text"].startswith("The U.S. Department of Homeland Security announced")
    assert rows[2]["text"].startswith("The flight left on March 2, 2025")
    assert {r["accepted"] for r in rows} == {"2025-03-07"}


def test_claimed_triples_are_asserted_in_the_source_graph(sourced_store: OxigraphStore) -> None:
    ask = sourced_store.query(PREFIXES + f"""ASK {{ GRAPH <{GRAPH}> {{
        <{FLIGHT}> bkg:destination <https://w3id.org/borderkg/id/country/CHN> ;
                   bkg:conductedBy <https://w3id.org/borderkg/id/org/ice> .
        <https://w3id.org/borderkg/id/statistic/test-chn-swb-encounters-2025-01>
            bkg:encounterCount 1045 }} }}""")
    assert bool(ask)


def test_the_source_joins_the_seed_s_things(sourced_store: OxigraphStore) -> None:
    rows = select(sourced_store, f"""SELECT ?label WHERE {{
        GRAPH <{GRAPH}> {{ <{FLIGHT}> bkg:conductedBy ?agency }}
        GRAPH <https://w3id.org/borderkg/graph/background> {{
          ?agency <http://www.w3.org/2000/01/rdf-schema#label> ?label }}
    }}""")
    assert [r["label"] for r in rows] == ["U.S. Immigration and Customs Enforcement"]


def test_a_rebuild_with_the_source_is_idempotent(tmp_path: Path) -> None:
    first = borderkg("build", "--source", str(CURATED), data_dir=tmp_path)
    again = borderkg("build", "--source", str(CURATED.parent), data_dir=tmp_path)
    assert first.returncode == 0 and again.returncode == 0, again.stderr
    assert first.stdout.splitlines()[-1].split()[:2] == again.stdout.splitlines()[-1].split()[:2]
    for store in opened(tmp_path):
        assert store.count(GRAPH) == int(first.stdout.splitlines()[-1].split()[0])


def test_a_bad_source_writes_nothing(tmp_path: Path) -> None:
    assert borderkg("build", data_dir=tmp_path).returncode == 0
    broken = tmp_path / "broken.trig"
    broken.write_text(CURATED.read_text().replace('"curated" .', '"draft" .', 1))
    result = borderkg("build", "--source", str(CURATED), "--source", str(broken),
                      data_dir=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"borderkg: error: {broken}: still a draft")
    for store in opened(tmp_path):
        assert GRAPH not in store.named_graphs()


def curated_with(tmp_path: Path, old: str, new: str) -> Path:
    text = CURATED.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.trig"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('        dcterms:dateAccepted "2025-03-07"^^xsd:date ;\n', "", "has no curation date"),
    ("        rdf:object 1045 ;\n", "", "claim <https://w3id.org/borderkg/id/claim/"
     f"{SOURCE}/3> needs exactly one rdf:subject"),
    ("        rdf:object 1045 ;\n", "        rdf:object 1045, 1046 ;\n", "needs exactly one"),
    ("    claim:2 a bkg:Claim ;\n        rdfs:label \"claim of sentence 2 of source "
     f"{SOURCE}\"@en ;\n        prov:wasDerivedFrom s:2 ;",
     "    claim:2 a bkg:Claim ;\n        prov:wasDerivedFrom s:99 ;",
     "is not prov:wasDerivedFrom a sentence of this source"),
    (f"GRAPH <{GRAPH}> {{",
     "GRAPH <https://w3id.org/borderkg/graph/article/000_e1eaba6903481a9d> {",
     "is the founding article's"),
    (f"GRAPH <{GRAPH}> {{", "GRAPH <https://w3id.org/borderkg/graph/background> {",
     "exactly one named graph"),
    (f"GRAPH <{GRAPH}> {{", f"<https://example.org/a> <https://example.org/b> 1 .\n"
     f"GRAPH <{GRAPH}> {{", "and the default graph"),
    ("    s:7 a bkg:Sentence ;", "    s:7 a bkg:Sentence ; bkg:note [] ;", "blank node"),
    ("    s:7 a bkg:Sentence ;", "    s:7 a bkg:Sentence ; bkg:text \"open ;", "not TriG"),
])
def test_incomplete_or_misplaced_sources_are_refused(tmp_path: Path, old: str, new: str,
                                                    message: str) -> None:
    with pytest.raises(SourceError) as caught:
        read_source(curated_with(tmp_path, old, new))
    assert message in caught.value.message


def test_two_files_of_one_source_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.trig"
    shutil.copy(CURATED, copy)
    with pytest.raises(SourceError, match=f"are both source {SOURCE}"):
        read_sources([CURATED, copy])


def test_a_curated_source_gets_its_graph_s_provenance_even_if_the_file_lacks_it(
        tmp_path: Path) -> None:
    path = curated_with(tmp_path, f"        prov:wasDerivedFrom src:{SOURCE} ;\n"
                        f"        dcterms:source src:{SOURCE} ;\n", "")
    quads = {(str(q.subject), str(q.predicate), str(q.object)) for q in read_source(path).quads}
    assert (f"<{GRAPH}>", "<http://www.w3.org/ns/prov#wasDerivedFrom>", f"<{DOC}>") in quads
    assert (f"<{GRAPH}>", "<http://purl.org/dc/terms/source>", f"<{DOC}>") in quads
