"""Findings carry a date, not a time (docs/decisions.md#same-day): how a record lists the findings of one day
must not change what allcare concludes. Seeded random courses (marrows, MRD of every sample, blood counts,
taps, extramedullary findings, salvage blocks, several results a day) are assessed as written and with
every day's findings in reverse order; the disease course, statuses, alerts, MRD and risk readings must agree.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from allcare.engine import assess, case_from_dict

START = dt.date(2022, 1, 3)
B_MARKERS = {"CD19": 95, "CD10": 90, "cCD79a": 90, "CD22": 80, "TdT": 80, "MPO": 0, "cCD3": 0}


def day(n: int) -> str:
    return (START + dt.timedelta(days=n)).isoformat()


def findings_of_day(rng: random.Random, n: int) -> list[dict]:
    out: list[dict] = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(["marrow", "mrd", "cbc", "csf", "extramedullary", "treatment"])
        if kind == "marrow":
            out.append({"type": "marrow", "date": day(n), "blasts_pct": rng.choice([0.5, 2, 4.9, 5, 8, 24, 30, 60])})
        elif kind == "mrd":
            mrd = {"type": "mrd", "date": day(n), "percent": rng.choice([0, 0.005, 0.05, 0.2, 0.9, 1, 2, 4, 6, 30]),
                   "method": rng.choice(["flow", "pcr", "ngs"]), "sensitivity": 1e-5}
            sample = rng.choice(["marrow", "blood", None])
            out.append(mrd | ({"sample": sample} if sample else {}))
        elif kind == "cbc":
            out.append({"type": "cbc", "date": day(n), "anc": rng.choice([0.4, 1.2, 2]),
                        "platelets": rng.choice([40, 120]), "blasts_pct": rng.choice([0, 0, 3])})
        elif kind == "csf":
            out.append({"type": "csf", "date": day(n), "wbc": rng.choice([0, 3, 20]), "rbc": rng.choice([0, 0, 500]),
                        "blasts": rng.choice([True, False])})
        elif kind == "extramedullary":
            out.append({"type": "extramedullary", "date": day(n), "site": rng.choice(["testis", "cns"]),
                        "present": rng.choice([True, False])})
        else:
            out.append({"type": "treatment", "phase": "salvage", "start": day(n + 2)})
    return out


def random_course(rng: random.Random) -> dict:
    findings = [
        {"type": "marrow", "date": day(0), "blasts_pct": 85},
        {"type": "cbc", "date": day(0), "wbc": 20, "anc": 0.5, "platelets": 40, "blasts_pct": 50},
        {"type": "immunophenotype", "date": day(0), "markers": B_MARKERS},
        {"type": "treatment", "phase": "induction", "start": day(1), "end": day(28)},
        {"type": "treatment", "phase": "consolidation", "start": day(36)},
    ]
    for n in sorted(rng.sample([15, 29, 43, 80, 200, 214, 300, 330], rng.randint(2, 6))):
        findings += findings_of_day(rng, n)
    return {"patient": {"id": "order", "age_years": rng.choice([6, 40]), "sex": "male"}, "diagnosis_date": day(0),
            "findings": findings}


def reading(data: dict) -> tuple:
    r = assess(case_from_dict(data))

    def conclusions(items) -> list[str]:
        return sorted(str((c.topic, c.value, c.determined)) for c in items)

    return (
        [(p.date, p.status, p.conclusion.rule, p.conclusion.determined) for p in r.status.timeline],
        r.status.current, r.status.since,
        [(e.kind, e.onset, e.site, e.outcome) for e in r.course.episodes],
        sorted((a.code, a.severity) for a in r.alerts),
        None if r.mrd.latest is None else (r.mrd.latest.status, r.mrd.latest.value),
        r.risk.mrd_persistence,
        conclusions(r.status.conclusions),
        conclusions(c for e in r.course.episodes for c in e.conclusions),
        conclusions(r.risk.conclusions),
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_order_of_one_days_findings_changes_nothing(seed):
    rng = random.Random(seed)
    for _ in range(50):
        data = random_course(rng)
        reversed_days = data | {"findings": list(reversed(data["findings"]))}
        assert reading(data) == reading(reversed_days), data
