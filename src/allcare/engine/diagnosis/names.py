"""Entity keys and names, spelled as each classification spells them.

Keys are a contract (stable snake_case read by other tools); names follow
WHO-HAEM5 (Alaggio 2022) and ICC 2022 (Arber 2022; Duffield 2023). The MPAL
names of the ICC and the wording of its provisional B-ALL entities could not
be checked against the primary tables (the ICC papers: Arber et al., Blood 2022; Duffield et al., Virchows Arch 2023).
"""

from __future__ import annotations

_B = "B-lymphoblastic leukaemia/lymphoma"
_MPAL = "Mixed-phenotype acute leukaemia"

WHO_NAMES: dict[str, str] = {
    "b_all_nos": f"{_B}, NOS",
    "b_all_high_hyperdiploidy": f"{_B} with high hyperdiploidy",
    "b_all_hypodiploidy": f"{_B} with hypodiploidy",
    "b_all_iamp21": f"{_B} with iAMP21",
    "b_all_bcr_abl1": f"{_B} with BCR::ABL1 fusion",
    "b_all_bcr_abl1_like": f"{_B} with BCR::ABL1-like features",
    "b_all_kmt2a": f"{_B} with KMT2A rearrangement",
    "b_all_etv6_runx1": f"{_B} with ETV6::RUNX1 fusion",
    "b_all_etv6_runx1_like": f"{_B} with ETV6::RUNX1-like features",
    "b_all_tcf3_pbx1": f"{_B} with TCF3::PBX1 fusion",
    "b_all_igh_il3": f"{_B} with IGH::IL3 fusion",
    "b_all_tcf3_hlf": f"{_B} with TCF3::HLF fusion",
    "b_all_other_defined": f"{_B} with other defined genetic abnormalities",
    "t_all_nos": "T-lymphoblastic leukaemia/lymphoma, NOS",
    "etp_all": "Early T-precursor lymphoblastic leukaemia/lymphoma",
    "mpal_bcr_abl1": f"{_MPAL} with BCR::ABL1 fusion",
    "mpal_kmt2a": f"{_MPAL} with KMT2A rearrangement",
    "mpal_b_myeloid": f"{_MPAL}, B/myeloid",
    "mpal_t_myeloid": f"{_MPAL}, T/myeloid",
    "mpal_other": f"{_MPAL}, rare types",
}

ICC_NAMES: dict[str, str] = {
    "icc_b_all_bcr_abl1": "B-ALL with t(9;22)(q34.1;q11.2)/BCR::ABL1",
    "icc_b_all_kmt2a": "B-ALL with t(v;11q23.3)/KMT2A rearranged",
    "icc_b_all_etv6_runx1": "B-ALL with t(12;21)(p13.2;q22.1)/ETV6::RUNX1",
    "icc_b_all_tcf3_pbx1": "B-ALL with t(1;19)(q23.3;p13.3)/TCF3::PBX1",
    "icc_b_all_igh_il3": "B-ALL with t(5;14)(q31.1;q32.3)/IL3::IGH",
    "icc_b_all_hlf": "B-ALL with HLF rearrangement",
    "icc_b_all_near_haploid": "B-ALL, near haploid",
    "icc_b_all_low_hypodiploid": "B-ALL, low hypodiploid",
    "icc_b_all_iamp21": "B-ALL with iAMP21",
    "icc_b_all_hyperdiploid": "B-ALL, hyperdiploid",
    "icc_b_all_bcr_abl1_like": "B-ALL, BCR::ABL1-like",
    "icc_b_all_etv6_runx1_like": "B-ALL, ETV6::RUNX1-like (provisional)",
    "icc_b_all_dux4": "B-ALL with DUX4 rearrangement",
    "icc_b_all_mef2d": "B-ALL with MEF2D rearrangement",
    "icc_b_all_znf384": "B-ALL with ZNF384(362) rearrangement",
    "icc_b_all_nutm1": "B-ALL with NUTM1 rearrangement",
    "icc_b_all_myc": "B-ALL with MYC rearrangement",
    "icc_b_all_ubtf_atxn7l3": 'B-ALL with UBTF::ATXN7L3/PAN3,CDX2 ("CDX2/UBTF")',
    "icc_b_all_ikzf1_n159y": "B-ALL with mutated IKZF1 N159Y",
    "icc_b_all_pax5_p80r": "B-ALL with mutated PAX5 P80R",
    "icc_b_all_pax5alt": "B-ALL with PAX5 alteration (PAX5alt) (provisional)",
    "icc_b_all_zeb2_cebpe": "B-ALL with mutated ZEB2 (p.H1038R)/IGH::CEBPE (provisional)",
    "icc_b_all_znf384_like": "B-ALL, ZNF384 rearranged-like (provisional)",
    "icc_b_all_kmt2a_like": "B-ALL, KMT2A rearranged-like (provisional)",
    "icc_b_all_nos": "B-ALL, NOS",
    "icc_etp_all_bcl11b": "Early T-cell precursor ALL with BCL11B rearrangement",
    "icc_etp_all_nos": "Early T-cell precursor ALL, NOS",
    "icc_t_all_nos": "T-ALL, NOS",
    "icc_mpal_bcr_abl1": "MPAL with t(9;22)(q34.1;q11.2)/BCR::ABL1",
    "icc_mpal_kmt2a": "MPAL with t(v;11q23.3)/KMT2A rearranged",
    "icc_mpal_b_myeloid": "MPAL, B/myeloid, NOS",
    "icc_mpal_t_myeloid": "MPAL, T/myeloid, NOS",
    "icc_mpal_rare": "MPAL, rare types",
}

ICC_SUBTYPE_NAMES: dict[str, str] = {
    "lymphoid_only": "with lymphoid only involvement",
    "multilineage": "with multilineage involvement",
    "abl_class": "ABL-1 class rearranged",
    "jak_stat": "JAK-STAT activated",
    "nos": "NOS",
}

ICC_OTHER_DEFINED: dict[str, str] = {
    "DUX4_rearrangement": "icc_b_all_dux4",
    "MEF2D_rearrangement": "icc_b_all_mef2d",
    "ZNF384_rearrangement": "icc_b_all_znf384",
    "NUTM1_rearrangement": "icc_b_all_nutm1",
    "MYC_rearrangement": "icc_b_all_myc",
    "HLF_rearrangement": "icc_b_all_hlf",
    "UBTF::ATXN7L3": "icc_b_all_ubtf_atxn7l3",
    "IKZF1_N159Y": "icc_b_all_ikzf1_n159y",
    "PAX5_P80R": "icc_b_all_pax5_p80r",
    "PAX5alt": "icc_b_all_pax5alt",
    "ZEB2_H1038R": "icc_b_all_zeb2_cebpe",
    "IGH::CEBPE": "icc_b_all_zeb2_cebpe",
    "ZNF384-like": "icc_b_all_znf384_like",
    "KMT2A-like": "icc_b_all_kmt2a_like",
}
"""ICC entity of each 'other defined' lesion or provisional expression group."""
