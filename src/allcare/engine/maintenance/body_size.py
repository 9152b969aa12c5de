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
import weakref
from bisect import bisect_left
from dataclasses import dataclass

from ..monitoring_output import BodySize
from ..view import CaseView, Indexed


def mosteller(height_cm: float, weight_kg: float) -> float:
    """sqrt(height (cm) x weight (kg) / 3600)."""
    return math.sqrt(height_cm * weight_kg / 3600.0)


def haycock(height_cm: float, weight_kg: float) -> float:
    return 0.024265 * height_cm**0.3964 * weight_kg**0.5378


def dubois(height_cm: float, weight_kg: float) -> float:
    return 0.007184 * height_cm**0.725 * weight_kg**0.425


FORMULAS = {"mosteller": mosteller, "haycock": haycock, "dubois": dubois}


@dataclass(frozen=True)
class Size:
    """Body size on a date, with the findings it came from."""

    bsa: float | None
    source: str | None
    height: Indexed | None
    weight: Indexed | None
    recorded: Indexed | None

    @property
    def items(self) -> list[Indexed]:
        """The findings the BSA came from."""
        used = (self.recorded,) if self.source == "recorded" else (self.height, self.weight)
        return [x for x in used if x is not None]

    def summary(self) -> str:
        if self.bsa is None:
            return "body size not known"
        if self.source == "recorded":
            return f"BSA {self.bsa:.2f} m2 (recorded {self.recorded.date})"
        return (f"BSA {self.bsa:.2f} m2 ({self.source}: height {self.height.finding.height.value:g} cm, "
                f"weight {self.weight.finding.weight.value:g} kg)")


class _Known:
    """A view's body-size findings that give one field, in date order, and the sizes already worked out:
    a long maintenance asks for the size of every count's and dose's day."""

    __slots__ = ("series", "sizes")

    def __init__(self, view: CaseView):
        items = view.of_type("anthropometry")
        self.series: dict[str, tuple[list[dt.date], list[Indexed]]] = {}
        for field in ("height", "weight", "bsa"):
            having = [x for x in items if getattr(x.finding, field) is not None]
            self.series[field] = ([x.date for x in having], having)
        self.sizes: dict[dt.date, Size] = {}


_KNOWN: weakref.WeakKeyDictionary[CaseView, _Known] = weakref.WeakKeyDictionary()


def _known(view: CaseView) -> _Known:
    known = _KNOWN.get(view)
    if known is None:
        known = _KNOWN.setdefault(view, _Known(view))
    return known


def _nearest(view: CaseView, field: str, when: dt.date) -> Indexed | None:
    """The finding giving ``field`` nearest to ``when`` within the window (ties: the earlier one), found by
    bisecting its date-ordered series (:meth:`CaseView.nearest` read every finding of the window)."""
    dates, items = _known(view).series[field]
    window = view.rules.body_size_max_age_days
    after = bisect_left(dates, when)  # the first on or after ``when``
    best: Indexed | None = None
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
    sizes = _known(view).sizes
    size = sizes.get(when)
    if size is None:
        size = sizes[when] = _size_on(view, when)
    return size


def _size_on(view: CaseView, when: dt.date) -> Size:
    height, weight, recorded = _nearest(view, "height", when), _nearest(view, "weight", when), _nearest(view, "bsa", when)
    computed = None
    if height is not None and weight is not None:
        formula = view.rules.bsa_formula
        computed = FORMULAS[formula](height.finding.height.value, weight.finding.weight.value)
    if recorded is not None and (computed is None or abs((recorded.date - when).days) <= min(
            abs((height.date - when).days), abs((weight.date - when).days))):
        return Size(recorded.finding.bsa.value, "recorded", height, weight, recorded)
    if computed is not None:
        return Size(computed, view.rules.bsa_formula, height, weight, None)
    return Size(None, None, height, weight, None)


def body_size_section(view: CaseView) -> BodySize | None:
    """The latest body size (for the patient page and report)."""
    items = view.of_type("anthropometry")
    if not items:
        return None
    latest = items[-1].date
    size = size_on(view, latest)
    height = _nearest(view, "height", latest)
    weight = _nearest(view, "weight", latest)
    used = {x.index: x for x in [*size.items, *(x for x in (height, weight) if x is not None)]}
    return BodySize(
        date=max(x.date for x in used.values()),
        height_cm=height.finding.height.value if height else None,
        weight_kg=weight.finding.weight.value if weight else None,
        bsa_m2=None if size.bsa is None else round(size.bsa, 3),
        bsa_source=size.source,  # type: ignore[arg-type]
        evidence=[x.ref(_describe(x.finding)) for x in sorted(used.values(), key=lambda x: x.index)],
    )


def _describe(finding) -> str:
    parts = []
    if finding.height is not None:
        parts.append(f"height {finding.height.value:g} cm")
    if finding.weight is not None:
        parts.append(f"weight {finding.weight.value:g} kg")
    if finding.bsa is not None:
        parts.append(f"BSA {finding.bsa.value:g} m2")
    return ", ".join(parts)
