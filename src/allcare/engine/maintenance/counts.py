"""Each maintenance blood count against the protocol family's lines.

The zone of a count is what the family's rules read: for ICiCLe-ALL-14
``hold`` (ANC <= 0.5 or platelets <= 50), ``reduce`` (ANC <= 0.75 or platelets
<= 75), ``target`` (0.75 < ANC <= 1.5) or ``above``; for a WBC-steered family
``below`` / ``target`` / ``above`` the WBC band (and below the ANC floor it
keeps). A result reported as a bound ("ANC < 0.1") is read three-valued: when
the bound does not settle a line, the zone is ``unknown``.

``in_target`` is about the steering count alone (time in the target range is
measured on it, as in allMT and the ICiCLe analyses), while the zone also reads
the platelets.
"""

from __future__ import annotations

from collections.abc import Callable

from ..case.bounds import above, at_least, at_most, below
from ..maintenance_targets import MaintenanceTargets
from ..monitoring_output import Zone

Reading = tuple[float, str | None] | None
"""One count as (value, comparator) ("< 0.1" is ``(0.1, "<")``); None when the count did not measure it."""


def _q(q: Reading, test: Callable[[float, str | None, float], bool | None], line: float | None) -> bool | None:
    if q is None or line is None:
        return None
    return test(q[0], q[1], line)


def in_target(targets: MaintenanceTargets, steering: Reading) -> bool | None:
    """Is the steering count inside the band? None when it is missing or a bound straddles a line."""
    if steering is None:
        return None
    value, comparator = steering
    low = above(value, comparator, targets.target_low) if not targets.target_low_inclusive else at_least(
        value, comparator, targets.target_low)
    high = at_most(value, comparator, targets.target_high)
    if low is False or high is False:
        return False
    if low is None or high is None:
        return None
    return True


def zone(targets: MaintenanceTargets, anc: Reading, platelets: Reading, wbc: Reading) -> Zone:
    if targets.steering == "anc":
        return _anc_zone(targets, anc, platelets)
    return _wbc_zone(targets, anc, wbc)


def _anc_zone(t: MaintenanceTargets, anc: Reading, platelets: Reading) -> Zone:
    """Hold before reduce before the band; missing platelets leave the zone to the ANC."""
    anc_hold = _q(anc, at_most, t.hold_anc_at_or_below)
    plt_hold = _q(platelets, at_most, t.hold_platelets_at_or_below)
    if anc_hold or plt_hold:
        return "hold"
    platelets_unsettled = platelets is not None and plt_hold is None
    if anc is None or anc_hold is None or platelets_unsettled:
        return "unknown"
    anc_reduce = _q(anc, at_most, t.reduce_anc_at_or_below)
    plt_reduce = _q(platelets, at_most, t.reduce_platelets_at_or_below)
    if anc_reduce or plt_reduce:
        return "reduce"
    if anc_reduce is None or (platelets is not None and plt_reduce is None):
        return "unknown"
    high = _q(anc, above, t.target_high)
    if high is None:
        return "unknown"
    return "above" if high else "target"


def _wbc_zone(t: MaintenanceTargets, anc: Reading, wbc: Reading) -> Zone:
    if t.anc_floor is not None and _q(anc, below, t.anc_floor):
        return "below"
    if wbc is None:
        return "unknown"
    low = (at_least if t.target_low_inclusive else above)(wbc[0], wbc[1], t.target_low)
    if low is False:
        return "below"
    high = _q(wbc, above, t.target_high)
    if low is None or high is None:
        return "unknown"
    return "above" if high else "target"


def band_text(t: MaintenanceTargets) -> str:
    low = ">" if not t.target_low_inclusive else ">="
    return f"{t.steering.upper()} {low} {t.target_low:g} and <= {t.target_high:g} x10^9/L"
