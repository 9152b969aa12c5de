"""The command line, run as a user runs it (a real process): output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "childhood_b_all_standard_risk.yaml"


def allcare(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "allcare", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_assess_text_shows_the_summary_and_the_disclaimer():
    done = allcare("assess", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "decision support" in done.stdout
    assert "WHO-HAEM5" in done.stdout and "ICD-10-CM" in done.stdout and "NCI/Rome" in done.stdout


def test_assess_json_has_the_contract_keys():
    done = allcare("assess", str(EXAMPLE), "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == "allcare.assessment/3"
    for key in ("diagnosis", "codes", "cns_status", "risk", "status", "mrd", "alerts", "missing", "rules_version"):
        assert key in data
    assert {"disease", "lineage", "etp", "who_haem5", "icc_2022"} <= set(data["diagnosis"])


def test_as_of_changes_the_current_status():
    early = json.loads(allcare("assess", str(EXAMPLE), "--format", "json", "--as-of", "2000-01-01").stdout or "{}")
    late = json.loads(allcare("assess", str(EXAMPLE), "--format", "json").stdout)
    assert early.get("as_of") == "2000-01-01"
    assert early["status"]["current"] != late["status"]["current"]


def test_explain_prints_rules_sources_and_evidence():
    done = allcare("explain", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "rule " in done.stdout and "evidence: findings[" in done.stdout


def test_karyotype_prints_the_parse():
    done = allcare("karyotype", "46,XY,t(9;22)(q34;q11.2)[20]")
    assert done.returncode == 0, done.stderr
    assert "BCR::ABL1" in done.stdout


def test_karyotype_reads_fish_under_the_rule_set_given(tmp_path):
    """The iAMP21 lines are rule-set parameters: the karyotype command reads them as assess does."""
    text = "47,XX,+X,add(21)(q22)[12]/46,XX[8].nuc ish(RUNX1x5)[160/200]"
    assert "iAMP21 detected" in allcare("karyotype", text).stdout
    rules = tmp_path / "rules.yaml"
    rules.write_text("iamp21_runx1_min_copies: 6\n")
    done = allcare("karyotype", text, "--rules", str(rules))
    assert done.returncode == 0, done.stderr
    assert "iAMP21 detected" not in done.stdout and "RUNX1x5" in done.stdout


def test_invalid_case_lists_every_problem_and_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({
        "schema": "allcare.case/1",
        "patient": {"id": "x", "birth_date": "2015-01-01"},
        "findings": [
            {"type": "cbc", "date": "2024-01-02", "wbc": -4},
            {"type": "marrow", "date": "2014-01-01", "blasts_pct": 50},
            {"type": "xray", "date": "2024-01-02"},
        ],
    }))
    done = allcare("assess", str(bad))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "3 problems" in done.stderr
    assert "findings[0] (cbc, 2024-01-02): wbc" in done.stderr
    assert "findings[1] (marrow, 2014-01-01): dated before birth_date" in done.stderr
    assert "findings[2] (xray, 2024-01-02): unknown finding type 'xray'" in done.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "not valid JSON"),
        ("patient: [unclosed", "not valid YAML"),
        ("", "a case must be an object"),
    ],
)
def test_unreadable_files_exit_2_with_a_message(tmp_path, content, fragment):
    path = tmp_path / "case.json"
    path.write_text(content)
    done = allcare("assess", str(path))
    assert done.returncode == 2 and fragment in done.stderr and "Traceback" not in done.stderr


def test_missing_file_exits_2():
    done = allcare("assess", "/nonexistent/case.yaml")
    assert done.returncode == 2 and "no such file" in done.stderr


def test_bad_as_of_exits_2():
    done = allcare("assess", str(EXAMPLE), "--as-of", "yesterday-ish")
    assert done.returncode == 2 and "--as-of" in done.stderr


def test_rules_file_overrides_a_threshold_and_names_the_version(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("leukaemia_marrow_blast_pct: 25\n")
    done = allcare("assess", str(EXAMPLE), "--format", "json", "--rules", str(rules))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rules_version"].endswith("+custom")


def test_bad_rules_file_exits_2(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("leukaemia_marrow_blast_pct: lots\nno_such_rule: 3\n")
    done = allcare("assess", str(EXAMPLE), "--rules", str(rules))
    assert done.returncode == 2
    assert "leukaemia_marrow_blast_pct" in done.stderr and "no_such_rule" in done.stderr


def test_validate_reports_each_file():
    done = allcare("validate", str(EXAMPLE))
    assert done.returncode == 0 and "valid" in done.stdout


def test_schema_command_prints_json_schema():
    done = allcare("schema", "case")
    assert done.returncode == 0
    assert json.loads(done.stdout)["$id"].endswith("allcare.case-1.json")
    assert allcare("schema", "nonsense").returncode == 2


def test_unknown_option_is_a_usage_error_with_status_2():
    done = allcare("assess", str(EXAMPLE), "--colour", "blue")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_text_from_a_case_file_cannot_send_terminal_control_sequences(tmp_path):
    """A note, protocol or lesion name holding an ESC sequence (recolour, clear the screen, move the cursor) or
    a right-to-left override is printed as a visible escape, never sent to the terminal as it is."""
    import yaml

    case = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for finding in case["findings"]:
        finding["note"] = "seen\x1b[2J\x1b[31m in clinic\u202e"
        if finding["type"] == "treatment":
            finding["protocol"] = "AALL\x1b]0;title\x07 0932"
        if finding["type"] == "genetics":
            finding["alterations"] = [*finding.get("alterations", []), "IKZF1\x1b[2J\u202e deletion"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case, default=str), encoding="utf-8")
    for command in ("assess", "explain"):
        done = allcare(command, str(path))
        assert done.returncode == 0, done.stderr
        assert "\x1b" not in done.stdout and "\x07" not in done.stdout and "\u202e" not in done.stdout
    assert "\\x1b" in done.stdout  # the derivation trail quotes the evidence: shown, as an escape


def test_assess_text_gives_a_childs_age_in_years_and_months():
    # missing_end_of_induction: born 2020-11-02, diagnosed 2025-02-24, the engine's 4.31 years. "4.31 y" reads
    # as a decimal a reader must convert (4.31 y is not 4 years 31 months, nor 4 years 3.1 months): say it.
    done = allcare("assess", str(ROOT / "examples" / "missing_end_of_induction.yaml"))
    assert done.returncode == 0, done.stderr
    assert "(4 years and 3 months)" in " ".join(done.stdout.split())
