"""Does a karyotype's sex-chromosome field fit the patient's recorded sex?

A data-entry cross-check, not a conclusion: a Y in a girl's karyotype or a
male karyotype without any Y usually means the wrong patient or a typing
slip. Acquired loss of Y is common in leukaemia, so a male clone written
``45,X,-Y`` (the Y named as lost) is not a mismatch. Donor clones (after a
transplant, written after ``//``) are skipped: they carry the donor's sex.
"""

from __future__ import annotations

from .models import Karyotype


def sex_mismatch(karyotype: Karyotype, sex: str | None) -> str | None:
    """A sentence naming the mismatch, or None when the karyotype fits (or cannot be compared)."""
    if sex not in ("female", "male"):
        return None
    for clone in karyotype.clones:
        field = clone.sex_chromosomes.rstrip("c").upper()
        if clone.donor or not field or "?" in field:
            continue
        has_y = "Y" in field
        lost_y = any(loss == "Y" for loss in clone.losses)
        if sex == "female" and has_y:
            return f"the karyotype shows a Y chromosome ({clone.sex_chromosomes}) but the patient is recorded as female"
        if sex == "male" and not has_y and not lost_y:
            return f"the karyotype has no Y chromosome ({clone.sex_chromosomes}) but the patient is recorded as male"
    return None
