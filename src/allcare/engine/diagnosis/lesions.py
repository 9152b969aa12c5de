"""Lesion names: what a fusion implies, which negative covers it, how classifier calls read.

Labs report the same biology at different resolutions: a KMT2A::AFF1 RT-PCR,
a KMT2A break-apart FISH, a t(4;11) in the karyotype. The entity rules ask one
question ("is KMT2A rearranged?"), so a partner fusion implies the gene's
rearrangement, and a negative break-apart FISH for a gene covers every fusion
of that gene.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..lesion_vocabulary import BCR_ABL1, CLASSIFIER_CALLS, REARRANGEMENT, rearrangement

PARTNER_GENES = ("KMT2A", "ZNF384", "DUX4", "MEF2D", "NUTM1", "MYC", "HLF", "IGH", "BCL11B", "CRLF2")
"""Genes whose fusion with any partner is, for classification, a rearrangement of that gene."""

ABL_CLASS_GENES = ("ABL1", "ABL2", "PDGFRB", "CSF1R")
JAK_FUSION_GENES = ("JAK2", "EPOR")
JAK_MUTATED_GENES = ("JAK1", "JAK2", "JAK3", "IL7R")

OTHER_DEFINED = (
    *(rearrangement(gene) for gene in ("DUX4", "MEF2D", "ZNF384", "NUTM1", "MYC", "HLF")), "UBTF::ATXN7L3", "IKZF1_N159Y", "PAX5_P80R", "PAX5alt", "ZEB2_H1038R", "IGH::CEBPE",
)
"""Lesions of 'B-ALL with other defined genetic abnormalities' (ICC named sub-types), in reporting order."""


_NON_LYMPHOID = re.compile(r"neutrophil|granulocyt|myeloid|monocyt|non-?lymphoid|non-?blast|multi-?lineage", re.IGNORECASE)


def describes_non_lymphoid_cells(text: str | None) -> bool:
    """A genetics result on sorted non-lymphoid (non-blast) cells, e.g. BCR::ABL1 FISH on neutrophils.

    Such a result tells the ICC BCR::ABL1 sub-type (lymphoid-only vs multilineage); its negatives say
    nothing about the blasts and are kept out of the lesion ledger.
    """
    return text is not None and bool(_NON_LYMPHOID.search(text))


# Lesion names come from case files; the rules ask about the same few names again and again, so the
# answers below are kept per name (a bounded memory: an unusual file cannot make it grow without end).
@lru_cache(maxsize=1024)
def fusion_genes(lesion: str) -> tuple[str, ...]:
    return tuple(lesion.split("::")) if "::" in lesion else ()


def rearranged_gene(lesion: str) -> str | None:
    return lesion.removesuffix(REARRANGEMENT) if lesion.endswith(REARRANGEMENT) else None


def implied_by(lesion: str) -> list[str]:
    """Lesions a detected lesion implies (KMT2A::AFF1 -> KMT2A_rearrangement; TCF3::HLF -> HLF_rearrangement)."""
    return [rearrangement(gene) for gene in fusion_genes(lesion) if gene in PARTNER_GENES]


@lru_cache(maxsize=1024)
def covering_negatives(lesion: str) -> tuple[str, ...]:
    """Negative results that exclude ``lesion``: itself, or a break-apart of one of its genes."""
    return (lesion, *(rearrangement(gene) for gene in fusion_genes(lesion)))


def is_abl_class(lesion: str, bcr_abl1_excluded: bool = False) -> bool:
    """An ABL-class fusion, or a break-apart rearrangement of an ABL-class gene with its partner unnamed.

    An ABL1 break-apart without a partner is most often BCR::ABL1 itself: it is ABL-class only when
    BCR::ABL1 was tested and not found (``bcr_abl1_excluded``). ABL2, PDGFRB and CSF1R have no such double.
    """
    genes = fusion_genes(lesion)
    if genes:
        return lesion != BCR_ABL1 and any(g in ABL_CLASS_GENES for g in genes)
    gene = rearranged_gene(lesion)
    return gene in ABL_CLASS_GENES and (gene != "ABL1" or bcr_abl1_excluded)


def is_jak_stat(lesion: str) -> bool:
    genes = fusion_genes(lesion)
    if genes:
        return any(g in JAK_FUSION_GENES for g in genes)
    if lesion == rearrangement("CRLF2") or rearranged_gene(lesion) in JAK_FUSION_GENES:
        return True
    gene, _, kind = lesion.partition("_")
    return gene in JAK_MUTATED_GENES and bool(kind) and kind not in ("deletion", "rearrangement")


@lru_cache(maxsize=1024)
def is_kinase_fusion(lesion: str, bcr_abl1_excluded: bool = False) -> bool:
    """ABL-class or JAK2/EPOR fusions: these define BCR::ABL1-like ALL without an expression profile.

    A break-apart FISH that shows the kinase gene rearranged without naming its partner counts as well
    (ICC 2022 sub-types BCR::ABL1-like ABL-1 class and JAK-STAT are defined by the rearranged kinase gene).
    """
    if is_abl_class(lesion, bcr_abl1_excluded):
        return True
    return (bool(fusion_genes(lesion)) or rearranged_gene(lesion) in JAK_FUSION_GENES) and is_jak_stat(lesion)


# Expression classifier calls -------------------------------------------------

def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_CLASSIFIER: dict[str, tuple[str, str]] = {
    _fold(spelling): (kind, value) for kind, value, spellings in CLASSIFIER_CALLS for spelling in spellings
}


def classify_expression(text: str) -> tuple[str, str] | None:
    """(kind, value) for a classifier subtype, or None when the name is not one the rules know."""
    return _CLASSIFIER.get(_fold(text))
