"""Each maintenance blood count against the protocol family's lines, a column at a time.

The zone of a count is what the family's rules read: for ICiCLe-ALL-14
``hold`` (ANC <= 0.5 or platelets <= 50), ``reduce`` (ANC <= 0.75 or platelets
<= 75), ``target`` (0.75 < ANC <= 1.5) or ``above``; for a WBC-steered family
``below`` / ``target`` / ``above`` the WBC band (and below the ANC floor it
keeps). A result reported as a bound ("ANC < 0.1") is read three-valued: when
the bound does not settle a line, the zone is ``unknown``.

``in_target`` is about the steering count alone (time in the target range is
measured on it, as in allMT and the ICiCLe analyses), while the zone also reads
the platelets.

Every line is tested once per column (:func:`_settled`); a count's zone then
combines the answers of its row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..case.bounds import above, at_least, at_most, below
from ..maintenance_targets import MaintenanceTargets
from ..monitoring_output import Zone

Test = Callable[[float, str | None, float], bool | None]
Reading = tuple[float, str | None] | None
"""One count as (value, comparator) ("< 0.1" is ``(0.1, "<")``); None when the count did not measure it."""


@dataclass(frozen=True, slots=True)
class Column:
    """One analyte over the maintenance counts: values (None: not measured) and comparators
    (None when every value is exact, as most are: each test is then a plain comparison)."""

    values: list[float | None]
    comparators: list[str | None] | None = None

    def reading(self, row: int) -> Reading:
        value = self.values[row]
        return None if value is None else (value, None if self.comparators is None else self.comparators[row])


def _settled(column: Column, test: Test, line: float | None) -> list[bool | None]:
    """``test`` (``bounds.at_most`` ...) of every value against ``line``: True or False where the value
    settles it, None where it is missing, a bound straddles the line, or there is no line."""
    values = column.values
    if line is None:
        return [None] * len(values)
    comparators = column.comparators
    if comparators is None:  # every value exact: the plain comparison the test reduces to, a column at once
        return _EXACT[test](values, line)
    return [None if v is None else test(v, c, line) for v, c in zip(values, comparators, strict=True)]


_EXACT: dict[Test, Callable[[list[float | None], float], list[bool | None]]] = {
    above: lambda values, line: [None if v is None else v > line for v in values],
    below: lambda values, line: [None if v is None else v < line for v in values],
    at_least: lambda values, line: [None if v is None else v >= line for v in values],
    at_most: lambda values, line: [None if v is None else v <= line for v in values],
}
"""Each bound-aware test over a column of exact values (the same answers, without a call per value)."""


def in_target(t: MaintenanceTargets, steering: Column) -> list[bool | None]:
    """Is each steering count inside the band? None when it is missing or a bound straddles a line."""
    lows = _settled(steering, at_least if t.target_low_inclusive else above, t.target_low)
    highs = _settled(steering, at_most, t.target_high)
    return [False if low is False or high is False else None if low is None or high is None else True
            for low, high in zip(lows, highs, strict=True)]


def zones(t: MaintenanceTargets, anc: Column, platelets: Column, wbc: Column) -> list[Zone]:
    """The zone of every count."""
    if t.steering == "anc":
        return _anc_zones(t, anc, platelets)
    return _wbc_zones(t, anc, wbc)


def _anc_zones(t: MaintenanceTargets, anc: Column, platelets: Column) -> list[Zone]:
    """Hold before reduce before the band; missing platelets leave the zone to the ANC."""
    return list(map(
        _anc_zone, [v is not None for v in platelets.values],
        _settled(anc, at_most, t.hold_anc_at_or_below), _settled(platelets, at_most, t.hold_platelets_at_or_below),
        _settled(anc, at_most, t.reduce_anc_at_or_below), _settled(platelets, at_most, t.reduce_platelets_at_or_below),
        _settled(anc, above, t.target_high),
    ))


def _anc_zone(has_platelets: bool, anc_hold: bool | None, plt_hold: bool | None, anc_reduce: bool | None,
              plt_reduce: bool | None, high: bool | None) -> Zone:
    """One count's zone from its row of line tests (an ANC without a value settles no line: None)."""
    if anc_hold or plt_hold:
        return "hold"
    if anc_hold is None or (has_platelets and plt_hold is None):
        return "unknown"
    if anc_reduce or plt_reduce:
        return "reduce"
    if anc_reduce is None or (has_platelets and plt_reduce is None) or high is None:
        return "unknown"
    return "above" if high else "target"


def _wbc_zones(t: MaintenanceTargets, anc: Column, wbc: Column) -> list[Zone]:
    floor = _settled(anc, below, t.anc_floor)
    lows = _settled(wbc, at_least if t.target_low_inclusive else above, t.target_low)
    highs = _settled(wbc, above, t.target_high)
    return [_wbc_zone(*row) for row in zip(floor, [v is not None for v in wbc.values], lows, highs, strict=True)]


def _wbc_zone(below_floor: bool | None, has_wbc: bool, low: bool | None, high: bool | None) -> Zone:
    if below_floor:
        return "below"
    if not has_wbc:
        return "unknown"
    if low is False:
        return "below"
    if low is None or high is None:
        return "unknown"
    return "above" if high else "target"


def band_text(t: MaintenanceTargets) -> str:
    low = ">" if not t.target_low_inclusive else ">="
    return f"{t.steering.upper()} {low} {t.target_low:g} and <= {t.target_high:g} x10^9/L"
