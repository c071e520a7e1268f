"""The W3C SPARQL 1.1 manifests, read into plain test cases.

The manifests name every file by its W3C address
(``http://www.w3.org/2009/sparql/docs/tests/data-sparql11/...``): they are parsed with
that address as their base, so test IRIs, graph names and expected results keep the
names the suite's authors gave them, and each address is then mapped onto the local copy
of the suite. Nothing is ever fetched.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from tests.conftest import SHARED

SUITE = SHARED / "w3c" / "sparql11"
W3C_BASE = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
DAWGT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")

#: approvals whose tests are left out (the same way for every server) and listed apart
EXCLUDED_APPROVALS = frozenset({"Withdrawn", "Rejected"})

GROUPS = ("query evaluation", "update evaluation", "syntax", "protocol", "graph store",
          "federation", "service description", "result formats", "entailment")
#: groups reported but never asserted on
REPORT_ONLY = frozenset({"entailment"})


def local_path(iri: str) -> Path:
    """The local file behind a W3C suite address (the suite is never fetched)."""
    if not iri.startswith(W3C_BASE):
        raise ValueError(f"not a file of the suite: {iri}")
    return SUITE / iri[len(W3C_BASE):]


def suite_iri(path: Path) -> str:
    """The W3C address of a local suite file: the base its relative IRIs resolve against."""
    return W3C_BASE + path.resolve().relative_to(SUITE.resolve()).as_posix()


@dataclass(frozen=True)
class GraphFile:
    """An RDF file of the suite and the graph it fills (``None``: the default graph)."""

    iri: str
    graph: str | None

    @property
    def path(self) -> Path:
        return local_path(self.iri)


@dataclass(frozen=True)
class Exchange:
    """One HTTP request of a protocol or Graph Store test and what its answer must be."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    statuses: tuple[str, ...]
    boolean: bool | None = None
    result_format: str | None = None
    location_variable: str | None = None
    response_media_type: str | None = None
    response_body: str | None = None


@dataclass(frozen=True)
class Case:
    """One test of the suite, with every file it needs as a suite address."""

    iri: str
    name: str
    kind: str
    approval: str
    query: str | None = None
    data: tuple[GraphFile, ...] = ()
    result: str | None = None
    result_data: tuple[GraphFile, ...] = ()
    service_data: tuple[tuple[str, tuple[GraphFile, ...]], ...] = ()
    exchanges: tuple[Exchange, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def directory(self) -> str:
        """The suite directory of the test's manifest (``add``, ``protocol``...)."""
        return self.iri.rsplit("/", 2)[-2]

    @property
    def id(self) -> str:
        """A short, stable name: ``directory/local-name``."""
        return f"{self.directory}/{self.iri.rsplit('#', 1)[-1]}"

    @property
    def group(self) -> str:
        return group_of(self.kind, self.directory)


def group_of(kind: str, directory: str) -> str:
    """Which row of the table a test counts in."""
    if directory in ("service", "syntax-fed"):
        return "federation"
    if directory == "entailment":
        return "entailment"
    if directory in ("csv-tsv-res", "json-res"):
        return "result formats"
    if "Syntax" in kind:
        return "syntax"
    return {"UpdateEvaluationTest": "update evaluation", "ProtocolTest": "protocol",
            "GraphStoreProtocolTest": "graph store",
            "ServiceDescriptionTest": "service description"}.get(kind, "query evaluation")


def _local_name(node: Node | None) -> str:
    return "" if node is None else str(node).rsplit("#", 1)[-1]


def _items(graph: Graph, head: Node | None) -> list[Node]:
    return [] if head is None else list(Collection(graph, head))


def _parse(iri: str) -> Graph:
    graph = Graph()
    graph.parse(local_path(iri), format="turtle", publicID=iri)
    return graph


def load_cases(entry: str = W3C_BASE + "manifest-all.ttl") -> list[Case]:
    """Every test reachable from ``entry`` through ``mf:include``, in manifest order."""
    graph = _parse(entry)
    cases: list[Case] = []
    for manifest in graph.subjects(RDF.type, MF.Manifest):
        for head in graph.objects(manifest, MF.include):
            for included in _items(graph, head):
                cases.extend(load_cases(str(included)))
        for head in graph.objects(manifest, MF.entries):
            cases.extend(read_case(graph, test) for test in _items(graph, head))
    return cases


def read_case(graph: Graph, test: Node) -> Case:
    """One manifest entry as a :class:`Case`."""
    action = graph.value(test, MF.action)
    kind = _local_name(graph.value(test, RDF.type))
    approval = _local_name(graph.value(test, DAWGT.approval)) or "unclassified"
    base = Case(iri=str(test), name=str(graph.value(test, MF.name) or ""), kind=kind,
                approval=approval,
                requires=tuple(_local_name(r) for r in graph.objects(test, MF.requires)))
    if isinstance(action, URIRef):
        return replace(base, query=str(action))
    if action is None:
        return base
    if graph.value(action, HT.requests) is not None:
        return replace(base, data=_graph_data(graph, test), exchanges=_exchanges(graph, action))
    query = graph.value(action, QT.query) or graph.value(action, UT.request)
    result = graph.value(test, MF.result)
    return replace(base, query=str(query) if query else None, data=_dataset(graph, action),
                   result=str(result) if isinstance(result, URIRef) else None,
                   result_data=_dataset(graph, result) if isinstance(result, BNode) else (),
                   service_data=_service_data(graph, action))

def _dataset(graph: Graph, node: Node) -> tuple[GraphFile, ...]:
    """Default-graph files (``qt:data``/``ut:data``) then named graphs."""
    files = [GraphFile(str(d), None) for p in (QT.data, UT.data) for d in graph.objects(node, p)]
    return (*files, *_graph_data(graph, node))


def _graph_data(graph: Graph, node: Node) -> tuple[GraphFile, ...]:
    """Named graphs: a file named by its own address, or ``[ ut:graph <file>; rdfs:label
    "name" ]`` where the label is the graph's name."""
    files = []
    for predicate in (QT.graphData, UT.graphData):
        for item in graph.objects(node, predicate):
            if isinstance(item, URIRef):
                files.append(GraphFile(str(item), str(item)))
                continue
            source = graph.value(item, UT.graph) or graph.value(item, QT.graph)
            label = graph.value(item, RDFS.label)
            files.append(GraphFile(str(source), str(label) if label else str(source)))
    return tuple(files)


def _service_data(graph: Graph, action: Node) -> tuple[tuple[str, tuple[GraphFile, ...]], ...]:
    """Each remote endpoint a federated test names, with the files it serves."""
    endpoints = []
    for item in graph.objects(action, QT.serviceData):
        files = tuple(GraphFile(str(d), None) for d in graph.objects(item, QT.data))
        endpoints.append((str(graph.value(item, QT.endpoint)), files))
    return tuple(sorted(endpoints))


def _exchanges(graph: Graph, action: Node) -> tuple[Exchange, ...]:
    return tuple(_exchange(graph, request)
                 for head in graph.objects(action, HT.requests)
                 for request in _items(graph, head))


def _headers(graph: Graph, node: Node | None) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    return tuple((str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
                 for head in graph.objects(node, HT.headers) for h in _items(graph, head))


def _body(graph: Graph, node: Node | None) -> tuple[str | None, str]:
    body = None if node is None else graph.value(node, HT.body)
    if body is None:
        return None, "UTF-8"
    encoding = graph.value(body, CNT.characterEncoding)
    return str(graph.value(body, CNT.chars)), str(encoding or "UTF-8")


def _exchange(graph: Graph, request: Node) -> Exchange:
    response = graph.value(request, HT.resp)
    text, encoding = _body(graph, request)
    response_text, _ = _body(graph, response)
    response_type = dict((k.lower(), v) for k, v in _headers(graph, response)).get(
        "content-type")
    boolean = graph.value(response, MF.expectedBoolean)
    result_format = graph.value(response, MF.expectedFormat)
    location = graph.value(response, MF.expectedLocation)
    return Exchange(
        method=str(graph.value(request, HT.methodName)),
        path=str(graph.value(request, HT.absolutePath)),
        headers=_headers(graph, request),
        body=None if text is None else text.encode(encoding),
        statuses=tuple(sorted(_local_name(s) for s in graph.objects(response, MF.expectedStatus))),
        boolean=bool(boolean.toPython()) if isinstance(boolean, Literal) else None,
        result_format=str(result_format) if result_format else None,
        location_variable=str(location) if location else None,
        response_media_type=response_type,
        response_body=response_text)

