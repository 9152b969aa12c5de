"""Asparaginase activity: adequate, low, or silent inactivation (van der Sluis et al. 2016).

Activity is only read at the time the consensus reads it for the preparation:
pegaspargase from day 7 to day 14 after a dose, native E. coli asparaginase at
48-72 h, Erwinia asparaginase at 48 h (``asparaginase_*_days``). A level below
``asparaginase_activity_min`` (0.1 IU/mL) then means inactivation; without a
clinical allergy it is *silent* inactivation. The consensus asks for a second
sample before switching preparation, so one low level is reported as "repeat to
confirm" and two consecutive low levels as confirmed. The preparation and the
days since the dose come from the result, else from the latest asparaginase
dose finding before the sample.
"""

from __future__ import annotations

import datetime as dt

from .. import sources
from ..case import AdverseEvent, Dose
from ..case.agents import PREPARATIONS
from ..case.bounds import below
from ..explain import Conclusion, conclude, undetermined
from ..monitoring_output import AsparaginaseResult
from ..view import CaseView, Indexed

TOPIC = "toxicity.asparaginase"
HYPERSENSITIVITY_TERMS = ("allergic_reaction", "anaphylaxis")
HYPERSENSITIVITY_DAYS = 14
NAMES = {"pegaspargase": "pegaspargase", "native_e_coli": "native E. coli asparaginase", "erwinia": "Erwinia asparaginase"}


def _dose_before(view: CaseView, when: dt.date) -> Indexed[Dose] | None:
    doses = [x for x in view.between("dose", None, when) if x.finding.agent in PREPARATIONS]
    return doses[-1] if doses else None


def _window(view: CaseView, preparation: str) -> tuple[float, float]:
    rules = view.rules
    return {"pegaspargase": rules.asparaginase_pegaspargase_days, "native_e_coli": rules.asparaginase_native_days,
            "erwinia": rules.asparaginase_erwinia_days}[preparation]


def _hypersensitivity(view: CaseView, when: dt.date) -> Indexed[AdverseEvent] | None:
    events: list[Indexed[AdverseEvent]] = view.between("adverse_event", when - dt.timedelta(days=HYPERSENSITIVITY_DAYS), when)
    for item in reversed(events):
        f = item.finding
        if f.term in HYPERSENSITIVITY_TERMS and (f.agent is None or f.agent in PREPARATIONS):
            return item
    return None


def assess_asparaginase(view: CaseView) -> tuple[list[AsparaginaseResult], list[Conclusion]]:
    rules = view.rules
    results: list[AsparaginaseResult] = []
    conclusions = []
    for item in view.of_type("asparaginase_activity"):
        f = item.finding
        dose = _dose_before(view, item.date)
        preparation = f.preparation or (PREPARATIONS[dose.finding.agent] if dose else None)
        days = f.days_after_dose if f.days_after_dose is not None else (
            (item.date - dose.finding.start).days if dose else None)
        q = f.value
        refs = [item.ref(f"asparaginase activity {q.comparator + ' ' if q.comparator else ''}{q.value:g} IU/mL"
                         + (f", day {days:g}" if days is not None else ""))]
        if dose is not None and (f.preparation is None or f.days_after_dose is None):
            refs.append(dose.ref(f"{dose.finding.agent} given {dose.finding.start}"))
        allergy = _hypersensitivity(view, item.date)
        if allergy is not None:
            refs.append(allergy.ref(f"{allergy.finding.term.replace('_', ' ')} grade {allergy.finding.grade}"))
        status = "not_interpretable"
        if preparation is None or days is None:
            conclusions.append(undetermined(TOPIC, "TOX.ASPARAGINASE.ACTIVITY", sources.ASPARAGINASE_CONSENSUS,
                                            ["the preparation and the days since the dose (or the dose finding)"],
                                            evidence=refs, value=status))
        else:
            low_day, high_day = _window(view, preparation)
            low = below(q.value, q.comparator, rules.asparaginase_activity_min)
            if not low_day <= days <= high_day:
                conclusions.append(conclude(
                    TOPIC, status, "TOX.ASPARAGINASE.TIMING", sources.ASPARAGINASE_CONSENSUS,
                    f"Asparaginase activity {q.value:g} IU/mL on day {days:g} after {NAMES[preparation]}: the consensus "
                    f"reads it from day {low_day:g} to day {high_day:g}, so it is not interpreted.", refs))
            elif low is None:
                conclusions.append(undetermined(TOPIC, "TOX.ASPARAGINASE.ACTIVITY", sources.ASPARAGINASE_CONSENSUS,
                                                ["a measured activity (the bound does not settle 0.1 IU/mL)"],
                                                evidence=refs, value=status))
            elif not low:
                status = "adequate"
                conclusions.append(conclude(
                    TOPIC, status, "TOX.ASPARAGINASE.ACTIVITY", sources.ASPARAGINASE_CONSENSUS,
                    f"Asparaginase activity {q.value:g} IU/mL on day {days:g} after {NAMES[preparation]}: adequate "
                    f"(>= {rules.asparaginase_activity_min:g} IU/mL).", refs))
            else:
                previous = next((r for r in reversed(results) if r.status != "not_interpretable"), None)
                confirmed = previous is not None and previous.status in ("low", "low_confirmed")
                status = "low_confirmed" if confirmed else "low"
                kind = "inactivation with hypersensitivity" if allergy else "silent inactivation"
                conclusions.append(conclude(
                    TOPIC, status, "TOX.ASPARAGINASE.INACTIVATION", sources.ASPARAGINASE_CONSENSUS,
                    f"Asparaginase activity {q.value:g} IU/mL on day {days:g} after {NAMES[preparation]} is below "
                    f"{rules.asparaginase_activity_min:g} IU/mL: "
                    + (f"{kind} confirmed by a second low level ({previous.date}); the consensus then switches to "
                       "another preparation." if confirmed and previous is not None else
                       f"possible {kind}; the consensus confirms a low level with a second sample before switching."),
                    refs))
        results.append(AsparaginaseResult(
            index=item.index, date=item.date, value=q.value, comparator=q.comparator, preparation=preparation,
            days_after_dose=days, status=status, with_hypersensitivity=allergy is not None,  # type: ignore[arg-type]
        ))
    return results, conclusions
