"""Code systems, codes and profile URLs used to read and write FHIR.

Every code here was checked against a published source (the mCODE STU4
implementation guide and its examples, LOINC tables, RxNorm listings, the HGNC
gene list); docs/fhir.md lists them with their status. Where no published code
was found (measurable residual disease, CSF blasts on the cytospin, marrow
timepoints ...) allcare's own code system is used instead of a guessed code, so
a reader is never told something the code does not mean.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Code systems -----------------------------------------------------------------
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
# HGNC: the preferred system URI (HL7 terminology) is written; the older ``/geneId`` form is also read.
HGNC = "http://www.genenames.org"
HGNC_SYSTEMS = (HGNC, "http://www.genenames.org/geneId")
ATC = "http://www.whocc.no/atc"
NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
SEQUENCE_ONTOLOGY = "http://www.sequenceontology.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
DATA_ABSENT_REASON = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DATA_ABSENT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
CONDITION_ASSERTED_DATE = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"

# allcare's own identifiers, codes and extensions (URNs: they name, they do not resolve).
ALLCARE_CODES = "urn:allcare:codes"
ALLCARE_MARKERS = "urn:allcare:markers"
ALLCARE_MARKER_INTENSITY = "urn:allcare:marker-intensity"
ALLCARE_LESIONS = "urn:allcare:lesions"
ALLCARE_CONDITIONS = "urn:allcare:conditions"
ALLCARE_PHASES = "urn:allcare:treatment-phases"
ALLCARE_FINDING_ID = "urn:allcare:finding"
ALLCARE_PATIENT_ID = "urn:allcare:patient"


def ext(name: str) -> str:
    """URL of an allcare extension."""
    return f"urn:allcare:extension:{name}"


EXT_NOTE = ext("note")
EXT_SOURCE = ext("source")
EXT_FINDING_DATE = ext("finding-date")
EXT_AGE_AT_DIAGNOSIS = ext("age-at-diagnosis")
EXT_DIAGNOSIS_DATE = ext("diagnosis-date")
EXT_MRD_SENSITIVITY = ext("mrd-sensitivity")
EXT_MRD_SAMPLE = ext("mrd-sample")
EXT_MRD_TIMEPOINT = ext("mrd-timepoint")
EXT_MRD_PERCENT = ext("mrd-percent")
EXT_TREATMENT_PHASE = ext("treatment-phase")
EXT_PROTOCOL = ext("protocol")
EXT_DERIVED = ext("derived-by-allcare")

# mCODE STU4 profiles ------------------------------------------------------------
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PROFILE_CANCER_PATIENT = MCODE + "mcode-cancer-patient"
PROFILE_PRIMARY_CANCER_CONDITION = MCODE + "mcode-primary-cancer-condition"
PROFILE_TUMOR_MARKER_TEST = MCODE + "mcode-tumor-marker-test"
PROFILE_CANCER_DISEASE_STATUS = MCODE + "mcode-cancer-disease-status"
PROFILE_GENOMIC_VARIANT = MCODE + "mcode-genomic-variant"
PROFILE_GENOMICS_REPORT = MCODE + "mcode-genomics-report"
PROFILE_ALL_RISK_ASSESSMENT = MCODE + "mcode-ALL-risk-assessment"
PROFILE_MEDICATION_ADMINISTRATION = MCODE + "mcode-cancer-related-medication-administration"
EXT_HISTOLOGY = MCODE + "mcode-histology-morphology-behavior"
EXT_EVIDENCE_TYPE = MCODE + "mcode-cancer-disease-status-evidence-type"
US_CORE_LAB = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-observation-lab"


# Blood counts, marrow, CSF (LOINC) --------------------------------------------------
@dataclass(frozen=True)
class Analyte:
    """One measured field of a finding: the LOINC code written on export and every code accepted on import."""

    field: str
    export_code: str
    display: str
    import_codes: tuple[str, ...]
    ucum: str  # unit written for a bare number (the field's canonical unit)


CBC_ANALYTES = (
    Analyte("wbc", "26464-8", "Leukocytes [#/volume] in Blood", ("26464-8", "6690-2"), "10*9/L"),
    Analyte("hemoglobin", "718-7", "Hemoglobin [Mass/volume] in Blood", ("718-7",), "g/dL"),
    Analyte("platelets", "777-3", "Platelets [#/volume] in Blood by Automated count", ("777-3", "26515-7"), "10*9/L"),
    Analyte("anc", "26499-4", "Neutrophils [#/volume] in Blood", ("26499-4", "751-8"), "10*9/L"),
    Analyte("rbc", "789-8", "Erythrocytes [#/volume] in Blood by Automated count", ("789-8", "26453-1"), "10*12/L"),
    Analyte("blasts_pct", "26446-5", "Blasts/100 leukocytes in Blood", ("26446-5", "709-6"), "%"),
)
CBC_PANEL = "58410-2"
CBC_PANEL_DISPLAY = "CBC panel - Blood by Automated count"

MARROW_BLASTS = Analyte("blasts_pct", "11150-0", "Blasts/100 cells in Bone marrow", ("11150-0",), "%")
MARROW_REPORT = "48807-2"  # Bone marrow aspiration report (mCODE paediatric example)
# 77147-7 was given as an alternative marrow-blast code by one mapping; LOINC lists it as an eGFR
# (MDRD) code, so it is refused with that reason rather than read as a blast percentage.
# 708-8 is Blasts [#/volume] in Blood: an absolute count, which the case model does not hold (it reads
# the blast percentage, 26446-5 / 709-6), so it is reported rather than read as a percentage.
NOT_MARROW_BLASTS = {
    "77147-7": "LOINC 77147-7 is an eGFR (MDRD) code, not a bone-marrow blast count",
    "708-8": "LOINC 708-8 is an absolute blast count (#/volume in blood); allcare reads the blast percentage (26446-5, 709-6)",
}

CSF_ANALYTES = (
    Analyte("wbc", "26465-5", "Leukocytes [#/volume] in Cerebral spinal fluid", ("26465-5", "806-0"), "/uL"),
    Analyte("rbc", "26454-9", "Erythrocytes [#/volume] in Cerebral spinal fluid", ("26454-9", "792-2"), "/uL"),
)

IMMUNOPHENOTYPE = "101119-6"  # Leukemia and lymphoma immunophenotyping study (mCODE paediatric example)
KARYOTYPE_CODES = ("29770-5", "33893-9")  # Karyotype [Identifier] in Blood or Tissue / in Bone marrow
KARYOTYPE_EXPORT = "29770-5"
GENOMICS_REPORT_CODES = ("51969-4", "81247-9")  # Genetic analysis report (STU4 examples) / master panel (STU1-2)
GENOMICS_REPORT_EXPORT = "51969-4"
GENETIC_VARIANT = "69548-6"
GENE_STUDIED = "48018-6"
DNA_CHANGE_TYPE = "48019-4"
GENOMIC_SOURCE_CLASS = "48002-0"
VARIATION_CODE = "81252-9"
AMINO_ACID_CHANGE = "48005-3"
VARIANT_ISCN = ("81291-7", "81291-2")
PRESENT, ABSENT = "LA9633-4", "LA9634-2"
# A qualitative result's answer: not found (SNOMED CT Not detected / Negative, LOINC answers Not detected,
# Negative, Absent) or found (Detected, Positive, Present), with no level.
NOT_DETECTED_ANSWERS = frozenset({(SNOMED, "260415000"), (SNOMED, "260385009"), (LOINC, "LA11883-8"),
                                  (LOINC, "LA6577-6"), (LOINC, ABSENT)})
DETECTED_ANSWERS = frozenset({(SNOMED, "260373001"), (SNOMED, "10828004"), (LOINC, "LA11882-0"),
                              (LOINC, "LA6576-8"), (LOINC, PRESENT)})
SOMATIC = "LA6684-0"
CANCER_DISEASE_STATUS = "97509-4"
ALL_RISK_CODE = "C167435"  # NCIt "Leukemia Finding", fixed code of the mCODE ALL risk assessment

# Sequence Ontology change types written for a fusion (as in the mCODE example) and read back.
SO_TRANSLOCATION = "SO:1000044"
SO_KIND = {"SO:1000044": "fusion", "SO:0001565": "fusion", "SO:0000159": "deletion", "SO:1000035": "amplification"}

# allcare codes (urn:allcare:codes) for what no published code covers ---------------
A_MRD = "mrd"
A_CSF_BLASTS = "csf-blasts"
A_CSF_TRAUMATIC = "csf-traumatic"
A_MARROW_TIMEPOINT = "marrow-timepoint"
A_MARROW_CELLULARITY = "marrow-cellularity"
A_SAMPLE = "sample"
A_MODAL_NUMBER = "modal-number"
A_DNA_INDEX = "dna-index"
A_EXPRESSION_SUBTYPE = "expression-subtype"
A_EXPRESSION_CONFIDENCE = "expression-confidence"
A_EXTRAMEDULLARY = "extramedullary-involvement"
A_EXTRAMEDULLARY_DETAIL = "extramedullary-detail"
A_CNS_STATUS = "cns-status"
A_RESPONSE_STATUS = "disease-status"
A_TREATMENT_PHASE = "treatment-phase"
A_CSF_PANEL = "csf-panel"
A_EPISODE = "disease-episode"
A_RELAPSE_SITE = "relapse-site"
A_RELAPSE_TIMING_IBFM = "relapse-timing-ibfm"
A_RELAPSE_TIMING_COG = "relapse-timing-cog"
A_RELAPSE_RISK_BFM = "relapse-risk-bfm"
A_RELAPSE_RISK_INTREALL = "relapse-risk-intreall"
A_RELAPSE_RISK_COG = "relapse-risk-cog"
A_LINEAGE_SWITCH = "lineage-switch"
A_ANTIGEN_LOSS = "antigen-loss"
DERIVED_CODES = frozenset({A_CNS_STATUS, A_RESPONSE_STATUS, A_TREATMENT_PHASE, A_EPISODE})

# Extramedullary sites (SNOMED CT body structures) ---------------------------------
SITE_SNOMED = {
    "cns": ("21483005", "Structure of central nervous system"),
    "testis": ("40689003", "Testis structure"),
    "mediastinum": ("72410000", "Mediastinal structure"),
    "lymph_node": ("59441001", "Structure of lymph node"),
    "liver": ("10200004", "Liver structure"),
    "spleen": ("78961009", "Splenic structure"),
    "skin": ("39937001", "Skin structure"),
}

# Diagnoses --------------------------------------------------------------------------
SNOMED_ALL = "91857003"  # Acute lymphoid leukemia (disorder)
SNOMED_B_ALL = "277571004"  # B-cell acute lymphoblastic leukemia (mCODE paediatric example)

# mCODE ConditionStatusTrendVS (STU3/STU4) values for CancerDiseaseStatus.
TREND = {
    "improved": ("268910001", "Patient's condition improved (finding)"),
    "stable": ("359746009", "Patient's condition stable (finding)"),
    "worsened": ("271299001", "Patient's condition worsened (finding)"),
    "undetermined": ("709137006", "Patient condition undetermined (finding)"),
}
# Remission is "improved" (ConditionStatusTrendVS has no remission code); the exact status is in
# allcare's own disease-status Observation.
STATUS_TREND = {
    "complete_remission": "improved",
    "cr_incomplete_recovery": "improved",
    "refractory": "stable",
    "relapse": "worsened",
    "suspected_relapse": "undetermined",
    "newly_diagnosed": "undetermined",
    "on_treatment": "undetermined",
    "indeterminate": "undetermined",
}
EVIDENCE_LAB_INTERPRETATION = ("386344002", "Laboratory data interpretation (procedure)")

# NCI/Rome risk in the mCODE ALL risk assessment value set (NCIt).
NCI_RISK = {"standard": ("C122457", "Standard Risk Acute Leukemia"), "high": ("C122458", "High Risk Acute Leukemia")}

# Patient conditions: allcare code, and ICD-10-CM where a code names exactly that condition.
CONDITION_ICD10 = {
    "down_syndrome": ("Q90.9", "Down syndrome, unspecified"),
    "prior_chemotherapy": ("Z92.21", "Personal history of antineoplastic chemotherapy"),
    "prior_radiation": ("Z92.3", "Personal history of irradiation"),
    "neurofibromatosis_1": ("Q85.01", "Neurofibromatosis, type 1"),
    "ataxia_telangiectasia": ("G11.3", "Cerebellar ataxia with defective DNA repair"),
}
ICD10_CONDITION_PREFIX = {"Q90": "down_syndrome", "Z92.21": "prior_chemotherapy", "Z92.3": "prior_radiation",
                          "Q85.01": "neurofibromatosis_1", "G11.3": "ataxia_telangiectasia"}

# allcare diagnoses that are a cancer (mCODE CancerDiseaseStatus is written only for these).
CANCER_DISEASES = frozenset({"ALL", "LBL", "MPAL"})

# Leukaemia diagnoses recognised on import (the source system's diagnosis, kept for comparison).
ALL_ICD10_PREFIXES = ("C91.0", "C83.5", "C95.0")
ALL_SNOMED = {SNOMED_ALL, SNOMED_B_ALL}

# Specimen.type -> the sample a result was measured on: SNOMED CT specimen concepts, and HL7 v2 table 0487
# (Specimen Type), the example binding of Specimen.type in FHIR R4 (https://hl7.org/fhir/R4/specimen.html).
V2_SPECIMEN_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0487"
# The sample a specimen's words name (a reference's display when the Specimen is not in the input), first match wins.
SPECIMEN_WORDS = ((re.compile(r"marrow", re.IGNORECASE), "marrow"),
                  (re.compile(r"cerebrospinal|spinal fluid|\bCSF\b|liquor", re.IGNORECASE), "csf"),
                  (re.compile(r"blood", re.IGNORECASE), "blood"))
SPECIMEN_SAMPLE: dict[tuple[str, str], str] = {
    (SNOMED, "119297000"): "blood",  # Blood specimen
    (SNOMED, "122555007"): "blood",  # Venous blood specimen
    (SNOMED, "119359002"): "marrow",  # Bone marrow specimen
    (SNOMED, "258450006"): "csf",  # Cerebrospinal fluid sample
    (V2_SPECIMEN_TYPE, "BLD"): "blood", (V2_SPECIMEN_TYPE, "BLDV"): "blood", (V2_SPECIMEN_TYPE, "BLDA"): "blood",
    (V2_SPECIMEN_TYPE, "MAR"): "marrow", (V2_SPECIMEN_TYPE, "CSF"): "csf",
}

# Observation.bodySite -> the sample (SNOMED CT body structures), and the words of a lab's MRD name or bodySite
# text that name it: an MRD coded only by name often says "bone marrow" or "peripheral blood".
BODY_SITE_SAMPLE: dict[tuple[str, str], str] = {
    (SNOMED, "14016003"): "marrow",  # Bone marrow structure
    (SNOMED, "87612001"): "blood",  # Blood
}
SAMPLE_WORDS = {
    "marrow": re.compile(r"\bmarrow\b|\bBM\b|\bKM\b", re.IGNORECASE),
    "blood": re.compile(r"\bblood\b|\bPB\b|\bPBMC\b", re.IGNORECASE),
}

# Drugs: see agents.py and data/agents.csv (RxNorm and ATC codes with their sources).

# Radiotherapy (mCODE RadiotherapyCourseSummary): the profile's fixed code, and the words that make a
# treatment-block "agent" a radiotherapy course rather than a medication.
RADIOTHERAPY_COURSE = ("1217123003", "Radiotherapy course of treatment (regime/therapy)")
PROFILE_RADIOTHERAPY_COURSE = MCODE + "mcode-radiotherapy-course-summary"
RADIOTHERAPY_WORDS = re.compile(r"\birradiation\b|\bradiotherapy\b|\bTBI\b|\bcranial radiation\b", re.IGNORECASE)

# HGNC gene ids (http://www.genenames.org/geneId), as published in HGNC-coded value sets.
HGNC_BY_SYMBOL = {
    "ABL1": "HGNC:76", "BCR": "HGNC:1014", "ETV6": "HGNC:3495", "RUNX1": "HGNC:10471", "TCF3": "HGNC:11633",
    "KMT2A": "HGNC:7132", "IKZF1": "HGNC:13176", "PAX5": "HGNC:8619", "CRLF2": "HGNC:14281", "JAK1": "HGNC:6190",
    "JAK2": "HGNC:6192", "JAK3": "HGNC:6193", "IL7R": "HGNC:6024", "TP53": "HGNC:11998", "MYC": "HGNC:7553",
    "NOTCH1": "HGNC:7881", "CDKN2A": "HGNC:1787", "CDKN2B": "HGNC:1788", "TAL1": "HGNC:11556", "FLT3": "HGNC:3765",
}
SYMBOL_BY_HGNC = {code: symbol for symbol, code in HGNC_BY_SYMBOL.items()}
