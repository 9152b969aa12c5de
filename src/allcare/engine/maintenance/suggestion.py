"""The dose-adjustment suggestion for the latest maintenance count, in the protocol family's words.

It is decision support: the wording says what the family's rules do at this
count ("the protocol stops mercaptopurine and methotrexate ..."), names the
family and its lines, and leaves the prescription to the treating team. When
the count is too old, or a number the rule reads is missing, the suggestion is
``cannot_determine`` and says what is needed.

Rule ids: ``MAINT.SUGGEST.HOLD``, ``.REDUCE``, ``.RECOVER``, ``.CONTINUE``,
``.ESCALATE_MERCAPTOPURINE``, ``.ESCALATE_METHOTREXATE``, ``.WAIT_AFTER_ESCALATION``,
``.TITRATE_DOWN`` / ``.TITRATE_UP`` (families whose steps are not encoded),
``.NO_RECENT_COUNT``, ``.NEEDS_COUNT``, ``.SAME_DAY_CONFLICT``, ``.COUNT_OFF_DRUG``.

A count taken while mercaptopurine or methotrexate was held shows the marrow off that drug, not the
effect of its dose: it still decides a hold, a reduction and the recovery after them (the protocol's
own hold is taken off the drugs), but no escalation and no "keep the current doses"; such counts do
not count towards an escalation either (docs/decisions.md#maintenance-counts-off-the-drugs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..case.bounds import at_least
from ..maintenance_targets import MaintenanceTargets
from ..monitoring_output import DoseSuggestion, MaintenanceCount, MaintenanceRows, SuggestionAction
from .counts import Column

BOTH = ["mercaptopurine", "methotrexate"]


class Make(Protocol):
    """Builds the suggestion for the latest count in the family's words."""

    def __call__(self, action: SuggestionAction, rule: str, words: str, drugs: list[str] | None = None) -> DoseSuggestion: ...


RawAnc = Callable[[MaintenanceCount], tuple[float, str | None]]
"""A count's ANC as (value, comparator); a count without one reads as "< 0" (never at least a line)."""


@dataclass(frozen=True)
class History:
    """What a suggestion needs besides the counts: the MTD and the latest mercaptopurine escalation."""

    mtd_mg_week: float | None
    methotrexate_mtd_mg_week: float | None
    escalated_on: dt.date | None
    held_on: dict[dt.date, list[str]] = field(default_factory=dict)
    """The count dates on which a maintenance drug with recorded doses was held (dose 0, stopped or
    between doses), with the drugs held."""


def _count_text(c: MaintenanceCount) -> str:
    parts = []
    if c.anc is not None:
        parts.append(f"ANC {c.anc:g}")
    if c.platelets is not None:
        parts.append(f"platelets {c.platelets:g}")
    if c.wbc is not None:
        parts.append(f"WBC {c.wbc:g}")
    return ", ".join(parts) + f" x10^9/L on {c.date}"


def suggest(t: MaintenanceTargets, counts: MaintenanceRows, anc: Column, as_of: dt.date, max_age_days: int,
            history: History) -> DoseSuggestion | None:
    """The suggestion for the latest count that has the steering count; None without one. ``anc`` is the
    ANC column of ``counts`` with its comparators (a bound settles a line only when it can)."""
    measured = [n for n, value in enumerate(counts.steered(t.steering)) if value is not None]
    if not measured:
        return None
    # The rules read the latest count, the one before it and the latest few within the escalation
    # window (a run of the latest counts, since they are in date order): only those become rows.
    reads = max(2, t.escalate_counts_of) if t.escalate_counts_of is not None else len(measured)
    usable = [counts.row(n) for n in measured[-reads:]]
    latest = usable[-1]
    readings = {c.index: anc.reading(n) or (0.0, "<") for n, c in zip(measured[-reads:], usable, strict=True)}

    def raw_anc(c: MaintenanceCount) -> tuple[float, str | None]:
        return readings[c.index]

    def make(action: SuggestionAction, rule: str, words: str, drugs: list[str] | None = None) -> DoseSuggestion:
        head = f"Decision support ({t.label} targets, {_band(t)}): "
        return DoseSuggestion(
            date=latest.date, action=action, drugs=drugs if drugs is not None else (BOTH if action != "cannot_determine" else []),
            wording=head + words + " The treating team decides.", family=t.family, family_label=t.label,
            rule=rule, source=t.source,
        )

    if (as_of - latest.date).days > max_age_days:
        return make("cannot_determine", "MAINT.SUGGEST.NO_RECENT_COUNT",
                    f"the latest maintenance count is from {latest.date}, more than {max_age_days} days before "
                    f"{as_of}; the protocol adjusts the doses on a current blood count.")
    same_day = [counts.row(n) for n in measured if counts.dates[n] == latest.date]
    if len({c.zone for c in same_day}) > 1:  # one day's counts carry no order: none is "the latest"
        return make("cannot_determine", "MAINT.SUGGEST.SAME_DAY_CONFLICT",
                    f"the counts of {latest.date} fall in different zones ({'; '.join(_count_text(c) for c in same_day)}); "
                    "which of them is current (or a repeat count) decides the dose step.")
    off = history.held_on.get(latest.date)
    previous = usable[-2] if len(usable) > 1 else None
    recovering = t.dose_steps and previous is not None and previous.zone in ("hold", "reduce")
    if off and latest.zone not in ("hold", "reduce", "below") and not recovering:
        return make("cannot_determine", "MAINT.SUGGEST.COUNT_OFF_DRUG",
                    f"{_count_text(latest)} was taken while {' and '.join(off)} {'was' if len(off) == 1 else 'were'} "
                    f"held; a count off the drug does not show what its dose does, so it supports neither keeping nor "
                    f"raising the dose (docs/decisions.md#maintenance-counts-off-the-drugs). The dose to restart at "
                    f"is the team's; the next step needs a count taken on the drugs.")
    if not t.dose_steps:
        return _titrate(t, latest, make)
    on_drug = [c for c in usable[:-1] if c.date not in history.held_on] + [latest]
    return _icicle_style(t, usable, latest, history, raw_anc, make, on_drug)


def _band(t: MaintenanceTargets) -> str:
    low = "above" if not t.target_low_inclusive else "from"
    return f"{t.steering.upper()} {low} {t.target_low:g} to {t.target_high:g} x10^9/L"


def _titrate(t: MaintenanceTargets, c: MaintenanceCount, make: Make) -> DoseSuggestion:
    counted = _count_text(c)
    if c.zone == "below":
        floor = f" or ANC below {t.anc_floor:g}" if t.anc_floor is not None else ""
        return make("reduce", "MAINT.SUGGEST.TITRATE_DOWN",
                    f"{counted} is below the band{floor}; the protocol lowers mercaptopurine and methotrexate to bring "
                    f"the count back into it. The size of its steps is not encoded in allcare: see the protocol text.")
    if c.zone == "above":
        return make("increase", "MAINT.SUGGEST.TITRATE_UP",
                    f"{counted} is above the band; the protocol raises mercaptopurine and methotrexate towards it. "
                    f"The size of its steps is not encoded in allcare: see the protocol text.")
    if c.zone == "target":
        return make("continue", "MAINT.SUGGEST.CONTINUE", f"{counted} is in the band; the protocol keeps the doses.")
    return make("cannot_determine", "MAINT.SUGGEST.NEEDS_COUNT",
                f"{counted} does not settle where the count lies against the band; a measured value is needed.")


def _icicle_style(t: MaintenanceTargets, usable: list[MaintenanceCount], latest: MaintenanceCount,
                  history: History, raw_anc: RawAnc, make: Make, on_drug: list[MaintenanceCount]) -> DoseSuggestion:
    """The family's dose steps; ``on_drug`` are the counts of ``usable`` not taken while a drug was held
    (with the latest), the ones an escalation reads."""
    counted = _count_text(latest)
    recover = f"ANC >= {t.recover_anc_min:g} and platelets >= {t.recover_platelets_min:g}"
    if latest.zone == "hold":
        line = (f"ANC <= {t.hold_anc_at_or_below:g}" if latest.anc is not None and _at_most(latest, "anc", t.hold_anc_at_or_below)
                else f"platelets <= {t.hold_platelets_at_or_below:g}")
        return make("hold", "MAINT.SUGGEST.HOLD",
                    f"{counted} ({line}): the protocol stops mercaptopurine and methotrexate until {recover}.")
    if latest.zone == "reduce":
        line = (f"ANC <= {t.reduce_anc_at_or_below:g}" if _at_most(latest, "anc", t.reduce_anc_at_or_below)
                else f"platelets <= {t.reduce_platelets_at_or_below:g}")
        return make("reduce", "MAINT.SUGGEST.REDUCE",
                    f"{counted} ({line}): the protocol gives both drugs at {t.reduce_to_pct_of_mtd:g}% of the maximum "
                    f"tolerated dose{_mtd_words(t, history, t.reduce_to_pct_of_mtd)} until {recover}.")
    if latest.zone == "unknown":
        return make("cannot_determine", "MAINT.SUGGEST.NEEDS_COUNT",
                    f"{counted}: a measured ANC is needed; a result reported only as a bound does not settle the lines.")
    if latest.platelets is None:
        return make("cannot_determine", "MAINT.SUGGEST.NEEDS_COUNT",
                    f"{counted}: platelets were not measured, and the protocol holds or reduces the doses on "
                    f"platelets too (<= {t.hold_platelets_at_or_below:g}, <= {t.reduce_platelets_at_or_below:g}).")
    previous = usable[-2] if len(usable) > 1 else None
    if previous is not None and previous.zone in ("hold", "reduce"):
        return make("increase", "MAINT.SUGGEST.RECOVER",
                    f"{counted}: counts have recovered ({recover}) after the {previous.zone} of {previous.date}; the "
                    f"protocol returns both drugs to the maximum tolerated dose{_mtd_words(t, history, None)}.")
    escalation = _escalate(t, on_drug, latest, history, raw_anc, make)
    if escalation is not None:
        return escalation
    return make("continue", "MAINT.SUGGEST.CONTINUE",
                f"{counted} is in the target band; the protocol keeps the current doses.")


def _escalate(t: MaintenanceTargets, usable: list[MaintenanceCount], latest: MaintenanceCount, history: History,
              raw_anc: RawAnc, make: Make) -> DoseSuggestion | None:
    """The escalation steps when the latest ANC is at or above the family's escalation line; None otherwise
    (a family with dose steps has every number these steps read: ``MaintenanceTargets`` checks it)."""
    anc_min, needed, of = t.escalate_anc_min, t.escalate_counts_needed, t.escalate_counts_of
    window_days, wait_days = t.escalate_window_days, t.methotrexate_escalate_after_days
    if anc_min is None or needed is None or of is None or window_days is None or wait_days is None:
        return None
    if not at_least(*raw_anc(latest), anc_min):
        return None
    counted = _count_text(latest)
    window = [c for c in usable if (latest.date - c.date).days <= window_days][-of:]
    high = [c for c in window if at_least(*raw_anc(c), anc_min)]
    rule_words = f"ANC >= {anc_min:g} in {needed} of {of} counts over {window_days // 7} weeks"
    if len(high) < needed:
        return make("continue", "MAINT.SUGGEST.CONTINUE",
                    f"{counted}: ANC >= {anc_min:g} in {len(high)} of the last {len(window)} counts; the "
                    f"protocol escalates mercaptopurine only after {rule_words}, so it keeps the doses.")
    escalated = history.escalated_on
    if escalated is not None and (latest.date - escalated).days < wait_days:
        return make("continue", "MAINT.SUGGEST.WAIT_AFTER_ESCALATION",
                    f"{counted}: mercaptopurine was increased on {escalated}; the protocol judges an escalation "
                    f"after {wait_days} days before the next step.", ["mercaptopurine"])
    if escalated is not None and (latest.date - escalated).days <= window_days:
        return make("increase", "MAINT.SUGGEST.ESCALATE_METHOTREXATE",
                    f"{counted}: ANC still >= {anc_min:g} {wait_days} days or more "
                    f"after the mercaptopurine increase of {escalated}; the protocol then increases methotrexate.",
                    ["methotrexate"])
    return make("increase", "MAINT.SUGGEST.ESCALATE_MERCAPTOPURINE",
                f"{counted}: {rule_words} ({len(high)} of {len(window)}); the protocol increases mercaptopurine "
                f"(the step size is the team's, not fixed by the protocol).", ["mercaptopurine"])


def _at_most(c: MaintenanceCount, name: str, line: float | None) -> bool:
    value = getattr(c, name)
    return value is not None and line is not None and value <= line


def _mtd_words(t: MaintenanceTargets, history: History, pct: float | None) -> str:
    """The MTD in mg/week, and ``pct`` of it, as a reference for the reader."""
    if history.mtd_mg_week is None:
        return (f" (no mercaptopurine dose has yet been given {t.mtd_min_days} days without interruption, so the "
                "maximum tolerated dose is not established)")
    doses = [("mercaptopurine", history.mtd_mg_week), ("methotrexate", history.methotrexate_mtd_mg_week)]
    known = [(name, mg) for name, mg in doses if mg is not None]
    text = " (MTD " + ", ".join(f"{name} {mg:g} mg/week" for name, mg in known)
    if pct is not None:
        text += f"; {pct:g}% is " + " and ".join(f"{_round(mg * pct / 100):g} mg/week {name}" for name, mg in known)
    return text + ")"


def _round(mg: float) -> float:
    return round(mg, 1)
