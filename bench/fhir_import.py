"""Bulk FHIR NDJSON import benchmark: resources/s and peak memory.

A synthetic cohort (``allcare.cohort.synthetic``, ``--years`` of follow-up each) is exported with
allcare's exporter as bulk NDJSON (one file per resource type, optionally gzip-compressed), then
imported with ``NdjsonImport`` exactly as ``allcare import fhir *.ndjson --to-case-dir`` does (without
writing case files). Prints resources, patients, seconds, resources/s and peak resident memory of this
process and of its worker processes. Run it twice with different ``--patients`` to see memory stay flat.
Goal (issue 10): >= 20,000 resources/s with flat memory.

``--export-findings N`` measures the other direction instead: one synthetic record with N findings
(treatment monitoring included, follow-up as long as it takes) exported as ``Patient/$everything`` does (the
Bundle with the assessment's conclusions, written as JSON); prints the time per finding and in all.

    .venv/bin/python bench/fhir_import.py [--patients 200] [--years 3] [--workers N] [--gzip] [--strict]
    .venv/bin/python bench/fhir_import.py --export-findings 5000
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import orjson  # noqa: E402

from allcare.cohort.synthetic import generate_case  # noqa: E402
from allcare.engine import assess, case_from_dict  # noqa: E402
from allcare.interop.fhir import NdjsonImport, bundle_json, case_resources  # noqa: E402


def write_export(directory: Path, patients: int, years: float, seed: int, compress: bool) -> tuple[list[Path], int]:
    lines: dict[str, list[bytes]] = defaultdict(list)
    rng = random.Random(seed)
    for n in range(patients):
        case = case_from_dict(generate_case(rng, n, years=years))
        for r in case_resources(case):
            lines[r["resourceType"]].append(orjson.dumps(r))
    paths = []
    for rtype, rows in lines.items():
        data = b"\n".join(rows) + b"\n"
        path = directory / (f"{rtype}.ndjson.gz" if compress else f"{rtype}.ndjson")
        path.write_bytes(gzip.compress(data, 6) if compress else data)
        paths.append(path)
    return paths, sum(len(rows) for rows in lines.values())


def cpu_seconds() -> float:
    """User + system CPU time of this process and its (finished) worker processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


def export_record(findings: int, seed: int, repeat: int = 3) -> None:
    """Time the export of one record of ``findings`` findings (best of ``repeat``, CPU seconds)."""
    years = 3.0
    while len((data := generate_case(random.Random(seed), 1, years=years, monitoring=True))["findings"]) < findings:
        years *= 1.5
    case = case_from_dict({**data, "findings": data["findings"][:findings]})  # the case model holds at most 5,000
    assessment = assess(case)
    times = []
    for _ in range(repeat):
        started = time.process_time()
        body = orjson.dumps(bundle_json(case, assessment))
        times.append(time.process_time() - started)
    best = min(times)
    print(f"$everything export: {len(case.findings):,} findings ({years:.0f} years of synthetic follow-up), "
          f"{len(orjson.loads(body)['entry']):,} resources, {len(body) / 1e6:.1f} MB of JSON")
    print(f"CPU: {best:.2f} s in all, {best / len(case.findings) * 1000:.3f} ms per finding (best of {repeat}; "
          f"load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes for the second pass")
    parser.add_argument("--gzip", action="store_true", help="read .ndjson.gz files")
    parser.add_argument("--strict", action="store_true", help="also validate with the R4B models")
    parser.add_argument("--export-findings", type=int, default=None, help="time the export of one record this large instead")
    args = parser.parse_args()
    if args.export_findings:
        export_record(args.export_findings, args.seed)
        return

    with tempfile.TemporaryDirectory(prefix="allcare-bench-") as tmp:
        paths, total = write_export(Path(tmp), args.patients, args.years, args.seed, args.gzip)
        size = sum(p.stat().st_size for p in paths)
        print(f"export: {args.patients} patients, {total:,} resources, {size / 1e6:.1f} MB in {len(paths)} files"
              + (" (gzip)" if args.gzip else ""))
        rss_before = peak_rss_mb(resource.RUSAGE_SELF)
        cpu_before = cpu_seconds()
        started = time.perf_counter()
        job = NdjsonImport(paths, workers=args.workers, strict=args.strict)
        imported = failed = 0
        for outcome in job.patients():
            imported += outcome.imported is not None
            failed += outcome.imported is None
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
    print(f"import: {imported} patients imported, {failed} failed, {job.resources:,} resources in {elapsed:.2f} s "
          f"({args.workers} worker process(es), {os.cpu_count()} CPU(s){', strict' if args.strict else ''})")
    print(f"throughput: {job.resources / elapsed:,.0f} resources/s (wall clock); CPU {cpu:.2f} s = "
          f"{job.resources / cpu:,.0f} resources per CPU-second (independent of other load; load average now "
          f"{os.getloadavg()[0]:.1f})")
    print(f"peak RSS: this process {peak_rss_mb(resource.RUSAGE_SELF):.0f} MB (before import {rss_before:.0f} MB, "
          f"includes generating the export), largest worker {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB")
    goal = job.resources / elapsed >= 20_000
    print(f"goal >= 20,000 resources/s: {'met' if goal else 'not met'}")


if __name__ == "__main__":
    main()
