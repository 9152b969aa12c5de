"""Which disease: ALL, lymphoblastic lymphoma, MPAL, not ALL, or not yet decidable.

docs/decisions.md#all-vs-lbl: two lines, two questions.

* Without a tissue mass, is there enough marrow disease to call ALL at all? WHO 2016 advises against
  diagnosing ALL below 20% marrow blasts (``leukaemia_marrow_blast_pct``), except for B-ALL with
  IGH::IL3, which may be diagnosed at low blast counts; WHO-HAEM5 sets no strict cut-off.
* With a tissue mass, is it leukaemia or lymphoblastic lymphoma? The line is conventional: the
  treatment protocols (COG, BFM) and WHO's text stage a lymphoblastic neoplasm with a mass as
  leukaemia from 25% marrow blasts (``lymphoma_marrow_blast_pct``, the M3 marrow) and as lymphoma below.

Without a marrow, blood blasts at the same line show a leukaemia (the marrow is still listed as
missing). A surface-Ig+ TdT-negative mature B phenotype is Burkitt-type, not ALL; more than one WHO
lineage is MPAL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..assessment import Disease
from ..case import Cbc, Marrow, Quantity
from ..case.bounds import at_least
from ..explain import Conclusion, EvidenceRef, conclude, undetermined
from ..lesion_vocabulary import IGH_IL3
from ..response.marrow import blasts_text
from ..sources import WHO_2016, WHO_2016_MPAL, decision
from ..view import CaseView, Indexed
from .genetics import GeneticProfile
from .lineage import LineageCall
from .workup import Workup

TOPIC = "diagnosis.disease"
SOURCE = f"{WHO_2016}; {decision('all-vs-lbl')}"
NO_MARROW = "bone marrow aspirate with blast percentage"
LOW_BLASTS = "repeat bone marrow aspirate / tissue biopsy"
BLASTS_AS_VALUE = "marrow blast percentage as a value (the reported bound straddles the leukaemia line)"


@dataclass(frozen=True)
class DiseaseCall:
    disease: Disease
    conclusion: Conclusion
    lbl_site: str | None = None
    neoplasm: bool = False
    """A lymphoblastic neoplasm is established (the entity can be named) even if ALL vs LBL is open."""
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Burden:
    kind: str  # leukaemic | lymphoma | unstaged_mass | insufficient
    text: str
    rule: str
    evidence: list[EvidenceRef]
    missing: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _straddling(items: Sequence[Indexed[Marrow] | Indexed[Cbc]], threshold: float) -> list[tuple[Any, Quantity]]:
    """``(finding, blasts)`` of results of one day that fall on both sides of the leukaemia line (none if they agree)."""
    sides = []
    for x in items:
        q = x.finding.blasts_pct
        if q is not None:
            sides.append((x, q, at_least(q.value, q.comparator, threshold)))
    if len({side for _, _, side in sides if side is not None}) < 2:
        return []
    return [(x, q) for x, q, _ in sides]


def _same_day_conflict(workup: Workup, threshold: float, masses: bool, rule: str) -> _Burden | None:
    """Same-day diagnostic marrows (morphology and flow, two aspirates) on both sides of the leukaemia line."""
    sides = _straddling(workup.same_day_marrows, threshold)
    if not sides:
        return None
    shown = [f"marrow blasts {blasts_text(q)} (marrow #{x.index} on {x.date})" for x, q in sides]
    return _Burden("unstaged_mass" if masses else "insufficient",
                   f"diagnostic marrows of one day on both sides of the {threshold:g}% leukaemia line: " + "; ".join(shown),
                   rule, [x.ref(f"marrow blasts {blasts_text(q)}") for x, q in sides],
                   [f"which marrow of {sides[0][0].date} stages the disease (or a repeat marrow)"], shown)


def _same_day_blood_conflict(workup: Workup, threshold: float, masses: bool) -> _Burden | None:
    """Without a marrow: blood counts of the diagnosis day on both sides of the leukaemia line."""
    sides = _straddling(workup.same_day_blood, threshold)
    if not sides:
        return None
    shown = [f"blood blasts {blasts_text(q)} (blood count #{x.index} on {x.date})" for x, q in sides]
    return _Burden("unstaged_mass" if masses else "insufficient",
                   f"no diagnostic marrow; blood counts of one day on both sides of the {threshold:g}% leukaemia line: "
                   + "; ".join(shown), "DX.DISEASE.BLOOD_BLASTS", [x.ref(f"blood blasts {blasts_text(q)}") for x, q in sides],
                   [NO_MARROW, f"which blood count of {sides[0][0].date} is valid"], shown)


def _burden(view: CaseView, workup: Workup, genetics: GeneticProfile) -> _Burden:
    masses = workup.masses
    # With a mass the question is leukaemia vs lymphoma (the staging line); without one, whether the count
    # is enough for ALL at all (WHO's floor). Each answer names its own rule and line.
    threshold = view.rules.lymphoma_marrow_blast_pct if masses else view.rules.leukaemia_marrow_blast_pct
    line_rule = "DX.DISEASE.LBL_MASS" if masses else "DX.DISEASE.MARROW_BLASTS"
    mass_refs = [m.ref(f"{m.finding.site} mass" + (f" ({m.finding.detail})" if m.finding.detail else "")) for m in masses]
    mass_text = ", ".join(m.finding.site for m in masses)
    q = None if workup.marrow is None else workup.marrow.finding.blasts_pct  # the work-up's marrow has a count
    if workup.marrow is not None and q is not None:
        conflict = _same_day_conflict(workup, threshold, bool(masses), line_rule)
        if conflict is not None:
            return _Burden(conflict.kind, conflict.text, conflict.rule, [*conflict.evidence, *mass_refs], conflict.missing,
                           conflict.conflicts)
        pct = blasts_text(q)
        refs = [workup.marrow.ref(f"marrow blasts {pct}"), *mass_refs]
        leukaemic = at_least(q.value, q.comparator, threshold)
        if leukaemic:
            if masses:
                return _Burden("leukaemic", f"mass ({mass_text}) with marrow blasts {pct} >= {threshold:g}% (the "
                               "staging line between leukaemia and lymphoma): leukaemia", line_rule, refs)
            return _Burden("leukaemic", f"marrow blasts {pct} >= {threshold:g}%: leukaemia", line_rule, refs)
        if leukaemic is None:
            kind = "unstaged_mass" if masses else "insufficient"
            return _Burden(kind, f"marrow blasts reported as {pct}: the bound does not settle the {threshold:g}% "
                           "leukaemia line", line_rule, refs, [BLASTS_AS_VALUE])
        if masses:
            return _Burden("lymphoma", f"mass ({mass_text}) with marrow blasts {pct} < {threshold:g}%: lymphoblastic "
                           "lymphoma", "DX.DISEASE.LBL_MASS", refs)
        if genetics.status(IGH_IL3) == "detected":
            return _Burden("leukaemic", f"marrow blasts {pct} < {threshold:g}% but IGH::IL3 B-ALL may be diagnosed "
                           "at a low blast count", "DX.DISEASE.IGH_IL3_LOW_BLASTS", refs + genetics.refs(IGH_IL3))
        return _Burden("insufficient", f"marrow blasts {pct} < {threshold:g}% and no tissue mass: the diagnosis of "
                       "ALL should be avoided below this count", "DX.DISEASE.LOW_BLASTS", refs, [LOW_BLASTS])
    blood = workup.blood
    blood_blasts = None if blood is None else blood.finding.blasts_pct  # and its blood count too
    conflict = _same_day_blood_conflict(workup, threshold, bool(masses))
    if conflict is not None:
        return _Burden(conflict.kind, conflict.text, conflict.rule, [*conflict.evidence, *mass_refs], conflict.missing,
                       conflict.conflicts)
    if blood is not None and blood_blasts is not None and at_least(blood_blasts.value, blood_blasts.comparator, threshold):
        pct = blasts_text(blood_blasts)
        return _Burden("leukaemic", f"no diagnostic marrow; blood blasts {pct} >= {threshold:g}%: leukaemia "
                       "(a marrow should still be done)", "DX.DISEASE.BLOOD_BLASTS",
                       [blood.ref(f"blood blasts {pct}"), *mass_refs], [NO_MARROW])
    if masses:
        return _Burden("unstaged_mass", f"mass ({mass_text}) without a diagnostic marrow: ALL vs lymphoblastic lymphoma "
                       "cannot be told apart", "DX.DISEASE.NO_MARROW", mass_refs, [NO_MARROW])
    refs = [blood.ref(f"blood blasts {blasts_text(blood_blasts)}")] if blood is not None and blood_blasts is not None else []
    return _Burden("insufficient", "no diagnostic marrow and no leukaemic blood count or tissue mass",
                   "DX.DISEASE.NO_MARROW", refs, [NO_MARROW])


def lbl_site(workup: Workup) -> str | None:
    """Mass sites for LBL coding: 'mediastinum', 'lymph_node:cervical', several joined by ';'."""
    sites = []
    for mass in workup.masses:
        f = mass.finding
        # ';' separates the sites: one inside a detail ("cervical; axillary") is a list of nodes, not a new site.
        sites.append(f"{f.site}:{f.detail.replace(';', ',')}" if f.site == "lymph_node" and f.detail else f.site)
    return ";".join(sorted(dict.fromkeys(sites))) or None


def _mature_b_question(lineage: LineageCall) -> str:
    open_call = lineage.mature_b_conclusion
    if open_call is not None and open_call.explanation:
        return open_call.explanation
    return "surface Ig+ blasts without a TdT result: B-ALL or mature B-cell neoplasm"


def classify_disease(view: CaseView, workup: Workup, lineage: LineageCall, genetics: GeneticProfile) -> DiseaseCall:
    burden = _burden(view, workup, genetics)
    evidence = [*burden.evidence, *lineage.conclusion.evidence]
    if lineage.mature_b is True:
        return DiseaseCall("not_ALL", conclude(
            TOPIC, "not_ALL", "DX.DISEASE.MATURE_B", SOURCE,
            "surface immunoglobulin with CD19/CD20 and no TdT: a mature B-cell (Burkitt-type) neoplasm, not ALL",
            evidence,
        ))
    if lineage.myeloid_only:
        return DiseaseCall("not_ALL", conclude(
            TOPIC, "not_ALL", "DX.DISEASE.NOT_LYMPHOID", WHO_2016_MPAL,
            "the blasts meet only myeloid lineage criteria: not a lymphoblastic leukaemia", evidence,
        ))
    if lineage.mature_b is None:
        undecided = lineage.mature_b_conclusion.missing if lineage.mature_b_conclusion else []
        missing = [*undecided, *burden.missing]
        return DiseaseCall("indeterminate", undetermined(
            TOPIC, "DX.DISEASE.MATURE_B", SOURCE, missing,
            f"{burden.text}; {_mature_b_question(lineage)}", evidence,
        ), missing=missing)
    if lineage.lineage is None:
        missing = list(dict.fromkeys([*lineage.missing, *lineage.conclusion.missing, *burden.missing]))
        return DiseaseCall("indeterminate", undetermined(
            TOPIC, "DX.DISEASE.LINEAGE_UNKNOWN", SOURCE, missing,
            f"{burden.text}; but the lineage of the blasts is not established, so ALL cannot be called", evidence,
        ), missing=missing)
    mixed = "/" in lineage.lineage
    if burden.kind == "leukaemic" or (burden.kind == "lymphoma" and mixed):
        disease: Disease = "MPAL" if mixed else "ALL"
        why = f"{burden.text}; lineage {lineage.lineage}" + (" (more than one lineage: MPAL)" if mixed else "")
        called = conclude(TOPIC, disease, burden.rule, SOURCE, why, evidence)
        if burden.missing:  # called from the blood: the marrow is still asked for
            called = msgspec.structs.replace(called, missing=burden.missing)
        return DiseaseCall(disease, called, neoplasm=True)
    if burden.kind == "lymphoma":
        return DiseaseCall("LBL", conclude(TOPIC, "LBL", burden.rule, SOURCE, f"{burden.text}; lineage {lineage.lineage}",
                                           evidence), lbl_site=lbl_site(workup), neoplasm=True)
    left_open = undetermined(TOPIC, burden.rule, SOURCE, burden.missing, f"{burden.text}; lineage {lineage.lineage}", evidence)
    if burden.conflicts:
        left_open = msgspec.structs.replace(left_open, conflicts=burden.conflicts)
    return DiseaseCall("indeterminate", left_open, neoplasm=burden.kind == "unstaged_mass", missing=burden.missing)
