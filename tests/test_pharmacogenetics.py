"""CPIC thiopurine guidance (2018 update, with the 2020 and 2024 updates) for every phenotype combination."""

from __future__ import annotations

import pytest

from allcare.engine import assess, case_from_dict, rules_from_dict
from allcare.engine.maintenance.pharmacogenetics import phenotype_from_diplotype

COG_LIKE = rules_from_dict({"maintenance": {"mercaptopurine_mg_m2_day": 75}})  # a protocol starting at 75 mg/m2/day


def guidance(tpmt: str | None, nudt15: str | None, rules=COG_LIKE, *extra: dict):
    findings = [{"type": "marrow", "date": "2024-01-02", "blasts_pct": 80}]
    for gene, phenotype in (("TPMT", tpmt), ("NUDT15", nudt15)):
        if phenotype is not None:
            findings.append({"type": "pharmacogenetics", "date": "2024-01-05", "gene": gene, "phenotype": phenotype})
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": "pgx", "age_years": 5},
                           "findings": [*findings, *extra]})
    result = assess(case, rules=rules)
    return result.pharmacogenetics, {a.code: a for a in result.alerts}


@pytest.mark.parametrize(("tpmt", "nudt15", "rule", "low", "high", "weeks"), [
    ("normal_metabolizer", "normal_metabolizer", "CPIC.THIOPURINE.NORMAL", 100, 100, (2, 2)),
    ("intermediate_metabolizer", "normal_metabolizer", "CPIC.THIOPURINE.IM_ONE", 30, 80, (2, 4)),
    ("possible_intermediate_metabolizer", "NM", "CPIC.THIOPURINE.IM_ONE", 30, 80, (2, 4)),
    ("NM", "intermediate_metabolizer", "CPIC.THIOPURINE.IM_ONE", 30, 80, (2, 4)),
    ("NM", "possible intermediate metaboliser", "CPIC.THIOPURINE.IM_ONE", 30, 80, (2, 4)),
    ("IM", "IM", "CPIC.THIOPURINE.IM_BOTH", 20, 50, (2, 4)),  # March 2024 update
    ("poor_metabolizer", "NM", "CPIC.THIOPURINE.TPMT_PM", 10, 10, (4, 6)),
    ("poor_metabolizer", "IM", "CPIC.THIOPURINE.TPMT_PM", 10, 10, (4, 6)),
    ("NM", "poor_metabolizer", "CPIC.THIOPURINE.NUDT15_PM", 13.3, 13.3, (4, 6)),  # 10 mg/m2/day of 75
])
def test_each_cpic_phenotype_combination(tpmt, nudt15, rule, low, high, weeks):
    g, alerts = guidance(tpmt, nudt15)
    assert (g.rule, g.start_pct_low, g.start_pct_high, g.steady_state_weeks) == (rule, low, high, weeks)
    assert g.wording.startswith("Decision support (CPIC mercaptopurine")
    assert g.conclusions[0].determined
    assert ("thiopurine_pharmacogenetics" in alerts) is (rule != "CPIC.THIOPURINE.NORMAL")


def test_tpmt_poor_metaboliser_schedule_is_three_days_a_week():
    g, _ = guidance("PM", "NM")
    assert g.schedule == "three days a week instead of daily" and "10-fold" in g.wording


def test_a_single_im_gene_with_a_start_below_75_may_need_no_reduction():
    g, _ = guidance("IM", "NM", rules=rules_from_dict({}))  # ICiCLe-ALL-14 starts at 60 mg/m2/day
    assert g.rule == "CPIC.THIOPURINE.IM_ONE_LOW_START" and g.start_pct_low is None
    assert "may not be needed" in g.wording


def test_indeterminate_asks_for_the_enzyme_activity():
    g, alerts = guidance("indeterminate", "NM")
    assert g.rule == "CPIC.THIOPURINE.INDETERMINATE" and "erythrocyte TPMT activity" in g.wording
    assert alerts["thiopurine_pharmacogenetics"].severity == "info"


def test_one_gene_missing_says_cpic_reads_both():
    g, _ = guidance("IM", None)
    assert g.rule == "CPIC.THIOPURINE.INCOMPLETE" and not g.conclusions[0].determined
    assert g.conclusions[0].missing == ["NUDT15 phenotype (CPIC reads TPMT and NUDT15 together)"]
    pm, _ = guidance("PM", None)  # a poor metaboliser decides whatever the other gene is
    assert pm.rule == "CPIC.THIOPURINE.TPMT_PM" and pm.conclusions[0].determined


@pytest.mark.parametrize(("gene", "diplotype", "phenotype"), [
    ("TPMT", "*1/*1", "normal_metabolizer"), ("TPMT", "*1/*3A", "intermediate_metabolizer"),
    ("TPMT", "*3A/*3C", "poor_metabolizer"), ("NUDT15", "*1/*3", "intermediate_metabolizer"),
    ("NUDT15", "*9/*9", "poor_metabolizer"), ("TPMT", "*1/*8", None),
])
def test_phenotype_from_a_diplotype_of_listed_alleles(gene, diplotype, phenotype):
    assert phenotype_from_diplotype(gene, diplotype) == phenotype


def test_a_phenotype_that_contradicts_its_diplotype_is_a_conflict():
    extra = {"type": "pharmacogenetics", "date": "2024-01-06", "gene": "TPMT", "phenotype": "NM", "diplotype": "*3A/*3A"}
    g, alerts = guidance(None, "NM", COG_LIKE, extra)
    assert g.rule == "CPIC.THIOPURINE.CONFLICT" and g.conclusions[0].conflicts
    assert "thiopurine_pharmacogenetics" in alerts


def test_a_first_dose_above_the_range_is_named():
    dose = {"type": "dose", "agent": "6-MP", "dose": {"value": 75, "unit": "mg/m2"}, "frequency": "daily", "start": "2024-03-01"}
    g, alerts = guidance("IM", "IM", COG_LIKE, dose)
    assert g.current_pct_of_protocol == 100
    assert "first dose (100%) is above the CPIC starting range" in alerts["thiopurine_pharmacogenetics"].message


def test_mercaptopurine_given_without_any_genotype_is_not_read_as_normal():
    """CPIC's starting dose needs TPMT and NUDT15 status: with mercaptopurine recorded and neither gene
    tested, the guidance says it cannot be determined and what is needed, instead of saying nothing."""
    dose = {"type": "dose", "agent": "mercaptopurine", "dose": {"value": 75, "unit": "mg/m2"}, "frequency": "daily",
            "start": "2024-06-01"}
    g, _ = guidance(None, None, COG_LIKE, dose)
    assert g is not None and g.rule == "CPIC.THIOPURINE.INCOMPLETE" and not g.conclusions[0].determined
    assert g.conclusions[0].missing == [f"{gene} phenotype (CPIC reads TPMT and NUDT15 together)" for gene in ("TPMT", "NUDT15")]
    assert (g.tpmt, g.nudt15) == (None, None)
    no_thiopurine, _ = guidance(None, None)
    assert no_thiopurine is None  # nothing to guide before a thiopurine is recorded


def test_a_count_reduction_in_an_intermediate_metaboliser_names_cpics_mercaptopurine_first():
    """The protocol reduces both drugs at a low count; CPIC adds for a reduced-function TPMT or NUDT15 that
    mercaptopurine is the one to reduce first: the maintenance alert says both."""
    findings = [{"type": "treatment", "phase": "maintenance", "start": "2024-06-01"},
                {"type": "anthropometry", "date": "2024-06-01", "bsa": 1.0},
                {"type": "cbc", "date": "2024-06-15", "anc": 0.7, "platelets": 150}]
    _, alerts = guidance("IM", "NM", rules_from_dict({}), *findings)
    assert "reduce mercaptopurine first" in alerts["maintenance_dose"].message
    _, normal = guidance("NM", "NM", rules_from_dict({}), *findings)
    assert "CPIC" not in normal["maintenance_dose"].message
