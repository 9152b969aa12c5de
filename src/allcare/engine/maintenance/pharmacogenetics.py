"""CPIC starting-dose guidance for mercaptopurine from TPMT and NUDT15 status.

CPIC's recommendation is about the *starting* dose; later doses follow the
protocol's count rules. So the output is CPIC's range (per cent of the normal
starting dose) and the time to steady state, never a point dose, worded as the
guideline words it. A phenotype is read from the lab's report, or from a
diplotype whose alleles all have a CPIC function listed below; otherwise the
engine says what it needs. Mercaptopurine recorded without either gene tested is not read as normal:
the guidance is undetermined and asks for both.

Rows are checked in order (a poor metaboliser of either gene decides first).
Rule ids: ``CPIC.THIOPURINE.TPMT_PM``, ``.NUDT15_PM``, ``.IM_BOTH``, ``.IM_ONE``,
``.IM_ONE_LOW_START``, ``.NORMAL``, ``.INDETERMINATE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import sources
from ..case import Pharmacogenetics
from ..explain import Conclusion, EvidenceRef, conclude, contradictory, undetermined
from ..monitoring_output import ThiopurineGuidance
from ..view import CaseView, Indexed
from .body_size import size_on
from .doses import spans, weekly

# Allele function (CPIC allele functionality tables): only alleles listed here are read.
NO_FUNCTION = {"TPMT": {"*2", "*3A", "*3B", "*3C", "*4"}, "NUDT15": {"*2", "*3", "*9"}}
NORMAL_FUNCTION = {"TPMT": {"*1"}, "NUDT15": {"*1"}}

NM, IM, PM, IND = "normal_metabolizer", "intermediate_metabolizer", "poor_metabolizer", "indeterminate"
POSSIBLE_IM = "possible_intermediate_metabolizer"
SHORT = {NM: "normal metaboliser", IM: "intermediate metaboliser", POSSIBLE_IM: "possible intermediate metaboliser",
         PM: "poor metaboliser", IND: "indeterminate"}


def phenotype_from_diplotype(gene: str, diplotype: str) -> str | None:
    """CPIC phenotype of a diplotype whose alleles all have a listed function; None otherwise."""
    alleles = diplotype.split("/")
    if len(alleles) != 2:
        return None
    none = sum(a in NO_FUNCTION[gene] for a in alleles)
    normal = sum(a in NORMAL_FUNCTION[gene] for a in alleles)
    if none + normal != 2:
        return None
    return {0: NM, 1: IM, 2: PM}[none]


@dataclass(frozen=True)
class Row:
    rule: str
    applies: Callable[[str | None, str | None], bool]
    pct: tuple[float, float] | None
    weeks: tuple[int, int] | None
    words: str
    schedule: str | None = None
    fixed_mg_m2_day: float | None = None


def _im(p: str | None) -> bool:
    return p in (IM, POSSIBLE_IM)


ROWS: tuple[Row, ...] = (
    Row("CPIC.THIOPURINE.TPMT_PM", lambda t, n: t == PM, (10.0, 10.0), (4, 6),
        "start with drastically reduced doses: reduce the daily dose 10-fold and give it three days a week instead of "
        "daily (e.g. 10 mg/m2/day on 3 days a week), then adjust to myelosuppression",
        schedule="three days a week instead of daily"),
    Row("CPIC.THIOPURINE.NUDT15_PM", lambda t, n: n == PM, None, (4, 6),
        "start at 10 mg/m2/day and adjust to myelosuppression", fixed_mg_m2_day=10.0),
    Row("CPIC.THIOPURINE.IM_BOTH", lambda t, n: _im(t) and _im(n), (20.0, 50.0), (2, 4),
        "start at 20-50% of the normal dose (CPIC update of March 2024 for intermediate metabolisers of both genes), "
        "then adjust to myelosuppression; if it occurs, reduce mercaptopurine first"),
    Row("CPIC.THIOPURINE.IM_ONE", lambda t, n: (_im(t) and n == NM) or (_im(n) and t == NM), (30.0, 80.0), (2, 4),
        "start at 30-80% of the normal dose when the normal starting dose is >= {threshold:g} mg/m2/day, then adjust "
        "to myelosuppression; if it occurs, reduce mercaptopurine first"),
    Row("CPIC.THIOPURINE.NORMAL", lambda t, n: t == NM and n == NM, (100.0, 100.0), (2, 2),
        "start with the normal dose and adjust to the protocol's count rules without special emphasis on mercaptopurine"),
    Row("CPIC.THIOPURINE.INDETERMINATE", lambda t, n: IND in (t, n), None, None,
        "TPMT indeterminate: consider measuring erythrocyte TPMT activity; NUDT15 indeterminate: if a thiopurine is "
        "needed, monitor closely for toxicity"),
)


def _phenotypes(view: CaseView) -> tuple[dict[str, str | None], list[EvidenceRef], list[str]]:
    """Latest phenotype per gene, the evidence, and conflicts (findings or a diplotype disagreeing)."""
    found: dict[str, str | None] = {"TPMT": None, "NUDT15": None}
    refs: list[EvidenceRef] = []
    conflicts: list[str] = []
    readings: dict[str, list[tuple[str, Indexed[Pharmacogenetics]]]] = {"TPMT": [], "NUDT15": []}
    items: list[Indexed[Pharmacogenetics]] = view.of_type("pharmacogenetics")
    for item in items:
        f = item.finding
        from_diplotype = phenotype_from_diplotype(f.gene, f.diplotype) if f.diplotype else None
        if f.phenotype and from_diplotype and f.phenotype not in (from_diplotype, POSSIBLE_IM):
            conflicts.append(f"{f.gene} reported as {SHORT.get(f.phenotype, f.phenotype)} but {f.diplotype} is a "
                             f"{SHORT[from_diplotype]} by CPIC allele function ({item.date})")
        value = f.phenotype or from_diplotype
        summary = f"{f.gene} " + (SHORT.get(value, value) if value else "phenotype not assignable") + (f" ({f.diplotype})" if f.diplotype else "")
        refs.append(item.ref(summary))
        if value is not None:
            readings[f.gene].append((value, item))
    for gene, values in readings.items():
        if values:
            distinct = {v for v, _ in values}
            if len(distinct) > 1:
                conflicts.append(f"{gene} reported as " + " and as ".join(SHORT.get(v, v) for v in sorted(distinct)))
            found[gene] = values[-1][0]
    return found, refs, conflicts


def _current_pct(view: CaseView, protocol: float) -> float | None:
    """The first mercaptopurine dose (the starting dose CPIC speaks of) per m2 per day, % of the protocol dose."""
    history = spans(view, "mercaptopurine")
    if not history:
        return None
    first = history[0]
    _, mg_m2_week = weekly(first, size_on(view, first.start))
    return None if mg_m2_week is None else round(100.0 * mg_m2_week / 7.0 / protocol, 1)


def assess_pharmacogenetics(view: CaseView) -> ThiopurineGuidance | None:
    if not view.of_type("pharmacogenetics") and not spans(view, "mercaptopurine"):
        return None  # no thiopurine and no genotype: nothing to guide (with mercaptopurine, untested genes are asked for)
    protocol = view.rules.maintenance.mercaptopurine_mg_m2_day
    threshold = view.rules.cpic_reduce_if_start_from_mg_m2_day
    found, refs, conflicts = _phenotypes(view)
    tpmt, nudt15 = found["TPMT"], found["NUDT15"]
    topic = "pharmacogenetics.thiopurine"
    start_pct = _current_pct(view, protocol)

    def guidance(rule: str, wording: str, conclusion: Conclusion, pct: tuple[float, float] | None = None,
                 row: Row | None = None) -> ThiopurineGuidance:
        """The guidance, with what every outcome reports: the phenotypes, the protocol dose and the first dose."""
        return ThiopurineGuidance(
            tpmt=tpmt, nudt15=nudt15, protocol_start_mg_m2_day=protocol, current_pct_of_protocol=start_pct,
            source=sources.CPIC_THIOPURINES, rule=rule, wording=wording, conclusions=[conclusion],
            start_pct_low=None if pct is None else pct[0], start_pct_high=None if pct is None else pct[1],
            schedule=None if row is None else row.schedule, steady_state_weeks=None if row is None else row.weeks,
        )

    if conflicts:
        c = contradictory(topic, "CPIC.THIOPURINE.CONFLICT", sources.CPIC_THIOPURINES, conflicts, refs)
        return guidance(c.rule, c.explanation, c)
    row = next((r for r in ROWS if r.applies(tpmt, nudt15)), None)
    missing = [f"{gene} phenotype (CPIC reads TPMT and NUDT15 together)" for gene, value in found.items() if value is None]
    if row is None:
        c = undetermined(topic, "CPIC.THIOPURINE.INCOMPLETE", sources.CPIC_THIOPURINES, missing, evidence=refs)
        return guidance(c.rule, c.explanation, c)
    rule, pct, words = row.rule, row.pct, row.words.format(threshold=threshold)
    if row.rule == "CPIC.THIOPURINE.IM_ONE" and protocol < threshold:
        rule, pct = "CPIC.THIOPURINE.IM_ONE_LOW_START", None
        words = (f"the {view.rules.maintenance.label} starting dose is {protocol:g} mg/m2/day, below the {threshold:g} "
                 f"mg/m2/day from which CPIC reduces the start for one intermediate-metaboliser gene: a reduction may not "
                 f"be needed; adjust to myelosuppression and reduce mercaptopurine first if it occurs")
    if row.fixed_mg_m2_day is not None:
        pct = (round(100 * row.fixed_mg_m2_day / protocol, 1),) * 2
    status = f"TPMT {SHORT.get(tpmt, 'not tested') if tpmt else 'not tested'}, NUDT15 {SHORT.get(nudt15, 'not tested') if nudt15 else 'not tested'}"
    weeks = f"; allow {row.weeks[0]}-{row.weeks[1]} weeks to reach steady state after each dose change" if row.weeks and row.weeks[0] != row.weeks[1] else (
        f"; allow at least {row.weeks[0]} weeks to reach steady state after each dose change" if row.weeks else "")
    wording = f"Decision support (CPIC mercaptopurine, malignancy): {status} - {words}{weeks}."
    if start_pct is not None and pct is not None:
        wording += f" The first recorded mercaptopurine dose was {start_pct:g}% of the {protocol:g} mg/m2/day protocol dose."
    conclusion: Conclusion
    if missing and row.rule not in ("CPIC.THIOPURINE.TPMT_PM", "CPIC.THIOPURINE.NUDT15_PM"):
        conclusion = undetermined(topic, rule, sources.CPIC_THIOPURINES, missing, wording, refs, value=rule)
    else:
        conclusion = conclude(topic, rule, rule, sources.CPIC_THIOPURINES, wording, refs)
    return guidance(rule, wording, conclusion, pct, row)
