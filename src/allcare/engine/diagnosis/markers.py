"""Marker look-ups for other rule modules (e.g. immunotherapy targets in alerts).

They ask the same question the lineage rules ask - is this marker positive on
the diagnostic blasts, by the same thresholds - so they get the same answer.
"""

from __future__ import annotations

from ..case import normalise_marker_name
from ..view import CaseView
from .phenotype import read_phenotype
from .workup import diagnostic_workup


def marker_positive(view: CaseView, name: str) -> bool | None:
    """Positive on the diagnostic immunophenotype (EGIL thresholds; MPO above the flow cut-off).

    None when the marker was not tested before treatment, or was reported both
    positive and negative.
    """
    phenotype = read_phenotype(diagnostic_workup(view).phenotypes, view.rules)
    return phenotype.positive(normalise_marker_name(name))
