"""ANC forecast (engine/maintenance/forecast.py) on held-out synthetic maintenance courses.

Each demo-cohort course (doses titrated to counts by allcare's synthetic generator, whose count
dynamics are NOT the forecast's model) is cut at a maintenance count; the forecast is fitted to the
counts up to the cut and compared with the counts of the next four weeks. Prints the median
absolute error on the log scale against the naive forecast "the next count equals the last one",
the share of later counts inside the 80% interval, and the time per forecast. Nothing is asserted.

    .venv/bin/python bench/forecast.py [--patients 120] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import statistics
import sys
import time
from bisect import bisect_right
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import msgspec

from allcare.engine import assess, case_from_dict
from allcare.engine.maintenance.forecast import forecast
from allcare.engine.monitoring_output import MaintenanceRows
from allcare.store.demo import demo_case


def _head(counts: MaintenanceRows, rows: int) -> MaintenanceRows:
    """The first ``rows`` counts of a maintenance table joined with its counts (a column written once stays once)."""
    table = counts.table
    columns = {name: getattr(table, name) for name in table.__struct_fields__ if isinstance(getattr(table, name), list)}
    head = msgspec.structs.replace(table, row_count=rows, **{name: c[:rows] for name, c in columns.items()})
    return MaintenanceRows(head, counts.indexes[:rows], counts.dates[:rows], counts.anc[:rows], counts.platelets[:rows],
                           counts.wbc[:rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    model_errors, naive_errors, inside, total, times = [], [], 0, 0, []
    courses = 0
    for number in range(1, args.patients + 1):
        a = assess(case_from_dict(demo_case(rng, number, dt.date(2026, 3, 1))))
        m = a.maintenance
        if m is None or len(m.counts) < 16:
            continue
        courses += 1
        counts = m.counts.read(a.blood_counts)
        rows = counts.rows()
        half = len(rows) // 2
        cut = rows[half]  # the held-out half starts after this count
        seen = _head(counts, bisect_right(counts.dates, cut.date))
        start = time.perf_counter()
        result = forecast(msgspec.structs.replace(m, counts=seen.table, running=True, suggestion=None), seen, cut.date)
        times.append(time.perf_counter() - start)
        if result is None:
            continue
        later = [c for c in rows if cut.date < c.date <= cut.date + dt.timedelta(days=28) and c.anc]
        for count in later:
            point = min(result.points, key=lambda p: abs((p.date - count.date).days))
            model_errors.append(abs(math.log(count.anc) - math.log(point.anc)))
            naive_errors.append(abs(math.log(count.anc) - math.log(cut.anc)))
            inside += point.low <= count.anc <= point.high
            total += 1
    print(f"courses {courses}, held-out counts {total}")
    print(f"median |log error|: forecast {statistics.median(model_errors):.3f}  last value {statistics.median(naive_errors):.3f}")
    print(f"80% interval coverage: {100 * inside / max(total, 1):.1f}%")
    print(f"time per forecast: median {1000 * statistics.median(times):.0f} ms")


if __name__ == "__main__":
    main()
