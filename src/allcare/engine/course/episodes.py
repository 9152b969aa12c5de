"""Episodes of the disease and the work-up of each.

ALL is a disease of episodes: the initial diagnosis, remission, and often one or
more relapses, each with its own work-up (WHO-HAEM5 classifies from the work-up
of the disease in front of the pathologist; docs/decisions.md#episodes).
An episode starts at its onset (the diagnosis date; the first finding of a
relapse, a suspicion later confirmed included; an induction failure that gets a
new work-up) and its work-up is what was found from then until treatment for
it starts:

* **samples** (marrow, blood count, MRD, spinal fluid, extramedullary findings)
  up to the day that treatment starts, or when it starts with a steroid prephase,
  up to ``workup_sample_grace_days`` into it (protocols take the diagnostic
  marrow during the prephase);
* **results** (immunophenotype, karyotype, FISH, molecular genetics) up to
  ``workup_result_grace_days`` after treatment starts (late results of the
  diagnostic sample), but never from the first response marrow on: from then
  on a sample shows the response, not the disease.

Without recorded treatment, the samples are those of the first
``diagnostic_window_days`` after the onset, and results count until the next
marrow (nothing shows a response yet). A karyotype taken with a marrow in
remission (blasts below the M1 line after treatment started) is never part of a
work-up: its normal metaphases say nothing about the leukaemia's ploidy.
Genetic and cytogenetic results outside every work-up are response monitoring
(:mod:`.monitoring`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..case.bounds import below
from ..response.timeline import CourseEvent
from ..view import CaseView, Indexed
from .treatment import Block, TreatmentHistory

if TYPE_CHECKING:
    from ..diagnosis.phenotype import Phenotype
    from ..diagnosis.workup import Workup

SAMPLE_TYPES = ("marrow", "cbc", "mrd", "csf", "extramedullary")
RESULT_TYPES = ("immunophenotype", "cytogenetics", "genetics")


@dataclass
class Episode:
    """One episode of the disease and the findings of its work-up."""

    kind: str  # initial | relapse | refractory
    number: int
    onset: dt.date
    event: CourseEvent | None
    treatment: Block | None
    start: dt.date | None
    sample_end: dt.date
    result_end: dt.date
    samples: list[Indexed[Any]] = field(default_factory=list)  # findings of several types (see CaseView.of_type)
    results: list[Indexed[Any]] = field(default_factory=list)
    outcome: CourseEvent | None = None
    # What the diagnosis rules read from the work-up, worked out once however many rules ask
    # (:func:`..diagnosis.workup.episode_workup`, :func:`..diagnosis.workup.episode_phenotype`).
    diagnostic_workup: Workup | None = field(default=None, repr=False, compare=False)
    phenotype: Phenotype | None = field(default=None, repr=False, compare=False)

    def of_type(self, *types: str) -> list[Indexed[Any]]:
        """Work-up findings of these types, in date order (a new list: callers may change it)."""
        if len(types) == 1:
            return list(self._by_type.get(types[0], ()))
        return [x for x in self.workup if x.finding.type in types]

    @cached_property
    def _by_type(self) -> dict[str, list[Indexed[Any]]]:
        """The work-up by finding type, grouped once: the diagnosis rules ask for one type at a time."""
        grouped: dict[str, list[Indexed[Any]]] = {}
        for item in self.workup:
            grouped.setdefault(item.finding.type, []).append(item)
        return grouped

    @cached_property
    def workup(self) -> list[Indexed[Any]]:
        """Every finding of the work-up, in date order."""
        return sorted(self.samples + self.results, key=lambda x: (x.date, x.index))

    @property
    def treatment_start(self) -> dt.date | None:
        return self.treatment.start if self.treatment else None


def _shift(when: dt.date, days: int) -> dt.date:
    return when + dt.timedelta(days=days)


def _remission_marrow_dates(view: CaseView, after: dt.date | None) -> set[dt.date]:
    """Dates of marrows in remission (blasts below the M1 line) taken after treatment started."""
    line = view.rules.m1_below_pct
    return {
        x.date for x in view.of_type("marrow")
        if after is not None and x.date > after and x.finding.blasts_pct is not None
        and below(x.finding.blasts_pct.value, x.finding.blasts_pct.comparator, line)
    }


def _build(
    view: CaseView, kind: str, number: int, onset: dt.date, start: dt.date | None, treatment: Block | None,
    event: CourseEvent | None, until: dt.date | None,
) -> Episode:
    rules = view.rules
    if treatment is not None:
        grace = rules.workup_sample_grace_days if treatment.phase == "prephase" else 0
        sample_end = _shift(treatment.start, grace)
        result_end = _shift(treatment.start, rules.workup_result_grace_days)
    else:
        # No treatment recorded: nothing shows a response yet, so results stay with the untreated
        # disease until a later marrow (below); samples are those of the first weeks.
        sample_end = _shift(onset, rules.diagnostic_window_days)
        result_end = view.as_of
    response = next((x for x in view.of_type("marrow") if x.date > sample_end and x.date >= onset), None)
    if response is not None:  # from the first response marrow on, samples show the response
        result_end = min(result_end, _shift(response.date, -1))
    result_end = max(result_end, sample_end)
    if until is not None:
        sample_end, result_end = min(sample_end, until), min(result_end, until)
    remission_dates = _remission_marrow_dates(view, treatment.start if treatment else sample_end)

    samples = view.between(SAMPLE_TYPES, start, sample_end)
    results = [
        x for x in view.between(RESULT_TYPES, start, result_end)
        if not (x.date in remission_dates and x.finding.type == "cytogenetics")
    ]
    return Episode(kind, number, onset, event, treatment, start, sample_end, result_end, samples, results)


def build_episodes(view: CaseView, treatments: TreatmentHistory, events: list[CourseEvent]) -> list[Episode]:
    """The initial episode (when there is a diagnosis) and one per relapse, in order.

    An induction failure (or a relapse refractory to re-induction) opens an
    episode of its own only when it gets a new work-up (an immunophenotype or a
    genetic test within its window); otherwise it is the outcome of the episode
    it belongs to.
    """
    onsets: list[tuple[str, CourseEvent | None, dt.date]] = []
    if view.diagnosis_date is not None and view.findings:
        onsets.append(("initial", None, view.diagnosis_date))
    for found in events:
        if found.kind in ("relapse", "refractory"):
            onsets.append((found.kind, found, found.onset))
    lookback = view.rules.relapse_workup_lookback_days
    episodes: list[Episode] = []
    counts: dict[str, int] = {}
    for position, (kind, event, onset) in enumerate(onsets):
        following = [o for _, _, o in onsets[position + 1:]]
        until = _shift(min(following), -lookback - 1) if following else None
        if kind == "initial":
            episode = _build(view, kind, 1, onset, None, treatments.blocks[0] if treatments.blocks else None,
                             None, until)
        else:
            start = _shift(onset, -lookback)
            if episodes:  # never reach back into the previous episode's work-up
                start = max(start, _shift(max(episodes[-1].result_end, episodes[-1].sample_end), 1))
            episode = _build(view, kind, 0, onset, start, treatments.first_from(onset), event, until)
            if kind == "refractory" and not episode.results:
                continue  # no new work-up: the induction failure is the outcome of the episode it belongs to
        counts[kind] = counts.get(kind, 0) + 1
        episode.number = counts[kind]
        episodes.append(episode)
    _attach_outcomes(episodes, events)
    return episodes


def _attach_outcomes(episodes: list[Episode], events: list[CourseEvent]) -> None:
    """What each episode led to before the next one: the latest remission, else the induction failure."""
    for position, episode in enumerate(episodes):
        following = episodes[position + 1].onset if position + 1 < len(episodes) else None
        during = [e for e in events if e.kind != "relapse" and e is not episode.event and e.date >= episode.onset
                  and (following is None or e.date < following)]
        remissions = [e for e in during if e.kind == "remission"]
        failures = [e for e in during if e.kind == "refractory"]
        episode.outcome = remissions[-1] if remissions else (failures[0] if failures else episode.outcome)
