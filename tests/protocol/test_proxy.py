"""BorderKG behind a real nginx, configured by the sample site ``deploy/nginx-borderkg.conf``.

The test runs the sample's upstream block and the lines between its ``proxy:`` markers
in an nginx of its own (``daemon off``, pid file, logs and temporary files in a tmp
directory, a free loopback port) in front of a real ``borderkg serve`` started with
``--public-base`` set to the proxy's address. Through the proxy: redirects, Location
headers, documents, the service description and relative IRIs in queries name the
public base; minted IRIs stay identifiers under ``iri_base``; writes pass with the
token; each client gets one query at a time from the proxy (BorderKG sees only the
proxy's address); and nothing anywhere names the backend's own address.

Twice: at the proxy's root, and under a path prefix (``/kg/``, nginx stripping it).
Under a prefix, everything built from ``public_base`` follows it, but the pages' own
links (static assets, navigation) are root-relative, so the sample serves at the root.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from pyoxigraph import NamedNode, RdfFormat, parse

from graph.settings import BY_NAME
from tests.conftest import ROOT, TOKEN, LiveServer, client_session, free_port

from .conftest import AUTH, serve

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SITE = ROOT / "deploy" / "nginx-borderkg.conf"
IRI_BASE = "https://w3id.org/borderkg/"
ICE = IRI_BASE + "id/org/ice"
SD_ENDPOINT = "http://www.w3.org/ns/sparql-service-description#endpoint"
VOID_ENDPOINT = "http://rdfs.org/ns/void#sparqlEndpoint"

pytestmark = pytest.mark.skipif(not os.access(NGINX, os.X_OK),
                                reason="nginx is not installed (Debian package nginx; "
                                       "`make system-deps` installs it)")


@dataclass
class Proxied:
    """A ``borderkg serve`` and the nginx in front of it."""

    server: LiveServer
    public: str  # the public base, which is the proxy's URL, ending in "/"
    prefix: str
    nginx_log: Path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.checked(requests.get(self.public + path, timeout=30, **kwargs))

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.checked(requests.post(self.public + path, timeout=60, **kwargs))

    def checked(self, response: requests.Response) -> requests.Response:
        """``response``, after checking it names the backend nowhere."""
        backend = f"127.0.0.1:{self.server.port}"
        for name, value in response.headers.items():
            assert backend not in value, f"{name}: {value} names the backend"
        assert backend.encode() not in response.content, "the body names the backend"
        return response


def proxy_section(prefix: str, backend_port: int) -> tuple[str, str]:
    """The sample site's http-level lines (upstream, limit zones) and proxy lines, aimed
    at ``backend_port`` and mounted at ``prefix``."""
    text = SITE.read_text(encoding="utf-8")
    upstream = re.search(r"^upstream borderkg \{.*?^\}", text, re.S | re.M)
    section = re.search(r"# -- proxy: begin --\n(.*?)# -- proxy: end --", text, re.S)
    assert upstream and section, f"{SITE} lost its upstream block or its proxy markers"
    zones = re.findall(r"^limit_conn_zone .*;$", text, re.M)
    block = upstream.group(0).replace("127.0.0.1:8000", f"127.0.0.1:{backend_port}")
    lines = section.group(1)
    assert "location / {" in lines and "proxy_pass http://borderkg;" in lines
    return "\n".join([block, *zones]) + "\n", mount(lines, prefix)


def mount(lines: str, prefix: str) -> str:
    """Every ``location /path`` of ``lines`` moved under ``prefix``, nginx stripping it."""
    if prefix == "/":
        return lines

    def moved(match: re.Match[str]) -> str:
        path, body = match.group(1), match.group(2)
        body = body.replace("proxy_pass http://borderkg;", f"proxy_pass http://borderkg{path};")
        return f"location {prefix}{path[1:]} {{{body}}}"

    return re.sub(r"location (/\S*) \{(.*?)\}", moved, lines, flags=re.S)


def nginx_conf(home: Path, port: int, upstream: str, section: str) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may reach the tmp dir
    temp = "".join(f"    {kind}_temp_path {home / kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"{user}daemon off;\nworker_processes 1;\npid {home / 'nginx.pid'};\n"
            f"error_log {home / 'error.log'} info;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {home / 'access.log'};\n{temp}{upstream}\n"
            f"    server {{\n        listen 127.0.0.1:{port};\n        server_name localhost;\n"
            f"{section}    }}\n}}\n")


def start_nginx(home: Path, conf: str, url: str) -> subprocess.Popen[bytes]:
    path = home / "nginx.conf"
    path.write_text(conf, encoding="utf-8")
    log = open(home / "nginx.out", "wb")  # closed with the process
    process = subprocess.Popen([NGINX, "-c", str(path), "-p", str(home), "-e",
                                str(home / "error.log")], stdout=log, stderr=log,
                               start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(home / 'error.log').read_text()[-2000:]}")
        try:
            if requests.get(url + "healthz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nginx did not answer: {(home / 'error.log').read_text()[-2000:]}")


@pytest.fixture(scope="module", params=["/", "/kg/"], ids=["root", "prefix"])
def proxied(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxied]:
    prefix = str(request.param)
    port = free_port()
    public = f"http://127.0.0.1:{port}{prefix}"
    # the unit's settings: the proxy is trusted to name each client
    server = serve(tmp_path_factory.mktemp("proxied"), "--public-base", public,
                   "--query-workers", "2", "--trusted-proxies", "127.0.0.1",
                   "--query-timeout", "3",
                   env={"BORDERKG_UPDATE_TOKEN": TOKEN})
    home = tmp_path_factory.mktemp("nginx")
    upstream, section = proxy_section(prefix, server.port)
    try:
        nginx = start_nginx(home, nginx_conf(home, port, upstream, section), public)
    except RuntimeError:
        server.stop()
        raise
    yield Proxied(server, public, prefix, home / "error.log")
    os.killpg(nginx.pid, signal.SIGQUIT)
    try:
        nginx.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(nginx.pid, signal.SIGKILL)
        nginx.wait(10)
    server.stop()


# -- IRIs, redirects and documents ---------------------------------------------------------
def test_iris_answer_303_to_documents_at_the_public_base(proxied: Proxied) -> None:
    for path in ("id/org/ice", "def/Claim", "graph/background"):
        response = proxied.get(path, allow_redirects=False, headers={"Accept": "text/turtle"})
        assert response.status_code == 303, (path, response.text)
        assert response.headers["Location"] == proxied.public + "doc/" + path
        document = proxied.checked(requests.get(response.headers["Location"], timeout=30,
                                                headers={"Accept": "text/turtle"}))
        assert document.status_code == 200, (path, document.text)


def test_turtle_document_keeps_minted_iris_and_links_the_public_base(proxied: Proxied) -> None:
    response = proxied.get("doc/id/org/ice", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/turtle")
    triples = list(parse(response.content, RdfFormat.TURTLE))
    subjects = {t.subject.value for t in triples if isinstance(t.subject, NamedNode)}
    assert ICE in subjects, "the document describes the minted IRI, not a rewritten one"
    assert not any(t.subject.value.startswith(proxied.public) for t in triples)
    alternates = re.findall(r"<([^>]+)>", response.headers["Link"])
    assert alternates and all(a.startswith(proxied.public + "doc/id/org/ice.")
                              for a in alternates), alternates
    turtle = proxied.checked(requests.get(alternates[0].rsplit(".", 1)[0] + ".ttl", timeout=30))
    assert turtle.status_code == 200 and ICE.encode() in turtle.content


def test_html_document_links_project_iris_through_the_proxy(proxied: Proxied) -> None:
    page = proxied.get("doc/id/org/ice", headers={"Accept": "text/html"})
    assert page.status_code == 200
    links = re.findall(r'href="([^"]+)"', page.text)
    assert proxied.public + "doc/id/org/ice.ttl" in links
    ours = [link for link in links if link.startswith("http") and "/doc/" in link]
    assert ours and all(link.startswith(proxied.public + "doc/") for link in ours), ours


def test_void_names_the_public_endpoint_and_the_minted_uri_space(proxied: Proxied) -> None:
    response = proxied.get(".well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    triples = list(parse(response.content, RdfFormat.TURTLE))
    endpoints = {t.object.value for t in triples if t.predicate.value == VOID_ENDPOINT}
    assert endpoints == {proxied.public + "sparql"}
    assert any(t.subject.value == proxied.public + ".well-known/void#dataset" for t in triples)
    spaces = {t.object.value for t in triples if t.predicate.value.endswith("uriSpace")}
    assert spaces and all(space.startswith(IRI_BASE) for space in spaces), spaces


# -- SPARQL --------------------------------------------------------------------------------
def test_sparql_results_through_the_proxy(proxied: Proxied) -> None:
    query = ("PREFIX bkg: <https://w3id.org/borderkg/def/> SELECT ?agency ?here WHERE { "
             "?agency a bkg:GovernmentAgency . BIND(<here> AS ?here) }")
    response = proxied.get("sparql", params={"query": query},
                           headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    agencies = {row["agency"]["value"] for row in rows}
    assert ICE in agencies and all(a.startswith(IRI_BASE + "id/") for a in agencies)
    # a relative IRI in a query resolves against the endpoint's public URL
    assert {row["here"]["value"] for row in rows} == {proxied.public + "here"}


def test_service_description_names_the_public_endpoint(proxied: Proxied) -> None:
    response = proxied.get("sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    triples = list(parse(response.content, RdfFormat.TURTLE))
    assert {t.object.value for t in triples if t.predicate.value == SD_ENDPOINT} == {
        proxied.public + "sparql"}


def test_query_page_names_the_public_endpoint(proxied: Proxied) -> None:
    page = proxied.get("", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    endpoint = proxied.public + "sparql"
    assert page_endpoint(page.text) == endpoint
    assert f"<code>{endpoint}</code>" in page.text
    also = proxied.get("sparql", headers={"Accept": "text/html"})
    assert also.status_code == 200 and page_endpoint(also.text) == endpoint


def page_endpoint(html: str) -> str:
    """The endpoint the query page's editor is configured with (its page data)."""
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html,
                      re.S)
    assert found, "the query page has no page data"
    return str(json.loads(found.group(1))["endpoint"])


def test_query_page_assets_load_through_the_proxy(proxied: Proxied) -> None:
    page = proxied.get("", headers={"Accept": "text/html"})
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert len(assets) >= 3, assets
    origin = proxied.public[:proxied.public.index("/", len("http://"))]
    statuses = {asset: proxied.checked(requests.get(origin + asset, timeout=30)).status_code
                for asset in assets}
    if proxied.prefix != "/" and set(statuses.values()) != {200}:
        pytest.xfail("pages link their assets and navigation root-relative (/static/...), "
                     "so under a path prefix they miss the proxy's location")
    assert set(statuses.values()) == {200}, statuses


def test_each_client_has_one_query_at_a_time_through_the_proxy(proxied: Proxied) -> None:
    """The proxy is trusted to name each client (X-Forwarded-For), so BorderKG bounds
    queries per client behind it as it does for direct clients: a second query of one
    client is refused (429), another client's query is evaluated (here until the 3 s
    limit, 503)."""
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    answers: dict[str, requests.Response] = {}

    def ask(name: str, address: str) -> None:
        answers[name] = client_session(address).get(
            proxied.public + "sparql", params={"query": slow}, timeout=60,
            headers={"Accept": "application/sparql-results+json"})

    first = threading.Thread(target=ask, args=("a1", "127.0.0.2"))
    first.start()
    time.sleep(0.5)
    other = threading.Thread(target=ask, args=("b", "127.0.0.3"))
    other.start()
    ask("a2", "127.0.0.2")
    first.join()
    other.join()
    assert answers["a2"].status_code == 429, answers["a2"].text[:200]
    for name in ("a1", "b"):
        assert answers[name].status_code == 503, (name, answers[name].text[:200])
        assert answers[name].json()["error"]["code"] == "query-timeout"


# -- writes ----------------------------------------------------------------------------------
def test_graph_store_post_location_names_the_public_base(proxied: Proxied) -> None:
    body = "<https://w3id.org/borderkg/id/proxy/a> <http://xmlns.com/foaf/0.1/name> \"A\" .\n"
    created = proxied.post("graph-store", data=body.encode(),
                           headers={**AUTH, "Content-Type": "application/n-triples"})
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    match = re.fullmatch(re.escape(proxied.public) + r"graph-store/uploads/([0-9a-f]{32})",
                         location)
    assert match, location
    graph = proxied.checked(requests.get(location, timeout=30,
                                         headers={"Accept": "application/n-triples"}))
    assert graph.status_code == 200 and b'"A"' in graph.content
    iri = f"{IRI_BASE}graph/uploads/{match.group(1)}"
    rows = proxied.get("sparql", params={"query": f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"},
                       headers={"Accept": "application/sparql-results+json"})
    assert rows.json()["boolean"] is True, "the graph's IRI is minted under iri_base"
    see = proxied.get(f"graph/uploads/{match.group(1)}", allow_redirects=False)
    assert see.status_code == 303
    assert see.headers["Location"] == f"{proxied.public}doc/graph/uploads/{match.group(1)}"


def test_authenticated_writes_pass_the_proxy(proxied: Proxied) -> None:
    name = f"test/{uuid.uuid4().hex}"
    body = b"<https://w3id.org/borderkg/id/proxy/b> <http://xmlns.com/foaf/0.1/name> \"B\" .\n"
    headers = {"Content-Type": "application/n-triples"}
    refused = proxied.checked(requests.put(proxied.public + "graph-store/" + name, data=body,
                                           headers=headers, timeout=30))
    assert refused.status_code == 401 and "Bearer" in refused.headers["WWW-Authenticate"]
    wrong = proxied.checked(requests.put(proxied.public + "graph-store/" + name, data=body,
                                         headers={**headers, "Authorization": "Bearer no"},
                                         timeout=30))
    assert wrong.status_code == 401
    made = proxied.checked(requests.put(proxied.public + "graph-store/" + name, data=body,
                                        headers={**headers, **AUTH}, timeout=30))
    assert made.status_code == 201, made.text
    update = proxied.post("sparql", data={"update": (
        f"INSERT DATA {{ GRAPH <{IRI_BASE}graph/{name}> {{ "
        "<https://w3id.org/borderkg/id/proxy/c> <http://xmlns.com/foaf/0.1/name> \"C\" } }")},
        headers=AUTH)
    assert update.status_code == 204, update.text
    query = f"SELECT ?n WHERE {{ GRAPH <{IRI_BASE}graph/{name}> {{ ?s ?p ?n }} }}"
    rows = proxied.get("sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+json"})
    assert {r["n"]["value"] for r in rows.json()["results"]["bindings"]} == {"B", "C"}


def test_bodies_up_to_max_body_bytes_pass_and_larger_get_413(proxied: Proxied) -> None:
    """client_max_body_size equals max_body_bytes: a body at the limit reaches BorderKG
    and a larger one is nginx's 413 (BorderKG would refuse it unread, which nginx, still
    sending it, reports as 502)."""
    limit = BY_NAME["max_body_bytes"].default
    headers = {**AUTH, "Content-Type": "application/n-triples"}
    at_limit = b"# " + b"x" * (limit - 3) + b"\n"
    assert len(at_limit) == limit
    passed = proxied.post("graph-store", data=at_limit, headers=headers)
    assert passed.status_code in (201, 204), passed.text[:300]
    over = proxied.post("graph-store", data=at_limit + b"\n", headers=headers)
    assert over.status_code == 413, over.text[:300]


def test_whole_sample_site_passes_nginx_t(tmp_path: Path) -> None:
    """The TLS server blocks too, with a throw-away certificate in the placeholders' place."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=kg.example.org", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    site = (SITE.read_text(encoding="utf-8")
            .replace("/etc/ssl/certs/kg.example.org.fullchain.pem", str(cert))
            .replace("/etc/ssl/private/kg.example.org.key", str(key)))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n    include {tmp_path / 'site.conf'};\n}}\n", encoding="utf-8")
    checked = subprocess.run([NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-p",
                              str(tmp_path), "-e", str(tmp_path / "error.log")],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_sample_site_is_in_step_with_the_settings() -> None:
    text = SITE.read_text(encoding="utf-8")
    size = re.search(r"client_max_body_size (\d+)m;", text)
    assert size and int(size.group(1)) * 1024 * 1024 == BY_NAME["max_body_bytes"].default
    read = re.search(r"proxy_read_timeout (\d+)s;", text)
    limits = (BY_NAME["query_timeout"].default, BY_NAME["analysis_timeout"].default)
    assert read and int(read.group(1)) > max(limits)
    for directive in ("client_header_timeout", "client_body_timeout"):
        found = re.search(rf"{directive} (\d+)s;", text)
        assert found and int(found.group(1)) == BY_NAME["read_timeout"].default
    assert "proxy_request_buffering on;" in text
    assert "proxy_pass http://borderkg;" in text and "server 127.0.0.1:8000;" in text
    assert BY_NAME["port"].default == 8000 and BY_NAME["host"].default == "127.0.0.1"


def test_admin_endpoints_stay_on_the_machine(proxied: Proxied) -> None:
    through = proxied.post("admin/backup", headers=AUTH)
    assert through.status_code == 403 and "nginx" in through.text, through.text
    direct = requests.post(proxied.server.url + "/admin/backup", headers=AUTH, timeout=60)
    assert direct.status_code == 201, direct.text
