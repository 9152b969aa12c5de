"""Blood-count side of complete remission: CR, CRi, or not decidable.

A marrow with < 5% blasts is only half of a remission: CR also needs no
circulating blasts and recovered counts (ANC >= 1.0, platelets >= 100 x10^9/L)
on a blood count within a week of the marrow (NCCN/ELN; docs/decisions.md#remission-count-window). Only
the counts failing makes it CRi; a missing count decides nothing. A missing
peripheral blast count does not block CR (many counts do not report it) but is
named as missing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from ..case import Quantity
from ..case.bounds import above, at_least, describe
from ..explain import EvidenceRef
from ..view import CaseView

Outcome = Literal["cr", "cri", "undetermined", "circulating_blasts"]


@dataclass(frozen=True)
class RecoveryCheck:
    outcome: Outcome
    evidence: list[EvidenceRef] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _count_text(name: str, q: Quantity) -> str:
    return f"{name} {describe(q.value, q.comparator)}"


def check_recovery(view: CaseView, when: dt.date) -> RecoveryCheck:
    """Judge the blood counts nearest ``when`` (the marrow date) against the CR criteria.

    A count reported as a bound decides a criterion only when the bound settles it
    ("< 20" platelets fail the 100 line; "> 0.5" ANC cannot tell against 1.0).
    """
    rules = view.rules
    window = rules.cr_count_window_days
    evidence: list[EvidenceRef] = []
    missing: list[str] = []

    blasts = view.nearest_cbc(when, window, having="blasts_pct")
    if blasts is not None:  # a count of that day showing blasts is not outweighed by one written before it
        day = view.cbcs_on(blasts.date, "blasts_pct")
        blasts = next((c for c in day if above(c.finding.blasts_pct.value, c.finding.blasts_pct.comparator, 0.0)), blasts)
    q = None if blasts is None else blasts.finding.blasts_pct
    if blasts is not None and q is not None:
        shown = describe(q.value, q.comparator)
        evidence.append(blasts.ref(f"peripheral blasts {shown}%"))
        circulating = above(q.value, q.comparator, 0.0)
        if circulating:
            return RecoveryCheck(
                "circulating_blasts",
                evidence,
                conflicts=[f"blood count on {blasts.date} shows {shown}% circulating blasts"],
            )
        if circulating is None:
            missing.append(f"peripheral blast percentage (reported as {shown}%: circulating blasts not excluded)")

    failing: list[str] = []
    undecided = False
    counts = []
    for analyte, name, line in (("anc", "ANC", rules.cr_anc_min), ("platelets", "platelets", rules.cr_platelets_min)):
        item = view.nearest_cbc(when, window, having=analyte)
        if item is None:
            missing.append(f"{name} on a blood count within {window} days of the marrow")
            undecided = True
            continue
        q = getattr(item.finding, analyte)
        counts.append((item, _count_text(name, q)))
        enough = at_least(q.value, q.comparator, line)
        # Counts of one day carry no order: the nearest count's day speaks only when its counts agree.
        day = view.cbcs_on(item.date, analyte)
        sides = {at_least(getattr(c.finding, analyte).value, getattr(c.finding, analyte).comparator, line) for c in day}
        if {True, False} <= sides:
            shown = ", ".join(_count_text(name, getattr(c.finding, analyte)) for c in day)
            missing.append(f"which blood count of {item.date} holds the {name} ({shown} x10^9/L: on both sides of {line:g})")
            counts += [(c, _count_text(name, getattr(c.finding, analyte))) for c in day if c is not item]
            undecided = True
            continue
        if enough is False:
            failing.append(f"{_count_text(name, q)} < {line:g} x10^9/L")
        elif enough is None:
            missing.append(f"{name} as a value (reported as {describe(q.value, q.comparator)}: cannot tell whether >= {line:g})")
            undecided = True
    if len(counts) == 2 and counts[0][0] is counts[1][0]:
        evidence.append(counts[0][0].ref(f"{counts[0][1]}, {counts[1][1]} x10^9/L"))
    else:
        evidence += [item.ref(f"{text} x10^9/L") for item, text in counts]
    if blasts is None and view.nearest_cbc(when, window) is not None:
        missing.append("peripheral blast percentage on the blood count (circulating blasts assumed absent)")
    if failing:
        return RecoveryCheck("cri", evidence, failing, [m for m in missing if "peripheral" in m])
    if undecided:
        return RecoveryCheck("undetermined", evidence, [], missing)
    return RecoveryCheck("cr", evidence, [], missing)
