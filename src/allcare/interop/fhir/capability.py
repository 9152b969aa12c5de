"""The CapabilityStatement of allcare's FHIR endpoints (``GET /api/v1/fhir/metadata``)."""

from __future__ import annotations

from . import codes as C
from .model import resource


def capability_statement(base: str, version: str) -> dict:
    """What allcare's FHIR API does, for a client to discover: R4 JSON and NDJSON, Patient/$everything,
    a ``$export``-style bulk NDJSON export, and the import endpoint (described, as FHIR has no standard one)."""
    return resource(
        "CapabilityStatement", status="active", date="2026-12-07", kind="instance", fhirVersion="4.0.1",
        format=["application/fhir+json", "json"],
        software={"name": "allcare", "version": version},
        implementation={"description": "allcare: explainable decision support for acute lymphoblastic leukaemia "
                                       "(decision support for professionals, not a diagnosis)", "url": base},
        implementationGuide=["http://hl7.org/fhir/us/mcode/ImplementationGuide/hl7.fhir.us.mcode"],
        rest=[{
            "mode": "server",
            "documentation": f"Records are numbered by the store. {base}/patients/{{id}}/$everything gives one record "
                             f"as an mCODE-aligned Bundle; {base}/fhir/$export gives every record as NDJSON; "
                             f"POST {base}/fhir/import takes a Bundle, a resource or NDJSON (application/fhir+ndjson). "
                             "Errors are OperationOutcome resources.",
            "security": {"description": "Bearer API tokens (Authorization: Bearer ...) or a browser session; "
                                        "clinicians import and export, a patient reads only their own record."},
            "resource": [{"type": "Patient", "profile": C.PROFILE_CANCER_PATIENT,
                          "operation": [{"name": "everything",
                                         "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]}],
            "operation": [{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}],
        }],
    )
