"""COG-style B-ALL risk group from the PDQ Childhood ALL Table 1 (docs/decisions.md#risk-tie-breaks).

The table has ten columns (NCI risk, favourable genetics, unfavourable features,
day-8 blood MRD, day-29 marrow MRD). Which columns make the Low, Average, High
and Very high groups is not explicit in the stored text; allcare uses the most
likely split (Low = 1, Average = 2-3, High = 4-6, Very high = 7-10) and always
labels the result as inferred, never as a protocol assignment. BCR::ABL1-positive
ALL, T-ALL and infants are treated on separate protocols and get no group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..assessment import CnsResult, CogGroup, CogRiskGroup, Diagnosis, MrdSummary, NciRisk, Status
from ..case import Sex
from ..course.treatment import TreatmentHistory
from ..explain import Conclusion, EvidenceRef, conclude
from ..lesion_vocabulary import BCR_ABL1, ETV6_RUNX1, MASKED_HYPODIPLOIDY_TEST, PLOIDY_TEST, request_for
from ..sources import COG_PDQ_TABLE1
from ..timepoints import DAY8, END_OF_INDUCTION
from ..view import CaseView
from . import lesions as L
from .common import (
    Outcome,
    any3,
    is_mixed,
    mrd_at_least,
    mrd_ref,
    mrd_text,
    num,
    pct,
    pick_mrd,
    years,
)

RULE = "RISK.COG"
TOPIC = "risk.cog"
GROUP_OF_COLUMN: dict[int, CogRiskGroup] = {1: "low", 2: "average", 3: "average", 4: "high", 5: "high", 6: "high",
                   7: "very_high", 8: "very_high", 9: "very_high", 10: "very_high"}
_REMISSION_SEEN = ("complete_remission", "cr_incomplete_recovery", "suspected_relapse", "relapse")


@dataclass
class _Feature:
    state: bool | None
    text: str
    refs: list[EvidenceRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def cog_group(
    view: CaseView, diagnosis: Diagnosis, cns: CnsResult, status: Status, mrd: MrdSummary, nci: Outcome[NciRisk | None],
    treatments: TreatmentHistory, lesions: L.Lesions, assume_no_unfavourable: bool = False,
) -> Outcome[CogGroup]:
    """The PDQ Table 1 column and its inferred group; ``nci`` is the NCI/Rome outcome, ``lesions`` the diagnosis's.

    When the unfavourable features are still open but the other inputs already
    point to a very-high-risk column, the group is very high whichever way they
    turn out (column 10, the unfavourable column, is very high as well).
    """
    rules = view.rules
    if is_mixed(diagnosis) or diagnosis.lineage == "T" or diagnosis.disease in ("LBL", "not_ALL"):
        return _not_applicable("the COG B-ALL table applies to B-ALL only")
    if nci.value == "infant":
        return _not_applicable("infants (< 1 y) are treated on infant protocols (Interfant), outside the COG B-ALL table")
    if nci.value == "not_applicable":
        return _not_applicable(f"outside NCI/Rome: {nci.conclusion.explanation}")
    bcr = lesions.ask(L.BCR_ABL1)
    if bcr.state:
        return _not_applicable("BCR::ABL1-positive ALL is treated on separate (TKI) protocols, not assigned by this table",
                               lesions.refs([bcr]))

    unfavourable = _unfavourable(view, diagnosis, cns, status, lesions)
    unfav = False if assume_no_unfavourable else any3([f.state for f in unfavourable])
    age = view.age_at_diagnosis
    in_sr_or_hr = nci.value in ("standard", "high") or (
        nci.value is None and diagnosis.lineage == "B" and diagnosis.disease == "ALL" and age is not None
        and rules.infant_age_below <= age < rules.nci_age_max_below
    )
    evidence = list(nci.conclusion.evidence)
    for f in unfavourable:
        evidence += f.refs
    if unfav and in_sr_or_hr:
        found = [f.text for f in unfavourable if f.state]
        return _column(10, [f"unfavourable feature: {t}" for t in found], evidence)
    missing: list[str] = []
    if nci.value is None:
        missing += nci.conclusion.missing or ["NCI/Rome risk group"]
    if unfav is None:
        open_features = [m for f in unfavourable if f.state is None for m in f.missing]
        missing += open_features
        if nci.value in ("standard", "high") and bcr.state is False:
            other = cog_group(view, diagnosis, cns, status, mrd, nci, treatments, lesions, assume_no_unfavourable=True)
            if other.value.group == "very_high":
                why = (f"PDQ Table 1 column {other.value.column} without unfavourable features, column 10 with them: "
                       f"very high either way ({'; '.join(open_features)} still open) ({other.value.label})")
                factor = f"COG-style very high (column {other.value.column} or 10; inferred from PDQ Table 1)"
                return Outcome(CogGroup(group="very_high"), conclude(TOPIC, {"group": "very_high", "column": None}, RULE,
                                                                     COG_PDQ_TABLE1, why, other.conclusion.evidence),
                               [factor])
    if bcr.state is None:
        missing.append(request_for(BCR_ABL1))

    start_date = treatments.induction_start
    day29 = pick_mrd(mrd, END_OF_INDUCTION, "marrow", start_date, rules.cog_day29_window_days)
    d29 = None if day29 is None else mrd_at_least(mrd, day29, rules.cog_mrd_low_below)
    d29_high = None if d29 is None else d29.side
    d29_missing = ["day-29 marrow MRD (end of induction)" if day29 is None or d29 is None else
                   f"the day-29 MRD method the protocol reads ({d29.disagreement})" if d29.disagreement else
                   f"evaluable day-29 marrow MRD (the {day29.date.isoformat()} result is not evaluable)"]
    favourable = _favourable(view, diagnosis, lesions)
    if missing:
        # Name everything the table will need at once, not one input per run.
        missing += d29_missing if d29_high is None else []
        missing += favourable.missing if nci.value != "high" else []
        return _undecided(missing, evidence, "inputs of the table are missing")

    drivers = [f"NCI {'SR' if nci.value == 'standard' else 'HR'}", "no unfavourable features"]
    if day29 is not None:
        evidence.append(mrd_ref(day29))
        if d29_high is not None:
            drivers.append(f"day-29 BM {mrd_text(day29)} ({'>=' if d29_high else '<'} {pct(rules.cog_mrd_low_below)})")

    if nci.value == "high":
        if d29_high is None:
            return _undecided(d29_missing, evidence, "NCI high risk: the day-29 marrow MRD decides the column")
        if d29_high:
            return _column(8, drivers, evidence)
        if age is None:
            return _undecided(["age at diagnosis (birth date or age)"], evidence, "the HR columns split at age 13")
        split = rules.cog_hr_age_split
        drivers[0] = f"NCI HR, age {years(age)} ({'<' if age < split else '>='} {num(split)} y)"
        return _column(6 if age < split else 9, drivers, evidence)

    evidence += favourable.refs
    if favourable.state is not None:
        drivers.insert(1, f"favourable genetics {'yes: ' if favourable.state else 'no: '}{favourable.text}")
    if d29_high is None:
        return _undecided(d29_missing + favourable.missing, evidence, "NCI standard risk: day-29 marrow MRD needed")
    if favourable.state is None:
        return _undecided(favourable.missing, evidence, "NCI standard risk: favourable genetics decide the column")
    if d29_high:
        return _column(4 if favourable.state else 7, drivers, evidence)
    day8 = pick_mrd(mrd, DAY8, "blood", start_date, rules.cog_day8_window_days)
    line = rules.cog_mrd_low_below if favourable.state else rules.cog_day8_mrd_high_from
    d8 = None if day8 is None else mrd_at_least(mrd, day8, line)
    d8_high = None if d8 is None else d8.side
    if day8 is not None:
        evidence.append(mrd_ref(day8))
    if day8 is None or d8 is None or d8_high is None:  # no day-8 MRD, or one that does not settle the line
        need = ("day-8 blood MRD" if day8 is None or d8 is None else
                f"the day-8 MRD method the protocol reads ({d8.disagreement})" if d8.disagreement else
                f"evaluable day-8 blood MRD (the {day8.date.isoformat()} result is not evaluable at {pct(line)})")
        return _undecided([need], evidence, "NCI standard risk, day-29 MRD negative: the day-8 blood MRD decides the column")
    drivers.append(f"day-8 PB {mrd_text(day8)} ({'>=' if d8_high else '<'} {pct(line)})")
    if favourable.state:
        return _column(2 if d8_high else 1, drivers, evidence)
    return _column(5 if d8_high else 3, drivers, evidence)


def _column(column: int, drivers: list[str], evidence: list[EvidenceRef]) -> Outcome[CogGroup]:
    group = GROUP_OF_COLUMN[column]
    result = CogGroup(group=group, column=column)
    evidence = list({(e.index, e.summary): e for e in evidence}.values())
    why = f"PDQ Table 1 column {column} ({'; '.join(drivers)}) -> {group.replace('_', ' ')} ({result.label})"
    factor = f"COG-style column {column}: {group.replace('_', ' ')} (inferred from PDQ Table 1)"
    return Outcome(result, conclude(TOPIC, {"group": group, "column": column}, RULE, COG_PDQ_TABLE1, why, evidence), [factor])


def _not_applicable(why: str, evidence: list[EvidenceRef] | None = None) -> Outcome[CogGroup]:
    return Outcome(CogGroup(), conclude(TOPIC, "not_applicable", RULE, COG_PDQ_TABLE1, why, evidence))


def _undecided(missing: list[str], evidence: list[EvidenceRef], why: str) -> Outcome[CogGroup]:
    evidence = list({(e.index, e.summary): e for e in evidence}.values())
    missing = list(dict.fromkeys(missing))
    c = Conclusion(topic=TOPIC, value=None, determined=False, rule=RULE, source=COG_PDQ_TABLE1,
                   explanation=f"{why}; missing: {'; '.join(missing)}", evidence=evidence, missing=missing)
    return Outcome(CogGroup(), c)


# Table inputs -------------------------------------------------------------------------------
def _unfavourable(view: CaseView, diagnosis: Diagnosis, cns: CnsResult, status: Status, lesions: L.Lesions) -> list[_Feature]:
    """Hypodiploidy, KMT2A-r, iAMP21, induction failure, CNS3, testicular disease."""
    rules = view.rules
    ploidy = L.ploidy(diagnosis, rules)
    features = [
        _Feature(None if ploidy.call is None else {"hypodiploid": True, "high_hyperdiploid": False, "other": False}.get(ploidy.call), ploidy.text,
                 L.karyotype_refs(view) if ploidy.call == "hypodiploid" else [],
                 [PLOIDY_TEST if ploidy.call is None else MASKED_HYPODIPLOIDY_TEST]),
    ]
    for test in (L.KMT2A_R, L.IAMP21):
        answer = lesions.ask(test)
        features.append(_Feature(answer.state, answer.text(), lesions.refs([answer]) if answer.state else [], [test.request]))
    features.append(_induction_failure(status))
    cns_refs = [e for c in cns.conclusions for e in c.evidence]
    if cns.status is None:
        features.append(_Feature(None, "CNS status unknown", missing=["CNS status (diagnostic lumbar puncture)"]))
    else:
        cns3 = cns.status.upper().startswith("CNS3")
        features.append(_Feature(cns3, cns.status, cns_refs if cns3 else []))
    features.append(_testicular(view, cns, cns_refs))
    return features


def _induction_failure(status: Status) -> _Feature:
    points = sorted(status.timeline, key=lambda p: p.date)
    slow = None
    for point in points:
        if point.status == "refractory":
            return _Feature(True, f"induction failure ({point.date.isoformat()})", list(point.conclusion.evidence))
        if point.status in _REMISSION_SEEN:
            return _Feature(False, "remission reached")
        if point.conclusion.rule == "RESPONSE.SLOW_EARLY_RESPONSE":
            slow = point
    if slow is not None:
        return _Feature(None, f"slow early response ({slow.date.isoformat()}): induction failure is decided at the end "
                              "of extended induction", list(slow.conclusion.evidence),
                        ["marrow at the end of extended induction (about day 43)"])
    return _Feature(None, "induction response unknown", missing=["end-of-induction response (marrow)"])


def _testicular(view: CaseView, cns: CnsResult, refs: list[EvidenceRef]) -> _Feature:
    """Testicular disease; when not recorded it is taken as absent (it is recorded when found)."""
    if cns.testicular:
        return _Feature(True, "testicular involvement", refs)
    if view.patient.sex == Sex.female:
        return _Feature(False, "testicular involvement not applicable")
    return _Feature(False, "no testicular involvement" if cns.testicular is False else "testicular involvement not recorded")


def _favourable(view: CaseView, diagnosis: Diagnosis, lesions: L.Lesions) -> _Feature:
    """ETV6::RUNX1, or trisomies 4 and 10 in the same clone."""
    etv6 = lesions.ask(L.ETV6_RUNX1)
    if etv6.state:
        return _Feature(True, ETV6_RUNX1, lesions.refs([etv6]))
    trisomies = _double_trisomy(view, diagnosis, lesions)
    if trisomies.state:
        return trisomies
    if etv6.state is False and trisomies.state is False:
        return _Feature(False, f"ETV6::RUNX1 not detected; {trisomies.text}", lesions.refs([etv6]) + trisomies.refs)
    missing = ([] if etv6.state is False else [request_for(ETV6_RUNX1)]) + trisomies.missing
    return _Feature(None, "favourable genetics unknown", missing=missing)


def _double_trisomy(view: CaseView, diagnosis: Diagnosis, lesions: L.Lesions) -> _Feature:
    four, ten = lesions.ask(L.TRISOMY_4), lesions.ask(L.TRISOMY_10)
    if four.state and ten.state:
        return _Feature(True, "trisomies 4 and 10", lesions.refs([four, ten]))
    k = diagnosis.karyotype
    clones = [c for c in (k.clones if k is not None else []) if c.role in ("stemline", "sideline", "single", "normal")]
    for clone in clones:
        if "4" in clone.gains and "10" in clone.gains:
            return _Feature(True, f"trisomies 4 and 10 (karyotype clone {clone.text})", L.karyotype_refs(view))
    if clones:
        return _Feature(False, "no simultaneous trisomies 4 and 10 in the karyotype", L.karyotype_refs(view))
    if four.state is False or ten.state is False:
        return _Feature(False, "trisomy 4 or 10 not detected", lesions.refs([four, ten]))
    return _Feature(None, "trisomies 4 and 10 unknown", missing=["karyotype or FISH for trisomies 4 and 10"])
