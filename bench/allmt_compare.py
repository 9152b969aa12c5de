"""Compare allcare's maintenance metrics with allMT's on allMT's own processed patient files.

allMT (Mungle, Mahadevan, Krishnan; R package, https://github.com/tmungle/allMT) ships processed
maintenance data, one CSV per patient (columns Cycle, Dates, Weeks, ANC, PLT, Hb, MP, MTX, MP_adj,
MTX_adj; ``inst/extdata/processed_data``). For each file this script

- computes allMT's figures from allMT's own columns (its week numbers and dose intensities): the
  weighted mean ANC, mercaptopurine dose intensity, antimetabolite dose intensity (per-visit product)
  and the time in the ICiCLe-ALL-14 band, with allMT's weights (weeks to the next visit, the last 1);
- rebuilds the course as an allcare case from the raw columns only (dates, counts, weekly doses in mg,
  and the BSA implied by the first visit's dose intensity, recorded at every visit as allMT assumes a
  fixed BSA) and prints allcare's figures beside them.

Nothing is asserted: it prints the figures. The data is not part of allcare; pass the files:

    .venv/bin/python bench/allmt_compare.py path/to/allMT/inst/extdata/processed_data/UPN_*.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from allcare.engine import assess, case_from_dict

ICICLE_MP_MG_M2_DAY = 60.0  # allMT's default daily_mp_dose, the ICiCLe-ALL-14 dose


def allmt_figures(rows: list[dict]) -> dict[str, float]:
    weights = [float(b["Weeks"]) - float(a["Weeks"]) for a, b in itertools.pairwise(rows)] + [1.0]
    anc = [float(r["ANC"]) for r in rows]
    mp = [float(r["MP_adj"]) / 100 for r in rows]
    mtx = [float(r["MTX_adj"]) / 100 for r in rows]
    total = sum(weights)
    return {
        "weighted mean ANC": sum(w * a for w, a in zip(weights, anc, strict=True)) / total,
        "mercaptopurine DI %": 100 * sum(w * m for w, m in zip(weights, mp, strict=True)) / total,
        "antimetabolite DI %": 100 * sum(w * m * x for w, m, x in zip(weights, mp, mtx, strict=True)) / total,
        "time in 0.75-1.5 %": 100 * sum(w for w, a in zip(weights, anc, strict=True) if 0.75 < a <= 1.5) / total,
    }


def _iso_date(text: str) -> str:
    """allMT's files write dates as dd/mm/yyyy or as ISO dates (both occur in its processed data)."""
    for form in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, form).date().isoformat()
        except ValueError:
            continue
    raise SystemExit(f"unreadable date {text!r}: expected YYYY-MM-DD or DD/MM/YYYY")


def allcare_figures(rows: list[dict], name: str) -> dict[str, float | None]:
    first = rows[0]
    bsa = float(first["MP"]) / (float(first["MP_adj"]) / 100 * ICICLE_MP_MG_M2_DAY * 7)
    day = _iso_date
    findings: list[dict] = [{"type": "treatment", "phase": "maintenance", "start": day(first["Dates"])}]
    for r in rows:
        when = day(r["Dates"])
        findings += [
            {"type": "anthropometry", "date": when, "bsa": round(bsa, 4)},
            {"type": "cbc", "date": when, "anc": float(r["ANC"]), "platelets": float(r["PLT"]), "hemoglobin": float(r["Hb"])},
            {"type": "dose", "agent": "mercaptopurine", "dose": {"value": float(r["MP"]), "unit": "mg"}, "frequency": "weekly", "start": when},
            {"type": "dose", "agent": "methotrexate", "dose": {"value": float(r["MTX"]), "unit": "mg"}, "frequency": "weekly", "start": when},
        ]
    case = case_from_dict({"schema": "allcare.case/1", "patient": {"id": name, "age_years": 8}, "findings": findings})
    m = assess(case).maintenance
    return {
        "weighted mean ANC": m.weighted_mean_count,
        "mercaptopurine DI %": m.mercaptopurine_di_pct,
        "antimetabolite DI %": m.antimetabolite_di_pct,
        "time in 0.75-1.5 %": m.time_in_target_pct,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="allMT processed patient CSV files")
    args = parser.parse_args()
    print(f"{'patient':10} {'figure':22} {'allMT':>10} {'allcare':>10}")
    for path in args.files:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        theirs, ours = allmt_figures(rows), allcare_figures(rows, path.stem)
        for key in theirs:
            mine = ours[key]
            print(f"{path.stem:10} {key:22} {theirs[key]:10.3f} {'-' if mine is None else f'{mine:10.3f}':>10}")


if __name__ == "__main__":
    main()
