"""A relapse's site, time to relapse and first-relapse risk group.

* **Site** (Fuster 2014; Ponte di Legno 2022): combined = extramedullary relapse
  with >= 5% leukaemic cells in the marrow; isolated extramedullary = marrow
  below 5%; isolated marrow = no extramedullary site. Each site is read from the
  relapse's own work-up: the CNS from its spinal fluid (CNS3 is CNS disease, as
  at diagnosis) or clinical findings, the testis and other sites from their
  findings. Without a lumbar puncture a marrow relapse cannot be called isolated;
  without a marrow an extramedullary one cannot. A testis with no finding at
  relapse is taken as not involved (involvement is recorded when found).
* **Timing** (I-BFM / Ponte di Legno, used by IntReALL): very early < 18
  months after diagnosis; early >= 18 months after diagnosis and < 6 months
  after the end of front-line therapy; late >= 6 months after it. COG (older
  CCG/POG and AALL1331): a marrow relapse (isolated or combined) is early < 36
  months after diagnosis, an isolated extramedullary one < 18 months. Months are
  calendar months. Both are computed side by side.
* **Risk** (first relapse, children): ALL-REZ BFM strategy group S1-S4 from
  lineage, site and I-BFM timing; IntReALL standard risk = S1/S2, high = S3/S4;
  COG (B-ALL, age 1-30, no Down syndrome, Ph+ or prior HSCT): early relapse =
  high, late relapse = low or intermediate by the end-of-block-1 marrow MRD
  (< 0.1% / >= 0.1%); T-ALL relapse = high at any site and time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import product

import msgspec

from ..assessment import (
    BfmGroup,
    CogRelapseRisk,
    CogRelapseTiming,
    IbfmTiming,
    IntreallRisk,
    MrdResult,
    RelapseRisk,
    RelapseSite,
    RelapseTiming,
)
from ..case import Condition, Mrd
from ..case.bounds import at_least
from ..dates import add_months, exact_years
from ..explain import Conclusion, EvidenceRef, conclude, undetermined
from ..response.extramedullary import SiteFinding
from ..response.mrd import MARROW_SAMPLES, SAMPLE_NEEDED, marrow_level_at_least, mrd_result, value_text
from ..rules import RuleSet
from ..sources import BFM_RELAPSE, COG_RELAPSE, RELAPSE_SITE, RELAPSE_TIMING
from ..timepoints import is_end_of_induction
from ..view import CaseView, Indexed
from .episodes import Episode
from .treatment import CONCURRENT_PHASES, Block, TreatmentHistory

EM_NAMES = {"cns": "CNS", "testis": "testis"}

# ALL-REZ BFM strategy groups by lineage, site and I-BFM timing (very early, early, late).
# T-lineage isolated extramedullary relapses follow the B-cell precursor row.
_BFM: dict[tuple[str | None, str], tuple[BfmGroup, BfmGroup, BfmGroup]] = {
    ("B", "extramedullary"): ("S2", "S2", "S1"),
    ("B", "combined"): ("S4", "S2", "S2"),
    ("B", "isolated_marrow"): ("S4", "S3", "S2"),
    ("T", "extramedullary"): ("S2", "S2", "S1"),
    ("T", "combined"): ("S4", "S4", "S4"),
    ("T", "isolated_marrow"): ("S4", "S4", "S4"),
}
_TIMING_ORDER: tuple[IbfmTiming, ...] = ("very_early", "early", "late")


@dataclass(frozen=True)
class SiteCall:
    """The relapse site, or the sites still possible and what would decide."""

    site: RelapseSite | None
    candidates: list[RelapseSite]
    sites: list[str]
    evidence: list[EvidenceRef]
    conclusion: Conclusion
    marrow_involved: bool | None
    extramedullary: list[str] = field(default_factory=list)


def _em_category(sites: list[str]) -> RelapseSite:
    if sites == ["cns"]:
        return "isolated_cns"
    if sites == ["testis"]:
        return "isolated_testicular"
    return "other_extramedullary" if len(sites) == 1 else "isolated_extramedullary"


def relapse_site(view: CaseView, episode: Episode, sites: list[SiteFinding]) -> SiteCall:
    """The relapse's site from its episode's samples; ``sites`` are the course's extramedullary findings."""
    topic, rule = "course.relapse.site", "COURSE.RELAPSE.SITE"
    rules = view.rules
    window = [x.index for x in episode.samples]
    em = [s for s in sites if s.item.index in window]
    involved = sorted({s.site for s in em if s.involved})
    possible_cns = any(s.site == "cns" and s.possible for s in em) and "cns" not in involved
    cns_known = "cns" in involved or any(s.site == "cns" and s.involved is False for s in em)
    evidence = [s.ref() for s in em if s.involved or s.possible]

    # Marrow involvement: any marrow test (blast count, marrow MRD) at >= the M1 line.
    m1 = rules.m1_below_pct / 100
    answers: list[bool | None] = []
    for item in episode.of_type("marrow"):
        q = item.finding.blasts_pct
        if q is not None:
            answers.append(at_least(q.value, q.comparator, rules.m1_below_pct))
            evidence.append(item.ref(f"marrow blasts {q.value:g}%"))
    mrds = [(item, mrd_result(item, rules)) for item in episode.of_type("mrd")]
    for item, result in mrds:
        if result.sample in MARROW_SAMPLES:
            answers.append(marrow_level_at_least(result, m1))
            evidence.append(item.ref(f"marrow MRD {value_text(result)}"))
    marrow = True if any(a is True for a in answers) else (False if answers and all(a is False for a in answers) else None)
    sub_microscopic = [value_text(result) for _, result in mrds if result.status == "positive" and marrow is False]

    # Without a decisive lumbar puncture, CNS involvement stays possible: both readings are kept.
    em_options = [involved] + ([sorted({*involved, "cns"})] if possible_cns or not cns_known else [])
    marrow_options = [marrow] if marrow is not None else [True, False]
    candidates: list[RelapseSite] = []
    for em_sites, in_marrow in product(em_options, marrow_options):
        if in_marrow and em_sites:
            candidates.append("combined")
        elif in_marrow:
            candidates.append("isolated_marrow")
        elif em_sites:
            candidates.append(_em_category(em_sites))
    candidates = list(dict.fromkeys(candidates))
    shown_sites = (["marrow"] if marrow else []) + involved
    if len(candidates) == 1:
        site = candidates[0]
        why = f"{site.replace('_', ' ')} relapse: " + _site_reasons(marrow, involved, rules.m1_below_pct)
        if sub_microscopic:
            why += (f"; marrow MRD {sub_microscopic[0]} below the M1 line: sub-microscopic marrow involvement, "
                    "still an isolated extramedullary relapse")
        return SiteCall(site, candidates, shown_sites, evidence,
                        conclude(topic, site, rule, RELAPSE_SITE, why, evidence), marrow, involved)
    missing = []
    if marrow is None:
        missing.append("bone marrow aspirate at relapse (blast percentage or marrow MRD)")
        if any(result.sample is None for _, result in mrds):
            missing.append(SAMPLE_NEEDED)
    if not cns_known or possible_cns:
        missing.append("lumbar puncture at relapse (CSF cell count and cytospin)")
    why = (f"relapse site is one of {', '.join(c.replace('_', ' ') for c in candidates)}: "
           + _site_reasons(marrow, involved, rules.m1_below_pct))
    return SiteCall(None, candidates, shown_sites, evidence,
                    undetermined(topic, rule, RELAPSE_SITE, missing, why, evidence, value=candidates), marrow, involved)


def _site_reasons(marrow: bool | None, involved: list[str], m1: float) -> str:
    parts = [{True: f"marrow >= {m1:g}% leukaemic cells", False: f"marrow < {m1:g}% leukaemic cells",
              None: "marrow not examined"}[marrow]]
    parts.append("extramedullary: " + (", ".join(EM_NAMES.get(s, s) for s in involved) if involved else "none found"))
    return "; ".join(parts)


# Timing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimingCall:
    timing: RelapseTiming
    conclusion: Conclusion
    missing: list[str]


def front_line_end(treatments: TreatmentHistory, onset: dt.date) -> tuple[dt.date | None, bool | None, str]:
    """End of front-line therapy before a relapse: (date, still on therapy?, why).

    The end is the last recorded end of the blocks given before the relapse. When
    the last backbone block has no end date the therapy may still have been
    running (or its end was not recorded): the date is unknown.
    """
    before = treatments.before(onset)
    if not before:
        return None, None, "no treatment recorded before the relapse"
    backbone = [b for b in before if b.phase not in CONCURRENT_PHASES] or before
    last = backbone[-1]
    if last.end is None:
        return None, None, f"{last.phase} started {last.start} has no end date"
    end = max(b.end for b in before if b.end is not None)
    return end, onset <= end, f"last block ({last.phase}) ended {end}"


def relapse_timing(view: CaseView, episode: Episode, treatments: TreatmentHistory, site: SiteCall,
                   first: bool) -> TimingCall:
    topic, rule = "course.relapse.timing", "COURSE.RELAPSE.TIMING"
    rules = view.rules
    dx, onset = view.diagnosis_date, episode.onset
    evidence: list[EvidenceRef] = []
    missing: list[str]
    if dx is None:
        missing = ["diagnosis date"]
        return TimingCall(RelapseTiming(), undetermined(topic, rule, RELAPSE_TIMING, missing), missing)
    months_dx = round(exact_years(dx, onset) * 12, 1)
    if not first:
        why = (f"relapse {episode.number}, {months_dx:g} months after diagnosis: the I-BFM and COG timing classes "
               "are defined for a first relapse")
        return TimingCall(RelapseTiming(diagnosis_date=dx, months_from_diagnosis=months_dx),
                          conclude(topic, None, rule, RELAPSE_TIMING, why, evidence), [])
    end, on_therapy, end_why = front_line_end(treatments, onset)
    months_end = None if end is None else round(exact_years(end, onset) * 12, 1)
    evidence += (episode.event.evidence[:1] if episode.event else []) + [b.ref() for b in treatments.before(onset)[-1:]]
    very_early_line = add_months(dx, rules.relapse_very_early_months)
    missing = []
    ibfm: IbfmTiming | None
    if onset < very_early_line:
        ibfm, why = "very_early", f"onset {onset} < {rules.relapse_very_early_months} months after diagnosis ({very_early_line})"
    elif end is not None:
        late_line = add_months(end, rules.relapse_late_after_therapy_months)
        if onset < late_line:
            ibfm = "early"
            why = (f"onset {onset} >= {rules.relapse_very_early_months} months after diagnosis ({very_early_line}) and < "
                   f"{rules.relapse_late_after_therapy_months} months after the end of front-line therapy ({end_why}; "
                   f"line {late_line})" + ("; relapse during therapy" if on_therapy else ""))
        else:
            ibfm = "late"
            why = (f"onset {onset} >= {rules.relapse_late_after_therapy_months} months after the end of front-line "
                   f"therapy ({end_why}; line {late_line})")
    else:
        last = treatments.before(onset)[-1] if treatments.before(onset) else None
        if last is not None and onset < add_months(last.start, rules.relapse_late_after_therapy_months):
            ibfm = "early"
            why = (f"onset {onset} >= {rules.relapse_very_early_months} months after diagnosis and < "
                   f"{rules.relapse_late_after_therapy_months} months after the start of the last block ({last.phase} "
                   f"{last.start}), so within {rules.relapse_late_after_therapy_months} months of the end of therapy")
        else:
            ibfm, why = None, f"onset {onset} >= {rules.relapse_very_early_months} months after diagnosis; {end_why}"
            missing.append("end date of front-line therapy (the last maintenance dose)")
    cog, cog_why = _cog_timing(rules, dx, onset, site)
    if cog is None and site.site is None:
        missing.append("relapse site (marrow involvement) for the COG timing")
    timing = RelapseTiming(ibfm=ibfm, cog=cog, diagnosis_date=dx, end_of_therapy=end,
                           months_from_diagnosis=months_dx, months_from_end_of_therapy=months_end)
    text = f"I-BFM: {(ibfm or 'undetermined').replace('_', ' ')} ({why}); COG: {cog or 'undetermined'} ({cog_why})"
    value = {"ibfm": ibfm, "cog": cog}
    if ibfm is None or cog is None:
        return TimingCall(timing, undetermined(topic, rule, RELAPSE_TIMING, missing or ["relapse site"], text,
                                               evidence, value=value), missing)
    return TimingCall(timing, conclude(topic, value, rule, f"{RELAPSE_TIMING}; {COG_RELAPSE}", text, evidence), [])


def _cog_timing(rules: RuleSet, dx: dt.date, onset: dt.date, site: SiteCall) -> tuple[CogRelapseTiming | None, str]:
    marrow_line = add_months(dx, rules.cog_relapse_marrow_early_months)
    em_line = add_months(dx, rules.cog_relapse_extramedullary_early_months)
    answers: set[CogRelapseTiming] = set()
    for candidate in site.candidates:
        marrow_involved = candidate in ("combined", "isolated_marrow")
        line = marrow_line if marrow_involved else em_line
        answers.add("early" if onset < line else "late")
    if len(answers) == 1:
        answer = answers.pop()
        kind = "marrow" if site.marrow_involved else "isolated extramedullary"
        months = (rules.cog_relapse_marrow_early_months if site.marrow_involved
                  else rules.cog_relapse_extramedullary_early_months)
        return answer, f"{kind} relapse {'<' if answer == 'early' else '>='} {months} months after diagnosis"
    return None, "depends on whether the marrow is involved"


# Risk ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskCall:
    risk: RelapseRisk
    conclusions: list[Conclusion]


def relapse_risk(view: CaseView, episode: Episode, lineage: str | None, site: SiteCall, timing: TimingCall,
                 first: bool, ph_positive: bool | None, after_hsct: bool, switched: bool | None) -> RiskCall:
    age = view.age_at(episode.onset)
    bfm, bfm_conclusion, factors = _bfm(view, lineage, site, timing, first, age, switched)
    intreall: IntreallRisk | None = None if bfm is None else ("standard" if bfm in ("S1", "S2") else "high")
    cog, cog_conclusion = _cog(view, episode, lineage, site, timing, first, age, ph_positive, after_hsct, switched)
    conclusions = [bfm_conclusion, cog_conclusion]
    if cog is not None:
        factors.append(f"COG {cog} risk")
    return RiskCall(RelapseRisk(bfm=bfm, intreall=intreall, cog=cog, factors=factors), conclusions)


def _first_relapse_scope(first: bool, switched: bool | None) -> str | None:
    if switched:
        return "a lineage switch is a new leukaemia of another lineage, not an ALL relapse: the ALL relapse strata do not apply"
    if not first:
        return "the relapse strata are defined for a first relapse; a second or later relapse is beyond them"
    return None


def _bfm(view: CaseView, lineage: str | None, site: SiteCall, timing: TimingCall, first: bool, age: float | None,
         switched: bool | None) -> tuple[BfmGroup | None, Conclusion, list[str]]:
    topic, rule = "course.relapse.risk.bfm", "COURSE.RELAPSE.RISK.BFM"
    rules = view.rules
    scope = _first_relapse_scope(first, switched)
    if scope is None and age is not None and age >= rules.relapse_risk_age_below:
        scope = (f"age {age:.2f} y at relapse (>= {rules.relapse_risk_age_below:g} y): the BFM/IntReALL strata are "
                 "paediatric")
    if scope is None and lineage not in ("B", "T"):
        scope = "the BFM/IntReALL strata are defined for B-cell precursor and T-lineage ALL"
    if scope is not None:
        return None, conclude(topic, "not_applicable", rule, BFM_RELAPSE, scope), []
    if age is None:
        return None, undetermined(topic, rule, BFM_RELAPSE, ["age (birth date or age)"]), []
    site_keys = {_bfm_site(c) for c in site.candidates}
    timings: list[IbfmTiming] = [timing.timing.ibfm] if timing.timing.ibfm else list(_TIMING_ORDER)
    groups = {_BFM[(lineage, s)][_TIMING_ORDER.index(t)] for s in site_keys for t in timings}
    lineage_text = "B-cell precursor" if lineage == "B" else "T-lineage"
    site_text = site.site.replace("_", " ") if site.site else "site undetermined"
    timing_text = (timing.timing.ibfm or "timing undetermined").replace("_", " ")
    factors = [f"{lineage_text} ALL", f"{site_text} relapse", f"{timing_text} (I-BFM)"]
    if len(groups) == 1:
        group = groups.pop()
        intreall = "standard risk" if group in ("S1", "S2") else "high risk"
        why = (f"ALL-REZ BFM {group}: {lineage_text}, {site_text}, {timing_text} first relapse; IntReALL {intreall} "
               f"(SR = S1/S2, HR = S3/S4)")
        return group, conclude(topic, {"bfm": group, "intreall": intreall.split(maxsplit=1)[0]}, rule, BFM_RELAPSE, why,
                               site.evidence + timing.conclusion.evidence), factors + [f"BFM {group}"]
    missing = list(dict.fromkeys(site.conclusion.missing + timing.missing))
    why = f"BFM strategy group is one of {', '.join(sorted(groups))} ({lineage_text}, {site_text}, {timing_text})"
    return None, undetermined(topic, rule, BFM_RELAPSE, missing, why, site.evidence, value=sorted(groups)), factors


def _bfm_site(candidate: str) -> str:
    return candidate if candidate in ("combined", "isolated_marrow") else "extramedullary"


def end_of_block1_mrd(view: CaseView, episode: Episode) -> tuple[Indexed[Mrd], MrdResult] | None:
    """The first marrow MRD at the end of the relapse's first block.

    It is labelled end of induction/block, or taken >= 28 days after the block
    started; either way no later than the block's longest length plus the grace
    days, so a result months later is never read as the end-of-block-1 one.
    """
    if episode.treatment is None:
        return None
    start, rules = episode.treatment.start, view.rules
    items: list[Indexed[Mrd]] = view.of_type("mrd")
    for item in items:
        result = mrd_result(item, rules)
        if item.date <= start or result.sample not in MARROW_SAMPLES:
            continue
        if item.date > _block1_due_by(view, episode.treatment):
            break
        if is_end_of_induction(result.timepoint) or (item.date - start).days >= rules.end_of_induction_min_days:
            return item, result
    return None


def _cog(view: CaseView, episode: Episode, lineage: str | None, site: SiteCall, timing: TimingCall, first: bool,
         age: float | None, ph_positive: bool | None, after_hsct: bool,
         switched: bool | None) -> tuple[CogRelapseRisk | None, Conclusion]:
    topic, rule = "course.relapse.risk.cog", "COURSE.RELAPSE.RISK.COG"
    rules = view.rules
    low, high = rules.cog_relapse_age
    scope = _first_relapse_scope(first, switched)
    if scope is None and age is not None and not low <= age < high:
        scope = f"age {age:.2f} y at relapse: the COG relapse groups cover ages {low:g} to below {high:g} y (AALL1331: 1-30 years)"
    if scope is None and view.has(Condition.down_syndrome):
        scope = "Down syndrome was excluded from the COG relapse risk groups (AALL1331)"
    if scope is None and ph_positive:
        scope = "Ph+ (BCR::ABL1) ALL was excluded from the COG relapse risk groups (AALL1331)"
    if scope is None and after_hsct:
        scope = "relapse after HSCT was excluded from the COG relapse risk groups (AALL1331)"
    if scope is not None:
        return None, conclude(topic, "not_applicable", rule, COG_RELAPSE, scope)
    if lineage == "T":
        return "high", conclude(topic, "high", rule, COG_RELAPSE, "T-ALL relapse at any site and time: COG high risk",
                                site.evidence)
    if lineage != "B":
        return None, conclude(topic, "not_applicable", rule, COG_RELAPSE, "the COG relapse groups cover B- and T-ALL")
    if age is None:
        return None, undetermined(topic, rule, COG_RELAPSE, ["age (birth date or age)"])
    cog = timing.timing.cog
    if cog is None:
        missing = list(dict.fromkeys(site.conclusion.missing + timing.missing)) or ["relapse site"]
        return None, undetermined(topic, rule, COG_RELAPSE, missing, "COG timing (early vs late) undecided")
    if cog == "early":
        return "high", conclude(topic, "high", rule, COG_RELAPSE, "early B-ALL relapse: COG high risk",
                                timing.conclusion.evidence)
    found = end_of_block1_mrd(view, episode)
    line = rules.cog_relapse_mrd_high_from
    answer = None if found is None else marrow_level_at_least(found[1], line)
    if found is not None:  # the results of that day carry no order (docs/decisions.md#same-day)
        day = [(item, mrd_result(item, rules)) for item in view.of_type("mrd") if item.date == found[0].date]
        day = [(item, r) for item, r in day if r.sample in MARROW_SAMPLES]
        if {True, False} <= {marrow_level_at_least(r, line) for _, r in day}:
            shown = [f"marrow MRD {value_text(r)} ({r.method or 'method not stated'})" for _, r in day]
            c = undetermined(topic, rule, COG_RELAPSE,
                             [f"which end-of-block-1 MRD of {found[0].date} is valid (the protocol's method)"],
                             f"late B-ALL relapse: the end-of-block-1 MRD results of {found[0].date} fall on both "
                             f"sides of {line * 100:g}%: {'; '.join(shown)}",
                             [item.ref(text) for (item, _), text in zip(day, shown, strict=True)])
            return None, msgspec.structs.replace(c, conflicts=shown)
    if answer is None or found is None:  # no result (found is None) gives no answer
        why = f"late B-ALL relapse: low (end-of-block-1 MRD < {line * 100:g}%) or intermediate risk"
        if found is None and not _block1_due(view, episode):
            return None, conclude(topic, None, rule, COG_RELAPSE, why + "; the end-of-block-1 MRD is not yet due")
        if found is None:
            need = "end-of-block-1 marrow MRD after relapse re-induction"
        elif found[1].sample is None:
            need = f"{SAMPLE_NEEDED} (the end-of-block-1 result of {found[0].date})"
        else:
            need = f"evaluable end-of-block-1 marrow MRD (the {found[0].date} result cannot tell < or >= {line * 100:g}%)"
        return None, undetermined(topic, rule, COG_RELAPSE, [need], why)
    group: CogRelapseRisk = "intermediate" if answer else "low"
    item, result = found
    why = (f"late B-ALL relapse with end-of-block-1 marrow MRD {value_text(result)} "
           f"({'>=' if answer else '<'} {line * 100:g}%): COG {group} risk")
    return group, conclude(topic, group, rule, COG_RELAPSE, why, [item.ref(f"marrow MRD {value_text(result)}")])


def _block1_due_by(view: CaseView, block: Block) -> dt.date:
    """The date the end-of-block-1 assessment of the relapse's first block is due by (as at end of induction:
    day 42 + grace)."""
    rules = view.rules
    return block.start + dt.timedelta(days=rules.induction_days[1] + rules.end_of_induction_grace_days)


def _block1_due(view: CaseView, episode: Episode) -> bool:
    """Whether the end-of-block-1 assessment is overdue."""
    return episode.treatment is not None and view.as_of > _block1_due_by(view, episode.treatment)
