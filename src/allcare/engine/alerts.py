"""Alerts: the few things a care team must see first, as CDS-Hooks-style cards.

Each alert is a small named definition (code, severity, rule id, source) fed by
conclusions the other modules already reached, so an alert never re-derives a
clinical fact on its own and never disagrees with the panel below it.
Severity follows CDS Hooks indicators: ``critical`` (act now), ``warning``
(changes management), ``info`` (worth knowing).

Alerts have a lifetime: a finding of the presentation that is over (a
mediastinal mass or CNS disease at diagnosis followed by remission or a clear
follow-up, a hyperleukocytosis that is not the latest count, a relapse followed
by a new remission) stays listed as ``info`` history, so the cards always show
what is true now. Blood-count thresholds read a result reported as a bound
three-valued: "< 20" platelets are below 25, "< 30" platelets decide nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from . import sources
from .assessment import Alert, CnsResult, Course, Diagnosis, Episode, MrdSummary, Risk, Status
from .case import Condition, Extramedullary
from .case.bounds import above, below, describe
from .course.build import DiseaseCourse
from .course.describe import target_status
from .course.treatment import CD19_DIRECTED, CD22_DIRECTED, EXPOSURE_NAMES
from .diagnosis.lesions import is_abl_class
from .diagnosis.workup import episode_phenotype
from .lesion_vocabulary import BCR_ABL1, TP53_MUTATION
from .monitoring import Monitoring, monitoring_alerts
from .response.mrd import level_at_least, value_text
from .view import CaseView, Indexed

RELAPSED_OR_REFRACTORY = ("relapse", "refractory")
IN_REMISSION = ("complete_remission", "cr_incomplete_recovery")
HYPODIPLOID_TP53 = ("low_hypodiploid", "hypodiploid")


@dataclass(frozen=True)
class AlertInputs:
    """Everything the alert checks read: the case view and the conclusions already reached."""

    view: CaseView
    course: DiseaseCourse
    summary: Course
    diagnosis: Diagnosis
    cns: CnsResult
    risk: Risk
    status: Status
    mrd: MrdSummary
    monitoring: Monitoring  # the treatment-monitoring sections the assessment shows

    def remission_after(self, when: dt.date) -> dt.date | None:
        """The first remission point after ``when`` (the disease found then has since cleared)."""
        return next((p.date for p in self.status.timeline if p.date > when and p.status in IN_REMISSION), None)

    @property
    def current_relapse(self) -> Episode | None:
        """The relapse episode in effect, unless a remission was reached after it."""
        relapses = [e for e in self.summary.episodes if e.kind == "relapse"]
        if not relapses or self.status.current not in (*RELAPSED_OR_REFRACTORY, "suspected_relapse", "indeterminate"):
            return None
        return relapses[-1]


def raise_alerts(inputs: AlertInputs) -> list[Alert]:
    """Every alert that applies on ``view.as_of``, most severe first."""
    found: list[Alert] = []
    for check in _CHECKS:
        found.extend(check(inputs))
    order = {"critical": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda a: order[a.severity])


def _hyperleukocytosis(a: AlertInputs) -> list[Alert]:
    view = a.view
    limit = view.rules.hyperleukocytosis_above
    counts = view.counts  # the blood counts as columns: one pass over the WBC values
    high = counts.rows_where("wbc", above, limit)
    if not high:
        return []
    row = high[-1]
    item = counts.items[row]
    shown = describe(counts.values["wbc"][row], counts.comparators["wbc"][row])  # type: ignore[arg-type]
    is_latest = counts.latest("wbc") == row
    age = _count_age(view, item.date)
    severity: Literal["critical", "warning", "info"]
    if is_latest and age:
        severity, message = "warning", (
            f"The latest WBC, {shown} x10^9/L on {item.date}, was above {limit:g} (hyperleukocytosis){age}; "
            "no WBC since: a current WBC is needed to tell whether it persists")
    elif is_latest:
        severity, message = "critical", (
            f"WBC {shown} x10^9/L (> {limit:g}): hyperleukocytosis; assess for leukostasis and "
            "tumour lysis, and avoid unnecessary red-cell transfusion")
    else:
        severity, message = "info", f"Presented with hyperleukocytosis (WBC {shown} x10^9/L on {item.date})"
    return [
        Alert(
            code="hyperleukocytosis",
            severity=severity,
            message=message,
            rule="ALERT.HYPERLEUKOCYTOSIS",
            source=sources.CTCAE_V5,
            evidence=[item.ref(f"WBC {shown} x10^9/L")],
        )
    ]


def _latest_site(view: CaseView, site: str) -> Indexed[Extramedullary] | None:
    matches = [x for x in view.of_type("extramedullary") if isinstance(x.finding, Extramedullary) and x.finding.site == site]
    return matches[-1] if matches else None


def _last_present(view: CaseView, site: str) -> tuple[Indexed[Extramedullary] | None, Indexed[Extramedullary] | None]:
    """The latest finding showing the site involved, and a later one showing it clear (if any)."""
    matches = [x for x in view.of_type("extramedullary") if x.finding.site == site]
    present = [x for x in matches if x.finding.present]
    if not present:
        return None, None
    cleared = next((x for x in matches if x.date > present[-1].date and not x.finding.present), None)
    return present[-1], cleared


def _history(what: str, item: Indexed[Extramedullary], cleared: Indexed[Extramedullary] | None, remission: dt.date | None) -> str:
    if cleared is not None:
        return f"History: {what} on {item.date}, resolved ({cleared.date})"
    return f"History: {what} on {item.date}; remission since {remission} (follow-up imaging not recorded)"


def _mediastinal_mass(a: AlertInputs) -> list[Alert]:
    latest, cleared = _last_present(a.view, "mediastinum")
    if latest is None:
        return []
    detail = (latest.finding.detail or "").lower()
    svc = "svc" in detail or "superior_vena_cava" in detail or "airway" in detail
    evidence = [latest.ref(f"mediastinal mass{', ' + latest.finding.detail if latest.finding.detail else ''}")]
    remission = a.remission_after(latest.date)
    if cleared is not None or remission is not None:
        return [Alert(code="mediastinal_mass", severity="info",
                      message=_history("mediastinal mass", latest, cleared, remission),
                      rule="ALERT.MEDIASTINAL_MASS", source=sources.TREATMENT_PHASES,
                      evidence=evidence + ([cleared.ref("mediastinum clear")] if cleared else []))]
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
            evidence=evidence,
        )
    ]


def _count_age(view: CaseView, when: dt.date) -> str:
    """Words for a count older than ``count_alert_max_age_days`` before the assessment date; "" for a current one
    (an alert on the latest count speaks of the present only while that count is current;
    docs/decisions.md#count-alert-age)."""
    days = (view.as_of - when).days
    return f" ({days} days before the assessment)" if days > view.rules.count_alert_max_age_days else ""


def _latest_count_below(
    analyte_name: str, limit_name: str, code: str, rule: str, words: str
) -> Callable[[AlertInputs], list[Alert]]:
    def check(a: AlertInputs) -> list[Alert]:
        limit = getattr(a.view.rules, limit_name)
        counts = a.view.counts
        latest = counts.latest(analyte_name)
        if latest is None:
            return []
        # The latest day's counts carry no order: a low one among them is not silenced by another.
        values, comparators = counts.values[analyte_name], counts.comparators[analyte_name]
        date, r = counts.items[latest].date, latest
        day: list[int] = []
        while r >= 0 and counts.items[r].date == date:  # rows are in date order: walk back over the latest day
            if values[r] is not None:
                day.insert(0, r)
            r -= 1
        low = [r for r in day if below(values[r], comparators[r], limit)]  # type: ignore[arg-type]
        if not low:
            return []
        row, item = low[0], counts.items[low[0]]
        shown = describe(values[row], comparators[row])  # type: ignore[arg-type]
        others = [f"{analyte_name.upper()} {describe(values[r], comparators[r])}" for r in day if r != row]  # type: ignore[arg-type]
        also = f"; the same day's other count: {', '.join(others)} x10^9/L" if others else ""
        age = _count_age(a.view, item.date)
        if age:
            also += f"{age}, the latest {analyte_name.upper()}: a current count is needed"
        return [
            Alert(
                code=code,
                severity="warning",
                message=f"{words} on {item.date}: {analyte_name.upper()} {shown} x10^9/L (< {limit:g}){also}",
                rule=rule,
                source=sources.CTCAE_V5,
                evidence=[item.ref(f"{analyte_name.upper()} {shown} x10^9/L")],
            )
        ]

    return check


def _cns_disease(a: AlertInputs) -> list[Alert]:
    alerts = []
    cns = a.cns
    if cns.status and cns.status.startswith(("CNS2", "CNS3")):
        severe = cns.status.startswith("CNS3")
        evidence = [e for c in cns.conclusions for e in c.evidence]
        remission = a.remission_after(cns.date) if cns.date else None
        if remission is not None:
            alerts.append(Alert(
                code="cns_disease", severity="info",
                message=f"History: {cns.status} at diagnosis; remission since {remission}",
                rule="ALERT.CNS_DISEASE", source=sources.COG_CNS, evidence=evidence,
            ))
        else:
            alerts.append(Alert(
                code="cns_disease",
                severity="warning" if severe else "info",
                message=f"{cns.status} at diagnosis: CNS-directed therapy intensity depends on it"
                + (" (CNS3 precludes standard/low risk in most schemas)" if severe else ""),
                rule="ALERT.CNS_DISEASE",
                source=sources.COG_CNS,
                evidence=evidence,
            ))
    cns_relapses = [e for e in a.summary.episodes if e.kind == "relapse" and "cns" in e.sites]
    if cns_relapses:
        episode = cns_relapses[-1]
        current = a.current_relapse is episode
        evidence = [r for c in episode.conclusions if c.rule == "COURSE.RELAPSE.SITE" for r in c.evidence]
        alerts.append(Alert(
            code="cns_disease",
            severity="critical" if current else "info",
            message=(f"CNS relapse on {episode.onset}" + (f" ({episode.site.replace('_', ' ')})" if episode.site else "")
                     if current else f"History: CNS relapse on {episode.onset}; remission since {episode.outcome_date}"),
            rule="ALERT.CNS_RELAPSE",
            source=sources.PONTE_DI_LEGNO,
            evidence=evidence,
        ))
    return alerts


def _testicular(a: AlertInputs) -> list[Alert]:
    latest, cleared = _last_present(a.view, "testis")
    if latest is None:
        return []
    remission = a.remission_after(latest.date)
    evidence = [latest.ref("testicular involvement")]
    if cleared is not None or remission is not None:
        return [Alert(code="testicular_disease", severity="info",
                      message=_history("testicular involvement", latest, cleared, remission),
                      rule="ALERT.TESTICULAR_DISEASE", source=sources.COG_CNS, evidence=evidence)]
    return [
        Alert(
            code="testicular_disease",
            severity="warning",
            message="Testicular involvement: confirm by ultrasound or biopsy; precludes standard risk in most schemas",
            rule="ALERT.TESTICULAR_DISEASE",
            source=sources.COG_CNS,
            evidence=evidence,
        )
    ]


def _ph_positive(a: AlertInputs) -> list[Alert]:
    diagnosis = a.diagnosis
    if BCR_ABL1 not in diagnosis.genetics.detected or BCR_ABL1 in diagnosis.genetics.conflicting:
        return []
    evidence = [e for c in diagnosis.conclusions if BCR_ABL1 in c.explanation for e in c.evidence][:4]
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


def _abl_class(a: AlertInputs) -> list[Alert]:
    genetics = a.diagnosis.genetics
    bcr_abl1_excluded = BCR_ABL1 in genetics.negative
    fusions = [lesion for lesion in genetics.detected if is_abl_class(lesion, bcr_abl1_excluded)]
    if not fusions or a.diagnosis.lineage != "B":
        return []
    evidence = [e for c in a.diagnosis.conclusions if c.rule == "DX.GENETICS.MERGE" for e in c.evidence
                if any(f in e.summary for f in fusions)]
    return [Alert(
        code="abl_class_tki", severity="warning",
        message=f"ABL-class fusion ({', '.join(fusions)}): BCR::ABL1-like ALL with a kinase an ABL-directed tyrosine "
        "kinase inhibitor (imatinib, dasatinib) can target; consider adding a TKI (off-label; protocol or trial)",
        rule="ALERT.ABL_CLASS_TKI", source=sources.ABL_CLASS, evidence=evidence,
    )]


def _germline_tp53(a: AlertInputs) -> list[Alert]:
    genetics = a.diagnosis.genetics
    if a.view.has(Condition.li_fraumeni) or genetics.ploidy not in HYPODIPLOID_TP53:
        return []
    if TP53_MUTATION not in genetics.detected:
        return []
    evidence = [e for c in a.diagnosis.conclusions if c.rule == "DX.GENETICS.MERGE" for e in c.evidence
                if "TP53" in e.summary]
    what = "low-hypodiploid" if genetics.ploidy == "low_hypodiploid" else "hypodiploid"
    return [Alert(
        code="germline_tp53_testing", severity="warning",
        message=f"TP53 mutation in {what} ALL: in low-hypodiploid ALL the TP53 mutation is often germline "
        "(Li-Fraumeni syndrome); offer germline TP53 testing on non-tumour tissue with genetic counselling, and "
        "weigh it in radiotherapy and transplant decisions",
        rule="ALERT.GERMLINE_TP53", source=sources.LI_FRAUMENI, evidence=evidence,
    )]


def _immunotherapy(a: AlertInputs) -> list[Alert]:
    """Labelled antigen-directed options, judged on the blasts of the episode in effect.

    At relapse the targets are read from the relapse's own immunophenotype
    (CD19 or CD22 may be lost after targeted therapy); without one, the
    antigen status at relapse is unknown and is asked for. The pivotal trials
    excluded active CNS disease, so a CNS-only relapse is said to be outside
    them.
    """
    view, status, diagnosis = a.view, a.status, a.diagnosis
    relapse = a.current_relapse
    if diagnosis.lineage != "B" or (relapse is not None and relapse.lineage_switch):
        return []
    if status.current in RELAPSED_OR_REFRACTORY:
        episode = a.course.current
        phenotype = episode_phenotype(view, episode)
        relapse_phenotype = relapse is not None and episode is not None and episode.kind == "relapse"
        if relapse_phenotype and not phenotype.present:
            return [Alert(
                code="immunotherapy_indication", severity="warning",
                message=f"{status.current.replace('_', ' ')} B-ALL: blinatumomab, inotuzumab and CAR-T labels need "
                "CD19- or CD22-positive disease; the antigen status at relapse is not recorded (an immunophenotype "
                "of the relapse is needed: antigens are lost after targeted therapy)",
                rule="ALERT.IMMUNOTHERAPY.RELAPSED_REFRACTORY", source=sources.FDA_LABELS,
                evidence=[e for p in status.timeline[-1:] for e in p.conclusion.evidence],
            )]
        cd19, cd22 = target_status(phenotype, "CD19"), target_status(phenotype, "CD22")
        targets = [name for name, positive in (("CD19", cd19), ("CD22", cd22)) if positive]
        if not targets:
            return []
        age = view.age_at(view.as_of)
        options = []
        if cd19:
            options.append("blinatumomab (CD19)")
            relapses = sum(e.kind == "relapse" for e in a.summary.episodes)
            if age is not None and age <= 25 and (status.current == "refractory" or relapses >= 2):
                options.append("tisagenlecleucel (CD19 CAR-T, up to 25 y, refractory or second or later relapse)")
            if age is not None and age >= 18:
                options.append("brexucabtagene autoleucel (CD19 CAR-T, adults)")
        if cd22:
            options.append("inotuzumab ozogamicin (CD22)")
        where = "relapse" if relapse_phenotype else "diagnosis"
        message = (f"{'/'.join(targets)}-positive {status.current.replace('_', ' ')} B-ALL (antigen status at {where}): "
                   f"labelled indications exist for {', '.join(options)}")
        if relapse is not None and relapse.site == "isolated_cns":
            message += ("; the relapse is CNS-only, and the pivotal trials of these agents excluded active CNS "
                        "disease")
        return [
            Alert(
                code="immunotherapy_indication",
                severity="warning",
                message=message,
                rule="ALERT.IMMUNOTHERAPY.RELAPSED_REFRACTORY",
                source=sources.FDA_LABELS,
                evidence=[e for p in status.timeline[-1:] for e in p.conclusion.evidence],
            )
        ]
    latest = a.mrd.latest
    cd19 = target_status(episode_phenotype(view, a.course.current), "CD19")
    line = view.rules.immunotherapy_mrd_min
    # The results of the latest MRD day carry no order (docs/decisions.md#same-day): each is read.
    day = [] if latest is None else [r for r in a.mrd.series if r.date == latest.date]
    over = [r for r in day if level_at_least(r, line)]
    if cd19 and status.current in IN_REMISSION and over:
        shown = [f"MRD {value_text(r)} ({r.method or 'method not stated'})" for r in day]
        which = (f"MRD {value_text(over[0])}" if len(day) == 1 else
                 f"MRD results of {latest.date if latest else ''} {'; '.join(shown)}"
                 + ("" if len(over) == len(day) else f" (not all >= {line * 100:g}%: the protocol's method decides)"))
        by_index = {x.index: x for x in view.of_type("mrd")}
        return [
            Alert(
                code="immunotherapy_indication",
                severity="warning",
                message=f"CD19-positive B-ALL in remission with {which} (>= {line * 100:g}%): blinatumomab has a "
                "labelled indication",
                rule="ALERT.IMMUNOTHERAPY.MRD",
                source=sources.FDA_LABELS,
                evidence=[by_index[r.index].ref(text) for r, text in zip(day, shown, strict=True)],
            )
        ]
    return []


def _relapse_phenotype(a: AlertInputs) -> list[Alert]:
    """Lineage switch (critical) and antigen loss (warning) at the relapse in effect."""
    relapse = a.current_relapse
    if relapse is None:
        return []
    evidence = [r for c in relapse.conclusions if c.rule == "COURSE.RELAPSE.PHENOTYPE" for r in c.evidence]
    if relapse.lineage_switch:
        return [Alert(
            code="lineage_switch", severity="critical",
            message=f"Lineage switch: the relapse of {relapse.onset} is {relapse.lineage} lineage after "
            f"{a.diagnosis.lineage}-lineage ALL; it is not a relapse of the same ALL: classify and treat it as the "
            "new leukaemia (check its clonal relationship to the original)",
            rule="ALERT.LINEAGE_SWITCH", source=sources.LINEAGE_SWITCH, evidence=evidence,
        )]
    if relapse.antigen_loss:
        targeted = [EXPOSURE_NAMES[t] for t in relapse.prior_therapy if t in (*CD19_DIRECTED, *CD22_DIRECTED)]
        after = f" after {', '.join(targeted)}" if targeted else ""
        return [Alert(
            code="antigen_loss", severity="warning",
            message=f"{'/'.join(relapse.antigen_loss)}-negative relapse{after} (positive at diagnosis): therapy "
            f"directed at {'/'.join(relapse.antigen_loss)} will not work on these blasts",
            rule="ALERT.ANTIGEN_LOSS", source=sources.LINEAGE_SWITCH, evidence=evidence,
        )]
    return []


def _mrd_recurrence(a: AlertInputs) -> list[Alert]:
    events = a.course.timeline.molecular
    if not events:
        return []
    event = events[-1]
    later = [r for r in a.mrd.series if r.date > event.result.date]  # a result of the same day is not "later"
    resolved = any(r.status == "negative" for r in later) or a.status.current in ("relapse", "refractory")
    what = "after a negative result" if event.kind == "recurrence" else "rising"
    return [Alert(
        code="mrd_recurrence", severity="info" if resolved else "warning",
        message=(f"History: molecular relapse on {event.date} (MRD {value_text(event.result)} {what})" if resolved else
                 f"Molecular relapse: MRD {value_text(event.result)} on {event.date} {what} while in morphological "
                 "remission; repeat MRD and marrow, consider MRD-directed therapy (e.g. blinatumomab for CD19+ "
                 "MRD >= 0.1%)"),
        rule="ALERT.MRD_RECURRENCE", source=sources.ELN_MRD, evidence=event.evidence,
    )]


def _mrd_persistent(a: AlertInputs) -> list[Alert]:
    if a.risk.mrd_persistence != "persistent":
        return []
    conclusion = next(c for c in a.risk.conclusions if c.rule == "RISK.MRD_PERSISTENCE")
    return [Alert(
        code="mrd_persistent", severity="warning",
        message="MRD still positive at the end of consolidation: high risk (COG very high risk, ELN adverse); "
        "consider MRD-directed therapy (blinatumomab) and transplant evaluation",
        rule="ALERT.MRD_PERSISTENT", source=sources.MRD_PERSISTENCE, evidence=conclusion.evidence,
    )]


def _down_syndrome(a: AlertInputs) -> list[Alert]:
    if not a.view.has(Condition.down_syndrome):
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


def _missing_end_of_induction(a: AlertInputs) -> list[Alert]:
    missing = [c for c in a.status.conclusions if c.rule == "STATUS.EOI_ASSESSMENT" and c.value is False]
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


def _data_age(a: AlertInputs) -> list[Alert]:
    """The assessment date before the diagnosis, or long after the latest finding: assessed, but said so."""
    view = a.view
    dx = view.diagnosis_date
    if dx is not None and view.as_of < dx:
        return [Alert(
            code="before_diagnosis", severity="warning",
            message=f"Assessed as of {view.as_of}, before the diagnosis date {dx}: findings after that date are "
            "not used, so this is not the current picture",
            rule="ALERT.BEFORE_DIAGNOSIS", source=sources.DISEASE_EPISODES,
        )]
    latest = view.latest_date
    latest = min(latest, view.as_of) if latest is not None else None
    limit = view.rules.stale_data_days
    if latest is not None and (view.as_of - latest).days > limit:
        return [Alert(
            code="stale_data", severity="warning",
            message=f"The latest finding is from {latest}, {(view.as_of - latest).days} days before the assessment "
            f"date {view.as_of} (more than {limit}): the status may be out of date",
            rule="ALERT.STALE_DATA", source=sources.DISEASE_EPISODES,
        )]
    return []


_CHECKS: list[Callable[[AlertInputs], list[Alert]]] = [
    _data_age,
    _hyperleukocytosis,
    _mediastinal_mass,
    _latest_count_below(
        "anc", "severe_neutropenia_below", "severe_neutropenia", "ALERT.SEVERE_NEUTROPENIA", "Severe neutropenia (infection risk)"
    ),
    _latest_count_below(
        "platelets", "severe_thrombocytopenia_below", "severe_thrombocytopenia", "ALERT.SEVERE_THROMBOCYTOPENIA",
        "Severe thrombocytopenia (bleeding risk)",
    ),
    _cns_disease,
    _testicular,
    _relapse_phenotype,
    _ph_positive,
    _abl_class,
    _germline_tp53,
    _immunotherapy,
    _mrd_recurrence,
    _mrd_persistent,
    _down_syndrome,
    _missing_end_of_induction,
    monitoring_alerts,  # maintenance, pharmacogenetics and toxicity (engine/monitoring.py)
]
