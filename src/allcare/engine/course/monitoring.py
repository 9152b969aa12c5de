"""Genetic and cytogenetic results taken outside every work-up: response monitoring.

A BCR::ABL1 PCR that turned negative on a tyrosine kinase inhibitor, or a
46,XX[20] karyotype of a remission marrow, describes the response, not the
leukaemia: it never erases or contradicts the diagnostic entity (docs/decisions.md
#episodes; NCCN/ELN response monitoring). Each such result is read
against the lesions found at diagnosis: a diagnostic lesion no longer found is
a molecular response, one still found is persisting disease, a lesion never
found before is new (e.g. a TKI resistance mutation), a normal karyotype is a
normal (response) karyotype.
"""

from __future__ import annotations

from ..assessment import Diagnosis, MonitoringReading, MonitoringResult
from ..case import Cytogenetics, Genetics
from ..explain import Conclusion, conclude
from ..karyotype import parse_under_rules
from ..rules import RuleSet
from ..sources import DISEASE_EPISODES
from ..view import CaseView, Indexed
from .build import DiseaseCourse

TOPIC, RULE = "course.monitoring", "COURSE.MONITORING"
_WORDS = {
    "molecular_response": "molecular response", "persisting": "persisting", "new_lesion": "new lesion",
    "normal_karyotype": "normal karyotype", "abnormal_karyotype": "abnormal karyotype", "reported": "reported",
}


def monitoring(view: CaseView, course: DiseaseCourse, diagnosis: Diagnosis) -> tuple[list[MonitoringResult], list[Conclusion]]:
    in_workup = {x.index for episode in course.episodes for x in episode.results}
    at_diagnosis = set(diagnosis.genetics.detected)
    found: list[MonitoringResult] = []
    conclusions: list[Conclusion] = []
    for item in view.of_type("genetics", "cytogenetics"):
        if item.index in in_workup:
            continue
        result = _read(item, at_diagnosis, view.rules)
        found.append(result)
        conclusions.append(conclude(
            TOPIC, result.reading, RULE, DISEASE_EPISODES,
            f"{result.summary}: response monitoring outside the diagnostic work-up, it does not change the "
            "diagnosis", [item.ref(result.summary)],
        ))
    return found, conclusions


def _read(item: Indexed[Cytogenetics | Genetics], at_diagnosis: set[str], rules: RuleSet) -> MonitoringResult:
    f = item.finding
    if f.type == "cytogenetics":
        if not f.karyotype:
            return MonitoringResult(index=item.index, date=item.date, type=f.type, reading="reported",
                                    summary="karyotype without text")
        karyotype = parse_under_rules(f.karyotype, rules)
        reading: MonitoringReading
        lesions: list[str]
        if karyotype.is_normal:
            reading, lesions = "normal_karyotype", []
        else:
            lesions = [r.key for r in karyotype.recurrent]
            reading = "persisting" if any(_same(lesion, at_diagnosis) for lesion in lesions) else "abnormal_karyotype"
        summary = f"karyotype {f.karyotype}: {_WORDS[reading]}"
        return MonitoringResult(index=item.index, date=item.date, type=f.type, reading=reading, lesions=lesions,
                                summary=summary)
    found = list(dict.fromkeys([*f.fusions, *f.alterations]))
    persisting = [lesion for lesion in found if lesion in at_diagnosis]
    new = [lesion for lesion in found if lesion not in at_diagnosis]
    cleared = [lesion for lesion in f.negative if lesion in at_diagnosis]
    parts = ([f"{', '.join(persisting)} still detected"] if persisting else []) + (
        [f"{', '.join(new)} detected, not found at diagnosis"] if new else []) + (
        [f"{', '.join(cleared)} no longer detected"] if cleared else [])
    if persisting:
        reading, lesions = "persisting", persisting
    elif new:
        reading, lesions = "new_lesion", new
    elif cleared:
        reading, lesions = "molecular_response", cleared
    else:
        reading, lesions = "reported", list(f.negative)
    summary = "; ".join(parts) or "genetic result without a lesion found at diagnosis"
    return MonitoringResult(index=item.index, date=item.date, type=f.type, reading=reading, lesions=lesions,
                            summary=f"{_WORDS[reading]}: {summary}")


def _same(karyotype_key: str, at_diagnosis: set[str]) -> bool:
    return karyotype_key in at_diagnosis
