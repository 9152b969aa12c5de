"""Classifier calls + a sample -> patient map -> ``genetics`` findings.

A call becomes ``expression_subtype`` + ``expression_confidence``. Only a call
the tool itself calls confident is written with the plain vocabulary label the
engine classifies on; a low-confidence, ambiguous or unclassified call keeps its
label with the tool's verdict in brackets (``BCR::ABL1-like [ALLCatchR tier
candidate]``), which the engine reports but never uses: a weak call is kept as
such, not promoted. The engine's own minimum confidence applies on top.

The finding id is ``<tool>:<sample>``, so importing the same results again
replaces the finding instead of adding a second one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .labels import TOOL_NAMES, LabelMapping, fold, map_label
from .readers import ClassifierCall, ClassifierFileError, read_table


@dataclass(frozen=True)
class SampleOrigin:
    """Whose sample it is and when it was taken (a finding needs a date)."""

    patient: str
    date: dt.date


def read_patient_map(path: str | Path) -> dict[str, SampleOrigin]:
    """``sample,patient,date`` CSV (header names folded; ``sample_id``/``patient_id``/``sample_date`` accepted)."""
    path = Path(path)
    header, rows = read_table(path)
    folded = [fold(h) for h in header]

    def column(*names: str) -> int:
        for name in names:
            if name in folded:
                return folded.index(name)
        raise ClassifierFileError([f"{path}: no column {names[0]!r}; the patient map needs sample, patient and date columns"])

    sample, patient, date = column("sample", "sampleid"), column("patient", "patientid"), column("date", "sampledate", "collectiondate")
    out: dict[str, SampleOrigin] = {}
    problems = []
    for n, row in enumerate(rows, 2):
        if max(sample, patient, date) >= len(row):
            problems.append(f"{path} row {n}: fewer columns than the header")
            continue
        try:
            day = dt.date.fromisoformat(row[date])
        except ValueError:
            problems.append(f"{path} row {n}: date {row[date]!r} is not YYYY-MM-DD")
            continue
        if not row[sample] or not row[patient]:
            problems.append(f"{path} row {n}: empty sample or patient")
            continue
        if row[sample] in out and out[row[sample]] != SampleOrigin(row[patient], day):
            problems.append(f"{path} row {n}: sample {row[sample]!r} is mapped twice, differently")
            continue
        out[row[sample]] = SampleOrigin(row[patient], day)
    if problems:
        raise ClassifierFileError(problems)
    return out


def r_name(name: str) -> str:
    """A name as R's make.names writes it (read.csv's check.names): other characters become '.', and a name that
    does not start with a letter, or with '.' not followed by a digit, gets an 'X' in front."""
    out = re.sub(r"[^A-Za-z0-9._]", ".", name)
    return out if re.match(r"[A-Za-z]|\.(?![0-9])", out) else "X" + out


def expression_subtype(call: ClassifierCall) -> tuple[str, LabelMapping | None]:
    """The label written to the case: plain vocabulary for a confident call, annotated otherwise."""
    mapping = None if " / " in call.label else map_label(call.tool, call.label, call.scheme)
    tool = TOOL_NAMES[call.tool]
    if mapping is not None and call.confident:
        return mapping.subtype, mapping
    base = mapping.subtype if mapping is not None else call.label
    if mapping is not None and fold(mapping.subtype) == "unclassified" and not call.scope:
        return "Unclassified", mapping
    verdict = call.detail or "low confidence"
    if mapping is None and call.confident:
        verdict = "label not in allcare's table"
    return f"{base} [{tool}: {verdict}]"[:100], mapping


def call_to_finding(call: ClassifierCall, origin: SampleOrigin, file_name: str, version: str = "") -> dict:
    """A ``genetics`` finding (case-file dict) for one call; ``version`` is the tool's version when the user gives it
    (no tool writes it in its output), kept in the finding's source."""
    subtype, mapping = expression_subtype(call)
    tool = f"{TOOL_NAMES[call.tool]} {version}" if version else TOOL_NAMES[call.tool]
    finding: dict = {
        "type": "genetics", "id": ":".join(filter(None, (call.tool, call.scope, call.sample))), "date": origin.date.isoformat(),
        "expression_subtype": subtype, "source": f"{tool} ({file_name}, sample {call.sample})",
    }
    if call.confidence is not None:
        finding["expression_confidence"] = call.confidence
    entity = ""
    if mapping is not None:
        entity = f"; points to WHO-HAEM5 {mapping.who_haem5 or 'none'}, ICC {mapping.icc_2022 or 'none'}"
        if mapping.confirm:
            entity += " (the defining lesion must be shown by karyotype, FISH, RT-PCR or DNA index)"
        if mapping.note:
            entity += f"; {mapping.note}"
    verdict = "confident" if call.confident else (call.detail or "low confidence")
    kind = {"gep": "expression-only label"}.get(call.scheme, "label")
    finding["note"] = f"{tool} {kind} {call.label!r} ({verdict}){entity}"[:2000]
    return finding


def findings_by_patient(
    calls: list[ClassifierCall], samples: dict[str, SampleOrigin], file_name: str, version: str = ""
) -> dict[str, list[dict]]:
    """patient -> findings; every sample missing from the map is an error (all listed at once)."""
    missing = [c.sample for c in calls if c.sample not in samples]
    if missing:
        # R tools (ALLCatchR, MD-ALL) read sample names through read.csv, which rewrites them as R names
        # ('123-A' -> 'X123.A'). Only named as a hint: matching them silently could give a call to the wrong patient.
        as_r: dict[str, list[str]] = {}
        for name in samples:
            as_r.setdefault(r_name(name), []).append(name)
        hints = {s: as_r[s][0] for s in missing if len(as_r.get(s, [])) == 1}
        raise ClassifierFileError([f"sample {s!r} is not in the patient map"
                                   + (f" (R writes the map's {hints[s]!r} as {s!r}: put {s!r} in the map if it is that sample)"
                                      if s in hints else "") for s in missing])
    out: dict[str, list[dict]] = {}
    for call in calls:
        origin = samples[call.sample]
        out.setdefault(origin.patient, []).append(call_to_finding(call, origin, file_name, version))
    return out
