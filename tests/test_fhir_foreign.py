"""Foreign FHIR (files allcare's exporter did not write): a red team's variants, one test per defect found.

Each resource is written the way real EHRs and the HL7 examples write it; each test imports it through the
public importer and checks the meaning that reaches the case (and the mapping report: nothing silently lost).
"""

from __future__ import annotations

import json

import pytest

from allcare.interop.fhir import FhirInputError, import_bundle
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


# The same resource twice: versions of one resource, the current one counts ------------------------------------------
def _platelets(version: str | None, value: float, updated: str | None = None, status: str = "final") -> dict:
    meta = {k: v for k, v in (("versionId", version), ("lastUpdated", updated)) if v}
    return observation("plt", loinc("777-3"), status=status, valueQuantity={"value": value, "unit": "10*9/L"},
                       **({"meta": meta} if meta else {}))


def test_a_corrected_result_sent_with_its_first_version_counts_once_with_the_corrected_value():
    """FHIR R4 3.1.0.1.2/1.3: a resource's logical id never changes, and meta.versionId / meta.lastUpdated change
    with each new version: two entries of one Type/id are two versions of one result, never two results."""
    for first, second in ((_platelets("1", 15), _platelets("2", 150, status="corrected")),
                          (_platelets("2", 150, status="corrected"), _platelets("1", 15)),
                          (_platelets(None, 15, "2024-03-01T10:00:00Z"), _platelets(None, 150, "2024-03-01T12:00:00+01:00"))):
        patient = imported(first, second)
        (cbc,) = findings_of(patient, "cbc")
        assert cbc.platelets.value == 150
        assert any(e.resource == "Observation/plt" and "version" in e.reason for e in patient.report.entries)


def test_two_different_copies_of_one_resource_that_nothing_orders_are_not_used():
    patient = imported(_platelets(None, 15), _platelets(None, 150), observation("hb", loinc("718-7"),
                                                                               valueQuantity={"value": 9, "unit": "g/dL"}))
    (cbc,) = findings_of(patient, "cbc")
    assert cbc.platelets is None and cbc.hemoglobin.value == 9
    assert any(e.resource == "Observation/plt" and e.status == "unmapped" and "which is current" in e.reason
               for e in patient.report.entries)


def test_an_identical_copy_of_a_resource_is_read_once():
    patient = imported(_platelets("1", 15), _platelets("1", 15))
    assert [c.platelets.value for c in findings_of(patient, "cbc")] == [15]


# When the sample was taken: effective[x], not when the result was issued ------------------------------------------
def test_a_result_with_a_collection_period_and_an_issue_time_is_dated_by_the_collection():
    """FHIR R4 Observation.effective[x] is the clinically relevant time (for a specimen, its collection); issued is
    when this version was made available (https://hl7.org/fhir/R4/observation-definitions.html#Observation.issued)."""
    marrow = {"resourceType": "Observation", "id": "bm", "status": "final", "code": loinc("11150-0"), "subject": SUBJECT,
              "effectivePeriod": {"start": "2024-03-01T09:00:00+01:00", "end": "2024-03-01T09:20:00+01:00"},
              "issued": "2024-03-06T16:00:00+01:00", "valueQuantity": {"value": 4, "comparator": "<", "unit": "%"}}
    (finding,) = findings_of(imported(marrow), "marrow")
    assert str(finding.date) == "2024-03-01"


def test_a_result_dated_only_by_its_issue_time_says_so_in_the_report():
    wbc = {"resourceType": "Observation", "id": "w", "status": "final", "code": loinc("6690-2"), "subject": SUBJECT,
           "issued": "2024-03-06T16:00:00Z", "valueQuantity": {"value": 4, "unit": "10*9/L"}}
    patient = imported(wbc)
    (cbc,) = findings_of(patient, "cbc")
    assert str(cbc.date) == "2024-03-06"
    assert any(e.resource == "Observation/w" and "issued" in e.reason for e in patient.report.not_mapped())


# Units: a UCUM annotation alone is the unity 1 --------------------------------------------------------------------------
def test_an_mrd_in_the_ucum_unit_of_an_annotation_alone_is_a_fraction_not_a_crash():
    """UCUM 2.1 §12 (curly braces): an annotation without a unit symbol before it stands for the unity 1."""
    mrd = observation("mrd", {"text": "MRD by flow cytometry"}, valueQuantity={"value": 0.0001, "unit": "{fraction}"})
    (finding,) = findings_of(imported(mrd), "mrd")
    assert (finding.value, finding.percent) == (0.0001, None)  # a fraction of cells, as UCUM "1"


def test_a_blast_percentage_in_an_annotation_unit_is_read_as_a_ratio():
    marrow = observation("bm", loinc("11150-0"), valueQuantity={"value": 0.85, "unit": "{ratio}"})
    (finding,) = findings_of(imported(marrow), "marrow")
    assert finding.blasts_pct.value == 85


# Immunophenotype markers as percentages of positive cells -------------------------------------------------------------
MARKERS = "urn:allcare:markers"  # allcare's own marker codes, as its export writes them (and an EHR may send back)


def _marker(code: str, quantity: dict) -> dict:
    return {"code": {"coding": [{"system": MARKERS, "code": code}]}, "valueQuantity": quantity}


def test_a_marker_percentage_without_a_value_or_with_a_comparator_is_reported_not_a_crash_or_a_number():
    """A bound ("<20 %") is not a percentage of positive cells: reading it as 20 could call the marker positive."""
    immuno = observation("ip", loinc("101119-6"), component=[
        _marker("CD19", {"unit": "%"}), _marker("CD10", {"value": 20, "comparator": "<", "unit": "%"}),
        _marker("CD22", {"value": 85, "unit": "%"})])
    patient = imported(immuno)
    (finding,) = findings_of(patient, "immunophenotype")
    assert finding.markers == {"CD22": 85}
    reasons = " ".join(e.reason for e in patient.report.not_mapped() if e.resource == "Observation/ip")
    assert "component[0]" in reasons and "component[1]" in reasons and "'<'" in reasons


def test_a_version_stamp_in_another_form_fails_nothing_and_orders_nothing():
    """meta is read only to order copies of one resource: a malformed stamp is no reason to refuse the input."""
    odd = {"versionId": "W/\"3\"", "lastUpdated": "2024-03-01 10:00:00+0000"}
    (cbc,) = findings_of(imported({**_platelets(None, 150), "meta": odd}), "cbc")
    assert cbc.platelets.value == 150
    patient = imported({**_platelets(None, 15), "meta": odd}, {**_platelets(None, 150), "meta": {**odd, "versionId": "4"}})
    assert findings_of(patient, "cbc") == []
    assert any("which is current" in e.reason for e in patient.report.not_mapped())



def test_a_version_number_longer_than_a_fhir_id_orders_nothing_and_fails_nothing():
    """meta.versionId is an R4 ``id`` (at most 64 characters): a run of 5,000 digits is not a version number
    (reading it as one raised Python's integer-size error, a traceback), so it orders nothing."""
    huge = [_platelets("9" * 5000, 15), _platelets("8" * 5000, 150)]
    patient = imported(*huge)
    assert findings_of(patient, "cbc") == []
    assert any("which is current" in e.reason for e in patient.report.not_mapped())

# The specimen a result was measured on (Observation.specimen -> Specimen.type) --------------------------------------------
SNOMED = "http://snomed.info/sct"
V2_0487 = "http://terminology.hl7.org/CodeSystem/v2-0487"


def _specimen(sid: str, system: str, code: str) -> dict:
    return {"resourceType": "Specimen", "id": sid, "subject": SUBJECT, "type": {"coding": [{"system": system, "code": code}]}}


def test_an_mrd_result_takes_its_sample_from_its_specimen():
    """An MRD with no stated sample counts as marrow; a peripheral-blood MRD (its Specimen says so) must not."""
    blood = observation("mrd-pb", {"text": "MRD flow cytometry"}, valueQuantity={"value": 0.005, "unit": "%"},
                        specimen={"reference": "Specimen/pb"})
    marrow = observation("mrd-bm", {"text": "MRD flow cytometry"}, valueQuantity={"value": 0.02, "unit": "%"},
                         effectiveDateTime="2024-03-02", specimen={"reference": "#bm"},
                         contained=[{**_specimen("bm", V2_0487, "MAR"), "subject": None}])
    del marrow["contained"][0]["subject"]
    patient = imported(_specimen("pb", SNOMED, "119297000"), blood, marrow)
    assert {str(f.id): f.sample for f in findings_of(patient, "mrd")} == {"Observation/mrd-pb": "blood", "Observation/mrd-bm": "marrow"}


def test_a_blast_percentage_whose_specimen_contradicts_its_code_is_not_used():
    """LOINC 11150-0 is a marrow result and 26446-5 a blood one: a specimen of the other kind leaves the sample unknown."""
    marrow_code_on_blood = observation("bm", loinc("11150-0"), valueQuantity={"value": 80, "unit": "%"},
                                       specimen={"reference": "Specimen/pb"})
    blood_code_on_marrow = observation("pbb", loinc("26446-5"), valueQuantity={"value": 80, "unit": "%"},
                                       specimen={"reference": "Specimen/bm"})
    patient = imported(_specimen("pb", V2_0487, "BLD"), _specimen("bm", SNOMED, "119359002"), marrow_code_on_blood,
                       blood_code_on_marrow)
    assert findings_of(patient, "marrow") == [] and findings_of(patient, "cbc") == []
    reasons = {e.resource: e.reason for e in patient.report.not_mapped()}
    assert "specimen" in reasons["Observation/bm"] and "specimen" in reasons["Observation/pbb"]


def test_a_report_listing_a_panel_listing_the_results_is_read_and_every_resource_counted_once():
    """Epic / Cerner shape: DiagnosticReport.result -> panel Observation -> hasMember results."""
    members = [observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"}),
               observation("p", loinc("777-3"), valueQuantity={"value": 40, "unit": "10*9/L"})]
    panel = observation("panel", loinc("58410-2"), hasMember=[{"reference": "Observation/w"}, {"reference": "Observation/p"}])
    report = {"resourceType": "DiagnosticReport", "id": "r", "status": "final", "code": loinc("58410-2"), "subject": SUBJECT,
              "effectiveDateTime": "2024-03-01", "result": [{"reference": "Observation/panel"}]}
    patient = imported(report, panel, *members)
    (cbc,) = findings_of(patient, "cbc")
    assert (cbc.wbc.value, cbc.platelets.value) == (3.1, 40)
    assert patient.report.counts == {"mapped": 5} and patient.report.not_mapped() == []


def test_cds_hooks_reads_the_corrected_version_of_a_result_listed_twice_in_a_prefetch():
    """A prefetch listing a result and its correction: the card follows the corrected WBC, not the first version's."""
    import uuid

    import httpx

    from allcare.interop.cdshooks import CdsSettings, create_app
    from allcare.interop.cdshooks.auth import CdsAuth
    from fhir_helpers import ServerThread

    def wbc(version: str, value: float, status: str) -> dict:
        return observation("wbc", loinc("6690-2"), status=status, meta={"versionId": version},
                           valueQuantity={"value": value, "unit": "10*9/L"})

    marrow = observation("bm", loinc("11150-0"), valueQuantity={"value": 90, "unit": "%"})
    prefetch = {"patient": PATIENT, "observations": {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": r} for r in (wbc("1", 250, "final"), wbc("2", 25, "corrected"), marrow)]},
        **dict.fromkeys(("conditions", "medications", "medicationrequests", "diagnosticreports", "careplans"))}  # no data
    hook = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "prefetch": prefetch,
            "context": {"userId": "Practitioner/1", "patientId": PATIENT["id"]}}
    app = create_app(CdsSettings(allcare_url="https://allcare.example.org"), auth=CdsAuth(allow_anonymous=True))
    with ServerThread(app) as server:
        response = httpx.post(f"{server.url}/cds-services/all-assessment", json=hook, timeout=60)
    assert response.status_code == 200, response.text
    summaries = " ".join(card["summary"] for card in response.json()["cards"])
    assert "hyperleukocytosis" not in summaries and "250" not in summaries


def test_a_corrected_patient_sent_with_its_first_version_is_read_in_its_current_version():
    first = {**PATIENT, "meta": {"versionId": "1"}, "birthDate": "2021-06-01"}
    corrected = {**PATIENT, "meta": {"versionId": "2"}}
    wbc = observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"})
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": r} for r in (first, corrected, wbc)]}))
    (patient,) = result.patients
    assert str(patient.case.patient.birth_date) == PATIENT["birthDate"]
    assert any("earlier version" in e.reason for e in result.report.entries)


def test_a_contained_resource_that_contains_resources_is_refused_naming_the_rule():
    """FHIR R4 dom-2: a contained resource SHALL NOT contain nested resources (what it holds would be read by no one)."""
    inner = observation("c2", loinc("777-3"), valueQuantity={"value": 20, "unit": "10*9/L"})
    outer = observation("c1", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"}, contained=[inner])
    report = {"resourceType": "DiagnosticReport", "id": "r", "status": "final", "code": loinc("58410-2"), "subject": SUBJECT,
              "effectiveDateTime": "2024-03-01", "contained": [outer], "result": [{"reference": "#c1"}]}
    with pytest.raises(FhirInputError) as error:
        import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                  "entry": [{"resource": r} for r in (PATIENT, report)]}))
    (problem,) = error.value.problems
    assert problem.field == "contained" and "dom-2" in problem.message and "DiagnosticReport/r" in problem.resource


def test_two_different_copies_of_a_patient_that_nothing_orders_import_no_one_and_say_why():
    wbc = observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"})
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": r} for r in (PATIENT, {**PATIENT, "birthDate": "2021-06-01"}, wbc)]}))
    assert result.patients == [] and result.failed == {}
    reasons = [e.reason for e in result.report.entries]
    assert any("which is current" in r for r in reasons) and any("different copies of this Patient" in r for r in reasons)


@pytest.mark.parametrize(("name", "body_site", "sample"), [
    ("B-ALL MRD, bone marrow, flow cytometry", None, "marrow"),
    ("Peripheral blood MRD (flow)", None, "blood"),
    ("Measurable residual disease", {"coding": [{"system": "http://snomed.info/sct", "code": "14016003",
                                                  "display": "Bone marrow structure"}]}, "marrow"),
    ("Measurable residual disease", {"text": "peripheral blood"}, "blood"),
    ("Measurable residual disease", None, None),
    ("MRD in blood and bone marrow", None, None),  # names both: not guessed
])
def test_an_mrd_names_its_sample_in_its_name_or_body_site(name, body_site, sample):
    """Blood runs lower than marrow, so the sample decides how an MRD below a marrow line is read
    (docs/decisions.md#remission-mrd-line); a lab that names it only in the code text or bodySite is read."""
    elements = {"valueQuantity": {"value": 0.005, "unit": "%", "system": UCUM, "code": "%"}}
    if body_site is not None:
        elements["bodySite"] = body_site
    (mrd,) = findings_of(imported(observation("mrd", {"text": name}, **elements)), "mrd")
    assert mrd.sample == sample

# The diagnosis date: only a condition that names the leukaemia dates it ------------------------------------------------
MCODE_PRIMARY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"


def _condition(cid: str, onset: str, code: dict, *profiles: str) -> dict:
    out = {"resourceType": "Condition", "id": cid, "subject": SUBJECT, "onsetDateTime": onset, "code": code}
    return {**out, "meta": {"profile": list(profiles)}} if profiles else out


def test_an_other_cancer_does_not_give_the_leukaemia_its_diagnosis_date():
    """An mCODE PrimaryCancerCondition is any primary cancer: a breast cancer of 2018 or a CLL (as in the mCODE
    examples) is not the ALL, and its onset is not the ALL's diagnosis date (it sets the age at diagnosis and
    the treatment days); before, every primary cancer condition's date was taken and the earliest won."""
    breast = _condition("breast", "2018-03-16", {"coding": [{"system": SNOMED, "code": "353431000119107",
                                                             "display": "Primary malignant neoplasm of female left breast"}]},
                        MCODE_PRIMARY)
    cll = _condition("cll", "2020-05-12", {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.10"}]},
                     MCODE_PRIMARY)
    leukaemia = _condition("all", "2024-02-27", {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.00"}]})
    patient = imported(breast, cll, leukaemia)
    assert str(patient.case.diagnosis_date) == "2024-02-27"
    reasons = {e.resource: e.reason for e in patient.report.entries}
    assert "not name the leukaemia" in reasons["Condition/breast"] and "not name the leukaemia" in reasons["Condition/cll"]
    assert str(imported(breast).case.diagnosis_date) == "None"
    uncoded = {**breast, "id": "uncoded"}  # Condition.code is optional in R4: this raised AttributeError before
    del uncoded["code"]
    entry = {e.resource: e for e in imported(uncoded).report.entries}["Condition/uncoded"]
    assert "without a code" in entry.reason and "not the diagnosis date" in entry.reason


def test_a_primary_cancer_condition_named_only_in_words_dates_the_leukaemia_when_the_words_name_it():
    """A local code whose text names ALL (no ICD-10-CM or SNOMED CT code) still dates the diagnosis."""
    local = {"coding": [{"system": "urn:oid:1.2.3.4", "code": "LEUK-7", "display": "Precursor B lymphoblastic leukaemia"}]}
    patient = imported(_condition("dx", "2024-02-27", local, MCODE_PRIMARY))
    assert str(patient.case.diagnosis_date) == "2024-02-27"


# Results without effective[x]: dated by their specimen's collection, else by issued; never merged across draws ---------
def _undated(rid: str, code: str, value: float, **elements) -> dict:
    out = observation(rid, loinc(code), valueQuantity={"value": value, "unit": "10*9/L"}, **elements)
    del out["effectiveDateTime"]
    return out


def test_results_without_effective_time_are_dated_by_their_specimen_or_issue_and_not_merged_across_draws():
    """FHIR R4 Observation.effective[x] is optional; a result without it was taken when its Specimen was collected
    (Specimen.collection.collected[x]), and else on or before it was issued. Before, every such result of a blood
    count fell into one finding dated by the first one's issue: a platelet count of 20 March joined a WBC of
    1 March, the later WBCs were dropped as 'a second wbc', and the specimen's collection date was ignored."""
    specimen = {**_specimen("s1", V2_0487, "BLD"), "collection": {"collectedDateTime": "2024-02-27T08:00:00+01:00"}}
    dr_specimen = {**_specimen("s2", V2_0487, "BLD"), "collection": {"collectedPeriod": {"start": "2024-04-10T07:50:00Z"}}}
    report = {"resourceType": "DiagnosticReport", "id": "dr", "status": "final", "code": loinc("58410-2"), "subject": SUBJECT,
              "issued": "2024-04-12T09:00:00Z", "specimen": [{"reference": "Specimen/s2"}],
              "result": [{"reference": "Observation/w4"}]}
    patient = imported(
        _undated("w1", "6690-2", 150, issued="2024-03-01T10:00:00Z"),
        _undated("w2", "6690-2", 3, issued="2024-03-20T10:00:00Z"),
        _undated("p2", "777-3", 20, issued="2024-03-20T10:00:00Z"),
        specimen, _undated("w3", "6690-2", 7, issued="2024-04-02T10:00:00Z", specimen={"reference": "Specimen/s1"}),
        dr_specimen, report, _undated("w4", "6690-2", 5))
    by_day = {str(f.date): (f.wbc.value if f.wbc else None, f.platelets.value if f.platelets else None)
              for f in findings_of(patient, "cbc")}
    assert by_day == {"2024-02-27": (7, None), "2024-03-01": (150, None), "2024-03-20": (3, 20), "2024-04-10": (5, None)}
    reasons = {e.resource: e.reason for e in patient.report.entries}
    assert "specimen" in reasons["Observation/w3"] and "issued" in reasons["Observation/w1"]
    assert "a second" not in " ".join(reasons.values())


# An MRD reported as "not detected" in words or codes ---------------------------------------------------------------
@pytest.mark.parametrize("value", [
    {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "260415000", "display": "Not detected"}]}},
    {"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA11883-8"}]}},
    {"valueCodeableConcept": {"text": "Negative"}},
    {"valueString": "Not detected."},
    {"valueString": "undetectable"},
])
def test_an_mrd_not_detected_without_a_level_is_kept_and_judged_not_evaluable(value):
    """A lab's "Not detected" is a result: kept as 0 (not detected), which the engine judges negative only with
    the assay's sensitivity (ELN/NCCN; docs/decisions.md#mrd-lines), so without one it is 'not evaluable'.
    Before, it was reported unused and the assessment said the end-of-induction MRD had not been done."""
    from allcare.engine import assess

    mrd = observation("mrd", {"text": "MRD by flow cytometry"}, **value)
    patient = imported(mrd)
    (finding,) = findings_of(patient, "mrd")
    assert finding.fraction == 0 and finding.comparator is None and finding.sensitivity is None
    (entry,) = [e for e in patient.report.entries if e.resource == "Observation/mrd"]
    assert entry.status == "mapped" and "sensitivity" in entry.reason
    (result,) = assess(patient.case).mrd.series
    assert result.status == "not_evaluable"


def test_an_mrd_detected_without_a_level_is_reported_not_read_as_a_number():
    mrd = observation("mrd", {"text": "MRD by flow cytometry"},
                      valueCodeableConcept={"coding": [{"system": SNOMED, "code": "260373001", "display": "Detected"}]})
    patient = imported(mrd)
    assert findings_of(patient, "mrd") == []
    assert "detected without its level" in patient.report.not_mapped()[0].reason


# A batch-response: one searchset Bundle per search, and entries that answer with a status alone ---------------------
def test_a_batch_response_of_searchsets_is_read_and_an_entry_with_only_a_status_is_passed_over():
    """An EHR's answer to a batch of searches (FHIR R4 Bundle type batch-response) holds one searchset Bundle per
    search, and a search that found nothing answers with a response and no resource (invariant bdl-5 allows an
    entry without a resource when it has a request or a response). Before, the whole file was refused ('entry has
    no resource'), and without that entry the searchsets' resources were reported unused."""
    wbc = observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"})

    def searchset(*resources: dict) -> dict:
        return {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"fullUrl": f"https://ehr.example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}

    batch = {"resourceType": "Bundle", "type": "batch-response", "entry": [
        {"resource": searchset(PATIENT), "response": {"status": "200 OK"}},
        {"resource": searchset(wbc), "response": {"status": "200 OK"}},
        {"response": {"status": "404 Not Found"}}]}
    result = import_bundle(json.dumps(batch))
    (patient,) = result.patients
    (cbc,) = findings_of(patient, "cbc")
    assert cbc.wbc.value == 3.1
    with pytest.raises(FhirInputError) as error:  # neither a resource nor a request/response: not an entry at all
        import_bundle(json.dumps({**batch, "entry": [*batch["entry"], {"fullUrl": "urn:uuid:1"}]}))
    assert "bdl-5" in str(error.value.problems[0])


def test_a_contained_medication_that_names_the_drug_is_reported_as_used():
    """A MedicationAdministration naming its drug by a contained Medication (``#med``): the drug is read from it,
    so the report counts it as mapped (before: 'Medication is context, not patient data allcare uses')."""
    med = {"resourceType": "Medication", "id": "med", "code": {"coding": [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "11202", "display": "vincristine"}]}}
    given = {"resourceType": "MedicationAdministration", "id": "ma", "status": "completed", "subject": SUBJECT,
             "contained": [med], "medicationReference": {"reference": "#med"}, "effectiveDateTime": "2024-03-01"}
    patient = imported(given)
    (treatment,) = findings_of(patient, "treatment")
    assert treatment.agents == ["vincristine"]
    assert patient.report.not_mapped() == [] and patient.report.counts == {"mapped": 3}


# Resources allcare does not read, in the shapes R4 gives them -----------------------------------------------------------
@pytest.mark.parametrize("strict", [False, True])
def test_resources_allcare_does_not_read_are_passed_over_in_every_r4_shape(strict):
    """A patient's $everything or document Bundle carries resources allcare does not read; R4 gives some of them
    a single identifier (Composition, QuestionnaireResponse: 0..1), a list of subjects (Account, Contract: 0..*),
    or exists only in R4, not R4B (MedicinalProduct...). Before, each refused the whole file ('identifier:
    Expected array', 'subject: Expected object', 'not a FHIR R4 resource') although they are valid FHIR R4."""
    one_identifier = {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}
    others = [
        {"resourceType": "Composition", "id": "doc", "identifier": one_identifier, "status": "final",
         "type": loinc("60591-5"), "subject": SUBJECT, "date": "2024-03-02", "author": [{"display": "Dr A"}], "title": "Summary"},
        {"resourceType": "QuestionnaireResponse", "id": "qr", "identifier": one_identifier, "status": "completed",
         "subject": SUBJECT},
        {"resourceType": "Account", "id": "acc", "status": "active", "subject": [SUBJECT]},
        {"resourceType": "MedicinalProduct", "id": "mp", "name": [{"productName": "Vincristine"}]},
    ]
    wbc = observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"})
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": r} for r in (PATIENT, wbc, *others)]}), strict=strict)
    (patient,) = result.patients
    assert findings_of(patient, "cbc")[0].wbc.value == 3.1
    unused = {e.resource for e in [*patient.report.not_mapped(), *result.report.not_mapped()]}
    assert {"Composition/doc", "QuestionnaireResponse/qr", "Account/acc", "MedicinalProduct/mp"} <= unused


# Two servers' resources of the same Type/id in one Bundle --------------------------------------------------------------
def test_two_patients_of_the_same_id_on_two_servers_stay_two_patients():
    """A Bundle merged from two EHRs can hold Patient/1 of each (fullUrl https://a.org/fhir/Patient/1 and
    https://b.org/fhir/Patient/1): in a Bundle a resource is its fullUrl, and a relative reference ('Patient/1')
    is read against the server of the resource that makes it (FHIR R4 Bundle, resolving references). Before, the
    two were taken as versions of one resource: the boy's WBC joined the woman's record (the later versionId)."""
    def wbc(rid: str, value: float) -> dict:
        out = observation(rid, loinc("6690-2"), valueQuantity={"value": value, "unit": "10*9/L"})
        return {**out, "subject": {"reference": "Patient/1"}}

    boy = {"resourceType": "Patient", "id": "1", "meta": {"versionId": "1"}, "gender": "male", "birthDate": "2019-01-01"}
    woman = {"resourceType": "Patient", "id": "1", "meta": {"versionId": "3"}, "gender": "female", "birthDate": "1950-01-01"}
    entries = [("https://a.org/fhir/Patient/1", boy), ("https://b.org/fhir/Patient/1", woman),
               ("https://a.org/fhir/Observation/x", wbc("x", 3)), ("https://b.org/fhir/Observation/y", wbc("y", 250))]
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"fullUrl": url, "resource": r} for url, r in entries]}))
    assert result.failed == {}
    by_sex = {str(p.case.patient.sex.value): p for p in result.patients}
    assert [f.wbc.value for f in by_sex["male"].case.findings] == [3]
    assert [f.wbc.value for f in by_sex["female"].case.findings] == [250]
    assert by_sex["male"].patient_id != by_sex["female"].patient_id  # two records, never merged into one
    same_server = [(url.replace("https://b.org", "HTTP://A.org"), r) for url, r in entries]  # one server written twice
    (one,) = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"fullUrl": url, "resource": r} for url, r in same_server]})).patients
    assert one.case.patient.birth_date.year == 1950  # versions of one Patient: the current one is read


# Numeric results sent as text (valueString), and values the source says are absent --------------------------------------
def test_a_numeric_result_sent_as_text_is_read_with_its_unit_and_comparator_and_said_so():
    """HL7 v2 interfaces often send a number as text (OBX-2 'ST'), which becomes valueString: '85%' marrow blasts,
    '<20 x10^9/L' platelets. Before, each was reported 'no numeric value' and the marrow result was lost (the
    diagnosis then lacked its blast percentage). Text that is not one number (a range, words) is still not read."""
    marrow = observation("bm", loinc("11150-0"), valueString="85 %")
    platelets = observation("plt", loinc("777-3"), valueString="<20 x10^9/L")
    ranged = observation("wbc", loinc("6690-2"), valueString="3-4 x10^9/L")
    patient = imported(marrow, platelets, ranged)
    (bm,) = findings_of(patient, "marrow")
    (cbc,) = findings_of(patient, "cbc")
    assert bm.blasts_pct.value == 85
    assert (cbc.platelets.value, cbc.platelets.comparator, cbc.wbc) == (20, "<", None)
    reasons = {e.resource: e.reason for e in patient.report.entries}
    assert "valueString '85 %'" in reasons["Observation/bm"] and "no numeric value" in reasons["Observation/wbc"]


def test_a_value_the_source_says_is_absent_is_reported_with_the_sources_reason():
    absent = observation("wbc", loinc("6690-2"), dataAbsentReason={"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "error", "display": "Error"}]})
    (entry,) = imported(absent).report.not_mapped()
    assert "Error (dataAbsentReason)" in entry.reason


# A withdrawn report withdraws its results ------------------------------------------------------------------------------
@pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
def test_the_results_of_a_withdrawn_report_or_panel_are_not_used(status):
    """FHIR R4 DiagnosticReport.status entered-in-error: the report was withdrawn and 'should never have existed';
    cancelled: it was not done. Its results are part of it. Before, only the report was skipped and a result it
    lists (status final, as interfaces leave them) was still read: a withdrawn WBC of 250 raised hyperleukocytosis.
    A result also listed by a report that stands is still read."""
    wbc = observation("w", loinc("6690-2"), valueQuantity={"value": 250, "unit": "10*9/L"})
    plt = observation("p", loinc("777-3"), valueQuantity={"value": 5, "unit": "10*9/L"}, effectiveDateTime="2024-03-02")
    hb = observation("h", loinc("718-7"), valueQuantity={"value": 9, "unit": "g/dL"}, effectiveDateTime="2024-03-03")
    withdrawn = {"resourceType": "DiagnosticReport", "id": "r", "status": status, "code": loinc("58410-2"),
                 "subject": SUBJECT, "effectiveDateTime": "2024-03-01", "result": [{"reference": "Observation/w"}]}
    panel = {**observation("panel", loinc("58410-2"), status=status, effectiveDateTime="2024-03-02"),
             "hasMember": [{"reference": "Observation/p"}, {"reference": "Observation/h"}]}
    standing = {**withdrawn, "id": "r2", "status": "final", "effectiveDateTime": "2024-03-03",
                "result": [{"reference": "Observation/h"}]}
    patient = imported(withdrawn, wbc, panel, plt, hb, standing)
    (cbc,) = findings_of(patient, "cbc")
    assert (cbc.wbc, cbc.platelets, cbc.hemoglobin.value) == (None, None, 9)
    reasons = {e.resource: e.reason for e in patient.report.entries}
    assert f"DiagnosticReport/r, {status}" in reasons["Observation/w"] and f"Observation/panel, {status}" in reasons["Observation/p"]


def test_a_fhir_xml_file_is_refused_as_xml_not_as_broken_json():
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/></Bundle>'
    with pytest.raises(FhirInputError) as error:
        import_bundle(xml.encode())
    assert "FHIR XML" in error.value.problems[0].message and "JSON" in error.value.problems[0].message


# A predisposing condition that is only suspected -----------------------------------------------------------------------
@pytest.mark.parametrize("verification", ["unconfirmed", "provisional", "differential"])
def test_a_predisposing_condition_not_confirmed_is_not_taken_as_present(verification):
    """FHIR R4 Condition.verificationStatus unconfirmed / provisional / differential: the condition is suspected,
    one of several possibilities. Down syndrome changes the risk group and the toxicity picture: before, a
    differential Down syndrome was taken as present. Confirmed (or no verification status) is taken."""
    def down(cid: str, status: str | None) -> dict:
        out = {"resourceType": "Condition", "id": cid, "subject": SUBJECT,
               "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Q90.9"}]}}
        if status:
            out["verificationStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                                     "code": status}]}
        return out

    patient = imported(down("ds", verification))
    assert patient.case.patient.conditions == []
    (entry,) = patient.report.not_mapped()
    assert verification in entry.reason and "not confirmed" in entry.reason
    assert [c.value for c in imported(down("ds", "confirmed")).case.patient.conditions] == ["down_syndrome"]
    assert [c.value for c in imported(down("ds", None)).case.patient.conditions] == ["down_syndrome"]


def test_a_transaction_bundle_with_conditional_references_to_the_patient_is_read():
    """A transaction Bundle names the patient by a conditional reference, 'Patient?identifier=system|value' (FHIR R4
    http.html#trules), which the receiving server resolves to the one Patient with that identifier; allcare
    resolves it among the patients of the input. Before, every result was reported 'not a Patient in the input'."""
    mrn = "http://hospital.example.org/mrn"
    patient = {"resourceType": "Patient", "identifier": [{"system": mrn, "value": "12345"}], "birthDate": "2015-01-01"}
    wbc = observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"},
                      subject={"reference": f"Patient?identifier={mrn.replace('/', '%2F')}%7C12345"})
    del wbc["id"]
    other = {**wbc, "subject": {"reference": f"Patient?identifier={mrn}|99999"}}
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "resource": patient,
         "request": {"method": "PUT", "url": f"Patient?identifier={mrn}|12345"}},
        {"fullUrl": "urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059", "resource": wbc, "request": {"method": "POST", "url": "Observation"}},
        {"fullUrl": "urn:uuid:0f2b5c1e-6c55-4d3c-9d39-3b7cf1d2a001", "resource": other, "request": {"method": "POST", "url": "Observation"}}]}
    result = import_bundle(json.dumps(bundle))
    (imported_patient,) = result.patients
    (cbc,) = findings_of(imported_patient, "cbc")
    assert cbc.wbc.value == 3.1
    assert any("99999" in e.reason and "not a Patient in the input" in e.reason for e in result.report.entries)


def test_an_identifier_two_patients_share_names_neither():
    """Two Patients of the input with the same MRN (two sites' numbering, a typing error): a result naming the
    patient by that identifier (subject.identifier, or a conditional reference) cannot say which; before, it went
    to whichever Patient came first. Now it goes to neither, with the reason."""
    mrn = {"system": "http://hospital.example.org/mrn", "value": "12345"}
    first = {"resourceType": "Patient", "id": "a", "identifier": [mrn], "birthDate": "2015-01-01"}
    second = {"resourceType": "Patient", "id": "b", "identifier": [mrn], "birthDate": "1950-01-01"}
    wbc = {**observation("w", loinc("6690-2"), valueQuantity={"value": 3.1, "unit": "10*9/L"}), "subject": {"identifier": mrn}}
    result = import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection",
                                       "entry": [{"resource": r} for r in (first, second, wbc)]}))
    assert all(p.case.findings == [] for p in result.patients) and len(result.patients) == 2
    assert any(e.resource == "Observation/w" for e in result.report.not_mapped())


# Immunophenotype text as flow laboratories write it ----------------------------------------------------------------------
def _flow(text: str) -> dict:
    return observation("flow", loinc("101119-6"), valueString=text)


def test_a_flow_report_sentence_with_both_polarities_reads_each_marker_with_its_own():
    """'positive for CD19, CD10 and TdT and negative for MPO and cCD3': before, the 'positive for' list ran on to
    the end of the sentence, so cCD3 (the T-lineage marker) and MPO were read as POSITIVE, turning a B-ALL into a
    mixed-phenotype picture."""
    (found,) = findings_of(imported(_flow("Blasts are positive for CD19, CD10 and TdT and negative for MPO and cCD3.")),
                           "immunophenotype")
    assert found.markers == {"CD19": "positive", "CD10": "positive", "TdT": "positive", "MPO": "negative", "cCD3": "negative"}


def test_a_flow_report_in_plus_minus_notation_is_read():
    """'CD19+ CD10+ HLA-DR+ cCD3- MPO-' is the other way flow laboratories write a phenotype; a marker written
    '+/-' (partly expressed) is not read either way."""
    (found,) = findings_of(imported(_flow("CD19+, CD10+, HLA-DR+, CD34+/-, cCD3-, MPO-")), "immunophenotype")
    assert found.markers == {"CD19": "positive", "CD10": "positive", "HLA-DR": "positive", "cCD3": "negative",
                             "MPO": "negative"}


def test_a_radiotherapy_course_coded_only_is_named_radiotherapy_and_exported_as_one():
    """An mCODE RadiotherapyCourseSummary often carries the SNOMED CT code alone (no display or text). Before, the
    code itself became the treatment's agent ('1217123003'), and allcare's own export then wrote that 'agent' as
    a MedicationAdministration. Now the agent is 'radiotherapy' with its body site, and it goes back out as a
    radiotherapy Procedure."""
    from allcare.interop.fhir import case_to_bundle

    course = {"resourceType": "Procedure", "id": "rt", "status": "completed", "subject": SUBJECT,
              "meta": {"profile": ["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-course-summary"]},
              "code": {"coding": [{"system": SNOMED, "code": "1217123003"}]},
              "bodySite": [{"coding": [{"system": SNOMED, "code": "12738006", "display": "Brain structure"}]}],
              "performedPeriod": {"start": "2024-03-01", "end": "2024-03-12"}}
    patient = imported(course)
    (treatment,) = findings_of(patient, "treatment")
    assert treatment.agents == ["radiotherapy to Brain structure"]
    exported = case_to_bundle(patient.case)
    types = [e["resource"]["resourceType"] for e in exported["entry"]]
    assert "Procedure" in types and "MedicationAdministration" not in types


def test_an_mrd_whose_specimen_is_not_in_the_input_takes_its_sample_from_the_references_words_or_says_so():
    """A CDS Hooks prefetch or an Observation search carries no Specimen: an MRD naming 'Specimen/pb' (display
    'Peripheral blood') was counted as a marrow MRD (the default), although the reference says blood. Now the
    reference's words give the sample; a reference with no words is reported: its sample is not known."""
    blood = observation("mrd-pb", {"text": "MRD flow cytometry"}, valueQuantity={"value": 0.005, "unit": "%"},
                        specimen={"reference": "Specimen/pb", "display": "Peripheral blood"})
    unknown = observation("mrd-x", {"text": "MRD flow cytometry"}, valueQuantity={"value": 0.02, "unit": "%"},
                          effectiveDateTime="2024-03-02", specimen={"reference": "Specimen/x"})
    patient = imported(blood, unknown)
    assert {str(f.id): f.sample for f in findings_of(patient, "mrd")} == {"Observation/mrd-pb": "blood", "Observation/mrd-x": None}
    reasons = {e.resource: e.reason for e in patient.report.entries}
    assert "Specimen/x" in reasons["Observation/mrd-x"] and "not in the input" in reasons["Observation/mrd-x"]


def test_a_cumulative_report_of_several_draws_gives_one_finding_per_draw():
    """A DiagnosticReport listing results of several days (a cumulative or trend report, as EHRs print them): each
    result keeps its own draw. Before, the report's results were one blood count dated by the first: the platelet
    count of 20 March joined the WBC of 1 March, and the WBC of 20 March was dropped as 'a second wbc'."""
    results = [observation("a", loinc("6690-2"), valueQuantity={"value": 150, "unit": "10*9/L"}, effectiveDateTime="2024-03-01"),
               observation("b", loinc("6690-2"), valueQuantity={"value": 3, "unit": "10*9/L"}, effectiveDateTime="2024-03-20"),
               observation("c", loinc("777-3"), valueQuantity={"value": 20, "unit": "10*9/L"}, effectiveDateTime="2024-03-20")]
    report = {"resourceType": "DiagnosticReport", "id": "r", "status": "final", "code": loinc("58410-2"), "subject": SUBJECT,
              "effectiveDateTime": "2024-03-01", "result": [{"reference": f"Observation/{r['id']}"} for r in results]}
    patient = imported(report, *results)
    by_day = {str(f.date): (f.wbc.value if f.wbc else None, f.platelets.value if f.platelets else None)
              for f in findings_of(patient, "cbc")}
    assert by_day == {"2024-03-01": (150, None), "2024-03-20": (3, 20)}
    assert patient.report.not_mapped() == []


# Two copies of one result without version metadata: the status says which came later -----------------------------------
def test_the_status_orders_two_copies_of_a_result_that_carry_no_version():
    """An interface forwards a result and then its correction, both without meta.versionId or lastUpdated: the
    copy whose status is corrected/amended (FHIR R4 observation-status: 'subsequent to being final') is the later
    one, and one entered-in-error withdraws the result. Before, neither copy was used."""
    def wbc(value: float, status: str) -> dict:
        return observation("wbc", loinc("6690-2"), status=status, valueQuantity={"value": value, "unit": "10*9/L"})

    (cbc,) = findings_of(imported(wbc(250, "final"), wbc(25, "corrected")), "cbc")
    assert cbc.wbc.value == 25
    (cbc,) = findings_of(imported(wbc(25, "amended"), wbc(250, "preliminary")), "cbc")
    assert cbc.wbc.value == 25
    assert findings_of(imported(wbc(250, "final"), wbc(250.0001, "entered-in-error")), "cbc") == []
    assert findings_of(imported(wbc(250, "final"), wbc(25, "final")), "cbc") == []  # nothing orders them: neither


def test_a_leukaemia_condition_dated_by_an_onset_period_gives_the_diagnosis_date():
    """Condition.onset[x] may be a Period (FHIR R4): its start dates the diagnosis as onsetDateTime does; before,
    it was reported 'no asserted or onset date' and the diagnosis date was guessed from the findings."""
    condition = {"resourceType": "Condition", "id": "dx", "subject": SUBJECT, "onsetPeriod": {"start": "2024-02-27"},
                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C91.00"}]}}
    assert str(imported(condition).case.diagnosis_date) == "2024-02-27"
