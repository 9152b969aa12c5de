"""FHIR import of data written by other systems: codes, units, grouping, the report, and bad input.

The mCODE STU4 paediatric example patient (Brian L, B-ALL, written as a fixture from the
published example content) must import and be assessed sensibly.
"""

from __future__ import annotations

import copy
import json

import pytest

from allcare.engine import assess
from allcare.interop.fhir import FhirInputError, import_bundle
from fhir_helpers import BRIAN

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "2017-06-01"}


def obs(rid: str, code: str, value: dict | None = None, when: str = "2024-03-01T08:30:00+01:00", **extra) -> dict:
    r = {"resourceType": "Observation", "id": rid, "status": "final", "code": {"coding": [{"system": LOINC, "code": code}]},
         "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when, **extra}
    if value is not None:
        r["valueQuantity"] = value
    return r


def bundle(*resources: dict, **extra) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources], **extra}


def only_case(data):
    result = import_bundle(json.dumps(data) if isinstance(data, dict) else data)
    assert result.failed == {}, result.problems
    (patient,) = result.patients
    return patient


def problems_of(data, **kwargs) -> list[str]:
    with pytest.raises(FhirInputError) as info:  # noqa: PT012 - raised by the import or by its result
        result = import_bundle(data if isinstance(data, (str, bytes)) else json.dumps(data), **kwargs)
        if result.failed:
            raise FhirInputError(result.problems)
    return [str(p) for p in info.value.problems]


# The mCODE paediatric B-ALL example --------------------------------------------------------
@pytest.fixture(scope="module")
def brian():
    return only_case(BRIAN.read_text())


def test_mcode_paediatric_example_imports_the_findings_it_contains(brian):
    case = brian.case
    assert case.patient.id == "cancer-patient-brian-l" and case.patient.sex.value == "male"
    assert str(case.patient.birth_date) == "2021-01-01" and str(case.diagnosis_date) == "2024-01-01"
    by_type = {f.type: f for f in case.findings}
    cbc = by_type["cbc"]
    assert cbc.wbc.value == pytest.approx(88.5) and cbc.hemoglobin.value == pytest.approx(6.7)  # 10*3/uL = 10^9/L
    assert cbc.id == "DiagnosticReport/us-core-diagnosticreport-cbc-brian-l"
    assert set(by_type["immunophenotype"].markers) == {"CD10", "cCD79a", "TdT", "CD19", "CD20"}
    assert by_type["genetics"].fusions == ["ETV6::RUNX1"]
    treatment = by_type["treatment"]
    assert sorted(a.lower() for a in treatment.agents) == ["cyclophosphamide", "idarubicin", "prednisone", "vincristine"]
    assert str(treatment.start) == "2024-01-09" and treatment.end is None


def test_mcode_paediatric_example_reports_every_resource_it_does_not_use(brian):
    report = brian.report
    assert report.total == 28
    assert report.counts["unmapped"] == 10 and report.counts["derived"] == 3 and report.counts["skipped"] == 4
    reasons = {e.resource: e.reason for e in report.entries}
    assert "Observation/body-surface-area-brian-l" not in reasons  # body surface area (LOINC 8277-6) is read
    assert "20570-8" in reasons["Observation/hematocrit-brian-l"]
    assert "blast percentage" in reasons["Observation/bone-marrow-aspirate-result-brian-l"]
    assert "covered by MedicationAdministration" in reasons["MedicationRequest/cancer-related-medication-request-vincristine-brian-l"]
    assert any("Standard Risk Acute Leukemia" in c for c in report.source_conclusions)


def test_mcode_paediatric_example_is_assessed_sensibly(brian):
    a = assess(brian.case)
    assert a.diagnosis.lineage == "B"
    assert "ETV6::RUNX1" in a.diagnosis.genetics.detected
    # No marrow blast percentage in the example (only "predominance of immature cells"): the engine does not
    # guess leukaemia vs lymphoma, it says what is missing.
    assert a.diagnosis.disease == "indeterminate"
    assert any("marrow blast" in m for m in a.missing)
    assert a.cns_status is None and any("lumbar puncture" in m for m in a.missing)
    assert a.status.current == "on_treatment"
    assert a.patient.age_at_diagnosis == pytest.approx(3.0, abs=0.01)


# Units and codes ------------------------------------------------------------------------------
@pytest.mark.parametrize("unit,code,value,expected", [
    ("10*3/uL", "10*3/uL", 12.4, 12.4),
    ("/uL", "/uL", 12400, 12.4),
    ("x10E3/uL", "10*3/uL", 12.4, 12.4),      # unit text not in the tables: the UCUM code is used
    ("K/uL", None, 12.4, 12.4),
    (None, "10*9/L", 12.4, 12.4),             # code only: the canonical unit, a bare number
])
def test_wbc_units_are_converted_by_the_case_model(unit, code, value, expected):
    q = {"value": value, "system": UCUM}
    if unit:
        q["unit"] = unit
    if code:
        q["code"] = code
    case = only_case(bundle(PATIENT, obs("w", "6690-2", q))).case
    assert case.findings[0].wbc.value == pytest.approx(expected)


def test_haemoglobin_in_g_per_litre_and_mmol():
    data = bundle(PATIENT, obs("h1", "718-7", {"value": 81, "unit": "g/L", "system": UCUM, "code": "g/L"}, when="2024-03-01"),
                  obs("h2", "718-7", {"value": 5.0, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}, when="2024-03-02"))
    hb = [f.hemoglobin.value for f in only_case(data).case.findings]
    assert hb == pytest.approx([8.1, 8.057])


def test_results_of_one_draw_become_one_blood_count_and_different_draws_two():
    data = bundle(PATIENT,
                  obs("w1", "26464-8", {"value": 3.1, "unit": "10*9/L", "code": "10*9/L", "system": UCUM}),
                  obs("p1", "777-3", {"value": 150, "unit": "10*9/L", "code": "10*9/L", "system": UCUM}),
                  obs("n1", "751-8", {"value": 1.2, "unit": "10*9/L", "code": "10*9/L", "system": UCUM}),
                  obs("w2", "26464-8", {"value": 4.0, "unit": "10*9/L", "code": "10*9/L", "system": UCUM}, when="2024-03-08T08:00:00Z"))
    findings = only_case(data).case.findings
    assert [(f.type, f.id) for f in findings] == [("cbc", "Observation/n1+Observation/p1+Observation/w1"), ("cbc", "Observation/w2")]
    assert findings[0].anc.value == 1.2 and findings[0].platelets.value == 150


def test_marrow_blasts_csf_counts_and_mrd_by_name():
    data = bundle(PATIENT,
                  obs("m", "11150-0", {"value": 86, "unit": "%", "system": UCUM, "code": "%"}, method={"text": "Flow cytometry"}),
                  obs("cw", "26465-5", {"value": 7, "unit": "/uL", "system": UCUM, "code": "/uL"}, when="2024-03-02"),
                  obs("cr", "26454-9", {"value": 2, "unit": "/uL", "system": UCUM, "code": "/uL"}, when="2024-03-02"),
                  {**obs("mrd", "x", {"value": 0.02, "unit": "%", "system": UCUM, "code": "%"}, when="2024-04-01"),
                   "code": {"text": "B-ALL minimal residual disease, flow cytometry"}})
    by_type = {f.type: f for f in only_case(data).case.findings}
    assert by_type["marrow"].blasts_pct.value == 86 and by_type["marrow"].method == "flow"
    assert by_type["csf"].wbc.value == 7 and by_type["csf"].rbc.value == 2
    assert by_type["mrd"].percent == 0.02


def test_loinc_77147_7_is_not_read_as_marrow_blasts():
    patient = only_case(bundle(PATIENT, obs("e", "77147-7", {"value": 78, "unit": "mL/min/{1.73_m2}"})))
    assert patient.case.findings == []
    assert "eGFR" in patient.report.entries[0].reason


def test_condition_codes_give_predisposing_conditions_and_the_diagnosis_date():
    down = {"resourceType": "Condition", "id": "ds", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Q90.9"}]}}
    all_dx = {"resourceType": "Condition", "id": "dx", "subject": {"reference": "Patient/p1"}, "onsetDateTime": "2024-02-27",
              "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/condition-assertedDate", "valueDateTime": "2024-03-01"}],
              "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.00"}]}}
    refuted = {**down, "id": "r", "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "refuted"}]},
               "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z92.21"}]}}
    patient = only_case(bundle(PATIENT, down, all_dx, refuted))
    assert [c.value for c in patient.case.patient.conditions] == ["down_syndrome"]
    assert str(patient.case.diagnosis_date) == "2024-03-01"
    assert patient.report.counts == {"mapped": 2, "derived": 1, "skipped": 1}


def test_entered_in_error_results_are_skipped_not_used():
    wrong = obs("w", "26464-8", {"value": 250, "unit": "10*9/L", "code": "10*9/L"}, status="entered-in-error")
    patient = only_case(bundle(PATIENT, wrong))
    assert patient.case.findings == [] and patient.report.counts["skipped"] == 1


def test_genomic_variants_from_genes_change_type_and_protein_change():
    def variant(rid, answer, *components):
        return {"resourceType": "Observation", "id": rid, "status": "final", "subject": {"reference": "Patient/p1"},
                "effectiveDateTime": "2024-03-05", "code": {"coding": [{"system": LOINC, "code": "69548-6"}]},
                "valueCodeableConcept": {"coding": [{"system": LOINC, "code": answer}]}, "component": list(components)}

    def gene(symbol):
        return {"code": {"coding": [{"system": LOINC, "code": "48018-6"}]}, "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId", "code": "x", "display": symbol}]}}

    protein = {"code": {"coding": [{"system": LOINC, "code": "48005-3"}]}, "valueCodeableConcept": {"text": "p.Pro80Arg"}}
    deletion = {"code": {"coding": [{"system": LOINC, "code": "48019-4"}]}, "valueCodeableConcept": {"coding": [{"code": "SO:0000159"}]}}
    data = bundle(PATIENT, variant("a", "LA9634-2", gene("BCR"), gene("ABL1")), variant("b", "LA9633-4", gene("PAX5"), protein),
                  variant("c", "LA9633-4", gene("IKZF1"), deletion), variant("d", "LA9633-4"))
    patient = only_case(data)
    genetics = patient.case.findings
    assert [g.negative for g in genetics[:1]] == [["BCR::ABL1"]]
    assert [a for g in genetics for a in g.alterations] == ["PAX5_P80R", "IKZF1_deletion"]
    assert any(e.resource == "Observation/d" and "no gene" in e.reason for e in patient.report.entries)


# Bad input ------------------------------------------------------------------------------------
def test_malformed_json_names_the_position():
    (problem,) = problems_of('{"resourceType": "Bundle", "entry": [')
    assert "not valid JSON" in problem and "line 1" in problem


def test_unknown_resource_type_names_the_entry():
    (problem,) = problems_of(bundle(PATIENT, {"resourceType": "Biopsy", "id": "b1"}))
    assert problem.startswith("Biopsy/b1: resourceType: unknown resource type 'Biopsy'")


@pytest.mark.parametrize("resource,version", [
    ({"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "x"}, "context": {"reference": "Encounter/e"}}, "STU3"),
    ({"resourceType": "MedicationAdministration", "id": "m", "status": "completed", "subject": {"reference": "Patient/p1"},
      "medication": {"concept": {"text": "vincristine"}}, "occurenceDateTime": "2024-01-01"}, "R5"),
])
def test_other_fhir_versions_are_named(resource, version):
    (problem,) = problems_of(bundle(PATIENT, resource))
    assert f"FHIR {version}" in problem and problem.startswith(f"{resource['resourceType']}/{resource['id']}")


def test_declared_fhir_version_other_than_r4_is_refused():
    (problem,) = problems_of(bundle(PATIENT), fhir_version="3.0.2")
    assert "fhirVersion" in problem and "3.0.2" in problem
    (problem,) = problems_of({**bundle(PATIENT), "fhirVersion": "5.0.0"})
    assert "5.0.0" in problem


def test_a_unit_that_cannot_be_converted_drops_that_value_with_a_reason_not_the_patient():
    patient = only_case(bundle(PATIENT, obs("w", "26464-8", {"value": 5, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}),
                               obs("h", "718-7", {"value": 9.1, "unit": "g/dL"})))
    (cbc,) = patient.case.findings
    assert cbc.wbc is None and cbc.hemoglobin.value == 9.1
    (entry,) = [e for e in patient.report.not_mapped() if e.resource == "Observation/w"]
    assert entry.status == "unmapped" and entry.reason.startswith("valueQuantity.unit: unit 'mg/dL'") and "cell count" in entry.reason


def test_an_implausible_value_is_dropped_with_the_reason_traced_to_its_resource():
    """The mCODE example Jenny M has neutrophils of "3000 10*3/uL": that value goes, the patient stays."""
    patient = only_case(bundle(PATIENT, obs("w", "26464-8", {"value": 12400, "unit": "10*9/L", "code": "10*9/L"}),
                               obs("h", "718-7", {"value": 9.1, "unit": "g/dL"})))
    (cbc,) = patient.case.findings
    assert cbc.wbc is None and cbc.hemoglobin.value == 9.1
    assert any(e.resource == "Observation/w" and e.reason.startswith("wbc: must be <= 2000") for e in patient.report.not_mapped())


def test_a_contradiction_in_the_patient_itself_fails_that_patient():
    contradictory = {**PATIENT, "extension": [{"url": "urn:allcare:extension:age-at-diagnosis", "valueDecimal": 30},
                                              {"url": "urn:allcare:extension:diagnosis-date", "valueDate": "2024-01-01"}]}
    (problem,) = problems_of(bundle(contradictory, obs("w", "26464-8", {"value": 5, "unit": "10*9/L"})))
    assert problem.startswith("Patient/p1: patient.age_years 30 contradicts birth_date 2017-06-01")


def test_a_reference_to_a_missing_resource_is_reported_not_fatal():
    orphan = obs("w", "26464-8", {"value": 5, "unit": "10*9/L"}, subject={"reference": "Patient/nobody"})
    result = import_bundle(json.dumps(bundle(PATIENT, orphan)))
    assert result.failed == {} and [p.patient_id for p in result.patients] == ["p1"]
    (entry,) = [e for e in result.report.entries if e.resource == "Observation/w"]
    assert entry.status == "unmapped" and "'Patient/nobody' is not a Patient in the input" in entry.reason
    report = {"resourceType": "DiagnosticReport", "id": "r", "status": "final", "code": {"text": "CBC"},
              "subject": {"reference": "Patient/p1"}, "result": [{"reference": "Observation/gone"}]}
    patient = only_case(bundle(PATIENT, report))
    assert any(e.resource == "DiagnosticReport/r" and "'Observation/gone' is not in the input" in e.reason
               for e in patient.report.not_mapped())


def test_an_invalid_element_names_the_field():
    bad = obs("w", "26464-8", {"value": "many", "unit": "10*9/L"})
    (problem,) = problems_of(bundle(PATIENT, bad))
    assert problem.startswith("Observation/w: valueQuantity.value")


MALFORMED_FORMATS = [  # (resource, the field named): a date, time or id allcare reads, written wrongly
    ({**PATIENT, "birthDate": "2017-6-1"}, "Patient/p1: birthDate"),
    ({**PATIENT, "extension": [{"url": "urn:allcare:extension:diagnosis-date", "valueDate": "yesterday"}]},
     "Patient/p1: extension[0].valueDate"),
    (obs("w", "26464-8", {"value": 5, "unit": "10*9/L"}, when="2024-03-01 08:30"), "Observation/w: effectiveDateTime"),
    ({**obs("w", "26464-8", {"value": 5, "unit": "10*9/L"}), "effectiveDateTime": None,
      "effectivePeriod": {"start": "01/03/2024"}}, "Observation/w: effectivePeriod.start"),
    (obs("w", "26464-8", {"value": 5, "unit": "10*9/L"}, extension=[{"url": "urn:x", "valueTime": "8:30"}]),
     "Observation/w: extension[0].valueTime"),
    (obs("bad id!", "26464-8", {"value": 5, "unit": "10*9/L"}), "Observation/bad id!: id"),
    # a regular expression's ``$`` also matches before a final line break: neither an id nor a date may end in one
    (obs("w\n", "26464-8", {"value": 5, "unit": "10*9/L"}), "Observation/w\n: id"),
    (obs("w", "26464-8", {"value": 5, "unit": "10*9/L"}, when="2024-03-01\n"), "Observation/w: effectiveDateTime"),
    ({"resourceType": "MedicationRequest", "id": "m", "status": "active", "intent": "order",
      "subject": {"reference": "Patient/p1"}, "medicationCodeableConcept": {"text": "mercaptopurine"},
      "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-01-01", "end": "2024-13-01T"}}}}]},
     "MedicationRequest/m: dosageInstruction[0].timing.repeat.boundsPeriod.end"),
]


@pytest.mark.parametrize(("resource", "named"), MALFORMED_FORMATS)
def test_a_malformed_date_time_or_id_allcare_reads_names_the_resource_and_field(resource, named):
    """Never read as another date or as no date: the import stops, naming the field and its accepted form."""
    resource = {key: value for key, value in resource.items() if value is not None}
    for strict in (False, True):
        problems = problems_of(bundle(*([] if resource["resourceType"] == "Patient" else [PATIENT]), resource), strict=strict)
        assert any(p.startswith(f"{named}: Expected 'str' matching regex") for p in problems), problems


def test_oversized_input_is_refused_before_parsing():
    text = json.dumps(bundle(PATIENT, obs("w", "26464-8", {"value": 5, "unit": "10*9/L"})))
    (problem,) = problems_of(text, max_bytes=100)
    assert "over the limit of 100 bytes" in problem and "NDJSON" in problem


def test_import_commits_per_patient():
    other = {"resourceType": "Patient", "id": "p2", "gender": "male"}
    other["birthDate"], other["extension"] = "2017-06-01", [
        {"url": "urn:allcare:extension:age-at-diagnosis", "valueDecimal": 30},
        {"url": "urn:allcare:extension:diagnosis-date", "valueDate": "2024-01-01"}]
    bad = obs("w", "26464-8", {"value": 5, "unit": "10*9/L"}, subject={"reference": "Patient/p2"})
    good = obs("g", "26464-8", {"value": 5, "unit": "10*9/L"})
    result = import_bundle(json.dumps(bundle(PATIENT, other, good, bad)))
    assert [p.patient_id for p in result.patients] == ["p1"]
    assert list(result.failed) == ["Patient/p2"] and "contradicts birth_date" in str(result.failed["Patient/p2"][0])


def test_brian_with_a_broken_unit_keeps_the_patient_and_reports_the_value():
    data = json.loads(BRIAN.read_text())
    broken = copy.deepcopy(data)
    for entry in broken["entry"]:
        if entry["resource"]["id"] == "white-blood-cell-brian-l":
            entry["resource"]["valueQuantity"] = {"value": 88.5, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}
    (patient,) = import_bundle(json.dumps(broken)).patients
    assert all(getattr(f, "wbc", None) is None for f in patient.case.findings)
    assert any(e.resource == "Observation/white-blood-cell-brian-l" and e.reason.startswith("valueQuantity.unit")
               for e in patient.report.not_mapped())


def test_a_finding_built_from_many_resources_gets_a_short_stable_id(brian):
    """Brian's treatment block joins five MedicationAdministrations: the id stays within the case
    model's 200 characters and is the same on every import (so a second import changes nothing)."""
    case = brian.case
    ids = [f.id for f in case.findings]
    assert all(i is not None and len(i) <= 200 for i in ids)
    treatment = next(f for f in case.findings if f.type == "treatment" and "-more~" in (f.id or ""))
    assert treatment.id.startswith("MedicationAdministration/")
    again = import_bundle(BRIAN.read_bytes()).patients[0].case
    assert [f.id for f in again.findings] == ids


def test_strict_mode_validates_every_element_with_the_r4b_models():
    """The default import checks the elements allcare reads; strict also checks the others."""
    odd = obs("g", "26464-8", {"value": 5, "unit": "10*9/L"}, interpretation="H")  # must be a list of concepts
    only_case(bundle(PATIENT, odd))
    (problem, *_) = problems_of(bundle(PATIENT, odd), strict=True)
    assert problem.startswith("Observation/g: interpretation")
    assert import_bundle(BRIAN.read_bytes(), strict=True).patients[0].case == import_bundle(BRIAN.read_bytes()).patients[0].case


@pytest.mark.parametrize(("down_code", "all_code"), [("Q909", "C9100"), ("q90.9", "c91.00"), (" Q90.9", "C91.00 ")])
def test_icd_10_cm_codes_written_without_their_dot_or_in_lower_case_are_read(down_code, all_code):
    """EHRs and registry extracts often drop the dot after the 3-character category or write lower case
    (the CMS tabular list spells "C91.00"): the code means the same, so the condition and the diagnosis
    date are read all the same (before: the condition was reported unused and the diagnosis date lost)."""
    icd = "http://hl7.org/fhir/sid/icd-10-cm"
    down = {"resourceType": "Condition", "id": "ds", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": icd, "code": down_code}]}}
    all_dx = {"resourceType": "Condition", "id": "dx", "subject": {"reference": "Patient/p1"}, "onsetDateTime": "2024-02-27",
              "code": {"coding": [{"system": icd, "code": all_code}]}}
    patient = only_case(bundle(PATIENT, down, all_dx))
    assert [c.value for c in patient.case.patient.conditions] == ["down_syndrome"]
    assert str(patient.case.diagnosis_date) == "2024-02-27"
