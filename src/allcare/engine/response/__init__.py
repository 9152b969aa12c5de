"""Response, disease status over time, MRD and the treatment-phase timeline.

``assess_response`` answers "where does this patient stand on ``as_of``":
the status at every assessment (timeline), the status now and since when, the
treatment block running, and the MRD series. Clinical lines come from the rule
set (NCCN/ELN response, Ponte di Legno relapse, ELN MRD; docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..assessment import DiseaseStatus, MrdSummary, Status, TimelinePoint
from ..explain import Conclusion, conclude, undetermined
from ..sources import ELN_MRD, NCCN_ELN_RESPONSE
from ..view import CaseView
from .marrow import marrow_grade
from .mrd import mrd_status, summarise_mrd, value_text
from .phases import annotate, eoi_checks, eoi_conclusion, phase_on

if TYPE_CHECKING:
    from ..course.build import DiseaseCourse

__all__ = ["assess_response", "marrow_grade", "mrd_status"]


def assess_response(view: CaseView, course: DiseaseCourse) -> tuple[Status, MrdSummary]:
    """Status (timeline, current status, phases) and the MRD summary on ``view.as_of``."""
    mrd, mrd_conclusions = summarise_mrd(view)
    spans, timeline = course.spans, course.timeline
    checks = eoi_checks(view, spans)
    phases = annotate(view, spans, checks, timeline.points)
    current, since, current_conclusion = _current(view, timeline.points, timeline.first_treatment)
    running = phase_on(phases, view.as_of)
    conclusions = [current_conclusion, eoi_conclusion(view, checks), *mrd_conclusions]
    for event in timeline.molecular:
        before = f" (previous {value_text(event.previous)})" if event.previous is not None else ""
        what = ("after a negative result" if event.kind == "recurrence"
                else f"rising at least {view.rules.mrd_rise_factor:g}-fold")
        conclusions.append(
            conclude(
                "status.molecular_relapse", event.date, "RESPONSE.MOLECULAR_RELAPSE", ELN_MRD,
                f"molecular relapse: MRD {value_text(event.result)} {what}{before} while in morphological remission",
                event.evidence,
            )
        )
    status = Status(
        current=current,
        since=since,
        current_phase=running.phase if running else None,
        timeline=timeline.points,
        phases=phases,
        conclusions=conclusions,
    )
    return status, mrd


def _current(
    view: CaseView, points: list[TimelinePoint], first_treatment: dt.date | None
) -> tuple[DiseaseStatus | None, dt.date | None, Conclusion]:
    """The status of the latest point; a diagnosis point becomes on_treatment once treatment has started."""
    if not points:
        return None, None, undetermined(
            "status.current", "STATUS.CURRENT", NCCN_ELN_RESPONSE,
            ["findings (diagnostic marrow or blood count, response marrows, treatment)"],
            "no findings on or before the assessment date",
        )
    latest = points[-1]
    evidence = latest.conclusion.evidence
    if (
        latest.status == "newly_diagnosed"
        and first_treatment is not None
        and first_treatment <= view.as_of
        and view.as_of > latest.date
    ):
        span = next(s for s in view.of_type("treatment") if s.finding.start == first_treatment)
        return "on_treatment", first_treatment, conclude(
            "status.current", "on_treatment", "STATUS.CURRENT", NCCN_ELN_RESPONSE,
            f"treatment started {first_treatment}; no response assessment since diagnosis",
            [span.ref(f"{span.finding.phase} started")],
        )
    since = latest.date
    for point in reversed(points):
        if point.status != latest.status:
            break
        since = point.date
    if latest.status == "on_treatment" and first_treatment is not None:
        since = min(since, first_treatment)
    explanation = f"{latest.status} since {since} (latest assessment {latest.date}: {latest.conclusion.explanation})"
    if not latest.conclusion.determined:
        conclusion = Conclusion(
            topic="status.current", value=latest.status, determined=False, rule="STATUS.CURRENT",
            source=latest.conclusion.source, explanation=explanation, evidence=evidence,
            missing=latest.conclusion.missing, conflicts=latest.conclusion.conflicts,
        )
    else:
        conclusion = conclude(
            "status.current", latest.status, "STATUS.CURRENT", latest.conclusion.source, explanation, evidence
        )
    return latest.status, since, conclusion
