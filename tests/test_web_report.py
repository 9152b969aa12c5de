"""The plain-language patient report: what it says for which assessment, and that it stays plain."""

from __future__ import annotations

import io
import re
import typing
from pathlib import Path

import pytest

from allcare import DISCLAIMER
from allcare.engine import DEFAULT_RULES, assess, case_from_dict
from allcare.engine.assessment import CnsStatus, DiseaseStatus
from allcare.engine.case.models import Phase
from allcare.labels import plain as words
from allcare.web.report import build_report, report_document

B_MARKERS = {"CD19": "positive", "CD10": "positive", "cCD79a": "positive", "TdT": "positive", "cCD3": "negative",
             "MPO": "negative", "sIg": "negative"}


def case(*findings: dict, age_birth: str = "2019-05-14", conditions=()) -> dict:
    return {"schema": "allcare.case/1",
            "patient": {"id": "R-1", "birth_date": age_birth, "sex": "female", "conditions": list(conditions)},
            "findings": [
                {"type": "cbc", "date": "2024-01-08", "wbc": 12.0, "hemoglobin": 8.0, "platelets": 40, "anc": 0.8},
                {"type": "marrow", "date": "2024-01-08", "blasts_pct": 88, "timepoint": "diagnosis"},
                {"type": "immunophenotype", "date": "2024-01-08", "sample": "marrow", "markers": B_MARKERS},
                *findings,
            ]}


def report_of(data: dict, **kwargs):
    parsed = case_from_dict(data)
    return build_report(assess(parsed), case=parsed, **kwargs)


INDUCTION = {"type": "treatment", "phase": "induction", "start": "2024-01-09", "end": "2024-02-05"}
CONSOLIDATION = {"type": "treatment", "phase": "consolidation", "start": "2024-02-06"}
EOI_MARROW = {"type": "marrow", "date": "2024-02-05", "blasts_pct": 1, "timepoint": "end_of_induction"}
EOI_COUNT = {"type": "cbc", "date": "2024-02-05", "anc": 1.6, "platelets": 160, "blasts_pct": 0, "hemoglobin": 10.5}
ETV6 = {"type": "genetics", "date": "2024-01-10", "fusions": ["ETV6::RUNX1"], "negative": ["BCR::ABL1", "KMT2A_rearrangement"]}
CSF1 = {"type": "csf", "date": "2024-01-09", "wbc": 1, "rbc": 0, "blasts": False}


def test_a_child_in_remission_reads_where_things_stand_and_what_comes_from_which_test():
    report = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT, ETV6, CSF1,
                            {"type": "mrd", "date": "2024-02-05", "value": 0.0, "sensitivity": 1e-4, "method": "flow"}),
                       patient_name="Ada")
    assert report.patient_name == "Ada"
    assert report.status_title == "In remission"
    assert report.current_phase is not None and report.current_phase.name == "Consolidation"
    assert [(p.name, p.state) for p in report.phases] == [("Induction", "done"), ("Consolidation", "now")]
    assert report.diagnosis_title == "Acute lymphoblastic leukaemia (ALL)"
    assert any("chromosomes 12 and 21" in text for text in report.kind_texts)
    assert report.cns_text == "At diagnosis (9 January 2024): " + words.CNS["CNS1"]
    assert [t.key for t in report.tests] == ["cbc", "marrow", "immunophenotype", "genetics", "csf", "mrd"]
    marrow = next(t for t in report.tests if t.key == "marrow")
    assert [line.value for line in marrow.lines] == ["88 in every 100 cells", "1 in every 100 cells"]
    mrd = next(t for t in report.tests if t.key == "mrd")
    assert mrd.lines[0].value == "no leukaemia cells found"
    assert mrd.lines[0].meaning == words.filled(words.MRD_STATUS["negative"], DEFAULT_RULES)
    count = next(t for t in report.tests if t.key == "cbc")
    platelets = next(line for line in count.lines if line.label == "Platelets")
    assert platelets.value.startswith("160 thousand million per litre (x10^9/L) (usual range")


def test_low_counts_are_explained_with_what_to_watch_for():
    report = report_of(case())
    count = next(t for t in report.tests if t.key == "cbc")
    neutrophils = next(line for line in count.lines if line.label == "Neutrophils")
    assert "lower than usual" in neutrophils.meaning
    assert words.LOW_MEANS["anc"] in neutrophils.meaning


def test_a_record_without_a_diagnosis_says_so_and_invents_no_subtype():
    parsed = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "R-2", "age_years": 30},
                             "findings": [{"type": "cbc", "date": "2024-01-08", "wbc": 5.0}]})
    report = build_report(assess(parsed), case=parsed)
    assert report.diagnosis_title in (words.DISEASE["indeterminate"][0], words.DISEASE["not_ALL"][0])
    assert report.kind_texts == []
    assert report.phases == [] and report.current_phase is None


@pytest.mark.parametrize(("extra", "question", "asked"), [
    ([{"type": "genetics", "date": "2024-01-10", "fusions": ["BCR::ABL1"]}], words.QUESTION_PH, True),
    ([ETV6], words.QUESTION_PH, False),
    ([INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
      {"type": "mrd", "date": "2024-02-05", "value": 0.002, "sensitivity": 1e-4, "method": "flow"}],
     words.QUESTION_MRD_POSITIVE, True),
    ([INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
      {"type": "mrd", "date": "2024-02-05", "value": 0.00002, "sensitivity": 1e-5, "method": "pcr"}],
     words.QUESTION_MRD_POSITIVE, False),
    ([INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
      {"type": "marrow", "date": "2024-06-01", "blasts_pct": 40, "timepoint": "relapse"}], words.QUESTION_RELAPSE, True),
    ([{"type": "csf", "date": "2024-01-09", "wbc": 12, "rbc": 0, "blasts": True}], words.QUESTION_CNS, True),
    ([CSF1], words.QUESTION_CNS, False),
])
def test_questions_follow_what_the_record_shows(extra, question, asked):
    report = report_of(case(*extra))
    assert (question in report.questions) is asked
    assert report.questions[-len(words.QUESTIONS_ALWAYS):] == words.QUESTIONS_ALWAYS


def test_high_risk_by_age_asks_about_transplant():
    report = report_of(case(age_birth="2012-01-01"))
    assert report.risk_lines[0].startswith(words.filled(words.NCI_RISK["high"], DEFAULT_RULES))
    assert words.QUESTION_HIGH_RISK in report.questions


def test_down_syndrome_gets_its_question():
    assert words.QUESTION_DOWN in report_of(case(conditions=["down_syndrome"])).questions


def test_a_relapse_is_named_plainly():
    report = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
                            {"type": "marrow", "date": "2024-06-01", "blasts_pct": 40, "timepoint": "relapse"}))
    assert report.status_title == words.STATUS["relapse"][0]


# Every value the engine can return has words, so no family reads a raw key.
WHO_KEYS = ["b_all_nos", "b_all_high_hyperdiploidy", "b_all_hypodiploidy", "b_all_iamp21", "b_all_bcr_abl1",
            "b_all_bcr_abl1_like", "b_all_kmt2a", "b_all_etv6_runx1", "b_all_etv6_runx1_like", "b_all_tcf3_pbx1",
            "b_all_igh_il3", "b_all_tcf3_hlf", "b_all_other_defined", "t_all_nos", "etp_all", "mpal_bcr_abl1",
            "mpal_kmt2a", "mpal_b_myeloid", "mpal_t_myeloid", "mpal_other"]


@pytest.mark.parametrize(("table", "values"), [
    (words.STATUS, typing.get_args(DiseaseStatus)),
    (words.PHASE, typing.get_args(Phase)),
    (words.CNS, typing.get_args(CnsStatus)),
    (words.SUBTYPE, WHO_KEYS),
    (words.DISEASE, ["ALL", "LBL", "MPAL", "not_ALL", "indeterminate"]),
    (words.LINEAGE, ["B", "T", "B/myeloid", "T/myeloid", "B/T", "B/T/myeloid"]),
    (words.NCI_RISK, ["standard", "high", "infant", "not_applicable"]),
    (words.MRD_STATUS, ["negative", "positive", "not_evaluable"]),
])
def test_every_engine_value_has_plain_words(table, values):
    assert set(values) <= set(table)


def _syllables(word: str) -> int:
    word = re.sub(r"[^a-z]", "", word.lower())
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith("le") and groups > 1:
        groups -= 1
    return max(1, groups)


def flesch_kincaid_grade(text: str) -> float:
    sentences = [s for s in re.split(r"[.!?:]\s+", text) if re.search(r"[A-Za-z]", s)]
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    return 0.39 * len(tokens) / len(sentences) + 11.8 * sum(map(_syllables, tokens)) / len(tokens) - 15.59


def test_the_report_reads_at_about_age_12():
    report = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT, ETV6, CSF1))
    html = report_document(report)
    body = html.split('<section class="report__section"', 1)[1].split('aria-labelledby="r-words"', 1)[0]
    text = re.sub(r"<[^>]+>", " ", body)
    grade = flesch_kincaid_grade(text)
    assert grade <= 8.0, f"Flesch-Kincaid grade {grade:.1f}"


def test_the_document_carries_the_disclaimer_and_every_section():
    html = report_document(report_of(case(INDUCTION, ETV6)))
    assert DISCLAIMER in html
    for heading in ("Where things stand now", "The diagnosis", "The tests and what the results mean", "Treatment",
                    "Questions you may want to ask your care team", "Words used in this report"):
        assert heading in html


def test_the_pdf_holds_the_report_text():
    pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    from allcare.web.report import report_pdf

    report = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT, ETV6), patient_name="Ada Example")
    data = report_pdf(report)
    assert data.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Ada Example" in text
    assert "In remission" in text
    assert words.QUESTIONS_ALWAYS[0] in text
    assert "decision support, not a diagnosis" in text
    assert re.search(r"page 1 of \d", text)


def test_each_count_shows_its_latest_value_even_when_measured_alone():
    report = report_of(case({"type": "cbc", "date": "2024-01-20", "anc": 1.9}))
    count = next(t for t in report.tests if t.key == "cbc")
    values = {line.label: line.value for line in count.lines}
    assert values["Neutrophils"].startswith("1.9 thousand million per litre (x10^9/L)")
    assert values["Platelets"].startswith("40 thousand million per litre") and values["Platelets"].endswith("on 8 January 2024")
    assert count.date.isoformat() == "2024-01-20"


def test_checks_outside_blood_and_marrow_are_listed_by_site():
    report = report_of(case({"type": "extramedullary", "date": "2024-01-09", "site": "testis", "present": False},
                            {"type": "extramedullary", "date": "2024-01-09", "site": "mediastinum", "present": True}))
    section = next(t for t in report.tests if t.key == "extramedullary")
    assert [(line.label, line.value) for line in section.lines] == [
        ("Testicles (9 January 2024)", "no leukaemia found"),
        ("Chest, between the lungs (9 January 2024)", "leukaemia found")]


# --- what a parent asked for: one disclaimer, the criterion and its value, words for codes, progress ----------


def test_the_report_page_says_the_disclaimer_once_and_not_just_above_the_diagnosis(app, world):
    from test_web_pages import logged_in

    page = logged_in(app, "patient_a").get(f"/patients/{world.patient_a}/report").text
    assert page.count(DISCLAIMER) == 1
    between = page.split(DISCLAIMER, 1)[1].split('id="r-dx"', 1)[0]
    assert 'id="r-now"' in between  # another section comes first
    document = report_document(report_of(case(INDUCTION, ETV6)))
    assert document.count(DISCLAIMER) == 2  # the PDF: its description metadata and the report's end, once in the text
    assert document.index(DISCLAIMER, document.index("<body")) > document.index('id="r-words"')


def test_the_risk_group_says_which_criterion_applied_with_its_value():
    older = report_of(case(INDUCTION, age_birth="2011-06-01"))  # 12 at diagnosis, WBC 12
    assert older.risk_lines[0].endswith("Here it is because of age: 12 years and 7 months at diagnosis (10 years or older).")
    high_count = case(INDUCTION)
    high_count["findings"][0]["wbc"] = 80.0
    assert report_of(high_count).risk_lines[0].endswith(
        "Here it is because of the first white blood cell count: 80 thousand million per litre (50 or more).")
    standard = report_of(case(INDUCTION))
    assert standard.risk_lines[0].endswith("Here: 4 years and 7 months at diagnosis (under 10 years) and a first white blood cell "
                                           "count of 12 thousand million per litre (below 50).")


def test_cns_status_is_explained_in_words():
    report = report_of(case(INDUCTION, CSF1))
    csf = next(t for t in report.tests if t.key == "csf")
    assert csf.lines[0].value == "CNS1: grade 1 of 3, no leukaemia cells seen in the spinal fluid"


def test_progress_says_the_month_of_treatment():
    report = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
                            {"type": "cbc", "date": "2024-05-20", "anc": 1.9}))
    assert report.progress == ("Month 5 of treatment, which began on 9 January 2024. Treatment for ALL usually lasts "
                               "about 2 to 3 years in all.")
    assert "Month 5 of treatment" in report_document(report)


def test_the_pdf_is_tagged_for_screen_readers():
    pytest.importorskip("weasyprint")
    pypdf = pytest.importorskip("pypdf")
    from allcare.web.report import report_pdf

    reader = pypdf.PdfReader(io.BytesIO(report_pdf(report_of(case(INDUCTION, ETV6), patient_name="Ada"))))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en-GB"
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()


def test_remission_never_says_counts_came_back_up_beside_a_low_latest_count():
    low = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
                         {"type": "cbc", "date": "2024-03-20", "anc": 0.4, "platelets": 60}))
    assert low.status_title == "In remission"
    assert "come back up" not in low.status_text
    assert "low neutrophils and platelets" in low.status_text
    recovered = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT))
    assert recovered.status_text == words.filled(words.STATUS["complete_remission"][1], DEFAULT_RULES)


def test_a_value_just_under_a_cut_off_is_never_shown_rounded_onto_it():
    # 49.99 is below the NCI line of 50: the family must not read "50 ... (below 50)"; a marrow of 4.996%
    # is below the 5% line of M1 and an MRD of 0.009999% below 0.01%: shown as recorded, not rounded up
    data = case(INDUCTION, {"type": "marrow", "date": "2024-02-05", "blasts_pct": 4.996, "timepoint": "end_of_induction"},
                {"type": "mrd", "date": "2024-02-05", "value": 0.00009999, "sensitivity": 1e-5, "method": "pcr"})
    data["findings"][0]["wbc"] = 49.99
    data["findings"][0]["platelets"] = 149.6
    report = report_of(data)
    assert report.risk_lines[0].endswith("a first white blood cell count of 49.99 thousand million per litre (below 50).")
    marrow = next(t for t in report.tests if t.key == "marrow")
    assert marrow.lines[-1].value == "4.996 in every 100 cells"
    mrd = next(t for t in report.tests if t.key == "mrd")
    assert mrd.lines[0].value.startswith("0.009999% of cells")
    cbc = next(t for t in report.tests if t.key == "cbc")
    assert any(line.value.startswith("149.6 ") for line in cbc.lines)


@pytest.mark.parametrize(("wbc_line", "wbc", "expected"), [
    (40.0, 45, "Here it is because of the first white blood cell count: 45 thousand million per litre (40 or more)."),
    (60.0, 55, "a first white blood cell count of 55 thousand million per litre (below 60)."),
])
def test_the_nci_reason_names_the_line_of_the_rule_set_the_assessment_used(wbc_line, wbc, expected):
    rules = DEFAULT_RULES.model_copy(update={"nci_wbc_high_from": wbc_line})
    data = case(INDUCTION)
    data["findings"][0]["wbc"] = wbc
    parsed = case_from_dict(data)
    report = build_report(assess(parsed, rules=rules), case=parsed, rules=rules)
    assert report.risk_lines[0].endswith(expected), report.risk_lines


def test_a_risk_group_the_engine_could_not_decide_is_said_undecided_with_what_is_still_needed():
    # No white count at diagnosis: the NCI group cannot be decided; the genetic group (ETV6::RUNX1) can.
    # The family must not read only "standard risk" and take it for the whole risk group.
    data = case(INDUCTION, ETV6)
    del data["findings"][0]["wbc"]
    parsed = case_from_dict(data)
    assessment = assess(parsed)
    assert assessment.risk.nci is None and assessment.risk.genetic == "standard"
    report = build_report(assessment, case=parsed)
    undecided = [line for line in report.risk_lines if "not decided yet" in line]
    assert len(undecided) == 1 and "age and first white blood cell count" in undecided[0]
    assert "Still needed" in undecided[0] and "presenting WBC" in undecided[0]


def test_genetic_risk_not_decided_is_said_beside_a_decided_nci_group():
    report = report_of(case(INDUCTION))  # no genetics recorded: the NCI group is standard, genetics undecided
    assert report.risk_lines[0].startswith("Standard risk.")
    undecided = [line for line in report.risk_lines if "not decided yet" in line]
    assert len(undecided) == 1 and "gene and chromosome" in undecided[0] and "Still needed" in undecided[0]
    assert "BCR::ABL1" in undecided[0]


def test_a_status_the_engine_could_not_decide_says_what_is_still_needed():
    # A marrow of 3% at the end of induction without a blood count: remission cannot be told from CRi
    data = case(INDUCTION, {"type": "marrow", "date": "2024-02-05", "timepoint": "end_of_induction", "blasts_pct": 3})
    report = report_of(data)
    assert report.status_title == words.STATUS["indeterminate"][0]
    assert "Still needed" in report.status_text and "platelets on a blood count" in report.status_text
    assert "remission" not in report.status_title.lower()


def test_a_diagnosis_the_engine_could_not_decide_says_what_is_still_needed():
    data = case()
    data["findings"] = [data["findings"][0], data["findings"][2]]  # a blood count and markers, no marrow
    report = report_of(data)
    assert report.diagnosis_title == words.DISEASE["indeterminate"][0]
    assert "Still needed" in report.diagnosis_text and "bone marrow" in report.diagnosis_text


def test_progress_never_counts_months_of_treatment_after_the_recorded_treatment_ended():
    # Induction and consolidation recorded, both ended by 1 March 2024; a count in June 2025. Nothing says
    # treatment goes on: "Month 18 of treatment" would claim it does.
    ended = {"type": "treatment", "phase": "consolidation", "start": "2024-02-06", "end": "2024-03-01"}
    report = report_of(case(INDUCTION, ended, EOI_MARROW, EOI_COUNT,
                            {"type": "cbc", "date": "2025-06-01", "wbc": 6, "anc": 3, "platelets": 200, "hemoglobin": 12}))
    assert report.current_phase is None
    assert "Month" not in (report.progress or "")
    assert report.progress == words.PROGRESS_ENDED.format(what="Treatment", start="9 January 2024", end="1 March 2024")


@pytest.mark.parametrize(("birth", "age_words"), [
    ("2019-05-14", "4 years and 7 months"),  # a child's age in years and months, not "4 years"
    ("2022-01-12", "23 months"),  # 4 days short of 2 years: whole months, never rounded up to 24
    ("2013-01-08", "11 years"),  # whole years: no "and 0 months"
    ("2022-12-08", "13 months"),  # under 2 years: in months, as children's doctors say it
    ("2014-02-07", "9 years and 11 months"),  # a day short of 10: never "10 years" beside "under 10"
])
def test_a_childs_age_at_diagnosis_reads_in_whole_years_and_months(birth, age_words):
    report = report_of(case(INDUCTION, age_birth=birth))
    assert f"{age_words} at diagnosis" in report.risk_lines[0], report.risk_lines


def test_a_relapse_treated_back_into_remission_is_still_told_with_where_it_came_back():
    # examples/late_isolated_cns_relapse: a CNS relapse in 2023, treated, marrow in remission since. The
    # family read "In remission" and a clear spinal fluid (the 2018 result) and nothing of the relapse.
    from pathlib import Path

    import yaml

    parsed = case_from_dict(yaml.safe_load((Path(__file__).parent.parent / "examples" / "late_isolated_cns_relapse.yaml")
                                           .read_text()))
    assessment = assess(parsed)
    assert [e.kind for e in assessment.course.episodes] == ["initial", "relapse"]
    report = build_report(assessment, case=parsed)
    assert any("came back" in line and "15 May 2023" in line and "brain and spinal cord" in line
               for line in report.course_lines), report.course_lines
    assert report.cns_text is not None and report.cns_text.startswith("At diagnosis (11 December 2018)")
    assert "15 May 2023" in report_document(report)


def test_treatment_after_induction_failure_is_never_called_treatment_for_a_relapse():
    # examples/mpal_t_myeloid (12% blasts after induction, salvage) with a new genetic work-up: the engine
    # opens a refractory episode. There was never a remission, so no "relapse".
    import yaml

    data = yaml.safe_load((Path(__file__).parent.parent / "examples" / "mpal_t_myeloid.yaml").read_text())
    data["findings"].append({"type": "genetics", "date": "2024-05-22", "negative": ["BCR::ABL1"]})
    parsed = case_from_dict(data)
    assessment = assess(parsed)
    assert [e.kind for e in assessment.course.episodes] == ["initial", "refractory"]
    report = build_report(assessment, case=parsed)
    assert "relapse" not in (report.progress or "")
    assert report.progress == words.PROGRESS_BY_EPISODE["refractory"].format(month=1, start="28 May 2024")
    assert not any("relapse" in line for line in report.course_lines)
    assert any("21 May 2024" in line for line in report.course_lines), report.course_lines


def test_the_maintenance_count_target_and_value_name_their_unit():
    # A family reading "between 0.75 and 1.5 ... they were 0.45" cannot tell which unit the lab report
    # they hold uses (x10^9/L, or /uL where the same count is 450): the report names it.
    import yaml

    parsed = case_from_dict(yaml.safe_load((Path(__file__).parent.parent / "examples"
                                            / "maintenance_icicle_hold_after_neutropenia.yaml").read_text()))
    report = build_report(assess(parsed), case=parsed)
    assert report.care is not None and report.care.counts_text is not None
    unit = words.ANALYTE_UNITS["anc"]
    assert f"between 0.75 and 1.5 {unit}" in report.care.counts_text
    assert f"they were 0.45 {unit}" in report.care.counts_text


@pytest.mark.parametrize("example", ["t_lymphoblastic_lymphoma.yaml", "b_lymphoblastic_lymphoma.yaml"])
def test_a_lymphoblastic_lymphoma_is_never_told_it_is_all(example):
    import yaml

    parsed = case_from_dict(yaml.safe_load((Path(__file__).parent.parent / "examples" / example).read_text()))
    assessment = assess(parsed)
    assert assessment.diagnosis.disease == "LBL"
    report = build_report(assessment, case=parsed)
    assert report.diagnosis_title == words.DISEASE["LBL"][0]
    assert not any(re.search(r"\b[BT]-(cell )?ALL\b", text) for text in report.kind_texts), report.kind_texts
    assert any("lymphoma" in text for text in report.kind_texts)


def test_a_cns_status_the_engine_could_not_decide_is_said_with_what_is_still_needed():
    # Blasts in a bloody tap without a blood count near it: the grade cannot be decided. The family read
    # nothing under "Brain and spinal cord" and only "could not be graded" in the test section.
    report = report_of(case(INDUCTION, {"type": "csf", "date": "2024-01-09", "wbc": 8, "rbc": 20000, "blasts": True}))
    assert report.cns_text is not None and "not decided yet" in report.cns_text
    assert "Still needed" in report.cns_text and "blood WBC and RBC" in report.cns_text
    csf = next(t for t in report.tests if t.key == "csf")
    assert "Still needed" in csf.lines[0].meaning


def test_a_phase_never_claims_a_remission_the_status_does_not_have():
    # Consolidation started without an end-of-induction marrow: the status is "on treatment", so the
    # phase's words must not say it is "treatment after remission".
    report = report_of(case(INDUCTION, CONSOLIDATION))
    assert report.status_title != words.STATUS["complete_remission"][0]
    assert report.current_phase is not None and report.current_phase.key == "consolidation"
    assert "after remission" not in report.current_phase.what
    assert "remission" not in " ".join(p.what for p in report.phases if p.key != "induction")


@pytest.mark.parametrize("disease", ["not_ALL", "indeterminate"])
def test_a_report_whose_disease_is_not_all_never_speaks_of_all(disease):
    # examples/mature_b_burkitt_type: the engine says the results do not fit ALL. The family read "B-cell ALL
    # is the most common kind", "Treatment for ALL usually lasts about 2 to 3 years" and "What kind of ALL is
    # this?" under the title "The results do not fit ALL". An undecided disease must not be called ALL either.
    import yaml

    data = yaml.safe_load((Path(__file__).parent.parent / "examples" / "mature_b_burkitt_type.yaml").read_text())
    if disease == "indeterminate":
        data = case(INDUCTION)
        data["findings"] = [f for f in data["findings"] if f["type"] != "marrow"]
    parsed = case_from_dict(data)
    assessment = assess(parsed)
    assert assessment.diagnosis.disease == disease
    report = build_report(assessment, case=parsed)
    said = " ".join([*report.kind_texts, report.progress or "", *report.questions])
    assert not re.search(r"\bALL\b", said), said


def test_remission_beside_a_positive_latest_mrd_says_the_mrd_found_leukaemia_cells():
    # examples/molecular_relapse_mrd_recurrence: marrow in remission, MRD back to 0.08% after negativity. The
    # status stays remission (a molecular relapse is an alert), but "The bone marrow looks clear of
    # leukaemia" must not be all the family reads about it.
    import yaml

    parsed = case_from_dict(yaml.safe_load((Path(__file__).parent.parent / "examples"
                                            / "molecular_relapse_mrd_recurrence.yaml").read_text()))
    assessment = assess(parsed)
    assert assessment.status.current == "complete_remission" and assessment.mrd.latest.status == "positive"
    report = build_report(assessment, case=parsed)
    assert report.status_text.endswith(words.REMISSION_MRD_POSITIVE.format(date="22 April 2024"))
    negative = report_of(case(INDUCTION, CONSOLIDATION, EOI_MARROW, EOI_COUNT,
                              {"type": "mrd", "date": "2024-02-05", "value": 0.0, "sensitivity": 1e-4, "method": "flow"}))
    assert "MRD" not in negative.status_text


def test_a_lineage_the_engine_could_not_decide_says_what_is_still_needed():
    data = case(INDUCTION)
    data["findings"][2]["markers"] = {"CD19": "positive", "cCD3": "positive", "MPO": "negative"}  # no intensities
    report = report_of(data)
    line = next(t for t in report.tests if t.key == "immunophenotype").lines[0]
    assert line.value == "not decided yet"
    assert "Still needed" in line.meaning and "cCD3 intensity" in line.meaning


def test_a_gene_change_reported_both_found_and_not_found_is_shown_as_disagreeing():
    # examples/contradictory_bcr_abl1: the karyotype shows t(9;22), the FISH found no BCR::ABL1. The family's
    # gene section listed neither, as if BCR::ABL1 had never been looked at.
    import yaml

    parsed = case_from_dict(yaml.safe_load((Path(__file__).parent.parent / "examples"
                                            / "contradictory_bcr_abl1.yaml").read_text()))
    assessment = assess(parsed)
    assert assessment.diagnosis.genetics.conflicting == ["BCR::ABL1"]
    genetics = next(t for t in build_report(assessment, case=parsed).tests if t.key == "genetics")
    line = next(line for line in genetics.lines if line.label == words.GENETICS_CONFLICT[0])
    assert "BCR::ABL1" in line.value and line.meaning == words.GENETICS_CONFLICT[1]
