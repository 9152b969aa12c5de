"""The plain words patient sources use for what a blood count shows.

Families and many clinical letters say "anaemia" or "pancytopenia", not
"CTCAE Anemia grade 2"; naming the finding both ways lets a reader match the
assessment to what they were told. A cytopenia is named when the value is
below the reference range or has a CTCAE grade of 1 or more (the grade-2+
lines are absolute, so they name a cytopenia even where no range is known).
"""

from __future__ import annotations

from ..assessment import AnalyteResult
from .ctcae import LEUKOCYTOSIS

ANAEMIA = "anaemia"
NEUTROPENIA = "neutropenia"
LEUKOPENIA = "leukopenia"
LEUKOCYTOSIS_NAME = "leukocytosis"
HYPERLEUKOCYTOSIS = "hyperleukocytosis"
THROMBOCYTOPENIA = "thrombocytopenia"
PANCYTOPENIA = "pancytopenia"
CIRCULATING_BLASTS = "circulating blasts"


def _decreased(result: AnalyteResult | None) -> bool:
    if result is None:
        return False
    graded_low = result.ctcae_term != LEUKOCYTOSIS and result.grade is not None and result.grade >= 1
    return result.flag == "low" or graded_low


def name_count(results: list[AnalyteResult]) -> list[str]:
    """Names for one count, in a fixed order; pancytopenia needs all three lineages low on the same count."""
    by_analyte = {r.analyte: r for r in results}
    wbc = by_analyte.get("wbc")
    names: list[str] = []
    anaemia = _decreased(by_analyte.get("hemoglobin"))
    neutropenia = _decreased(by_analyte.get("anc"))
    leukopenia = _decreased(wbc)
    thrombocytopenia = _decreased(by_analyte.get("platelets"))
    if anaemia:
        names.append(ANAEMIA)
    if neutropenia:
        names.append(NEUTROPENIA)
    if leukopenia:
        names.append(LEUKOPENIA)
    if wbc is not None and (wbc.flag == "high" or wbc.ctcae_term == LEUKOCYTOSIS):
        names.append(LEUKOCYTOSIS_NAME)
    if wbc is not None and wbc.ctcae_term == LEUKOCYTOSIS and wbc.grade is not None and wbc.grade >= 3:
        names.append(HYPERLEUKOCYTOSIS)
    if thrombocytopenia:
        names.append(THROMBOCYTOPENIA)
    if anaemia and (neutropenia or leukopenia) and thrombocytopenia:
        names.append(PANCYTOPENIA)
    blasts = by_analyte.get("blasts_pct")
    if blasts is not None and blasts.value > 0:
        names.append(CIRCULATING_BLASTS)
    return names
