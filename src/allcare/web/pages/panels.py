"""The patient page's diagnosis panel, built from an assessment.

Each row is one thing the care team reads (disease, lineage, entity, codes,
risk, CNS status, response) with the conclusions that produced it, so the page
can open every value to its rule, source and evidence. Rows are matched to
conclusions by topic prefix, which the engine keeps stable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ...engine.assessment import Assessment
from ...engine.explain import Conclusion
from ...labels import COG_GROUP as COG_LABELS
from ...labels import DISEASE as DISEASE_LABELS
from ...labels import ETP as ETP_LABELS
from ...labels import GENETIC_RISK as GENETIC_LABELS
from ...labels import NCI_RISK as NCI_LABELS
from ...labels import STAGE as STAGE_LABELS
from ...labels import phase_label, status_label
from ..charts import percent_text

UNDECIDED = "Not determined"


@dataclass(frozen=True)
class PanelRow:
    key: str
    label: str
    value: str
    details: list[str] = field(default_factory=list)
    determined: bool = True
    conclusions: list[Conclusion] = field(default_factory=list)


def _matching(conclusions: list[Conclusion], *prefixes: str) -> list[Conclusion]:
    return [c for c in conclusions if c.topic.startswith(prefixes)]


def _missing_text(missing: list[str]) -> str:
    return f"{UNDECIDED}; missing: {', '.join(missing)}" if missing else UNDECIDED


def diagnosis_panel(assessment: Assessment) -> list[PanelRow]:
    """The rows of the diagnosis panel, in reading order."""
    every = assessment.conclusions()
    dx, codes, cns = assessment.diagnosis, assessment.codes, assessment.cns
    rows = [
        PanelRow("disease", "Disease", DISEASE_LABELS.get(dx.disease, dx.disease), determined=dx.disease != "indeterminate",
                 conclusions=_matching(every, "diagnosis.disease", "diagnosis.mature_b")),
        _lineage(assessment, every),
        PanelRow("who_haem5", "WHO-HAEM5", dx.who_haem5.name if dx.who_haem5.determined and dx.who_haem5.name
                 else _missing_text(dx.who_haem5.missing), determined=dx.who_haem5.determined,
                 conclusions=_matching(every, "diagnosis.who_haem5")),
        PanelRow("icc_2022", "ICC 2022", (dx.icc_2022.name or "") + (f" — {dx.icc_2022.subtype_name}" if dx.icc_2022.subtype_name else "")
                 if dx.icc_2022.determined and dx.icc_2022.name else _missing_text(dx.icc_2022.missing),
                 determined=dx.icc_2022.determined, conclusions=_matching(every, "diagnosis.icc_2022")),
        _genetics(assessment, every),
        PanelRow("codes", "Codes", " · ".join(v for v in (
            f"ICD-O-3 {codes.icd_o_3}" if codes.icd_o_3 else "",
            f"site {codes.icd_o_3_topography}" if codes.icd_o_3_topography else "",
            f"ICD-10-CM {codes.icd_10_cm}" if codes.icd_10_cm else "",
            f"SNOMED CT {codes.snomed_ct}" if codes.snomed_ct else "") if v) or UNDECIDED,
            details=[t for t in (
                f"{codes.icd_o_3} {codes.icd_o_3_term}" if codes.icd_o_3 and codes.icd_o_3_term else "",
                f"{codes.icd_o_3_topography} {codes.icd_o_3_topography_term}"
                if codes.icd_o_3_topography and codes.icd_o_3_topography_term else "",
                f"{codes.icd_10_cm} {codes.icd_10_cm_term}" if codes.icd_10_cm and codes.icd_10_cm_term else "",
                f"{codes.snomed_ct} {codes.snomed_ct_term}" if codes.snomed_ct and codes.snomed_ct_term else "") if t],
            determined=bool(codes.icd_o_3 or codes.icd_10_cm), conclusions=_matching(every, "codes.")),
        _risk(assessment, every),
        PanelRow("cns", "CNS status at diagnosis", cns.status or ("possible: " + ", ".join(cns.possible) if cns.possible
                                                       else "No CSF result"),
                 details=[t for t in (
                     "traumatic tap" if cns.traumatic_tap else "",
                     {True: "testicular involvement", False: "testes not involved"}.get(cns.testicular, "")
                     if cns.testicular is not None else "") if t],
                 determined=cns.status is not None, conclusions=_matching(every, "cns.")),
        _response(assessment, every),
    ]
    return rows


def _lineage(assessment: Assessment, every: list[Conclusion]) -> PanelRow:
    dx = assessment.diagnosis
    details = [STAGE_LABELS[s] for s in (dx.b_stage, dx.t_stage) if s in STAGE_LABELS]
    if dx.etp:
        details.append(ETP_LABELS[dx.etp])
    if dx.egil is not None:
        details.append(f"EGIL B {dx.egil.b:g} / T {dx.egil.t:g} / myeloid {dx.egil.myeloid:g}")
    return PanelRow("lineage", "Lineage", dx.lineage or UNDECIDED, details, determined=dx.lineage is not None,
                    conclusions=_matching(every, "diagnosis.lineage", "diagnosis.b_stage", "diagnosis.t_stage",
                                          "diagnosis.etp", "diagnosis.egil"))


def _genetics(assessment: Assessment, every: list[Conclusion]) -> PanelRow:
    g = assessment.diagnosis.genetics
    details = []
    if g.negative:
        details.append("negative: " + ", ".join(g.negative))
    if g.not_tested:
        details.append("not tested: " + ", ".join(g.not_tested))
    if g.conflicting:
        details.append("conflicting: " + ", ".join(g.conflicting))
    if g.modal_number is not None or g.ploidy:
        details.append(f"modal number {g.modal_number if g.modal_number is not None else '?'}"
                       + (f" ({g.ploidy.replace('_', ' ')})" if g.ploidy else ""))
    if g.dna_index is not None:
        details.append(f"DNA index {g.dna_index:g}")
    if g.masked_hypodiploidy_possible:
        details.append("possible masked hypodiploidy")
    if g.complex_karyotype:
        details.append("complex karyotype")
    if g.expression_subtype:
        details.append(f"expression subtype {g.expression_subtype}")
    return PanelRow("genetics", "Genetics", ", ".join(g.detected) if g.detected else "No defining lesion detected",
                    details, determined=not g.conflicting,
                    conclusions=_matching(every, "diagnosis.genetics", "diagnosis.ploidy"))


def _risk(assessment: Assessment, every: list[Conclusion]) -> PanelRow:
    r = assessment.risk
    parts = []
    if r.nci is not None:
        parts.append(f"NCI {NCI_LABELS.get(r.nci, r.nci).lower()}")
    if r.genetic is not None:
        parts.append(f"genetic {GENETIC_LABELS.get(r.genetic, r.genetic).lower()}")
    if r.cog.group is not None:
        parts.append(f"COG-style {COG_LABELS.get(r.cog.group, r.cog.group).lower()}")
    if r.adult.applicable and r.adult.high_risk is not None:
        parts.append("adult high risk" if r.adult.high_risk else "adult standard risk")
    details = list(r.factors)
    details += [f"adult adverse factor: {f}" for f in r.adult.adverse_factors if not any(f in d for d in details)]
    if r.infant:
        details.append("infant" + (" — Interfant-99 high risk" if r.interfant_high_risk else ""))
    if r.down_syndrome:
        details.append("Down syndrome")
    return PanelRow("risk", "Risk groups", " · ".join(parts) or UNDECIDED, details, determined=bool(parts),
                    conclusions=_matching(every, "risk."))


def _response(assessment: Assessment, every: list[Conclusion]) -> PanelRow:
    s, latest = assessment.status, assessment.mrd.latest
    value = status_label(s.current)
    details = []
    if s.since:
        details.append(f"since {s.since.isoformat()}")
    if s.current_phase:
        details.append(f"phase: {phase_label(s.current_phase)}")
    if latest is not None:
        details.append(f"latest MRD {percent_text(latest.value)} ({latest.status.replace('_', ' ')}, {latest.date.isoformat()})")
    conclusions = list(s.conclusions)
    return PanelRow("status", "Response", value, details, determined=s.current not in (None, "indeterminate"),
                    conclusions=conclusions or _matching(every, "status.current"))


# Conclusions already shown row by row in tables (one per timeline point under the status chart,
# one per chemistry result in the toxicity panel): the derivation trail leaves them out so the
# page stays light. The blood counts have conclusions only where notable, and those stay in the trail.
TABLED_TOPICS = ("status.timeline", "chemistry.")


def derivation_trail(assessment: Assessment) -> tuple[list[Conclusion], int]:
    """The conclusions of the trail, and how many were left to the chart tables."""
    every = assessment.conclusions()
    kept = [c for c in every if not c.topic.startswith(TABLED_TOPICS)]
    return kept, len(every) - len(kept)


@dataclass(frozen=True)
class EpisodeSection:
    """One episode of the course (the diagnosis, each relapse) as a section of the patient page:
    its facts, its work-up (the findings the engine assigned to it) and its own latest MRD."""

    episode: Any
    until: dt.date | None  # the next episode's onset (this episode's MRD results stop there)
    latest_mrd: Any | None


def episode_sections(assessment: Assessment) -> list[EpisodeSection]:
    """The course's episodes in order, each with the latest MRD measured from its onset to the next one."""
    episodes = list(assessment.course.episodes)
    sections = []
    for number, episode in enumerate(episodes):
        until = episodes[number + 1].onset if number + 1 < len(episodes) else None
        mine = [m for m in assessment.mrd.series if m.date >= episode.onset and (until is None or m.date < until)]
        sections.append(EpisodeSection(episode, until, mine[-1] if mine else None))
    return sections
