"""A small Python client for BorderKG, for notebooks and scripts.

>>> kg = BorderKG("http://127.0.0.1:8000")          # doctest: +SKIP
>>> kg.named("top-citizenships", fiscalYear="https://w3id.org/borderkg/id/time/fy2023")
...                                                  # doctest: +SKIP

``sparql`` goes through SPARQLWrapper, so it also works against any SPARQL 1.1 endpoint
(``BorderKG(sparql_url=...)``); the other methods use BorderKG's own HTTP API. Errors
from the server raise ``BorderKGClientError`` carrying the HTTP status and the server's
JSON message.
"""
from __future__ import annotations

from typing import Any, cast
from urllib.error import HTTPError

import requests
from rdflib import Graph
from SPARQLWrapper import JSON, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

__all__ = ["BorderKG", "BorderKGClientError"]


class BorderKGClientError(Exception):
    """The server answered with an error: ``status``, ``code`` and ``message`` from its body."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 body: Any = None) -> None:
        super().__init__(f"{status} {code or ''}: {message}".replace("  ", " "))
        self.status, self.message, self.code, self.body = status, message, code, body


def _error_from(status: int, text: str) -> BorderKGClientError:
    try:
        body = requests.models.complexjson.loads(text)
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return BorderKGClientError(status, error.get("message", text), error.get("code"), body)
    except ValueError:
        return BorderKGClientError(status, text[:500])


def _value(term: dict[str, Any]) -> Any:
    """A SPARQL JSON term as a Python value: IRIs and strings as str, numbers as numbers."""
    value, datatype = term["value"], term.get("datatype", "")
    if datatype.endswith(("#integer", "#int", "#long")):
        return int(value)
    if datatype.endswith(("#decimal", "#double", "#float")):
        return float(value)
    if datatype.endswith("#boolean"):
        return value == "true"
    return value


def _rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    if "boolean" in results:
        return [{"boolean": results["boolean"]}]
    return [{k: _value(v) for k, v in binding.items()}
            for binding in results["results"]["bindings"]]


class BorderKG:
    """A connection to a BorderKG service (or, for ``sparql``, any SPARQL endpoint)."""

    def __init__(self, url: str | None = None, *, sparql_url: str | None = None,
                 timeout: float = 60) -> None:
        if url is None and sparql_url is None:
            raise ValueError("give the service URL, a SPARQL endpoint URL, or both")
        self.url = url.rstrip("/") if url else None
        self.sparql_url = sparql_url or f"{self.url}/sparql"
        self.timeout = timeout
        self.session = requests.Session()

    # -- generic SPARQL -------------------------------------------------------------------
    def sparql(self, query: str) -> list[dict[str, Any]]:
        """Rows of a SELECT (or ``[{"boolean": ...}]`` for ASK) as dicts of Python values."""
        wrapper = SPARQLWrapper(self.sparql_url)
        wrapper.setQuery(query)
        wrapper.setReturnFormat(JSON)
        wrapper.setTimeout(int(self.timeout))
        try:
            return _rows(cast(dict[str, Any], wrapper.queryAndConvert()))
        except HTTPError as exc:
            raise _error_from(exc.code, exc.read().decode("utf-8", "replace")) from None
        except SPARQLWrapperException as exc:
            status = 400 if "QueryBadFormed" in type(exc).__name__ else 500
            raise BorderKGClientError(status, str(exc)) from None

    def dataframe(self, query: str) -> Any:
        """The rows of ``query`` as a pandas DataFrame (needs ``pip install borderkg[pandas]``)."""
        return self._frame(self.sparql(query))

    # -- BorderKG API ---------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, Any] | None = None,
             accept: str = "application/json") -> requests.Response:
        if self.url is None:
            raise BorderKGClientError(0, "this method needs the BorderKG service URL")
        response = self.session.get(self.url + path, params=params, timeout=self.timeout,
                                    headers={"Accept": accept})
        if response.status_code >= 400:
            raise _error_from(response.status_code, response.text)
        return response

    def queries(self) -> list[dict[str, Any]]:
        """The named-query library: names, titles, parameters."""
        return self._get("/queries").json()["queries"]

    def named(self, name: str, *, limit: int | None = None, offset: int | None = None,
              **params: Any) -> list[dict[str, Any]]:
        """Rows of the named query ``name`` with ``params`` (IRIs as plain strings)."""
        args: dict[str, Any] = {k: str(v).lower() if isinstance(v, bool) else str(v)
                                for k, v in params.items()}
        args |= {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        return _rows(self._get(f"/queries/{name}", args,
                               "application/sparql-results+json").json())

    def named_dataframe(self, name: str, **params: Any) -> Any:
        """The rows of a named query as a pandas DataFrame."""
        return self._frame(self.named(name, **params))

    def describe(self, iri: str) -> Graph:
        """The linked-data document of ``iri`` as an rdflib Graph (fetched as Turtle)."""
        path = self._doc_path(iri)
        response = self._get(path, None, "text/turtle")
        return Graph().parse(data=response.text, format="turtle")

    def analysis(self, kind: str, **params: Any) -> dict[str, Any]:
        """An analysis (``path``, ``neighbours``, ``centrality``...) as its JSON dict."""
        return self._get(f"/analyses/{kind}", {k: str(v) for k, v in params.items()}).json()

    def search(self, q: str, limit: int = 20) -> list[dict[str, Any]]:
        """Resources whose label or sentence matches ``q``, best first."""
        return self._get("/search", {"q": q, "limit": limit}).json()["results"]

    # -- helpers --------------------------------------------------------------------------
    def _doc_path(self, iri: str) -> str:
        """``/doc/...`` for a project IRI (the server answers 404 for unknown ones)."""
        for marker in ("/id/", "/def", "/graph/"):
            at = iri.find(marker)
            if at != -1:
                return "/doc/" + iri[at + 1:]
        raise BorderKGClientError(0, f"{iri} is not an IRI of this dataset")

    @staticmethod
    def _frame(rows: list[dict[str, Any]]) -> Any:
        try:
            import pandas
        except ImportError:
            raise ImportError("pandas is needed for data frames: pip install "
                              "'borderkg[pandas]' (or pip install pandas)") from None
        return pandas.DataFrame(rows)
