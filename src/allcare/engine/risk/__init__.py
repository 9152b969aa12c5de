"""Risk stratification: NCI/Rome, NCCN genetic risk, adult ELN factors, the COG-style group, infant flags.

Each classifier lives in its own module because each comes from a different
guideline with its own population (B-ALL children, adults, infants); this
module runs them and gathers their conclusions and the factors that drove them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..assessment import CnsResult, Diagnosis, MrdSummary, Risk, Status
from ..view import CaseView
from .adult import adult_risk
from .cog import cog_group
from .genetic import genetic_risk, ikzf1_plus
from .infant import down_syndrome_flag, infant_flag, interfant_high_risk
from .lesions import Lesions
from .mrd_persistence import mrd_persistence
from .nci import nci_risk

if TYPE_CHECKING:
    from ..course.build import DiseaseCourse

__all__ = ["assess_risk", "adult_risk", "cog_group", "genetic_risk", "ikzf1_plus", "nci_risk", "interfant_high_risk"]


def assess_risk(
    view: CaseView, diagnosis: Diagnosis, cns: CnsResult, status: Status, mrd: MrdSummary, course: DiseaseCourse
) -> Risk:
    """Every risk output of one case on ``view.as_of``, each with its conclusion."""
    treatments = course.treatments
    lesions = Lesions.of(view, diagnosis)  # read once: the schemes ask about the same lesion families
    nci = nci_risk(view, diagnosis, treatments)
    genetic = genetic_risk(view, diagnosis, lesions)
    adult = adult_risk(view, diagnosis, status, mrd, course, lesions)
    cog = cog_group(view, diagnosis, cns, status, mrd, nci, treatments, lesions)
    infant = infant_flag(view)
    interfant = interfant_high_risk(view, diagnosis, treatments, lesions)
    down = down_syndrome_flag(view)
    persistence = mrd_persistence(view, diagnosis, mrd, treatments, relapsed=bool(course.relapses))
    parts = (nci, genetic, adult, cog, infant, interfant, down, persistence)
    return Risk(
        nci=nci.value,
        genetic=genetic.value,
        adult=adult.value,
        cog=cog.value,
        down_syndrome=down.value,
        infant=infant.value,
        interfant_high_risk=interfant.value,
        mrd_persistence=persistence.value,
        factors=list(dict.fromkeys(f for part in parts for f in part.factors)),
        conclusions=[part.conclusion for part in parts],
    )
