"""Adult ALL risk factors (ELN 2024: Gökbuget et al., Blood 2024;143:1891).

Adults have no single risk table: the ELN lists adverse factors (age, WBC by
lineage, immunophenotype, genetics, prednisone response, time to CR, MRD after
induction), and any one of them marks a high-risk patient. So allcare lists each
factor it can evaluate, and calls the patient high risk when one is present,
not high risk only when none is and the key data (presenting WBC, genetics and
MRD after induction) are all known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..assessment import AdultRisk, Diagnosis, MrdResult, MrdSummary, Status
from ..case.bounds import above
from ..course.treatment import TreatmentHistory
from ..diagnosis.workup import episode_workup
from ..explain import Conclusion, EvidenceRef
from ..lesion_vocabulary import MASKED_HYPODIPLOIDY_TEST, PLOIDY_TEST
from ..sources import ELN_2024
from ..view import CaseView
from . import lesions as L
from .common import (
    Outcome,
    any3,
    blast_response,
    is_mixed,
    mrd_at_least,
    mrd_ref,
    mrd_text,
    num,
    pct,
    presenting_wbc,
    presenting_wbc_against,
    wbc_text,
    years,
)
from .mrd_persistence import end_of_consolidation_mrd, end_of_induction_mrd

if TYPE_CHECKING:
    from ..course.build import DiseaseCourse

RULE = "RISK.ADULT"
TOPIC = "risk.adult"
_CR_STATES = ("complete_remission",)
_ASSESSED_STATES = ("complete_remission", "cr_incomplete_recovery", "refractory")
_STAGE_NAMES = {"pro_b": "pro-B", "common_b": "common B", "pre_b": "pre-B", "mature_b": "mature B",
                "pro_t": "pro-T", "pre_t": "pre-T", "cortical_t": "cortical T", "mature_t": "mature T"}


@dataclass
class _Factor:
    """One ELN factor: adverse (True), not adverse (False) or unknown (None)."""

    state: bool | None
    text: str
    refs: list[EvidenceRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def adult_risk(
    view: CaseView, diagnosis: Diagnosis, status: Status, mrd: MrdSummary, course: DiseaseCourse, lesions: L.Lesions
) -> Outcome[AdultRisk]:
    rules = view.rules
    age = view.age_at_diagnosis
    if age is None:
        c = Conclusion(topic=TOPIC, value=None, determined=False, rule=RULE, source=ELN_2024,
                       explanation="adult or paediatric unknown: age missing", missing=["age at diagnosis (birth date or age)"])
        return Outcome(AdultRisk(), c)
    if age < rules.paediatric_age_below:
        why = f"age {years(age)} (< {num(rules.paediatric_age_below)} y): paediatric, see NCI/Rome and the COG-style group"
        return Outcome(AdultRisk(), _decided("not_applicable", why, []))
    if is_mixed(diagnosis) or diagnosis.disease in ("LBL", "not_ALL"):
        why = "the ELN adult ALL risk factors are defined for B- and T-ALL"
        return Outcome(AdultRisk(), _decided("not_applicable", why, []))

    treatments = course.treatments
    wbc = _wbc(view, diagnosis, treatments)
    genetics, genetics_known = _genetics(view, diagnosis, lesions)
    after_induction = _mrd_factor(view, mrd, end_of_induction_mrd(view, mrd, treatments), "after induction",
                                  "MRD after induction")
    factors = [
        _Factor(age >= rules.adult_age_adverse_from,
                f"age {years(age)} ({'>=' if age >= rules.adult_age_adverse_from else '<'} {num(rules.adult_age_adverse_from)} y)"),
        wbc,
        *_immunophenotype(view, diagnosis, course),
        *genetics,
        _prednisone_response(treatments, view),
        _late_cr(treatments, status),
        after_induction,
    ]
    after_consolidation = end_of_consolidation_mrd(view, mrd, treatments)
    if after_consolidation is not None:
        factors.append(_mrd_factor(view, mrd, after_consolidation, "at the end of consolidation", ""))
    adverse = [f for f in factors if f.state]
    evidence = list({(r.index, r.summary): r for f in factors for r in f.refs}.values())
    names = [f.text for f in adverse]
    if adverse:
        why = "high risk (ELN 2024 adverse factors): " + "; ".join(names)
        return Outcome(AdultRisk(applicable=True, adverse_factors=names, high_risk=True),
                       _decided(True, why, evidence), [f"{n} (adult adverse factor)" for n in names])
    key_missing = [m for f in (wbc, after_induction) if f.state is None for m in f.missing]
    if not genetics_known.state:
        key_missing += genetics_known.missing
    checked = "; ".join(f.text for f in factors if f.state is False)
    if not key_missing:
        why = f"no ELN 2024 adverse factor: {checked}"
        return Outcome(AdultRisk(applicable=True, high_risk=False), _decided(False, why, evidence))
    unknown = [m for f in factors if f.state is None for m in f.missing]
    missing = list(dict.fromkeys(key_missing + unknown))
    c = Conclusion(topic=TOPIC, value=None, determined=False, rule=RULE, source=ELN_2024,
                   explanation=f"no adverse factor found so far ({checked or 'none evaluable'}); key data missing",
                   evidence=evidence, missing=missing, conflicts=[x for f in factors for x in f.conflicts])
    return Outcome(AdultRisk(applicable=True, high_risk=None), c)


def _decided(value: object, why: str, evidence: list[EvidenceRef]) -> Conclusion:
    return Conclusion(topic=TOPIC, value=value, determined=True, rule=RULE, source=ELN_2024, explanation=why, evidence=evidence)


def _wbc(view: CaseView, diagnosis: Diagnosis, treatments: TreatmentHistory) -> _Factor:
    rules = view.rules
    count = presenting_wbc(view, treatments.start)
    q = None if count is None else count.finding.wbc
    if count is None or q is None:
        return _Factor(None, "presenting WBC unknown", missing=["presenting WBC (first blood count at diagnosis, before treatment)"])
    shown = wbc_text(q)
    refs = [count.ref(f"presenting WBC {shown} x10^9/L")]
    if diagnosis.lineage not in ("B", "T"):
        return _Factor(None, f"presenting WBC {shown} x10^9/L, lineage unknown", refs, ["lineage (immunophenotype)"])
    line = rules.adult_wbc_b_above if diagnosis.lineage == "B" else rules.adult_wbc_t_above
    against = presenting_wbc_against(view, count, lambda value, comparator: above(value, comparator, line))
    adverse, conflicts = against.side, against.conflicts
    sign = {True: ">", False: "<=", None: "contradictory against" if conflicts else "cannot tell against"}[adverse]
    text = f"presenting WBC {shown} x10^9/L ({sign} {num(line)}, {diagnosis.lineage}-lineage)"
    need = [] if adverse is not None else against.missing if conflicts else [
        f"presenting WBC as a value (reported as {shown})"]
    return _Factor(adverse, text, refs + against.refs, need, conflicts)


def _immunophenotype(view: CaseView, diagnosis: Diagnosis, course: DiseaseCourse) -> list[_Factor]:
    """Pro-B or CD20+ (B); ETP, pro-/pre-T or mature T (T). Cortical (thymic) T-ALL is the favourable stage."""
    found: list[_Factor] = []
    if diagnosis.lineage == "B":
        if diagnosis.b_stage is not None:
            found.append(_Factor(diagnosis.b_stage == "pro_b", f"{_STAGE_NAMES[diagnosis.b_stage]} immunophenotype"))
        cd20 = _cd20(view, course)
        if cd20 is not None:
            found.append(cd20)
    elif diagnosis.lineage == "T":
        if diagnosis.etp is not None:
            found.append(_Factor(diagnosis.etp == "etp", {"etp": "ETP", "near_etp": "near-ETP", "not_etp": "not ETP"}[diagnosis.etp]))
        if diagnosis.t_stage is not None:
            adverse = diagnosis.t_stage in ("pro_t", "pre_t", "mature_t")
            found.append(_Factor(adverse, f"{_STAGE_NAMES[diagnosis.t_stage]} immunophenotype"))
    return found


def _cd20(view: CaseView, course: DiseaseCourse) -> _Factor | None:
    line = view.rules.surface_marker_positive_pct
    for item in episode_workup(view, course.initial).phenotypes:
        value = item.finding.markers.get("CD20")
        if value is None:
            continue
        if isinstance(value, (int, float)):
            positive = value >= line
            shown = f"CD20 {num(value)}% of blasts ({'>=' if positive else '<'} {num(line)}%)"
        elif value == "partial":
            return _Factor(None, "CD20 partial", [item.ref("CD20 partial")], ["CD20 % of blasts"])
        else:
            positive = value != "negative"
            shown = f"CD20 {value}"
        return _Factor(positive, shown, [item.ref(shown)])
    return None


def _genetics(view: CaseView, diagnosis: Diagnosis, lesions: L.Lesions) -> tuple[list[_Factor], _Factor]:
    """The adverse lesions found, and whether the key tests were done."""
    rules = view.rules
    adverse: list[_Factor] = []
    if diagnosis.lineage == "B":
        ploidy = L.ploidy(diagnosis, rules)
        tests = (L.BCR_ABL1, L.KMT2A_R, L.BCR_ABL1_LIKE, L.TP53_MUT, L.CRLF2_R)
        answers = [lesions.ask(t) for t in tests]
        for a in answers:
            if a.state:
                adverse.append(_Factor(True, a.text(), lesions.refs([a])))
        if ("bcrabl1like" in L.expression_subtypes(diagnosis) or L.names_ph_like(diagnosis)) and not answers[2].state:
            adverse.append(_Factor(True, "BCR::ABL1-like (Ph-like) expression sub-type"))
        if ploidy.call == "hypodiploid":
            adverse.append(_Factor(True, ploidy.text, L.karyotype_refs(view)))
        complexity = L.complex_karyotype(diagnosis, rules, ploidy.call)
        if complexity.state:
            adverse.append(_Factor(True, complexity.text, L.karyotype_refs(view)))
        missing = [a.test.request for a in answers[:2] if a.state is None]
        missing += [PLOIDY_TEST if ploidy.call is None else MASKED_HYPODIPLOIDY_TEST] if ploidy.call in (None, "masked") else []
        return adverse, _Factor(not missing, "key genetics", missing=missing)
    if diagnosis.lineage == "T":
        notch1, fbxw7, ras, pten = (lesions.ask(t) for t in (L.NOTCH1_MUT, L.FBXW7_MUT, L.RAS_MUT, L.PTEN_ALT))
        mutated = any3([notch1.state, fbxw7.state])
        if mutated is False:
            adverse.append(_Factor(True, "NOTCH1/FBXW7 unmutated", lesions.refs([notch1, fbxw7])))
        for a in (ras, pten):
            if a.state:
                adverse.append(_Factor(True, a.text(), lesions.refs([a])))
        missing = [a.test.request for a in (notch1, fbxw7) if a.state is None] if mutated is None else []
        missing += [a.test.request for a in (ras, pten) if a.state is None]
        return adverse, _Factor(not missing, "key genetics", missing=missing)
    return adverse, _Factor(None, "key genetics", missing=["lineage (immunophenotype)"])


def _prednisone_response(treatments: TreatmentHistory, view: CaseView) -> _Factor:
    """Blood blasts >= 1 x10^9/L at the end of a steroid prephase (only when a prephase was given)."""
    prephase = next((b for b in treatments.blocks if b.phase == "prephase"), None)
    if prephase is None:
        return _Factor(None, "no prephase recorded")
    end = prephase.end
    if end is None:
        following = [b.start for b in treatments.blocks if b.start > prephase.start]
        end = min(following) if following else None
    if end is None:
        return _Factor(None, "prephase end unknown", missing=["end date of the prephase"])
    response = blast_response(view, end, "at the end of the prephase")
    return _Factor(response.poor, response.text, response.refs, response.missing)


def _late_cr(treatments: TreatmentHistory, status: Status) -> _Factor:
    """CR first reached only after a second induction/consolidation cycle started (> 1 induction cycle)."""
    cycles = [b for b in treatments.blocks if b.phase in ("induction", "consolidation", "salvage")]
    points = sorted(status.timeline, key=lambda p: p.date)
    first_cr = next((p for p in points if p.status in _CR_STATES), None)
    second: dt.date | None = cycles[1].start if len(cycles) > 1 else None
    if first_cr is not None and (second is None or first_cr.date <= second):
        return _Factor(False, f"CR after the first induction cycle ({first_cr.date.isoformat()})")
    if first_cr is not None and second is not None:
        return _Factor(True, f"late CR: first CR {first_cr.date.isoformat()}, after the second cycle started "
                             f"{second.isoformat()}", [cycles[1].ref(f"{cycles[1].phase} started")])
    if second is None:
        return _Factor(None, "time to CR not yet known")
    assessed = [p for p in points if p.date <= second and p.status in _ASSESSED_STATES]
    if assessed:
        return _Factor(True, f"no CR after the first induction cycle (second cycle started {second.isoformat()})",
                       [cycles[1].ref(f"{cycles[1].phase} started")])
    return _Factor(None, "time to CR unknown", missing=["response marrow after the first induction cycle"])


def _mrd_factor(view: CaseView, mrd: MrdSummary, chosen: MrdResult | None, when: str, need: str) -> _Factor:
    """MRD >= 0.01% after induction or during/after consolidation (ELN 2024)."""
    rules = view.rules
    if chosen is None:
        return _Factor(None, f"MRD {when} unknown", missing=[need] if need else [])
    read = mrd_at_least(mrd, chosen, rules.adult_mrd_adverse)
    adverse = read.side
    if read.disagreement:
        return _Factor(None, f"MRD {when}: {read.disagreement}", [mrd_ref(chosen)],
                       [f"the MRD method the protocol reads {when}"], [read.disagreement])
    if adverse is None:
        return _Factor(None, f"{mrd_text(chosen)} not evaluable", [mrd_ref(chosen)],
                       [f"evaluable MRD {when} (sensitivity >= {rules.mrd_required_sensitivity:.0e})"])
    sign = ">=" if adverse else "<"
    return _Factor(adverse, f"{mrd_text(chosen)} {when} ({sign} {pct(rules.adult_mrd_adverse)})", [mrd_ref(chosen)])
