"""Bulk export as FHIR NDJSON: one resource per line, one file per resource type (the Bulk Data layout).

Used by ``allcare export fhir --ndjson DIR`` and by the ``$export``-style API. Patients
are written one after the other, so memory holds one patient's resources at a time.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from ...engine.case import Case
from .export import case_resources


def patient_lines(case: Case, assessment: Any | None = None, identifiers: Sequence[tuple[str, str]] = ()) -> Iterator[tuple[str, bytes]]:
    """``(resource type, NDJSON line)`` for every resource of one patient's export."""
    for resource in case_resources(case, assessment, identifiers):
        yield resource["resourceType"], orjson.dumps(resource) + b"\n"


def write_ndjson(directory: Path, patients: Iterable[tuple[Case, Any | None, Sequence[tuple[str, str]]]]) -> Counter:
    """Write ``<Type>.ndjson`` files into ``directory``; counts of resources per type.

    The files are written in a temporary directory beside it and moved in when all are
    complete, so a failed export never leaves a partial set of files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    work = Path(tempfile.mkdtemp(prefix=".allcare-export-", dir=directory))
    handles: dict[str, Any] = {}
    try:
        for case, assessment, identifiers in patients:
            for rtype, line in patient_lines(case, assessment, identifiers):
                if rtype not in handles:
                    handles[rtype] = open(work / f"{rtype}.ndjson", "wb")  # noqa: SIM115 - one per type, closed below
                handles[rtype].write(line)
                counts[rtype] += 1
        for handle in handles.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        for rtype in handles:
            os.replace(work / f"{rtype}.ndjson", directory / f"{rtype}.ndjson")
    finally:
        for handle in handles.values():
            handle.close()
        shutil.rmtree(work, ignore_errors=True)
    return counts
