"""High-dose methotrexate levels against the glucarpidase consensus lines (Ramsey et al. 2018).

Hours count from the START of the infusion. For an infusion of up to
``mtx_short_infusion_max_hours`` (24 h) the consensus draws its line through
30 umol/L at 36 h, 10 at 42 h and 5 at 48 h; for a 36-42 h infusion, 5 umol/L
at 48 h. Between two points the line is read log-linearly (as the consensus
figure draws it on a log axis); after the last point it stays at its value;
before the first point the consensus says nothing (``before_lines``). Other
infusion lengths are outside the consensus and are not judged.

A level above the line is delayed clearance; glucarpidase may be indicated
when there is also HD-MTX kidney injury, which the consensus describes as a
creatinine "significantly" above the pre-infusion value: read here as at least
``mtx_aki_creatinine_factor`` (1.5) x the latest creatinine in the week before
the infusion. The consensus asks for glucarpidase within 48-60 h of the start.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math

from .. import sources
from ..case import MethotrexateLevel
from ..case.bounds import above
from ..explain import Conclusion, EvidenceRef, conclude, undetermined
from ..monitoring_output import MethotrexateLevelResult
from ..view import CaseView, Indexed

TOPIC = "toxicity.methotrexate"
BASELINE_DAYS = 7


def line_at(points: tuple[tuple[float, float], ...], hours: float) -> float | None:
    """The consensus line at ``hours``: log-linear between points, flat after the last, none before the first."""
    if not points or hours < points[0][0]:
        return None
    for (h1, c1), (h2, c2) in itertools.pairwise(points):
        if h1 <= hours <= h2:
            fraction = (hours - h1) / (h2 - h1)
            return round(math.exp(math.log(c1) + fraction * (math.log(c2) - math.log(c1))), 3)
    return points[-1][1]


def _infusion(view: CaseView, item: Indexed[MethotrexateLevel]) -> float | None:
    """The infusion duration: on the level, else on the methotrexate dose that started that infusion."""
    if item.finding.infusion_hours is not None:
        return item.finding.infusion_hours
    started = item.date - dt.timedelta(hours=item.finding.hours_after_start)
    doses = [x for x in view.between("dose", started - dt.timedelta(days=1), item.date)
             if x.finding.agent == "methotrexate" and x.finding.infusion_hours is not None]
    return doses[-1].finding.infusion_hours if doses else None


def _creatinine_ratio(view: CaseView, item: Indexed[MethotrexateLevel]) -> tuple[float | None, list[EvidenceRef]]:
    """Highest creatinine after the infusion day / the latest one up to that day (the week before); with the evidence.

    Findings carry dates, not times, so a creatinine of the infusion day counts as the pre-infusion value.
    """
    started = item.date - dt.timedelta(days=math.ceil(item.finding.hours_after_start / 24))
    before = [x for x in view.between("chemistry", started - dt.timedelta(days=BASELINE_DAYS), started)
              if x.finding.creatinine is not None and x.finding.creatinine.comparator is None]
    since = [x for x in view.between("chemistry", started + dt.timedelta(days=1), item.date) if x.finding.creatinine is not None]
    if not before or not since:
        return None, []
    baseline = before[-1]
    worst = max(since, key=lambda x: x.finding.creatinine.value)
    ratio = worst.finding.creatinine.value / baseline.finding.creatinine.value
    return round(ratio, 2), [baseline.ref(f"pre-infusion creatinine {baseline.finding.creatinine.value:g} umol/L"),
                             worst.ref(f"creatinine {worst.finding.creatinine.value:g} umol/L")]


def assess_methotrexate(view: CaseView) -> tuple[list[MethotrexateLevelResult], list[Conclusion]]:
    rules = view.rules
    results, conclusions = [], []
    for item in view.of_type("methotrexate_level"):
        f = item.finding
        hours, infusion = f.hours_after_start, _infusion(view, item)
        q = f.value
        ref = item.ref(f"methotrexate {q.comparator + ' ' if q.comparator else ''}{q.value:g} umol/L at {hours:g} h")
        line, status, ratio = None, "cannot_determine", None
        extra_refs: list[EvidenceRef] = []
        if infusion is None:
            conclusions.append(undetermined(TOPIC, "TOX.MTX.CONSENSUS", sources.GLUCARPIDASE_CONSENSUS,
                                            ["the methotrexate infusion duration (infusion_hours)"],
                                            evidence=[ref], value="cannot_determine"))
        elif infusion <= rules.mtx_short_infusion_max_hours or 36 <= infusion <= 42:
            points = rules.mtx_glucarpidase_lines if infusion <= rules.mtx_short_infusion_max_hours else (rules.mtx_long_infusion_line,)
            line = line_at(points, hours)
            if line is None:
                status = "before_lines"
                conclusions.append(conclude(TOPIC, status, "TOX.MTX.CONSENSUS", sources.GLUCARPIDASE_CONSENSUS,
                                            f"Methotrexate level at {hours:g} h: the consensus lines start at "
                                            f"{points[0][0]:g} h, so it is not judged.", [ref]))
            else:
                high = above(q.value, q.comparator, line)
                ratio, extra_refs = _creatinine_ratio(view, item)
                aki = None if ratio is None else ratio >= rules.mtx_aki_creatinine_factor
                status = ("below_line" if high is False else "cannot_determine" if high is None
                          else "glucarpidase_criteria" if aki else "delayed_clearance")
                conclusions.append(_conclusion(view, status, hours, q.value, line, ratio, aki, infusion, [ref, *extra_refs]))
        else:
            conclusions.append(undetermined(
                TOPIC, "TOX.MTX.CONSENSUS", sources.GLUCARPIDASE_CONSENSUS,
                [f"lines for a {infusion:g} h infusion (the consensus covers infusions of <= 24 h and of 36-42 h)"],
                evidence=[ref], value="cannot_determine"))
        results.append(MethotrexateLevelResult(
            index=item.index, date=item.date, hours_after_start=hours, value=q.value, comparator=q.comparator,
            infusion_hours=infusion, line=line, above_line=None if line is None else above(q.value, q.comparator, line),
            creatinine_ratio=ratio, status=status,  # type: ignore[arg-type]
        ))
    return results, conclusions


def _conclusion(view: CaseView, status: str, hours: float, value: float, line: float, ratio: float | None, aki: bool | None,
                infusion: float, refs: list[EvidenceRef]) -> Conclusion:
    rules = view.rules
    level = f"methotrexate {value:g} umol/L at {hours:g} h after the start of a {infusion:g} h infusion"
    if status == "below_line":
        return conclude(TOPIC, status, "TOX.MTX.CONSENSUS", sources.GLUCARPIDASE_CONSENSUS,
                        f"{level}: not above the consensus line ({line:g} umol/L at this hour).", refs)
    if status == "cannot_determine":
        return undetermined(TOPIC, "TOX.MTX.CONSENSUS", sources.GLUCARPIDASE_CONSENSUS,
                            ["a measured level (the bound does not settle the line)"], evidence=refs, value=status)
    kidney = (f"creatinine {ratio:g} x the pre-infusion value (>= {rules.mtx_aki_creatinine_factor:g}: kidney injury)"
              if aki else f"creatinine {ratio:g} x the pre-infusion value" if ratio is not None else "creatinine not compared")
    if status == "glucarpidase_criteria":
        return conclude(TOPIC, status, "TOX.MTX.GLUCARPIDASE", sources.GLUCARPIDASE_CONSENSUS,
                        f"{level}: above the consensus line ({line:g} umol/L) with {kidney}: glucarpidase may be "
                        f"indicated, best within 48-60 h of the infusion start.", refs)
    words = f"{level}: above the consensus line ({line:g} umol/L) - delayed clearance; {kidney}."
    if ratio is None:
        return undetermined(TOPIC, "TOX.MTX.DELAYED", sources.GLUCARPIDASE_CONSENSUS,
                            ["creatinine before the infusion and since its start"], words, refs, value=status)
    return conclude(TOPIC, status, "TOX.MTX.DELAYED", sources.GLUCARPIDASE_CONSENSUS, words, refs)
