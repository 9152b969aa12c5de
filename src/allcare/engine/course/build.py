"""Build the course of the disease once per assessment: treatments, phases, the status walk, episodes.

Every rule module that needs to know "which findings describe this episode of
the disease" or "when did treatment start" reads it from the one
:class:`DiseaseCourse` built here, so they all agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..assessment import PhaseSpan
from ..cns import CsfReading
from ..response.extramedullary import SiteFinding, site_findings
from ..response.phases import phase_spans
from ..response.timeline import TimelineResult, build_timeline
from ..view import CaseView
from .episodes import Episode, build_episodes
from .treatment import TreatmentHistory


@dataclass(frozen=True)
class DiseaseCourse:
    """The case read as a course: treatment history, phase spans, extramedullary findings, status walk and episodes."""

    treatments: TreatmentHistory
    spans: list[PhaseSpan]
    sites: list[SiteFinding]
    timeline: TimelineResult
    episodes: list[Episode]

    @property
    def csf_readings(self) -> dict[int, CsfReading]:
        """Each CSF's COG reading by finding index (read once, for the status walk and the CNS status alike)."""
        return {s.item.index: s.csf for s in self.sites if s.csf is not None}

    @property
    def treatment_start(self) -> dt.date | None:
        return self.treatments.start

    @property
    def initial(self) -> Episode | None:
        return next((e for e in self.episodes if e.kind == "initial"), None)

    @property
    def relapses(self) -> list[Episode]:
        return [e for e in self.episodes if e.kind == "relapse"]

    @property
    def current(self) -> Episode | None:
        """The episode in effect on the assessment date (the latest one started)."""
        return self.episodes[-1] if self.episodes else None


def build_course(view: CaseView) -> DiseaseCourse:
    treatments = TreatmentHistory(view)
    spans = phase_spans(view)
    sites = site_findings(view)
    timeline = build_timeline(view, spans, treatments.start, sites)
    return DiseaseCourse(treatments, spans, sites, timeline, build_episodes(view, treatments, timeline.events))
