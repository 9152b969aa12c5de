"""Lesion names: what a fusion implies, which negative covers it, how classifier calls read.

Labs report the same biology at different resolutions: a KMT2A::AFF1 RT-PCR,
a KMT2A break-apart FISH, a t(4;11) in the karyotype. The entity rules ask one
question ("is KMT2A rearranged?"), so a partner fusion implies the gene's
rearrangement, and a negative break-apart FISH for a gene covers every fusion
of that gene.
"""

from __future__ import annotations

import re

KARYOTYPE_KEYS = {"KMT2A-r": "KMT2A_rearrangement"}
"""Karyotype-parser keys spelled the vocabulary's way (others are already fusion names)."""

PARTNER_GENES = ("KMT2A", "ZNF384", "DUX4", "MEF2D", "NUTM1", "MYC", "HLF", "IGH", "BCL11B", "CRLF2")
"""Genes whose fusion with any partner is, for classification, a rearrangement of that gene."""

ABL_CLASS_GENES = ("ABL1", "ABL2", "PDGFRB", "CSF1R")
JAK_FUSION_GENES = ("JAK2", "EPOR")
JAK_MUTATED_GENES = ("JAK1", "JAK2", "JAK3", "IL7R")

OTHER_DEFINED = (
    "DUX4_rearrangement", "MEF2D_rearrangement", "ZNF384_rearrangement", "NUTM1_rearrangement", "MYC_rearrangement",
    "HLF_rearrangement", "UBTF::ATXN7L3", "IKZF1_N159Y", "PAX5_P80R", "PAX5alt", "ZEB2_H1038R", "IGH::CEBPE",
)
"""Lesions of 'B-ALL with other defined genetic abnormalities' (ICC named sub-types), in reporting order."""


_NON_LYMPHOID = re.compile(r"neutrophil|granulocyt|myeloid|monocyt|non-?lymphoid|non-?blast|multi-?lineage", re.IGNORECASE)


def describes_non_lymphoid_cells(text: str | None) -> bool:
    """A genetics result on sorted non-lymphoid (non-blast) cells, e.g. BCR::ABL1 FISH on neutrophils.

    Such a result tells the ICC BCR::ABL1 sub-type (lymphoid-only vs multilineage); its negatives say
    nothing about the blasts and are kept out of the lesion ledger.
    """
    return text is not None and bool(_NON_LYMPHOID.search(text))


def fusion_genes(lesion: str) -> tuple[str, ...]:
    return tuple(lesion.split("::")) if "::" in lesion else ()


def rearranged_gene(lesion: str) -> str | None:
    return lesion.removesuffix("_rearrangement") if lesion.endswith("_rearrangement") else None


def implied_by(lesion: str) -> list[str]:
    """Lesions a detected lesion implies (KMT2A::AFF1 -> KMT2A_rearrangement; TCF3::HLF -> HLF_rearrangement)."""
    return [f"{gene}_rearrangement" for gene in fusion_genes(lesion) if gene in PARTNER_GENES]


def covering_negatives(lesion: str) -> list[str]:
    """Negative results that exclude ``lesion``: itself, or a break-apart of one of its genes."""
    return [lesion, *(f"{gene}_rearrangement" for gene in fusion_genes(lesion))]


def is_abl_class(lesion: str) -> bool:
    genes = fusion_genes(lesion)
    if not genes or lesion == "BCR::ABL1":
        return False
    return any(g in ABL_CLASS_GENES for g in genes)


def is_jak_stat(lesion: str) -> bool:
    genes = fusion_genes(lesion)
    if genes:
        return any(g in JAK_FUSION_GENES for g in genes)
    if lesion == "CRLF2_rearrangement":
        return True
    gene, _, kind = lesion.partition("_")
    return gene in JAK_MUTATED_GENES and bool(kind) and kind not in ("deletion", "rearrangement")


def is_kinase_fusion(lesion: str) -> bool:
    """ABL-class or JAK2/EPOR fusions: these define BCR::ABL1-like ALL without an expression profile."""
    return is_abl_class(lesion) or (bool(fusion_genes(lesion)) and is_jak_stat(lesion))


# Expression classifier calls -------------------------------------------------

_CLASSIFIER: dict[str, tuple[str, str]] = {}


def _add(kind: str, value: str, *spellings: str) -> None:
    for spelling in spellings:
        _CLASSIFIER[_fold(spelling)] = (kind, value)


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# kind "entity": the profile itself defines the entity; "lesion": the classifier group is accepted as the
# lesion (RNA-seq is how these cryptic rearrangements are found); "confirm": a genomic lesion the classifier
# suggests but that must be shown by karyotype/FISH/PCR; "ploidy": a chromosome-number group, likewise.
_add("entity", "BCR::ABL1-like", "BCR::ABL1-like", "BCR-ABL1-like", "BCR-ABL-like", "Ph-like", "Philadelphia-like")
_add("entity", "ETV6::RUNX1-like", "ETV6::RUNX1-like", "ETV6-RUNX1-like")
_add("entity", "ZNF384-like", "ZNF384-like", "ZNF384-rearranged-like")
_add("entity", "KMT2A-like", "KMT2A-like", "KMT2A-rearranged-like")
_add("lesion", "DUX4_rearrangement", "DUX4", "DUX4-r", "DUX4 rearranged", "DUX4 rearrangement")
_add("lesion", "ZNF384_rearrangement", "ZNF384", "ZNF384-r", "ZNF384 rearranged")
_add("lesion", "MEF2D_rearrangement", "MEF2D", "MEF2D-r", "MEF2D rearranged")
_add("lesion", "NUTM1_rearrangement", "NUTM1", "NUTM1-r")
_add("lesion", "MYC_rearrangement", "MYC", "MYC-r")
_add("lesion", "HLF_rearrangement", "HLF", "HLF-r")
_add("lesion", "PAX5alt", "PAX5alt", "PAX5 alteration")
_add("lesion", "PAX5_P80R", "PAX5 P80R")
_add("lesion", "IKZF1_N159Y", "IKZF1 N159Y")
_add("lesion", "UBTF::ATXN7L3", "CDX2/UBTF", "UBTF::ATXN7L3", "CDX2-UBTF")
_add("lesion", "ZEB2_H1038R", "ZEB2/CEBPE", "ZEB2-CEBPE", "ZEB2 H1038R")
_add("confirm", "BCR::ABL1", "BCR::ABL1", "BCR-ABL1", "Ph", "Ph-positive", "Ph+")
_add("confirm", "KMT2A_rearrangement", "KMT2A", "KMT2A-r", "KMT2A rearranged", "MLL")
_add("confirm", "ETV6::RUNX1", "ETV6::RUNX1", "ETV6-RUNX1")
_add("confirm", "TCF3::PBX1", "TCF3::PBX1", "TCF3-PBX1")
_add("confirm", "iAMP21", "iAMP21")
_add("ploidy", "high_hyperdiploid", "Hyperdiploid", "High hyperdiploid", "High hyperdiploidy")
_add("ploidy", "near_haploid", "Near haploid", "Near-haploid")
_add("ploidy", "low_hypodiploid", "Low hypodiploid")
_add("ploidy", "hypodiploid", "Hypodiploid")


def classify_expression(text: str) -> tuple[str, str] | None:
    """(kind, value) for a classifier subtype, or None when the name is not one the rules know."""
    return _CLASSIFIER.get(_fold(text))
