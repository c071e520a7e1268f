"""The RDF graph projected into networkx: entities as nodes, relationships as edges.

What an analyst means by "how is ICE connected to China?" is a walk over *things* and the
*relationships* between them, not over every RDF triple. The projection therefore keeps:

* **nodes**: IRIs that are described somewhere in the store (a type or a label) and that
  are not vocabulary terms, with their display ``label`` and sorted ``types``;
* **edges**: one per distinct ``(subject, predicate, object)`` between two nodes, in a
  ``MultiDiGraph`` keyed by the predicate IRI, direction kept, with the predicate's label
  and the named graphs that hold the triple.

Left out by default, each on request (``include=``): time intervals (``"time"``),
documents and data sets (``"documents"``), sentences (``"sentences"``), statistical
observations (``"observations"``) and schema/provenance edges such as ``rdf:type``
(``"schema"``). Literals are never nodes. Reified claims (``bkg:Claim``) are never nodes:
they are the **evidence index** instead, so every edge an article states carries the
sentences that state it. Observations can instead be *collapsed* into derived edges
(``collapse_observations=True``): an observation measured by an agency about citizens of
a country becomes the edge agency --measured encounters of citizens of--> country.

Node labels and types are read from every graph (a country named in the background is
named in an article-only projection too); edges only from the selected graphs. The
projection reads the store directly (pyoxigraph's ``quads_for_pattern`` on embedded
stores, the store's own ``quads`` elsewhere), which is several times faster than rdflib's
converter. Given an etag cache over the store (``graph.caching``; the service's
``caches.projections``), :func:`project` keeps projections by options under the store's
etag, so a write is never followed by a stale analysis; without one it builds anew.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import networkx as nx
from pyoxigraph import Literal, NamedNode

from graph import ids
from graph.caching import EtagCache
from graph.errors import BadParameter
from graph.namespace import bkg
from graph.store.base import Store

from . import vocab as v

__all__ = ["Edge", "Projection", "ProjectionOptions", "Sentence", "project", "select_graphs"]

T = TypeVar("T")

GRAPH_CHOICES = ("article", "background", "all")
INCLUDE_CHOICES = ("time", "documents", "sentences", "observations", "schema")


@dataclass(frozen=True)
class ProjectionOptions:
    """What to project; hashable so it can key the cache.

    ``graphs``: ``"article"``, ``"background"``, ``"all"`` (every named graph and the
    default graph, except the ontology and the analyses' output) or a tuple of graph IRIs.
    ``predicates``: keep only these predicate IRIs. ``classes``: keep only nodes of these
    classes or their subclasses. ``include``: kinds left out by default to put back.
    """

    graphs: str | tuple[str, ...] = "all"
    predicates: tuple[str, ...] | None = None
    classes: tuple[str, ...] | None = None
    include: frozenset[str] = frozenset()
    collapse_observations: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.graphs, str) and self.graphs not in GRAPH_CHOICES:
            raise BadParameter(f"graph must be one of {', '.join(GRAPH_CHOICES)} or graph IRIs",
                               parameter="graph")
        unknown = set(self.include) - set(INCLUDE_CHOICES)
        if unknown:
            raise BadParameter(f"include: unknown kind(s) {', '.join(sorted(unknown))}; "
                               f"expected {', '.join(INCLUDE_CHOICES)}", parameter="include")


@dataclass(frozen=True)
class Sentence:
    """A sentence of a source document that states a triple."""

    iri: str
    number: int | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "number": self.number, "text": self.text}


@dataclass(frozen=True)
class Edge:
    """One relationship, with what it rests on."""

    subject: str
    predicate: str
    object: str
    subject_label: str
    predicate_label: str
    object_label: str
    graphs: tuple[str, ...]
    sentences: tuple[Sentence, ...] = ()
    observations: int = 0

    def citation(self) -> str:
        """``[sentence 1, 3]``, ``[background]`` or ``[2 observations]``: where it comes from."""
        if self.sentences:
            numbers = ", ".join(str(s.number) for s in self.sentences)
            return f"[sentence {numbers}]" if len(self.sentences) == 1 else f"[sentences {numbers}]"
        if self.observations:
            return f"[{self.observations} observations]"
        return "[" + ", ".join(_graph_name(g) for g in self.graphs) + "]"

    def sentence_text(self) -> str:
        """The edge as a sentence a person reads: subject, predicate, object, citation."""
        return (f"{self.subject_label} {self.predicate_label} {self.object_label} "
                f"{self.citation()}")

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "subject": self.subject, "subject_label": self.subject_label,
            "predicate": self.predicate, "predicate_label": self.predicate_label,
            "object": self.object, "object_label": self.object_label,
            "graphs": list(self.graphs), "sentences": [s.to_dict() for s in self.sentences],
            "text": self.sentence_text()}
        if self.observations:
            data["observations"] = self.observations
        return data


def _graph_name(iri: str) -> str:
    if iri.startswith(ids.GRAPH):
        return iri[len(ids.GRAPH):].split("/", 1)[0]
    return iri or "default graph"


@dataclass
class Projection:
    """A projected graph and the indexes the analyses need (labels, evidence)."""

    graph: nx.MultiDiGraph
    options: ProjectionOptions
    version: int
    graphs: tuple[str, ...]
    evidence: dict[tuple[str, str, str], tuple[Sentence, ...]]
    predicate_labels: dict[str, str]
    lookup: dict[str, set[str]]
    _views: dict[str, Any] = field(default_factory=dict, repr=False)

    def label(self, iri: str) -> str:
        """The display label of a node (its IRI's last segment when it has none)."""
        data = self.graph.nodes.get(iri)
        return data["label"] if data else local_name(iri)

    def undirected(self) -> nx.Graph:
        """Simple undirected view (parallel and reverse edges merged), nodes sorted by IRI."""
        if "undirected" not in self._views:
            g = nx.Graph()
            g.add_nodes_from(sorted(self.graph.nodes))
            g.add_edges_from(sorted({tuple(sorted((s, o))) for s, o in self.graph.edges()
                                     if s != o}))
            self._views["undirected"] = g
        return self._views["undirected"]

    def directed(self) -> nx.DiGraph:
        """Simple directed view (parallel edges merged), subject → object."""
        if "directed" not in self._views:
            g = nx.DiGraph()
            g.add_nodes_from(sorted(self.graph.nodes))
            g.add_edges_from(sorted({(s, o) for s, o in self.graph.edges() if s != o}))
            self._views["directed"] = g
        return self._views["directed"]

    def cached(self, name: str, build: Callable[[], T]) -> T:
        """A derived structure (an igraph copy, a score table) built once per projection."""
        if name not in self._views:
            self._views[name] = build()
        built: T = self._views[name]  # what ``build`` made for this name
        return built

    def edge(self, s: str, p: str, o: str) -> Edge:
        data = self.graph.edges[s, o, p]
        return Edge(s, p, o, self.label(s), self.predicate_labels.get(p, local_name(p)),
                    self.label(o), data["graphs"], self.evidence.get((s, p, o), ()),
                    data.get("observations", 0))

    def edges_between(self, a: str, b: str) -> list[Edge]:
        """Every relationship linking ``a`` and ``b``, either way, sorted."""
        found = [(a, p, b) for p in self.graph.get_edge_data(a, b, default={})]
        if a != b:
            found += [(b, p, a) for p in self.graph.get_edge_data(b, a, default={})]
        return [self.edge(*t) for t in sorted(found)]

    def edges_of(self, nodes: Iterable[str]) -> list[Edge]:
        """Every relationship among ``nodes`` (the induced subgraph), sorted."""
        keep = set(nodes)
        triples = sorted((s, p, o) for s, o, p in self.graph.edges(keep, keys=True) if o in keep)
        return [self.edge(*t) for t in triples]

    def node_dict(self, iri: str) -> dict[str, Any]:
        data = self.graph.nodes[iri]
        return {"iri": iri, "label": data["label"], "types": list(data["types"])}

    def summary(self) -> dict[str, Any]:
        return {"nodes": self.graph.number_of_nodes(), "edges": self.graph.number_of_edges(),
                "graphs": list(self.graphs), "store_version": self.version}


def local_name(iri: str) -> str:
    """``assistedBy`` → ``assisted by``; the readable tail of an IRI without a label."""
    tail = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    spaced = "".join(" " + c.lower() if c.isupper() and i and tail[i - 1].islower() else c
                     for i, c in enumerate(tail))
    return spaced or iri


def normalise(text: str) -> str:
    """Case- and accent-insensitive key: ``"Beijíng "`` and ``"beijing"`` match."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(folded.casefold().split())


# -- the cache ---------------------------------------------------------------------------

def project(store: Store, options: ProjectionOptions | None = None, *,
            cache: EtagCache[Projection] | None = None, **kwargs: Any) -> Projection:
    """The projection of ``store`` for ``options`` (or keyword options), kept in ``cache``
    (an etag cache over ``store``) while the store is unchanged; built anew without one.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> p = project(tiny_store())
    >>> p.summary()["nodes"], p.summary()["edges"]
    (5, 5)
    >>> p.label("https://example.org/ice")
    'U.S. Immigration and Customs Enforcement'
    >>> project(tiny_store(), include=frozenset({"schema"})).graph.number_of_edges() > 5
    True
    >>> store = tiny_store()
    >>> cache = EtagCache.for_store(store, entries=4)
    >>> project(store, cache=cache) is project(store, cache=cache)
    True
    """
    options = options or ProjectionOptions(**kwargs)
    if cache is None:
        return build_projection(store, options)
    return cache.get_or_build(("projection", options), lambda: build_projection(store, options))


# -- building ----------------------------------------------------------------------------

def select_graphs(store: Store, choice: str | tuple[str, ...]) -> tuple[str, ...]:
    """Graph IRIs for a choice (``""`` is the default graph)."""
    named = [g for g in store.named_graphs() if g not in v.UNPROJECTED_GRAPHS]
    if isinstance(choice, tuple):
        missing = sorted(set(choice) - set(named) - {""})
        if missing:
            raise BadParameter(f"no such graph: {', '.join(missing)}", parameter="graph")
        return tuple(sorted(choice))
    if choice == "article":
        return tuple(g for g in named if g.startswith(ids.GRAPH + "article/"))
    if choice == "background":
        return tuple(g for g in named if g == ids.GRAPH_BACKGROUND)
    return ("", *named)


def _quads(store: Store, s: Any = None, p: Any = None, o: Any = None,
           g: Any = None) -> Iterator[Any]:
    engine = getattr(store, "engine", None)
    if engine is not None:
        return iter(engine.quads_for_pattern(s, p, o, g))
    return store.quads(s, p, o, g)


def _graph_term(iri: str) -> Any:
    from pyoxigraph import DefaultGraph

    return DefaultGraph() if not iri else NamedNode(iri)


def build_projection(store: Store, options: ProjectionOptions) -> Projection:
    """Build a projection without the cache (see :func:`project`)."""
    version = store.version
    graphs = select_graphs(store, options.graphs)
    types = _types(store)
    labels = _labels(store)
    allowed = _NodeFilter(options, types, labels, _superclasses(store))
    edges, observations = _edges(store, graphs, options, allowed)
    if options.collapse_observations:
        _collapse(observations, edges, allowed)
    evidence = _evidence(store) if edges else {}
    g = nx.MultiDiGraph()
    nodes = sorted({n for s, _, o in edges for n in (s, o)})
    g.add_nodes_from((n, {"label": _display_label(n, labels),
                          "types": tuple(sorted(types.get(n, ())))}) for n in nodes)
    for (s, p, o), data in sorted(edges.items()):
        g.add_edge(s, o, key=p, graphs=tuple(sorted(data["graphs"])),
                   **({"observations": data["observations"]} if "observations" in data else {}))
    predicates = {p for _, p, _ in edges}
    return Projection(g, options, version, graphs,
                      {k: e for k, e in evidence.items() if k in edges},
                      _predicate_labels(store, predicates), _lookup(nodes, labels))


def _types(store: Store) -> dict[str, set[str]]:
    types: dict[str, set[str]] = defaultdict(set)
    for q in _quads(store, None, NamedNode(v.RDF_TYPE), None, None):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
            types[q.subject.value].add(q.object.value)
    return types


def _superclasses(store: Store) -> dict[str, set[str]]:
    """Class → itself and every superclass (transitive ``rdfs:subClassOf``)."""
    direct: dict[str, set[str]] = defaultdict(set)
    for q in _quads(store, None, NamedNode(v.SUBCLASS_OF), None, None):
        if isinstance(q.subject, NamedNode) and isinstance(q.object, NamedNode):
            direct[q.subject.value].add(q.object.value)
    closure: dict[str, set[str]] = {}

    def up(cls: str) -> set[str]:
        if cls not in closure:
            closure[cls] = {cls}
            for parent in direct.get(cls, ()):
                closure[cls] |= up(parent)
        return closure[cls]

    return _Closure(up)


class _Closure(dict[str, set[str]]):
    """Lazy superclass closure: computed for the classes actually met."""

    def __init__(self, up: Callable[[str], set[str]]) -> None:
        super().__init__()
        self.up = up

    def __missing__(self, cls: str) -> set[str]:
        return self.up(cls)


def _labels(store: Store) -> dict[str, list[tuple[int, int, str, str]]]:
    """IRI → ``(property rank, language rank, text, property)`` for every label found."""
    labels: dict[str, list[tuple[int, int, str, str]]] = defaultdict(list)
    for rank, prop in enumerate(v.LOOKUP_LABELS):
        for q in _quads(store, None, NamedNode(prop), None, None):
            if isinstance(q.subject, NamedNode) and isinstance(q.object, Literal):
                lang = q.object.language
                lang_rank = 0 if lang in (None, "en") or (lang or "").startswith("en-") else 1
                labels[q.subject.value].append((rank, lang_rank, q.object.value, prop))
    return labels


def _display_label(iri: str, labels: dict[str, list[tuple[int, int, str, str]]]) -> str:
    shown = [x for x in labels.get(iri, ()) if x[3] in v.DISPLAY_LABELS]
    return min(shown)[2] if shown else local_name(iri)


def _lookup(nodes: list[str], labels: dict[str, list[tuple[int, int, str, str]]]
            ) -> dict[str, set[str]]:
    index: dict[str, set[str]] = defaultdict(set)
    for n in nodes:
        for _, _, text, _ in labels.get(n, ()):
            index[normalise(text)].add(n)
        if n.startswith(ids.ID):
            index[normalise(n[len(ids.ID):])].add(n)
    return dict(index)


class _NodeFilter:
    """Decides, once per IRI, whether it may be a node."""

    def __init__(self, options: ProjectionOptions, types: dict[str, set[str]],
                 labels: dict[str, Any], supers: dict[str, set[str]]) -> None:
        self.options, self.types, self.labels, self.supers = options, types, labels, supers
        include = options.include
        self.excluded = set(v.CLAIM_CLASSES | v.DERIVED_CLASSES)
        for kind, classes in (("time", v.TIME_CLASSES), ("documents", v.DOCUMENT_CLASSES),
                              ("sentences", v.SENTENCE_CLASSES),
                              ("observations", v.OBSERVATION_CLASSES)):
            if kind not in include:
                self.excluded |= classes
        self.vocabulary_ok = "schema" in include
        self.wanted = set(options.classes) if options.classes else None
        self.memo: dict[str, bool] = {}

    def classes_of(self, iri: str) -> set[str]:
        found: set[str] = set()
        for t in self.types.get(iri, ()):
            found |= self.supers[t]
        return found

    def is_observation(self, iri: str) -> bool:
        return bool(self.classes_of(iri) & v.OBSERVATION_CLASSES)

    def __call__(self, iri: str) -> bool:
        ok = self.memo.get(iri)
        if ok is None:
            ok = self.memo[iri] = self._decide(iri)
        return ok

    def _decide(self, iri: str) -> bool:
        if iri.startswith(v.VOCABULARY_PREFIXES):
            return self.vocabulary_ok and self.wanted is None
        if iri not in self.types and iri not in self.labels:
            return False
        classes = self.classes_of(iri)
        if classes & self.excluded:
            return False
        return self.wanted is None or bool(classes & self.wanted)


def _edges(store: Store, graphs: tuple[str, ...], options: ProjectionOptions,
           allowed: _NodeFilter) -> tuple[dict[tuple[str, str, str], dict[str, Any]],
                                          dict[str, dict[str, set[str]]]]:
    """Entity edges of the selected graphs, and the dimension values of observations."""
    edges: dict[tuple[str, str, str], dict[str, Any]] = {}
    observations: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    keep_schema = "schema" in options.include
    wanted = set(options.predicates) if options.predicates else None
    collapse = options.collapse_observations
    for graph in graphs:
        for q in _quads(store, None, None, None, _graph_term(graph)):
            o = q.object
            if not isinstance(o, NamedNode) or not isinstance(q.subject, NamedNode):
                continue
            s, p, ov = q.subject.value, q.predicate.value, o.value
            if collapse and allowed.is_observation(s):
                observations[s][p].add(ov)
                observations[s][""].add(graph)
            if (wanted is not None and p not in wanted) or (
                    not keep_schema and p in v.SCHEMA_PREDICATES):
                continue
            if allowed(s) and allowed(ov):
                edges.setdefault((s, p, ov), {"graphs": set()})["graphs"].add(graph)
    return edges, observations


def _collapse(observations: dict[str, dict[str, set[str]]],
              edges: dict[tuple[str, str, str], dict[str, Any]], allowed: _NodeFilter) -> None:
    """Observation → derived edges (first matching rule), counting the observations."""
    for dims in observations.values():
        for source, target, predicate in v.COLLAPSE_RULES:
            pairs = [(a, b) for a in dims.get(source, ()) for b in dims.get(target, ())
                     if allowed(a) and allowed(b)]
            for a, b in pairs:
                data = edges.setdefault((a, predicate, b), {"graphs": set(), "observations": 0})
                data["graphs"] |= dims[""]
                data["observations"] = data.get("observations", 0) + 1
            if pairs:
                break


def _evidence(store: Store) -> dict[tuple[str, str, str], tuple[Sentence, ...]]:
    """(s, p, o) → the sentences its claims were derived from, from the reified claims."""
    claims = {q.subject.value for q in _quads(store, None, NamedNode(v.RDF_TYPE),
                                                   NamedNode(bkg.Claim), None)}
    parts: dict[str, dict[str, str]] = defaultdict(dict)
    for name in ("subject", "predicate", "object"):
        for q in _quads(store, None, NamedNode(v.RDF + name), None, None):
            if q.subject.value in claims and isinstance(q.object, NamedNode):
                parts[q.subject.value][name] = q.object.value
    sources: dict[str, set[str]] = defaultdict(set)
    for q in _quads(store, None, NamedNode(v.PROV + "wasDerivedFrom"), None, None):
        if q.subject.value in claims and isinstance(q.object, NamedNode):
            sources[q.subject.value].add(q.object.value)
    evidence: dict[tuple[str, str, str], set[Sentence]] = defaultdict(set)
    read: dict[str, Sentence] = {}
    for claim, spo in parts.items():
        if len(spo) == 3:
            for iri in sources.get(claim, ()):
                if iri not in read:
                    read[iri] = _sentence(store, iri)
                evidence[(spo["subject"], spo["predicate"], spo["object"])].add(read[iri])
    return {k: tuple(sorted(s, key=lambda x: (x.number or 0, x.iri))) for k, s in evidence.items()}


def _sentence(store: Store, iri: str) -> Sentence:
    node = NamedNode(iri)
    number = next((int(q.object.value) for q in _quads(
        store, node, NamedNode(bkg.sentenceNumber), None, None)), None)
    text = next((q.object.value for q in _quads(store, node, NamedNode(bkg.text),
                                                None, None)), "")
    return Sentence(iri, number, text)


def _predicate_labels(store: Store, predicates: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for p in predicates:
        if p in v.COLLAPSED_LABELS:
            found[p] = v.COLLAPSED_LABELS[p]
            continue
        texts = sorted((0 if (q.object.language or "en").startswith("en") else 1, q.object.value)
                       for q in _quads(store, NamedNode(p), NamedNode(v.RDFS_LABEL), None, None)
                       if isinstance(q.object, Literal))
        found[p] = texts[0][1] if texts else local_name(p)
    return found
