"""The patient report's content, built from the engine's assessment (and the case it came from).

The report says only what the assessment says, in plain words: a conclusion
the engine could not reach is reported as "not decided yet", never guessed,
and alerts meant for the care team are left out (they are for clinicians to act
on, not for a family to read alone). The content is a tree of frozen
dataclasses, so the HTML page and the PDF render exactly the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from ... import DISCLAIMER
from ...engine.assessment import Assessment
from ...engine.case import Case, Cbc
from ...engine.lesion_vocabulary import BCR_ABL1, plain_words
from ...engine.rules import DEFAULT_RULES, RuleSet
from ...labels import number_as_recorded
from ...labels import plain as words
from .care import CareAtHome, care_at_home


@dataclass(frozen=True)
class Line:
    """One result in a test section: a label, the value in words, and what it means."""

    label: str
    value: str
    meaning: str = ""


@dataclass(frozen=True)
class TestSection:
    key: str
    name: str
    how: str
    date: dt.date | None
    lines: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PhaseStep:
    key: str
    name: str
    what: str
    start: dt.date
    end: dt.date | None
    state: str  # done | now

    @property
    def state_words(self) -> str:
        return "Now" if self.state == "now" else "Done"


@dataclass(frozen=True)
class PatientReport:
    patient_name: str
    patient_id: str
    as_of: dt.date
    disclaimer: str
    about: str
    diagnosis_title: str
    diagnosis_text: str
    diagnosis_date: dt.date | None
    kind_texts: list[str]
    subtype_reference: str | None
    risk_intro: str
    risk_lines: list[str]
    cns_text: str | None
    status_title: str
    status_text: str
    status_since: dt.date | None
    current_phase: PhaseStep | None
    progress: str | None
    phases_intro: str
    phases: list[PhaseStep]
    tests: list[TestSection]
    questions: list[str]
    glossary: list[tuple[str, str]]
    engine_version: str
    rules_version: str
    care: CareAtHome | None = None  # maintenance plan and fever advice while treatment runs (report/care.py)
    course_lines: list[str] = field(default_factory=list)  # each relapse (or refractory episode) of the course


# The diseases whose words (lineage, the length of treatment) are those of ALL: ALL and its kin treated like it.
ALL_LIKE = ("ALL", "LBL", "MPAL")


def long_date(day: dt.date | None) -> str:
    """'18 October 2023': no day-month order to misread."""
    return "" if day is None else f"{day.day} {day:%B %Y}"


_number = number_as_recorded  # beside the words "below 50" or "under 5", a value must read as recorded


def build_report(assessment: Assessment, *, case: Case | None = None, patient_name: str | None = None,
                 rules: RuleSet = DEFAULT_RULES) -> PatientReport:
    """The plain-language report of one assessment; ``rules`` is the rule set it was assessed with, whose
    thresholds the plain words name (the server's ``ALLCARE_RULES``)."""
    def fill(text: str) -> str:
        return words.filled(text, rules)

    disease_title, disease_text = words.DISEASE.get(assessment.diagnosis.disease, words.DISEASE["indeterminate"])
    kind = []
    lymphoma = assessment.diagnosis.disease == "LBL"  # the same cells as ALL, never called "ALL" here
    lineage_words = {**words.LINEAGE, **words.LINEAGE_LBL} if lymphoma else words.LINEAGE
    subtype_words = {**words.SUBTYPE, **words.SUBTYPE_LBL} if lymphoma else words.SUBTYPE
    if assessment.diagnosis.lineage in lineage_words and assessment.diagnosis.disease in ALL_LIKE:
        kind.append(lineage_words[assessment.diagnosis.lineage])
    entity = assessment.diagnosis.who_haem5
    if entity.key in subtype_words:
        kind.append(fill(subtype_words[entity.key]))
    elif assessment.diagnosis.disease in ("ALL", "LBL", "MPAL"):
        kind.append("The exact subtype is not decided yet: some tests are still missing or need checking.")
    status_key = assessment.status.current or "indeterminate"
    status_title, status_text = words.STATUS.get(status_key, words.STATUS["indeterminate"])
    low = _low_now(assessment)
    if status_key == "complete_remission" and low:  # never "counts have come back up" beside a low count
        status_title, text = words.STATUS_REMISSION_LOW_COUNTS
        status_text = text.format(low=" and ".join(filter(None, [", ".join(low[:-1]), low[-1]])))
    latest_mrd = assessment.mrd.latest
    if status_key in ("complete_remission", "cr_incomplete_recovery") and latest_mrd is not None \
            and latest_mrd.status == "positive":  # "clear of leukaemia" is never all that is said then
        status_text = " ".join([status_text, words.REMISSION_MRD_POSITIVE.format(date=long_date(latest_mrd.date))])
    # What the engine could not decide is said with what would decide it (never a guess, never silence)
    status_text = " ".join(filter(None, [fill(status_text), still_needed(_undecided(assessment.status.conclusions, "status.current"))]))
    disease_text = " ".join(filter(None, [fill(disease_text), still_needed(_undecided(assessment.diagnosis.conclusions,
                                                                                "diagnosis.disease"))]))
    phases = _phases(assessment, fill)
    current = next((p for p in reversed(phases) if p.state == "now" and p.key != "targeted"), None)
    current = current or next((p for p in reversed(phases) if p.state == "now"), None)
    return PatientReport(
        patient_name=patient_name or assessment.patient.id,
        patient_id=assessment.patient.id,
        as_of=assessment.as_of,
        disclaimer=DISCLAIMER,
        about=words.ABOUT,
        diagnosis_title=disease_title,
        diagnosis_text=disease_text,
        diagnosis_date=assessment.diagnosis_date,
        kind_texts=kind,
        subtype_reference=entity.name,
        risk_intro=words.RISK_INTRO,
        risk_lines=_risk_lines(assessment, case, rules),
        cns_text=_cns_text(assessment),
        status_title=status_title,
        status_text=status_text,
        status_since=assessment.status.since,
        current_phase=current,
        progress=_progress(assessment, phases),
        phases_intro=words.PHASES_INTRO,
        phases=phases,
        tests=_tests(assessment, case, fill),
        questions=questions_for(assessment),
        glossary=list(words.GLOSSARY),
        engine_version=assessment.engine_version,
        rules_version=assessment.rules_version,
        care=care_at_home(assessment, rules),
        course_lines=_course_lines(assessment),
    )


def _course_lines(assessment: Assessment) -> list[str]:
    """Each relapse of the engine's course, with its date and where it came back: told even when the person
    is back in remission, so the status and a clear spinal fluid at diagnosis are never all a family reads."""
    lines = []
    for episode in assessment.course.episodes:
        if episode.kind == "refractory":  # an induction failure with its own work-up: never a "relapse"
            lines.append(words.REFRACTORY_EPISODE.format(date=long_date(episode.onset)))
            continue
        if episode.kind != "relapse":
            continue
        sites = ["the " + words.RELAPSE_SITES.get(site, words.SITES.get(site, words.SITES["other"])) for site in episode.sites]
        where = words.RELAPSE_WHERE.format(sites=" and ".join(filter(None, [", ".join(sites[:-1]), sites[-1]]))) \
            if sites else ""
        lines.append(words.RELAPSE_EPISODE.format(date=long_date(episode.onset), where=where))
    return lines


def _risk_lines(assessment: Assessment, case: Case | None, rules: RuleSet) -> list[str]:
    risk = assessment.risk
    lines = []
    if risk.nci in words.NCI_RISK:
        lines.append(" ".join(filter(None, [words.filled(words.NCI_RISK[risk.nci], rules),
                                            _nci_because(assessment, case, rules)])))
    if risk.genetic in words.GENETIC_RISK:
        lines.append(words.GENETIC_RISK[risk.genetic])
    if risk.adult.applicable and risk.adult.high_risk is not None:
        lines.append("For adults, doctors look at things like age, the first white cell count, gene changes and how "
                     "fast the leukaemia responds. " + ("Some of these point to a higher risk." if risk.adult.high_risk
                                                        else "None of these point to a higher risk so far."))
    # A part of the risk group the engine could not decide is said to be undecided, with what would decide
    # it: never left out, so a family does not read the part that was decided as the whole risk group.
    for conclusion in risk.conclusions:
        if not conclusion.determined and conclusion.topic in words.RISK_UNDECIDED:
            lines.append(" ".join(filter(None, [words.RISK_UNDECIDED[conclusion.topic], still_needed(conclusion.missing)])))
    if not lines:
        lines.append("The risk group is not decided yet: some results are still missing.")
    return lines


def _undecided(conclusions: list[Any], topic: str) -> list[str]:
    """What would decide the conclusion on ``topic``, when the engine could not decide it."""
    conclusion = next((c for c in conclusions if c.topic == topic), None)
    return list(conclusion.missing) if conclusion is not None and not conclusion.determined else []


def still_needed(missing: list[str]) -> str:
    """What would decide an undecided conclusion, in the engine's words (the names the care team uses)."""
    return words.STILL_NEEDED.format(items="; ".join(missing)) if missing else ""


def _nci_because(assessment: Assessment, case: Case | None, rules: RuleSet) -> str | None:
    """Which NCI criterion gave the group, with the patient's own value.

    The lines quoted are those of ``rules``, the rule set the assessment was made with (never the defaults).
    The age is the engine's age at diagnosis; the white count is the blood count the engine's NCI
    conclusion cites as its evidence (its "presenting WBC"), read from the case: never a count chosen here.
    """
    if assessment.risk.nci not in ("standard", "high"):
        return None
    age = assessment.patient.age_at_diagnosis
    conclusion = next((c for c in assessment.risk.conclusions if c.rule == "RISK.NCI"), None)
    wbc = None
    if conclusion is not None and case is not None:
        for ref in conclusion.evidence:
            finding = case.findings[ref.index] if 0 <= ref.index < len(case.findings) else None
            if isinstance(finding, Cbc) and finding.wbc is not None and finding.wbc.comparator is None:
                wbc = finding.wbc.value
    age_words = _age_words(assessment, case)
    if assessment.risk.nci == "high":
        reasons = []
        if age is not None and age >= rules.nci_age_high_from:
            reasons.append(words.NCI_BECAUSE_AGE_HIGH.format(age=age_words, limit=_number(rules.nci_age_high_from)))
        if wbc is not None and wbc >= rules.nci_wbc_high_from:
            reasons.append(words.NCI_BECAUSE_WBC_HIGH.format(wbc=_number(wbc), limit=_number(rules.nci_wbc_high_from)))
        return " ".join(reasons) or None
    if age_words is None or wbc is None:
        return None
    return words.NCI_BECAUSE_STANDARD.format(age=age_words, age_limit=_number(rules.nci_age_high_from),
                                             wbc=_number(wbc), wbc_limit=_number(rules.nci_wbc_high_from))


def _age_words(assessment: Assessment, case: Case | None) -> str | None:
    """The age at diagnosis as a family says it: whole months under 2 years, years and months for a child,
    whole years for an adult; counted down (never rounded up across a birthday, such as the 10-year line).
    Exact from the birth and diagnosis dates when the case has them, else from the engine's age in years."""
    age = assessment.patient.age_at_diagnosis
    if age is None:
        return None
    birth = case.patient.birth_date if case is not None else None
    day = assessment.diagnosis_date
    if birth is not None and day is not None and birth <= day:
        months = (day.year - birth.year) * 12 + day.month - birth.month - (day.day < birth.day)
    else:
        months = words.age_months(age)
    return words.age_in_words(months)


def _progress(assessment: Assessment, phases: list[PhaseStep]) -> str | None:
    """Where the person is in the course: the month since the treatment of the current episode began
    (the engine's course: the diagnosis, or the latest relapse), beside the usual length of front-line
    treatment."""
    episode = assessment.course.episodes[-1] if assessment.course.episodes else None
    start = episode.treatment_start if episode is not None else None
    if start is None and phases and (episode is None or episode.kind == "initial"):
        start = phases[0].start
    if start is None or start > assessment.as_of:
        return None
    if phases and not any(p.state == "now" for p in phases):  # the record shows no treatment going on now
        ends = [p.end for p in phases if p.end is not None]
        if ends:
            what = words.TREATMENT_OF_EPISODE[episode.kind if episode is not None else "initial"]
            return words.PROGRESS_ENDED.format(what=what, start=long_date(start), end=long_date(max(ends)))
    as_of = assessment.as_of
    month = (as_of.year - start.year) * 12 + as_of.month - start.month - (as_of.day < start.day) + 1
    template = words.PROGRESS_BY_EPISODE[episode.kind if episode is not None else "initial"]
    if template is words.PROGRESS and assessment.diagnosis.disease not in ALL_LIKE:  # no ALL treatment length
        template = words.PROGRESS_NOT_ALL
    return template.format(month=month, start=long_date(start))


def _cns_text(assessment: Assessment) -> str | None:
    status = assessment.cns_status
    if status is None:
        needed = _undecided(assessment.cns.conclusions, "cns.status")
        return " ".join([words.CNS_UNDECIDED, still_needed(needed)]) if needed else None
    text = words.CNS.get(status, "")
    if status.startswith(("CNS2", "CNS3")):
        text += " " + words.CNS_AFTER
    text = text.strip()
    if not text:
        return None
    day = assessment.cns.date
    return words.CNS_AT_DIAGNOSIS.format(date=f" ({long_date(day)})" if day else "") + text  # the status is diagnosis's


def _phases(assessment: Assessment, fill: Callable[[str], str]) -> list[PhaseStep]:
    steps = []
    for span in assessment.status.phases:
        name, what = words.PHASE.get(span.phase, words.PHASE["other"])
        steps.append(PhaseStep(span.phase, name, fill(what), span.start, span.end, "now" if span.running else "done"))
    return steps


def _tests(assessment: Assessment, case: Case | None, fill: Callable[[str], str]) -> list[TestSection]:
    findings = list(case.findings) if case is not None else []
    present = {f.type for f in findings if f.date <= assessment.as_of}
    sections = []
    if assessment.blood_counts:
        sections.append(_blood_count(assessment))
    marrows = sorted((f for f in findings if f.type == "marrow" and f.date <= assessment.as_of and f.blasts_pct is not None),
                     key=lambda f: f.date)
    if marrows:
        sections.append(_marrow(marrows, fill))
    if "immunophenotype" in present or assessment.diagnosis.lineage:
        name, how = words.TESTS["immunophenotype"]
        lineage = assessment.diagnosis.lineage
        value = {"B": "B cells", "T": "T cells"}.get(lineage or "", "more than one kind of cell" if lineage else "not decided yet")
        needed = still_needed(_undecided(assessment.diagnosis.conclusions, "diagnosis.lineage")) if not lineage else ""
        sections.append(TestSection("immunophenotype", name, how, None,
                                    [Line("The leukaemia cells came from", value, needed)]))
    genetics = _genetics(assessment, present)
    if genetics is not None:
        sections.append(genetics)
    if assessment.cns_status is not None or "csf" in present:
        name, how = words.TESTS["csf"]
        value = words.CNS_GRADE.get((assessment.cns_status or "")[:4], assessment.cns_status or "not decided yet")
        meaning = words.CNS.get(assessment.cns_status or "", " ".join(filter(None, [
            "The result could not be graded from what was recorded.",
            still_needed(_undecided(assessment.cns.conclusions, "cns.status"))])))
        sections.append(TestSection("csf", name, how, assessment.cns.date, [Line("Result", value, meaning)]))
    if assessment.mrd.series:
        sections.append(_mrd(assessment, fill))
    checks = sorted((f for f in findings if f.type == "extramedullary" and f.date <= assessment.as_of), key=lambda f: f.date)
    if checks:
        name, how = words.TESTS["extramedullary"]
        lines = [Line(f"{words.SITES.get(f.site, f.site).capitalize()} ({long_date(f.date)})",
                      "leukaemia found" if f.present else "no leukaemia found") for f in checks]
        sections.append(TestSection("extramedullary", name, how, checks[-1].date, lines))
    return sections


def _low_now(assessment: Assessment) -> list[str]:
    """The counts whose latest result is below its range, in plain names."""
    latest = _latest_results(assessment)
    return [name for analyte, name in words.LOW_COUNT_NAMES.items()
            if analyte in latest and latest[analyte][1].flag == "low"]


def _latest_results(assessment: Assessment) -> dict[str, tuple[int, Any]]:
    """Each analyte's latest (row, result): a count may have been measured alone."""
    counts = assessment.blood_counts
    return {analyte: results[-1] for analyte in counts.analytes if (results := counts.results(analyte))}


def _blood_count(assessment: Assessment) -> TestSection:
    """The latest value of each count (a count may have been measured alone), with what it means."""
    counts = assessment.blood_counts
    latest_of = _latest_results(assessment)
    name, how = words.TESTS["cbc"]
    newest = counts.dates[-1]
    lines = []
    for analyte in words.ANALYTE:
        if analyte not in latest_of:
            continue
        row, result = latest_of[analyte]
        day = counts.dates[row]
        label, meaning = words.ANALYTE[analyte]
        unit = words.ANALYTE_UNITS.get(analyte, result.unit)
        value = f"{_number(result.value)} {unit}"
        if result.comparator is not None:
            value = f"{words.COMPARATOR_WORDS[result.comparator]} {value}"
        if result.lower_limit is not None and result.upper_limit is not None and analyte != "blasts_pct":
            value += f" (usual range {_number(result.lower_limit)} to {_number(result.upper_limit)})"
        if day != newest:
            value += f", on {long_date(day)}"
        if result.flag:
            meaning += f" This result is {words.FLAG_WORDS[result.flag]}."
        if result.flag == "low" and analyte in words.LOW_MEANS:
            meaning += " " + words.LOW_MEANS[analyte]
        lines.append(Line(label, value, meaning))
    notes = [f"The latest results up to {long_date(newest)}. There are {len(counts)} blood counts in the record."] \
        if len(counts) > 1 else []
    return TestSection("cbc", name, how, newest, lines, notes)


def _marrow(marrows: list, fill: Callable[[str], str]) -> TestSection:
    name, how = words.TESTS["marrow"]
    first, last = marrows[0], marrows[-1]
    lines = [Line(f"Blasts on {long_date(first.date)}", f"{_number(first.blasts_pct.value)} in every 100 cells")]
    if last is not first:
        lines.append(Line(f"Blasts on {long_date(last.date)} (latest)", f"{_number(last.blasts_pct.value)} in every 100 cells"))
    return TestSection("marrow", name, how, last.date, lines, [fill(words.MARROW_MEANS)])


def _genetics(assessment: Assessment, present: AbstractSet[str]) -> TestSection | None:
    genetics = assessment.diagnosis.genetics
    if not (genetics.detected or genetics.negative or genetics.conflicting or genetics.modal_number
            or {"genetics", "cytogenetics"} & present):
        return None
    name, how = words.TESTS["genetics"]
    lines = []
    if genetics.modal_number:
        lines.append(Line("Number of chromosomes in the leukaemia cells", f"{genetics.modal_number} (the usual number is 46)"))
    if genetics.detected:
        lines.append(Line("Changes found", ", ".join(plain_words(k) for k in genetics.detected)))
    if genetics.negative:
        lines.append(Line("Looked for and not found", ", ".join(plain_words(k) for k in genetics.negative)))
    if genetics.conflicting:  # found by one test, not by another: never left out as if not looked at
        label, meaning = words.GENETICS_CONFLICT
        lines.append(Line(label, ", ".join(plain_words(k) for k in genetics.conflicting), meaning))
    if not lines:
        lines.append(Line("Result", "No change that defines a subtype was found in the results recorded."))
    notes = []
    if assessment.risk.genetic in words.GENETIC_RISK:
        notes.append(words.GENETIC_RISK[assessment.risk.genetic])
    return TestSection("genetics", name, how, None, lines, notes)


def _mrd(assessment: Assessment, fill: Callable[[str], str]) -> TestSection:
    name, how = words.TESTS["mrd"]
    how = fill(how)
    lines = []
    for result in assessment.mrd.series:
        if result.value is None:
            value = "no number recorded"
        elif result.value == 0:
            value = "no leukaemia cells found"
        else:
            pct = _number(result.value * 100)
            value = f"{pct}% of cells (about 1 in {round(1 / result.value):,})" if result.value < 0.5 else f"{pct}% of cells"
        lines.append(Line(long_date(result.date), value, fill(words.MRD_STATUS.get(result.status, ""))))
    return TestSection("mrd", name, how, assessment.mrd.latest.date if assessment.mrd.latest else None, lines)


def questions_for(assessment: Assessment) -> list[str]:
    """General questions for every family, then the ones this record raises."""
    extra = []
    detected = set(assessment.diagnosis.genetics.detected)
    codes = {alert.code for alert in assessment.alerts}
    if BCR_ABL1 in detected or "ph_positive" in codes:
        extra.append(words.QUESTION_PH)
    if assessment.mrd.latest is not None and assessment.mrd.latest.status == "positive":
        extra.append(words.QUESTION_MRD_POSITIVE)
    if assessment.status.current in ("relapse", "refractory", "suspected_relapse"):
        extra.append(words.QUESTION_RELAPSE)
    elif assessment.risk.nci == "high" or assessment.risk.genetic == "poor" or assessment.risk.adult.high_risk:
        extra.append(words.QUESTION_HIGH_RISK)
    if (assessment.cns_status or "").startswith(("CNS2", "CNS3")):
        extra.append(words.QUESTION_CNS)
    if assessment.risk.down_syndrome:
        extra.append(words.QUESTION_DOWN)
    if assessment.risk.infant:
        extra.append(words.QUESTION_INFANT)
    if assessment.missing:
        extra.append(words.QUESTION_MISSING)
    kind = words.QUESTION_KIND.get(assessment.diagnosis.disease, words.QUESTION_KIND["indeterminate"])
    return [*extra, kind, *words.QUESTIONS_ALWAYS]
