"""MRD: what one result means, and the series over time.

A negative MRD result is only as good as the assay that produced it: "not
detected" by an assay that cannot see one leukaemic cell in 10^4 says nothing
about the 10^-4 line that protocols stratify on. So a result below the line
counts as negative only when the assay reaches the required sensitivity; below
the line from a less sensitive (or unstated) assay it is "not evaluable".
Values at or above the line are positive whatever the assay (ELN/NCCN;
decisions.md).
"""

from __future__ import annotations

import math

from ..assessment import MrdResult, MrdStatus, MrdSummary
from ..case import Mrd
from ..explain import Conclusion, conclude, undetermined
from ..rules import RuleSet
from ..sources import ELN_MRD
from ..view import CaseView, Indexed

RULE = "MRD.STATUS"
TOPIC = "mrd.status"


def at_least(value: float, line: float) -> bool:
    """``value >= line``, tolerant of float artefacts (0.01% entered as percent is 1e-4 exactly)."""
    return value >= line or math.isclose(value, line, rel_tol=1e-9, abs_tol=0.0)


def mrd_status(finding: Mrd, rules: RuleSet) -> MrdStatus:
    """negative / positive / not_evaluable for one MRD result (ELN/NCCN, decisions.md)."""
    value = finding.fraction
    if value is None:
        return "not_evaluable"
    if at_least(value, rules.mrd_negative_below):
        return "positive"
    if finding.sensitivity is not None and at_least(rules.mrd_required_sensitivity, finding.sensitivity):
        return "negative"
    return "not_evaluable"


def mrd_result(item: Indexed[Mrd], rules: RuleSet) -> MrdResult:
    f = item.finding
    return MrdResult(
        index=item.index,
        date=item.date,
        value=f.fraction,
        method=f.method,
        sensitivity=f.sensitivity,
        sample=f.sample,
        timepoint=f.timepoint,
        status=mrd_status(f, rules),
    )


def describe(result: MrdResult) -> str:
    """Short text for evidence: 'MRD 0.03% (flow, marrow, sensitivity 1e-04)'."""
    value = "no value" if result.value is None else f"{result.value * 100:.4g}%"
    details = [d for d in (result.method, result.sample) if d]
    if result.sensitivity is not None:
        details.append(f"sensitivity {result.sensitivity:.0e}")
    if result.timepoint:
        details.append(result.timepoint)
    return f"MRD {value}" + (f" ({', '.join(details)})" if details else "") + f": {result.status}"


def mrd_conclusion(item: Indexed[Mrd], rules: RuleSet) -> Conclusion:
    """The MRD.STATUS conclusion for one result, saying what would make a not-evaluable one count."""
    result = mrd_result(item, rules)
    evidence = [item.ref(describe(result))]
    line = f"{rules.mrd_negative_below:.0e}"
    if result.status == "positive":
        return conclude(TOPIC, "positive", RULE, ELN_MRD, f"MRD {result.value:.2e} is at or above {line}", evidence)
    if result.status == "negative":
        return conclude(
            TOPIC, "negative", RULE, ELN_MRD,
            f"MRD {result.value:.2e} is below {line} and the assay reaches {result.sensitivity:.0e}",
            evidence,
        )
    if result.value is None:
        missing = ["MRD value (fraction or percent)"]
        why = "the MRD result has no value"
    elif result.sensitivity is None:
        missing = [f"MRD assay sensitivity (must reach {rules.mrd_required_sensitivity:.0e} for a negative result)"]
        why = f"MRD {result.value:.2e} is below {line} but the assay sensitivity is not stated"
    else:
        missing = [f"an MRD assay reaching {rules.mrd_required_sensitivity:.0e}"]
        why = (
            f"MRD {result.value:.2e} is below {line} but the assay only reaches {result.sensitivity:.0e}, "
            "so a negative result cannot be claimed"
        )
    return undetermined(TOPIC, RULE, ELN_MRD, missing, why, evidence, value="not_evaluable")


def summarise_mrd(view: CaseView) -> tuple[MrdSummary, list[Conclusion]]:
    """Every MRD result up to ``as_of`` in date order; the latest is the last of them."""
    items = view.of_type("mrd")
    series = [mrd_result(item, view.rules) for item in items]
    conclusions = [mrd_conclusion(item, view.rules) for item in items]
    return MrdSummary(latest=series[-1] if series else None, series=series), conclusions
