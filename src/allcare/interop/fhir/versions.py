"""The same resource more than once in one input: versions of one resource, of which the current one is read.

FHIR R4 gives a resource one logical id that never changes (https://hl7.org/fhir/R4/resource.html#id) and a
new ``meta.versionId`` and ``meta.lastUpdated`` with each new version of its content
(https://hl7.org/fhir/R4/resource.html#Meta; https://hl7.org/fhir/R4/http.html#versioning). So two entries of
one ``Type/id`` are two versions of one result (an interface that forwards a result and then its correction,
a history or incremental export), never two results: the current one is read and the others are reported.
Identical copies are one resource. Without ``versionId`` (numbers) or ``lastUpdated``, the status of a result
orders its copies when it can (final before amended/corrected, anything before entered-in-error). Different
copies that none of these put in order cannot say which is current: none is read, and the report says why
(never a guess).
"""

from __future__ import annotations

import datetime as dt

from .item import Item
from .problems import MappingReport


def current_versions(items: list[Item], report: MappingReport) -> list[Item]:
    """``items`` with each resource that appears more than once reduced to its current version (in place of the
    first copy); every other copy is reported."""
    copies: dict[str, list[Item]] = {}
    for item in items:
        if item.resource.id:
            copies.setdefault(item.ref, []).append(item)
    chosen: dict[str, Item | None] = {}
    for ref, group in copies.items():
        if len(group) > 1:
            chosen[ref] = _current(group, report)
    if not chosen:
        return items
    out = []
    for item in items:
        if item.ref not in chosen:
            out.append(item)
        elif item is copies[item.ref][0] and (current := chosen[item.ref]) is not None:
            out.append(current)
    return out


def _current(group: list[Item], report: MappingReport) -> Item | None:
    first = group[0]
    if all(item.resource == first.resource for item in group[1:]):
        for _ in group[1:]:
            report.add(first.ref, "skipped", "an identical copy of a resource given earlier in the input")
        return first
    for name, order in (("meta.versionId", _version_number), ("meta.lastUpdated", _last_updated), ("status", _status_rank)):
        keys = [order(item) for item in group]
        if all(key is not None for key in keys) and len(set(keys)) == len(keys):
            ranked = sorted(zip(keys, range(len(group)), strict=True))
            current = group[ranked[-1][1]]
            label = _label(current, name)
            for _, n in ranked[:-1]:
                report.add(first.ref, "skipped", f"an earlier version of this resource ({_label(group[n], name)}); "
                                                 f"the current one ({label}) is read")
            return current
    for _ in group:
        report.add(first.ref, "unmapped", f"{len(group)} different copies of this resource, and no meta.versionId (a "
                                          "number) or meta.lastUpdated that tells which is current: none is used")
    return None


FHIR_ID_MAX = 64
"""meta.versionId is an R4 ``id``: at most 64 characters (https://hl7.org/fhir/R4/datatypes.html#id)."""


def _version_number(item: Item) -> int | None:
    meta = item.resource.meta
    version = meta.versionId if meta is not None else None
    if version is None or not (version.isascii() and version.isdigit() and len(version) <= FHIR_ID_MAX):
        return None
    return int(version)


def _last_updated(item: Item) -> dt.datetime | None:
    meta = item.resource.meta
    value = meta.lastUpdated if meta is not None else None
    try:  # an instant: always with its time zone (https://hl7.org/fhir/R4/datatypes.html#instant)
        moment = dt.datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


# The order a result's status can only move in (FHIR R4 observation-status and diagnostic-report-status:
# amended and corrected come "subsequent to being final"; entered-in-error withdraws whatever came before).
# Amended and corrected share a rank: two copies of those two are not put in order.
_STATUS_RANK = {"registered": 0, "partial": 1, "preliminary": 1, "final": 2, "amended": 3, "corrected": 3, "appended": 3,
                "entered-in-error": 4}


def _status_rank(item: Item) -> int | None:
    """The rank of a result's status, only for results (Observation, DiagnosticReport): the last way to order copies."""
    if item.rtype not in ("Observation", "DiagnosticReport"):
        return None
    return _STATUS_RANK.get(item.resource.status or "")


def _label(item: Item, name: str) -> str:
    if name == "status":
        return f"status {item.resource.status}"
    meta = item.resource.meta
    return f"{name} {meta.versionId if name == 'meta.versionId' else meta.lastUpdated}"
