"""The ``course`` output: each episode described, each relapse re-characterised from its own work-up.

A relapse is read from what was found at relapse, not from the diagnosis: its
immunophenotype (antigen loss after antigen-directed therapy: CD19-negative
after blinatumomab or CAR-T, CD22-negative after inotuzumab; a lineage switch,
e.g. a myeloid relapse of a B-ALL, which is not a B-ALL relapse), its genetic
lesions (new ones listed), the therapy given before it (blinatumomab, CAR-T,
inotuzumab, HSCT) and its site, timing and risk group (:mod:`.relapse`).
Genetic results outside every work-up are response monitoring (:mod:`.monitoring`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypedDict, TypeGuard, get_args

from ..assessment import (
    Course,
    Diagnosis,
    Episode,
    EpisodeKind,
    EpisodeOutcome,
    RelapseRisk,
    RelapseSite,
    RelapseTiming,
)
from ..case import Extramedullary, Finding
from ..diagnosis.etp import call_etp
from ..diagnosis.genetics import genetic_profile
from ..diagnosis.lineage import assign_lineage, t_ordinary
from ..diagnosis.phenotype import Phenotype
from ..diagnosis.workup import episode_phenotype, episode_workup
from ..explain import Conclusion, EvidenceRef, conclude, undetermined
from ..lesion_vocabulary import BCR_ABL1
from ..response.timeline import CourseEvent
from ..sources import DISEASE_EPISODES, LINEAGE_SWITCH, WHO_HAEM5
from ..view import CaseView, Indexed
from .build import DiseaseCourse
from .episodes import Episode as WorkEpisode
from .monitoring import monitoring
from .relapse import relapse_risk, relapse_site, relapse_timing
from .treatment import CD19_DIRECTED, CD22_DIRECTED, EXPOSURE_NAMES, Block

TARGETS = (("CD19", ("CD19",)), ("CD22", ("CD22", "cCD22")))


def target_status(phenotype: Phenotype, name: str) -> bool | None:
    """Is an antigen-directed therapy's target (CD19, CD22) positive on these blasts? None: not reported."""
    names = dict(TARGETS)[name]
    answers = [phenotype.positive(n) for n in names if phenotype.tested(n)]
    if any(a is True for a in answers):
        return True
    return False if answers else None


_WORKUP_NAMES = {"marrow": "marrow", "cbc": "blood count", "mrd": "MRD", "csf": "spinal fluid",
                 "immunophenotype": "immunophenotype", "cytogenetics": "karyotype", "genetics": "genetic test"}


def _summary(item: Indexed[Finding]) -> str:
    f = item.finding
    if isinstance(f, Extramedullary):
        return f"{f.site} finding"
    return _WORKUP_NAMES.get(f.type, f.type)


def _is_episode_kind(kind: str) -> TypeGuard[EpisodeKind]:
    return kind in get_args(EpisodeKind)


def _outcome(event: CourseEvent | None) -> EpisodeOutcome | None:
    """What an episode led to: a remission (CR or CRi) or an induction failure."""
    if event is None:
        return None
    if event.kind == "refractory":
        return "refractory"
    status = event.status
    return status if status in ("complete_remission", "cr_incomplete_recovery") else None


class _Shared(TypedDict):
    """What every episode reports, whatever its kind."""

    kind: EpisodeKind
    number: int
    onset: dt.date
    workup: list[EvidenceRef]
    treatment_start: dt.date | None
    outcome: EpisodeOutcome | None
    outcome_date: dt.date | None


class _Recharacterised(TypedDict, total=False):
    """What a relapse or an induction failure adds: its blasts read again; for a relapse, site, timing and risk."""

    lineage: str | None
    lineage_switch: bool | None
    antigen_loss: list[str]
    antigen_modulation: list[str]
    new_lesions: list[str]
    prior_therapy: list[str]
    after_hsct: bool
    confirmed: dt.date | None
    site: RelapseSite | None
    sites: list[str]
    timing: RelapseTiming
    risk: RelapseRisk


@dataclass(frozen=True)
class _Phenotype:
    lineage: str | None
    switched: bool | None
    loss: list[str]
    modulation: list[str]
    conclusion: Conclusion


def _recharacterise(view: CaseView, episode: WorkEpisode, diagnosis: Diagnosis, at_diagnosis: Phenotype,
                    prior: dict[str, Block]) -> _Phenotype:
    topic, rule = "course.relapse.phenotype", "COURSE.RELAPSE.PHENOTYPE"
    phenotype = episode_phenotype(view, episode)
    what = "relapse" if episode.kind == "relapse" else "induction failure"
    if not phenotype.present:
        need = [f"immunophenotype at {what} (lineage, CD19 and CD22 status)"]
        return _Phenotype(None, None, [], [], undetermined(
            topic, rule, LINEAGE_SWITCH, need,
            f"no immunophenotype in the {what} work-up: lineage and antigen status are not re-assessed, and the "
            "diagnostic phenotype cannot stand in for them (antigens are lost after targeted therapy)",
        ))
    etp = call_etp(phenotype) if t_ordinary(phenotype) else None
    call = assign_lineage(phenotype, etp)
    lineage = "myeloid" if call.myeloid_only else call.lineage
    switched = None if lineage is None or diagnosis.lineage is None else lineage != diagnosis.lineage
    loss: list[str] = []
    modulation: list[str] = []
    parts: list[str] = []
    for name, names in TARGETS:
        before, now = target_status(at_diagnosis, name), target_status(phenotype, name)
        weak = any(phenotype.markers[n].value in ("dim", "partial") or phenotype.strong(n) is False
                   for n in names if n in phenotype.markers) and now
        if before and now is False:
            loss.append(name)
            given = [EXPOSURE_NAMES[k] for k in prior if k in (CD19_DIRECTED if name == "CD19" else CD22_DIRECTED)]
            parts.append(f"{name} lost (positive at diagnosis, negative now"
                         + (f"; after {', '.join(given)})" if given else ")"))
        elif weak:
            modulation.append(name)
            parts.append(f"{name} dim or partial (antigen modulation)")
        elif now is not None:
            parts.append(f"{name} {'positive' if now else 'negative'}")
    evidence = phenotype.ref(*phenotype.markers)
    if switched:
        why = (f"lineage switch: the {what} blasts are {lineage} lineage, the diagnosis was {diagnosis.lineage} lineage; "
               "this is not a relapse of the same ALL (check the clonal relationship: shared KMT2A or IG/TR "
               "rearrangement)")
    elif lineage is None:
        why = f"lineage at {what} not established from its immunophenotype"
    else:
        why = f"{lineage} lineage at {what}, as at diagnosis"
    why += ("; " + "; ".join(parts)) if parts else ""
    value = {"lineage": lineage, "lineage_switch": switched, "antigen_loss": loss}
    return _Phenotype(lineage, switched, loss, modulation, conclude(topic, value, rule, LINEAGE_SWITCH, why, evidence))


def _new_lesions(view: CaseView, episode: WorkEpisode, diagnosis: Diagnosis) -> tuple[list[str], Conclusion | None]:
    workup = episode_workup(view, episode)
    if not workup.genetics and not workup.cytogenetics:
        return [], None
    profile = genetic_profile(view, workup.genetics, workup.cytogenetics)
    new = [d for d in profile.summary.detected if d not in diagnosis.genetics.detected]
    refs = [r for refs in profile.evidence.values() for r in refs]
    why = (f"lesions at {episode.kind}: {', '.join(profile.summary.detected) or 'none detected'}"
           + (f"; not found at diagnosis: {', '.join(new)}" if new else "; no new lesion"))
    return new, conclude("course.relapse.genetics", new, "COURSE.RELAPSE.GENETICS", WHO_HAEM5, why,
                         list({(r.index, r.summary): r for r in refs}.values()))


def describe_course(view: CaseView, course: DiseaseCourse, diagnosis: Diagnosis) -> Course:
    at_diagnosis = episode_phenotype(view, course.initial)
    ph_positive = BCR_ABL1 in diagnosis.genetics.detected
    episodes = []
    for episode in course.episodes:
        workup = [x.ref(_summary(x)) for x in episode.workup]
        outcome = episode.outcome  # a remission (CR or CRi) or an induction failure
        kind = episode.kind
        if not _is_episode_kind(kind):
            raise ValueError(f"unknown episode kind {kind!r}")
        base = _Shared(kind=kind, number=episode.number, onset=episode.onset, workup=workup,
                       treatment_start=episode.treatment_start, outcome=_outcome(outcome),
                       outcome_date=None if outcome is None else outcome.date)
        conclusions = [_episode_conclusion(episode, workup)]
        if episode.kind == "initial":
            episodes.append(Episode(**base, lineage=diagnosis.lineage, conclusions=conclusions))
            continue
        prior = course.treatments.exposures_before(episode.onset)
        phenotype = _recharacterise(view, episode, diagnosis, at_diagnosis, prior)
        new, genetics = _new_lesions(view, episode, diagnosis)
        conclusions += [phenotype.conclusion] + ([genetics] if genetics else [])
        fields = _Recharacterised(lineage=phenotype.lineage, lineage_switch=phenotype.switched,
                                  antigen_loss=phenotype.loss, antigen_modulation=phenotype.modulation,
                                  new_lesions=new, prior_therapy=list(prior), after_hsct="hsct" in prior)
        if episode.kind == "relapse":
            first = episode.number == 1
            site = relapse_site(view, episode, course.sites)
            timing = relapse_timing(view, episode, course.treatments, site, first)
            lineage = diagnosis.lineage if not phenotype.switched else phenotype.lineage
            risk = relapse_risk(view, episode, lineage, site, timing, first, ph_positive, "hsct" in prior,
                                phenotype.switched)
            conclusions += [site.conclusion, timing.conclusion, *risk.conclusions]
            fields.update(_Recharacterised(confirmed=episode.event.date if episode.event else None, site=site.site,
                                           sites=site.sites, timing=timing.timing, risk=risk.risk))
        if prior:
            conclusions.append(_context(episode, prior))
        episodes.append(Episode(**base, **fields, conclusions=conclusions))
    found, monitoring_conclusions = monitoring(view, course, diagnosis)
    return Course(episodes=episodes, monitoring=found, conclusions=monitoring_conclusions)


def _episode_conclusion(episode: WorkEpisode, workup: list[EvidenceRef]) -> Conclusion:
    what = {"initial": "initial diagnosis", "relapse": f"relapse {episode.number}",
            "refractory": "induction failure with a new work-up"}[episode.kind]
    window = f"work-up from {episode.start or 'the first finding'} to {episode.result_end}"
    treated = (f"treatment for it started {episode.treatment_start}" if episode.treatment_start
               else "no treatment recorded for it")
    why = f"{what} with onset {episode.onset}; {window}; {treated}; {len(workup)} findings in its work-up"
    return conclude("course.episode", {"kind": episode.kind, "number": episode.number}, "COURSE.EPISODE",
                    DISEASE_EPISODES, why, workup)


def _context(episode: WorkEpisode, prior: dict[str, Block]) -> Conclusion:
    names = [EXPOSURE_NAMES[k] for k in prior]
    why = (f"therapy before this {episode.kind}: " + "; ".join(f"{EXPOSURE_NAMES[k]} ({b.phase} from {b.start})"
                                                               for k, b in prior.items()))
    if "hsct" in prior:
        why += "; relapse after haematopoietic stem cell transplant"
    return conclude("course.relapse.context", names, "COURSE.RELAPSE.CONTEXT", LINEAGE_SWITCH, why,
                    [b.ref() for b in prior.values()])
