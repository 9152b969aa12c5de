"""Infant ALL flags and Down syndrome.

Infants (< 1 y) are outside NCI/Rome and are treated on infant protocols. In
Interfant-99, KMT2A-rearranged infants younger than 6 months with a poor day-8
prednisone response or a WBC >= 300 x10^9/L did better with transplant, so that
combination is flagged. Down syndrome changes toxicity and risk handling, so it
is always reported.
"""

from __future__ import annotations

import datetime as dt

from ..assessment import Diagnosis
from ..case import Condition
from ..case.bounds import at_least
from ..course.treatment import TreatmentHistory
from ..explain import Conclusion, EvidenceRef, conclude
from ..sources import DOWN_SYNDROME, INTERFANT_99, NCI_ROME
from ..view import CaseView
from . import lesions as L
from .common import Outcome, all3, any3, blast_response, num, presenting_wbc, presenting_wbc_against, wbc_text, years

INTERFANT_RULE = "RISK.INTERFANT"


def infant_flag(view: CaseView) -> Outcome[bool]:
    age = view.age_at_diagnosis
    if age is None:
        c = Conclusion(topic="risk.infant", value=None, determined=False, rule="RISK.INFANT", source=NCI_ROME,
                       explanation="infant or not unknown: age missing", missing=["age at diagnosis (birth date or age)"])
        return Outcome(False, c)
    infant = age < view.rules.infant_age_below
    text = f"age {years(age)} ({'<' if infant else '>='} {num(view.rules.infant_age_below)} y{': infant' if infant else ''})"
    why = f"{text}: {'infant ALL, treated on infant protocols' if infant else 'not an infant'}"
    return Outcome(infant, conclude("risk.infant", infant, "RISK.INFANT", NCI_ROME, why), [text] if infant else [])


def down_syndrome_flag(view: CaseView) -> Outcome[bool]:
    present = view.has(Condition.down_syndrome)
    why = ("Down syndrome recorded: higher treatment toxicity (infection, mucositis, methotrexate) and DS-specific risk handling"
           if present else "Down syndrome not recorded")
    factors = ["Down syndrome (constitutional trisomy 21)"] if present else []
    return Outcome(present, conclude("risk.down_syndrome", present, "RISK.DOWN_SYNDROME", DOWN_SYNDROME, why), factors)


def interfant_high_risk(
    view: CaseView, diagnosis: Diagnosis, treatments: TreatmentHistory, lesions: L.Lesions
) -> Outcome[bool | None]:
    """KMT2A-r AND age < 6 months AND (poor day-8 prednisone response OR WBC >= 300): True/False/None;
    ``lesions`` are the diagnosis's."""
    rules = view.rules
    topic = "risk.interfant_high_risk"
    age = view.age_at_diagnosis
    if age is not None and age >= rules.infant_age_below:
        why = f"age {years(age)}: not an infant, Interfant criteria do not apply"
        return Outcome(False, conclude(topic, False, INTERFANT_RULE, INTERFANT_99, why))
    if diagnosis.disease == "not_ALL":
        return Outcome(False, conclude(topic, False, INTERFANT_RULE, INTERFANT_99, "the findings do not show ALL"))
    kmt2a = lesions.ask(L.KMT2A_R)
    evidence: list[EvidenceRef] = lesions.refs([kmt2a]) if kmt2a.state is not None else []
    parts: list[tuple[bool | None, str, list[str]]] = [
        (kmt2a.state, kmt2a.text() + (" detected" if kmt2a.state else " not detected" if kmt2a.state is False else " unknown"),
         [] if kmt2a.state is not None else [L.KMT2A_R.request]),
    ]
    young = None if age is None else age < rules.interfant_age_below
    age_text = "age unknown" if age is None else f"age {years(age)} ({'<' if young else '>='} {num(rules.interfant_age_below)} y)"
    parts.append((young, age_text, ["age at diagnosis (birth date or age)"] if age is None else []))

    count = presenting_wbc(view, treatments.start)
    q = count.finding.wbc if count is not None else None
    against = presenting_wbc_against(view, count, lambda value, comparator: at_least(value, comparator, rules.interfant_wbc_from))
    high_wbc, conflicts = against.side, against.conflicts
    sign = {True: ">=", False: "<", None: "contradictory against" if conflicts else "cannot tell against"}[high_wbc]
    wbc_part = "presenting WBC unknown" if q is None else (
        f"presenting WBC {wbc_text(q)} x10^9/L ({sign} {num(rules.interfant_wbc_from)})")
    if count is not None and q is not None:
        evidence.append(count.ref(f"presenting WBC {wbc_text(q)} x10^9/L"))
        evidence += against.refs
    first = treatments.start
    if first is None:
        response_state, response_text, response_missing = None, "day-8 prednisone response unknown", ["treatment start (for day 8)"]
    else:
        response = blast_response(view, first + dt.timedelta(days=7), "on day 8")
        response_state, response_text, response_missing = response.poor, response.text, response.missing
        evidence += response.refs
    either = any3([response_state, high_wbc])
    either_missing = [] if either is not None else (
        ([] if response_state is not None else response_missing) + ([] if high_wbc is not None else ["presenting WBC"]))
    parts.append((either, f"{response_text}; {wbc_part}", either_missing))

    result = all3([p[0] for p in parts])
    texts = "; ".join(p[1] for p in parts)
    if result is None:
        missing = [m for state, _, need in parts if state is None for m in need]
        c = Conclusion(topic=topic, value=None, determined=False, rule=INTERFANT_RULE, source=INTERFANT_99,
                       explanation=f"cannot decide: {texts}", evidence=evidence, missing=missing, conflicts=conflicts)
        return Outcome(None, c)
    rule_text = (f"KMT2A-r, age < {num(rules.interfant_age_below)} y, poor day-8 prednisone response "
                 f"or WBC >= {num(rules.interfant_wbc_from)}")
    why = (f"Interfant-99 high risk ({rule_text}): " if result else f"not Interfant-99 high risk ({rule_text}): ") + texts
    factors = [f"Interfant-99 high risk: {texts}"] if result else []
    return Outcome(result, conclude(topic, result, INTERFANT_RULE, INTERFANT_99, why, evidence), factors)
