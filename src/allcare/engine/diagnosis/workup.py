"""The findings a diagnosis is made on: one episode's work-up.

Blast counts fall as soon as treatment starts, so the disease is judged on the
first marrow of the episode (on or after its onset, within the work-up's sample
window: see :mod:`..course.episodes`); the lineage on the work-up's
immunophenotypes and the genetic entity on its genetic and cytogenetic results.
The initial diagnosis reads the initial episode's work-up, a relapse is
re-characterised from its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..case import Cbc, Cytogenetics, Extramedullary, Genetics, Immunophenotype, Marrow
from ..course.episodes import Episode
from ..view import CaseView, Indexed
from .phenotype import Phenotype, read_phenotype

MASS_SITES = ("mediastinum", "lymph_node", "skin", "other")
"""Extramedullary sites where a lymphoblastic lymphoma mass can sit.

Liver and spleen enlargement is ordinary leukaemic infiltration, and CNS or
testicular disease is extramedullary leukaemia, so none of them makes a
lymphoma; a mass in lymph nodes, the mediastinum, skin or other tissue does.
"""


@dataclass(frozen=True)
class Workup:
    """The work-up findings, chosen once for every diagnosis rule."""

    onset: dt.date | None
    marrow: Indexed[Marrow] | None = None
    same_day_marrows: list[Indexed[Marrow]] = field(default_factory=list)
    """Every counted marrow of ``marrow``'s day, itself included: one day's samples carry no order."""
    blood: Indexed[Cbc] | None = None
    same_day_blood: list[Indexed[Cbc]] = field(default_factory=list)
    """Every blood count with blasts of ``blood``'s day, itself included (no order among them either)."""
    masses: list[Indexed[Extramedullary]] = field(default_factory=list)
    phenotypes: list[Indexed[Immunophenotype]] = field(default_factory=list)
    genetics: list[Indexed[Genetics]] = field(default_factory=list)
    cytogenetics: list[Indexed[Cytogenetics]] = field(default_factory=list)


def episode_workup(view: CaseView, episode: Episode | None) -> Workup:
    """The diagnostic findings of one episode (an empty work-up when there is no episode), chosen once per episode."""
    if episode is None:
        return Workup(view.diagnosis_date)
    if episode.diagnostic_workup is None:
        episode.diagnostic_workup = _choose(view, episode)
    return episode.diagnostic_workup


def episode_phenotype(view: CaseView, episode: Episode | None) -> Phenotype:
    """The immunophenotype of one episode's work-up (empty when it has none), read once per episode."""
    if episode is None:
        return read_phenotype([], view.rules)
    if episode.phenotype is None:
        episode.phenotype = read_phenotype(episode_workup(view, episode).phenotypes, view.rules)
    return episode.phenotype


def _choose(view: CaseView, episode: Episode) -> Workup:
    onset = episode.onset
    counted = [x for x in episode.of_type("marrow") if x.finding.blasts_pct is not None]
    marrow = _first_on_or_after(counted, onset)
    counts_with_blasts = [x for x in episode.of_type("cbc") if x.finding.blasts_pct is not None]
    blood = _diagnostic_blood(view, counts_with_blasts, onset)
    return Workup(
        onset=onset,
        marrow=marrow,
        same_day_marrows=[x for x in counted if marrow is not None and x.date == marrow.date],
        blood=blood,
        same_day_blood=[x for x in counts_with_blasts if blood is not None and x.date == blood.date],
        masses=[
            x for x in episode.of_type("extramedullary") if x.finding.present and x.finding.site in MASS_SITES
        ],
        phenotypes=episode.of_type("immunophenotype"),
        genetics=episode.of_type("genetics"),
        cytogenetics=episode.of_type("cytogenetics"),
    )


def _first_on_or_after(items: list[Indexed[Marrow]], onset: dt.date) -> Indexed[Marrow] | None:
    if not items:
        return None
    on_or_after = [x for x in items if x.date >= onset]
    return on_or_after[0] if on_or_after else items[-1]


def _diagnostic_blood(view: CaseView, counts: list[Indexed[Cbc]], onset: dt.date) -> Indexed[Cbc] | None:
    if not counts:
        return None
    return view.nearest(counts, onset, view.rules.diagnostic_window_days) or counts[0]
