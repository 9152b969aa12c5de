"""Body surface area on a date: recorded, or computed from height and weight.

A dose per m2 (and a dose intensity) needs the body size of the day. Height and
weight may come from different findings; each must lie within
``body_size_max_age_days`` of the date (a child grows, so a year-old weight is
not used). A recorded BSA newer than the height and weight wins; otherwise the
rule set's formula computes it (Mosteller by default, the formula most
protocols use). The result names the findings it used.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Literal

from ..case import Anthropometry, Quantity
from ..monitoring_output import BodySize
from ..view import CaseView, Indexed


def mosteller(height_cm: float, weight_kg: float) -> float:
    """sqrt(height (cm) x weight (kg) / 3600)."""
    return math.sqrt(height_cm * weight_kg / 3600.0)


def haycock(height_cm: float, weight_kg: float) -> float:
    return 0.024265 * math.pow(height_cm, 0.3964) * math.pow(weight_kg, 0.5378)


def dubois(height_cm: float, weight_kg: float) -> float:
    return 0.007184 * math.pow(height_cm, 0.725) * math.pow(weight_kg, 0.425)


FORMULAS = {"mosteller": mosteller, "haycock": haycock, "dubois": dubois}


BsaSource = Literal["recorded", "mosteller", "haycock", "dubois"]
"""Where a BSA came from: recorded as such, or the formula that computed it."""

_Field = Literal["height", "weight", "bsa"]


def _quantity(finding: Anthropometry, field: _Field) -> Quantity | None:
    if field == "height":
        return finding.height
    return finding.weight if field == "weight" else finding.bsa


def _value(item: Indexed[Anthropometry] | None, field: _Field) -> float | None:
    """The value of ``field`` in a body-size finding (None without the finding or the field)."""
    quantity = None if item is None else _quantity(item.finding, field)
    return None if quantity is None else quantity.value


@dataclass(frozen=True)
class Size:
    """Body size on a date, with the findings it came from."""

    bsa: float | None
    source: BsaSource | None
    height: Indexed[Anthropometry] | None
    weight: Indexed[Anthropometry] | None
    recorded: Indexed[Anthropometry] | None

    @property
    def items(self) -> list[Indexed[Anthropometry]]:
        """The findings the BSA came from."""
        used = (self.recorded,) if self.source == "recorded" else (self.height, self.weight)
        return [x for x in used if x is not None]

    @property
    def weight_kg(self) -> float | None:
        """The weight of the day (a dose per kg needs it)."""
        return _value(self.weight, "weight")


class _Known:
    """A view's body-size findings that give one field, in date order, and the sizes already worked out:
    a long maintenance asks for the size of every count's and dose's day."""

    __slots__ = ("series", "sizes")

    def __init__(self, view: CaseView):
        items: list[Indexed[Anthropometry]] = view.of_type("anthropometry")
        self.series: dict[_Field, tuple[list[dt.date], list[Indexed[Anthropometry]]]] = {}
        fields: tuple[_Field, ...] = ("height", "weight", "bsa")
        for field in fields:
            having = [x for x in items if _quantity(x.finding, field) is not None]
            self.series[field] = ([x.date for x in having], having)
        self.sizes: dict[dt.date, Size] = {}


def _known(view: CaseView) -> _Known:
    return view.derived(_Known)


def _nearest(known: _Known, window: int, field: _Field, when: dt.date) -> Indexed[Anthropometry] | None:
    """The finding giving ``field`` nearest to ``when`` within the window (ties: the earlier one), found by
    bisecting its date-ordered series (:meth:`CaseView.nearest` read every finding of the window)."""
    dates, items = known.series[field]
    after = bisect_left(dates, when)  # the first on or after ``when``
    best: Indexed[Anthropometry] | None = None
    if after > 0:
        before = bisect_left(dates, dates[after - 1])  # the first of the latest date before ``when``
        if (when - dates[before]).days <= window:
            best = items[before]
    if after < len(items) and (dates[after] - when).days <= window and (
            best is None or (dates[after] - when).days < (when - best.date).days):
        best = items[after]
    return best


def size_on(view: CaseView, when: dt.date) -> Size:
    """The body size for ``when`` (nearest height, weight or recorded BSA within the window)."""
    return _size_of(view, _known(view), when)


def sizes_on(view: CaseView, days: list[dt.date | None]) -> list[Size | None]:
    """:func:`size_on` of each of ``days`` (None where a day is None), the view's body-size findings found once."""
    known = _known(view)
    return [None if when is None else _size_of(view, known, when) for when in days]


def _size_of(view: CaseView, known: _Known, when: dt.date) -> Size:
    size = known.sizes.get(when)
    if size is None:
        size = known.sizes[when] = _size_on(view, known, when)
    return size


def _size_on(view: CaseView, known: _Known, when: dt.date) -> Size:
    window = view.rules.body_size_max_age_days
    height, weight, recorded = (_nearest(known, window, field, when) for field in ("height", "weight", "bsa"))
    height_cm, weight_kg, recorded_bsa = _value(height, "height"), _value(weight, "weight"), _value(recorded, "bsa")
    computed = None
    measured_days = 0  # from ``when`` to the nearer of the height and the weight computed from
    if height is not None and weight is not None and height_cm is not None and weight_kg is not None:
        formula = view.rules.bsa_formula
        computed = FORMULAS[formula](height_cm, weight_kg)
        measured_days = min(abs((height.date - when).days), abs((weight.date - when).days))
    if recorded is not None and recorded_bsa is not None and (
            computed is None or abs((recorded.date - when).days) <= measured_days):
        return Size(recorded_bsa, "recorded", height, weight, recorded)
    if computed is not None:
        return Size(computed, view.rules.bsa_formula, height, weight, None)
    return Size(None, None, height, weight, None)


def body_size_section(view: CaseView) -> BodySize | None:
    """The latest body size (for the patient page and report)."""
    items: list[Indexed[Anthropometry]] = view.of_type("anthropometry")
    if not items:
        return None
    latest = items[-1].date
    size = size_on(view, latest)
    known, window = _known(view), view.rules.body_size_max_age_days
    height, weight = _nearest(known, window, "height", latest), _nearest(known, window, "weight", latest)
    used = {x.index: x for x in [*size.items, *(x for x in (height, weight) if x is not None)]}
    return BodySize(
        date=max(x.date for x in used.values()),
        height_cm=_value(height, "height"),
        weight_kg=_value(weight, "weight"),
        bsa_m2=None if size.bsa is None else round(size.bsa, 3),
        bsa_source=size.source,
        evidence=[x.ref(_describe(x.finding)) for x in sorted(used.values(), key=lambda x: x.index)],
    )


def _describe(finding: Anthropometry) -> str:
    parts = []
    if finding.height is not None:
        parts.append(f"height {finding.height.value:g} cm")
    if finding.weight is not None:
        parts.append(f"weight {finding.weight.value:g} kg")
    if finding.bsa is not None:
        parts.append(f"BSA {finding.bsa.value:g} m2")
    return ", ".join(parts)
