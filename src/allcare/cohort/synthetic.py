"""Synthetic ALL case files: realistic in shape, never real patients.

Used by the benchmark (thousands of cases with years of follow-up) and the demo
cohort. Distributions are rough published figures, cited inline:
- lineage about 85% B / 15% T in children (PDQ Childhood ALL Treatment);
- subtypes: high hyperdiploidy ~25%, ETV6::RUNX1 ~25% of childhood B-ALL; BCR::ABL1 ~3% of
  children and ~25% of adults; KMT2A-r most common in infants (PDQ);
- over 95% of children reach CR after induction (Leukemia & Lymphoma Society, childhood ALL chemotherapy);
- 5-year survival about 90% under 20 years and about 35% for adults (American Cancer Society figures via Cancer.Net, 2019),
  which the relapse probabilities below approximate.
A seeded ``random.Random`` makes every cohort reproducible.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from ..engine.lesion_vocabulary import BCR_ABL1, BCR_ABL1_LIKE, ETV6_RUNX1, IAMP21, KMT2A_R, TCF3_PBX1, TP53_MUTATION
from .synthetic_monitoring import add_monitoring

_B_SUBTYPES_CHILD = [
    (0.27, {"karyotype": "55,XY,+4,+6,+10,+14,+17,+18,+21,+21,+X[15]/46,XY[5]"}, None),
    (0.25, None, {"fusions": [ETV6_RUNX1], "negative": [BCR_ABL1, KMT2A_R, TCF3_PBX1]}),
    (0.05, None, {"fusions": [TCF3_PBX1], "negative": [BCR_ABL1, KMT2A_R, ETV6_RUNX1]}),
    (0.03, {"karyotype": "46,XY,t(9;22)(q34;q11.2)[18]/46,XY[2]"}, {"fusions": [BCR_ABL1]}),
    (0.02, {"karyotype": "46,XY,t(4;11)(q21;q23)[20]"}, {"fusions": ["KMT2A::AFF1"]}),
    (0.02, None, {"alterations": [IAMP21], "negative": [BCR_ABL1, KMT2A_R, ETV6_RUNX1, TCF3_PBX1]}),
    (0.10, None, {"expression_subtype": BCR_ABL1_LIKE, "expression_confidence": 0.9, "alterations": ["CRLF2_rearrangement"],
                  "negative": [BCR_ABL1, KMT2A_R, ETV6_RUNX1, TCF3_PBX1]}),
    (0.26, {"karyotype": "46,XY[20]"}, {"negative": [BCR_ABL1, KMT2A_R, ETV6_RUNX1, TCF3_PBX1, IAMP21]}),
]
_B_SUBTYPES_ADULT = [
    (0.25, {"karyotype": "46,XX,t(9;22)(q34;q11.2)[20]"}, {"fusions": [BCR_ABL1]}),
    (0.20, None, {"expression_subtype": BCR_ABL1_LIKE, "expression_confidence": 0.85, "negative": [BCR_ABL1, KMT2A_R]}),
    (0.10, {"karyotype": "46,XX,t(4;11)(q21;q23)[20]"}, {"fusions": ["KMT2A::AFF1"]}),
    (0.08, {"karyotype": "38,XX,-2,-3,-4,-7,-12,-13,-15,-16[12]/46,XX[8]"}, {"alterations": [TP53_MUTATION]}),
    (0.37, {"karyotype": "46,XX[20]"}, {"negative": [BCR_ABL1, KMT2A_R, ETV6_RUNX1, TCF3_PBX1, IAMP21]}),
]

B_MARKERS = {"CD19": "positive", "cCD79a": "positive", "CD10": "positive", "CD22": "positive", "TdT": "positive",
             "CD34": "positive", "HLA-DR": "positive", "cCD3": "negative", "MPO": "negative", "sIg": "negative"}
T_MARKERS = {"cCD3": "positive", "CD7": 95.0, "CD5": 90.0, "CD1a": 60.0, "CD8": 40.0, "CD2": "positive",
             "CD34": 10.0, "CD117": 2.0, "HLA-DR": 5.0, "CD13": 3.0, "CD33": 2.0, "CD11b": 1.0, "CD65": 0.0,
             "MPO": 0.0, "CD19": "negative", "TdT": "positive", "sCD3": "negative"}


def _pick(rng: random.Random, options: list[tuple[float, Any, Any]]) -> tuple[Any, Any]:
    roll, acc = rng.random() * sum(o[0] for o in options), 0.0
    for weight, cyto, gen in options:
        acc += weight
        if roll <= acc:
            return cyto, gen
    return options[-1][1], options[-1][2]


def _age(rng: random.Random) -> float:
    """Childhood peak at 2-5 years, a long adult tail (most ALL is paediatric)."""
    roll = rng.random()
    if roll < 0.03:
        return round(rng.uniform(0.1, 0.99), 2)
    if roll < 0.55:
        return round(rng.uniform(1.0, 6.0), 2)
    if roll < 0.78:
        return round(rng.uniform(6.0, 18.0), 2)
    return round(rng.uniform(18.0, 80.0), 1)


def generate_case(rng: random.Random, number: int, start: dt.date | None = None, years: float = 3.0,
                  monitoring: bool = False) -> dict:
    """One synthetic case file (``allcare.case/1`` dict) with ``years`` of follow-up.

    ``monitoring`` adds doses titrated to the maintenance counts, body size, chemistry, fevers and
    adverse events (:mod:`.synthetic_monitoring`), drawn from a generator seeded by ``rng`` so that
    the case's other findings stay what they would be without it.
    """
    start = start or dt.date(2021, 1, 4) + dt.timedelta(days=rng.randrange(0, 700))
    age = _age(rng)
    sex = rng.choice(["female", "male"])
    birth = start - dt.timedelta(days=int(age * 365.25))
    lineage_t = rng.random() < (0.15 if age >= 1 else 0.02)
    adult = age >= 18
    wbc = round(min(900.0, rng.lognormvariate(2.7 if not lineage_t else 3.8, 1.1)), 1)
    findings: list[dict] = []
    add = findings.append
    add({"type": "cbc", "date": start.isoformat(), "wbc": wbc, "hemoglobin": round(rng.uniform(5.5, 11.5), 1),
         "platelets": round(rng.uniform(8, 160)), "anc": min(wbc, round(rng.uniform(0.1, 2.5), 2)), "rbc": round(rng.uniform(2.0, 4.2), 2),
         "blasts_pct": round(rng.uniform(20, 95))})
    add({"type": "marrow", "date": start.isoformat(), "blasts_pct": round(rng.uniform(40, 98)), "method": "morphology", "timepoint": "diagnosis"})
    add({"type": "immunophenotype", "date": start.isoformat(), "sample": "marrow", "markers": dict(T_MARKERS if lineage_t else B_MARKERS)})
    if lineage_t:
        add({"type": "genetics", "date": (start + dt.timedelta(days=7)).isoformat(), "alterations": ["NOTCH1_mutation"], "source": "panel"})
        if rng.random() < 0.5:
            add({"type": "extramedullary", "date": start.isoformat(), "site": "mediastinum", "present": True, "detail": "mass"})
    else:
        cyto, gen = _pick(rng, _B_SUBTYPES_ADULT if adult else _B_SUBTYPES_CHILD)
        if cyto:
            add({"type": "cytogenetics", "date": (start + dt.timedelta(days=10)).isoformat(), **cyto})
        if gen:
            add({"type": "genetics", "date": (start + dt.timedelta(days=5)).isoformat(), "source": "FISH/RT-PCR", **gen})
    csf_blasts = rng.random() < 0.08
    add({"type": "csf", "date": (start + dt.timedelta(days=1)).isoformat(), "wbc": rng.choice([0, 1, 2, 7]) if csf_blasts else rng.choice([0, 1, 2]),
         "rbc": rng.choice([0, 2, 30]), "blasts": csf_blasts})

    induction_start = start + dt.timedelta(days=2)
    phases = [("induction", 28), ("consolidation", 56), ("interim_maintenance", 56), ("delayed_intensification", 56)]
    day = induction_start
    for phase, length in phases:
        add({"type": "treatment", "phase": phase, "start": day.isoformat(), "end": (day + dt.timedelta(days=length - 1)).isoformat(),
             "agents": _agents(phase, lineage_t), "protocol": "synthetic-protocol"})
        day += dt.timedelta(days=length)
    end_of_follow_up = start + dt.timedelta(days=int(years * 365.25))
    refractory = rng.random() < (0.03 if not adult else 0.12)
    relapse_day = None
    if not refractory and rng.random() < (0.10 if not adult else 0.40):
        relapse_day = start + dt.timedelta(days=rng.randrange(300, int(years * 365)))
    maintenance_end = min(end_of_follow_up, relapse_day or end_of_follow_up)
    add({"type": "treatment", "phase": "maintenance", "start": day.isoformat(), "end": maintenance_end.isoformat(),
         "agents": ["mercaptopurine", "methotrexate"], "protocol": "synthetic-protocol"})

    eoi = induction_start + dt.timedelta(days=28)
    add({"type": "marrow", "date": eoi.isoformat(), "blasts_pct": round(rng.uniform(6, 40)) if refractory else round(rng.uniform(0, 3), 1),
         "method": "morphology", "timepoint": "end_of_induction"})
    mrd_value = rng.choice([0.00003, 0.00005, 0.0002, 0.0015, 0.02]) if not refractory else 0.12
    add({"type": "mrd", "date": eoi.isoformat(), "value": mrd_value, "method": "flow", "sensitivity": 1e-5, "sample": "marrow", "timepoint": "end_of_induction"})
    eoc = induction_start + dt.timedelta(days=84)
    add({"type": "mrd", "date": eoc.isoformat(), "value": rng.choice([0.00002, 0.00004, 0.0003]),
         "method": "pcr", "sensitivity": 1e-5, "sample": "marrow", "timepoint": "end_of_consolidation"})

    # Blood counts: weekly during the first year, then every 9 days (about 150 findings in 3 years).
    when = start + dt.timedelta(days=7)
    while when <= end_of_follow_up:
        # Circulating blasts clear within the first two weeks of induction in responders
        # (the day-8 blood response); they persist only in refractory disease.
        cleared = when >= induction_start + dt.timedelta(days=14)
        blasts = 0 if cleared and not refractory else round(rng.uniform(0, 20))
        if relapse_day and when >= relapse_day:
            blasts = round(rng.uniform(10, 60))
        # Counts have recovered by a response assessment in most responders (CR rather than CRi);
        # in between, chemotherapy keeps them low (maintenance aims at an ANC of about 0.5-1.5).
        recovered = not refractory and any(0 <= (check - when).days <= 10 for check in (eoi, eoc)) and rng.random() < 0.9
        anc = rng.uniform(1.0, 4.0) if recovered else rng.uniform(0.3, 4.0)
        platelets = rng.uniform(100, 350) if recovered else rng.uniform(40, 350)
        count_wbc = round(rng.uniform(1.0, 6.5), 1)  # neutrophils are white cells: the ANC is at most the WBC
        add({"type": "cbc", "date": when.isoformat(), "wbc": count_wbc, "hemoglobin": round(rng.uniform(8.5, 13.0), 1),
             "platelets": round(platelets), "anc": min(count_wbc, round(anc, 2)), "rbc": round(rng.uniform(3.0, 4.8), 2), "blasts_pct": blasts})
        when += dt.timedelta(days=7 if (when - start).days < 365 else 9)
    if relapse_day:
        add({"type": "marrow", "date": relapse_day.isoformat(), "blasts_pct": round(rng.uniform(30, 90)), "method": "morphology", "timepoint": "relapse"})
        if relapse_day + dt.timedelta(days=3) <= end_of_follow_up:
            add({"type": "treatment", "phase": "salvage", "start": (relapse_day + dt.timedelta(days=3)).isoformat(),
                 "agents": ["blinatumomab"] if not lineage_t else ["nelarabine"], "protocol": "synthetic-relapse"})
    if monitoring:
        add_monitoring(findings, random.Random(rng.random()), start=start, birth=birth, wbc=wbc, lineage_t=lineage_t,
                       induction_start=induction_start, maintenance_start=day, maintenance_end=maintenance_end)
    findings.sort(key=lambda f: f.get("date") or f["start"])  # every finding has one of the two
    return {
        "schema": "allcare.case/1",
        "patient": {"id": f"SYN-{number:05d}", "birth_date": birth.isoformat(), "sex": sex, "conditions": ["down_syndrome"] if rng.random() < 0.02 else []},
        "diagnosis_date": start.isoformat(),
        "findings": findings,
    }


def _agents(phase: str, lineage_t: bool) -> list[str]:
    return {
        "induction": ["vincristine", "dexamethasone", "pegaspargase"] + (["daunorubicin"] if lineage_t else []),
        "consolidation": ["cyclophosphamide", "cytarabine", "mercaptopurine", "methotrexate (intrathecal)"],
        "interim_maintenance": ["methotrexate", "vincristine"],
        "delayed_intensification": ["dexamethasone", "doxorubicin", "vincristine", "pegaspargase", "cyclophosphamide"],
    }.get(phase, [])
