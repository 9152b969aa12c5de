"""Errors and the per-resource mapping report.

Two different things can go wrong on import and they are kept apart:

* **bad input** (malformed JSON, an unknown resource type, another FHIR
  version, a unit that cannot be converted, a reference to a resource that is
  not there, a file over the size limit) is an error: it names the resource and
  the field, and nothing is written for the patient it belongs to;
* **valid FHIR that allcare does not use** (a hematocrit, a practitioner, a
  narrative marrow report) is not an error: it is listed in the report with the
  reason, and counted, never dropped silently.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class FhirProblem:
    """One thing wrong with the input: which resource (or file position), which field, what."""

    resource: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.resource}: {self.field}" if self.field else self.resource
        return f"{where}: {self.message}" if where else self.message


class FhirInputError(ValueError):
    """Input that cannot be imported, with every problem found."""

    def __init__(self, problems: list[FhirProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


Status = Literal["mapped", "derived", "unmapped", "skipped"]


@dataclass(frozen=True)
class ReportEntry:
    """What became of one resource: mapped into a finding, or why not."""

    resource: str
    status: Status
    reason: str = ""
    finding: str | None = None


@dataclass
class MappingReport:
    """Per-resource outcome of an import, with counts.

    ``derived``: a conclusion (risk, disease status, diagnosis) that allcare recomputes
    from the findings; the source system's value is kept in ``source_conclusions``.
    ``unmapped``: valid FHIR with no place in the case model. ``skipped``: entered in
    error, cancelled, not done. Entries are kept up to ``keep`` (counts are always exact),
    so that a bulk import of millions of resources keeps its memory flat.
    """

    entries: list[ReportEntry] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    source_conclusions: list[str] = field(default_factory=list)
    keep: int = 10_000
    dropped_entries: int = 0

    def add(self, resource: str, status: Status, reason: str = "", finding: str | None = None) -> None:
        self.counts[status] += 1
        if status == "mapped":
            return
        if len(self.entries) < self.keep:
            self.entries.append(ReportEntry(resource, status, reason, finding))
        else:
            self.dropped_entries += 1

    def partly(self, resource: str, reason: str) -> None:
        """A note on a mapped resource that lost a detail (e.g. a reference range in another unit); not counted."""
        if len(self.entries) < self.keep:
            self.entries.append(ReportEntry(resource, "mapped", reason))

    def merge(self, other: MappingReport) -> None:
        self.counts.update(other.counts)
        for entry in other.entries:
            if len(self.entries) < self.keep:
                self.entries.append(entry)
            else:
                self.dropped_entries += 1
        self.dropped_entries += other.dropped_entries
        self.source_conclusions += [c for c in other.source_conclusions if c not in self.source_conclusions]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def not_mapped(self) -> list[ReportEntry]:
        """Resources not used, and notes on used ones that lost a detail."""
        return [e for e in self.entries if e.status != "mapped" or e.reason]

    def summary(self) -> str:
        parts = [f"{self.counts.get(s, 0)} {s}" for s in ("mapped", "derived", "unmapped", "skipped")]
        return f"{self.total} resources: " + ", ".join(parts)

    def to_json(self) -> dict:
        return {
            "counts": {s: self.counts.get(s, 0) for s in ("mapped", "derived", "unmapped", "skipped")},
            "entries": [e.__dict__ for e in self.entries],
            "entries_not_listed": self.dropped_entries,
            "source_conclusions": list(self.source_conclusions),
        }
