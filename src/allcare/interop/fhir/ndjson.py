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

import hashlib
import json
import math
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .assemble import Item, PatientImport
from .importer import import_items
from .problems import FhirInputError, FhirProblem, MappingReport
from .reader import check_resource_type, check_shape, check_version, validate
from .read_helpers import concept_text, short_ref

DEFAULT_MAX_NDJSON_BYTES = 8 * 1024**3
DEFAULT_MAX_LINE_BYTES = 32 * 1024**2
DEFAULT_BUCKET_BYTES = 4 * 1024**2
MAX_BUCKETS = 256


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


def _lines(path: str | Path, max_line_bytes: int) -> Iterator[tuple[int, int, bytes, dict]]:
    name = str(path)
    with open(path, "rb") as handle:
        done = 0
        number = 0
        while True:
            line = handle.readline(max_line_bytes + 1)
            if not line:
                return
            number += 1
            done += len(line)
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                raise FhirInputError([FhirProblem(f"{name} line {number}", "", f"line longer than {max_line_bytes:,} bytes")])
            if not line.strip():
                continue
            try:
                resource = json.loads(line)
            except UnicodeDecodeError:
                raise FhirInputError([FhirProblem(f"{name} line {number}", "", "not UTF-8 text")]) from None
            except json.JSONDecodeError as error:
                raise FhirInputError([FhirProblem(f"{name} line {number}", "", f"not valid JSON: {error.msg} at column {error.colno}")]) from None
            if not isinstance(resource, dict):
                raise FhirInputError([FhirProblem(f"{name} line {number}", "", "each NDJSON line must be one FHIR resource (a JSON object)")])
            yield number, done, line, resource


def _patient_key(resource: dict) -> str | None:
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource.get('id')}" if resource.get("id") else None
    for name in ("subject", "patient"):
        ref = resource.get(name)
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            return short_ref(ref["reference"]) or ref["reference"]
    return None


def _bucket(key: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big") % n


class NdjsonImport:
    """A bulk import of NDJSON files; iterate :meth:`patients` to run it.

    ``report`` lists resources about no patient (practitioners, organisations ...);
    each patient's own report is in its :class:`PatientOutcome`.
    """

    def __init__(self, paths: list[str | Path], *, progress: ProgressCallback | None = None,
                 max_bytes: int = DEFAULT_MAX_NDJSON_BYTES, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
                 bucket_bytes: int = DEFAULT_BUCKET_BYTES, fhir_version: str | None = None, workdir: str | None = None):
        self.paths = [Path(p) for p in paths]
        self.progress = progress
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes
        self.bucket_bytes = bucket_bytes
        self.fhir_version = fhir_version
        self.workdir = workdir
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
        total = self.check_files()
        buckets = max(1, min(MAX_BUCKETS, math.ceil(total / self.bucket_bytes)))
        with tempfile.TemporaryDirectory(prefix="allcare-ndjson-", dir=self.workdir) as tmp:
            files = [Path(tmp) / f"bucket-{n:03d}.tsv" for n in range(buckets)]
            self._scan(files, total)
            yield from self._import(files, total)

    # Pass 1 -----------------------------------------------------------------------
    def _scan(self, files: list[Path], total: int) -> None:
        handles = [open(f, "w", encoding="utf-8") for f in files]
        done_before = 0
        try:
            for path in self.paths:
                for number, done, raw, resource in _lines(path, self.max_line_bytes):
                    where = f"{path.name} line {number}"
                    check_resource_type(resource, where)
                    check_shape(resource["resourceType"], resource, where)
                    self.resources += 1
                    key = _patient_key(resource)
                    if key is None:
                        self._no_patient(resource, where)
                    else:
                        line = raw.decode("utf-8").strip()
                        handles[_bucket(key, len(files))].write(f"{key}\t{where}\t{line}\n")
                    if self.progress and self.resources % 1000 == 0:
                        self.progress(Progress("scan", done_before + done, total, self.resources))
                done_before += path.stat().st_size
        finally:
            for handle in handles:
                handle.close()
        if self.progress:
            self.progress(Progress("scan", total, total, self.resources))

    def _no_patient(self, resource: dict, where: str) -> None:
        ref = f"{resource['resourceType']}/{resource.get('id', where)}"
        if resource["resourceType"] == "Medication":
            name = concept_text(validate(resource, where).code)
            if name:
                self.medications[ref] = name
            self.report.add(ref, "mapped", finding="medication names")
            return
        self.report.add(ref, "unmapped", f"{resource['resourceType']} is not about a patient allcare imports")

    # Pass 2 -----------------------------------------------------------------------
    def _import(self, files: list[Path], total: int) -> Iterator[PatientOutcome]:
        bucket_total = sum(f.stat().st_size for f in files) or 1
        done = seen = 0
        for path in files:
            groups: "OrderedDict[str, list[tuple[str, dict]]]" = OrderedDict()
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    done += len(line.encode("utf-8"))
                    key, where, raw = line.rstrip("\n").split("\t", 2)
                    groups.setdefault(key, []).append((where, json.loads(raw)))
            os.remove(path)
            for key, raw_items in groups.items():
                yield self._one_patient(key, raw_items)
                seen += len(raw_items)
                if self.progress:
                    self.progress(Progress("import", round(done / bucket_total * total), total, seen))
            del groups
        if self.progress:
            self.progress(Progress("import", total, total, seen))

    def _one_patient(self, key: str, raw_items: list[tuple[str, dict]]) -> PatientOutcome:
        items, problems = [], []
        for where, raw in raw_items:
            try:
                items.append(Item(where, validate(raw, where)))
            except FhirInputError as error:
                problems += error.problems
        if problems:
            return PatientOutcome(key, problems=problems)
        if not any(i.resource.get_resource_type() == "Patient" for i in items):
            missing = [FhirProblem(i.ref, "subject.reference", f"reference {key!r} is not in the export (no such Patient)") for i in items]
            return PatientOutcome(key, problems=missing)
        result = import_items(items, self.medications)
        self.report.merge(result.report)
        if result.failed:
            return PatientOutcome(key, problems=result.problems)
        return PatientOutcome(key, imported=result.patients[0])
