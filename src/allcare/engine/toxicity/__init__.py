"""Toxicity monitoring: chemistry grades, febrile neutropenia, tumour lysis, drug levels, anthracyclines."""

from ..monitoring_output import Toxicity
from ..view import CaseView
from .adverse_events import recorded_adverse_events
from .anthracyclines import assess_anthracyclines
from .asparaginase import assess_asparaginase
from .chemistry import grade_chemistry
from .febrile_neutropenia import febrile_episodes
from .methotrexate import assess_methotrexate
from .tumour_lysis import assess_tumour_lysis


def assess_toxicity(view: CaseView) -> Toxicity:
    episodes, fn_conclusions = febrile_episodes(view)
    tls, tls_conclusions = assess_tumour_lysis(view)
    mtx, mtx_conclusions = assess_methotrexate(view)
    asparaginase, asp_conclusions = assess_asparaginase(view)
    anthracyclines, anthracycline_conclusions = assess_anthracyclines(view)
    return Toxicity(
        febrile_neutropenia=episodes, tumour_lysis=tls, methotrexate_levels=mtx, asparaginase_activity=asparaginase,
        anthracyclines=anthracyclines, adverse_events=recorded_adverse_events(view),
        conclusions=[*fn_conclusions, *tls_conclusions, *mtx_conclusions, *asp_conclusions,
                     *anthracycline_conclusions],
    )


__all__ = ["assess_toxicity", "grade_chemistry"]
