"""One presentation layer: every status, phase, alert, CNS status, risk group, disease and entity the engine
can emit has its words in allcare.labels (and, where the patient report explains it, plain words)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from allcare import labels
from allcare.engine import assessment as out
from allcare.engine.case.models import Phase
from allcare.engine.diagnosis.names import WHO_NAMES
from allcare.labels import plain as words

ENGINE = Path(__file__).resolve().parents[1] / "src" / "allcare" / "engine"


def literal_values(annotation) -> set[str]:
    """The string values of a Literal, also inside Optional/Annotated."""
    if typing.get_origin(annotation) is typing.Literal:
        return {v for v in typing.get_args(annotation) if isinstance(v, str)}
    return set().union(*(literal_values(a) for a in typing.get_args(annotation))) if typing.get_args(annotation) else set()


def field_values(struct, name: str) -> set[str]:
    return literal_values(typing.get_type_hints(struct, include_extras=True)[name])


def test_every_alert_code_the_engine_writes_is_in_the_output_model():
    code = "\n".join(p.read_text() for p in ENGINE.rglob("*.py"))
    written = set(re.findall(r'code="([a-z_0-9]+)"', code)) | set(re.findall(r'_alert\(\s*"([a-z_0-9]+)"', code))
    written |= set(re.findall(r'"([a-z_]+)", "ALERT\.[A-Z_]+"', code))
    assert written == literal_values(out.AlertCode)


@pytest.mark.parametrize("values, words", [
    (literal_values(out.DiseaseStatus), labels.STATUS),
    (literal_values(out.DiseaseStatus), labels.STATUS_SHORT),
    (literal_values(out.Lineage), labels.LINEAGE),
    (literal_values(Phase), labels.PHASE),
    (literal_values(out.Analyte), labels.ANALYTE),
    (literal_values(out.AlertCode), labels.ALERT),
    (literal_values(out.CnsStatus), labels.CNS),
    (literal_values(out.Severity), labels.SEVERITY),
    (literal_values(out.Disease), labels.DISEASE),
    (literal_values(out.Etp), labels.ETP),
    (literal_values(out.MrdStatus), labels.MRD_STATUS),
    (field_values(out.Risk, "nci"), labels.NCI_RISK),
    (field_values(out.Risk, "genetic"), labels.GENETIC_RISK),
    (field_values(out.CogGroup, "group"), labels.COG_GROUP),
    (field_values(out.Diagnosis, "b_stage") | field_values(out.Diagnosis, "t_stage"), labels.STAGE),
    (set(WHO_NAMES), labels.ENTITY_SHORT),
], ids=["status", "status-short", "lineage", "phase", "analyte", "alert", "cns", "severity", "disease", "etp", "mrd", "nci", "genetic", "cog", "stage",
        "entity"])
def test_every_value_the_engine_can_emit_has_its_words(values, words):
    assert values, "no values found in the output model"
    assert sorted(values - words.keys()) == []


@pytest.mark.parametrize("values, plain", [
    (literal_values(out.DiseaseStatus), words.STATUS),
    (literal_values(Phase), words.PHASE),
    (literal_values(out.CnsStatus), words.CNS),
    (literal_values(out.Disease), words.DISEASE),
    (literal_values(out.MrdStatus), words.MRD_STATUS),
    (field_values(out.Risk, "nci"), words.NCI_RISK),
    (field_values(out.Risk, "genetic"), words.GENETIC_RISK),
], ids=["status", "phase", "cns", "disease", "mrd", "nci", "genetic"])
def test_the_patient_report_has_plain_words_for_every_value_it_explains(values, plain):
    assert sorted(values - plain.keys()) == []


def test_possible_cns_statuses_are_labelled_each():
    assert labels.cns_label("CNS2c or CNS3b") == f"{labels.CNS['CNS2c']} or {labels.CNS['CNS3b']}"


def test_short_status_names_fit_the_phone_chart_axis():
    """The status axis of a phone-width chart has room for about 12 characters."""
    assert max(map(len, labels.STATUS_SHORT.values())) <= 12


def test_the_cli_names_disease_lineage_and_risk_with_the_shared_words():
    """The terminal shows the same words as the pages (no key with its underscores turned into spaces)."""
    from rich.console import Console

    from allcare.cli.render import diagnosis_panel, risk_panel
    from allcare.engine import assess, case_from_dict

    a = assess(case_from_dict({"schema": "allcare.case/1", "patient": {"id": "C-1", "birth_date": "2019-05-14", "sex": "male"},
                               "findings": [
        {"type": "marrow", "date": "2024-01-08", "blasts_pct": 90, "timepoint": "diagnosis"},
        {"type": "immunophenotype", "date": "2024-01-08", "sample": "marrow",
         "markers": {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "TdT": "positive", "cCD3": "negative",
                     "MPO": "negative"}},
        {"type": "cbc", "date": "2024-01-08", "wbc": 12.0}]}))
    console = Console(width=200, record=True)
    console.print(diagnosis_panel(a), risk_panel(a))
    text = console.export_text()
    assert labels.DISEASE[a.diagnosis.disease] in text and labels.LINEAGE[a.diagnosis.lineage] in text
    assert labels.NCI_RISK[a.risk.nci] in text
