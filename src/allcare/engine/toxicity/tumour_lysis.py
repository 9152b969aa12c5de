"""Tumour lysis syndrome by the Cairo-Bishop definition and grading (Br J Haematol 2004;127:3).

Laboratory TLS: at least ``tls_criteria_min`` (2) of uric acid, potassium and
phosphate at or above their lines, or calcium at or below its line, or each
changed by ``tls_change_pct`` (25%) from its baseline (a rise; a fall for
calcium), from ``tls_window_days`` (3) days before to (7) days after the start
of cytoreductive therapy. Phosphate has a children's line (age below
``paediatric_age_below``) and an adults' line. The baseline of an analyte is its
first value in the ``tls_baseline_days`` before therapy started.

Clinical TLS: laboratory TLS with creatinine >= ``tls_creatinine_uln_factor``
(1.5) x the lab's upper limit, or a cardiac arrhythmia, sudden death or seizure
recorded as an adverse event in the window. Its grade is the worst component:
creatinine 1.5 x ULN = 1, > 1.5-3 = 2, > 3-6 = 3, > 6 = 4; an arrhythmia or
seizure takes its recorded CTCAE grade (Cairo-Bishop grades them in CTCAE-like
words); sudden death is 5.

When an analyte was not measured in the window and it could change the answer,
the result is "cannot determine" and names it; values reported as bounds are
read three-valued.
"""

from __future__ import annotations

import datetime as dt

from .. import sources
from ..case import Chemistry, Quantity, Treatment
from ..case.adverse_terms import TERMS, term_label
from ..case.bounds import at_least, at_most
from ..explain import Conclusion, EvidenceRef, conclude, undetermined
from ..monitoring_output import TlsCriterion, TumourLysis
from ..view import CaseView, Indexed
from .chemistry import corrected_calcium

CYTOREDUCTIVE_PHASES = ("prephase", "induction", "salvage")
ANALYTES = ("uric_acid", "potassium", "phosphate", "calcium")
LABELS = {"uric_acid": "uric acid", "potassium": "potassium", "phosphate": "phosphate", "calcium": "calcium"}
UNITS = {"uric_acid": "umol/L", "potassium": "mmol/L", "phosphate": "mmol/L", "calcium": "mmol/L"}
CREATININE_GRADES = ((4, 6.0), (3, 3.0), (2, 1.5))  # grade when creatinine > multiple x ULN; 1 at 1.5 x ULN


def therapy_starts(view: CaseView) -> list[Indexed[Treatment]]:
    """Starts of cytoreductive therapy, each at least a window apart (a prephase and its induction are one start)."""
    blocks = sorted((x for x in view.of_type("treatment") if x.finding.phase in CYTOREDUCTIVE_PHASES),
                    key=lambda x: (x.finding.start, x.index))
    kept: list[Indexed[Treatment]] = []
    for block in blocks:
        if not kept or (block.finding.start - kept[-1].finding.start).days > view.rules.tls_window_days[1]:
            kept.append(block)
    return kept


def _value(chem: Chemistry, name: str) -> Quantity | None:
    """The analyte of one chemistry finding; calcium corrected for albumin when it can be."""
    if name == "calcium":
        return corrected_calcium(chem) or chem.calcium
    q: Quantity | None = getattr(chem, name)
    return q


def _line(view: CaseView, name: str, when: dt.date) -> tuple[float | None, str]:
    rules = view.rules
    if name == "uric_acid":
        return rules.tls_uric_acid_min, f">= {rules.tls_uric_acid_min:g} umol/L"
    if name == "potassium":
        return rules.tls_potassium_min, f">= {rules.tls_potassium_min:g} mmol/L"
    if name == "calcium":
        return rules.tls_calcium_max, f"<= {rules.tls_calcium_max:g} mmol/L"
    age = view.age_at(when)
    if age is None:
        return None, f">= {rules.tls_phosphate_child_min:g} (children) or {rules.tls_phosphate_adult_min:g} (adults) mmol/L"
    child = age < rules.paediatric_age_below
    line = rules.tls_phosphate_child_min if child else rules.tls_phosphate_adult_min
    return line, f">= {line:g} mmol/L ({'child' if child else 'adult'})"


def _met(view: CaseView, name: str, q: Quantity, when: dt.date, baseline: float | None) -> tuple[bool | None, str | None]:
    """(criterion met?, how): absolute line first, then the change from baseline."""
    rules = view.rules
    line, _ = _line(view, name, when)
    if line is None:  # phosphate without an age: met only if it passes the adults' lower line and the children's
        absolute = at_least(q.value, q.comparator, rules.tls_phosphate_child_min)
        if absolute is not True and at_least(q.value, q.comparator, rules.tls_phosphate_adult_min) is not False:
            absolute = None
    elif name == "calcium":
        absolute = at_most(q.value, q.comparator, line)
    else:
        absolute = at_least(q.value, q.comparator, line)
    if absolute:
        return True, "absolute"
    if baseline is not None and baseline > 0:
        factor = 1 - rules.tls_change_pct / 100 if name == "calcium" else 1 + rules.tls_change_pct / 100
        change = (at_most if name == "calcium" else at_least)(q.value, q.comparator, round(baseline * factor, 9))
        if change:
            return True, "change"
        if change is None:
            return None, None
    return absolute, None


def assess_tumour_lysis(view: CaseView) -> tuple[list[TumourLysis], list[Conclusion]]:
    """One result per start of cytoreductive therapy with chemistry in its window, and its conclusion.

    A window without any of its analytes gives no result: there is nothing to read, and an old
    induction without recorded electrolytes is not a gap worth listing years later.
    """
    before, after = view.rules.tls_window_days

    def read(block: Indexed[Treatment]) -> bool:
        start = block.finding.start
        window = view.between("chemistry", start - dt.timedelta(days=before), start + dt.timedelta(days=after))
        return any(_value(item.finding, name) is not None for item in window for name in ANALYTES)

    pairs = [_window(view, block) for block in therapy_starts(view) if read(block)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _window(view: CaseView, block: Indexed[Treatment]) -> tuple[TumourLysis, Conclusion]:
    rules = view.rules
    start = block.finding.start
    before, after = rules.tls_window_days
    first, last = start - dt.timedelta(days=before), start + dt.timedelta(days=after)
    chems = view.between("chemistry", first, last)
    baseline_items = view.between("chemistry", start - dt.timedelta(days=rules.tls_baseline_days), start)
    baselines: dict[str, tuple[float, Indexed[Chemistry]]] = {}
    for item in baseline_items:
        for name in ANALYTES:
            q = _value(item.finding, name)
            if q is not None and q.comparator is None and name not in baselines:
                baselines[name] = (q.value, item)
    criteria: list[TlsCriterion] = []
    evidence: list[EvidenceRef] = []
    unsettled: list[str] = []
    measured: set[str] = set()
    for name in ANALYTES:
        hit = None
        for item in chems:
            q = _value(item.finding, name)
            if q is None:
                continue
            measured.add(name)
            base = baselines.get(name)
            is_baseline = base is not None and base[1].index == item.index
            met, how = _met(view, name, q, item.date, None if is_baseline else (base[0] if base else None))
            if met:
                hit = TlsCriterion(analyte=name, date=item.date, value=q.value, unit=UNITS[name], met_by=how,  # type: ignore[arg-type]
                                   baseline=None if how != "change" or base is None else base[0])
                evidence.append(item.ref(f"{LABELS[name]} {q.value:g} {UNITS[name]}"
                                         + (f" ({'fall' if name == 'calcium' else 'rise'} of >= {rules.tls_change_pct:g}% from {base[0]:g})"
                                            if how == "change" and base is not None else "")))
                break
            if met is None:
                unsettled.append(name)
        if hit is not None:
            criteria.append(hit)
    met_names = {c.analyte for c in criteria}
    open_names = [n for n in ANALYTES if n not in met_names and (n not in measured or n in unsettled)]
    if len(met_names) >= rules.tls_criteria_min:
        laboratory: bool | None = True
    elif len(met_names) + len(open_names) >= rules.tls_criteria_min:
        laboratory = None
    else:
        laboratory = False
    clinical, grade, clinical_criteria, clinical_refs, clinical_missing = _clinical(view, first, last)
    if laboratory is not True:
        clinical_flag = False if laboratory is False else None
        grade = None
    else:
        clinical_flag = clinical
    result_refs = evidence + (clinical_refs if laboratory else [])
    conclusion = _conclusion(view, block, first, last, laboratory, clinical_flag, grade, criteria, clinical_criteria,
                             open_names, clinical_missing, result_refs)
    return TumourLysis(
        therapy_start=start, window_start=first, window_end=last, laboratory=laboratory, clinical=clinical_flag,
        grade=grade, criteria=criteria, clinical_criteria=clinical_criteria,
    ), conclusion


def _clinical(view: CaseView, first: dt.date, last: dt.date) -> tuple[bool | None, int | None, list[str], list[EvidenceRef], list[str]]:
    """(clinical criterion met?, grade, criteria, evidence, missing) in the window."""
    rules = view.rules
    criteria: list[str] = []
    refs: list[EvidenceRef] = []
    grades: list[int] = []
    missing: list[str] = []
    creatinines = [x for x in view.between("chemistry", first, last) if x.finding.creatinine is not None]
    settled_no = bool(creatinines)
    if not creatinines:
        missing.append(f"creatinine between {first} and {last}")
    for item in creatinines:
        q = item.finding.creatinine
        assert q is not None  # kept above for having one
        if q.upper_limit is None:
            missing.append(f"the lab's upper limit of normal for creatinine ({item.date})")
            settled_no = False
            continue
        ratio = q.value / q.upper_limit
        met = at_least(q.value, q.comparator, rules.tls_creatinine_uln_factor * q.upper_limit)
        if met:
            grade = next((g for g, m in CREATININE_GRADES if ratio > m), 1)
            grades.append(grade)
            criteria.append(f"creatinine {q.value:g} umol/L = {ratio:.2f} x ULN ({item.date})")
            refs.append(item.ref(f"creatinine {q.value:g} umol/L ({ratio:.2f} x ULN {q.upper_limit:g})"))
        elif met is None:
            settled_no = False
    for item in view.of_type("adverse_event"):
        f = item.finding
        term = TERMS.get(f.term)
        if term is not None and term.category == "tls_clinical" and first <= f.start <= last:
            grades.append(5 if f.term == "sudden_death" else f.grade)
            criteria.append(f"{term_label(f.term)} grade {f.grade} ({f.start})")
            refs.append(item.ref(f"{term_label(f.term)} grade {f.grade}"))
    if criteria:
        return True, max(grades), criteria, refs, missing
    return (False if settled_no else None), None, criteria, refs, missing


def _conclusion(view: CaseView, block: Indexed[Treatment], first: dt.date, last: dt.date, laboratory: bool | None,
                clinical: bool | None, grade: int | None, criteria: list[TlsCriterion], clinical_criteria: list[str],
                open_names: list[str], clinical_missing: list[str], refs: list[EvidenceRef]) -> Conclusion:
    rules = view.rules
    topic = "toxicity.tumour_lysis"
    start = block.finding.start
    lines = "; ".join(f"{LABELS[n]} {_line(view, n, start)[1]}" for n in ANALYTES)
    window = (f"from {first} to {last} around the start of {block.finding.phase} on {start} "
              f"(-{rules.tls_window_days[0]}/+{rules.tls_window_days[1]} days)")
    found = "; ".join(f"{LABELS[c.analyte]} {c.value:g} {c.unit} on {c.date} ({c.met_by})" for c in criteria) or "none"
    block_ref = block.ref(f"{block.finding.phase} started {start}")
    if laboratory is None:
        return undetermined(
            topic, "TOX.TLS.CAIRO_BISHOP", sources.CAIRO_BISHOP,
            [f"{LABELS[n]} between {first} and {last}" for n in open_names],
            f"Laboratory tumour lysis cannot be decided {window}: criteria met: {found}; lines: {lines}, or a "
            f"{rules.tls_change_pct:g}% change from baseline.", [block_ref, *refs], value=None,
        )
    if not laboratory:
        return conclude(topic, "no_laboratory_tls", "TOX.TLS.CAIRO_BISHOP", sources.CAIRO_BISHOP,
                        f"No laboratory tumour lysis {window}: criteria met: {found} (needs {rules.tls_criteria_min}).",
                        [block_ref, *refs])
    if clinical:
        words = (f"Clinical tumour lysis syndrome, Cairo-Bishop grade {grade}, {window}: laboratory criteria "
                 f"{found}; clinical: {'; '.join(clinical_criteria)}.")
        return conclude(topic, "clinical_tls", "TOX.TLS.CLINICAL", sources.CAIRO_BISHOP, words, [block_ref, *refs])
    words = f"Laboratory tumour lysis syndrome {window}: {found}."
    if clinical is None:
        return undetermined(topic, "TOX.TLS.CLINICAL", sources.CAIRO_BISHOP,
                            clinical_missing or [f"creatinine between {first} and {last}"],
                            words + " Whether it is clinical TLS cannot be decided.", [block_ref, *refs],
                            value="laboratory_tls")
    return conclude(topic, "laboratory_tls", "TOX.TLS.CAIRO_BISHOP", sources.CAIRO_BISHOP,
                    words + " No clinical criterion (creatinine >= 1.5 x ULN, arrhythmia, seizure) in the window.",
                    [block_ref, *refs])
