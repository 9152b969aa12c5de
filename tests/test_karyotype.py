"""Behaviour of the ISCN karyotype parser, through its public API only."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allcare.engine.karyotype import (
    Clone,
    Karyotype,
    describe,
    modal_numbers,
    parse_karyotype,
)


def only_clone(text: str) -> Clone:
    """The single clone of a one-clone karyotype."""
    karyotype = parse_karyotype(text)
    assert len(karyotype.clones) == 1, karyotype.problems
    return karyotype.clones[0]


def errors(karyotype: Karyotype) -> list[str]:
    """Problems other than warnings."""
    return [p.message for p in karyotype.problems if p.severity == "error"]


def keys(karyotype: Karyotype) -> list[str]:
    return [lesion.key for lesion in karyotype.recurrent]


# --- structural abnormalities -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "kind", "chromosomes", "breakpoints"),
    [
        ("t(9;22)(q34;q11.2)", "t", ["9", "22"], ["q34", "q11.2"]),
        ("t(4;11)(q21;q23)", "t", ["4", "11"], ["q21", "q23"]),
        ("t(1;19)(q23;p13)", "t", ["1", "19"], ["q23", "p13"]),
        ("t(12;21)(p13;q22)", "t", ["12", "21"], ["p13", "q22"]),
        ("t(11;19)(q23;p13.3)", "t", ["11", "19"], ["q23", "p13.3"]),
        ("t(1;11;4)(p32;q23;q21)", "t", ["1", "11", "4"], ["p32", "q23", "q21"]),
        ("t(X;11)(q13;q23)", "t", ["X", "11"], ["q13", "q23"]),
        ("der(19)t(1;19)(q23;p13)", "der", ["1", "19"], ["q23", "p13"]),
        ("der(22)t(9;22)(q34;q11)", "der", ["9", "22"], ["q34", "q11"]),
        ("der(9)t(9;22)(q34;q11)", "der", ["9", "22"], ["q34", "q11"]),
        ("der(1)t(1;19)", "der", ["1", "19"], []),
        ("der(1;7)(q10;p10)", "der", ["1", "7"], ["q10", "p10"]),
        ("der(9)del(9)(p21)t(9;22)(q34;q11)", "der", ["9", "22"], ["p21", "q34", "q11"]),
        ("del(9)(p21)", "del", ["9"], ["p21"]),
        ("del(6)(q21q25)", "del", ["6"], ["q21", "q25"]),
        ("del(7)(q22qter)", "del", ["7"], ["q22", "qter"]),
        ("dup(1)(q21q32)", "dup", ["1"], ["q21", "q32"]),
        ("add(14)(q32)", "add", ["14"], ["q32"]),
        ("i(17)(q10)", "i", ["17"], ["q10"]),
        ("i(17q)", "i", ["17"], ["q10"]),
        ("idic(9)(p12)", "idic", ["9"], ["p12"]),
        ("dic(9;20)(p13;q11)", "dic", ["9", "20"], ["p13", "q11"]),
        ("inv(14)(q11q32)", "inv", ["14"], ["q11", "q32"]),
        ("ins(1;5)(p13;q31q33)", "ins", ["1", "5"], ["p13", "q31", "q33"]),
        ("trp(1)(q21q32)", "trp", ["1"], ["q21", "q32"]),
        ("r(7)(p22q36)", "r", ["7"], ["p22", "q36"]),
        ("hsr(11)(q23)", "hsr", ["11"], ["q23"]),
        ("iamp(21)(q22)", "other", ["21"], ["q22"]),
        ("iamp(21)", "other", ["21"], []),
        ("del(9)(p1?)", "del", ["9"], ["p1?"]),
        ("add(7)(?q21)", "add", ["7"], ["?q21"]),
        ("del(12)(p12~p13)", "del", ["12"], ["p12~p13"]),
        ("inv(9)(p11q12)", "inv", ["9"], ["p11", "q12"]),
        ("add(9)(cen)", "add", ["9"], ["cen"]),
    ],
)
def test_structural_abnormality_is_read(token: str, kind: str, chromosomes: list[str], breakpoints: list[str]) -> None:
    karyotype = parse_karyotype(f"46,XY,{token}[10]")
    assert errors(karyotype) == []
    [abnormality] = karyotype.clones[0].abnormalities
    assert abnormality.text == token
    assert abnormality.kind == kind
    assert abnormality.chromosomes == chromosomes
    assert abnormality.breakpoints == breakpoints
    assert abnormality.constitutional is False
    assert karyotype.clones[0].structural == [abnormality]
    assert karyotype.clones[0].gains == []


def test_translocation_bands_line_up_with_chromosomes() -> None:
    [abnormality] = only_clone("46,XY,ins(1;5)(p13;q31q33)[10]").abnormalities
    assert abnormality.breakpoint_groups == [["p13"], ["q31", "q33"]]


def test_derivative_keeps_its_rearrangements_as_parts() -> None:
    [derivative] = only_clone("46,XY,der(9)del(9)(p21)t(9;22)(q34;q11)[10]").abnormalities
    assert derivative.derivative == "9"
    assert [part.text for part in derivative.parts] == ["del(9)(p21)", "t(9;22)(q34;q11)"]
    assert derivative.parts[1].breakpoint_groups == [["q34"], ["q11"]]


def test_gained_derivative_is_structural_not_a_whole_chromosome_gain() -> None:
    clone = only_clone("47,XY,t(9;22)(q34;q11),+der(22)t(9;22)(q34;q11)[10]")
    gained = clone.abnormalities[1]
    assert (gained.kind, gained.sign, gained.derivative) == ("der", "+", "22")
    assert clone.gains == []
    assert len(clone.structural) == 2


def test_both_derivatives_of_a_translocation() -> None:
    clone = only_clone("46,XX,der(9)t(9;22)(q34;q11),der(22)t(9;22)(q34;q11)[10]")
    assert [a.derivative for a in clone.abnormalities] == ["9", "22"]


def test_copies_of_a_structural_abnormality() -> None:
    clone = only_clone("48,XY,t(9;22)(q34;q11),+der(22)t(9;22)(q34;q11)x2[10]")
    assert clone.abnormalities[1].count == 2


def test_uncertain_token_is_flagged() -> None:
    clone = only_clone("46,XY,add(7)(q2?)[10]")
    assert clone.abnormalities[0].uncertain is True


def test_constitutional_structural_abnormality() -> None:
    clone = only_clone("46,XY,t(11;22)(q23;q11.2)c[20]")
    assert clone.abnormalities[0].constitutional is True
    assert clone.structural == []
    assert clone.is_normal is True


# --- numerical abnormalities --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "kind", "chromosome", "constitutional", "count"),
    [
        ("+4", "gain", "4", False, 1),
        ("-7", "loss", "7", False, 1),
        ("+X", "gain", "X", False, 1),
        ("-Y", "loss", "Y", False, 1),
        ("+x", "gain", "X", False, 1),
        ("+21c", "gain", "21", True, 1),
        ("+21x2", "gain", "21", False, 2),
        ("+ 8", "gain", "8", False, 1),
    ],
)
def test_numerical_abnormality_is_read(
    token: str, kind: str, chromosome: str, constitutional: bool, count: int
) -> None:
    [abnormality] = only_clone(f"46,XX,{token}[10]").abnormalities
    assert (abnormality.kind, abnormality.chromosomes) == (kind, [chromosome])
    assert (abnormality.constitutional, abnormality.count) == (constitutional, count)


def test_gains_and_losses_lists_keep_repeats() -> None:
    clone = only_clone("48,XX,+21x2,+8,-7,+X[10]")
    assert clone.gains == ["21", "21", "8", "X"]
    assert clone.losses == ["7"]


@pytest.mark.parametrize(("token", "count"), [("+mar", 1), ("+2mar", 2), ("+mar1", 1), ("+1~3mar", 1)])
def test_markers(token: str, count: int) -> None:
    clone = only_clone(f"47,XY,{token}[10]")
    [marker] = clone.abnormalities
    assert (marker.kind, marker.count, marker.chromosomes) == ("mar", count, [])
    assert clone.gains == []
    assert clone.structural == [marker]


def test_other_iscn_items_are_kept_as_other() -> None:
    clone = only_clone("46,XY,dmin,+r[10]")
    assert [(a.kind, a.symbol) for a in clone.abnormalities] == [("other", "dmin"), ("r", "r")]


@pytest.mark.parametrize("token", ["+23", "+0", "+21x0", "-Z"])
def test_impossible_numerical_tokens_are_reported(token: str) -> None:
    karyotype = parse_karyotype(f"47,XY,{token}[10]")
    assert karyotype.clones[0].unparsed == [token]
    assert [p.text for p in karyotype.problems] == [token]


# --- clone fields ------------------------------------------------------------------------------------------------


def test_single_abnormal_clone() -> None:
    clone = only_clone("46,XY,t(9;22)(q34;q11.2)[20]")
    assert clone.index == 0
    assert clone.text == "46,XY,t(9;22)(q34;q11.2)[20]"
    assert (clone.modal_number, clone.modal_min, clone.modal_max) == (46, 46, 46)
    assert (clone.sex_chromosomes, clone.cell_count, clone.composite) == ("XY", 20, False)
    assert (clone.role, clone.based_on, clone.is_normal, clone.donor) == ("single", None, False, False)


def test_composite_clone_with_modal_range() -> None:
    clone = only_clone("45~48,XX,+4,-7,+10[cp10]")
    assert clone.composite is True
    assert clone.cell_count == 10
    assert (clone.modal_number, clone.modal_min, clone.modal_max) == (None, 45, 48)
    assert clone.gains == ["4", "10"]
    assert clone.losses == ["7"]


@pytest.mark.parametrize("modal", ["45-48", "45 ~ 48", "48~45"])
def test_modal_range_spellings(modal: str) -> None:
    clone = only_clone(f"{modal},XX,+4,-7,+10[cp10]")
    assert (clone.modal_number, clone.modal_min, clone.modal_max) == (None, 45, 48)


def test_ploidy_level_is_kept() -> None:
    clone = only_clone("69<3n>,XXY,+4[10]")
    assert (clone.modal_number, clone.ploidy_level) == (69, "<3n>")


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("46,XX[20]", True),
        ("46,XY[20]", True),
        ("45,X[20]", False),
        ("47,XXY[20]", False),
        ("47,XY,+21c[20]", True),
        ("47,XXYc[20]", True),
    ],
)
def test_normal_clone(text: str, normal: bool) -> None:
    karyotype = parse_karyotype(text)
    assert karyotype.clones[0].is_normal is normal
    assert karyotype.is_normal is normal
    assert (karyotype.clones[0].role == "normal") is normal


def test_normal_clone_written_last() -> None:
    karyotype = parse_karyotype("46,XY,t(12;21)(p13;q22)[15]/46,XY[5]")
    assert [c.role for c in karyotype.clones] == ["single", "normal"]
    assert karyotype.is_normal is False
    assert karyotype.modal_number == 46


def test_all_normal_karyotype_reports_its_modal_number() -> None:
    karyotype = parse_karyotype("46,XX[20]")
    assert karyotype.is_normal is True
    assert karyotype.modal_number == 46
    assert modal_numbers(karyotype) == []
    assert karyotype.abnormality_count == 0


def test_donor_cells_after_double_slash() -> None:
    karyotype = parse_karyotype("47,XY,+8[3]//46,XX[17]")
    assert [(c.donor, c.role) for c in karyotype.clones] == [(False, "single"), (True, "normal")]


def test_whitespace_around_commas_and_cells() -> None:
    clone = only_clone(" 47 , XY , +8 , t(9;22)(q34;q11.2) [20] ")
    assert [a.text for a in clone.abnormalities] == ["+8", "t(9;22)(q34;q11.2)"]
    assert clone.cell_count == 20


def test_lower_case_input_is_normalised() -> None:
    karyotype = parse_karyotype("47,xy,+x,t(9;22)(Q34;Q11.2),DEL(9)(P21)[20]")
    clone = karyotype.clones[0]
    assert clone.sex_chromosomes == "XY"
    assert clone.gains == ["X"]
    assert [a.kind for a in clone.abnormalities] == ["gain", "t", "del"]
    assert clone.abnormalities[1].breakpoints == ["q34", "q11.2"]
    assert clone.abnormalities[2].text == "DEL(9)(P21)"
    assert keys(karyotype) == ["BCR::ABL1"]
    assert karyotype.parsed_ok


def test_missing_cell_count_is_allowed() -> None:
    clone = only_clone("46,XY,t(9;22)(q34;q11.2)")
    assert clone.cell_count is None


# --- sidelines ---------------------------------------------------------------------------------------------------


def test_idem_and_sl_expand_the_stemline() -> None:
    karyotype = parse_karyotype("46,XY,t(9;22)(q34;q11)[5]/47,idem,+8[10]/48,sl,+8,+21[3]")
    _, idem, sl = karyotype.clones
    assert [c.role for c in karyotype.clones] == ["stemline", "sideline", "sideline"]
    assert [c.based_on for c in karyotype.clones] == [None, "idem", "sl"]
    assert [a.text for a in idem.abnormalities] == ["t(9;22)(q34;q11)", "+8"]
    assert [a.text for a in sl.abnormalities] == ["t(9;22)(q34;q11)", "+8", "+21"]
    assert idem.sex_chromosomes == sl.sex_chromosomes == "XY"
    assert sl.gains == ["8", "21"]
    assert karyotype.modal_number == 46
    assert modal_numbers(karyotype) == [46, 47, 48]
    assert karyotype.abnormality_count == 3
    assert karyotype.parsed_ok


def test_sdl_refers_to_the_previous_sideline_and_sdl1_to_the_first() -> None:
    karyotype = parse_karyotype(
        "46,XX,t(12;21)(p13;q22)[4]/47,idem,+10[6]/48,sdl,+16[5]/49,sdl1,+18,+21[3]/50,sdl2,+4,+6[2]"
    )
    texts = [[a.text for a in c.abnormalities] for c in karyotype.clones]
    assert texts[2] == ["t(12;21)(p13;q22)", "+10", "+16"]
    assert texts[3] == ["t(12;21)(p13;q22)", "+10", "+18", "+21"]
    assert texts[4] == ["t(12;21)(p13;q22)", "+10", "+16", "+4", "+6"]
    assert karyotype.parsed_ok, karyotype.problems


def test_sideline_loss_undoes_an_inherited_gain() -> None:
    karyotype = parse_karyotype("47,XY,+8,t(9;22)(q34;q11)[5]/46,idem,-8[3]")
    sideline = karyotype.clones[1]
    assert sideline.gains == [] and sideline.losses == []
    assert [a.text for a in sideline.abnormalities] == ["t(9;22)(q34;q11)"]
    assert karyotype.parsed_ok


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("47,idem,+8[5]", "'idem' is used before any abnormal clone"),
        ("46,XY,t(9;22)(q34;q11)[5]/47,sdl3,+8[3]", "'sdl3' refers to a sideline that was not written before it"),
    ],
)
def test_sideline_without_parent_is_reported(text: str, message: str) -> None:
    karyotype = parse_karyotype(text)
    assert message in errors(karyotype)
    assert karyotype.clones[-1].abnormalities[-1].text == "+8"


def test_sdl_directly_after_the_stemline_warns_and_uses_the_stemline() -> None:
    karyotype = parse_karyotype("46,XY,t(9;22)(q34;q11)[5]/47,sdl,+8[3]")
    assert [a.text for a in karyotype.clones[1].abnormalities] == ["t(9;22)(q34;q11)", "+8"]
    assert [p.severity for p in karyotype.problems] == ["warning"]


def test_unrelated_clones() -> None:
    karyotype = parse_karyotype("46,XY,t(9;22)(q34;q11)[10]/47,XY,+8[5]")
    assert [c.role for c in karyotype.clones] == ["stemline", "sideline"]
    assert karyotype.clones[1].abnormalities[0].text == "+8"


# --- counts and complexity ---------------------------------------------------------------------------------------


def test_constitutional_trisomy_21_is_excluded_from_counts() -> None:
    karyotype = parse_karyotype("48,XY,+21c,+X,t(12;21)(p13;q22)[20]")
    clone = karyotype.clones[0]
    assert clone.gains == ["X"]
    assert clone.abnormalities[0].constitutional is True
    assert karyotype.abnormality_count == 2
    assert karyotype.parsed_ok


@pytest.mark.parametrize(
    ("text", "count", "complex_"),
    [
        ("50,XY,+4,+6,del(9)(p21),+21c,+10[10]", 4, False),
        ("51,XY,+4,+6,del(9)(p21),+21c,+10,+14[10]", 5, True),
        ("46,XY,t(9;22)(q34;q11),del(9)(p21)[5]/47,idem,+8[5]/48,idem,+8,+X[5]/46,idem,add(14)(q32)[2]", 5, True),
        ("47,XY,+21,+21,-7,t(9;22)(q34;q11),del(9)(p21)[10]", 4, False),
    ],
)
def test_complex_karyotype_threshold(text: str, count: int, complex_: bool) -> None:
    karyotype = parse_karyotype(text)
    assert karyotype.abnormality_count == count
    assert karyotype.is_complex is complex_
    assert karyotype.complex_threshold == 5
    assert karyotype.parsed_ok, karyotype.problems


def test_complex_threshold_is_configurable() -> None:
    text = "47,XY,+4,del(9)(p21),-7,+10[10]"
    assert parse_karyotype(text).is_complex is False
    assert parse_karyotype(text, complex_threshold=3).is_complex is True


# --- ploidy examples ---------------------------------------------------------------------------------------------


def test_high_hyperdiploid() -> None:
    karyotype = parse_karyotype("55,XY,+4,+6,+10,+14,+17,+18,+21,+21,+X[15]/46,XY[5]")
    assert karyotype.modal_number == 55
    assert modal_numbers(karyotype) == [55]
    assert karyotype.clones[0].gains == ["4", "6", "10", "14", "17", "18", "21", "21", "X"]
    assert karyotype.clones[0].cell_count == 15
    assert karyotype.parsed_ok


def test_near_haploid() -> None:
    karyotype = parse_karyotype("27,X,+10,+14,+18,+21[12]/46,XX[8]")
    assert karyotype.modal_number == 27
    assert karyotype.clones[0].gains == ["10", "14", "18", "21"]
    assert karyotype.clones[0].sex_chromosomes == "X"
    assert [c.role for c in karyotype.clones] == ["single", "normal"]
    assert karyotype.parsed_ok


def test_doubled_near_haploid_looks_hyperdiploid() -> None:
    karyotype = parse_karyotype("54,XX,+X,+10,+10,+14,+14,+18,+21,+21[10]")
    assert karyotype.modal_number == 54
    assert karyotype.clones[0].gains == ["X", "10", "10", "14", "14", "18", "21", "21"]
    assert karyotype.parsed_ok


# --- modal number consistency ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["46,XY,+8[5]", "47,XY,+8,-7[10]", "45,XX[3]"])
def test_modal_number_mismatch_is_a_warning_and_the_written_number_wins(text: str) -> None:
    karyotype = parse_karyotype(text)
    [problem] = karyotype.problems
    assert problem.severity == "warning"
    assert problem.message.startswith("modal number")
    assert karyotype.clones[0].modal_number == int(text.split(",", maxsplit=1)[0])
    assert karyotype.parsed_ok is False


@pytest.mark.parametrize(
    "text",
    [
        "45,X,-Y[10]",
        "45,XY,-Y[10]",
        "47,XX,+X[10]",
        "45,XX,dic(9;20)(p13;q11)[10]",
        "47,XY,+mar[10]",
        "48,XY,+mar[10]",
        "46,XY,+1,der(1;7)(q10;p10)[10]",
        "46,XY,+?8[10]",
        "44~47,XY,+8[cp10]",
        "27,X,+10,+14,+18,+21[12]",  # near-haploid: written relative to 23 (ISCN 2020)
        "62,XXXX,+4,+4,+6,+6,+10,+10,+14,+14,+17,+17,+18,+18,+21,+21[10]",  # near-triploid written relative to 46
        "47,XY,t(9;22)(q34;q11),+der(22)t(9;22)(q34;q11)[10]",
        "47,XY,+21c[20]",
    ],
)
def test_modal_number_check_stays_silent_when_it_cannot_be_sure(text: str) -> None:
    assert parse_karyotype(text).problems == []


# --- recurrent lesions -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "rule"),
    [
        ("46,XY,t(9;22)(q34;q11.2)[20]", "BCR::ABL1", "KARYO.T_9_22"),
        ("46,XY,t(9;22)(q34.1;q11.23)[20]", "BCR::ABL1", "KARYO.T_9_22"),
        ("46,XY,t(22;9)(q11;q34)[20]", "BCR::ABL1", "KARYO.T_9_22"),
        ("46,XY,der(22)t(9;22)(q34;q11)[20]", "BCR::ABL1", "KARYO.T_9_22"),
        ("47,XY,t(9;22)(q34;q11),+der(22)t(9;22)(q34;q11)[20]", "BCR::ABL1", "KARYO.T_9_22"),
        ("46,XX,t(12;21)(p13;q22)[20]", "ETV6::RUNX1", "KARYO.T_12_21"),
        ("46,XX,t(12;21)(p13.2;q22.1)[20]", "ETV6::RUNX1", "KARYO.T_12_21"),
        ("46,XX,t(1;19)(q23;p13)[20]", "TCF3::PBX1", "KARYO.T_1_19"),
        ("46,XX,der(19)t(1;19)(q23;p13.3)[20]", "TCF3::PBX1", "KARYO.T_1_19"),
        ("46,XX,t(4;11)(q21;q23)[20]", "KMT2A_rearrangement", "KARYO.T_4_11"),
        ("46,XX,t(11;19)(q23;p13.3)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,t(9;11)(p22;q23)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,t(6;11)(q27;q23)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,t(1;11;4)(p32;q23;q21)[20]", "KMT2A_rearrangement", "KARYO.T_4_11"),
        ("46,XX,inv(11)(p15q23)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,ins(10;11)(p12;q23q13)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,der(11)t(11;19)(q23;p13)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,t(?;11)(?;q23)[20]", "KMT2A_rearrangement", "KARYO.KMT2A_11Q23"),
        ("46,XX,t(17;19)(q22;p13)[20]", "TCF3::HLF", "KARYO.T_17_19"),
        ("46,XX,t(5;14)(q31;q32)[20]", "IGH::IL3", "KARYO.T_5_14"),
        ("46,XX,iamp(21)(q22)[20]", "iAMP21", "KARYO.IAMP21"),
        ("46,XX,iamp(21)[20]", "iAMP21", "KARYO.IAMP21"),
        ("46,xx,t(9;22)(q34;q11.2)[20]", "BCR::ABL1", "KARYO.T_9_22"),
    ],
)
def test_recurrent_lesion_is_recognised(text: str, key: str, rule: str) -> None:
    karyotype = parse_karyotype(text)
    [lesion] = karyotype.recurrent
    assert (lesion.key, lesion.rule, lesion.clone) == (key, rule, 0)
    assert lesion.abnormality in text


@pytest.mark.parametrize(
    "text",
    [
        "46,XY,t(9;22)(p13;q11)[20]",
        "46,XY,t(9;22)(q34;q12)[20]",
        "46,XY,t(9;22)(q3;q11)[20]",
        "46,XY,t(9;22)[20]",
        "46,XY,der(22)t(9;22)[20]",
        "46,XY,dic(9;22)(q34;q11)[20]",
        "46,XX,t(12;21)(q13;q22)[20]",
        "46,XX,t(1;19)(p13;q13)[20]",
        "46,XX,t(11;14)(p13;q11)[20]",
        "46,XX,t(4;11)(q21;q13)[20]",
        "47,XX,hsr(11)(q23)[20]",
        "46,XX,dup(11)(q13q23)[20]",
        "46,XY,t(11;22)(q23;q11.2)c[20]",
        "46,XX,t(5;14)(q33;q32)[20]",
        "46,XX,i(21)(q10)[20]",
        "47,XX,+21[20]",
        "46,XX,t(1;11)(q23;p15)[20]",
    ],
)
def test_near_misses_are_not_called(text: str) -> None:
    assert parse_karyotype(text).recurrent == []


def test_t_17_19_is_not_mistaken_for_t_1_19_and_vice_versa() -> None:
    assert keys(parse_karyotype("46,XX,t(17;19)(q22;p13)[20]")) == ["TCF3::HLF"]
    assert keys(parse_karyotype("46,XX,t(1;19)(q23;p13)[20]")) == ["TCF3::PBX1"]


def test_recurrent_lesions_are_deduplicated_and_point_to_the_first_clone() -> None:
    karyotype = parse_karyotype(
        "46,XY,t(9;22)(q34;q11)[5]/47,idem,+der(22)t(9;22)(q34;q11)[10]/48,sl,+8,iamp(21)[3]"
    )
    assert [(lesion.key, lesion.clone) for lesion in karyotype.recurrent] == [("BCR::ABL1", 0), ("iAMP21", 2)]


# --- malformed input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bad_token", "kept"),
    [
        ("46,XY,t(9;22)(q34;q11.2[20]", "t(9;22)(q34;q11.2", []),
        ("47,XY,+8,t(9;22(q34;q11)[20]", "t(9;22(q34;q11)", ["+8"]),
        ("46,XY,foo(3)[4]/47,XY,+21[3]", "foo(3)", []),
        ("47,XY,+8,t(9;22)(q34)[20]", "t(9;22)(q34)", ["+8"]),
        ("47,XY,+8,del(9)(x21)[20]", "del(9)(x21)", ["+8"]),
        ("47,XY,+8,t(9)(q34)[20]", "t(9)(q34)", ["+8"]),
        ("47,XY,+8,hello[20]", "hello", ["+8"]),
        ("47,XY,+8,t(9;22)(q34;q11)zz[20]", "t(9;22)(q34;q11)zz", ["+8"]),
        ("47,XY,+8,t(9;22)(q34;q11)del(9)(p21)[20]", "t(9;22)(q34;q11)del(9)(p21)", ["+8"]),
    ],
)
def test_malformed_token_is_reported_and_the_rest_is_used(text: str, bad_token: str, kept: list[str]) -> None:
    karyotype = parse_karyotype(text)
    clone = karyotype.clones[0]
    assert clone.unparsed == [bad_token]
    assert [a.text for a in clone.abnormalities] == kept
    assert [(p.clone, p.text) for p in karyotype.problems if p.severity == "error"] == [(0, bad_token)]
    assert clone.cell_count in (4, 20)
    assert karyotype.parsed_ok is False


def test_other_clones_survive_a_bad_token() -> None:
    karyotype = parse_karyotype("46,XY,foo(3)[4]/47,XY,+21[3]")
    assert karyotype.clones[1].gains == ["21"]
    assert "unknown abnormality 'foo'" in errors(karyotype)


def test_unbalanced_parenthesis_message() -> None:
    karyotype = parse_karyotype("46,XY,t(9;22)(q34;q11.2[20]")
    assert "parenthes" in karyotype.problems[0].message


def test_clone_without_modal_number_is_kept_unread() -> None:
    karyotype = parse_karyotype("XY,t(9;22)(q34;q11)[20]/46,XY[5]")
    unread = karyotype.clones[0]
    assert unread.role == "unknown"
    assert unread.abnormalities == []
    assert unread.text == "XY,t(9;22)(q34;q11)[20]"
    assert karyotype.problems[0].clone == 0
    assert karyotype.clones[1].role == "normal"
    assert karyotype.is_normal is False


@pytest.mark.parametrize("text", ["46,t(9;22)(q34;q11)[20]", "46[20]"])
def test_missing_sex_chromosomes_is_reported(text: str) -> None:
    karyotype = parse_karyotype(text)
    assert "no sex chromosomes" in errors(karyotype)


def test_missing_sex_chromosomes_still_reads_the_abnormality() -> None:
    karyotype = parse_karyotype("46,t(9;22)(q34;q11)[20]")
    assert keys(karyotype) == ["BCR::ABL1"]


@pytest.mark.parametrize(
    ("text", "message"),
    [("46,XY[20", "cell count bracket is not closed"), ("46,XY[abc]", "cannot read the cell count")],
)
def test_bad_cell_count(text: str, message: str) -> None:
    karyotype = parse_karyotype(text)
    assert message in [p.message for p in karyotype.problems]
    assert karyotype.clones[0].sex_chromosomes == "XY"


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text(text: str) -> None:
    karyotype = parse_karyotype(text)
    assert karyotype.clones == []
    assert [p.message for p in karyotype.problems] == ["empty karyotype"]
    assert karyotype.parsed_ok is False
    assert karyotype.is_normal is False
    assert karyotype.modal_number is None


def test_empty_clone_between_slashes() -> None:
    karyotype = parse_karyotype("47,XY,+8[10]//")
    assert len(karyotype.clones) == 1
    assert "empty clone between '/' separators" in errors(karyotype)


@pytest.mark.parametrize(
    "text", ["nonclonal", "non-clonal", "Non clonal", "46,XY,t(3;5)(p21;q31)[1]/46,XY[19] (nonclonal)"]
)
def test_nonclonal(text: str) -> None:
    karyotype = parse_karyotype(text)
    assert karyotype.nonclonal is True
    assert errors(karyotype) == []


def test_non_text_input_is_reported() -> None:
    karyotype = parse_karyotype(None)  # type: ignore[arg-type]
    assert karyotype.problems[0].message == "the karyotype must be text"


# --- FISH ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fish"),
    [
        ("46,XX,t(12;21)(p13;q22)[20].ish t(12;21)(ETV6+,RUNX1+)", "ish t(12;21)(ETV6+,RUNX1+)"),
        ("46,XY[20].nuc ish(ABL1,BCR)x2[200]", "nuc ish(ABL1,BCR)x2[200]"),
        ("46,XY[20]. nuc ish (KMT2Ax2)[200]", "nuc ish (KMT2Ax2)[200]"),
    ],
)
def test_fish_part_is_split_off(text: str, fish: str) -> None:
    karyotype = parse_karyotype(text)
    assert karyotype.fish_text == fish
    assert karyotype.problems == []
    assert len(karyotype.clones) == 1


# --- output ------------------------------------------------------------------------------------------------------


def test_models_are_frozen() -> None:
    karyotype = parse_karyotype("46,XY[20]")
    with pytest.raises(AttributeError):
        karyotype.modal_number = 47  # type: ignore[misc]


def test_json_round_trip() -> None:
    karyotype = parse_karyotype("46,XY,t(9;22)(q34;q11)[5]/47,idem,+der(22)t(9;22)(q34;q11)[10]/46,XY[5]")
    dumped = msgspec.json.encode(karyotype)
    assert msgspec.json.decode(dumped, type=Karyotype) == karyotype


def test_describe_lines() -> None:
    karyotype = parse_karyotype("46,XY,t(9;22)(q34;q11.2)[5]/47,idem,+8,foo[10]/46,XY[5].ish der(22)(BCR+)")
    lines = describe(karyotype)
    assert lines[0] == "Clone 1 (stemline): modal 46, XY, 5 cells; t(9;22)(q34;q11.2)"
    assert lines[1] == (
        "Clone 2 (sideline): modal 47, XY, 10 cells, based on idem; t(9;22)(q34;q11.2), +8; not read: foo"
    )
    assert lines[2] == "Clone 3 (normal): modal 46, XY, 5 cells; no abnormalities"
    assert lines[3] == "FISH result: ish der(22)(BCR+)"
    assert lines[4] == "Recurrent lesion BCR::ABL1: t(9;22)(q34;q11.2) in clone 1 [KARYO.T_9_22]"
    assert lines[5] == "Problem in clone 2: 'foo': not a recognised ISCN abnormality"
    assert len(lines) == 6


def test_describe_composite_and_unreadable() -> None:
    lines = describe(parse_karyotype("45~48,XX,+4,-7,+10[cp10]/XY"))
    assert lines[0] == "Clone 1 (single): modal 45~48, XX, composite of 10 cells; +4, -7, +10"
    assert lines[1].startswith("Clone 2 (unknown): modal ?, cell count not given; could not be read")


# --- never raises -------------------------------------------------------------------------------------------------


def assert_sound(karyotype: Karyotype) -> None:
    """Invariants that hold for any input."""
    assert isinstance(karyotype, Karyotype)
    msgspec.json.encode(karyotype)
    assert not any(p.message.startswith("internal error") for p in karyotype.problems)
    assert karyotype.parsed_ok is (not karyotype.problems)
    assert all(line for line in describe(karyotype))
    assert [c.index for c in karyotype.clones] == list(range(len(karyotype.clones)))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_never_raises_on_arbitrary_text(text: str) -> None:
    assert_sound(parse_karyotype(text))


ISCN_PIECES = [
    "46", "47", "45~48", "26", "55", "92<4n>", "XX", "XY", "X", "xy", "XXYc", "idem", "sl", "sdl", "sdl1", "sdl9",
    "+8", "-7", "+X", "-Y", "+21c", "+21x2", "+mar", "+2mar", "+mar1", "+r", "dmin",
    "t(9;22)(q34;q11.2)", "der(22)t(9;22)(q34;q11)", "+der(22)t(9;22)(q34;q11)", "t(12;21)(p13;q22)",
    "der(19)t(1;19)(q23;p13)", "t(4;11)(q21;q23)", "del(9)(p21)", "del(6)(q21q25)", "dup(1)(q21q32)",
    "add(14)(q32)", "i(17)(q10)", "idic(9)(p12)", "dic(9;20)(p13;q11)", "inv(14)(q11q32)", "ins(1;5)(p13;q31q33)",
    "trp(1)(q21q32)", "r(7)(p22q36)", "hsr(11)(q23)", "iamp(21)(q22)", "t(1;11;4)(p32;q23;q21)", "del(9)(p1?)",
    "t(9;22", "(q34", ")", "(", ";", "?", "~", "c", "x2", "[20]", "[cp10]", "[", "]", "nonclonal", ".ish ", "q",
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.sampled_from(ISCN_PIECES), min_size=0, max_size=8).map(",".join),
        min_size=0,
        max_size=4,
    ),
    st.sampled_from(["/", "//", "/ ", ""]),
)
def test_never_raises_on_iscn_like_text(clones: list[str], separator: str) -> None:
    assert_sound(parse_karyotype(separator.join(clones)))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ISCN_PIECES), max_size=12).map("".join))
def test_never_raises_on_glued_tokens(text: str) -> None:
    assert_sound(parse_karyotype(text))
