"""A model-based ANC forecast for maintenance: the next four weeks at the current doses, with its uncertainty.

Research module, shown as such. The model is the semi-mechanistic myelosuppression model of
Friberg et al. (J Clin Oncol 2002;20:4713), the structure Jost et al. (Front Physiol 2020;11:217)
applied to neutrophils in 6-MP/methotrexate maintenance:

    dP/dt  = k P (1 - E) (C0 / C)^gamma - k P        proliferating cells
    dTi/dt = k (T(i-1) - Ti),  i = 1..3              transit compartments
    dC/dt  = k T3 - k C                              circulating neutrophils (ANC)
    k = 4 / MTT;  E = slope x X;  dX/dt = ke (D(t) - X)

D(t) is the mercaptopurine dose as a fraction of the protocol dose per m2; X stands for the slow
build-up of its active metabolites (an effect compartment with a one-week half-life, an assumption
of this module). Jost et al. found that methotrexate's effect did not improve ANC prediction, so
only mercaptopurine drives the model. The system parameters take Friberg's typical values across
drugs (mean transit time about five days, feedback exponent about 0.17); the child's own baseline
ANC (C0) and drug sensitivity (slope) are fitted to the maintenance counts of the last six months
on a grid, weighted by the fit and weak priors, and the forecast is the weighted mixture with the
residual error (80% interval). Without enough counts (four), a dose history per m2, or a latest
count current enough for a dose suggestion there is no forecast. ``bench/forecast.py`` checks it on held-out synthetic courses.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from ..monitoring_output import AncForecast, ForecastPoint, Maintenance, MaintenanceRows

MODEL = "Friberg-type myelosuppression model driven by mercaptopurine dose intensity (research)"
SOURCE = ("Friberg et al., J Clin Oncol 2002;20:4713 (model and system parameters); Jost et al., Front Physiol "
          "2020;11:217 (its use for neutrophils in 6-MP/MTX maintenance)")
MTT_DAYS = 5.0
GAMMA = 0.17
EFFECT_HALF_LIFE_DAYS = 7.0
RESIDUAL_SD = 0.35  # on the log scale
STEP_DAYS = 1.0  # k x step = 0.8: the explicit steps stay stable
FIT_DAYS = 140
SPIN_UP_DAYS = 60
HORIZON_DAYS = 28
MIN_COUNTS = 4
BASELINES = [1.0 * (6.0 / 1.0) ** (i / 6) for i in range(7)]  # 1.0 to 6.0 x10^9/L
SLOPES = [0.02 * (0.6 / 0.02) ** (i / 8) for i in range(9)]
PRIOR_BASELINE = (math.log(3.0), 0.5)
PRIOR_SLOPE = (math.log(0.144), 1.0)  # full dose brings a 3.0 baseline to about 1.2 at steady state
Z80 = 1.2816


@dataclass(frozen=True)
class _Course:
    start: dt.date
    doses: list[tuple[dt.date, dt.date | None, float]]  # (start, end, fraction of protocol)
    counts: list[tuple[dt.date, float]]

    def daily(self, days: int) -> list[float]:
        """The dose fraction of each day from ``start`` (0 where no dose applies)."""
        out = [0.0] * (days + 1)
        for first, last, fraction in self.doses:
            begin = max(0, (first - self.start).days)
            end = days if last is None else min(days, (last - self.start).days)
            for day in range(begin, end + 1):
                out[day] = fraction
        return out


def _simulate(course: _Course, baseline: float, slope: float, until: dt.date, sample_days: set[int]) -> dict[int, float]:
    """ANC on the requested days (counted from course.start), from steady state under the first dose."""
    k = 4.0 / MTT_DAYS
    ke = math.log(2) / EFFECT_HALF_LIFE_DAYS
    total = (until - course.start).days
    daily = course.daily(total)
    first_dose = daily[0]
    exposure = first_dose
    drug = min(0.99, slope * exposure)
    steady = baseline * (1 - drug) ** (1 / GAMMA)
    p = t1 = t2 = t3 = c = steady
    out: dict[int, float] = {}
    steps_per_day = round(1 / STEP_DAYS)
    for day in range(-SPIN_UP_DAYS, total + 1):
        dose = first_dose if day < 0 else daily[day]
        for _ in range(steps_per_day):
            exposure += STEP_DAYS * ke * (dose - exposure)
            drug = min(0.99, slope * exposure)
            feedback = (baseline / max(c, 1e-3)) ** GAMMA
            p += STEP_DAYS * k * p * ((1 - drug) * feedback - 1)
            t1 += STEP_DAYS * k * (p - t1)
            t2 += STEP_DAYS * k * (t1 - t2)
            t3 += STEP_DAYS * k * (t2 - t3)
            c += STEP_DAYS * k * (t3 - c)
        if day in sample_days:
            out[day] = max(c, 1e-3)
    return out


def _course(m: Maintenance, rows: MaintenanceRows, as_of: dt.date) -> _Course | None:
    protocol_week = _protocol_week(m)
    periods = [p for p in m.doses if p.agent == "mercaptopurine"]
    if not periods or protocol_week is None or any(p.weekly_mg_m2 is None for p in periods):
        return None
    counts = [(d, anc) for d, anc in zip(rows.dates, rows.anc, strict=True) if anc is not None and anc > 0 and d <= as_of]
    counts = [(d, a) for d, a in counts if (as_of - d).days <= FIT_DAYS]
    if len(counts) < MIN_COUNTS:
        return None
    start = counts[0][0] - dt.timedelta(days=60)
    doses = [(p.start, p.end, weekly / protocol_week) for p in sorted(periods, key=lambda p: p.start)
             if (weekly := p.weekly_mg_m2) is not None]  # every period has one (checked above)
    return _Course(start=start, doses=doses, counts=counts)


def _protocol_week(m: Maintenance) -> float | None:
    from ..maintenance_targets import MAINTENANCE_FAMILIES

    family = MAINTENANCE_FAMILIES.get(m.family)
    return None if family is None else family.mercaptopurine_mg_m2_day * 7


def _log_prior(baseline: float, slope: float) -> float:
    (mb, sb), (ms, ss) = PRIOR_BASELINE, PRIOR_SLOPE
    return -((math.log(baseline) - mb) ** 2) / (2 * sb * sb) - ((math.log(slope) - ms) ** 2) / (2 * ss * ss)


def forecast(m: Maintenance | None, rows: MaintenanceRows, as_of: dt.date) -> AncForecast | None:
    """The ANC forecast for the four weeks after ``as_of`` at the doses that apply then (None when not possible);
    ``rows`` are ``m``'s counts joined with the blood-count table (``m.counts.read(blood_counts)``)."""
    if m is None or m.steering != "anc" or not m.running:
        return None
    # It starts at the latest count, so it needs one current enough for a dose suggestion (the rule
    # set's maintenance_count_max_age_days): from an older one its four weeks would lie in the past.
    if m.suggestion is not None and m.suggestion.rule == "MAINT.SUGGEST.NO_RECENT_COUNT":
        return None
    course = _course(m, rows, as_of)
    if course is None:
        return None
    last = course.counts[-1][0]
    horizon = [last + dt.timedelta(days=d) for d in range(7, HORIZON_DAYS + 1, 7)]
    observed_days = {(d - course.start).days for d, _ in course.counts}
    future_days = {(d - course.start).days for d in horizon}
    fits = []
    for baseline in BASELINES:
        for slope in SLOPES:
            path = _simulate(course, baseline, slope, horizon[-1], observed_days | future_days)
            misfit = sum((math.log(anc) - math.log(path[(d - course.start).days])) ** 2 for d, anc in course.counts)
            fits.append((-misfit / (2 * RESIDUAL_SD ** 2) + _log_prior(baseline, slope), path))
    best = max(score for score, _ in fits)
    weights = [math.exp(score - best) for score, _ in fits]
    total = sum(weights)
    points = []
    for day in horizon:
        index = (day - course.start).days
        means = [math.log(path[index]) for _, path in fits]
        points.append(ForecastPoint(date=day, anc=round(_quantile(means, weights, total, 0.5), 2),
                                    low=round(_quantile(means, weights, total, 0.1), 2),
                                    high=round(_quantile(means, weights, total, 0.9), 2)))
    return AncForecast(
        model=MODEL, source=SOURCE, points=points, fitted_counts=len(course.counts),
        validation="checked on held-out synthetic maintenance courses (bench/forecast.py); not validated on real patients",
    )


def _quantile(means: list[float], weights: list[float], total: float, q: float) -> float:
    """The q-quantile of the weighted mixture of log-normal predictions (bisection on its distribution)."""
    low, high = min(means) - 4 * RESIDUAL_SD, max(means) + 4 * RESIDUAL_SD
    for _ in range(40):
        middle = (low + high) / 2
        cdf = sum(w * 0.5 * (1 + math.erf((middle - mu) / (RESIDUAL_SD * math.sqrt(2)))) for mu, w in zip(means, weights, strict=True)) / total
        if cdf < q:
            low = middle
        else:
            high = middle
    return math.exp((low + high) / 2)
