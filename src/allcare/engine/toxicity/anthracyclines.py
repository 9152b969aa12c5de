"""Cumulative anthracycline exposure as doxorubicin-equivalent mg/m2, against the surveillance lines.

Each anthracycline dose (mg/m2, or mg with the body size of its day) times its
administrations gives the agent's cumulative dose; times the agent's
equivalence ratio, its doxorubicin equivalent. The ratios are a named choice of
the rule set (``anthracycline_equivalence``): by default those derived for
cardiomyopathy by Feijen et al. 2019 and adopted by IGHG (daunorubicin 0.6,
epirubicin 0.8, mitoxantrone 10.5; idarubicin 5 from the COG guidelines, for
which Feijen found no cardiotoxicity-based ratio); or the COG Long-Term
Follow-Up Guidelines v5.0 ratios for legacy follow-up. The total is read
against the IGHG lines: >= 250 mg/m2 surveillance recommended (high risk),
100-< 250 reasonable (moderate).

A dose that cannot be converted (mg without a body size) leaves the total
undetermined and is named, rather than being left out of the sum.
"""

from __future__ import annotations

from .. import sources
from ..case.agents import AGENTS
from ..explain import Conclusion, conclude, undetermined
from ..maintenance.body_size import size_on
from ..maintenance.doses import mg_m2_per_administration, spans
from ..monitoring_output import AgentExposure, AnthracyclineExposure
from ..view import CaseView

PROFILES: dict[str, tuple[dict[str, float], str]] = {
    "feijen_2019": ({"doxorubicin": 1.0, "daunorubicin": 0.6, "epirubicin": 0.8, "idarubicin": 5.0, "mitoxantrone": 10.5},
                    sources.ANTHRACYCLINE_FEIJEN),
    "cog_ltfu_v5": ({"doxorubicin": 1.0, "daunorubicin": 0.5, "epirubicin": 0.67, "idarubicin": 5.0, "mitoxantrone": 4.0},
                    sources.ANTHRACYCLINE_COG_V5),
}
ANTHRACYCLINES = tuple(a.name for a in AGENTS if a.group == "anthracycline")
TOPIC = "toxicity.anthracyclines"


def assess_anthracyclines(view: CaseView) -> tuple[AnthracyclineExposure | None, list[Conclusion]]:
    rules = view.rules
    factors, source = PROFILES[rules.anthracycline_equivalence]
    agents, missing, refs = [], [], []
    total: float | None = 0.0
    for agent in ANTHRACYCLINES:
        history = spans(view, agent)
        if not history:
            continue
        cumulative = 0.0
        for span in history:
            per_m2 = mg_m2_per_administration(span, size_on(view, span.start))
            times = span.administrations(view.as_of)
            if per_m2 is None:
                missing.append(f"height and weight (or BSA) near {span.start} to convert the {agent} dose in "
                               f"{span.dose.dose.unit} to mg/m2")
                total = None
                continue
            cumulative += per_m2 * times
            refs.append(span.item.ref(f"{agent} {per_m2:g} mg/m2 x {times:g}"))
        equivalent = cumulative * factors[agent]
        agents.append(AgentExposure(agent=agent, cumulative_mg_m2=round(cumulative, 1), factor=factors[agent],
                                    doxorubicin_equivalent_mg_m2=round(equivalent, 1)))
        if total is not None:
            total += equivalent
    if not agents:
        return None, []
    band = None
    if total is not None:
        band = "high" if total >= rules.anthracycline_high_risk_min else "moderate" if total >= rules.anthracycline_moderate_min else "low"
    exposure = AnthracyclineExposure(profile=rules.anthracycline_equivalence, source=source,
                                     total_mg_m2=None if total is None else round(total, 1), agents=agents,
                                     band=band, missing=missing)  # type: ignore[arg-type]
    parts = "; ".join(f"{a.agent} {a.cumulative_mg_m2:g} mg/m2 x {a.factor:g} = {a.doxorubicin_equivalent_mg_m2:g}" for a in agents)
    cite = f"{source}; {sources.IGHG_CARDIO}"
    if total is None or band is None:  # band is None exactly when total is
        return exposure, [undetermined(TOPIC, "TOX.ANTHRACYCLINE.CUMULATIVE", cite, missing,
                                       f"Cumulative anthracycline exposure so far: {parts} (incomplete).", refs)]
    band_words = {
        "high": f">= {rules.anthracycline_high_risk_min:g} mg/m2: cardiac surveillance recommended (high risk)",
        "moderate": f">= {rules.anthracycline_moderate_min:g} mg/m2: cardiac surveillance reasonable",
        "low": f"< {rules.anthracycline_moderate_min:g} mg/m2: surveillance may be reasonable",
    }[band]
    return exposure, [conclude(TOPIC, round(total, 1), "TOX.ANTHRACYCLINE.CUMULATIVE", cite,
                               f"Cumulative doxorubicin-equivalent dose {total:.0f} mg/m2 ({parts}); {band_words}.", refs)]
