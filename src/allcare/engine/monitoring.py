"""Treatment monitoring: the sections and alerts of maintenance, pharmacogenetics and toxicity.

:func:`monitoring` works the sections out once per assessment: the pipeline
builds them before the alerts and hands the same results to the panels and, in
``AlertInputs``, to :func:`monitoring_alerts`, the one hook ``alerts.py`` calls. Each
alert is fed by a conclusion a section already reached, so an alert never
disagrees with the panel below it, and its message is decision support worded
as its guideline words it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import sources
from .assessment import Alert
from .course.build import DiseaseCourse
from .explain import Conclusion
from .maintenance import assess_maintenance
from .maintenance.body_size import body_size_section
from .maintenance.pharmacogenetics import IM, PM, POSSIBLE_IM, SHORT, assess_pharmacogenetics
from .monitoring_output import BodySize, ChemistryTable, Maintenance, ThiopurineGuidance, Toxicity
from .toxicity import assess_toxicity, grade_chemistry
from .toxicity.chemistry import LABELS as CHEMISTRY_LABELS
from .toxicity.chemistry import latest_grades
from .view import CaseView

if TYPE_CHECKING:
    from .alerts import AlertInputs

RECENT_LEVEL_DAYS = 5  # a drug level older than this is history, not an alert
RECENT_CHEMISTRY_DAYS = 14


@dataclass(frozen=True)
class Monitoring:
    treatment_start: dt.date | None
    body_size: BodySize | None
    chemistry: ChemistryTable
    maintenance: Maintenance | None
    pharmacogenetics: ThiopurineGuidance | None
    toxicity: Toxicity

    def conclusions(self) -> list[Conclusion]:
        trail = list(self.chemistry.notable)
        trail += self.maintenance.conclusions if self.maintenance else []
        trail += self.pharmacogenetics.conclusions if self.pharmacogenetics else []
        return trail + self.toxicity.conclusions


def treatment_start(view: CaseView, course: DiseaseCourse) -> dt.date | None:
    """The course's treatment start (:mod:`.course.treatment`); a record with doses but no treatment block
    (administrations imported without their plan) starts on its first dose."""
    if course.treatment_start is not None:
        return course.treatment_start
    return min((x.finding.start for x in view.of_type("dose")), default=None)


def monitoring(view: CaseView, course: DiseaseCourse) -> Monitoring:
    """The monitoring sections of ``view``; ``course`` is the view's course (:func:`.course.build.build_course`)."""
    started = treatment_start(view, course)
    return Monitoring(
        treatment_start=started,
        body_size=body_size_section(view),
        chemistry=grade_chemistry(view, started),
        maintenance=assess_maintenance(view, course.spans),
        pharmacogenetics=assess_pharmacogenetics(view),
        toxicity=assess_toxicity(view),
    )


def monitoring_alerts(inputs: AlertInputs) -> list[Alert]:
    """Every treatment-monitoring alert on ``view.as_of`` (the hook ``alerts.py`` calls with its ``AlertInputs``)."""
    view, m = inputs.view, inputs.monitoring
    found: list[Alert] = []
    for check in (_febrile_neutropenia, _tumour_lysis, _methotrexate, _asparaginase, _liver, _anthracyclines,
                  _pharmacogenetics, _maintenance):
        found.extend(check(view, m))
    return found


def _alert(code: str, severity: str, message: str, conclusion: Conclusion) -> Alert:
    return Alert(code=code, severity=severity, message=message, rule=conclusion.rule, source=conclusion.source,  # type: ignore[arg-type]
                 evidence=conclusion.evidence)


def _recent(view: CaseView, when: dt.date, days: int) -> bool:
    return (view.as_of - when).days <= days


def _febrile_neutropenia(view: CaseView, m: Monitoring) -> list[Alert]:
    rules = view.rules
    fn = [c for c in m.toxicity.conclusions if c.topic == "toxicity.febrile_neutropenia"]
    for episode, conclusion in reversed(list(zip(m.toxicity.febrile_neutropenia, fn, strict=True))):
        if not _recent(view, episode.date, rules.febrile_neutropenia_alert_days):
            break
        if episode.status == "febrile_neutropenia":
            return [_alert("febrile_neutropenia", "critical",
                           f"Febrile neutropenia on {episode.date}: temperature {episode.temperature:g} C with ANC "
                           f"{episode.anc:g} x10^9/L. This is a medical emergency: febrile neutropenia policies give "
                           "empirical broad-spectrum antibiotics within an hour, after cultures.", conclusion)]
        if episode.status == "fever_anc_unknown" and m.treatment_start is not None and m.treatment_start <= episode.date:
            return [_alert("febrile_neutropenia", "critical",
                           f"Fever {episode.temperature:g} C on {episode.date} during treatment with no recent ANC: "
                           "febrile neutropenia cannot be excluded. A blood count is needed now; febrile neutropenia "
                           "policies do not wait for it to start empirical antibiotics.", conclusion)]
    for item in reversed(view.of_type("adverse_event")):
        f = item.finding
        if f.term == "febrile_neutropenia" and _recent(view, f.start, rules.febrile_neutropenia_alert_days):
            return [Alert(code="febrile_neutropenia", severity="critical",
                          message=f"Febrile neutropenia (CTCAE grade {f.grade}) recorded on {f.start}.",
                          rule="TOX.FN.RECORDED", source=sources.CTCAE_V5_FN,
                          evidence=[item.ref(f"febrile neutropenia grade {f.grade}")])]
    return []


def _tumour_lysis(view: CaseView, m: Monitoring) -> list[Alert]:
    conclusions = [c for c in m.toxicity.conclusions if c.topic == "toxicity.tumour_lysis"]
    for result, conclusion in reversed(list(zip(m.toxicity.tumour_lysis, conclusions, strict=True))):
        current = result.window_start <= view.as_of <= result.window_end + dt.timedelta(days=2)
        if result.laboratory:
            kind = (f"clinical tumour lysis syndrome (Cairo-Bishop grade {result.grade})" if result.clinical
                    else "laboratory tumour lysis syndrome")
            met = ", ".join(c.analyte.replace("_", " ") for c in result.criteria)
            if current:
                return [_alert("tumour_lysis", "critical",
                               f"{kind.capitalize()} after the start of therapy on {result.therapy_start} ({met}): "
                               "assess hydration, urine output, potassium and cardiac rhythm; nephrology input as the "
                               "local TLS policy says.", conclusion)]
            return [_alert("tumour_lysis", "info", f"Had {kind} after the start of therapy on {result.therapy_start} ({met}).",
                           conclusion)]
        if current and result.laboratory is None and result.criteria:
            return [_alert("tumour_lysis", "warning",
                           f"Possible tumour lysis: {result.criteria[0].analyte.replace('_', ' ')} meets a Cairo-Bishop "
                           f"criterion; measure {', '.join(conclusion.missing) or 'the other analytes'}.", conclusion)]
    return []


def _methotrexate(view: CaseView, m: Monitoring) -> list[Alert]:
    levels = m.toxicity.methotrexate_levels
    conclusions = [c for c in m.toxicity.conclusions if c.topic == "toxicity.methotrexate"]
    if not levels or not _recent(view, levels[-1].date, RECENT_LEVEL_DAYS):
        return []
    latest, conclusion = levels[-1], conclusions[len(levels) - 1]
    if latest.status == "glucarpidase_criteria":
        return [_alert("methotrexate_clearance", "critical", conclusion.explanation, conclusion)]
    if latest.status == "delayed_clearance":
        return [_alert("methotrexate_clearance", "warning",
                       f"Delayed methotrexate clearance: {latest.value:g} umol/L at {latest.hours_after_start:g} h is above "
                       f"the consensus line ({latest.line:g}). Continue hydration and leucovorin rescue as the protocol "
                       "says; glucarpidase is considered if creatinine rises.", conclusion)]
    return []


def _asparaginase(view: CaseView, m: Monitoring) -> list[Alert]:  # noqa: ARG001 - every check takes (view, monitoring)
    pairs = [(r, c) for r, c in zip(m.toxicity.asparaginase_activity,
                                    [c for c in m.toxicity.conclusions if c.topic == "toxicity.asparaginase"], strict=True)
             if r.status != "not_interpretable"]
    if not pairs:
        return []
    latest, conclusion = pairs[-1]
    if latest.status in ("low", "low_confirmed"):
        return [_alert("asparaginase_inactivation", "warning", conclusion.explanation, conclusion)]
    return []


def _liver(view: CaseView, m: Monitoring) -> list[Alert]:
    minimum = view.rules.liver_alert_min_grade
    since = view.as_of - dt.timedelta(days=RECENT_CHEMISTRY_DAYS)
    table = m.chemistry
    hits = [(row, a) for row, a in latest_grades(table, ("alt", "ast", "bilirubin"), since) if a.grade and a.grade >= minimum]
    if not hits:
        return []
    worst = max(a.grade or 0 for _, a in hits)  # every hit has a grade (filtered above)
    words = "; ".join(f"{CHEMISTRY_LABELS[a.analyte]} {a.value:g} {a.unit} ({a.ctcae_term} grade {a.grade}, {table.dates[row]})"
                      for row, a in hits)
    conclusion = next(c for row, _ in hits for c in table.conclusions_of(row))
    return [_alert("hepatotoxicity", "critical" if worst >= 4 else "warning",
                   f"Hepatotoxicity {words}: protocols adjust or hold mercaptopurine and methotrexate at this grade; "
                   "check the protocol's liver rules.", conclusion)]


def _anthracyclines(view: CaseView, m: Monitoring) -> list[Alert]:
    exposure = m.toxicity.anthracyclines
    if exposure is None or exposure.band not in ("high", "moderate"):
        return []
    conclusion = next(c for c in m.toxicity.conclusions if c.topic == "toxicity.anthracyclines")
    if exposure.band == "high":
        return [_alert("anthracycline_cumulative", "warning",
                       f"Cumulative anthracycline dose {exposure.total_mg_m2:g} mg/m2 doxorubicin-equivalent (>= "
                       f"{view.rules.anthracycline_high_risk_min:g}): high risk of cardiomyopathy; echocardiographic "
                       "surveillance is recommended (IGHG).", conclusion)]
    return [_alert("anthracycline_cumulative", "info",
                   f"Cumulative anthracycline dose {exposure.total_mg_m2:g} mg/m2 doxorubicin-equivalent: cardiac "
                   "surveillance is reasonable (IGHG).", conclusion)]


def _pharmacogenetics(view: CaseView, m: Monitoring) -> list[Alert]:  # noqa: ARG001 - every check takes (view, monitoring)
    g = m.pharmacogenetics
    if g is None or g.rule in ("CPIC.THIOPURINE.NORMAL", "CPIC.THIOPURINE.INCOMPLETE"):
        return []
    conclusion = g.conclusions[0]
    severity = "info" if g.rule in ("CPIC.THIOPURINE.INDETERMINATE", "CPIC.THIOPURINE.IM_ONE_LOW_START") else "warning"
    message = g.wording
    if g.start_pct_high is not None and g.current_pct_of_protocol is not None and g.current_pct_of_protocol > g.start_pct_high:
        message += f" The first dose ({g.current_pct_of_protocol:g}%) is above the CPIC starting range."
    return [_alert("thiopurine_pharmacogenetics", severity, message, conclusion)]


def _maintenance(view: CaseView, m: Monitoring) -> list[Alert]:  # noqa: ARG001 - every check takes (view, monitoring)
    maintenance = m.maintenance
    s = maintenance.suggestion if maintenance else None
    if maintenance is None or s is None or s.action not in ("hold", "reduce"):
        return []
    conclusion = next(c for c in maintenance.conclusions if c.topic == "maintenance.suggestion")
    return [_alert("maintenance_dose", "warning" if s.action == "hold" else "info", s.wording + _reduce_first(m.pharmacogenetics, s.action),
                   conclusion)]


def _reduce_first(g: ThiopurineGuidance | None, action: str) -> str:
    """CPIC's advice beside the protocol's reduction of both drugs, for a reduced-function TPMT or NUDT15:
    at myelosuppression mercaptopurine is the drug to reduce first ("" otherwise)."""
    if g is None or action != "reduce":
        return ""
    reduced = [f"{gene} {SHORT[status]}" for gene, status in (("TPMT", g.tpmt), ("NUDT15", g.nudt15))
               if status in (IM, POSSIBLE_IM, PM)]
    if not reduced:
        return ""
    return (f" CPIC thiopurine guideline (2018 update; {', '.join(reduced)}): when myelosuppression occurs, "
            "reduce mercaptopurine first, before the other agents.")
