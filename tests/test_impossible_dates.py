"""A date that does not exist (30 February, month 13) is invalid input naming its field, on every way in.

YAML reads an unquoted ``2023-02-30`` as a timestamp and used to raise inside the
parser, which surfaced as "internal error" (CLI) or a 500 (web import).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import case_dict
from test_web_pages import logged_in, post_form

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
BAD_DAYS = ["2023-02-30", "2023-13-01", "2024-04-31"]


def yaml_case(day: str) -> str:
    return ("schema: allcare.case/1\npatient: {id: D-1, birth_date: 2015-01-01, sex: female}\n"
            f"findings:\n  - {{type: cbc, date: {day}, wbc: 4.0}}\n")


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize("command", ["validate", "assess"])
def test_cli_exits_2_naming_the_finding_date(tmp_path, day, command):
    path = tmp_path / "case.yaml"
    path.write_text(yaml_case(day), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "allcare", command, str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr
    assert "findings[0]" in done.stderr and "date" in done.stderr


def test_an_impossible_birth_date_in_yaml_names_the_patient_field():
    from allcare.interop.casefile import CaseFileError, case_from_text

    with pytest.raises(CaseFileError) as raised:
        case_from_text(yaml_case("2023-02-01").replace("2015-01-01", "2015-02-29"), "case.yaml")
    assert any(p.location.startswith("patient") and "birth_date" in p.location for p in raised.value.problems), \
        raised.value.problems


def test_valid_yaml_dates_still_read_as_dates():
    from allcare.interop.casefile import case_from_text

    case = case_from_text(yaml_case("2023-02-28"), "case.yaml")
    assert str(case.findings[0].date) == "2023-02-28"


@pytest.mark.parametrize("day", BAD_DAYS)
def test_api_upload_of_yaml_is_a_422_naming_the_field(client, world, day):
    response = client.post(f"{API}/cases/upload", headers=world.auth("clinician"),
                           files={"file": ("case.yaml", yaml_case(day), "application/yaml")})
    assert response.status_code == 422, response.text
    assert any("findings[0]" in item["field"] and "date" in item["field"] for item in response.json()["detail"])


def test_api_json_case_and_finding_are_a_422_naming_the_field(client, world):
    bad = case_dict("D-2")
    bad["findings"][0]["date"] = "2023-02-30"
    response = client.post(f"{API}/cases", headers=world.auth("clinician"), json=bad)
    assert response.status_code == 422 and "date" in json.dumps(response.json()["detail"])
    finding = {"type": "cbc", "date": "2024-02-30", "wbc": 3.0}
    response = client.post(f"{API}/patients/{world.patient_a}/findings", headers=world.auth("clinician"), json=finding)
    assert response.status_code == 422 and "date" in json.dumps(response.json()["detail"])
    patient = {"patient": {"id": "D-3", "birth_date": "2015-02-29", "sex": "male"}}
    response = client.post(f"{API}/patients", headers=world.auth("clinician"), json=patient)
    assert response.status_code == 422 and "birth_date" in json.dumps(response.json()["detail"])


def test_web_import_of_yaml_is_a_form_error(app, world):
    client = logged_in(app, "clinician")
    response = post_form(client, "/patients/import", {},
                         files={"file": ("bad.yaml", io.BytesIO(yaml_case("2023-02-30").encode()), "application/yaml")})
    assert response.status_code == 422
    assert "findings[0]" in response.text and "2023-02-30" in response.text


def test_finding_form_refuses_the_date_next_to_the_field(app, world):
    client = logged_in(app, "clinician")
    response = post_form(client, f"/patients/{world.patient_a}/findings/new/cbc", {"date": "2024-02-30", "wbc": "3"})
    assert response.status_code == 422
    assert '<p class="field__error" id="date-error">' in response.text
