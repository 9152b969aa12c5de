"""Consistency check between the written modal number and the abnormalities.

Labs write the modal number themselves and it always wins; the check only
warns, so that a typo in either place is brought to a human. It is
deliberately conservative: whenever the count cannot be derived with
certainty (markers, dicentrics, rings, uncertain tokens, ranges, ploidy
levels other than diploid ...) it stays silent rather than cry wolf.
"""

from __future__ import annotations

from .models import Abnormality, Clone

_PLOIDY_LEVELS = ((range(1, 35), 22), (range(35, 58), 44), (range(58, 81), 66), (range(81, 104), 88))
"""ISCN 2020 ploidy levels and their autosome count: gains and losses are written relative to the
nearest level (near-haploid 23, diploid 46, near-triploid 69, near-tetraploid 92 chromosomes)."""

_UNCOUNTABLE_KINDS = frozenset({"mar", "dic", "idic", "r", "other"})


def modal_number_warning(clone: Clone) -> str | None:
    """A warning message when the modal number disagrees with the listed changes."""
    if not _is_checkable(clone):
        return None
    implied = implied_chromosome_number(clone)
    sex_losses = sum(a.count for a in clone.abnormalities if a.kind == "loss" and a.chromosomes[0] in ("X", "Y"))
    # Labs often write near-triploid or near-tetraploid clones relative to 46 too: accept that reading.
    diploid = implied - (_autosomes(clone.modal_number) or 44) + 44
    # `45,X,-Y` lists the lost Y twice (missing from the sex field and as -Y); `45,XY,-Y` once. Accept both.
    if clone.modal_number in (implied, implied + sex_losses, diploid, diploid + sex_losses):
        return None
    return (
        f"modal number {clone.modal_number} differs from the {implied} chromosomes implied by "
        "the sex chromosomes, gains and losses (the written modal number is kept)"
    )


def _autosomes(modal: int | None) -> int | None:
    return next((autosomes for levels, autosomes in _PLOIDY_LEVELS if modal in levels), None)


def implied_chromosome_number(clone: Clone) -> int:
    """The ploidy level's autosomes plus the sex chromosomes, adjusted for every signed (+/-) abnormality."""
    sex_count = len(clone.sex_chromosomes.rstrip("c"))
    change = sum(a.count * (1 if a.sign == "+" else -1) for a in clone.abnormalities if a.sign)
    return (_autosomes(clone.modal_number or 46) or 44) + sex_count + change


def _is_checkable(clone: Clone) -> bool:
    """Only clones whose chromosome count follows unambiguously from the text."""
    if clone.modal_number is None or _autosomes(clone.modal_number) is None:
        return False
    if clone.composite or clone.ploidy_level or clone.unparsed or clone.role == "unknown":
        return False
    if "?" in clone.text or not clone.sex_chromosomes:
        return False
    return not any(_is_uncountable(a) for a in clone.abnormalities)


def _is_uncountable(abnormality: Abnormality) -> bool:
    """Abnormalities that change the count implicitly (dic, der(1;7), markers ...)."""
    if abnormality.kind in _UNCOUNTABLE_KINDS or abnormality.uncertain:
        return True
    return abnormality.derivative is not None and ";" in abnormality.derivative
