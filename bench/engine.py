"""Engine benchmark: assess many synthetic cases with 3 years of follow-up each.

Prints every figure the engine goals name (issue 11), each with its goal:

- ``assess`` throughput on one core (>= 1,000 cases/s), its CPU time per case
  (<= 1 ms) and latency per case (p50, p99);
- ``assess`` time over ``json.loads`` time of the same case text (<= 3x);
- the size of the assessment JSON (<= 50 KB for a 3-year case);
- end to end, parse + validate + assess (>= 500 cases/s): as the case files
  are read (``case_from_json``: JSON parsed and validated in one pass) and,
  for comparison, ``json.loads`` then ``case_from_dict``; and streamed, each
  case read, assessed and let go before the next, as a batch job runs.

Runs on one core (one process); the cases are generated first and kept in
memory, as a batch job would.

    .venv/bin/python bench/engine.py [--cases 10000] [--years 3] [--seed 7] [--serving-gc]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from allcare.cohort.synthetic import generate_case
from allcare.engine import assess, assessment_to_json, case_from_dict
from allcare.engine.case import case_from_json


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(label: str, work, items: list) -> tuple[float, float, list]:
    """(wall seconds, CPU seconds, results) of ``work`` over ``items`` (keep no results you do not need:
    every object kept alive makes the garbage collector's full passes longer)."""
    print(f"  {label}...", file=sys.stderr)
    start, cpu = time.perf_counter(), time.process_time()
    results = [work(item) for item in items]
    return time.perf_counter() - start, time.process_time() - cpu, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serving-gc", action="store_true",
                        help="collect garbage as the web app and CDS Hooks service do (allcare.serving)")
    args = parser.parse_args()
    if args.serving_gc:
        from allcare.serving import tune_garbage_collector

        tune_garbage_collector()
    print(f"garbage collector thresholds: {gc.get_threshold()}")

    rng = random.Random(args.seed)
    print(f"generating {args.cases} cases ({args.years:g} years each)...", file=sys.stderr)
    texts = [json.dumps(generate_case(rng, i, years=args.years)) for i in range(args.cases)]
    findings = [len(json.loads(t)["findings"]) for t in texts[:200]]
    n = args.cases
    print(f"cases: {n}; findings per case: mean {statistics.mean(findings):.0f} (min {min(findings)}, max {max(findings)}); "
          f"case JSON {statistics.mean(len(t) for t in texts) / 1000:.1f} KB on average")

    _, loads_cpu, _ = timed("json.loads", json.loads, texts)
    dict_wall, dict_cpu, _ = timed("json.loads + case_from_dict", lambda t: case_from_dict(json.loads(t)), texts)
    json_wall, json_cpu, cases = timed("case_from_json", case_from_json, texts)
    # A batch job reads, assesses and lets go of one case at a time: nothing it keeps makes the
    # garbage collector's passes longer (the lines above keep every case to time the stages apart).
    stream_wall, stream_cpu, _ = timed("case_from_json + assess, one case at a time",
                                       lambda t: assess(case_from_json(t)) and None, texts)

    latencies = []

    def assess_one(case):
        t0 = time.perf_counter()
        result = assess(case)
        latencies.append(time.perf_counter() - t0)
        return result

    assess_wall, assess_cpu, _ = timed("assess", lambda case: assess_one(case) and None, cases)
    sizes = [len(assessment_to_json(assess(case))) for case in cases[: min(n, 2000)]]

    print(f"assess throughput: {n / assess_wall:,.0f} cases/s on one core (goal >= 1,000)")
    print(f"assess CPU time per case: {assess_cpu / n * 1000:.2f} ms (goal <= 1 ms; CPU time leaves out waiting for the core)")
    print(f"assess latency per case: p50 {percentile(latencies, 0.50) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f} ms")
    print(f"json.loads of the case: {loads_cpu / n * 1e6:.0f} us CPU per case")
    print(f"assess / json.loads (CPU): {assess_cpu / loads_cpu:.1f}x (goal <= 3x)")
    print(f"assessment JSON: mean {statistics.mean(sizes) / 1000:.1f} KB, p99 {percentile(sizes, 0.99) / 1000:.1f} KB, "
          f"max {max(sizes) / 1000:.1f} KB over {len(sizes)} cases (goal <= 50 KB)")
    print(f"parse + validate per case: case_from_json {json_cpu / n * 1e6:.0f} us CPU; "
          f"json.loads + case_from_dict {dict_cpu / n * 1e6:.0f} us CPU")
    print(f"end to end (case_from_json + assess): {n / (json_wall + assess_wall):,.0f} cases/s, "
          f"{(json_cpu + assess_cpu) / n * 1000:.2f} ms CPU per case (goal >= 500 cases/s)")
    print(f"end to end (json.loads + case_from_dict + assess): {n / (dict_wall + assess_wall):,.0f} cases/s")
    print(f"end to end, streamed (each case read, assessed and let go): {n / stream_wall:,.0f} cases/s, "
          f"{stream_cpu / n * 1000:.2f} ms CPU per case (goal >= 500 cases/s)")


if __name__ == "__main__":
    main()
