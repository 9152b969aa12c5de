"""How every conclusion carries its reasons.

A conclusion names the rule that produced it, the guideline behind the rule, the
findings it used (by index and date, so a reader can find them in the case), and
when it cannot decide, what data would decide it. These are the cards a care
team reads; they are also what ``allcare explain`` prints.

Conclusions are output, built by the hundred per assessment and never
validated (the engine made them), so they are frozen ``msgspec`` structs:
cheap to build, encoded straight to JSON, and not tracked by the garbage
collector (``gc=False``: a conclusion holds values and evidence, never itself,
so it cannot be part of a reference cycle, and the collector need not walk it).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec


class EvidenceRef(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One finding a conclusion used: where it is in the case and what it said."""

    index: Annotated[int, msgspec.Meta(description="position in the case's findings list")]
    date: dt.date
    type: str
    summary: Annotated[str, msgspec.Meta(description="the part of the finding that mattered, e.g. 'marrow blasts 85%'")]


class Conclusion(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    """A derived fact with its provenance. ``determined`` is false when the engine cannot decide.

    ``topic``, ``value``, ``determined``, ``rule`` and ``source`` are always written; an empty
    ``explanation``, ``evidence``, ``missing`` or ``conflicts`` is left out of the JSON (a reader takes
    it as empty): most conclusions have nothing missing and nothing in conflict.
    """

    topic: Annotated[str, msgspec.Meta(description="what this is about, e.g. 'diagnosis.disease'")]
    value: Any
    determined: bool
    rule: Annotated[str, msgspec.Meta(description="rule id, e.g. 'DX.DISEASE.MARROW_BLASTS'")]
    source: Annotated[str, msgspec.Meta(description="guideline and version")]
    explanation: str = ""
    evidence: list[EvidenceRef] = []
    missing: Annotated[list[str], msgspec.Meta(description="data that would decide it")] = []
    conflicts: Annotated[list[str], msgspec.Meta(description="both sides, when findings contradict")] = []


def conclude(
    topic: str,
    value: Any,
    rule: str,
    source: str,
    explanation: str = "",
    evidence: list[EvidenceRef] | None = None,
) -> Conclusion:
    """A decided conclusion."""
    return Conclusion(
        topic=topic, value=value, determined=True, rule=rule, source=source, explanation=explanation,
        evidence=evidence or [],
    )


def undetermined(
    topic: str,
    rule: str,
    source: str,
    missing: list[str],
    explanation: str = "",
    evidence: list[EvidenceRef] | None = None,
    value: Any = None,
) -> Conclusion:
    """A conclusion the engine cannot reach: say what is missing rather than guess."""
    return Conclusion(
        topic=topic,
        value=value,
        determined=False,
        rule=rule,
        source=source,
        explanation=explanation or "cannot determine: " + "; ".join(missing),
        evidence=evidence or [],
        missing=missing,
    )


def contradictory(
    topic: str,
    rule: str,
    source: str,
    conflicts: list[str],
    evidence: list[EvidenceRef],
    value: Any = "indeterminate",
) -> Conclusion:
    """Findings that disagree: list both sides, decide nothing."""
    return Conclusion(
        topic=topic,
        value=value,
        determined=False,
        rule=rule,
        source=source,
        explanation="findings contradict each other: " + "; ".join(conflicts),
        evidence=evidence,
        conflicts=conflicts,
        missing=["a repeat or confirmatory test that resolves the contradiction"],
    )
