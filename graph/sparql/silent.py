"""``SERVICE SILENT`` and ``LOAD SILENT`` calls the policy does not allow: skipped, not refused.

SPARQL makes a failed SILENT call a non-event: ``SERVICE SILENT <x> { P }`` that fails
yields one empty solution (the identity of the join it sits in), ``LOAD SILENT <x>`` that
fails changes nothing. A call the policy will not make is a call that fails, so such a
request is answered as SPARQL prescribes instead of being refused.

The call is taken out by pointing it elsewhere: on the token stream, the target token of
each such clause is replaced by ``<urn:borderkg:skipped>``. That IRI has no authority,
so the engine's HTTP client rejects it ("invalid authority") before it resolves a name
or opens a socket, and the engine's own SILENT handling turns the failure into the
prescribed result. Replacing only the target, not the whole clause, keeps everything
else for the engine to parse: a syntax error inside a skipped ``SERVICE`` group is still
a 400, and ``LOAD SILENT ... INTO GRAPH`` keeps its exact meaning.

The targets are found by the same analysis that reports ``SERVICE`` and ``LOAD`` to the
policy (``graph.sparql.text``), so ``PREFIX`` and ``BASE`` apply exactly as there. Only
clauses written as the keyword, the word ``SILENT`` and an IRI or a prefixed name with a
declared prefix are candidates; anything else (a variable endpoint, ``SILENTx:a`` run
together, an undeclared prefix) is left for the policy to decide on. The rewritten text
is checked by the policy again in full, so this module can only ever turn a refusal into
a skip, never let a call through.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .text import Kind, Token, _Analysis

#: the endpoint every skipped call is pointed at: an IRI no HTTP client can call
SKIPPED = "urn:borderkg:skipped"


@dataclass(frozen=True)
class SilentCall:
    """One ``SERVICE SILENT`` or ``LOAD SILENT`` clause: its target and where it is written."""

    keyword: str  # "SERVICE" or "LOAD"
    iri: str  # the target, resolved as the engine resolves it
    start: int  # offset of the target token in the text
    end: int


class _SilentCalls(_Analysis):
    """The policy's analysis, also recording the position of each SILENT call's target."""

    def __init__(self, toks: Sequence[Token], kind: Kind, base: str | None) -> None:
        super().__init__(toks, kind, base)
        self.calls: list[SilentCall] = []

    def _keyword(self, i: int) -> None:
        super()._keyword(i)
        word = self.toks[i].upper
        if word not in ("SERVICE", "LOAD") or self._upper(i + 1) != "SILENT" \
                or i + 2 >= len(self.toks):
            return
        target = self.toks[i + 2]
        iri = self.resolver.iri(target)  # None for a variable or an undeclared prefix
        if iri is not None:
            self.calls.append(SilentCall(word, iri, target.start,
                                         target.start + len(target.text)))


def silent_calls(toks: Sequence[Token], kind: Kind, base: str | None) -> list[SilentCall]:
    """Every ``SERVICE SILENT``/``LOAD SILENT`` clause of a lexed text, in text order."""
    analysis = _SilentCalls(toks, kind, base)
    analysis.run()
    return analysis.calls


def skipping(text: str, calls: Sequence[SilentCall]) -> str:
    """``text`` with the target of each of ``calls`` replaced by ``<urn:borderkg:skipped>``."""
    pieces, at = [], 0
    for call in sorted(calls, key=lambda c: c.start):
        pieces += [text[at:call.start], f"<{SKIPPED}>"]
        at = call.end
    return "".join(pieces) + text[at:]
