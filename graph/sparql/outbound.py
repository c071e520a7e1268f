"""What the engine fetches on a request's behalf (SERVICE, LOAD), and what its failures mean.

Oxigraph runs ``SERVICE`` and ``LOAD`` with its own HTTP client and reports every failure
with a builtin exception whose type does not say whose fault it is:

* ``OSError`` is a storage failure, or the HTTP client failing: the endpoint refused the
  connection, closed it, or answered an error status (``Error 500 ... returned by ...``);
* ``RuntimeError`` is an evaluation error caused by the request (``CREATE`` of a graph
  that exists), or an answer the engine cannot read (not JSON, an unexpected media type,
  a boolean where solutions were needed);
* ``SyntaxError`` is the request's own text, or a located parse error of a fetched
  document.

What decides is whether the text makes the engine call out, which the policy's lexer
(``graph.sparql.text``) already knows. ``remote_failure`` turns the remote cases into a 502
``BadGateway`` that names the endpoint; the store maps the rest (storage: 502
``StoreError``; the request's own mistakes: 400).

Oxigraph also evaluates lazily: a SELECT or CONSTRUCT calls its SERVICE endpoints while
its rows are read, long after ``Store.query`` returned, in code that sees a bare
``OSError`` and no text. ``settled`` evaluates such a result to its end where the failure
can still be named, and hands back an equivalent result read from a spool.
"""
from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass

from pyoxigraph import (
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    parse_query_results,
)
from pyoxigraph import Store as _OxStore

from graph.errors import BadGateway, QuerySyntaxError

from .text import Kind, analyse

#: answers held in memory up to this size, on disk beyond it
SPOOL_BYTES = 8 << 20
#: how much of the engine's own message an error repeats
MESSAGE_CHARS = 300
#: evaluation errors an update's own text causes, whatever else it calls
_REQUEST_FAULTS = re.compile(r"The graph .* (already exists|does not exist)"
                             r"|The variable encoding the service name is unbound", re.S)


@dataclass(frozen=True)
class Calls:
    """The remote calls a text makes: ``SERVICE`` endpoints or ``LOAD`` sources."""

    keyword: str
    iris: tuple[str, ...]

    @property
    def named(self) -> str:
        """``SERVICE <a>``, or ``one of SERVICE <a>, <b>`` when the engine does not say which."""
        shown = f"{self.keyword} " + ", ".join(f"<{iri}>" for iri in self.iris[:3])
        return shown if len(self.iris) == 1 else f"one of {shown}"


def remote_calls(text: str, kind: Kind, base_iri: str | None = None) -> Calls | None:
    """The endpoints ``text`` makes the engine call, or None when it calls none."""
    try:
        info = analyse(text, kind, base_iri)
    except QuerySyntaxError:
        return None  # the engine accepted a text the lexer does not: it called nothing we know
    if info.services:
        return Calls("SERVICE", tuple(iri or "?" for iri in info.services))
    if info.loads:
        return Calls("LOAD", info.loads)
    return None


def remote_failure(exc: BaseException, text: str, kind: Kind,
                   base_iri: str | None = None) -> BadGateway | None:
    """A 502 naming the endpoint when ``exc`` is a failure of a call ``text`` made."""
    calls = remote_calls(text, kind, base_iri)
    if calls is None:
        return None
    if isinstance(exc, OSError):
        return _bad_gateway(calls, "failed", exc)
    if isinstance(exc, SyntaxError) and len(exc.args) > 1:
        # the text's own syntax errors carry no location tuple; a fetched document's do
        return _bad_gateway(calls, "sent a document that does not parse", exc)
    if isinstance(exc, RuntimeError) and not _REQUEST_FAULTS.search(str(exc)):
        what = "SPARQL results" if calls.keyword == "SERVICE" else "RDF"
        return _bad_gateway(calls, f"answered something that cannot be read as {what}", exc)
    return None


def _bad_gateway(calls: Calls, what: str, exc: BaseException) -> BadGateway:
    reason = str(exc.args[0] if isinstance(exc, SyntaxError) and exc.args else exc)
    return BadGateway(f"{calls.named} {what}: {reason[:MESSAGE_CHARS]}",
                      endpoints=list(calls.iris))


def settled(result: QuerySolutions | QueryBoolean | QueryTriples,
            ) -> QuerySolutions | QueryBoolean | QueryTriples:
    """``result`` evaluated to its end now, then read back lazily from a spool.

    Only for texts that call SERVICE: their failures must surface while the caller can
    still answer 502, before a response has started. The cost is that rows past the row
    cap are evaluated too; the time limit still bounds it (workers are killed at it).
    """
    if isinstance(result, QueryBoolean):
        return result  # an ASK has already been evaluated
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # read lazily below
    if isinstance(result, QuerySolutions):
        result.serialize(spool, QueryResultsFormat.JSON)
        spool.seek(0)
        return parse_query_results(spool, QueryResultsFormat.JSON)
    result.serialize(spool, RdfFormat.N_TRIPLES)
    spool.seek(0)
    graph = _OxStore()  # the only way to hand back triples as the engine's own result type
    graph.load(spool, RdfFormat.N_TRIPLES)
    spool.close()
    return graph.query("CONSTRUCT WHERE { ?s ?p ?o }")
