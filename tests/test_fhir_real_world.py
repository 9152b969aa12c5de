"""FHIR as hospitals send it: hand-made Epic-, LabCorp-, Quest- and Synthea-style resources, one per point of issue 10.

Each test imports through the public importer and checks the case that results (and, where the
point is about meaning, what the engine concludes from it).
"""

from __future__ import annotations

import json

import pytest

from allcare.engine import assess, case_from_dict
from allcare.interop.fhir import bundle_json, import_bundle

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MRN = "urn:oid:1.2.840.114350.1.13.0.1.7.5.737384.14"  # an Epic-style MRN system (OID)
PATIENT = {"resourceType": "Patient", "id": "eIXesllypH3M9tAA5WdJftQ3", "gender": "male", "birthDate": "2016-02-11",
           "identifier": [{"use": "usual", "system": MRN, "value": "203713"}]}
SUBJECT = {"reference": f"Patient/{PATIENT['id']}", "display": "Boy, Test"}


def obs(rid: str, code: str | dict, value: dict | None = None, when: str = "2024-03-01T08:30:00-05:00", **extra) -> dict:
    """An Observation coded with a LOINC ``code`` (or the CodeableConcept given)."""
    r = {"resourceType": "Observation", "id": rid, "status": "final",
         "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
         "code": code if isinstance(code, dict) else {"coding": [{"system": LOINC, "code": code}]}, "subject": SUBJECT,
         "effectiveDateTime": when, **extra}
    if value is not None:
        r["valueQuantity"] = value
    return r


def bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def imported(*resources: dict):
    result = import_bundle(json.dumps(bundle(PATIENT, *resources)))
    assert result.failed == {}, result.problems
    (patient,) = result.patients
    return patient


def findings_of(patient, kind: str) -> list:
    return [f for f in patient.case.findings if f.type == kind]


# Comparators ---------------------------------------------------------------------------------
def test_an_mrd_below_the_assays_limit_keeps_its_comparator():
    mrd = obs("mrd1", {"text": "B-ALL minimal residual disease, flow cytometry"},
              {"value": 0.01, "comparator": "<", "unit": "%", "system": UCUM, "code": "%"}, method={"text": "Flow cytometry"})
    (finding,) = findings_of(imported(mrd), "mrd")
    assert (finding.percent, finding.comparator, finding.method) == (0.01, "<", "flow")


def test_an_mrd_reported_as_text_below_the_limit_keeps_its_comparator():
    mrd = obs("mrd2", {"text": "MRD (NGS)"}, valueString="<0.0001%")
    (finding,) = findings_of(imported(mrd), "mrd")
    assert (finding.percent, finding.comparator) == (0.0001, "<")


def test_platelets_below_the_measuring_range_keep_their_comparator_and_export_it_back():
    platelets = obs("plt", "777-3", {"value": 5, "comparator": "<", "unit": "x10E3/uL", "system": UCUM, "code": "10*3/uL"})
    patient = imported(platelets)
    (cbc,) = findings_of(patient, "cbc")
    assert (cbc.platelets.value, cbc.platelets.comparator) == (5.0, "<")
    exported = bundle_json(patient.case)
    (written,) = [e["resource"] for e in exported["entry"] if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "777-3"]
    assert written["valueQuantity"] == {"value": 5, "comparator": "<", "unit": "x10E3/uL", "system": UCUM, "code": "10*3/uL"}
    again = import_bundle(exported).patients[0].case
    assert again == patient.case  # lossless round trip, comparator included


def test_a_comparator_fhir_does_not_define_drops_the_value_with_a_reason():
    patient = imported(obs("plt", "777-3", {"value": 5, "comparator": "about", "unit": "10*9/L"}),
                       obs("hb", "718-7", {"value": 8.0, "unit": "g/dL"}))
    assert findings_of(patient, "cbc")[0].platelets is None
    assert any("comparator 'about'" in e.reason for e in patient.report.not_mapped())


def _eoi_case_with(mrd_finding: dict):
    return case_from_dict({"schema": "allcare.case/1", "patient": {"id": "mrd-e2e", "age_years": 5}, "findings": [
        {"type": "cbc", "date": "2024-01-02", "wbc": 12, "blasts_pct": 40},
        {"type": "marrow", "date": "2024-01-03", "blasts_pct": 85, "timepoint": "diagnosis"},
        {"type": "immunophenotype", "date": "2024-01-03", "markers": {"CD19": "positive", "CD10": "positive", "CD79a": "positive", "TdT": "positive"}},
        {"type": "treatment", "date": "2024-01-05", "phase": "induction", "start": "2024-01-05", "end": "2024-02-02", "agents": ["vincristine"]},
        {"type": "marrow", "date": "2024-02-02", "blasts_pct": 1, "timepoint": "end_of_induction"},
        mrd_finding]})


def test_end_to_end_an_mrd_of_less_than_0_01_percent_is_not_assessed_positive():
    mrd = obs("mrd-eoi", {"text": "Measurable residual disease"}, {"value": 0.01, "comparator": "<", "unit": "%", "system": UCUM,
                                                                  "code": "%"}, when="2024-02-02", method={"text": "flow cytometry"})
    (finding,) = findings_of(imported(mrd), "mrd")
    case = _eoi_case_with({**finding.model_dump(mode="json", exclude_none=True), "sample": "marrow", "timepoint": "end_of_induction"})
    assert assess(case).mrd.latest.status != "positive"


# Relevance -------------------------------------------------------------------------------------
def _order(rid: str, code: str, display: str, when: str = "2024-03-01") -> dict:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "active", "intent": "order", "subject": SUBJECT,
            "authoredOn": when, "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code, "display": display}],
                                                             "text": display}}


def test_only_antileukaemic_and_supportive_agents_become_treatment_synthea_style():
    """A Synthea patient's medication list: lisinopril, insulin, amoxicillin are not ALL treatment blocks."""
    patient = imported(
        _order("m1", "314076", "lisinopril 10 MG Oral Tablet"),
        _order("m2", "106892", "insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Injectable Suspension",
               "2024-04-01"),
        _order("m3", "308182", "amoxicillin 250 MG Oral Capsule", "2024-05-01"),
        _order("m4", "1863343", "vinCRIStine sulfate 1 MG/ML Injectable Solution", "2024-06-03"),
        _order("m5", "197749", "mercaptopurine 50 MG Oral Tablet", "2024-06-03"),
    )
    (block,) = findings_of(patient, "treatment")
    assert block.agents == ["vinCRIStine sulfate 1 MG/ML Injectable Solution", "mercaptopurine 50 MG Oral Tablet"]
    unused = {e.resource: e.reason for e in patient.report.not_mapped()}
    assert all("not an antileukaemic agent" in unused[f"MedicationRequest/{m}"] for m in ("m1", "m2", "m3"))


def test_an_agent_coded_only_by_rxnorm_ingredient_is_recognised():
    order = _order("m9", "6851", "")
    order["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": "6851"}]}
    (block,) = findings_of(imported(order), "treatment")
    assert block.agents == ["methotrexate"]


def test_a_medication_statement_is_read_as_treatment():
    statement = {"resourceType": "MedicationStatement", "id": "ms1", "status": "active", "subject": SUBJECT,
                 "effectivePeriod": {"start": "2024-07-01"}, "medicationCodeableConcept": {"text": "Mercaptopurine 50 mg tablet"}}
    not_taken = {**statement, "id": "ms2", "status": "not-taken", "medicationCodeableConcept": {"text": "methotrexate"}}
    patient = imported(statement, not_taken)
    (block,) = findings_of(patient, "treatment")
    assert block.agents == ["Mercaptopurine 50 mg tablet"] and str(block.start) == "2024-07-01"
    assert any(e.resource == "MedicationStatement/ms2" and e.status == "skipped" for e in patient.report.entries)


# Codes ---------------------------------------------------------------------------------------------
def test_loinc_708_8_is_a_blast_count_not_a_percentage():
    patient = imported(obs("b", "708-8", {"value": 1.2, "unit": "x10E3/uL", "system": UCUM, "code": "10*3/uL"}),
                       obs("w", "6690-2", {"value": 4.0, "unit": "x10E3/uL"}))
    (cbc,) = findings_of(patient, "cbc")
    assert cbc.blasts_pct is None and cbc.wbc.value == 4.0
    assert any(e.resource == "Observation/b" and "absolute blast count" in e.reason for e in patient.report.not_mapped())


def test_csf_loinc_792_2_is_the_spinal_fluid_red_cell_count():
    patient = imported(obs("c1", "806-0", {"value": 3, "unit": "/uL"}), obs("c2", "792-2", {"value": 40, "unit": "/uL"}))
    (csf,) = findings_of(patient, "csf")
    assert (csf.wbc.value, csf.rbc.value) == (3.0, 40.0)


@pytest.mark.parametrize("system", ["http://www.genenames.org", "http://www.genenames.org/geneId"])
def test_hgnc_genes_in_either_system_uri_and_hgvs_with_a_refseq_prefix(system):
    variant = obs("v1", "69548-6", None, valueCodeableConcept={"coding": [{"system": LOINC, "code": "LA9633-4", "display": "Present"}]},
                  component=[{"code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
                              "valueCodeableConcept": {"coding": [{"system": system, "code": "HGNC:8619", "display": "PAX5"}]}},
                             {"code": {"coding": [{"system": LOINC, "code": "48005-3"}]},
                              "valueCodeableConcept": {"coding": [{"system": "http://varnomen.hgvs.org",
                                                                    "code": "NP_057953.1:p.(Pro80Arg)"}]}}])
    (genetics,) = findings_of(imported(variant), "genetics")
    assert genetics.alterations == ["PAX5_P80R"]


def test_the_export_writes_the_preferred_hgnc_system():
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "g"}, "findings": [
        {"type": "genetics", "date": "2024-01-01", "fusions": ["ETV6::RUNX1"]}]})
    systems = {c["system"] for e in bundle_json(case)["entry"] for comp in e["resource"].get("component", [])
               for c in comp.get("valueCodeableConcept", {}).get("coding", []) if "genenames" in c["system"]}
    assert systems == {"http://www.genenames.org"}


# Units ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("unit", "code"), [
    ("x10E3/uL", "10*3/uL"),  # LabCorp
    ("Thousand/uL", None),  # Quest
    ("K/mcL", None),
    ("x10^9/l", None),
    ("10³/µL", None),
    ("/nL", "/nL"),
    ("Gpt/L", None),
    ("x10(3)/mcL", None),
    ("THOU/CMM", None),  # US hospital analysers: thousands per cubic millimetre
    ("K/cmm", None),
    ("G/l", None),  # French and German laboratories: giga (10^9) per litre
])
def test_lab_unit_spellings(unit, code):
    value = {"value": 5.2, "unit": unit, **({"system": UCUM, "code": code} if code else {})}
    (cbc,) = findings_of(imported(obs("w", "6690-2", value)), "cbc")
    assert cbc.wbc.value == pytest.approx(5.2)


@pytest.mark.parametrize(("unit", "wbc"), [("/cmm", 5200), ("cells/cmm", 5200), ("/CMM", 5200)])
def test_a_count_per_cubic_millimetre_written_cmm_is_read(unit, wbc):
    """``cmm`` (cubic millimetre, the older US spelling of mm3 = uL): 5,200/cmm is 5.2 x 10^9/L."""
    (cbc,) = findings_of(imported(obs("w", "6690-2", {"value": wbc, "unit": unit})), "cbc")
    assert cbc.wbc.value == pytest.approx(5.2)


@pytest.mark.parametrize("unit", ["gm/dL", "GM/DL", "gm/dl"])
def test_grams_written_gm_are_read(unit):
    """``gm`` for grams (older US reports): haemoglobin 10.1 gm/dL is 10.1 g/dL, not a unit of another kind."""
    (cbc,) = findings_of(imported(obs("h", "718-7", {"value": 10.1, "unit": unit})), "cbc")
    assert cbc.hemoglobin.value == pytest.approx(10.1)


@pytest.mark.parametrize(("loinc_code", "value", "unit", "field", "expected"), [
    ("718-7", 10.1, "G/DL", "hemoglobin", 10.1),  # reports that print units in capitals
    ("6690-2", 5200, "/UL", "wbc", 5.2),
    ("6690-2", 5.2, "K/UL", "wbc", 5.2),
])
def test_a_unit_in_capitals_is_read_as_its_kinds_own_spelling(loinc_code, value, unit, field, expected):
    (cbc,) = findings_of(imported(obs("x", loinc_code, {"value": value, "unit": unit})), "cbc")
    assert getattr(cbc, field).value == pytest.approx(expected)


def test_a_unit_in_capitals_that_is_a_unit_of_another_kind_is_not_read():
    """``G/L`` is gauss per litre to UCUM and giga per litre to a haematology analyser: for a haemoglobin it is
    refused, never read as grams by ignoring its letter case."""
    patient = imported(obs("h", "718-7", {"value": 101, "unit": "G/L"}))
    (cbc,) = findings_of(patient, "cbc") or (None,)
    assert cbc is None or cbc.hemoglobin is None
    assert any(e.resource == "Observation/h" and "'G/L'" in e.reason for e in patient.report.not_mapped())


def test_grams_per_litre_are_never_read_as_giga_per_litre():
    """``G/l`` is giga per litre only for a cell count: a haemoglobin of 101 g/l stays grams per litre."""
    (cbc,) = findings_of(imported(obs("h", "718-7", {"value": 101, "unit": "g/l"})), "cbc")
    assert cbc.hemoglobin.value == pytest.approx(10.1)


def test_an_unknown_unit_drops_the_value_with_a_reason_not_the_patient():
    patient = imported(obs("w", "6690-2", {"value": 5.2, "unit": "bananas"}), obs("h", "718-7", {"value": 10.1, "unit": "g/dL"}))
    (cbc,) = findings_of(patient, "cbc")
    assert cbc.wbc is None and cbc.hemoglobin.value == 10.1
    assert any(e.resource == "Observation/w" and "'bananas'" in e.reason for e in patient.report.not_mapped())


def test_every_value_in_a_unit_read_before_is_read_the_same_way():
    """A unit's reading is remembered per analyte kind, unit and code: a repeat gives the same value and reason."""
    draws = [("2024-03-01", "a"), ("2024-03-08", "b")]
    resources = [r for when, n in draws for r in (
        obs(f"w{n}", "6690-2", {"value": 5.2, "unit": "bananas", "system": UCUM, "code": "10*9/L"}, when=when),  # read by its code
        obs(f"h{n}", "718-7", {"value": 10.1, "unit": "mmol/banana"}, when=when),
        obs(f"p{n}", "777-3", {"value": 150, "system": UCUM, "code": "10*9/L"}, when=when))]
    patient = imported(*resources)
    counts = findings_of(patient, "cbc")
    assert [(c.wbc.value, c.hemoglobin, c.platelets.value) for c in counts] == [(5.2, None, 150)] * 2
    reasons = {e.resource: e.reason for e in patient.report.not_mapped()}
    assert reasons["Observation/ha"] == reasons["Observation/hb"] and "'mmol/banana'" in reasons["Observation/ha"]


def test_a_reference_range_in_another_spelling_of_the_same_unit_is_used():
    """Quest: value in UCUM 10*3/uL, range written as text units K/uL."""
    wbc = obs("w", "6690-2", {"value": 5.2, "unit": "10*3/uL", "system": UCUM, "code": "10*3/uL"},
              referenceRange=[{"low": {"value": 3.8, "unit": "K/uL"}, "high": {"value": 10.8, "unit": "Thousand/uL"},
                               "text": "3.8-10.8 Thousand/uL"}])
    (cbc,) = findings_of(imported(wbc), "cbc")
    assert (cbc.wbc.lower_limit, cbc.wbc.upper_limit) == (3.8, 10.8)


def test_a_reference_range_in_another_unit_of_the_same_kind_is_converted():
    wbc = obs("w", "6690-2", {"value": 5.2, "unit": "10*9/L"}, referenceRange=[{"low": {"value": 3800, "unit": "/uL"}}])
    (cbc,) = findings_of(imported(wbc), "cbc")
    assert cbc.wbc.lower_limit == pytest.approx(3.8)


# Tolerance -----------------------------------------------------------------------------------------------
def test_contained_results_and_results_without_subject_belong_to_the_reports_patient():
    """Epic-style report: results contained in the DiagnosticReport (#refs) and a listed result without subject."""
    no_subject = obs("hb", "718-7", {"value": 9.5, "unit": "g/dL"})
    del no_subject["subject"]
    report = {"resourceType": "DiagnosticReport", "id": "cbc-report", "status": "final", "subject": SUBJECT,
              "code": {"coding": [{"system": LOINC, "code": "58410-2"}]}, "effectiveDateTime": "2024-03-01T08:30:00-05:00",
              "contained": [obs("o1", "6690-2", {"value": 4.1, "unit": "x10E3/uL"}),
                            obs("o2", "777-3", {"value": 150, "unit": "x10E3/uL"})],
              "result": [{"reference": "#o1"}, {"reference": "#o2"}, {"reference": "Observation/hb"},
                         {"reference": "Observation/not-sent"}]}
    patient = imported(report, no_subject)
    (cbc,) = findings_of(patient, "cbc")
    assert (cbc.wbc.value, cbc.platelets.value, cbc.hemoglobin.value) == (4.1, 150.0, 9.5)
    assert any("'Observation/not-sent' is not in the input" in e.reason for e in patient.report.not_mapped())


def test_month_precision_dates_are_reported_not_fatal():
    patient = imported(obs("w", "6690-2", {"value": 4.1, "unit": "10*9/L"}, when="2024-03"),
                       obs("h", "718-7", {"value": 9.5, "unit": "g/dL"}))
    assert len(findings_of(patient, "cbc")) == 1
    assert any(e.resource == "Observation/w" and "month precision" in e.reason for e in patient.report.not_mapped())


def test_a_subject_given_only_by_identifier_is_the_patient_with_that_mrn():
    result = obs("w", "6690-2", {"value": 4.1, "unit": "10*9/L"}, subject={"identifier": {"system": MRN, "value": "203713"}})
    (cbc,) = findings_of(imported(result), "cbc")
    assert cbc.wbc.value == 4.1


def test_a_bundle_without_ids_names_the_patient_the_same_way_every_time():
    """urn:uuid entries and no resource ids (a Synthea transaction Bundle): the patient is not named after the file."""
    data = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0b1c1f3e-7f5c-4b8a-9d1e-3c6a2f1e9b11", "resource": {"resourceType": "Patient", "gender": "female",
                                                                             "birthDate": "2015-05-05"}},
        {"fullUrl": "urn:uuid:5d0b3e1a-2b7c-4f6e-8a9d-1c2b3a4d5e6f", "resource": {
            "resourceType": "Observation", "status": "final", "code": {"coding": [{"system": LOINC, "code": "6690-2"}]},
            "subject": {"reference": "urn:uuid:0b1c1f3e-7f5c-4b8a-9d1e-3c6a2f1e9b11"}, "effectiveDateTime": "2024-01-01",
            "valueQuantity": {"value": 3.3, "unit": "10*3/uL", "system": UCUM, "code": "10*3/uL"}}}]}
    first = import_bundle(json.dumps(data), name="export-1.json").patients[0]
    second = import_bundle(json.dumps(data), name="export-2.json").patients[0]
    assert first.patient_id == second.patient_id == "0b1c1f3e-7f5c-4b8a-9d1e-3c6a2f1e9b11"
    assert first.case == second.case
