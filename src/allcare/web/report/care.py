"""The report's "Care at home" part: the maintenance plan and what a fever means, in plain words.

Written for patients and families from the assessment only: which maintenance medicines are
prescribed now (as the team wrote them), why blood counts are checked, what the latest count
showed, what a thiopurine gene result means, and, for everyone on treatment, what to do with a
fever: call the team now. It never tells a family to change a dose; that is the team's decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...engine.assessment import Assessment
from ...engine.rules import DEFAULT_RULES, RuleSet
from ...labels.plain import ANALYTE_UNITS

FEVER_TITLE = "If there is a fever: call the team now"
FEVER_CALL = (
    "A temperature of {celsius:.1f} °C ({fahrenheit:.1f} °F) or higher, or shivering, or looking pale, "
    "floppy or very unwell: call your treatment team straight away, day or night, on the number they gave you.")
"""The line families are asked to call at: the rule set's sustained-fever line (``fever_sustained_min``)."""
FEVER_STEPS = (
    "Do not wait to see whether it goes away, and do not give medicine to bring the temperature down before you have "
    "spoken to the team, unless they have told you to.",
    "Treatment lowers the white cells that fight infection. A fever can then be a serious infection that needs "
    "antibiotics in hospital quickly, usually within an hour.",
)
MEDICINES = {
    "mercaptopurine": ("Mercaptopurine (6-MP)", "a chemotherapy medicine taken by mouth"),
    "methotrexate": ("Methotrexate", "a chemotherapy medicine taken by mouth once a week in maintenance"),
}
FREQUENCY_WORDS = {"daily": "every day", "weekly": "once a week", "twice_weekly": "twice a week",
                   "every_2_weeks": "every 2 weeks", "every_3_weeks": "every 3 weeks", "every_4_weeks": "every 4 weeks",
                   "once": "once"}
UNIT_WORDS = {"mg": "mg", "mg/m2": "mg per square metre of body surface", "mg/kg": "mg per kg of body weight"}
COUNT_WORDS = {
    "hold": "lower than the team aims for, low enough that protocols pause these medicines for a while",
    "reduce": "a little lower than the team aims for; protocols often lower the doses for a while",
    "target": "in the range the team aims for",
    "above": "higher than the team aims for; protocols may raise the doses",
    "below": "lower than the range the team aims for",
    "unknown": "not clear from the result recorded",
}
GENE_WORDS = {
    "normal": "The gene test (TPMT and NUDT15) shows the body handles mercaptopurine in the usual way.",
    "intermediate": "The gene test (TPMT and NUDT15) shows the body breaks down mercaptopurine more slowly than usual. "
                    "This is common. The team takes it into account, usually by starting with a lower dose.",
    "poor": "The gene test (TPMT and NUDT15) shows the body breaks down mercaptopurine much more slowly than usual. "
            "The team uses a much lower dose, or gives it on fewer days, to keep it safe.",
}


@dataclass(frozen=True)
class Medicine:
    name: str
    what: str
    how: str


@dataclass(frozen=True)
class CareAtHome:
    plan_intro: str | None = None
    medicines: list[Medicine] = field(default_factory=list)
    counts_text: str | None = None
    gene_text: str | None = None
    fever_title: str = FEVER_TITLE
    fever_steps: tuple[str, ...] = ()


def _dose_words(period) -> str:
    if period.dose == 0:
        return "paused for now: the team will tell you when to start again"
    amount = f"{period.dose:g} {UNIT_WORDS.get(period.unit, period.unit)}"
    return f"{amount} {FREQUENCY_WORDS.get(period.frequency, period.frequency.replace('_', ' '))}, as prescribed"


def fever_steps(rules: RuleSet) -> tuple[str, ...]:
    line = rules.fever_sustained_min
    return (FEVER_CALL.format(celsius=line, fahrenheit=line * 9 / 5 + 32), *FEVER_STEPS)


def care_at_home(assessment: Assessment, rules: RuleSet = DEFAULT_RULES) -> CareAtHome | None:
    """The care-at-home part, or None when no treatment is running."""
    running = any(span.running for span in assessment.status.phases)
    m = assessment.maintenance
    if not running and not (m and m.running):
        return None
    care: dict = {}
    if m is not None and m.running:
        current = {}
        for period in m.doses:
            if period.start <= assessment.as_of and (period.end is None or period.end >= assessment.as_of):
                current[period.agent] = period
        care["plan_intro"] = (
            "Maintenance is the long, gentler part of treatment, taken mostly at home. Take the medicines exactly as "
            "the team prescribes them and never change a dose yourself: the team adjusts the doses to the blood counts.")
        care["medicines"] = [Medicine(MEDICINES[agent][0], MEDICINES[agent][1], _dose_words(period))
                             for agent, period in sorted(current.items()) if agent in MEDICINES]
        counts = m.counts.read(assessment.blood_counts)
        measured = [n for n, value in enumerate(counts.steered(m.steering)) if value is not None]
        count_name = "neutrophils (the white cells that fight infection)" if m.steering == "anc" else "white cells"
        unit = ANALYTE_UNITS["anc" if m.steering == "anc" else "wbc"]  # the count's unit, said beside each number
        text = (f"The team checks the blood count every few weeks and aims to keep the {count_name} between "
                f"{m.target_low:g} and {m.target_high:g} {unit}.")
        if measured:
            latest = counts.row(measured[-1])
            value = latest.anc if m.steering == "anc" else latest.wbc
            text += (f" On {latest.date.day} {latest.date:%B %Y} they were {value:g} {unit}: "
                     f"{COUNT_WORDS.get(latest.zone, COUNT_WORDS['unknown'])}. The team will tell you if the doses change.")
        care["counts_text"] = text
    g = assessment.pharmacogenetics
    if g is not None:
        statuses = {g.tpmt, g.nudt15}
        if "poor_metabolizer" in statuses:
            care["gene_text"] = GENE_WORDS["poor"]
        elif statuses & {"intermediate_metabolizer", "possible_intermediate_metabolizer"}:
            care["gene_text"] = GENE_WORDS["intermediate"]
        elif g.tpmt == g.nudt15 == "normal_metabolizer":
            care["gene_text"] = GENE_WORDS["normal"]
    return CareAtHome(**care, fever_steps=fever_steps(rules))
