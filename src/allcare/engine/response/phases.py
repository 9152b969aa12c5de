"""Treatment phases: which block runs on a date, and what looks late or missing.

Case files record treatment blocks as they are given, often without an end
date while a block runs. An open-ended block is taken to run until the next
block starts (the usual way a protocol moves on), except add-on therapy such as
a TKI ("targeted"), which runs alongside the backbone. Durations are compared
with the rule set's expected ranges (COG/BFM phases; docs/decisions.md
#end-of-induction), and an induction without its end-of-induction response assessment
is flagged once the assessment is overdue, because induction failure changes
everything that follows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from msgspec import structs

from ..assessment import PhaseSpan, TimelinePoint
from ..case import Marrow, Mrd
from ..course.treatment import CONCURRENT_PHASES
from ..explain import Conclusion, EvidenceRef
from ..sources import TREATMENT_PHASES
from ..timepoints import is_end_of_induction
from ..view import CaseView, Indexed

# Blocks whose response is judged at an end-of-induction assessment (first line, re-induction).
INDUCTION_PHASES = frozenset({"induction", "salvage"})
REMISSION_STATUSES = frozenset({"complete_remission", "cr_incomplete_recovery"})

EOI_RULE = "STATUS.EOI_ASSESSMENT"
EOI_TOPIC = "status.eoi_assessment"


def phase_spans(view: CaseView) -> list[PhaseSpan]:
    """One span per treatment block started by ``as_of``, in start order, without notes."""
    items = sorted(view.of_type("treatment"), key=lambda x: (x.finding.start, x.index))
    spans = [
        PhaseSpan(
            phase=item.finding.phase,
            start=item.finding.start,
            end=item.finding.end,
            expected_days=view.rules.phase_days(item.finding.phase),
            agents=list(item.finding.agents),
            protocol=item.finding.protocol,
            index=item.index,
        )
        for item in items
    ]
    return [structs.replace(span, running=_covers(spans, n, view.as_of)) for n, span in enumerate(spans)]


def effective_end(spans: list[PhaseSpan], n: int) -> dt.date | None:
    """The recorded end, or for an open-ended block the start of the next backbone block (None: still open)."""
    span = spans[n]
    if span.end is not None or span.phase in CONCURRENT_PHASES:
        return span.end
    for later in spans[n + 1:]:
        if later.phase not in CONCURRENT_PHASES and later.start >= span.start:
            return later.start
    return None


def _covers(spans: list[PhaseSpan], n: int, when: dt.date) -> bool:
    span = spans[n]
    if span.start > when:
        return False
    end = effective_end(spans, n)
    if span.end is None and end is not None:
        return when < end  # superseded on the day the next block starts
    return end is None or when <= end


def phase_on(spans: list[PhaseSpan], when: dt.date) -> PhaseSpan | None:
    """The block running on ``when``: the latest-started backbone block, else an add-on block."""
    running = [n for n in range(len(spans)) if _covers(spans, n, when)]
    backbone = [n for n in running if spans[n].phase not in CONCURRENT_PHASES]
    chosen = backbone or running
    return spans[max(chosen, key=lambda n: (spans[n].start, n))] if chosen else None


# End-of-induction assessment -------------------------------------------------------------


@dataclass(frozen=True)
class EoiCheck:
    """Whether one induction block has its end-of-induction response assessment."""

    span: PhaseSpan
    found: Indexed[Marrow | Mrd] | None
    late: bool
    due: dt.date
    deadline: dt.date
    value: bool | None  # True found; False overdue and missing; None not yet due


def eoi_checks(view: CaseView, spans: list[PhaseSpan]) -> list[EoiCheck]:
    rules = view.rules
    high = rules.induction_days[1]
    assessments = view.of_type("marrow", "mrd")
    starts = [s.start for s in spans if s.phase in INDUCTION_PHASES]
    checks = []
    for span in spans:
        if span.phase not in INDUCTION_PHASES:
            continue
        following = [s for s in starts if s > span.start]
        until = min(following) if following else None
        window_from = span.start + dt.timedelta(days=rules.end_of_induction_min_days)
        deadline = span.start + dt.timedelta(days=high + rules.end_of_induction_grace_days)
        found, late = None, False
        for item in assessments:
            if item.date < span.start or (until is not None and item.date >= until):
                continue
            labelled = is_end_of_induction(item.finding.timepoint)
            if labelled or window_from <= item.date <= deadline:
                found, late = item, item.date > deadline
                break
        value = True if found else (False if view.as_of > deadline else None)
        checks.append(EoiCheck(span, found, late, span.start + dt.timedelta(days=high), deadline, value))
    return checks


def eoi_conclusion(view: CaseView, checks: list[EoiCheck]) -> Conclusion:
    """STATUS.EOI_ASSESSMENT for the latest induction block: True, False (overdue) or None (not due / none)."""
    high = view.rules.induction_days[1]
    if not checks:
        return Conclusion(
            determined=True,
            topic=EOI_TOPIC, value=None, rule=EOI_RULE, source=TREATMENT_PHASES,
            explanation="no induction block recorded",
        )
    check = checks[-1]
    evidence = [
        EvidenceRef(index=check.span.index, date=check.span.start, type="treatment", summary=f"{check.span.phase} started")
    ]
    missing: list[str] = []
    if check.value is True and check.found is not None:  # True: found
        kind = "MRD" if check.found.finding.type == "mrd" else "marrow"
        day = (check.found.date - check.span.start).days
        evidence.append(check.found.ref(f"end-of-induction {kind} ({day} days after start)"))
        explanation = f"end-of-induction {kind} on {check.found.date}, {day} days after {check.span.phase} started"
        if check.late:
            explanation += f"; late (expected by day {high})"
    elif check.value is False:
        explanation = (
            f"no marrow or MRD assessment {view.rules.end_of_induction_min_days} to "
            f"{high + view.rules.end_of_induction_grace_days} days after {check.span.phase} started on {check.span.start}"
        )
        missing.append(
            f"end-of-induction response assessment (marrow or MRD) for {check.span.phase} started {check.span.start}"
        )
    else:
        explanation = f"end-of-induction assessment not yet due (expected by {check.due})"
    return Conclusion(
        determined=True,
        topic=EOI_TOPIC, value=check.value, rule=EOI_RULE, source=TREATMENT_PHASES,
        explanation=explanation, evidence=evidence, missing=missing,
    )


# Notes -----------------------------------------------------------------------------------


def annotate(
    view: CaseView, spans: list[PhaseSpan], checks: list[EoiCheck], timeline: list[TimelinePoint]
) -> list[PhaseSpan]:
    """Add notes: missing or late end-of-induction assessment, overrun, maintenance without remission."""
    high = view.rules.induction_days[1]
    by_index = {c.span.index: c for c in checks}
    out = []
    for n, span in enumerate(spans):
        notes: list[str] = []
        check = by_index.get(span.index)
        if check is not None:
            if check.value is False:
                notes.append(f"end-of-induction response assessment missing (expected by day {high})")
            elif check.value is None:
                notes.append(f"end-of-induction response assessment due by {check.due}")
            elif check.late and check.found is not None:
                day = (check.found.date - span.start).days
                notes.append(f"end-of-induction response assessment late ({day} days after start; expected by day {high})")
        if span.expected_days is not None:
            end = span.end or effective_end(spans, n) or view.as_of
            days = (end - span.start).days
            if days > span.expected_days[1]:
                notes.append(f"longer than expected ({days} days; expected up to {span.expected_days[1]})")
        if span.phase == "maintenance":
            before = [p for p in timeline if p.date <= span.start]
            status = before[-1].status if before else None
            if status not in REMISSION_STATUSES:
                notes.append(
                    "maintenance started without a documented remission"
                    + (f" (status then: {status})" if status else " (no response assessment before it)")
                )
        out.append(structs.replace(span, notes=notes))
    return out

