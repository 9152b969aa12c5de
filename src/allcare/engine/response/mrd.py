"""MRD: what one result means, and the series over time.

A negative MRD result is only as good as the assay that produced it: "not
detected" by an assay that cannot see one leukaemic cell in 10^4 says nothing
about the 10^-4 line that protocols stratify on. So a result below the line
counts as negative only when the assay reaches the required sensitivity; below
the line from a less sensitive (or unstated) assay it is "not evaluable".
Values at or above the line are positive whatever the assay (ELN/NCCN;
docs/decisions.md#mrd-lines).

A result reported as a bound ("< 0.01%", FHIR ``Quantity.comparator``) is read
as the interval it allows, never as the number: "< 0.01%" is below the line,
and when no sensitivity is stated the bound is the assay's limit, so it is a
negative at that sensitivity. A bound that straddles a line ("< 0.1%" against
the 0.01% line) cannot say on which side the value lies: not evaluable.
"""

from __future__ import annotations

from ..assessment import MrdResult, MrdStatus, MrdSummary
from ..case import Mrd
from ..case.bounds import at_least
from ..case.bounds import describe as describe_bound
from ..explain import Conclusion, conclude, undetermined
from ..rules import RuleSet
from ..sources import ELN_MRD
from ..view import CaseView, Indexed

RULE = "MRD.STATUS"
TOPIC = "mrd.status"
NOT_DETECTED = ("<", "<=")
MARROW_SAMPLES = ("marrow", None)
"""The samples read at a marrow line: a marrow MRD, and one whose sample is not stated (see :func:`marrow_side`)."""
SAMPLE_NEEDED = "the sample of the MRD (marrow or blood): below a marrow line only a marrow result counts"


def marrow_side(side: bool | None, sample: str | None) -> bool | None:
    """A marrow line read on an MRD of ``sample``, given its level's ``side`` of the line (at or above it).

    Blood runs lower than marrow (about one log in B-ALL), so a result of unstated sample at or above a
    marrow line shows the marrow there too, but below it says nothing about the marrow: it may be a blood
    result (docs/decisions.md#remission-mrd-line). A blood result is not read at a marrow line.
    """
    if sample == "blood" or (sample is None and side is False):
        return None
    return side


def marrow_level_at_least(result: MrdResult, threshold: float) -> bool | None:
    """Whether the marrow is at or above ``threshold`` by this MRD (:func:`marrow_side`)."""
    return marrow_side(level_at_least(result, threshold), result.sample)


def reached_sensitivity(sensitivity: float | None, value: float | None, comparator: str | None) -> float | None:
    """The sensitivity the assay reached: as stated, else the bound of a "below the limit" result."""
    if sensitivity is not None:
        return sensitivity
    return value if comparator in NOT_DETECTED else None


def interval(result: MrdResult) -> tuple[float, str | None] | None:
    """(value, comparator) for the bounds helpers; "not detected" (0) is below the assay's sensitivity.

    None when nothing can be said about the level (no value, or 0 from an assay of unknown sensitivity).
    """
    if result.value is None:
        return None
    if result.comparator is not None:
        return result.value, result.comparator
    if result.value == 0:
        return (result.sensitivity, "<") if result.sensitivity is not None else None
    return result.value, None


def level_at_least(result: MrdResult, threshold: float) -> bool | None:
    """Is the MRD level >= ``threshold``? None when the result cannot tell."""
    bound = interval(result)
    return None if bound is None else at_least(bound[0], bound[1], threshold)


def _status(value: float | None, comparator: str | None, sensitivity: float | None, rules: RuleSet) -> MrdStatus:
    if value is None:
        return "not_evaluable"
    over = at_least(value, comparator, rules.mrd_negative_below)
    if over is True:
        return "positive"
    if over is None:
        return "not_evaluable"
    reached = reached_sensitivity(sensitivity, value, comparator)
    if reached is not None and reached <= rules.mrd_required_sensitivity:
        return "negative"
    return "not_evaluable"


def mrd_status(finding: Mrd, rules: RuleSet) -> MrdStatus:
    """negative / positive / not_evaluable for one MRD result (ELN/NCCN; docs/decisions.md#mrd-lines)."""
    return _status(finding.fraction, finding.comparator, finding.sensitivity, rules)


def mrd_result(item: Indexed[Mrd], rules: RuleSet) -> MrdResult:
    f = item.finding
    return MrdResult(
        index=item.index,
        date=item.date,
        value=f.fraction,
        comparator=f.comparator,
        method=f.method,
        sensitivity=f.sensitivity,
        sample=f.sample,
        timepoint=f.timepoint,
        status=_status(f.fraction, f.comparator, f.sensitivity, rules),
    )


def value_text(result: MrdResult) -> str:
    """'0.03%', '< 0.01%' or 'no value'."""
    if result.value is None:
        return "no value"
    return describe_bound(float(f"{result.value * 100:.4g}"), result.comparator) + "%"


def describe(result: MrdResult) -> str:
    """Short text for evidence: 'MRD 0.03% (flow, marrow, sensitivity 1e-04): positive'."""
    details = [d for d in (result.method, result.sample) if d]
    if result.sensitivity is not None:
        details.append(f"sensitivity {result.sensitivity:.0e}")
    if result.timepoint:
        details.append(result.timepoint)
    return f"MRD {value_text(result)}" + (f" ({', '.join(details)})" if details else "") + f": {result.status}"


def mrd_conclusion(item: Indexed[Mrd], result: MrdResult, rules: RuleSet) -> Conclusion:
    """The MRD.STATUS conclusion for one result (``result``: the item read by :func:`mrd_result`), saying what
    would make a not-evaluable one count."""
    evidence = [item.ref(describe(result))]
    line = f"{rules.mrd_negative_below:.0e}"
    shown = "no value" if result.value is None else f"{result.comparator or ''} {result.value:.2e}".strip()
    if result.status == "positive":
        return conclude(TOPIC, "positive", RULE, ELN_MRD, f"MRD {shown} is at or above {line}", evidence)
    reached = reached_sensitivity(result.sensitivity, result.value, result.comparator)
    if result.status == "negative":
        how = "" if result.sensitivity is not None else " (the reported bound: below the assay's limit)"
        return conclude(
            TOPIC, "negative", RULE, ELN_MRD, f"MRD {shown} is below {line} and the assay reaches {reached:.0e}{how}",
            evidence,
        )
    required = f"{rules.mrd_required_sensitivity:.0e}"
    if result.value is None:
        missing = ["MRD value (fraction or percent)"]
        why = "the MRD result has no value"
    elif at_least(result.value, result.comparator, rules.mrd_negative_below) is None:
        missing = [f"an MRD result with a value or a detection limit at or below {line}"]
        why = f"MRD reported as {shown}: the bound straddles the {line} line, so positive and negative cannot be told apart"
    elif reached is None:
        missing = [f"MRD assay sensitivity (must reach {required} for a negative result)"]
        why = f"MRD {shown} is below {line} but the assay sensitivity is not stated"
    else:
        missing = [f"an MRD assay reaching {required}"]
        why = f"MRD {shown} is below {line} but the assay only reaches {reached:.0e}, so a negative result cannot be claimed"
    return undetermined(TOPIC, RULE, ELN_MRD, missing, why, evidence, value="not_evaluable")


def summarise_mrd(view: CaseView) -> tuple[MrdSummary, list[Conclusion]]:
    """Every MRD result up to ``as_of`` in date order, and the latest: of the last day's results (which carry
    no order, docs/decisions.md#same-day) the one that says most: positive before negative before not
    evaluable, then the highest value."""
    items = view.of_type("mrd")
    series = [mrd_result(item, view.rules) for item in items]
    conclusions = [mrd_conclusion(item, result, view.rules) for item, result in zip(items, series, strict=True)]
    last_day = [r for r in series if r.date == series[-1].date] if series else []
    rank = {"positive": 2, "negative": 1, "not_evaluable": 0}
    latest = max(last_day, key=lambda r: (rank[r.status], r.value or 0.0), default=None)
    return MrdSummary(latest=latest, series=series), conclusions
