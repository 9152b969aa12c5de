"""Classifier files as the tools really write them, through the importer.

Each table below is written the way the tool's own code writes it (the code is cited beside it):
column names, quoting, the probability columns, the flags, the spelling of each group. A call the
tool itself does not make with confidence, or a group that names no single lesion, must never
reach a patient's record as a confident genetic subtype.
"""

from __future__ import annotations

import pytest

from allcare.engine import assess, case_from_dict
from allcare.engine.diagnosis.lesions import classify_expression
from allcare.interop.casefile import load_case
from allcare.interop.classifiers import ClassifierFileError, findings_by_patient, read_calls, read_patient_map
from fhir_helpers import allcare_cli

# ALLSorts 0.4 (ALLSorts/allsorts.py run_predictions: probabilities.round(3).to_csv / predictions.to_csv, pandas,
# index without a name; stages/hierarchical.py _filter_healthy: with -ball True a "B-ALL" column of the strings
# True/False, False when the sample's B-ALL immunophenotype genes lie outside 3 SD of the training set).
ALLSORTS_PROBABILITIES = (
    ",High hyperdiploid,Low hyperdiploid,Near haploid,Low hypodiploid,iAMP21,NUTM1,BCL2/MYC,TCF3-PBX1,MEF2D,HLF,"
    "IKZF1 N159Y,PAX5 P80R,Ph-like,Ph,PAX5alt,ETV6-RUNX1,ETV6-RUNX1-like,ZNF384 Group,KMT2A Group,DUX4,B-ALL,Pred\n"
    "R1,0.01,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.08,0.93,0.01,0.0,0.0,0.0,0.0,0.0,True,Ph\n"
    "R2,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.0,0.01,0.0,0.02,0.0,0.0,0.0,0.0,0.88,False,DUX4\n"
)
ALLSORTS_PREDICTIONS = ",Prediction\nR1,Ph\nR2,DUX4\n"

# ALLCatchR 1.0 (R/ALLCatcheR.R: utils::write.table(output, "predictions.tsv", sep = "\t", row.names = F), so
# strings quoted and NA unquoted; the subtype names are cutoffs$subtype of R/sysdata.rda: "Ph-pos", "CEBP",
# "Unassigned", ...).
ALLCATCHR = (
    '"sample"\t"Score"\t"Prediction"\t"Confidence"\t"BlastCounts"\t"Sex"\t"Score_sex"\t"Immuno"\t"ScoreImmuno"\t'
    '"Pre_pro_B"\t"ML_Ph-pos"\t"NN_Ph-pos"\n'
    '"C1"\t0.97\t"Ph-pos"\t"high-confidence"\t88.1\t"M"\t1\t"common_B"\t0.9\t0.2\t0.98\t0.96\n'
    '"C2"\t0.91\t"CEBP"\t"high-confidence"\t70.4\t"F"\t0.9\t"pro_B"\t0.8\t0.1\t0.02\t0\n'
    '"C3"\t0.28\t"Unassigned"\t"high-confidence"\t61\t"F"\t0.9\t"common_B"\t0.7\t0.1\t0.01\t0\n'
    '"C4"\tNA\tNA\tNA\t50\t"F"\t0.9\t"common_B"\t0.7\t0.1\t0.01\t0\n'
)

# MD-ALL 2.0 (R/GEP.R get_GEP_pred): one row per sample, the expression (GEP) call of each method. Its groups
# "Ph", "KMT2A", "ZNF384" and "ETV6::RUNX1" hold the fusion AND its -like phenocopy: get_subtype_final turns a
# GEP "ZNF384" without a ZNF384 fusion into "ZNF384-like" (like_subtypes).
MDALL_GEP = (
    "sample_id\tCDX2\tCRLF2\tNUTM1\tphenoGraph_pred\tphenoGraph_predScore\tphenoGraph_predLabel\tsvm_pred\tsvm_predScore\t"
    "svm_predLabel\n"
    "M1\t1.2\t3.1\t0.2\tZNF384\t1\tZNF384,2(1)\tZNF384\t0.91\tZNF384,10(0.91)|DUX4,1(0.09)\n"
    "M2\t1.0\t10.2\t0.1\tPh\t1\tPh,2(1)\tPh\t1\tPh,11(1)\n"
)

# MD-ALL 2.0 run_multiple_samples / run_one_sample (get_subtype_final): the integrated call with its confidence.
MDALL_FINAL = (
    "sample_id\tCDX2\tCRLF2\tNUTM1\tfusion_fc\tfusion_c\tMutation_BALL\tMutation_Sub_def\tRNAseqCNV_ChromN\t"
    "RNAseqCNV_label\tChr21Alteration\tsubtype_phenograph\tscore_phenograph\tsubtype_phenograph_label\tsubtype_svm\t"
    "score_svm\tsubtype_svm_label\tsubtype_exp\tsubtype_mutation\tsubtype_cnv\tsubtype_fusion\tsubtype_GEP\t"
    "subtype_final_possible\tconfidence\tstage\n"
    "F1\t1\t2\t0\t\t\t\t\t46\tF;46,\tNo\tZNF384\t1\tZNF384,2(1)\tZNF384\t0.95\tZNF384,11(0.95)\tNA\tNA\tNA\t\tZNF384\t"
    "ZNF384-like\tHigh\tlike\n"
    "F2\t1\t2\t0\tEP300--ZNF384(12;20)\t\t\t\t46\tM;46,\tNo\tZNF384\t1\tZNF384,2(1)\tZNF384\t0.95\tZNF384,11(0.95)\tNA\tNA\t"
    "NA\tZNF384\tZNF384\tZNF384\tHigh\tFusion\n"
    "F3\t1\t2\t0\t\t\t\t\t46\tF;46,\tNo\tDUX4\t0.5\tDUX4,1(0.5)|PAX5alt,1(0.5)\tPAX5alt\t0.55\tPAX5alt,6(0.55)\tNA\tNA\tNA\t\t"
    "DUX4,PAX5alt\tPAX5alt\tLow\tGEPalone\n"
)

# MD-ALL 2.0 shiny app, count-matrix mode, "out_countMatrix_sum.tsv" (write.table quote = F, na = ""): no score
# columns; each method's share is in its label column.
MDALL_COUNT_ONLY = (
    "sample_id\tsubtype_phenograph\tsubtype_phenograph_label\tsubtype_svm\tsubtype_svm_label\n"
    "Q1\tDUX4\tDUX4,2(1)\tDUX4\tDUX4,10(0.91)|ZNF384,1(0.09)\n"
)

# TALLSorts 0.2 (TALLSorts/tallsorts.py run_predictions): one directory per hierarchy level; predictions.csv holds
# only the top group, a sample with several groups above threshold is listed again in multi_calls.csv
# (gen_multicall_csv). Level 1 groups of the default model: BCL11B, HOXA_KMT2A, HOXA_MLLT10, NKX2, TAL/LMO,
# TLX1, TLX3, Diverse; level 2 under TAL/LMO: TAL2.
TALLSORTS_PREDICTIONS = "Sample,Predictions\nT1,TLX3\nT2,TAL/LMO\nT3,NKX2\n"
TALLSORTS_PROBABILITIES = (
    "Sample,BCL11B,HOXA_KMT2A,HOXA_MLLT10,NKX2,TAL/LMO,TLX1,TLX3,Diverse\n"
    "T1,0.01,0.0,0.0,0.02,0.61,0.0,0.83,0.04\n"
    "T2,0.0,0.0,0.0,0.01,0.9,0.0,0.02,0.03\n"
    "T3,0.0,0.0,0.0,0.77,0.0,0.0,0.0,0.01\n"
)
TALLSORTS_MULTI = ",call_1,proba,call_2,proba\nT1,TLX3,0.83,TAL/LMO,0.61\n"

MAP = "sample,patient,date\n" + "".join(
    f"{s},PT-{s},2024-05-0{n % 9 + 1}\n"
    for n, s in enumerate(("R1", "R2", "C1", "C2", "C3", "C4", "M1", "M2", "F1", "F2", "F3", "Q1", "T1", "T2", "T3"))
)


def write(directory, files: dict[str, str], *, newline: str = "\n", bom: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_bytes((("\ufeff" if bom else "") + text.replace("\n", newline)).encode("utf-8"))


def imported(tool: str, path, tmp_path) -> dict[str, dict]:
    (tmp_path / "map.csv").write_text(MAP)
    by_patient = findings_by_patient(read_calls(tool, path), read_patient_map(tmp_path / "map.csv"), path.name)
    return {patient.removeprefix("PT-"): items[0] for patient, items in by_patient.items()}


def never_used(finding: dict) -> bool:
    """The engine reports this expression subtype and never classifies on it."""
    return classify_expression(finding["expression_subtype"]) is None


@pytest.mark.parametrize("newline,bom", [("\n", False), ("\r\n", True)])
def test_allsorts_b_all_flag_false_makes_the_call_unconfident(tmp_path, newline, bom):
    write(tmp_path / "allsorts", {"predictions.csv": ALLSORTS_PREDICTIONS, "probabilities.csv": ALLSORTS_PROBABILITIES},
          newline=newline, bom=bom)
    got = imported("allsorts", tmp_path / "allsorts" / "predictions.csv", tmp_path)
    assert got["R1"]["expression_subtype"] == "BCR::ABL1" and got["R1"]["expression_confidence"] == 0.93
    assert never_used(got["R2"]) and "B-ALL" in got["R2"]["expression_subtype"]
    assert got["R2"]["expression_confidence"] == 0.88


def test_allcatchr_subtype_names_as_the_tool_writes_them(tmp_path):
    write(tmp_path, {"predictions.tsv": ALLCATCHR})
    got = imported("allcatchr", tmp_path / "predictions.tsv", tmp_path)
    assert got["C1"]["expression_subtype"] == "BCR::ABL1" and "b_all_bcr_abl1" in got["C1"]["note"]
    assert got["C2"]["expression_subtype"] == "ZEB2/CEBPE"
    assert got["C3"]["expression_subtype"] == "Unclassified"
    assert got["C4"]["expression_subtype"] == "Unclassified" and "expression_confidence" not in got["C4"]


def test_mdall_expression_groups_are_not_read_as_the_fusion(tmp_path):
    """MD-ALL's GEP 'ZNF384' holds ZNF384-rearranged and ZNF384-like cases: it must not make the ZNF384 entity."""
    write(tmp_path, {"gep.tsv": MDALL_GEP})
    got = imported("mdall", tmp_path / "gep.tsv", tmp_path)
    for sample, group in (("M1", "ZNF384"), ("M2", "BCR::ABL1")):
        assert never_used(got[sample]), got[sample]
        assert group in got[sample]["expression_subtype"] and "-like" in got[sample]["expression_subtype"]
    case = case_from_dict({
        "schema": "allcare.case/1", "patient": {"id": "PT-M1", "birth_date": "2012-01-01", "sex": "female"},
        "findings": [
            {"type": "marrow", "date": "2024-05-01", "blasts_pct": 80, "timepoint": "diagnosis"},
            {"type": "immunophenotype", "date": "2024-05-01",
             "markers": {"CD19": "positive", "cCD79a": "positive", "CD10": "positive", "cCD3": "negative", "MPO": "negative"}},
            got["M1"],
        ],
    })
    a = assess(case)
    assert "ZNF384" not in (a.diagnosis.icc_2022.key or "") and "ZNF384_rearrangement" not in a.diagnosis.genetics.detected


def test_mdall_integrated_summary_reads_the_final_call_and_its_confidence(tmp_path):
    write(tmp_path, {"out.tsv": MDALL_FINAL})
    got = imported("mdall", tmp_path / "out.tsv", tmp_path)
    assert got["F1"]["expression_subtype"] == "ZNF384-like"
    assert got["F2"]["expression_subtype"] == "ZNF384-r"  # the fusion was found: MD-ALL's final 'ZNF384' is the fusion
    assert never_used(got["F3"]) and "Low" in got["F3"]["expression_subtype"]


def test_mdall_count_matrix_download_without_score_columns(tmp_path):
    write(tmp_path, {"out_countMatrix_sum.tsv": MDALL_COUNT_ONLY})
    got = imported("mdall", tmp_path / "out_countMatrix_sum.tsv", tmp_path)
    assert got["Q1"]["expression_subtype"] == "DUX4-r" and got["Q1"]["expression_confidence"] == 0.91


def test_tallsorts_multi_calls_and_level_names(tmp_path):
    level = tmp_path / "Level_1_Level0"
    write(level, {"predictions.csv": TALLSORTS_PREDICTIONS, "probabilities.csv": TALLSORTS_PROBABILITIES,
                  "multi_calls.csv": TALLSORTS_MULTI})
    got = imported("tallsorts", level / "predictions.csv", tmp_path)
    assert never_used(got["T1"]) and "TAL" in got["T1"]["expression_subtype"] and "several" in got["T1"]["expression_subtype"]
    assert got["T2"]["expression_subtype"] == "T-ALL TAL/LMO" and got["T2"]["expression_confidence"] == 0.9
    assert got["T3"]["expression_subtype"] == "T-ALL NKX2"


def test_tallsorts_second_level_refines_the_first_without_contradicting_it(tmp_path):
    """Level_2_TAL_LMO/predictions.csv says 'Unclassified' for a TAL/LMO sample that is not TAL2: importing it after
    level 1 must not replace the TAL/LMO call. Its TAL2 call refines the level-1 call (TAL2 is a TAL/LMO sub-group):
    the record must not hold 'TAL/LMO' and 'TAL2' as two contradicting calls. A sample level 1 called with another
    group too (multi_calls.csv) is sent down as well: its TAL2 call is not confident."""
    write(tmp_path / "Level_1_Level0", {
        "predictions.csv": "Sample,Predictions\nT1,TLX3\nT2,TAL/LMO\nT3,TAL/LMO\n",
        "probabilities.csv": "Sample,TAL/LMO,TLX3\nT1,0.7,0.9\nT2,0.9,0.0\nT3,0.8,0.1\n",
        "multi_calls.csv": ",call_1,proba,call_2,proba\nT1,TLX3,0.9,TAL/LMO,0.7\n"})
    write(tmp_path / "Level_2_TAL_LMO", {
        "predictions.csv": "Sample,Predictions\nT1,TAL2\nT2,Unclassified\nT3,TAL2\n",
        "probabilities.csv": "Sample,TAL2\nT1,0.8\nT2,0.1\nT3,0.85\n"})
    (tmp_path / "map.csv").write_text(MAP)
    cases = tmp_path / "cases"
    for level in ("Level_1_Level0", "Level_2_TAL_LMO"):
        done = allcare_cli("import", "classifier", str(tmp_path / level / "predictions.csv"), "--tool", "tallsorts",
                           "--patient-map", str(tmp_path / "map.csv"), "--to-case-dir", str(cases))
        assert done.returncode == 0, done.stderr
    subtypes = {s: [f.expression_subtype for f in load_case(cases / f"PT-{s}.json").findings] for s in ("T1", "T2", "T3")}
    assert "T-ALL TAL/LMO" in subtypes["T2"] and "Unclassified" not in subtypes["T2"], subtypes
    assert subtypes["T3"] == ["T-ALL TAL2"]
    assert all(classify_expression(text) is None for text in subtypes["T1"]) and "T-ALL TAL2" not in subtypes["T1"]
    t3 = load_case(cases / "PT-T3.json").to_json_dict()
    t3["findings"] = [*t3["findings"], {"type": "marrow", "date": "2024-05-01", "blasts_pct": 80, "timepoint": "diagnosis"}]
    a = assess(case_from_dict(t3))
    assert all(c.determined for c in a.conclusions() if c.topic == "diagnosis.genetics.expression")


def test_a_sample_twice_in_one_file_is_an_error(tmp_path):
    write(tmp_path, {"predictions.tsv": ALLCATCHR + ALLCATCHR.splitlines(keepends=True)[2].replace("CEBP", "DUX4")})
    with pytest.raises(ClassifierFileError, match="C2"):
        imported("allcatchr", tmp_path / "predictions.tsv", tmp_path)


def test_two_patients_never_share_one_case_file(tmp_path):
    write(tmp_path, {"predictions.tsv": ALLCATCHR})
    (tmp_path / "map.csv").write_text("sample,patient,date\nC1,A/1,2024-05-01\nC2,A_1,2024-05-01\nC3,B,2024-05-01\n"
                                      "C4,B,2024-05-01\n")
    cases = tmp_path / "cases"
    done = allcare_cli("import", "classifier", str(tmp_path / "predictions.tsv"), "--tool", "allcatchr",
                       "--patient-map", str(tmp_path / "map.csv"), "--to-case-dir", str(cases))
    assert done.returncode == 2 and "A/1" in done.stderr and "A_1" in done.stderr, done.stderr
    assert not cases.exists() or not any(cases.iterdir())


def test_a_utf16_table_from_a_spreadsheet_reads_the_same(tmp_path):
    (tmp_path / "predictions.tsv").write_bytes(ALLCATCHR.replace("\n", "\r\n").encode("utf-16"))
    got = imported("allcatchr", tmp_path / "predictions.tsv", tmp_path)
    assert got["C1"]["expression_subtype"] == "BCR::ABL1"


def test_a_sample_name_rewritten_by_r_is_named_with_the_map_entry_it_came_from(tmp_path):
    """ALLCatchR reads counts with read.csv, so '24-0117' in the count file is 'X24.0117' in its predictions."""
    write(tmp_path, {"predictions.tsv": ALLCATCHR.replace('"C1"', '"X24.0117"')})
    (tmp_path / "map.csv").write_text("sample,patient,date\n24-0117,PT-1,2024-05-01\nC2,PT-2,2024-05-01\nC3,PT-3,2024-05-01\n"
                                      "C4,PT-4,2024-05-01\n")
    with pytest.raises(ClassifierFileError) as info:
        findings_by_patient(read_calls("allcatchr", tmp_path / "predictions.tsv"), read_patient_map(tmp_path / "map.csv"), "p")
    assert info.value.problems == ["sample 'X24.0117' is not in the patient map (R writes the map's '24-0117' as 'X24.0117': "
                                   "put 'X24.0117' in the map if it is that sample)"]


def test_the_tool_version_given_on_the_command_line_is_kept_with_each_call(tmp_path):
    write(tmp_path, {"predictions.tsv": ALLCATCHR})
    (tmp_path / "map.csv").write_text(MAP)
    cases = tmp_path / "cases"
    done = allcare_cli("import", "classifier", str(tmp_path / "predictions.tsv"), "--tool", "allcatchr", "--tool-version", "1.0",
                       "--patient-map", str(tmp_path / "map.csv"), "--to-case-dir", str(cases))
    assert done.returncode == 0, done.stderr
    assert load_case(cases / "PT-C1.json").findings[0].source == "ALLCatchR 1.0 (predictions.tsv, sample C1)"
    bad = allcare_cli("import", "classifier", str(tmp_path / "predictions.tsv"), "--tool", "allcatchr", "--tool-version", "1\x1b[2J",
                      "--patient-map", str(tmp_path / "map.csv"), "--to-case-dir", str(cases))
    assert bad.returncode == 2 and "--tool-version" in bad.stderr


@pytest.mark.parametrize("given,content,name", [
    ("allsorts", ALLCATCHR, "predictions.tsv"),  # read as ALLSorts, a 'candidate' call would have become confident
    ("tallsorts", ALLCATCHR, "predictions.tsv"),
    ("allcatchr", MDALL_FINAL, "out.tsv"),
    ("mdall", TALLSORTS_PREDICTIONS, "predictions.csv"),
    ("tallsorts", ALLSORTS_PREDICTIONS, "predictions.csv"),
])
def test_a_file_given_with_the_wrong_tool_is_refused(tmp_path, given, content, name):
    write(tmp_path, {name: content})
    with pytest.raises(ClassifierFileError, match="the columns are those of"):
        read_calls(given, tmp_path / name)


@pytest.mark.parametrize("tool,content", [
    ("tallsorts", "Sample,Predictions\nT1,TLX3\nT2\n"),
    ("allsorts", ",Prediction\nR1,DUX4\nR2\n"),
    ("allcatchr", '"sample"\t"Score"\t"Prediction"\t"Confidence"\n"C1"\t0.97\t"DUX4"\t"high-confidence"\n"C2"\t0.5\n'),
    ("mdall", "sample_id\tphenoGraph_pred\tphenoGraph_predScore\tsvm_pred\tsvm_predScore\nM1\tDUX4\t1\tDUX4\t1\nM2\tDUX4\n"),
])
def test_a_row_cut_short_is_no_call_not_a_traceback(tmp_path, tool, content):
    write(tmp_path, {"predictions.csv": content})
    short = read_calls(tool, tmp_path / "predictions.csv")[-1]
    assert not short.confident and short.sample in ("T2", "R2", "C2", "M2")
