"""The genetic-lesion vocabulary shared by ``fusions``, ``alterations`` and ``negative``.

A "negative" list is only useful if it names lesions exactly as the detected
lists do, so all three are folded onto one spelling here: fusions as
``GENE1::GENE2`` (HGNC/ISCN 2020 double colon), rearrangements of a partner
gene as ``GENE_rearrangement``, other alterations as ``GENE_kind``.
"""

from __future__ import annotations

import re

# Aliases for the commonest legacy spellings of the defining fusions.
_FUSION_ALIASES = {
    "BCR::ABL": "BCR::ABL1",
    "ABL1::BCR": "BCR::ABL1",
    "IL3::IGH": "IGH::IL3",
    "RUNX1::ETV6": "ETV6::RUNX1",
    "PBX1::TCF3": "TCF3::PBX1",
    "HLF::TCF3": "TCF3::HLF",
    "E2A::PBX1": "TCF3::PBX1",
    "TEL::AML1": "ETV6::RUNX1",
    "MLL::AF4": "KMT2A::AFF1",
    "E2A::HLF": "TCF3::HLF",
}
_WORD_ALIASES = {
    "PH": "BCR::ABL1",
    "PHILADELPHIA": "BCR::ABL1",
    "PH+": "BCR::ABL1",
    "IAMP21": "iAMP21",
    "IAMP(21)": "iAMP21",
    "MLL": "KMT2A_rearrangement",
    "KMT2AR": "KMT2A_rearrangement",
    "KMT2A": "KMT2A_rearrangement",
}
_KIND_ALIASES = {
    "r": "rearrangement", "rearranged": "rearrangement", "rearr": "rearrangement", "rearrangement": "rearrangement",
    "fusion": "rearrangement",
    "del": "deletion", "deleted": "deletion", "deletion": "deletion", "loss": "deletion",
    "mut": "mutation", "mutated": "mutation", "mutation": "mutation", "mutant": "mutation",
    "amp": "amplification", "amplification": "amplification", "amplified": "amplification",
    "alt": "alteration", "alteration": "alteration",
    "overexpression": "overexpression",
}
_GENE = r"[A-Za-z0-9.]+"
_FUSION = re.compile(rf"^({_GENE})\s*(?:::|/|-|~)\s*({_GENE})$")
_PROTEIN_CHANGE = re.compile(r"^[A-Z]\d+[A-Z*]?(?:fs)?$", re.IGNORECASE)


def normalise_lesion(text: str) -> str:
    """Canonical spelling of one lesion, so that detected and negative lists compare."""
    raw = text.strip()
    upper = raw.upper().replace(" ", "")
    if upper in _WORD_ALIASES:
        return _WORD_ALIASES[upper]
    match = _FUSION.match(raw.replace(" ", ""))
    if match:
        left, right = match.group(1).upper(), match.group(2)
        if right.lower() in _KIND_ALIASES:
            return f"{left}_{_KIND_ALIASES[right.lower()]}"
        fusion = f"{left}::{right.upper()}"
        return _FUSION_ALIASES.get(fusion, fusion)
    parts = [p for p in re.split(r"[\s_]+", raw) if p]
    if len(parts) >= 2:
        gene, rest = parts[0].upper(), parts[1:]
        if len(rest) == 1 and rest[0].lower() in _KIND_ALIASES:
            return f"{gene}_{_KIND_ALIASES[rest[0].lower()]}"
        if len(rest) == 1 and _PROTEIN_CHANGE.match(rest[0]):
            return f"{gene}_{rest[0].upper()}"
        return "_".join([gene, *(r.lower() for r in rest)])
    return raw.upper() if raw.isalnum() else raw
