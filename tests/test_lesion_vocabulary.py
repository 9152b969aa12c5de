"""One lesion vocabulary: every module names the lesions with the keys of ``engine/lesion_vocabulary.py``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from allcare.engine import assess
from allcare.engine.case import case_from_dict
from allcare.engine.karyotype import RecurrentKey, parse_karyotype
from allcare.engine.lesion_vocabulary import KARYOTYPE_RECURRENT, KMT2A_R, display, normalise_lesion, request_for

SRC = Path(__file__).resolve().parents[1] / "src" / "allcare"
OWNERS = {"engine/lesion_vocabulary.py", "engine/karyotype/models.py", "interop/classifiers/labels.py"}
"""The vocabulary; the karyotype model's Literal (kept equal below); the external classifiers' own label table."""


def test_the_karyotype_parser_writes_the_vocabulary_keys():
    assert set(get_args(RecurrentKey)) == set(KARYOTYPE_RECURRENT)
    assert [r.key for r in parse_karyotype("46,XY,t(4;11)(q21;q23)[20]").recurrent] == [KMT2A_R]


@pytest.mark.parametrize("written", ["KMT2A", "KMT2A-r", "KMT2A rearranged", "KMT2A_rearrangement", "MLL", "KMT2Ar",
                                     "kmt2a rearrangement", "KMT2A r"])
def test_every_lab_spelling_of_a_kmt2a_rearrangement_is_one_key(written):
    assert normalise_lesion(written) == KMT2A_R


def test_a_kmt2a_rearrangement_seen_in_the_karyotype_and_excluded_by_fish_is_the_same_lesion():
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "p", "sex": "female", "birth_date": "2020-01-01"},
                           "findings": [
        {"type": "marrow", "date": "2024-01-02", "blasts_pct": 80},
        {"type": "cytogenetics", "date": "2024-01-02", "karyotype": "46,XX,t(4;11)(q21;q23)[20]"},
        {"type": "genetics", "date": "2024-01-03", "negative": ["KMT2A rearranged"], "source": "FISH"}]})
    genetics = assess(case).diagnosis.genetics
    assert KMT2A_R in genetics.conflicting


def test_missing_tests_are_asked_for_in_one_wording():
    assert request_for(KMT2A_R) == "KMT2A rearrangement (FISH break-apart)"
    assert display(KMT2A_R) == "KMT2A rearrangement"


def test_no_other_module_spells_the_defining_lesions_itself():
    spelled = re.compile(r"""["'](?:BCR::ABL1|KMT2A_rearrangement|KMT2A-r|ETV6::RUNX1|TCF3::PBX1|iAMP21)["']""")
    hits = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
            if str(p.relative_to(SRC)) not in OWNERS and spelled.search(p.read_text())]
    assert hits == []


@pytest.mark.parametrize(("written", "key"), [
    ("BCR::ABL1 p190", "BCR::ABL1"), ("BCR-ABL1 (p210)", "BCR::ABL1"), ("BCR-ABL1 e1a2", "BCR::ABL1"),
    ("BCR::ABL1 transcript detected", "BCR::ABL1"), ("Philadelphia chromosome", "BCR::ABL1"),
    ("ETV6-RUNX1 fusion", "ETV6::RUNX1"), ("MLL rearranged", KMT2A_R), ("MLL-ENL", "KMT2A::MLLT1"),
    ("E2A rearranged", "TCF3_rearrangement"), ("MYC-IGH", "IGH::MYC"),
])
def test_a_lesion_found_is_read_whatever_the_report_adds_to_its_name(written, key):
    """Reports add transcript names and words to a lesion ("BCR::ABL1 p190 detected") and keep old gene symbols
    (MLL, E2A): a Ph+ case written so was read as an unknown lesion, not BCR::ABL1."""
    assert normalise_lesion(written) == key


def test_a_transcript_not_found_does_not_exclude_the_fusion():
    """A p190 RT-PCR that is negative leaves p210 possible: BCR::ABL1 stays untested, not excluded."""
    from allcare.engine import assess, case_from_dict

    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "p190", "age_years": 40}, "findings": [
        {"type": "genetics", "date": "2024-01-02", "negative": ["BCR::ABL1 p190"], "fusions": []}]})
    genetics = case.findings[0]
    assert genetics.negative == ["BCR::ABL1_P190"]
    assert "BCR::ABL1" in assess(case).diagnosis.genetics.not_tested
    found = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "p190", "age_years": 40}, "findings": [
        {"type": "genetics", "date": "2024-01-02", "fusions": ["BCR::ABL1 p190"]}]})
    assert found.findings[0].fusions == ["BCR::ABL1"]


@pytest.mark.parametrize(("written", "key"), [
    ("Positive for BCR-ABL1", "BCR::ABL1"),
    ("positive for ETV6-RUNX1 fusion", "ETV6::RUNX1"),
    ("Detected: BCR::ABL1 p190", "BCR::ABL1"),
])
def test_a_found_lesion_written_with_the_reports_words_before_it_is_read(written, key):
    """'Positive for BCR-ABL1' (a report's sentence) was joined into the unknown key FORBCR::ABL1: a Ph+ case lost
    its entity, code and TKI alert."""
    assert normalise_lesion(written) == key


@pytest.mark.parametrize(("written", "key"), [
    ("BCR::ABL1 not detected", "BCR::ABL1"), ("BCR-ABL1 negative", "BCR::ABL1"), ("Negative for ETV6-RUNX1", "ETV6::RUNX1"),
    ("KMT2A rearrangement: not found", KMT2A_R), ("no BCR::ABL1", "BCR::ABL1"), ("BCR::ABL1 p190 not detected", "BCR::ABL1_P190"),
])
def test_a_lesion_written_as_not_found_is_read_in_the_negative_list(written, key):
    assert normalise_lesion(written, detected=False) == key


@pytest.mark.parametrize("written", ["BCR::ABL1 not detected", "BCR-ABL1 negative", "Negative for ETV6-RUNX1"])
def test_a_lesion_written_as_not_found_in_a_found_list_is_refused_naming_the_field(written):
    """A negative result listed among the fusions found would be an unknown key silently (BCR::ABL1NEGATIVE):
    the case names the field and where the result belongs."""
    from allcare.engine.case import CaseValidationError, case_from_dict

    with pytest.raises(CaseValidationError) as raised:
        case_from_dict({"schema": "allcare.case/1", "patient": {"id": "n"}, "findings": [
            {"type": "genetics", "date": "2024-01-01", "fusions": [written]}]})
    assert "fusions" in str(raised.value) and "negative" in str(raised.value)
