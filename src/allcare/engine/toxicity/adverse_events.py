"""Adverse events as the team recorded and graded them (CTCAE term, grade, dates)."""

from __future__ import annotations

from ..case.adverse_terms import term_label
from ..monitoring_output import RecordedAdverseEvent
from ..view import CaseView


def recorded_adverse_events(view: CaseView) -> list[RecordedAdverseEvent]:
    return [
        RecordedAdverseEvent(
            index=item.index, term=f.term, label=term_label(f.term), grade=f.grade, start=f.start, end=f.end,
            agent=f.agent, ctcae_version=f.ctcae_version,
        )
        for item in view.of_type("adverse_event")
        if (f := item.finding) is not None
    ]
