"""WHO-HAEM5 and ICC 2022 entities from lineage, ETP call and genetic profile.

Precedence (docs/decisions.md#entity-precedence, from the ICD-O-3 priority rule and the clinical
dominance of fusions over ploidy): BCR::ABL1 > KMT2A-r > ETV6::RUNX1 >
TCF3::PBX1 > TCF3::HLF > IGH::IL3 > hypodiploidy > iAMP21 > high hyperdiploidy
> BCR::ABL1-like > ETV6::RUNX1-like > other defined > NOS. Every abnormality
stays listed in the genetic summary whichever one names the entity.

"NOS" means "none of the defining lesions", so it is only given when the
defining lesions were tested and found absent. The minimal set is the standard
diagnostic work-up (karyotype or DNA index plus FISH/RT-PCR): BCR::ABL1, KMT2A
rearrangement, ETV6::RUNX1, TCF3::PBX1, iAMP21 and ploidy. TCF3::HLF, IGH::IL3
(each < 1%, usually seen in the karyotype or suspected from eosinophilia) and
the expression-defined groups are not required: without a result they count
as not found. When a lesion is found, the entity is named even if a
higher-precedence required lesion is untested, and that lesion is listed as
missing because it would take precedence if present.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..assessment import Entity
from ..explain import Conclusion, EvidenceRef, contradictory, undetermined
from ..lesion_vocabulary import (
    BCR_ABL1 as BCR_ABL1_KEY,
)
from ..lesion_vocabulary import (
    ETV6_RUNX1,
    IAMP21,
    IGH_IL3,
    KMT2A_R,
    TCF3_HLF,
    TCF3_PBX1,
    display,
    request_for,
)
from ..sources import ICC_2022, WHO_HAEM5, decision
from .disease import DiseaseCall
from .etp import EtpCall
from .genetics import GeneticProfile
from .lesions import OTHER_DEFINED, describes_non_lymphoid_cells, is_abl_class, is_jak_stat, is_kinase_fusion
from .names import ICC_NAMES, ICC_OTHER_DEFINED, ICC_SUBTYPE_NAMES, WHO_NAMES
from .ploidy import MASKED_MISSING, PLOIDY_MISSING

WHO_TOPIC, ICC_TOPIC = "diagnosis.who_haem5", "diagnosis.icc_2022"
WHO_RULE, ICC_RULE = "DX.ENTITY.WHO_HAEM5", "DX.ENTITY.ICC_2022"
WHO_SOURCE = f"{WHO_HAEM5}; {decision('entity-precedence')}"
ICC_SOURCE = f"{ICC_2022}; {decision('entity-precedence')}"
MULTILINEAGE_MISSING = "BCR::ABL1 in sorted non-lymphoid cells (FISH/PCR)"
ICC_HYPO_MISSING = "karyotype modal number (near-haploid vs low hypodiploid)"
PROVISIONAL_EXPRESSION = ("ZNF384-like", "KMT2A-like")


@dataclass(frozen=True)
class Tier:
    label: str
    key: str
    required: bool
    missing: str = ""
    lesion: str | None = None


BCR_ABL1 = Tier(BCR_ABL1_KEY, "bcr_abl1", True, request_for(BCR_ABL1_KEY), BCR_ABL1_KEY)
KMT2A = Tier(display(KMT2A_R), "kmt2a", True, request_for(KMT2A_R), KMT2A_R)
B_TIERS = (
    BCR_ABL1,
    KMT2A,
    Tier(ETV6_RUNX1, "etv6_runx1", True, request_for(ETV6_RUNX1), ETV6_RUNX1),
    Tier(TCF3_PBX1, "tcf3_pbx1", True, request_for(TCF3_PBX1), TCF3_PBX1),
    Tier(TCF3_HLF, "tcf3_hlf", False, lesion=TCF3_HLF),
    Tier(IGH_IL3, "igh_il3", False, lesion=IGH_IL3),
    Tier("hypodiploidy", "hypodiploidy", True, PLOIDY_MISSING),
    Tier(IAMP21, "iamp21", True, request_for(IAMP21), IAMP21),
    Tier("high hyperdiploidy", "high_hyperdiploidy", True, PLOIDY_MISSING),
    Tier("BCR::ABL1-like features", "bcr_abl1_like", False),
    Tier("ETV6::RUNX1-like features", "etv6_runx1_like", False),
    Tier("other defined genetic abnormality", "other_defined", False),
)
ICC_B = {
    "bcr_abl1": "icc_b_all_bcr_abl1", "kmt2a": "icc_b_all_kmt2a", "etv6_runx1": "icc_b_all_etv6_runx1",
    "tcf3_pbx1": "icc_b_all_tcf3_pbx1", "tcf3_hlf": "icc_b_all_hlf", "igh_il3": "icc_b_all_igh_il3",
    "iamp21": "icc_b_all_iamp21", "high_hyperdiploidy": "icc_b_all_hyperdiploid",
    "bcr_abl1_like": "icc_b_all_bcr_abl1_like", "etv6_runx1_like": "icc_b_all_etv6_runx1_like",
}
MPAL_WHO = {"B/myeloid": "mpal_b_myeloid", "T/myeloid": "mpal_t_myeloid", "B/T": "mpal_other", "B/T/myeloid": "mpal_other"}
MPAL_ICC = {"B/myeloid": "icc_mpal_b_myeloid", "T/myeloid": "icc_mpal_t_myeloid", "B/T": "icc_mpal_rare",
            "B/T/myeloid": "icc_mpal_rare"}


@dataclass(frozen=True)
class TierState:
    status: str  # detected | negative | untested | conflicting | uncertain
    evidence: list[EvidenceRef] = field(default_factory=list)
    sides: list[str] = field(default_factory=list)
    detail: str = ""
    note: str = ""


@dataclass(frozen=True)
class Walk:
    kind: str  # found | conflict | uncertain | pending | nos
    tier: Tier | None = None
    state: TierState | None = None
    pending: list[Tier] = field(default_factory=list)
    negative: list[Tier] = field(default_factory=list)
    also: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def stop(self) -> tuple[Tier, TierState]:
        """The tier the walk stopped at and its state: only a found, conflict or uncertain walk has one."""
        if self.tier is None or self.state is None:
            raise ValueError(f"a {self.kind!r} walk did not stop at a tier")
        return self.tier, self.state


EntityKey = tuple[str | None, str | None, list[str], str]
"""What names an entity from a walk: (key, ICC sub-type, extra missing, extra explanation); no key when open."""


@dataclass(frozen=True)
class EntityCall:
    who: Entity
    icc: Entity
    conclusions: list[Conclusion]


# Tier states ----------------------------------------------------------------


def tier_state(tier: Tier, g: GeneticProfile, icc: bool = False) -> TierState:
    if tier.lesion is not None:
        return TierState(g.status(tier.lesion), g.refs(tier.lesion), g.conflicts.get(tier.lesion, []), tier.lesion)
    if tier.key in ("hypodiploidy", "high_hyperdiploidy"):
        p = g.ploidy
        if p.state in ("untested", "conflicting", "uncertain"):
            return TierState(p.state, p.evidence, p.conflicts, p.category or "")
        wanted = "hypodiploid" if tier.key == "hypodiploidy" else "high_hyperdiploid"
        if icc and tier.key == "hypodiploidy" and p.category == "high_hypodiploid":
            return TierState("negative", p.evidence, detail=p.category,
                             note="ICC 2022 has no high-hypodiploid (40-43 chromosome) entity; such a case is classified "
                                  "by its other lesions, or as B-ALL, NOS")
        detail = f"{(p.category or '').replace('_', ' ')}, modal number {p.modal_number}" if p.modal_number else (
            f"DNA index {p.dna_index:g}" if p.dna_index is not None else "")
        return TierState("detected" if p.state == wanted else "negative", p.evidence, detail=detail)
    if tier.key == "bcr_abl1_like":
        excluded = g.status(BCR_ABL1_KEY) == "negative"
        kinases = [lesion for lesion in g.summary.detected if is_kinase_fusion(lesion, excluded)]
        expression = [c for c in g.confident_expression("entity") if c.value == "BCR::ABL1-like"]
        if kinases or expression:
            refs = g.refs(*kinases) + [c.ref for c in expression]
            return TierState("detected", refs, detail=", ".join(kinases + [c.text for c in expression]))
        conflicting = [lesion for lesion in g.conflicts if is_kinase_fusion(lesion, excluded)]
        if conflicting:
            return TierState("conflicting", g.refs(*conflicting), g.conflicts[conflicting[0]], conflicting[0])
        return TierState("negative")
    if tier.key == "etv6_runx1_like":
        expression = [c for c in g.confident_expression("entity") if c.value == "ETV6::RUNX1-like"]
        if expression:
            return TierState("detected", [c.ref for c in expression], detail=expression[0].text)
        return TierState("negative")
    found = [lesion for lesion in OTHER_DEFINED if g.status(lesion) == "detected"]
    expression = [c for c in g.confident_expression("entity") if c.value in PROVISIONAL_EXPRESSION]
    if found or expression:
        return TierState("detected", g.refs(*found) + [c.ref for c in expression],
                         detail=", ".join(found + [c.value for c in expression if c.value is not None]))
    conflicting = [lesion for lesion in OTHER_DEFINED if lesion in g.conflicts]
    if conflicting:
        return TierState("conflicting", g.refs(*conflicting), g.conflicts[conflicting[0]], conflicting[0])
    return TierState("negative")


TierStates = dict[tuple[str, bool], TierState]
"""The state of each tier already read for one genetic profile, by tier key and whether ICC's reading applies."""


def walk(tiers: tuple[Tier, ...], g: GeneticProfile, icc: bool = False, known: TierStates | None = None) -> Walk:
    """Go down the precedence list; stop at the first detected, contradictory or masked tier.

    ``known``: the tier states of ``g`` read by an earlier walk (the WHO and ICC walks share them: they
    read a tier differently only for hypodiploidy); each tier is read once.
    """
    known = {} if known is None else known

    def state_of(tier: Tier) -> TierState:
        key = (tier.key, icc and tier.key == "hypodiploidy")
        state = known.get(key)
        if state is None:
            state = known[key] = tier_state(tier, g, icc)
        return state

    pending: list[Tier] = []
    negative: list[Tier] = []
    notes: list[str] = []
    for position, tier in enumerate(tiers):
        state = state_of(tier)
        if state.note:
            notes.append(state.note)
        if state.status == "detected":
            also = [t.label for t in tiers[position + 1:] if state_of(t).status == "detected"]
            return Walk("found", tier, state, pending, negative, also, notes)
        if state.status in ("conflicting", "uncertain"):
            kind = "conflict" if state.status == "conflicting" else "uncertain"
            return Walk(kind, tier, state, pending, negative, notes=notes)
        if state.status == "untested" and tier.required:
            if all(p.missing != tier.missing for p in pending):
                pending.append(tier)
        elif state.status == "negative" and tier.required:
            negative.append(tier)
    return Walk("pending" if pending else "nos", pending=pending, negative=negative, notes=notes)


# Entities --------------------------------------------------------------------


def classify_entity(disease: DiseaseCall, lineage: str | None, etp: EtpCall | None, g: GeneticProfile) -> EntityCall:
    if disease.disease == "not_ALL":
        return _not_applicable(disease)
    if not disease.neoplasm or lineage is None:
        missing = disease.missing or ["diagnosis of a lymphoblastic neoplasm"]
        why = "the entity is named once a lymphoblastic neoplasm is established: " + "; ".join(missing)
        return EntityCall(
            Entity(missing=missing), Entity(missing=missing),
            [undetermined(WHO_TOPIC, WHO_RULE, WHO_SOURCE, missing, why),
             undetermined(ICC_TOPIC, ICC_RULE, ICC_SOURCE, missing, why)],
        )
    if lineage == "B":
        return _b_entity(g)
    if lineage == "T":
        return _t_entity(etp, g)
    return _mpal_entity(lineage, g)


def _not_applicable(disease: DiseaseCall) -> EntityCall:
    why = "not ALL: no lymphoblastic entity applies"
    return EntityCall(Entity(), Entity(), [
        Conclusion(topic=WHO_TOPIC, value=None, determined=True, rule=WHO_RULE, source=WHO_SOURCE, explanation=why,
                   evidence=disease.conclusion.evidence),
        Conclusion(topic=ICC_TOPIC, value=None, determined=True, rule=ICC_RULE, source=ICC_SOURCE, explanation=why,
                   evidence=disease.conclusion.evidence),
    ])


def _b_entity(g: GeneticProfile) -> EntityCall:
    known: TierStates = {}
    who_walk, icc_walk = walk(B_TIERS, g, known=known), walk(B_TIERS, g, icc=True, known=known)
    who = _from_walk(who_walk, WHO_TOPIC, WHO_RULE, WHO_SOURCE, _who_b_key, WHO_NAMES, g)
    icc = _from_walk(icc_walk, ICC_TOPIC, ICC_RULE, ICC_SOURCE, lambda w: _icc_b_key(w, g), ICC_NAMES, g)
    return EntityCall(who[0], icc[0], [who[1], icc[1]])


def _who_b_key(w: Walk) -> EntityKey:
    key = "b_all_nos" if w.kind == "nos" else f"b_all_{w.stop[0].key}"
    return key, None, [], ""


def _icc_b_key(w: Walk, g: GeneticProfile) -> EntityKey:
    """(key, subtype, extra missing, extra explanation) for the ICC entity."""
    if w.kind == "nos":
        return "icc_b_all_nos", None, [], ""
    stopped, state = w.stop
    tier = stopped.key
    if tier == "bcr_abl1":
        subtype, text = bcr_abl1_involvement(g)
        return "icc_b_all_bcr_abl1", subtype, [] if subtype else [MULTILINEAGE_MISSING], text
    if tier == "hypodiploidy":
        category = g.ploidy.category
        if category == "near_haploid":
            return "icc_b_all_near_haploid", None, [], ""
        if category == "low_hypodiploid":
            return "icc_b_all_low_hypodiploid", None, [], ""
        return None, None, [ICC_HYPO_MISSING], "hypodiploid by DNA index only: ICC separates near-haploid from low hypodiploid"
    if tier == "bcr_abl1_like":
        detected = g.summary.detected
        if any(is_abl_class(lesion, g.status(BCR_ABL1_KEY) == "negative") for lesion in detected):
            return "icc_b_all_bcr_abl1_like", "abl_class", [], ""
        if any(is_jak_stat(lesion) for lesion in detected):
            return "icc_b_all_bcr_abl1_like", "jak_stat", [], ""
        return "icc_b_all_bcr_abl1_like", "nos", [], "no ABL-class or JAK-STAT lesion reported"
    if tier == "other_defined":
        first = state.detail.split(", ")[0]
        return ICC_OTHER_DEFINED[first], None, [], ""
    return ICC_B[tier], None, [], ""


def bcr_abl1_involvement(g: GeneticProfile) -> tuple[str | None, str]:
    """ICC BCR::ABL1 sub-type from a result on sorted non-lymphoid cells, when one exists."""
    found, absent = False, False
    for item in g.findings:
        f = item.finding
        if f.type != "genetics" or not describes_non_lymphoid_cells(" ".join(filter(None, [f.source, f.note]))):
            continue
        found |= BCR_ABL1_KEY in f.fusions
        absent |= BCR_ABL1_KEY in f.negative
    if found and not absent:
        return "multilineage", "BCR::ABL1 also found in non-lymphoid cells: multilineage involvement"
    if absent and not found:
        return "lymphoid_only", "BCR::ABL1 not found in sorted non-lymphoid cells: lymphoid-only involvement"
    if found and absent:
        return None, "BCR::ABL1 reported both present and absent in non-lymphoid cells"
    return None, "no BCR::ABL1 result on sorted non-lymphoid cells: lymphoid-only vs multilineage open"


def _from_walk(w: Walk, topic: str, rule: str, source: str, keyer: Callable[[Walk], EntityKey],
               names: Mapping[str, str], g: GeneticProfile) -> tuple[Entity, Conclusion]:
    notes = " ".join(n + "." for n in dict.fromkeys(w.notes))
    if w.kind == "conflict":
        tier, state = w.stop
        sides = state.sides or [f"{tier.label}: contradictory results"]
        conclusion = contradictory(topic, rule, source, [f"{tier.label}: {s}" for s in sides], state.evidence)
        return Entity(missing=conclusion.missing), conclusion
    if w.kind == "uncertain":
        why = (f"possible masked hypodiploidy: neither 'with hypodiploidy' nor 'high hyperdiploidy' can be assigned "
               f"until a doubled hypodiploid clone is excluded. {notes}").strip()
        return Entity(missing=[MASKED_MISSING]), undetermined(topic, rule, source, [MASKED_MISSING], why, w.stop[1].evidence)
    if w.kind == "pending":
        missing = [t.missing for t in w.pending]
        tested = ", ".join(t.label for t in w.negative) or "none"
        why = (f"no defining lesion found, but NOS needs every defining lesion tested; tested negative: {tested}; "
               f"not tested: {'; '.join(missing)}. {notes}").strip()
        return Entity(missing=missing), undetermined(topic, rule, source, missing, why, g.refs(*g.summary.negative))
    key, subtype, extra_missing, extra = keyer(w)
    pending = [t.missing for t in w.pending]
    if key is None:
        missing = extra_missing + pending
        return Entity(missing=missing), undetermined(topic, rule, source, missing, f"{extra}. {notes}".strip(), w.stop[1].evidence)
    name = names[key]
    subtype_name = ICC_SUBTYPE_NAMES.get(subtype) if subtype else None
    missing = pending + extra_missing
    if w.kind == "nos":
        text = (f"{name}: every defining lesion tested and not found "
                f"({', '.join(t.label for t in w.negative)})")
        evidence = g.refs(*g.summary.negative) + list(g.ploidy.evidence)
    else:
        tier, state = w.stop
        detail = state.detail
        text = f"{name}: {tier.label} ({detail})" if detail and detail != tier.label else f"{name}: {tier.label}"
        evidence = list(state.evidence)
        if pending:
            text += f"; not tested and would take precedence if present: {'; '.join(pending)}"
        if w.also:
            text += f"; also present, lower precedence (still listed): {', '.join(w.also)}"
    if subtype_name:
        text += f"; sub-type {subtype_name}"
    if extra:
        text += f"; {extra}"
    if notes:
        text += f". {notes}"
    entity = Entity(key=key, name=name, subtype=subtype, subtype_name=subtype_name, determined=True, missing=missing)
    conclusion = Conclusion(topic=topic, value=key, determined=True, rule=rule, source=source, explanation=text,
                            evidence=_unique(evidence), missing=missing)
    return entity, conclusion


def _unique(refs: list[EvidenceRef]) -> list[EvidenceRef]:
    return list({(r.index, r.summary): r for r in refs}.values())


def _t_entity(etp: EtpCall | None, g: GeneticProfile) -> EntityCall:
    evidence = etp.conclusion.evidence if etp else []
    if etp is None or etp.value is None:
        missing = etp.missing if etp else ["ETP-defining markers"]
        why = "T-lymphoblastic: ETP-ALL or T-ALL, NOS depends on the undetermined ETP call"
        return EntityCall(Entity(missing=missing), Entity(missing=missing), [
            undetermined(WHO_TOPIC, WHO_RULE, WHO_HAEM5, missing, why, evidence),
            undetermined(ICC_TOPIC, ICC_RULE, ICC_2022, missing, why, evidence),
        ])
    if etp.value == "etp":
        who_key = "etp_all"
        bcl11b = g.status("BCL11B_rearrangement")
        if bcl11b == "conflicting":
            sides = g.conflicts["BCL11B_rearrangement"]
            icc_conclusion = contradictory(ICC_TOPIC, ICC_RULE, ICC_2022, sides, g.refs("BCL11B_rearrangement"))
            icc = Entity(missing=icc_conclusion.missing)
        else:
            icc_key = "icc_etp_all_bcl11b" if bcl11b == "detected" else "icc_etp_all_nos"
            why = ("BCL11B rearrangement/activation detected" if bcl11b == "detected" else
                   "no BCL11B rearrangement reported (BCL11B testing is not required for ETP-ALL, NOS)")
            icc = Entity(key=icc_key, name=ICC_NAMES[icc_key], determined=True)
            icc_conclusion = Conclusion(topic=ICC_TOPIC, value=icc_key, determined=True, rule=ICC_RULE, source=ICC_2022,
                                        explanation=f"{ICC_NAMES[icc_key]}: ETP immunophenotype; {why}",
                                        evidence=evidence + g.refs("BCL11B_rearrangement"))
    else:
        who_key, icc_key = "t_all_nos", "icc_t_all_nos"
        icc = Entity(key=icc_key, name=ICC_NAMES[icc_key], determined=True)
        icc_conclusion = Conclusion(topic=ICC_TOPIC, value=icc_key, determined=True, rule=ICC_RULE, source=ICC_2022,
                                    explanation=f"{ICC_NAMES[icc_key]}: T lineage, {etp.value.replace('_', '-')} "
                                                "(near-ETP is not a separate entity)", evidence=evidence)
    who = Entity(key=who_key, name=WHO_NAMES[who_key], determined=True)
    who_conclusion = Conclusion(topic=WHO_TOPIC, value=who_key, determined=True, rule=WHO_RULE, source=WHO_HAEM5,
                                explanation=f"{WHO_NAMES[who_key]}: T lineage, ETP call {etp.value}", evidence=evidence)
    return EntityCall(who, icc, [who_conclusion, icc_conclusion])


def _mpal_entity(lineage: str, g: GeneticProfile) -> EntityCall:
    w = walk((BCR_ABL1, KMT2A), g)
    who_map = {"bcr_abl1": "mpal_bcr_abl1", "kmt2a": "mpal_kmt2a"}
    icc_map = {"bcr_abl1": "icc_mpal_bcr_abl1", "kmt2a": "icc_mpal_kmt2a"}

    def who_key(x: Walk) -> EntityKey:
        return (MPAL_WHO[lineage] if x.kind == "nos" else who_map[x.stop[0].key]), None, [], ""

    def icc_key(x: Walk) -> EntityKey:
        return (MPAL_ICC[lineage] if x.kind == "nos" else icc_map[x.stop[0].key]), None, [], ""

    who = _from_walk(w, WHO_TOPIC, WHO_RULE, WHO_SOURCE, who_key, WHO_NAMES, g)
    icc = _from_walk(w, ICC_TOPIC, ICC_RULE, ICC_SOURCE, icc_key, ICC_NAMES, g)
    return EntityCall(who[0], icc[0], [who[1], icc[1]])
