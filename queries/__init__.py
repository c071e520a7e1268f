"""The named-query library: SPARQL files an analyst runs by name, with typed parameters.

Each ``queries/<name>.rq`` starts with a header of ``#+`` comment lines, read here::

    #+ title: Encounters by fiscal year
    #+ description: Total encounters per fiscal year for one citizenship,
    #+   optionally restricted to one land border region.
    #+ param: citizenship iri default=<https://w3id.org/borderkg/id/country/CHN> "Citizenship"
    #+ param: region iri optional example=<https://w3id.org/borderkg/id/region/other> "Region"

* ``title`` and ``description`` are free text; a line starting with ``#+`` and two or more
  spaces continues the previous entry.
* ``param: NAME TYPE [default=V] [example=V] [optional] "description"`` declares the
  query variable ``?NAME`` as a parameter of ``TYPE`` (``iri``, ``string``, ``integer``,
  ``date``, ``gYear``, ``decimal``, ``boolean``). IRIs are written ``<...>``. A parameter
  with neither a default nor ``optional`` is required. A parameter given a value is
  *bound* to the variable (pyoxigraph ``substitutions``), never spliced into the text; an
  optional one left out stays a free variable, which matches anything.
* Every parameter is a variable of the outermost ``SELECT`` (and of its ``GROUP BY`` in
  aggregate queries): Oxigraph binds only projected variables, and not inside
  sub-queries. A test for an optional parameter is written ``COALESCE(?x = ?param, true)``
  rather than ``!BOUND(?param) || ...``, which Oxigraph decides before binding.
* Queries carry no ``LIMIT``/``OFFSET`` of their own: paging is appended by the runner
  (``graph.sparql.named_queries``), and a test keeps the library free of them.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["NamedQuery", "Param", "PARAM_TYPES", "QueryFileError", "list_queries", "load_query",
           "parse_query"]

PARAM_TYPES = ("iri", "string", "integer", "date", "gYear", "decimal", "boolean")
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class QueryFileError(ValueError):
    """A ``.rq`` file whose header does not follow the format (a bug in the library)."""


@dataclass(frozen=True)
class Param:
    """One declared parameter: the variable it binds, its type, default and example."""

    name: str
    type: str
    description: str = ""
    default: str | None = None
    example: str | None = None
    optional: bool = False

    @property
    def required(self) -> bool:
        return self.default is None and not self.optional


@dataclass(frozen=True)
class NamedQuery:
    """A query of the library: its name (the file stem), header and SPARQL text."""

    name: str
    title: str
    description: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    text: str = ""

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


def list_queries() -> list[str]:
    """Names of the queries in the library, sorted."""
    files = resources.files(__name__).iterdir()
    return sorted(f.name[:-3] for f in files if f.name.endswith(".rq"))


def load_query(name: str) -> NamedQuery:
    """The named query ``name``; ``KeyError`` when the library has none by that name."""
    if not _NAME.match(name) or name not in list_queries():
        raise KeyError(name)
    text = resources.files(__name__).joinpath(name + ".rq").read_text(encoding="utf-8")
    return parse_query(name, text)


def parse_query(name: str, text: str) -> NamedQuery:
    """Read the header of ``text`` (the file's contents) into a ``NamedQuery``."""
    entries = _header_entries(name, text)
    titles = [v for k, v in entries if k == "title"]
    if len(titles) != 1:
        raise QueryFileError(f"{name}.rq: expected one '#+ title:' line, found {len(titles)}")
    description = " ".join(v for k, v in entries if k == "description")
    params = tuple(_param(name, v) for k, v in entries if k == "param")
    unknown = {k for k, _ in entries} - {"title", "description", "param"}
    if unknown:
        raise QueryFileError(f"{name}.rq: unknown header keys {', '.join(sorted(unknown))}")
    return NamedQuery(name, titles[0], description, params, text)


def _header_entries(name: str, text: str) -> list[tuple[str, str]]:
    entries: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("#+"):
            continue
        body = line[2:]
        if body.startswith("  ") and entries:
            entries[-1][1] += " " + body.strip()
            continue
        key, sep, value = body.strip().partition(":")
        if not sep:
            raise QueryFileError(f"{name}.rq: header line without 'key:': {line!r}")
        entries.append([key.strip(), value.strip()])
    return [(k, v) for k, v in entries]


def _param(query: str, spec: str) -> Param:
    try:
        words = shlex.split(spec)
    except ValueError as exc:
        raise QueryFileError(f"{query}.rq: bad param line {spec!r}: {exc}") from None
    if len(words) < 2 or not _VARIABLE.match(words[0]) or words[1] not in PARAM_TYPES:
        raise QueryFileError(f"{query}.rq: param needs 'NAME TYPE' with TYPE one of "
                             f"{', '.join(PARAM_TYPES)}: {spec!r}")
    options: dict[str, str] = {}
    flags: set[str] = set()
    descriptions: list[str] = []
    for word in words[2:]:
        key, sep, value = word.partition("=")
        if sep and key in ("default", "example"):
            options[key] = value
        elif word == "optional":
            flags.add(word)
        else:
            descriptions.append(word)
    return Param(words[0], words[1], " ".join(descriptions), options.get("default"),
                 options.get("example"), "optional" in flags)
