"""What to ask for when a conclusion cannot be reached: one phrase per missing test.

Diagnosis, risk and response often need the same test (BCR::ABL1 status, ploidy);
if each module phrased the request its own way, an assessment's ``missing`` list
would ask for the same test twice in different words. Every module takes its
wording from here, keyed by the lesion label it already uses.
"""

from __future__ import annotations

PLOIDY = "karyotype or DNA index (ploidy)"
MASKED_HYPODIPLOIDY = "SNP array / DNA index / flow ploidy to exclude a doubled hypodiploid clone"
EXPRESSION_PROFILE = "RNA sequencing / expression profiling (DUX4-r, PAX5 P80R, PAX5alt, BCR::ABL1-like, ZNF384-r, MEF2D-r)"

_BY_LABEL = {
    "BCR::ABL1": "BCR::ABL1 (FISH or RT-PCR)",
    "KMT2A rearrangement": "KMT2A rearrangement (FISH break-apart)",
    "ETV6::RUNX1": "ETV6::RUNX1 (FISH or RT-PCR)",
    "TCF3::PBX1": "TCF3::PBX1 (FISH or RT-PCR)",
    "iAMP21": "iAMP21 (RUNX1 FISH)",
}


def request_for(label: str) -> str:
    """The test to ask for, for a lesion label such as ``"KMT2A rearrangement"``."""
    return _BY_LABEL.get(label, label)
