"""Febrile neutropenia: a fever (IDSA definition) with ANC below the line.

Fever is a single temperature at or above ``fever_single_min`` (38.3 C), or at
or above ``fever_sustained_min`` (38.0 C) either held for ``fever_sustained_minutes``
or measured twice that far apart on one day (IDSA 2010; its 2002 text). The ANC
is the count nearest the fever within ``febrile_neutropenia_anc_window_days`` (a neutropenic one
when that day has several: one day's counts carry no order).
A fever with no count to read is reported as such, never as "no neutropenia":
during chemotherapy it has to be treated as possible febrile neutropenia until a
count says otherwise. The CTCAE v5.0 grade-3 criteria (ANC < 1.0; a single
temperature > 38.3 or >= 38 for more than an hour) are reported beside it.

Temperatures are compared as recorded: the site is kept, never converted.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from .. import sources
from ..case import Quantity, Vitals
from ..case.bounds import at_least, below
from ..explain import Conclusion, conclude, undetermined
from ..monitoring_output import FebrileEpisode
from ..view import CaseView, Indexed

CTCAE_FN_ANC_BELOW = 1.0  # CTCAE v5.0 febrile neutropenia: ANC < 1000/mm3
CTCAE_FN_SINGLE_ABOVE = 38.3  # a single temperature of > 38.3 C
CTCAE_FN_SUSTAINED_FROM = 38.0  # or a sustained temperature of >= 38 C for more than one hour
CTCAE_FN_SUSTAINED_OVER_MINUTES = 60


def _minutes(time: str | None) -> int | None:
    if time is None:
        return None
    hours, minutes = time.split(":")
    return int(hours) * 60 + int(minutes)


FeverBy = Literal["single", "sustained", "repeated"]
EpisodeStatus = Literal["febrile_neutropenia", "fever_anc_unknown", "fever_without_neutropenia"]


def _temperature(item: Indexed[Vitals]) -> Quantity:
    """The reading's temperature: the readings read here are the ones that have one."""
    t = item.finding.temperature
    assert t is not None
    return t


def _fever(view: CaseView, item: Indexed[Vitals], same_day: list[Indexed[Vitals]]) -> FeverBy | None:
    """How this reading is a fever ('single', 'sustained', 'repeated'), or None."""
    rules, v = view.rules, item.finding
    t = _temperature(item)
    if at_least(t.value, t.comparator, rules.fever_single_min):
        return "single"
    if not at_least(t.value, t.comparator, rules.fever_sustained_min):
        return None
    if v.sustained_minutes is not None and v.sustained_minutes >= rules.fever_sustained_minutes:
        return "sustained"
    here = _minutes(v.time)
    for other in same_day:
        o = other.finding
        there = _minutes(o.time)
        if other.index != item.index and here is not None and there is not None and abs(here - there) >= rules.fever_sustained_minutes \
                and at_least(_temperature(other).value, _temperature(other).comparator, rules.fever_sustained_min):
            return "repeated"
    return None


def _ctcae(temperature: float, minutes: int | None, anc: float | None) -> bool | None:
    if anc is None:
        return None
    hot = temperature > CTCAE_FN_SINGLE_ABOVE or (
        temperature >= CTCAE_FN_SUSTAINED_FROM and minutes is not None and minutes > CTCAE_FN_SUSTAINED_OVER_MINUTES)
    return anc < CTCAE_FN_ANC_BELOW and hot


def febrile_episodes(view: CaseView) -> tuple[list[FebrileEpisode], list[Conclusion]]:
    """One episode per day with a fever (its hottest qualifying reading), with the nearest ANC."""
    rules = view.rules
    readings = [x for x in view.of_type("vitals") if x.finding.temperature is not None]
    by_day: dict[dt.date, list[Indexed[Vitals]]] = {}
    for item in readings:
        by_day.setdefault(item.date, []).append(item)
    episodes, conclusions = [], []
    for day, items in sorted(by_day.items()):
        qualifying = [(item, how) for item in items if (how := _fever(view, item, items))]
        if not qualifying:
            continue
        item, how = max(qualifying, key=lambda pair: _temperature(pair[0]).value)
        temperature = _temperature(item).value
        window = rules.febrile_neutropenia_anc_window_days
        count = view.nearest_cbc(day, window, having="anc")
        # That count's day carries no order: a neutropenic count of it is not excluded by another.
        same_day = [] if count is None else view.cbcs_on(count.date, "anc")
        count = next((c for c in same_day if below(c.finding.anc.value, c.finding.anc.comparator,
                                                    rules.febrile_neutropenia_anc_below)), count)
        v = item.finding
        evidence = [item.ref(f"temperature {temperature:g} C" + (f" at {v.time}" if v.time else "")
                             + (f", {v.temperature_site}" if v.temperature_site else "")
                             + (f", sustained {v.sustained_minutes} min" if v.sustained_minutes else ""))]
        status: EpisodeStatus
        q = None if count is None else count.finding.anc
        if count is None or q is None:
            status, anc, anc_date = "fever_anc_unknown", None, None
        else:
            anc, anc_date = q.value, count.date
            low = below(q.value, q.comparator, rules.febrile_neutropenia_anc_below)
            status = "febrile_neutropenia" if low else ("fever_without_neutropenia" if low is False else "fever_anc_unknown")
            evidence += [c.ref(f"ANC {c.finding.anc.comparator + ' ' if c.finding.anc.comparator else ''}{c.finding.anc.value:g} x10^9/L")
                         for c in [count, *(c for c in same_day if c is not count)] if c.finding.anc is not None]
        episode = FebrileEpisode(
            date=day, time=v.time, temperature=temperature, fever_by=how, anc=anc, anc_date=anc_date,
            status=status, ctcae_grade3_criteria=_ctcae(temperature, v.sustained_minutes, anc),
            evidence=evidence,
        )
        episodes.append(episode)
        conclusions.append(_conclusion(view, episode))
    return episodes, conclusions


def _fever_words(view: CaseView, e: FebrileEpisode) -> str:
    rules = view.rules
    return {
        "single": f"a single temperature of {e.temperature:g} C (>= {rules.fever_single_min:g})",
        "sustained": f"{e.temperature:g} C held for {rules.fever_sustained_minutes} minutes or more (>= {rules.fever_sustained_min:g})",
        "repeated": f"{e.temperature:g} C with another reading >= {rules.fever_sustained_min:g} at least "
                    f"{rules.fever_sustained_minutes} minutes apart",
    }[e.fever_by]


def _conclusion(view: CaseView, e: FebrileEpisode) -> Conclusion:
    rules = view.rules
    topic = "toxicity.febrile_neutropenia"
    fever = _fever_words(view, e)
    if e.status == "fever_anc_unknown":
        return undetermined(
            topic, "TOX.FN.ANC_UNKNOWN", sources.IDSA_FN,
            [f"an ANC within {rules.febrile_neutropenia_anc_window_days} day(s) of the fever of {e.date}"],
            f"Fever on {e.date}: {fever}; no ANC to read, so febrile neutropenia cannot be excluded.",
            e.evidence, value="fever_anc_unknown",
        )
    ctcae = "" if e.ctcae_grade3_criteria is None else (
        " It also meets the CTCAE v5.0 febrile neutropenia (grade 3) criteria." if e.ctcae_grade3_criteria
        else " It does not meet the CTCAE v5.0 febrile neutropenia criteria (ANC < 1.0 with > 38.3 C or >= 38 C over 1 h).")
    if e.status == "febrile_neutropenia":
        return conclude(topic, e.status, "TOX.FN.IDSA", f"{sources.IDSA_FN}; {sources.CTCAE_V5_FN}",
                        f"Febrile neutropenia on {e.date}: {fever} with ANC {e.anc:g} x10^9/L "
                        f"(< {rules.febrile_neutropenia_anc_below:g}, {e.anc_date}).{ctcae}", e.evidence)
    return conclude(topic, e.status, "TOX.FN.IDSA", sources.IDSA_FN,
                    f"Fever on {e.date}: {fever}; ANC {e.anc:g} x10^9/L ({e.anc_date}) is not below "
                    f"{rules.febrile_neutropenia_anc_below:g}.{ctcae}", e.evidence)
