"""CPU of a *cold* CDS Hooks request, in-process: what one new prefetch costs before and in the engine.

Builds ``--patients`` different 3-year prefetches (as ``bench/cds_hooks.py`` does) and answers each once
with the service's own :func:`~allcare.interop.cdshooks.service.answer_request`, with no HTTP; every
patient is new to the service, so every request is cold. Its stages: parse (the request's envelope, the
prefetch kept as text), decode (each prefetch value decoded, a Bundle's resources with it), check (each
resource's type, kind and own id read once, duplicates dropped), map (into a validated case), assess,
cards. Prints the CPU time (``time.process_time``, all threads) per stage, mean and p90 over the patients:
a cold request's cost whatever else the machine runs. The stages run inline, unless ``--threads``: then
in threads off the event loop, as the server runs them (handing a stage to a thread and back costs CPU
too). ``--profile N`` prints the N most expensive functions of the whole request (cProfile; inline only;
``SORT=tottime`` to sort by own time).

    .venv/bin/python bench/cds_cold.py [--patients 50] [--years 3] [--threads] [--profile 25]
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cds_hooks import request_body  # noqa: E402

from allcare.interop.cdshooks.service import CdsSettings, Timing, answer_request  # noqa: E402
from allcare.serving import prepare_server_process  # noqa: E402

BEFORE_ENGINE = ("parse", "decode", "check", "map")


async def inline(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--threads", action="store_true", help="run the stages in threads, as the server does")
    parser.add_argument("--profile", type=int, default=0, help="print this many functions of the request (cProfile)")
    args = parser.parse_args()
    bodies = [request_body(args.years, args.seed + n) for n in range(args.patients)]
    prepare_server_process()  # as the server does: UCUM registry loaded, collector thresholds set
    if args.threads and args.profile:
        parser.error("--profile sees only the thread it runs in: use it without --threads")
    settings = CdsSettings() if args.threads else CdsSettings(offload=inline)
    stages: dict[str, list[float]] = {}
    profiler = cProfile.Profile() if args.profile else None
    resources = sum(count for _, count, _ in bodies)

    async def answer_all() -> None:  # one event loop, as a server worker has
        for body, _, _ in bodies:
            timing = Timing(time.process_time)
            if profiler:
                profiler.enable()
            await answer_request(body, settings, timing)
            if profiler:
                profiler.disable()
            if "known" in timing.stages:
                raise SystemExit("a request was answered from the cache: the bench measures cold requests")
            for name, ms in timing.stages.items():
                stages.setdefault(name, []).append(ms)

    asyncio.run(answer_all())
    total = [sum(values) for values in zip(*stages.values(), strict=True)]
    print(f"{len(bodies)} cold requests, {resources / len(bodies):.0f} resources each ({args.years:g} years), "
          f"stages {'in threads' if args.threads else 'inline'}; load average {os.getloadavg()[0]:.1f}")
    for name, values in [*stages.items(), ("total", total)]:
        ordered = sorted(values)
        print(f"  {name:8s} CPU mean {statistics.mean(values):6.2f} ms, p90 {ordered[int(0.9 * len(ordered))]:6.2f} ms")
    before_engine = [sum(v) for v in zip(*(stages[name] for name in BEFORE_ENGINE), strict=True)]
    print(f"  before the engine ({' + '.join(BEFORE_ENGINE)}): mean {statistics.mean(before_engine):.2f} ms CPU")
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(args.profile)


if __name__ == "__main__":
    main()
