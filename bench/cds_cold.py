"""CPU of a *cold* CDS Hooks request, in-process: what one new prefetch costs before and in the engine.

Builds ``--patients`` different 3-year prefetches (as ``bench/cds_hooks.py`` does) and runs each once
through the service's own steps, with no HTTP and no cache: parse (the request's envelope), gather (each
prefetch value decoded, a Bundle's resources with it when they have the shapes allcare reads), check (each
resource's type, kind and own id read once, duplicates dropped), map (into a validated case), assess, cards.
Prints the CPU time (``time.process_time``) per stage, mean and p90 over the patients: a cold request's
cost whatever else the machine runs. ``--profile N`` prints the N most expensive functions of the check
and map stages (cProfile; ``SORT=tottime`` to sort by own time).

    .venv/bin/python bench/cds_cold.py [--patients 50] [--years 3] [--profile 25]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cds_hooks import request_body  # noqa: E402

from allcare.clock import assessment_date  # noqa: E402
from allcare.engine import assess  # noqa: E402
from allcare.interop.cdshooks.cards import assessment_cards  # noqa: E402
from allcare.interop.cdshooks.service import CdsSettings, _checked, _gather, _parse_request  # noqa: E402
from allcare.interop.fhir.importer import import_items, with_contained  # noqa: E402
from allcare.serving import prepare_server_process  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of check + map (cProfile)")
    args = parser.parse_args()
    bodies = [request_body(args.years, args.seed + n) for n in range(args.patients)]
    prepare_server_process()  # as the server does: UCUM registry loaded, collector thresholds set
    settings = CdsSettings()
    stages: dict[str, list[float]] = {}
    profiler = cProfile.Profile() if args.profile else None

    def lap(name: str, since: float) -> float:
        now = time.process_time()
        stages.setdefault(name, []).append((now - since) * 1000)
        return now

    resources = 0
    for body, count in bodies:
        resources += count
        t = time.process_time()
        hook_request, prefetch, _ = _parse_request(body, settings)
        t = lap("parse", t)
        gathered, _ = asyncio.run(_gather(hook_request, prefetch, settings))
        t = lap("gather", t)
        if profiler:
            profiler.enable()
        items = with_contained(_checked(gathered))
        t = lap("check", t)
        imported = import_items(items).patients[0]
        t = lap("map", t)
        if profiler:
            profiler.disable()
        assessment = assess(imported.case, as_of=assessment_date(imported.case), rules=settings.rules)
        t = lap("assess", t)
        assessment_cards(assessment, hook_request.hookInstance, settings.patient_url(imported.patient_id))
        lap("cards", t)
    total = [sum(values) for values in zip(*stages.values(), strict=True)]
    print(f"{len(bodies)} cold requests, {resources / len(bodies):.0f} resources each ({args.years:g} years); "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, values in [*stages.items(), ("total", total)]:
        ordered = sorted(values)
        print(f"  {name:7s} CPU mean {statistics.mean(values):6.2f} ms, p90 {ordered[int(0.9 * len(ordered))]:6.2f} ms")
    before_engine = [sum(v) for v in zip(stages["parse"], stages["gather"], stages["check"], stages["map"], strict=True)]
    print(f"  before the engine (parse + gather + check + map): mean {statistics.mean(before_engine):.2f} ms CPU")
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(args.profile)


if __name__ == "__main__":
    main()
