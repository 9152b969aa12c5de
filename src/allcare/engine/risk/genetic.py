"""NCCN genetic risk groups (NCCN ALL guidelines, as summarised by BMJ Best Practice).

Any poor-risk factor makes the group poor, whatever standard-risk factor is also
present. BCR::ABL1 is standard only without IKZF1-plus and without an
antecedent CML. The table also lists "IKZF1 alterations" as poor; read
literally that would make every BCR::ABL1 case with an IKZF1 deletion poor and
the IKZF1-plus distinction pointless, so allcare reads the specific BCR::ABL1
rule as overriding the general one: in BCR::ABL1-positive ALL an IKZF1 deletion
counts through IKZF1-plus only. Nothing decisive, or a test that could still
flip the group, leaves the group undetermined with the missing tests named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from .. import lesion_vocabulary as vocabulary
from ..assessment import Diagnosis, GeneticRisk
from ..case import Condition
from ..explain import Conclusion, EvidenceRef, conclude, contradictory
from ..rules import RuleSet
from ..sources import NCCN_GENETIC
from ..view import CaseView
from . import lesions as L
from .common import Outcome, any3, is_mixed

RULE = "RISK.GENETIC"
TOPIC = "risk.genetic"
_EXPRESSION_TEST = vocabulary.EXPRESSION_PROFILE_TEST
_PLOIDY_TEST = vocabulary.PLOIDY_TEST
_MASKED_TEST = vocabulary.MASKED_HYPODIPLOIDY_TEST


@dataclass
class _Tally:
    """Factors found so far: poor, standard, and what still could change the group."""

    poor: list[str] = field(default_factory=list)
    standard: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    answers: list[L.Answer] = field(default_factory=list)
    karyotype_used: bool = False
    conflicts: list[str] = field(default_factory=list)
    """Lesions that could change the group, reported both found and not found: they decide nothing."""

    def contradicted(self, answer: L.Answer) -> None:
        shown = ", ".join(answer.names)
        self.conflicts.append(f"{answer.test.label}: reported both found and not found ({shown})")
        self.blocking.append(f"{answer.test.request}, repeated or confirmed: the results disagree")


def genetic_risk(view: CaseView, diagnosis: Diagnosis, lesions: L.Lesions) -> Outcome[GeneticRisk | None]:
    """NCCN genetic risk: "standard", "poor", or None (not applicable or undecidable); ``lesions`` are the
    diagnosis's (:meth:`.lesions.Lesions.of`, shared by every risk scheme)."""
    if is_mixed(diagnosis):
        why = "the NCCN genetic risk groups are defined for B-ALL and T-ALL, not for mixed-phenotype acute leukaemia"
        return Outcome(None, conclude(TOPIC, "not_applicable", RULE, NCCN_GENETIC, why))
    if diagnosis.disease == "not_ALL":
        return Outcome(None, conclude(TOPIC, "not_applicable", RULE, NCCN_GENETIC, "the findings do not show ALL"))
    if diagnosis.lineage is None:
        return Outcome(None, _undecided([], ["lineage (immunophenotype)"], "lineage (B or T) not established"))
    tally = _b_lineage(view, diagnosis, lesions) if diagnosis.lineage == "B" else _t_lineage(lesions)
    evidence = lesions.refs(tally.answers) + (L.karyotype_refs(view) if tally.karyotype_used else [])
    evidence = list({(e.index, e.summary): e for e in evidence}.values())
    notes = ("; " + "; ".join(tally.notes)) if tally.notes else ""
    if tally.poor:
        factors = [f"{p} (poor-risk genetics)" for p in tally.poor]
        beaten = f"; outweighs standard-risk {', '.join(tally.standard)}" if tally.standard else ""
        why = f"poor risk: {'; '.join(tally.poor)}{beaten}{notes}"
        return Outcome("poor", conclude(TOPIC, "poor", RULE, NCCN_GENETIC, why, evidence), factors)
    if tally.conflicts:
        # A lesion that would make the group poor is contradictory: no standard call on the other results.
        c = contradictory(TOPIC, RULE, NCCN_GENETIC, tally.conflicts, evidence, value=None)
        why = f"{c.explanation}; the NCCN group waits for them{notes}"
        untested = [] if tally.standard else _untested(view.rules, diagnosis, lesions)
        missing = tally.blocking + [m for m in untested if not any(b.startswith(m) for b in tally.blocking)]
        return Outcome(None, msgspec.structs.replace(c, explanation=why, missing=list(dict.fromkeys(missing))), [])
    if tally.blocking:
        why = "cannot decide: " + "; ".join(tally.blocking) + notes
        return Outcome(None, _undecided(evidence, tally.blocking, why), [])
    if tally.standard:
        factors = [f"{s} (standard-risk genetics)" for s in tally.standard]
        why = f"standard risk: {'; '.join(tally.standard)}; no poor-risk factor among the results available{notes}"
        return Outcome("standard", conclude(TOPIC, "standard", RULE, NCCN_GENETIC, why, evidence), factors)
    missing = _untested(view.rules, diagnosis, lesions)
    why = "no NCCN standard- or poor-risk factor found" + (
        "; tests that could decide it are missing" if missing else ": the NCCN table does not place this case"
    ) + notes
    return Outcome(None, _undecided(evidence, missing, why), [])


def _undecided(evidence: list[EvidenceRef], missing: list[str], why: str) -> Conclusion:
    return Conclusion(topic=TOPIC, value=None, determined=False, rule=RULE, source=NCCN_GENETIC,
                      explanation=why, evidence=evidence, missing=missing)


# B-lineage ----------------------------------------------------------------------------------
_B_POOR = (L.TP53_MUT, L.KMT2A_R, L.IGH_R, L.HLF_R, L.ZNF384_R, L.MEF2D_R, L.MYC_R, L.BCR_ABL1_LIKE, L.PAX5_ALT, L.IAMP21)
_B_STANDARD = (L.ETV6_RUNX1, L.TCF3_PBX1, L.DUX4_R, L.PAX5_P80R)
# Expression-defined sub-types (folded): the lesion test they stand for, how to name them, poor?
_EXPRESSION = {
    "bcrabl1like": (L.BCR_ABL1_LIKE, "BCR::ABL1-like (Ph-like) expression sub-type", True),
    "pax5alt": (L.PAX5_ALT, "PAX5alt expression sub-type", True),
    "dux4": (L.DUX4_R, "DUX4-rearranged expression sub-type", False),
    "pax5p80r": (L.PAX5_P80R, "PAX5 P80R expression sub-type", False),
}


def _b_lineage(view: CaseView, diagnosis: Diagnosis, lesions: L.Lesions) -> _Tally:
    rules = view.rules
    tally = _Tally()
    _ploidy_and_complexity(diagnosis, rules, tally)
    dux4 = lesions.ask(L.DUX4_R)
    for test in _B_POOR:
        answer = lesions.ask(test)
        if answer.conflicting:
            tally.contradicted(answer)
        if not answer.state:
            continue
        if test is L.IGH_R and answer.names == ("IGH_rearrangement",) and dux4.state:
            tally.notes.append("IGH rearrangement taken as the DUX4 partner (IGH::DUX4), not IGH-r")
            continue
        tally.answers.append(answer)
        tally.poor.append(answer.text())
    for test in _B_STANDARD:
        answer = lesions.ask(test)
        if answer.state:
            tally.answers.append(answer)
            tally.standard.append(answer.text())
    for subtype in sorted(L.expression_subtypes(diagnosis) & _EXPRESSION.keys()):
        test, text, poor = _EXPRESSION[subtype]
        if not lesions.ask(test).state:
            (tally.poor if poor else tally.standard).append(text)
    if L.names_ph_like(diagnosis) and not any(p.startswith("BCR::ABL1-like") for p in tally.poor):
        tally.poor.append("BCR::ABL1-like (classification entity)")
    _bcr_abl1_and_ikzf1(view, lesions, tally)
    return tally


def _ploidy_and_complexity(diagnosis: Diagnosis, rules: RuleSet, tally: _Tally) -> None:
    ploidy = L.ploidy(diagnosis, rules)
    if ploidy.call is not None:
        tally.karyotype_used = True
    if ploidy.call == "hypodiploid":
        tally.poor.append(ploidy.text)
    elif ploidy.call == "high_hyperdiploid":
        tally.standard.append(ploidy.text)
    elif ploidy.call == "masked":
        tally.blocking.append(_MASKED_TEST)
        tally.notes.append(ploidy.text + ": neither high hyperdiploidy nor hypodiploidy is assigned")
    complexity = L.complex_karyotype(diagnosis, rules, ploidy.call)
    if complexity.note:
        tally.notes.append(complexity.note)
    if complexity.state:
        tally.karyotype_used = True
        tally.poor.append(complexity.text)


def _bcr_abl1_and_ikzf1(view: CaseView, lesions: L.Lesions, tally: _Tally) -> None:
    bcr = lesions.ask(L.BCR_ABL1)
    cml = view.has(Condition.antecedent_cml)
    ikzf1 = lesions.ask(L.IKZF1_ALT)
    plus = ikzf1_plus(lesions)
    tally.answers += [a for a in plus.answers if a.state is not None]
    for answer in (bcr, ikzf1):
        if answer.conflicting:
            tally.contradicted(answer)
    if bcr.state:
        tally.answers.append(bcr)
        if cml:
            tally.poor.append("BCR::ABL1 with antecedent CML")
        if plus.state:
            tally.poor.append(f"BCR::ABL1 with {plus.text}")
        elif not cml and plus.state is False:
            tally.standard.append(f"BCR::ABL1 without IKZF1-plus ({plus.text}) and without antecedent CML")
        elif not cml:
            tally.blocking += plus.missing
            tally.notes.append("BCR::ABL1 is standard risk only without IKZF1-plus")
        if ikzf1.state:
            tally.notes.append("in BCR::ABL1-positive ALL the IKZF1 deletion counts through IKZF1-plus")
        return
    if not ikzf1.state:
        return
    tally.answers.append(ikzf1)
    if bcr.state is False or plus.state:
        tally.poor.append(ikzf1.text())
        return
    # BCR::ABL1 unknown: an IKZF1 deletion without IKZF1-plus is poor only if BCR::ABL1 is negative.
    tally.blocking.append("BCR::ABL1 (an IKZF1 alteration is poor risk unless BCR::ABL1-positive without IKZF1-plus)")


@dataclass(frozen=True)
class IkzfPlus:
    state: bool | None
    text: str
    missing: list[str] = field(default_factory=list)
    answers: list[L.Answer] = field(default_factory=list)


def ikzf1_plus(lesions: L.Lesions) -> IkzfPlus:
    """IKZF1-plus: IKZF1 deletion + a CDKN2A, CDKN2B, PAX5 or PAR1 deletion, without an ERG deletion."""
    ikzf1 = lesions.ask(L.IKZF1_DEL)
    if ikzf1.state is False:
        return IkzfPlus(False, "no IKZF1 deletion", answers=[ikzf1])
    if ikzf1.state is None:
        return IkzfPlus(None, "IKZF1 deletion status unknown",
                        ["IKZF1 deletion (with CDKN2A, CDKN2B, PAX5, PAR1 and ERG deletion status) for IKZF1-plus"])
    erg = lesions.ask(L.ERG_DEL)
    if erg.state:
        return IkzfPlus(False, "IKZF1 deletion with ERG deletion: not IKZF1-plus", answers=[ikzf1, erg])
    partners = [lesions.ask(t) for t in (L.CDKN2A_DEL, L.CDKN2B_DEL, L.PAX5_DEL, L.PAR1_DEL)]
    with_partner = any3([p.state for p in partners])
    used = [ikzf1, erg, *partners]
    if with_partner is False:
        return IkzfPlus(False, "IKZF1 deletion without CDKN2A/CDKN2B/PAX5/PAR1 deletion: not IKZF1-plus", answers=used)
    if with_partner is None:
        untested = [p.test.label for p in partners if p.state is None]
        return IkzfPlus(None, "IKZF1-plus undeterminable", [f"{t} (for IKZF1-plus)" for t in untested], used)
    found = ", ".join(p.test.label for p in partners if p.state)
    if erg.state is False:
        return IkzfPlus(True, f"IKZF1-plus (IKZF1 deletion + {found}, no ERG deletion)", answers=used)
    return IkzfPlus(None, "IKZF1-plus undeterminable: ERG not tested",
                    ["ERG deletion status (IKZF1-plus requires no ERG deletion)"], used)


def _untested(rules: RuleSet, diagnosis: Diagnosis, lesions: L.Lesions) -> list[str]:
    missing = [t.request for t in (L.BCR_ABL1, L.ETV6_RUNX1, L.TCF3_PBX1, L.KMT2A_R, L.IAMP21, L.TP53_MUT, L.IKZF1_DEL)
               if lesions.ask(t).state is None]
    if L.ploidy(diagnosis, rules).call is None:
        missing.insert(0, _PLOIDY_TEST)
    if not L.expression_subtypes(diagnosis):
        missing.append(_EXPRESSION_TEST)
    return missing


# T-lineage ----------------------------------------------------------------------------------
def _t_lineage(lesions: L.Lesions) -> _Tally:
    tally = _Tally()
    notch1, fbxw7, ras, pten = (lesions.ask(t) for t in (L.NOTCH1_MUT, L.FBXW7_MUT, L.RAS_MUT, L.PTEN_ALT))
    tally.answers = [a for a in (notch1, fbxw7, ras, pten) if a.state is not None]
    for answer in (ras, pten):
        if answer.state:
            tally.poor.append(answer.text())
    mutated = any3([notch1.state, fbxw7.state])
    if mutated is False:
        tally.poor.append("NOTCH1 and FBXW7 wild type")
        return tally
    if tally.poor:
        tally.standard += [a.text() for a in (notch1, fbxw7) if a.state]
        return tally
    untested = [a.test.label for a in (ras, pten) if a.state is None]
    if mutated is True and not untested:
        tally.standard.append(" and ".join(a.text() for a in (notch1, fbxw7) if a.state) + " without RAS/PTEN alteration")
        return tally
    if mutated is None:
        untested = [a.test.label for a in (notch1, fbxw7) if a.state is None] + untested
    else:
        tally.notes.append("NOTCH1/FBXW7 mutated is standard risk only without RAS/PTEN alteration")
    tally.blocking += untested
    return tally
