"""Registry and billing codes: ICD-O-3 morphology, ICD-10-CM, SNOMED CT.

* ICD-O-3 follows the WHO entity (docs/decisions.md#codes, SEER Hematopoietic Database):
  the same morphology code serves the leukaemia and the lymphoma. When the
  genetic entity is still open, registries code the lineage's NOS code
  (9811/3 for B, 9837/3 for T, 9808/9809 for MPAL) - that is what "NOS" means
  in ICD-O - and the conclusion says the code will change if a defining lesion
  is found.
* ICD-10-CM depends on the disease status on the assessment date:
  "not having achieved remission" (which ICD-10-CM also uses for ALL NOS),
  "in remission", "in relapse"; LBL is coded by site, C83.5A in remission;
  MPAL goes to C95.0- (acute leukaemia of unspecified cell type), as SEER maps it.
  An *indeterminate* status (contradicting findings) gets no code: the guidelines (I.C.2.m) query the
  provider when it is unclear whether remission was achieved.
  A *suspected* relapse is not coded as relapse (coding guidelines code
  confirmed conditions) but no longer as remission either: it gets the
  not-in-remission / NOS code with the confirmation listed as missing.
* ICD-O-3 topography (the primary site a registry records beside the morphology), by the SEER
  Hematopoietic manual: a leukaemia (ALL, MPAL) is coded to the bone marrow, C42.1; a lymphoblastic
  lymphoma to its site: lymph nodes C77.0-C77.5 by region, C77.8 several regions, C77.9 a node of no stated
  region or no site recorded; a mass described only as mediastinal C77.1 (mediastinal lymph nodes, the
  manual's rule for a "mediastinal mass"); skin C44.9. Sites of different kinds, or one the case names
  only as "other", go to a coder.
* SNOMED CT: only the two verified concepts are used (ALL; B-cell ALL).
  No T-ALL concept was verified, so T-ALL gets the parent ALL concept.
"""

from __future__ import annotations

import re

from .assessment import Codes, Course, Diagnosis, Status
from .explain import Conclusion, EvidenceRef, conclude, undetermined
from .sources import ICD_10_CM, ICD_O_3, SEER_HEME_MANUAL, SNOMED_CT, decision

_B = "B lymphoblastic leukemia/lymphoma"
_MPAL = "Mixed phenotype acute leukemia"
ICD_O_3_TERMS = {
    "9811/3": f"{_B}, NOS",
    "9812/3": f"{_B} with t(9;22)(q34.1;q11.2); BCR-ABL1",
    "9813/3": f"{_B} with t(v;11q23.3); KMT2A rearranged",
    "9814/3": f"{_B} with t(12;21)(p13.2;q22.1); ETV6-RUNX1",
    "9815/3": f"{_B} with hyperdiploidy",
    "9816/3": f"{_B} with hypodiploidy",
    "9817/3": f"{_B} with t(5;14)(q31.1;q32.3); IL3-IGH",
    "9818/3": f"{_B} with t(1;19)(q23;p13.3); TCF3-PBX1",
    "9819/3": f"{_B}, BCR-ABL1-like",
    "9837/3": "T lymphoblastic leukemia/lymphoma",
    "9806/3": f"{_MPAL} with t(9;22)(q34.1;q11.2); BCR-ABL1",
    "9807/3": f"{_MPAL} with t(v;11q23.3); KMT2A rearranged",
    "9808/3": f"{_MPAL}, B/myeloid, NOS",
    "9809/3": f"{_MPAL}, T/myeloid, NOS",
}
ICD_O_3_BY_ENTITY = {
    "b_all_nos": "9811/3", "b_all_bcr_abl1": "9812/3", "b_all_kmt2a": "9813/3", "b_all_etv6_runx1": "9814/3",
    "b_all_high_hyperdiploidy": "9815/3", "b_all_hypodiploidy": "9816/3", "b_all_igh_il3": "9817/3",
    "b_all_tcf3_pbx1": "9818/3", "b_all_bcr_abl1_like": "9819/3",
    "b_all_iamp21": "9811/3", "b_all_etv6_runx1_like": "9811/3", "b_all_other_defined": "9811/3",
    "b_all_tcf3_hlf": "9811/3",
    "t_all_nos": "9837/3", "etp_all": "9837/3",
    "mpal_bcr_abl1": "9806/3", "mpal_kmt2a": "9807/3", "mpal_b_myeloid": "9808/3", "mpal_t_myeloid": "9809/3",
}
ICD_O_3_BY_LINEAGE = {"B": "9811/3", "T": "9837/3", "B/myeloid": "9808/3", "T/myeloid": "9809/3"}
_NO_SPECIFIC_CODE = ("b_all_iamp21", "b_all_etv6_runx1_like", "b_all_other_defined", "b_all_tcf3_hlf")

_LBL = "Lymphoblastic (diffuse) lymphoma"
ICD_10_CM_TERMS = {
    "C91.00": "Acute lymphoblastic leukemia not having achieved remission",
    "C91.01": "Acute lymphoblastic leukemia, in remission",
    "C91.02": "Acute lymphoblastic leukemia, in relapse",
    "C95.00": "Acute leukemia of unspecified cell type not having achieved remission",
    "C95.01": "Acute leukemia of unspecified cell type, in remission",
    "C95.02": "Acute leukemia of unspecified cell type, in relapse",
    "C83.50": f"{_LBL}, unspecified site",
    "C83.51": f"{_LBL}, lymph nodes of head, face, and neck",
    "C83.52": f"{_LBL}, intrathoracic lymph nodes",
    "C83.53": f"{_LBL}, intra-abdominal lymph nodes",
    "C83.54": f"{_LBL}, lymph nodes of axilla and upper limb",
    "C83.55": f"{_LBL}, lymph nodes of inguinal region and lower limb",
    "C83.56": f"{_LBL}, intrapelvic lymph nodes",
    "C83.58": f"{_LBL}, lymph nodes of multiple sites",
    "C83.59": f"{_LBL}, extranodal and solid organ sites",
    "C83.5A": f"{_LBL}, in remission",
}
_NODE_REGIONS = (
    ("1", ("head", "face", "neck", "cervical", "supraclavicular", "submandibular", "submaxillary", "submental",
           "occipital", "auricular", "preauricular", "postauricular", "parotid")),
    ("2", ("intrathoracic", "mediastin", "hilar", "thoracic", "paratracheal", "subcarinal", "tracheobronchial")),
    ("3", ("abdominal", "mesenteric", "retroperitoneal", "aortic", "paraaortic", "periaortic",
           "portal", "coeliac", "celiac")),
    ("4", ("axilla", "axillary", "upper limb", "arm", "epitrochlear")),
    ("5", ("inguinal", "femoral", "lower limb", "leg", "popliteal")),
    ("6", ("pelvic", "iliac", "obturator")),
)
# A region's word counts only at the start of a word: "submaxillary" is not "axillary", "surface" not "face".
_NODE_REGION_WORDS = tuple((region, re.compile("|".join(rf"(?<![a-z]){re.escape(word)}" for word in words)))
                           for region, words in _NODE_REGIONS)
ICD_O_3_TOPOGRAPHY_TERMS = {
    "C42.1": "Bone marrow",
    "C77.0": "Lymph nodes of head, face and neck",
    "C77.1": "Intrathoracic lymph nodes",
    "C77.2": "Intra-abdominal lymph nodes",
    "C77.3": "Lymph nodes of axilla or arm",
    "C77.4": "Lymph nodes of inguinal region or leg",
    "C77.5": "Pelvic lymph nodes",
    "C77.8": "Lymph nodes of multiple regions",
    "C77.9": "Lymph node, NOS",
    "C44.9": "Skin, NOS",
}
_TOPOGRAPHY_OF_SITE = {"mediastinum": "C77.1", "skin": "C44.9"}
"""Sites other than a lymph node: a lymphoma described only as a mediastinal mass is coded to the mediastinal
lymph nodes (SEER Hematopoietic manual, lymphoma primary-site rules), as ICD-10-CM's C83.52 does."""
REMISSION = ("complete_remission", "cr_incomplete_recovery")
SNOMED_TERMS = {
    "91857003": "Acute lymphoid leukemia, disease (disorder)",
    "277571004": "B-cell acute lymphoblastic leukemia (disorder)",
}
_CODED = ("ALL", "LBL", "MPAL")


def assign_codes(diagnosis: Diagnosis, status: Status, course: Course | None = None) -> Codes:
    disease = _disease_conclusion(diagnosis)
    if diagnosis.disease not in _CODED:
        return Codes(conclusions=_uncoded(diagnosis, disease))
    icd_o, icd_o_conclusion = icd_o_3(diagnosis)
    icd_10, icd_10_conclusion = icd_10_cm(diagnosis, status, course)
    snomed, snomed_conclusion = snomed_ct(diagnosis)
    site, site_conclusion = icd_o_3_topography(diagnosis)
    return Codes(
        icd_o_3=icd_o, icd_o_3_term=ICD_O_3_TERMS.get(icd_o) if icd_o else None,
        icd_o_3_topography=site, icd_o_3_topography_term=ICD_O_3_TOPOGRAPHY_TERMS.get(site) if site else None,
        icd_10_cm=icd_10, icd_10_cm_term=ICD_10_CM_TERMS.get(icd_10) if icd_10 else None,
        snomed_ct=snomed, snomed_ct_term=SNOMED_TERMS.get(snomed) if snomed else None,
        conclusions=[icd_o_conclusion, site_conclusion, icd_10_conclusion, snomed_conclusion],
    )


def _disease_conclusion(diagnosis: Diagnosis) -> Conclusion | None:
    return next((c for c in diagnosis.conclusions if c.topic == "diagnosis.disease"), None)


def _evidence(diagnosis: Diagnosis, *topics: str) -> list[EvidenceRef]:
    refs: list[EvidenceRef] = []
    for c in diagnosis.conclusions:
        if c.topic in topics:
            refs += [r for r in c.evidence if r not in refs]
    return refs


def _uncoded(diagnosis: Diagnosis, disease: Conclusion | None) -> list[Conclusion]:
    evidence = disease.evidence if disease else []
    systems = (("codes.icd_o_3", "CODE.ICD_O_3.ENTITY", ICD_O_3),
               ("codes.icd_o_3_topography", "CODE.ICD_O_3.TOPOGRAPHY", SEER_HEME_MANUAL),
               ("codes.icd_10_cm", "CODE.ICD_10_CM.STATUS", ICD_10_CM),
               ("codes.snomed_ct", "CODE.SNOMED_CT.LINEAGE", SNOMED_CT))
    if diagnosis.disease == "not_ALL":
        return [conclude(topic, None, rule, source, "not ALL: no ALL, LBL or MPAL code applies", evidence)
                for topic, rule, source in systems]
    missing = (disease.missing if disease and disease.missing else []) or ["an established diagnosis of ALL, LBL or MPAL"]
    return [undetermined(topic, rule, source, missing, "no code until the disease is established: " + "; ".join(missing),
                         evidence) for topic, rule, source in systems]


def icd_o_3(diagnosis: Diagnosis) -> tuple[str | None, Conclusion]:
    topic, rule, source = "codes.icd_o_3", "CODE.ICD_O_3.ENTITY", f"{ICD_O_3}; {decision('codes')}"
    evidence = _evidence(diagnosis, "diagnosis.who_haem5", "diagnosis.lineage")
    key = diagnosis.who_haem5.key
    if key == "mpal_other":
        return None, undetermined(
            topic, rule, source, ["coder review: ICD-O-3 morphology for MPAL, rare types"],
            "MPAL rare types (B/T, B/T/myeloid) have no code in the SEER table used (9806-9809 cover BCR::ABL1, "
            "KMT2A, B/myeloid and T/myeloid only; 9801/3 is for acute leukaemia NOS and pre-2010 MPAL)", evidence,
        )
    if key is not None:
        code = ICD_O_3_BY_ENTITY[key]
        text = f"{code} {ICD_O_3_TERMS[code]} for {diagnosis.who_haem5.name}; the same code serves leukaemia and lymphoma"
        if key in _NO_SPECIFIC_CODE:
            text += "; no specific ICD-O-3 code exists for this entity, so the B-ALL NOS code is used (docs/decisions.md#codes)"
        return code, conclude(topic, code, rule, source, text, evidence)
    by_lineage = ICD_O_3_BY_LINEAGE.get(diagnosis.lineage or "")
    if by_lineage is None:
        missing = diagnosis.who_haem5.missing or ["lineage of the blasts"]
        return None, undetermined(topic, rule, source, missing, evidence=evidence)
    text = (f"{by_lineage} {ICD_O_3_TERMS[by_lineage]}: the WHO entity is still open, and ICD-O-3 codes a {diagnosis.lineage} "
            "lymphoblastic neoplasm without a documented defining lesion as NOS; the code changes if one is found")
    if diagnosis.lineage == "T":
        text = f"{by_lineage} {ICD_O_3_TERMS[by_lineage]}: T-ALL and ETP-ALL share this code, so the open ETP call does not change it"
    return by_lineage, conclude(topic, by_lineage, rule, source, text, evidence)


def icd_o_3_topography(diagnosis: Diagnosis) -> tuple[str | None, Conclusion]:
    """The primary site a registry codes: bone marrow for a leukaemia, the mass for a lymphoma (SEER manual)."""
    topic, rule, source = "codes.icd_o_3_topography", "CODE.ICD_O_3.TOPOGRAPHY", f"{SEER_HEME_MANUAL}; {decision('codes')}"
    evidence = _evidence(diagnosis, "diagnosis.disease")
    if diagnosis.disease != "LBL":
        return "C42.1", conclude(topic, "C42.1", rule, source,
                                 f"C42.1 Bone marrow: {diagnosis.disease} is a leukaemia, whose primary site is the bone "
                                 "marrow", evidence)
    site = diagnosis.lbl_site
    if not site:
        return "C77.9", conclude(topic, "C77.9", rule, source,
                                 "C77.9 Lymph node, NOS: lymphoblastic lymphoma with no site recorded (a lymphoma's "
                                 "unknown primary site is coded to lymph node, NOS, not C80.9)", evidence)
    codes: list[str | None] = []
    for part in site.split(";"):
        name, _, detail = part.partition(":")
        if name == "lymph_node":
            region = _node_region(detail)
            # ICD-10-CM C83.5x regions 1-6 are ICD-O-3 C77.0-C77.5 in the same order; "8" is several regions
            codes.append("C77.9" if region is None else "C77.8" if region == "8" else f"C77.{int(region) - 1}")
        else:
            codes.append(_TOPOGRAPHY_OF_SITE.get(name))
    distinct = {c for c in codes if c is not None}
    if None in codes or (len(distinct) > 1 and not all(c.startswith("C77") for c in distinct)):
        return None, undetermined(
            topic, rule, source, ["coder review: the primary site of the lymphoma (ICD-O-3 topography)"],
            f"lymphoblastic lymphoma at {site.replace(';', ', ')}: a site allcare does not map, or sites of different "
            "kinds, whose primary the SEER manual's rules leave to the coder with the full record", evidence)
    code = distinct.pop() if len(distinct) == 1 else "C77.8"
    return code, conclude(topic, code, rule, source,
                          f"{code} {ICD_O_3_TOPOGRAPHY_TERMS[code]}: lymphoblastic lymphoma at {site.replace(';', ', ')}",
                          evidence)


def icd_10_cm(diagnosis: Diagnosis, status: Status, course: Course | None = None) -> tuple[str | None, Conclusion]:
    topic, rule, source = "codes.icd_10_cm", "CODE.ICD_10_CM.STATUS", f"{ICD_10_CM}; {decision('codes')}"
    evidence = _evidence(diagnosis, "diagnosis.disease")
    if status.timeline:
        evidence += [r for r in status.timeline[-1].conclusion.evidence if r not in evidence]
    current = status.current
    state: str = current or "not recorded"
    relapses = [e for e in (course.episodes if course else []) if e.kind == "relapse"]
    if relapses and relapses[-1].lineage_switch and current in ("relapse", "refractory", "suspected_relapse"):
        switched = relapses[-1]
        return None, undetermined(
            topic, rule, source, ["coder review: the relapse is a leukaemia of another lineage (lineage switch)"],
            f"lineage switch at relapse ({diagnosis.lineage} at diagnosis, {switched.lineage} on {switched.onset}): "
            "the relapse is not coded as ALL in relapse; it is coded as the new leukaemia",
            evidence,
        )
    if current == "indeterminate":
        # ICD-10-CM Official Guidelines I.C.2.m: when it is unclear whether the leukaemia has achieved remission,
        # the provider is queried; neither "in remission" nor "not having achieved remission" is guessed.
        open_items = status.timeline[-1].conclusion.missing if status.timeline else []
        return None, undetermined(
            topic, rule, source, ["the disease status on the assessment date (in remission or not)", *open_items],
            f"{diagnosis.disease}: the disease status is indeterminate (the findings contradict each other), so the "
            "remission character of the code is not known; ICD-10-CM asks the coder to query the provider", evidence,
        )
    if current == "refractory" and relapses:
        # Registrars code a relapse that does not respond to re-induction as "in relapse".
        current, state = "relapse", "refractory relapse"
    if diagnosis.disease == "LBL":
        if current in REMISSION:
            code, why = "C83.5A", f"lymphoblastic lymphoma, status {state}: in remission"
        else:
            code, why = lbl_site_code(diagnosis.lbl_site)
            why = f"lymphoblastic lymphoma, status {state}; {why}"
        return _coded(topic, code, rule, source, why, evidence, status)
    stem = "C91.0" if diagnosis.disease == "ALL" else "C95.0"
    what = "ALL" if diagnosis.disease == "ALL" else "MPAL (acute leukaemia of unspecified cell type, as SEER maps MPAL)"
    if current in REMISSION:
        return _coded(topic, f"{stem}1", rule, source, f"{what}, status {state}: in remission", evidence, status)
    if current == "relapse":
        return _coded(topic, f"{stem}2", rule, source, f"{what}, status {state}: in relapse", evidence, status)
    if current is None:
        why = (f"{what}, no response status on the assessment date: ICD-10-CM codes the disease without a stated "
               "remission as 'not having achieved remission' (which includes NOS)")
    elif current == "suspected_relapse":
        why = (f"{what}, suspected (unconfirmed) relapse: a relapse is coded only when confirmed and the patient is "
               "no longer in remission, so the not-in-remission/NOS code is used until it is confirmed")
    else:
        why = f"{what}, status {state}: not in remission"
    return _coded(topic, f"{stem}0", rule, source, why, evidence, status)


def _coded(topic: str, code: str, rule: str, source: str, why: str, evidence: list[EvidenceRef], status: Status) -> tuple[str, Conclusion]:
    text = f"{code} {ICD_10_CM_TERMS[code]}: {why}"
    missing = []
    if status.current == "suspected_relapse":
        missing = ["confirmation of relapse (repeat marrow, MRD or second test) to code relapse"]
    return code, Conclusion(topic=topic, value=code, determined=True, rule=rule, source=source, explanation=text,
                            evidence=evidence, missing=missing)


def lbl_site_code(site: str | None) -> tuple[str, str]:
    """ICD-10-CM C83.5x from the lymphoma mass sites ('mediastinum', 'lymph_node:cervical', ';'-joined)."""
    if not site:
        return "C83.50", "site not recorded"
    regions: list[str | None] = []
    for part in site.split(";"):
        name, _, detail = part.partition(":")
        if name == "mediastinum":
            regions.append("2")
        elif name == "lymph_node":
            regions.append(_node_region(detail))
        else:
            return "C83.59", f"extranodal site ({name})"
    distinct = set(regions)
    if len(regions) > 1 and (len(distinct) > 1 or None in distinct):
        return "C83.58", "lymph nodes of more than one region"
    region = regions[0]
    if region is None:
        return "C83.50", "lymph node region not recorded"
    if region == "8":
        return "C83.58", f"lymph nodes of more than one region ({site})"
    return f"C83.5{region}", f"site {site}"


def _node_region(detail: str) -> str | None:
    """The C83.5x region of one lymph node finding's detail; "8" (multiple sites) when it names nodes of two regions.

    ICD-10-CM (Tabular List, C83.5-) gives one code per lymph node region and C83.58 for lymph nodes of
    multiple sites; a detail such as "cervical and axillary" is two regions, not the first one named.
    """
    text = detail.lower().replace("_", " ")
    regions = {region for region, words in _NODE_REGION_WORDS if words.search(text)}
    if len(regions) > 1:
        return "8"
    return regions.pop() if regions else None


def snomed_ct(diagnosis: Diagnosis) -> tuple[str | None, Conclusion]:
    topic, rule, source = "codes.snomed_ct", "CODE.SNOMED_CT.LINEAGE", SNOMED_CT
    evidence = _evidence(diagnosis, "diagnosis.lineage")
    if diagnosis.disease == "ALL" and diagnosis.lineage == "B":
        return "277571004", conclude(topic, "277571004", rule, source, "B-lineage ALL: B-cell ALL concept", evidence)
    if diagnosis.disease == "ALL":
        return "91857003", conclude(
            topic, "91857003", rule, source,
            f"{diagnosis.lineage}-lineage ALL: no verified SNOMED CT concept for T-cell ALL was found, so the parent "
            "concept 'Acute lymphoid leukemia' is used", evidence,
        )
    return None, conclude(
        topic, None, rule, source,
        f"{diagnosis.disease}: no SNOMED CT concept for it was verified in SNOMED CT International, so none is given",
        evidence,
    )


_ICD_10_SPELLING = re.compile(r"([A-Z][0-9]{2})\.?([0-9A-Z]{0,4})")
_ICD_O_SPELLING = re.compile(r"M?-?([0-9]{4})(?:[/-]?([0-9]))?")


def icd_10_spelling(text: str) -> str | None:
    """An ICD-10(-CM) code (or the start of one) as allcare stores codes: upper case, the dot after the
    3-character category ("c9100" -> "C91.00"; CMS ICD-10-CM Tabular List); None when it is not shaped so."""
    match = _ICD_10_SPELLING.fullmatch(text.strip().upper())
    if match is None:
        return None
    category, rest = match.groups()
    return f"{category}.{rest}" if rest else category


def code_spellings(text: str) -> tuple[str, ...]:
    """What a typed code (or the start of one) may mean, spelled as allcare stores codes.

    Registry extracts and coders write one code several ways: ICD-10-CM without its dot or in lower case
    ("c9100" is C91.00; the dot follows the 3-character category, CMS ICD-10-CM Tabular List), ICD-O-3
    morphology with its behaviour run together ("98113", NAACCR items 522 histology + 523 behaviour) or with the
    "M" prefix of the ICD-O morphology axis ("M-9811/3"; WHO ICD-O-3.2). The text as typed (stripped, upper
    case) is always one of the spellings, so a SNOMED CT prefix of five digits still matches its concepts.
    """
    typed = text.strip().upper()
    spellings = [typed]
    if icd := icd_10_spelling(typed):
        spellings.append(icd)
    if match := _ICD_O_SPELLING.fullmatch(typed):
        morphology, behaviour = match.groups()
        spellings.append(f"{morphology}/{behaviour}" if behaviour else morphology)
    return tuple(dict.fromkeys(spellings))
