"""Writing query results for people and scripts (the CLI's ``--format``)."""
from __future__ import annotations

import io
import json
import sys
from typing import IO, Any

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
)

from graph.errors import BadParameter

_RESULTS = {"csv": QueryResultsFormat.CSV, "tsv": QueryResultsFormat.TSV,
            "json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML}
_GRAPHS = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES,
           "jsonld": RdfFormat.JSON_LD, "json": RdfFormat.JSON_LD, "table": RdfFormat.TURTLE}


def term_text(term: Any) -> str:
    """A compact, readable rendering of an RDF term for tables."""
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return f"_:{term.value}"
    if isinstance(term, Literal):
        return term.value
    return str(term)


def table(header: list[str], rows: list[list[str]], out: IO[str]) -> None:
    """A plain text table, columns padded to their widest cell (capped at 80)."""
    widths = [min(80, max([len(h), *(len(r[i]) for r in rows)])) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False))
    out.write(line.rstrip() + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for row in rows:
        cells = (c[:80].ljust(w) for c, w in zip(row, widths, strict=False))
        out.write("  ".join(cells).rstrip() + "\n")


def write_result(result: Any, fmt: str, out: IO[str] = sys.stdout) -> None:
    """Write a pyoxigraph query result in ``fmt`` (table, csv, tsv, json, xml, turtle...)."""
    if isinstance(result, QueryBoolean):
        out.write(("true" if bool(result) else "false") + "\n") if fmt == "table" \
            else out.write(json.dumps({"head": {}, "boolean": bool(result)}) + "\n")
        return
    if isinstance(result, QuerySolutions):
        if fmt == "table":
            header = [v.value for v in result.variables]
            rows = [[term_text(s[v]) for v in result.variables] for s in result]
            table(header, rows, out)
            return
        if fmt not in _RESULTS:
            raise BadParameter(f"format {fmt} is for graphs; use table, csv, tsv, json or xml")
        out.write((result.serialize(format=_RESULTS[fmt]) or b"").decode("utf-8"))
        return
    if fmt not in _GRAPHS:
        raise BadParameter(f"format {fmt} is for SELECT results; use turtle, ntriples or jsonld")
    from pyoxigraph import serialize

    buffer = io.BytesIO()
    serialize(result, buffer, _GRAPHS[fmt])
    out.write(buffer.getvalue().decode("utf-8"))
