"""How every conclusion carries its reasons.

A conclusion names the rule that produced it, the guideline behind the rule, the
findings it used (by index and date, so a reader can find them in the case), and
when it cannot decide, what data would decide it. These are the cards a care
team reads; they are also what ``allcare explain`` prints.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EvidenceRef(BaseModel):
    """One finding a conclusion used: where it is in the case and what it said."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(description="position in the case's findings list")
    date: dt.date
    type: str
    summary: str = Field(description="the part of the finding that mattered, e.g. 'marrow blasts 85%'")


class Conclusion(BaseModel):
    """A derived fact with its provenance. ``determined`` is false when the engine cannot decide."""

    model_config = ConfigDict(frozen=True)

    topic: str = Field(description="what this is about, e.g. 'diagnosis.disease'")
    value: Any = None
    determined: bool = True
    rule: str = Field(description="rule id, e.g. 'DX.DISEASE.MARROW_BLASTS'")
    source: str = Field(description="guideline and version")
    explanation: str = ""
    evidence: list[EvidenceRef] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="data that would decide it")
    conflicts: list[str] = Field(default_factory=list, description="both sides, when findings contradict")


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
        topic=topic, value=value, rule=rule, source=source, explanation=explanation, evidence=evidence or []
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
