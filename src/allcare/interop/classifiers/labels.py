"""Classifier labels -> allcare's expression-subtype vocabulary and WHO-HAEM5 / ICC entity keys.

Each RNA-seq classifier spells its groups its own way (ALLSorts ``Ph-like``,
ALLCatchR ``BCR::ABL1-like``, MD-ALL ``PhG``-style short names ...). They are
folded (case, punctuation and spaces ignored) onto one label the engine's
expression rules understand (``engine/diagnosis/lesions.py``), and each label
is paired with the entity it points to.

``confirm`` marks groups whose entity is defined by a lesion the classifier only
suggests (BCR::ABL1, ETV6::RUNX1, a ploidy group ...): the engine then needs it
shown by karyotype, FISH, RT-PCR or DNA index. Meta-groups (ALLSorts ``Ph Group``,
``KMT2A Group``) and groups without a confirmed entity (``BCL2/MYC``, ``Low
hyperdiploid``, the T-ALL groups) keep labels the engine reports but does not
classify on: a call is never promoted to an entity it does not name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class LabelMapping:
    subtype: str  # written to genetics.expression_subtype
    who_haem5: str | None
    icc_2022: str | None
    confirm: bool = False
    note: str = ""


def fold(label: str) -> str:
    return re.sub(r"[^a-z0-9]", "", label.lower())


_O = "b_all_other_defined"
_B_ALL: list[tuple[LabelMapping, tuple[str, ...]]] = [
    (LabelMapping("BCR::ABL1", "b_all_bcr_abl1", "icc_b_all_bcr_abl1", True), ("Ph", "BCR::ABL1", "BCR-ABL1", "Ph-positive", "Ph-pos")),
    (LabelMapping("BCR::ABL1-like", "b_all_bcr_abl1_like", "icc_b_all_bcr_abl1_like"), ("Ph-like", "BCR::ABL1-like", "BCR-ABL1-like", "Philadelphia-like")),
    (LabelMapping("ETV6::RUNX1", "b_all_etv6_runx1", "icc_b_all_etv6_runx1", True), ("ETV6-RUNX1", "ETV6::RUNX1")),
    (LabelMapping("ETV6::RUNX1-like", "b_all_etv6_runx1_like", "icc_b_all_etv6_runx1_like"), ("ETV6-RUNX1-like", "ETV6::RUNX1-like")),
    (LabelMapping("KMT2A-r", "b_all_kmt2a", "icc_b_all_kmt2a", True), ("KMT2A", "KMT2A-r", "KMT2A rearranged", "MLL")),
    (LabelMapping("TCF3::PBX1", "b_all_tcf3_pbx1", "icc_b_all_tcf3_pbx1", True), ("TCF3-PBX1", "TCF3::PBX1")),
    (LabelMapping("HLF-r", "b_all_tcf3_hlf", "icc_b_all_hlf", True, "WHO-HAEM5 names TCF3::HLF: the partner needs confirming"), ("HLF", "TCF3-HLF", "TCF3::HLF")),
    (LabelMapping("DUX4-r", _O, "icc_b_all_dux4"), ("DUX4", "DUX4-r")),
    (LabelMapping("MEF2D-r", _O, "icc_b_all_mef2d"), ("MEF2D", "MEF2D-r")),
    (LabelMapping("ZNF384-r", _O, "icc_b_all_znf384"), ("ZNF384", "ZNF384-r")),
    (LabelMapping("NUTM1-r", _O, "icc_b_all_nutm1"), ("NUTM1", "NUTM1-r")),
    (LabelMapping("PAX5alt", _O, "icc_b_all_pax5alt"), ("PAX5alt", "PAX5 alteration")),
    (LabelMapping("PAX5 P80R", _O, "icc_b_all_pax5_p80r"), ("PAX5 P80R", "PAX5-P80R")),
    (LabelMapping("IKZF1 N159Y", _O, "icc_b_all_ikzf1_n159y"), ("IKZF1 N159Y", "IKZF1-N159Y")),
    (LabelMapping("CDX2/UBTF", _O, "icc_b_all_ubtf_atxn7l3"), ("CDX2/UBTF", "UBTF::ATXN7L3", "CDX2-UBTF")),
    (LabelMapping("ZEB2/CEBPE", _O, "icc_b_all_zeb2_cebpe"), ("ZEB2/CEBPE", "CEBP/ZEB2", "ZEB2/CEBP", "CEBPE/ZEB2", "CEBP")),
    (LabelMapping("ZNF384-like", _O, "icc_b_all_znf384_like"), ("ZNF384-like",)),
    (LabelMapping("KMT2A-like", _O, "icc_b_all_kmt2a_like"), ("KMT2A-like",)),
    (LabelMapping("iAMP21", "b_all_iamp21", "icc_b_all_iamp21", True), ("iAMP21",)),
    (LabelMapping("High hyperdiploid", "b_all_high_hyperdiploidy", "icc_b_all_hyperdiploid", True),
     ("High hyperdiploid", "Hyperdiploid", "HeH", "High hyperdiploidy")),
    (LabelMapping("Low hypodiploid", "b_all_hypodiploidy", "icc_b_all_low_hypodiploid", True), ("Low hypodiploid", "Low hypo")),
    (LabelMapping("Near haploid", "b_all_hypodiploidy", "icc_b_all_near_haploid", True), ("Near haploid", "Near.haploid", "NH")),
    (LabelMapping("Low hyperdiploid", None, None, note="47-50 chromosomes: not an entity"), ("Low hyperdiploid",)),
    (LabelMapping("BCL2/MYC", None, None, note="no WHO-HAEM5/ICC entity confirmed for this group"), ("BCL2/MYC", "MYC/BCL2")),
    (LabelMapping("Ph group (BCR::ABL1 or BCR::ABL1-like)", None, None, note="meta-group: names no single entity"), ("Ph Group",)),
    (LabelMapping("ETV6::RUNX1 group (fusion or -like)", None, None, note="meta-group: names no single entity"), ("ETV6-RUNX1 Group",)),
    (LabelMapping("KMT2A group (KMT2A-r or KMT2A-like)", None, None, note="meta-group: names no single entity"), ("KMT2A Group",)),
    (LabelMapping("ZNF384 group (ZNF384-r or ZNF384-like)", _O, None, note="meta-group: WHO other defined, ICC entity not determined"),
     ("ZNF384 Group",)),
    (LabelMapping("Hyperdiploid signature group", None, None, note="meta-group: names no single entity"), ("High Sig",)),
    (LabelMapping("Unclassified", None, None, note="the classifier made no call"), ("Unclassified", "Unassigned", "unknown", "Other", "Others")),
]

_T_NOTE = "WHO-HAEM5 has no genetic T-ALL entities (T-ALL NOS or ETP-ALL by immunophenotype); ICC lists these as provisional"
_T_ALL: list[tuple[LabelMapping, tuple[str, ...]]] = [
    (LabelMapping("T-ALL BCL11B-activated", None, "icc_etp_all_bcl11b", True,
                  "ICC ETP-ALL with BCL11B activation needs an ETP immunophenotype and the rearrangement shown"), ("BCL11B",)),
    (LabelMapping("T-ALL TAL/LMO", None, None, note=_T_NOTE), ("TAL/LMO", "TAL", "TAL1")),
    (LabelMapping("T-ALL TAL2", None, None, note=_T_NOTE + "; a sub-group of TAL/LMO"), ("TAL2",)),
    (LabelMapping("T-ALL TLX1", None, None, note=_T_NOTE), ("TLX1",)),
    (LabelMapping("T-ALL TLX3", None, None, note=_T_NOTE), ("TLX3",)),
    (LabelMapping("T-ALL HOXA (KMT2A)", None, None, note=_T_NOTE + "; KMT2A-r needs confirming"), ("HOXA_KMT2A",)),
    (LabelMapping("T-ALL HOXA (MLLT10)", None, None, note=_T_NOTE), ("HOXA_MLLT10",)),
    (LabelMapping("T-ALL NKX2", None, None, note=_T_NOTE), ("NKX2", "NKX2-1")),
    (LabelMapping("T-ALL diverse", None, None, note=_T_NOTE), ("Diverse",)),
    (LabelMapping("Unclassified", None, None, note="the classifier made no call"), ("Unclassified",)),
]

# MD-ALL's expression (GEP) calls, PhenoGraph and SVM, name four groups that hold a fusion AND its phenocopy:
# its own summary (R/GEP.R get_subtype_final, like_subtypes) turns a GEP "Ph", "KMT2A", "ZNF384" or
# "ETV6::RUNX1" without the fusion into the "-like" subtype. Read alone, such a call names the group, never the
# fusion; MD-ALL's integrated call (subtype_final_possible) names one or the other and is read with the B-ALL table.
_GROUPS = {mapping.subtype.split(" ")[0].lower(): mapping for mapping, _ in _B_ALL if "meta-group" in mapping.note}
_MDALL_GEP: list[tuple[LabelMapping, tuple[str, ...]]] = [
    (_GROUPS["ph"], ("Ph", "Ph group")), (_GROUPS["kmt2a"], ("KMT2A", "KMT2A group")),
    (_GROUPS["znf384"], ("ZNF384", "ZNF384 group")), (_GROUPS["etv6::runx1"], ("ETV6::RUNX1", "ETV6-RUNX1")),
    *[(mapping, aliases) for mapping, aliases in _B_ALL
      if not {"ph", "kmt2a", "znf384", "etv6runx1"} & {fold(alias) for alias in aliases}],
]

TOOLS = ("allsorts", "allcatchr", "tallsorts", "mdall")
TOOL_NAMES = {"allsorts": "ALLSorts", "allcatchr": "ALLCatchR", "tallsorts": "TALLSorts", "mdall": "MD-ALL"}


def _table(rows: list[tuple[LabelMapping, tuple[str, ...]]]) -> dict[str, LabelMapping]:
    return {fold(alias): mapping for mapping, aliases in rows for alias in aliases}


_ROWS = {"allsorts": _B_ALL, "allcatchr": _B_ALL, "mdall": _B_ALL, "mdall:gep": _MDALL_GEP, "tallsorts": _T_ALL}
_BY_TOOL = {name: _table(rows) for name, rows in _ROWS.items()}


def map_label(tool: str, label: str, scheme: str = "") -> LabelMapping | None:
    """The mapping of one tool label (None for a label the table does not know: kept as written).

    ``scheme`` names another table of the same tool (MD-ALL ``gep``: its expression-only calls).
    """
    return _BY_TOOL[f"{tool}:{scheme}" if scheme else tool].get(fold(label))


def label_table(tool: str, scheme: str = "") -> list[tuple[str, LabelMapping]]:
    """Every alias the tool's table knows (for docs and tests)."""
    return [(alias, mapping) for mapping, aliases in _ROWS[f"{tool}:{scheme}" if scheme else tool] for alias in aliases]
