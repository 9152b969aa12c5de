"""Every example case against (a) its checked-in expected assessment and (b) the key
values written by hand from the guideline text in examples/expectations.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from allcare.engine import assess
from allcare.interop.casefile import load_case

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CASES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".json", ".yaml", ".yml") and p.name != "expectations.yaml")
EXPECTATIONS = yaml.safe_load((EXAMPLES / "expectations.yaml").read_text())["cases"]


def expected_path(case_path: Path) -> Path:
    return EXAMPLES / "expected" / f"{case_path.stem}.assessment.json"


def test_there_are_at_least_30_examples_each_with_an_expected_assessment_and_expectations():
    assert len(CASES) >= 30
    assert [p.name for p in CASES if not expected_path(p).exists()] == []
    assert sorted(EXPECTATIONS) == sorted(p.name for p in CASES)


@pytest.mark.parametrize("case_path", CASES, ids=lambda p: p.stem)
def test_example_matches_its_expected_assessment(case_path):
    result = assess(load_case(case_path)).to_json_dict()
    expected = json.loads(expected_path(case_path).read_text())
    assert result == expected, f"{case_path.name}: run scripts/update-expected and review the diff"


def _get(data: dict, dotted: str):
    for part in dotted.split("."):
        data = None if data is None else data.get(part)
    return data


KEY_PATHS = {
    "disease": "diagnosis.disease",
    "lineage": "diagnosis.lineage",
    "etp": "diagnosis.etp",
    "who_haem5": "diagnosis.who_haem5.key",
    "icc_2022": "diagnosis.icc_2022.key",
    "icd_o_3": "codes.icd_o_3",
    "icd_10_cm": "codes.icd_10_cm",
    "cns_status": "cns_status",
    "nci": "risk.nci",
    "genetic": "risk.genetic",
    "status": "status.current",
}


@pytest.mark.parametrize("name", sorted(EXPECTATIONS), ids=str)
def test_example_key_values_follow_the_guideline(name):
    expectation = EXPECTATIONS[name]
    result = assess(load_case(EXAMPLES / name)).to_json_dict()
    for key, path in KEY_PATHS.items():
        if key in expectation:
            assert _get(result, path) == expectation[key], f"{name}: {path}"
    if "mrd_latest" in expectation:
        latest = result["mrd"]["latest"]
        assert (latest or {}).get("status") == expectation["mrd_latest"], f"{name}: mrd.latest.status"
    for key in expectation.get("who_haem5_not", []):
        assert result["diagnosis"]["who_haem5"]["key"] != key, f"{name}: must not be {key}"
    _monitoring_expectations(name, expectation, result)
    codes = {a["code"] for a in result["alerts"]}
    for code in expectation.get("alerts_include", []):
        assert code in codes, f"{name}: alert {code} expected"
    for code in expectation.get("alerts_exclude", []):
        assert code not in codes, f"{name}: alert {code} must not be raised"


def _monitoring_expectations(name: str, expectation: dict, result: dict) -> None:
    """The treatment-monitoring keys of expectations.yaml (see its header)."""
    maintenance = result.get("maintenance") or {}
    toxicity = result["toxicity"]
    checks = {
        "maintenance_family": lambda: maintenance.get("family"),
        "maintenance_action": lambda: (maintenance.get("suggestion") or {}).get("action"),
        "time_in_target_pct": lambda: maintenance.get("time_in_target_pct"),
        "cpic_rule": lambda: (result.get("pharmacogenetics") or {}).get("rule"),
        "febrile_neutropenia": lambda: (toxicity["febrile_neutropenia"] or [{}])[-1].get("status"),
        "tumour_lysis": lambda: _tls(toxicity["tumour_lysis"]),
        "tls_grade": lambda: (toxicity["tumour_lysis"] or [{}])[0].get("grade"),
        "mtx_status": lambda: (toxicity["methotrexate_levels"] or [{}])[-1].get("status"),
        "asparaginase_status": lambda: (toxicity["asparaginase_activity"] or [{}])[-1].get("status"),
        "anthracycline_total": lambda: (toxicity["anthracyclines"] or {}).get("total_mg_m2"),
        "chemistry_grades": lambda: _latest_chemistry_grades(result["chemistry"]),
    }
    for key, read in checks.items():
        if key in expectation:
            assert read() == expectation[key], f"{name}: {key}"


def _latest_chemistry_grades(table: dict) -> dict:
    """Each analyte of the latest chemistry finding with its grade, read from the table's columns (a column
    that is not a list is every row's entry)."""
    last = len(table["dates"]) - 1
    grades = {}
    for name, columns in table["analytes"].items():
        if columns["values"][last] is not None:
            grade = columns["grades"]
            grades[name] = grade[last] if isinstance(grade, list) else grade
    return grades


def _tls(windows: list[dict]) -> str:
    if not windows:
        return "none"
    first = windows[0]
    if first["laboratory"] is None:
        return "undetermined"
    if not first["laboratory"]:
        return "none"
    return "clinical" if first["clinical"] else "laboratory"
