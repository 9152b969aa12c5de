"""EGIL score (Bene et al. 1995), reported as a legacy second opinion beside the WHO lineage.

Biphenotypic when the score is > 2 in at least two lineages; a marker counts
when positive on >= 20% of blasts (surface) or >= 10% (cytoplasmic). The WHO
criteria decide the diagnosis; EGIL is shown because older protocols and
registries still use it, and a disagreement is worth a second look.
"""

from __future__ import annotations

from ..assessment import EgilScore
from ..explain import Conclusion, conclude
from ..sources import EGIL_1995
from .phenotype import Phenotype

_POINTS: dict[str, list[tuple[float, tuple[str, ...]]]] = {
    "b": [(2, ("cCD79a",)), (2, ("cIgM",)), (2, ("cCD22", "CD22")), (1, ("CD19",)), (1, ("CD10",)), (1, ("CD20",)),
          (0.5, ("TdT",)), (0.5, ("CD24",))],
    "t": [(2, ("cCD3", "sCD3")), (2, ("TCRab",)), (2, ("TCRgd",)), (1, ("CD2",)), (1, ("CD5",)), (1, ("CD8",)),
          (1, ("CD10",)), (0.5, ("TdT",)), (0.5, ("CD7",)), (0.5, ("CD1a",))],
    "myeloid": [(2, ("MPO",)), (1, ("CD13",)), (1, ("CD33",)), (1, ("CD65",)), (1, ("CD117",)),
                (0.5, ("CD14",)), (0.5, ("CD15",)), (0.5, ("CD64",))],
}


def _egil_positive(p: Phenotype, name: str) -> bool:
    marker = p.markers.get(name)
    if marker is None:
        return False
    if isinstance(marker.value, str):
        return marker.value != "negative"
    return float(marker.value) >= p.threshold(name)


def egil_score(p: Phenotype) -> tuple[EgilScore | None, Conclusion | None]:
    if not p.present:
        return None, None
    positive = {name for name in p.markers if _egil_positive(p, name)}  # each marker read once, not once per table row
    scores = {
        lineage: sum(points for points, names in table if not positive.isdisjoint(names))
        for lineage, table in _POINTS.items()
    }
    lineages = [name for name in ("b", "t", "myeloid") if scores[name] > 2]
    score = EgilScore(b=scores["b"], t=scores["t"], myeloid=scores["myeloid"],
                      biphenotypic=len(lineages) >= 2, lineages=lineages)
    text = f"EGIL points B {score.b:g}, T {score.t:g}, myeloid {score.myeloid:g}"
    verdict = "biphenotypic (> 2 points in two or more lineages)" if score.biphenotypic else "not biphenotypic"
    return score, conclude("diagnosis.egil", score.biphenotypic, "DX.EGIL.SCORE", EGIL_1995,
                           f"{text}: {verdict}", p.ref(*p.markers))
