"""Merging an imported case into an existing one: the same input twice changes nothing.

Findings are matched by ``id`` (the FHIR resource or allcare group identifier they
came from): a finding with a known id replaces the old one in place, a new id is
appended, findings without an id (typed by hand) are kept as they are.
"""

from __future__ import annotations

from .errors import case_from_dict
from .models import Case


class MergeError(ValueError):
    """The incoming data is about another patient than the case file."""


def merge_cases(existing: Case | None, incoming: Case) -> Case:
    if existing is None:
        return incoming
    if existing.patient.id != incoming.patient.id:
        raise MergeError(f"the case file is for patient {existing.patient.id!r}, the import for {incoming.patient.id!r}")
    data = existing.to_json_dict()
    new = incoming.to_json_dict()
    position = {f["id"]: n for n, f in enumerate(data["findings"]) if f.get("id")}
    for finding in new["findings"]:
        n = position.get(finding.get("id"))
        if n is None:
            data["findings"].append(finding)
        else:
            data["findings"][n] = finding
    patient = dict(data["patient"])
    for key, value in new["patient"].items():
        if key == "conditions":
            patient["conditions"] = list(dict.fromkeys([*patient.get("conditions", []), *value]))
        elif key == "sex" and value == "unknown":
            continue
        else:
            patient[key] = value
    data["patient"] = patient
    if new.get("diagnosis_date"):
        data["diagnosis_date"] = new["diagnosis_date"]
    return case_from_dict(data)
