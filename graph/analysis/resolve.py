"""Naming an entity: an IRI, an ``id/`` path (``org/ice``) or a label, any case or accent.

An analyst types "ICE" or "china", not IRIs. A name that fits several entities is an
error listing them (400 with ``candidates``: the caller picks, we never guess); a name
that fits none is a 404 with the closest labels as ``suggestions``.
"""
from __future__ import annotations

import difflib

from graph.errors import BadRequest, NotFound

from .projection import Projection, normalise

__all__ = ["AmbiguousEntity", "UnknownEntity", "resolve"]

SUGGESTIONS = 5


class AmbiguousEntity(BadRequest):
    """A label shared by several entities; ``candidates`` lists them."""

    code = "ambiguous-entity"


class UnknownEntity(NotFound):
    """No entity of the projection has this IRI or label; ``suggestions`` are close labels."""

    code = "unknown-entity"


def resolve(projection: Projection, name: str, parameter: str = "entity") -> str:
    """The IRI of the node ``name`` designates.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> p = project(tiny_store())
    >>> resolve(p, "ice")
    'https://example.org/ice'
    >>> resolve(p, "  CHÍNA ")
    'https://example.org/chn'
    >>> resolve(p, "Chna")
    Traceback (most recent call last):
    ...
    graph.analysis.resolve.UnknownEntity: no entity named 'Chna'
    """
    text = name.strip()
    if not text:
        raise BadRequest(f"{parameter} is empty", parameter=parameter)
    if text in projection.graph:
        return text
    matches = sorted(projection.lookup.get(normalise(text), ()))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise AmbiguousEntity(
            f"{text!r} names {len(matches)} entities; give one of their IRIs",
            parameter=parameter,
            candidates=[projection.node_dict(m) for m in matches])
    raise UnknownEntity(f"no entity named {text!r}", parameter=parameter,
                        suggestions=suggestions(projection, text))


def suggestions(projection: Projection, text: str) -> list[dict[str, str]]:
    """The entities whose labels are closest to ``text`` (difflib ratio), best first."""
    keys = difflib.get_close_matches(normalise(text), list(projection.lookup), n=SUGGESTIONS,
                                     cutoff=0.5)
    seen: dict[str, None] = {}
    for key in keys:
        for iri in sorted(projection.lookup[key]):
            seen.setdefault(iri, None)
    return [{"iri": iri, "label": projection.label(iri)} for iri in list(seen)[:SUGGESTIONS]]
