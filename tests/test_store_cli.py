"""The CLI around the store: serve, demo, users, case import/export, backup/restore."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from allcare.cli.app_commands import app_commands
from allcare.cli.main import InvalidInput
from conftest import FAST_HASH

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
root = typer.Typer()
root.add_typer(app_commands)  # as the main CLI registers it


@pytest.fixture
def env(database_url, tmp_path):
    values = {"ALLCARE_DATABASE_URL": database_url, "ALLCARE_SECRET_KEY": "cli-test-" + "s" * 40,
              "ALLCARE_DEMO_PATIENTS": "6"}
    values.update({f"ALLCARE_{key.upper()}": str(value) for key, value in FAST_HASH.items()})
    return values


def run(env, *args, input=None):
    result = CliRunner().invoke(root, list(args), env=env, input=input)
    if result.exception and not isinstance(result.exception, (SystemExit, InvalidInput)):
        raise result.exception
    return result


def test_demo_then_users_list(env):
    result = run(env, "demo", "--patients", "5")
    assert result.exit_code == 0 and "added 5 synthetic patients" in result.output
    assert "clinician-demo" in result.output  # the demo logins are printed
    listing = run(env, "users", "list").output
    assert all(name in listing for name in ("clinician", "registrar", "admin", "patient"))
    again = run(env, "demo", "--patients", "2")  # users exist: only patients are added
    assert again.exit_code == 0 and "clinician-demo" not in again.output


def test_users_add_prompts_for_the_password_and_checks_the_role(env):
    added = run(env, "users", "add", "Dr.Lee", "--role", "clinician", input="a long password\na long password\n")
    assert added.exit_code == 0 and "added user dr.lee (clinician)" in added.output
    bad = run(env, "users", "add", "x", "--role", "owner", "--password", "a long password")
    assert isinstance(bad.exception, InvalidInput) and "role" in str(bad.exception.problems)
    no_record = run(env, "users", "add", "kid", "--role", "patient", "--patient", "NOPE", "--password", "a long password")
    assert isinstance(no_record.exception, InvalidInput)


def test_import_and_export_case_files(env, tmp_path):
    files = [EXAMPLES / "childhood_b_all_standard_risk.yaml", EXAMPLES / "cns2c_traumatic_tap_steinherz_negative.json"]
    imported = run(env, "import", "case", *map(str, files))
    assert imported.exit_code == 0 and imported.output.count("stored as patient") == 2
    again = run(env, "import", "case", str(files[0]))
    assert isinstance(again.exception, InvalidInput) and "already stored" in str(again.exception.problems)

    from allcare.interop.casefile import load_case

    original = load_case(files[1])
    out = tmp_path / "exported.json"
    exported = run(env, "export", "case", original.patient.id, "-o", str(out))
    assert exported.exit_code == 0
    assert json.loads(out.read_text()) == original.to_json_dict()
    by_number = run(env, "export", "case", "1")
    assert json.loads(by_number.output) == load_case(files[0]).to_json_dict()
    missing = run(env, "export", "case", "no-such-patient")
    assert isinstance(missing.exception, InvalidInput)


def _case_file(tmp_path, identifier: str) -> str:
    from conftest import case_dict

    path = tmp_path / f"case-{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps(case_dict(identifier)), encoding="utf-8")
    return str(path)


def test_a_number_that_is_one_records_id_and_anothers_identifier_names_neither(env, tmp_path):
    """Hospital numbers are often digits: '1' typed for the child whose MRN is 1 must not link a parent's
    login to (or export) record #1, another child's."""
    assert run(env, "import", "case", _case_file(tmp_path, "P-A")).exit_code == 0  # record #1
    assert run(env, "import", "case", _case_file(tmp_path, "1")).exit_code == 0  # record #2, identifier "1"
    for args in (["users", "add", "parent", "--role", "patient", "--patient", "1", "--password", "a long password"],
                 ["export", "case", "1"]):
        result = run(env, *args)
        assert isinstance(result.exception, InvalidInput), result.output
        problems = str(result.exception.problems)
        assert "record #1" in problems and "record #2" in problems and "id:1" in problems
    assert json.loads(run(env, "export", "case", "id:1").output)["patient"]["id"] == "P-A"
    added = run(env, "users", "add", "parent", "--role", "patient", "--patient", "P-A", "--password", "a long password")
    assert added.exit_code == 0
    assert "parent  " in run(env, "users", "list").output.replace("│", " ")


@pytest.mark.parametrize("reference", ["²", "\u0661", "99999999999999999999", "id:\u0662", "id:0", "id:x"])
def test_a_patient_reference_that_is_no_record_number_is_invalid_input(env, tmp_path, reference):
    assert run(env, "import", "case", _case_file(tmp_path, "P-A")).exit_code == 0
    result = run(env, "export", "case", reference)
    assert isinstance(result.exception, InvalidInput), result.output


def test_export_case_writes_into_new_directories_and_names_a_path_it_cannot_write(env, tmp_path):
    assert run(env, "import", "case", _case_file(tmp_path, "P-A")).exit_code == 0
    target = tmp_path / "out" / "nested" / "p-a.json"
    assert run(env, "export", "case", "P-A", "-o", str(target)).exit_code == 0
    assert json.loads(target.read_text())["patient"]["id"] == "P-A"
    blocked = tmp_path / "a-file"
    blocked.write_text("x")
    refused = run(env, "export", "case", "P-A", "-o", str(blocked / "p-a.json"))  # a file where a directory should be
    assert isinstance(refused.exception, InvalidInput) and "cannot be written" in str(refused.exception.problems)


def test_an_invalid_case_file_is_reported_and_nothing_is_imported(env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: allcare.case/1\npatient: {id: X}\nfindings: [{type: cbc, date: 2024-01-01, wbc: -1}]\n")
    result = run(env, "import", "case", str(EXAMPLES / "iamp21.yaml"), str(bad))
    assert isinstance(result.exception, InvalidInput) and "wbc" in str(result.exception.problems)
    assert "SYN" not in run(env, "export", "case", "1").output  # nothing stored
    assert isinstance(run(env, "export", "case", "1").exception, InvalidInput)


def test_backup_and_restore(env, tmp_path):
    run(env, "demo", "--patients", "3")
    backup = tmp_path / "store.jsonl"
    assert run(env, "backup", str(backup)).exit_code == 0
    refused = run(env, "restore", str(backup))
    assert isinstance(refused.exception, InvalidInput) and "--force" in str(refused.exception.problems)
    forced = run(env, "restore", str(backup), "--force")
    assert forced.exit_code == 0 and "3 patients" in forced.output
    fresh = {**env, "ALLCARE_DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    assert run(fresh, "restore", str(backup)).exit_code == 0
    assert "patient" in run(fresh, "users", "list").output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_migrates_seeds_the_demo_and_prints_the_logins(env, tmp_path):
    port = free_port()
    script = ("import typer; from allcare.cli.app_commands import app_commands; "
              "root = typer.Typer(); root.add_typer(app_commands); root()")
    process = subprocess.Popen([sys.executable, "-c", script, "serve", "--port", str(port)],
                               env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        login = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                           json={"username": "clinician", "password": "clinician-demo"})
        assert login.status_code == 200
        patients = httpx.get(f"http://127.0.0.1:{port}/api/v1/patients", cookies=login.cookies).json()
        assert patients["total"] == 6
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}" in output and "clinician-demo" in output


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [("ALLCARE_PORT", "eighty", "ALLCARE_PORT"), ("ALLCARE_CDS_FHIR_SERVERS", "https://fhir.example.org", "JSON")],
)
def test_a_bad_setting_is_invalid_input_naming_it(env, variable, value, fragment):
    result = run({**env, variable: value}, "users", "list")
    assert isinstance(result.exception, InvalidInput)
    assert any(fragment in problem for problem in result.exception.problems)
