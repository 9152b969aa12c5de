"""Ploidy from the modal number or the DNA index, and the masked-hypodiploidy guard.

docs/decisions.md#ploidy: hypodiploidy = modal <= 43 (near-haploid 24-31, low hypodiploid
32-39, high hypodiploid 40-43); 44-45 near-diploid; 47-50 low hyperdiploid;
51-65 high hyperdiploid; 66-79 near-triploid; 84-100 near-tetraploid. Without
a karyotype, DNA index >= 1.16 (and < 1.60) is high hyperdiploid and < 0.81
hypodiploid.

A near-haploid or low-hypodiploid clone can double itself into a clone that
looks hyperdiploid: 48-62 chromosomes from a near-haploid one, 60-78 from a
low-hypodiploid one. Two marks betray it (docs/decisions.md#masked-hypodiploidy;
Safavi & Paulsson, Blood 2017; Carroll et al., Cancer Genet 2019):

* the small clone is still seen beside it: any clone of 24-31 or 32-39
  chromosomes defines hypodiploidy, in whatever order the clones are written;
* the changes pair up: every whole-chromosome gain is doubled (tetrasomies, no
  trisomies) and every loss is doubled, because every chromosome of the small
  clone was duplicated.

A paired karyotype without the small clone is "possible masked hypodiploidy":
never read as high hyperdiploidy, the call waits for a SNP array, DNA index or
flow ploidy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import msgspec

from ..case import Cytogenetics
from ..explain import Conclusion, EvidenceRef, conclude, contradictory, undetermined
from ..karyotype import Clone, Karyotype
from ..lesion_vocabulary import MASKED_HYPODIPLOIDY_TEST, PLOIDY_TEST
from ..rules import RuleSet
from ..sources import WHO_HAEM5, decision
from ..view import CaseView, Indexed

DIPLOID = 46
HYPODIPLOID = ("near_haploid", "low_hypodiploid", "high_hypodiploid", "hypodiploid")
MASKED_MISSING = MASKED_HYPODIPLOIDY_TEST
PLOIDY_MISSING = PLOIDY_TEST
MASKED_UNCHECKED = "an abnormal karyotype (a count or DNA index alone cannot show a doubled hypodiploid clone)"
SOURCE = f"{decision('ploidy')}; {WHO_HAEM5}"
TOPIC = "diagnosis.ploidy"


@dataclass(frozen=True)
class PloidyCall:
    category: str | None = None
    state: str = "untested"
    """untested | conflicting | uncertain | hypodiploid | high_hyperdiploid | other"""
    modal_number: int | None = None
    dna_index: float | None = None
    masked: bool = False
    complex_karyotype: bool | None = None
    conclusion: Conclusion | None = None
    conflicts: list[str] = field(default_factory=list)
    evidence: list[EvidenceRef] = field(default_factory=list)


def modal_category(modal: int, r: RuleSet) -> str | None:
    """Ploidy group of a modal number (None outside every group, e.g. 80-83)."""
    if modal <= r.hypodiploid_max:
        for name in ("near_haploid", "low_hypodiploid", "high_hypodiploid"):
            low, high = getattr(r, name)
            if low <= modal <= high:
                return name
        return "near_haploid" if modal < r.near_haploid[0] else "hypodiploid"
    if modal < DIPLOID:
        return "near_diploid"
    if modal == DIPLOID:
        return "diploid"
    if modal < r.high_hyperdiploid_min:
        return "low_hyperdiploid"
    if modal <= r.high_hyperdiploid_max:
        return "high_hyperdiploid"
    for name in ("near_triploid", "near_tetraploid"):
        low, high = getattr(r, name)
        if low <= modal <= high:
            return name
    return None


def dna_index_category(di: float, r: RuleSet) -> str | None:
    """hypodiploid | high_hyperdiploid | None (neither)."""
    if di < r.hypodiploid_dna_index_below:
        return "hypodiploid"
    if r.hyperdiploid_dna_index_min <= di < r.hyperdiploid_dna_index_max:
        return "high_hyperdiploid"
    return None


def _abnormal(k: Karyotype) -> list[Clone]:
    return [c for c in k.clones if c.role in ("stemline", "sideline", "single")]


def hypodiploid_clone(k: Karyotype, r: RuleSet) -> Clone | None:
    """The first abnormal clone of 24-31 (near-haploid) or 32-39 (low hypodiploid) chromosomes, wherever written."""
    low, high = r.near_haploid[0], r.low_hypodiploid[1]
    return next((c for c in _abnormal(k) if c.modal_number is not None and low <= c.modal_number <= high), None)


def _paired(clone: Clone) -> bool:
    """Whole-chromosome changes that all come in pairs (tetrasomies, no trisomies; losses doubled)."""
    changes = [*Counter(clone.gains).values(), *Counter(clone.losses).values()]
    return bool(changes) and all(n % 2 == 0 for n in changes)


def masked_signs(k: Karyotype, r: RuleSet) -> list[str]:
    """Why a karyotype may hide (or shows) a doubled hypodiploid clone (empty: no sign); any clone order."""
    counted = [(c, c.modal_number) for c in _abnormal(k) if c.modal_number is not None]
    small = hypodiploid_clone(k, r)
    signs = []
    if small is not None:
        doubled = [n for _, n in counted if n > DIPLOID]
        if doubled:
            signs.append(f"a clone with {doubled[0]} chromosomes beside the {small.modal_number}-chromosome clone "
                         "(its doubled copy)")
    ranges = (r.masked_near_haploid_doubled, r.masked_hypodiploidy)
    for clone, n in counted:
        if clone is not small and any(low <= n <= high for low, high in ranges) and _paired(clone):
            signs.append(f"every whole-chromosome change of the {n}-chromosome clone comes in pairs (tetrasomies, "
                         "no trisomies): the pattern of a duplicated hypodiploid clone")
            break
    return signs


def _group_of(k: Karyotype, r: RuleSet) -> str | None:
    """The ploidy group of a karyotype: of its hypodiploid clone when it has one (whatever the clone order)."""
    small = hypodiploid_clone(k, r)
    modal = k.modal_number if small is None else small.modal_number
    return None if modal is None else modal_category(modal, r)


def _complex(k: Karyotype, category: str | None) -> bool:
    """Complex karyotype; in a ploidy group the whole-chromosome gains/losses are the group, not complexity,
    so only structural abnormalities are counted there (UKALL convention)."""
    if category in (*HYPODIPLOID, "high_hyperdiploid"):
        structural = {a.text for c in _abnormal(k) for a in c.structural if not a.constitutional}
        return len(structural) >= k.complex_threshold
    return k.is_complex


def call_ploidy(
    view: CaseView, cytogenetics: list[Indexed[Cytogenetics]], parsed: list[tuple[Indexed[Cytogenetics], Karyotype]],
) -> PloidyCall:
    r = view.rules
    counted = [(i, k) for i, k in parsed if k.modal_number is not None]
    # A normal karyotype is often normal metaphases, not blasts: an abnormal one of the work-up gives the ploidy.
    abnormal = [(i, k) for i, k in counted if not k.is_normal]
    groups = [(i, k, _group_of(k, r)) for i, k in abnormal]
    if len({group for _, _, group in groups}) > 1:
        sides = [f"karyotype {k.text} (#{i.index}, {i.date}): {_label(group)}" for i, k, group in groups]
        evidence = [i.ref(f"karyotype {k.text}") for i, k, _ in groups]
        return PloidyCall(evidence=evidence, state="conflicting", conflicts=sides, conclusion=contradictory(
            TOPIC, "DX.PLOIDY.CONFLICT", SOURCE, sides, evidence))
    primary = (abnormal or counted)[0] if counted else None
    modal, modal_ref, karyotype = None, None, None
    if primary is not None:
        item, karyotype = primary
        small = hypodiploid_clone(karyotype, r)
        modal = karyotype.modal_number if small is None else small.modal_number
        where = "" if modal == karyotype.modal_number else f" (the {modal}-chromosome clone)"
        modal_ref = item.ref(f"karyotype {karyotype.text}: modal number {modal}{where}")
    else:
        stated_modals = _first_day(cytogenetics, "modal_number")
        split = _split_day(stated_modals, "modal number", lambda v: _label(modal_category(int(v), r)))
        if split is not None:
            return split
        if stated_modals:
            stated = stated_modals[0]
            modal = stated.finding.modal_number
            modal_ref = stated.ref(f"modal number {modal}" + (" (karyotype text gave none)" if parsed else ""))
    stated_indices = _first_day(cytogenetics, "dna_index")
    split = _split_day(stated_indices, "DNA index",
                       lambda v: (dna_index_category(v, r) or "neither hyperdiploid nor hypodiploid").replace("_", " "))
    if split is not None:
        return split
    di_item = stated_indices[0] if stated_indices else None
    di = di_item.finding.dna_index if di_item else None
    di_ref = di_item.ref(f"DNA index {di:g}") if di_item else None
    evidence = [x for x in (modal_ref, di_ref) if x is not None]
    base = PloidyCall(modal_number=modal, dna_index=di, evidence=evidence)

    if modal is None:
        return base if di is None else _from_dna_index(di, dna_index_category(di, r), base, evidence)
    dcat = dna_index_category(di, r) if di is not None else None

    mcat = modal_category(modal, r)
    signs = masked_signs(karyotype, r) if karyotype is not None else []
    complex_karyotype = _complex(karyotype, mcat) if karyotype is not None else None
    base = replace(base, complex_karyotype=complex_karyotype)
    if karyotype is not None and karyotype.is_normal and dcat is not None:
        note = (f"karyotype {karyotype.text} is normal (often normal metaphases, not blasts) while the DNA index "
                f"{di:g} is {dcat.replace('_', ' ')}: the DNA index is used")
        return _unchecked_doubling(_decided(dcat, base, note, evidence, "DX.PLOIDY.DNA_INDEX"))
    if dcat == "hypodiploid" and mcat not in HYPODIPLOID:
        if mcat in ("high_hyperdiploid", "near_triploid", "near_tetraploid"):
            signs.append(f"DNA index {di:g} shows a hypodiploid population beside the {modal}-chromosome karyotype")
        else:
            sides = [f"karyotype modal number {modal} ({mcat})", f"DNA index {di:g} (hypodiploid)"]
            return replace(base, state="conflicting", conflicts=sides, conclusion=contradictory(
                TOPIC, "DX.PLOIDY.CONFLICT", SOURCE, sides, evidence))
    if dcat == "high_hyperdiploid" and mcat in ("near_diploid", "diploid", "low_hyperdiploid"):
        sides = [f"karyotype modal number {modal} ({mcat})", f"DNA index {di:g} (high hyperdiploid)"]
        return replace(base, state="conflicting", conflicts=sides, conclusion=contradictory(
            TOPIC, "DX.PLOIDY.CONFLICT", SOURCE, sides, evidence))
    if dcat == "high_hyperdiploid" and mcat in HYPODIPLOID:
        signs.append(f"DNA index {di:g} is in the hyperdiploid range: the hypodiploid clone has doubled")

    if signs and mcat not in HYPODIPLOID:
        return replace(base, category=mcat, state="uncertain", masked=True, conclusion=undetermined(
            TOPIC, "DX.PLOIDY.MASKED", SOURCE, [MASKED_MISSING],
            f"modal number {modal} ({_label(mcat)}) but possible masked hypodiploidy: {'; '.join(signs)}. "
            "High hyperdiploidy is not assigned until a doubled hypodiploid clone is excluded.",
            evidence, value=mcat,
        ))
    text = f"modal number {modal}: {_label(mcat)}"
    unchecked: list[str] = []
    if karyotype is None and mcat == "high_hyperdiploid" and _in_masked_range(modal, r):
        # A count alone cannot show the paired changes of a doubled hypodiploid clone (docs/decisions.md#masked-hypodiploidy).
        text += ("; stated as a count without the karyotype, so a doubled hypodiploid clone (masked hypodiploidy) "
                 "could not be checked for")
        unchecked = [MASKED_UNCHECKED]
    if signs:
        text += f" (doubled population seen: {'; '.join(signs)})"
    if di is not None and dcat is None and mcat in (*HYPODIPLOID, "high_hyperdiploid"):
        text += f"; DNA index {di:g} is outside the DNA-index ranges, the karyotype count is used"
    call = _decided(mcat, base, text, evidence, "DX.PLOIDY.MODAL")
    if unchecked and call.conclusion is not None:
        call = replace(call, conclusion=msgspec.structs.replace(call.conclusion, missing=unchecked))
    return replace(call, masked=bool(signs))


def _in_masked_range(modal: int, r: RuleSet) -> bool:
    return any(low <= modal <= high for low, high in (r.masked_near_haploid_doubled, r.masked_hypodiploidy))


def _first_day(cytogenetics: list[Indexed[Cytogenetics]], field_name: str) -> list[Indexed[Cytogenetics]]:
    """The stated values of a field on the first day that has one: results of one day carry no order."""
    stated = [i for i in cytogenetics if getattr(i.finding, field_name) is not None]
    return [i for i in stated if i.date == stated[0].date] if stated else []


def _split_day(items: list[Indexed[Cytogenetics]], what: str, group: Callable[[float], str]) -> PloidyCall | None:
    """Values of one day in different ploidy groups: the ploidy stays open (docs/decisions.md#same-day)."""
    field_name = "modal_number" if what == "modal number" else "dna_index"
    values = [(i, float(getattr(i.finding, field_name))) for i in items]
    if len({group(v) for _, v in values}) < 2:
        return None
    sides = [f"{what} {v:g} (#{i.index}, {i.date}): {group(v)}" for i, v in values]
    evidence = [i.ref(f"{what} {v:g}") for i, v in values]
    return PloidyCall(evidence=evidence, state="conflicting", conflicts=sides, conclusion=contradictory(
        TOPIC, "DX.PLOIDY.CONFLICT", f"{SOURCE}; {decision('same-day')}", sides, evidence))


def _from_dna_index(di: float, dcat: str | None, base: PloidyCall, evidence: list[EvidenceRef]) -> PloidyCall:
    if dcat is None:
        text = (f"DNA index {di:g}: neither high hyperdiploid nor hypodiploid by the DNA-index ranges "
                "(no karyotype count)")
        return replace(base, state="other", conclusion=conclude(TOPIC, None, "DX.PLOIDY.DNA_INDEX", SOURCE, text, evidence))
    text = f"DNA index {di:g} without a karyotype count: {dcat.replace('_', ' ')}"
    if dcat == "hypodiploid":
        text += " (sub-group needs a modal number)"
    return _unchecked_doubling(_decided(dcat, base, text, evidence, "DX.PLOIDY.DNA_INDEX"))


def _unchecked_doubling(call: PloidyCall) -> PloidyCall:
    """A high-hyperdiploid call no karyotype could check for a doubled hypodiploid clone says so and asks for one."""
    if call.category != "high_hyperdiploid" or call.conclusion is None:
        return call
    conclusion = msgspec.structs.replace(
        call.conclusion, missing=[MASKED_UNCHECKED],
        explanation=call.conclusion.explanation + "; no abnormal karyotype shows the chromosomes, so a doubled "
        "hypodiploid clone (masked hypodiploidy) could not be checked for")
    return replace(call, conclusion=conclusion)


def _decided(category: str | None, base: PloidyCall, text: str, evidence: list[EvidenceRef], rule: str) -> PloidyCall:
    if category in HYPODIPLOID:
        state = "hypodiploid"
    elif category == "high_hyperdiploid":
        state = "high_hyperdiploid"
    else:
        state = "other"
    return replace(base, category=category, state=state,
                   conclusion=conclude(TOPIC, category, rule, SOURCE, text, evidence))


def _label(category: str | None) -> str:
    return category.replace("_", " ") if category else "outside the named ploidy groups"
