"""Foreign FHIR (files allcare's exporter did not write): a red team's variants, one test per defect found.

Each resource is written the way real EHRs and the HL7 examples write it; each test imports it through the
public importer and checks the meaning that reaches the case (and the mapping report: nothing silently lost).
"""

from __future__ import annotations

import json

from allcare.interop.fhir import import_bundle
from fhir_helpers import FIXTURES

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
PATIENT = {"resourceType": "Patient", "id": "rt1", "gender": "female", "birthDate": "2012-06-01"}
SUBJECT = {"reference": "Patient/rt1"}


def loinc(code: str) -> dict:
    return {"coding": [{"system": LOINC, "code": code}]}


def observation(rid: str, code: dict, **elements) -> dict:
    return {"resourceType": "Observation", "id": rid, "status": "final", "code": code, "subject": SUBJECT,
            "effectiveDateTime": "2024-03-01T08:30:00+01:00", **elements}


def component(code: str, quantity: dict, **elements) -> dict:
    return {"code": loinc(code), "valueQuantity": quantity, **elements}


def imported(*resources: dict):
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": r} for r in (PATIENT, *resources)]}))
    assert result.failed == {}, result.problems
    (patient,) = result.patients
    return patient


def findings_of(patient, kind: str) -> list:
    return [f for f in patient.case.findings if f.type == kind]


# Observation.component: a blood count sent as one panel Observation with a component per analyte --------------
CBC_COMPONENTS = [
    component("6690-2", {"value": 1.2, "unit": "x10^9/L"}),
    component("777-3", {"value": 20, "comparator": "<", "unit": "10*9/L", "system": UCUM, "code": "10*9/L"},
              referenceRange=[{"low": {"value": 150, "unit": "10*9/L"}, "high": {"value": 400, "unit": "10*9/L"}}]),
    component("718-7", {"value": 7.4, "unit": "g/dL", "system": UCUM, "code": "g/dL"}),
]


def test_a_blood_count_sent_as_components_of_one_panel_is_read_with_its_comparators():
    patient = imported(observation("cbc", loinc("58410-2"), component=CBC_COMPONENTS))
    (cbc,) = findings_of(patient, "cbc")
    assert cbc.wbc.value == 1.2 and cbc.hemoglobin.value == 7.4
    assert (cbc.platelets.value, cbc.platelets.comparator, cbc.platelets.lower_limit) == (20, "<", 150)
    assert str(cbc.date) == "2024-03-01"


def test_a_panel_of_another_code_is_read_by_its_components_codes():
    """CBC W Auto Differential panel (LOINC 57021-8) or a local panel code: the components' LOINC codes say what they are."""
    for code in (loinc("57021-8"), {"coding": [{"system": "urn:oid:1.2.3.4", "code": "CBCD"}], "text": "CBC with diff"}):
        (cbc,) = findings_of(imported(observation("cbc", code, component=CBC_COMPONENTS)), "cbc")
        assert (cbc.wbc.value, cbc.platelets.comparator) == (1.2, "<")


def test_a_panel_whose_components_cannot_be_read_is_reported_not_silently_counted_as_used():
    unreadable = [component("6690-2", {"value": 1.2, "unit": "bananas"}), component("777-3", {"value": 20})]
    patient = imported(observation("cbc", loinc("58410-2"), component=unreadable))
    assert findings_of(patient, "cbc") == []
    reasons = [e.reason for e in patient.report.not_mapped() if e.resource == "Observation/cbc"]
    assert any("'bananas'" in r for r in reasons) and any("component[1]" in r for r in reasons)
    assert patient.report.counts["mapped"] == 1  # the Patient only


def test_a_spinal_fluid_count_sent_as_components_is_read():
    csf = observation("csf", {"text": "CSF cell count"}, component=[component("806-0", {"value": 12, "unit": "/uL"}),
                                                                    component("792-2", {"value": 3, "unit": "/uL"})])
    (finding,) = findings_of(imported(csf), "csf")
    assert (finding.wbc.value, finding.rbc.value) == (12, 3)


def test_a_panel_read_from_components_is_counted_once():
    patient = imported(observation("cbc", loinc("58410-2"), component=CBC_COMPONENTS))
    assert patient.report.counts["mapped"] == 2 and patient.report.total == 2


# FHIR version markers: an element R4 has is no sign of another version ------------------------------------------
HL7 = FIXTURES / "fhir" / "hl7"


def test_the_r4_specifications_own_medication_administration_example_is_read_not_refused_as_stu3():
    """R4 MedicationAdministration has ``context`` (the encounter); the HL7 R4 example uses it."""
    example = json.loads((HL7 / "MedicationAdministration-medadmin0301.json").read_text())
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": {**PATIENT, "id": "pat1"}}, {"resource": example}]}))
    assert result.failed == {} and len(result.patients) == 1
    vincristine = {**example, "id": "vcr", "contained": [], "medicationReference": None,
                   "medicationCodeableConcept": {"text": "vincristine"}, "subject": SUBJECT}
    del vincristine["medicationReference"]
    (treatment,) = findings_of(imported(vincristine), "treatment")
    assert treatment.agents == ["vincristine"] and str(treatment.start) == "2015-01-15"
