"""Engine benchmark: assess many synthetic cases with 3 years of follow-up each.

Prints cases per second, p50/p99 latency per case, and how assess time compares with
the time to only parse the same JSON (json.loads) and to parse + validate it into a Case.
Runs on one core (one process). Goal (issue 2): >= 1,000 cases/s and assess <= 5x parse.

    .venv/bin/python bench/engine.py [--cases 10000] [--years 3] [--seed 7]
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

from allcare.cohort.synthetic import generate_case  # noqa: E402
from allcare.engine import assess, case_from_dict  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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
    print(f"findings per case: mean {statistics.mean(findings):.0f} (min {min(findings)}, max {max(findings)})")

    start = time.perf_counter()
    for text in texts:
        json.loads(text)
    parse_only = time.perf_counter() - start

    start = time.perf_counter()
    cases = [case_from_dict(json.loads(text)) for text in texts]
    parse_validate = time.perf_counter() - start

    latencies = []
    progress_every = max(1, args.cases // 10)
    start, cpu_start = time.perf_counter(), time.process_time()
    for number, case in enumerate(cases, 1):
        t0 = time.perf_counter()
        assess(case)
        latencies.append(time.perf_counter() - t0)
        if number % progress_every == 0:
            print(f"  assessed {number}/{args.cases}", file=sys.stderr)
    assess_total = time.perf_counter() - start
    assess_cpu = time.process_time() - cpu_start

    print(f"cases: {args.cases}")
    print(f"assess throughput: {args.cases / assess_total:,.0f} cases/s (one core)")
    print(f"assess latency per case: p50 {percentile(latencies, 0.50) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f} ms")
    # CPU time leaves out time spent waiting for the core (other processes on a shared machine).
    print(f"assess CPU time per case: {assess_cpu / args.cases * 1000:.2f} ms")
    print(f"json.loads only: {parse_only / args.cases * 1e6:.0f} us/case; parse + validate: {parse_validate / args.cases * 1e6:.0f} us/case")
    print(f"assess / json.loads ratio: {assess_total / parse_only:.1f}x")
    print(f"assess / (parse + validate) ratio: {assess_total / parse_validate:.1f}x")
    print(f"end-to-end (parse + validate + assess): {args.cases / (parse_validate + assess_total):,.0f} cases/s")


if __name__ == "__main__":
    main()
