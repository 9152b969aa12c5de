"""The benchmarks in ``bench/`` still run against today's code.

They are how the project's speed goals are measured (never asserted in a timed test), so a bench that
breaks when an interface changes silently takes a figure away: ``bench/fhir_import.py`` did, when the
exporter started writing plain dicts. Each bench runs here at a size that takes seconds, and must finish
with exit 0 and print the figure lines its goal is read from. No figure is compared with a goal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"

# (bench and its arguments at a tiny size, the lines its figures are read from)
SMALL_RUNS = [
    (["engine.py", "--cases", "3"],
     ["assess CPU time per case:", "assessment JSON: mean", "end to end, streamed"]),
    (["fhir_import.py", "--patients", "2", "--workers", "1"],
     ["import: 2 patients imported, 0 failed", "throughput:", "peak RSS:"]),
    (["fhir_import.py", "--export-findings", "30"], ["$everything export: 30 findings", "ms per finding"]),
    (["cds_cold.py", "--patients", "2"], ["before the engine (parse + decode + check + map): mean"]),
    (["forecast.py", "--patients", "3"], ["time per forecast: median"]),
    (["page_cpu.py", "--patients", "3", "--repeats", "1"], ["patient page, server CPU in-process"]),
    (["cds_hooks.py", "--requests", "4", "--warmup", "1", "--workers", "1", "--clients", "1", "--duration", "30"],
     ["cold (assessed afresh by the worker that answered):", "warm:"]),
    # open loop on raw sockets; every second request carries a prefetch no worker has seen: 2 of 4 are cold
    (["cds_hooks.py", "--rate", "4", "--requests", "4", "--fresh-share", "0.5", "--warmup", "1", "--workers", "1",
      "--duration", "30"],
     ["errors: 0", "cold (assessed afresh by the worker that answered): 2 requests", "warm: 2 requests"]),
]


@pytest.mark.parametrize(("arguments", "expected_lines"), SMALL_RUNS, ids=[" ".join(a) for a, _ in SMALL_RUNS])
def test_bench_runs_and_prints_its_figures(arguments: list[str], expected_lines: list[str]) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run([sys.executable, str(BENCH / arguments[0]), *arguments[1:]], capture_output=True,
                          text=True, timeout=240, env=env, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    for line in expected_lines:
        assert line in done.stdout, f"{line!r} missing from the output of {arguments[0]}:\n{done.stdout[-2000:]}"
