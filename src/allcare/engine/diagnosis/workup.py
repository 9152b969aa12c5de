"""Which findings make up the diagnostic work-up.

Blast counts fall as soon as treatment starts, so the diagnosis must be made on
what was measured before it: the first marrow on or after the diagnosis date
and before treatment (a steroid prephase does not count as treatment here,
because protocols often take the diagnostic marrow during the prephase).
Without a recorded treatment the work-up is what was found within
``diagnostic_window_days`` of diagnosis, so that a later response marrow is
never mistaken for the diagnostic one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..view import CaseView, Indexed

MASS_SITES = ("mediastinum", "lymph_node", "skin", "other")
"""Extramedullary sites where a lymphoblastic lymphoma mass can sit.

Liver and spleen enlargement is ordinary leukaemic infiltration, and CNS or
testicular disease is extramedullary leukaemia, so none of them makes a
lymphoma; a mass in lymph nodes, the mediastinum, skin or other tissue does.
"""


@dataclass(frozen=True)
class Workup:
    """The diagnostic findings, chosen once for every diagnosis rule."""

    diagnosis_date: dt.date | None
    end: dt.date
    treatment_start: dt.date | None
    marrow: Indexed | None
    blood: Indexed | None
    masses: list[Indexed]
    phenotypes: list[Indexed]


def diagnostic_workup(view: CaseView) -> Workup:
    treatment_start = _treatment_start(view)
    dx_date = view.diagnosis_date
    if treatment_start is not None:
        end = treatment_start
    elif dx_date is not None:
        end = dx_date + dt.timedelta(days=view.rules.diagnostic_window_days)
    else:
        end = view.as_of
    before = view.until(end)
    return Workup(
        diagnosis_date=dx_date,
        end=end,
        treatment_start=treatment_start,
        marrow=_diagnostic_marrow(before, dx_date),
        blood=_diagnostic_blood(view, before, dx_date),
        masses=[
            x for x in before
            if x.finding.type == "extramedullary" and x.finding.present and x.finding.site in MASS_SITES
        ],
        phenotypes=[x for x in before if x.finding.type == "immunophenotype"],
    )


def _treatment_start(view: CaseView) -> dt.date | None:
    starts = [x.finding.start for x in view.of_type("treatment") if x.finding.phase != "prephase"]
    return min(starts) if starts else None


def _diagnostic_marrow(before: list[Indexed], dx_date: dt.date | None) -> Indexed | None:
    marrows = [x for x in before if x.finding.type == "marrow" and x.finding.blasts_pct is not None]
    if not marrows:
        return None
    if dx_date is None:
        return marrows[0]
    on_or_after = [x for x in marrows if x.date >= dx_date]
    return on_or_after[0] if on_or_after else marrows[-1]


def _diagnostic_blood(view: CaseView, before: list[Indexed], dx_date: dt.date | None) -> Indexed | None:
    counts = [x for x in before if x.finding.type == "cbc" and x.finding.blasts_pct is not None]
    if not counts:
        return None
    if dx_date is None:
        return counts[0]
    return view.nearest(counts, dx_date, view.rules.diagnostic_window_days) or counts[0]
