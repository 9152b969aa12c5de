"""The rule set is a server setting (ALLCARE_RULES): the store, the pages, the patient report and the CDS
Hooks service assess with it; an invalid file stops the server with its problems, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from allcare.interop.casefile import load_case
from allcare.interop.fhir import case_resources
from allcare.settings import Settings
from allcare.web.app import create_app
from conftest import FAST_HASH
from test_web_pages import logged_in

ROOT = Path(__file__).resolve().parents[1]
CENTRE = "centre-rules/2027.1"


@pytest.fixture
def rules_file(tmp_path) -> Path:
    path = tmp_path / "centre.yaml"
    path.write_text(f"version: {CENTRE}\nm1_below_pct: 7\nleukaemia_marrow_blast_pct: 25\nmrd_negative_below: 0.001\n"
                    "mrd_required_sensitivity: 0.001\nfever_sustained_min: 37.8\niamp21_runx1_min_copies: 6\n")
    return path


@pytest.fixture
def centre_app(rules_file, database_url, store, world, monkeypatch):
    monkeypatch.setenv("ALLCARE_RULES", str(rules_file))
    settings = Settings(_env_file=None, database_url=database_url, secret_key="test-secret-" + "k" * 40, demo=False,
                        cds_allow_anonymous=True, **FAST_HASH)
    assert settings.rule_set().version == CENTRE and settings.rule_set().m1_below_pct == 7
    return create_app(settings, store=store)


def test_the_store_assesses_and_summarises_with_the_servers_rule_set(centre_app, world):
    """The stored summaries (of allcare's default rules) are listed as not fresh until the server's
    background pass has recomputed them with the centre's rules; no list waits for that."""
    with TestClient(centre_app) as client:
        assessed = client.get(f"/api/v1/patients/{world.patient_a}/assessment", headers=world.auth("clinician")).json()
        assert assessed["rules_version"] == CENTRE
        deadline = time.monotonic() + 60
        while True:
            listed = client.get("/api/v1/patients", headers=world.auth("clinician")).json()["items"]
            if all(item["summary"]["fresh"] for item in listed) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert listed and all(item["summary"]["fresh"] for item in listed)  # summaries computed with the centre's rules
    with world.store.transaction() as session:
        from allcare.store.models import PatientSummary

        assert {s.rules_version for s in session.query(PatientSummary)} == {CENTRE}


def test_the_karyotype_preview_reads_fish_under_the_servers_rule_set(centre_app, world):
    """The form's live preview says what the engine will conclude: iAMP21 at 5 RUNX1 signals is allcare's
    default line, and this centre asks for 6."""
    client = logged_in(centre_app, "clinician")
    text = "47,XX,+X,add(21)(q22)[12]/46,XX[8].nuc ish(RUNX1x5)[160/200]"
    lines = client.get("/karyotype/parse", params={"text": text}).json()["lines"]
    assert any("iAMP21 not detected" in line and "< 6" in line for line in lines), lines


def test_the_patient_report_names_the_rule_sets_thresholds(centre_app, world):
    page = logged_in(centre_app, "patient_a").get(f"/patients/{world.patient_a}/report").text
    assert "25 or more in every 100" in page and "fewer than 7 in 100" in page  # the marrow test, explained
    assert "20 or more in every 100" not in page and "fewer than 5 in 100" not in page
    assert "37.8 °C" in page  # the fever line families are asked to call at
    assert "38.0 °C" not in page


def test_cds_hooks_assess_with_the_rule_set(centre_app):
    resources = case_resources(load_case(ROOT / "examples" / "childhood_b_all_standard_risk.yaml"))
    patient = resources[0]

    def bundle(rtype):  # a few of each: an anonymous request may send 64 KiB
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r} for r in resources if r["resourceType"] == rtype][:8]}

    prefetch = {"patient": patient, **{key: bundle(rtype) for key, rtype in [
        ("observations", "Observation"), ("conditions", "Condition"), ("medications", "MedicationAdministration"),
        ("medicationrequests", "MedicationRequest"), ("diagnosticreports", "DiagnosticReport"), ("careplans", "CarePlan")]}}
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/1", "patientId": patient["id"]}, "prefetch": prefetch}
    response = TestClient(centre_app, client=("127.0.0.1", 5000)).post("/cds-services/all-assessment", json=body)
    assert response.status_code == 200, response.text
    summary = response.json()["cards"][0]
    assert CENTRE in summary["source"]["label"]


@pytest.mark.parametrize("content, problem", [
    (None, "cannot be read"),
    ("m1_below_pct: lots\n", "m1_below_pct"),
    ("no_such_threshold: 3\n", "no_such_threshold"),
    ("- a list\n", "object"),
])
def test_an_invalid_rules_file_stops_the_server_with_its_problems(tmp_path, content, problem):
    path = tmp_path / "rules.yaml"
    if content is not None:
        path.write_text(content)
    script = ("import typer; from allcare.cli.app_commands import app_commands; "
              "from allcare.cli.main import run, app; run()")
    env = {**os.environ, "ALLCARE_RULES": str(path), "ALLCARE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
           "ALLCARE_SECRET_KEY": "k" * 40}
    result = subprocess.run([sys.executable, "-c", script, "serve", "--port", "1"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "ALLCARE_RULES" in result.stderr and problem in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x.sqlite3").exists()  # refused before touching the store
