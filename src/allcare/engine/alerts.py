"""Alerts: the few things a care team must see first, as CDS-Hooks-style cards.

Each alert is a small named definition (code, severity, rule id, source) fed by
conclusions the other modules already reached, so an alert never re-derives a
clinical fact on its own and never disagrees with the panel below it.
Severity follows CDS Hooks indicators: ``critical`` (act now), ``warning``
(changes management), ``info`` (worth knowing).
"""

from __future__ import annotations

from typing import Callable

from . import sources
from .assessment import Alert, CnsResult, CountResult, Diagnosis, MrdSummary, Risk, Status
from .case import Condition, Extramedullary
from .diagnosis.markers import marker_positive
from .view import CaseView

RELAPSED_OR_REFRACTORY = ("relapse", "refractory")
IN_REMISSION = ("complete_remission", "cr_incomplete_recovery")


def raise_alerts(
    view: CaseView,
    diagnosis: Diagnosis,
    counts: list[CountResult],
    cns: CnsResult,
    risk: Risk,
    status: Status,
    mrd: MrdSummary,
) -> list[Alert]:
    """Every alert that applies on ``view.as_of``, most severe first."""
    found: list[Alert] = []
    for check in _CHECKS:
        found.extend(check(view, diagnosis, counts, cns, risk, status, mrd))
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda a: order[a.severity])


def _hyperleukocytosis(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    limit = view.rules.hyperleukocytosis_above
    high = [(c, a) for c in counts for a in c.analytes if a.analyte == "wbc" and a.value > limit]
    if not high:
        return []
    count, analyte = high[-1]
    is_latest = counts and counts[-1].index == count.index
    item = next(x for x in view.of_type("cbc") if x.index == count.index)
    return [
        Alert(
            code="hyperleukocytosis",
            severity="critical" if is_latest else "info",
            message=(
                f"WBC {analyte.value:g} x10^9/L (> {limit:g}): hyperleukocytosis; assess for leukostasis and "
                "tumour lysis, and avoid unnecessary red-cell transfusion"
                if is_latest
                else f"Presented with hyperleukocytosis (WBC {analyte.value:g} x10^9/L on {count.date})"
            ),
            rule="ALERT.HYPERLEUKOCYTOSIS",
            source=sources.CTCAE_V5,
            evidence=[item.ref(f"WBC {analyte.value:g} x10^9/L")],
        )
    ]


def _mediastinal_mass(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    latest = _latest_site(view, "mediastinum")
    if latest is None or not latest.finding.present:
        return []
    detail = (latest.finding.detail or "").lower()
    svc = "svc" in detail or "superior_vena_cava" in detail or "airway" in detail
    return [
        Alert(
            code="mediastinal_mass",
            severity="critical",
            message=(
                "Mediastinal mass with superior vena cava syndrome / airway compromise: oncological emergency; "
                "avoid sedation and general anaesthesia until the airway is assessed"
                if svc
                else "Mediastinal mass: risk of airway and superior vena cava compression; assess before sedation"
            ),
            rule="ALERT.MEDIASTINAL_MASS",
            source=sources.TREATMENT_PHASES,
            evidence=[latest.ref(f"mediastinal mass{', ' + latest.finding.detail if latest.finding.detail else ''}")],
        )
    ]


def _latest_site(view: CaseView, site: str):
    matches = [x for x in view.of_type("extramedullary") if isinstance(x.finding, Extramedullary) and x.finding.site == site]
    return matches[-1] if matches else None


def _latest_count_below(analyte_name: str, limit_name: str, code: str, words: str):
    def check(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
        limit = getattr(view.rules, limit_name)
        latest = next(
            (c for c in reversed(counts) if any(a.analyte == analyte_name for a in c.analytes)), None
        )
        if latest is None:
            return []
        value = next(a.value for a in latest.analytes if a.analyte == analyte_name)
        if value >= limit:
            return []
        item = next(x for x in view.of_type("cbc") if x.index == latest.index)
        return [
            Alert(
                code=code,
                severity="warning",
                message=f"{words} on {latest.date}: {analyte_name.upper()} {value:g} x10^9/L (< {limit:g})",
                rule=f"ALERT.{code.upper()}",
                source=sources.CTCAE_V5,
                evidence=[item.ref(f"{analyte_name.upper()} {value:g} x10^9/L")],
            )
        ]

    return check


def _cns_disease(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    alerts = []
    if cns.status and cns.status.startswith(("CNS2", "CNS3")):
        severe = cns.status.startswith("CNS3")
        evidence = [e for c in cns.conclusions for e in c.evidence]
        alerts.append(
            Alert(
                code="cns_disease",
                severity="warning" if severe else "info",
                message=f"{cns.status} at diagnosis: CNS-directed therapy intensity depends on it"
                + (" (CNS3 precludes standard/low risk in most schemas)" if severe else ""),
                rule="ALERT.CNS_DISEASE",
                source=sources.COG_CNS,
                evidence=evidence,
            )
        )
    cns_relapse = [p for p in status.timeline if p.status == "relapse" and "CNS" in p.conclusion.explanation]
    if cns_relapse:
        point = cns_relapse[-1]
        alerts.append(
            Alert(
                code="cns_disease",
                severity="critical",
                message=f"CNS relapse on {point.date}",
                rule="ALERT.CNS_RELAPSE",
                source=sources.PONTE_DI_LEGNO,
                evidence=point.conclusion.evidence,
            )
        )
    return alerts


def _testicular(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    latest = _latest_site(view, "testis")
    if latest is None or not latest.finding.present:
        return []
    return [
        Alert(
            code="testicular_disease",
            severity="warning",
            message="Testicular involvement: confirm by ultrasound or biopsy; precludes standard risk in most schemas",
            rule="ALERT.TESTICULAR_DISEASE",
            source=sources.COG_CNS,
            evidence=[latest.ref("testicular involvement")],
        )
    ]


def _ph_positive(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    if "BCR::ABL1" not in diagnosis.genetics.detected or "BCR::ABL1" in diagnosis.genetics.conflicting:
        return []
    evidence = [e for c in diagnosis.conclusions if "BCR::ABL1" in c.explanation for e in c.evidence][:4]
    return [
        Alert(
            code="ph_positive",
            severity="warning",
            message="Philadelphia chromosome / BCR::ABL1 positive: a tyrosine kinase inhibitor with chemotherapy applies "
            "(imatinib, dasatinib, ponatinib have Ph+ ALL labels); monitor BCR::ABL1 transcripts",
            rule="ALERT.PH_POSITIVE",
            source=sources.TKI_LABELS,
            evidence=evidence,
        )
    ]


def _immunotherapy(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    if diagnosis.lineage != "B":
        return []
    cd19 = marker_positive(view, "CD19")
    cd22 = marker_positive(view, "CD22") or marker_positive(view, "cCD22")
    targets = [name for name, positive in (("CD19", cd19), ("CD22", cd22)) if positive]
    if not targets:
        return []
    age = view.age_at(view.as_of)
    if status.current in RELAPSED_OR_REFRACTORY:
        options = []
        if cd19:
            options.append("blinatumomab (CD19)")
            if age is not None and age <= 25 and (status.current == "refractory" or _relapse_episodes(status) >= 2):
                options.append("tisagenlecleucel (CD19 CAR-T, up to 25 y, refractory or second or later relapse)")
            if age is not None and age >= 18:
                options.append("brexucabtagene autoleucel (CD19 CAR-T, adults)")
        if cd22:
            options.append("inotuzumab ozogamicin (CD22)")
        return [
            Alert(
                code="immunotherapy_indication",
                severity="warning",
                message=f"{'/'.join(targets)}-positive {status.current.replace('_', ' ')} B-ALL: labelled "
                f"indications exist for {', '.join(options)}",
                rule="ALERT.IMMUNOTHERAPY.RELAPSED_REFRACTORY",
                source=sources.FDA_LABELS,
                evidence=[e for p in status.timeline[-1:] for e in p.conclusion.evidence],
            )
        ]
    latest = mrd.latest
    if (
        cd19
        and status.current in IN_REMISSION
        and latest is not None
        and latest.value is not None
        and latest.value >= view.rules.immunotherapy_mrd_min
    ):
        return [
            Alert(
                code="immunotherapy_indication",
                severity="warning",
                message=f"CD19-positive B-ALL in remission with MRD {latest.value * 100:g}% (>= "
                f"{view.rules.immunotherapy_mrd_min * 100:g}%): blinatumomab has a labelled indication",
                rule="ALERT.IMMUNOTHERAPY.MRD",
                source=sources.FDA_LABELS,
                evidence=[
                    next(x for x in view.of_type("mrd") if x.index == latest.index).ref(
                        f"MRD {latest.value * 100:g}% ({latest.method or 'method not stated'})"
                    )
                ],
            )
        ]
    return []


def _relapse_episodes(status: Status) -> int:
    """How many times the timeline entered relapse (a second relapse widens the CAR-T label)."""
    episodes, previous = 0, None
    for point in status.timeline:
        if point.status == "relapse" and previous != "relapse":
            episodes += 1
        previous = point.status
    return episodes


def _down_syndrome(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    if not view.has(Condition.down_syndrome):
        return []
    return [
        Alert(
            code="down_syndrome",
            severity="warning",
            message="Down syndrome: higher treatment-related toxicity and infection mortality "
            "(methotrexate, anthracyclines, intensive blocks); use Down-syndrome-adapted dosing and supportive care",
            rule="ALERT.DOWN_SYNDROME",
            source=sources.DOWN_SYNDROME,
        )
    ]


def _missing_end_of_induction(view, diagnosis, counts, cns, risk, status, mrd) -> list[Alert]:
    missing = [c for c in status.conclusions if c.rule == "STATUS.EOI_ASSESSMENT" and c.value is False]
    if not missing:
        return []
    conclusion = missing[-1]
    return [
        Alert(
            code="missing_end_of_induction",
            severity="warning",
            message=conclusion.explanation or "End-of-induction response assessment (marrow and MRD) is missing",
            rule="ALERT.MISSING_END_OF_INDUCTION",
            source=conclusion.source,
            evidence=conclusion.evidence,
        )
    ]


_CHECKS: list[Callable[..., list[Alert]]] = [
    _hyperleukocytosis,
    _mediastinal_mass,
    _latest_count_below("anc", "severe_neutropenia_below", "severe_neutropenia", "Severe neutropenia (infection risk)"),
    _latest_count_below(
        "platelets", "severe_thrombocytopenia_below", "severe_thrombocytopenia", "Severe thrombocytopenia (bleeding risk)"
    ),
    _cns_disease,
    _testicular,
    _ph_positive,
    _immunotherapy,
    _down_syndrome,
    _missing_end_of_induction,
]
