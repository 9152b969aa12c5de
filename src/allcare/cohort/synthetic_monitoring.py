"""Treatment monitoring for synthetic cases: doses titrated to counts, body size, chemistry, fevers.

Synthetic, never real patients. It gives the demo cohort the data a maintenance clinic and a
toxicity round read, with rough published frequencies (cited inline):

- maintenance: mercaptopurine and weekly methotrexate started at the default family's protocol
  dose (ICiCLe-ALL-14, 60 mg/m2/day and 20 mg/m2/week), each count responding to the dose of the
  previous weeks (the count response peaks 3-5 weeks after a change: Raupach et al., Klin Padiatr
  2016) with a sensitivity that varies between children and is higher with a TPMT or NUDT15
  variant; the doses are then titrated at each visit by the family's rules (hold at ANC <= 0.5 or
  platelets <= 50, 50% at <= 0.75 / 75, back to the maximum tolerated dose on recovery, +15%
  mercaptopurine after ANC >= 1.5 in 2 of 3 counts), as a team following the protocol would;
- TPMT intermediate metabolisers about 10% and poor 0.3%, NUDT15 intermediate about 4% (higher in
  East Asian and Hispanic populations) (CPIC 2018 update, allele frequency tables);
- fevers in about a quarter of the neutropenic weeks of intensive treatment (febrile neutropenia is
  the commonest reason for admission during induction), fewer in maintenance;
- laboratory tumour lysis in about a third of presentations with WBC >= 50 x10^9/L;
- asparaginase silent inactivation in about 6% (van der Sluis et al. 2016 report up to 8%);
  clinical allergy to pegaspargase about 5%;
- transaminases raised during maintenance in most children, grade 3 occasionally (Schmiegelow et al.
  2014); osteonecrosis about 10% of adolescents, pancreatitis about 2%, thrombosis about 3%.

Everything is drawn from the ``random.Random`` it is given, so a cohort stays reproducible.
"""

from __future__ import annotations

import datetime as dt
import math
import random

ICICLE_MP_MG_M2_DAY = 60.0
ICICLE_MTX_MG_M2_WEEK = 20.0


def _iso(day: dt.date) -> str:
    return day.isoformat()


def _height_cm(age: float) -> float:
    if age < 2:
        return 50 + 25 * age
    return min(100 + 6 * (age - 4) if age >= 4 else 75 + 12.5 * (age - 2), 172.0)


def _body(rng: random.Random, age: float) -> tuple[float, float]:
    height = _height_cm(age) * rng.uniform(0.95, 1.05)
    bmi = 16.0 if age < 12 else 20.0 if age < 18 else 24.0
    weight = (height / 100) ** 2 * bmi * rng.lognormvariate(0, 0.1)
    return round(height, 1), round(weight, 1)


def _bsa(height: float, weight: float) -> float:
    return math.sqrt(height * weight / 3600)


def add_monitoring(findings: list[dict], rng: random.Random, *, start: dt.date, birth: dt.date, wbc: float, lineage_t: bool,
                   induction_start: dt.date, maintenance_start: dt.date, maintenance_end: dt.date) -> None:
    """Append monitoring findings to ``findings`` and titrate the maintenance counts (in place)."""
    age = (start - birth).days / 365.25
    add = findings.append
    # Body size at diagnosis and every three months.
    sizes: list[tuple[dt.date, float]] = []
    day = start
    while day <= maintenance_end:
        height, weight = _body(rng, (day - birth).days / 365.25)
        add({"type": "anthropometry", "date": _iso(day), "height": height, "weight": weight})
        sizes.append((day, _bsa(height, weight)))
        day += dt.timedelta(days=91)

    def bsa_on(when: dt.date) -> float:
        return [b for d, b in sizes if d <= when][-1] if any(d <= when for d, _ in sizes) else sizes[0][1]

    sensitivity = rng.lognormvariate(0, 0.3)
    if rng.random() < 0.75:
        tpmt = "poor_metabolizer" if rng.random() < 0.003 else "intermediate_metabolizer" if rng.random() < 0.10 else "normal_metabolizer"
        nudt15 = "intermediate_metabolizer" if rng.random() < 0.04 else "normal_metabolizer"
        when = _iso(start + dt.timedelta(days=12))
        add({"type": "pharmacogenetics", "date": when, "gene": "TPMT", "phenotype": tpmt, "method": "genotype"})
        add({"type": "pharmacogenetics", "date": when, "gene": "NUDT15", "phenotype": nudt15, "method": "genotype"})
        sensitivity *= {"poor_metabolizer": 8.0, "intermediate_metabolizer": 1.8}.get(tpmt, 1.0)
        sensitivity *= 1.8 if nudt15 == "intermediate_metabolizer" else 1.0
    _tumour_lysis_labs(findings, rng, start, induction_start, wbc, age)
    _asparaginase(findings, rng, induction_start)
    _anthracyclines(findings, induction_start, lineage_t)
    _maintenance(findings, rng, maintenance_start, maintenance_end, sensitivity, bsa_on)
    _fevers(findings, rng, induction_start, maintenance_start)
    _liver(findings, rng, maintenance_start, maintenance_end)
    _adverse_events(findings, rng, induction_start, maintenance_end, age)


def _tumour_lysis_labs(findings, rng, start, induction_start, wbc, age):
    """Electrolytes at presentation and on days 2 and 5 of induction; day-to-day variation stays within
    about 10% (well inside Cairo-Bishop's 25%) unless the leukaemia lyses."""
    lysis = wbc >= 50 and rng.random() < 0.35
    phosphate_line = 2.1 if age < 18 else 1.45
    base = {"uric_acid": rng.uniform(3.0, 6.0), "potassium": rng.uniform(3.7, 4.6), "phosphate": rng.uniform(1.1, 1.6),
            "calcium": rng.uniform(2.2, 2.45), "creatinine": rng.uniform(25, 50)}
    for offset in (0, 2, 5):
        day = induction_start + dt.timedelta(days=offset) if offset else start
        hit = lysis and offset == 2
        near = {name: value * rng.uniform(0.93, 1.07) for name, value in base.items()}
        findings.append({
            "type": "chemistry", "date": _iso(day),
            "uric_acid": {"value": round(rng.uniform(8.2, 11.0) if hit else near["uric_acid"], 1), "unit": "mg/dL", "upper_limit": 7.0},
            "potassium": round(rng.uniform(6.0, 6.8) if hit else near["potassium"], 1),
            "phosphate": {"value": round(phosphate_line + rng.uniform(0.1, 0.6) if hit else near["phosphate"], 2), "unit": "mmol/L"},
            "calcium": {"value": round(rng.uniform(1.6, 1.9) if hit else near["calcium"], 2), "unit": "mmol/L",
                        "lower_limit": 2.1, "upper_limit": 2.6},
            "creatinine": {"value": round(rng.uniform(80, 130) if hit and rng.random() < 0.4 else near["creatinine"]),
                           "unit": "umol/L", "upper_limit": 62},
            "ldh": {"value": round(rng.uniform(300, 3000) if offset == 0 else rng.uniform(200, 900)), "unit": "U/L", "upper_limit": 480},
        })


def _asparaginase(findings, rng, induction_start):
    dose_day = induction_start + dt.timedelta(days=3)
    findings.append({"type": "dose", "agent": "pegaspargase", "dose": {"value": 2500, "unit": "IU/m2"}, "route": "iv",
                     "start": _iso(dose_day)})
    if rng.random() < 0.05:
        findings.append({"type": "adverse_event", "term": "allergic_reaction", "grade": rng.choice([2, 3]), "agent": "pegaspargase",
                         "start": _iso(dose_day)})
    if rng.random() < 0.6:
        silent = rng.random() < 0.06
        for days in (7, 14):
            value = rng.uniform(0.01, 0.08) if silent else rng.uniform(0.25, 1.2) / (1 if days == 7 else 2)
            findings.append({"type": "asparaginase_activity", "date": _iso(dose_day + dt.timedelta(days=days)),
                             "value": round(value, 3), "preparation": "pegaspargase", "days_after_dose": days})


def _anthracyclines(findings, induction_start, lineage_t):
    if lineage_t:
        findings.append({"type": "dose", "agent": "daunorubicin", "dose": {"value": 25, "unit": "mg/m2"}, "frequency": "weekly",
                         "route": "iv", "start": _iso(induction_start), "end": _iso(induction_start + dt.timedelta(days=21))})
    di_start = induction_start + dt.timedelta(days=28 + 56 + 56)
    findings.append({"type": "dose", "agent": "doxorubicin", "dose": {"value": 25, "unit": "mg/m2"}, "frequency": "weekly",
                     "route": "iv", "start": _iso(di_start), "end": _iso(di_start + dt.timedelta(days=14))})


def _maintenance(findings, rng, start, end, sensitivity, bsa_on):
    """Titrate mercaptopurine and methotrexate to the counts of the maintenance visits, as the protocol does."""
    visits = sorted((f for f in findings if f["type"] == "cbc" and start <= dt.date.fromisoformat(f["date"]) <= end),
                    key=lambda f: f["date"])
    base = rng.uniform(2.2, 3.6)
    level = 1.0  # dose as a fraction of the protocol dose
    effective, mtd, held_since = 0.0, 1.0, None
    at_level_since = start
    previous_day = start
    history: list[float] = []

    written: dict[str, float] = {}
    decided = start - dt.timedelta(days=14)

    def write(day: dt.date, fraction: float) -> None:
        """A new prescription of each drug whose dose (in tablet-sized steps) changes."""
        bsa = bsa_on(day)
        doses = {"mercaptopurine": (round(fraction * ICICLE_MP_MG_M2_DAY * bsa / 12.5) * 12.5, "daily"),
                 "methotrexate": (round(fraction * ICICLE_MTX_MG_M2_WEEK * bsa / 2.5) * 2.5, "weekly")}
        for agent, (mg, frequency) in doses.items():
            if written.get(agent) != mg:
                findings.append({"type": "dose", "agent": agent, "dose": {"value": mg, "unit": "mg"}, "frequency": frequency,
                                 "route": "oral", "start": _iso(day)})
                written[agent] = mg

    write(start, level)
    for visit in visits:
        day = dt.date.fromisoformat(visit["date"])
        gap = max((day - previous_day).days, 1)
        effective += (level - effective) * (1 - math.exp(-gap / 21))
        previous_day = day
        anc = max(0.1, min(6.0, base * math.exp(-1.1 * sensitivity * effective) * rng.lognormvariate(0, 0.25)))
        platelets = max(30.0, min(450.0, rng.uniform(140, 360) * (1 - 0.25 * min(1.5, sensitivity * effective) / 1.5)))
        if anc < 0.5 and rng.random() < 0.3:
            platelets = rng.uniform(40, 90)
        visit.update({"anc": round(anc, 2), "platelets": round(platelets), "wbc": round(anc / rng.uniform(0.45, 0.65), 1)})
        history.append(anc)
        if level > 0 and (day - at_level_since).days >= 42:
            mtd = max(mtd, level)
        urgent = anc <= 0.75 or platelets <= 75
        if not urgent and (day - decided).days < 14:
            continue  # doses are reviewed at the fortnightly clinic visit, sooner only for low counts
        decided = day
        if anc <= 0.5 or platelets <= 50:
            new = 0.0
        elif anc <= 0.75 or platelets <= 75:
            new = 0.5 * mtd
        elif level < mtd and (held_since is not None or level == 0.5 * mtd):
            new = mtd
        elif sum(a >= 1.5 for a in history[-3:]) >= 2 and level >= mtd:
            new = round(level * 1.15, 3)
        else:
            new = level
        held_since = day if new == 0 else (None if new >= mtd else held_since)
        if new != level:
            at_level_since = day
            level = new
            write(day, level)


def _fevers(findings, rng, induction_start, maintenance_start):
    for visit in [f for f in findings if f["type"] == "cbc" and f.get("anc") is not None]:
        day = dt.date.fromisoformat(visit["date"])
        if day < induction_start:
            continue
        intensive = day < maintenance_start
        neutropenic = visit["anc"] < 0.5
        chance = (0.25 if neutropenic else 0.005) if intensive else (0.12 if neutropenic else 0.002)
        if rng.random() < chance:
            hot = rng.random() < 0.7
            findings.append({"type": "vitals", "date": visit["date"], "time": f"{rng.randrange(0, 24):02d}:{rng.choice(['05', '20', '40'])}",
                             "temperature": round(rng.uniform(38.3, 39.6) if hot else rng.uniform(38.0, 38.2), 1),
                             **({} if hot else {"sustained_minutes": rng.choice([45, 75, 120])}),
                             "temperature_site": rng.choice(["tympanic", "axillary", "oral"]), "heart_rate": rng.randrange(110, 170)})


def _liver(findings, rng, start, end):
    day = start + dt.timedelta(days=30)
    while day <= end:
        raised = rng.random()
        alt = rng.uniform(200, 420) if raised < 0.06 else rng.uniform(45, 180) if raised < 0.55 else rng.uniform(15, 40)
        findings.append({"type": "chemistry", "date": _iso(day),
                         "alt": {"value": round(alt), "unit": "U/L", "upper_limit": 40},
                         "ast": {"value": round(alt * rng.uniform(0.5, 0.9)), "unit": "U/L", "upper_limit": 45},
                         "bilirubin": {"value": round(rng.uniform(0.2, 1.0) if raised > 0.05 else rng.uniform(1.3, 2.4), 1),
                                       "unit": "mg/dL", "upper_limit": 1.1},
                         "creatinine": {"value": round(rng.uniform(25, 55)), "unit": "umol/L", "upper_limit": 62}})
        day += dt.timedelta(days=rng.randrange(80, 100))


def _adverse_events(findings, rng, induction_start, end, age):
    def on(days_from: int, days_to: int) -> str | None:
        day = induction_start + dt.timedelta(days=rng.randrange(days_from, days_to))
        return _iso(day) if day <= end else None

    events = []
    if age >= 10 and rng.random() < 0.10:
        events.append(("osteonecrosis", rng.choice([2, 2, 3]), on(150, 500), "dexamethasone"))
    if rng.random() < 0.02:
        events.append(("pancreatitis", rng.choice([2, 3]), on(5, 40), "pegaspargase"))
    if rng.random() < 0.03:
        events.append(("thromboembolic_event", rng.choice([2, 3]), on(10, 60), "pegaspargase"))
    for term, grade, day, agent in events:
        if day is not None:
            findings.append({"type": "adverse_event", "term": term, "grade": grade, "start": day, "agent": agent})
