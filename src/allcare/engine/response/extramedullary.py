"""Extramedullary disease (CNS, testis, masses) as the response rules need it.

Remission needs "no extramedullary disease", refractoriness includes
"persistent extramedullary disease", and any new extramedullary disease after
remission is a relapse (Ponte di Legno). The CNS is read from spinal fluid as
well as from clinical findings: only CNS3 counts as CNS disease here (COG/PDQ,
docs/decisions.md#cns-lines); a bloody tap with blasts is judged by Steinherz/Bleyer, and when
that cannot be computed the CSF is only "possible" CNS disease, never a guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..case import Csf, Extramedullary
from ..case.bounds import describe
from ..cns import CsfReading, read_csf
from ..explain import EvidenceRef
from ..view import CaseView, Indexed


@dataclass(frozen=True)
class SiteFinding:
    """One finding about one extramedullary site: disease, documented clear, or undecidable."""

    site: str
    item: Indexed[Csf | Extramedullary]
    involved: bool | None
    summary: str
    possible: bool = False
    missing: list[str] = field(default_factory=list)
    csf: CsfReading | None = None
    """The COG reading of a CSF finding (the CNS status reads the same one: :attr:`.course.build.DiseaseCourse.csf_readings`)."""

    @property
    def date(self) -> dt.date:
        return self.item.date

    @property
    def from_csf(self) -> bool:
        return self.item.finding.type == "csf"

    def ref(self) -> EvidenceRef:
        return self.item.ref(self.summary)


def site_findings(view: CaseView) -> list[SiteFinding]:
    """Every extramedullary and CSF finding up to ``as_of``, in date order.

    Built once per assessment (:func:`.course.build.build_course`): each CSF is read here, once.
    """
    out: list[SiteFinding] = []
    for item in view.of_type("extramedullary", "csf"):
        if isinstance(item.finding, Extramedullary):
            out.append(_from_extramedullary(item))
        else:
            out.append(_from_csf(view, item))
    return _one_day_one_reading(out)


def _one_day_one_reading(found: list[SiteFinding]) -> list[SiteFinding]:
    """Findings of one site and one day in an order that does not depend on how the record lists them.

    Findings carry a date, not a time (docs/decisions.md#same-day): two findings of one site, one day and
    one kind of test (two taps, two examinations) on both sides are merged into one undecided finding that
    names both; disease found by one kind of test (cranial nerve palsy) is not undone by a clear finding of
    another kind (a clear tap), so a day's clear findings are placed before its findings of disease.
    """
    days: dict[tuple[str, dt.date], list[SiteFinding]] = {}
    for finding in found:
        days.setdefault((finding.site, finding.date), []).append(finding)
    out: list[SiteFinding] = []
    for group in days.values():
        if len(group) == 1:
            out += group
            continue
        kinds: dict[str, set[bool]] = {}
        for finding in group:
            if finding.involved is not None:
                kinds.setdefault(finding.item.finding.type, set()).add(finding.involved)
        split = {kind for kind, sides in kinds.items() if len(sides) > 1}
        for kind in sorted(split):
            same = sorted((f for f in group if f.item.finding.type == kind), key=lambda f: f.item.index)
            name = "CNS" if same[0].site == "cns" else same[0].site
            shown = "; ".join(f.summary for f in same)
            out.append(SiteFinding(
                same[0].site, same[0].item, None, f"{name} findings of {same[0].date} disagree ({shown})",
                possible=True, missing=[f"which {name} finding of {same[0].date} is valid ({shown})"],
            ))
        out += sorted((f for f in group if f.item.finding.type not in split), key=lambda f: f.involved is True)
    return sorted(out, key=lambda f: (f.date, f.involved is True))


def _from_extramedullary(item: Indexed[Extramedullary]) -> SiteFinding:
    f = item.finding
    detail = f" ({f.detail})" if f.detail else ""
    state = "present" if f.present else "absent"
    name = "CNS" if f.site == "cns" else f.site
    return SiteFinding(f.site, item, f.present, f"{name} disease {state}{detail}")


def _from_csf(view: CaseView, item: Indexed[Csf]) -> SiteFinding:
    """Read a CSF with the CNS module's COG classification, so both modules always agree.

    Only CNS3 counts as CNS disease; CNS1 documents clearance; CNS2 is neither.
    When the classification is still open between CNS3 and something else, the
    CSF is "possible" CNS disease with what would decide it.
    """
    reading = read_csf(view, item)
    f = item.finding
    wbc = "?" if f.wbc is None else describe(f.wbc.value, f.wbc.comparator)
    rbc = "?" if f.rbc is None else describe(f.rbc.value, f.rbc.comparator)
    summary = f"CSF WBC {wbc}/uL, RBC {rbc}/uL, {reading.status or 'status open'}"
    statuses = set(reading.statuses)
    if statuses and all(s == "CNS1" for s in statuses):
        return SiteFinding("cns", item, False, summary, csf=reading)
    if statuses and all(s.startswith("CNS3") for s in statuses):
        return SiteFinding("cns", item, True, summary, csf=reading)
    possible = any(s.startswith("CNS3") for s in statuses)
    return SiteFinding("cns", item, None, summary, possible=possible, missing=list(reading.missing), csf=reading)


def latest_by_site(findings: list[SiteFinding], on: dt.date) -> dict[str, SiteFinding]:
    """For each site, the latest decisive finding (disease or clear) on or before ``on``."""
    latest: dict[str, SiteFinding] = {}
    for finding in findings:
        if finding.date <= on and finding.involved is not None:
            latest[finding.site] = finding
    return latest
