"""FHIR R4 for the treatment-monitoring findings: foreign resources read (chemistry in conventional units with
their ranges, vital signs with the time of day, a metaboliser status as the Genomics Reporting IG writes it,
an administered anthracycline dose), what cannot be read reported with its reason, exports that the R4B
models accept, and the CDS Hooks cards for febrile neutropenia and tumour lysis."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from fhir.resources.R4B import get_fhir_model_class

from allcare.engine import assess
from allcare.interop.casefile import load_case
from allcare.interop.cdshooks import CdsResponse, CdsSettings, create_app
from allcare.interop.cdshooks.auth import CdsAuth
from allcare.interop.fhir import bundle_json, case_resources, import_bundle
from fhir_helpers import EXAMPLES, ServerThread
from test_fhir_import import LOINC, PATIENT, UCUM, obs


def imported(*resources: dict):
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": r} for r in (PATIENT, *resources)]}))
    assert result.failed == {}, result.problems
    return result.patients[0]


def test_foreign_chemistry_of_one_draw_is_one_finding_in_its_reported_units():
    patient = imported(
        obs("ua", "3084-1", {"value": 8.1, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"},
            referenceRange=[{"high": {"value": 5.5, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}}]),
        obs("k", "2823-3", {"value": 6.2, "unit": "mmol/L", "system": UCUM, "code": "mmol/L"}),
        obs("cr", "14682-9", {"value": 88, "unit": "umol/L", "system": UCUM, "code": "umol/L"}),
        obs("alt", "1742-6", {"value": 220, "unit": "U/L", "system": UCUM, "code": "U/L"},
            referenceRange=[{"high": {"value": 40, "unit": "U/L", "system": UCUM, "code": "U/L"}}]),
    )
    (chem,) = patient.case.findings
    assert chem.type == "chemistry"
    assert (chem.uric_acid.value, chem.uric_acid.upper_limit, chem.uric_acid.reported["unit"]) == (482.0, 327.0, "mg/dL")
    assert chem.potassium.value == 6.2 and chem.creatinine.value == 88 and chem.alt.upper_limit == 40


def test_foreign_vital_signs_keep_the_time_of_day_and_read_fahrenheit():
    patient = imported(
        obs("t", "8310-5", {"value": 101.3, "unit": "degF", "system": UCUM, "code": "[degF]"}, when="2024-03-01T22:15:00+01:00",
            bodySite={"text": "Oral cavity"}),
        obs("hr", "8867-4", {"value": 140, "unit": "/min", "system": UCUM, "code": "/min"}, when="2024-03-01T22:15:00+01:00"),
        obs("bp", "85354-9", when="2024-03-01T22:15:00+01:00", component=[
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]}, "valueQuantity": {"value": 92, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]}, "valueQuantity": {"value": 55, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"}},
        ]),
        obs("anc", "751-8", {"value": 0.2, "unit": "10*9/L", "system": UCUM, "code": "10*9/L"}, when="2024-03-01T22:40:00+01:00"),
    )
    vitals = next(f for f in patient.case.findings if f.type == "vitals")
    assert (vitals.time, vitals.temperature.value, vitals.temperature_site) == ("22:15", 38.5, "oral")
    assert (vitals.heart_rate.value, vitals.systolic_bp.value, vitals.diastolic_bp.value) == (140, 92, 55)
    episode = assess(patient.case).toxicity.febrile_neutropenia[0]
    assert episode.status == "febrile_neutropenia"


def test_a_metaboliser_status_written_as_the_genomics_reporting_ig_does():
    patient = imported(obs("pgx", "53040-2", when="2024-02-01", valueCodeableConcept={"text": "Intermediate metabolizer"}, component=[
        {"code": {"coding": [{"system": LOINC, "code": "48018-6"}]},
         "valueCodeableConcept": {"coding": [{"system": "http://www.genenames.org/geneId", "code": "HGNC:23063", "display": "NUDT15"}]}},
        {"code": {"coding": [{"system": LOINC, "code": "84413-4"}]}, "valueCodeableConcept": {"text": "NUDT15*1/*3"}},
    ]))
    (pgx,) = patient.case.findings
    assert (pgx.gene, pgx.phenotype, pgx.diplotype) == ("NUDT15", "intermediate_metabolizer", "*1/*3")


def test_a_foreign_anthracycline_administration_gives_a_dose_beside_its_treatment_block():
    patient = imported({
        "resourceType": "MedicationAdministration", "id": "dauno1", "status": "completed", "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "DAUNOrubicin"}, "effectiveDateTime": "2024-03-02",
        "dosage": {"dose": {"value": 30, "unit": "mg/m2", "system": UCUM, "code": "mg/m2"}},
    })
    types = sorted(f.type for f in patient.case.findings)
    assert types == ["dose", "treatment"]
    dose = next(f for f in patient.case.findings if f.type == "dose")
    assert (dose.agent, dose.dose.value, dose.dose.unit, dose.id) == ("daunorubicin", 30, "mg/m2", "MedicationAdministration/dauno1#dose")


@pytest.mark.parametrize(("resource", "reason"), [
    (obs("mtx", "14836-1", {"value": 12, "unit": "umol/L", "system": UCUM, "code": "umol/L"}), "hours from infusion start"),
    ({"resourceType": "AdverseEvent", "id": "ae", "actuality": "actual", "subject": {"reference": "Patient/p1"}, "date": "2024-03-01",
      "event": {"text": "Pancreatitis"}}, "without a CTCAE term and grade"),
    (obs("pgx", "53040-2", when="2024-02-01", valueCodeableConcept={"text": "Poor metabolizer"}, component=[
        {"code": {"coding": [{"system": LOINC, "code": "48018-6"}]}, "valueCodeableConcept": {"text": "CYP2C19"}}]),
     "gene other than TPMT or NUDT15"),
])
def test_what_cannot_be_read_is_reported_with_its_reason(resource, reason):
    report = imported(resource).report
    reasons = {e.resource: e.reason for e in report.entries}
    assert reason in reasons[f"{resource['resourceType']}/{resource['id']}"]


def test_a_chemistry_unit_of_another_kind_drops_the_value_with_its_reason():
    # Potassium in U/L (an enzyme activity) is no potassium: the value is dropped, the patient kept.
    result = imported(obs("k", "2823-3", {"value": 6.2, "unit": "U/L", "system": UCUM, "code": "U/L"}))
    reasons = {e.resource: e.reason for e in result.report.entries}
    assert "valueQuantity.unit" in reasons["Observation/k"] and "potassium" in reasons["Observation/k"]
    assert not [f for f in result.case.findings if f.type == "chemistry"]


def test_a_conventional_unit_is_converted_through_the_molar_mass():
    result = imported(obs("u", "3084-1", {"value": 8, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}))
    chem = next(f for f in result.case.findings if f.type == "chemistry")
    assert chem.uric_acid.value == 476.0 and chem.uric_acid.reported["unit"] == "mg/dL"


@pytest.mark.parametrize("name", ["tumour_lysis_t_all_hyperleukocytosis", "maintenance_icicle_hold_after_neutropenia",
                                  "asparaginase_silent_inactivation", "anthracycline_cumulative_high_risk"])
def test_exports_are_valid_r4_and_use_the_expected_resources(name):
    case = load_case(EXAMPLES / f"{name}.yaml")
    exported = case_resources(case, assess(case))
    for r in exported:
        get_fhir_model_class(r["resourceType"]).model_validate(r)
    kinds = {r["resourceType"] for r in exported}
    assert {"Patient", "Observation"} <= kinds
    bundle = bundle_json(case)
    codes = {c.get("code") for e in bundle["entry"] for c in (e["resource"].get("code") or {}).get("coding", [])}
    if name.startswith("tumour"):
        assert {"3084-1", "2823-3", "14879-1", "2000-8", "14682-9"} <= codes
    if name.startswith("maintenance"):
        assert {"MedicationRequest"} <= kinds and {"8302-2", "29463-7"} <= codes


# CDS Hooks -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cds():
    with ServerThread(create_app(CdsSettings(allcare_url="https://allcare.example.org"), auth=CdsAuth(allow_anonymous=True))) as server:
        yield server


def _cards(cds, example: str) -> list[dict]:
    resources = case_resources(load_case(EXAMPLES / f"{example}.yaml"))
    patient = resources[0]

    def search(rtype: str) -> dict:
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r} for r in resources if r["resourceType"] == rtype]}

    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": patient["id"]},
            "prefetch": {"patient": patient, "observations": search("Observation"), "conditions": search("Condition"),
                         "medications": search("MedicationAdministration"), "medicationrequests": search("MedicationRequest"),
                         "diagnosticreports": search("DiagnosticReport"), "careplans": search("CarePlan")}}
    response = httpx.post(f"{cds.url}/cds-services/all-assessment", json=body, timeout=60)
    assert response.status_code == 200, response.text
    CdsResponse.model_validate(response.json())
    return response.json()["cards"]


def test_cds_card_for_febrile_neutropenia(cds):
    cards = _cards(cds, "febrile_neutropenia_in_maintenance")
    card = next(c for c in cards if c["source"]["topic"]["code"] == "febrile_neutropenia")
    assert card["indicator"] == "critical" and card["summary"].startswith("Febrile neutropenia on 2023-09-12")
    assert "IDSA" in card["source"]["label"] and len(card["summary"]) <= 140


def test_cds_card_for_tumour_lysis(cds):
    cards = _cards(cds, "tumour_lysis_t_all_hyperleukocytosis")
    card = next(c for c in cards if c["source"]["topic"]["code"] == "tumour_lysis")
    assert card["indicator"] == "critical" and "tumour lysis" in card["summary"].lower()
    assert "Cairo" in card["source"]["label"]
