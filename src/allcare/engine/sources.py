"""The guidelines the rules come from, cited the same way everywhere.

Each rule names one of these, with the version, so a reader can check the
conclusion against the text it came from. ``DECISIONS`` marks a default chosen
where sources disagree or leave room: ``decision(section)`` cites the section of the project's
``docs/decisions.md`` that explains the choice with its primary sources.
"""

WHO_HAEM5 = "WHO-HAEM5 (Alaggio et al., Leukemia 2022;36:1720)"
ICC_2022 = "ICC 2022 (Arber et al., Blood 2022;140:1200; Duffield et al., Virchows Arch 2023)"
WHO_2016 = "WHO 2016 (revised 4th edition), B-ALL NOS"
WHO_2016_MPAL = "WHO 2016 MPAL lineage criteria, with WHO-HAEM5 refinements"
EGIL_1995 = "EGIL scoring (Bene et al., Leukemia 1995), legacy second opinion"
ETP_DEF = "ETP-ALL definition (Coustan-Smith 2009; WHO-HAEM5; ICC 2022 Table 6)"
ISCN_2020 = "ISCN 2020 (An International System for Human Cytogenomic Nomenclature)"
IAMP21_FISH = "iAMP21 by FISH: 5 or more RUNX1 signals per cell, 3 or more extra on one chromosome 21 (Harrison et al., Leukemia 2014;28:1015; WHO-HAEM5)"
NCCN_GENETIC = "NCCN ALL genetic risk groups (via BMJ Best Practice)"
NCI_ROME = "NCI/Rome criteria (PDQ Childhood ALL Treatment)"
COG_PDQ_TABLE1 = "COG B-ALL risk groups (PDQ Childhood ALL Table 1; column-to-group split inferred)"
ELN_2024 = "ELN 2024 adult ALL recommendations (Blood 2024;143:1891)"
INTERFANT_99 = "Interfant-99 (Blood 2010;116:2644)"
COG_CNS = "COG CNS status (CNS1-3 with Steinherz/Bleyer), NCIt C116833-C116843"
TRAUMATIC_LP = "Gajjar et al. (St Jude), Blood 2000;96:3381: traumatic lumbar puncture at diagnosis"
TESTICULAR = "Testicular involvement at diagnosis (COG/PDQ risk assignment; confirm by imaging or biopsy)"
CTCAE_V5 = "CTCAE v5.0 (NCI, 27 Nov 2017)"
REF_INTERVALS = "Reference intervals: Mayo Clinic adult CBC; University of Iowa paediatric normals"
NCCN_ELN_RESPONSE = "NCCN/ELN 2024 response criteria"
PONTE_DI_LEGNO = "Ponte di Legno relapse consensus (Blood 2022;139:1785)"
ELN_MRD = "ELN/NCCN MRD definitions (HemaSphere 2021)"
MRD_REMISSION = (
    "Remission where MRD is measured: marrow MRD < 1% (COG end-of-induction definition, as compared in the Ponte di "
    "Legno consensus, Buchmann et al., Blood 2022;139:1785; ELN 2024, Blood 2024;143:1891: MRD >= 1% is failure)"
)
ICD_10_CM = "ICD-10-CM FY2025"
ICD_O_3 = "ICD-O-3.2 via SEER Hematopoietic Database"
SEER_HEME_MANUAL = "SEER Hematopoietic and Lymphoid Neoplasm Coding Manual (primary site rules), with ICD-O-3.2 topography"
SNOMED_CT = "SNOMED CT International"
FDA_LABELS = "FDA labels: blinatumomab, inotuzumab ozogamicin, tisagenlecleucel, brexucabtagene autoleucel"
TKI_LABELS = "FDA labels for Ph+ ALL: imatinib, dasatinib, ponatinib"
TREATMENT_PHASES = "COG/BFM treatment phases (PMC7820874; LLS)"
DOWN_SYNDROME = "Down syndrome ALL: treatment-related toxicity (COG/Ponte di Legno DS-ALL)"
MATURATION_STAGES = "EGIL maturation stages B-I..B-IV and T-I..T-IV (Gorczyca; MLL Munich)"
COG_RESPONSE = "COG response definitions (end-of-induction M2 marrow = slow early response: induction extended, marrow repeated)"
RELAPSE_TIMING = "I-BFM / Ponte di Legno relapse timing as used by IntReALL (Fuster, World J Hematol 2014;3:49, Table 2)"
RELAPSE_SITE = "Relapse site definitions (Fuster, World J Hematol 2014;3:49; Ponte di Legno consensus, Blood 2022;139:1785)"
BFM_RELAPSE = "ALL-REZ BFM strategy groups S1-S4 and IntReALL SR/HR (Hunger & Raetz, Blood 2020;136:1803, first-relapse risk table)"
COG_RELAPSE = "COG first-relapse risk groups (AALL1331: Brown et al., JAMA 2021;325:833)"
LINEAGE_SWITCH = "Lineage switch and antigen-loss relapse after antigen-directed therapy (Lamble et al., Blood Adv 2023;7:575; Project EVOLVE, Blood 2025)"
MRD_PERSISTENCE = "MRD at end of induction and consolidation (COG: Borowitz et al., Blood 2008;111:5477 and Blood 2015;126:964; ELN 2024)"
LI_FRAUMENI = "TP53 in low-hypodiploid ALL, often germline (Holmfeldt et al., Nat Genet 2013;45:242)"
ABL_CLASS = "ABL-class fusions in B-ALL and ABL-directed TKIs (Cario et al., Haematologica 2020;105:1887; den Boer et al., Ponte di Legno ABL-class study, 2021)"
DISEASE_EPISODES = "Disease episodes: diagnostic work-up per WHO-HAEM5; remission samples are response monitoring (NCCN/ELN)"

# Treatment monitoring (maintenance, pharmacogenetics, toxicity)
MOSTELLER = "Mosteller RD, N Engl J Med 1987;317:1098 (body surface area)"
HAYCOCK = "Haycock GB et al., J Pediatr 1978;93:62 (body surface area)"
DUBOIS = "DuBois D, DuBois EF, Arch Intern Med 1916;17:863 (body surface area)"
CPIC_THIOPURINES = (
    "CPIC guideline for thiopurine dosing based on TPMT and NUDT15 genotypes: 2018 update (Relling et al., "
    "Clin Pharmacol Ther 2019;105:1095), with the CPIC updates of April 2020 and March 2024"
)
ALLMT_METRICS = "maintenance metrics as defined in allMT (Mungle, Mahadevan, Krishnan; R package 0.1.0) and Mungle 2020"
IDSA_FN = "IDSA febrile neutropenia definition (Freifeld et al., Clin Infect Dis 2011;52:e56)"
CTCAE_V5_FN = "CTCAE v5.0 (NCI, 27 Nov 2017): Febrile neutropenia"
CAIRO_BISHOP = "Cairo-Bishop tumour lysis syndrome definition and grading (Cairo & Bishop, Br J Haematol 2004;127:3)"
GLUCARPIDASE_CONSENSUS = (
    "Consensus guideline for glucarpidase in HD-MTX kidney injury and delayed clearance (Ramsey et al., "
    "Oncologist 2018;23:52)"
)
ASPARAGINASE_CONSENSUS = (
    "Consensus recommendations on asparaginase hypersensitivity and silent inactivation (van der Sluis et al., "
    "Haematologica 2016;101:279)"
)
ANTHRACYCLINE_FEIJEN = (
    "Doxorubicin-equivalence ratios for cardiomyopathy (Feijen et al., JAMA Oncol 2019;5:864; adopted by IGHG); "
    "idarubicin from the COG Long-Term Follow-Up Guidelines v5.0 (2018)"
)
ANTHRACYCLINE_COG_V5 = "COG Long-Term Follow-Up Guidelines v5.0 (2018): doxorubicin isotoxic equivalents"
IGHG_CARDIO = "IGHG cardiomyopathy surveillance (Armenian et al., Lancet Oncol 2015;16:e123)"


def decision(section: str) -> str:
    """The citation of a choice allcare made where the sources leave room (a section of docs/decisions.md)."""
    return f"allcare decisions (docs/decisions.md#{section})"
