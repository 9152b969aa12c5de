"""Lineage of the blasts (WHO 2016 MPAL criteria with WHO-HAEM5 refinements) and maturation stage.

Two levels of strictness, as the reference asks (the MPAL criteria "apply only
when MPAL is in question"):

* a single lineage is called on ordinary evidence: B = CD19 with one of
  cCD79a / CD22 / CD10 (or, without CD19, three of them); T = cytoplasmic or
  surface CD3; myeloid = MPO or two monocytic markers;
* when more than one lineage has evidence, each lineage must meet the WHO
  intensity criteria (strong CD19 + one strongly expressed support, weak CD19 +
  two; T = strong cCD3 or surface CD3; myeloid = MPO in part of the blasts at
  least half as intense as in mature neutrophils, WHO-HAEM5, or two monocytic
  markers). "bright" reads as strong and "dim" as weak. An intensity that was not
  reported is unknown: the rule is evaluated for the best and the worst case,
  and when they disagree the lineage is undetermined and the intensity is
  listed as missing, never guessed.

ETP takes precedence over T/myeloid MPAL when the myeloid call rests on
monocytic markers with MPO below the ETP cut-off.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import msgspec

from ..assessment import BStage, Lineage, TStage
from ..explain import Conclusion, EvidenceRef, conclude, contradictory, undetermined
from ..sources import ETP_DEF, ICC_2022, MATURATION_STAGES, WHO_2016, WHO_2016_MPAL, WHO_HAEM5, decision
from .etp import EtpCall
from .phenotype import Phenotype

TOPIC = "diagnosis.lineage"
MONOCYTIC = ("NSE", "CD11c", "CD14", "CD64", "lysozyme")
B_SUPPORTS = ("cCD79a", "cCD22", "CD10")
_ORDER = ("B", "T", "myeloid")
_LINEAGE_TEXT: dict[tuple[str, ...], Lineage] = {
    ("B",): "B", ("T",): "T", ("B", "myeloid"): "B/myeloid", ("T", "myeloid"): "T/myeloid",
    ("B", "T"): "B/T", ("B", "T", "myeloid"): "B/T/myeloid",
}


@dataclass(frozen=True)
class LineageCall:
    lineage: Lineage | None
    conclusion: Conclusion
    myeloid_only: bool = False
    mature_b: bool | None = False
    mature_b_conclusion: Conclusion | None = None
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Support:
    name: str
    positive: bool | None
    strong: bool | None


def b_supports(p: Phenotype) -> list[_Support]:
    """cCD79a, cCD22 (surface CD22 accepted) and CD10, with PAX5 standing in for an absent CD10."""
    cd22 = "cCD22" if p.tested("cCD22") else "CD22"
    supports = [_Support("cCD79a", p.positive("cCD79a"), p.strong("cCD79a")), _Support(cd22, p.positive(cd22), p.strong(cd22))]
    if p.positive("CD10") is not True and p.positive("PAX5") is True:
        supports.append(_Support("PAX5", True, p.strong("PAX5")))
    else:
        supports.append(_Support("CD10", p.positive("CD10"), p.strong("CD10")))
    return supports


def b_ordinary(p: Phenotype) -> bool:
    """B lineage outside an MPAL question."""
    supports = b_supports(p)
    positives = sum(s.positive is True for s in supports)
    if p.positive("CD19") is True:
        untested = all(s.positive is None for s in supports)
        return positives >= 1 or untested
    return positives >= 3


def _b_who(cd19_pos: bool, cd19_strong: bool, strong_supports: int, positive_supports: int) -> bool:
    if cd19_pos and cd19_strong:
        return strong_supports >= 1
    if cd19_pos:
        return strong_supports >= 2
    return positive_supports >= 3


def b_who(p: Phenotype) -> bool | None:
    """WHO MPAL B criteria, three-valued: None when unreported intensities decide it."""
    supports = b_supports(p)
    cd19_pos, cd19_strong = p.positive("CD19"), p.strong("CD19")
    worst = _b_who(
        cd19_pos is True, cd19_pos is True and cd19_strong is True,
        sum(s.positive is True and s.strong is True for s in supports),
        sum(s.positive is True for s in supports),
    )
    best = _b_who(
        cd19_pos is not False, cd19_pos is not False and cd19_strong is not False,
        sum(s.positive is not False and s.strong is not False for s in supports),
        sum(s.positive is not False for s in supports),
    )
    return worst if worst == best else None


def t_ordinary(p: Phenotype) -> bool:
    return p.positive("cCD3") is True or p.positive("sCD3") is True


def t_who(p: Phenotype) -> bool | None:
    ccd3, strong, scd3 = p.positive("cCD3"), p.strong("cCD3"), p.positive("sCD3")
    worst = scd3 is True or (ccd3 is True and strong is True)
    best = scd3 is not False or (ccd3 is not False and strong is not False)
    return worst if worst == best else None


def myeloid_by_mpo(p: Phenotype) -> bool:
    return p.positive("MPO") is True


def myeloid_who(p: Phenotype) -> bool | None:
    """WHO-HAEM5 myeloid lineage when MPAL is in question, three-valued.

    MPO counts only when it reaches at least half the intensity of mature
    neutrophils in part of the blasts (recorded as a 'strong' or 'bright' MPO);
    a weak or dim MPO does not make a T- or B-ALL mixed phenotype. Monocytic
    differentiation (two of NSE, CD11c, CD14, CD64, lysozyme) still counts.
    None when MPO is positive but its intensity was not reported.
    """
    if sum(p.positive(m) is True for m in MONOCYTIC) >= 2:
        return True
    if p.positive("MPO") is not True:
        return False
    strong = p.strong("MPO")
    return strong


def myeloid(p: Phenotype) -> bool:
    return myeloid_by_mpo(p) or sum(p.positive(m) is True for m in MONOCYTIC) >= 2


DISPUTED_READINGS_MAX = 6
"""Disputed markers read every way (2^n lineage calls); more than this many is contradictory outright."""


def assign_lineage(p: Phenotype, etp: EtpCall | None) -> LineageCall:
    """Lineage string (B, T, B/myeloid, ...) or None with what would decide it.

    A marker that the work-up's reports give both positive and negative is left out; when the
    lineage turns on it (read positive and read negative give different calls) the lineage is
    contradictory and decides nothing.
    """
    if not p.present and not p.disputed:
        return LineageCall(None, undetermined(
            TOPIC, "DX.LINEAGE.NO_IMMUNOPHENOTYPE", WHO_2016_MPAL, ["flow cytometry immunophenotype"],
            "no immunophenotype before treatment: the lineage of the blasts is unknown",
        ), missing=["flow cytometry immunophenotype"])
    if p.disputed and not _same_call_however_read(p, etp):
        missing = ["a repeat or confirmatory immunophenotype of the disputed markers: " + ", ".join(p.disputed)]
        conflict = contradictory(TOPIC, "DX.LINEAGE.CONFLICT", WHO_2016_MPAL, p.conflicts,
                                 p.ref(*p.markers) + _disputed_refs(p), value=None)
        return LineageCall(None, msgspec.structs.replace(conflict, missing=missing), missing=missing)
    return _assign_lineage(p, etp)


def _same_call_however_read(p: Phenotype, etp: EtpCall | None) -> bool:
    names = list(p.disputed)
    if len(names) > DISPUTED_READINGS_MAX:
        return False
    calls = set()
    for reading in itertools.product(("positive", "negative"), repeat=len(names)):
        call = _assign_lineage(p.resolved(dict(zip(names, reading, strict=True))), etp)
        calls.add((call.lineage, call.myeloid_only, call.conclusion.determined))
    return len(calls) == 1


def _disputed_refs(p: Phenotype) -> list[EvidenceRef]:
    return [m.source.ref(f"{name} disputed") for name, m in p.disputed.items()]


def _assign_lineage(p: Phenotype, etp: EtpCall | None) -> LineageCall:
    if not p.present:
        return LineageCall(None, undetermined(
            TOPIC, "DX.LINEAGE.NONE_MET", WHO_2016_MPAL, ["lineage markers (CD19, cCD79a, CD22, CD10, cCD3, MPO)"],
            "only disputed markers were reported", [],
        ), missing=["lineage markers (CD19, cCD79a, CD22, CD10, cCD3, MPO)"])
    mature, mature_conclusion = mature_b(p)
    evidence = p.ref(*p.markers)
    ordinary = {"B": b_ordinary(p), "T": t_ordinary(p), "myeloid": myeloid(p)}
    candidates = [name for name in _ORDER if ordinary[name]]
    note = "" if p.tested("MPO") else " MPO was not reported, so myeloid involvement is not excluded."
    if p.conflicts:
        note += " Markers reported both positive and negative were left out: " + "; ".join(p.conflicts) + "."
    if not candidates:
        missing = ["lineage markers (CD19, cCD79a, CD22, CD10, cCD3, MPO)"]
        return LineageCall(None, undetermined(
            TOPIC, "DX.LINEAGE.NONE_MET", WHO_2016_MPAL, missing,
            "no B, T or myeloid lineage criterion is met by the reported markers." + note, evidence,
        ), mature_b=mature, mature_b_conclusion=mature_conclusion, missing=missing)
    if candidates == ["myeloid"]:
        return LineageCall(None, conclude(
            TOPIC, "myeloid", "DX.LINEAGE.MYELOID_ONLY", WHO_2016_MPAL,
            "myeloid lineage only (MPO or monocytic markers) and no B or T lineage: not a lymphoblastic leukaemia",
            evidence,
        ), myeloid_only=True, mature_b=mature, mature_b_conclusion=mature_conclusion)
    if len(candidates) == 1:
        lineage = _LINEAGE_TEXT[(candidates[0],)]  # B or T (myeloid alone is handled above)
        why = {
            "B": "CD19 with cCD79a/CD22/CD10 (or three of them without CD19)",
            "T": "cytoplasmic or surface CD3",
        }[lineage]
        return LineageCall(lineage, conclude(
            TOPIC, lineage, "DX.LINEAGE.SINGLE", WHO_2016_MPAL,
            f"{lineage} lineage: {why}; no other lineage criterion met." + note, evidence,
        ), mature_b=mature, mature_b_conclusion=mature_conclusion)
    return _mixed(p, candidates, etp, evidence, note, mature, mature_conclusion)


def _mixed(p: Phenotype, candidates: list[str], etp: EtpCall | None, evidence: list[EvidenceRef], note: str,
           mature: bool | None, mature_conclusion: Conclusion | None) -> LineageCall:
    """More than one lineage has evidence: apply the WHO MPAL criteria strictly."""
    strict = {"B": b_who(p) if "B" in candidates else False, "T": t_who(p) if "T" in candidates else False}
    strict["myeloid"] = myeloid_who(p) if "myeloid" in candidates else False
    unknown = [name for name in ("B", "T", "myeloid") if strict[name] is None]
    if unknown:
        missing = []
        if "B" in unknown:
            missing.append("CD19, cCD79a, cCD22 and CD10 intensity (strong vs weak) for MPAL B-lineage assignment")
        if "T" in unknown:
            missing.append("cCD3 intensity (strong vs weak) or surface CD3 for MPAL T-lineage assignment")
        if "myeloid" in unknown:
            missing.append("MPO intensity (strong: at least half that of mature neutrophils, WHO-HAEM5) for MPAL "
                           "myeloid-lineage assignment")
        return LineageCall(None, undetermined(
            TOPIC, "DX.LINEAGE.WHO_MPAL", WHO_2016_MPAL, missing,
            f"evidence for {', '.join(candidates)}: MPAL is in question and the WHO criteria depend on "
            "intensities that were not reported." + note, evidence,
        ), mature_b=mature, mature_b_conclusion=mature_conclusion, missing=missing)
    met = [name for name in _ORDER if strict[name]]
    if met == ["T", "myeloid"] and not (myeloid_by_mpo(p) and p.strong("MPO") is True):
        precedence = _etp_precedence(p, etp, evidence, note, mature, mature_conclusion)
        if precedence is not None:
            return precedence
    lymphoid = [name for name in met if name != "myeloid"]
    if not lymphoid:
        return LineageCall(None, conclude(
            TOPIC, "myeloid", "DX.LINEAGE.MYELOID_ONLY", WHO_2016_MPAL,
            "lymphoid markers do not meet the WHO MPAL criteria next to a myeloid lineage: not a "
            "lymphoblastic leukaemia." + note, evidence,
        ), myeloid_only=True, mature_b=mature, mature_b_conclusion=mature_conclusion)
    lineage = _LINEAGE_TEXT[tuple(met)]
    dropped = [name for name in candidates if name not in met]
    extra = f" ({', '.join(dropped)} evidence does not meet the WHO criteria)" if dropped else ""
    rule = "DX.LINEAGE.WHO_MPAL" if len(met) > 1 else "DX.LINEAGE.SINGLE"
    return LineageCall(lineage, conclude(
        TOPIC, lineage, rule, WHO_2016_MPAL,
        f"WHO MPAL criteria met for {', '.join(met)}{extra}." + note, evidence,
    ), mature_b=mature, mature_b_conclusion=mature_conclusion)


def _etp_precedence(p: Phenotype, etp: EtpCall | None, evidence: list[EvidenceRef], note: str,
                    mature: bool | None, mature_conclusion: Conclusion | None) -> LineageCall | None:
    """T plus MPO-negative monocytic markers: ETP (lineage T), T/myeloid MPAL (None), or undetermined."""
    source = f"{WHO_2016_MPAL}; {ETP_DEF}"
    mpo_low = p.below("MPO", p.rules.etp_mpo_below_pct)
    if mpo_low is False or (etp is not None and etp.value in ("near_etp", "not_etp")):
        return None
    if mpo_low is True and etp is not None and etp.value == "etp":
        return LineageCall("T", conclude(
            TOPIC, "T", "DX.LINEAGE.ETP_PRECEDENCE", source,
            f"T lineage with monocytic markers but MPO below {p.rules.etp_mpo_below_pct:g}%: the ETP "
            "immunophenotype takes precedence over T/myeloid MPAL." + note, evidence,
        ), mature_b=mature, mature_b_conclusion=mature_conclusion)
    missing = list(etp.missing) if etp is not None and etp.missing else []
    if mpo_low is None:
        missing.append("MPO percentage of blasts")
    missing = list(dict.fromkeys(missing)) or ["ETP-defining markers"]
    return LineageCall(None, undetermined(
        TOPIC, "DX.LINEAGE.ETP_PRECEDENCE", source, missing,
        "T lineage with monocytic markers and no MPO-positive blasts: ETP-ALL (lineage T) or T/myeloid MPAL "
        "cannot be told apart yet." + note, evidence,
    ), mature_b=mature, mature_b_conclusion=mature_conclusion, missing=missing)


def mature_b(p: Phenotype) -> tuple[bool | None, Conclusion | None]:
    """Surface Ig with CD19/CD20 and no TdT is a mature B (Burkitt-type) neoplasm, not B-ALL."""
    if p.positive("sIg") is not True or not (p.positive("CD19") is True or p.positive("CD20") is True):
        return False, None
    topic, rule, source = "diagnosis.mature_b", "DX.LINEAGE.MATURE_B", f"{WHO_2016} (Burkitt exclusion); {MATURATION_STAGES}"
    evidence = p.ref("sIg", "CD19", "CD20", "TdT")
    tdt = p.positive("TdT")
    if tdt is None:
        return None, undetermined(
            topic, rule, source, ["TdT (precursor marker) to separate B-ALL from a mature B-cell neoplasm"],
            "surface immunoglobulin on CD19/CD20+ blasts: a mature B-cell (Burkitt-type) neoplasm unless TdT shows "
            "precursor blasts", evidence,
        )
    if tdt is False:
        return True, conclude(
            topic, True, rule, source,
            "surface immunoglobulin with CD19/CD20 and no TdT: mature B-cell (Burkitt-type) phenotype, not B-ALL",
            evidence,
        )
    return False, conclude(
        topic, False, rule, source,
        "surface immunoglobulin but TdT-positive precursor blasts: B-ALL with surface Ig, not a mature B neoplasm",
        evidence,
    )


MYC_PRECURSOR_MISSING = ("TdT and CD34 on the blasts, with surface immunoglobulin light chains (B-ALL with MYC "
                         "rearrangement needs precursor blasts; else a Burkitt lymphoma/leukaemia)")
MYC_REVIEW_MISSING = ("haematopathology review: MYC-rearranged B blasts with neither TdT nor CD34 (Burkitt "
                      "lymphoma/leukaemia unless shown to be precursor blasts)")


def myc_rearranged_b(call: LineageCall, p: Phenotype, myc: list[EvidenceRef]) -> LineageCall:
    """B blasts with a MYC rearrangement: precursor B (ICC's B-ALL with MYC rearrangement) or Burkitt.

    An IG::MYC rearrangement is the hallmark of Burkitt lymphoma, a mature B-cell neoplasm that can present as
    a leukaemia with CD10+ B blasts (WHO-HAEM5). ICC 2022 names B-ALL with MYC rearrangement only for blasts
    of precursor phenotype, so B-ALL is called only when a precursor marker (TdT or CD34) is positive; without
    one the disease stays open (docs/decisions.md#myc-rearranged).
    """
    if call.lineage != "B" or call.mature_b is not False:
        return call
    topic, rule = "diagnosis.mature_b", "DX.LINEAGE.MYC_PRECURSOR"
    source = f"{WHO_HAEM5}; {ICC_2022}; {decision('myc-rearranged')}"
    evidence = [*myc, *p.ref("TdT", "CD34", "sIg", "CD20")]
    markers = {name: p.positive(name) for name in ("TdT", "CD34")}
    shown = [name for name, positive in markers.items() if positive]
    if shown:
        return replace(call, mature_b=False, mature_b_conclusion=conclude(
            topic, False, rule, source,
            f"MYC rearrangement in B blasts that express {' and '.join(shown)} (precursor blasts): B-ALL with MYC "
            "rearrangement, not Burkitt lymphoma/leukaemia", evidence,
        ))
    untested = [name for name, positive in markers.items() if positive is None]
    missing = MYC_PRECURSOR_MISSING if untested else MYC_REVIEW_MISSING
    said = (f"{' and '.join(untested)} not reported" if untested else "TdT and CD34 negative")
    return replace(call, mature_b=None, mature_b_conclusion=undetermined(
        topic, rule, source, [missing],
        f"MYC rearrangement in B blasts with no precursor marker shown ({said}): a Burkitt lymphoma/leukaemia "
        "(mature B-cell neoplasm) until precursor blasts are shown, so B-ALL is not called", evidence,
    ))


# Maturation stage -----------------------------------------------------------


def b_stage(p: Phenotype) -> tuple[BStage | None, Conclusion]:
    """EGIL B-I..B-IV: pro-B (CD10-), common (CD10+), pre-B (cIgM+), mature (sIg+)."""
    topic, rule, source = "diagnosis.b_stage", "DX.STAGE.B_EGIL", MATURATION_STAGES
    evidence = p.ref("sIg", "cIgM", "CD10")
    if p.positive("sIg") is True:
        return "mature_b", conclude(topic, "mature_b", rule, source, "surface immunoglobulin: mature B (B-IV)", evidence)
    if p.positive("cIgM") is True:
        return "pre_b", conclude(topic, "pre_b", rule, source, "cytoplasmic IgM: pre-B (B-III)", evidence)
    cd10 = p.positive("CD10")
    if cd10 is False:
        return "pro_b", conclude(topic, "pro_b", rule, source, "CD10-negative: pro-B (B-I)", evidence)
    if cd10 is True and p.positive("cIgM") is False:
        return "common_b", conclude(topic, "common_b", rule, source, "CD10+ and cytoplasmic IgM-negative: common B (B-II)", evidence)
    missing = ["CD10"] if cd10 is None else ["cytoplasmic IgM (common vs pre-B)"]
    return None, undetermined(topic, rule, source, missing, evidence=evidence)


def t_stage(p: Phenotype) -> tuple[TStage | None, Conclusion]:
    """Pro-T (cCD3, CD7 only) -> pre-T (CD2/CD5/CD8) -> cortical (CD1a) -> mature (sCD3, CD1a-)."""
    topic, rule, source = "diagnosis.t_stage", "DX.STAGE.T_EGIL", MATURATION_STAGES
    evidence = p.ref("CD1a", "sCD3", "CD2", "CD5", "CD8", "CD7")
    cd1a = p.positive("CD1a")
    if cd1a is True:
        return "cortical_t", conclude(topic, "cortical_t", rule, source, "CD1a-positive: cortical T (T-III)", evidence)
    if cd1a is None:
        return None, undetermined(topic, rule, source, ["CD1a"], evidence=evidence)
    intermediate = [p.positive(m) for m in ("CD2", "CD5", "CD8")]
    scd3 = p.positive("sCD3")
    if scd3 is True:
        return "mature_t", conclude(topic, "mature_t", rule, source, "surface CD3 without CD1a: mature T (T-IV)", evidence)
    if all(v is False for v in intermediate):
        return "pro_t", conclude(topic, "pro_t", rule, source, "cCD3 with no CD2, CD5, CD8 or CD1a: pro-T (T-I)", evidence)
    if any(v is True for v in intermediate):
        if scd3 is False:
            return "pre_t", conclude(topic, "pre_t", rule, source, "CD2/CD5/CD8 without CD1a or surface CD3: pre-T (T-II)", evidence)
        return None, undetermined(topic, rule, source, ["surface CD3 (pre-T vs mature T)"], evidence=evidence)
    return None, undetermined(topic, rule, source, ["CD2, CD5 and CD8"], evidence=evidence)
