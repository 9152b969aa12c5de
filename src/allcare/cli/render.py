"""Human-readable views of an assessment for the terminal (rich renderables).

The summary is what a clinician reads at a glance (alerts first, then the
diagnosis panel, risk, status); the trail is what they read when they ask why.
"""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..course_labels import episode_details, episode_name
from ..engine.assessment import Assessment, MrdResult
from ..engine.case.bounds import describe
from ..engine.explain import Conclusion
from ..labels import (
    COG_GROUP,
    DISEASE,
    ETP,
    GENETIC_RISK,
    LINEAGE,
    NCI_RISK,
    STAGE,
    UNDETERMINED,
    cns_label,
    label,
    phase_label,
    status_label,
)
from ..labels.plain import age_in_words, age_months

_SEVERITY_STYLE = {"critical": "bold white on red", "warning": "bold black on yellow", "info": "bold white on blue"}



def _mrd_text(mrd: MrdResult | None) -> str:
    if mrd is None:
        return "-"
    value = "no value" if mrd.value is None else f"{mrd.value * 100:.4g}%"
    assay = ", ".join(x for x in (mrd.method, mrd.sample, f"sens {mrd.sensitivity:g}" if mrd.sensitivity else None) if x)
    return f"{mrd.status} ({value}{'; ' + assay if assay else ''})"


def _grid(rows: list[tuple[str, str]]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for key, value in rows:
        grid.add_row(key, Text(value))
    return grid


def header(a: Assessment) -> Text:
    p = a.patient
    age = "age unknown" if p.age_at_diagnosis is None else f"{p.age_at_diagnosis:g} y at diagnosis"
    if p.age_at_diagnosis is not None and p.age_at_diagnosis < 18:  # a child's age as people say it
        age = f"{p.age_at_diagnosis:g} y ({age_in_words(age_months(p.age_at_diagnosis))}) at diagnosis"
    text = Text()
    text.append(f"allcare assessment  patient {p.id}", style="bold")
    text.append(f"  {p.sex}, {age}, as of {a.as_of}  (rules {a.rules_version})\n")
    text.append(a.disclaimer, style="italic dim")
    return text


def alerts(a: Assessment) -> Group | Text:
    if not a.alerts:
        return Text("No alerts.", style="dim")
    lines = []
    for alert in a.alerts:
        line = Text()
        line.append(f" {alert.severity.upper()} ", style=_SEVERITY_STYLE[alert.severity])
        line.append(f" {alert.message}")
        line.append(f"  [{alert.rule}]", style="dim")
        lines.append(line)
    return Group(*lines)


def diagnosis_panel(a: Assessment) -> Panel:
    d, c = a.diagnosis, a.codes
    g = d.genetics
    stage = d.b_stage or d.t_stage
    rows = [
        ("Disease", label(DISEASE, d.disease, UNDETERMINED)),
        ("Lineage", label(LINEAGE, d.lineage, UNDETERMINED) + (f" ({label(STAGE, stage)})" if stage else "")),
    ]
    if d.etp is not None or (d.lineage or "").startswith("T"):
        rows.append(("ETP phenotype", label(ETP, d.etp, UNDETERMINED)))
    rows += [
        ("WHO-HAEM5", d.who_haem5.name or "undetermined: " + "; ".join(d.who_haem5.missing or ["see explain"])),
        ("ICC 2022", (d.icc_2022.name or "undetermined") + (f" - {d.icc_2022.subtype_name}" if d.icc_2022.subtype_name else "")),
        ("ICD-O-3", f"{c.icd_o_3 or '-'}  {c.icd_o_3_term or ''}".strip()),
        ("ICD-O-3 site", f"{c.icd_o_3_topography or '-'}  {c.icd_o_3_topography_term or ''}".strip()),
        ("ICD-10-CM", f"{c.icd_10_cm or '-'}  {c.icd_10_cm_term or ''}".strip()),
        ("SNOMED CT", f"{c.snomed_ct or '-'}  {c.snomed_ct_term or ''}".strip()),
        ("Genetics found", ", ".join(g.detected) or "none reported"),
        ("Tested negative", ", ".join(g.negative) or "-"),
    ]
    if g.not_tested:
        rows.append(("Not tested", ", ".join(g.not_tested)))
    if g.conflicting:
        rows.append(("Contradictory", ", ".join(g.conflicting)))
    if g.modal_number is not None or g.dna_index is not None:
        ploidy = (g.ploidy or "-").replace("_", " ")  # a free category name, not a label set
        rows.append(("Ploidy", f"{ploidy} (modal {g.modal_number if g.modal_number is not None else '-'}, DNA index {g.dna_index if g.dna_index is not None else '-'})"))
    if d.egil is not None:
        rows.append(("EGIL score", f"B {d.egil.b:g} / T {d.egil.t:g} / myeloid {d.egil.myeloid:g}" + (" - biphenotypic" if d.egil.biphenotypic else "")))
    testis = {True: "involved", False: "not involved", None: "not recorded"}[a.cns.testicular]
    rows += [("CNS status", cns_label(a.cns_status)), ("Testis", testis)]
    return Panel(_grid(rows), title="Diagnosis", title_align="left")


def risk_panel(a: Assessment) -> Panel:
    r = a.risk
    rows = [
        ("NCI/Rome", label(NCI_RISK, r.nci, UNDETERMINED)),
        ("NCCN genetic", label(GENETIC_RISK, r.genetic, UNDETERMINED)),
        ("COG-style group", (label(COG_GROUP, r.cog.group, UNDETERMINED) + (f" (column {r.cog.column})" if r.cog.column else "")) + "  - inferred from PDQ Table 1"),
    ]
    if r.adult.applicable:
        rows.append(("Adult factors", ", ".join(r.adult.adverse_factors) or "none found"))
    flags = [name for name, on in (("Down syndrome", r.down_syndrome), ("infant", r.infant)) if on]
    if r.interfant_high_risk:
        flags.append("Interfant-99 high risk")
    if flags:
        rows.append(("Flags", ", ".join(flags)))
    if r.factors:
        rows.append(("Driven by", "; ".join(r.factors)))
    return Panel(_grid(rows), title="Risk", title_align="left")


def status_panel(a: Assessment) -> Panel:
    s = a.status
    current = status_label(s.current) + (f" since {s.since}" if s.since else "")
    rows = [("Current status", current), ("Treatment phase", phase_label(s.current_phase) or "none running"), ("Latest MRD", _mrd_text(a.mrd.latest))]
    table = Table(title="Response over time", title_justify="left", show_lines=False, expand=False)
    for column in ("date", "status", "marrow", "MRD", "phase"):
        table.add_column(column)
    for point in s.timeline:
        marrow = "-" if point.marrow_grade is None else f"{point.marrow_grade} ({point.marrow_blasts_pct:g}%)"
        table.add_row(str(point.date), status_label(point.status), marrow, _mrd_text(point.mrd), phase_label(point.phase) or "-")
    phases = Table(title="Treatment phases", title_justify="left")
    for column in ("phase", "start", "end", "notes"):
        phases.add_column(column)
    for span in s.phases:
        end = str(span.end) if span.end else ("running" if span.running else "-")
        phases.add_row(phase_label(span.phase), str(span.start), end, "; ".join(span.notes) or "-")
    parts = [_grid(rows)]
    if s.timeline:
        parts.append(table)
    if s.phases:
        parts.append(phases)
    return Panel(Group(*parts), title="Status", title_align="left")


def course_panel(a: Assessment) -> Panel | Text:
    course = a.course
    if not course.episodes:
        return Text("No episodes (no diagnosis yet).", style="dim")
    table = Table(title="Episodes", title_justify="left")
    for column in ("episode", "onset", "treatment", "work-up", "details"):
        table.add_column(column)
    for e in course.episodes:
        table.add_row(episode_name(e.kind, e.number), str(e.onset), str(e.treatment_start or "-"),
                      f"{len(e.workup)} findings", "; ".join(episode_details(e)) or "-")
    parts: list[Table | Text] = [table]
    if course.monitoring:
        lines = [f"{m.date}  {m.summary}" for m in course.monitoring]
        parts.append(Text("Response monitoring (not a diagnosis): \n" + "\n".join(lines)))
    return Panel(Group(*parts), title="Course", title_align="left")


def counts_panel(a: Assessment) -> Panel | Text:
    if not a.blood_counts:
        return Text("No blood counts recorded.", style="dim")
    latest = a.blood_counts.rows()[-1]
    table = Table(title=f"Latest blood count ({latest.date})", title_justify="left")
    for column in ("analyte", "value", "range", "CTCAE v5"):
        table.add_column(column)
    for item in latest.results:
        limits = "-" if item.lower_limit is None and item.upper_limit is None else f"{item.lower_limit if item.lower_limit is not None else '?'}-{item.upper_limit if item.upper_limit is not None else '?'}"
        grade = "-" if item.ctcae_term is None else f"{item.ctcae_term}: " + ("grade not decided" if item.grade is None else f"grade {item.grade}")
        table.add_row(item.analyte, describe(item.value, item.comparator, item.unit), limits, grade)
    named = Text("Named: " + (", ".join(latest.named) or "none"))
    parts: list = [table, named]
    if a.blood_counts.notable:
        parts.append(Text(f"{len(a.blood_counts)} counts in the record; notable:", style="bold"))
        parts += [Text(f"- {c.explanation}") for c in a.blood_counts.notable]
    return Panel(Group(*parts), title="Blood counts", title_align="left")


def missing_panel(a: Assessment) -> Panel | Text:
    if not a.missing:
        return Text("Nothing missing for the conclusions above.", style="dim")
    return Panel(Text("\n".join(f"- {m}" for m in a.missing)), title="Missing data", title_align="left")


def monitoring_panel(a: Assessment) -> Panel | Text:
    """Maintenance, thiopurine guidance and toxicity, when the record has any."""
    rows: list[tuple[str, str]] = []
    m = a.maintenance
    if m is not None:
        rows.append(("Maintenance", f"{m.family_label} targets, {m.steering.upper()} {m.target_low:g}-{m.target_high:g}"))
        if m.time_in_target_pct is not None:
            rows.append(("Time in target", f"{m.time_in_target_pct:g}% of {m.weeks_observed:g} weeks"))
        if m.mercaptopurine_di_pct is not None:
            rows.append(("Dose intensity", f"mercaptopurine {m.mercaptopurine_di_pct:g}%"
                         + (f", methotrexate {m.methotrexate_di_pct:g}%" if m.methotrexate_di_pct is not None else "")))
        if m.suggestion is not None:
            rows.append(("Suggestion", f"{m.suggestion.action.replace('_', ' ')} - {m.suggestion.wording}"))
    if a.pharmacogenetics is not None:
        rows.append(("Thiopurines", a.pharmacogenetics.wording))
    t = a.toxicity
    for e in t.febrile_neutropenia[-3:]:
        rows.append(("Fever", f"{e.date}: {e.temperature:g} C, " + (f"ANC {e.anc:g}" if e.anc is not None else "no ANC")
                     + f" ({e.status.replace('_', ' ')})"))
    for r in t.tumour_lysis:
        if r.laboratory is not False:
            rows.append(("Tumour lysis", f"therapy {r.therapy_start}: " + ("undetermined" if r.laboratory is None else
                         "clinical" if r.clinical else "laboratory") + (f", grade {r.grade}" if r.grade else "")))
    for level in t.methotrexate_levels[-2:]:
        rows.append(("Methotrexate", f"{level.value:g} umol/L at {level.hours_after_start:g} h: {level.status.replace('_', ' ')}"))
    for activity in t.asparaginase_activity[-2:]:
        rows.append(("Asparaginase", f"{activity.value:g} IU/mL ({activity.date}): {activity.status.replace('_', ' ')}"))
    if t.anthracyclines is not None:
        total = t.anthracyclines.total_mg_m2
        rows.append(("Anthracyclines", "not known" if total is None else f"{total:g} mg/m2 doxorubicin-equivalent ({t.anthracyclines.band})"))
    for event in t.adverse_events:
        rows.append(("Adverse event", f"{event.label} grade {event.grade} ({event.start})"))
    if not rows:
        return Text()
    return Panel(_grid(rows), title="Treatment monitoring (decision support)", title_align="left")


def summary(a: Assessment) -> Group:
    return Group(header(a), Text(), alerts(a), diagnosis_panel(a), risk_panel(a), status_panel(a), course_panel(a),
                 counts_panel(a), monitoring_panel(a), missing_panel(a))


def conclusion_block(c: Conclusion) -> Text:
    text = Text()
    mark = "✓" if c.determined else "?"
    text.append(f"{mark} {c.topic} = {c.value}\n", style="bold" if c.determined else "bold yellow")
    text.append(f"    rule {c.rule}  |  {c.source}\n", style="dim")
    if c.explanation:
        text.append(f"    {c.explanation}\n")
    for ref in c.evidence:
        text.append(f"    evidence: findings[{ref.index}] {ref.type} {ref.date}: {ref.summary}\n", style="cyan")
    for side in c.conflicts:
        text.append(f"    conflict: {side}\n", style="red")
    for item in c.missing:
        text.append(f"    missing: {item}\n", style="yellow")
    return text


def trail(a: Assessment) -> Group:
    blocks: list[Group | Text] = [header(a), Text()]
    blocks += [conclusion_block(c) for c in a.conclusions()]
    blocks.append(Text("Alerts:", style="bold"))
    blocks.append(alerts(a))
    return Group(*blocks)
