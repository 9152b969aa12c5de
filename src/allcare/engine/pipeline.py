"""The assessment pipeline behind ``allcare.engine.assess``, the one public entry point.

It runs the rule modules in dependency order (diagnosis before codes and risk,
response before the ICD-10-CM code that depends on remission status) and
collects what every module could not decide into one ``missing`` list.
"""

from __future__ import annotations

import datetime as dt
import math

from .. import DISCLAIMER, __version__
from .alerts import AlertInputs, raise_alerts
from .assessment import AgeGroup, Assessment, PatientSummary
from .case import Case
from .case.models import EARLIEST_DATE, LATEST_DATE
from .cns import assess_cns
from .codes import assign_codes
from .counts import grade_counts
from .course.build import build_course
from .course.describe import describe_course
from .diagnosis import diagnose
from .monitoring import monitoring
from .response import assess_response
from .risk import assess_risk
from .rules import DEFAULT_RULES, RuleSet
from .view import CaseView


def assess(case: Case, as_of: dt.date | None = None, rules: RuleSet = DEFAULT_RULES) -> Assessment:
    """Assess one case on ``as_of`` (default: the date of its latest finding).

    Raises ValueError when ``as_of`` lies outside the dates a case may hold.
    """
    if as_of is not None and not EARLIEST_DATE <= as_of <= LATEST_DATE:
        raise ValueError(f"as_of {as_of} is outside {EARLIEST_DATE} .. {LATEST_DATE}")
    view = CaseView(case, as_of, rules)
    course = build_course(view)
    diagnosis = diagnose(view, course.initial)
    course_summary = describe_course(view, course, diagnosis)
    counts = grade_counts(view, course.treatments.start)
    cns = assess_cns(view, course.treatments, course.csf_readings)
    status, mrd = assess_response(view, course)
    codes = assign_codes(diagnosis, status, course_summary)
    risk = assess_risk(view, diagnosis, cns, status, mrd, course)
    treatment = monitoring(view, course)
    alerts = raise_alerts(AlertInputs(view, course, course_summary, diagnosis, cns, risk, status, mrd, treatment))
    sections = [diagnosis.conclusions, codes.conclusions, cns.conclusions, risk.conclusions, status.conclusions,
                [c for episode in course_summary.episodes for c in episode.conclusions], course_summary.conclusions,
                treatment.conclusions()]
    missing = list(dict.fromkeys(m for group in sections for c in group for m in c.missing))
    return Assessment(
        engine_version=__version__,
        rules_version=rules.version,
        as_of=view.as_of,
        patient=_patient_summary(view),
        diagnosis_date=view.diagnosis_date,
        diagnosis=diagnosis,
        codes=codes,
        blood_counts=counts,
        cns_status=cns.status,
        cns=cns,
        risk=risk,
        status=status,
        mrd=mrd,
        alerts=alerts,
        missing=missing,
        disclaimer=DISCLAIMER,
        course=course_summary,
        body_size=treatment.body_size,
        chemistry=treatment.chemistry,
        maintenance=treatment.maintenance,
        pharmacogenetics=treatment.pharmacogenetics,
        toxicity=treatment.toxicity,
    )


def _patient_summary(view: CaseView) -> PatientSummary:
    age = view.age_at_diagnosis
    group: AgeGroup | None
    if age is None:
        group = None
    elif age < view.rules.infant_age_below:
        group = "infant"
    elif age < view.rules.paediatric_age_below:
        group = "paediatric"
    else:
        group = "adult"
    patient = view.patient
    return PatientSummary(
        id=patient.id,
        sex=patient.sex.value,
        age_at_diagnosis=None if age is None else math.floor(age * 100) / 100,
        age_group=group,
        conditions=[c.value for c in patient.conditions],
    )
