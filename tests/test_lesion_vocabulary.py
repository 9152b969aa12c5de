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
