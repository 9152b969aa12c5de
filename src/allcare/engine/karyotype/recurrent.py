"""Recognition of the recurrent, classification-defining ALL lesions.

Matching is on chromosomes plus band prefixes (`q11.2` lies in `q11`), in
either chromosome order, and looks inside derivatives (`der(22)t(9;22)`),
so that the many ways labs write the same lesion are all found. It never
guesses: a translocation without bands, or with other bands
(`t(9;22)(p13;q11)`), is not called, and constitutional findings are
ignored because they are not leukaemic lesions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..lesion_vocabulary import (
    BCR_ABL1,
    ETV6_RUNX1,
    IAMP21,
    IGH_CRLF2,
    IGH_IL3,
    IGH_MYC,
    IGK_MYC,
    IGL_MYC,
    KMT2A_R,
    TCF3_HLF,
    TCF3_PBX1,
)
from .grammar import band_matches
from .models import Abnormality, Clone, RecurrentKey, RecurrentLesion


@dataclass(frozen=True)
class FusionRule:
    """A reciprocal translocation between two chromosome bands."""

    key: RecurrentKey
    rule: str
    first: tuple[str, str]
    second: tuple[str, str]


FUSION_RULES: tuple[FusionRule, ...] = (
    FusionRule(BCR_ABL1, "KARYO.T_9_22", ("9", "q34"), ("22", "q11")),
    FusionRule(ETV6_RUNX1, "KARYO.T_12_21", ("12", "p13"), ("21", "q22")),
    FusionRule(TCF3_PBX1, "KARYO.T_1_19", ("1", "q23"), ("19", "p13")),
    FusionRule(KMT2A_R, "KARYO.T_4_11", ("4", "q21"), ("11", "q23")),
    FusionRule(TCF3_HLF, "KARYO.T_17_19", ("17", "q22"), ("19", "p13")),
    FusionRule(IGH_IL3, "KARYO.T_5_14", ("5", "q31"), ("14", "q32")),
    # MYC (8q24) joined to an immunoglobulin locus: IGH 14q32, IGK 2p11.2 (written p12 in older reports),
    # IGL 22q11 (WHO-HAEM5 Burkitt lymphoma; ICC 2022 B-ALL with MYC rearrangement). 8q24 with 14q11 (TRA) is not.
    FusionRule(IGH_MYC, "KARYO.IG_MYC", ("8", "q24"), ("14", "q32")),
    FusionRule(IGK_MYC, "KARYO.IG_MYC", ("2", "p11"), ("8", "q24")),
    FusionRule(IGK_MYC, "KARYO.IG_MYC", ("2", "p12"), ("8", "q24")),
    FusionRule(IGL_MYC, "KARYO.IG_MYC", ("8", "q24"), ("22", "q11")),
    # CRLF2 (pseudoautosomal Xp22.33 / Yp11.2) joined to IGH: a JAK-STAT lesion of BCR::ABL1-like ALL (ICC 2022).
    FusionRule(IGH_CRLF2, "KARYO.IGH_CRLF2", ("X", "p22"), ("14", "q32")),
    FusionRule(IGH_CRLF2, "KARYO.IGH_CRLF2", ("Y", "p11"), ("14", "q32")),
)

KMT2A_RULE = "KARYO.KMT2A_11Q23"
KMT2A_KINDS = frozenset({"t", "der", "dic", "ins", "inv"})
"""Rearrangements that join 11q23 to another segment and so break KMT2A; amplification (hsr) or dup does not."""
KMT2A_SUGGESTED_RULE = "KARYO.KMT2A_11Q23_SUGGESTED"
KMT2A_SUGGESTIVE_KINDS = frozenset({"del", "add"})
"""A deletion or an addition of unknown material at 11q23 may hide a KMT2A rearrangement (an
unbalanced or cryptic partner) but does not show one: it asks for KMT2A FISH (break-apart)."""

IAMP21_RULE = "KARYO.IAMP21"


def find_recurrent(clones: list[Clone]) -> list[RecurrentLesion]:
    """All recurrent lesions, once per key, from the first clone that shows them."""
    return _first_per_key(clones, lesions_in)


def find_suggested(clones: list[Clone]) -> list[RecurrentLesion]:
    """Lesions the karyotype suggests but cannot prove (del/add at 11q23: KMT2A), unless it proves them too."""
    proven = {lesion.key for lesion in find_recurrent(clones)}
    return [lesion for lesion in _first_per_key(clones, suggested_in) if lesion.key not in proven]


def _first_per_key(clones: list[Clone], reader: Callable[[Abnormality], Iterator[tuple[RecurrentKey, str]]]) -> list[RecurrentLesion]:
    found: dict[str, RecurrentLesion] = {}
    for clone in clones:
        for abnormality in clone.abnormalities:
            if abnormality.constitutional:
                continue
            for key, rule in reader(abnormality):
                lesion = RecurrentLesion(key=key, abnormality=abnormality.text, clone=clone.index, rule=rule)
                found.setdefault(key, lesion)
    return list(found.values())


def suggested_in(abnormality: Abnormality) -> Iterator[tuple[RecurrentKey, str]]:
    for rearrangement in rearrangements(abnormality):
        if rearrangement.kind in KMT2A_SUGGESTIVE_KINDS and breaks_at(rearrangement, "11", "q23"):
            yield KMT2A_R, KMT2A_SUGGESTED_RULE


def lesions_in(abnormality: Abnormality) -> Iterator[tuple[RecurrentKey, str]]:
    """(key, rule) for every recurrent lesion one abnormality shows."""
    if abnormality.symbol == "iamp" and "21" in abnormality.chromosomes:
        yield IAMP21, IAMP21_RULE
    for rearrangement in rearrangements(abnormality):
        yield from _fusions_in(rearrangement)
        if rearrangement.kind in KMT2A_KINDS and breaks_at(rearrangement, "11", "q23"):
            yield KMT2A_R, KMT2A_RULE


def _fusions_in(rearrangement: Abnormality) -> Iterator[tuple[RecurrentKey, str]]:
    """Translocation rules whose two bands are both broken by this translocation."""
    if rearrangement.kind != "t":
        return
    for fusion in FUSION_RULES:
        if breaks_at(rearrangement, *fusion.first) and breaks_at(rearrangement, *fusion.second):
            yield fusion.key, fusion.rule


def rearrangements(abnormality: Abnormality) -> list[Abnormality]:
    """The rearrangements with aligned bands: a derivative's parts, else itself."""
    return abnormality.parts or [abnormality]


def breaks_at(rearrangement: Abnormality, chromosome: str, band: str) -> bool:
    """Whether the rearrangement has a breakpoint in `band` of `chromosome`."""
    pairs = zip(rearrangement.chromosomes, rearrangement.breakpoint_groups, strict=False)
    return any(name == chromosome and any(band_matches(b, band) for b in group) for name, group in pairs)
