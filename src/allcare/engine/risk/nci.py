"""NCI/Rome risk: age and presenting WBC in B-ALL (PDQ Childhood ALL; docs/decisions.md#nci-risk).

Standard risk is age 1.00-9.99 y with WBC < 50 x10^9/L; high risk is age >= 10 y
or WBC >= 50. Infants (< 1 y) are outside the criteria and have their own
protocols. The criteria are paediatric; COG applied them up to age 30, so
allcare computes them below ``nci_age_max_below`` and calls them not applicable
above it. T-ALL, MPAL and lymphoblastic lymphoma are not classified by NCI/Rome.
"""

from __future__ import annotations

import msgspec

from ..assessment import Diagnosis, NciRisk
from ..case.bounds import at_least
from ..course.treatment import TreatmentHistory
from ..explain import Conclusion, conclude, contradictory, undetermined
from ..sources import NCI_ROME
from ..view import CaseView
from .common import Outcome, any3, is_mixed, num, presenting_wbc, presenting_wbc_against, wbc_text, years

RULE = "RISK.NCI"
TOPIC = "risk.nci"
WBC_MISSING = "presenting WBC (first blood count at diagnosis, before treatment)"
AGE_MISSING = "age at diagnosis (birth date or age)"


def _not_applicable(reason: str) -> Outcome[NciRisk | None]:
    return Outcome("not_applicable", conclude(TOPIC, "not_applicable", RULE, NCI_ROME, reason), [])


def nci_risk(view: CaseView, diagnosis: Diagnosis, treatments: TreatmentHistory) -> Outcome[NciRisk | None]:
    """NCI/Rome group: standard, high, infant, not_applicable, or None when undecidable."""
    rules = view.rules
    if is_mixed(diagnosis):
        return _not_applicable("NCI/Rome applies to B-ALL; mixed-phenotype acute leukaemia is not classified by it")
    if diagnosis.lineage == "T":
        return _not_applicable("NCI/Rome applies to B-ALL; in T-ALL presenting WBC has no consistent prognostic effect")
    if diagnosis.disease == "LBL":
        return _not_applicable("NCI/Rome applies to B-ALL, not to lymphoblastic lymphoma (staged separately)")
    if diagnosis.disease == "not_ALL":
        return _not_applicable("the findings do not show ALL")
    if diagnosis.lineage is None:
        return Outcome(None, undetermined(TOPIC, RULE, NCI_ROME, ["lineage (immunophenotype)"]))
    if diagnosis.disease != "ALL":
        return Outcome(None, undetermined(TOPIC, RULE, NCI_ROME, ["ALL vs lymphoma: marrow blast percentage"]))

    age = view.age_at_diagnosis
    count = presenting_wbc(view, treatments.start)
    q = count.finding.wbc if count is not None else None
    shown = wbc_text(q) if q is not None else None
    evidence = [count.ref(f"presenting WBC {shown} x10^9/L")] if count is not None else []
    against = presenting_wbc_against(view, count, lambda value, comparator: at_least(value, comparator, rules.nci_wbc_high_from))
    high_wbc, conflicts = against.side, against.conflicts
    evidence += against.refs
    wbc_part = None
    if q is not None:
        sign = {True: ">=", False: "<", None: "contradictory against" if conflicts else "cannot tell against"}[high_wbc]
        wbc_part = f"presenting WBC {shown} x10^9/L ({sign} {num(rules.nci_wbc_high_from)})"

    if age is not None and age < rules.infant_age_below:
        text = f"age {years(age)} (< {num(rules.infant_age_below)} y: infant)"
        why = f"{text}: infants are outside the NCI/Rome criteria and are treated on infant protocols (Interfant)"
        return Outcome("infant", conclude(TOPIC, "infant", RULE, NCI_ROME, why, evidence), [text])
    if age is not None and age >= rules.nci_age_max_below:
        text = f"age {years(age)} (>= {num(rules.nci_age_max_below)} y)"
        why = f"{text}: NCI/Rome is a paediatric classifier (COG applied it up to age {num(rules.nci_age_max_below)}); see the adult risk factors"
        return Outcome("not_applicable", conclude(TOPIC, "not_applicable", RULE, NCI_ROME, why, evidence), [text])

    age_text = None
    if age is not None:
        if age >= rules.nci_age_high_from:
            age_text = f"age {years(age)} (>= {num(rules.nci_age_high_from)} y)"
        else:
            age_text = f"age {years(age)} ({num(rules.infant_age_below)} to < {num(rules.nci_age_high_from)} y)"
    factors = [t for t in (age_text, wbc_part) if t]
    high = any3([None if age is None else age >= rules.nci_age_high_from, high_wbc])
    if high is False:
        why = f"{age_text} and {wbc_part}: standard risk"
        return Outcome("standard", conclude(TOPIC, "standard", RULE, NCI_ROME, why, evidence), factors)
    if high is True and age is None:
        # WBC >= 50 means high risk only for ages 1 to < 30: an infant is outside NCI/Rome (Interfant) and so is
        # a patient of 30 or more, so without an age the group stays open (docs/decisions.md#nci-risk).
        why = (f"cannot determine: {wbc_part} would be high risk at age {num(rules.infant_age_below)} to "
               f"< {num(rules.nci_age_max_below)} y, but without the age an infant (< {num(rules.infant_age_below)} y, "
               f"outside NCI/Rome) or a patient aged {num(rules.nci_age_max_below)} or more cannot be ruled out")
        conclusion = Conclusion(topic=TOPIC, value=None, determined=False, rule=RULE, source=NCI_ROME, explanation=why,
                                evidence=evidence, missing=[AGE_MISSING])
        return Outcome(None, conclusion, factors)
    if high is True:
        drivers = [t for t, hit in ((age_text, age is not None and age >= rules.nci_age_high_from),
                                    (wbc_part, high_wbc is True)) if hit and t is not None]
        why = " and ".join(drivers) + ": high risk"
        return Outcome("high", conclude(TOPIC, "high", RULE, NCI_ROME, why, evidence), factors)
    missing = [AGE_MISSING] if age is None else []
    if conflicts:
        c = contradictory(TOPIC, RULE, NCI_ROME, conflicts, evidence, value=None)
        return Outcome(None, msgspec.structs.replace(c, missing=[*missing, *against.missing]), factors)
    missing += [WBC_MISSING] if q is None else [f"presenting WBC as a value (reported as {shown} x10^9/L)"] if high_wbc is None else []
    return Outcome(None, undetermined(TOPIC, RULE, NCI_ROME, missing, evidence=evidence), factors)
