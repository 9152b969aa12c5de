"""Bulk FHIR export (NDJSON, one resource type per file) -> one case per patient, as a stream.

A bulk export writes resources by type, not by patient, and a case needs all of
a patient's resources together. Holding the export in memory does not scale to
a 1 GB file, so the import makes two passes with bounded memory:

1. **scan**: read every file line by line (a line is parsed, checked for its
   resource type and FHIR version, and its patient reference is read); the raw
   line is appended to one of N temporary *bucket* files chosen by a hash of the
   patient reference. N is chosen from the input size so that a bucket holds
   about ``bucket_bytes`` (default 4 MB). Medication resources (few, shared by
   many patients) are kept as an id -> name table for ``medicationReference``.
2. **import**: each bucket is read on its own, its lines grouped by patient, and
   each patient validated with the R4B models, mapped and yielded before the
   next bucket is read.

Memory therefore stays around one bucket (plus the largest single patient),
whatever the size of the export; the temporary files are removed afterwards.
A progress callback gets bytes read and resources seen for both passes.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import math
import multiprocessing
import os
import tempfile
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import msgspec
import orjson

from ...serving import SERVING_GC_THRESHOLDS
from .assemble import PatientImport
from .importer import import_items, with_contained
from .item import Item
from .problems import FhirInputError, FhirProblem, MappingReport
from .read_helpers import concept_text, short_ref
from .reader import check_resource_type, check_shape, check_version, read_head, validate
from .shapes import Medication

DEFAULT_MAX_NDJSON_BYTES = 8 * 1024**3
DEFAULT_MAX_LINE_BYTES = 32 * 1024**2
DEFAULT_BUCKET_BYTES = 4 * 1024**2
MAX_BUCKETS = 256
GZIP_RATIO = 10  # NDJSON of FHIR compresses about tenfold: buckets are sized on the expanded estimate


@dataclass(frozen=True)
class Progress:
    """Where a bulk import is: ``stage`` is ``scan`` (pass 1) or ``import`` (pass 2)."""

    stage: str
    bytes_done: int
    bytes_total: int
    resources: int


@dataclass
class PatientOutcome:
    """One patient of a bulk import: the imported case, or every problem that stopped it."""

    patient_ref: str
    imported: PatientImport | None = None
    problems: list[FhirProblem] = field(default_factory=list)


ProgressCallback = Callable[[Progress], None]


def iter_ndjson(path: str | Path, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[tuple[int, int, dict]]:
    """``(line number, bytes read so far, resource)`` for each non-blank line, streaming.

    A line longer than ``max_line_bytes`` or one that is not a JSON object is an error naming
    the file and line; the rest of the file is never loaded into memory.
    """
    for number, done, _, resource in _lines(path, max_line_bytes):
        yield number, done, resource


def is_gzip(path: str | Path) -> bool:
    return str(path).lower().endswith(".gz")


def _raw_lines(path: str | Path, max_line_bytes: int) -> Iterator[tuple[int, int, bytes]]:
    """Non-blank lines of a ``.ndjson`` or ``.ndjson.gz`` file; ``done`` counts bytes of the file as stored."""
    name = str(path)
    with open(path, "rb") as raw, (gzip.open(raw, "rb") if is_gzip(path) else raw) as handle:
        number = 0
        while True:
            try:
                line = handle.readline(max_line_bytes + 1)
            except (OSError, EOFError) as error:
                raise FhirInputError([FhirProblem(f"{name} line {number + 1}", "", f"not a readable gzip file: {error}")]) from None
            if not line:
                return
            number += 1
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                raise FhirInputError([FhirProblem(f"{name} line {number}", "", f"line longer than {max_line_bytes:,} bytes")])
            if line.strip():
                yield number, raw.tell(), line


def _json_problem(line: bytes, where: str, error: Exception | str) -> FhirInputError:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return FhirInputError([FhirProblem(where, "", "not UTF-8 text")])
    text = str(error)
    if "Expected `object`" in text:
        return FhirInputError([FhirProblem(where, "", "each NDJSON line must be one FHIR resource (a JSON object)")])
    return FhirInputError([FhirProblem(where, "", f"not valid JSON: {text.split(' - ', maxsplit=1)[0]}")])


def _lines(path: str | Path, max_line_bytes: int) -> Iterator[tuple[int, int, bytes, dict]]:
    for number, done, line in _raw_lines(path, max_line_bytes):
        try:
            resource = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise _json_problem(line, f"{path} line {number}", f"{error.msg.split(':')[0]} at column {error.colno}") from None
        if not isinstance(resource, dict):
            raise FhirInputError([FhirProblem(f"{path} line {number}", "", "each NDJSON line must be one FHIR resource (a JSON object)")])
        yield number, done, line, resource


def _head(line: bytes, where: str) -> dict:
    """The line's resource type, id, marker elements and patient reference (:func:`.reader.read_head`)."""
    try:
        return read_head(line)
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise _json_problem(line, where, error) from None


def _patient_key(resource: dict) -> str | None:
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource.get('id')}" if isinstance(resource.get("id"), str) and resource.get("id") else None
    for name in ("subject", "patient"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return short_ref(ref["reference"]) or ref["reference"]
    return None


@contextmanager
def fewer_collections():
    """Cyclic garbage collection as a server runs it (``serving.SERVING_GC_THRESHOLDS``) while an import runs.

    An import allocates millions of short-lived objects that reference counting frees at
    once; with Python's default thresholds the collector walked the heap thousands of
    times and took about a third of the time. The caller's settings are restored after.
    """
    before = gc.get_threshold()
    gc.set_threshold(*SERVING_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _bucket(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % n


class NdjsonImport:
    """A bulk import of NDJSON files; iterate :meth:`patients` to run it.

    ``report`` lists resources about no patient (practitioners, organisations ...);
    each patient's own report is in its :class:`PatientOutcome`.
    """

    def __init__(self, paths: Sequence[str | Path], *, progress: ProgressCallback | None = None,
                 max_bytes: int = DEFAULT_MAX_NDJSON_BYTES, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES, fhir_version: str | None = None, workdir: str | None = None,
                 strict: bool = False, workers: int = 1):
        self.paths = [Path(p) for p in paths]
        self.progress = progress
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes
        self.bucket_bytes = bucket_bytes
        self.fhir_version = fhir_version
        self.workdir = workdir
        self.strict = strict
        self.workers = workers
        self.report = MappingReport()
        self.medications: dict[str, str] = {}
        self.resources = 0

    def check_files(self) -> int:
        """Total size; every missing, unreadable or oversized file is reported at once, before any work."""
        problems, total = [], 0
        for path in self.paths:
            if not path.is_file():
                problems.append(FhirProblem(str(path), "", "no such file"))
                continue
            size = path.stat().st_size
            if size > self.max_bytes:
                problems.append(FhirProblem(str(path), "", f"{size:,} bytes is over the limit of {self.max_bytes:,} bytes"))
            total += size
        if problems:
            raise FhirInputError(problems)
        check_version(self.fhir_version, "input")
        return total

    def patients(self) -> Iterator[PatientOutcome]:
        """Run both passes, yielding each patient as soon as it is imported."""
        with fewer_collections():
            yield from self._run()

    def _run(self) -> Iterator[PatientOutcome]:
        total = self.check_files()
        expanded = sum(p.stat().st_size * (GZIP_RATIO if is_gzip(p) else 1) for p in self.paths)
        buckets = max(1, min(MAX_BUCKETS, math.ceil(expanded / self.bucket_bytes)))
        with tempfile.TemporaryDirectory(prefix="allcare-ndjson-", dir=self.workdir) as tmp:
            files = [Path(tmp) / f"bucket-{n:03d}.tsv" for n in range(buckets)]
            self._scan(files, total)
            yield from self._import(files, total)

    # Pass 1 -----------------------------------------------------------------------
    def _scan(self, files: list[Path], total: int) -> None:
        handles = [open(f, "wb") for f in files]  # noqa: SIM115 - closed in the finally below
        done_before = 0
        try:
            for path in self.paths:
                for number, done, raw in _raw_lines(path, self.max_line_bytes):
                    where = f"{path.name} line {number}"
                    resource = _head(raw, where)
                    check_resource_type(resource, where)
                    check_shape(resource["resourceType"], resource, where)
                    self.resources += 1
                    key = _patient_key(resource)
                    if key is None:
                        self._no_patient(resource, raw, where)
                    else:
                        head = f"{key}\t{where}\t{resource['resourceType']}\t".encode()
                        handles[_bucket(key, len(files))].write(head + raw.strip() + b"\n")
                    if self.progress and self.resources % 1000 == 0:
                        self.progress(Progress("scan", done_before + done, total, self.resources))
                done_before += path.stat().st_size
        finally:
            for handle in handles:
                handle.close()
        if self.progress:
            self.progress(Progress("scan", total, total, self.resources))

    def _no_patient(self, resource: dict, raw: bytes, where: str) -> None:
        ref = f"{resource['resourceType']}/{resource.get('id') or where}"
        if resource["resourceType"] == "Medication":
            medication = validate(raw, where, self.strict, "Medication")
            name = concept_text(medication.code) if isinstance(medication, Medication) else None
            if name:
                self.medications[ref] = name
            self.report.add(ref, "mapped", finding="medication names")
            return
        self.report.add(ref, "unmapped", f"{resource['resourceType']} is not about a patient allcare imports")

    # Pass 2 -----------------------------------------------------------------------
    def _import(self, files: list[Path], total: int) -> Iterator[PatientOutcome]:
        """Buckets in order, or, with ``workers`` > 1, in worker processes (each one bucket at a time)."""
        seen = 0
        done = 0
        bucket_total = sum(f.stat().st_size for f in files) or 1
        for size, outcomes in self._bucket_results(files):
            done += size
            for outcome, count in outcomes:
                seen += count
                if outcome is not None:
                    yield outcome
                if self.progress:
                    self.progress(Progress("import", round(done / bucket_total * total), total, seen))
        if self.progress:
            self.progress(Progress("import", total, total, seen))

    def _bucket_results(self, files: list[Path]):
        """(bucket size, its (outcome, resources) pairs): streamed one patient at a time when sequential."""
        if self.workers <= 1 or len(files) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for path in files:
                size = path.stat().st_size
                yield size, bucket_outcomes(path, self.medications, self.strict, self.report)
            return
        # Forked workers share the loaded code and tables; at most 2 buckets per worker are in flight
        # (memory stays about workers x 2 buckets), and results come back in bucket order.
        context = multiprocessing.get_context("fork")
        # The workers inherit this process's heap: frozen, their collector never walks it (each walk
        # touched every inherited object and made the worker copy its pages).
        gc.freeze()
        with _unfreezing(), ProcessPoolExecutor(self.workers, mp_context=context) as pool:
            pending: deque = deque()
            remaining = iter(files)
            for path in remaining:
                pending.append(pool.submit(import_bucket, path, self.medications, self.strict))
                if len(pending) >= 2 * self.workers:
                    break
            while pending:
                size, outcomes, report = pending.popleft().result()
                following = next(remaining, None)
                if following is not None:
                    pending.append(pool.submit(import_bucket, following, self.medications, self.strict))
                self.report.merge(report)
                yield size, outcomes


@contextmanager
def _unfreezing():
    try:
        yield
    finally:
        gc.unfreeze()


def bucket_outcomes(path: Path, medications: dict[str, str], strict: bool, report: MappingReport):
    """Each patient of one bucket file as (outcome or None, resources), imported one after the other."""
    groups: OrderedDict[str, list[tuple[str, str, bytes]]] = OrderedDict()
    with open(path, "rb") as handle:
        for line in handle:
            fields = line.rstrip(b"\n").split(b"\t", 3)
            groups.setdefault(fields[0].decode(), []).append((fields[1].decode(), fields[2].decode(), fields[3]))
    os.remove(path)
    while groups:
        key, raw_items = groups.popitem(last=False)
        yield _one_patient(key, raw_items, medications, strict, report), len(raw_items)


def import_bucket(path: Path, medications: dict[str, str], strict: bool):
    """One bucket in a worker process: (its size, [(outcome or None, resources)], report of resources about no patient)."""
    size = path.stat().st_size
    report = MappingReport()
    return size, list(bucket_outcomes(path, medications, strict, report)), report


def _one_patient(key: str, raw_items: list[tuple[str, str, bytes]], medications: dict[str, str], strict: bool,
                 report: MappingReport) -> PatientOutcome | None:
    """The patient's outcome; None when the export has no such Patient (its resources go to ``report``)."""
    items, problems = [], []
    for where, rtype, raw in raw_items:
        try:
            items.append(Item(where, validate(raw, where, strict, rtype)))
        except FhirInputError as error:
            problems += error.problems
    if not problems:
        try:
            items = with_contained(items, strict)
        except FhirInputError as error:
            problems = error.problems
    if problems:
        return PatientOutcome(key, problems=problems)
    result = import_items(items, medications)
    report.merge(result.report)
    if result.failed:
        return PatientOutcome(key, problems=result.problems)
    if not result.patients:
        return None
    return PatientOutcome(key, imported=result.patients[0])
