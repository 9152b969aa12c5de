"""Genetic lesions as three-valued answers: found, ruled out, or unknown.

Risk rules need more than "was it found": a lesion that was never tested must
leave a risk group undecided (and be named as missing), while one that was
tested and not found lets the rule go on. Labs also write the same lesion in
several ways (``KMT2A_rearrangement``, ``KMT2A::AFF1``, ``t(4;11)`` in a
karyotype), so each lesion family is a :class:`Test` that knows every spelling
that proves it and every negative result that rules it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..assessment import Diagnosis
from ..explain import EvidenceRef
from ..lesion_vocabulary import (
    BCR_ABL1 as BCR_ABL1_KEY,
)
from ..lesion_vocabulary import (
    ETV6_RUNX1 as ETV6_RUNX1_KEY,
)
from ..lesion_vocabulary import (
    IAMP21 as IAMP21_KEY,
)
from ..lesion_vocabulary import (
    KMT2A_R as KMT2A_R_KEY,
)
from ..lesion_vocabulary import (
    TCF3_HLF,
    TP53_MUTATION,
    display,
    rearrangement,
    request_for,
)
from ..lesion_vocabulary import (
    TCF3_PBX1 as TCF3_PBX1_KEY,
)
from ..rules import RuleSet
from ..view import CaseView


def _fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _partners(name: str) -> tuple[str, ...]:
    return tuple(name.split("::")) if "::" in name else ()


_PROVEN_CAP = 1024


@dataclass(frozen=True)
class Test:
    """One lesion family: what proves it and which negative results rule it out.

    ``ruled_out_by`` holds alternatives: the family is ruled out when every name
    of any one alternative was reported negative (``RAS_mutation``, or both
    ``NRAS_mutation`` and ``KRAS_mutation``).
    """

    label: str
    proves: Callable[[str], bool]
    ruled_out_by: tuple[frozenset[str], ...] = ()
    key: str | None = None
    """The vocabulary key when the family is one lesion (its test is asked for in the shared wording)."""
    _proven: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)
    """What ``proves`` said of each name asked about: a test is fixed and lesion names repeat from case to case."""

    def proven(self, name: str) -> bool:
        """``proves(name)``, worked out once per name (the memory is bounded: names come from case files)."""
        known = self._proven
        found = known.get(name)
        if found is None:
            if len(known) >= _PROVEN_CAP:
                known.clear()
            found = known[name] = self.proves(name)
        return found

    @property
    def request(self) -> str:
        """The test to ask for when this family is unknown (``lesion_vocabulary.request_for``)."""
        return request_for(self.key) if self.key else self.label


def one(key: str, proves: Callable[[str], bool] | None = None, *also_ruled_out_by: str) -> Test:
    """The family of one vocabulary lesion: proved by its key (or ``proves``), ruled out by its negative."""
    return Test(display(key), proves or exactly(key), negatives(key, *also_ruled_out_by), key)


def exactly(*names: str) -> Callable[[str], bool]:
    wanted = set(names)
    return lambda name: name in wanted


def rearranged(gene: str, except_partners: tuple[str, ...] = ()) -> Callable[[str], bool]:
    """``GENE_rearrangement`` or any fusion naming the gene (optionally not with some partners)."""

    def proves(name: str) -> bool:
        if name == rearrangement(gene):
            return True
        parts = _partners(name)
        if gene not in parts:
            return False
        others = [p for p in parts if p != gene]
        return not any(p in except_partners for p in others)

    return proves


def either(*tests: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda name: any(t(name) for t in tests)


def folded(*spellings: str) -> Callable[[str], bool]:
    wanted = {_fold(s) for s in spellings}
    return lambda name: _fold(name) in wanted


def negatives(*alternatives: tuple[str, ...] | str) -> tuple[frozenset[str], ...]:
    return tuple(frozenset([a]) if isinstance(a, str) else frozenset(a) for a in alternatives)


# The lesion families the risk rules ask about -------------------------------------------------
BCR_ABL1 = one(BCR_ABL1_KEY)
ETV6_RUNX1 = one(ETV6_RUNX1_KEY)
TCF3_PBX1 = one(TCF3_PBX1_KEY)
HLF_R = Test(display(rearrangement("HLF")), rearranged("HLF"), negatives(TCF3_HLF, rearrangement("HLF")))
KMT2A_R = one(KMT2A_R_KEY, rearranged("KMT2A"))
DUX4_R = one(rearrangement("DUX4"), rearranged("DUX4"))
# IGH::DUX4 is the usual DUX4 rearrangement (standard risk), not the poor-risk IGH-r group.
IGH_R = one(rearrangement("IGH"), rearranged("IGH", except_partners=("DUX4",)))
ZNF384_R = one(rearrangement("ZNF384"), rearranged("ZNF384"))
MEF2D_R = one(rearrangement("MEF2D"), rearranged("MEF2D"))
MYC_R = one(rearrangement("MYC"), rearranged("MYC"))
TP53_MUT = one(TP53_MUTATION)
IAMP21 = one(IAMP21_KEY)
PAX5_P80R = Test("PAX5 P80R", exactly("PAX5_P80R"), negatives("PAX5_P80R"))
# PAX5alt (Gu 2019): PAX5 fusions, intragenic amplification, non-P80R mutations; plain PAX5
# deletions are common secondary copy-number losses and do not define it.
PAX5_ALT = Test(
    "PAX5alt",
    either(rearranged("PAX5"), exactly("PAX5alt", "PAX5_amplification", "PAX5_alteration", "PAX5_mutation")),
    negatives("PAX5alt", ("PAX5_rearrangement", "PAX5_amplification", "PAX5_mutation")),
)
# BCR::ABL1-like named as such, or a kinase fusion that defines it (ABL-class, JAK2, EPOR).
BCR_ABL1_LIKE = Test(
    "BCR::ABL1-like (Ph-like)",
    either(
        folded("BCR::ABL1-like", "BCR-ABL1-like", "Ph-like", "PH::LIKE", "BCR::ABL1_like"),
        rearranged("ABL1", except_partners=("BCR",)),
        rearranged("ABL2"),
        rearranged("PDGFRB"),
        rearranged("CSF1R"),
        rearranged("JAK2"),
        rearranged("EPOR"),
    ),
)
IKZF1_DEL = Test("IKZF1 deletion", exactly("IKZF1_deletion"), negatives("IKZF1_deletion"))
IKZF1_ALT = Test(
    "IKZF1 alteration",
    either(exactly("IKZF1_deletion", "IKZF1_mutation", "IKZF1_alteration"), rearranged("IKZF1")),
    negatives("IKZF1_deletion", "IKZF1_alteration"),
)
CDKN2A_DEL = Test("CDKN2A deletion", exactly("CDKN2A_deletion"), negatives("CDKN2A_deletion"))
CDKN2B_DEL = Test("CDKN2B deletion", exactly("CDKN2B_deletion"), negatives("CDKN2B_deletion"))
PAX5_DEL = Test("PAX5 deletion", exactly("PAX5_deletion"), negatives("PAX5_deletion"))
PAR1_DEL = Test("PAR1 deletion", exactly("PAR1_deletion"), negatives("PAR1_deletion"))
ERG_DEL = Test("ERG deletion", exactly("ERG_deletion"), negatives("ERG_deletion"))
CRLF2_R = one(rearrangement("CRLF2"), rearranged("CRLF2"))
NOTCH1_MUT = Test("NOTCH1 mutation", exactly("NOTCH1_mutation"), negatives("NOTCH1_mutation"))
FBXW7_MUT = Test("FBXW7 mutation", exactly("FBXW7_mutation"), negatives("FBXW7_mutation"))
RAS_MUT = Test(
    "RAS mutation (NRAS/KRAS)",
    exactly("RAS_mutation", "NRAS_mutation", "KRAS_mutation"),
    negatives("RAS_mutation", ("NRAS_mutation", "KRAS_mutation")),
)
# NCCN says "PTEN mutated"; a reported PTEN deletion is counted too (GRAALL "PTEN alteration").
PTEN_ALT = Test("PTEN mutation/deletion", exactly("PTEN_mutation", "PTEN_deletion"), negatives("PTEN_mutation"))
TRISOMY_4 = Test("trisomy 4", folded("TRISOMY_4", "+4"), negatives("TRISOMY_4"))
TRISOMY_10 = Test("trisomy 10", folded("TRISOMY_10", "+10"), negatives("TRISOMY_10"))


@dataclass(frozen=True)
class Answer:
    """The three-valued result of one test, with the names that gave it."""

    test: Test
    state: bool | None
    names: tuple[str, ...] = ()
    conflicting: bool = False

    def text(self) -> str:
        fusions = [n for n in self.names if "::" in n and n != self.test.label]
        return f"{self.test.label} ({', '.join(fusions)})" if self.state and fusions else self.test.label


@dataclass
class Lesions:
    """The lesions of one diagnosis, with the case findings that reported them."""

    view: CaseView
    diagnosis: Diagnosis
    detected: set[str] = field(default_factory=set)
    negative: set[str] = field(default_factory=set)
    conflicting: set[str] = field(default_factory=set)
    _answers: dict[str, Answer] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def of(cls, view: CaseView, diagnosis: Diagnosis) -> Lesions:
        genetics = diagnosis.genetics
        detected = set(genetics.detected)
        if diagnosis.karyotype is not None:
            detected |= {r.key for r in diagnosis.karyotype.recurrent}
        conflicting = set(genetics.conflicting)
        detected -= conflicting
        negative = set(genetics.negative) - detected - conflicting
        return cls(view, diagnosis, detected, negative, conflicting)

    def ask(self, test: Test) -> Answer:
        """The answer of ``test`` (worked out once per diagnosis: risk schemes ask the same families)."""
        answer = self._answers.get(test.label)
        if answer is None or answer.test is not test:
            answer = self._answers[test.label] = self._ask(test)
        return answer

    def _ask(self, test: Test) -> Answer:
        proven = test.proven
        if self.conflicting and (clashing := [n for n in self.conflicting if proven(n)]):
            return Answer(test, None, tuple(sorted(clashing)), conflicting=True)
        found = [n for n in self.detected if proven(n)]
        if found:
            return Answer(test, True, tuple(sorted(found)))
        for alternative in test.ruled_out_by:
            if alternative <= self.negative:
                return Answer(test, False, tuple(sorted(alternative)))
        return Answer(test, None)

    # Evidence -------------------------------------------------------------------------------
    def refs(self, answers: list[Answer]) -> list[EvidenceRef]:
        """The genetics and cytogenetics findings that reported these answers."""
        names = {n for a in answers for n in a.names}
        refs: list[EvidenceRef] = []
        for item in self.view.of_type("genetics"):
            f = item.finding
            found = [n for n in [*f.fusions, *f.alterations] if n in names]
            ruled = [n for n in f.negative if n in names]
            parts = [f"{', '.join(found)} detected"] if found else []
            parts += [f"{', '.join(ruled)} not detected"] if ruled else []
            if parts:
                refs.append(item.ref("; ".join(parts)))
        if self.diagnosis.karyotype is not None and any(
            r.key in names for r in self.diagnosis.karyotype.recurrent
        ):
            refs += karyotype_refs(self.view)
        return refs


def karyotype_refs(view: CaseView) -> list[EvidenceRef]:
    refs = []
    for item in view.of_type("cytogenetics"):
        f = item.finding
        parts = [f"karyotype {f.karyotype}"] if f.karyotype else []
        parts += [f"modal number {f.modal_number}"] if f.modal_number is not None else []
        parts += [f"DNA index {f.dna_index:g}"] if f.dna_index is not None else []
        if parts:
            refs.append(item.ref("; ".join(parts)))
    return refs


# Ploidy ------------------------------------------------------------------------------------
_HYPODIPLOID_CALLS = {"near_haploid", "low_hypodiploid", "high_hypodiploid", "hypodiploid"}


@dataclass(frozen=True)
class Ploidy:
    """``call`` is hypodiploid, high_hyperdiploid, other, masked (possible masked hypodiploidy) or None."""

    call: str | None
    text: str


def ploidy(diagnosis: Diagnosis, rules: RuleSet) -> Ploidy:
    """Hypodiploidy (< 44 or DNA index < 0.81) or high hyperdiploidy (51-65), from what the diagnosis measured.

    The diagnosis module's ploidy call comes first (it weighs karyotype against
    DNA index and guards against masked hypodiploidy); without one, the modal
    number and the DNA index are read here, and when they disagree about
    hypodiploidy nothing is called. A possibly masked hypodiploid clone is
    neither group: it is reported as ``masked``.
    """
    g = diagnosis.genetics
    # A hypodiploid clone that is seen (or a hypodiploid DNA index) is hypodiploidy even when a
    # doubled copy sits beside it; only an unseen, merely possible one leaves the call open.
    if g.masked_hypodiploidy_possible and g.ploidy not in _HYPODIPLOID_CALLS:
        return Ploidy("masked", "possible masked hypodiploidy (doubled hypodiploid clone)")
    modal = g.modal_number
    if modal is None and diagnosis.karyotype is not None:
        modal = diagnosis.karyotype.modal_number
    di = g.dna_index
    if g.ploidy:
        where = g.ploidy.replace("_", " ") + (f", modal number {modal}" if modal is not None else "") + (
            f", DNA index {di:g}" if di is not None else "")
        if g.ploidy in _HYPODIPLOID_CALLS:
            return Ploidy("hypodiploid", f"hypodiploidy ({where})")
        if g.ploidy == "high_hyperdiploid":
            return Ploidy("high_hyperdiploid", f"high hyperdiploidy ({where})")
        return Ploidy("other", where)
    by_modal = by_di = None
    if modal is not None:
        if modal <= rules.hypodiploid_max:
            by_modal = Ploidy("hypodiploid", f"hypodiploidy (modal number {modal}, < {rules.hypodiploid_max + 1})")
        elif rules.high_hyperdiploid_min <= modal <= rules.high_hyperdiploid_max:
            by_modal = Ploidy("high_hyperdiploid", f"high hyperdiploidy (modal number {modal}, "
                                                   f"{rules.high_hyperdiploid_min}-{rules.high_hyperdiploid_max})")
        else:
            by_modal = Ploidy("other", f"modal number {modal}")
    if di is not None:
        if di < rules.hypodiploid_dna_index_below:
            by_di = Ploidy("hypodiploid", f"hypodiploidy (DNA index {di:g}, < {rules.hypodiploid_dna_index_below:g})")
        elif rules.hyperdiploid_dna_index_min <= di < rules.hyperdiploid_dna_index_max:
            by_di = Ploidy("high_hyperdiploid", f"high hyperdiploidy (DNA index {di:g})")
        else:
            by_di = Ploidy("other", f"DNA index {di:g}")
    if by_modal and by_di and "hypodiploid" in (by_modal.call, by_di.call) and by_modal.call != by_di.call:
        return Ploidy(None, f"{by_modal.text} and {by_di.text} disagree")
    return by_modal or by_di or Ploidy(None, "ploidy not measured")


@dataclass(frozen=True)
class Complexity:
    """NCCN complex karyotype (>= ``complex_karyotype_min`` abnormalities): True, False or None (unknown)."""

    state: bool | None
    text: str
    note: str = ""


def complex_karyotype(diagnosis: Diagnosis, rules: RuleSet, call: str | None = None) -> Complexity:
    """Complex karyotype from the diagnosis' flag or the parsed karyotype's abnormality count.

    The whole-chromosome gains of a high-hyperdiploid karyotype (``call``) are
    numerical, not structural complexity: there only structural abnormalities
    count, or every classic hyperdiploid karyotype would turn poor risk.
    """
    k = diagnosis.karyotype if diagnosis.karyotype is not None and diagnosis.karyotype.clones else None  # readable
    flag = diagnosis.genetics.complex_karyotype
    if flag is None and k is None:
        return Complexity(None, "karyotype not available")
    count = None if k is None else k.abnormality_count
    if flag is None:
        flag = count is not None and count >= rules.complex_karyotype_min
    if not flag:
        return Complexity(False, f"not complex ({count} abnormalities)" if count is not None else "not complex")
    if call == "high_hyperdiploid" and k is not None:
        structural = len({
            a.text for c in k.clones if c.role in ("stemline", "sideline", "single")
            for a in c.structural if not a.constitutional
        })
        if structural < rules.complex_karyotype_min:
            note = (f"the abnormalities of a high-hyperdiploid karyotype are mostly whole-chromosome gains "
                    f"({structural} structural): not counted as a complex karyotype")
            return Complexity(False, "not complex (high hyperdiploid)", note)
        count = structural
    shown = f"{count} abnormalities, " if count is not None else ""
    return Complexity(True, f"complex karyotype ({shown}>= {rules.complex_karyotype_min})")


_EXPRESSION_ALIASES = {
    "bcrabllike": "bcrabl1like", "philadelphialike": "bcrabl1like", "phlike": "bcrabl1like",
    "dux4r": "dux4", "dux4rearranged": "dux4", "dux4rearrangement": "dux4", "pax5alteration": "pax5alt",
}


def expression_subtypes(diagnosis: Diagnosis) -> set[str]:
    """The expression sub-types, folded (``Ph-like`` -> ``bcrabl1like``); the diagnosis joins several with ' / '."""
    text = diagnosis.genetics.expression_subtype or ""
    folded = {_fold(part) for part in text.split(" / ") if _fold(part)}
    return {_EXPRESSION_ALIASES.get(f, f) for f in folded}


def names_ph_like(diagnosis: Diagnosis) -> bool:
    """True when the WHO-HAEM5 or ICC entity (or sub-type) is BCR::ABL1-like."""
    keys = " ".join(k for e in (diagnosis.who_haem5, diagnosis.icc_2022) for k in (e.key, e.subtype) if k)
    return "bcr_abl1_like" in keys or "ph_like" in keys
