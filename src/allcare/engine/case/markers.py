"""Immunophenotype marker names and values.

Flow reports spell markers many ways (``cyCD3``, ``CD79a``, ``HLA DR``). The
engine's lineage rules look markers up by one canonical name, so names are
folded here, once. A ``c`` prefix means cytoplasmic, ``s`` surface; markers that
are only meaningful in one compartment (CD79a, IgM, MPO) get that compartment.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

MarkerValue = (
    Literal["positive", "negative", "dim", "bright", "partial"]
    | Annotated[float, Field(ge=0, le=100, description="% of blasts positive")]
)

_CANONICAL = [
    "CD19", "CD10", "CD22", "cCD22", "cCD79a", "CD20", "cIgM", "sIg", "TdT", "CD34", "HLA-DR",
    "cCD3", "sCD3", "CD1a", "CD2", "CD4", "CD5", "CD7", "CD8", "MPO", "CD13", "CD33", "CD117",
    "CD11b", "CD11c", "CD14", "CD15", "CD64", "CD65", "lysozyme", "NSE", "PAX5", "CD24", "CD45",
    "CD38", "CD58", "CD123", "CD56", "CD99", "CD371", "TCRab", "TCRgd", "CD9", "CD25", "NG2",
]
_BY_FOLDED = {name.lower().replace("-", ""): name for name in _CANONICAL}
_ALIASES = {
    "cd79a": "cCD79a", "cycd79a": "cCD79a", "cd79": "cCD79a",
    "cd3": "sCD3", "cycd3": "cCD3", "cd3cyto": "cCD3", "cd3cytoplasmic": "cCD3", "cd3surface": "sCD3",
    "cycd22": "cCD22",
    "igm": "cIgM", "cyigm": "cIgM", "cmu": "cIgM", "cytoplasmicigm": "cIgM", "cytoplasmicmu": "cIgM",
    "sigm": "sIg", "surfaceig": "sIg", "sigkappa": "sIg", "siglambda": "sIg", "kappa": "sIg", "lambda": "sIg",
    "cmpo": "MPO", "cympo": "MPO", "myeloperoxidase": "MPO",
    "hladr": "HLA-DR", "dr": "HLA-DR",
    "cdw65": "CD65", "lyz": "lysozyme", "lysozym": "lysozyme",
    "nonspecificesterase": "NSE", "ctdt": "TdT", "nuctdt": "TdT",
    "tcralphabeta": "TCRab", "tcrgammadelta": "TCRgd",
}


def normalise_marker_name(name: str) -> str:
    """Canonical spelling of a marker name; unknown markers are kept as written (trimmed)."""
    folded = name.strip().replace(" ", "").replace("_", "").replace("-", "").lower()
    if folded in _BY_FOLDED:
        return _BY_FOLDED[folded]
    if folded in _ALIASES:
        return _ALIASES[folded]
    return name.strip()


KNOWN_MARKERS = tuple(_CANONICAL)
