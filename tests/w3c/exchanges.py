"""Protocol, Graph Store and Service Description tests: HTTP exchanges as the manifests
describe them (``ht:Request`` and the ``mf:expected*`` of its ``ht:Response``).

Request paths in the manifests start with ``/sparql/`` (protocol) or ``/gsp`` (Graph
Store); they are moved onto each server's own endpoints. A server with separate query and
update endpoints gets each request on the one its content asks for (``query=`` or
``update=``, the media type), or, when the request does not say (a deliberately wrong
media type), on the one the test's name says it is about.
"""
from __future__ import annotations

from urllib.parse import parse_qs, quote, urljoin, urlsplit

import requests
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.term import Literal

from tests.w3c.manifest import Case, Exchange
from tests.w3c.rdf import dataset_quads, media_type, parse_answer, parse_rdf
from tests.w3c.results import Solutions, compare, to_graph
from tests.w3c.runner import TIMEOUT, Failed, Lane, Target

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
STATUS = {"OK": 200, "Created": 201, "Accepted": 202, "NoContent": 204, "BadRequest": 400,
          "Unauthorized": 401, "Forbidden": 403, "NotFound": 404, "MethodNotAllowed": 405,
          "NotAcceptable": 406, "UnsupportedMediaType": 415}
SD_ACCEPT = ("text/turtle, application/rdf+xml;q=0.9, application/n-triples;q=0.8, "
             "application/ld+json;q=0.5")
LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
NOT_LITERAL = (SD.endpoint, SD.resultFormat, SD.inputFormat, SD.feature, SD.languageExtension,
               SD.extensionFunction, SD.extensionAggregate, SD.propertyFeature,
               SD.defaultEntailmentRegime, SD.entailmentRegime, SD.defaultDataset,
               SD.defaultGraph, SD.namedGraph, SD.graph, SD.availableGraphs, SD.name)


def status_matches(code: int, names: tuple[str, ...]) -> bool:
    """``hts:StatusCode2xx`` is a class of codes; other names are single codes."""
    for name in names:
        if name.startswith("StatusCode") and name.endswith("xx"):
            if code // 100 == int(name[len("StatusCode")]):
                return True
        elif STATUS.get(name) == code:
            return True
    return False


def _is_update(exchange: Exchange, case: Case) -> bool:
    """Whether a protocol request is an update (see the module docstring)."""
    headers = {k.lower(): v for k, v in exchange.headers}
    kind = media_type(headers.get("content-type"))
    params = parse_qs(urlsplit(exchange.path).query)
    if kind == "application/x-www-form-urlencoded" and exchange.body:
        params.update(parse_qs(exchange.body.decode("utf-8", "replace")))
    if "update" in params or kind == "application/sparql-update":
        return True
    if "query" in params or kind == "application/sparql-query":
        return False
    return case.id.split("/")[-1].startswith(("update_", "bad_update_"))


def request_url(target: Target, exchange: Exchange, case: Case) -> str:
    """The manifest's path moved onto ``target``'s endpoints."""
    path = exchange.path
    if path.startswith("/sparql"):
        rest = path[len("/sparql"):].lstrip("/")
        endpoint = target.update if _is_update(exchange, case) else target.query
        return target.url(endpoint + rest)
    if path.startswith("/gsp"):
        return target.url(target.store + path[len("/gsp"):])
    raise Failed(f"unexpected request path {path}")


def _send(lane: Lane, exchange: Exchange, case: Case, variables: dict[str, str]) -> tuple[
        str, requests.Response]:
    url = request_url(lane.target, exchange, case)
    body = exchange.body
    for name, value in variables.items():
        url = url.replace(name, quote(value, safe=":/%"))
        body = body.replace(name.encode(), value.encode()) if body else body
    prepared = requests.Request(exchange.method, url, data=body,
                                headers={**dict(exchange.headers), **lane.target.auth()}
                                ).prepare()
    prepared.url = url  # exactly as the manifest writes it: no re-quoting
    return url, lane.session.send(prepared, timeout=TIMEOUT,
                                  allow_redirects=exchange.method != "HEAD")


def _check(exchange: Exchange, response: requests.Response) -> None:
    if not status_matches(response.status_code, exchange.statuses):
        raise Failed(f"{exchange.method} {exchange.path}: status {response.status_code}, "
                     f"expected {'/'.join(exchange.statuses)}: {response.text[:200]!r}")
    content_type = response.headers.get("Content-Type")
    if exchange.response_media_type and media_type(content_type) != media_type(
            exchange.response_media_type):
        raise Failed(f"{exchange.method} {exchange.path}: Content-Type {content_type!r}, "
                     f"expected {exchange.response_media_type!r}")
    if exchange.boolean is not None or exchange.result_format:
        _check_answer(exchange, response)
    if exchange.response_body is not None and exchange.method != "HEAD":
        expected = to_graph(parse_rdf(exchange.response_body.encode("utf-8"),
                                      exchange.response_media_type))
        problem = compare(expected, to_graph(parse_rdf(response.content, content_type)))
        if problem:
            raise Failed(f"{exchange.method} {exchange.path}: {problem}")


def _check_answer(exchange: Exchange, response: requests.Response) -> None:
    try:
        answer = parse_answer(response.content, response.headers.get("Content-Type"))
    except (ValueError, SyntaxError, KeyError) as error:
        raise Failed(f"{exchange.method} {exchange.path}: unreadable answer "
                     f"({response.headers.get('Content-Type')}): {error}") from error
    kinds = {"boolean": bool, "tabular": Solutions, "RDF": Graph}
    wanted = kinds.get(exchange.result_format or "")
    if wanted and not isinstance(answer, wanted):
        raise Failed(f"{exchange.method} {exchange.path}: expected a {exchange.result_format}"
                     f" answer, got {response.headers.get('Content-Type')}")
    if exchange.boolean is not None and answer is not exchange.boolean:
        raise Failed(f"{exchange.method} {exchange.path}: expected {exchange.boolean}, "
                     f"got {answer!r}"[:300])


def run_exchanges(lane: Lane, case: Case) -> None:
    """ProtocolTest / GraphStoreProtocolTest: from a dataset holding only the test's
    graphs, every request in turn must be answered as described."""
    lane.put_dataset(dataset_quads(case.data))
    variables: dict[str, str] = {}
    for exchange in case.exchanges:
        url, response = _send(lane, exchange, case, variables)
        _check(exchange, response)
        if exchange.location_variable:
            location = response.headers.get("Location")
            if not location:
                raise Failed(f"{exchange.method} {exchange.path}: no Location header")
            variables[exchange.location_variable] = urljoin(url, location)


# -- service description -----------------------------------------------------------------

def describe_service(lane: Lane, case: Case) -> None:
    """ServiceDescriptionTest: ``GET`` on the query endpoint without a query."""
    endpoint = lane.target.url(lane.target.query)
    response = lane.session.get(endpoint, headers={"Accept": SD_ACCEPT}, timeout=TIMEOUT)
    if response.status_code != 200:
        raise Failed(f"GET {endpoint}: status {response.status_code}")
    try:
        graph = to_graph(parse_rdf(response.content, response.headers.get("Content-Type"),
                                   base=endpoint))
    except (ValueError, SyntaxError) as error:
        raise Failed(f"GET {endpoint}: not RDF ({response.headers.get('Content-Type')}): "
                     f"{error}") from error
    test = case.id.split("/")[-1]
    if test == "has-endpoint-triple" and (None, SD.endpoint, URIRef(endpoint)) not in graph:
        raise Failed(f"no sd:endpoint <{endpoint}> in the service description")
    if test == "conforms-to-schema":
        problems = schema_problems(graph)
        if problems:
            raise Failed("; ".join(problems))
    if not len(graph):
        raise Failed("empty service description")


def schema_problems(graph: Graph) -> list[str]:
    """What in a service description breaks the SD vocabulary's domains and ranges."""
    services = set(graph.subjects(RDF.type, SD.Service)) | set(graph.subjects(SD.endpoint))
    problems = [] if services else ["no sd:Service"]
    for service in services:
        if graph.value(service, SD.endpoint) is None:
            problems.append(f"service {service} has no sd:endpoint")
        languages = set(graph.objects(service, SD.supportedLanguage))
        if not languages or not languages <= LANGUAGES:
            problems.append(f"sd:supportedLanguage {sorted(map(str, languages))}")
    problems += [f"{p.n3()} has a literal value" for p in NOT_LITERAL
                 if any(isinstance(o, Literal) for o in graph.objects(None, p))]
    problems += [f"sd:NamedGraph {g} without one IRI sd:name" for g in graph.objects(
        None, SD.namedGraph) if len([n for n in graph.objects(g, SD.name)
                                     if isinstance(n, URIRef)]) != 1]
    return problems
