"""THE genetic-lesion vocabulary: canonical keys, their display names, their synonyms, the test to ask for.

Every part of allcare that names a lesion (the case reader, the karyotype parser, the diagnosis, the
risk rules, the course, the alerts, the patient report) takes the key from here, so that a lesion
found by one test and excluded by another is recognisably the same lesion, and a missing test is
asked for in one wording.

Keys are spelled as HGNC/ISCN 2020 write them: a fusion as ``GENE1::GENE2`` (double colon), a
rearrangement of a gene with any partner as ``GENE_rearrangement``, other alterations as
``GENE_kind`` (``IKZF1_deletion``, ``TP53_mutation``), and the few named lesions as written in the
classifications (``iAMP21``). Legacy and lab spellings are folded onto these keys by
:func:`normalise_lesion` when a case is read.
"""

from __future__ import annotations

import re
from typing import Final

# Canonical keys of the lesions the rules name ---------------------------------------------------
BCR_ABL1: Final = "BCR::ABL1"
ETV6_RUNX1: Final = "ETV6::RUNX1"
TCF3_PBX1: Final = "TCF3::PBX1"
TCF3_HLF: Final = "TCF3::HLF"
IGH_IL3: Final = "IGH::IL3"
KMT2A_R: Final = "KMT2A_rearrangement"
IAMP21: Final = "iAMP21"
BCR_ABL1_LIKE: Final = "BCR::ABL1-like"
ETV6_RUNX1_LIKE: Final = "ETV6::RUNX1-like"
TP53_MUTATION: Final = "TP53_mutation"
IGH_MYC: Final = "IGH::MYC"
IGK_MYC: Final = "IGK::MYC"
IGL_MYC: Final = "IGL::MYC"
IGH_CRLF2: Final = "IGH::CRLF2"

REARRANGEMENT: Final = "_rearrangement"


def rearrangement(gene: str) -> str:
    """The key of a rearrangement of ``gene`` with any partner (``KMT2A`` -> ``KMT2A_rearrangement``)."""
    return f"{gene}{REARRANGEMENT}"


KARYOTYPE_RECURRENT = (BCR_ABL1, ETV6_RUNX1, TCF3_PBX1, KMT2A_R, TCF3_HLF, IGH_IL3, IAMP21, IGH_MYC, IGK_MYC, IGL_MYC,
                       IGH_CRLF2)
"""The recurrent lesions the karyotype parser recognises (``karyotype/recurrent.py``), in its keys."""

MYC_R: Final = "MYC_rearrangement"
"""MYC joined to an immunoglobulin locus (or another partner): Burkitt's hallmark, and ICC's B-ALL with MYC
rearrangement when the blasts are precursors."""

B_DEFINING = (BCR_ABL1, KMT2A_R, ETV6_RUNX1, TCF3_PBX1, IAMP21)
"""Lesions that must be tested negative (with ploidy) before B-ALL, NOS can be called."""

MPAL_DEFINING = (BCR_ABL1, KMT2A_R)
"""The lesions that define an MPAL entity of their own."""

# Display names ----------------------------------------------------------------------------------
DISPLAY = {
    KMT2A_R: "KMT2A rearrangement",
    BCR_ABL1_LIKE: "BCR::ABL1-like (Ph-like)",
}
"""Words for keys that are not already readable as written (fusions and iAMP21 are)."""


PLAIN_WORDS = {BCR_ABL1: f"{BCR_ABL1} (the Philadelphia chromosome)"}
"""Words for the patient report where the key alone says too little to a family."""


def display(key: str) -> str:
    """How a lesion key is written for people (``KMT2A_rearrangement`` -> ``KMT2A rearrangement``)."""
    return DISPLAY.get(key) or key.replace("_", " ")


def plain_words(key: str) -> str:
    """How a lesion is named in the patient report."""
    return PLAIN_WORDS.get(key) or display(key)


# The test to ask for ----------------------------------------------------------------------------
PLOIDY_TEST = "karyotype or DNA index (ploidy)"
MASKED_HYPODIPLOIDY_TEST = "SNP array / DNA index / flow ploidy to exclude a doubled hypodiploid clone"
EXPRESSION_PROFILE_TEST = (
    "RNA sequencing / expression profiling (DUX4-r, PAX5 P80R, PAX5alt, BCR::ABL1-like, ZNF384-r, MEF2D-r)"
)
_TESTS = {
    BCR_ABL1: f"{BCR_ABL1} (FISH or RT-PCR)",
    KMT2A_R: f"{display(KMT2A_R)} (FISH break-apart)",
    ETV6_RUNX1: f"{ETV6_RUNX1} (FISH or RT-PCR)",
    TCF3_PBX1: f"{TCF3_PBX1} (FISH or RT-PCR)",
    IAMP21: f"{IAMP21} (RUNX1 FISH)",
}


def request_for(key: str) -> str:
    """The test to ask for when a lesion's status is unknown, in one wording for every rule.

    Diagnosis, risk and response often need the same test; if each phrased it its own way, an
    assessment's ``missing`` list would ask for it twice in different words.
    """
    return _TESTS.get(key) or display(key)


# Synonyms ---------------------------------------------------------------------------------------
FUSION_SYNONYMS = {
    "BCR::ABL": BCR_ABL1,
    "ABL1::BCR": BCR_ABL1,
    "IL3::IGH": IGH_IL3,
    "RUNX1::ETV6": ETV6_RUNX1,
    "PBX1::TCF3": TCF3_PBX1,
    "HLF::TCF3": TCF3_HLF,
    "E2A::PBX1": TCF3_PBX1,
    "TEL::AML1": ETV6_RUNX1,
    "MLL::AF4": "KMT2A::AFF1",
    "E2A::HLF": TCF3_HLF,
    "MYC::IGH": IGH_MYC,
    "MYC::IGK": IGK_MYC,
    "MYC::IGL": IGL_MYC,
    "CRLF2::IGH": IGH_CRLF2,
}
"""Legacy gene names and reversed partners of the defining fusions."""

GENE_SYNONYMS = {
    "MLL": "KMT2A", "E2A": "TCF3", "TEL": "ETV6", "AML1": "RUNX1", "AF4": "AFF1", "ENL": "MLLT1", "AF9": "MLLT3",
    "AF10": "MLLT10", "ABL": "ABL1",
}
"""Previous HGNC symbols labs still write, for the gene of a fusion or of a ``GENE_kind`` lesion."""

WORD_SYNONYMS = {
    "PH": BCR_ABL1,
    "PHILADELPHIA": BCR_ABL1,
    "PHILADELPHIACHROMOSOME": BCR_ABL1,
    "PHPOSITIVE": BCR_ABL1,
    "PH-POSITIVE": BCR_ABL1,
    "PH+": BCR_ABL1,
    "IAMP21": IAMP21,
    "IAMP(21)": IAMP21,
    "MLL": KMT2A_R,
    "KMT2AR": KMT2A_R,
    "KMT2A": KMT2A_R,
    "PAX5ALT": "PAX5alt",
}
"""Single words (spaces removed, upper case) that name a lesion."""

KIND_SYNONYMS = {
    "r": "rearrangement", "rearranged": "rearrangement", "rearr": "rearrangement", "rearrangement": "rearrangement",
    "fusion": "rearrangement",
    "del": "deletion", "deleted": "deletion", "deletion": "deletion", "loss": "deletion",
    "mut": "mutation", "mutated": "mutation", "mutation": "mutation", "mutant": "mutation",
    "amp": "amplification", "amplification": "amplification", "amplified": "amplification",
    "alt": "alteration", "alteration": "alteration",
    "overexpression": "overexpression",
}
"""Words for the kind of alteration after a gene name (``KMT2A rearranged``, ``IKZF1 del``)."""

CLASSIFIER_CALLS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    # kind "entity": the profile itself defines the entity; "lesion": the classifier group is accepted as the
    # lesion (RNA-seq is how these cryptic rearrangements are found); "confirm": a genomic lesion the classifier
    # suggests but that must be shown by karyotype/FISH/PCR; "ploidy": a chromosome-number group, likewise.
    ("entity", BCR_ABL1_LIKE, ("BCR::ABL1-like", "BCR-ABL1-like", "BCR-ABL-like", "Ph-like", "Philadelphia-like")),
    ("entity", ETV6_RUNX1_LIKE, ("ETV6::RUNX1-like", "ETV6-RUNX1-like")),
    ("entity", "ZNF384-like", ("ZNF384-like", "ZNF384-rearranged-like")),
    ("entity", "KMT2A-like", ("KMT2A-like", "KMT2A-rearranged-like")),
    ("lesion", rearrangement("DUX4"), ("DUX4", "DUX4-r", "DUX4 rearranged", "DUX4 rearrangement")),
    ("lesion", rearrangement("ZNF384"), ("ZNF384", "ZNF384-r", "ZNF384 rearranged")),
    ("lesion", rearrangement("MEF2D"), ("MEF2D", "MEF2D-r", "MEF2D rearranged")),
    ("lesion", rearrangement("NUTM1"), ("NUTM1", "NUTM1-r")),
    ("lesion", rearrangement("MYC"), ("MYC", "MYC-r")),
    ("lesion", rearrangement("HLF"), ("HLF", "HLF-r")),
    ("lesion", "PAX5alt", ("PAX5alt", "PAX5 alteration")),
    ("lesion", "PAX5_P80R", ("PAX5 P80R",)),
    ("lesion", "IKZF1_N159Y", ("IKZF1 N159Y",)),
    ("lesion", "UBTF::ATXN7L3", ("CDX2/UBTF", "UBTF::ATXN7L3", "CDX2-UBTF")),
    ("lesion", "ZEB2_H1038R", ("ZEB2/CEBPE", "ZEB2-CEBPE", "ZEB2 H1038R")),
    ("confirm", BCR_ABL1, ("BCR::ABL1", "BCR-ABL1", "Ph", "Ph-positive", "Ph+")),
    ("confirm", KMT2A_R, ("KMT2A", "KMT2A-r", "KMT2A rearranged", "MLL")),
    ("confirm", ETV6_RUNX1, ("ETV6::RUNX1", "ETV6-RUNX1")),
    ("confirm", TCF3_PBX1, ("TCF3::PBX1", "TCF3-PBX1")),
    ("confirm", IAMP21, ("iAMP21",)),
    ("ploidy", "high_hyperdiploid", ("Hyperdiploid", "High hyperdiploid", "High hyperdiploidy")),
    ("ploidy", "near_haploid", ("Near haploid", "Near-haploid")),
    ("ploidy", "low_hypodiploid", ("Low hypodiploid",)),
    ("ploidy", "hypodiploid", ("Hypodiploid",)),
)
"""Expression-classifier sub-type names: (kind, what it means, the spellings classifiers use)."""

_REPORT_WORDS = re.compile(r"^(?:fusions?|transcripts?|genes?|positive|pos|detected|present|found)$", re.IGNORECASE)
"""Words a report adds after a lesion's name ("ETV6::RUNX1 fusion", "BCR::ABL1 transcript detected")."""
_FOUND_LEAD = re.compile(r"^(?:(?:positive|pos|detected|found|present)(?:\s+for\b\s*|\s*:\s*|\s+))+", re.IGNORECASE)
"""Words a report writes before a lesion found ("Positive for BCR-ABL1", "Detected: ...")."""
_NOT_FOUND_LEAD = re.compile(r"^(?:negative|neg|absent|no|not\s+(?:detected|found))\s*(?:for\b|:)?\s+", re.IGNORECASE)
_NOT_FOUND_TAIL = re.compile(r"[\s:,;-]*\b(?:not\s+(?:detected|found|present|seen)|negative|neg|absent|undetected)\s*$",
                             re.IGNORECASE)
"""A report's words saying a lesion was not found, before or after its name ("Negative for ETV6-RUNX1",
"BCR::ABL1 not detected")."""
_ISOFORM = re.compile(r"^(?:p1\d\d|p2\d\d|[eb]\d{1,2}a\d|minor|major|micro|[mµ]-?bcr)$", re.IGNORECASE)
"""Transcript (isoform, breakpoint) names of a fusion: BCR::ABL1 p190/p210/p230, e1a2, b2a2, e13a2, m-bcr ..."""
_GENE = r"[A-Za-z0-9.]+"
_FUSION = re.compile(rf"^({_GENE})\s*(?:::|/|-|~)\s*({_GENE})$")
_PROTEIN_CHANGE = re.compile(r"^[A-Z]\d+[A-Z*]?(?:fs)?$", re.IGNORECASE)


def normalise_lesion(text: str, detected: bool = True) -> str:
    """Canonical key of one lesion as a lab wrote it, so that detected and negative lists compare.

    Words a report adds around the name ("fusion", "transcript", "detected", "positive for") are dropped;
    words saying it was not found ("negative", "not detected") are dropped from a negative result and refused
    (ValueError) in a lesion found, where they would make a silent unknown key. For a lesion found
    (``detected``), a transcript name is dropped too: a "BCR::ABL1 p190" found is BCR::ABL1. In a
    negative result the transcript name is kept, because a test for one transcript (p190 not found) does
    not exclude the fusion (p210 may be there). Previous gene symbols (MLL, E2A, TEL, AML1...) are read as
    today's.
    """
    raw = text.strip()
    said_not_found = _NOT_FOUND_LEAD.match(raw) or _NOT_FOUND_TAIL.search(raw)
    if said_not_found:
        if detected:
            raise ValueError(f"{text!r} says the lesion was not found: list it under negative (tested for and not found)")
        raw = _NOT_FOUND_TAIL.sub("", _NOT_FOUND_LEAD.sub("", raw)).strip(" :;,-")
    raw = _FOUND_LEAD.sub("", raw).strip(" :;,") or raw
    upper = raw.upper().replace(" ", "")
    if upper in WORD_SYNONYMS:
        return WORD_SYNONYMS[upper]
    words = raw.replace("(", " ").replace(")", " ").split()
    kept = [w for w in words if not _REPORT_WORDS.match(w) and not (detected and _ISOFORM.match(w))]
    if kept and kept != words:
        return normalise_lesion(" ".join(kept), detected)
    if len(words) > 1 and _FUSION.match(words[0]) and all(_ISOFORM.match(w) for w in words[1:]):
        # a transcript of a fusion kept (in a negative): "BCR::ABL1_P190", never the whole fusion
        return "_".join([normalise_lesion(words[0], detected), *(w.upper() for w in words[1:])])
    match = _FUSION.match(raw.replace(" ", ""))
    if match:
        left, right = _gene(match.group(1)), match.group(2)
        if right.lower() in KIND_SYNONYMS:
            return f"{left}_{KIND_SYNONYMS[right.lower()]}"
        fusion = f"{left}::{_gene(right)}"
        return FUSION_SYNONYMS.get(fusion, fusion)
    parts = [p for p in re.split(r"[\s_]+", raw) if p]
    if len(parts) >= 2:
        gene, rest = _gene(parts[0]), parts[1:]
        if len(rest) == 1 and rest[0].lower() in KIND_SYNONYMS:
            return f"{gene}_{KIND_SYNONYMS[rest[0].lower()]}"
        if len(rest) == 1 and _PROTEIN_CHANGE.match(rest[0]):
            return f"{gene}_{rest[0].upper()}"
        return "_".join([gene, *(r.lower() for r in rest)])
    return raw.upper() if raw.isalnum() else raw


def _gene(symbol: str) -> str:
    upper = symbol.upper()
    return GENE_SYNONYMS.get(upper, upper)
