"""MRD at the end of induction and the end of consolidation: persistent positivity is high risk.

MRD still detectable at the end of consolidation marks very poor outcome in
children (COG: 5-year EFS 43% with any MRD at end of consolidation, Borowitz
2008; 39% DFS with MRD >= 0.01% after consolidation in AALL0232, Borowitz 2015)
and in adults (ELN 2024: MRD >= 0.01% during or after consolidation). So the
two time points are read together: positive at the end of consolidation is
``persistent`` (high risk, an alert), positive at the end of induction but
negative at the end of consolidation is ``cleared``, negative at the end of
induction is ``negative``.

Which MRD is which time point: a result labelled as that time point
(:mod:`..timepoints`: day 29/32/33 or "EOI"; day 78 or "EOC"), else the first
marrow MRD of the time point's window: from ``end_of_induction_min_days`` after
induction start for the end of induction, around the end of the first
consolidation block (``end_of_consolidation_window_days``) for the end of
consolidation.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from ..assessment import Diagnosis, MrdPersistence, MrdResult, MrdSummary
from ..course.treatment import CONCURRENT_PHASES, Block, TreatmentHistory
from ..explain import conclude, undetermined
from ..response.mrd import MARROW_SAMPLES, SAMPLE_NEEDED, marrow_side
from ..sources import MRD_PERSISTENCE
from ..timepoints import END_OF_CONSOLIDATION, END_OF_INDUCTION, timepoint_of
from ..view import CaseView
from .common import Outcome, mrd_at_least, mrd_ref, mrd_text, pct

RULE = "RISK.MRD_PERSISTENCE"
TOPIC = "risk.mrd_persistence"


def _series(mrd: MrdSummary) -> list[MrdResult]:
    """The marrow MRD results in date order; of one day, a result stated to be marrow before one of unstated sample
    (which never shows a marrow below a line), so the day's reading does not depend on the record's order."""
    return sorted((r for r in mrd.series if r.sample in MARROW_SAMPLES),
                  key=lambda r: (r.date, r.sample != "marrow", r.index))


def end_of_induction_mrd(view: CaseView, mrd: MrdSummary, treatments: TreatmentHistory) -> MrdResult | None:
    """The end-of-induction marrow MRD: labelled so, else the first >= ``end_of_induction_min_days`` after
    first-line induction started (and before consolidation ends), not labelled as another time point."""
    series = _series(mrd)
    labelled = next((r for r in series if timepoint_of(r.timepoint) == END_OF_INDUCTION), None)
    induction = treatments.induction
    if labelled is not None or induction is None:
        return labelled
    rules = view.rules
    earliest = induction.start + dt.timedelta(days=rules.end_of_induction_min_days)
    latest = induction.start + dt.timedelta(days=rules.induction_days[1] + rules.end_of_induction_grace_days)
    return next((r for r in series if earliest <= r.date <= latest and timepoint_of(r.timepoint) is None), None)


def end_of_consolidation_mrd(view: CaseView, mrd: MrdSummary, treatments: TreatmentHistory) -> MrdResult | None:
    """The end-of-consolidation marrow MRD: labelled so, else the first unlabelled one around the end of
    the first consolidation block."""
    series = _series(mrd)
    labelled = next((r for r in series if timepoint_of(r.timepoint) == END_OF_CONSOLIDATION), None)
    if labelled is not None:
        return labelled
    block, end = _first_consolidation(treatments)
    if block is None or end is None:
        return None
    margin = dt.timedelta(days=view.rules.end_of_consolidation_window_days)
    earliest = max(block.start + dt.timedelta(days=view.rules.end_of_induction_min_days), end - margin)
    return next((r for r in series if earliest <= r.date <= end + margin and timepoint_of(r.timepoint) is None), None)


def mrd_persistence(view: CaseView, diagnosis: Diagnosis, mrd: MrdSummary, treatments: TreatmentHistory,
                    relapsed: bool = False) -> Outcome[MrdPersistence | None]:
    """Persistence of first-line MRD; once the disease has relapsed a missing first-line time point is moot."""
    line = view.rules.mrd_negative_below
    if diagnosis.disease not in ("ALL", "MPAL"):
        return Outcome(None, conclude(TOPIC, "not_applicable", RULE, MRD_PERSISTENCE,
                                      "MRD persistence is read for leukaemia (ALL, MPAL)"))
    eoi = end_of_induction_mrd(view, mrd, treatments)
    eoc = end_of_consolidation_mrd(view, mrd, treatments)
    sides = [None if r is None else mrd_at_least(mrd, r, line) for r in (eoi, eoc)]
    # Below the line only a marrow result shows a negative marrow (an unstated sample may be blood).
    at_eoi, at_eoc = (None if side is None or r is None else marrow_side(side.side, r.sample)
                      for side, r in zip(sides, (eoi, eoc), strict=True))
    unstated = [r for r, side in zip((eoi, eoc), sides, strict=True)
                if r is not None and side is not None and side.side is False and r.sample is None]
    conflicts = [side.disagreement for side in sides if side is not None and side.disagreement]
    evidence = [mrd_ref(r) for r in (eoi, eoc) if r is not None]
    eoi_text = "not available" if eoi is None else mrd_text(eoi)
    eoc_text = "not available" if eoc is None else mrd_text(eoc)
    where = f"end of induction {eoi_text}; end of consolidation {eoc_text} (positive: >= {pct(line)})"
    if at_eoc and eoc is not None:
        why = f"MRD positive at the end of consolidation: high risk; {where}"
        factor = [f"MRD positive at end of consolidation ({pct(eoc.value or 0)}{', persisting from end of induction' if at_eoi else ''})"]
        return Outcome("persistent", conclude(TOPIC, "persistent", RULE, MRD_PERSISTENCE, why, evidence), factor)
    if conflicts:
        c = undetermined(TOPIC, RULE, MRD_PERSISTENCE, ["the MRD method the protocol reads at that time point"],
                         f"MRD persistence cannot be read: {'; '.join(conflicts)}; {where}", evidence)
        return Outcome(None, msgspec.structs.replace(c, conflicts=conflicts))
    if at_eoi and at_eoc is False:
        return Outcome("cleared", conclude(TOPIC, "cleared", RULE, MRD_PERSISTENCE,
                                           f"MRD positive at the end of induction, negative at the end of consolidation; {where}",
                                           evidence))
    if at_eoi is False:  # and the end of consolidation is negative or not known (positive returned above)
        return Outcome("negative", conclude(TOPIC, "negative", RULE, MRD_PERSISTENCE,
                                            f"MRD negative at the end of induction; {where}", evidence))
    missing = [SAMPLE_NEEDED] if unstated else []  # the EOI MRD itself is asked for by the rules that use it
    if at_eoi and at_eoc is None and not relapsed and (eoc is not None or _consolidation_over(view, treatments)):
        missing.append("end-of-consolidation marrow MRD" if eoc is None else "evaluable end-of-consolidation marrow MRD")
    why = f"MRD persistence not yet known; {where}"
    if unstated:
        why += "; an MRD of unstated sample below the line may be a blood result (blood runs lower than marrow)"
    if not missing:
        return Outcome(None, conclude(TOPIC, None, RULE, MRD_PERSISTENCE, why + " (not yet due)", evidence))
    return Outcome(None, undetermined(TOPIC, RULE, MRD_PERSISTENCE, missing, why, evidence))


def _first_consolidation(treatments: TreatmentHistory) -> tuple[Block | None, dt.date | None]:
    """The first consolidation block and its end (recorded, else the next backbone block's start)."""
    blocks = treatments.blocks
    position = next((n for n, b in enumerate(blocks) if b.phase == "consolidation"), None)
    if position is None:
        return None, None
    later = [b.start for b in blocks[position + 1:] if b.phase not in CONCURRENT_PHASES]
    return blocks[position], blocks[position].end or (later[0] if later else None)


def _consolidation_over(view: CaseView, treatments: TreatmentHistory) -> bool:
    _, end = _first_consolidation(treatments)
    margin = dt.timedelta(days=view.rules.end_of_consolidation_window_days)
    return end is not None and view.as_of > end + margin
