"""Disease status over time: one point per assessment, read in date order.

Response words only mean something against what came before: a 10% marrow is a
slow early response on day 15, induction failure at end of induction, and a
suspected relapse after remission. So the timeline walks the assessments in
order, carrying the course of the disease (untreated, in induction, in
remission, relapsed, refractory), and judges each assessment by the rules for
that moment (NCCN/ELN response criteria, Ponte di Legno relapse consensus;
docs/decisions.md).

Points of assessment: the diagnosis date, every marrow, every MRD result (one
taken with a marrow joins that marrow's point), new extramedullary disease
after treatment starts, and after remission, spinal fluid showing CNS disease
or a blood count showing circulating blasts.

Marrow involvement is read from every test of the marrow at a point: the blast
count by morphology or flow, and each MRD result (flow, PCR, NGS), each a
fraction of leukaemic cells. After remission the Ponte di Legno tiers apply to
the highest of them (>= 25% relapse; 5-<25% relapse when another test shows
>= 1%, else suspected relapse; 1-<5% relapse only with two other tests >= 1%),
so a marrow MRD of 8% in "morphological remission" is never called remission.
Below those tiers a positive MRD after a negative one, or one rising tenfold,
is a molecular relapse (an alert, not a change of status). The walk also
records when the disease enters relapse, refractoriness or remission: the
course model (engine/course) builds its episodes from those events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..assessment import DiseaseStatus, MrdResult, PhaseSpan, TimelinePoint
from ..case import Cbc, Marrow, Mrd
from ..case.bounds import above, at_least
from ..course.treatment import CONCURRENT_PHASES
from ..explain import Conclusion, EvidenceRef
from ..sources import COG_RESPONSE, MRD_REMISSION, NCCN_ELN_RESPONSE, PONTE_DI_LEGNO
from ..timepoints import fold, is_end_of_induction, names_another_timepoint, timepoint_of
from ..view import CaseView, Indexed
from .extramedullary import SiteFinding, latest_by_site
from .marrow import GRADE_ORDER, Grade, MarrowReading, blasts_text, marrow_grade, read_marrows
from .mrd import MARROW_SAMPLES, SAMPLE_NEEDED, describe, interval, level_at_least, mrd_result, value_text
from .phases import phase_on
from .remission import check_recovery

TOPIC = "status.timeline"
REMISSION = ("complete_remission", "cr_incomplete_recovery")


@dataclass
class _Candidate:
    date: dt.date
    marrows: list[Indexed[Marrow]] = field(default_factory=list)
    mrds: list[Indexed[Mrd]] = field(default_factory=list)
    sites: list[SiteFinding] = field(default_factory=list)
    blood: list[Indexed[Cbc]] = field(default_factory=list)
    diagnosis: bool = False

    @property
    def unconditional(self) -> bool:
        """Marrow, MRD, diagnosis and non-CSF extramedullary findings are always points."""
        return bool(self.marrows or self.mrds or self.diagnosis or any(not s.from_csf for s in self.sites))


@dataclass
class _Verdict:
    status: DiseaseStatus
    rule: str
    source: str
    explanation: str
    evidence: list[EvidenceRef] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    determined: bool = True


@dataclass(frozen=True)
class _MarrowState:
    """What the marrow shows at a point: its grade, and how it is known (morphology, or MRD in its place)."""

    grade: Grade
    text: str
    aplastic: bool = False
    by_mrd_line: bool = False
    """Blasts below the M1 line but a marrow MRD at or above the remission line (``cr_mrd_below``): no CR."""


@dataclass(frozen=True)
class _Test:
    """One independent measurement of marrow involvement (a method), as a fraction of cells."""

    method: str
    value: float
    comparator: str | None
    text: str

    def at_least(self, line: float) -> bool | None:
        return at_least(self.value, self.comparator, line)


@dataclass(frozen=True)
class _RemissionLine:
    """The MRD results of a point read against the MRD line of remission (``cr_mrd_below``).

    A marrow MRD, or one whose sample is not stated, at or above the line shows marrow disease (blood runs
    lower than marrow, so a blood result at the line means a marrow at least as high); below the line only a
    marrow result shows a marrow below it. A blood MRD at or above the line is circulating leukaemia.
    """

    over: list[str]
    under: list[str]
    undecided: list[str]
    blood_over: list[str]


@dataclass(frozen=True)
class CourseEvent:
    """The disease entered relapse, refractoriness or remission at a point of the timeline."""

    kind: str  # relapse | refractory | remission
    onset: dt.date
    date: dt.date
    status: DiseaseStatus
    rule: str
    explanation: str
    evidence: list[EvidenceRef]


@dataclass(frozen=True)
class MolecularEvent:
    """MRD re-appearing after a negative result, or rising tenfold, while in morphological remission."""

    date: dt.date
    result: MrdResult
    kind: str  # recurrence | rising
    previous: MrdResult | None
    evidence: list[EvidenceRef]


@dataclass
class _Course:
    """Where the disease stands between points."""

    state: str = "pre"  # pre | pending | remission | suspected | relapsed | refractory
    remission_status: DiseaseStatus | None = None
    eoi_done: bool = False
    remissions: int = 0
    relapse_onset: dt.date | None = None
    suspected_since: dt.date | None = None
    last_mrd: dict[str | None, MrdResult] = field(default_factory=dict)
    """The latest evaluable MRD of each sample (marrow, blood, not stated) in this remission."""
    slow_response: dt.date | None = None
    molecular: list[MolecularEvent] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineResult:
    points: list[TimelinePoint]
    first_treatment: dt.date | None
    events: list[CourseEvent]
    molecular: list[MolecularEvent]


def build_timeline(
    view: CaseView, spans: list[PhaseSpan], treatment_start: dt.date | None, sites: list[SiteFinding]
) -> TimelineResult:
    """The status walk; ``sites`` are the case's extramedullary and CSF findings (:func:`.extramedullary.site_findings`)."""
    return _Walker(view, spans, treatment_start, sites).run()


class _Walker:
    def __init__(self, view: CaseView, spans: list[PhaseSpan], treatment_start: dt.date | None, sites: list[SiteFinding]):
        self.view = view
        self.rules = view.rules
        self.spans = spans
        # The treatment blocks an induction or re-induction starts from (``_course_start``), read once.
        self.backbone = [s for s in spans if s.phase not in ("prephase", *CONCURRENT_PHASES)]
        self.dx = view.diagnosis_date
        self.first_tx = treatment_start
        self.sites = sites
        self.course = _Course()
        self.events: list[CourseEvent] = []

    # Set-up -----------------------------------------------------------------------------
    def pretreatment(self, when: dt.date) -> bool:
        """Diagnostic work-up: on or before the diagnosis date, or before treatment starts."""
        if self.dx is not None and when <= self.dx:
            return True
        return self.first_tx is not None and when <= self.first_tx

    def candidates(self) -> list[_Candidate]:
        by_date: dict[dt.date, _Candidate] = {}

        def at(when: dt.date) -> _Candidate:
            found = by_date.get(when)
            if found is None:
                found = by_date[when] = _Candidate(when)
            return found

        if self.view.findings and self.dx is not None:
            at(self.dx).diagnosis = True
        marrows = self.view.of_type("marrow")
        for item in marrows:
            at(item.date).marrows.append(item)
        for item in self.view.of_type("mrd"):
            partner = self._marrow_for(item, marrows)
            at(partner.date if partner else item.date).mrds.append(item)
        for site in self.sites:
            if (site.involved or site.possible) and not self.pretreatment(site.date):
                at(site.date).sites.append(site)
        counts = self.view.counts  # the blood counts as columns: one pass over the blast values
        for row in counts.rows_where("blasts_pct", above, 0.0):
            if not self.pretreatment(counts.dates[row]):
                at(counts.dates[row]).blood.append(counts.items[row])
        return [by_date[d] for d in sorted(by_date)]

    def _marrow_for(self, item: Indexed[Mrd], marrows: list[Indexed[Marrow]]) -> Indexed[Marrow] | None:
        """The marrow an MRD result belongs to: same date, else nearest within the window with a compatible label."""

        def key(label: str | None) -> str | None:
            return timepoint_of(label) or fold(label)

        mrd_label = key(item.finding.timepoint)
        best = None
        for marrow in marrows:
            gap = abs((marrow.date - item.date).days)
            if gap > self.rules.mrd_pairing_window_days:
                continue
            marrow_label = key(marrow.finding.timepoint)
            if gap and mrd_label and marrow_label and mrd_label != marrow_label:
                continue
            rank = (gap, 0 if mrd_label and mrd_label == marrow_label else 1, marrow.date)
            if best is None or rank < best[0]:
                best = (rank, marrow)
        return best[1] if best else None

    # Walk ----------------------------------------------------------------------------
    def run(self) -> TimelineResult:
        points = []
        for cand in self.candidates():
            if not cand.unconditional and self.course.state not in ("remission", "suspected"):
                continue
            mrds = [mrd_result(i, self.rules) for i in cand.mrds]
            before = (self.course.state, self.course.remissions)
            reading = read_marrows(cand.marrows, self.rules) if cand.marrows else None
            verdict = self.judge(cand, reading, mrds)
            self._record(cand.date, before, verdict)
            span = phase_on(self.spans, cand.date)
            points.append(
                TimelinePoint(
                    date=cand.date,
                    status=verdict.status,
                    marrow_grade=reading.grade if reading else None,
                    marrow_blasts_pct=reading.blasts_pct if reading else None,
                    mrd=_shown(mrds),
                    phase=span.phase if span else None,
                    conclusion=_conclusion(verdict),
                )
            )
        return TimelineResult(points, self.first_tx, self.events, self.course.molecular)

    def _record(self, when: dt.date, before: tuple[str, int], verdict: _Verdict) -> None:
        """Note the transitions the course model builds episodes from."""
        state, remissions = self.course.state, self.course.remissions
        kind = None
        if state == "relapsed" and before[0] != "relapsed":
            kind, onset = "relapse", self.course.relapse_onset or when
        elif state == "refractory" and before[0] != "refractory":
            kind, onset = "refractory", when
        elif remissions > before[1]:
            kind, onset = "remission", when
        if kind is not None:
            self.events.append(CourseEvent(kind, onset, when, verdict.status, verdict.rule, verdict.explanation,
                                           list(verdict.evidence)))

    def judge(self, cand: _Candidate, reading: MarrowReading | None, mrds: list[MrdResult]) -> _Verdict:
        """The status at one point from its marrows (``reading``, read once by the walk), MRD and the rest."""
        evidence = self._evidence(cand, reading, mrds)
        if self.pretreatment(cand.date):
            return self._newly_diagnosed(cand, evidence)
        if self.course.state == "pre":
            self.course.state = "pending"
        notes = self._mrd_notes(cand, mrds)
        if reading is not None and reading.conflicts:
            verdict = _Verdict(
                "indeterminate", "RESPONSE.INDETERMINATE", NCCN_ELN_RESPONSE,
                "same-date marrows disagree on the marrow grade", evidence,
                missing=["a repeat or confirmatory marrow that resolves the contradiction"],
                conflicts=reading.conflicts, determined=False,
            )
        elif reading is not None and reading.straddles and not self._decided_by_mrd(mrds):
            verdict = _Verdict(
                self._carry(), "RESPONSE.INDETERMINATE", NCCN_ELN_RESPONSE,
                "the marrow blast count is reported as a bound that does not settle the grade: "
                + "; ".join(reading.straddles), evidence,
                missing=["marrow blast percentage as a value (or a bound below the M1 line)"], determined=False,
            )
        elif self.course.state in ("remission", "suspected"):
            verdict = self._in_remission(cand, reading, mrds, evidence)
        else:
            verdict = self._not_in_remission(cand, reading, mrds, evidence)
        if verdict.status in ("relapse", "suspected_relapse") and self.course.state in ("relapsed", "suspected"):
            # The MRD is part of an overt (or suspected) relapse here, not a molecular one.
            notes = [n for n in notes if not n.startswith("molecular relapse")]
            self.course.molecular = [m for m in self.course.molecular if m.date != cand.date]
        if notes:
            verdict.explanation = "; ".join([verdict.explanation, *notes])
        return verdict

    def _decided_by_mrd(self, mrds: list[MrdResult]) -> bool:
        """In remission, a marrow MRD at a relapse tier decides even when the blast count is a loose bound."""
        if self.course.state not in ("remission", "suspected"):
            return False
        return any(level_at_least(m, self.rules.m1_below_pct / 100) for m in mrds if m.sample in MARROW_SAMPLES)

    # States ----------------------------------------------------------------------------
    def _newly_diagnosed(self, cand: _Candidate, evidence: list[EvidenceRef]) -> _Verdict:
        why = "at diagnosis" if cand.date == self.dx else "diagnostic work-up before treatment starts"
        return _Verdict("newly_diagnosed", "RESPONSE.NEWLY_DIAGNOSED", NCCN_ELN_RESPONSE, why, evidence)

    def _carry(self) -> DiseaseStatus:
        """The status in force between decisive assessments."""
        state = self.course.state
        if state == "remission":
            return self.course.remission_status or "complete_remission"
        if state == "suspected":
            return "suspected_relapse"
        if state == "relapsed":
            return "relapse"
        if state == "refractory":
            return "refractory"
        return "on_treatment" if self.first_tx is not None else "newly_diagnosed"

    def _course_start(self, when: dt.date) -> dt.date | None:
        """Start of the induction whose response this assessment judges (first line or re-induction)."""
        backbone = self.backbone
        if self.course.state == "relapsed" and self.course.relapse_onset is not None:
            later = [s.start for s in backbone if self.course.relapse_onset <= s.start <= when]
            return min(later) if later else None
        inductions = [s.start for s in backbone if s.phase == "induction" and s.start <= when]
        if inductions:
            return min(inductions)
        starts = [s.start for s in backbone if s.start <= when]
        return min(starts) if starts else None

    def _is_eoi(self, cand: _Candidate, reading: MarrowReading | None) -> tuple[bool, str]:
        labels = (reading.labels if reading else []) + [m.finding.timepoint for m in cand.mrds if m.finding.timepoint]
        if self.course.slow_response is not None:
            return True, f"first marrow after the slow early response of {self.course.slow_response} (end of extended induction)"
        if any(is_end_of_induction(label) for label in labels):
            return True, "labelled end of induction"
        start = self._course_start(cand.date)
        if start is not None:
            day = (cand.date - start).days
            if day >= self.rules.end_of_induction_min_days:
                least = self.rules.end_of_induction_min_days
                return True, f"first response assessment {day} days after induction start (>= {least})"
        return False, ""

    def _day_text(self, when: dt.date) -> str:
        start = self._course_start(when)
        if start is None:
            return "an interim assessment"
        block = "re-induction" if self.course.state == "relapsed" else "induction"
        return f"{(when - start).days} days after {block} start"

    def _not_in_remission(
        self, cand: _Candidate, reading: MarrowReading | None, mrds: list[MrdResult], evidence: list[EvidenceRef]
    ) -> _Verdict:
        """Before remission in this course (induction, re-induction after relapse, refractory disease)."""
        eoi, eoi_why = False, ""
        if self.course.state in ("pending", "relapsed") and not self.course.eoi_done:
            eoi, eoi_why = self._is_eoi(cand, reading)
        marrow = self._marrow_state(reading, mrds)
        if marrow is None and reading is None and eoi \
                and not all(names_another_timepoint(m.finding.timepoint) for m in cand.mrds):
            marrow = self._disease_by_mrd_alone(mrds)
        if marrow is None:
            return self._without_marrow_grade(cand, reading, evidence)
        judged = eoi or self.course.state == "refractory" or self.course.eoi_done
        remission_line = self._remission_line(mrds) if judged and marrow.grade == "M1" else None
        if remission_line is not None and remission_line.over and not (remission_line.under or remission_line.undecided):
            marrow = _MarrowState("M2", f"{remission_line.over[0]} beside {marrow.text}", marrow.aplastic, True)
        if marrow.grade != "M1":
            return self._disease_in_marrow(cand, marrow, eoi, eoi_why, evidence)
        return self._clear_marrow(cand, marrow, eoi, mrds, evidence)

    def _disease_by_mrd_alone(self, mrds: list[MrdResult]) -> _MarrowState | None:
        """An end-of-induction marrow MRD without morphology that shows disease: at or above the MRD line of
        remission (docs/decisions.md#remission-mrd-line), no morphology can make it a remission; below the
        line the morphology is still needed (None)."""
        line = self._remission_line(mrds)
        if not line.over or line.under or line.undecided:
            return None
        over = [m for m in mrds if m.sample in MARROW_SAMPLES and level_at_least(m, self.rules.cr_mrd_below)]
        worst = max(over, key=lambda m: m.value or 0.0)
        bound = interval(worst)
        grade = marrow_grade(bound[0] * 100, self.rules, bound[1]) if bound else None
        text = f"{line.over[0]} without marrow morphology"
        if grade in (None, "M1"):
            return _MarrowState("M2", text, by_mrd_line=True)
        return _MarrowState(grade, text)

    def _marrow_state(self, reading: MarrowReading | None, mrds: list[MrdResult]) -> _MarrowState | None:
        """The marrow grade at a point: the highest leukaemic fraction by any test of the marrow.

        Morphology below the M1 line cannot show remission when the same marrow's MRD
        finds leukaemic cells at or above it (Ponte di Legno: MRD is the standard of
        remission, morphology serves without it), so such an MRD grades the marrow.
        Once the disease is refractory or has relapsed, the response to salvage is
        often followed by marrow MRD alone: an MRD below the M1 line (a negative
        MRD included) shows a marrow in remission, one at or above it shows disease.
        """
        graded = []
        for m in mrds:
            bound = interval(m) if m.sample in MARROW_SAMPLES else None
            grade = marrow_grade(bound[0] * 100, self.rules, bound[1]) if bound else None
            if grade == "M1" and m.sample is None:
                grade = None  # an unstated sample may be blood: it shows disease, never a marrow below the line
            if grade is not None:
                graded.append((grade, m))
        worst = max(graded, key=lambda g: GRADE_ORDER.index(g[0])) if graded else None
        by_mrd = None if worst is None else \
            _MarrowState(worst[0], f"marrow MRD {value_text(worst[1])} ({worst[1].method or 'method not stated'}, {worst[1].status})")
        if reading is not None and reading.grade is not None:
            measured = [i.finding.blasts_pct for i in reading.items if i.finding.blasts_pct is not None]
            shown = blasts_text(measured[0]) if len(measured) == 1 else f"{reading.blasts_pct:g}%"
            if by_mrd is not None and GRADE_ORDER.index(by_mrd.grade) > GRADE_ORDER.index(reading.grade):
                return _MarrowState(by_mrd.grade, f"{by_mrd.text} despite marrow blasts {shown} by morphology")
            return _MarrowState(reading.grade, f"marrow blasts {shown}", reading.aplastic)
        if reading is not None or self.course.state not in ("refractory", "relapsed"):
            return None
        return by_mrd

    def _remission_line(self, mrds: list[MrdResult]) -> _RemissionLine:
        """This point's MRD results against ``cr_mrd_below`` (docs/decisions.md#remission-mrd-line)."""
        line = self.rules.cr_mrd_below
        over: list[str] = []
        under: list[str] = []
        undecided: list[str] = []
        blood: list[str] = []
        for m in mrds:
            if m.value is None:
                continue
            side = level_at_least(m, line) if m.value or m.comparator else False  # "not detected": below 1%
            where = m.sample or "unstated-sample"
            text = f"{where} MRD {value_text(m)} ({m.method or 'method not stated'})"
            if m.sample == "blood":
                if side is True:
                    blood.append(text)
            elif side is True:
                over.append(text)
            elif side is None:
                undecided.append(text)
            elif m.sample == "marrow":
                under.append(text)
        return _RemissionLine(over, under, undecided, blood)

    def _carry_rule(self, carry: DiseaseStatus) -> str:
        return {"relapse": "RESPONSE.RELAPSE.PERSISTING", "refractory": "RESPONSE.REFRACTORY.PERSISTING"}.get(
            carry, "RESPONSE.ON_TREATMENT"
        )

    def _base_missing(self) -> list[str]:
        return [] if self.first_tx is not None else ["treatment records (phase and start date)"]

    def _without_marrow_grade(
        self, cand: _Candidate, reading: MarrowReading | None, evidence: list[EvidenceRef]
    ) -> _Verdict:
        """MRD-only or extramedullary-only points, or a marrow without blasts: status carries on."""
        course, carry = self.course, self._carry()
        rule, missing = self._carry_rule(carry), self._base_missing()
        if reading is not None:
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE, "marrow without a blast percentage: status unchanged",
                            evidence, missing + ["marrow blast percentage"], determined=False)
        why = "no marrow at this point: status unchanged"
        # An MRD sample named as another assessment (end of consolidation ...) is not called an
        # end-of-induction MRD because of its day; a marrow with blasts at that day still is (below).
        named_other = all(names_another_timepoint(m.finding.timepoint) for m in cand.mrds)
        if cand.mrds and course.state in ("pending", "relapsed") and not course.eoi_done and not named_other \
                and self._is_eoi(cand, None)[0]:
            why = "end-of-induction MRD without marrow morphology: status unchanged"
            missing = missing + ["end-of-induction marrow morphology"]
        if course.state in ("refractory", "relapsed") and any(m.finding.sample is None for m in cand.mrds):
            why = "MRD of unstated sample below the M1 line (it may be a blood result): status unchanged"
            missing = missing + [SAMPLE_NEEDED]
        new_sites = [s for s in cand.sites if s.involved]
        if new_sites:
            why = "extramedullary disease documented: " + ", ".join(s.summary for s in new_sites)
        return _Verdict(carry, rule, NCCN_ELN_RESPONSE, why, evidence, missing)

    def _disease_in_marrow(
        self, cand: _Candidate, marrow: _MarrowState, eoi: bool, eoi_why: str, evidence: list[EvidenceRef]
    ) -> _Verdict:
        """Marrow blasts >= the M1 line before remission: refractory at end of induction, else slow response."""
        course, carry, missing = self.course, self._carry(), self._base_missing()
        rule = self._carry_rule(carry)
        if eoi:
            slow = self._slow_early_response(cand, marrow, eoi_why, evidence)
            if slow is not None:
                return slow
            word = "refractory relapse" if course.state == "relapsed" else "induction failure"
            why = f"{word}: {marrow.text} ({self._line_text(marrow)}) at end of induction ({eoi_why})"
            if course.state == "pending" and marrow.grade == "M2":
                why += f"; {self._population_text(marrow)}"
            self._enter("refractory")
            source = f"{NCCN_ELN_RESPONSE}; {MRD_REMISSION}" if marrow.by_mrd_line else NCCN_ELN_RESPONSE
            return _Verdict("refractory", "RESPONSE.REFRACTORY", source, why, evidence, missing)
        if course.state == "refractory":
            return _Verdict("refractory", rule, NCCN_ELN_RESPONSE, f"still no remission: {marrow.text}",
                            evidence, missing)
        if self.first_tx is None and course.state == "pending":
            return _Verdict(carry, "RESPONSE.NEWLY_DIAGNOSED", NCCN_ELN_RESPONSE,
                            f"{marrow.text} with no treatment recorded", evidence, missing)
        if course.state == "relapsed":
            return _Verdict("relapse", rule, PONTE_DI_LEGNO,
                            f"relapse persisting: {marrow.text} ({self._day_text(cand.date)})", evidence, missing)
        return _Verdict(carry, rule, NCCN_ELN_RESPONSE,
                        f"slow early response: {marrow.text}, {self._day_text(cand.date)} "
                        "(an interim marrow is not an end-of-induction assessment)", evidence, missing)

    def _line_text(self, marrow: _MarrowState) -> str:
        """The line a marrow not in remission crossed: the M1 line, or the MRD line of remission."""
        if marrow.by_mrd_line:
            return (f">= {self.rules.cr_mrd_below * 100:g}% by MRD (cr_mrd_below): no complete remission where MRD is "
                    "measured, leukaemic cells found by MRD counting as blasts found by morphology "
                    "(docs/decisions.md#remission-mrd-line)")
        return f">= {self.rules.m1_below_pct:g}%"

    def _population_text(self, marrow: _MarrowState) -> str:
        age = self.view.age_at_diagnosis
        scheme = self.rules.eoi_m2_slow_response
        what = (f"a marrow MRD >= {self.rules.cr_mrd_below * 100:g}%" if marrow.by_mrd_line else "an M2 marrow")
        if scheme == "none":
            return f"rule set: {what} at end of induction is induction failure at every age (NCCN/ELN)"
        shown = "unknown" if age is None else f"{age:.2f} y"
        return (f"NCCN/ELN adult rule applied (age {shown}, paediatric below {self.rules.paediatric_age_below:g} y: "
                f"{what} at end of induction is induction failure)")

    def _slow_early_response(
        self, cand: _Candidate, marrow: _MarrowState, eoi_why: str, evidence: list[EvidenceRef]
    ) -> _Verdict | None:
        """COG: an M2 marrow at the end of first-line induction in a child is a slow early response, not failure.

        Induction is extended and the marrow repeated at the end of extended
        induction (about day 43); only then does an M2 or M3 marrow mean induction
        failure. Adults keep the NCCN/ELN definition (M2 at end of induction is
        refractory). Which population gets the COG reading is the rule-set
        parameter ``eoi_m2_slow_response`` (paediatric, all, none).
        """
        course, rules = self.course, self.rules
        if course.state != "pending" or marrow.grade != "M2" or course.slow_response is not None:
            return None
        scheme = rules.eoi_m2_slow_response
        if scheme == "none":
            return None
        age = self.view.age_at_diagnosis
        grade = (f"MRD >= {rules.cr_mrd_below * 100:g}%: no complete remission where MRD is measured"
                 if marrow.by_mrd_line else f"M2, {rules.m1_below_pct:g}-<{rules.m3_from_pct:g}%")
        source = f"{COG_RESPONSE}; {MRD_REMISSION}" if marrow.by_mrd_line else COG_RESPONSE
        if scheme == "paediatric" and age is None:
            return _Verdict(
                "indeterminate", "RESPONSE.SLOW_EARLY_RESPONSE", f"{source}; {NCCN_ELN_RESPONSE}",
                f"{marrow.text} ({grade}) at end of induction ({eoi_why}): a slow early response in a child (COG) "
                "but induction failure in an adult (NCCN/ELN); the age decides", evidence,
                ["age at diagnosis (birth date or age)"], determined=False,
            )
        if scheme == "paediatric" and age is not None and age >= rules.paediatric_age_below:
            return None
        course.slow_response = cand.date
        who = "all ages (rule set)" if scheme == "all" else f"age {age:.2f} y < {rules.paediatric_age_below:g} y"
        if marrow.by_mrd_line:
            then = (f"COG paediatric rule applied ({who}): remission may still come at the next protocol time point "
                    f"(a late CR); a marrow MRD >= {rules.cr_mrd_below * 100:g}% or blasts >= "
                    f"{rules.m1_below_pct:g}% then is treatment failure (docs/decisions.md#remission-mrd-line)")
            need = "marrow with MRD at the next protocol time point (COG: end of consolidation)"
        else:
            then = (f"COG paediatric rule applied ({who}): induction is extended and the marrow repeated; M2 or M3 "
                    "then is induction failure")
            need = "marrow at the end of extended induction (about day 43)"
        return _Verdict(
            self._carry(), "RESPONSE.SLOW_EARLY_RESPONSE", source,
            f"slow early response: {marrow.text} ({grade}) at end of induction ({eoi_why}); {then}", evidence, [need],
        )

    def _clear_marrow(
        self, cand: _Candidate, marrow: _MarrowState, eoi: bool, mrds: list[MrdResult], evidence: list[EvidenceRef]
    ) -> _Verdict:
        """An M1 marrow before remission: CR or CRi when the rest of the criteria hold."""
        course, carry, missing = self.course, self._carry(), self._base_missing()
        rule = self._carry_rule(carry)
        rules, shown = self.rules, marrow.text
        judged = eoi or course.state == "refractory" or course.eoi_done  # the point where remission is judged
        if marrow.aplastic:
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE, "aplastic marrow: the blast percentage cannot show remission",
                            evidence, missing + ["repeat marrow after count recovery"], determined=False)
        recent, stale, unresolved = self._extramedullary_state(cand.date)
        undecided = self._undecided_sites(cand.date)
        if recent:
            sites = ", ".join(f"{s.summary} on {s.date}" for s in recent)
            evidence = evidence + [s.ref() for s in recent if s.ref() not in evidence]
            if eoi:
                word = "refractory relapse" if course.state == "relapsed" else "induction failure"
                self._enter("refractory")
                return _Verdict("refractory", "RESPONSE.REFRACTORY", NCCN_ELN_RESPONSE,
                                f"{word}: persistent extramedullary disease at end of induction ({sites}) "
                                f"despite {shown}", evidence, missing)
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE,
                            f"{shown} but extramedullary disease persists ({sites})", evidence, missing)
        if undecided and judged:
            evidence = evidence + [s.ref() for s in undecided if s.ref() not in evidence]
            return _Verdict("indeterminate", "RESPONSE.INDETERMINATE", NCCN_ELN_RESPONSE,
                            f"{shown}, but extramedullary disease cannot be excluded: "
                            + "; ".join(s.summary for s in undecided), evidence,
                            missing + [m for s in undecided for m in s.missing], determined=False)
        if stale:
            evidence = evidence + [s.ref() for s in stale if s.ref() not in evidence]
            need = [f"re-assessment of {s.site} disease last documented on {s.date}" for s in stale]
            sites = ", ".join(f"{s.summary} on {s.date}" for s in stale)
            if judged:
                return _Verdict("indeterminate", "RESPONSE.CR", NCCN_ELN_RESPONSE,
                                f"{shown}, but extramedullary disease during treatment ({sites}) "
                                "has no later assessment: remission cannot be confirmed", evidence, missing + need,
                                determined=False)
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE,
                            f"{shown}; extramedullary disease during treatment ({sites}) not re-assessed",
                            evidence, missing + need)
        if judged:
            open_line = self._mrd_line_undecided(shown, self._remission_line(mrds), evidence, missing)
            if open_line is not None:
                return open_line
        check = check_recovery(self.view, cand.date)
        evidence = evidence + [e for e in check.evidence if e not in evidence]
        if check.outcome == "circulating_blasts":
            marrow_side = f"{shown} (< {rules.m1_below_pct:g}%) on {cand.date}"
            return _Verdict("indeterminate", "RESPONSE.INDETERMINATE", NCCN_ELN_RESPONSE,
                            "findings contradict each other: " + "; ".join([marrow_side, *check.conflicts]),
                            evidence, ["a repeat marrow and blood count that resolve the contradiction"],
                            [marrow_side, *check.conflicts], determined=False)
        ordinal = _ordinal(course.remissions + 1)
        late = ""
        if course.state == "refractory":
            late = " after induction failure (late response / remission after salvage)"
        if check.outcome == "cr" and not judged and self._course_start(cand.date) is not None:
            # Remission is judged no earlier than the end of induction (Ponte di Legno): a clear interim
            # marrow is an early response, and the day is known.
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE,
                            f"{shown}, {self._day_text(cand.date)}, counts recovered: an early response; remission "
                            "is judged at end of induction", evidence, missing + check.missing)
        if check.outcome == "cr":
            status: DiseaseStatus = "complete_remission"
            rule, why = "RESPONSE.CR", (
                f"{ordinal} complete remission{late}: {shown} (< {rules.m1_below_pct:g}%), no circulating "
                f"blasts, ANC >= {rules.cr_anc_min:g} and platelets >= {rules.cr_platelets_min:g} x10^9/L, "
                "no extramedullary disease"
            )
        elif check.outcome == "cri" and judged:
            status, rule = "cr_incomplete_recovery", "RESPONSE.CRI"
            why = (f"{ordinal} complete remission with incomplete count recovery{late}: {shown} "
                   f"but {', '.join(check.failing)}")
        elif check.outcome == "cri":
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE,
                            f"{shown}, {self._day_text(cand.date)}; counts not yet recovered "
                            f"({', '.join(check.failing)}): remission is judged at end of induction",
                            evidence, missing + check.missing)
        elif judged:
            return _Verdict("indeterminate", "RESPONSE.CR", NCCN_ELN_RESPONSE,
                            f"{shown} but CR and CRi cannot be told apart without a decisive blood count",
                            evidence, missing + check.missing, determined=False)
        else:
            return _Verdict(carry, rule, NCCN_ELN_RESPONSE,
                            f"{shown}, {self._day_text(cand.date)}; no blood count to judge remission",
                            evidence, missing + check.missing)
        self._enter_remission(status, mrds)
        follow_up = [f"follow-up of {s.site} disease documented on {s.date} (no later finding shows it cleared)"
                     for s in unresolved]
        return _Verdict(status, rule, NCCN_ELN_RESPONSE, why, evidence, missing + check.missing + follow_up)

    def _mrd_line_undecided(
        self, shown: str, line: _RemissionLine, evidence: list[EvidenceRef], missing: list[str]
    ) -> _Verdict | None:
        """An M1 marrow whose MRD cannot say on which side of the remission line the marrow lies."""
        pct = f"{self.rules.cr_mrd_below * 100:g}%"
        why = ""
        conflicts: list[str] = []
        need = f"a marrow MRD as a value against the {pct} line of remission"
        if line.over:  # with results of the same marrow below the line or across it: one day's results carry no order
            conflicts = line.over + line.under + line.undecided
            why = f"the MRD results of this marrow fall on both sides of the {pct} line of remission: " + "; ".join(conflicts)
            need = f"which MRD result of this marrow is valid (the protocol's method) against the {pct} line"
        elif line.undecided:
            why = f"{'; '.join(line.undecided)} is reported as a bound across the {pct} line of remission"
        elif line.blood_over and not line.under:
            why = (f"{'; '.join(line.blood_over)}: circulating leukaemic cells at or above the {pct} line of "
                   "remission, and no marrow MRD")
            need = f"the marrow MRD of this assessment (a marrow >= {pct} is no remission)"
        elif line.blood_over:
            conflicts = line.blood_over + line.under
            why = (f"{'; '.join(line.blood_over)} at or above the {pct} line of remission but "
                   f"{'; '.join(line.under)} below it (blood usually runs lower than marrow)")
            need = "a repeat marrow and blood MRD that resolve the contradiction"
        if not why:
            return None
        return _Verdict("indeterminate", "RESPONSE.INDETERMINATE", f"{NCCN_ELN_RESPONSE}; {MRD_REMISSION}",
                        f"{shown} but remission cannot be judged: {why} (docs/decisions.md#remission-mrd-line)",
                        evidence, missing + [need], conflicts, determined=False)

    # In remission ------------------------------------------------------------------------
    def _tests(self, reading: MarrowReading | None, mrds: list[MrdResult]) -> list[_Test]:
        """Each independent test of marrow involvement at a point (one per method), as a fraction of cells."""
        tests: dict[str, _Test] = {}

        def keep(test: _Test) -> None:
            known = tests.get(test.method)
            if known is None or test.at_least(known.value) is True:
                tests[test.method] = test

        for item in (reading.items if reading else []):
            q = item.finding.blasts_pct
            if q is not None:
                method = item.finding.method or "morphology"
                shown = f"marrow blasts {blasts_text(q)}" + ("" if method == "morphology" else f" ({method})")
                keep(_Test(method, q.value / 100, q.comparator, shown))
        for m in mrds:
            bound = interval(m)
            if m.sample in MARROW_SAMPLES and bound is not None:
                mrd_method = m.method or "MRD"
                keep(_Test(mrd_method, bound[0], bound[1], f"marrow MRD {value_text(m)} ({mrd_method})"))
        return list(tests.values())

    def _in_remission(
        self, cand: _Candidate, reading: MarrowReading | None, mrds: list[MrdResult], evidence: list[EvidenceRef]
    ) -> _Verdict:
        course, rules = self.course, self.rules
        new_sites = [s for s in cand.sites if s.involved]
        possible = [s for s in cand.sites if s.possible and not s.involved]
        tests = self._tests(reading, mrds)
        m1, m3, confirm = rules.m1_below_pct / 100, rules.relapse_marrow_pct / 100, rules.relapse_confirm_mrd
        overt = [t for t in tests if t.at_least(m3)]
        mid = [t for t in tests if t.at_least(m1)]
        # A test confirms another when it is of another method and shows >= 1% leukaemic cells;
        # morphology below the M1 line cannot tell leukaemic blasts from regenerating precursors.
        confirming = [t for t in tests if t.at_least(confirm) and (t.method != "morphology" or t in mid)]
        involved = max(mid, key=lambda t: t.value, default=None)
        # Blood runs lower than marrow: >= 1% leukaemic cells in blood says the marrow has at least as many.
        blood_mrd = [m for m in mrds if m.sample == "blood" and level_at_least(m, confirm)]

        if overt:
            also = f"; with extramedullary disease ({', '.join(s.summary for s in new_sites)})" if new_sites else ""
            self._enter_relapse(cand.date)
            return _Verdict("relapse", "RESPONSE.RELAPSE.MARROW", PONTE_DI_LEGNO,
                            f"marrow relapse: {overt[0].text} (>= {rules.relapse_marrow_pct:g}%) after remission{also}",
                            evidence)
        if new_sites:
            sites = ", ".join(s.summary for s in new_sites)
            marrow = f"; {involved.text}" if involved else (f"; {tests[0].text}" if tests else "")
            if involved is not None:
                combined = "combined "
            elif tests and all(t.at_least(m1) is False for t in tests):
                combined = "isolated "
            else:  # the site of the relapse is the course's conclusion, which asks for the marrow
                combined, marrow = "", (f"{marrow}; the marrow of this day does not tell isolated from combined: "
                                         "the relapse site is read on the relapse's work-up")
            self._enter_relapse(cand.date)
            return _Verdict("relapse", "RESPONSE.RELAPSE.EXTRAMEDULLARY", PONTE_DI_LEGNO,
                            f"{combined}extramedullary relapse: new {sites} after remission{marrow}", evidence)
        if involved is not None:
            others = [t for t in confirming if t.method != involved.method]
            if others:
                self._enter_relapse(cand.date)
                return _Verdict("relapse", "RESPONSE.RELAPSE.MARROW", PONTE_DI_LEGNO,
                                f"marrow relapse: {involved.text} confirmed by {others[0].text} "
                                f"(>= {confirm * 100:g}%)", evidence)
            if course.state == "suspected":
                first = course.suspected_since
                self._enter_relapse(cand.date)
                return _Verdict("relapse", "RESPONSE.RELAPSE.MARROW", PONTE_DI_LEGNO,
                                f"marrow relapse: second marrow with {involved.text} (>= {rules.m1_below_pct:g}%) "
                                f"confirms the suspected relapse of {first}", evidence)
            self._enter_suspected(cand.date)
            return _Verdict("suspected_relapse", "RESPONSE.SUSPECTED_RELAPSE", PONTE_DI_LEGNO,
                            f"suspected relapse: {involved.text} "
                            f"({rules.m1_below_pct:g}-<{rules.relapse_marrow_pct:g}% leukaemic cells) "
                            "after remission, not yet confirmed", evidence,
                            [f"confirmation: a second test (MRD by another method) >= {confirm * 100:g}% "
                             f"or a second marrow with >= {rules.m1_below_pct:g}% leukaemic cells"])
        low = max((t for t in confirming if t.method != "morphology"), key=lambda t: t.value, default=None)
        if low is not None:
            others = [t for t in confirming if t.method not in (low.method, "morphology")]
            if len(others) >= 2:
                self._enter_relapse(cand.date)
                return _Verdict("relapse", "RESPONSE.RELAPSE.MARROW", PONTE_DI_LEGNO,
                                f"marrow relapse: {low.text} ({confirm * 100:g}-<{rules.m1_below_pct:g}%) confirmed by "
                                f"two other tests ({others[0].text}; {others[1].text})", evidence)
        if course.state == "suspected" and reading is None and confirming:
            first = course.suspected_since
            self._enter_relapse(cand.date)
            return _Verdict("relapse", "RESPONSE.RELAPSE.MARROW", PONTE_DI_LEGNO,
                            f"marrow relapse: {confirming[0].text} confirms the suspected relapse of {first}",
                            evidence)
        if possible:  # a clear marrow does not clear an extramedullary site
            names = ", ".join(dict.fromkeys("CNS" if s.site == "cns" else s.site for s in possible))
            self._enter_suspected(cand.date)
            return _Verdict("suspected_relapse", "RESPONSE.SUSPECTED_RELAPSE", PONTE_DI_LEGNO,
                            f"possible {names} relapse: " + ", ".join(s.summary for s in possible), evidence,
                            [m for s in possible for m in s.missing], determined=False)
        if reading is not None and reading.grade == "M1":
            return self._remission_marrow(cand, reading, evidence)
        if (cand.blood or blood_mrd) and reading is None:
            values = [_blast_pct(b) for b in cand.blood] + [value_text(m) for m in blood_mrd]
            self._enter_suspected(cand.date)
            return _Verdict("suspected_relapse", "RESPONSE.SUSPECTED_RELAPSE", PONTE_DI_LEGNO,
                            f"circulating leukaemic cells ({', '.join(values)}) after remission", evidence,
                            ["bone marrow examination"])
        carry = self._carry()
        missing = ["marrow blast percentage"] if reading is not None else []
        rule = "RESPONSE.SUSPECTED_RELAPSE" if carry == "suspected_relapse" else "RESPONSE.CONTINUING_REMISSION"
        return _Verdict(carry, rule, NCCN_ELN_RESPONSE, "no morphological change: status unchanged", evidence, missing,
                        determined=not missing)

    def _remission_marrow(self, cand: _Candidate, reading: MarrowReading, evidence: list[EvidenceRef]) -> _Verdict:
        """An M1 marrow in remission: remission continues (CRi becomes CR once counts recover)."""
        course = self.course
        blasts = reading.blasts_pct
        was_suspected = course.state == "suspected"
        previous = course.remission_status or "complete_remission"
        if reading.aplastic:
            return _Verdict(self._carry(), "RESPONSE.CONTINUING_REMISSION", NCCN_ELN_RESPONSE,
                            "aplastic marrow: the blast percentage cannot show remission", evidence,
                            ["repeat marrow after count recovery"], determined=False)
        check = check_recovery(self.view, cand.date)
        evidence = evidence + [e for e in check.evidence if e not in evidence]
        if check.outcome == "circulating_blasts":
            return _Verdict("indeterminate", "RESPONSE.INDETERMINATE", NCCN_ELN_RESPONSE,
                            "findings contradict each other: " + "; ".join([f"marrow blasts {blasts:g}%", *check.conflicts]),
                            evidence, ["a repeat marrow and blood count that resolve the contradiction"],
                            [f"marrow blasts {blasts:g}% on {cand.date}", *check.conflicts], determined=False)
        status = "complete_remission" if check.outcome == "cr" else previous
        course.state, course.remission_status, course.suspected_since = "remission", status, None
        why = f"remission continues: marrow blasts {blasts:g}%"
        if was_suspected:
            why = f"suspected relapse not confirmed: marrow blasts {blasts:g}%"
        if check.outcome == "cri":
            why += f" (counts low: {', '.join(check.failing)})"
        rule = "RESPONSE.CR" if status == "complete_remission" else "RESPONSE.CRI"
        return _Verdict(status, rule, NCCN_ELN_RESPONSE, why, evidence, check.missing if check.outcome == "cr" else [])

    # Transitions --------------------------------------------------------------------------
    def _enter(self, state: str) -> None:
        self.course.state = state
        if state == "refractory":
            self.course.eoi_done = True

    def _enter_remission(self, status: DiseaseStatus, mrds: list[MrdResult]) -> None:
        course = self.course
        course.state, course.remission_status = "remission", status
        course.remissions += 1
        course.eoi_done, course.suspected_since, course.slow_response = True, None, None
        course.last_mrd = _latest_by_sample(mrds)

    def _enter_suspected(self, when: dt.date) -> None:
        self.course.state = "suspected"
        if self.course.suspected_since is None:
            self.course.suspected_since = when

    def _enter_relapse(self, when: dt.date) -> None:
        course = self.course
        course.relapse_onset = course.suspected_since or when
        course.state, course.remission_status = "relapsed", None
        course.eoi_done, course.suspected_since, course.last_mrd, course.slow_response = False, None, {}, None

    # Helpers --------------------------------------------------------------------------------
    def _mrd_notes(self, cand: _Candidate, mrds: list[MrdResult]) -> list[str]:
        """MRD below the relapse tiers does not change morphological status: report it, and a molecular relapse.

        Molecular relapse (docs/decisions.md#molecular-relapse): in remission, an MRD at
        or above the positivity line after a negative one (recurrence), or an MRD
        rising by ``mrd_rise_factor`` over the previous positive one (rising).
        """
        course, rules = self.course, self.rules
        notes: list[str] = []
        if course.state not in ("remission", "suspected"):
            return notes
        before = dict(course.last_mrd)  # one day's results are each compared with the days before, never each other
        for result in sorted(mrds, key=lambda m: m.index):
            if result.status == "not_evaluable":
                continue
            previous = _comparable(before, result)
            if result.status == "positive":
                kind = None
                if previous is not None and previous.status == "negative":
                    kind = "recurrence"
                    notes.append(f"molecular relapse: MRD {value_text(result)} after a negative result")
                elif (previous is not None and previous.status == "positive" and previous.comparator is None
                      and previous.value and level_at_least(result, previous.value * rules.mrd_rise_factor)):
                    kind = "rising"
                    notes.append(f"molecular relapse: MRD rising from {value_text(previous)} to {value_text(result)} "
                                 f"(at least {rules.mrd_rise_factor:g}-fold)")
                else:
                    notes.append(f"MRD positive in remission ({value_text(result)})")
                if kind is not None:
                    evidence = [m.ref(describe(r)) for r in (previous, result) if r is not None for m in self.view.of_type("mrd")
                                if m.index == r.index]
                    course.molecular.append(MolecularEvent(cand.date, result, kind, previous, evidence))
        course.last_mrd = before | _latest_by_sample(mrds)
        return notes

    def _extramedullary_state(self, when: dt.date) -> tuple[list[SiteFinding], list[SiteFinding], list[SiteFinding]]:
        """Sites whose latest decisive finding around a response marrow shows disease.

        recent: documented during treatment within the window of the marrow (that assessment's status);
        stale: documented during treatment but longer ago (it may have cleared since: unknown);
        unresolved: documented only at diagnosis and never re-assessed (expected to clear; named missing).
        """
        window = dt.timedelta(days=self.rules.cr_extramedullary_window_days)
        latest = [s for s in latest_by_site(self.sites, when + window).values() if s.involved]
        recent = [s for s in latest if not self.pretreatment(s.date) and abs(s.date - when) <= window]
        stale = [s for s in latest if not self.pretreatment(s.date) and abs(s.date - when) > window]
        unresolved = [s for s in latest if self.pretreatment(s.date)]
        return recent, stale, unresolved

    def _undecided_sites(self, when: dt.date) -> list[SiteFinding]:
        """Undecidable site findings during treatment within the window of a marrow and not outdated by a
        later decisive finding of their site (a bloody tap with blasts, same-day findings that disagree)."""
        window = dt.timedelta(days=self.rules.cr_extramedullary_window_days)
        latest = latest_by_site(self.sites, when + window)
        return [s for s in self.sites if s.possible and s.involved is None and not self.pretreatment(s.date)
                and abs(s.date - when) <= window and (s.site not in latest or latest[s.site].date < s.date)]

    def _evidence(self, cand: _Candidate, reading: MarrowReading | None, mrds: list[MrdResult]) -> list[EvidenceRef]:
        """What a point cites; ``mrds`` are its MRD results (``cand.mrds`` read once by the walk)."""
        evidence = list(reading.evidence) if reading else []
        evidence += [m.ref(describe(result)) for m, result in zip(cand.mrds, mrds, strict=True)]
        evidence += [s.ref() for s in cand.sites]
        evidence += [b.ref(f"peripheral blasts {_blast_pct(b)}") for b in cand.blood]
        if not evidence and cand.diagnosis:
            same_day = [x for x in self.view.findings if x.date == cand.date]
            work_up = same_day or [
                x for x in self.view.findings
                if self.pretreatment(x.date) and x.finding.type in ("marrow", "cbc", "immunophenotype")
            ][:3]
            evidence += [x.ref(f"{x.finding.type} at diagnosis") for x in work_up]
        return evidence


def _latest_by_sample(mrds: list[MrdResult]) -> dict[str | None, MrdResult]:
    """The evaluable MRD of one day for each sample; of results of one sample that day, the highest (a positive
    one outweighs a negative one whatever their order)."""
    out: dict[str | None, MrdResult] = {}
    for m in mrds:
        if m.status == "not_evaluable":
            continue
        known = out.get(m.sample)
        if known is None or (m.status == "positive", m.value or 0.0) > (known.status == "positive", known.value or 0.0):
            out[m.sample] = m
    return out


def _comparable(last: dict[str | None, MrdResult], result: MrdResult) -> MrdResult | None:
    """The previous MRD ``result`` is compared with (docs/decisions.md#molecular-relapse): the latest of its own
    sample; for a positive blood or unstated-sample result, a later negative marrow (blood runs lower than marrow,
    so leukaemic cells in blood after a negative marrow are a recurrence, but a negative blood never showed a
    negative marrow)."""
    same = last.get(result.sample)
    marrow = last.get("marrow")
    if (result.status == "positive" and result.sample != "marrow" and marrow is not None
            and marrow.status == "negative" and (same is None or (marrow.date, marrow.index) > (same.date, same.index))):
        return marrow
    return same


def _blast_pct(item: Indexed[Cbc]) -> str:
    """'12%': a candidate's blood counts are the ones with blasts (see ``_candidates``)."""
    q = item.finding.blasts_pct
    return "blasts not reported" if q is None else f"{q.value:g}%"


def _shown(mrds: list[MrdResult]) -> MrdResult | None:
    """The MRD reported at a point: the highest value (the one that matters for relapse)."""
    valued = [m for m in mrds if m.value is not None]
    if valued:
        return max(valued, key=lambda m: m.value or 0.0)  # every one has a value
    return mrds[0] if mrds else None


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _conclusion(verdict: _Verdict) -> Conclusion:
    return Conclusion(
        topic=TOPIC,
        value=verdict.status,
        determined=verdict.determined,
        rule=verdict.rule,
        source=verdict.source,
        explanation=verdict.explanation,
        evidence=verdict.evidence,
        missing=list(dict.fromkeys(verdict.missing)),
        conflicts=verdict.conflicts,
    )
