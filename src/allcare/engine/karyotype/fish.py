"""Reading the FISH part of an ISCN 2020 string (``nuc ish`` / ``ish``) for the lesions FISH defines.

ISCN 2020 writes interphase FISH as probe groups with signal counts:

* ``(RUNX1x5)`` or ``(RUNX1)x5``: copies of a locus per nucleus;
* ``(ABL1,BCR)x3(ABL1 con BCRx2)``: a dual-fusion probe; ``con`` marks
  connected (fused) signals, so the two genes are fused;
* ``(KMT2Ax2)(5'KMT2A sep 3'KMT2Ax1)``: a break-apart probe; ``sep`` marks
  separated 5' and 3' signals, so the gene is rearranged;
* ``(KMT2Ax2)`` or ``(ABL1,BCR)x2`` with no ``sep``/``con``: the normal pattern,
  so the probe tested negative for that rearrangement or fusion.

iAMP21 is defined by FISH: at least 5 RUNX1 signals per cell, i.e. at least
three extra copies on one abnormal chromosome 21 (Harrison et al., Leukemia
2014; WHO-HAEM5); both lines are rule-set parameters (``iamp21_runx1_min_copies``,
``iamp21_extra_copies_min``), handed in as :class:`Iamp21Lines`. Extra RUNX1 copies that whole
extra chromosomes 21 of the karyotype explain (tetrasomy 21 of a high
hyperdiploid clone) are not iAMP21. Loss of one or both signals of a tumour
suppressor probe (CDKN2A, IKZF1 ...) is a deletion. Nothing is guessed: a probe
group that is none of these shapes is kept as written and not interpreted.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import NamedTuple

from ..lesion_vocabulary import IAMP21, normalise_lesion
from ..rules import DEFAULT_RULES, RuleSet
from .models import Clone, FishResult


class Iamp21Lines(NamedTuple):
    """The rule set's FISH lines for iAMP21 (hashable: parsed karyotypes are shared per text and lines)."""

    min_copies: int  # RUNX1 signals per cell
    extra_copies: int  # RUNX1 copies beyond the chromosomes 21 of the karyotype

    @classmethod
    def of(cls, rules: RuleSet) -> Iamp21Lines:
        return cls(rules.iamp21_runx1_min_copies, rules.iamp21_extra_copies_min)


DEFAULT_IAMP21 = Iamp21Lines.of(DEFAULT_RULES)
BREAK_APART_GENES = frozenset({
    "KMT2A", "TCF3", "IGH", "CRLF2", "ZNF384", "MEF2D", "PDGFRB", "ABL1", "ABL2", "JAK2", "MYC", "EPOR", "CSF1R",
    "NUTM1", "BCL11B", "ETV6", "PAX5",
})
DELETION_GENES = frozenset({"CDKN2A", "CDKN2B", "IKZF1", "PAX5", "TP53", "ERG", "RB1", "ETV6"})
_GROUP = re.compile(r"\(([^()]*)\)(?:x(\d+))?")
_LOCUS = re.compile(r"^(?:[35]')?([A-Za-z][A-Za-z0-9.\-]*?)(?:x(\d+))?$")


def _locus(token: str) -> tuple[str, int | None] | None:
    match = _LOCUS.match(token.strip())
    if match is None:
        return None
    return match.group(1).upper(), int(match.group(2)) if match.group(2) else None


def read_fish(text: str | None, clones: list[Clone], iamp21: Iamp21Lines = DEFAULT_IAMP21) -> list[FishResult]:
    """The lesions a FISH string shows or excludes, each with the probe group it was read from."""
    if not text:
        return []
    results: list[FishResult] = []
    fused: set[frozenset[str]] = set()
    separated: set[str] = set()
    groups: list[tuple[str, dict[str, int]]] = []  # probe group as written, copies of each locus
    for match in _GROUP.finditer(text):
        content, outer, written = match.group(1), match.group(2), match.group(0)
        if " con " in f" {content} ":
            left, right = content.split("con", 1)
            a, b = _locus(left), _locus(right)
            if a and b:
                fused.add(frozenset((a[0], b[0])))
                results.append(FishResult(text=written, lesion=normalise_lesion(f"{a[0]}::{b[0]}"), detected=True,
                                          rule="FISH.FUSION"))
            continue
        if " sep " in f" {content} ":
            a = _locus(content.split("sep", 1)[0])
            if a:
                separated.add(a[0])
                results.append(FishResult(text=written, lesion=f"{a[0]}_rearrangement", detected=True,
                                          rule="FISH.BREAK_APART"))
            continue
        loci = [locus for part in content.split(",") if (locus := _locus(part)) is not None]
        if not loci or len(loci) < len(content.split(",")):  # a part that names no locus: not a probe group
            continue
        counts = {name: own if own is not None else int(outer) for name, own in loci if own is not None or outer}
        if counts:
            groups.append((written, counts))
    results += _normal_patterns(groups, fused, separated)
    results += _copy_numbers(groups, clones, iamp21)
    return list({(r.lesion, r.detected): r for r in results}.values())


def _normal_patterns(groups: list[tuple[str, dict[str, int]]], fused: set[frozenset[str]], separated: set[str]) -> list[FishResult]:
    """A probe with two signals of each locus and no ``con``/``sep`` group: what it tests is absent."""
    out = []
    for written, counts in groups:
        names = list(counts)
        if any(n != 2 for n in counts.values()):
            continue
        if len(names) == 2 and frozenset(names) not in fused:
            out.append(FishResult(text=written, lesion=normalise_lesion(f"{names[0]}::{names[1]}"), detected=False,
                                  rule="FISH.FUSION"))
        elif len(names) == 1 and names[0] in BREAK_APART_GENES and names[0] not in separated:
            out.append(FishResult(text=written, lesion=f"{names[0]}_rearrangement", detected=False,
                                  rule="FISH.BREAK_APART"))
    return out


def chromosome_21_copies(clones: list[Clone]) -> int | None:
    """Copies of chromosome 21 in the first abnormal clone (2 plus gains minus losses), None without one."""
    clone = next((c for c in clones if c.role in ("stemline", "single", "sideline") and c.modal_number), None)
    if clone is None or clone.modal_number is None:
        return None
    modal = clone.modal_number
    changes = Counter(clone.gains)["21"] - Counter(clone.losses)["21"]
    base = 1 if modal <= 34 else 3 if 58 <= modal <= 80 else 4 if modal > 80 else 2
    return base + changes


def _copy_numbers(groups: list[tuple[str, dict[str, int]]], clones: list[Clone], iamp21: Iamp21Lines) -> list[FishResult]:
    out = []
    for written, counts in groups:
        for name, count in counts.items():
            if name == "RUNX1":
                out.append(_iamp21(written, count, clones, iamp21))
            elif name in DELETION_GENES and count < 2:
                state = "both copies" if count == 0 else "one copy"
                out.append(FishResult(text=written, lesion=f"{name}_deletion", detected=True, rule="FISH.COPY_NUMBER",
                                      note=f"{state} lost"))
            elif name in DELETION_GENES and count == 2 and len(counts) == 1:
                out.append(FishResult(text=written, lesion=f"{name}_deletion", detected=False, rule="FISH.COPY_NUMBER"))
    return out


def _iamp21(written: str, count: int, clones: list[Clone], lines: Iamp21Lines) -> FishResult:
    if count < lines.min_copies:
        return FishResult(text=written, lesion=IAMP21, detected=False, rule="FISH.IAMP21",
                          note=f"{count} RUNX1 signals (< {lines.min_copies})")
    whole = chromosome_21_copies(clones)
    if whole is not None and count - whole < lines.extra_copies:
        return FishResult(text=written, lesion=IAMP21, detected=False, rule="FISH.IAMP21",
                          note=f"{count} RUNX1 signals, explained by {whole} whole chromosomes 21 in the karyotype")
    basis = f"{whole} chromosomes 21 in the karyotype" if whole is not None else "two chromosomes 21 assumed"
    return FishResult(text=written, lesion=IAMP21, detected=True, rule="FISH.IAMP21",
                      note=f"{count} RUNX1 signals per cell ({basis}): at least {lines.extra_copies} extra copies")
