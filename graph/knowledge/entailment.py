"""RDFS (or OWL 2 RL) entailment, materialised into its own named graph.

The SPARQL engine answers by simple entailment only: a query for ``?x a org:Organization``
misses the agencies typed ``bkg:GovernmentAgency``, although the ontology says every
government agency is an organisation. Rather than entail at query time (a cost on every
query, and a regime the engine lacks), :func:`entail` runs owlrl's forward chaining once
over the ontology and the seed's knowledge graphs and writes what it derives into
``graph/entailment``. Queries then see it through the union default graph, or ask for it
by name; a query that names other graphs sees no entailed triple at all.

Only *new* triples about IRIs are written: none already stored in any other graph, none
about the RDF, RDFS, OWL or XSD vocabularies themselves (owlrl's axioms), none with a
literal or blank node as subject or any blank node (a blank node copied into another
graph is a different node, so such a triple would say nothing about the original), and
none of the statements every resource satisfies (``a rdfs:Resource``, ``a owl:Thing``,
``x owl:sameAs x``, a class being its own subclass). See docs/entailment.md.

The statistics graphs of the importers are left out by default: their Data Cube
observations number in the tens of thousands, and owlrl's pure-Python rules, whose
literal rule is quadratic, would take hours over them. ``include_statistics`` adds them,
within ``max_triples``.
"""
from __future__ import annotations

import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from itertools import islice
from typing import Literal

from pyoxigraph import Literal as OxLiteral
from pyoxigraph import NamedNode, RdfFormat, Triple
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node

from graph import ids
from graph.errors import BadParameter, NotFound
from graph.namespace import PREFIXES
from graph.store.base import Store, solutions

Profile = Literal["rdfs", "owl-rl"]
PROFILES: tuple[Profile, ...] = ("rdfs", "owl-rl")
GRAPH = ids.graph("entailment")
#: the seed's knowledge graphs besides the ontology; curated sources live under article/
KNOWLEDGE_GRAPHS = (ids.GRAPH_BACKGROUND, ids.GRAPH_REFERENCE)
SOURCE_GRAPHS = ids.GRAPH + "article/"
#: the statistics importers' graphs (graph.imports.cbp, .usbp, .ice); spelt out so that
#: entailment does not import the importers
STATISTICS_GRAPHS = (ids.graph("cbp-encounters"), ids.graph("usbp-monthly"),
                     ids.graph("ice-removals"))
#: input triples owlrl is given at most. The seed is about 2,800 (RDFS: about 1 s), but
#: owlrl compares every literal with every other, so time grows with the square of the
#: input: 6,000 triples (the seed and the ICE table) take 6 s, 20,000 about a minute
MAX_TRIPLES = 20_000

RDF = PREFIXES["rdf"]
RDFS = PREFIXES["rdfs"]
OWL = PREFIXES["owl"]
XSD = PREFIXES["xsd"]
PROV = PREFIXES["prov"]
DCTERMS = PREFIXES["dcterms"]
#: namespaces whose terms owlrl states axioms about; never subjects of what is written
VOCABULARY = (RDF, RDFS, OWL, XSD)
#: (predicate, object) pairs true of every resource, so stating them adds nothing
TRIVIAL = frozenset({(RDF + "type", RDFS + "Resource"), (RDF + "type", OWL + "Thing"),
                     (RDFS + "subClassOf", RDFS + "Resource"),
                     (RDFS + "subClassOf", OWL + "Thing")})
#: predicates whose reflexive statements (``x p x``) every term satisfies
REFLEXIVE = frozenset({OWL + "sameAs", RDFS + "subClassOf", RDFS + "subPropertyOf",
                       OWL + "equivalentClass", OWL + "equivalentProperty"})
#: candidate triples checked against the store per query (bounds the query's size)
BATCH = 2_000


@dataclass(frozen=True)
class EntailmentReport:
    """What a run did: the profile, the graphs read, and the sizes and time."""

    profile: Profile
    sources: tuple[str, ...]
    input_triples: int
    entailed: int
    seconds: float
    graph: str = GRAPH
    created: str = field(default="")

    def to_dict(self) -> dict[str, object]:
        return {"profile": self.profile, "graph": self.graph, "sources": list(self.sources),
                "input_triples": self.input_triples, "entailed": self.entailed,
                "seconds": round(self.seconds, 3), "created": self.created}


def entail(store: Store, profile: str = "rdfs", *, include_statistics: bool = False,
           max_triples: int = MAX_TRIPLES) -> EntailmentReport:
    """Replace the entailment graph of ``store`` with what ``profile`` entails from the
    ontology and the knowledge graphs (and the statistics, if asked), in one update."""
    started = time.perf_counter()
    checked = check_profile(profile)
    sources = source_graphs(store, include_statistics)
    data = read_graphs(store, sources, max_triples)
    input_triples = len(data)
    stated = stated_literals(data)
    derived = [t for t in closure(data, checked)
               if informative(t) and sound_literal(t, stated, data)]
    new = not_stored(store, [as_triple(t) for t in derived])
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    write(store, new + provenance(checked, sources, created))
    return EntailmentReport(checked, sources, input_triples, len(new),
                            time.perf_counter() - started, created=created)


def check_profile(profile: str) -> Profile:
    """``profile`` as a :data:`Profile`; anything else is the caller's mistake."""
    for known in PROFILES:
        if profile == known:
            return known
    raise BadParameter(f"unknown entailment profile {profile!r}; use one of "
                       f"{', '.join(PROFILES)}", parameter="profile")


def source_graphs(store: Store, include_statistics: bool = False) -> tuple[str, ...]:
    """The graphs entailment reads: the ontology, every source's graph, background and
    reference, and with ``include_statistics`` the importers' graphs, where present. A
    store without the ontology has nothing to entail from (an unbuilt store)."""
    present = store.named_graphs()
    if ids.GRAPH_ONTOLOGY not in present:
        raise NotFound(f"the store has no ontology graph <{ids.GRAPH_ONTOLOGY}> to entail "
                       "from; build the seed first (borderkg build)", graph=ids.GRAPH_ONTOLOGY)
    wanted = [ids.GRAPH_ONTOLOGY, *sorted(g for g in present if g.startswith(SOURCE_GRAPHS)),
              *KNOWLEDGE_GRAPHS, *(STATISTICS_GRAPHS if include_statistics else ())]
    return tuple(g for g in wanted if g in present)


def read_graphs(store: Store, graphs: Iterable[str], max_triples: int = MAX_TRIPLES) -> Graph:
    """The triples of ``graphs`` as one rdflib graph, refused above ``max_triples`` before
    anything is read. Dumped as one N-Triples document, so a blank node shared by two
    graphs stays one node."""
    graphs = tuple(graphs)
    if _size(store, graphs, max_triples) > max_triples:
        raise BadParameter(f"entailment input of more than {max_triples:,} triples (graphs "
                           f"{', '.join(graphs)}); raise the limit or leave the statistics "
                           "out", parameter="max_triples")
    buffer = io.BytesIO()
    for graph in graphs:
        store.dump(buffer, RdfFormat.N_TRIPLES, graph)
    return Graph().parse(data=buffer.getvalue().decode("utf-8"), format="nt")


def _size(store: Store, graphs: tuple[str, ...], limit: int) -> int:
    """The triples of ``graphs``, counted no further than ``limit + 1``: refusing a
    statistics graph of half a million quads must not cost a count of all of them."""
    seen = 0
    for graph in graphs:
        seen += sum(1 for _ in islice(store.quads(None, None, None, graph), limit + 1 - seen))
        if seen > limit:
            break
    return seen


def closure(data: Graph, profile: Profile) -> set[tuple[Node, Node, Node]]:
    """The triples owlrl derives from ``data`` under ``profile`` that ``data`` lacks;
    ``data`` is expanded in place. owlrl's improved datatypes are off: they swap rdflib's
    lexical conversions process-wide while they run, which a threaded server must not."""
    import owlrl  # pure-Python rules: imported only by those who entail

    semantics = owlrl.RDFS_Semantics if profile == "rdfs" else owlrl.OWLRL_Semantics
    before = set(data)
    owlrl.DeductiveClosure(semantics, improved_datatypes=False).expand(data)
    return set(data) - before


def informative(triple: tuple[Node, Node, Node]) -> bool:
    """Whether a derived triple says something about a resource of the data (see the
    module's docstring for what is left out, and why)."""
    s, p, o = triple
    if not isinstance(s, URIRef) or isinstance(o, BNode) or not isinstance(p, URIRef):
        return False
    if str(s).startswith(VOCABULARY) or (str(p), str(o)) in TRIVIAL:
        return False
    return not (s == o and str(p) in REFLEXIVE)


def stated_literals(data: Graph) -> dict[tuple[Node, Node], set[Node]]:
    """The predicates by which ``data`` gives each subject each literal, literals compared
    as terms (lexical form, datatype, language), for :func:`sound_literal`."""
    stated: dict[tuple[Node, Node], set[Node]] = {}
    for s, p, o in data:
        if isinstance(o, RdfLiteral):
            stated.setdefault((s, o), set()).add(p)
    return stated


def sound_literal(triple: tuple[Node, Node, Node], stated: dict[tuple[Node, Node], set[Node]],
                  expanded: Graph) -> bool:
    """Whether a derived triple with a literal object follows from a stated one by a
    sub-property: the same literal, stated of the subject (or of a resource ``owl:sameAs``
    it) by a property that is ``rdfs:subPropertyOf`` the derived triple's.

    RDFS and OWL 2 RL derive a triple with a literal object only that way. owlrl also
    copies every triple onto each literal it takes for the same value, comparing values
    as Python objects: ``True == 1`` gives a sentence numbered ``"1"^^xsd:integer`` the
    number ``"true"^^xsd:boolean``, and ``"Northern Land Border"`` is taken for
    ``"Northern Land Border"@en``, swapping a label and a code. Those are dropped."""
    s, p, o = triple
    if not isinstance(o, RdfLiteral):
        return True
    sub_property = URIRef(RDFS + "subPropertyOf")
    same = {s, *expanded.objects(s, URIRef(OWL + "sameAs"))}
    return any((narrow, sub_property, p) in expanded
               for subject in same for narrow in stated.get((subject, o), ()))


def as_triple(triple: tuple[Node, Node, Node]) -> Triple:
    """An rdflib triple (IRI subject and predicate, no blank node) as a pyoxigraph one."""
    s, p, o = triple
    return Triple(NamedNode(str(s)), NamedNode(str(p)), _object(o))


def _object(node: Node) -> NamedNode | OxLiteral:
    if isinstance(node, RdfLiteral):
        if node.language:
            return OxLiteral(str(node), language=node.language)
        return OxLiteral(str(node), datatype=NamedNode(str(node.datatype)) if node.datatype
                         else None)
    return NamedNode(str(node))


def not_stored(store: Store, triples: list[Triple]) -> list[Triple]:
    """``triples`` less those some graph other than the entailment graph (or the default
    graph) already holds, so the entailment graph holds only what entailment adds."""
    stored: set[Triple] = set()
    for start in range(0, len(triples), BATCH):
        stored.update(_stored(store, triples[start:start + BATCH]))
    return sorted((t for t in set(triples) if t not in stored), key=str)


def _stored(store: Store, batch: list[Triple]) -> Iterator[Triple]:
    rows = "\n".join(f"({t.subject} {t.predicate} {t.object})" for t in batch)
    text = (f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES (?s ?p ?o) {{\n{rows}\n}}\n"
            f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{GRAPH}>) }} UNION {{ ?s ?p ?o }} }}")
    for row in solutions(store.query(text, union_default=False)):
        yield Triple(row["s"], row["p"], row["o"])


def provenance(profile: Profile, sources: tuple[str, ...], created: str) -> list[Triple]:
    """The PROV-O record of the entailment graph, stored in it: generated by a run of
    owlrl (its version, the profile) that used the source graphs, and when."""
    graph, activity = NamedNode(GRAPH), NamedNode(ids.thing("activity", f"entailment-{profile}"))
    agent = NamedNode(ids.thing("software", f"owlrl-{version('owlrl')}"))
    when = OxLiteral(created, datatype=NamedNode(XSD + "dateTime"))
    rules = "RDFS_Semantics" if profile == "rdfs" else "OWLRL_Semantics"
    triples = [
        Triple(graph, NamedNode(RDF + "type"), NamedNode(PROV + "Entity")),
        Triple(graph, NamedNode(PROV + "wasGeneratedBy"), activity),
        Triple(graph, NamedNode(DCTERMS + "created"), when),
        Triple(activity, NamedNode(RDF + "type"), NamedNode(PROV + "Activity")),
        Triple(activity, NamedNode(RDFS + "label"),
               OxLiteral(f"{profile} entailment by owlrl {version('owlrl')} "
                         f"(owlrl.{rules})", language="en")),
        Triple(activity, NamedNode(PROV + "wasAssociatedWith"), agent),
        Triple(activity, NamedNode(PROV + "endedAtTime"), when),
        Triple(agent, NamedNode(RDF + "type"), NamedNode(PROV + "SoftwareAgent")),
        Triple(agent, NamedNode(RDFS + "label"), OxLiteral(f"owlrl {version('owlrl')}")),
        Triple(agent, NamedNode(RDFS + "seeAlso"), NamedNode("https://pypi.org/project/owlrl/")),
    ]
    for source in sources:
        triples.append(Triple(activity, NamedNode(PROV + "used"), NamedNode(source)))
        triples.append(Triple(graph, NamedNode(PROV + "wasDerivedFrom"), NamedNode(source)))
    return triples


def write(store: Store, triples: list[Triple]) -> None:
    """Replace the entailment graph with ``triples`` in one update, so a reader sees the
    old graph or the new one, never a mix or none."""
    body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    store.update(f"DROP SILENT GRAPH <{GRAPH}> ;\nINSERT DATA {{ GRAPH <{GRAPH}> {{\n{body}\n}} }}")
