"""The engine's assessment of one record (``allcare.assessment/3``), and the registrar's coded view of it.

The assessment quotes the findings it used (blood counts, karyotype, MRD values),
so it is for the care team and the patient themself; a registrar reads the
coded view (``/coded``) instead.
"""

from __future__ import annotations

import gzip
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...engine.schemas import openapi_components
from ...store.assessments import assessment_gzip
from ...store.coded import coded_view
from ..deps import CodedPatientReader, DbSession, PatientId, PatientReader, QueryDate, caches_of, store_of
from .schemas import CodedOut

router = APIRouter(tags=["assessment"])

# The assessment is a tree of msgspec structs, not pydantic models: its schema is given to the
# OpenAPI document by hand (``ASSESSMENT_COMPONENTS`` are added in ``create_app``).
ASSESSMENT_SCHEMA_REF, ASSESSMENT_COMPONENTS = openapi_components()


@router.get("/patients/{patient_id}/coded", response_model=CodedOut, responses={404: {}})
def coded(patient_id: PatientId, who: CodedPatientReader, db: DbSession) -> CodedOut:
    """Codes, WHO-HAEM5/ICC entity, dates, risk groups and status: the registrar's view, without raw findings."""
    return CodedOut(**coded_view(db, who.actor, patient_id))


@router.get(
    "/patients/{patient_id}/assessment",
    responses={200: {"content": {"application/json": {"schema": ASSESSMENT_SCHEMA_REF}}}, 404: {}},
)
def assessment(
    patient_id: PatientId,
    request: Request,
    who: PatientReader,
    as_of: Annotated[QueryDate | None, Query(description="assess as of this date (YYYY-MM-DD)")] = None,
) -> Response:
    """Diagnosis, codes, counts, CNS, risk, response, alerts and what is missing, each with its rule and evidence.

    ``as_of`` assesses the record as it stood on that date (default: its latest
    finding). Derived on read and cached until the record changes.
    """
    store = store_of(request)
    with store.transaction() as session:  # its own transaction: the hottest route skips two thread hops
        data = assessment_gzip(session, who.actor, patient_id, caches_of(request).assessments, as_of=as_of)
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(data, media_type="application/json", headers=headers)
    return Response(gzip.decompress(data), media_type="application/json", headers=headers)
