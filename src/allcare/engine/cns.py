"""CNS and testicular status at diagnosis (COG CNS1-CNS3c with Steinherz/Bleyer; docs/decisions.md#cns-lines).

The CNS status is a property of the presentation: it is read from the
diagnostic lumbar puncture (the first CSF up to ``cns_diagnostic_window_days``
after the start of induction, or after diagnosis when no induction is
recorded) and from clinical signs found at diagnosis. Later CSF results are
reported one by one as conclusions, not folded into the status: a CNS3 CSF in
remission is relapse evidence, which the response assessment judges.

When the CSF result leaves more than one status possible (no cytospin, no
CSF cell count, no blood count for Steinherz/Bleyer), the status is the list of
statuses still possible ("CNS2c or CNS3b") and the conclusion names what would
decide it. The candidate list comes from trying every value of each unknown,
so it never claims more than the data support.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from .assessment import CnsResult, CnsStatus
from .case import Cbc, Csf, Extramedullary, Finding, Quantity
from .case.bounds import at_least, describe
from .explain import Conclusion, EvidenceRef, conclude, contradictory, undetermined
from .sources import COG_CNS, TESTICULAR, TRAUMATIC_LP
from .view import CaseView, Indexed

if TYPE_CHECKING:
    from .course.treatment import TreatmentHistory

STATUS_ORDER: tuple[CnsStatus, ...] = ("CNS1", "CNS2a", "CNS2b", "CNS2c", "CNS3a", "CNS3b", "CNS3c")
CNS3C: CnsStatus = "CNS3c"

# Unit conversions for Steinherz/Bleyer: CSF cells are counted per uL, blood in 10^9/L and 10^12/L.
_PER_UL_PER_10E9_L = 1e3
_PER_UL_PER_10E12_L = 1e6

_FACTS = ("blasts", "wbc_high", "traumatic", "sb_positive")


def _status_from(blasts: bool, wbc_high: bool, traumatic: bool, sb_positive: bool) -> CnsStatus:
    """The COG table (§5) for one fully known CSF."""
    if not blasts:
        return "CNS1"
    if not wbc_high:
        return "CNS2b" if traumatic else "CNS2a"
    if not traumatic:
        return "CNS3a"
    return "CNS3b" if sb_positive else "CNS2c"


def _values(fact: bool | None) -> tuple[bool, ...]:
    """The values a fact can take: itself when known, either when not."""
    return (False, True) if fact is None else (fact,)


def _possible(known: dict[str, bool | None]) -> tuple[list[CnsStatus], list[str]]:
    """Statuses reachable over every value of the unknown facts, and the unknown facts that change the answer."""
    options = [_values(known[f]) for f in _FACTS]
    outcome = {combo: _status_from(*combo) for combo in itertools.product(*options)}
    deciding = []
    for i, fact in enumerate(_FACTS):
        if known[fact] is None and any(
            outcome[combo] != outcome.get(combo[:i] + (not combo[i],) + combo[i + 1 :], outcome[combo])
            for combo in outcome
        ):
            deciding.append(fact)
    statuses = sorted(set(outcome.values()), key=STATUS_ORDER.index)
    return statuses, deciding


@dataclass
class CsfReading:
    """What one lumbar puncture shows, with the blood count used and what is still missing."""

    item: Indexed[Csf]
    statuses: list[CnsStatus]
    missing: list[str]
    traumatic: bool | None
    rule: str
    explanation: str
    evidence: list[EvidenceRef] = field(default_factory=list)

    @property
    def status(self) -> str:
        return " or ".join(self.statuses)

    @property
    def determined(self) -> bool:
        return len(self.statuses) == 1

    @property
    def blasts_with_traumatic_tap(self) -> bool:
        return bool(self.item.finding.blasts) and self.traumatic is True


def _cells(q: Quantity) -> str:
    return describe(q.value, q.comparator)


def _csf_summary(csf: Csf) -> str:
    parts = [
        f"CSF WBC {_cells(csf.wbc)}/uL" if csf.wbc is not None else "CSF WBC not recorded",
        f"RBC {_cells(csf.rbc)}/uL" if csf.rbc is not None else "RBC not recorded",
        {True: "blasts seen", False: "no blasts", None: "cytospin not recorded"}[csf.blasts],
    ]
    if csf.traumatic is not None:
        parts.append("recorded as traumatic" if csf.traumatic else "recorded as not traumatic")
    return ", ".join(parts)


def read_csf(view: CaseView, item: Indexed[Csf]) -> CsfReading:
    """Classify one CSF by the COG table, with Steinherz/Bleyer on the nearest blood count when needed."""
    rules = view.rules
    csf = item.finding
    # A count reported as a bound ("< 5 /uL") is exact for none of the lines: each line is asked
    # three-valued, and Steinherz/Bleyer (a ratio) needs both counts as values.
    wbc = None if csf.wbc is None or csf.wbc.comparator else csf.wbc.value
    rbc = None if csf.rbc is None or csf.rbc.comparator else csf.rbc.value
    traumatic: bool | None
    if csf.traumatic is not None:
        traumatic = csf.traumatic
        traumatic_why = "recorded as traumatic" if traumatic else "recorded as not traumatic"
    elif csf.rbc is not None:
        traumatic = at_least(csf.rbc.value, csf.rbc.comparator, rules.csf_rbc_traumatic)
        sign = {True: ">=", False: "<", None: "cannot tell against"}[traumatic]
        traumatic_why = f"CSF RBC {_cells(csf.rbc)}/uL {sign} {rules.csf_rbc_traumatic:g}/uL"
    else:
        traumatic, traumatic_why = None, "CSF RBC not recorded"
    wbc_high = None if csf.wbc is None else at_least(csf.wbc.value, csf.wbc.comparator, rules.csf_wbc_cns3)

    window = rules.cns_blood_count_window_days
    blood = _blood_for_ratio(view, item.date, window)
    sb_positive: bool | None = None
    sb_missing: list[str] = []
    sb_text = ""
    if wbc is None:
        sb_missing.append("CSF WBC count" if csf.wbc is None else "CSF WBC count as a value (not a bound)")
    if rbc is None or rbc <= 0:
        sb_missing.append("CSF RBC count (for Steinherz/Bleyer)")
    if blood is None:
        sb_missing.append(f"blood WBC and RBC within {rules.cns_blood_count_window_days} days of the lumbar puncture")
    if wbc is not None and rbc is not None and rbc > 0 and blood is not None:  # nothing in sb_missing
        csf_ratio = wbc / rbc
        blood_ratio = (blood.wbc * _PER_UL_PER_10E9_L) / (blood.rbc * _PER_UL_PER_10E12_L)
        line = rules.steinherz_bleyer_factor * blood_ratio
        sb_positive = csf_ratio > line and not math.isclose(csf_ratio, line, rel_tol=1e-9)
        sb_text = (
            f"Steinherz/Bleyer: CSF WBC/RBC {csf_ratio:.4g} {'>' if sb_positive else 'is not >'} "
            f"{rules.steinherz_bleyer_factor:g} x blood WBC/RBC ({blood_ratio:.4g}, blood count of {blood.item.date}) "
            f"= {line:.4g}: {'positive' if sb_positive else 'negative'}."
        )

    known = {
        "blasts": csf.blasts,
        "wbc_high": wbc_high,
        "traumatic": traumatic,
        "sb_positive": sb_positive,
    }
    statuses, deciding = _possible(known)
    missing_by_fact = {
        "blasts": ["CSF cytospin for blasts"],
        "wbc_high": ["CSF WBC count"],
        "traumatic": ["CSF RBC count (or whether the tap was traumatic)"],
        "sb_positive": sb_missing,
    }
    missing = list(dict.fromkeys(m for fact in deciding for m in missing_by_fact[fact]))

    uses_sb = "sb_positive" in deciding or (len(statuses) == 1 and statuses[0] in ("CNS2c", "CNS3b"))
    if uses_sb:
        rule = "CNS.STATUS.STEINHERZ_BLEYER"
    elif "blasts" in deciding:
        rule = "CNS.STATUS.CYTOSPIN"
    elif statuses == ["CNS1"]:
        rule = "CNS.STATUS.NO_BLASTS"
    elif statuses == ["CNS2b"]:
        rule = "CNS.STATUS.TRAUMATIC_TAP"
    else:
        rule = "CNS.STATUS.CSF_WBC"

    parts = [f"Lumbar puncture of {item.date}: {_csf_summary(csf)}."]
    if csf.blasts:
        if csf.wbc is not None:
            sign = {True: "is >=", False: "is <", None: "cannot be placed against"}[wbc_high]
            parts.append(f"CSF WBC {_cells(csf.wbc)}/uL {sign} the CNS3 line of {rules.csf_wbc_cns3:g}/uL.")
        parts.append(f"Traumatic tap: {'yes' if traumatic else 'no' if traumatic is False else 'unknown'} ({traumatic_why}).")
    if uses_sb and sb_text:
        parts.append(sb_text)
    parts.append(f"COG status: {' or '.join(statuses)}.")
    evidence = [item.ref(_csf_summary(csf))]
    if uses_sb and blood is not None:
        evidence.append(blood.item.ref(f"blood WBC {blood.wbc:g} x10^9/L, RBC {blood.rbc:g} x10^12/L"))
    return CsfReading(item, statuses, missing, traumatic, rule, " ".join(parts), evidence)


class _BloodCount(NamedTuple):
    """A blood count with its WBC (10^9/L) and RBC (10^12/L) both as values, as Steinherz/Bleyer needs."""

    item: Indexed[Cbc]
    wbc: float
    rbc: float


def _blood_for_ratio(view: CaseView, when: dt.date, window: int) -> _BloodCount | None:
    """The blood count nearest a lumbar puncture with WBC and RBC both as values (Steinherz/Bleyer is a ratio)."""
    usable: list[Indexed[Cbc]] = [
        x for x in view.within("cbc", when, window)
        if x.finding.wbc is not None and x.finding.rbc is not None and x.finding.rbc.value > 0
        and x.finding.wbc.comparator is None and x.finding.rbc.comparator is None
    ]
    blood: Indexed[Cbc] | None = view.nearest(usable, when, window)
    if blood is None:
        return None
    wbc, rbc = blood.finding.wbc, blood.finding.rbc
    if wbc is None or rbc is None:  # not among the usable counts
        return None
    return _BloodCount(blood, wbc.value, rbc.value)


def _diagnostic_window_end(view: CaseView, treatments: TreatmentHistory) -> dt.date | None:
    """Last day on which a CSF or clinical finding still describes the presentation."""
    anchors = [d for d in (view.diagnosis_date, treatments.induction_start) if d is not None]
    if not anchors:
        return None
    return max(anchors) + dt.timedelta(days=view.rules.cns_diagnostic_window_days)


_LATER_INVOLVEMENT_RULES = {"cns": "CNS.LATER_CNS_INVOLVEMENT", "testis": "CNS.LATER_TESTIS_INVOLVEMENT"}
"""New CNS or testicular disease after the diagnostic work-up: relapse evidence, not a diagnostic CNS status."""


def _site_at_diagnosis(
    items: list[Indexed[Extramedullary]],
) -> tuple[bool | None, list[str], list[Indexed[Extramedullary]]]:
    """Any positive finding wins over negatives on other days; positive and negative on the same day contradict."""
    positives = [x for x in items if x.finding.present]
    negatives = [x for x in items if not x.finding.present]
    same_day = [(p, n) for p in positives for n in negatives if p.date == n.date]
    if same_day:
        positive, negative = same_day[0]
        site = positive.finding.site
        return None, [f"{site} involvement recorded present and absent on {positive.date}"], [positive, negative]
    if positives:
        return True, [], positives
    if negatives:
        return False, [], negatives
    return None, [], []


def _extramedullary_summary(x: Indexed[Extramedullary]) -> str:
    f = x.finding
    detail = f" ({f.detail})" if f.detail else ""
    return f"{f.site} involvement {'present' if f.present else 'absent'}{detail}"


def assess_cns(view: CaseView, treatments: TreatmentHistory, readings: Mapping[int, CsfReading] | None = None) -> CnsResult:
    """CNS status and testicular involvement at diagnosis, with later lumbar punctures reported separately.

    ``readings``: the CSFs already read, by finding index (the course reads each once:
    :attr:`.course.build.DiseaseCourse.csf_readings`); a CSF not among them is read here.
    """
    end = _diagnostic_window_end(view, treatments)
    known = readings or {}

    def read(item: Indexed[Csf]) -> CsfReading:
        return known.get(item.index) or read_csf(view, item)

    def at_diagnosis(x: Indexed[Finding]) -> bool:
        return end is None or x.date <= end

    csfs: list[Indexed[Csf]] = view.of_type("csf")
    diagnostic = csfs[0] if csfs and at_diagnosis(csfs[0]) else None
    # One day's taps carry no order: each of them is the diagnostic lumbar puncture.
    same_day = [x for x in csfs if diagnostic is not None and x.date == diagnostic.date]
    later = [x for x in csfs if diagnostic is None or x.date != diagnostic.date]
    extramedullary: list[Indexed[Extramedullary]] = view.of_type("extramedullary")
    cns_items = [x for x in extramedullary if x.finding.site == "cns" and at_diagnosis(x)]
    testis_items = [x for x in extramedullary if x.finding.site == "testis" and at_diagnosis(x)]

    conclusions: list[Conclusion] = []
    reading = read(diagnostic) if diagnostic is not None else None
    day_readings = [read(x) for x in same_day]
    disagreeing = _disagreeing_taps(day_readings)
    clinical, clinical_conflicts, clinical_evidence = _site_at_diagnosis(cns_items)

    status: CnsStatus | None
    date: dt.date | None
    possible: list[CnsStatus] = []
    if clinical_conflicts:
        status, date = None, None
        conclusions.append(
            contradictory("cns.status", "CNS.STATUS.CLINICAL_SIGNS", COG_CNS, clinical_conflicts,
                          [x.ref(_extramedullary_summary(x)) for x in clinical_evidence])
        )
    elif clinical:
        first = clinical_evidence[0]
        status, date = CNS3C, first.date
        csf_part = (
            f" The CSF alone would read {reading.status}." if reading is not None else " No diagnostic CSF is recorded."
        )
        conclusions.append(
            conclude(
                "cns.status", CNS3C, "CNS.STATUS.CLINICAL_SIGNS", COG_CNS,
                "Clinical signs of CNS leukaemia at diagnosis (cranial nerve palsy, brain or eye involvement, "
                "hypothalamic syndrome) make CNS3c regardless of the CSF." + csf_part,
                [x.ref(_extramedullary_summary(x)) for x in clinical_evidence]
                + (reading.evidence if reading is not None else []),
            )
        )
    if not clinical_conflicts and not clinical:
        if reading is None:
            status, date = None, None
            conclusions.append(
                undetermined(
                    "cns.status", "CNS.STATUS.NO_LP", COG_CNS,
                    ["diagnostic lumbar puncture (CSF cell count and cytospin)"],
                    "No CSF result at diagnosis: the CNS status cannot be assigned.",
                )
            )
        elif disagreeing:
            status, date = None, reading.item.date
            possible = sorted({s for r in disagreeing for s in r.statuses}, key=STATUS_ORDER.index)
            sides = [f"{_csf_summary(r.item.finding)} (CSF #{r.item.index}): {r.status}" for r in disagreeing]
            missing = [f"which lumbar puncture of {date} is the diagnostic one (or a repeat tap)",
                       *dict.fromkeys(m for r in disagreeing for m in r.missing)]
            conclusions.append(Conclusion(
                topic="cns.status", value=None, determined=False, rule="CNS.STATUS.CONFLICT", source=COG_CNS,
                explanation=f"The lumbar punctures of {date} disagree: " + "; ".join(sides) + ".",
                evidence=[e for r in disagreeing for e in r.evidence], missing=missing, conflicts=sides,
            ))
        else:
            # An open classification is not a status: the contract allows only CNS1..CNS3c or
            # null, so the candidates go to ``possible`` and the conclusion says what decides.
            status = reading.statuses[0] if reading.determined else None
            date = reading.item.date
            possible = [] if reading.determined else list(reading.statuses)
            if reading.determined:
                conclusions.append(
                    conclude("cns.status", reading.status, reading.rule, COG_CNS, reading.explanation, reading.evidence)
                )
            else:
                conclusions.append(
                    undetermined(
                        "cns.status", reading.rule, COG_CNS, reading.missing,
                        reading.explanation + " Missing: " + "; ".join(reading.missing) + ".",
                        reading.evidence, value=reading.status,
                    )
                )

    traumatic_with_blasts = next((r for r in day_readings if r.blasts_with_traumatic_tap), None)
    if traumatic_with_blasts is not None:
        conclusions.append(
            conclude(
                "cns.traumatic_lp", True, "CNS.TRAUMATIC_LP_WITH_BLASTS", TRAUMATIC_LP,
                "A traumatic diagnostic lumbar puncture with blasts in the CSF is itself an adverse factor "
                "(St Jude experience), whatever the CNS status.",
                traumatic_with_blasts.evidence[:1],
            )
        )

    testicular = _testicular(view, testis_items, conclusions)
    conclusions.extend(_later_findings([read(x) for x in later], extramedullary, end, status))
    return CnsResult(
        status=status,
        possible=possible,
        date=date,
        traumatic_tap=None if reading is None else reading.traumatic,
        testicular=testicular,
        conclusions=conclusions,
    )


def _disagreeing_taps(readings: list[CsfReading]) -> list[CsfReading]:
    """The taps of the diagnostic day when they do not all allow the same statuses (else none)."""
    return readings if len({tuple(r.statuses) for r in readings}) > 1 else []


def _testicular(view: CaseView, items: list[Indexed[Extramedullary]], conclusions: list[Conclusion]) -> bool | None:
    found, conflicts, evidence = _site_at_diagnosis(items)
    refs = [x.ref(_extramedullary_summary(x)) for x in evidence]
    if conflicts:
        conclusions.append(contradictory("cns.testicular", "CNS.TESTICULAR", TESTICULAR, conflicts, refs))
    elif found:
        conclusions.append(
            conclude(
                "cns.testicular", True, "CNS.TESTICULAR", TESTICULAR,
                "Testicular involvement at diagnosis: extramedullary disease that excludes standard-risk "
                "assignment in most schemas.",
                refs,
            )
        )
    elif found is None and view.patient.sex.value == "male":
        conclusions.append(
            undetermined(
                "cns.testicular", "CNS.TESTICULAR", TESTICULAR, ["testicular examination at diagnosis"],
                "No testicular finding is recorded at diagnosis for a male patient.",
            )
        )
    return found


def _later_findings(
    later_csfs: list[CsfReading],
    extramedullary: list[Indexed[Extramedullary]],
    end: dt.date | None,
    diagnosis_status: str | None,
) -> list[Conclusion]:
    """One conclusion per lumbar puncture after the diagnostic one, and per later CNS or testicular finding."""
    out: list[Conclusion] = []
    keep = f"The CNS status at diagnosis stays {diagnosis_status or 'unassigned'}; "
    for reading in later_csfs:
        item = reading.item
        explanation = (
            reading.explanation + " " + keep + "a CSF after diagnosis is response or relapse evidence "
            "(judged by the response assessment), not a new diagnostic status."
        )
        if reading.determined:
            out.append(conclude("cns.later_lp", reading.status, "CNS.STATUS.LATER_LP", COG_CNS, explanation, reading.evidence))
        else:
            out.append(
                undetermined(
                    "cns.later_lp", "CNS.STATUS.LATER_LP", COG_CNS,
                    [f"{m} (lumbar puncture of {item.date})" for m in reading.missing],
                    explanation, reading.evidence, value=reading.status,
                )
            )
    for site_item in extramedullary:
        f = site_item.finding
        if end is not None and site_item.date > end and f.present and f.site in ("cns", "testis"):
            out.append(
                conclude(
                    f"cns.later_{f.site}", True, _LATER_INVOLVEMENT_RULES[f.site],
                    COG_CNS if f.site == "cns" else TESTICULAR,
                    f"{_extramedullary_summary(site_item)} on {site_item.date}, after diagnosis: " + keep
                    + "new extramedullary disease is relapse evidence for the response assessment.",
                    [site_item.ref(_extramedullary_summary(site_item))],
                )
            )
    return out
